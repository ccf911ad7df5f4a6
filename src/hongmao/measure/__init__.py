"""Measurement: incrementality against randomised holdouts (lift), decision cycles and ROI(T+x), and accuracy
against a simulated world's ground truth.

``lift``, ``campaign`` (campaign lift from group moments), ``cycles`` and ``accuracy`` are pure math (numpy and
the standard library); ``units`` reads unit-level experiment tables (CSV or Parquet) and is the only part here
that touches files. The engine computes what these need from the lake (``hongmao.engine.campaign``,
``hongmao.engine.cycles``).
"""

from hongmao.measure.accuracy import CreditError, TrueCredit, coverage, credit_error, true_credit
from hongmao.measure.campaign import GroupComparison, GroupMoments, compare_groups
from hongmao.measure.cycles import CycleEstimate, cycle_from_excess, cycle_from_gaps, span_holding
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
    "CreditError",
    "CycleEstimate",
    "GroupComparison",
    "GroupMoments",
    "IncrementalResult",
    "Interval",
    "LiftResult",
    "TrueCredit",
    "compare_groups",
    "coverage",
    "credit_error",
    "cycle_from_excess",
    "cycle_from_gaps",
    "difference_in_means",
    "incremental_totals",
    "lift_from_moments",
    "lift_from_units",
    "read_groups",
    "span_holding",
    "true_credit",
]
