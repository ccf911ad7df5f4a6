"""``hongmao attribute --model datadriven``: the data-driven model's rows built on the engine, fitted per brand.

The engine does the row work (Ibis expressions, one pass each, every result sorted so the same lake gives the
same arrays):

* the observed days (people's own events only) and, per person, their impressions and the share of them that
  were notes of each category (the baseline cells: interest in the brand's category × activity);
* the touches of the seeding kinds that name a brand, each with its model kind (:data:`KIND_OF`: a read is
  ``read_long`` from :data:`LONG_READ_MS` of dwell; likes, collects, comments or shares; link clicks);
* per person and brand the exposed range (first touch to ``horizon`` days after the last, or the last day);
* every order with its exposure note by note: per (order, note, kind) the recency basis summed over the touches
  on the order's day or up to ``horizon`` days before;
* controls: ``controls`` evenly spaced days of each exposed range (each standing for its share of the range),
  with their exposure per kind.

:mod:`hongmao.attribution.datadriven` fits each brand on these aggregates and credits its orders by Shapley
values; the bootstrap refits on people resampled with Poisson(1) weights give each row an interval. With a
holdout key, every campaign with a holdout is checked: the model's credit to the campaign's notes, inside the
lift's window, against the measured incremental orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table

from hongmao.attribution.datadriven import (
    BASIS,
    KINDS,
    DataDrivenData,
    bootstrap_weights,
    fit_datadriven,
    shapley_shares,
    t_quantile,
)
from hongmao.attribution.hazard_data import quantile_strata
from hongmao.engine import owners, tables
from hongmao.engine.credit import SECONDS_PER_DAY
from hongmao.engine.exact import exact_sum
from hongmao.engine.session import Session
from hongmao.errors import AttributionError

BASELINE = "(baseline)"
GROUPINGS = ("note", "creator", "brand", "campaign", "item")
LONG_READ_MS = 30_000
DEFAULTS: dict[str, Any] = {
    "horizon_days": 60,
    "strata": 4,  # interest cells (quantiles of the share of the person's feed in the brand's category)
    "activity_strata": 3,  # activity cells (quantiles of the person's impressions)
    "controls": 16,  # sampled days per exposed range (they carry the per-note exposure integral)
    # at most this many (control day, note) pairs per exposed range: a person with many notes gets fewer
    # control days (at least 2), each still standing for its share of the range; 0: no cap. Off by default: 512
    # moved 5% of note credit on a 3,000-person additive world (seed 11), twice the optimizer's rounding noise
    "control_pairs": 0,
    "bootstrap": 5,  # refits on resampled people for the intervals (0: none)
    "level": 0.9,
    "permutations": 200,  # Monte Carlo permutations for orders with more than 12 notes
    "seed": 0,
    "max_iter": 300,
    "utc_offset_hours": 8.0,
}
_WHOLE = {
    "horizon_days": 0,
    "strata": 1,
    "activity_strata": 1,
    "controls": 1,
    "control_pairs": 0,
    "bootstrap": 0,
    "permutations": 1,
    "seed": 0,
    "max_iter": 1,
}


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """Every parameter as the model runs it (:data:`DEFAULTS` under ``params``); raise :class:`AttributionError`
    for an unknown parameter or a value the model cannot use."""
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise AttributionError(
            f"datadriven model has no parameter {', '.join(unknown)}; its parameters: {', '.join(DEFAULTS)}"
        )
    p = {**DEFAULTS, **params}
    for name, low in _WHOLE.items():
        value = p[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise AttributionError(f"datadriven {name} must be a whole number of at least {low}, got {value!r}")
    if p["bootstrap"] == 1:
        raise AttributionError("datadriven bootstrap must be 0 (no intervals) or at least 2 resamples, got 1")
    level = p["level"]
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.5 <= level < 1.0:
        raise AttributionError(f"datadriven level must be within [0.5, 1), got {level!r}")
    offset = p["utc_offset_hours"]
    if isinstance(offset, bool) or not isinstance(offset, int | float) or not -12 <= offset <= 14:
        raise AttributionError(f"datadriven utc_offset_hours must be within [-12, 14], got {offset!r}")
    return p


# ---- the engine's part ----------------------------------------------------------------------------------


def _day(ts: Any, utc_offset_hours: float) -> Any:
    seconds = ts.epoch_seconds().cast("float64") + utc_offset_hours * 3600.0
    return (seconds / SECONDS_PER_DAY).floor().cast("int64")


def _basis_sums(age: Any) -> dict[str, Any]:
    """Σ B_j(age) for every basis function (age in days, float)."""
    out = {}
    for name, shape, tau in BASIS:
        if shape == "same_day":
            value = (age == 0).cast("float64")
        elif shape == "decay":
            value = (-age / tau).exp()
        else:
            value = (age / tau) * (1.0 - age / tau).exp()
        out[name] = exact_sum(value)  # the same bits at any thread count: same lake, same bytes
    return out


def _model_kind(touch: Table, ev: Table) -> Any:
    """The touches of the seeding kinds naming a brand, with the model kind's index (:data:`KINDS`)."""
    t = touch.filter(touch.brand.notnull() & touch.kind.isin(["impression", "read", "engagement", "click"]))
    detail = ev.select(ev_id=ev.id, ev_type=ev.type, ev_dwell=ev.dwell_ms)
    j = t.left_join(detail, t.touch_id == detail.ev_id)
    index = {k: i for i, k in enumerate(KINDS)}
    k = ibis.cases(
        (j.kind == "impression", index["impression"]),
        ((j.kind == "read") & (j.ev_dwell.fill_null(0) >= LONG_READ_MS), index["read_long"]),
        (j.kind == "read", index["read"]),
        (j.ev_type == "note.like", index["like"]),
        (j.ev_type == "note.collect", index["collect"]),
        (j.kind == "click", index["click"]),
        else_=index["reply"],
    )
    return j.select("user", "brand", "note_id", "creator_id", "campaign_id", "t", k=k)


@dataclass(frozen=True)
class LakeRows:
    """What the model needs from one lake (see the module docstring); days are absolute day numbers."""

    first_day: int
    n_days: int
    users: pa.Array
    impressions: np.ndarray  # per user
    feed_share: dict[str, np.ndarray]  # category -> per user
    brand_category: dict[str, str]
    ranges: pa.Table  # user, brand, first, last
    orders: pa.Table  # order_id, user, brand, item_id, amount, net, t, day
    pairs: pa.Table  # order_id, note_id, creator_id, campaign_id, k, basis...
    controls: pa.Table  # user, brand, day, weight
    control_x: pa.Table  # user, brand, day, note_id, k, basis...


def gather(
    session: Session,
    ev: Table,
    conv: Table,
    touch: Table,
    horizon: int,
    controls: int,
    utc_offset_hours: float,
    control_pairs: int = 0,
) -> LakeRows:
    """Run the engine queries of the module docstring."""
    behaviour = ev.filter(ev.user.notnull())
    span = session.arrow(
        behaviour.aggregate(
            d0=_day(behaviour.time.min(), utc_offset_hours), d1=_day(behaviour.time.max(), utc_offset_hours)
        )
    )
    d0, d1 = span["d0"][0].as_py(), span["d1"][0].as_py()
    first_day = int(d0) if d0 is not None else 0
    last_day = int(d1) if d1 is not None else 0
    n_days = last_day - first_day + 1 if d0 is not None else 0

    people = behaviour.select("user").distinct().order_by("user")
    users = pa.array(session.arrow(people)["user"].to_pylist(), pa.string())

    items = tables.items(ev)
    categories = items.filter(items.item_brand.notnull() & items.item_category.notnull())
    categories = owners.most_common(categories.rename(brand="item_brand"), "brand", "item_category", "category")
    brand_category = {r["brand"]: r["category"] for r in session.arrow(categories.order_by("brand")).to_pylist()}
    impressions, feed_share = _feed(session, ev, categories, users)

    td = _model_kind(touch, ev)
    td = td.mutate(day=_day(td.t, utc_offset_hours))
    rng = td.group_by(["user", "brand"]).aggregate(first=td.day.min(), last=td.day.max(), notes=td.note_id.nunique())
    ranges = session.arrow(rng.select("user", "brand", "first", "last").order_by(["brand", "user"]))

    c = conv.filter(conv.brand.notnull() & conv.user.notnull())
    c = c.mutate(day=_day(c.t, utc_offset_hours))
    orders = session.arrow(
        c.select("order_id", "user", "brand", "item_id", "amount", "net", "t", "day").order_by(["brand", "order_id"])
    )
    joined = c.join(
        td,
        [c.user == td.user, c.brand == td.brand, td.day <= c.day, td.day >= c.day - horizon],
        lname="",
        rname="{name}_touch",
    )
    age = (joined.day - joined.day_touch).cast("float64")
    per_note = joined.group_by([joined.order_id, joined.note_id, joined.k]).aggregate(
        creator_id=joined.creator_id.max(), campaign_id=joined.campaign_id.max(), **_basis_sums(age)
    )
    pairs = session.arrow(per_note.order_by(["order_id", "note_id", "k"]))

    # controls: evenly spaced days of every exposed range, each standing for len / m days
    end = ibis.least(rng["last"] + horizon, last_day)
    length = end - rng["first"] + 1
    if control_pairs > 0:
        per_range = ibis.greatest(ibis.least(control_pairs // ibis.greatest(rng.notes, 1), controls), 2)
    else:
        per_range = ibis.literal(controls)
    ranges_len = rng.mutate(length=length, m=ibis.least(length, per_range))
    ks = ibis.memtable(pa.table({"slot": pa.array(list(range(controls)), pa.int64())}))
    slots = ranges_len.cross_join(ks).filter(ibis._.slot < ibis._.m)
    slots = slots.select(
        s_user=slots.user,
        s_brand=slots.brand,
        s_day=slots["first"] + ((2 * slots.slot + 1) * slots.length) // (2 * slots.m),
        weight=slots.length.cast("float64") / slots.m.cast("float64"),
    )
    sampled = session.arrow(slots.order_by(["s_brand", "s_user", "s_day"]))
    sj = slots.join(
        td,
        [slots.s_user == td.user, slots.s_brand == td.brand, td.day <= slots.s_day, td.day >= slots.s_day - horizon],
    )
    s_age = (sj.s_day - sj.day).cast("float64")
    sx = sj.group_by([sj.s_user, sj.s_brand, sj.s_day, sj.note_id, sj.k]).aggregate(**_basis_sums(s_age))
    control_x = session.arrow(sx.order_by(["s_brand", "s_user", "s_day", "note_id", "k"]))
    return LakeRows(
        first_day, n_days, users, impressions, feed_share, brand_category, ranges, orders, pairs, sampled, control_x
    )


def _feed(session: Session, ev: Table, categories: Any, users: pa.Array) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per person their impressions of any note, and per category the share of them of its brands' notes."""
    notes = tables.notes(ev)
    imp = ev.filter((ev.type == "note.impression") & ev.user.notnull()).select("user", "note_id")
    imp = imp.left_join(notes.select("note_id", "note_brand"), "note_id")
    cats = categories.select(note_brand=categories.brand, feed_category=categories.category)
    imp = imp.left_join(cats, imp.note_brand == cats.note_brand)
    grouped = imp.group_by(["user", "feed_category"]).aggregate(n=imp.count())
    counts = session.arrow(grouped.order_by(["user", "feed_category"]))
    index = np.asarray(pc.index_in(counts["user"], value_set=users).to_numpy(zero_copy_only=False), dtype=np.int64)
    n = np.asarray(counts["n"].to_numpy(), dtype=np.float64)
    total = np.bincount(index, weights=n, minlength=len(users))
    per: dict[str, np.ndarray] = {}
    cat = counts["feed_category"].to_pylist()
    for category in sorted({c for c in cat if c is not None}):
        mask = np.asarray([c == category for c in cat])
        per[category] = np.bincount(index[mask], weights=n[mask], minlength=len(users)) / np.maximum(total, 1.0)
    return total, per


# ---- one brand's model data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrandRows:
    brand: str
    data: DataDrivenData
    orders: pa.Table
    order_person: np.ndarray
    pair_note: list[str]
    pair_creator: list[str]
    pair_campaign: list[str]


def _of_brand(rows: pa.Table, column: str, brand: str) -> pa.Table:
    return rows.filter(pc.equal(rows[column], brand))


def _index(values: pa.ChunkedArray | pa.Array, universe: pa.Array) -> np.ndarray:
    """Each value's position in ``universe``; an empty column read back typed null is taken as the universe's type."""
    if values.type != universe.type:
        values = pc.cast(values, universe.type)
    return np.asarray(pc.index_in(values, value_set=universe).to_numpy(zero_copy_only=False), dtype=np.int64)


def _features(table: pa.Table, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Sum the basis columns of ``table`` into (n_rows, kinds x basis) by row index and kind."""
    j = len(BASIS)
    width = len(KINDS) * j
    k = np.asarray(table["k"].to_numpy(), dtype=np.int64)
    flat = rows * width + k * j
    out = np.zeros(n_rows * width)
    for jj, (name, _, _) in enumerate(BASIS):
        out += np.bincount(flat + jj, weights=_column(table, name), minlength=n_rows * width)
    return out.reshape(n_rows, width)


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table[name].to_numpy(), dtype=np.float64)


def _basis_columns(table: pa.Table) -> np.ndarray:
    """The basis sums of ``table``'s rows, (rows, len(BASIS))."""
    out = np.empty((table.num_rows, len(BASIS)))
    for jj, (name, _, _) in enumerate(BASIS):
        out[:, jj] = _column(table, name)
    return out


def _cells(lake: LakeRows, brand: str, strata: int, activity: int) -> tuple[np.ndarray, int]:
    share = lake.feed_share.get(lake.brand_category.get(brand, ""), np.zeros(len(lake.users)))
    interest, _ = quantile_strata(share, strata)
    active, _ = quantile_strata(np.log1p(lake.impressions), activity)
    return interest * activity + active, strata * activity


def brand_rows(lake: LakeRows, horizon: int, strata: int, activity: int) -> list[BrandRows]:
    """One model input per brand with orders."""
    out = []
    for brand in sorted(set(lake.orders["brand"].to_pylist())):
        orders = _of_brand(lake.orders, "brand", brand)
        person_cell, n_cells = _cells(lake, brand, strata, activity)
        ranges = _of_brand(lake.ranges, "brand", brand)
        r_person = _index(ranges["user"], lake.users)
        r_first = np.asarray(ranges["first"].to_numpy(), dtype=np.int64) - lake.first_day
        r_last = (
            np.minimum(
                np.asarray(ranges["last"].to_numpy(), dtype=np.int64) + horizon, lake.first_day + lake.n_days - 1
            )
            - lake.first_day
        )
        o_person = _index(orders["user"], lake.users)
        o_day = np.asarray(orders["day"].to_numpy(), dtype=np.int64) - lake.first_day
        n_o = orders.num_rows
        pairs = lake.pairs.filter(pc.is_in(lake.pairs["order_id"], value_set=orders["order_id"]))
        # one pair per (order, note): the kinds of a note are summed
        note_key = pc.binary_join_element_wise(pairs["order_id"], pairs["note_id"], "\x1f")
        distinct = pc.unique(note_key)
        distinct = distinct.take(pc.sort_indices(distinct))
        pair_of_row = _index(note_key, distinct)
        first_row = np.full(len(distinct), -1, dtype=np.int64)
        rows_idx = np.arange(pairs.num_rows)
        first_row[pair_of_row[::-1]] = rows_idx[::-1]
        pair_x = _features(pairs, pair_of_row, len(distinct))
        pair_order = _index(pairs["order_id"].take(pa.array(first_row)), orders["order_id"])
        pick = pairs.take(pa.array(first_row))
        cx = _of_brand(lake.control_x, "s_brand", brand)
        # As strings: a brand with no order-note pairs (a scope that filters them all out) reads its empty column
        # back typed null, which cannot be combined with the controls' strings.
        chunks = [c for column in (pick["note_id"], cx["note_id"]) for c in pc.cast(column, pa.string()).chunks]
        notes = pc.unique(pa.chunked_array(chunks, type=pa.string()).combine_chunks().drop_null())
        notes = notes.take(pc.sort_indices(notes))
        pair_note = _index(pick["note_id"], notes)

        controls = _of_brand(lake.controls, "s_brand", brand)
        c_person = _index(controls["s_user"], lake.users)
        c_day = np.asarray(controls["s_day"].to_numpy(), dtype=np.int64)
        c_key = c_person * (lake.n_days + 1) + (c_day - lake.first_day)
        x_key = _index(cx["s_user"], lake.users) * (lake.n_days + 1) + (
            np.asarray(cx["s_day"].to_numpy(), dtype=np.int64) - lake.first_day
        )
        # controls are sorted by (user, day) within the brand, as are their features
        x_row = np.minimum(np.searchsorted(c_key, x_key), max(controls.num_rows - 1, 0))
        if x_key.size and not np.array_equal(c_key[x_row], x_key):
            raise AttributionError(f"datadriven: the controls of brand {brand!r} and their features do not match")
        # the rows' exposure sparse in kinds: one entry per (order or control, note, kind), as the engine gave it
        cx_note = _index(cx["note_id"], notes)
        c_w = np.asarray(controls["weight"].to_numpy(), dtype=np.float64)

        def fill(values: pa.ChunkedArray, none: str) -> list[str]:
            return [none if v is None else str(v) for v in values.to_pylist()]

        data = DataDrivenData(
            n_cells=n_cells,
            n_days=max(lake.n_days, 1),
            row_cell=np.concatenate([person_cell[o_person], person_cell[c_person]]).astype(np.int64),
            row_day=np.concatenate([o_day, c_day - lake.first_day]).astype(np.int64),
            row_person=np.concatenate([o_person, c_person]).astype(np.int64),
            row_y=np.concatenate([np.ones(n_o), np.zeros(controls.num_rows)]),
            row_w=np.concatenate([np.zeros(n_o), c_w]),
            n_notes=len(notes),
            xp_row=np.concatenate([pair_order[pair_of_row], n_o + x_row]).astype(np.int64),
            xp_note=np.concatenate([pair_note[pair_of_row], cx_note]).astype(np.int64),
            xp_x=np.concatenate([_basis_columns(pairs), _basis_columns(cx)]),
            xp_kind=np.concatenate(
                [np.asarray(pairs["k"].to_numpy(), dtype=np.int64), np.asarray(cx["k"].to_numpy(), dtype=np.int64)]
            ),
            order_row=np.arange(n_o, dtype=np.int64),
            pair_order=pair_order,
            pair_note=pair_note,
            pair_x=pair_x,
            person_cell=person_cell.astype(np.int64),
            range_person=r_person,
            range_first=r_first,
            range_last=r_last,
        )
        out.append(
            BrandRows(
                brand,
                data,
                orders,
                o_person,
                fill(pick["note_id"], "(no note)"),
                fill(pick["creator_id"], "(no creator)"),
                fill(pick["campaign_id"], "(no campaign)"),
            )
        )
    return out


# ---- credits ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataDrivenCredits:
    """Rows (key, orders, gmv, net_gmv, orders_low, orders_high; the baseline row included), orders credited to
    notes and to the baseline, every brand's fit summary, and the holdout checks."""

    rows: list[dict[str, Any]]
    attributed: float
    baseline: float
    fits: dict[str, dict[str, Any]]
    lift_checks: list[dict[str, Any]]


@dataclass
class _Tally:
    """Per key: the point credit (orders, gmv, net) and one order total per bootstrap resample."""

    resamples: int
    point: dict[str, np.ndarray]
    boot: dict[str, np.ndarray]

    def add(self, keys: list[str], values: np.ndarray, boot: np.ndarray) -> None:
        """``values`` (3, n): orders, gmv, net per item; ``boot`` (B, n): orders per resample."""
        if not keys:
            return
        distinct, index = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
        index = index.reshape(-1)
        size = len(distinct)
        sums = np.stack([np.bincount(index, weights=values[i], minlength=size) for i in range(3)], axis=1)
        bsums = (
            np.stack([np.bincount(index, weights=boot[b], minlength=size) for b in range(self.resamples)], axis=1)
            if self.resamples
            else np.zeros((size, 0))
        )
        for key, row, brow in zip(distinct.tolist(), sums, bsums, strict=True):
            self.point[key] = self.point.get(key, np.zeros(3)) + row
            self.boot[key] = self.boot.get(key, np.zeros(self.resamples)) + brow


def _interval(point: float, boot: np.ndarray, level: float) -> tuple[float | None, float | None]:
    if boot.size < 2:
        return None, None
    half = t_quantile(boot.size - 1, level) * float(np.std(boot, ddof=1))
    return max(point - half, 0.0), point + half


def datadriven_credits(
    session: Session,
    ev: Table,
    conv: Table,
    touch: Table,
    by: str,
    holdout_key: str | bytes | None = None,
    **params: Any,
) -> DataDrivenCredits:
    """Fit every brand and credit its orders by ``by`` (see the module docstring)."""
    p = check_params(params)
    if by not in GROUPINGS:
        raise AttributionError(f"unknown grouping {by!r}; use note, creator, brand, campaign or item")
    horizon = int(p["horizon_days"])
    lake = gather(
        session, ev, conv, touch, horizon, int(p["controls"]), float(p["utc_offset_hours"]), int(p["control_pairs"])
    )
    resamples = int(p["bootstrap"])
    tally = _Tally(resamples, {}, {})
    fits: dict[str, dict[str, Any]] = {}
    attributed = baseline = 0.0
    campaign_orders: list[tuple[str, str, str, datetime, float, np.ndarray]] = []
    for number, part in enumerate(brand_rows(lake, horizon, int(p["strata"]), int(p["activity_strata"]))):
        d = part.data
        fit = fit_datadriven(d, max_iter=int(p["max_iter"]))
        shares = shapley_shares(fit, d, permutations=int(p["permutations"]), seed=int(p["seed"]))
        boot_pair = np.zeros((resamples, d.pair_order.size))
        boot_base = np.zeros((resamples, d.n_orders))
        for b, w in enumerate(bootstrap_weights(d.person_cell.size, resamples, int(p["seed"]) * 1000 + number)):
            refit = fit_datadriven(d, person_weight=w, start=fit, max_iter=int(p["max_iter"]))
            s = shapley_shares(refit, d, permutations=int(p["permutations"]), seed=int(p["seed"]))
            ow = w[part.order_person]
            boot_pair[b] = s.pair * ow[d.pair_order]
            boot_base[b] = s.baseline * ow
        amount = np.asarray(part.orders["amount"].to_numpy(zero_copy_only=False), dtype=np.float64)
        net = np.asarray(part.orders["net"].to_numpy(zero_copy_only=False), dtype=np.float64)
        amount, net = np.nan_to_num(amount), np.nan_to_num(net)
        po = d.pair_order
        per_pair = np.stack([shares.pair, shares.pair * amount[po], shares.pair * net[po]])
        keys = _pair_keys(part, by)
        tally.add(keys, per_pair, boot_pair)
        base = shares.baseline
        tally.add([BASELINE] * d.n_orders, np.stack([base, base * amount, base * net]), boot_base)
        attributed += float(shares.pair.sum())
        baseline += float(base.sum())
        fits[part.brand] = {
            "orders": d.n_orders,
            "rows": int(d.row_y.size),
            "baseline_orders": float(base.sum()),
            "sampled_orders": shares.sampled_orders,
            **fit.summary(),
        }
        times = part.orders["t"].to_pylist()
        for i, (note, campaign) in enumerate(zip(part.pair_note, part.pair_campaign, strict=True)):
            campaign_orders.append((part.brand, note, campaign, times[po[i]], float(shares.pair[i]), boot_pair[:, i]))
    level = float(p["level"])
    rows: list[dict[str, Any]] = []
    for key, v in tally.point.items():
        low, high = _interval(float(v[0]), tally.boot[key], level)
        rows.append(
            {
                "key": key,
                "orders": float(v[0]),
                "gmv": float(v[1]),
                "net_gmv": float(v[2]),
                "orders_low": low,
                "orders_high": high,
            }
        )
    rows.sort(key=lambda r: (r["key"] == BASELINE, -r["orders"], r["key"]))
    checks = _lift_checks(session, ev, holdout_key, campaign_orders, level) if holdout_key else []
    return DataDrivenCredits(rows, attributed, baseline, fits, checks)


def _pair_keys(part: BrandRows, by: str) -> list[str]:
    if by == "note":
        return part.pair_note
    if by == "creator":
        return part.pair_creator
    if by == "campaign":
        return part.pair_campaign
    if by == "brand":
        return [part.brand] * len(part.pair_note)
    items = [("(unknown item)" if v is None else str(v)) for v in part.orders["item_id"].to_pylist()]
    return [items[o] for o in part.data.pair_order.tolist()]


def _lift_checks(
    session: Session,
    ev: Table,
    holdout_key: str | bytes,
    credited: list[tuple[str, str, str, datetime, float, np.ndarray]],
    level: float,
) -> list[dict[str, Any]]:
    """Per campaign with a holdout: the model's credit to its notes inside the lift's window vs the lift."""
    from hongmao.engine.campaign import campaign_lift, campaigns

    out = []
    for cid, info in sorted(campaigns(session, ev).items()):
        if info.holdout_share <= 0.0:
            continue
        lift = campaign_lift(session, cid, holdout_key)
        inside = [
            (value, boot)
            for brand, note, campaign, t, value, boot in credited
            if brand == info.brand and (campaign == cid or note in info.notes) and info.start <= t <= lift.window_end
        ]
        model = float(sum(v for v, _ in inside))
        boot = np.sum([b for _, b in inside], axis=0) if inside else np.zeros(0)
        low, high = _interval(model, np.asarray(boot, dtype=np.float64), level)
        est = lift.comparison.orders
        lo, hi = est.ci95
        agrees = lo <= model <= hi
        out.append(
            {
                "campaign_id": cid,
                "model_orders": model,
                "model_low": low,
                "model_high": high,
                "lift_orders": est.estimate,
                "lift_ci95": [lo, hi],
                "agrees": agrees,
                # not inside the lift's interval: the factor that calibrates the campaign's credit to the lift
                "calibration": None if agrees or model <= 0 else est.estimate / model,
                "window_end": lift.window_end.isoformat(),
            }
        )
    return out


__all__ = ["BASELINE", "DEFAULTS", "GROUPINGS", "DataDrivenCredits", "check_params", "datadriven_credits"]
