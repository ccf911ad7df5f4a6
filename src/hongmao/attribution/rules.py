"""Rule-based attribution: per-touch weights for one ordered path.

Each function returns one weight per touch, in path order, summing to 1. Weights belong to touches, not
channels: a channel touched twice gets both its weights. Spreading a conversion over a path is
``conversions * weight`` per touch; :mod:`hongmao.attribution.registry` does that for aggregated paths.

========== ===========================================================================================
first      1 to the first touch
last       1 to the last touch
linear     1/n to every touch
position   ``first_share`` (0.4) to the first, ``last_share`` (0.4) to the last, the rest split evenly
           over the middle touches; one touch gets 1, two touches split first:last (0.5/0.5 by default)
time_decay ``2 ** (-age / half_life)`` per touch, normalised; ``age`` is the time from the touch to the
           conversion, in the unit of ``half_life``
========== ===========================================================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from hongmao.errors import AttributionError

DEFAULT_FIRST_SHARE = 0.4
DEFAULT_LAST_SHARE = 0.4
DEFAULT_HALF_LIFE_DAYS = 7.0


def _check_length(n: int) -> None:
    if n < 1:
        raise AttributionError(f"a path needs at least one touch, got {n}")


# ---- the rules, once --------------------------------------------------------------------------------------
#
# Each rule is a formula of a touch's rank ``r`` (0 for the first touch of the path), the path's touch count
# ``n`` and the touch's age, given ``where(condition, a, b)``. The same formula runs on NumPy arrays (a path's
# touches, here) and on Ibis columns (every journey in the lake, :mod:`hongmao.engine.credit`), so the engine
# and the path models cannot drift apart. ``time_decay`` gives raw weights; callers divide by their sum.

Where = Callable[[Any, Any, Any], Any]


def first_rule(r: Any, n: Any, age: Any, params: Mapping[str, float], where: Where) -> Any:
    return where(r == 0, 1.0, 0.0)


def last_rule(r: Any, n: Any, age: Any, params: Mapping[str, float], where: Where) -> Any:
    return where(r == n - 1, 1.0, 0.0)


def linear_rule(r: Any, n: Any, age: Any, params: Mapping[str, float], where: Where) -> Any:
    return 1.0 / n


def position_rule(r: Any, n: Any, age: Any, params: Mapping[str, float], where: Where) -> Any:
    first, last = params["first_share"], params["last_share"]
    ends = first + last
    two = (first / ends, last / ends) if ends else (0.5, 0.5)  # two touches split first:last
    middle = (1.0 - first - last) / where(n > 2, n - 2, 1)  # the guard only avoids dividing by zero
    many = where(r == 0, first, where(r == n - 1, last, middle))
    return where(n == 1, 1.0, where(n == 2, where(r == 0, two[0], two[1]), many))


def time_decay_rule(r: Any, n: Any, age: Any, params: Mapping[str, float], where: Where) -> Any:
    """Raw weight ``2 ** (-age / half_life)``: callers normalise per path (ages may be shifted per path)."""
    return 2.0 ** (-age / params["half_life"])


RULES: dict[str, Callable[[Any, Any, Any, Mapping[str, float], Where], Any]] = {
    "first": first_rule,
    "last": last_rule,
    "linear": linear_rule,
    "position": position_rule,
    "time_decay": time_decay_rule,
}
NORMALISED = frozenset({"time_decay"})  # rules whose raw weights are divided by their path's sum
#: What each rule's formula reads: ``r`` (the touch's rank) and ``n`` (the path's touch count). A caller that
#: computes them per row (the engine: each is a window over every journey row) computes only these.
RULE_INPUTS: dict[str, frozenset[str]] = {
    "first": frozenset({"r"}),
    "last": frozenset({"r", "n"}),
    "linear": frozenset({"n"}),
    "position": frozenset({"r", "n"}),
    "time_decay": frozenset(),
}


def check_params(model: str, params: Mapping[str, float]) -> None:
    """Refuse shares or half-lives no rule can use (one check for the paths and the engine)."""
    if model == "position":
        first, last = params["first_share"], params["last_share"]
        if not (math.isfinite(first) and math.isfinite(last) and first >= 0 and last >= 0 and first + last <= 1):
            raise AttributionError(
                f"position shares need 0 <= first_share, last_share and first_share + last_share <= 1, "
                f"got first_share={first!r}, last_share={last!r}"
            )
    if model == "time_decay":
        half_life = params["half_life"]
        if not (math.isfinite(half_life) and half_life > 0):
            raise AttributionError(f"half_life must be a positive number, got {half_life!r}")


def _path(model: str, ages: Sequence[float], params: Mapping[str, float]) -> tuple[float, ...]:
    n = len(ages)
    _check_length(n)
    check_params(model, params)
    ranks = np.arange(n, dtype=np.float64)
    shifted = np.asarray(ages, dtype=np.float64) - min(ages)  # same weights, no underflow on long paths
    raw = np.broadcast_to(np.asarray(RULES[model](ranks, float(n), shifted, params, np.where), np.float64), (n,))
    if model in NORMALISED:
        return tuple((raw / math.fsum(raw.tolist())).tolist())
    return tuple(raw.tolist())


def first_touch_weights(n: int) -> tuple[float, ...]:
    return _path("first", (0.0,) * max(n, 0), {})


def last_touch_weights(n: int) -> tuple[float, ...]:
    return _path("last", (0.0,) * max(n, 0), {})


def linear_weights(n: int) -> tuple[float, ...]:
    return _path("linear", (0.0,) * max(n, 0), {})


def position_weights(
    n: int, first_share: float = DEFAULT_FIRST_SHARE, last_share: float = DEFAULT_LAST_SHARE
) -> tuple[float, ...]:
    """Position-based (U-shaped) weights."""
    _check_length(n)
    return _path("position", (0.0,) * n, {"first_share": first_share, "last_share": last_share})


def time_decay_weights(ages: Sequence[float], half_life: float = DEFAULT_HALF_LIFE_DAYS) -> tuple[float, ...]:
    """Weights ``2 ** (-age / half_life)`` normalised to sum to 1.

    Shifting every age by the same amount does not change the result, so computing relative to the youngest
    touch keeps the exponent small and avoids underflow on long paths.
    """
    _check_length(len(ages))
    check_params("time_decay", {"half_life": half_life})
    for age in ages:
        if not math.isfinite(age) or age < 0:
            raise AttributionError(f"ages must be finite and not negative, got {age!r}")
    return _path("time_decay", ages, {"half_life": half_life})


def path_ages(n: int, spacing: float = 1.0) -> tuple[float, ...]:
    """Ages of ``n`` touches ``spacing`` apart, the last at the conversion: ``(n-1, ..., 1, 0) * spacing``."""
    _check_length(n)
    return tuple((n - 1 - i) * spacing for i in range(n))
