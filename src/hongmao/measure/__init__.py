"""Measurement: incrementality against randomised holdouts (lift), and later ROI(T+x), AIPS, guarantees.

``lift`` is pure math (numpy and the standard library); ``units`` reads unit-level experiment tables (CSV or
Parquet) and is the only part here that touches files.
"""

from hongmao.measure.lift import (
    IncrementalResult,
    Interval,
    LiftResult,
    difference_in_means,
    incremental_totals,
    lift_from_moments,
)
from hongmao.measure.units import lift_from_units, read_groups

__all__ = [
    "IncrementalResult",
    "Interval",
    "LiftResult",
    "difference_in_means",
    "incremental_totals",
    "lift_from_moments",
    "lift_from_units",
    "read_groups",
]
