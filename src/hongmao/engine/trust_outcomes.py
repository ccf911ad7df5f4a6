"""Post-purchase outcomes of orders and the credit each note or creator holds in them, for the deceptive-seeding
score (种骗). The math is :mod:`hongmao.trust.shrinkage`; this module only shapes rows.

An order's outcomes: ``refund`` (any refund), ``nad`` (a refund for reason ``not_as_described``), ``low`` (a
review rated 1 or 2) and ``bad`` (nad or low: the buyer says the product was not what the note promised). The
time of the first bad outcome is kept, so the score can tell how complete an order's record is (an order placed
yesterday has had no time to be refunded).

Credit comes by one of two routes. The rule route (:func:`credited`): the engine's journeys and rule weights
(:mod:`hongmao.engine.credit`), each order's in-window touches weighted by the chosen model, summed per note or
creator; an order's weights sum to one. The hazard route (:func:`hazard_credited`): the additive-hazard model
(:mod:`hongmao.engine.hazard`) fitted per brand, each order split between the touches before it and a baseline by
their hazard terms at the order's time; the baseline's part is credited to nobody, so a creator holds less of the
orders its readers would have placed anyway. Each credit row also names the entity's
group, which the pooled judgement (:mod:`hongmao.trust.pooled`) shares evidence across: a note's creator, and a
creator's agency (MCN) as the brands' collaboration records name it (none when no record does). Each order
carries its item's category, the norm its baseline is shrunk toward.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table

from hongmao.engine import credit, hazard, tables
from hongmao.engine.exact import exact_sum
from hongmao.engine.hazard_data import KINDS, gather
from hongmao.engine.session import Session
from hongmao.engine.windows import Windows
from hongmao.errors import AttributionError

OUTCOMES = ("refund", "nad", "low", "bad")
LOW_RATING = 2


def order_outcomes(ev: Table) -> Any:
    """One row per order: order_id, item_id, category, t, refund, nad, low, bad (booleans) and the time each was
    first seen (refund_t, nad_t, low_t, bad_t; null when it did not happen)."""
    conv = tables.conversions(ev)
    rf = ev.filter(ev.type == "market.refund")
    rf = rf.mutate(reason=rf.data.cast("json")["reason"].str)
    is_nad = rf.reason == "not_as_described"
    refunds = rf.group_by("order_id").aggregate(
        refund=ibis.literal(True), refund_t=rf.time.min(), nad=is_nad.any(), nad_t=rf.time.min(where=is_nad)
    )
    rv = ev.filter(ev.type == "market.review")
    is_low = rv.rating <= LOW_RATING
    reviews = rv.group_by("order_id").aggregate(low=is_low.any(), low_t=rv.time.min(where=is_low))
    j = conv.left_join(refunds, conv.order_id == refunds.order_id).left_join(reviews, conv.order_id == reviews.order_id)
    nad = j.nad.fill_null(False)
    low = j.low.fill_null(False)
    return j.select(
        order_id=j.order_id,
        item_id=j.item_id,
        category=j.category,
        t=j.t,
        refund=j.refund.fill_null(False),
        nad=nad,
        low=low,
        bad=nad | low,
        refund_t=j.refund_t,
        nad_t=j.nad_t,
        low_t=j.low_t,
        bad_t=ibis.least(j.nad_t, j.low_t),
    )


def credited(
    ev: Table,
    by: str,
    model: str = "linear",
    kinds: Iterable[str] = ("read", "engagement", "click"),
    windows: Windows | None = None,
    half_life_days: float = 7.0,
    exclude_users: Any = None,
) -> Any:
    """(order_id, key, weight, group): each order's credit per note or creator (an order's weights sum to one)
    and the entity's group (:func:`groups`)."""
    conv = tables.conversions(ev)
    touch = tables.touches(ev, frozenset(kinds), exclude_users=exclude_users)
    j = credit.journeys(conv, touch, windows or Windows())
    w = credit.weights(j, model, credit.rule_params(model, half_life_days))
    keyed = w.mutate(key=credit.credit_key(w, by))
    rows = keyed.group_by(["order_id", "key"]).aggregate(weight=exact_sum(keyed.weight))
    g = groups(ev, by)
    j2 = rows.left_join(g, rows.key == g.entity)
    return j2.select(order_id=j2.order_id, key=j2.key, weight=j2.weight, group=j2.group)


HAZARD_KEYS = {"note": "note_id", "creator": "creator_id"}


def hazard_credited(
    session: Session,
    ev: Table,
    groupings: tuple[str, ...] = ("note", "creator"),
    exclude_users: Any = None,
    **params: Any,
) -> dict[str, list[dict[str, Any]]]:
    """Per grouping (note or creator), rows (order_id, key, weight, group) of the hazard route: the model fitted
    once per brand (``params``: :data:`hongmao.engine.hazard.DEFAULTS`), an order's weights its touches' hazard
    shares summed per key (with the baseline's share they sum to one), the group as :func:`groups` names it.
    ``exclude_users``: accounts whose touches are left out (as the rule route leaves them out)."""
    p = hazard.check_params(params)
    for by in groupings:
        if by not in HAZARD_KEYS:
            raise AttributionError(f"the hazard route credits notes or creators, not {by!r}")
    conv = tables.conversions(ev)
    touch = tables.touches(ev, frozenset(KINDS), exclude_users=exclude_users)
    lake = gather(session, ev, conv, touch, int(p["horizon_days"]), float(p["utc_offset_hours"]))
    parts: dict[str, list[pa.Table]] = {by: [] for by in groupings}
    for shares in hazard.brand_shares(lake, **params):
        for by in groupings:
            parts[by].append(shares.order_shares(HAZARD_KEYS[by]))
    out: dict[str, list[dict[str, Any]]] = {}
    for by in groupings:
        rows = pa.concat_tables(parts[by]) if parts[by] else hazard.NO_SHARES
        g = session.arrow(groups(ev, by))
        at = pc.index_in(rows["key"], value_set=g["entity"].cast(pa.string()).combine_chunks())
        out[by] = rows.append_column("group", g["group"].take(at)).to_pylist()
    return out


def note_items(ev: Table) -> Any:
    """(note_id, item_id): every item a note links, as its publication lists them (挂链) or a shoppable link
    created for it points to; distinct."""
    pub = ev.filter((ev.type == "note.published") & ev.note_id.notnull())
    listed = pub.select(note_id=pub.note_id, item=pub.data.cast("json")["items"].array.unnest())
    listed = listed.select(note_id=listed.note_id, item_id=listed.item.str)
    lk = ev.filter((ev.type == "link.created") & ev.note_id.notnull() & ev.item_id.notnull())
    both = listed.union(lk.select(note_id=lk.note_id, item_id=lk.item_id))
    return both.filter(both.item_id.notnull()).distinct()


def groups(ev: Table, by: str) -> Any:
    """(entity, group): a note's creator, or a creator's agency from the collaboration records (the largest
    name when records disagree, so the answer does not depend on row order)."""
    if by == "note":
        published = ev.filter((ev.type == "note.published") & ev.creator_id.notnull())
        return published.group_by(entity=published.note_id).aggregate(group=published.creator_id.max())
    deals = ev.filter(ev.type == "collaboration.created")
    deals = deals.mutate(agency=deals.data.cast("json")["agency"].str)
    deals = deals.filter(deals.agency.notnull() & deals.creator_id.notnull())
    return deals.group_by(entity=deals.creator_id).aggregate(group=deals.agency.max())


def data_end(ev: Table) -> Any:
    """The time of the lake's last event: outcomes after it cannot have been seen yet."""
    return ev.time.max()
