"""Date ranges and filters on every report: the parser, the API (narrower windows count less, comparison
periods, 422s naming the parameter) and the console's shared range picker."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hongmao.reports.period import Filters, Period, PeriodError, Window, check_filters, parse, previous
from webkit import Site, build_lake, console_client, running_site

NEWEST = date(2025, 6, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- the parser (pure) -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "instant", "day"),
    [
        ("Asia/Shanghai", datetime(2025, 6, 19, 15, 59), date(2025, 6, 19)),  # 23:59 in Shanghai
        ("Asia/Shanghai", datetime(2025, 6, 19, 16, 0), date(2025, 6, 20)),  # midnight in Shanghai
        ("America/New_York", datetime(2025, 3, 9, 4, 30), date(2025, 3, 8)),  # 23:30 EST, before the change
        ("America/New_York", datetime(2025, 7, 1, 3, 30), date(2025, 6, 30)),  # 23:30 EDT
        ("America/New_York", datetime(2025, 7, 1, 4, 30), date(2025, 7, 1)),  # 00:30 EDT (EST would say 23:30)
        ("America/New_York", datetime(2025, 11, 3, 4, 30), date(2025, 11, 2)),  # 23:30 EST, after the change
        ("Europe/London", datetime(2025, 8, 1, 23, 30), date(2025, 8, 2)),  # 00:30 BST
        ("Europe/London", datetime(2025, 12, 1, 23, 30), date(2025, 12, 1)),  # 23:30 GMT
    ],
)
def test_business_days_follow_the_zone_and_its_clock_changes(zone: str, instant: datetime, day: date) -> None:
    import ibis
    import pyarrow as pa

    from hongmao.reports.metrics import local_day

    tz = ZoneInfo(zone)
    assert instant.replace(tzinfo=UTC).astimezone(tz).date() == day  # the expectation agrees with zoneinfo
    t = ibis.memtable(pa.table({"t": pa.array([instant], pa.timestamp("us"))})).t
    con = ibis.duckdb.connect()
    try:
        assert con.to_pyarrow(local_day(t, tz).name("day")).to_pylist() == [day]
    finally:
        con.disconnect()


def test_presets_are_anchored_on_the_newest_day_not_the_clock() -> None:
    assert parse({}, NEWEST) == Window()
    assert parse({"range": "all"}, NEWEST).period is None
    assert parse({"range": "yesterday"}, NEWEST).period == Period(NEWEST, NEWEST, preset="yesterday")
    week = parse({"range": "7d"}, NEWEST).period
    assert week is not None and (week.start, week.end, week.days) == (date(2025, 6, 14), NEWEST, 7)
    month = parse({"range": "30d", "compare": "1"}, NEWEST).period
    assert month is not None and month.compare and month.days == 30
    assert month.previous() == Period(date(2025, 4, 22), date(2025, 5, 21))
    assert parse({"range": "7d"}, None).period is None  # an empty lake has nothing to anchor on


def test_custom_ranges_and_business_day_bounds() -> None:
    p = parse({"from": "2025-06-01", "to": "2025-06-03"}, NEWEST).period
    assert p == Period(date(2025, 6, 1), date(2025, 6, 3), preset="custom")
    lo, hi = p.bounds(SHANGHAI)
    assert lo == datetime(2025, 5, 31, 16, tzinfo=UTC) and hi == datetime(2025, 6, 3, 16, tzinfo=UTC)
    open_end = parse({"from": "2025-06-10"}, NEWEST).period
    assert open_end is not None and open_end.end == NEWEST
    window = Window(Period(date(2025, 6, 8), date(2025, 6, 14), compare=True), Filters(tier="kol"))
    before = previous(window)
    assert before is not None and before.filters == window.filters
    assert before.period == Period(date(2025, 6, 1), date(2025, 6, 7))
    assert previous(parse({"range": "7d"}, NEWEST)) is None


def test_filters_parse_to_one_spelling() -> None:
    f = parse({"touches": "click, read", "disclosed": "no", "campaign": " c-1 ", "category": "skincare"}, NEWEST)
    assert f.filters == Filters(campaign="c-1", category="skincare", touches=("read", "click"), disclosed=False)
    assert f.filters.params() == {"campaign": "c-1", "category": "skincare", "touches": "read,click", "disclosed": "no"}
    assert parse(f.filters.params(), NEWEST).filters == f.filters


def test_filters_must_name_what_the_view_holds() -> None:
    choices = {"campaigns": [{"campaign_id": "k1"}], "tiers": [{"tier": "kol"}], "items": [], "categories": []}
    assert check_filters(Filters(campaign="k1", tier="kol"), choices) == Filters(campaign="k1", tier="kol")
    with pytest.raises(PeriodError) as caught:
        check_filters(Filters(campaign="k2"), choices)
    assert caught.value.field == "campaign"
    with pytest.raises(PeriodError) as caught:
        check_filters(Filters(item="i1"), choices)
    assert caught.value.field == "item"


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"range": "fortnight"}, "range", "unknown range"),
        ({"range": "7d", "from": "2025-06-01"}, "range", "preset"),
        ({"range": "custom"}, "from", "needs from"),
        ({"from": "June 1st"}, "from", "not a date"),
        ({"from": "2025-06-10", "to": "2025-06-01"}, "to", "before"),
        ({"from": "1900-01-01", "to": "2025-06-01"}, "to", "at most"),
        ({"compare": "maybe", "range": "7d"}, "compare", "yes/no"),
        ({"compare": "yes"}, "compare", "needs a date range"),
        ({"touches": "telepathy"}, "touches", "unknown touch kind"),
        ({"touches": ","}, "touches", "at least one"),
        ({"disclosed": "sometimes"}, "disclosed", "yes/no"),
        ({"campaign": "x" * 500}, "campaign", "at most"),
    ],
)
def test_bad_parameters_name_the_field(params: dict[str, str], field: str, says: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse(params, NEWEST)
    assert caught.value.field == field and says in caught.value.reason


# --- the API on a simulated 20-day world ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    lake = build_lake(tmp_path_factory.mktemp("period"), users=300, days=20)
    with running_site(lake) as s:
        yield s


def _get(site: Site, path: str, **params: str) -> Any:
    with site.client(site.keys["lumiere"]) as c:
        r = c.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()


def test_a_week_counts_less_than_the_whole_lake_and_the_days_add_up(site: Site) -> None:
    whole = _get(site, "/api/v1/reports/overview")
    week = _get(site, "/api/v1/reports/overview", range="7d")
    assert whole["window"] == {"period": None, "filters": week["window"]["filters"]}
    assert week["window"]["period"]["days"] == 7
    assert 0 < week["orders"] < whole["orders"]
    assert week["spend"] < whole["spend"]
    days = _get(site, "/api/v1/reports/timeseries", range="7d")["days"]
    assert len(days) == 7 and days[-1]["day"] == week["window"]["period"]["to"]
    assert sum(d["orders"] for d in days) == week["orders"]
    whole_funnel = _get(site, "/api/v1/reports/funnel")
    week_funnel = _get(site, "/api/v1/reports/funnel", range="7d")
    assert 0 < week_funnel["impressions"] < whole_funnel["impressions"]
    notes = _get(site, "/api/v1/reports/attribution", range="7d")
    assert notes["orders"] == week["orders"]


def test_the_comparison_is_the_previous_period_of_the_same_length(site: Site) -> None:
    week = _get(site, "/api/v1/reports/overview", range="7d", compare="yes")
    period = week["window"]["period"]
    assert period["previous"]["to"] < period["from"]
    before = week["previous"]
    assert isinstance(before, dict) and "orders" in before and "spend" in before
    by_hand = _get(
        site, "/api/v1/reports/overview", **{"from": period["previous"]["from"], "to": period["previous"]["to"]}
    )
    assert before["orders"] == by_hand["orders"] and before["gmv"] == by_hand["gmv"]
    funnel = _get(site, "/api/v1/reports/funnel", range="7d", compare="1")
    assert "impressions" in funnel["previous"]
    attribution = _get(site, "/api/v1/reports/attribution", range="7d", compare="1", by="creator")
    assert attribution["previous"]["by"] == "creator"


def test_filters_narrow_the_reports(site: Site) -> None:
    notes = _get(site, "/api/v1/reports/attribution")
    kol = _get(site, "/api/v1/reports/economics", by="note", tier="kol")
    everyone = _get(site, "/api/v1/reports/economics", by="note")
    assert 0 < len(kol["rows"]) < len(everyone["rows"])
    clicks_only = _get(site, "/api/v1/reports/attribution", touches="click")
    assert clicks_only["total_orders"] < notes["total_orders"]
    assert clicks_only["params"]["touches"] == ["click"]
    campaigns = _get(site, "/api/v1/reports/campaign-roi")["campaigns"]
    one = campaigns[0]["campaign_id"]
    chosen = _get(site, "/api/v1/reports/economics", by="note", campaign=one)["rows"]
    assert chosen and all(r["campaign_id"] == one for r in chosen)
    with site.client(site.operator) as c:
        theirs = c.get("/api/v1/reports/campaign-roi", params={"brand": "beibei"}).json()["campaigns"][0]["campaign_id"]
    with site.client(site.keys["lumiere"]) as c:
        for name, value in [("item", "no-such-item"), ("campaign", theirs), ("tier", "celebrity"), ("category", "x")]:
            r = c.get("/api/v1/reports/overview", params={name: value})
            assert r.status_code == 422, (name, r.text)
            problem = r.json()["error"]["problems"][0]
            assert problem["field"] == f"query.{name}" and "in the data you can see" in problem["reason"]


def test_bad_parameters_are_422_naming_the_field(site: Site) -> None:
    with site.client(site.keys["lumiere"]) as c:
        for path in ["overview", "funnel", "timeseries", "attribution", "compare", "campaign-roi", "economics"]:
            r = c.get(f"/api/v1/reports/{path}", params={"range": "7d", "to": "2025-13-40"})
            assert r.status_code == 422, (path, r.text)
            problems = r.json()["error"]["problems"]
            assert problems[0]["field"] == "query.range", path
        bad_day = c.get("/api/v1/reports/overview", params={"from": "2025-13-40"})
        assert bad_day.status_code == 422 and bad_day.json()["error"]["problems"][0]["field"] == "query.from"
        assert "not a date" in bad_day.json()["error"]["problems"][0]["reason"]
        bad_kind = c.get("/api/v1/reports/attribution", params={"touches": "smell"})
        assert bad_kind.json()["error"]["problems"][0]["field"] == "query.touches"
    with site.client(site.operator) as c:
        r = c.get("/api/v1/reports/platform", params={"disclosed": "perhaps"})
        assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "query.disclosed"
        week = c.get("/api/v1/reports/platform", params={"range": "7d", "compare": "1"}).json()
        assert "brands" in week["previous"]


def test_the_openapi_document_lists_the_range_parameters(site: Site) -> None:
    with site.client() as c:
        doc = c.get("/openapi.json").json()
    names = {p["name"] for p in doc["paths"]["/api/v1/reports/overview"]["get"]["parameters"]}
    assert {"range", "from", "to", "compare", "campaign", "tier", "item", "category", "touches", "disclosed"} <= names


# --- the console's range picker --------------------------------------------------------------------------------

REPORT_PAGES = ["/console/", "/console/funnel", "/console/notes", "/console/creators", "/console/campaigns",
                "/console/models"]  # fmt: skip


def _orders_kpi(html: str) -> str:
    found = re.search(r"成交订单</span><b>([^<]+)</b>", html)
    assert found is not None
    return found.group(1)


def test_every_report_page_shows_the_same_picker_and_honours_it(site: Site) -> None:
    c = console_client(site, site.keys["lumiere"])
    try:
        whole = c.get("/console/", params={"range": "all"}).text
        for page in REPORT_PAGES:
            html = c.get(page, params={"range": "7d", "compare": "yes"}).text
            assert 'id="range-picker"' in html, page
            assert '<option value="7d" selected>近 7 天</option>' in html, page
            assert "2025-06-14 至 2025-06-20 · 共 7 天 · Asia/Shanghai 时区" in html, page
            assert "对比 2025-06-07 至 2025-06-13" in html, page
        week = c.get("/console/").text  # remembered: no parameters, still the week
        assert '<option value="7d" selected>' in week and 'name="compare" value="yes" checked' in week
        assert _orders_kpi(week) != _orders_kpi(whole)
        assert 'data-previous="orders"' in week and "上期" in week
        funnel = c.get("/console/funnel").text
        assert 'data-previous="impressions"' in funnel
        notes = c.get("/console/notes").text
        assert "上期净 GMV" in notes and "环比" in notes
        english = c.get("/console/funnel", params={"lang": "en"}).text
        assert "Last 7 days" in english and "2025-06-14 to 2025-06-20 · 7 days" in english
        custom = c.get("/console/notes", params={"range": "custom", "from": "2025-06-01", "to": "2025-06-03"}).text
        assert '<option value="custom" selected>' in custom and 'value="2025-06-01"' in custom
        # a preset wins over the day fields the form always sends
        preset = c.get(
            "/console/", params={"range": "yesterday", "from": "2025-06-01", "to": "2025-06-03", "lang": "zh"}
        )
        assert preset.status_code == 200 and "2025-06-20 至 2025-06-20" in preset.text
        for page in ["/console/links", "/console/orders/none"]:
            assert 'id="range-picker"' not in c.get(page).text
    finally:
        c.close()


def test_console_filters_and_bad_parameters(site: Site) -> None:
    c = console_client(site, site.keys["lumiere"])
    try:
        everyone = c.get("/console/notes", params={"range": "all"}).text
        kol = c.get("/console/notes", params={"range": "all", "tier": "kol"}).text
        assert '<option value="kol" selected>kol</option>' in kol and "筛选中" in kol
        assert kol.count('class="title"') < everyone.count('class="title"')
        bad = c.get("/console/", params={"range": "fortnight"})
        assert bad.status_code == 422
        assert bad.json()["error"]["problems"][0]["field"] == "query.range"
        assert c.get("/console/notes.csv", params={"from": "yesterday"}).status_code == 422
        assert '<option value="kol" selected>' in c.get("/console/notes").text
    finally:
        c.close()


# --- the engine's view of a window, on hand-made journeys --------------------------------------------------------


def test_a_window_keeps_the_touches_before_it_and_counts_activity_inside_it(tmp_path: Path) -> None:
    import hongmao
    from conftest import event, user
    from enginekit import at, two_brand_catalog
    from hongmao.lake import Lake
    from hongmao.reports.scope import Scope
    from hongmao.reports.service import Reports

    u1, u2 = user(1), user(2)

    def order(oid: str, who: str, days: float) -> dict[str, Any]:
        lines = [{"item_id": "i1", "price": 100}]
        return event("market.order", at(days), order_id=oid, user=who, lines=lines, amount=100)

    events = [
        *two_brand_catalog(),
        order("o0", u1, 2),  # before the range: u1 is a returning buyer in it
        event("note.read", at(5), note_id="n1", user=u1, dwell_ms=9000),  # 5 days before its order, before the range
        event("note.read", at(9), note_id="n2", user=u2, dwell_ms=9000),
        order("o2", u2, 9.5),
        order("o1", u1, 10),
    ]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    hongmao.ingest([source], tmp_path / "lake")
    reports = Reports(Lake.open(tmp_path / "lake"), privacy_k=1, exclude_flagged=False)
    lumi = Scope("Lumi")
    # 2025-06-10 .. 06-12 in Shanghai: [day 8 16:00, day 11 16:00) UTC after 2025-06-01
    window = parse({"from": "2025-06-10", "to": "2025-06-12"}, reports.newest_day())
    assert reports.newest_day() == date(2025, 6, 11)
    whole, ranged = reports.overview(lumi), reports.overview(lumi, window=window)
    assert (whole["orders"], ranged["orders"]) == (3, 2)
    assert ranged["attributed_orders"] == 2  # o1 keeps its read from before the range
    assert (ranged["attributed_buyers"], ranged["new_customers"]) == (2, 1)  # u1 bought before the range
    reads = {n["note_id"]: n["reads"] for n in reports.notes(lumi, window=window)}
    assert reads == {"n1": 0, "n2": 1}  # activity counts only what happened inside the range
    assert reports.funnel(lumi, window=window)["reads"] == 1
    days = reports.timeseries(lumi, window=window)
    assert [d["day"] for d in days] == ["2025-06-10", "2025-06-11", "2025-06-12"]
    assert sum(d["orders"] for d in days) == 2
    k1 = parse({"from": "2025-06-10", "to": "2025-06-12", "campaign": "k1"}, reports.newest_day())
    assert [r["key"] for r in reports.attribution(lumi, window=k1).rows if r["orders"]] == ["n2"]
    oat = parse({"item": "i2"}, reports.newest_day())
    assert reports.overview(lumi, window=oat)["orders"] == 0


def test_the_trust_report_takes_a_range_and_refuses_filters(site: Site) -> None:
    with site.client(site.operator) as c:
        whole = c.get("/api/v1/reports/trust").json()
        before = c.get("/api/v1/reports/trust", params={"from": "2000-01-01", "to": "2000-01-10"})
        week = c.get("/api/v1/reports/trust", params={"range": "7d"}).json()
        filtered = c.get("/api/v1/reports/trust", params={"range": "7d", "disclosed": "no"})
    period = week["window"]["period"]
    assert period["days"] == 7
    assert [d["day"] for d in week["trend"]] == [d["day"] for d in whole["trend"]][-7:]
    assert all(period["from"] <= d["day"] <= period["to"] for d in week["trend"])
    assert week["summary"]["data_end"] <= whole["summary"]["data_end"]
    # The guard as it stood before the world began: nothing to judge yet.
    assert before.status_code == 200, before.text
    cut = before.json()
    assert cut["trend"] == [] and cut["summary"]["notes"] == 0 and not any(cut["summary"]["flagged_notes"].values())
    assert any(whole["summary"]["flagged_notes"].values())
    assert filtered.status_code == 422 and "disclosed" in filtered.text and "filters do not apply" in filtered.text
    c = console_client(site, site.operator)
    try:
        page = c.get("/console/trust", params={"range": "7d", "disclosed": "no"}).text
    finally:
        c.close()
    assert 'id="filters-ignored"' in page and 'id="trust-asof"' in page and 'name="range"' in page
    assert whole["summary"]["credit_model"] == "hazard"  # the credit behind "credited orders", named on the page
    assert "风险率（生存分析）" in page.split('id="trust-credit"', 1)[1].split("</p>", 1)[0]
