"""Reports computed when the lake changes, not when someone asks: the console's first page view hits the cache.

One :class:`Warmup` per web app owns one background thread, started and stopped with the app's lifespan
(:func:`install` registers both hooks). The thread watches the lake's version (the list of committed segments,
a catalog read every :data:`POLL_SECONDS`): an ingest, a click fold, another worker's append or a demo loaded
before the server started all change it. For each new version it asks :class:`~hongmao.reports.service.Reports`
for what the console's pages show by default (default model and period) for the operator's view, if an
operator key exists, and for every brand with a live key: the same public calls the pages make, so the cache
holds the same values a cold request would compute (the warm-up adds no code path of its own to the numbers).

The cheap, much-visited pages come first and the model comparison (every model) last. A newer version, or the
app stopping, ends a warm-up between two reports; a report that fails is logged and skipped. Nothing here
takes the lake's write lock: reports read committed segments only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from hongmao.engine.attribute import MODELS
from hongmao.reports import period
from hongmao.reports.period import WHOLE_LAKE, Window
from hongmao.reports.scope import Scope
from hongmao.reports.service import DEFAULT_MODEL, Reports
from hongmao.web.state import WebState

log = logging.getLogger(__name__)

#: How often the thread asks the catalog for the lake's version.
POLL_SECONDS = 0.5
#: How long stopping waits for the report being computed to finish: short, since a worker has seconds to stop
#: (``hongmao serve --stop-timeout``); a report still running then ends with the process, its result unused.
STOP_SECONDS = 2.0
#: What the console's overview shows of the latest orders (``/console/`` asks for 12).
OVERVIEW_ORDERS = 12
#: The model comparison's rows and default key (``/console/models``).
COMPARE_TOP = 15
COMPARE_BY = "note"

Step = tuple[str, Callable[[], Any]]


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


def console_steps(reports: Reports, scopes: list[Scope], model: str = DEFAULT_MODEL) -> Iterator[Step]:
    """The report calls behind the console's pages at their defaults, most visited first, the model comparison
    last (each scope's default window is worked out lazily, between two steps)."""
    windows: dict[Scope, Window] = {}
    for scope in scopes:
        who = scope.brand or "platform"
        windows[scope] = w = default_window(reports, scope)
        for v in (w, period.previous(w)):
            if v is None:
                continue
            yield f"{who} overview", partial(reports.overview, scope, model, window=v)
            yield f"{who} timeseries", partial(reports.timeseries, scope, window=v)
            yield f"{who} funnel", partial(reports.funnel, scope, window=v)
        yield f"{who} orders", partial(reports.orders, scope, model, OVERVIEW_ORDERS, window=w)
    for scope in scopes:
        who, w = scope.brand or "platform", windows[scope]
        yield f"{who} notes", partial(reports.notes, scope, model, window=w)
        yield f"{who} campaigns", partial(reports.campaigns, scope, model, window=w)
        yield f"{who} campaign ROIs", partial(reports.campaign_rois, scope, model, window=w)
        yield f"{who} economics", partial(reports.economics, scope, model, window=w)  # the creators page
        if scope.brand is not None:  # what a brand's rows rest on, for the k-threshold (reports/privacy.py)
            for by in ("note", "creator", "campaign"):
                yield f"{who} buyers by {by}", partial(reports.buyers, scope, by, model, window=w)
        # the links page (its tables over the whole lake)
        yield f"{who} link notes", partial(reports.notes, scope, model)
        yield f"{who} items", partial(reports.items, scope)
        yield f"{who} ownership", partial(reports.ownership, scope)
        yield f"{who} link clicks", partial(reports.link_clicks, scope)
    platform = next((s for s in scopes if s.brand is None), None)
    if platform is not None:
        w = windows[platform]
        for v in (w, period.previous(w)):
            if v is not None:
                yield "platform table", partial(reports.platform, model, window=v)
        yield "trust", reports.trust
    for scope in scopes:
        who = scope.brand or "platform"
        compare = partial(reports.compare, scope, COMPARE_BY, list(MODELS), COMPARE_TOP, model, window=windows[scope])
        yield f"{who} model comparison", compare
        if scope.brand is not None:
            for m in MODELS:
                yield f"{who} buyers under {m}", partial(reports.buyers, scope, COMPARE_BY, m, window=windows[scope])


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
        for name, step in console_steps(reports, console_scopes(self.state)):
            if self._stop.is_set() or reports.view.version() != version:
                return False
            began = time.perf_counter()
            try:
                step()
            except Exception:  # a report's failure must not end the warm-up (nor the server): the page shows it
                if self._stop.is_set():  # the lake closed under a report still running at shutdown
                    return False
                self.failures += 1
                log.exception("warming the report %r failed", name)
            else:
                self.steps_done += 1
            self.timings[name] = time.perf_counter() - began
        return True

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
