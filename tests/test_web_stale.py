"""After a lake change, console pages answer at once with the figures of the version the warm-up last finished,
marked as such, and never another scope's; exports and the REST API keep answering current figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import event, user
from hongmao.reports.scope import Scope
from hongmao.reports.service import Computing, Reports
from hongmao.web.console import fresh
from hongmao.web.warmup import Warmup
from webkit import Site, console_client, lake_copy, running_site

WAIT_SECONDS = 600.0
T = "2025-06-05T10:00:00+08:00"


@pytest.fixture
def site(tmp_path: Any) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path / "lake")) as s:
        yield s


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def ingest(site: Site, n: int) -> None:
    with site.client(site.operator) as c:
        search = event("market.search", T, f"stale-{n}", user=user(n), query="lumiere 面霜")
        sent = c.post("/api/v1/events", json=[search])
        assert sent.status_code == 200 and sent.json()["accepted"] == 1, sent.text


def drain(reports: Reports) -> None:
    """Wait for the reports a page queued in the background (the refresh thread's jobs)."""
    for future in list(reports._queued.values()):
        future.exception(WAIT_SECONDS)


def test_a_page_after_a_lake_change_gets_the_settled_versions_figures_then_the_new_ones(site: Site) -> None:
    reports = site.state.reports
    brand = Scope("lumiere")
    before = reports.overview(brand)
    old = reports.view.version()
    reports.settle(old)
    ingest(site, 1)
    assert reports.view.version() != old
    with reports.serve_stale(0.0) as seen:
        stale = reports.overview(brand)
    assert dump(stale) == dump(before)
    assert set(seen.stale) == {old}
    # Another scope's figures of the settled version are never handed out: nothing of beibei's was computed.
    with pytest.raises(Computing), reports.serve_stale(0.0):
        reports.overview(Scope("beibei"))
    drain(reports)
    cold = Reports(site.state.lake, privacy_k=reports.privacy_k)
    assert dump(reports.overview(brand)) == dump(cold.overview(brand))  # the current figures, once computed
    reports.settle(reports.view.version())
    with reports.serve_stale(0.0) as seen:
        assert dump(reports.overview(brand)) == dump(cold.overview(brand))
    assert seen.stale == {}


def test_a_key_computed_for_a_newer_version_is_never_replaced_by_an_older_one(site: Site) -> None:
    reports = site.state.reports
    first = reports.view.version()
    reports.brands()
    ingest(site, 2)
    second = reports.view.version()
    reports.brands()
    assert reports._latest[("brands",)] == second
    with reports._lock:
        reports._store((first, "brands"), ["older"])
    assert reports._latest[("brands",)] == second


def test_a_page_reads_the_newest_version_settled_for_it_or_for_every_page(site: Site) -> None:
    reports = site.state.reports
    first = reports.view.version()
    reports.brands()
    reports.settle(first)
    ingest(site, 4)
    second = reports.view.version()
    reports.brands()
    reports.settle(second, "/console/")  # the overview's reports of the new version are in, the funnel's not
    assert reports.settled("/console/") == second
    assert reports.settled("/console/funnel") == first
    with reports.serve_stale(0.0, "/console/funnel") as seen:
        assert seen.pin == first
    with reports.serve_stale(0.0, "/console/") as seen:
        assert seen.pin is None  # the current version: nothing earlier is pinned
    reports.settle(second)
    assert reports.settled("/console/funnel") == second


def test_console_pages_show_the_earlier_figures_with_a_notice_and_reload(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    warmup = site.state.extras["warmup"]
    warmup.start()
    assert warmup.wait_warm(WAIT_SECONDS), "the warm-up did not finish"
    warmup.stop(WAIT_SECONDS)
    settled = site.state.reports.settled()
    assert settled == site.state.reports.view.version()
    assert site.state.reports._settled_pages["/console/"] == settled  # each page settled as its reports are in
    monkeypatch.setattr(Warmup, "running", property(lambda _self: True))  # as if it were warming the next one
    monkeypatch.setattr(fresh, "BUDGET_SECONDS", 0.0)  # never wait: what a page shows must not hang on timing
    c = console_client(site, site.keys["lumiere"])
    try:
        warm = c.get("/console/")
        assert warm.status_code == 200 and 'data-fresh="stale"' not in warm.text
        ingest(site, 3)
        page = c.get("/console/")
        assert page.status_code == 200
        assert 'data-fresh="stale"' in page.text and f'data-version="{settled[:12]}"' in page.text
        assert 'http-equiv="refresh"' in page.text and "数据更新中" in page.text
        # The reload keeps the reader's place (static/console.js); the meta refresh is for readers without script.
        assert 'data-reload="' in page.text and '<noscript><meta http-equiv="refresh"' in page.text
        assert "<script>" not in page.text  # no inline script: the CSP refuses one
        assert page.headers["cache-control"] == "no-store"
        english = c.get("/console/?lang=en")
        assert "Updating: these figures are as of" in english.text
        # A range nobody computed yet: said at once, reloaded until ready.
        fresh_range = c.get("/console/?range=yesterday")
        assert fresh_range.status_code == 200 and 'data-fresh="computing"' in fresh_range.text
        assert 'http-equiv="refresh"' in fresh_range.text
        # An export always carries current figures (a file has no notice).
        csv = c.get("/console/notes.csv")
        assert csv.status_code == 200 and "数据更新中" not in csv.text
    finally:
        c.close()
    drain(site.state.reports)


def _settled_site(site: Site, monkeypatch: pytest.MonkeyPatch) -> str:
    """Warm every page, then behave as if the warm-up were warming the next version (pages never wait)."""
    warmup = site.state.extras["warmup"]
    warmup.start()
    assert warmup.wait_warm(WAIT_SECONDS), "the warm-up did not finish"
    warmup.stop(WAIT_SECONDS)
    monkeypatch.setattr(Warmup, "running", property(lambda _self: True))
    monkeypatch.setattr(fresh, "BUDGET_SECONDS", 0.0)
    settled = site.state.reports.settled()
    assert settled == site.state.reports.view.version()
    return settled


def test_a_detail_page_never_mixes_an_earlier_versions_figures_with_the_current_ones(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = site.state.reports
    brand = Scope("lumiere")
    settled = _settled_site(site, monkeypatch)
    note = next(r["note_id"] for r in reports.notes(brand) if r.get("orders"))
    ingest(site, 5)
    # The note's orders are current (someone asked for them), its economics only the settled version's: the
    # list pages' pin would draw the note's figures from one version and its orders from the next.
    assert reports.note_orders(brand, note) is not None
    c = console_client(site, site.keys["lumiere"])
    try:
        mixed = c.get(f"/console/notes/{note}")
        assert mixed.status_code == 200, mixed.text
        assert 'data-fresh="stale"' not in mixed.text  # one version: the current one, or "computing"
        if 'data-fresh="computing"' not in mixed.text:
            assert settled[:12] not in mixed.text
        drain(reports)
        current = c.get(f"/console/notes/{note}")
        assert current.status_code == 200 and "data-fresh" not in current.text
        # A list page may still show the settled version's figures, marked as such.
        listed = c.get("/console/notes")
        assert listed.status_code == 200
    finally:
        c.close()
    drain(reports)


def test_a_detail_page_drawn_while_the_lake_changed_says_computing(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    reports = site.state.reports
    brand = Scope("lumiere")
    note = next(r["note_id"] for r in reports.notes(brand) if r.get("orders"))
    asked = reports.note_orders

    def changing(*args: Any, **kwargs: Any) -> Any:
        found = asked(*args, **kwargs)
        ingest(site, 6)  # the lake changes between the page's first report and the next
        return found

    c = console_client(site, site.keys["lumiere"])
    try:
        assert "data-fresh" not in c.get(f"/console/notes/{note}").text
        monkeypatch.setattr(reports, "note_orders", changing)
        page = c.get(f"/console/notes/{note}")
        assert page.status_code == 200 and 'data-fresh="computing"' in page.text
        monkeypatch.setattr(reports, "note_orders", asked)
        assert "data-fresh" not in c.get(f"/console/notes/{note}").text
    finally:
        c.close()
