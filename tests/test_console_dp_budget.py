"""Under the differential-privacy budget the console's brand pages obey it as the API does: the overview, the
funnel and the notes, creators and campaigns tables (and their CSV) are noisy and charged to the brand, each
page as much as its API twins; what the API refuses (the model comparison, a campaign's ROI story, an order's
journey, single orders) is a 403 page saying why, in Chinese first; a page seen again, in another language or
sorted otherwise is not charged again; operators stay exact and are never charged."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest

from webkit import Client, Site, console_client, dp_budget, lake_copy, running_site

pytest.importorskip("opendp")

ME, OTHER = "lumiere", "beibei"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path_factory.mktemp("console-dp") / "lake"), privacy_k=1) as s:
        yield s


@pytest.fixture
def budget(site: Site) -> Iterator[Any]:
    with dp_budget(site) as found:
        yield found


@pytest.fixture
def brand(site: Site) -> Iterator[Client]:
    c = console_client(site, site.keys[ME])
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def operator(site: Site) -> Iterator[Client]:
    c = console_client(site, site.operator)
    try:
        yield c
    finally:
        c.close()


def _rows(c: Client, path: str, **params: str) -> list[dict[str, str]]:
    got = c.get(path, params=params)
    assert got.status_code == 200, got.text
    return list(csv.DictReader(io.StringIO(got.text.lstrip("\ufeff"))))


def _kpis(html: str) -> list[str]:
    return re.findall(r'<div class="kpi[^"]*"><span>[^<]*</span><b>([^<]*)</b>', html)


def _charge(budget: Any, c: Client, path: str, **params: str) -> tuple[Any, float]:
    """A page or answer that must be a 200, and what it cost the brand (never another brand)."""
    before, other = budget.spent(ME), budget.spent(OTHER)
    got = c.get(path, params=params)
    assert got.status_code == 200, (path, got.text[:300])
    assert budget.spent(OTHER) == other
    return got, budget.spent(ME) - before


@pytest.mark.parametrize(
    ("path", "key", "figures"),
    [
        ("/console/notes.csv", "note_id", ("orders", "gmv", "net_gmv")),
        ("/console/creators.csv", "creator_id", ("orders", "net_gmv")),
        ("/console/campaigns.csv", "campaign_id", ("orders", "gmv", "net_gmv")),
    ],
)
def test_the_tables_are_noisy_for_a_brand_and_exact_for_operators(
    site: Site, budget: Any, brand: Client, operator: Client, path: str, key: str, figures: tuple[str, ...]
) -> None:
    exact = _rows(operator, path, brand=ME)
    assert budget.spent(ME) == 0.0  # operators are never charged
    _, cost = _charge(budget, brand, path)
    noisy = _rows(brand, path)
    assert cost > 0
    by_key = {r[key]: r for r in exact}
    assert sorted(by_key) == sorted(r[key] for r in noisy)  # the same rows, ordered by their noisy net GMV
    pairs = [(n[f], by_key[n[key]][f]) for n in noisy for f in figures if by_key[n[key]][f] not in ("", "0", "0.0")]
    assert pairs and all(float(a) != float(b) for a, b in pairs)
    assert all(r.get("buyers", "") == "" for r in noisy)  # the exact buyers are not released
    assert _rows(operator, path, brand=ME) == exact


def test_the_overview_and_funnel_are_noisy_and_cost_what_their_api_twins_cost(
    site: Site, budget: Any, brand: Client, operator: Client
) -> None:
    exact = _kpis(operator.get("/console/", params={"brand": ME}).text)
    page, cost = _charge(budget, brand, "/console/")
    noisy = _kpis(page.text)
    assert noisy[0] == exact[0]  # the brand's own spend stays exact
    assert noisy[1:] != exact[1:] and len(noisy) == len(exact)
    assert 'id="orders_refused"' in page.text and 'id="orders"' not in page.text
    assert 'id="dp_notice"' in page.text and "差分隐私预算" in page.text
    assert 'id="dp_notice"' in brand.get("/console/links").text  # links' clicks are the budget's too (issue 18)
    with site.client(site.keys[ME]) as api:
        _, twin = _charge(budget, api, "/api/v1/reports/overview")
        _, series = _charge(budget, api, "/api/v1/reports/timeseries")
    assert cost == pytest.approx(twin + series) and twin > 0 and series > 0
    _, funnel = _charge(budget, brand, "/console/funnel")
    with site.client(site.keys[ME]) as api:
        _, twin = _charge(budget, api, "/api/v1/reports/funnel")
    assert funnel == pytest.approx(twin) and funnel > 0
    _, notes = _charge(budget, brand, "/console/notes")
    with site.client(site.keys[ME]) as api:
        _, twin = _charge(budget, api, "/api/v1/reports/attribution")
    assert notes == pytest.approx(twin) and notes > 0
    _, creators = _charge(budget, brand, "/console/creators")
    with site.client(site.keys[ME]) as api:
        twins = [_charge(budget, api, "/api/v1/reports/economics", by=by)[1] for by in ("creator", "note")]
    assert creators == pytest.approx(sum(twins)) and creators > 0


def test_a_page_seen_again_in_another_language_or_order_costs_nothing(site: Site, budget: Any, brand: Client) -> None:
    _, cost = _charge(budget, brand, "/console/notes")
    assert cost > 0
    for params in ({}, {"lang": "en"}, {"sort": "orders", "dir": "asc"}, {"lang": "zh"}):
        _, again = _charge(budget, brand, "/console/notes", **params)
        assert again == 0.0, params
    _, other_model = _charge(budget, brand, "/console/notes", model="first")
    assert other_model > 0  # another model's figures are another release, never the first's reused


def _ids(site: Site) -> tuple[str, str]:
    with site.client(site.operator) as api:
        order = api.get("/api/v1/orders", params={"brand": ME, "limit": 1}).json()["orders"][0]["order_id"]
        campaign = api.get("/api/v1/campaigns", params={"brand": ME}).json()["campaigns"][0]["campaign_id"]
    return order, campaign


def test_what_the_api_refuses_is_a_403_page_saying_why(
    site: Site, budget: Any, brand: Client, operator: Client
) -> None:
    order, campaign = _ids(site)
    pages = {
        "/console/models": "model comparison",
        f"/console/orders/{order}": "one order",
        f"/console/campaigns/{campaign}": "campaign ROI story",
    }
    for path, why in pages.items():
        zh = brand.get(path, params={"lang": "zh"})
        assert zh.status_code == 403, path
        assert 'lang="zh-CN"' in zh.text and "差分隐私预算下不提供此页面" in zh.text and why in zh.text, path
        en = brand.get(path, params={"lang": "en"})
        assert en.status_code == 403 and "Not shown under the differential-privacy budget" in en.text, path
        assert operator.get(path, params={"brand": ME, "lang": "zh"}).status_code == 200, path
    campaigns = brand.get("/console/campaigns")
    assert campaigns.status_code == 200 and 'id="roi_refused"' in campaigns.text
    assert budget.spent(ME) > 0  # the campaigns table itself was charged
    before = budget.spent(ME)
    for path in pages:
        brand.get(path)
    assert budget.spent(ME) == before  # a refusal costs nothing


def test_an_exhausted_budget_refuses_the_noisy_pages(site: Site, budget: Any, brand: Client) -> None:
    site.state.extras["dp_budget"] = dataclasses.replace(budget, total=0.4)  # less than one release
    page = brand.get("/console/funnel")
    assert page.status_code == 403 and "差分隐私预算下不提供此页面" in page.text
    assert budget.spent(ME) == 0.0


def test_without_a_budget_the_brand_pages_are_exact_and_unrefused(site: Site, operator: Client, brand: Client) -> None:
    assert "dp_budget" not in site.state.extras or site.state.extras["dp_budget"] is None
    assert brand.get("/console/models").status_code == 200
    assert 'id="dp_notice"' not in brand.get("/console/").text
    assert _rows(brand, "/console/notes.csv") and brand.get("/console/campaigns").status_code == 200
