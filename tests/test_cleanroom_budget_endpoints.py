"""Under the differential-privacy budget, every brand-facing API endpoint beyond the funnel, the overview and
attribution is noisy and charged (the daily series, creator economics, the notes, creators, campaigns and items)
or refused with a 403 saying why (the model comparison, the campaign ROI story, and whatever rests on one order);
an exhausted budget refuses; operators stay exact and uncharged; another brand's ids are still 404. The clamp
bounds are settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from webkit import Site, charged_answer, dp_budget, exact_answer, lake_copy, running_site

pytest.importorskip("opendp")

ME, OTHER = "lumiere", "beibei"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path_factory.mktemp("dp-endpoints") / "lake"), privacy_k=1) as s:
        yield s


@pytest.fixture
def budget(site: Site) -> Iterator[Any]:
    with dp_budget(site) as found:
        yield found


def _differs(noisy: list[dict[str, Any]], exact: list[dict[str, Any]], key: str, figures: tuple[str, ...]) -> None:
    """Same keys in the same order; the figures move (continuous Laplace noise: a tie has no chance)."""
    assert [r[key] for r in noisy] == [r[key] for r in exact]
    pairs = [(n[f], e[f]) for n, e in zip(noisy, exact, strict=True) for f in figures if e[f]]
    assert pairs and all(a != b for a, b in pairs)


def test_the_daily_series_is_noisy_andcharged_answer(site: Site, budget: Any) -> None:
    exact = exact_answer(site, "/api/v1/reports/timeseries")["days"]
    with site.client(site.keys[ME]) as c:
        got = charged_answer(c, budget, "/api/v1/reports/timeseries")
        again = c.get("/api/v1/reports/timeseries").json()
    figures = ("orders", "gmv", "refunded", "attributed_orders", "attributed_gmv", "attributed_net_gmv")
    _differs(got["days"], exact, "day", figures)
    assert {f"days.{f}" for f in figures} <= set(got["dp"]["mechanisms"])
    assert got["dp"]["mechanisms"]["days.gmv"]["bound"] == budget.gmv_bound
    assert all(d["buyers"] is None and d["attributed_buyers"] is None for d in got["days"])
    assert all(d["net_gmv"] == pytest.approx(max(0.0, d["gmv"] - d["refunded"])) for d in got["days"])
    assert [d["spend"] for d in got["days"]] == [d["spend"] for d in exact]  # the brand's own spend stays exact
    assert again["dp"]["repeated"] and again["days"] == got["days"]  # asking again cannot average the noise away


def test_creator_economics_are_noisy_and_their_incremental_figures_withheld(site: Site, budget: Any) -> None:
    exact = exact_answer(site, "/api/v1/reports/economics")["rows"]
    with site.client(site.keys[ME]) as c:
        got = charged_answer(c, budget, "/api/v1/reports/economics")
        markov = c.get("/api/v1/reports/economics", params={"model": "markov"})
    _differs(got["rows"], exact, "creator_id", ("orders", "net_gmv"))
    assert all(r["incremental_net_gmv"] is None and r["incremental_roi"] is None for r in got["rows"])
    assert set(got["dp"]["withheld"]) == {"incremental_net_gmv", "incremental_roi"}
    for r in got["rows"]:
        assert r["attributed_roi"] == (pytest.approx(r["net_gmv"] / r["fee"]) if r["fee"] else None)
    assert markov.status_code == 403 and "rule model" in markov.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "key", "figures"),
    [
        ("/api/v1/notes", "note_id", ("orders", "gmv", "net_gmv")),
        ("/api/v1/creators", "creator_id", ("orders", "gmv", "net_gmv")),
        ("/api/v1/campaigns", "campaign_id", ("orders", "gmv", "net_gmv", "attributed_roi")),
        ("/api/v1/items", "item_id", ("orders", "gmv")),
    ],
)
def test_entity_listings_are_noisy_and_one_entity_reuses_the_listings_release(
    site: Site, budget: Any, path: str, key: str, figures: tuple[str, ...]
) -> None:
    name = path.rsplit("/", 1)[1]
    exact = exact_answer(site, path)[name]
    with site.client(site.keys[ME]) as c:
        got = charged_answer(c, budget, path)
        _differs(got[name], exact, key, figures)
        assert all(r.get("buyers") is None for r in got[name])
        one = got[name][0]
        single = c.get(f"{path}/{one[key]}")
    assert single.status_code == 200
    assert single.json()["dp"]["repeated"] and single.json()["dp"]["epsilon"] == 0.0
    assert {f: single.json()[f] for f in figures} == {f: one[f] for f in figures}


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/api/v1/reports/compare", "model comparison"),
        ("/api/v1/reports/campaign-roi", "campaign ROI"),
        ("/api/v1/orders", "one order"),
    ],
)
def test_what_no_bounded_sum_answers_is_refused_with_the_reason(site: Site, budget: Any, path: str, why: str) -> None:
    exact_answer(site, path)  # operators still get it
    with site.client(site.keys[ME]) as c:
        refused = c.get(path)
    assert refused.status_code == 403 and why in refused.json()["error"]["message"]
    assert budget.spent(ME) == 0.0


def test_single_orders_journeys_and_campaign_rois_are_refused(site: Site, budget: Any) -> None:
    site.state.extras.pop("dp_budget")
    try:
        with site.client(site.keys[ME]) as c:
            order = c.get("/api/v1/orders", params={"limit": 1}).json()["orders"][0]["order_id"]
            note = c.get("/api/v1/notes").json()["notes"][0]["note_id"]
            camp = c.get("/api/v1/campaigns").json()["campaigns"][0]["campaign_id"]
    finally:
        site.state.extras["dp_budget"] = budget
    with site.client(site.keys[ME]) as c:
        for path, why in (
            (f"/api/v1/orders/{order}", "one order"),
            (f"/api/v1/orders/{order}/journey", "one order"),
            (f"/api/v1/notes/{note}/orders", "one order"),
            (f"/api/v1/campaigns/{camp}/roi", "campaign ROI"),
        ):
            refused = c.get(path)
            assert refused.status_code == 403 and why in refused.json()["error"]["message"], path
    with site.client(site.keys[OTHER]) as c:  # tenancy: another brand's ids are the 404 they always were
        for path in (f"/api/v1/orders/{order}", f"/api/v1/notes/{note}", f"/api/v1/campaigns/{camp}/roi"):
            assert c.get(path).status_code == 404, path


def test_an_exhausted_budget_refuses_the_noisy_endpoints(site: Site, budget: Any) -> None:
    from hongmao.cleanroom.budget import Budget

    site.state.extras["dp_budget"] = Budget(site.state.data_dir, total=0.5, per_query=0.5)
    with site.client(site.keys[ME]) as c:
        assert c.get("/api/v1/reports/timeseries", params={"range": "7d"}).status_code == 200  # spends it all
        for path in ("/api/v1/reports/economics", "/api/v1/notes", "/api/v1/items", "/api/v1/reports/timeseries"):
            refused = c.get(path)
            assert refused.status_code == 403, path
            assert "epsilon 0.5 of 0.5 used" in refused.json()["error"]["message"], path
    with site.client(site.keys[OTHER]) as c:  # another brand's budget is its own
        assert c.get("/api/v1/notes").status_code == 200


def test_the_people_contributions_add_up_to_the_daily_series_and_the_items(site: Site) -> None:
    from hongmao.cleanroom import contributions
    from hongmao.reports.period import WHOLE_LAKE
    from hongmao.reports.scope import Scope

    reports, scope = site.state.reports, Scope(brand=ME)
    per = contributions.daily(reports, scope, WHOLE_LAKE)
    days = reports.timeseries(scope, window=WHOLE_LAKE)
    assert sum(1 for d in days if d["orders"]) >= 2
    for day in days:
        for f in contributions.DAY_FIGURES:
            got = sum(mine.get(day["day"], {}).get(f, 0.0) for mine in per.values())
            assert got == pytest.approx(day[f], abs=1e-6), (day["day"], f)
        assert sum(1 for mine in per.values() if day["day"] in mine) == day["buyers"]
    bought = contributions.items(reports, scope, WHOLE_LAKE)
    for item in reports.items(scope, unsuppressed=True):
        for f in contributions.ITEM_FIGURES:
            got = sum(mine.get(item["item_id"], {}).get(f, 0.0) for mine in bought.values())
            assert got == pytest.approx(item[f], abs=1e-6), (item["item_id"], f)


def test_the_clamp_bounds_are_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: Site) -> None:
    from hongmao import settings
    from hongmao.cleanroom.budget import EVENTS_BOUND, GMV_BOUND, ORDERS_BOUND, Budget
    from hongmao.errors import ConfigError

    assert settings.SETTINGS["dp_events_bound"].env == "HONGMAO_DP_EVENTS_BOUND"
    assert settings.SETTINGS["dp_gmv_bound"].env == "HONGMAO_DP_GMV_BOUND"
    assert settings.SETTINGS["dp_orders_bound"].env == "HONGMAO_DP_ORDERS_BOUND"
    monkeypatch.setenv("HONGMAO_DP_EPSILON", "2")
    monkeypatch.delenv("HONGMAO_DP_GMV_BOUND", raising=False)
    monkeypatch.delenv("HONGMAO_DP_ORDERS_BOUND", raising=False)
    monkeypatch.delenv("HONGMAO_DP_EVENTS_BOUND", raising=False)
    found = Budget.from_settings(tmp_path)
    assert found is not None and (found.gmv_bound, found.orders_bound) == (GMV_BOUND, ORDERS_BOUND) == (2000.0, 5.0)
    assert found.events_bound == EVENTS_BOUND == 20.0
    monkeypatch.setenv("HONGMAO_DP_GMV_BOUND", "800")
    monkeypatch.setenv("HONGMAO_DP_ORDERS_BOUND", "3")
    monkeypatch.setenv("HONGMAO_DP_EVENTS_BOUND", "7")
    found = Budget.from_settings(tmp_path)
    assert found is not None and (found.gmv_bound, found.orders_bound, found.events_bound) == (800.0, 3.0, 7.0)
    monkeypatch.setenv("HONGMAO_DP_EVENTS_BOUND", "0")
    with pytest.raises(ConfigError, match="dp_events_bound"):
        Budget.from_settings(tmp_path)
    monkeypatch.delenv("HONGMAO_DP_EVENTS_BOUND")
    for bad in ("lots", "0", "-5", "inf", "nan"):
        monkeypatch.setenv("HONGMAO_DP_GMV_BOUND", bad)
        with pytest.raises(ConfigError, match="dp_gmv_bound"):
            Budget.from_settings(tmp_path)
    # The bound in force is the one every noisy figure uses and states.
    site.state.extras["dp_budget"] = Budget(
        site.state.data_dir, total=1000.0, gmv_bound=123.0, orders_bound=2.0, events_bound=4.0
    )
    try:
        with site.client(site.keys[ME]) as c:
            mech = c.get("/api/v1/reports/attribution", params={"by": "brand", "range": "30d"}).json()["dp"]
            days = c.get("/api/v1/reports/timeseries", params={"range": "30d"}).json()["dp"]
    finally:
        site.state.extras.pop("dp_budget", None)
        (site.state.data_dir / "dp-ledger.jsonl").unlink(missing_ok=True)
    assert mech["mechanisms"]["rows.gmv"]["bound"] == 123.0 and mech["mechanisms"]["orders"]["bound"] == 2.0
    assert days["mechanisms"]["days.gmv"]["bound"] == 123.0 and days["mechanisms"]["days.orders"]["bound"] == 2.0
    assert {m["bound"] for name, m in days["mechanisms"].items() if "impressions" in name} == {4.0}
