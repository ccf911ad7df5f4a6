"""The lake's data for the additive-hazard model, gathered on the engine and split by brand.

What comes back from the engine (all sorted, so the same lake always gives the same arrays):

* the observed days: from the calendar day of the first event of any person to that of the last (records
  without a person, such as listings and notes, do not stretch the window), for every person;
* the people: every pseudonym with any event, and for each the share of their impressions of brand notes
  that were of each item category (the *feed share*, an interest proxy the baseline strata are cut from);
* the touches of the chosen kinds that name a brand, with note, creator and campaign — seeding touches only
  (:data:`KINDS`): a community search is left out (see below);
* the orders (with brand, item, amount and net of refunds) and, per order, every touch of the same person
  about the same brand on the order's day or up to the horizon before, with its age in days.

:func:`brand_inputs` then builds one :class:`~hongmao.attribution.hazard_data.HazardData` per brand.

Why no community searches. A search that names a brand is something the person does because they already want
the brand — the intent some notes (or their own taste) gave them — not a contact anyone seeded: it has no note
and no creator. As a term of the hazard it would take a share of the orders that follow it, credit that belongs
to whatever caused the search: a mediator of the notes' effect (or a sign of the baseline's), not a cause of its
own. The model credits each note's total contribution, so what the notes did through later searches stays with
the notes, and what a person's own interest did stays with the baseline. (The model assumes touches are not caused
by an approaching purchase; a search is the touch that most plainly is.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table

from hongmao.attribution.hazard_data import FloatArray, HazardData, IntArray, quantile_strata
from hongmao.engine import owners, tables
from hongmao.engine.credit import SECONDS_PER_DAY
from hongmao.engine.session import Session

KINDS = ("impression", "read", "engagement", "click")  # the seeding touches the model credits; never "search"


@dataclass(frozen=True)
class LakeHazard:
    """Everything the hazard model needs from one lake (see the module docstring)."""

    span_days: float  # whole days from the lake's first day to its last, both included
    users: list[str]
    feed_share: dict[str, FloatArray]  # category -> per user (in ``users`` order) share of impressions
    brand_category: dict[str, str]
    touches: pa.Table  # touch_id, user, brand, kind, note_id, creator_id, campaign_id, day (from the first), exposure
    orders: pa.Table  # order_id, user, brand, item_id, amount, net, day (from the first day; brand not null)
    pairs: pa.Table  # order_id, touch_id, age (days)
    feed: pa.Table  # user (index into users), day (from the first day), brand (null: a note of no brand), n


@dataclass(frozen=True)
class BrandInput:
    """One brand's model data with the rows its indices point to."""

    brand: str
    data: HazardData
    touches: pa.Table
    orders: pa.Table
    strata_edges: FloatArray


def _table(session: Session, expr: Any) -> pa.Table:
    return session.arrow(expr)


def _day(ts: Any, utc_offset_hours: float) -> Any:
    """The calendar day (days since 1970-01-01 in the given UTC offset) of a timestamp column."""
    seconds = ts.epoch_seconds().cast("float64") + utc_offset_hours * 3600.0
    return (seconds / SECONDS_PER_DAY).floor().cast("int64")


def gather(
    session: Session, ev: Table, conv: Table, touch: Table, horizon_days: int, utc_offset_hours: float
) -> LakeHazard:
    """Run the engine queries of the module docstring; days are calendar days at ``utc_offset_hours``."""
    # The window people were observed in: their own events only. Listings, notes and brand records carry no
    # person and are often dated long before (a real export lists every item ever sold); counting from them
    # would stretch each person's days and shrink the baseline, handing organic orders to the notes.
    behaviour = ev.filter(ev.user.notnull())
    span = _table(
        session,
        behaviour.aggregate(
            d0=_day(behaviour.time.min(), utc_offset_hours), d1=_day(behaviour.time.max(), utc_offset_hours)
        ),
    )
    d0, d1 = span["d0"][0].as_py(), span["d1"][0].as_py()
    last = int(d1) if d1 is not None else 0
    days = last - int(d0) + 1 if d0 is not None else 0

    people = ev.filter(ev.user.notnull()).select("user").distinct().order_by("user")
    users = [str(u) for u in _table(session, people)["user"].to_pylist()]

    items = tables.items(ev)
    categories = items.filter(items.item_brand.notnull() & items.item_category.notnull())
    categories = owners.most_common(categories.rename(brand="item_brand"), "brand", "item_category", "category")
    brand_category = {r["brand"]: r["category"] for r in _table(session, categories.order_by("brand")).to_pylist()}

    feed_share = _feed_share(session, ev, categories, users)

    td = touch.filter(touch.brand.notnull() & touch.kind.isin(KINDS)).mutate(day=_day(touch.t, utc_offset_hours))
    # the touch's own day and every later day of the data, at most horizon + 1 days
    exposure = ibis.least(last - td.day + 1, horizon_days + 1).cast("float64")
    first = int(d0) if d0 is not None else 0
    touches = td.select("touch_id", "user", "brand", "kind", "note_id", "creator_id", "campaign_id", "day")
    touches = touches.mutate(exposure=exposure, day=touches.day - first)
    touch_rows = _table(session, touches.order_by(["brand", "touch_id"]))

    orders = conv.filter(conv.brand.notnull() & conv.user.notnull())
    order_rows = _table(
        session,
        orders.select(
            "order_id", "user", "brand", "item_id", "amount", "net", day=_day(orders.t, utc_offset_hours) - first
        ).order_by(["brand", "order_id"]),
    )
    c = orders.mutate(order_day=_day(orders.t, utc_offset_hours))
    joined = c.join(
        td,
        [c.user == td.user, c.brand == td.brand, td.day <= c.order_day, td.day >= c.order_day - horizon_days],
        lname="",
        rname="{name}_touch",
    )
    pairs = joined.select(
        order_id=joined.order_id, touch_id=joined.touch_id, age=(joined.order_day - joined.day).cast("float64")
    )
    pair_rows = _table(session, pairs.order_by(["order_id", "touch_id"]))
    feed = _feed_days(session, ev, users, first, utc_offset_hours)
    return LakeHazard(float(days), users, feed_share, brand_category, touch_rows, order_rows, pair_rows, feed)


def _feed_days(session: Session, ev: Table, users: list[str], first: int, utc_offset_hours: float) -> pa.Table:
    """Per person, day and brand, the note impressions the person's feed showed (the brand null for notes of no
    brand): what the feed thought the person was in the market for, day by day."""
    notes = tables.notes(ev)
    imp = ev.filter((ev.type == "note.impression") & ev.user.notnull())
    imp = imp.select("user", "note_id", day=_day(imp.time, utc_offset_hours) - first)
    imp = imp.left_join(notes.select("note_id", "note_brand"), "note_id")
    grouped = imp.group_by(["user", "day", "note_brand"]).aggregate(n=imp.count())
    rows = _table(session, grouped.rename(brand="note_brand").order_by(["user", "day", "brand"]))
    index = pc.index_in(rows["user"], value_set=pa.array(users, pa.string()))
    return pa.table({"user": index, "day": rows["day"], "brand": rows["brand"], "n": rows["n"]})


def _feed_share(session: Session, ev: Table, categories: Any, users: list[str]) -> dict[str, FloatArray]:
    """Per category, the share of each person's impressions of brand notes that were of the category's brands
    (0 for a person who saw no brand note)."""
    notes = tables.notes(ev)
    imp = ev.filter((ev.type == "note.impression") & ev.user.notnull()).select("user", "note_id")
    imp = imp.join(notes.select("note_id", "note_brand"), "note_id")
    cats = categories.select(note_brand=categories.brand, feed_category=categories.category)
    imp = imp.join(cats, "note_brand")
    grouped = imp.group_by(["user", "feed_category"]).aggregate(n=imp.count())
    counts = _table(session, grouped.rename(category="feed_category").order_by(["user", "category"]))
    index = {u: i for i, u in enumerate(users)}
    total = np.zeros(len(users))
    per: dict[str, FloatArray] = {}
    for row in counts.to_pylist():
        i = index[row["user"]]
        total[i] += row["n"]
        per.setdefault(row["category"], np.zeros(len(users)))[i] += row["n"]
    safe = np.maximum(total, 1.0)
    return {cat: values / safe for cat, values in sorted(per.items())}


def _codes(column: pa.ChunkedArray) -> tuple[IntArray, list[str]]:
    """Dictionary codes of a string column (-1 for null) and the sorted distinct values."""
    values = sorted(v for v in pc.unique(column).to_pylist() if v is not None)
    found = pc.index_in(column, value_set=pa.array(values, pa.string()))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64), values


def _of_brand(rows: pa.Table, brand: str) -> pa.Table:
    return rows.filter(pc.equal(rows["brand"], brand))


def _feed_state(lake: LakeHazard, brand: str, window: int) -> tuple[FloatArray, FloatArray]:
    """Per person and day (``users`` x days), the share of the person's note impressions over the last ``window``
    days (today included) that were of the brand's category, and the number of those impressions."""
    users, days = len(lake.users), max(int(lake.span_days), 1)
    category = lake.brand_category.get(brand)
    same = {b for b, c in lake.brand_category.items() if c == category} if category is not None else {brand}
    feed = lake.feed
    u = np.asarray(feed["user"].to_numpy(zero_copy_only=False), dtype=np.int64)
    d = np.asarray(feed["day"].to_numpy(zero_copy_only=False), dtype=np.int64)
    n = np.asarray(feed["n"].to_numpy(zero_copy_only=False), dtype=np.float64)
    of = np.asarray(pc.is_in(feed["brand"], value_set=pa.array(sorted(same), pa.string())).fill_null(False))
    ok = (d >= 0) & (d < days)
    total = np.zeros((users, days + 1))
    cat = np.zeros((users, days + 1))
    np.add.at(total, (u[ok], d[ok] + 1), n[ok])
    np.add.at(cat, (u[ok], d[ok] + 1), n[ok] * of[ok])
    total, cat = np.cumsum(total, axis=1), np.cumsum(cat, axis=1)
    lag = np.maximum(np.arange(1, days + 1) - window, 0)
    seen = total[:, 1:] - total[:, lag]
    shown = cat[:, 1:] - cat[:, lag]
    return np.where(seen > 0, shown / np.maximum(seen, 1.0), 0.0), seen


def _day_strata(
    lake: LakeHazard, brand: str, person_stratum: IntArray, bins: int, window: int
) -> tuple[IntArray, FloatArray]:
    """Per person-day, its baseline stratum: the person's stratum crossed with a bin of their recent feed share of
    the brand's category (bin 0: no impressions in the window; then ``bins`` quantile bins), and the person-days
    of each stratum. A feed that targets people close to buying shows them more of the category: comparing each
    touch's days with days of the same feed state is what keeps that targeting out of the notes' effect."""
    share, seen = _feed_state(lake, brand, window)
    shown = seen > 0
    level = np.zeros(share.shape, dtype=np.int64)
    if shown.any():
        q, _ = quantile_strata(share[shown], bins)
        level[shown] = q + 1
    combined = person_stratum[:, None] * (bins + 1) + level
    used, dense = np.unique(combined.reshape(-1), return_inverse=True)
    dense = dense.reshape(combined.shape).astype(np.int64)
    exposure = np.bincount(dense.reshape(-1), minlength=used.size).astype(np.float64)
    return dense, exposure


def _recent_purchases(lake: LakeHazard, brand: str, window: int) -> tuple[IntArray, np.ndarray]:
    """The people who bought in the brand's category (any brand of it), and per such person and day (people x
    days) whether they had bought in it on one of the ``window`` days before (the day itself not counted)."""
    days = max(int(lake.span_days), 1)
    category = lake.brand_category.get(brand)
    same = {b for b, c in lake.brand_category.items() if c == category} if category is not None else {brand}
    same.add(brand)
    of = lake.orders.filter(pc.is_in(lake.orders["brand"], value_set=pa.array(sorted(same), pa.string())))
    user_index = pa.array(lake.users, pa.string())
    u = np.asarray(pc.index_in(of["user"], value_set=user_index).fill_null(-1).to_numpy(zero_copy_only=False))
    d = np.asarray(of["day"].to_numpy(zero_copy_only=False), dtype=np.int64)
    keep = (u >= 0) & (d >= 0) & (d < days)
    people, row = np.unique(u[keep].astype(np.int64), return_inverse=True)
    bought = np.zeros((people.size, days + 1))
    np.add.at(bought, (row.reshape(-1), d[keep] + 1), 1.0)
    total = np.cumsum(bought, axis=1)  # total[:, t + 1]: purchases on days 0..t
    t = np.arange(days)
    recent = total[:, t] - total[:, np.maximum(t - window, 0)]  # purchases on days t - window .. t - 1
    return people.astype(np.int64), recent > 0


def _cells(
    person_stratum: IntArray, day_stratum: IntArray | None, span_days: float, first_touch: IntArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Each person's observed days per stratum, as (person, stratum, days, days before the person's first touch of
    the brand) cells."""
    days = max(int(span_days), 1)
    if day_stratum is None:
        people = np.arange(person_stratum.size, dtype=np.int64)
        unexposed = np.clip(first_touch, 0, days).astype(np.float64)
        return people, person_stratum.astype(np.int64), np.full(person_stratum.size, float(span_days)), unexposed
    n_strata = int(day_stratum.max()) + 1 if day_stratum.size else 1
    combo = (np.arange(day_stratum.shape[0], dtype=np.int64)[:, None] * n_strata + day_stratum).reshape(-1)
    before = (np.arange(day_stratum.shape[1])[None, :] < first_touch[:, None]).reshape(-1)
    cells, index, counts = np.unique(combo, return_inverse=True, return_counts=True)
    unexposed_days = np.bincount(index.reshape(-1), weights=before.astype(np.float64), minlength=cells.size)
    return (
        (cells // n_strata).astype(np.int64),
        (cells % n_strata).astype(np.int64),
        counts.astype(np.float64),
        unexposed_days.astype(np.float64),
    )


def _first_touch(touches: pa.Table, user_index: pa.Array, n_users: int, never: int) -> tuple[IntArray, FloatArray]:
    """Per person, the day of their first touch of the brand (``never`` for a person never touched) and their
    number of touches of it."""
    first = np.full(n_users, never, dtype=np.int64)
    count = np.zeros(n_users)
    if touches.num_rows:
        u = np.asarray(pc.index_in(touches["user"], value_set=user_index).fill_null(-1).to_numpy(zero_copy_only=False))
        d = np.asarray(touches["day"].to_numpy(zero_copy_only=False), dtype=np.int64)
        keep = u >= 0
        np.minimum.at(first, u[keep].astype(np.int64), d[keep])
        count = np.bincount(u[keep].astype(np.int64), minlength=n_users).astype(np.float64)
    return first, count


def brand_inputs(
    lake: LakeHazard,
    strata: int,
    feed_bins: int = 0,
    feed_window: int = 3,
    history_days: int = 0,
    people: bool = False,
) -> list[BrandInput]:
    """One model input per brand with orders, its people cut into at most ``strata`` baseline strata; with
    ``feed_bins``, each person's days further split by their recent feed share of the brand's category; with
    ``history_days``, each order and person-day marked by whether the person bought in the brand's category on
    one of the ``history_days`` days before (the baseline's history term); with ``people``, each order's buyer and
    each person's days per stratum (what a per-person frailty needs)."""
    user_index = pa.array(lake.users, pa.string())
    out = []
    for brand in sorted(set(lake.orders["brand"].to_pylist())):
        orders = _of_brand(lake.orders, brand)
        touches = _of_brand(lake.touches, brand)
        share = lake.feed_share.get(lake.brand_category.get(brand, ""), np.zeros(len(lake.users)))
        person_stratum, edges = quantile_strata(share, strata)
        n_strata = int(person_stratum.max()) + 1 if person_stratum.size else 1
        order_user = np.asarray(pc.index_in(orders["user"], value_set=user_index).to_numpy(zero_copy_only=False))
        order_user = order_user.astype(np.int64)
        order_day = np.asarray(orders["day"].to_numpy(zero_copy_only=False), dtype=np.int64)
        order_day = np.clip(order_day, 0, max(int(lake.span_days), 1) - 1)
        day_stratum: IntArray | None = None
        if feed_bins > 0 and person_stratum.size:
            day_stratum, exposure = _day_strata(lake, brand, person_stratum, feed_bins, feed_window)
            order_stratum = day_stratum[order_user, order_day]
        else:
            exposure = np.bincount(person_stratum, minlength=n_strata).astype(np.float64) * lake.span_days
            order_stratum = person_stratum[order_user]
        order_recent: FloatArray | None = None
        recent_exposure: FloatArray | None = None
        if history_days > 0:
            buyers, recent = _recent_purchases(lake, brand, history_days)
            if day_stratum is not None:
                cells = day_stratum[buyers][:, : recent.shape[1]][recent]
            else:
                cells = np.broadcast_to(person_stratum[buyers][:, None], recent.shape)[recent]
            recent_exposure = np.bincount(cells, minlength=exposure.size).astype(np.float64)
            row = np.searchsorted(buyers, order_user)
            found = (row < buyers.size) & (buyers[np.minimum(row, max(buyers.size - 1, 0))] == order_user)
            order_recent = np.zeros(order_user.size)
            order_recent[found] = recent[row[found], order_day[found]].astype(np.float64)
        person_cells: tuple[IntArray, IntArray, FloatArray, FloatArray] | None = None
        person_touches: FloatArray | None = None
        if people and person_stratum.size:
            never = max(int(lake.span_days), 1)
            first_touch, person_touches = _first_touch(touches, user_index, len(lake.users), never)
            person_cells = _cells(person_stratum, day_stratum, lake.span_days, first_touch)
        pairs = lake.pairs.filter(pc.is_in(lake.pairs["order_id"], value_set=orders["order_id"]))
        pair_order = pc.index_in(pairs["order_id"], value_set=orders["order_id"]).to_numpy(zero_copy_only=False)
        pair_touch = pc.index_in(pairs["touch_id"], value_set=touches["touch_id"]).to_numpy(zero_copy_only=False)
        kind = pc.index_in(touches["kind"], value_set=pa.array(KINDS, pa.string())).to_numpy(zero_copy_only=False)
        note, notes = _codes(touches["note_id"])
        creator, creators = _codes(touches["creator_id"])
        data = HazardData(
            kinds=KINDS,
            stratum_exposure=exposure,
            order_stratum=order_stratum.astype(np.int64),
            touch_kind=np.asarray(kind, dtype=np.int64),
            touch_note=note,
            touch_creator=creator,
            touch_exposure=np.asarray(touches["exposure"].to_numpy(), dtype=np.float64),
            pair_order=np.asarray(pair_order, dtype=np.int64),
            pair_touch=np.asarray(pair_touch, dtype=np.int64),
            pair_age=np.asarray(pairs["age"].to_numpy(), dtype=np.float64),
            n_notes=len(notes),
            n_creators=len(creators),
            order_recent=order_recent,
            stratum_recent_exposure=recent_exposure,
            order_person=order_user if person_cells is not None else None,
            cell_person=person_cells[0] if person_cells is not None else None,
            cell_stratum=person_cells[1] if person_cells is not None else None,
            cell_exposure=person_cells[2] if person_cells is not None else None,
            cell_unexposed=person_cells[3] if person_cells is not None else None,
            person_touches=person_touches if person_cells is not None else None,
        )
        out.append(BrandInput(brand, data, touches, orders, edges))
    return out
