"""Reports computed when the lake changes, not when someone asks: the console's first page view hits the cache.

One :class:`Warmup` per web app owns one background thread, started and stopped with the app's lifespan
(:func:`install` registers both hooks). The thread watches the lake's version (the list of committed segments,
a catalog read every :data:`POLL_SECONDS`): an ingest, a click fold, another worker's append or a demo loaded
before the server started all change it. For each new version it asks :class:`~hongmao.reports.service.Reports`
for what the console's pages show by default (default model and period) for the operator's view, if an
operator key exists, and for every brand with a live key: the same public calls the pages make, so the cache
holds the same values a cold request would compute (the warm-up adds no code path of its own to the numbers).

The steps come from the pages' table (:data:`hongmao.web.console.pages.PAGES`: each page names the report
calls it makes), page by page in the order pages are opened (the table's, before the views this process has
counted), each viewer's before the next page's. The model comparison's rule models are computed there (one
journeys table for all of them); its fitted models (Markov, Shapley, hazard, data-driven: minutes on a large
lake) are computed on the reports' own background thread, and the warm-up asks again for the comparison at the
very end, until nothing is pending: every other page of the new version is warm long before. A newer version,
or the app stopping, ends a warm-up between two reports (or while it waits for the fitted models); a report
that fails is logged and skipped. Nothing here takes the lake's write lock: reports read committed segments only.

Until a page's reports of the new version are in, the page shows the figures of the last version settled for it
(:meth:`~hongmao.reports.service.Reports.settle`, once its reports are in for every viewer; every page once
all are), marked as such (:mod:`hongmao.web.console.fresh`): the most opened pages are settled first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from hongmao.reports import period
from hongmao.reports.period import WHOLE_LAKE, Window
from hongmao.reports.scope import Scope
from hongmao.reports.service import DEFAULT_MODEL, Reports
from hongmao.web.console import pages
from hongmao.web.console.pages import Step
from hongmao.web.state import WebState

log = logging.getLogger(__name__)

#: How often the thread asks the catalog for the lake's version.
POLL_SECONDS = 0.5
#: How long stopping waits for the report being computed to finish: short, since a worker has seconds to stop
#: (``hongmao serve --stop-timeout``); a report still running then ends with the process, its result unused.
STOP_SECONDS = 2.0
#: The log line that says every page's reports are warm but the fitted models' (the latency bench watches it).
PAGES_WARMED = "console pages warmed"
#: How often the warm-up looks again at a model comparison whose fitted models are being computed.
READY_SECONDS = 0.5


def console_scopes(state: WebState) -> list[Scope]:
    """Whose views someone can open now: the platform's if an operator key is live, each brand's with a key."""
    from hongmao.web.auth import list_keys

    keys = list_keys(state.lake, include_revoked=False)
    known = set(state.reports.brands())
    scopes = [Scope(None)] if any(k.role == "operator" for k in keys) else []
    brands = sorted({k.brand for k in keys if k.brand is not None and k.brand in known})
    return scopes + [Scope(b) for b in brands]


def default_window(reports: Reports, scope: Scope) -> Window:
    """The range and filters a console page shows when the viewer has chosen none (as the console resolves
    them: no parameters, anchored on the lake's newest day, checked against the scope's choices)."""
    try:
        return period.check_window(period.parse({}, reports.newest_day()), reports.filter_choices(scope))
    except period.PeriodError:
        return WHOLE_LAKE


def page_views() -> dict[str, float]:
    """How often this process has served each console page (its request counter), for the warm-up's order."""
    from prometheus_client import REGISTRY

    views = {}
    for page in pages.PAGES:
        labels = {"method": "GET", "route": page.path, "status": "200"}
        views[page.path] = REGISTRY.get_sample_value("hongmao_http_requests_total", labels) or 0.0
    return views


def console_steps(
    reports: Reports, scopes: list[Scope], model: str = DEFAULT_MODEL, views: dict[str, float] | None = None
) -> Iterator[Step]:
    """The report calls behind the console's pages at their defaults (:data:`pages.PAGES`), most opened pages
    first; each scope's default window is worked out when the first step is asked for."""
    each = []
    for scope in scopes:
        w = default_window(reports, scope)
        each.append(pages.Defaults(reports, scope, model, w, period.previous(w)))
    yield from pages.steps(pages.ranked(views), each)


@dataclass
class Warmup:
    """The one owner of the warm-up of one app's reports: a thread, started once, stopped once."""

    state: WebState
    poll_seconds: float = POLL_SECONDS
    #: Versions warmed in full (the last one) and steps done, for tests and logs.
    warmed: str | None = None
    steps_done: int = 0
    failures: int = 0
    #: Seconds each report of the last warm-up took (the log names the slowest).
    timings: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _idle: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> None:
        with self._guard:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="hongmao-warmup", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask the thread to end and wait for the report it is computing (a no-op if it never started)."""
        with self._guard:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout)
        if thread.is_alive():
            log.info("a report was still being warmed at shutdown; it ends with the process")

    @property
    def running(self) -> bool:
        """Whether the thread is warming reports (console pages then never wait for one: console/fresh.py)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def nudge(self) -> None:
        """Look at the lake's version now rather than at the next poll (after an append this process made)."""
        self._wake.set()

    def wait_warm(self, timeout: float) -> bool:
        """Block until the lake's current version is warmed (tests, the bench); False on timeout."""
        version = self.state.reports.view.version()
        with self._idle:
            return self._idle.wait_for(lambda: self.warmed == version, timeout)

    def warm(self, version: str) -> bool:
        """Warm every console report for ``version``; False if stopped or the lake moved on before the end."""
        reports = self.state.reports
        self.timings = {}
        later: list[Step] = []
        began = time.perf_counter()
        page = ""
        for step in console_steps(reports, console_scopes(self.state), views=page_views()):
            if not self._current(version):
                return False
            if step.page != page:
                if page:  # the previous page's reports are in for every viewer: it shows this version now
                    reports.settle(version, page)
                page = step.page
            if self._step(step) and step.until_ready:
                later.append(step)
        if not self._current(version):
            return False
        if page:
            reports.settle(version, page)
        # Every page's reports of this version are in (the fitted models may follow): pages read it from now on.
        reports.settle(version)
        if later:
            seconds = time.perf_counter() - began
            log.info(
                "%s for lake version %s in %.1f s; the comparison's fitted models follow",
                PAGES_WARMED,
                version,
                seconds,
            )
        for step in later:  # the fitted models, computed on the reports' background thread meanwhile
            while self._current(version):
                if not self._step(step):
                    break
                if self._wake.wait(READY_SECONDS):  # a nudge: the version is looked at again above
                    self._wake.clear()
            if not self._current(version):
                return False
        return True

    def _current(self, version: str) -> bool:
        return not self._stop.is_set() and self.state.reports.view.version() == version

    def _step(self, step: Step) -> bool:
        """Make one report call; True if its answer names parts still pending (asked again later)."""
        began = time.perf_counter()
        pending = False
        try:
            answer = step.call()
        except Exception:  # a report's failure must not end the warm-up (nor the server): the page shows it
            if self._stop.is_set():  # the lake closed under a report still running at shutdown
                return False
            self.failures += 1
            log.exception("warming the report %r failed", step.name)
        else:
            pending = step.until_ready and bool(answer.get("pending"))
            if not pending:
                self.steps_done += 1
        self.timings[step.name] = self.timings.get(step.name, 0.0) + time.perf_counter() - began
        return pending

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                version = self.state.reports.view.version()
                if version != self.warmed:
                    if not self.warm(version):
                        continue  # the lake moved on (or we are stopping): start over at once
                    with self._idle:
                        self.warmed = version
                        self._idle.notify_all()
                    slowest = sorted(self.timings.items(), key=lambda kv: -kv[1])[:3]
                    log.info(
                        "reports warmed for lake version %s in %.1f s (slowest: %s)",
                        version,
                        sum(self.timings.values()),
                        ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest),
                    )
            except Exception:  # the catalog went away for a moment: try again at the next poll
                if not self._stop.is_set():
                    log.exception("the report warm-up failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()


def install(state: WebState) -> Warmup:
    """Give the app's state its warm-up, started and stopped by the app's lifespan."""
    warmup = Warmup(state)
    state.extras["warmup"] = warmup
    state.extras.setdefault("on_start", []).append(warmup.start)
    # First among the closing hooks: the thread stops before the lake it reads is closed.
    state.extras.setdefault("on_close", []).insert(0, warmup.stop)
    return warmup
