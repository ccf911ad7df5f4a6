"""The input of the additive-hazard model: one brand's people, touches and orders as NumPy arrays.

Time is counted in whole (calendar) days: the data are person-days. Every person is observed over the same
days; the people are split into *baseline strata* (groups that share one baseline purchase rate, e.g. by how
much of their feed is the brand's category), and ``stratum_exposure[s]`` is the person-days stratum ``s`` was
observed. A touch is one contact of one person with the brand's seeding (a read, an engagement, a click, ...):
its kind, its note and creator (``-1`` for none) and ``touch_exposure``, the number
of days its effect is observed — its own day and every later day of the data, capped at the model's horizon.
An order is one purchase: its person's stratum. A pair links an order to a touch of the same person on the
same day or before (within the horizon), with the touch's age at the order in days (0: the same day).

Optionally, a person's own purchase history enters the baseline: ``order_recent[o]`` is 1 when the order's buyer
had bought in the brand's category on one of the few days before the order's day (0 otherwise), and
``stratum_recent_exposure[s]`` counts the person-days of stratum ``s`` with such a recent purchase. The model
then multiplies the baseline of those days by a fitted factor (people who are buying in a category are more
likely to buy again whatever they read). Both ``None``: no history term.

Optionally, the people: ``order_person`` names each order's buyer and the *cells* (``cell_person``,
``cell_stratum``, ``cell_exposure``, ``cell_unexposed``) give each person's observed days per stratum and how
many of them came before the person's first touch, and ``person_touches`` each person's touches of the brand:
what a per-person frailty of the baseline needs (:func:`hongmao.attribution.hazard.fit_frailty_hazard`);
``order_frailty`` then holds the buyer's estimated frailty, a fixed factor of each order's baseline
(``stratum_exposure`` is then the frailty-weighted person-days).

:func:`quantile_strata` turns one number per person into strata of about equal size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hongmao.errors import AttributionError

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class HazardData:
    """One brand's data for :func:`hongmao.attribution.hazard.fit_additive_hazard` (see the module docstring)."""

    kinds: tuple[str, ...]
    stratum_exposure: FloatArray  # (S,) person-days per baseline stratum
    order_stratum: IntArray  # (O,)
    touch_kind: IntArray  # (T,) index into kinds
    touch_note: IntArray  # (T,) index into notes, -1 for none
    touch_creator: IntArray  # (T,) index into creators, -1 for none
    touch_exposure: FloatArray  # (T,) days the touch's effect is integrated over
    pair_order: IntArray  # (P,) index into orders
    pair_touch: IntArray  # (P,) index into touches
    pair_age: FloatArray  # (P,) days from the touch to the order
    n_notes: int
    n_creators: int
    order_recent: FloatArray | None = None  # (O,) 1 when the buyer bought in the category just before, else 0
    stratum_recent_exposure: FloatArray | None = None  # (S,) person-days with such a recent purchase
    order_person: IntArray | None = None  # (O,) the buyer, an index into people (for a per-person frailty)
    cell_person: IntArray | None = None  # (M,) person of each (person, stratum) cell of observed days
    cell_stratum: IntArray | None = None  # (M,) stratum of the cell
    cell_exposure: FloatArray | None = None  # (M,) the person's days in the stratum
    cell_unexposed: FloatArray | None = None  # (M,) of those, the days before the person's first touch
    person_touches: FloatArray | None = None  # (U,) each person's touches of the brand
    order_frailty: FloatArray | None = None  # (O,) a fixed factor of each order's baseline (the buyer's frailty)

    @property
    def has_people(self) -> bool:
        return self.order_person is not None

    @property
    def n_people(self) -> int:
        return 0 if self.person_touches is None else int(self.person_touches.size)

    @property
    def has_history(self) -> bool:
        return self.order_recent is not None

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise AttributionError(f"hazard data: {problem}")

    @property
    def n_strata(self) -> int:
        return int(self.stratum_exposure.size)

    @property
    def n_orders(self) -> int:
        return int(self.order_stratum.size)

    @property
    def n_touches(self) -> int:
        return int(self.touch_kind.size)


def _index_problem(name: str, values: IntArray, size: int, allow_none: bool = False) -> str | None:
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        return f"{name} must be a one-dimensional integer array"
    low = -1 if allow_none else 0
    if values.size and (int(values.min()) < low or int(values.max()) >= size):
        return f"{name} holds an index outside [{low}, {size})"
    return None


def _float_problem(name: str, values: FloatArray) -> str | None:
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.floating):
        return f"{name} must be a one-dimensional float array"
    if values.size and not (np.all(np.isfinite(values)) and float(values.min()) >= 0.0):
        return f"{name} must be finite and not negative"
    return None


def _problem(d: HazardData) -> str | None:
    if not d.kinds or len(set(d.kinds)) != len(d.kinds):
        return "kinds must be distinct names, at least one"
    if d.n_notes < 0 or d.n_creators < 0:
        return "n_notes and n_creators must not be negative"
    for name, floats in (
        ("stratum_exposure", d.stratum_exposure),
        ("touch_exposure", d.touch_exposure),
        ("pair_age", d.pair_age),
    ):
        problem = _float_problem(name, floats)
        if problem:
            return problem
    if d.stratum_exposure.size == 0:
        return "at least one baseline stratum is needed"
    if (d.order_recent is None) != (d.stratum_recent_exposure is None):
        return "order_recent and stratum_recent_exposure must be given together"
    if d.order_recent is not None and d.stratum_recent_exposure is not None:
        for name, floats in (("order_recent", d.order_recent), ("stratum_recent_exposure", d.stratum_recent_exposure)):
            problem = _float_problem(name, floats)
            if problem:
                return problem
        if d.order_recent.size != d.order_stratum.size:
            return "order_recent must have one entry per order"
        if d.stratum_recent_exposure.size != d.stratum_exposure.size:
            return "stratum_recent_exposure must have one entry per stratum"
        if np.any(d.stratum_recent_exposure > d.stratum_exposure):
            return "stratum_recent_exposure exceeds the stratum's person-days"
        if d.order_recent.size and float(d.order_recent.max()) > 1.0:
            return "order_recent must be 0 or 1"
    people = (d.order_person, d.cell_person, d.cell_stratum, d.cell_exposure, d.cell_unexposed, d.person_touches)
    if any(v is None for v in people) and any(v is not None for v in people):
        return "order_person, the cells and person_touches must be given together"
    if d.order_person is not None and d.cell_person is not None and d.cell_stratum is not None:
        assert d.cell_exposure is not None
        if d.order_recent is not None:
            return "a per-person frailty and a history term cannot be combined"
        n = d.n_people
        for name, ints, size in (
            ("order_person", d.order_person, n),
            ("cell_person", d.cell_person, n),
            ("cell_stratum", d.cell_stratum, d.n_strata),
        ):
            problem = _index_problem(name, ints, size)
            if problem:
                return problem
        assert d.cell_unexposed is not None
        assert d.person_touches is not None
        for name, floats in (
            ("cell_exposure", d.cell_exposure),
            ("cell_unexposed", d.cell_unexposed),
            ("person_touches", d.person_touches),
        ):
            problem = _float_problem(name, floats)
            if problem:
                return problem
        if d.cell_unexposed.size != d.cell_exposure.size or np.any(d.cell_unexposed > d.cell_exposure):
            return "cell_unexposed must have one entry per cell, at most the cell's days"
        if d.order_person.size != d.order_stratum.size:
            return "order_person must have one entry per order"
        if not d.cell_person.size == d.cell_stratum.size == d.cell_exposure.size:
            return "cell_person, cell_stratum and cell_exposure must have one entry per cell"
    if d.order_frailty is not None:
        problem = _float_problem("order_frailty", d.order_frailty)
        if problem:
            return problem
        if d.order_frailty.size != d.order_stratum.size:
            return "order_frailty must have one entry per order"
    checks = (
        ("order_stratum", d.order_stratum, d.n_strata, False),
        ("touch_kind", d.touch_kind, len(d.kinds), False),
        ("touch_note", d.touch_note, d.n_notes, True),
        ("touch_creator", d.touch_creator, d.n_creators, True),
        ("pair_order", d.pair_order, d.n_orders, False),
        ("pair_touch", d.pair_touch, d.n_touches, False),
    )
    for name, ints, size, none_ok in checks:
        problem = _index_problem(name, ints, size, none_ok)
        if problem:
            return problem
    per_touch = {d.touch_kind.size, d.touch_note.size, d.touch_creator.size, d.touch_exposure.size}
    if len(per_touch) != 1:
        return "touch_kind, touch_note, touch_creator and touch_exposure must have one entry per touch"
    if not d.pair_order.size == d.pair_touch.size == d.pair_age.size:
        return "pair_order, pair_touch and pair_age must have one entry per pair"
    ordered = np.bincount(d.order_stratum, minlength=d.n_strata) if d.n_orders else np.zeros(d.n_strata)
    empty = np.flatnonzero((ordered > 0) & (d.stratum_exposure <= 0))
    if empty.size:
        return f"stratum {int(empty[0])} has orders but no exposure"
    if d.pair_touch.size and np.any(d.pair_age >= d.touch_exposure[d.pair_touch]):
        return "a pair's age is not below its touch's exposure (the order lies outside the touch's observed days)"
    return None


def quantile_strata(values: FloatArray, n: int) -> tuple[IntArray, FloatArray]:
    """Split people into at most ``n`` strata by quantiles of ``values``; returns (stratum per person, edges).

    Equal values always share a stratum (so there may be fewer than ``n``); strata are numbered from the
    lowest values up, without gaps.
    """
    if n < 1:
        raise AttributionError(f"the number of baseline strata must be at least 1, got {n}")
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise AttributionError("stratum values must be a one-dimensional array of finite numbers")
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    inner = np.unique(np.quantile(values, np.linspace(0.0, 1.0, n + 1)[1:-1]))
    raw = np.searchsorted(inner, values, side="right")
    used, stratum = np.unique(raw, return_inverse=True)
    edges = inner[used[1:] - 1] if used.size > 1 else np.zeros(0, dtype=np.float64)
    return stratum.astype(np.int64).reshape(-1), edges.astype(np.float64)
