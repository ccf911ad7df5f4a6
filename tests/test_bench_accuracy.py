"""bench/accuracy.py's interval coverage of per-note credits on hand-made rows whose coverage is known: only notes
with at least 10 true credited orders are judged, a judged note without a row is a miss, a model without
intervals has no figure, and seeds pool by notes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "accuracy.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_accuracy_under_test", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def row(key: str, orders: float, low: float | None, high: float | None) -> dict[str, Any]:
    return {"key": key, "orders": orders, "orders_low": low, "orders_high": high}


TRUTH = {"a": 12.0, "b": 30.0, "c": 10.0, "d": 9.99, "e": 50.0}


def test_coverage_counts_only_notes_with_ten_true_orders(bench: ModuleType) -> None:
    rows = [
        row("a", 11.0, 8.0, 14.0),  # holds 12: covered
        row("b", 20.0, 15.0, 25.0),  # misses 30
        row("c", 10.0, 10.0, 11.0),  # 10 on the low end: covered (ends included)
        row("d", 1.0, 0.0, 2.0),  # misses 9.99, but under 10 true orders: not judged
        row(bench.BASELINE, 500.0, 0.0, 1000.0),  # the baseline is no note
        # e (50 true orders) has no row: judged and missed
    ]
    got = bench.note_coverage(rows, TRUTH)
    assert got == {"share": 2 / 4, "covered": 2, "notes": 4}


def test_a_wider_interval_covers_more(bench: ModuleType) -> None:
    rows = [row("a", 11.0, 8.0, 14.0), row("b", 20.0, 15.0, 31.0), row("c", 10.0, 9.0, 11.0)]
    rows.append(row("e", 40.0, 30.0, 60.0))
    assert bench.note_coverage(rows, TRUTH) == {"share": 1.0, "covered": 4, "notes": 4}
    assert bench.note_coverage(rows, TRUTH, min_true=20.0) == {"share": 1.0, "covered": 2, "notes": 2}


def test_no_intervals_no_figure(bench: ModuleType) -> None:
    rows = [row("a", 12.0, None, None), row("b", 30.0, None, None)]
    assert bench.note_coverage(rows, TRUTH) is None
    assert bench.note_coverage([{"key": "a", "orders": 12.0}], TRUTH) is None
    judged_none = bench.note_coverage([row("a", 1.0, 0.0, 2.0)], {"a": 3.0})
    assert judged_none == {"share": None, "covered": 0, "notes": 0}


def test_seeds_pool_by_notes(bench: ModuleType) -> None:
    seeds = [{"share": 1.0, "covered": 1, "notes": 1}, {"share": 0.5, "covered": 3, "notes": 6}]
    assert bench.pooled_coverage(seeds) == {"share": 4 / 7, "covered": 4, "notes": 7}
    assert bench.pooled_coverage([seeds[0], None]) is None
