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
from collections.abc import Sequence

from hongmao.errors import AttributionError

DEFAULT_FIRST_SHARE = 0.4
DEFAULT_LAST_SHARE = 0.4
DEFAULT_HALF_LIFE_DAYS = 7.0


def _check_length(n: int) -> None:
    if n < 1:
        raise AttributionError(f"a path needs at least one touch, got {n}")


def first_touch_weights(n: int) -> tuple[float, ...]:
    _check_length(n)
    return (1.0,) + (0.0,) * (n - 1)


def last_touch_weights(n: int) -> tuple[float, ...]:
    _check_length(n)
    return (0.0,) * (n - 1) + (1.0,)


def linear_weights(n: int) -> tuple[float, ...]:
    _check_length(n)
    return (1.0 / n,) * n


def position_weights(
    n: int, first_share: float = DEFAULT_FIRST_SHARE, last_share: float = DEFAULT_LAST_SHARE
) -> tuple[float, ...]:
    """Position-based (U-shaped) weights."""
    _check_length(n)
    if not (
        math.isfinite(first_share)
        and math.isfinite(last_share)
        and first_share >= 0
        and last_share >= 0
        and first_share + last_share <= 1
    ):
        raise AttributionError(
            f"position shares need 0 <= first_share, last_share and first_share + last_share <= 1, "
            f"got first_share={first_share!r}, last_share={last_share!r}"
        )
    if n == 1:
        return (1.0,)
    if n == 2:
        ends = first_share + last_share
        if ends == 0:  # no preference between the two ends: split evenly
            return (0.5, 0.5)
        return (first_share / ends, last_share / ends)
    middle = (1.0 - first_share - last_share) / (n - 2)
    return (first_share,) + (middle,) * (n - 2) + (last_share,)


def time_decay_weights(ages: Sequence[float], half_life: float = DEFAULT_HALF_LIFE_DAYS) -> tuple[float, ...]:
    """Weights ``2 ** (-age / half_life)`` normalised to sum to 1.

    Shifting every age by the same amount does not change the result, so computing relative to the youngest
    touch keeps the exponent small and avoids underflow on long paths.
    """
    _check_length(len(ages))
    if not (math.isfinite(half_life) and half_life > 0):
        raise AttributionError(f"half_life must be a positive number, got {half_life!r}")
    for age in ages:
        if not math.isfinite(age) or age < 0:
            raise AttributionError(f"ages must be finite and not negative, got {age!r}")
    youngest = min(ages)
    raw = [2.0 ** (-(age - youngest) / half_life) for age in ages]
    total = math.fsum(raw)
    return tuple(weight / total for weight in raw)


def path_ages(n: int, spacing: float = 1.0) -> tuple[float, ...]:
    """Ages of ``n`` touches ``spacing`` apart, the last at the conversion: ``(n-1, ..., 1, 0) * spacing``."""
    _check_length(n)
    return tuple((n - 1 - i) * spacing for i in range(n))
