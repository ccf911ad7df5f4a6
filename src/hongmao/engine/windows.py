"""Lookback windows per touch kind, overridable per item category (the ROI(T+x) idea).

A touch counts for an order when it happened at most ``days`` before the order. Defaults: 15 days for
clicks, reads, engagements and community searches, 1 day for impressions. A category override replaces the
days of every non-impression kind (a serum decides in weeks, baby food in months); impressions keep their
own window unless the override names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hongmao.errors import AttributionError

TOUCH_KINDS = ("impression", "read", "engagement", "click", "search")
DEFAULT_DAYS: dict[str, float] = {"impression": 1, "read": 15, "engagement": 15, "click": 15, "search": 15}


@dataclass(frozen=True)
class Windows:
    days: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DAYS))
    by_category: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind, value in list(self.days.items()) + [
            (k, v) for over in self.by_category.values() for k, v in over.items()
        ]:
            if kind not in TOUCH_KINDS:
                raise AttributionError(f"unknown touch kind {kind!r} in windows; known: {', '.join(TOUCH_KINDS)}")
            if not value > 0:
                raise AttributionError(f"window for {kind} must be positive days, got {value}")

    def for_category(self, category: str | None) -> dict[str, float]:
        out = dict(self.days)
        if category is not None and category in self.by_category:
            out.update(self.by_category[category])
        return out

    @property
    def max_days(self) -> float:
        values = list(self.days.values()) + [v for over in self.by_category.values() for v in over.values()]
        return max(values)

    @classmethod
    def with_category_days(cls, category_days: dict[str, float], base: Windows | None = None) -> Windows:
        """Windows where each named category's non-impression kinds look back ``days``."""
        base = base or cls()
        over = {
            cat: {kind: days for kind in TOUCH_KINDS if kind != "impression"} for cat, days in category_days.items()
        }
        merged = {**base.by_category, **over}
        return cls(days=dict(base.days), by_category=merged)
