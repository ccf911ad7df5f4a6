"""Report relations as Ibis expressions over one view's events: entities, per-note activity, daily series,
attributed orders and new customers. Nothing here knows about tenants: it is handed a view's events.

Days are business days in the business time zone (``HONGMAO_BUSINESS_TZ``, default Asia/Shanghai, where both
platforms keep their books), with the zone's clock changes, if it has any.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import ibis
from ibis import _

from hongmao.contract import ENGAGEMENT_TYPES
from hongmao.engine import credit, owners, tables
from hongmao.engine.exact import exact_sum
from hongmao.engine.windows import Windows
from hongmao.reports.period import utc_offsets

NEW_CUSTOMER_DAYS = 365


def local_day(t: Any, tz: ZoneInfo) -> Any:
    """The business day of a naive-UTC timestamp in ``tz``: its offset chosen by a balanced tree of comparisons
    with the zone's clock changes (one comparison deep per doubling of their number)."""

    def shifted(changes: tuple[tuple[Any, Any], ...]) -> Any:
        if len(changes) == 1:
            return t + ibis.interval(seconds=int(changes[0][1].total_seconds()))
        mid = len(changes) // 2
        return ibis.ifelse(t < ibis.timestamp(changes[mid][0]), shifted(changes[:mid]), shifted(changes[mid:]))

    return shifted(utc_offsets(tz)).date()


def _json(ev: Any) -> Any:
    return ev.data.cast("json")


def note_meta(ev: Any) -> Any:
    """One row per published note: note_id, creator_id, brand, campaign_id, title, disclosed, tier, published."""
    p = ev.filter(ev.type == "note.published")
    j = _json(p)
    rows = p.select(
        note_id=p.note_id,
        creator_id=p.creator_id,
        brand=ibis.ifelse(owners.is_first(p, "note_id"), p.brand, ibis.null("string")),
        campaign_id=p.campaign_id,
        title=j["title"].str,
        disclosed=j["disclosed"].bool,
        tier=j["creator_tier"].str,
        published=p.time,
    )
    return rows.group_by("note_id").aggregate(
        creator_id=_.creator_id.max(),
        brand=_.brand.max(),
        campaign_id=_.campaign_id.max(),
        title=_.title.max(),
        disclosed=_.disclosed.max(),
        tier=_.tier.max(),
        published=_.published.min(),
    )


def item_meta(ev: Any) -> Any:
    """One row per listed item: item_id, brand, store_id, category, price, title."""
    p = ev.filter(ev.type == "item.listed")
    rows = p.select(
        item_id=p.item_id,
        brand=ibis.ifelse(owners.is_first(p, "item_id"), p.brand, ibis.null("string")),
        store_id=p.store_id,
        category=p.category,
        price=p.amount,
        title=_json(p)["title"].str,
        source=p.source,
    )
    return rows.group_by("item_id").aggregate(
        brand=_.brand.max(),
        store_id=_.store_id.max(),
        category=_.category.max(),
        price=_.price.max(),
        title=_.title.max(),
        source=_.source.max(),
    )


def campaign_meta(ev: Any) -> Any:
    """One row per campaign: campaign_id, brand, name, spend, start, end."""
    p = ev.filter(ev.type == "campaign.created")
    j = _json(p)
    rows = p.select(
        campaign_id=p.campaign_id,
        brand=p.brand,
        name=j["name"].str,
        spend=p.amount,
        start=j["start"].str,
        end=j["end"].str,
    )
    return rows.group_by("campaign_id").aggregate(
        brand=_.brand.max(), name=_.name.max(), spend=_.spend.max(), start=_.start.min(), end=_.end.max()
    )


def note_activity(ev: Any) -> Any:
    """Per note: impressions, reads, engagements and (human) link clicks."""
    touches = ev.filter(ev.type.startswith("note.") & (ev.type != "note.published"))
    per_note = touches.group_by("note_id").aggregate(
        impressions=(touches.type == "note.impression").cast("int64").sum(),
        reads=(touches.type == "note.read").cast("int64").sum(),
        engagements=touches.type.isin(list(ENGAGEMENT_TYPES)).cast("int64").sum(),
    )
    clicks = ev.filter((ev.type == "link.click") & ~ev.bot.fill_null(False))
    links = tables.links(ev)
    per_link_note = (
        clicks.join(links, clicks.link_id == links.link_id).group_by(note_id=_.link_note).aggregate(clicks=_.count())
    )
    joined = per_note.outer_join(per_link_note, per_note.note_id == per_link_note.note_id)
    return joined.select(
        note_id=per_note.note_id.coalesce(per_link_note.note_id),
        impressions=per_note.impressions.fill_null(0),
        reads=per_note.reads.fill_null(0),
        engagements=per_note.engagements.fill_null(0),
        clicks=per_link_note.clicks.fill_null(0),
    )


def journeys(ev: Any, windows: Windows | None = None) -> tuple[Any, Any]:
    """(conversions, journeys) with every touch kind, as attribution sees them by default."""
    from hongmao.engine.attribute import parse_kinds

    conv = tables.conversions(ev)
    touch = tables.touches(ev, parse_kinds(None))
    return conv, credit.journeys(conv, touch, windows or Windows())


def attributed_orders(j: Any) -> Any:
    """Order ids with at least one touch inside their window."""
    return j.select("order_id").distinct()


def daily(ev: Any, conv: Any, j: Any, tz: ZoneInfo) -> Any:
    """Per business day: orders, GMV, refunded, net GMV and the same for attributed orders."""
    flagged = conv.left_join(attributed_orders(j).mutate(hit=ibis.literal(1)), "order_id")
    day = flagged.mutate(day=local_day(flagged.t, tz), attributed=flagged.hit.notnull())
    return (
        day.group_by("day")
        .aggregate(
            orders=_.count(),
            gmv=exact_sum(_.amount),
            refunded=exact_sum(_.refunded),
            net_gmv=exact_sum(_.net),
            attributed_orders=_.attributed.cast("int64").sum(),
            attributed_gmv=exact_sum(ibis.ifelse(_.attributed, _.amount, 0.0)),
            attributed_net_gmv=exact_sum(ibis.ifelse(_.attributed, _.net, 0.0)),
        )
        .order_by("day")
    )


def daily_activity(ev: Any, tz: ZoneInfo) -> Any:
    """Per business day: impressions, reads and human link clicks."""
    kinds = ev.filter(ev.type.isin(["note.impression", "note.read", "link.click"]) & ~ev.bot.fill_null(False))
    return (
        kinds.mutate(day=local_day(kinds.time, tz))
        .group_by("day")
        .aggregate(
            impressions=(_.type == "note.impression").cast("int64").sum(),
            reads=(_.type == "note.read").cast("int64").sum(),
            clicks=(_.type == "link.click").cast("int64").sum(),
        )
    )


def new_customers(conv: Any, j: Any) -> Any:
    """Attributed buyers (per brand) and how many of them had no order from the brand in the prior 365 days.

    A buyer is judged at their first attributed order: new if no order of the same brand came before it
    within :data:`NEW_CUSTOMER_DAYS`.
    """
    attributed = conv.semi_join(attributed_orders(j), "order_id")
    first = attributed.group_by(["user", "brand"]).aggregate(first_t=_.t.min())
    prior = conv.select(p_user=conv.user, p_brand=conv.brand, p_t=conv.t)
    returning = (
        first.join(
            prior,
            [
                first.user == prior.p_user,
                first.brand == prior.p_brand,
                prior.p_t < first.first_t,
                prior.p_t >= first.first_t - ibis.interval(days=NEW_CUSTOMER_DAYS),
            ],
        )
        .select("user", "brand")
        .distinct()
    )
    buyers = first.count()
    return (
        ibis.literal(1)
        .name("one")
        .as_table()
        .mutate(buyers=buyers.as_scalar(), returning=returning.count().as_scalar())
    )


def order_credits(j: Any, model: str, half_life_days: float = 7.0) -> Any:
    """Per (order, note): the note's share of the order under a rule model."""
    weighted = credit.weights(j, model, credit.rule_params(model, half_life_days))
    keyed = weighted.mutate(note_key=credit.credit_key(weighted, "note"))
    return keyed.group_by(["order_id", "note_key"]).aggregate(
        weight=exact_sum(_.weight), kinds=_.kind.collect(distinct=True, order_by=_.kind)
    )


def collaborations(ev: Any) -> Any:
    """One row per ``collaboration.created`` (the latest of an id): collaboration_id, creator_id, brand, the
    note it delivered (its own ``note_id``, else the note whose ``note.published`` names the collaboration),
    campaign_id and fee."""
    c = ev.filter(ev.type == "collaboration.created")
    rows = c.select(
        collaboration_id=_json(c)["collaboration_id"].str,
        creator_id=c.creator_id,
        brand=c.brand,
        note_id=c.note_id,
        campaign_id=c.campaign_id,
        fee=c.amount,
        time=c.time,
        id=c.id,
    )
    latest = rows.mutate(
        rank=ibis.row_number().over(group_by=rows.collaboration_id, order_by=[ibis.desc(rows.time), ibis.desc(rows.id)])
    ).filter(_.rank == 0)
    p = ev.filter(ev.type == "note.published")
    named = p.select(named_collab=_json(p)["collaboration_id"].str, named_note=p.note_id).filter(
        _.named_collab.notnull()
    )
    named = named.group_by("named_collab").aggregate(named_note=_.named_note.min())
    joined = latest.left_join(named, latest.collaboration_id == named.named_collab)
    return joined.select(
        "collaboration_id",
        "creator_id",
        "brand",
        "campaign_id",
        "fee",
        note_id=joined.note_id.coalesce(joined.named_note),
    )


def order_touches(j: Any, model: str, half_life_days: float = 7.0) -> Any:
    """Per (order, touch) of a journey: the touch's time, kind, note and its credit under a rule model."""
    weighted = credit.weights(j, model, credit.rule_params(model, half_life_days))
    keyed = weighted.mutate(note_key=credit.credit_key(weighted, "note"))
    return keyed.select("order_id", "touch_id", "kind", "note_key", "weight", touched=keyed.t_touch)
