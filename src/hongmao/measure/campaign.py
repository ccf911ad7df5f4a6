"""Campaign holdout lift from per-group moments: the statistics behind ``hongmao lift --campaign``.

Pure math over what an engine aggregates in one pass, per group (treated, held out):

* ``n`` — people randomised (the units);
* ``orders``, ``orders_sumsq`` — Σ orders per person and Σ (orders per person)²;
* ``buyers`` — people with at least one order (0/1 per person);
* ``gmv``, ``gmv_sumsq`` and ``net_gmv``, ``net_gmv_sumsq`` — Σ value per person and Σ value².

From them :func:`compare_groups` reports, with 95% intervals (or ``1 - alpha``):

========================= ======================================================================================
incremental orders        (orders per person, treated − held out) × n treated; Welch interval (a person may
                          order more than once, so orders are a count, not a 0/1 outcome)
incremental GMV, net GMV  the same for order value and value net of refunds; Welch interval
conversion rate           buyers / n per group, difference in points; Newcombe hybrid score interval
incremental ROI           incremental net GMV / spend (spend is fixed by the design: the interval scales)
sample-ratio check        chi-square test of the held-out count against the configured holdout share
========================= ======================================================================================

"Scaled to the treated group" follows DESIGN.md: the estimate is what the campaign added among the people it
was run on. Groups smaller than ``min_group`` people (the privacy threshold k, default 50) are not reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hongmao.errors import InputError
from hongmao.measure.lift import IncrementalResult, LiftResult, incremental_totals, lift_from_moments

MIN_GROUP = 50
"""Privacy threshold k of DESIGN.md: no report shows a group of fewer people."""

SRM_ALPHA = 0.001
"""A sample-ratio p-value below this is flagged: the groups are not what the holdout share says."""


@dataclass(frozen=True, slots=True)
class GroupMoments:
    """One group's per-person sums (see the module docstring)."""

    n: int
    orders: float
    orders_sumsq: float
    buyers: int
    gmv: float
    gmv_sumsq: float
    net_gmv: float
    net_gmv_sumsq: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "orders": self.orders,
            "buyers": self.buyers,
            "gmv": self.gmv,
            "net_gmv": self.net_gmv,
            "orders_per_person": self.orders / self.n if self.n else None,
            "conversion_rate": self.buyers / self.n if self.n else None,
            "gmv_per_person": self.gmv / self.n if self.n else None,
        }


@dataclass(frozen=True, slots=True)
class Scaled:
    """A per-person lift scaled to the treated group: ``estimate`` and ``ci95`` in orders or money."""

    estimate: float
    ci95: tuple[float, float]
    per_person: LiftResult

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "ci95": list(self.ci95), "per_person": self.per_person.to_dict()}


@dataclass(frozen=True, slots=True)
class GroupComparison:
    """Treated against held out: incremental orders, GMV, net GMV, conversion rate and ROI, with intervals."""

    treated: GroupMoments
    holdout: GroupMoments
    orders: Scaled
    gmv: Scaled
    net_gmv: Scaled
    conversion_rate: LiftResult
    incremental_roi: float | None
    incremental_roi_ci95: tuple[float, float] | None
    expected_holdout_share: float | None
    srm_p_value: float | None
    method: str
    confidence: float = 0.95

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.srm_p_value is not None and self.srm_p_value < SRM_ALPHA:
            total = self.treated.n + self.holdout.n
            out.append(
                f"sample ratio mismatch: {self.holdout.n:,} of {total:,} people held out "
                f"({self.holdout.n / total:.2%}) where the campaign says {self.expected_holdout_share:.2%} "
                f"(p={self.srm_p_value:.1e}); check the holdout key and who counts as a unit"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "treated": self.treated.to_dict(),
            "holdout": self.holdout.to_dict(),
            "incremental_orders": self.orders.to_dict(),
            "incremental_gmv": self.gmv.to_dict(),
            "incremental_net_gmv": self.net_gmv.to_dict(),
            "conversion_rate": self.conversion_rate.to_dict(),
            "incremental_roi": self.incremental_roi,
            "incremental_roi_ci95": None if self.incremental_roi_ci95 is None else list(self.incremental_roi_ci95),
            "expected_holdout_share": self.expected_holdout_share,
            "srm_p_value": self.srm_p_value,
            "confidence": self.confidence,
            "method": self.method,
            "warnings": self.warnings,
        }


def sample_ratio_p_value(holdout_n: int, total: int, share: float) -> float:
    """Two-sided p-value of the chi-square (1 df) test that ``holdout_n`` of ``total`` is a ``share`` draw."""
    if not 0.0 < share < 1.0 or total <= 0:
        raise InputError(f"a sample-ratio test needs a share within (0, 1) and people, got {share!r}, {total!r}")
    expected_h = share * total
    expected_t = total - expected_h
    chi2 = (holdout_n - expected_h) ** 2 / expected_h + ((total - holdout_n) - expected_t) ** 2 / expected_t
    return math.erfc(math.sqrt(chi2 / 2.0))


def _scaled(result: LiftResult, n_treated: int) -> Scaled:
    return Scaled(result.lift * n_treated, (result.ci95[0] * n_treated, result.ci95[1] * n_treated), result)


def compare_groups(
    treated: GroupMoments,
    holdout: GroupMoments,
    *,
    spend: float | None = None,
    expected_holdout_share: float | None = None,
    alpha: float = 0.05,
    min_group: int = MIN_GROUP,
) -> GroupComparison:
    """Treated minus held out, scaled to the treated group, with ``1 - alpha`` intervals naming their method."""
    for name, group in (("treated", treated), ("held-out", holdout)):
        if group.n < min_group:
            raise InputError(
                f"the {name} group has fewer than {min_group} people (the privacy threshold k): the lift is suppressed"
            )
    totals: IncrementalResult = incremental_totals(
        treated.n,
        treated.orders,
        treated.gmv,
        holdout.n,
        holdout.orders,
        holdout.gmv,
        treated_value_sumsq=treated.gmv_sumsq,
        holdout_value_sumsq=holdout.gmv_sumsq,
        treated_conversions_sumsq=treated.orders_sumsq,
        holdout_conversions_sumsq=holdout.orders_sumsq,
        alpha=alpha,
    )
    assert totals.gmv is not None  # the sums of squares were given
    net = lift_from_moments(
        "net_gmv",
        treated.n,
        treated.net_gmv,
        treated.net_gmv_sumsq,
        holdout.n,
        holdout.net_gmv,
        holdout.net_gmv_sumsq,
        alpha=alpha,
        interval="welch",
    )
    conversion = lift_from_moments(
        "conversion_rate",
        treated.n,
        float(treated.buyers),
        float(treated.buyers),
        holdout.n,
        float(holdout.buyers),
        float(holdout.buyers),
        alpha=alpha,
        binary=True,
    )
    net_scaled = _scaled(net, treated.n)
    roi: float | None = None
    roi_ci: tuple[float, float] | None = None
    if spend is not None and spend > 0:
        roi = net_scaled.estimate / spend
        roi_ci = (net_scaled.ci95[0] / spend, net_scaled.ci95[1] / spend)
    srm = None
    if expected_holdout_share is not None and 0.0 < expected_holdout_share < 1.0:
        srm = sample_ratio_p_value(holdout.n, treated.n + holdout.n, expected_holdout_share)
    pct = f"{(1 - alpha) * 100:g}%"
    method = (
        "randomised holdout, people as units; per-person difference in means scaled to the treated group. "
        f"Orders, GMV and net GMV: Welch standard error, normal {pct} interval. "
        f"Conversion rate: Newcombe hybrid score {pct} interval. "
        "Incremental ROI: incremental net GMV / spend (spend fixed)."
    )
    return GroupComparison(
        treated=treated,
        holdout=holdout,
        orders=Scaled(totals.incremental_orders, totals.orders_ci95, totals.orders),
        gmv=_scaled(totals.gmv, treated.n),
        net_gmv=net_scaled,
        conversion_rate=conversion,
        incremental_roi=roi,
        incremental_roi_ci95=roi_ci,
        expected_holdout_share=expected_holdout_share,
        srm_p_value=srm,
        method=method,
        confidence=1.0 - alpha,
    )
