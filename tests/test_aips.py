"""AIPS stages: the pure rules, and the engine's per-person stages, counts and flows on a hand-made lake."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from aipskit import PLAN, build, person
from hongmao.measure import aips
from hongmao.measure.threshold import SUPPRESSED

# -- the pure rules ---------------------------------------------------------------------------------------------


def test_reach_is_cumulative_and_small_counts_are_withheld() -> None:
    out = aips.tables({"A": 10, "I": 6, "TI": 0, "P": 5, "S": 4}, {}, [], k=3)
    by = {r["stage"]: r for r in out["stages"]}
    assert [r["stage"] for r in out["stages"]] == list(aips.STAGES)
    assert (by["A"]["at"], by["A"]["reached"], by["I"]["reached"], by["S"]["reached"]) == (10, 25, 15, 4)
    assert by["TI"]["at"] == SUPPRESSED and by["TI"]["suppressed"] == "fewer than 3 people"
    assert out["people"] == 25 and by["A"]["suppressed"] is None


def test_a_withheld_count_cannot_be_worked_out_by_subtraction() -> None:
    # S (2) is under k; reached P = P + S would give it away, so P's own count is withheld as cover
    at = {"A": 10, "I": 6, "TI": 5, "P": 7, "S": 2}
    out = aips.tables(at, {}, [("none", s, n) for s, n in at.items()], k=3)
    by = {r["stage"]: r for r in out["stages"]}
    assert by["S"]["at"] == SUPPRESSED and by["S"]["suppressed"] == "fewer than 3 people"
    assert by["P"]["at"] == SUPPRESSED and by["P"]["suppressed"] == aips.SECONDARY and by["P"]["reached"] == 9
    # no sum of the table has exactly one withheld member left to work out
    shown_at = {s: by[s]["at"] for s in aips.STAGES}
    reached = {s: by[s]["reached"] for s in aips.STAGES}
    for i, stage in enumerate(aips.STAGES[:-1]):
        members = [reached[stage], shown_at[stage], reached[aips.STAGES[i + 1]]]
        assert members.count(SUPPRESSED) != 1, (stage, members)
    assert out["people"] == 30 and list(shown_at.values()).count(SUPPRESSED) != 1
    # none -> S (2) is the only way into S: shown, flows would give S away, so they are withheld
    assert out["flows_withheld"] and {f["people"] for f in out["flows"]} == {SUPPRESSED}


def test_flows_are_withheld_when_showing_them_would_give_a_small_count_away() -> None:
    # now: I 9 (7 from A, 2 new); the earlier period's own report shows A 7, and A had nowhere else to go
    pairs = [("A", "I", 7), ("none", "I", 2), ("TI", "P", 6)]
    out = aips.tables({"I": 9, "P": 6}, {"A": 7, "TI": 6}, pairs, k=3)
    assert out["flows_withheld"]
    assert {(f["people"], f["suppressed"]) for f in out["flows"]} == {(SUPPRESSED, aips.FLOWS_WITHHELD)}
    by = {r["stage"]: r for r in out["stages"]}
    assert (by["I"]["at"], by["P"]["at"], out["people"]) == (9, 6, 15)


def test_flows_with_every_cell_at_k_or_more_are_shown_in_stage_order() -> None:
    pairs = [("TI", "P", 6), ("A", "I", 7), ("none", "I", 4), ("I", "A", 5), ("none", "none", 9)]
    out = aips.tables({"A": 5, "I": 11, "P": 6}, {"A": 7, "I": 5, "TI": 6}, pairs, k=3)
    assert not out["flows_withheld"]
    assert [(f["from"], f["to"], f["people"], f["move"]) for f in out["flows"]] == [
        ("none", "I", 4, "deeper"),
        ("A", "I", 7, "deeper"),
        ("I", "A", 5, "shallower"),
        ("TI", "P", 6, "deeper"),
    ]


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
