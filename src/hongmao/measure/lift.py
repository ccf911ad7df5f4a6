"""Holdout lift: the difference a campaign made, measured against a randomised holdout, with an interval.

Pure math (numpy and the standard library; no I/O, no web, no database). Three entry points:

- :func:`difference_in_means` — unit-level values of one metric for the treated and the holdout group.
- :func:`lift_from_moments` — the same from per-group summaries (count, sum, sum of squares), which an
  analytic engine can compute in one aggregation without moving unit rows.
- :func:`incremental_totals` — incremental orders and GMV scaled to the treated group (DESIGN.md: "treated
  minus holdout, scaled to the treated group, with a confidence interval").

Intervals
---------
``"welch"``: difference in means with the Welch (unequal-variance) standard error ``sqrt(s_t²/n_t +
s_h²/n_h)`` (sample variances, ``ddof=1``) and a normal critical value. For a 0/1 metric this is the Wald
interval for a difference of proportions. Large-sample: relies on the central limit theorem for each group
mean.

``"newcombe"``: for 0/1 metrics only, Newcombe's hybrid score interval (Newcombe 1998, method 10), built
from the Wilson score interval of each proportion. It stays sensible with few or no conversions (where Wald
collapses to a zero-width interval) and matches Wald at large samples. Its p-value is the pooled
two-proportion z-test.

``"auto"`` (default): Newcombe when every value in both groups is 0 or 1, Welch otherwise. The ``method``
string of every result names exactly what was computed.

Relative lift (``treatment_mean / holdout_mean - 1``) gets a delta-method interval on the log of the ratio of
means, given only when both means are positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hongmao.errors import InputError

Interval = Literal["auto", "welch", "newcombe"]

__all__ = [
    "IncrementalResult",
    "Interval",
    "LiftResult",
    "difference_in_means",
    "incremental_totals",
    "lift_from_moments",
]


@dataclass(frozen=True, slots=True)
class LiftResult:
    """Treated-minus-holdout difference of a per-unit metric.

    ``ci95`` is the two-sided interval at level ``confidence`` (0.95 unless another ``alpha`` was asked for;
    the name follows the default). ``relative_lift`` is ``lift / holdout_mean`` (None when the holdout mean
    is 0); ``relative_ci95`` is None unless both means are positive. ``p_value`` is two-sided, for "no
    difference".
    """

    metric: str
    treatment_mean: float
    holdout_mean: float
    lift: float
    ci95: tuple[float, float]
    method: str
    n_treatment: int
    n_holdout: int
    relative_lift: float | None
    relative_ci95: tuple[float, float] | None
    p_value: float
    confidence: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists; keys in a stable order)."""
        return {
            "metric": self.metric,
            "treatment_mean": self.treatment_mean,
            "holdout_mean": self.holdout_mean,
            "lift": self.lift,
            "ci95": [self.ci95[0], self.ci95[1]],
            "method": self.method,
            "n_treatment": self.n_treatment,
            "n_holdout": self.n_holdout,
            "relative_lift": self.relative_lift,
            "relative_ci95": None if self.relative_ci95 is None else list(self.relative_ci95),
            "p_value": self.p_value,
            "confidence": self.confidence,
        }


@dataclass(frozen=True, slots=True)
class IncrementalResult:
    """Incremental orders and GMV of a campaign, scaled to the treated group.

    ``incremental_orders = (rate_t - rate_h) * treated_n`` and ``incremental_gmv = (value_t - value_h) *
    treated_n``, where rates and values are per unit of each group; the intervals are the per-unit intervals
    times ``treated_n`` (the treated group's size is fixed by the design, not estimated). ``orders`` and
    ``gmv`` hold the per-unit :class:`LiftResult` behind each total. ``gmv`` is None — and so are
    ``gmv_ci95`` and ``gmv_p_value`` — when the per-unit sums of squares of value were not given: without
    them the spread of value is unknown and no honest interval exists; ``incremental_gmv`` is still the
    point estimate.
    """

    treated_n: int
    holdout_n: int
    incremental_orders: float
    orders_ci95: tuple[float, float]
    incremental_gmv: float
    gmv_ci95: tuple[float, float] | None
    orders: LiftResult
    gmv: LiftResult | None
    confidence: float = 0.95

    @property
    def orders_p_value(self) -> float:
        return self.orders.p_value

    @property
    def gmv_p_value(self) -> float | None:
        return None if self.gmv is None else self.gmv.p_value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "treated_n": self.treated_n,
            "holdout_n": self.holdout_n,
            "incremental_orders": self.incremental_orders,
            "orders_ci95": [self.orders_ci95[0], self.orders_ci95[1]],
            "incremental_gmv": self.incremental_gmv,
            "gmv_ci95": None if self.gmv_ci95 is None else [self.gmv_ci95[0], self.gmv_ci95[1]],
            "confidence": self.confidence,
            "orders": self.orders.to_dict(),
            "gmv": None if self.gmv is None else self.gmv.to_dict(),
        }


# ----------------------------------------------------------------------------------------------------
# helpers


def _z(alpha: float) -> float:
    if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise InputError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    return NormalDist().inv_cdf(1.0 - alpha / 2.0)


def _two_sided_p(estimate: float, se: float) -> float:
    """Two-sided normal p-value for estimate/se; a zero standard error gives 1 for a zero estimate, else 0."""
    if se > 0.0:
        return math.erfc(abs(estimate / se) / math.sqrt(2.0))
    return 1.0 if estimate == 0.0 else 0.0


def _percent(confidence: float) -> str:
    return f"{confidence * 100:g}%"


def _relative(
    mean_t: float, var_t: float, n_t: int, mean_h: float, var_h: float, n_h: int, z: float
) -> tuple[float | None, tuple[float, float] | None]:
    """Relative lift and its delta-method interval on log(mean_t / mean_h) (only when both means are > 0)."""
    if mean_h == 0.0:
        return None, None
    rel = mean_t / mean_h - 1.0
    # A mean so near 0 that the ratio overflows, either way round (so swapping the groups mirrors the answer).
    if not math.isfinite(rel) or (mean_t != 0.0 and not math.isfinite(mean_h / mean_t)):
        return None, None
    if mean_t <= 0.0 or mean_h <= 0.0:
        return rel, None
    # The coefficients of variation of each mean, as ratios (mean² would underflow), combined with hypot (their
    # squares would overflow for a mean near 0: then the interval on the log scale has no finite bounds).
    se_log = math.hypot(math.sqrt(var_t / n_t) / mean_t, math.sqrt(var_h / n_h) / mean_h)
    if not math.isfinite(se_log):
        return rel, None
    log_ratio = math.log(mean_t) - math.log(mean_h)
    try:
        lower, upper = math.exp(log_ratio - z * se_log) - 1.0, math.exp(log_ratio + z * se_log) - 1.0
    except OverflowError:
        return rel, None
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return rel, None
    return rel, (lower, upper)


def _wilson(successes: float, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _newcombe(x_t: float, n_t: int, x_h: float, n_h: int, z: float) -> tuple[float, float]:
    """Newcombe (1998) hybrid score interval for p_t - p_h, method 10."""
    p_t, p_h = x_t / n_t, x_h / n_h
    l_t, u_t = _wilson(x_t, n_t, z)
    l_h, u_h = _wilson(x_h, n_h, z)
    d = p_t - p_h
    lower = d - math.sqrt((p_t - l_t) ** 2 + (u_h - p_h) ** 2)
    upper = d + math.sqrt((u_t - p_t) ** 2 + (p_h - l_h) ** 2)
    return lower, upper


def _check_n(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise InputError(f"{name} must be an integer count, got {n!r}")
    if n < 2:
        what = "is empty" if n == 0 else f"has {n} unit{'s' if n != 1 else ''}"
        raise InputError(f"{name}: the group {what}; a lift needs at least 2 units in each group")
    return int(n)


def _check_finite(x: float, name: str) -> float:
    value = float(x)
    if not math.isfinite(value):
        raise InputError(f"{name} must be finite, got {x!r}")
    return value


def _variance_from_moments(n: int, total: float, sumsq: float, name: str) -> float:
    """Sample variance (ddof=1) from count, sum and sum of squares; rejects impossible sums."""
    mean = total / n
    centred = sumsq - total * mean
    # Floating-point cancellation may leave a tiny negative; anything larger means the inputs disagree.
    if centred < -1e-9 * max(1.0, abs(sumsq)):
        raise InputError(
            f"{name}: sum of squares {sumsq!r} is smaller than sum²/n = {total * mean!r}; the moments are inconsistent"
        )
    return max(0.0, centred) / (n - 1)


# ----------------------------------------------------------------------------------------------------
# public


def _lift(
    metric: str,
    n_t: int,
    mean_t: float,
    var_t: float,
    n_h: int,
    mean_h: float,
    var_h: float,
    *,
    alpha: float,
    interval: Interval,
    binary: bool,
) -> LiftResult:
    """The one place lift, interval, p-value and relative lift are computed (from means, ddof=1 variances)."""
    z = _z(alpha)
    confidence = 1.0 - alpha
    if interval not in ("auto", "welch", "newcombe"):
        raise InputError(f"interval must be 'auto', 'welch' or 'newcombe', got {interval!r}")
    if interval == "newcombe" and not binary:
        raise InputError(f"{metric}: Newcombe's interval is for 0/1 metrics; this metric has other values")
    use_newcombe = interval == "newcombe" or (interval == "auto" and binary)
    lift = mean_t - mean_h
    pct = _percent(confidence)

    if use_newcombe:
        x_t, x_h = round(mean_t * n_t), round(mean_h * n_h)
        ci = _newcombe(x_t, n_t, x_h, n_h, z)
        pooled = (x_t + x_h) / (n_t + n_h)
        p_value = _two_sided_p(lift, math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_t + 1.0 / n_h)))
        method = (
            f"difference of proportions, Newcombe hybrid score {pct} interval (Wilson score per group), "
            "pooled two-proportion z-test"
        )
    else:
        se = math.sqrt(var_t / n_t + var_h / n_h)
        ci = (lift - z * se, lift + z * se)
        p_value = _two_sided_p(lift, se)
        method = f"difference in means, Welch standard error, normal {pct} interval, z-test"
        if binary:
            method += " (the Wald interval for a difference of proportions)"

    relative_lift, relative_ci = _relative(mean_t, var_t, n_t, mean_h, var_h, n_h, z)
    if relative_ci is not None:
        method += f"; relative lift: delta method on the log ratio of means, normal {pct} interval"
    return LiftResult(
        metric=metric,
        treatment_mean=mean_t,
        holdout_mean=mean_h,
        lift=lift,
        ci95=(float(ci[0]), float(ci[1])),
        method=method,
        n_treatment=n_t,
        n_holdout=n_h,
        relative_lift=relative_lift,
        relative_ci95=relative_ci,
        p_value=float(p_value),
        confidence=confidence,
    )


def lift_from_moments(
    metric: str,
    n_treatment: int,
    sum_treatment: float,
    sumsq_treatment: float,
    n_holdout: int,
    sum_holdout: float,
    sumsq_holdout: float,
    *,
    alpha: float = 0.05,
    interval: Interval = "auto",
    binary: bool = False,
) -> LiftResult:
    """Treated-minus-holdout lift from per-group count, sum and sum of squares of a per-unit metric.

    ``binary=True`` declares the metric 0/1 per unit (then each group's sum is its count of ones and must
    equal its sum of squares); with ``interval="auto"`` binary metrics get Newcombe's interval, others
    Welch's.
    """
    n_t = _check_n(n_treatment, "treatment")
    n_h = _check_n(n_holdout, "holdout")
    s_t = _check_finite(sum_treatment, "sum_treatment")
    s_h = _check_finite(sum_holdout, "sum_holdout")
    q_t = _check_finite(sumsq_treatment, "sumsq_treatment")
    q_h = _check_finite(sumsq_holdout, "sumsq_holdout")
    if binary:
        for name, n, s, q in (("treatment", n_t, s_t, q_t), ("holdout", n_h, s_h, q_h)):
            if not (s == q and s.is_integer() and 0.0 <= s <= n):
                raise InputError(
                    f"{metric}: said to be 0/1 per unit, but the {name} group's sum ({s!r}) and sum of "
                    f"squares ({q!r}) are not one count of ones between 0 and n={n}"
                )
    return _lift(
        metric,
        n_t,
        s_t / n_t,
        _variance_from_moments(n_t, s_t, q_t, "treatment"),
        n_h,
        s_h / n_h,
        _variance_from_moments(n_h, s_h, q_h, "holdout"),
        alpha=alpha,
        interval=interval,
        binary=binary,
    )


def _as_values(x: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: values must be numbers ({exc})") from exc
    arr = arr.reshape(-1)
    if arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InputError(f"{name}: value at position {bad} is {arr[bad]!r}; every value must be finite")
    return arr


def difference_in_means(
    treatment: npt.ArrayLike,
    holdout: npt.ArrayLike,
    metric: str = "metric",
    alpha: float = 0.05,
    *,
    interval: Interval = "auto",
) -> LiftResult:
    """Lift of ``metric`` per unit: mean(treatment) - mean(holdout), with a ``1 - alpha`` interval.

    Default ``interval="auto"``: Newcombe's hybrid score interval when both groups are 0/1-valued, otherwise
    the Welch standard error with a normal critical value; ``"welch"`` forces the latter for 0/1 data too (the
    Wald interval). Empty or single-unit groups and non-finite values raise
    :class:`~hongmao.errors.InputError`. Groups with zero variance are allowed: under Welch, if both are
    constant the interval has zero width and the p-value is 1 for equal means, 0 otherwise (0/1 data get
    Newcombe's interval by default, which does not collapse).
    """
    t = _as_values(treatment, "treatment")
    h = _as_values(holdout, "holdout")
    n_t = _check_n(t.size, "treatment")
    n_h = _check_n(h.size, "holdout")
    binary = bool(np.all((t == 0.0) | (t == 1.0)) and np.all((h == 0.0) | (h == 1.0)))
    return _lift(
        metric,
        n_t,
        float(t.mean()),
        float(t.var(ddof=1)),
        n_h,
        float(h.mean()),
        float(h.var(ddof=1)),
        alpha=alpha,
        interval=interval,
        binary=binary,
    )


def incremental_totals(
    treated_n: int,
    treated_conversions: float,
    treated_value: float,
    holdout_n: int,
    holdout_conversions: float,
    holdout_value: float,
    *,
    treated_value_sumsq: float | None = None,
    holdout_value_sumsq: float | None = None,
    treated_conversions_sumsq: float | None = None,
    holdout_conversions_sumsq: float | None = None,
    alpha: float = 0.05,
) -> IncrementalResult:
    """Incremental orders and GMV of the treated group: ``(rate_t - rate_h) * treated_n`` with intervals.

    Per group: ``*_n`` units (people randomised), ``*_conversions`` the number of units that converted (each
    counted once: a 0/1 outcome, Newcombe interval), ``*_value`` the total order value (GMV) of the group's
    units.

    ``*_value_sumsq`` — the sum over units of (that unit's value)² — is what gives the GMV interval (Welch);
    an engine gets it in the same aggregation as the sum. Without it ``gmv_ci95`` is None.

    If a unit may convert more than once and ``*_conversions`` counts orders rather than buyers, pass
    ``*_conversions_sumsq`` (sum over units of orders²) too; orders then get the Welch interval of a count
    metric.
    """
    t_n = _check_n(treated_n, "treated")
    h_n = _check_n(holdout_n, "holdout")
    if (treated_conversions_sumsq is None) != (holdout_conversions_sumsq is None):
        raise InputError("give the conversions sum of squares for both groups or for neither")
    if (treated_value_sumsq is None) != (holdout_value_sumsq is None):
        raise InputError("give the value sum of squares for both groups or for neither")

    if treated_conversions_sumsq is None or holdout_conversions_sumsq is None:
        for name, x, n in (("treated", treated_conversions, t_n), ("holdout", holdout_conversions, h_n)):
            xf = _check_finite(x, f"{name}_conversions")
            if not (xf.is_integer() and 0 <= xf <= n):
                raise InputError(
                    f"{name}_conversions must be a count of converting units between 0 and {name}_n={n}, "
                    f"got {x!r} (counting orders, several per unit? pass the conversions sums of squares)"
                )
        orders = lift_from_moments(
            "orders",
            t_n,
            treated_conversions,
            treated_conversions,
            h_n,
            holdout_conversions,
            holdout_conversions,
            alpha=alpha,
            binary=True,
        )
    else:
        orders = lift_from_moments(
            "orders",
            t_n,
            treated_conversions,
            treated_conversions_sumsq,
            h_n,
            holdout_conversions,
            holdout_conversions_sumsq,
            alpha=alpha,
            interval="welch",
            binary=False,
        )

    v_t = _check_finite(treated_value, "treated_value")
    v_h = _check_finite(holdout_value, "holdout_value")
    gmv: LiftResult | None = None
    if treated_value_sumsq is not None and holdout_value_sumsq is not None:
        gmv = lift_from_moments(
            "gmv",
            t_n,
            v_t,
            treated_value_sumsq,
            h_n,
            v_h,
            holdout_value_sumsq,
            alpha=alpha,
            interval="welch",
            binary=False,
        )
    per_unit_gmv_lift = v_t / t_n - v_h / h_n

    return IncrementalResult(
        treated_n=t_n,
        holdout_n=h_n,
        incremental_orders=orders.lift * t_n,
        orders_ci95=(orders.ci95[0] * t_n, orders.ci95[1] * t_n),
        incremental_gmv=per_unit_gmv_lift * t_n,
        gmv_ci95=None if gmv is None else (gmv.ci95[0] * t_n, gmv.ci95[1] * t_n),
        orders=orders,
        gmv=gmv,
        confidence=1.0 - alpha,
    )
