"""AIPS stages: the pure rules, and the engine's per-person stages, counts and flows on a hand-made lake."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from aipskit import PLAN, build, person
from hongmao.cleanroom.threshold import SUPPRESSED
from hongmao.measure import aips

# -- the pure rules ---------------------------------------------------------------------------------------------


def test_stage_counts_reach_is_cumulative_and_small_counts_are_withheld() -> None:
    rows = aips.stage_counts({"A": 10, "I": 3, "TI": 0, "P": 2, "S": 1}, k=3)
    by = {r["stage"]: r for r in rows}
    assert [r["stage"] for r in rows] == list(aips.STAGES)
    assert by["A"]["at"] == 10 and by["A"]["reached"] == 16
    assert by["I"]["at"] == 3 and by["I"]["reached"] == 6
    assert by["TI"]["at"] == SUPPRESSED and by["TI"]["reached"] == 3
    assert by["S"]["at"] == SUPPRESSED and by["S"]["suppressed"] == "fewer than 3 people"
    assert by["A"]["suppressed"] is None


def test_flows_withhold_small_cells_and_name_the_direction() -> None:
    rows = aips.flow_rows([("A", "P", 7), ("none", "A", 2), ("TI", "I", 5), ("none", "none", 9)], k=5)
    assert [(r["from"], r["to"]) for r in rows] == [("none", "A"), ("A", "P"), ("TI", "I")]
    cell = {(r["from"], r["to"]): r for r in rows}
    assert cell[("A", "P")] == {"from": "A", "to": "P", "move": "deeper", "people": 7, "suppressed": None}
    assert cell[("none", "A")]["people"] == SUPPRESSED and cell[("none", "A")]["suppressed"] == "fewer than 5 people"
    assert cell[("TI", "I")]["move"] == "shallower"


def test_the_strictest_party_sets_k_and_the_minimum_audience_is_never_below_it() -> None:
    rules = aips.Rules.of_parties(50, 120, None, min_audience=100)
    assert rules.k == 120 and rules.min_audience == 120
    assert aips.Rules.of_parties(None).k == 50 and aips.Rules.of_parties(None).min_audience == 2000
    assert aips.audience_size_ok(1999, aips.Rules()) is not None
    assert aips.audience_size_ok(2000, aips.Rules()) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"deep_read_seconds": 0}, "deep_read_seconds"), ({"k": 0}, "k"), ({"k": 10, "min_audience": 5}, "min_audience")],
)
def test_bad_rules_name_their_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(aips.AipsError, match=f"^{field}: "):
        aips.Rules(**kwargs)


def test_a_stage_is_checked_and_named() -> None:
    assert aips.check_stage(" ti ") == "TI"
    with pytest.raises(aips.AipsError, match="stage: 'X' is not one of A, I, TI, P, S"):
        aips.check_stage("X")
    assert [aips.stage_of(aips.depth(s)) for s in (*aips.STAGES, aips.NONE)] == [*aips.STAGES, aips.NONE]


# -- the engine -------------------------------------------------------------------------------------------------


def _spans() -> tuple[Any, Any]:
    from hongmao.reports.period import Period, business_tz

    tz = business_tz("Asia/Shanghai")
    before, after = Period(date(2025, 6, 1), date(2025, 6, 7)), Period(date(2025, 6, 8), date(2025, 6, 14))
    return before.bounds(tz), after.bounds(tz)


def test_each_person_is_at_the_deepest_stage_reached_and_flows_pair_the_periods(tmp_path: Path) -> None:
    from hongmao.engine import aips as engine
    from hongmao.engine.session import Session
    from hongmao.lake import Lake
    from hongmao.reports.scope import LakeView, Scope

    lake = Lake.open(build(tmp_path, PLAN, oat=4))
    try:
        before, after = _spans()
        with Session(LakeView(lake).segments(Scope("Lumi"))) as session:
            assert engine.stage_people(session, before, 30) == {"A": 6, "I": 4, "TI": 7, "P": 2}
            assert engine.stage_people(session, after, 30) == {"I": 6, "TI": 4, "P": 7, "S": 3}
            # a shorter bar makes the 5 s reads deep: every reader is TI or deeper
            assert engine.stage_people(session, after, 5) == {"TI": 10, "P": 7, "S": 3}
            flows = {(a, b): n for a, b, n in engine.flows(session, before, after, 30)}
            assert flows == {("A", "I"): 6, ("I", "TI"): 4, ("TI", "P"): 7, ("none", "S"): 3, ("P", "none"): 2}
            ti = engine.audience(session, after, "TI", 30)
            assert ti == sorted(person(i) for i in range(6, 10))
            assert engine.audience(session, after, "P", 30, reached=True) == sorted(person(i) for i in range(10, 20))
        with Session(LakeView(lake).segments(Scope("Oat"))) as session:  # the rival sees only its own people
            assert engine.stage_people(session, after, 30) == {"S": 4}
    finally:
        lake.close()
