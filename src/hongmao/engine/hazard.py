"""``hongmao attribute --model hazard``: additive-hazard attribution of the lake's orders, fitted per brand.

For each brand the engine gathers its people, touches and orders (:mod:`hongmao.engine.hazard_data`), the
model is fitted on them (:func:`hongmao.attribution.hazard.fit_additive_hazard`), and every order is split
between the touches before it and the baseline in proportion to their hazard terms at the order's time (or, with
``shapley_days``, by the notes' Shapley values in the probability of buying; :func:`reshare` re-credits a fit
without refitting it). The baseline's part is the row :data:`BASELINE`: orders the model expects would have
happened without any touch, credited to no note. Lookback windows do not apply: each kind's decay is estimated
(touches older than the horizon are ignored). Community searches are not touches of this model (a person's own
search is a consequence of intent, not a seeding contact: see :mod:`hongmao.engine.hazard_data`), so it has no
``(community search)`` row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table

from hongmao.attribution.hazard import HazardFit, fit_additive_hazard, fit_frailty_hazard, hazard_shares
from hongmao.attribution.hazard_data import FloatArray, HazardData
from hongmao.engine.hazard_data import KINDS, BrandInput, LakeHazard, brand_inputs, gather
from hongmao.engine.session import Session
from hongmao.engine.tables import NO_NOTE
from hongmao.errors import AttributionError

BASELINE = "(baseline)"
GROUPINGS = ("note", "creator", "brand", "campaign", "item")
DEFAULTS: dict[str, Any] = {
    "horizon_days": 60,
    "strata": 8,
    "feed_bins": 0,
    "feed_window_days": 3,
    "history_days": 0,  # > 0: the baseline has a factor for days just after the person's own category purchase
    "onset": False,  # True: each kind's effect rises over the first days after the touch (a lagged onset)
    "frailty": False,  # True: a per-person Gamma frailty of the baseline (people differ in buying anyway)
    "routes": (),  # kinds credited as routes to the order, not causes (e.g. ("click",))
    "shapley_days": 0.0,  # > 0: split orders by the notes' Shapley values in P(buy within d days), not h / λ
    # prior scales of the creator and note log multipliers; None: estimated from the data (empirical Bayes). Fixed:
    # on the accuracy bench's worlds the evidence update collapsed the creator scale toward its floor and ran out
    # of rounds, and a fixed 0.1 misplaced as little or less credit (reported seeds, docs/accuracy.md) for half the CPU
    "prior_sd_creator": 0.1,
    "prior_sd_note": 0.1,
    "utc_offset_hours": 8.0,  # calendar days of the markets Hongmao bridges (China Standard Time)
}


@dataclass(frozen=True)
class HazardCredits:
    """Rows (key, orders, gmv, net_gmv; the baseline row included), orders credited to touches, to the
    baseline, and a summary of every brand's fit."""

    rows: list[dict[str, Any]]
    attributed: float
    baseline: float
    fits: dict[str, dict[str, Any]]


def _whole(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise AttributionError(f"hazard {name} must be a whole number of at least {low}, got {value!r}")
    return value


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """Every parameter as the model runs it (:data:`DEFAULTS` under ``params``); raise :class:`AttributionError`
    for an unknown parameter or a value the model cannot use."""
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise AttributionError(
            f"hazard model has no parameter {', '.join(unknown)}; its parameters: {', '.join(DEFAULTS)}"
        )
    p = {**DEFAULTS, **params}
    _whole("horizon_days", p["horizon_days"], 0)
    _whole("strata", p["strata"], 1)
    _whole("feed_bins", p["feed_bins"], 0)
    _whole("feed_window_days", p["feed_window_days"], 1)
    _whole("history_days", p["history_days"], 0)
    for flag in ("onset", "frailty"):
        if not isinstance(p[flag], bool):
            raise AttributionError(f"hazard {flag} must be true or false, got {p[flag]!r}")
    if p["frailty"] and p["history_days"]:
        raise AttributionError("hazard frailty and history_days cannot be combined")
    routes = p["routes"]
    if isinstance(routes, str) or not isinstance(routes, list | tuple) or not set(routes) <= set(KINDS):
        raise AttributionError(f"hazard routes must be a list of touch kinds among {', '.join(KINDS)}, got {routes!r}")
    days = p["shapley_days"]
    if isinstance(days, bool) or not isinstance(days, int | float) or not (np.isfinite(days) and 0 <= days <= 365):
        raise AttributionError(f"hazard shapley_days must be a number within [0, 365], got {days!r}")
    offset = p["utc_offset_hours"]
    if isinstance(offset, bool) or not isinstance(offset, int | float) or not -12 <= offset <= 14:
        raise AttributionError(f"hazard utc_offset_hours must be within [-12, 14], got {offset!r}")
    for name in ("prior_sd_creator", "prior_sd_note"):
        value = p[name]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not (np.isfinite(value) and value > 0):
            raise AttributionError(f"hazard {name} must be a positive number, got {value!r}")
    return p


def _keys(part: BrandInput, by: str) -> tuple[list[str], list[str]]:
    """Per touch and per order of one brand, the key the grouping ``by`` credits."""
    t, o = part.touches, part.orders
    n = t.num_rows

    def col(table: pa.Table, name: str, fill: str) -> list[str]:
        return [fill if v is None else str(v) for v in table[name].to_pylist()]

    if by == "note":
        return col(t, "note_id", NO_NOTE), []
    if by == "creator":
        return col(t, "creator_id", NO_NOTE), []
    if by == "campaign":
        return col(t, "campaign_id", "(no campaign)"), []
    if by == "brand":
        return [part.brand] * n, []
    if by == "item":
        return [], col(o, "item_id", "(unknown item)")
    raise AttributionError(f"unknown grouping {by!r}; use note, creator, brand, campaign or item")


def _summary(fit: HazardFit, part: BrandInput, baseline: float) -> dict[str, Any]:
    d = part.data
    return {
        "orders": d.n_orders,
        "touches": d.n_touches,
        "baseline_orders": baseline,
        "baseline_per_day": [float(v) for v in fit.baseline],
        "strata_edges": [float(v) for v in part.strata_edges],
        "prior_sd_creator": fit.prior_sd_creator,
        "prior_sd_note": fit.prior_sd_note,
        "effect_per_day": {k: float(v) for k, v in zip(fit.kinds, fit.effect, strict=True)},
        "half_life_days": fit.half_life_days(),
        "log_likelihood": fit.log_likelihood,
        "iterations": fit.iterations,
        "converged": fit.converged,
        "recent_purchase_factor": fit.recent_factor,
        "frailty_shape": fit.frailty_shape,
        "onset_days": None
        if fit.onset is None
        else {k: 1.0 / float(v) for k, v in zip(fit.kinds, fit.onset, strict=True)},
    }


def hazard_credits(session: Session, ev: Table, conv: Table, touch: Table, by: str, **params: Any) -> HazardCredits:
    """Fit every brand and credit its orders by ``by`` (see the module docstring)."""
    return hazard_credits_by(session, ev, conv, touch, (by,), **params)[by]


def hazard_credits_by(
    session: Session, ev: Table, conv: Table, touch: Table, groupings: tuple[str, ...], **params: Any
) -> dict[str, HazardCredits]:
    """Fit every brand once and credit its orders by each of ``groupings``."""
    p = check_params(params)
    for by in groupings:
        if by not in GROUPINGS:
            raise AttributionError(f"unknown grouping {by!r}; use note, creator, brand, campaign or item")
    lake = gather(session, ev, conv, touch, int(p["horizon_days"]), float(p["utc_offset_hours"]))
    return credit_lake(lake, groupings, **params)


@dataclass(frozen=True)
class BrandShares:
    """One brand's fit and its credit per touch: ``pair_share`` for each (order, touch) pair of ``data`` (its
    ``pair_order`` indexes ``part.orders``, its ``pair_touch`` indexes ``part.touches``) and ``base_share`` for
    each order (the baseline's part); per order they sum to one. ``data`` is the data the fit was made on (the
    frailty fit returns it with each order's frailty)."""

    part: BrandInput
    data: HazardData
    fit: HazardFit
    pair_share: FloatArray
    base_share: FloatArray

    def order_shares(self, column: str) -> pa.Table:
        """(order_id, key, weight): each order's touch credit summed by the touches' ``column`` (``note_id``,
        ``creator_id``, ...), one row per order and key, touches with no value there left out; rows ordered by
        order, then key. Column-wise (Arrow and NumPy): a large lake's orders are never rows of Python objects."""
        d = self.data
        keys = self.part.touches[column].cast(pa.string()).combine_chunks()
        known = np.asarray(keys.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
        keep = known[d.pair_touch] & (self.pair_share > 0)
        if not keep.any():
            return NO_SHARES
        distinct = pc.unique(keys.drop_null())
        distinct = distinct.take(pc.sort_indices(distinct))
        key_of = pc.index_in(keys, value_set=distinct).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        cell = d.pair_order[keep].astype(np.int64) * len(distinct) + key_of[d.pair_touch[keep]]
        cells, inverse = np.unique(cell, return_inverse=True)
        weights = np.bincount(inverse.reshape(-1), weights=self.pair_share[keep], minlength=len(cells))
        orders, key_ix = np.divmod(cells, len(distinct))
        order_ids = self.part.orders["order_id"].cast(pa.string()).combine_chunks()
        return pa.table(
            {
                "order_id": order_ids.take(pa.array(orders)),
                "key": distinct.take(pa.array(key_ix)),
                "weight": pa.array(weights.astype(np.float64)),
            }
        )


#: :meth:`BrandShares.order_shares` of a brand none of whose touches has a key.
NO_SHARES = pa.table(
    {"order_id": pa.array([], pa.string()), "key": pa.array([], pa.string()), "weight": pa.array([], pa.float64())}
)


def brand_shares(lake: LakeHazard, **params: Any) -> Iterator[BrandShares]:
    """Fit every brand of a gathered lake (frailty when asked and the brand has people) and split each order
    between its touches and the baseline (:func:`~hongmao.attribution.hazard.hazard_shares`), brand by brand."""
    return _brand_shares(lake, check_params(params))  # checked here, not in the generator: fails at the call


def _brand_shares(lake: LakeHazard, p: dict[str, Any]) -> Iterator[BrandShares]:
    routes = tuple(p["routes"])
    parts = brand_inputs(
        lake,
        int(p["strata"]),
        int(p["feed_bins"]),
        int(p["feed_window_days"]),
        int(p["history_days"]),
        people=bool(p["frailty"]),
    )
    for part in parts:
        d = part.data
        if p["frailty"] and d.has_people:
            fit, d = fit_frailty_hazard(
                d, prior_sd_creator=p["prior_sd_creator"], prior_sd_note=p["prior_sd_note"], onset=p["onset"]
            )
        else:
            fit = fit_additive_hazard(
                d, prior_sd_creator=p["prior_sd_creator"], prior_sd_note=p["prior_sd_note"], onset=p["onset"]
            )
        pair_share, base_share = hazard_shares(fit, d, routes, float(p["shapley_days"]))
        yield BrandShares(part, d, fit, pair_share, base_share)


#: the options of the credit step alone: changing them needs no new fit (:func:`reshare`)
CREDIT_PARAMS = ("routes", "shapley_days")


def reshare(shares: BrandShares, **credit: Any) -> BrandShares:
    """The same brand's fit credited with other credit-step options (:data:`CREDIT_PARAMS`, the rest default)."""
    other = sorted(set(credit) - set(CREDIT_PARAMS))
    if other:
        raise AttributionError(f"only the credit step's options can change without a refit, not {', '.join(other)}")
    p = check_params(credit)
    pair_share, base_share = hazard_shares(shares.fit, shares.data, tuple(p["routes"]), float(p["shapley_days"]))
    return replace(shares, pair_share=pair_share, base_share=base_share)


def credit_lake(lake: LakeHazard, groupings: tuple[str, ...], **params: Any) -> dict[str, HazardCredits]:
    """Fit every brand of a gathered lake once and credit its orders by each of ``groupings``."""
    return credit_shares(brand_shares(lake, **params), groupings)


def credit_shares(brands: Iterable[BrandShares], groupings: tuple[str, ...]) -> dict[str, HazardCredits]:
    """Sum the brands' per-order credit into rows by each of ``groupings``."""
    totals: dict[str, dict[str, np.ndarray]] = {by: {} for by in groupings}
    fits: dict[str, dict[str, Any]] = {}
    attributed = baseline_total = 0.0
    for shares in brands:
        part, d, pair_share, base_share = shares.part, shares.data, shares.pair_share, shares.base_share
        amount = np.asarray(part.orders["amount"].to_numpy(), dtype=np.float64)
        net = np.asarray(part.orders["net"].to_numpy(), dtype=np.float64)
        per_pair = np.stack([pair_share, pair_share * amount[d.pair_order], pair_share * net[d.pair_order]])
        for by in groupings:
            touch_keys, order_keys = _keys(part, by)
            if order_keys:
                keys = [order_keys[o] for o in d.pair_order.tolist()]
            else:
                keys = [touch_keys[i] for i in d.pair_touch.tolist()]
            _add(totals[by], keys, per_pair)
            _add(totals[by], [BASELINE] * d.n_orders, np.stack([base_share, base_share * amount, base_share * net]))
        attributed += float(pair_share.sum())
        baseline_total += float(base_share.sum())
        fits[part.brand] = _summary(shares.fit, part, float(base_share.sum()))
    out: dict[str, HazardCredits] = {}
    for by, sums in totals.items():
        rows: list[dict[str, Any]] = [
            {"key": k, "orders": float(v[0]), "gmv": float(v[1]), "net_gmv": float(v[2])} for k, v in sums.items()
        ]
        rows.sort(key=lambda r: (r["key"] == BASELINE, -r["orders"], r["key"]))
        out[by] = HazardCredits(rows, attributed, baseline_total, fits)
    return out


def _add(totals: dict[str, np.ndarray], keys: list[str], values: np.ndarray) -> None:
    """Sum the columns of ``values`` (3 x n) into ``totals`` by ``keys`` (n)."""
    if not keys:
        return
    distinct, index = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
    index = index.reshape(-1)
    sums = np.stack([np.bincount(index, weights=values[i], minlength=len(distinct)) for i in range(3)], axis=1)
    for key, row in zip(distinct.tolist(), sums, strict=True):
        totals[key] = totals.get(key, np.zeros(3)) + row
