"""The console offers the fitted models under their names with what a statistician needs beside the credit: the
baseline a model leaves to no note (the orders it expects anyway) and, for the data-driven model, each note's
interval of its orders; a brand key's withheld as the rows and totals they belong to are."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from webkit import Site, console_client, lake_copy, running_site

ME = "lumiere"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path_factory.mktemp("fitted") / "lake"), privacy_k=1) as s:
        yield s


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path_factory.mktemp("fitted-strict") / "lake"), privacy_k=1000) as s:
        yield s


def _page(site: Site, key: str, url: str, **params: Any) -> str:
    c = console_client(site, key)
    try:
        got = c.get(url, params=params)
        assert got.status_code == 200, got.text
        return got.text
    finally:
        c.close()


def test_a_withheld_row_loses_its_interval_with_its_figures() -> None:
    from hongmao.reports import privacy

    rows = [
        {"key": "a", "orders": 30.0, "gmv": 3.0, "net_gmv": 3.0, "orders_low": 20.0, "orders_high": 41.0},
        {"key": "b", "orders": 2.0, "gmv": 1.0, "net_gmv": 1.0, "orders_low": 0.5, "orders_high": 4.0},
        {"key": "c", "orders": 40.0, "gmv": 4.0, "net_gmv": 4.0, "orders_low": 31.0, "orders_high": 52.0},
    ]
    out = {r["key"]: r for r in privacy.withhold_rows(rows, "key", {"a": 12, "b": 2, "c": 30}, 10)[0]}
    assert out["b"]["orders_low"] is None and out["b"]["orders_high"] is None  # under k
    assert out["a"]["orders_low"] is None  # the smallest at or above k, withheld with it
    assert out["c"]["orders_low"] == 31.0 and out["c"]["orders_high"] == 52.0
    assert out["(withheld)"]["orders"] == 32.0 and out["(withheld)"]["orders_low"] is None  # bounds do not add


def test_the_notes_page_shows_a_fitted_models_baseline_and_a_rule_model_none(site: Site) -> None:
    from hongmao.reports.scope import Scope

    result = site.state.reports.attribution(Scope(ME), "note", "hazard")
    assert result.baseline_orders, "the hazard model left nothing to the baseline: the test would prove nothing"
    page = _page(site, site.keys[ME], "/console/notes", model="hazard", lang="en")
    assert 'id="baseline"' in page and f"{result.baseline_orders:,.1f} orders" in page
    assert f"{result.baseline_orders / result.total_orders:.1%}" in page
    assert 'id="baseline"' not in _page(site, site.keys[ME], "/console/notes", model="linear")
    assert "基线" in _page(site, site.keys[ME], "/console/creators", model="hazard", lang="zh")


def test_a_brand_key_under_k_sees_the_baseline_withheld(strict: Site) -> None:
    page = _page(strict, strict.keys[ME], "/console/notes", model="hazard", lang="en")
    assert 'id="baseline"' in page and "Baseline: fewer than 1000 people, hidden" in page
    op = _page(strict, strict.operator, "/console/notes", model="hazard", lang="en", brand=ME)
    assert "orders (" in op and "would have happened anyway" in op


def test_the_data_driven_models_intervals_are_columns_of_the_notes_table(site: Site) -> None:
    from hongmao.reports.scope import Scope

    notes = site.state.reports.notes(Scope(ME), "datadriven")
    bounded = [n for n in notes if n.get("orders_low") is not None]
    assert bounded and all(n["orders_low"] <= n["orders"] <= n["orders_high"] for n in bounded)
    page = _page(site, site.keys[ME], "/console/notes", model="datadriven", lang="en")
    assert "Orders, 90% interval low" in page and "Orders, 90% interval high" in page
    assert "Orders, 90% interval low" not in _page(site, site.keys[ME], "/console/notes", model="hazard", lang="en")
