"""Decision cycles per item category and ROI(T+x): pure math over day-binned lags.

A category's **decision cycle** is how long seeding takes to turn into purchases: the number of days ``x``
within which a share ``q`` (default 90%) of the purchases that seeding leads to have happened. ROI(T+x) then
measures a campaign's return x days after it, and the same x can drive the category's attribution window.

Two estimators, both from histograms with one bin per day (bin ``d`` holds lags in ``[d, d + 1)`` days), so an
engine aggregates them without moving rows; the cycle is the smallest whole number of days ``D`` such that bins
``0 .. D-1`` hold at least ``q`` of the mass (:func:`span_holding`).

``first-exposure``
    The lag from a buyer's first seeding touch of the brand (after their previous order of it) to the
    order. Simple and literal, but where people are exposed again and again, the first touch is mostly just
    the start of the data or of the previous order, not the touch that did the seeding: the lags fill the
    whole observed span whatever the category.

``excess-lag`` (default)
    Where do a buyer's touches sit *relative to the order*, beyond where they would sit if the order had
    come at a random moment? For every order, ``observed[d]`` counts the buyer's touches of the brand ``d``
    days before it; ``expected[d]`` is the same count averaged over order times drawn uniformly over the
    observed span ``[S, E]`` (the buyer's own touches, so their own intensity of exposure is the baseline).
    The **excess** ``observed - expected`` is the touch-to-purchase lag profile that seeding adds; the cycle
    is the span holding ``q`` of the excess. A touch at time ``t`` lands ``d`` days before a uniform order
    time with probability ``clip(E - t - d, 0, 1) / (E - S)`` (days), so the expected profile needs only
    the remaining time ``E - t`` of each touch in day bins: per bin ``k = floor(E - t)``, a count and the
    sum of the fractional parts (:func:`expected_profile`). Assumes the baseline purchase rate is flat over
    the span (no strong seasonality) and that touches after a purchase are no likelier than before.

Both estimates are cut by the data: lags longer than the observed span cannot be seen, so a cycle that
reaches half the span is flagged ``truncated`` (a lower bound). A category with fewer than ``min_purchases``
orders, or no positive excess, gets no estimate and keeps the default window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hongmao.errors import InputError

METHODS = ("excess-lag", "first-exposure")
DEFAULT_QUANTILE = 0.9
MIN_PURCHASES = 30


@dataclass(frozen=True, slots=True)
class CycleEstimate:
    """The decision cycle of one category (``days`` is None when the data cannot support an estimate)."""

    category: str
    method: str
    quantile: float
    purchases: int
    days: int | None
    median_days: int | None
    mass: float
    truncated: bool = False
    reason: str | None = None
    profile: tuple[float, ...] = field(default=(), repr=False)

    def to_dict(self, *, profile: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "category": self.category,
            "method": self.method,
            "quantile": self.quantile,
            "purchases": self.purchases,
            "days": self.days,
            "median_days": self.median_days,
            "mass": self.mass,
            "truncated": self.truncated,
            "reason": self.reason,
        }
        if profile:
            out["profile"] = list(self.profile)
        return out


def _check_quantile(q: float) -> float:
    if not (isinstance(q, int | float) and 0.0 < q <= 1.0 and math.isfinite(q)):
        raise InputError(f"the cycle quantile must be within (0, 1], got {q!r}")
    return float(q)


def span_holding(profile: Sequence[float], q: float) -> int | None:
    """Smallest ``D >= 1`` whose first ``D`` day bins hold at least ``q`` of the profile's total mass.

    None when the total is not positive. Negative bins (an excess profile's noise) count with their sign.
    """
    q = _check_quantile(q)
    total = math.fsum(profile)
    if not total > 0.0:
        return None
    target = q * total
    acc = 0.0
    for d, value in enumerate(profile):
        acc += value
        # a relative tolerance so that e.g. 9 of 10 equal bins reach 90% despite rounding
        if acc >= target - 1e-12 * abs(total):
            return d + 1
    return len(profile)


def expected_profile(
    remaining_counts: Sequence[float], remaining_fractions: Sequence[float], span_days: float, bins: int
) -> list[float]:
    """The uniform-order-time baseline of the excess-lag method, ``bins`` day bins long.

    ``remaining_counts[k]`` is the (order-weighted) number of touches whose remaining time to the end of the
    data ``E - t`` lies in ``[k, k + 1)`` days and ``remaining_fractions[k]`` the sum of their fractional parts
    ``(E - t) - k``. Bin ``d`` of the result is ``(Σ_{k > d} counts[k] + fractions[d]) / span_days``.
    """
    if len(remaining_counts) != len(remaining_fractions):
        raise InputError("remaining counts and fractions must have the same number of bins")
    if not span_days > 0:
        raise InputError(f"the observed span must be positive days, got {span_days!r}")
    n = len(remaining_counts)
    above = [0.0] * (n + 1)  # above[k] = Σ counts[j] for j >= k
    for k in range(n - 1, -1, -1):
        above[k] = above[k + 1] + float(remaining_counts[k])
    out = []
    for d in range(bins):
        beyond = above[d + 1] if d + 1 <= n else 0.0
        frac = float(remaining_fractions[d]) if d < n else 0.0
        out.append((beyond + frac) / span_days)
    return out


def _median(profile: Sequence[float]) -> int | None:
    return span_holding(profile, 0.5)


def _truncation(days: int | None, span_days: float | None) -> bool:
    return days is not None and span_days is not None and days >= 0.5 * span_days


def cycle_from_gaps(
    category: str,
    gap_counts: Sequence[float],
    *,
    quantile: float = DEFAULT_QUANTILE,
    min_purchases: int = MIN_PURCHASES,
    span_days: float | None = None,
) -> CycleEstimate:
    """First-exposure method: ``gap_counts[d]`` purchases whose first touch came ``[d, d + 1)`` days before."""
    quantile = _check_quantile(quantile)
    purchases = round(math.fsum(gap_counts))
    if purchases < min_purchases:
        return CycleEstimate(
            category, "first-exposure", quantile, purchases, None, None, float(purchases),
            reason=f"{purchases} purchases with a seeding touch; at least {min_purchases} needed",
        )  # fmt: skip
    days = span_holding(gap_counts, quantile)
    return CycleEstimate(
        category,
        "first-exposure",
        quantile,
        purchases,
        days,
        _median(gap_counts),
        float(purchases),
        truncated=_truncation(days, span_days),
        profile=tuple(float(x) for x in gap_counts),
    )


def cycle_from_excess(
    category: str,
    observed: Sequence[float],
    expected: Sequence[float],
    purchases: int,
    *,
    quantile: float = DEFAULT_QUANTILE,
    min_purchases: int = MIN_PURCHASES,
    span_days: float | None = None,
) -> CycleEstimate:
    """Excess-lag method: the span holding ``quantile`` of ``observed - expected`` touches per day of lag."""
    quantile = _check_quantile(quantile)
    if len(observed) != len(expected):
        raise InputError("observed and expected profiles must have the same number of bins")
    excess = tuple(float(o) - float(e) for o, e in zip(observed, expected, strict=True))
    mass = math.fsum(excess)
    if purchases < min_purchases:
        return CycleEstimate(
            category, "excess-lag", quantile, purchases, None, None, mass,
            reason=f"{purchases} purchases by people with seeding touches; at least {min_purchases} needed",
            profile=excess,
        )  # fmt: skip
    if not mass > 0.0:
        return CycleEstimate(
            category, "excess-lag", quantile, purchases, None, None, mass,
            reason="buyers' touches are no closer to their purchases than chance: no seeding lag to measure",
            profile=excess,
        )  # fmt: skip
    days = span_holding(excess, quantile)
    return CycleEstimate(
        category,
        "excess-lag",
        quantile,
        purchases,
        days,
        _median(excess),
        mass,
        truncated=_truncation(days, span_days),
        profile=excess,
    )


def category_days(estimates: Sequence[CycleEstimate]) -> dict[str, float]:
    """Attribution windows from cycles: each estimated category looks back its cycle (whole days)."""
    return {e.category: float(e.days) for e in estimates if e.days is not None}


def roi(net_gmv: float, spend: float) -> float | None:
    """ROI as DESIGN.md defines it (投产比): attributed net GMV / spend; None without spend."""
    if not math.isfinite(net_gmv):
        raise InputError(f"net GMV must be finite, got {net_gmv!r}")
    if not spend > 0:
        return None
    return net_gmv / spend
