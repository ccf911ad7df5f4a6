"""The report warm-up: after a lake change, the console's pages find their reports already computed (every
cache lookup they make is a hit), and what the warm-up computed is what a cold computation gives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from conftest import event, user
from hongmao.web.console import pages
from webkit import Site, console_client, lake_copy, running_site

#: Every console page whose figures come from the report cache, as a brand's analyst and an operator see them.
BRAND_PAGES = pages.paths(operator=False, reports_only=True)
OPERATOR_PAGES = pages.paths(operator=True, reports_only=True)
#: Long enough for a slow shared machine; the test asserts on counts, never on time.
WAIT_SECONDS = 600.0
T = "2025-06-05T10:00:00+08:00"


def lookups(result: str) -> float:
    value = REGISTRY.get_sample_value("hongmao_report_cache_lookups_total", {"result": result})
    return value or 0.0


@pytest.fixture
def site(tmp_path: Any) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path / "lake")) as s:
        yield s


def warmed(site: Site) -> Any:
    warmup = site.state.extras["warmup"]
    warmup.start()
    assert warmup.wait_warm(WAIT_SECONDS), "the warm-up did not finish"
    return warmup


def misses_opening(site: Site, pages: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Cache misses each page's first view makes, signed in with the key named beside it."""
    out = {}
    for key, paths in pages.items():
        c = console_client(site, key)
        try:
            for path in paths:
                before = lookups("miss")
                response = c.get(path)
                assert response.status_code == 200, (path, response.status_code)
                out[f"{path} as {key[:8]}"] = int(lookups("miss") - before)
        finally:
            c.close()
    return out


def test_after_a_lake_change_every_console_page_hits_the_warm_cache(site: Site) -> None:
    pages = {
        site.operator: OPERATOR_PAGES,
        site.keys["lumiere"]: BRAND_PAGES,
        site.keys["beibei"]: BRAND_PAGES,
    }
    warmup = warmed(site)
    try:
        first = site.state.reports.view.version()
        hits = lookups("hit")
        assert set(misses_opening(site, pages).values()) == {0}
        assert lookups("hit") > hits  # the pages did look in the cache

        # A lake change (an ingest through the API): the next version is warmed before anyone asks.
        with site.client(site.operator) as c:
            search = event("market.search", T, "warm-1", user=user(1), query="lumiere 面霜")
            sent = c.post("/api/v1/events", json=[search])
            assert sent.status_code == 200 and sent.json()["accepted"] == 1, sent.text
        assert site.state.reports.view.version() != first
        done = warmup.steps_done
        assert warmup.wait_warm(WAIT_SECONDS), "the warm-up did not finish"
        assert warmup.steps_done > done and warmup.failures == 0
        assert set(misses_opening(site, pages).values()) == {0}
    finally:
        warmup.stop()


def test_warmed_reports_are_what_a_cold_computation_gives(site: Site) -> None:
    from hongmao.reports.scope import Scope
    from hongmao.reports.service import Reports

    warmup = warmed(site)
    warmup.stop()
    cold = Reports(site.state.lake, privacy_k=site.state.reports.privacy_k)
    for scope in (Scope(None), Scope("lumiere")):
        for name in ("overview", "campaign_rois", "economics", "compare"):
            misses = lookups("miss")
            warm = report(site.state.reports, name, scope)
            assert lookups("miss") == misses, f"{name} of {scope} was not warmed"
            cold_value = report(cold, name, scope)
            assert dump(warm) == dump(cold_value), f"{name} of {scope} differs from a cold computation"


def report(reports: Any, name: str, scope: Any) -> Any:
    """A console page's report at its defaults (the model comparison with the page's arguments)."""
    from hongmao.engine.attribute import MODELS

    if name == "compare":
        return reports.compare(scope, "note", list(MODELS), 15, "linear")
    return getattr(reports, name)(scope)


def test_a_warmup_never_started_stops_quietly_and_never_twice(site: Site) -> None:
    warmup = site.state.extras["warmup"]
    warmup.stop()  # never started: nothing to stop
    warmup.start()
    thread = warmup._thread
    warmup.start()  # one owner: a second start keeps the running thread
    assert warmup._thread is thread
    warmup.stop(WAIT_SECONDS)  # waits for the report being warmed
    assert thread is not None and not thread.is_alive()


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def test_the_rule_models_from_one_journeys_table_are_what_each_model_alone_gives(tmp_path: Any) -> None:
    from hongmao import api
    from hongmao.engine import Session, attribute
    from hongmao.engine.attribute import attribute_rules as rule_results
    from hongmao.reports.comparison import RULE_MODELS

    with api.open_lake(lake_copy(tmp_path / "lake")) as lake:
        segments = lake.segment_paths()
        with Session(segments) as session:
            together = rule_results(session, RULE_MODELS, "creator", ["read", "click"])
        for model in RULE_MODELS:
            with Session(segments) as session:
                alone = attribute(session, model=model, by="creator", touches=["read", "click"])
            assert alone.rows, model  # a comparison of something
            assert dump(together[model].to_dict()) == dump(alone.to_dict()), model
            assert together[model].params == alone.params


def test_a_comparison_that_does_not_wait_names_the_fitted_models_still_being_computed(site: Site) -> None:
    from hongmao.engine.attribute import MODELS
    from hongmao.reports.comparison import RULE_MODELS
    from hongmao.reports.scope import Scope

    reports = site.state.reports
    release = threading.Event()
    real = reports.attribution

    def held(*args: Any, **kwargs: Any) -> Any:  # the fitted models wait until the test lets them finish
        if args[2] not in RULE_MODELS:
            assert release.wait(WAIT_SECONDS)
        return real(*args, **kwargs)

    reports.attribution = held  # type: ignore[method-assign]
    try:
        first = reports.compare(Scope("lumiere"), "note", list(MODELS), 15, "linear", wait=False)
        assert first["models"] == list(RULE_MODELS)
        assert first["pending"] == [m for m in MODELS if m not in RULE_MODELS]
        assert first["rows"] and all(set(r["orders"]) == set(RULE_MODELS) for r in first["rows"])
        assert set(first["total_orders"]) == set(RULE_MODELS)
        release.set()
        deadline = time.monotonic() + WAIT_SECONDS
        while (again := reports.compare(Scope("lumiere"), "note", list(MODELS), 15, "linear", wait=False))["pending"]:
            assert time.monotonic() < deadline, again["pending"]
            time.sleep(0.05)
    finally:
        reports.attribution = real  # type: ignore[method-assign]
    assert again["models"] == list(MODELS)
    waited = reports.compare(Scope("lumiere"), "note", list(MODELS), 15, "linear")
    assert dump({k: v for k, v in again.items() if k != "pending"}) == dump(waited)


def test_a_fitted_model_that_fails_in_the_background_is_named_and_the_page_still_answers(site: Site) -> None:
    from hongmao.engine.attribute import MODELS
    from hongmao.reports.comparison import RULE_MODELS
    from hongmao.reports.scope import Scope

    reports = site.state.reports
    real = reports.attribution
    broken = "hazard"

    def failing(*args: Any, **kwargs: Any) -> Any:
        if args[2] == broken:
            raise RuntimeError("the fit did not converge")
        return real(*args, **kwargs)

    reports.attribution = failing  # type: ignore[method-assign]
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while (got := reports.compare(Scope("lumiere"), "note", list(MODELS), 15, "linear", wait=False))["pending"]:
            assert time.monotonic() < deadline, got["pending"]
            time.sleep(0.05)
        assert got["failed"] == [broken]
        assert got["models"] == [m for m in MODELS if m != broken]
        assert set(RULE_MODELS) <= set(got["models"])
        c = console_client(site, site.operator, "/console/models")
        try:  # the page's own range is another computation: pending at first, then named as failed
            while 'id="models-failed"' not in (page := c.get("/console/models")).text:
                assert page.status_code == 200, page.text[:300]
                assert time.monotonic() < deadline, "the page never named the failed model"
                time.sleep(0.1)
        finally:
            c.close()
        assert page.status_code == 200
        with pytest.raises(RuntimeError, match="did not converge"):  # a caller who waits gets the error
            reports.compare(Scope("lumiere"), "note", [broken], 15, broken)
    finally:
        reports.attribution = real  # type: ignore[method-assign]


def test_a_computation_in_the_background_is_shared_and_a_failure_kept() -> None:
    from hongmao.reports.comparison import Background

    background = Background()
    gate, calls = threading.Event(), []

    def slow() -> int:
        calls.append(1)
        assert gate.wait(WAIT_SECONDS)
        return 42

    first = background.submit("k", slow)
    assert background.submit("k", slow) is first and background.running("k") is first
    gate.set()
    assert first.result(WAIT_SECONDS) == 42 and calls == [1]

    def broken() -> int:
        raise ValueError("no fit for brand x")

    failed = background.submit("bad", broken)
    with pytest.raises(ValueError, match="brand x"):
        failed.result(WAIT_SECONDS)
    assert background.submit("bad", broken) is failed  # not retried for the same key (the same lake version)
    assert background.running("bad") is None


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def test_closing_the_background_cancels_the_queue_and_waits_for_the_running_fit() -> None:
    """At shutdown no fit may be left running on a daemon thread (a native engine thread torn down mid-query
    aborts the process): the queued ones are cancelled, the running one finishes, nothing new starts."""
    from concurrent.futures import CancelledError

    from hongmao.errors import LakeError
    from hongmao.reports.comparison import Background

    background = Background()
    started, gate, done = threading.Event(), threading.Event(), []

    def running() -> int:
        started.set()
        assert gate.wait(WAIT_SECONDS)
        done.append(1)
        return 1

    first = background.submit("running", running)
    queued = background.submit("queued", lambda: 2)
    assert started.wait(WAIT_SECONDS)
    closer = threading.Thread(target=background.close, kwargs={"timeout": WAIT_SECONDS})
    closer.start()
    _wait_until(queued.cancelled)  # cancelled while the first still runs, so it never starts
    assert not first.done()
    gate.set()
    closer.join(WAIT_SECONDS)
    assert not closer.is_alive() and done == [1] and first.result(0) == 1
    with pytest.raises(CancelledError):
        queued.result(0)
    with pytest.raises(LakeError, match="shutting down"):
        background.submit("later", lambda: 3).result(0)


def test_closing_the_reports_stops_the_refresh_thread(site: Site) -> None:
    from hongmao.errors import LakeError
    from hongmao.reports.service import Reports

    reports = Reports(site.state.lake)
    started, gate = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        assert gate.wait(WAIT_SECONDS)
        return 7

    running = reports._in_background(("a",), slow)
    queued = reports._in_background(("b",), lambda: 8)
    assert started.wait(WAIT_SECONDS)
    thread = reports._refresher
    assert thread is not None
    closer = threading.Thread(target=reports.close, kwargs={"timeout": WAIT_SECONDS})
    closer.start()
    _wait_until(queued.cancelled)
    assert not running.done()
    gate.set()
    closer.join(WAIT_SECONDS)
    assert not closer.is_alive() and not thread.is_alive() and running.result(0) == 7
    with pytest.raises(LakeError, match="shutting down"):
        reports._in_background(("c",), lambda: 9).result(0)


def test_the_warmup_steps_are_the_pages_table_most_opened_first(site: Site) -> None:
    from hongmao.reports.scope import Scope
    from hongmao.web.warmup import console_steps

    reports = site.state.reports
    names = [s.name for s in console_steps(reports, [Scope(None), Scope("lumiere")])]
    assert names[0] == "platform overview" and names[1].startswith("platform")
    assert "lumiere model comparison" in names and "platform model comparison" in names
    assert "trust" in names and not any(n.startswith("lumiere platform") for n in names)
    assert names.index("platform funnel") < names.index("platform notes")
    # only the comparison is asked for again until its fitted models are in
    again = [s.name for s in console_steps(reports, [Scope(None)]) if s.until_ready]
    assert again == ["platform model comparison"]
    # a page opened more often in this process is warmed before the others
    opened = [s.name for s in console_steps(reports, [Scope(None)], views={"/console/models": 3.0})]
    assert opened[0] == "platform model comparison"
    assert {p.path for p in pages.PAGES if p.warm is not None} == set(OPERATOR_PAGES)


def test_a_report_asked_while_it_is_being_computed_is_computed_once(tmp_path: Any) -> None:
    """A page asked while the warm-up computes its report waits for that computation (same answer, or the same
    error) instead of starting a second one."""
    from hongmao.lake import Lake
    from hongmao.reports.service import Reports

    asked = threading.Semaphore(0)
    release = threading.Event()
    calls: list[str] = []

    def slow(answer: Any) -> Any:
        calls.append("computed")
        assert release.wait(300), "the test never released the computation"
        if isinstance(answer, Exception):
            raise answer
        return answer

    with Lake.open(tmp_path / "lake") as lake:
        reports = Reports(lake, on_lookup=lambda hit: asked.release())
        for key, answer in ((("ok",), {"rows": [1, 2]}), (("broken",), ValueError("no"))):
            release.clear()
            calls.clear()
            got: list[Any] = []

            def ask(key: tuple[str, ...] = key, answer: Any = answer, got: list[Any] = got) -> None:
                try:
                    got.append(reports._cached(key, lambda: slow(answer)))
                except ValueError as error:
                    got.append(error)

            threads = [threading.Thread(target=ask) for _ in range(3)]
            for t in threads:
                t.start()
            for _ in threads:  # every caller has looked the key up (and missed) before the computation ends
                assert asked.acquire(timeout=300)
            release.set()
            for t in threads:
                t.join(300)
            assert calls == ["computed"], key
            assert len(got) == 3 and all(g is got[0] for g in got), key
        assert reports._cached(("ok",), lambda: {"again": True}) == {"rows": [1, 2]}  # cached
        assert reports._cached(("broken",), lambda: "fixed") == "fixed"  # a failure is not cached
