"""Decision cycles and ROI(T+x): the pure math with exact values, the engine's histograms against their
definition on a hand-built lake, ROI(T+x) of a hand-built campaign, and ``hongmao roi`` /
``hongmao attribute --windows-from-cycles`` on a small simulated world."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import event, user
from enginekit import at, on, write_segment
from hongmao.cli.app import app
from hongmao.engine.attribute import parse_kinds
from hongmao.engine.cycles import CycleReport, decision_cycles, lag_histograms, roi_at_cycles
from hongmao.errors import AttributionError, InputError
from hongmao.measure.cycles import (
    CycleEstimate,
    category_days,
    cycle_from_excess,
    cycle_from_gaps,
    expected_profile,
    roi,
    span_holding,
)
from simkit import small_world

DAY = 86_400.0
A, B, C, D, E = (user(i) for i in range(1, 6))
runner = CliRunner()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return small_world(tmp_path_factory)


# -- pure math -----------------------------------------------------------------------------------------------


def test_span_holding_is_the_smallest_whole_day_span() -> None:
    assert span_holding([0, 0, 5, 5], 0.5) == 3
    assert span_holding([0, 0, 5, 5], 0.9) == 4
    assert span_holding([1.0] * 10, 0.9) == 9  # exactly 90% after nine bins, despite rounding
    assert span_holding([3, -1, 2], 0.9) == 3  # signed (excess) mass: 3, 2, 4 of 4
    assert span_holding([0, 0], 0.9) is None
    with pytest.raises(InputError, match="quantile"):
        span_holding([1], 1.5)


def test_expected_profile_is_the_uniform_time_overlap() -> None:
    # touches with remaining times 0.5 and 2.25 days over a 4-day span
    counts, fracs = [1.0, 0.0, 1.0], [0.5, 0.0, 0.25]
    got = expected_profile(counts, fracs, 4.0, 4)
    # bin d: Σ clip(R - d, 0, 1) / span
    want = [(0.5 + 1.0) / 4, (0 + 1.0) / 4, 0.25 / 4, 0.0]
    assert got == pytest.approx(want)
    with pytest.raises(InputError):
        expected_profile([1.0], [0.0, 0.0], 4.0, 2)
    with pytest.raises(InputError):
        expected_profile([1.0], [0.0], 0.0, 2)


def test_cycles_from_gaps_and_from_excess() -> None:
    gaps = [0.0, 10.0, 20.0, 10.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    est = cycle_from_gaps("snacks", gaps, quantile=0.9, min_purchases=30, span_days=30.0)
    assert (est.days, est.median_days, est.purchases, est.truncated) == (4, 3, 40, False)
    few = cycle_from_gaps("snacks", gaps, min_purchases=41)
    assert few.days is None and "at least 41" in (few.reason or "")
    observed = [12.0, 6.0, 4.0, 2.0]
    expected = [2.0, 2.0, 2.0, 2.0]  # excess 10, 4, 2, 0
    ex = cycle_from_excess("makeup", observed, expected, 50, quantile=0.9, span_days=4.0)
    assert (ex.days, ex.median_days, ex.mass) == (3, 1, 16.0)
    assert ex.truncated  # 3 days reach half of a 4-day span
    flat = cycle_from_excess("makeup", [2.0] * 4, [2.0] * 4, 50)
    assert flat.days is None and "no closer" in (flat.reason or "")
    assert category_days([est, few, ex]) == {"snacks": 4.0, "makeup": 3.0}
    assert ex.to_dict(profile=True)["profile"] == [10.0, 4.0, 2.0, 0.0]
    assert roi(150.0, 100.0) == 1.5 and roi(10.0, 0.0) is None


# -- the engine on a hand-built lake -----------------------------------------------------------------------------


def read(days: float, who: str, note: str = "n1") -> dict[str, Any]:
    return event("note.read", at(days), note_id=note, user=who, dwell_ms=8000)


def order(oid: str, who: str, days: float, amount: float = 100) -> dict[str, Any]:
    return event(
        "market.order", at(days), order_id=oid, user=who, lines=[{"item_id": "i1", "price": amount}], amount=amount
    )


def lake(tmp_path: Path) -> Path:
    events = [
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
        event("note.published", at(0), note_id="n1", creator_id="c1", brand="Lumi", items=["i1"]),
        event("note.published", at(0), note_id="n2", creator_id="c2", brand="Lumi", items=["i1"]),
        event("note.impression", at(0.5), note_id="n1", user=A),  # not a seeding touch by default
        read(1, A),
        order("oa", A, 4.5),  # lag 3.5
        read(2, B),
        read(10, B),
        order("ob", B, 12),  # lags 10 and 2; first exposure 10 days before
        read(3, C),
        order("oc1", C, 5),  # lag 2
        read(7, C),
        order("oc2", C, 9),  # lags 6 and 2; first exposure after the previous order: 2 days before
        event("note.read", at(20), note_id="n1", user=D, dwell_ms=8000),  # after the last order: baseline only
    ]
    return write_segment(tmp_path / "seg.parquet", events)


def test_histograms_match_their_definition(tmp_path: Path) -> None:
    seg = lake(tmp_path)
    session = on([seg])
    h = lag_histograms(session, session.events, parse_kinds(["read", "engagement", "click"]), 12)["skincare"]
    observed = [0.0] * 12
    for lag in (3.5, 10, 2, 2, 6, 2):
        observed[int(lag)] += 1
    assert h["observed"] == observed
    gaps = [0.0] * 12
    for lag in (3.5, 10, 2, 2):
        gaps[int(lag)] += 1
    assert h["gaps"] == gaps
    assert h["purchases"] == 4  # every order's buyer has seeding touches of the brand
    # expected[d] = Σ over buyers' touches x their orders of clip(E - t - d, 0, 1) / (E - S), in days
    start, end = 0.0, 20.0  # first and last events of the lake
    touches = {A: [1.0], B: [2.0, 10.0], C: [3.0, 7.0]}
    orders = {A: 1, B: 1, C: 2}
    want = [
        sum(orders[u] * min(max(end - t - d, 0.0), 1.0) for u, ts in touches.items() for t in ts) / (end - start)
        for d in range(12)
    ]
    assert h["expected"] == pytest.approx(want, abs=1e-9)


def test_decision_cycles_first_exposure_and_excess(tmp_path: Path) -> None:
    seg = lake(tmp_path)
    first = decision_cycles(on([seg]), method="first-exposure", min_purchases=1, lookback_days=30)
    (est,) = first.estimates
    # gaps 2, 2, 3.5, 10: 90% needs 4 of 4 -> bins 0..10, i.e. 11 days; half needs 2 -> 3 days
    assert (est.category, est.days, est.median_days, est.purchases) == ("skincare", 11, 3, 4)
    assert first.span_days == pytest.approx(20.0) and est.truncated
    excess = decision_cycles(on([seg]), min_purchases=1, lookback_days=30)
    assert excess.estimates[0].method == "excess-lag" and excess.estimates[0].days is not None
    assert decision_cycles(on([seg]), min_purchases=5).estimates[0].days is None
    assert decision_cycles(on([seg]), min_purchases=5).category_days() == {}
    with pytest.raises(InputError, match="cycle method"):
        decision_cycles(on([seg]), method="guess")
    with pytest.raises(InputError, match="lookback"):
        decision_cycles(on([seg]), lookback_days=0)
    json.dumps(excess.to_dict(profile=True))


def test_roi_at_cycles_uses_x_days_for_orders_and_windows(tmp_path: Path) -> None:
    events = [
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
        event("note.published", at(0), note_id="n1", creator_id="c1", brand="Lumi", items=["i1"]),
        event("note.published", at(0), note_id="n2", creator_id="c2", brand="Lumi", items=["i1"]),
        event(
            "campaign.created", at(0), campaign_id="k1", brand="Lumi", spend=100, start=at(1), end=at(3), notes=["n2"]
        ),
        read(2, D, "n1"),
        read(3, D, "n2"),
        order("od", D, 4, 200),  # linear: half to n2 -> 100
        read(1.5, E, "n2"),
        order("oe", E, 7.5),  # n2 read 6 days before: outside a 5-day window, inside the default 15
        read(19, A, "n2"),
        order("oa", A, 20),  # after T+x (3 + 5 days) and after T+15 (day 18): never counted
    ]
    seg = write_segment(tmp_path / "seg.parquet", events)
    estimate = CycleEstimate("skincare", "excess-lag", 0.9, 40, 5, 2, 40.0)
    report = CycleReport("excess-lag", 0.9, ["read"], 90, 20.0, [estimate])
    (row,) = roi_at_cycles(on([seg]), report, model="linear")
    assert (row["campaign_id"], row["category"], row["x_days"], row["x_from"]) == ("k1", "skincare", 5.0, "cycle")
    assert row["orders"] == pytest.approx(0.5) and row["net_gmv"] == pytest.approx(100.0)
    assert row["roi"] == pytest.approx(1.0) and row["roi_default"] == pytest.approx(2.0)
    assert row["complete"] is True
    (fallback,) = roi_at_cycles(on([seg]), CycleReport("excess-lag", 0.9, ["read"], 90, 20.0), model="last")
    assert fallback["x_from"] == "default window" and fallback["roi"] == pytest.approx(3.0)
    with pytest.raises(AttributionError, match="rule model"):
        roi_at_cycles(on([seg]), report, model="markov")
    assert math.isfinite(row["roi_default"])


# -- the commands on a simulated world -------------------------------------------------------------------------


def test_roi_command(sim: tuple[Path, Path]) -> None:
    _, lake_dir = sim
    out = runner.invoke(app, ["roi", "--data", str(lake_dir), "--format", "json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["method"] == "excess-lag" and result["quantile"] == 0.9
    assert {c["category"] for c in result["cycles"]} == {"skincare", "baby_food", "electronics"}
    assert {r["campaign_id"] for r in result["campaigns"]} == {"cmp-lumiere-1", "cmp-beibei-1", "cmp-voltra-1"}
    for r in result["campaigns"]:
        assert r["roi"] is None or r["roi"] >= 0
    table = runner.invoke(app, ["roi", "--data", str(lake_dir), "--method", "first-exposure", "--quantile", "0.8"])
    assert table.exit_code == 0, table.output
    assert "Decision cycles" in table.stdout and "ROI(T+x)" in table.stdout
    for bad in (["--method", "guess"], ["--format", "xml"], ["--model", "markov"], ["--quantile", "2"]):
        assert runner.invoke(app, ["roi", "--data", str(lake_dir), *bad]).exit_code == 2


def test_windows_from_cycles_drive_attribution(sim: tuple[Path, Path]) -> None:
    from hongmao import api

    _, lake_dir = sim
    days = api.decision_cycles(lake_dir).category_days()
    assert days, "the small world supports at least one cycle estimate"
    auto = api.attribute(lake_dir, "linear", "note", windows_from_cycles=True)
    manual = api.attribute(lake_dir, "linear", "note", category_days=days)
    assert auto.total_orders == manual.total_orders
    assert {r["key"]: round(r["orders"], 9) for r in auto.rows} == {
        r["key"]: round(r["orders"], 9) for r in manual.rows
    }
    out = runner.invoke(
        app, ["attribute", "--data", str(lake_dir), "--windows-from-cycles", "--model", "linear", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["total_orders"] == auto.total_orders


def test_times_with_a_fraction_of_a_second_give_the_same_histograms(tmp_path: Path) -> None:
    """Links made by the server stamp sub-second times: the span is read as a float, not Ibis's int32."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    (tmp_path / "whole").mkdir()
    (tmp_path / "fraction").mkdir()
    whole = on([lake(tmp_path / "whole")])
    seg = lake(tmp_path / "fraction")

    table = pq.read_table(seg)
    column = table.schema.get_field_index("time")
    moved = pc.add(table["time"], pc.cast(250_000, "duration[us]"))
    pq.write_table(table.set_column(column, "time", moved), seg)
    fraction = on([seg])
    kinds = parse_kinds(["read", "engagement", "click"])
    want = lag_histograms(whole, whole.events, kinds, 12)
    got = lag_histograms(fraction, fraction.events, kinds, 12)
    assert got == want  # every time moved by the same quarter second: the same lags and span
