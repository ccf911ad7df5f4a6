"""What the lake says, for settlement: credited orders (by click chain or a rule model), refunds up to a date,
and the creators the trust guard flags. With :mod:`hongmao.settle.asof` (the lake cut at a date), the only
modules of the package that run the engine's queries.

Amounts leave the engine as the lake's float yuan and become integer cents here, once (through their decimal
text, so 19.9 is 1990 cents, not 1989).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import ibis
from ibis import _

from hongmao.engine import credit, tables
from hongmao.engine.session import Session
from hongmao.engine.windows import Windows

#: Trust flags that hold a creator's commissions (undisclosed notes are a disclosure matter, not fraud).
HOLDING_FLAGS = ("fake_engagement", "deceptive")
ORDER_COLUMNS = ("order_id", "t", "amount", "item_id", "brand", "category", "creator_id", "campaign", "share")


def cents(amount: Any) -> int:
    if amount is None:
        return 0
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _orders(session: Session, brands: list[str], through: datetime) -> Any:
    ev = session.events
    conv = tables.conversions(ev)
    return conv.filter(conv.brand.isin(brands) & (conv.t < ibis.literal(through)))


def click_chain(session: Session, brands: list[str], through: datetime) -> Any:
    """Orders carrying the click id of a (non-bot) click on a creator's link: the link's creator, share 1."""
    ev = session.events
    conv = _orders(session, brands, through)
    carried = ev.filter((ev.type == "market.order") & ev.click_id.notnull())
    carried = carried.group_by("order_id").aggregate(order_click=carried.click_id.min())
    clicks = ev.filter((ev.type == "link.click") & ~ev.bot.fill_null(False) & ev.click_id.notnull())
    clicks = clicks.group_by("click_id").aggregate(clicked_link=clicks.link_id.min())
    lk = tables.links(ev)
    nt = tables.notes(ev)
    j = (
        conv.join(carried, conv.order_id == carried.order_id)
        .join(clicks, _.order_click == clicks.click_id)
        .join(lk, _.clicked_link == lk.link_id)
        .join(nt, _.link_note == nt.note_id)
    )
    return j.filter(_.note_creator.notnull()).select(
        order_id=_.order_id,
        t=_.t,
        amount=_.amount,
        item_id=_.item_id,
        brand=_.brand,
        category=_.category,
        creator_id=_.note_creator,
        campaign=_.link_campaign.coalesce(_.note_campaign),
        share=ibis.literal(1.0),
    )


def rule_credit(session: Session, brands: list[str], through: datetime, model: str) -> Any:
    """Each (order, creator) share of the order under rule ``model`` over every touch kind, default windows."""
    ev = session.events
    conv = _orders(session, brands, through)
    touch = tables.touches(ev, frozenset({"impression", "read", "engagement", "click"}))
    j = credit.journeys(conv, touch, Windows())
    w = credit.weights(j, model, credit.rule_params(model))
    w = w.filter(w.creator_id.notnull())
    return w.group_by(["order_id", "creator_id"]).aggregate(
        t=w.t.min(),
        amount=w.amount.max(),
        item_id=w.item_id.min(),
        brand=w.brand.min(),
        category=w.category.min(),
        campaign=w.campaign_id.max(),
        share=w.weight.sum(),
    )


def credited_orders(session: Session, brands: list[str], through: datetime, rule: str) -> list[dict[str, Any]]:
    """Credited (order, creator) rows for ``brands``' orders before ``through``, in a stable order."""
    if not brands:
        return []
    expr = click_chain(session, brands, through) if rule == "click" else rule_credit(session, brands, through, rule)
    rows = session.rows(expr.select(*ORDER_COLUMNS).order_by(["order_id", "creator_id"]))
    out = []
    for r in rows:
        share = Decimal(str(round(float(r["share"]), 9)))
        if share <= 0:
            continue
        out.append(
            {
                "order_id": r["order_id"],
                "creator_id": r["creator_id"],
                "t": r["t"],
                "gross_cents": cents(r["amount"]),
                "share": share,
                "brand": r["brand"],
                "item": r["item_id"],
                "category": r["category"],
                "campaign": r["campaign"],
                "creator": r["creator_id"],
            }
        )
    return out


def refunds(session: Session, through: datetime) -> dict[str, tuple[int, datetime]]:
    """order id -> (cents refunded before ``through``, time of the latest such refund)."""
    ev = session.events
    r = ev.filter((ev.type == "market.refund") & ev.order_id.notnull() & (ev.time < ibis.literal(through)))
    out: dict[str, tuple[int, datetime]] = {}
    for row in session.rows(r.select("order_id", "time", "amount", "id").order_by(["order_id", "time", "id"])):
        total, _last = out.get(row["order_id"], (0, row["time"]))
        out[row["order_id"]] = (total + cents(row["amount"]), row["time"])
    return out


#: The trust report's params that decide how a creator's orders are credited (TrustParams: the route, its
#: options, the item match, the flagged accounts left out), kept with a deceptive hold
HOLD_CREDIT_PARAMS = (
    "model",
    "hazard_options",
    "touches",
    "windows",
    "half_life_days",
    "item_match",
    "exclude_flagged_accounts",
)


def creator_holds(report: dict[str, Any]) -> dict[str, str]:
    """creator id -> the evidence (compact JSON) for creators the trust report flags for fraud. A deceptive hold
    also keeps the credit that counted the creator's orders (``credit``: :data:`HOLD_CREDIT_PARAMS` from the
    report's summary), so a hold kept for a date still says, when disputed later, which split of the orders judged
    it; a fake-engagement hold does not depend on credit."""
    params = (report.get("summary") or {}).get("params") or {}
    credit = {k: params[k] for k in HOLD_CREDIT_PARAMS if k in params}
    out: dict[str, str] = {}
    for entry in report.get("creators", []):
        flags = [f for f in entry.get("flags", []) if f in HOLDING_FLAGS]
        if flags:
            evidence = {f: (entry.get("evidence") or {}).get(f) for f in flags}
            held: dict[str, Any] = {"flags": flags, "evidence": evidence}
            if credit and "deceptive" in flags:
                held["credit"] = credit
            out[str(entry["creator_id"])] = json.dumps(held, sort_keys=True, ensure_ascii=False, default=str)
    return out
