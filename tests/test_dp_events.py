"""Under the differential-privacy budget a brand key's event counts (impressions, reads, clicks, engagements) are
noisy wherever it sees them (the funnel, the daily series, creator economics, the notes and creators, and their
console pages), released with the figures beside them and charged to the same ledger; the link pages (the API's
list, one link, its drill-down; the console's list and drill-down) are noisy and charged too, their conversions
withheld saying why, and refused once the budget is spent. Without a budget every one of them is exact."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from webkit import BASE, Client, Site, charged_answer, console_client, dp_budget, exact_answer, lake_copy, running_site

pytest.importorskip("opendp")

ME, OTHER = "lumiere", "beibei"
EVENTS = ("impressions", "reads", "clicks", "engagements")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The shared lake, three of the brand's links clicked through the redirect (by several visitors and a bot)."""
    with running_site(lake_copy(tmp_path_factory.mktemp("dp-events") / "lake"), privacy_k=1) as s:
        with s.client(s.operator) as c:
            links = c.get("/api/v1/links", params={"brand": ME}).json()["links"][:3]
        assert links
        for n, link in enumerate(links):
            path = link["url"].removeprefix(BASE)
            for _ in range(3 + n):
                with s.client() as visitor:
                    assert visitor.get(path).status_code == 302
            bot = Client(s.server, user_agent="curl/8.5.0")
            try:
                assert bot.get(path).status_code in (200, 302)
            finally:
                bot.close()
        s.state.fold_clicks()
        yield s


@pytest.fixture
def budget(site: Site) -> Iterator[Any]:
    with dp_budget(site) as found:
        yield found


def _moved(noisy: list[dict[str, Any]], exact: list[dict[str, Any]], key: str, figures: tuple[str, ...]) -> None:
    """The same rows; of their non-zero event figures, the noisy ones are not all the exact ones (Laplace noise at
    a scale of tens of events, rounded: one figure may land on its exact value, all of them not)."""
    assert sorted(str(r[key]) for r in noisy) == sorted(str(r[key]) for r in exact)
    by_key = {str(r[key]): r for r in exact}
    pairs = [(n[f], by_key[str(n[key])][f]) for n in noisy for f in figures if by_key[str(n[key])][f]]
    assert len(pairs) >= 3 and sum(a != b for a, b in pairs) > len(pairs) // 2
    assert all(isinstance(a, int) and a >= 0 for a, _ in pairs)  # whole events, never below zero


def _busiest_link(site: Site) -> dict[str, Any]:
    links = exact_answer(site, "/api/v1/links")["links"]
    assert links
    return max(links, key=lambda link: (link["clicks"], link["link_id"]))


def test_the_funnels_events_are_noisy_and_charged_with_its_people(site: Site, budget: Any) -> None:
    from hongmao.cleanroom.budget import EVENTS_BOUND

    exact = exact_answer(site, "/api/v1/reports/funnel")
    with site.client(site.keys[ME]) as c:
        got = charged_answer(c, budget, "/api/v1/reports/funnel")
        again = c.get("/api/v1/reports/funnel").json()
    assert all(exact[f] for f in EVENTS)
    assert sum(got[f] != exact[f] for f in EVENTS) >= 3
    assert set(EVENTS) | {"readers", "orders", "gmv"} <= set(got["dp"]["noisy"])
    assert got["dp"]["mechanisms"]["impressions"]["bound"] == EVENTS_BOUND
    assert got["dp"]["epsilon"] == pytest.approx(budget.per_query)  # one release: the people and events together
    assert got["store_visits"] is None and "store_visits" in got["dp"]["withheld"]
    assert got["read_rate"] == (got["reads"] / got["impressions"] if got["impressions"] else None)
    assert again["dp"]["repeated"] and all(again[f] == got[f] for f in EVENTS)  # no second draw to average


def test_the_daily_series_economics_and_listings_carry_noisy_events(site: Site, budget: Any) -> None:
    cases = [
        ("/api/v1/reports/timeseries", "days", "day", ("impressions", "reads", "clicks"), {}),
        ("/api/v1/reports/economics", "rows", "note_id", ("impressions", "engagements"), {"by": "note"}),
        ("/api/v1/reports/economics", "rows", "creator_id", ("impressions", "engagements"), {}),
        ("/api/v1/notes", "notes", "note_id", EVENTS, {}),
        ("/api/v1/creators", "creators", "creator_id", EVENTS, {}),
    ]
    with site.client(site.keys[ME]) as c:
        for path, rows, key, figures, params in cases:
            exact = exact_answer(site, path, **params)[rows]
            got = charged_answer(c, budget, path, **params)
            _moved(got[rows], exact, key, figures)
            assert {f"events.{f}" for f in figures} <= set(got["dp"]["mechanisms"]), path
        notes = c.get("/api/v1/notes").json()["notes"]
    assert all(n["ctr"] == (n["clicks"] / n["reads"] if n["reads"] else None) for n in notes)


def test_the_event_people_add_up_to_the_notes_and_daily_series(site: Site) -> None:
    from hongmao.reports.period import WHOLE_LAKE
    from hongmao.reports.scope import Scope
    from hongmao.web.dp import event_people

    reports, scope = site.state.reports, Scope(brand=ME)
    per_day = event_people(reports, scope, WHOLE_LAKE, "day")
    for day in reports.timeseries(scope, window=WHOLE_LAKE):
        for f in ("impressions", "reads", "clicks"):
            assert sum(m.get(day["day"], {}).get(f, 0.0) for m in per_day.values()) == day[f], (day["day"], f)
    per_note = event_people(reports, scope, WHOLE_LAKE, "note")
    for note in reports.notes(scope):
        for f in ("reads", "engagements", "clicks"):
            assert sum(m.get(note["note_id"], {}).get(f, 0.0) for m in per_note.values()) == note[f], f


def test_the_link_pages_are_noisy_charged_and_withhold_conversions(site: Site, budget: Any) -> None:
    from hongmao.cleanroom import budget as module
    from hongmao.web.linkviews import CONVERSIONS_WITHHELD

    link = _busiest_link(site)
    lid = link["link_id"]
    exact_list = exact_answer(site, "/api/v1/links")["links"]
    exact_stats = exact_answer(site, f"/api/v1/links/{lid}/stats")
    assert link["clicks"] >= 3 and sum(d["clicks"] for d in exact_stats["days"]) == link["clicks"]
    assert exact_stats["orders"] != "suppressed"
    with site.client(site.keys[ME]) as c:
        listed = charged_answer(c, budget, "/api/v1/links")
        one = charged_answer(c, budget, f"/api/v1/links/{lid}")
        stats = charged_answer(c, budget, f"/api/v1/links/{lid}/stats")
        again = c.get(f"/api/v1/links/{lid}/stats").json()
    assert [x["link_id"] for x in listed["links"]] == [x["link_id"] for x in exact_list]
    ledger = {x["report"]: x["values"] for x in module.read(budget.data_dir)}
    # What the ledger released is continuous noise around the exact clicks (never equal); the answers round it.
    for x in exact_list:
        released = ledger["links"][f"links.clicks:{x['link_id']}"]
        assert released != x["clicks"] or not x["clicks"]  # (noise is clamped at 0, so a 0 may stay 0)
        assert next(y for y in listed["links"] if y["link_id"] == x["link_id"])["clicks"] == max(0, round(released))
    assert one["clicks"] == max(0, round(ledger[f"links/{lid}"][f"links.clicks:{lid}"]))
    days = ledger[f"links/{lid}/stats"]
    for noisy, exact in zip(stats["days"], exact_stats["days"], strict=True):
        assert noisy["day"] == exact["day"]
        assert days[f"days.clicks:{exact['day']}"] != exact["clicks"] or not exact["clicks"]
        assert noisy["clicks"] == max(0, round(days[f"days.clicks:{exact['day']}"]))
    assert stats["clicks"] == sum(d["clicks"] for d in stats["days"]) and stats["link"]["clicks"] is None
    for f in ("visits", "visitors", "orders", "buyers", "gmv", "net_gmv"):
        assert stats[f] == "suppressed" and stats["dp"]["withheld"][f] == CONVERSIONS_WITHHELD
    assert again["dp"]["repeated"] and again["days"] == stats["days"]


def test_the_console_link_pages_are_charged_and_show_no_exact_clicks(site: Site, budget: Any) -> None:
    from hongmao.cleanroom import budget as module

    lid = _busiest_link(site)["link_id"]
    exact = exact_answer(site, f"/api/v1/links/{lid}/stats")
    c = console_client(site, site.keys[ME])
    try:
        for path in ("/console/links", f"/console/links/{lid}"):
            before = budget.spent(ME)
            page = c.get(path)
            assert page.status_code == 200, (path, page.text[:300])
            assert budget.spent(ME) > before, path
        kpis = page.text[page.text.index('id="link-kpis"') :].split('id="link-withheld"')[0]
        assert kpis.count(">—</span>") == 6  # visits, orders, net GMV and their rates and GMV: withheld
        ledger = {x["report"]: x["values"] for x in module.read(budget.data_dir)}
        assert "console.links" in ledger
        days = ledger[f"console.links/{lid}/stats"]
        assert all(days[f"days.clicks:{d['day']}"] != d["clicks"] for d in exact["days"] if d["clicks"])
    finally:
        c.close()


def test_a_spent_budget_refuses_the_link_pages_and_event_reports(site: Site) -> None:
    from hongmao.cleanroom.budget import Budget

    lid = _busiest_link(site)["link_id"]
    site.state.extras["dp_budget"] = Budget(site.state.data_dir, total=0.5, per_query=0.5)
    try:
        with site.client(site.keys[ME]) as c:
            assert c.get("/api/v1/links").status_code == 200  # spends it all
            for path in (f"/api/v1/links/{lid}/stats", f"/api/v1/links/{lid}", "/api/v1/reports/funnel"):
                refused = c.get(path)
                assert refused.status_code == 403, path
                assert "epsilon 0.5 of 0.5 used" in refused.json()["error"]["message"], path
        page = console_client(site, site.keys[ME])
        try:
            for path in ("/console/links", f"/console/links/{lid}"):
                refused = page.get(path)
                assert refused.status_code == 403 and "差分隐私预算已用完" in refused.text, path
        finally:
            page.close()
    finally:
        site.state.extras.pop("dp_budget", None)
        (site.state.data_dir / "dp-ledger.jsonl").unlink(missing_ok=True)


def test_without_a_budget_event_counts_and_link_pages_areexact_answer(site: Site) -> None:
    lid = _busiest_link(site)["link_id"]
    with site.client(site.keys[ME]) as c:
        funnel = c.get("/api/v1/reports/funnel").json()
        notes = c.get("/api/v1/notes").json()["notes"]
        links = c.get("/api/v1/links").json()["links"]
        stats = c.get(f"/api/v1/links/{lid}/stats").json()
    exact = exact_answer(site, "/api/v1/reports/funnel")
    assert all(funnel[f] == exact[f] for f in EVENTS) and "dp" not in funnel
    assert [(n["note_id"], n["impressions"], n["clicks"]) for n in notes] == [
        (n["note_id"], n["impressions"], n["clicks"]) for n in exact_answer(site, "/api/v1/notes")["notes"]
    ]
    assert links == exact_answer(site, "/api/v1/links")["links"]
    # A brand key's days say what the k-threshold withheld (nothing at this k); their figures are the operator's.
    assert all(d.pop("withheld") == [] for d in stats["days"])
    assert stats["days"] == exact_answer(site, f"/api/v1/links/{lid}/stats")["days"] and "dp" not in stats
    assert not (site.state.data_dir / "dp-ledger.jsonl").exists()


def test_the_console_tables_show_noisy_events(site: Site, budget: Any) -> None:
    import csv
    import io

    def rows(c: Client, path: str, **params: str) -> list[dict[str, Any]]:
        got = c.get(path, params=params)
        assert got.status_code == 200, got.text[:300]
        return list(csv.DictReader(io.StringIO(got.text.lstrip("\ufeff"))))

    brand, operator = console_client(site, site.keys[ME]), console_client(site, site.operator)
    try:
        for path, key in (("/console/notes.csv", "note_id"), ("/console/creators.csv", "creator_id")):
            exact = {r[key]: r for r in rows(operator, path, brand=ME)}
            noisy = rows(brand, path)
            figures = [f for f in EVENTS if f in noisy[0]]
            assert figures, path
            pairs = [(n[f], exact[n[key]][f]) for n in noisy for f in figures if exact[n[key]][f] not in ("", "0")]
            assert len(pairs) >= 3 and sum(a != b for a, b in pairs) > len(pairs) // 2, path
    finally:
        brand.close()
        operator.close()
