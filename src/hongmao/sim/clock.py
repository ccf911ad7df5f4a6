"""Simulated time: integer seconds since local midnight of the first day, printed as RFC 3339 with offset.

Formatting a datetime per event is the slowest part of writing JSON, so times are printed from two tables:
the date of each day and the ``HH:MM:SS+hh:mm`` of each second of a day.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

DAY = 86_400

#: Relative activity per local hour: quiet nights, a lunch peak and the evening scroll.
HOUR_WEIGHTS = np.array(
    [
        0.6,
        0.35,
        0.2,
        0.12,
        0.1,
        0.15,
        0.35,
        0.8,
        1.1,
        1.2,
        1.2,
        1.3,
        1.7,
        1.6,
        1.2,
        1.1,
        1.1,
        1.2,
        1.4,
        1.8,
        2.2,
        2.5,
        2.2,
        1.3,
    ],
    dtype=np.float64,
)
_HOUR_CUM = np.cumsum(HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
_HOUR_CUM[-1] = 1.0


def offset_text(hours: int) -> str:
    sign = "+" if hours >= 0 else "-"
    return f"{sign}{abs(hours):02d}:00"


class Clock:
    """Prints simulated seconds as RFC 3339 text in the world's time zone."""

    def __init__(self, start: date, days: int, offset_hours: int, spare_days: int = 8) -> None:
        self.start = start
        self.days = days
        self.offset = offset_text(offset_hours)
        self._dates = [(start + timedelta(days=d)).isoformat() + "T" for d in range(days + spare_days)]
        off = self.offset
        self._hms = [f"{h:02d}:{m:02d}:{s:02d}{off}" for h in range(24) for m in range(60) for s in range(60)]

    def text(self, t: int) -> str:
        d, s = divmod(int(t), DAY)
        return self._dates[d] + self._hms[s]

    def texts(self, t: NDArray[np.int64]) -> list[str]:
        d = t // DAY
        s = t - d * DAY
        dates, hms = self._dates, self._hms
        return [dates[a] + hms[b] for a, b in zip(d.tolist(), s.tolist(), strict=True)]

    def date_text(self, day: int) -> str:
        return self._dates[day][:-1]


def seconds_in_day(rng: np.random.Generator, n: int) -> NDArray[np.int64]:
    """``n`` seconds-of-day drawn from the daily activity curve."""
    hours = np.searchsorted(_HOUR_CUM, rng.random(n), side="right")
    hours = np.minimum(hours, 23)
    return np.asarray(hours * 3600 + rng.integers(0, 3600, n), dtype=np.int64)
