"""The differential-privacy budget: counts of people released to a brand key carry OpenDP's noise, each query
spends epsilon from the brand's budget, a repeated query costs nothing and gets the same release, and a query
the budget cannot pay for is refused with the reason; operators are never charged. Off unless turned on."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from webkit import Site, lake_copy, running_site

pytest.importorskip("opendp")

ME = "lumiere"


def test_each_query_spends_a_repeat_is_free_and_an_empty_budget_refuses(tmp_path: Path) -> None:
    from hongmao.cleanroom.budget import Budget, BudgetExhausted, read

    budget = Budget(tmp_path, total=1.0, per_query=0.5)
    first = budget.release(ME, "funnel", {"range": "7d"}, {"readers": 120, "matched_people": 80, "gone": None})
    assert first["epsilon"] == pytest.approx(0.5) and not first["repeated"]
    assert sorted(first["values"]) == ["matched_people", "readers"] and all(v >= 0 for v in first["values"].values())
    again = budget.release(ME, "funnel", {"range": "7d"}, {"readers": 120, "matched_people": 80})
    assert again["repeated"] and again["epsilon"] == 0.0 and again["values"] == first["values"]
    assert budget.release(ME, "funnel", {"range": "7d"}, {"readers": 120}, version=2)["epsilon"] > 0  # new data
    assert budget.spent(ME) == pytest.approx(1.0)
    with pytest.raises(BudgetExhausted, match=r"spent: epsilon 1 of 1 used, this query needs 0\.5"):
        budget.release(ME, "overview", {}, {"buyers": 300})
    assert budget.release("beibei", "overview", {}, {"buyers": 300})["epsilon"] == pytest.approx(0.5)
    lines = read(tmp_path)
    assert [x["brand"] for x in lines] == [ME, ME, "beibei"]
    assert set(lines[0]) == {"time", "brand", "report", "params", "key", "epsilon", "values", "mechanisms"}
    assert lines[0]["mechanisms"]["counts"] == {"bound": 1.0, "scale": pytest.approx(4.0), "epsilon": 0.5}
    assert (tmp_path / "dp-ledger.jsonl").stat().st_mode & 0o777 == 0o600


def test_the_noise_is_discrete_laplace_at_the_epsilon_asked() -> None:
    from hongmao.cleanroom.budget import noisy

    draws = [noisy({"n": 1000}, 1.0)[0]["n"] for _ in range(3000)]
    mean = sum(draws) / len(draws)
    var = sum((d - mean) ** 2 for d in draws) / (len(draws) - 1)
    # Discrete Laplace with scale 1/epsilon = 1: variance 2 e^-1 / (1 - e^-1)^2 = 1.84.
    expected = 2 * math.exp(-1) / (1 - math.exp(-1)) ** 2
    assert all(isinstance(d, int) for d in draws) and len(set(draws)) > 5
    assert abs(mean - 1000) < 0.2 and 0.8 * expected < var < 1.2 * expected
    assert noisy({"a": 10, "b": 10}, 1.0)[1] == pytest.approx(1.0)  # split over two counts, summed back


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path_factory.mktemp("dp") / "lake"), privacy_k=1) as s:
        yield s


def test_off_by_default(site: Site) -> None:
    with site.client(site.keys[ME]) as c:
        out = c.get("/api/v1/reports/funnel").json()
    assert "dp" not in out and not (site.state.data_dir / "dp-ledger.jsonl").exists()


def test_a_brand_keys_counts_spend_its_budget_until_refused(site: Site) -> None:
    from hongmao.cleanroom.budget import Budget

    # Exactly two queries: a float sum's noise is widened until OpenDP's map (which rounds up) is within epsilon.
    site.state.extras["dp_budget"] = Budget(site.state.data_dir, total=1.0, per_query=0.5)
    try:
        with site.client(site.operator) as c:
            op = c.get("/api/v1/reports/funnel", params={"brand": ME}).json()
        assert "dp" not in op  # operators are never charged
        with site.client(site.keys[ME]) as c:
            first = c.get("/api/v1/reports/funnel").json()
            assert first["dp"]["epsilon"] == pytest.approx(0.5) and "readers" in first["dp"]["noisy"]
            assert "impressions" in first["dp"]["noisy"]  # events too, each person's clamped (issue 18)
            again = c.get("/api/v1/reports/funnel").json()
            assert again["dp"]["repeated"] and again["readers"] == first["readers"]
            assert c.get("/api/v1/reports/overview").json()["dp"]["spent"] == pytest.approx(1.0)
            refused = c.get("/api/v1/reports/overview", params={"range": "7d"})
            assert refused.status_code == 403 and "budget" in refused.json()["error"]["message"]
        with site.client(site.operator) as c:
            lines = c.get("/api/v1/reports/audit", params={"brand": ME}).json()["lines"]
        assert [x.get("epsilon") for x in lines[-4:]] == [pytest.approx(0.5), 0.0, pytest.approx(0.5), None]
        assert lines[-1]["outcome"].startswith("refused:") and lines[-1]["endpoint"].endswith("/overview")
    finally:
        site.state.extras.pop("dp_budget", None)


def test_the_settings_turn_the_budget_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hongmao.cleanroom.budget import Budget
    from hongmao.errors import ConfigError

    monkeypatch.delenv("HONGMAO_DP_EPSILON", raising=False)
    monkeypatch.delenv("HONGMAO_DP_QUERY_EPSILON", raising=False)
    assert Budget.from_settings(tmp_path) is None  # off by default
    monkeypatch.setenv("HONGMAO_DP_EPSILON", "2")
    on = Budget.from_settings(tmp_path)
    assert on is not None and on.total == 2.0 and on.per_query == 0.5
    monkeypatch.setenv("HONGMAO_DP_QUERY_EPSILON", "0.25")
    assert getattr(Budget.from_settings(tmp_path), "per_query", None) == 0.25
    for bad in ("lots", "-1", "0"):  # a budget set must be a positive number: no silent "off"
        monkeypatch.setenv("HONGMAO_DP_EPSILON", bad)
        with pytest.raises(ConfigError, match="dp_epsilon"):
            Budget.from_settings(tmp_path)


def test_logs_read_back_values_holding_unicode_line_separators(tmp_path: Path) -> None:
    """json.dumps keeps U+2028 and the like raw; the audit log and the DP ledger split lines at "\\n" only."""
    from hongmao.cleanroom import audit
    from hongmao.cleanroom.budget import Budget, read

    odd = "a\u2028b\u2029c\x1cd\x85e"
    audit.record(tmp_path, principal={"role": "brand"}, endpoint="GET /x", params={"q": odd})
    assert audit.read(tmp_path)[0]["params"]["q"] == odd
    Budget(tmp_path, total=1.0, per_query=0.5).release(ME, "funnel", {"q": odd}, {"readers": 100})
    assert read(tmp_path)[0]["params"]["q"] == odd


def test_a_bounded_sum_clamps_each_person_and_adds_opendp_laplace_at_bound_over_epsilon() -> None:
    from hongmao.cleanroom.budget import Sums, noisy_sum

    people = {f"p{i}": {"gmv": 500.0} for i in range(50)} | {"whale": {"gmv": 1e6}}
    family = Sums("gmv", 1000.0, ("gmv",), people)
    draws = [noisy_sum(family, 1.0) for _ in range(2000)]
    # OpenDP's map of a float sum rounds up; the scale is widened by a hair so the cost stays within epsilon.
    assert all(0.999999 < d[1] <= 1.0 for d in draws) and all(d[2] == pytest.approx(1000.0) for d in draws)
    values = [d[0]["gmv"] for d in draws]
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    # The whale counts for the bound (1000), not 1e6: 50 * 500 + 1000; Laplace(1000) has variance 2e6.
    assert abs(mean - 26_000) < 250 and 0.8 * 2e6 < var < 1.2 * 2e6


def test_the_rows_of_one_figure_clamp_each_persons_total_across_rows() -> None:
    from hongmao.cleanroom.budget import Sums, noisy_sum

    people = {f"p{i}": {"x": 500.0} for i in range(10)} | {"big": {"x": 3000.0, "y": 1000.0, "elsewhere": 9.0}}
    family = Sums("rows.gmv", 1000.0, ("x", "y", "z"), people)
    draws = [noisy_sum(family, 2.0) for _ in range(1000)]
    assert sorted(draws[0][0]) == ["x", "y", "z"] and 0 <= 2.0 - draws[0][1] < 1e-6
    assert draws[0][2] == pytest.approx(500.0)
    mean_x = sum(d[0]["x"] for d in draws) / len(draws)
    assert abs(mean_x - (5000 + 750)) < 120  # the big spender's 4000 scaled to 1000 in total: 750 on x


def test_the_people_contributions_add_up_to_the_reports_figures(site: Site) -> None:
    from hongmao.cleanroom import contributions
    from hongmao.reports.period import WHOLE_LAKE
    from hongmao.reports.scope import Scope

    reports = site.state.reports
    scope = Scope(brand=ME)
    per = contributions.credits(reports, scope, WHOLE_LAKE, "note", "linear")
    rows = reports.attribution(scope, "note", "linear", window=WHOLE_LAKE).rows
    assert rows and len(per) >= 2
    for row in rows:
        for f in contributions.CREDIT_FIGURES:
            got = sum(mine.get(str(row["key"]), {}).get(f, 0.0) for mine in per.values())
            assert got == pytest.approx(row[f], abs=1e-6), (row["key"], f)
    bought = contributions.orders(reports, scope, WHOLE_LAKE)
    overview = reports.overview(scope, "linear", window=WHOLE_LAKE, unsuppressed=True)
    assert sum(v["orders"] for v in bought.values()) == overview["orders"] and len(bought) == overview["buyers"]
    assert sum(v["gmv"] for v in bought.values()) == pytest.approx(overview["gmv"])
    with pytest.raises(contributions.NotBounded, match="rule model"):
        contributions.credits(reports, scope, WHOLE_LAKE, "note", "markov")


def test_a_brand_keys_sums_and_attribution_rows_carry_noise_with_the_bound_stated(site: Site) -> None:
    from hongmao.cleanroom.budget import GMV_BOUND, ORDERS_BOUND, Budget

    site.state.extras["dp_budget"] = Budget(site.state.data_dir, total=5.0, per_query=0.5)
    try:
        with site.client(site.operator) as c:
            exact = c.get("/api/v1/reports/attribution", params={"brand": ME, "by": "brand"}).json()
        assert "dp" not in exact
        with site.client(site.keys[ME]) as c:
            first = c.get("/api/v1/reports/attribution", params={"by": "brand"}).json()
            dp = first["dp"]
            assert dp["epsilon"] == pytest.approx(0.5, abs=1e-6) and not dp["repeated"]
            assert set(dp["mechanisms"]) == {"rows.orders", "rows.gmv", "rows.net_gmv", "orders", "total_orders"}
            gmv = dp["mechanisms"]["rows.gmv"]
            assert gmv["bound"] == GMV_BOUND and gmv["scale"] == pytest.approx(GMV_BOUND / 0.1)
            assert dp["mechanisms"]["orders"]["bound"] == ORDERS_BOUND
            row = first["rows"][0]
            assert row["buyers"] is None and row["gmv"] != exact["rows"][0]["gmv"]  # noisy (a tie has no chance)
            assert first["unattributed_orders"] == pytest.approx(max(0.0, first["orders"] - first["total_orders"]))
            again = c.get("/api/v1/reports/attribution", params={"by": "brand"}).json()
            assert again["dp"]["repeated"] and again["rows"] == first["rows"]
            refused = c.get("/api/v1/reports/attribution", params={"by": "brand", "model": "markov"})
            assert refused.status_code == 403 and "rule model" in refused.json()["error"]["message"]
            over = c.get("/api/v1/reports/overview", params={"range": "7d"}).json()
            assert {"gmv", "refunded", "orders", "attributed_gmv", "counts"} <= set(over["dp"]["mechanisms"])
            assert over["net_gmv"] == pytest.approx(max(0.0, over["gmv"] - over["refunded"]))
            assert over["dp"]["epsilon"] == pytest.approx(0.5, abs=1e-6)
    finally:
        site.state.extras.pop("dp_budget", None)
