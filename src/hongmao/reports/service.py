"""The reports a brand's console and the REST API show, for one :class:`~hongmao.reports.scope.Scope`.

:class:`Reports` is the one object the web layer talks to. Every method takes the scope first and reads only
the segments :class:`~hongmao.reports.scope.LakeView` hands out for it. Results are cached per lake version
(any append makes a new version), so a console page that asks for the same numbers twice computes them once.

Every report also takes a :class:`~hongmao.reports.period.Window` (a date range and filters; default: the
whole lake, unfiltered), part of its cache key. The window narrows the events table the engine reads, in
the engine's own query (:func:`restrict`): orders placed in the range, touches in it (and, for attribution,
up to :data:`LOOKBACK_DAYS` before it, so an order early in the range keeps the touches that led to it),
the activity counts (impressions, reads, clicks, the funnel) over the range alone. Registrations (notes,
items, campaigns, links) are never cut by time: a note published last month still has its title.

Privacy: counts of people (readers, search-back users, buyers, new-customer share) under ``privacy_k``
(default 50) are suppressed: the value is ``None`` and the report's ``suppressed`` list names the field.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import ibis

from hongmao.contract import ENGAGEMENT_TYPES
from hongmao.engine import AttributionResult, Session, attribute, tables
from hongmao.engine.attribute import MODELS, attribute_rules
from hongmao.engine.exact import exact_sum
from hongmao.engine.funnel import funnel
from hongmao.errors import LakeError
from hongmao.lake import Lake
from hongmao.reports import linkstats, metrics, privacy
from hongmao.reports.period import WHOLE_LAKE, Window, business_tz
from hongmao.reports.scope import BRAND_RECORDS, ITEM_TOUCHES, ORDER_CHILDREN, LakeView, Ownership, Scope

T = TypeVar("T")
log = logging.getLogger(__name__)
DEFAULT_MODEL = "linear"
PEOPLE_COUNTS = ("readers", "search_back_users", "community_people", "market_people", "matched_people")
#: Rule models give a per-order split; the data-driven ones only credit channels in aggregate.
PER_ORDER_FALLBACK = "linear"
#: How far before a range's first day attribution reads touches (above every lookback window and decision cycle).
LOOKBACK_DAYS = 90.0
REGISTRATIONS = (*BRAND_RECORDS, "link.created")
#: The events behind each touch kind (dropped when a ``touches`` filter leaves the kind out).
KIND_EVENTS: dict[str, tuple[str, ...]] = {
    "impression": ("note.impression",),
    "read": ("note.read",),
    "engagement": tuple(ENGAGEMENT_TYPES),
    "click": ("link.click",),
    "search": ("community.search", "market.search"),
}


def _wkey(window: Window) -> tuple[Any, ...]:
    return (window.period.key() if window.period else None, window.filters.key())


def restrict(ev: Any, window: Window, tz: Any, lookback_days: float = 0.0) -> Any:
    """``ev`` (the events table) narrowed to ``window``, as one engine expression.

    Orders placed inside the range (and, with an item filter, of the chosen items) with their refunds and
    reviews; touches inside it, from ``lookback_days`` before it; registrations whatever their time, narrowed
    by the filters: a campaign, tier or disclosure filter keeps the chosen notes and their touches, links and
    clicks; an item or category filter the chosen items, their orders, visits, carts and favourites."""
    period, f = window.period, window.filters
    if period is None and f.empty:
        return ev
    kind = ev.type
    meta = kind.isin(list(REGISTRATIONS))
    order = kind == "market.order"
    child = kind.isin(list(ORDER_CHILDREN))
    touch = ~(meta | order | child)
    keep_meta, keep_order, keep_touch = meta, order, touch
    if period is not None:
        lo, hi = period.bounds(tz)
        keep_order = keep_order & (ev.time >= lo) & (ev.time < hi)
        keep_touch = keep_touch & (ev.time >= lo - timedelta(days=lookback_days)) & (ev.time < hi)
    if f.touches is not None:
        dropped = [t for k, types in KIND_EVENTS.items() if k not in f.touches for t in types]
        keep_touch = keep_touch & ~kind.isin(dropped)
    if f.notes:
        notes = metrics.note_meta(ev)
        chosen = ibis.literal(True)
        if f.campaign is not None:
            chosen = chosen & (notes.campaign_id == f.campaign)
        if f.tier is not None:
            chosen = chosen & (notes.tier == f.tier)
        if f.disclosed is not None:
            chosen = chosen & (notes.disclosed.fill_null(False) == f.disclosed)
        note_ids = notes.filter(chosen).note_id
        links = tables.links(ev)
        link_ids = links.filter(links.link_note.isin(note_ids)).link_id
        note_ok, link_ok = ev.note_id.isin(note_ids), ev.link_id.isin(link_ids)
        about_note = kind.startswith("note.")
        about_link = kind.isin(["link.created", "link.click"])
        keep_touch = keep_touch & (~about_note | note_ok) & (~about_link | link_ok)
        keep_meta = keep_meta & (~about_note | note_ok) & (~about_link | link_ok)
        if f.campaign is not None:
            own_campaign = ev.campaign_id == f.campaign
            keep_meta = keep_meta & ((kind != "campaign.created") | own_campaign)
            keep_meta = keep_meta & ((kind != "collaboration.created") | note_ok | own_campaign)
        else:
            keep_meta = keep_meta & ((kind != "collaboration.created") | note_ok)
    if f.items:
        items = metrics.item_meta(ev)
        chosen = ibis.literal(True)
        if f.item is not None:
            chosen = chosen & (items.item_id == f.item)
        if f.category is not None:
            chosen = chosen & (items.category == f.category)
        item_ok = ev.item_id.isin(items.filter(chosen).item_id)
        keep_meta = keep_meta & ((kind != "item.listed") | item_ok)
        keep_order = keep_order & item_ok
        keep_touch = keep_touch & (~kind.isin(list(ITEM_TOUCHES)) | item_ok)
    keep_child = child
    if period is not None or f.items:
        keep_child = child & ev.order_id.isin(ev.filter(keep_order.fill_null(False)).order_id)
    return ev.filter((keep_meta | keep_order | keep_child | keep_touch).fill_null(False))


class _WindowSession(Session):
    """An engine session whose ``events`` table is narrowed by ``narrow``: every engine function reads it."""

    def __init__(self, segments: Sequence[Path], narrow: Callable[[Any], Any] | None = None) -> None:
        super().__init__(segments)
        self._narrow = narrow
        self._narrowed: Any = None

    @property
    def events(self) -> Any:
        base = super().events
        if self._narrow is None:
            return base
        if self._narrowed is None:
            self._narrowed = self._narrow(base)
        return self._narrowed


class _Query:
    """One engine session over one scope's segments, the flagged accounts' engagement left out; closed after use."""

    def __init__(
        self, segments: Sequence[Path], exclude_users: Sequence[str] = (), window: Window = WHOLE_LAKE, tz: Any = None
    ) -> None:
        self.session = Session(segments)
        base = self.session.events
        #: Orders in the window with the touches that led to them (attribution's view) ...
        self.ev = tables.without_engagement(restrict(base, window, tz, LOOKBACK_DAYS), exclude_users or None)
        #: ... and everything inside the window alone (activity counts).
        self.act = tables.without_engagement(restrict(base, window, tz), exclude_users or None)
        #: The scope's orders whatever the window: a buyer in the range who bought before it is no new customer.
        self.all_orders = tables.conversions(base)

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        return self.session.rows(expr)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> _Query:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num is not None and den else None


@dataclass
class Freshness:
    """What one console page was served, when it may show the figures of an earlier lake version.

    ``pin``: the lake version the page reads first (the newest one whose console pages the warm-up finished; None:
    the current one). ``deadline`` (a :func:`time.monotonic` time): how long a report with no figures of any
    version may be waited for; past it :class:`Computing` is raised. ``stale``: the earlier versions the page's
    figures came from, each with the time this process first saw it (what the page's notice says)."""

    pin: str | None
    deadline: float
    stale: dict[str, float] = field(default_factory=dict)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


class Computing(Exception):
    """A report with no figures of any lake version yet was not ready within the page's budget."""


_FRESHNESS: ContextVar[Freshness | None] = ContextVar("hongmao_report_freshness", default=None)


def freshness() -> Freshness | None:
    """The stale-tolerant reading in force for this request (None: reports block until current)."""
    return _FRESHNESS.get()


#: How many lake versions a process remembers the order of (each ingest, click fold or key change makes one).
VERSIONS_KEPT = 4096


class Reports:
    def __init__(
        self,
        lake: Lake,
        *,
        privacy_k: int = 50,
        cache_size: int = 256,
        exclude_flagged: bool = True,
        on_lookup: Callable[[bool], None] | None = None,
    ) -> None:
        """``on_lookup(hit)`` is told of every cache lookup (the server's metrics count them)."""
        self.lake = lake
        self.view = LakeView(lake)
        self.privacy_k = privacy_k
        #: Leave the engagement of accounts the trust guard flags for fake engagement out of every report.
        self.exclude_flagged = exclude_flagged
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._cache_size = cache_size
        self._on_lookup = on_lookup
        self._lock = threading.Lock()
        #: Reports being computed now, by cache key: a second caller (a page asked while the warm-up computes
        #: it) waits for that computation instead of starting its own.
        self._running: dict[tuple[Any, ...], Future[Any]] = {}
        #: The campaigns' holdout key; None: read it from the settings (or a simulated world beside the lake).
        self._holdout_key: str | None = None
        from hongmao.reports.comparison import Background

        #: The model comparison's fitted models, computed off the caller's thread (:meth:`compare`).
        self._fits = Background()
        #: Lake versions in the order this process first saw them, with when (stale figures say as of when).
        self._seen: OrderedDict[str, float] = OrderedDict()
        #: Per cache key without the version: the newest version whose answer is in the cache.
        self._latest: dict[tuple[Any, ...], str] = {}
        #: The newest version whose console pages the warm-up finished (the version stale pages are pinned to).
        self._settled: str | None = None
        #: Per console page (path): the newest version whose reports for that page the warm-up finished.
        self._settled_pages: dict[str, str] = {}
        #: Reports a stale-tolerant page asked for, computed one at a time on one background thread.
        self._refresh_jobs: queue.Queue[tuple[tuple[Any, ...], Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._closed = False
        self._queued: dict[tuple[Any, ...], Future[Any]] = {}
        self._refresher: threading.Thread | None = None
        from hongmao import settings

        #: The business day's time zone: date ranges run midnight to midnight here.
        self.tz = business_tz(settings.get("business_tz"))

    # --- plumbing ----------------------------------------------------------------------------------------

    def close(self, timeout: float | None = None) -> None:
        """Stop the background threads: the refresh thread's queued reports are cancelled and the one it computes
        is waited for (as the model comparison's fits are, :meth:`Background.close`), so that no engine query
        runs on a daemon thread while the process exits. The lake is the caller's."""
        from hongmao.reports.comparison import CLOSE_SECONDS

        with self._lock:
            self._closed = True
            refresher, self._refresher = self._refresher, None
        while True:
            try:
                queued = self._refresh_jobs.get_nowait()
            except queue.Empty:
                break
            if queued is not None:
                queued[2].cancel()
        if refresher is not None:
            self._refresh_jobs.put(None)
            refresher.join(CLOSE_SECONDS if timeout is None else timeout)
        self._fits.close(CLOSE_SECONDS if timeout is None else timeout)

    def _note_version(self, version: str) -> None:
        """Remember ``version``'s place among the versions seen (under ``self._lock``)."""
        if version not in self._seen:
            self._seen[version] = time.time()
            while len(self._seen) > VERSIONS_KEPT:
                self._seen.popitem(last=False)

    def _newer(self, a: str, b: str) -> bool:
        """Whether version ``a`` was seen after ``b`` (a version forgotten counts as the oldest)."""
        order = {v: i for i, v in enumerate(self._seen)}
        return order.get(a, -1) >= order.get(b, -1)

    def _store(self, full: tuple[Any, ...], value: Any) -> None:
        """Keep ``value`` for ``full`` (version, *key) (under ``self._lock``)."""
        version, key = full[0], full[1:]
        self._cache[full] = value
        known = self._latest.get(key)
        if known is None or self._newer(version, known):
            self._latest[key] = version
        while len(self._cache) > self._cache_size:
            (gone, *rest), _ = self._cache.popitem(last=False)
            if self._latest.get(tuple(rest)) == gone:
                del self._latest[tuple(rest)]

    def settle(self, version: str, page: str | None = None) -> None:
        """The warm-up finished ``version``'s reports of console ``page`` (None: of every page) for every
        viewer: stale-tolerant renderings of it now read that version (unless a newer one settled before)."""
        with self._lock:
            self._note_version(version)
            if page is not None:
                known = self._settled_pages.get(page)
                if known is None or self._newer(version, known):
                    self._settled_pages[page] = version
            elif self._settled is None or self._newer(version, self._settled):
                self._settled = version

    def settled(self, page: str | None = None) -> str | None:
        """The newest version settled for ``page`` (by its own reports or with every page); None: none yet."""
        with self._lock:
            own, every = self._settled_pages.get(page or ""), self._settled
            if own is None or (every is not None and self._newer(every, own)):
                return every
            return own

    @contextlib.contextmanager
    def serve_stale(self, budget: float, page: str | None = None) -> Iterator[Freshness]:
        """Within the block, this context's reports never make the caller wait for a recomputation.

        A report of the version the warm-up last finished for console ``page`` is answered from it (the page
        says as of which version). One not computed yet for the current version is computed in the background,
        waited for at most ``budget`` seconds in all and, if not ready, answered from the newest earlier
        version that has it, else :class:`Computing` is raised. Cache keys are those of current figures but
        the version, so a scope, window, model or privacy setting never gets another's figures."""
        settled = self.settled(page)
        pin = settled if settled is not None and settled != self.view.version() else None
        token = _FRESHNESS.set(Freshness(pin, time.monotonic() + budget))
        try:
            f = _FRESHNESS.get()
            assert f is not None
            yield f
        finally:
            _FRESHNESS.reset(token)

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """The cached answer for ``key`` at the lake's version; computed once, however many threads ask at once
        (the others wait for it and get the same answer, or the same error). Inside :meth:`serve_stale`, maybe
        an earlier version's answer (see there)."""
        version = self.view.version()
        full = (version, *key)
        tolerant = _FRESHNESS.get()
        with self._lock:
            self._note_version(version)
            if tolerant is not None and tolerant.pin is not None and (tolerant.pin, *key) in self._cache:
                pinned: T = self._cache[(tolerant.pin, *key)]
                tolerant.stale[tolerant.pin] = self._seen.get(tolerant.pin, 0.0)
                self._cache.move_to_end((tolerant.pin, *key))
                hit_pin = True
            else:
                hit_pin = False
            hit = not hit_pin and full in self._cache
            if hit:
                self._cache.move_to_end(full)
                value: T = self._cache[full]
                running = None
            elif hit_pin or tolerant is not None:
                running = None
            else:
                running = self._running.get(full)
                mine = running is None
                if running is None:
                    running = self._running[full] = Future()
        if self._on_lookup is not None:
            self._on_lookup(hit or hit_pin)
        if hit_pin:
            return pinned
        if hit:
            return value
        if tolerant is not None:
            return self._tolerant(key, full, compute, tolerant)
        assert running is not None
        if not mine:
            shared: T = running.result()
            return shared
        try:
            value = compute()
        except BaseException as error:
            with self._lock:
                del self._running[full]
            running.set_exception(error)
            raise
        with self._lock:
            self._store(full, value)
            del self._running[full]
        running.set_result(value)
        return value

    def _tolerant(self, key: tuple[Any, ...], full: tuple[Any, ...], compute: Callable[[], T], f: Freshness) -> T:
        """A stale-tolerant miss: the computation (shared with any running one) waited for within the page's
        budget, else the newest earlier answer, else :class:`Computing`."""
        future = self._in_background(full, lambda: self._cached(key, compute))
        try:
            done: T = future.result(timeout=f.remaining())
            return done
        except FutureTimeout:
            pass
        with self._lock:
            version = self._latest.get(key)
            if version is not None and (version, *key) in self._cache:
                old: T = self._cache[(version, *key)]
                if version != full[0]:  # (else it came in just now: current after all)
                    f.stale[version] = self._seen.get(version, 0.0)
                return old
        raise Computing(str(key[0]))

    def _in_background(self, job: tuple[Any, ...], compute: Callable[[], Any]) -> Future[Any]:
        """``compute`` on the refresh thread (one job per ``job`` key at a time), or the running computation of
        the same report; its future."""
        with self._lock:
            running = self._running.get(job) or self._queued.get(job)
            if running is not None:
                return running
            future: Future[Any] = Future()
            if self._closed:
                future.set_exception(LakeError("the server is shutting down: no new reports are computed"))
                return future
            self._queued[job] = future
            if self._refresher is None or not self._refresher.is_alive():
                # A new thread starts with an empty context: its reports are computed current, never stale.
                self._refresher = threading.Thread(target=self._refresh, name="hongmao-refresh", daemon=True)
                self._refresher.start()
        self._refresh_jobs.put((job, compute, future))
        return future

    def _refresh(self) -> None:
        while True:
            item = self._refresh_jobs.get()
            if item is None:  # close()
                return
            job, compute, future = item
            try:
                value = compute()
            except BaseException as error:  # the page asking again shows it; the thread carries on
                log.info("a report computed for a page failed: %r", error)
                future.set_exception(error)
            else:
                future.set_result(value)
            finally:
                with self._lock:
                    self._queued.pop(job, None)

    def _query(self, scope: Scope, window: Window = WHOLE_LAKE) -> _Query:
        return _Query(self.view.segments(scope), self.excluded_users(), window, self.tz)

    def _session(self, scope: Scope, window: Window = WHOLE_LAKE, lookback_days: float = 0.0) -> Session:
        """A session over the scope's segments whose events table is ``window``'s."""
        if window == WHOLE_LAKE:
            return Session(self.view.segments(scope))
        return _WindowSession(self.view.segments(scope), lambda ev: restrict(ev, window, self.tz, lookback_days))

    def newest_day(self) -> date | None:
        """The business day of the lake's newest activity (presets are anchored on it); None: an empty lake.

        Registrations are left out: a link made today for last month's note says nothing of the data's days."""

        def compute() -> date | None:
            with Session(self.view.segments(Scope(None))) as session:
                ev = session.events
                newest = session.scalar(ev.filter(~ev.type.isin(list(REGISTRATIONS))).time.max())
            if newest is None:
                return None
            aware = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
            day: date = aware.astimezone(self.tz).date()
            return day

        return self._cached(("newest_day",), compute)

    def _spend(self, campaigns: list[dict[str, Any]], window: Window) -> float:
        """The campaigns' spend, in a range only the part of it on the range's days (spread evenly per day)."""
        if window.period is None:
            return sum(_num(c["spend"]) for c in campaigns)
        p = window.period
        return sum(v for d, v in _daily_spend(campaigns, self.tz).items() if p.start <= d <= p.end)

    def excluded_users(self) -> list[str]:
        """The accounts whose engagement every report leaves out (their sales stay): those flagged for fake
        engagement, judged over the whole lake (the platform judges accounts, whichever brand is looking)."""
        if not self.exclude_flagged:
            return []
        from hongmao.engine.trust import flagged_accounts

        def compute() -> list[str]:
            with Session(self.view.segments(Scope(None))) as session:
                return flagged_accounts(session)

        return self._cached(("flagged_accounts",), compute)

    # --- who owns what -----------------------------------------------------------------------------------

    def brands(self) -> list[str]:
        """Every brand the lake knows (from items, notes and campaigns)."""

        def compute() -> list[str]:
            with self._query(Scope(None)) as q:
                ev = q.ev
                named = ev.filter(ev.type.isin(["item.listed", "note.published", "campaign.created"]))
                rows = q.rows(named.filter(named.brand.notnull()).select("brand").distinct().order_by("brand"))
            return [r["brand"] for r in rows]

        return self._cached(("brands",), compute)

    def ownership(self, scope: Scope) -> Ownership:
        def compute() -> Ownership:
            with self._query(scope) as q:
                ev = q.ev

                def ids(kind: str | list[str], column: str) -> frozenset[str]:
                    kinds = [kind] if isinstance(kind, str) else kind
                    sel = ev.filter(ev.type.isin(kinds) & ev[column].notnull()).select(column).distinct()
                    return frozenset(r[column] for r in q.rows(sel))

                return Ownership(
                    notes=ids("note.published", "note_id"),
                    items=ids("item.listed", "item_id"),
                    stores=ids("item.listed", "store_id"),
                    orders=ids("market.order", "order_id"),
                    links=ids("link.created", "link_id"),
                    campaigns=ids(["campaign.created", "note.published"], "campaign_id"),
                    creators=ids("note.published", "creator_id"),
                )

        return self._cached(("ownership", scope.brand), compute)

    # --- attribution -------------------------------------------------------------------------------------

    def attribution(
        self,
        scope: Scope,
        by: str = "note",
        model: str = DEFAULT_MODEL,
        *,
        touches: Sequence[str] | None = None,
        half_life_days: float = 7.0,
        markov_order: int = 1,
        window: Window = WHOLE_LAKE,
    ) -> AttributionResult:
        if touches is None and window.filters.touches is not None:
            touches = window.filters.touches
        key = _attribution_key(scope, by, model, touches, half_life_days, markov_order, window)

        def compute() -> AttributionResult:
            excluded = self.excluded_users() or None
            with self._session(scope, window, LOOKBACK_DAYS) as session:
                return attribute(
                    session,
                    model=model,
                    by=by,
                    touches=touches,
                    half_life_days=half_life_days,
                    markov_order=markov_order,
                    exclude_users=excluded,
                )

        return self._cached(key, compute)

    def buyers(
        self, scope: Scope, by: str = "note", model: str = DEFAULT_MODEL, *, window: Window = WHOLE_LAKE
    ) -> dict[str, int]:
        """Distinct buyers behind each attribution key under ``model``: the people whose orders gave the key any
        credit (rule models: a touch with weight above zero; data-driven ones: any touch in the order's window,
        split as :data:`PER_ORDER_FALLBACK`). What a row's figures rest on, for the k-threshold."""
        from hongmao.engine import credit

        split = _split(model)

        def compute() -> dict[str, int]:
            with self._query(scope, window) as q:
                _conv, j = metrics.journeys(q.ev)
                weighted = credit.weights(j, split, credit.rule_params(split, 7.0))
                keyed = weighted.filter(weighted.weight > 0).mutate(key=credit.credit_key(weighted, by))
                rows = q.rows(keyed.group_by("key").aggregate(buyers=keyed.user.nunique()))
            return {str(r["key"]): int(r["buyers"]) for r in rows}

        return self._cached(("buyers", scope.brand, by, split, *_wkey(window)), compute)

    def actors(
        self, scope: Scope, by: str = "", *, window: Window = WHOLE_LAKE, link_id: str | None = None
    ) -> dict[str, dict[str, int]]:
        """Per activity figure (:data:`hongmao.reports.activity.FIGURES`), the distinct people behind each key's
        count under ``by`` (``note``, ``creator``, ``campaign``, ``day``, ``link``, ``ua_class``, or ``""``: the
        window's), ``link_id``: that link's clicks alone. What a key's activity counts rest on, for the
        k-threshold (:func:`hongmao.reports.privacy.activity`); a key with no event of a figure is absent."""
        from hongmao.reports import activity

        def compute() -> dict[str, dict[str, int]]:
            with self._query(scope, window) as q:
                rows = q.rows(activity.actors(q.act, by, self.tz, link_id=link_id))
            out: dict[str, dict[str, int]] = {}
            for r in rows:
                out.setdefault(str(r["figure"]), {})[activity.key_text(r["key"])] = int(r["actors"])
            return out

        return self._cached(("actors", scope.brand, by, link_id, *_wkey(window)), compute)

    def compare(
        self,
        scope: Scope,
        by: str = "note",
        models: Sequence[str] = MODELS,
        top: int = 20,
        rank: str | None = None,
        *,
        window: Window = WHOLE_LAKE,
        wait: bool = True,
    ) -> dict[str, Any]:
        """The same keys' credit under each model side by side, keys ranked by ``rank``'s (default: the first
        model's) net GMV, plus any key another model puts in its top three.

        The rule models are credited from one journeys table (:func:`hongmao.engine.attribute.attribute_rules`),
        each result cached as :meth:`attribution`'s. The fitted ones (Markov, Shapley, hazard, data-driven) take
        far longer: with ``wait=False`` those not computed yet are computed on a background thread and the answer
        names them in ``pending``, without them in ``models``, the rows and the totals (ask again later); a caller
        who waits shares a computation of the same model already running there."""
        results, failed = self._compared(scope, by, models, window, wait)
        ready = [m for m in models if m in results]
        first = results[rank] if rank in results else results[ready[0]] if ready else None
        ranked = sorted(first.rows, key=lambda r: -r["net_gmv"])[:top] if first is not None else []
        keys: list[str] = [r["key"] for r in ranked]
        for result in results.values():  # keys another model ranks high appear too
            for row in sorted(result.rows, key=lambda r: -r["net_gmv"])[:3]:
                if row["key"] not in keys:
                    keys.append(row["key"])
        by_model = {m: {r["key"]: r for r in res.rows} for m, res in results.items()}
        rows = []
        for k in keys:
            cells = {m: by_model[m].get(k, {"orders": 0.0, "gmv": 0.0, "net_gmv": 0.0}) for m in ready}
            rows.append(
                {
                    "key": k,
                    "orders": {m: c["orders"] for m, c in cells.items()},
                    "net_gmv": {m: c["net_gmv"] for m, c in cells.items()},
                }
            )
        out: dict[str, Any] = {
            "by": by,
            "models": ready,
            "rows": rows,
            "total_orders": {m: results[m].total_orders for m in ready},
        }
        if not wait:
            out["pending"] = [m for m in models if m not in results and m not in failed]
            if failed:
                out["failed"] = failed
        return out

    def _compared(
        self, scope: Scope, by: str, models: Sequence[str], window: Window, wait: bool
    ) -> tuple[dict[str, AttributionResult], list[str]]:
        """The comparison's results per model (without the fitted models still being computed, unless ``wait``),
        and, unless ``wait``, the fitted models whose background computation failed (logged there; a caller who
        waits gets the error)."""
        from functools import partial

        from hongmao.reports import comparison

        touches = window.filters.touches
        keys = {m: _attribution_key(scope, by, m, touches, 7.0, 1, window) for m in models}
        version = self.view.version()
        tolerant = _FRESHNESS.get()
        pin = tolerant.pin if tolerant is not None else None
        with self._lock:
            known = {}
            for m in models:
                for v in (pin, version) if pin is not None else (version,):
                    if (v, *keys[m]) in self._cache:
                        known[m] = self._cache[(v, *keys[m])]
                        if tolerant is not None and v != version:
                            tolerant.stale[v] = self._seen.get(v, 0.0)
                        break
        rules = [m for m in models if m in comparison.RULE_MODELS and m not in known]
        if rules:

            def compute() -> dict[str, AttributionResult]:
                excluded = self.excluded_users() or None
                with self._session(scope, window, LOOKBACK_DAYS) as session:
                    return attribute_rules(session, rules, by, touches, excluded)

            def store() -> dict[str, AttributionResult]:
                computed = compute()
                return {m: self._cached(keys[m], partial(computed.__getitem__, m)) for m in rules}

            if tolerant is None:
                known.update(store())
            else:  # a page never waits for the rule models either: computed in the background, named pending
                job = ("compare_rules", version, *keys[rules[0]], tuple(rules))
                future = self._in_background(job, store)
                with contextlib.suppress(FutureTimeout):
                    known.update(future.result(timeout=tolerant.remaining()))
        out: dict[str, AttributionResult] = {}
        failed: list[str] = []
        for m in models:
            if m in known:
                out[m] = known[m]
                continue
            key = (version, *keys[m])
            running = self._fits.running(key)
            if wait and running is None:  # computed here, not queued behind other fits
                out[m] = self.attribution(scope, by, m, window=window)
                continue
            future = running or self._fits.submit(key, partial(self.attribution, scope, by, m, window=window))
            if wait:
                out[m] = future.result()
            elif future.done():
                if future.exception() is None:
                    out[m] = future.result()
                else:  # a page names it; the next lake version tries again
                    failed.append(m)
        return out, failed

    # --- funnel and overview -----------------------------------------------------------------------------

    def funnel(
        self, scope: Scope, *, window: Window = WHOLE_LAKE, k: int | None = None, unsuppressed: bool = False
    ) -> dict[str, Any]:
        """The funnel; its people counts under ``k`` (default ``privacy_k``) withheld, and its activity counts
        and sales when the window's people behind them are (:func:`hongmao.reports.privacy.activity_totals`),
        unless ``unsuppressed`` (operators). The cache holds the unsuppressed answer, shared by every caller."""

        def compute() -> dict[str, Any]:
            excluded = self.excluded_users() or None
            with self._session(scope, window) as session:
                out: dict[str, Any] = funnel(session, exclude_users=excluded)
            return out

        raw = self._cached(("funnel", scope.brand, *_wkey(window)), compute)
        if unsuppressed:
            return {**raw, "suppressed": []}
        k = self.privacy_k if k is None else k
        return privacy.activity_totals(privacy.funnel(raw, PEOPLE_COUNTS, k), self.actors(scope, window=window), k)

    def overview(
        self,
        scope: Scope,
        model: str = DEFAULT_MODEL,
        *,
        window: Window = WHOLE_LAKE,
        k: int | None = None,
        unsuppressed: bool = False,
    ) -> dict[str, Any]:
        """Spend, GMV, attributed GMV and net GMV under ``model``, attributed ROI, orders and new-customer share.

        ``attributed_roi`` is the net GMV ``model`` credits to *every* note of the scope (organic notes too) ÷
        the spend of all its campaigns (``roi_kind`` says so): not a campaign's ROI, and not incremental.

        ``buyers``: the window's distinct buyers. Totals and people counts under ``k`` (default: the strictest of
        ``privacy_k`` and the parties') are withheld (:func:`hongmao.reports.privacy.overview`) unless
        ``unsuppressed`` (operators). The cache holds the unsuppressed answer, shared by every caller."""

        def compute() -> dict[str, Any]:
            with self._query(scope, window) as q:
                conv, j = metrics.journeys(q.ev)
                totals = q.rows(
                    conv.aggregate(
                        orders=conv.count(),
                        gmv=exact_sum(conv.amount),
                        refunded=exact_sum(conv.refunded),
                        net_gmv=exact_sum(conv.net),
                        buyers=conv.user.nunique(),
                    )
                )[0]
                spend = self._spend(q.rows(metrics.campaign_meta(q.ev)), window)
                people = q.rows(metrics.new_customers(q.all_orders, j))[0]
            result = self.attribution(scope, "note", model, window=window)
            attributed_gmv = sum(r["gmv"] for r in result.rows)
            attributed_net = sum(r["net_gmv"] for r in result.rows)
            buyers, returning = int(people["buyers"] or 0), int(people["returning"] or 0)
            out: dict[str, Any] = {
                "brand": scope.brand,
                "model": model,
                "spend": _num(spend),
                "orders": int(totals["orders"] or 0),
                "gmv": _num(totals["gmv"]),
                "refunded": _num(totals["refunded"]),
                "net_gmv": _num(totals["net_gmv"]),
                "buyers": int(totals["buyers"] or 0),
                "attributed_orders": result.total_orders,
                "attributed_gmv": attributed_gmv,
                "attributed_net_gmv": attributed_net,
                # Every note's credit (organic ones too) over the campaigns' spend: not any campaign's ROI.
                "attributed_roi": _ratio(attributed_net, _num(spend)),
                "roi_kind": "attributed_all_notes",
                "attributed_buyers": buyers,
                "new_customers": buyers - returning,
                "new_customer_share": _ratio(buyers - returning, buyers),
                "suppressed": [],
            }
            return out

        raw = self._cached(("overview", scope.brand, model, *_wkey(window)), compute)
        if unsuppressed:
            return dict(raw)
        return privacy.overview(raw, privacy.threshold(self.privacy_k) if k is None else k)

    def timeseries(self, scope: Scope, *, window: Window = WHOLE_LAKE) -> list[dict[str, Any]]:
        """One row per business day: spend, orders, GMV, net GMV, attributed GMV, impressions, reads, clicks;
        in a range, every day of it (days without data as zeros) and no other. Each day also carries what its
        figures rest on, for the k-threshold (:func:`hongmao.reports.privacy.timeseries`, applied per caller):
        ``buyers`` (distinct people ordering that day) and ``attributed_buyers`` (those of its attributed orders)."""

        def compute() -> list[dict[str, Any]]:
            with self._query(scope, window) as q:
                conv, j = metrics.journeys(q.ev)
                sales = {r["day"]: r for r in q.rows(metrics.daily(q.ev, conv, j, self.tz))}
                activity = {r["day"]: r for r in q.rows(metrics.daily_activity(q.act, self.tz))}
                people = {r["day"]: r for r in q.rows(_daily_buyers(conv, j, self.tz))}
                campaigns = q.rows(metrics.campaign_meta(q.ev))
            spend = _daily_spend(campaigns, self.tz)
            p = window.period
            if p is not None:
                spend = {d: v for d, v in spend.items() if p.start <= d <= p.end}
                span = [p.start + timedelta(days=i) for i in range(p.days)]
            else:
                span = _fill_days(sorted(set(sales) | set(activity) | set(spend)))
            out = []
            for day in span:
                s, a, n = sales.get(day, {}), activity.get(day, {}), people.get(day, {})
                out.append(
                    {
                        "day": day.isoformat(),
                        "spend": round(spend.get(day, 0.0), 2),
                        "orders": int(s.get("orders") or 0),
                        "gmv": _num(s.get("gmv")),
                        "net_gmv": _num(s.get("net_gmv")),
                        "refunded": _num(s.get("refunded")),
                        "attributed_orders": int(s.get("attributed_orders") or 0),
                        "attributed_gmv": _num(s.get("attributed_gmv")),
                        "attributed_net_gmv": _num(s.get("attributed_net_gmv")),
                        "impressions": int(a.get("impressions") or 0),
                        "reads": int(a.get("reads") or 0),
                        "clicks": int(a.get("clicks") or 0),
                        "buyers": int(n.get("buyers") or 0),
                        "attributed_buyers": int(n.get("attributed_buyers") or 0),
                    }
                )
            return out

        return self._cached(("timeseries", scope.brand, *_wkey(window)), compute)

    # --- tables ------------------------------------------------------------------------------------------

    def note_activity(self, scope: Scope, *, window: Window = WHOLE_LAKE) -> list[dict[str, Any]]:
        """Every note with its metadata and activity (no attribution: cheap enough for a feed)."""

        def compute() -> list[dict[str, Any]]:
            with self._query(scope, window) as q:
                meta = metrics.note_meta(q.act)
                act = metrics.note_activity(q.act)
                return q.rows(meta.left_join(act, meta.note_id == act.note_id).drop("note_id_right"))

        return self._cached(("note_activity", scope.brand, *_wkey(window)), compute)

    def notes(self, scope: Scope, model: str = DEFAULT_MODEL, *, window: Window = WHOLE_LAKE) -> list[dict[str, Any]]:
        """Every note with its activity, rates and its credit under ``model`` (with ``orders_low`` and
        ``orders_high`` when the model gives intervals)."""

        def compute() -> list[dict[str, Any]]:
            rows = self.note_activity(scope, window=window)
            credit = {r["key"]: r for r in self.attribution(scope, "note", model, window=window).rows}
            bounds = [f for f in privacy.INTERVAL_FIGURES if any(f in c for c in credit.values())]
            out = []
            for r in rows:
                c = credit.get(r["note_id"], {})
                reads = int(r["reads"] or 0)
                out.append(
                    {
                        "note_id": r["note_id"],
                        "title": r["title"] or "",
                        "creator_id": r["creator_id"],
                        "brand": r["brand"],
                        "campaign_id": r["campaign_id"],
                        "disclosed": bool(r["disclosed"]),
                        "tier": r["tier"],
                        "published": _iso(r["published"], self.tz),
                        "impressions": int(r["impressions"] or 0),
                        "reads": reads,
                        "engagements": int(r["engagements"] or 0),
                        "clicks": int(r["clicks"] or 0),
                        "ctr": _ratio(int(r["clicks"] or 0), reads),
                        "orders": _num(c.get("orders")),
                        "gmv": _num(c.get("gmv")),
                        "net_gmv": _num(c.get("net_gmv")),
                    }
                    # A model with intervals (data-driven's bootstrap) gives each note's orders their bounds.
                    | {f: c.get(f) for f in bounds}
                )
            out.sort(key=lambda r: (-r["net_gmv"], r["note_id"]))
            return out

        return self._cached(("notes", scope.brand, model, *_wkey(window)), compute)

    def creators(
        self, scope: Scope, model: str = DEFAULT_MODEL, *, window: Window = WHOLE_LAKE
    ) -> list[dict[str, Any]]:
        """Every creator of the scope's notes: notes, activity and credit under ``model``."""

        def compute() -> list[dict[str, Any]]:
            per: dict[str, dict[str, Any]] = {}
            for n in self.notes(scope, model, window=window):
                c = per.setdefault(
                    n["creator_id"],
                    {"creator_id": n["creator_id"], "tier": n["tier"], "notes": 0, "disclosed_notes": 0}
                    | dict.fromkeys(("impressions", "reads", "engagements", "clicks"), 0),
                )
                c["notes"] += 1
                c["disclosed_notes"] += int(n["disclosed"])
                for k in ("impressions", "reads", "engagements", "clicks"):
                    c[k] += n[k]
            credit = {r["key"]: r for r in self.attribution(scope, "creator", model, window=window).rows}
            for c in per.values():
                got = credit.get(c["creator_id"], {})
                c["ctr"] = _ratio(c["clicks"], c["reads"])
                c["orders"], c["gmv"], c["net_gmv"] = (_num(got.get(k)) for k in ("orders", "gmv", "net_gmv"))
            return sorted(per.values(), key=lambda c: (-c["net_gmv"], c["creator_id"]))

        return self._cached(("creators", scope.brand, model, *_wkey(window)), compute)

    def campaigns(
        self, scope: Scope, model: str = DEFAULT_MODEL, *, window: Window = WHOLE_LAKE
    ) -> list[dict[str, Any]]:
        def compute() -> list[dict[str, Any]]:
            with self._query(scope, window) as q:
                rows = q.rows(metrics.campaign_meta(q.ev).order_by(["start", "campaign_id"]))
            credit = {r["key"]: r for r in self.attribution(scope, "campaign", model, window=window).rows}
            for r in rows:
                got = credit.get(r["campaign_id"], {})
                r["orders"], r["gmv"], r["net_gmv"] = (_num(got.get(k)) for k in ("orders", "gmv", "net_gmv"))
                r["spend"] = self._spend([r], window)
                r["attributed_roi"] = _ratio(r["net_gmv"], r["spend"])
            return rows

        return self._cached(("campaigns", scope.brand, model, *_wkey(window)), compute)

    def campaign_rois(
        self, scope: Scope, model: str = DEFAULT_MODEL, *, window: Window = WHOLE_LAKE
    ) -> list[dict[str, Any]]:
        """Each campaign of the scope with its three ROIs, named apart (see :mod:`hongmao.reports.roi`):
        ``attributed`` (``model``'s credit over the lake), ``at_cycle`` (a rule model's credit over T+x, x the
        category's decision cycle) and ``incremental`` (the holdout lift over the same T+x), and ``why``: a code
        saying why the attributed and incremental figures differ.

        ROI(T+x) is computed on the scope's own view (narrowed to ``window``, as the attributed ROI). The lift
        is the campaign's whole holdout test whatever the window (a range cuts no experiment in two), computed
        on the whole lake, for the scope's own campaigns only: its units are everyone seen in the community
        during the campaign, and a brand's view keeps only the people who touched its notes, which the holdout
        itself changes (held-out people never see the campaign's notes), so a lift on it would be biased.
        Only aggregates leave it."""
        from hongmao.errors import HongmaoError
        from hongmao.reports import roi

        def compute() -> list[dict[str, Any]]:
            camps = self.campaigns(scope, model, window=window)
            with self._session(scope, window, LOOKBACK_DAYS) as session:
                try:
                    cycles, cycle_error = roi.cycle_rois(session, model), None
                except HongmaoError as error:
                    cycles, cycle_error = {}, str(error)
            key = self.holdout_key()
            out = []
            with Session(self.view.segments(Scope(None))) as whole:
                for c in camps:
                    cid = c["campaign_id"]
                    at = cycles.get(cid)
                    x_days = {at["category"]: at["x_days"]} if at and at["category"] and at["x_from"] == "cycle" else {}
                    lift, reason = _lift(whole, cid, key, x_days, self.privacy_k, roi.campaign_lift)
                    out.append(
                        {
                            "campaign_id": cid,
                            "name": c["name"],
                            "brand": c["brand"],
                            "start": c["start"],
                            "end": c["end"],
                            "spend": c["spend"],
                            "attributed": {
                                "model": model,
                                "orders": c["orders"],
                                "net_gmv": c["net_gmv"],
                                "roi": c["attributed_roi"],
                            },
                            "at_cycle": _at_cycle(at) if at else None,
                            "at_cycle_unavailable": None if at else (cycle_error or "no ROI(T+x) for this campaign"),
                            "incremental": lift,
                            "incremental_unavailable": reason,
                            "why": _why(c["attributed_roi"], lift),
                        }
                    )
            return out

        return self._cached(("campaign_rois", scope.brand, model, *_wkey(window)), compute)

    def economics(
        self, scope: Scope, model: str = DEFAULT_MODEL, *, window: Window = WHOLE_LAKE
    ) -> dict[str, list[dict[str, Any]]]:
        """蒲公英's view: per creator and per note, the fees paid (``collaboration.created``), CPM (fee per
        thousand impressions), CPE (fee per engagement), cost per attributed order, attributed ROI (``model``'s
        credited net GMV ÷ fee) and incremental ROI: the note's share of its campaign's holdout-measured
        incremental net GMV, shared by the note's attributed credit within the campaign, ÷ fee (None where
        the note is in no campaign with a lift). A collaboration naming no note counts for its creator only."""

        def compute() -> dict[str, list[dict[str, Any]]]:
            with self._query(scope, window) as q:
                collabs = q.rows(metrics.collaborations(q.ev).order_by("collaboration_id"))
            notes = self.notes(scope, model, window=window)
            lifts = {
                c["campaign_id"]: c["incremental"]["net_gmv"]["estimate"]
                for c in self.campaign_rois(scope, model, window=window)
                if c["incremental"] is not None
            }
            in_campaign: dict[str, float] = {}
            for n in notes:
                if n["campaign_id"]:
                    in_campaign[n["campaign_id"]] = in_campaign.get(n["campaign_id"], 0.0) + n["net_gmv"]
            note_fee: dict[str, float] = {}
            creator_fee: dict[str, float] = {}
            for c in collabs:
                if c["note_id"]:
                    note_fee[c["note_id"]] = note_fee.get(c["note_id"], 0.0) + _num(c["fee"])
                creator_fee[c["creator_id"]] = creator_fee.get(c["creator_id"], 0.0) + _num(c["fee"])
            note_rows = []
            for n in notes:
                cid = n["campaign_id"]
                share = _ratio(n["net_gmv"], in_campaign.get(cid or "")) if cid in lifts else None
                incremental = lifts[cid] * share if cid in lifts and share is not None else None
                note_rows.append(
                    _economics(
                        {k: n[k] for k in ("note_id", "title", "creator_id", "campaign_id", "disclosed")},
                        note_fee.get(n["note_id"]),
                        n,
                        incremental,
                    )
                )
            creator_rows = []
            for c in self.creators(scope, model, window=window):
                mine = [r for r in note_rows if r["creator_id"] == c["creator_id"]]
                parts = [r["incremental_net_gmv"] for r in mine if r["incremental_net_gmv"] is not None]
                creator_rows.append(
                    _economics(
                        {k: c[k] for k in ("creator_id", "tier", "notes", "disclosed_notes")},
                        creator_fee.get(c["creator_id"]),
                        c,
                        sum(parts) if parts else None,
                    )
                )
            return {"creators": creator_rows, "notes": note_rows}

        return self._cached(("economics", scope.brand, model, *_wkey(window)), compute)

    def filter_choices(self, scope: Scope) -> dict[str, list[dict[str, Any]]]:
        """What the scope's reports can be filtered by: campaigns, creator tiers, items and categories."""

        def compute() -> dict[str, list[dict[str, Any]]]:
            with self._query(scope) as q:
                camps = q.rows(metrics.campaign_meta(q.ev).select("campaign_id", "name").order_by("campaign_id"))
                notes = metrics.note_meta(q.ev)
                tiers = q.rows(notes.filter(notes.tier.notnull()).select("tier").distinct().order_by("tier"))
                items = metrics.item_meta(q.ev)
                listed = q.rows(items.select("item_id", "title", "category").order_by("item_id"))
            categories = sorted({r["category"] for r in listed if r["category"]})
            return {
                "campaigns": camps,
                "tiers": tiers,
                "items": [{"item_id": r["item_id"], "title": r["title"]} for r in listed],
                "categories": [{"category": c} for c in categories],
            }

        return self._cached(("filter_choices", scope.brand), compute)

    def holdout_key(self) -> str | None:
        """The holdout key the lift needs: set on the object, else from the settings or a simulated world."""
        from hongmao.reports.roi import configured_holdout_key

        return self._holdout_key if self._holdout_key is not None else configured_holdout_key(self.lake.data_dir)

    def items(
        self, scope: Scope, *, window: Window = WHOLE_LAKE, k: int | None = None, unsuppressed: bool = False
    ) -> list[dict[str, Any]]:
        """The scope's items with their orders, GMV and distinct ``buyers``; an item's figures withheld where
        :func:`hongmao.reports.privacy.items` withholds them at ``k`` (default: the strictest of ``privacy_k``
        and the parties'), unless ``unsuppressed`` (operators). The cache holds the unsuppressed rows."""

        def compute() -> list[dict[str, Any]]:
            with self._query(scope, window) as q:
                items = metrics.item_meta(q.ev)
                conv = tables.conversions(q.ev)
                sold = conv.group_by("item_id").aggregate(
                    orders=conv.count(), gmv=exact_sum(conv.amount), buyers=conv.user.nunique()
                )
                rows = q.rows(
                    items.left_join(sold, items.item_id == sold.item_id).drop("item_id_right").order_by("item_id")
                )
            for r in rows:
                r["orders"], r["gmv"], r["buyers"] = int(r["orders"] or 0), _num(r["gmv"]), int(r["buyers"] or 0)
                r["market"] = (r.pop("source") or "").removeprefix("market:")
            return rows

        raw = self._cached(("items", scope.brand, *_wkey(window)), compute)
        if unsuppressed:
            return [dict(r) for r in raw]
        return privacy.items(raw, privacy.threshold(self.privacy_k) if k is None else k)

    def orders(
        self, scope: Scope, model: str = DEFAULT_MODEL, limit: int = 50, *, window: Window = WHOLE_LAKE
    ) -> list[dict[str, Any]]:
        """The latest orders with the notes credited for each (a rule model's per-order split)."""
        split = _split(model)

        def compute() -> list[dict[str, Any]]:
            with self._query(scope, window) as q:
                conv, j = metrics.journeys(q.ev)
                latest = conv.order_by([ibis.desc("t"), ibis.desc("order_id")]).limit(limit)
                items = metrics.item_meta(q.ev).select("item_id", item_title="title")
                rows = q.rows(latest.left_join(items, latest.item_id == items.item_id).drop("item_id_right"))
                ids = [r["order_id"] for r in rows]
                credits = q.rows(metrics.order_credits(j.filter(j.order_id.isin(ids)), split)) if ids else []
            by_order: dict[str, list[dict[str, Any]]] = {}
            for c in credits:
                by_order.setdefault(c["order_id"], []).append(
                    {"note_id": c["note_key"], "weight": float(c["weight"]), "kinds": sorted(c["kinds"] or [])}
                )
            rows.sort(key=lambda r: (r["t"], r["order_id"]), reverse=True)
            out = []
            for r in rows:
                credited = sorted(by_order.get(r["order_id"], []), key=lambda c: (-c["weight"], c["note_id"]))
                out.append(
                    {
                        "order_id": r["order_id"],
                        "time": _iso(r["t"], self.tz),
                        "brand": r["brand"],
                        "item_id": r["item_id"],
                        "item_title": r["item_title"],
                        "amount": _num(r["amount"]),
                        "refunded": _num(r["refunded"]),
                        "net": _num(r["net"]),
                        "attributed": bool(credited),
                        "model": split,
                        "credits": credited,
                    }
                )
            return out

        return self._cached(("orders", scope.brand, split, limit, *_wkey(window)), compute)

    def order(self, scope: Scope, order_id: str, model: str = DEFAULT_MODEL) -> dict[str, Any] | None:
        if order_id not in self.ownership(scope).orders:
            return None
        for row in self.orders(scope, model, limit=10_000):
            if row["order_id"] == order_id:
                return row
        return None

    # --- drill-down --------------------------------------------------------------------------------------

    def note_orders(
        self, scope: Scope, note_id: str, model: str = DEFAULT_MODEL, *, window: Window = WHOLE_LAKE
    ) -> list[dict[str, Any]] | None:
        """The orders credited to a note, each with the note's share under ``model``'s per-order split (a rule
        model; the data-driven ones fall back to linear, as :meth:`orders`), newest first; None: not the scope's."""
        if note_id not in self.ownership(scope).notes:
            return None
        split = _split(model)

        def compute() -> list[dict[str, Any]]:
            with self._query(scope, window) as q:
                conv, j = metrics.journeys(q.ev)
                shares = metrics.order_credits(j, split).filter(ibis._.note_key == note_id)
                items = metrics.item_meta(q.ev).select("item_id", item_title="title")
                hit = conv.join(shares, "order_id")
                hit = hit.left_join(items, hit.item_id == items.item_id).drop("item_id_right")
                rows = q.rows(hit.order_by([ibis.desc("t"), "order_id"]))
            return [
                {
                    "order_id": r["order_id"],
                    "time": _iso(r["t"], self.tz),
                    "item_id": r["item_id"],
                    "item_title": r["item_title"],
                    "amount": _num(r["amount"]),
                    "net": _num(r["net"]),
                    "share": float(r["weight"]),
                    "credited_net": float(r["weight"]) * _num(r["net"]),
                    "kinds": sorted(r["kinds"] or []),
                    "model": split,
                }
                for r in rows
            ]

        return self._cached(("note_orders", scope.brand, note_id, split, *_wkey(window)), compute)

    def journey(self, scope: Scope, order_id: str, model: str = DEFAULT_MODEL) -> dict[str, Any] | None:
        """One order and its journey: every touch inside its window, oldest first, with the note's title and
        creator and the credit the touch got under ``model``'s per-order split; None: not the scope's order."""
        if order_id not in self.ownership(scope).orders:
            return None
        split = _split(model)

        def compute() -> dict[str, Any] | None:
            with self._query(scope) as q:
                conv, j = metrics.journeys(q.ev)
                one = j.filter(j.order_id == order_id)
                touches = q.rows(metrics.order_touches(one, split).order_by(["touched", "touch_id"]))
                notes = metrics.note_meta(q.ev).select("note_id", "title", "creator_id", "campaign_id")
                named = {
                    r["note_id"]: r for r in q.rows(notes.filter(notes.note_id.isin([t["note_key"] for t in touches])))
                }
                items = metrics.item_meta(q.ev).select("item_id", item_title="title")
                order = conv.filter(conv.order_id == order_id)
                found = q.rows(order.left_join(items, order.item_id == items.item_id).drop("item_id_right"))
            if not found:
                return None
            o = found[0]
            steps = []
            for t in touches:
                n = named.get(t["note_key"], {})
                steps.append(
                    {
                        "touch_id": t["touch_id"],
                        "time": _iso(t["touched"], self.tz),
                        "kind": t["kind"],
                        "note_id": t["note_key"],
                        "title": n.get("title"),
                        "creator_id": n.get("creator_id"),
                        "campaign_id": n.get("campaign_id"),
                        "credit": float(t["weight"]),
                    }
                )
            return {
                "order_id": order_id,
                "time": _iso(o["t"], self.tz),
                "item_id": o["item_id"],
                "item_title": o["item_title"],
                "amount": _num(o["amount"]),
                "refunded": _num(o["refunded"]),
                "net": _num(o["net"]),
                "model": split,
                "touches": steps,
            }

        return self._cached(("journey", scope.brand, order_id, split), compute)

    def link_clicks(self, scope: Scope, *, window: Window = WHOLE_LAKE) -> dict[str, int]:
        """Human clicks (bots and previews left out) per link id."""

        def compute() -> dict[str, int]:
            with self._query(scope, window) as q:
                ev = q.act
                clicks = ev.filter((ev.type == "link.click") & ~ev.bot.fill_null(False))
                rows = q.rows(clicks.group_by("link_id").aggregate(clicks=clicks.count()))
            return {r["link_id"]: int(r["clicks"]) for r in rows}

        return self._cached(("link_clicks", scope.brand, *_wkey(window)), compute)

    def link_stats(self, scope: Scope, link_id: str, *, window: Window = WHOLE_LAKE) -> dict[str, Any]:
        """One link's drill-down (:mod:`hongmao.reports.linkstats`): clicks per business day and by device class,
        and the visits and orders its click ids carried. Unsuppressed: brand keys get ``linkstats.withhold``."""

        def compute() -> dict[str, Any]:
            with self._query(scope, window) as q:
                days = q.rows(linkstats.daily(q.act, link_id, self.tz))
                devices = q.rows(linkstats.devices(q.act, link_id))
                carried = q.rows(linkstats.conversions(q.ev, q.act, link_id))
            span = (window.period.start, window.period.end) if window.period else None
            return linkstats.shape(days, devices, carried[0] if carried else {}, span)

        return self._cached(("link_stats", scope.brand, link_id, *_wkey(window)), compute)

    def trust(self, *, window: Window = WHOLE_LAKE) -> dict[str, Any]:
        """For operators: flagged notes and creators with evidence, and the feeds' daily commercial share. With a
        range, the guard as it stood on the range's last day (every event up to its end, whatever its start: the
        evidence builds up) and the trend over the range's days. Filters do not apply: the guard judges every note.
        """
        from hongmao.reports.trustview import trust_view

        p = window.period

        def compute() -> dict[str, Any]:
            if p is None:
                with Session(self.view.segments(Scope(None))) as session:
                    return trust_view(session, self.tz)
            end = p.bounds(self.tz)[1]
            with _WindowSession(self.view.segments(Scope(None)), lambda ev: ev.filter(ev.time < end)) as session:
                return trust_view(session, self.tz, days=(p.start, p.end))

        return self._cached(("trust", *(p.key() if p else ())), compute)

    def platform(self, model: str = DEFAULT_MODEL, *, window: Window = WHOLE_LAKE) -> list[dict[str, Any]]:
        """Per brand, for operators: orders, GMV, spend, attributed net GMV, ROI and the disclosure share."""

        def compute() -> list[dict[str, Any]]:
            with self._query(Scope(None), window) as q:
                conv = tables.conversions(q.ev)
                sales = {
                    r["brand"]: r
                    for r in q.rows(
                        conv.group_by("brand").aggregate(
                            orders=conv.count(), gmv=exact_sum(conv.amount), net=exact_sum(conv.net)
                        )
                    )
                }
                camps = metrics.campaign_meta(q.ev)
                spend: dict[str, float] = {}
                for c in q.rows(camps):
                    spend[c["brand"]] = spend.get(c["brand"], 0.0) + self._spend([c], window)
                notes = metrics.note_meta(q.ev)
                labels = {
                    r["brand"]: r
                    for r in q.rows(
                        notes.group_by("brand").aggregate(
                            notes=notes.count(), disclosed=notes.disclosed.cast("int64").sum()
                        )
                    )
                }
            credit = {r["key"]: r for r in self.attribution(Scope(None), "brand", model, window=window).rows}
            out = []
            for brand in self.brands():
                s, n = sales.get(brand, {}), labels.get(brand, {})
                net = _num(credit.get(brand, {}).get("net_gmv"))
                out.append(
                    {
                        "brand": brand,
                        "orders": int(s.get("orders") or 0),
                        "gmv": _num(s.get("gmv")),
                        "net_gmv": _num(s.get("net")),
                        "spend": _num(spend.get(brand)),
                        "attributed_net_gmv": net,
                        "attributed_roi": _ratio(net, _num(spend.get(brand))),
                        "notes": int(n.get("notes") or 0),
                        "disclosed_notes": int(n.get("disclosed") or 0),
                    }
                )
            return out

        return self._cached(("platform", model, *_wkey(window)), compute)


def _attribution_key(
    scope: Scope,
    by: str,
    model: str,
    touches: Sequence[str] | None,
    half_life_days: float,
    markov_order: int,
    window: Window,
) -> tuple[Any, ...]:
    """The cache key of :meth:`Reports.attribution`'s answer (the comparison looks its results up by it too)."""
    return ("attribution", scope.brand, by, model, tuple(touches or ()), half_life_days, markov_order, *_wkey(window))


def _split(model: str) -> str:
    """The rule model that splits single orders for ``model`` (data-driven models credit only in aggregate)."""
    from hongmao.engine import credit

    return model if model in credit.RULE_MODELS else PER_ORDER_FALLBACK


def _lift(
    session: Session,
    campaign_id: str,
    key: str | None,
    x_days: dict[str, float],
    min_group: int,
    run: Callable[..., dict[str, Any]],
) -> tuple[dict[str, Any] | None, str | None]:
    """(the campaign's lift, None) or (None, why there is none)."""
    from hongmao.errors import HongmaoError

    if key is None:
        return None, "no holdout key: set HONGMAO_HOLDOUT_KEY (or HONGMAO_HOLDOUT_KEY_FILE) for the server"
    try:
        lift = run(session, campaign_id, key, x_days, min_group)
    except HongmaoError as error:
        return None, str(error)
    return {
        "orders": lift["incremental_orders"],
        "gmv": lift["incremental_gmv"],
        "net_gmv": lift["incremental_net_gmv"],
        "roi": lift["incremental_roi"],
        "roi_ci95": lift["incremental_roi_ci95"],
        "window": lift["window"],
        "treated_n": lift["treated"]["n"],
        "holdout_n": lift["holdout"]["n"],
        "srm_p_value": lift["srm_p_value"],
        "method": lift["method"],
        "warnings": lift["warnings"],
    }, None


def _economics(
    head: dict[str, Any], fee: float | None, activity: dict[str, Any], incremental: float | None
) -> dict[str, Any]:
    """One row of the creator economics: ``head`` plus fee, activity, the cost ratios and both ROIs."""
    cost = fee or None  # no fee recorded: no cost ratio (not a zero cost)
    return {
        **head,
        "fee": fee or 0.0,
        "impressions": activity["impressions"],
        "engagements": activity["engagements"],
        "orders": activity["orders"],
        "net_gmv": activity["net_gmv"],
        "cpm": _ratio(cost * 1000.0 if cost else None, activity["impressions"]),
        "cpe": _ratio(cost, activity["engagements"]),
        "cost_per_order": _ratio(cost, activity["orders"]),
        "attributed_roi": _ratio(activity["net_gmv"], cost),
        "incremental_net_gmv": incremental,
        "incremental_roi": _ratio(incremental, cost),
    }


def _at_cycle(row: dict[str, Any]) -> dict[str, Any]:
    keep = ("model", "category", "x_days", "x_from", "complete", "orders", "gmv", "net_gmv", "roi")
    return {k: row[k] for k in keep}


#: Why a campaign's attributed and incremental ROI differ: (test on (attributed, incremental, ci95), code).
WHY: tuple[tuple[Callable[[float, float, list[float]], bool], str], ...] = (
    (lambda a, i, ci: ci[0] <= 0.0 <= ci[1], "spans_zero"),
    (lambda a, i, ci: i < a, "lower"),
    (lambda a, i, ci: i >= a, "higher"),
)


def _why(attributed: float | None, lift: dict[str, Any] | None) -> str:
    """Which one-line explanation of the gap applies (messages ``why.<code>``)."""
    if lift is None or lift["roi"] is None or attributed is None or lift["roi_ci95"] is None:
        return "no_lift"
    return next(code for test, code in WHY if test(attributed, lift["roi"], lift["roi_ci95"]))


def _iso(value: Any, tz: ZoneInfo) -> str | None:
    """ISO 8601 in the business time zone (default China time, the business clock of both platforms)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(tz).isoformat()
    return None if value is None else str(value)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text)


def _daily_buyers(conv: Any, j: Any, tz: ZoneInfo) -> Any:
    """Per business day: distinct buyers, and distinct buyers of attributed orders (what the day's figures in
    :func:`~hongmao.reports.metrics.daily` rest on)."""
    flagged = conv.left_join(metrics.attributed_orders(j).mutate(hit=ibis.literal(1)), "order_id")
    day = flagged.mutate(day=metrics.local_day(flagged.t, tz))
    return day.group_by("day").aggregate(
        buyers=day.user.nunique(), attributed_buyers=day.user.nunique(where=day.hit.notnull())
    )


def _daily_spend(campaigns: list[dict[str, Any]], tz: ZoneInfo) -> dict[date, float]:
    """Each campaign's spend spread evenly over the business days it ran."""
    out: dict[date, float] = {}
    for c in campaigns:
        start, end = _parse_time(c["start"]), _parse_time(c["end"])
        if start is None or end is None or not c["spend"]:
            continue
        first = start.astimezone(tz).date()
        last = (end.astimezone(tz) - timedelta(microseconds=1)).date()
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        for d in days:
            out[d] = out.get(d, 0.0) + float(c["spend"]) / len(days)
    return out


def _fill_days(days: list[date]) -> list[date]:
    if not days:
        return []
    span = (days[-1] - days[0]).days
    if span > 400:  # a lake with a stray far-off event: show the days that have data, not a year of zeros
        return days
    return [days[0] + timedelta(days=i) for i in range(span + 1)]


def jsonable(obj: Any) -> Any:
    """``obj`` with dates and times as ISO text (for JSON and CSV)."""
    return json.loads(json.dumps(obj, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))
