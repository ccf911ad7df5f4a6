"""The seeding-to-purchase funnel: impressions -> reads -> clicks -> store visits -> search-back -> carts
-> orders -> refunds, with the metric names of DESIGN.md."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
from ibis import _
from ibis.expr.types import Table

from hongmao.engine import tables
from hongmao.engine.clicks import counted_clicks
from hongmao.engine.exact import exact_sum
from hongmao.engine.session import Session

SEARCH_BACK_DAYS = 15
FUNNEL_STEPS = ("impressions", "reads", "clicks", "store_visits", "search_back_users", "carts", "orders", "refunds")


def funnel_expr(
    ev: Table, search_back_days: float = SEARCH_BACK_DAYS, exclude_users: Iterable[str] | Any | None = None
) -> dict[str, Any]:
    # Accounts left out (e.g. flagged fake engagement) lose their engagement — impressions, reads, likes, clicks,
    # searches in the community — in every step; their marketplace events stay (a sale is a sale), as in attribution.
    ev = tables.without_engagement(ev, exclude_users)

    def count(kind: str) -> Any:
        return ev.filter(ev.type == kind).count()

    clicks = ev.filter((ev.type == "link.click") & ~ev.bot.fill_null(False))
    visits = ev.filter((ev.type == "market.visit") & ev.click_id.notnull())
    store_visits = visits.semi_join(clicks, visits.click_id == clicks.click_id).count()
    readers = (
        ev.filter(ev.type == "note.read")
        .join(tables.notes(ev), "note_id")
        .select(user=_.user, brand=_.note_brand, read_t=_.time.epoch_seconds())
        .filter(_.brand.notnull())
    )
    searches = ev.filter((ev.type == "market.search") & ev.query.notnull()).select(
        user=_.user, query=_.query, search_t=_.time.epoch_seconds()
    )
    horizon = search_back_days * 86_400
    back = readers.join(
        searches,
        [
            readers.user == searches.user,
            searches.search_t >= readers.read_t,
            searches.search_t <= readers.read_t + horizon,
            searches.query.lower().contains(readers.brand.lower()),
        ],
    )
    community = ev.filter((ev.source == "community") & ev.user.notnull()).select("user").distinct()
    market = ev.filter(ev.source.startswith("market:") & ev.user.notnull()).select("user").distinct()
    orders = ev.filter(ev.type == "market.order")
    refunds = ev.filter(ev.type == "market.refund")
    return {
        "impressions": count("note.impression"),
        "reads": count("note.read"),
        "readers": readers.user.nunique(),
        "clicks": clicks.count(),
        "counted_clicks": counted_clicks(ev).count(),
        "store_visits": store_visits,
        "search_back_users": back.user.nunique(),
        "carts": count("market.cart"),
        "orders": orders.order_id.nunique(),
        "gmv": exact_sum(orders.amount).fill_null(0.0),
        "refunds": refunds.order_id.nunique(),
        "refunded": exact_sum(refunds.amount).fill_null(0.0),
        "community_people": community.count(),
        "market_people": market.count(),
        "matched_people": community.join(market, "user").count(),
        "engagements": ev.filter(ev.type.isin(["note.like", "note.collect", "note.comment", "note.share"])).count(),
    }


def funnel(session: Session, exclude_users: Iterable[str] | Any | None = None) -> dict[str, Any]:
    """Counts of every funnel step and the rates between them, without the engagement of ``exclude_users``."""
    ev = session.events
    exprs = funnel_expr(ev, exclude_users=exclude_users)
    row = session.arrow(
        ibis.literal(1)
        .name("one")
        .as_table()
        .mutate(**{k: v.as_scalar() if hasattr(v, "as_scalar") else v for k, v in exprs.items()})
    ).to_pylist()[0]
    row.pop("one", None)
    out: dict[str, Any] = {k: (float(v) if isinstance(v, float) else int(v or 0)) for k, v in row.items()}
    reads = out["reads"]
    out["read_rate"] = reads / out["impressions"] if out["impressions"] else None
    out["engagement_rate"] = out["engagements"] / reads if reads else None
    # Rate metrics count a visitor's repeat clicks on a link within an hour once (engine/clicks.py).
    out["ctr"] = out["counted_clicks"] / reads if reads else None
    out["store_visit_rate"] = out["store_visits"] / reads if reads else None
    out["search_back_rate"] = out["search_back_users"] / out["readers"] if out["readers"] else None
    return out
