"""Outputs that reveal no one: a brand key's attribution rows, notes, creators, journeys and exports withhold
what rests on fewer than k people, and say so; an operator's do not; with k = 1 nothing is withheld."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from webkit import Client, Site, lake_copy, running_site

ME = "lumiere"


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path_factory.mktemp("privacy") / "lake"), privacy_k=1000) as s:
        yield s


@pytest.fixture(scope="module")
def open_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path_factory.mktemp("open") / "lake"), privacy_k=1) as s:
        yield s


def _get(site: Site, key: str, url: str) -> Any:
    return site.answer(key, url)


def _orders(site: Site) -> list[str]:
    from hongmao.reports.scope import Scope

    return sorted(site.state.reports.ownership(Scope(ME)).orders)


@pytest.mark.parametrize("by", ["note", "creator"])
def test_a_brand_key_sees_attribution_rows_under_k_withheld_and_why(strict: Site, by: str) -> None:
    brand = _get(strict, strict.keys[ME], f"/api/v1/reports/attribution?by={by}")
    op = _get(strict, strict.operator, f"/api/v1/reports/attribution?by={by}&brand={ME}")
    assert any(r["orders"] for r in op["rows"]), "the fixture credits nothing: the test would prove nothing"
    assert all("suppressed" not in r for r in op["rows"]), "an operator's rows are never withheld"
    withheld = [r for r in brand["rows"] if r["suppressed"]]
    assert withheld, "k = 1000 on a small lake withholds rows"
    for r in withheld:
        assert r["orders"] is None and r["gmv"] is None and r["net_gmv"] is None and r["buyers"] is None
        assert "1000" in r["suppressed"]
    # The keys stay (a brand knows its own notes), the figures do not.
    assert {r["key"] for r in op["rows"]} <= {r["key"] for r in brand["rows"]}


def test_withheld_rows_cannot_be_subtracted_back_from_the_totals(strict: Site) -> None:
    brand = _get(strict, strict.keys[ME], "/api/v1/reports/attribution?by=note")
    shown = [r for r in brand["rows"] if not r["suppressed"]]
    pool = [r for r in brand["rows"] if r["key"] == "(withheld)"]
    # Every row under k: the pool itself is under k, so it and the totals are withheld too.
    assert not shown and brand["orders"] is None and brand["total_orders"] is None
    assert pool and pool[0]["orders"] is None


def test_a_pool_under_k_takes_the_smallest_shown_row_with_it() -> None:
    from hongmao.reports import privacy

    rows: list[dict[str, Any]] = [
        {"key": "a", "orders": 9.0, "gmv": 90.0, "net_gmv": 90.0},
        {"key": "b", "orders": 5.0, "gmv": 50.0, "net_gmv": 50.0},
        {"key": "c", "orders": 1.0, "gmv": 10.0, "net_gmv": 10.0},
        {"key": "d", "orders": 0.0, "gmv": 0.0, "net_gmv": 0.0},
    ]
    out, under = privacy.withhold_rows(rows, "key", {"a": 12, "b": 11, "c": 2}, k=10)
    by = {r["key"]: r for r in out}
    assert not under
    assert by["a"]["orders"] == 9.0 and by["d"]["orders"] == 0.0  # a zero reveals no one
    assert by["b"]["orders"] is None and by["c"]["orders"] is None  # c under k; b withheld with it
    assert by["(withheld)"]["orders"] == 6.0 and by["(withheld)"]["rows"] == 2
    # The totals less the rows shown give the pool, never c alone.
    assert sum(r["orders"] for r in rows) - by["a"]["orders"] - by["d"]["orders"] == by["(withheld)"]["orders"]


def test_a_brand_keys_journey_is_withheld_and_an_operators_is_not(strict: Site) -> None:
    order = _orders(strict)[0]
    brand = _get(strict, strict.keys[ME], f"/api/v1/orders/{order}/journey")
    assert brand["touches"] is None and brand["amount"] is None and "one person" in brand["suppressed"]
    op = _get(strict, strict.operator, f"/api/v1/orders/{order}/journey?brand={ME}")
    assert isinstance(op["touches"], list) and op["amount"] is not None


def test_notes_and_creators_withhold_their_credit(strict: Site) -> None:
    notes = _get(strict, strict.keys[ME], "/api/v1/notes")["notes"]
    assert any(n["suppressed"] and n["orders"] is None for n in notes)
    creators = _get(strict, strict.keys[ME], "/api/v1/creators")["creators"]
    assert any(c["suppressed"] and c["net_gmv"] is None for c in creators)
    op = _get(strict, strict.operator, f"/api/v1/notes?brand={ME}")["notes"]
    assert all(isinstance(n["orders"], float) for n in op)


def test_the_csv_export_is_withheld_too(strict: Site) -> None:
    text = _get(strict, strict.keys[ME], "/api/v1/reports/attribution?by=note&format=csv")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    withheld = [r for r in rows if r["suppressed"]]
    assert withheld and all(r["orders"] == "" and r["net_gmv"] == "" for r in withheld)


def test_with_k_1_nothing_is_withheld(open_site: Site) -> None:
    brand = _get(open_site, open_site.keys[ME], "/api/v1/reports/attribution?by=note")
    assert brand["rows"] and not any(r["suppressed"] for r in brand["rows"])
    assert brand["orders"] is not None
    order = _orders(open_site)[0]
    journey = _get(open_site, open_site.keys[ME], f"/api/v1/orders/{order}/journey")
    assert journey["suppressed"] is None and isinstance(journey["touches"], list)


def test_the_console_withholds_a_brand_keys_tables_journeys_and_exports(strict: Site) -> None:
    from webkit import console_client

    order = _orders(strict)[0]
    brand = console_client(strict, strict.keys[ME])
    try:
        page = brand.get(f"/console/orders/{order}")
        assert page.status_code == 200 and 'id="journey-withheld"' in page.text and 'id="journey"' not in page.text
        notes = brand.get("/console/notes")
        assert notes.status_code == 200 and 'class="suppressed"' in notes.text
        assert brand.get("/console/creators").status_code == 200
        export = list(csv.DictReader(io.StringIO(brand.get("/console/notes.csv").text.lstrip("\ufeff"))))
        assert any(r["suppressed"] and r["net_gmv"] == "" for r in export)
    finally:
        brand.close()
    op = console_client(strict, strict.operator)
    try:
        assert op.get(f"/console/orders/{order}").text.count('id="journey-withheld"') == 0
        export = list(csv.DictReader(io.StringIO(op.get("/console/notes.csv").text.lstrip("\ufeff"))))
        assert export and "suppressed" not in export[0]
    finally:
        op.close()


def test_the_funnels_people_counts_are_withheld_for_a_brand_key_only(strict: Site) -> None:
    brand = _get(strict, strict.keys[ME], "/api/v1/reports/funnel")
    op = _get(strict, strict.operator, f"/api/v1/reports/funnel?brand={ME}")
    assert op["readers"], "the fixture has no readers: the test would prove nothing"
    assert brand["readers"] is None and "readers" in brand["suppressed"] and brand["privacy_k"] == 1000
    assert op["suppressed"] == [] and op["impressions"]  # an operator sees every count
    # Events are someone's too: impressions made by fewer than k people are withheld (test_web_privacy_activity).
    assert brand["impressions"] is None and "impressions" in brand["suppressed"]


def test_which_notes_one_order_came_from_is_withheld_for_a_brand_key(strict: Site, open_site: Site) -> None:
    key = strict.keys[ME]
    listed = _get(strict, key, "/api/v1/orders?limit=5")["orders"]
    assert listed and all(o["credits"] is None and o["suppressed"] and o["amount"] is not None for o in listed)
    one = _get(strict, key, f"/api/v1/orders/{listed[0]['order_id']}")
    assert one["credits"] is None and one["suppressed"]
    op = _get(strict, strict.operator, f"/api/v1/orders?limit=5&brand={ME}")["orders"]
    assert all(isinstance(o["credits"], list) for o in op)
    credited = [
        n["note_id"] for n in _get(strict, strict.operator, f"/api/v1/notes?brand={ME}")["notes"] if n["orders"]
    ]
    assert credited, "no note is credited: the test would prove nothing"
    withheld = _get(strict, key, f"/api/v1/notes/{credited[0]}/orders")
    assert withheld["orders"] is None and "one person" in withheld["suppressed"]
    assert _get(strict, strict.operator, f"/api/v1/notes/{credited[0]}/orders?brand={ME}")["orders"]
    assert _get(open_site, open_site.keys[ME], f"/api/v1/notes/{credited[0]}/orders")["orders"]


def test_the_consoles_order_lists_withhold_their_credited_notes(strict: Site) -> None:
    from webkit import console_client

    credited = [
        n["note_id"] for n in _get(strict, strict.operator, f"/api/v1/notes?brand={ME}")["notes"] if n["orders"]
    ]
    brand = console_client(strict, strict.keys[ME])
    try:
        assert 'class="muted withheld"' in brand.get("/console/").text
        assert 'id="note_orders_withheld"' in brand.get(f"/console/notes/{credited[0]}").text
    finally:
        brand.close()
    op = console_client(strict, strict.operator)
    try:
        assert 'class="muted withheld"' not in op.get("/console/").text
    finally:
        op.close()


def test_economics_and_the_drill_down_pages_withhold_credit_for_a_brand_key(strict: Site) -> None:
    from webkit import console_client

    rows = _get(strict, strict.keys[ME], "/api/v1/reports/economics?by=creator")["rows"]
    withheld = [r for r in rows if r["suppressed"] and r["buyers"] is None]  # credit withheld, not activity alone
    assert withheld and all(r["net_gmv"] is None and r["attributed_roi"] is None for r in withheld)
    text = _get(strict, strict.keys[ME], "/api/v1/reports/economics?by=note&format=csv")
    assert any(r["suppressed"] for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    op = _get(strict, strict.operator, f"/api/v1/reports/economics?by=creator&brand={ME}")["rows"]
    assert op and all("suppressed" not in r for r in op)
    creator, note = withheld[0]["creator_id"], _get(strict, strict.keys[ME], "/api/v1/notes")["notes"][0]["note_id"]
    brand = console_client(strict, strict.keys[ME])
    try:
        for url in (
            f"/console/creators/{creator}",
            f"/console/notes/{note}",
            "/console/creators",
            "/console/campaigns",
        ):
            assert brand.get(url).status_code == 200, url
    finally:
        brand.close()


def test_the_model_comparison_withholds_what_any_models_answer_withholds(strict: Site) -> None:
    from webkit import console_client

    brand = _get(strict, strict.keys[ME], "/api/v1/reports/compare?models=last,linear")
    gone = [r for r in brand["rows"] if r["suppressed"]]
    assert gone and all(set(r["net_gmv"].values()) == {None} for r in gone)
    assert set(brand["total_orders"].values()) == {None}
    op = _get(strict, strict.operator, f"/api/v1/reports/compare?models=last,linear&brand={ME}")
    assert all("suppressed" not in r for r in op["rows"]) and None not in op["total_orders"].values()
    c = console_client(strict, strict.keys[ME])
    try:
        page = c.get("/console/models")
        assert page.status_code == 200 and 'class="suppressed"' in page.text
    finally:
        c.close()


def test_campaign_rows_withhold_their_credit_for_a_brand_key(strict: Site) -> None:
    rows = _get(strict, strict.keys[ME], "/api/v1/campaigns")["campaigns"]
    op = _get(strict, strict.operator, f"/api/v1/campaigns?brand={ME}")["campaigns"]
    assert any(r["orders"] for r in op), "no campaign is credited: the test would prove nothing"
    assert any(r["suppressed"] and r["net_gmv"] is None and r["attributed_roi"] is None for r in rows)
    assert all("suppressed" not in r for r in op)


def test_every_answer_over_the_same_buyers_withholds_the_same_keys() -> None:
    from hongmao.reports import privacy

    buyers = {"a": 30, "b": 12, "c": 3, "x": 11}
    full = [{"key": key, "orders": 1.0, "gmv": 1.0, "net_gmv": float(n)} for key, n in buyers.items()]
    part = [r for r in full if r["key"] != "x"]  # a listing without one key (say, a note with no activity row)
    gone = {
        tuple(
            sorted(
                r["key"]
                for r in privacy.withhold_rows(rows, "key", buyers, 10)[0]
                if r["suppressed"] and r["key"] != "(withheld)"
            )
        )
        for rows in (full, part)
    }
    assert gone == {("c", "x"), ("c",)}  # never b in one answer and not in the other
    folded = privacy.withhold_rows(part, "key", buyers, 10)[0][-1]
    assert folded["key"] == "(withheld)" and folded["orders"] is None  # c alone is no pool
    assert privacy.pool(buyers, 10) == (frozenset({"c", "x"}), False)
    assert privacy.pool({"c": 3}, 10) == (frozenset({"c"}), True)
    assert privacy.pool({"c": 0, "a": 30}, 10) == (frozenset(), False)


def test_the_campaign_roi_story_withholds_attributed_figures_for_a_brand_key(strict: Site) -> None:
    from webkit import console_client

    story = _get(strict, strict.keys[ME], "/api/v1/reports/campaign-roi")["campaigns"]
    op = _get(strict, strict.operator, f"/api/v1/reports/campaign-roi?brand={ME}")["campaigns"]
    assert any(c["attributed"]["orders"] for c in op), "no campaign is credited: the test would prove nothing"
    gone = [c for c in story if c["suppressed"]]
    assert gone and all(c["attributed"]["net_gmv"] is None and c["at_cycle"] is None for c in gone)
    assert all("suppressed" not in c for c in op)
    one = _get(strict, strict.keys[ME], f"/api/v1/campaigns/{gone[0]['campaign_id']}/roi")
    assert one["attributed"]["roi"] is None
    c = console_client(strict, strict.keys[ME])
    try:
        page = c.get(f"/console/campaigns/{gone[0]['campaign_id']}")
        assert page.status_code == 200 and "withheld" in page.text
    finally:
        c.close()


def test_items_withhold_their_orders_for_a_brand_key_and_operators_see_them(strict: Site, open_site: Site) -> None:
    from hongmao.reports.scope import Scope

    raw = strict.state.reports.items(Scope(ME), unsuppressed=True)
    sold = {r["item_id"] for r in raw if r["orders"]}
    assert sold, "no item sold: the test would prove nothing"
    assert all(r["buyers"] <= r["orders"] for r in raw) and "suppressed" not in raw[0]
    listed = _get(strict, strict.keys[ME], "/api/v1/items")["items"]
    assert {r["item_id"] for r in listed} == {r["item_id"] for r in raw}  # the brand's own items stay listed
    for r in listed:
        if r["item_id"] in sold:
            assert r["orders"] is None and r["gmv"] is None and r["buyers"] is None and "1000" in r["suppressed"]
    assert all(r["title"] == s["title"] for r, s in zip(listed, raw, strict=True))
    assert not any(r["suppressed"] for r in _get(open_site, open_site.keys[ME], "/api/v1/items")["items"])
    operator = {r["item_id"]: r for r in _get(strict, strict.operator, "/api/v1/items")["items"]}
    assert all(operator[r["item_id"]]["orders"] == r["orders"] for r in raw)  # operators see every figure
    one = next(iter(sold))
    assert _get(strict, strict.operator, f"/api/v1/items/{one}")["orders"] == operator[one]["orders"]
    assert _get(strict, strict.keys[ME], f"/api/v1/items/{one}")["orders"] is None


def test_a_pool_of_days_or_items_under_k_takes_the_smallest_at_or_above_k() -> None:
    from hongmao.reports import privacy

    days = [
        {"day": "2025-06-01", "orders": 12, "gmv": 1.0, "buyers": 12, "attributed_orders": 2, "attributed_buyers": 2},
        {"day": "2025-06-02", "orders": 3, "gmv": 1.0, "buyers": 3, "attributed_orders": 1, "attributed_buyers": 1},
        {"day": "2025-06-03", "orders": 0, "gmv": 0.0, "buyers": 0, "attributed_orders": 0, "attributed_buyers": 0},
        {"day": "2025-06-04", "orders": 25, "gmv": 1.0, "buyers": 20, "attributed_orders": 15, "attributed_buyers": 11},
        {"day": "2025-06-05", "orders": 30, "gmv": 1.0, "buyers": 30, "attributed_orders": 12, "attributed_buyers": 12},
    ]
    out = {d["day"][-2:]: d for d in privacy.timeseries(days, 10)}
    # Sales: 02 under k, 01 (the smallest at or above k) with it; a zero reveals no one; 04 and 05 shown.
    assert out["02"]["orders"] is None and out["01"]["orders"] is None and out["01"]["gmv"] is None
    assert out["03"]["orders"] == 0 and out["04"]["orders"] == 25 and out["05"]["orders"] == 30
    # Attributed: 01 and 02 under k, 04 (11 people, the smallest at or above k) with them; 05 shown.
    assert out["04"]["attributed_orders"] is None and out["04"]["orders"] == 25
    assert out["05"]["attributed_orders"] == 12 and out["05"]["suppressed"] is None
    assert out["04"]["suppressed"] == "fewer than 10 people" and "attributed_buyers" in out["04"]["withheld"]
    items = privacy.items([{"item_id": "a", "orders": 4, "gmv": 9.0, "buyers": 4}, {"item_id": "b", "buyers": 0}], 5)
    assert items[0]["orders"] is None and items[0]["suppressed"] and items[1]["suppressed"] is None


def test_the_overview_withholds_totals_on_fewer_than_k_buyers() -> None:
    from hongmao.reports import privacy

    raw = {"orders": 40, "gmv": 9.0, "refunded": 0.0, "net_gmv": 9.0, "buyers": 30, "spend": 5.0}
    raw |= {"attributed_orders": 3.0, "attributed_gmv": 1.0, "attributed_net_gmv": 1.0, "attributed_roi": 0.2}
    raw |= {"attributed_buyers": 3, "new_customers": 2, "new_customer_share": 2 / 3}
    some = privacy.overview(raw, 10)
    assert some["orders"] == 40 and some["spend"] == 5.0  # 30 buyers
    assert some["attributed_gmv"] is None and some["attributed_roi"] is None and some["new_customers"] is None
    assert "attributed_orders" in some["suppressed"] and "orders" not in some["suppressed"]
    none = privacy.overview(raw, 31)
    assert none["orders"] is None and none["buyers"] is None and none["spend"] == 5.0
    assert privacy.overview(raw, 3)["suppressed"] == []


def test_the_daily_series_and_the_overview_are_withheld_for_a_brand_key(strict: Site) -> None:
    series = _get(strict, strict.keys[ME], "/api/v1/reports/timeseries")
    op = _get(strict, strict.operator, f"/api/v1/reports/timeseries?brand={ME}")["days"]
    assert any(d["orders"] for d in op), "no day has orders: the test would prove nothing"
    assert series["privacy_k"] == 1000 and len(series["days"]) == len(op)
    for mine, full in zip(series["days"], op, strict=True):
        assert mine["spend"] == full["spend"]  # the brand's own
        assert mine["impressions"] is None if full["impressions"] else mine["impressions"] == 0  # under k people
        if full["buyers"]:
            assert mine["orders"] is None and mine["gmv"] is None and "1000" in mine["suppressed"]
    assert all("suppressed" not in d and isinstance(d["orders"], int) for d in op)
    text = _get(strict, strict.keys[ME], "/api/v1/reports/timeseries?format=csv")
    assert any(r["suppressed"] and r["orders"] == "" for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    brand = _get(strict, strict.keys[ME], "/api/v1/reports/overview")
    full = _get(strict, strict.operator, f"/api/v1/reports/overview?brand={ME}")
    assert full["orders"] and full["suppressed"] == [] and full["attributed_buyers"] is not None
    assert brand["orders"] is None and brand["gmv"] is None and brand["attributed_net_gmv"] is None
    assert {"orders", "net_gmv", "attributed_roi"} <= set(brand["suppressed"]) and brand["spend"] == full["spend"]


def test_every_brand_key_report_query_is_audited_and_operators_read_the_log(strict: Site) -> None:
    from hongmao.reports.scope import Scope

    _get(strict, strict.keys[ME], "/api/v1/reports/attribution?by=creator&model=last")
    _get(strict, strict.keys[ME], "/api/v1/reports/funnel?range=7d")
    _get(strict, strict.operator, f"/api/v1/reports/attribution?by=creator&brand={ME}")
    log = _get(strict, strict.operator, "/api/v1/reports/audit?report=attribution")["lines"]
    mine = [x for x in log if x["params"].get("by") == "creator"]
    assert mine and all(x["principal"]["role"] == "brand" for x in log)  # operators' own queries are not logged
    line = mine[-1]
    assert line["principal"]["brand"] == ME and line["endpoint"] == "GET /api/v1/reports/attribution"
    assert line["params"] == {"brand": ME, "by": "creator", "model": "last"} and line["outcome"] == "ok"
    assert line["withheld"] >= 1 and set(line) == {"time", "principal", "endpoint", "params", "outcome", "withheld"}
    funnel = _get(strict, strict.operator, f"/api/v1/reports/audit?report=funnel&brand={ME}")["lines"]
    assert funnel and funnel[-1]["params"]["range"] == "7d" and funnel[-1]["withheld"] >= 1
    # No person's id in the log: neither buyers' pseudonyms nor any order.
    text = (strict.state.data_dir / "audit.jsonl").read_text(encoding="utf-8")
    assert not any(o in text for o in strict.state.reports.ownership(Scope(ME)).orders)
    c = Client(strict.server, strict.keys[ME])
    try:
        assert c.get("/api/v1/reports/audit").status_code == 403
    finally:
        c.close()


def test_the_console_overview_withholds_for_a_brand_and_shows_operators_everything(strict: Site) -> None:
    from hongmao.reports.scope import Scope
    from hongmao.web.console.view import money
    from webkit import console_client

    full = strict.state.reports.overview(Scope(ME), "last", unsuppressed=True)
    shown = money(full["gmv"])
    assert full["gmv"] and shown != "—"
    pages = {}
    for who, key, params in (
        ("brand", strict.keys[ME], {"model": "last"}),
        ("operator", strict.operator, {"model": "last", "brand": ME}),
    ):
        c = console_client(strict, key)
        try:
            page = c.get("/console/", params=params)
        finally:
            c.close()
        assert page.status_code == 200, page.text  # withheld days draw as gaps in the charts, not an error
        pages[who] = page.text
    assert shown not in pages["brand"]
    assert shown in pages["operator"]


def test_brand_keys_queries_of_entities_are_audited_without_order_ids(strict: Site) -> None:
    order = _orders(strict)[0]
    _get(strict, strict.keys[ME], "/api/v1/notes?model=last")
    c = Client(strict.server, strict.keys[ME])
    try:
        assert c.get(f"/api/v1/orders/{order}").status_code == 200
        assert c.get(f"/api/v1/orders/{order}/journey").status_code == 200
    finally:
        c.close()
    _get(strict, strict.operator, f"/api/v1/notes?brand={ME}")  # operators' queries are not logged
    lines = _get(strict, strict.operator, "/api/v1/reports/audit?limit=10000")["lines"]
    entity = [x for x in lines if not x["endpoint"].startswith("GET /api/v1/reports/")]
    endpoints = {x["endpoint"] for x in entity}
    assert {"GET /api/v1/notes", "GET /api/v1/orders/{order_id}", "GET /api/v1/orders/{order_id}/journey"} <= endpoints
    assert all(x["principal"]["role"] == "brand" and x["principal"]["brand"] == ME for x in entity)
    notes = [x for x in entity if x["endpoint"] == "GET /api/v1/notes"][-1]  # this test's, the newest
    assert notes["params"] == {"brand": ME, "model": "last"} and notes["outcome"] == "asked"
    assert all(x["params"]["order_id"] == "<withheld>" for x in entity if "{order_id}" in x["endpoint"])
    assert order not in (strict.state.data_dir / "audit.jsonl").read_text(encoding="utf-8")


def test_brand_keys_console_pages_are_audited_and_another_brands_ids_are_not_logged(strict: Site) -> None:
    from hongmao.reports.scope import Scope
    from webkit import console_client

    order = _orders(strict)[0]
    reports = strict.state.reports
    theirs = sorted(set(reports.ownership(Scope("beibei")).notes) - set(reports.ownership(Scope(ME)).notes))[0]
    c = console_client(strict, strict.keys[ME])
    try:
        assert c.get("/console/notes", params={"range": "7d"}).status_code == 200
        assert c.get(f"/console/orders/{order}").status_code == 200
        assert c.get(f"/console/notes/{theirs}").status_code == 404
    finally:
        c.close()
    lines = _get(strict, strict.operator, "/api/v1/reports/audit?limit=10000")["lines"]
    pages = [x for x in lines if x["endpoint"].startswith("GET /console/")]
    notes = [x for x in pages if x["endpoint"] == "GET /console/notes"][-1]
    assert notes["params"]["range"] == "7d" and notes["principal"]["brand"] == ME
    assert any(
        x["endpoint"] == "GET /console/orders/{order_id}" and x["params"]["order_id"] == "<withheld>" for x in pages
    )
    text = (strict.state.data_dir / "audit.jsonl").read_text(encoding="utf-8")
    assert order not in text and theirs not in text
