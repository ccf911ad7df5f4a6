"""Difference checks without a DP budget: a brand key asking two overlapping ranges cannot subtract them to
isolate fewer than k people. The shared lake's brand lumiere has 4 buyers over 1-8 June 2025 and one over 7-8
June; at k = 2 both 1-8 and 1-6 June pass the k-threshold alone, and their difference is one person."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from webkit import Site, lake_copy, running_site

ME = "lumiere"
JUNE_1_8 = {"range": "custom", "from": "2025-06-01", "to": "2025-06-08"}
JUNE_1_6 = {"range": "custom", "from": "2025-06-01", "to": "2025-06-06"}


def test_gaps_are_the_days_one_range_has_and_the_other_lacks() -> None:
    from hongmao.cleanroom.differences import gaps

    d = lambda n: date(2025, 6, n)  # noqa: E731
    assert gaps((d(1), d(30)), (d(1), d(29))) == [(d(30), d(30))]
    assert gaps((d(2), d(29)), (d(1), d(30))) == [(d(1), d(1)), (d(30), d(30))]
    assert gaps((d(1), d(10)), (d(5), d(20))) == [(d(1), d(4)), (d(11), d(20))]
    assert gaps((d(1), d(10)), (d(1), d(10))) == []  # the same range: the same answer
    assert gaps((d(1), d(10)), (d(11), d(20))) == []  # disjoint: nobody in common to subtract


def test_counts_that_differ_by_fewer_than_k_are_named() -> None:
    from hongmao.cleanroom.differences import Answered, close_counts

    before = [Answered((date(2025, 6, 1), date(2025, 6, 30)), {"readers": 120, "buyers": 60})]
    assert close_counts({"readers": 119, "buyers": 10, "gone": None}, before, 50) == ["readers"]
    assert close_counts({"readers": 120, "buyers": 110}, before, 50) == []  # 0 and 50 isolate no one below k


def test_the_same_range_on_another_lake_version_compares_its_counts(tmp_path: Path) -> None:
    from hongmao.cleanroom.differences import close_counts, earlier, remember

    june = (date(2025, 6, 1), date(2025, 6, 30))
    remember(tmp_path, "b", "funnel", "fam", june, {"readers": 120}, version="v1")
    assert earlier(tmp_path, "b", "fam", june, version="v1") == []  # the same answer asked again
    late = earlier(tmp_path, "b", "fam", june, version="v2")
    assert [a.version for a in late] == ["v1"]
    # One reader's data arrived late: 121 beside 120 on the same days would isolate that one reader.
    assert close_counts({"readers": 121}, late, 50) == ["readers"]
    assert earlier(tmp_path, "b", "fam", june) == []  # no version named: the same range is the same answer


def test_answers_appended_by_another_writer_are_read_and_a_replaced_file_is_read_again(tmp_path: Path) -> None:
    from hongmao.cleanroom.differences import FILE, earlier, remember

    d = lambda n: date(2025, 6, n)  # noqa: E731
    remember(tmp_path, "b", "overview", "fam", (d(1), d(10)), {"buyers": 9})
    assert [a.days for a in earlier(tmp_path, "b", "fam", (d(1), d(9)))] == [(d(1), d(10))]
    remember(tmp_path, "b", "overview", "fam", (d(2), d(10)), {"buyers": 8})
    remember(tmp_path, "other", "overview", "fam", (d(3), d(10)), {"buyers": 7})
    with (tmp_path / FILE).open("ab") as f:  # another process's line, half written so far
        f.write(b'{"brand": "b", "family": "fam", "from": "2025-06-04"')
    assert [a.days for a in earlier(tmp_path, "b", "fam", (d(1), d(9)))] == [(d(1), d(10)), (d(2), d(10))]
    with (tmp_path / FILE).open("ab") as f:
        f.write(b', "to": "2025-06-10", "counts": {"buyers": 5}}\n')
    assert len(earlier(tmp_path, "b", "fam", (d(1), d(9)))) == 3
    (tmp_path / FILE).unlink()
    remember(tmp_path, "b", "overview", "fam", (d(5), d(10)), {"buyers": 4})
    assert [a.days for a in earlier(tmp_path, "b", "fam", (d(1), d(9)))] == [(d(5), d(10))]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path_factory.mktemp("diff") / "lake"), privacy_k=2) as s:
        yield s


def test_an_overlapping_range_differing_by_one_buyer_is_withheld(site: Site) -> None:
    with site.client(site.operator) as c:
        op = c.get("/api/v1/reports/overview", params={"brand": ME, **JUNE_1_6}).json()
    assert op["gmv"] is not None and op["buyers"] == 3  # the operator is exempt
    with site.client(site.keys[ME]) as c:
        whole = c.get("/api/v1/reports/overview", params=JUNE_1_8).json()
        assert whole["gmv"] is not None and whole["buyers"] == 4 and "differenced" not in whole
        part = c.get("/api/v1/reports/overview", params=JUNE_1_6).json()
        # Alone, 3 buyers pass k = 2; beside 1-8 June, 1-6 June would give away the one buyer of 7-8 June.
        assert part["gmv"] is None and part["buyers"] is None and part["attributed_gmv"] is None
        assert {"gmv", "buyers", "attributed_gmv"} <= set(part["differenced"]) <= set(part["suppressed"])
        assert c.get("/api/v1/reports/overview", params=JUNE_1_8).json() == whole  # the same range: as before
        other = c.get("/api/v1/reports/overview", params={**JUNE_1_6, "model": "first"}).json()
        assert other["gmv"] == op["gmv"]  # another family (model) has no earlier answer to subtract from
    lines = (site.state.data_dir / "answered.jsonl").read_text().splitlines()
    assert (site.state.data_dir / "answered.jsonl").stat().st_mode & 0o777 == 0o600
    assert len(lines) >= 3 and all("user" not in x and "order" not in x for x in lines)


def test_an_attribution_row_differing_by_one_buyer_is_withheld_and_the_totals_with_it(site: Site) -> None:
    with site.client(site.keys[ME]) as c:
        whole = c.get("/api/v1/reports/attribution", params={"by": "brand", **JUNE_1_8}).json()
        assert whole["rows"][0]["gmv"] is not None and whole["rows"][0]["buyers"] == 4
        part = c.get("/api/v1/reports/attribution", params={"by": "brand", **JUNE_1_6}).json()
    row = part["rows"][0]
    assert row["key"] == ME and row["buyers"] is None and row["gmv"] is None and row["orders"] is None
    assert "earlier answer" in row["suppressed"] and part["differenced"] == [ME, "totals"]
    assert part["total_orders"] is None and part["orders"] is None


def test_a_budget_turns_the_difference_check_off(site: Site, tmp_path: Path) -> None:
    pytest.importorskip("opendp")
    from hongmao.cleanroom.budget import Budget

    site.state.extras["dp_budget"] = Budget(tmp_path, total=5.0, per_query=0.5)
    try:
        with site.client(site.keys[ME]) as c:
            out = c.get("/api/v1/reports/overview", params={**JUNE_1_6, "model": "last"}).json()
        assert "dp" in out and "differenced" not in out  # the noise covers differencing there
    finally:
        site.state.extras.pop("dp_budget", None)


def test_a_count_of_people_differing_by_fewer_than_k_is_withheld(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """1-8 June: 23 marketplace people, 22 matched; 1-6 June: 20 and 19. At k = 4 each passes the threshold
    alone, and each differs from 1-8 June's by 3; readers (164 and 158) differ by 6 and stay."""
    monkeypatch.setattr(site.state.reports, "privacy_k", 4)
    with site.client(site.keys[ME]) as c:
        whole = c.get("/api/v1/reports/funnel", params=JUNE_1_8).json()
        part = c.get("/api/v1/reports/funnel", params=JUNE_1_6).json()
    assert whole["market_people"] == 23 and whole["matched_people"] == 22 and "differenced" not in whole
    assert part["differenced"] == ["market_people", "matched_people"]
    assert part["market_people"] is None and part["matched_people"] is None and part["readers"] == 158
    assert {"market_people", "matched_people"} <= set(part["suppressed"])


def test_the_whole_lake_against_a_range_compares_the_days_outside_it(site: Site) -> None:
    """range=all stands for every day; its difference with 1-6 June is 7-8 June's one buyer (days after the
    lake's newest hold no one)."""
    params = {"model": "position"}  # a family of its own: no earlier answer from the other tests
    with site.client(site.keys[ME]) as c:
        whole = c.get("/api/v1/reports/overview", params={**params, "range": "all"}).json()
        part = c.get("/api/v1/reports/overview", params={**params, **JUNE_1_6}).json()
    assert whole["gmv"] is not None and part["gmv"] is None and "gmv" in part["differenced"]


def test_answers_name_the_lake_version_they_were_computed_on(site: Site) -> None:
    with site.client(site.keys[ME]) as c:
        c.get("/api/v1/reports/funnel", params=JUNE_1_8)
    lines = [json.loads(x) for x in (site.state.data_dir / "answered.jsonl").read_text().splitlines()]
    assert lines[-1]["report"] == "funnel" and lines[-1]["version"] == site.state.reports.view.version()
