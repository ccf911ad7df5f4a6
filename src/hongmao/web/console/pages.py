"""The console's pages, once: the menu draws them, the warm-up computes their reports from here, and the warm-up's
test, the latency bench and the browser test open them from here, so a new page cannot be left out of any of them.

Each row: path, the i18n key of its menu label, who sees it (``brand`` pages every signed-in analyst, ``operator``
pages operators only, after a separator), and ``warm``: the report calls the page makes at its defaults (default
model and period), which the warm-up (:mod:`hongmao.web.warmup`) makes when the lake changes; None for a page
whose figures do not come from the report cache. The rows are in the order pages are most often opened (the
overview first); the warm-up follows it, before the views it has counted in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from hongmao.reports.period import Window
    from hongmao.reports.scope import Scope
    from hongmao.reports.service import Reports

#: What the console's overview shows of the latest orders (``/console/`` asks for 12).
OVERVIEW_ORDERS = 12
#: The model comparison's rows and default key (``/console/models``).
COMPARE_TOP = 15
COMPARE_BY = "note"


class Step(NamedTuple):
    """One report call of a page. ``until_ready``: its answer may name parts still being computed in the
    background (``pending``, the model comparison's fitted models); the warm-up asks again until none are."""

    name: str
    call: Callable[[], Any]
    until_ready: bool = False
    #: The page (path) whose report call this is (set by :func:`steps`; the warm-up settles a page when its
    #: calls for every viewer are done).
    page: str = ""


@dataclass(frozen=True)
class Defaults:
    """What a page shows when the viewer has chosen nothing: for whom, under which model, over which window
    (and the previous period of the same length, for the comparison; None when there is none)."""

    reports: Reports
    scope: Scope
    model: str
    window: Window
    previous: Window | None

    @property
    def who(self) -> str:
        return self.scope.brand or "platform"

    def windows(self) -> tuple[Window, ...]:
        return (self.window,) if self.previous is None else (self.window, self.previous)


Warm = Callable[[Defaults], Iterator[Step]]


def _overview(d: Defaults) -> Iterator[Step]:
    r = d.reports
    for w in d.windows():
        yield Step(f"{d.who} overview", partial(r.overview, d.scope, d.model, window=w))
        yield Step(f"{d.who} timeseries", partial(r.timeseries, d.scope, window=w))
    yield Step(f"{d.who} orders", partial(r.orders, d.scope, d.model, OVERVIEW_ORDERS, window=d.window))
    yield from _actors(d, "day", windows=True)


def _funnel(d: Defaults) -> Iterator[Step]:
    for w in d.windows():
        yield Step(f"{d.who} funnel", partial(d.reports.funnel, d.scope, window=w, unsuppressed=True))
    yield from _actors(d, "", windows=True)


def _buyers(d: Defaults, *by: str, model: str | None = None) -> Iterator[Step]:
    """What a brand's rows rest on, for the k-threshold (:mod:`hongmao.reports.privacy`); operators see all."""
    if d.scope.brand is None:
        return
    m = model or d.model
    for key in by:
        yield Step(f"{d.who} buyers by {key} under {m}", partial(d.reports.buyers, d.scope, key, m, window=d.window))


def _actors(d: Defaults, *by: str, windows: bool = False) -> Iterator[Step]:
    """What a brand's activity counts rest on, for the k-threshold (:func:`hongmao.reports.privacy.activity`)."""
    if d.scope.brand is None:
        return
    for key in by:
        for w in d.windows() if windows else (d.window,):
            yield Step(f"{d.who} people by {key or 'window'}", partial(d.reports.actors, d.scope, key, window=w))


def _notes(d: Defaults) -> Iterator[Step]:
    yield Step(f"{d.who} notes", partial(d.reports.notes, d.scope, d.model, window=d.window))
    yield from _buyers(d, "note")
    yield from _actors(d, "note")


def _creators(d: Defaults) -> Iterator[Step]:
    yield Step(f"{d.who} economics", partial(d.reports.economics, d.scope, d.model, window=d.window))
    yield from _buyers(d, "creator", "note")
    yield from _actors(d, "creator", "note")


def _campaigns(d: Defaults) -> Iterator[Step]:
    r = d.reports
    yield Step(f"{d.who} campaigns", partial(r.campaigns, d.scope, d.model, window=d.window))
    yield Step(f"{d.who} campaign ROIs", partial(r.campaign_rois, d.scope, d.model, window=d.window))
    yield from _buyers(d, "campaign")


def _models(d: Defaults) -> Iterator[Step]:
    from hongmao.engine.attribute import MODELS

    compare = partial(d.reports.compare, d.scope, COMPARE_BY, list(MODELS), COMPARE_TOP, d.model, window=d.window)
    yield Step(f"{d.who} model comparison", partial(compare, wait=False), until_ready=True)
    for m in MODELS:
        yield from _buyers(d, COMPARE_BY, model=m)


def _links(d: Defaults) -> Iterator[Step]:
    r = d.reports  # the links page's tables cover the whole lake
    yield Step(f"{d.who} link notes", partial(r.notes, d.scope, d.model))
    yield Step(f"{d.who} items", partial(r.items, d.scope))
    yield Step(f"{d.who} ownership", partial(r.ownership, d.scope))
    yield Step(f"{d.who} link clicks", partial(r.link_clicks, d.scope))
    if d.scope.brand is not None:
        yield Step(f"{d.who} people by link", partial(r.actors, d.scope, "link"))


def _platform(d: Defaults) -> Iterator[Step]:
    for w in d.windows():
        yield Step("platform table", partial(d.reports.platform, d.model, window=w))


def _trust(d: Defaults) -> Iterator[Step]:
    from hongmao.reports.period import Window

    # the guard judges every note: the page keeps the range and sets the filters aside
    yield Step("trust", partial(d.reports.trust, window=Window(period=d.window.period)))


class Page(NamedTuple):
    path: str
    label: str
    seen_by: Literal["brand", "operator"]
    warm: Warm | None = None

    @property
    def reports(self) -> bool:
        """Whether the page's figures come from the report cache (the warm-up fills it)."""
        return self.warm is not None


PAGES: tuple[Page, ...] = (
    Page("/console/", "nav.overview", "brand", _overview),
    Page("/console/funnel", "nav.funnel", "brand", _funnel),
    Page("/console/notes", "nav.notes", "brand", _notes),
    Page("/console/creators", "nav.creators", "brand", _creators),
    Page("/console/campaigns", "nav.campaigns", "brand", _campaigns),
    Page("/console/models", "nav.models", "brand", _models),
    Page("/console/links", "nav.links", "brand", _links),
    Page("/console/audiences", "nav.audiences", "brand"),
    Page("/console/settle", "nav.settle", "brand"),
    Page("/console/guarantees", "nav.guarantees", "brand"),
    Page("/console/platform", "nav.platform", "operator", _platform),
    Page("/console/trust", "nav.trust", "operator", _trust),
    Page("/console/keys", "nav.keys", "operator"),
)


def paths(operator: bool, reports_only: bool = False) -> tuple[str, ...]:
    """The pages one kind of caller may open (operators see every page), optionally only the report pages."""
    return tuple(p.path for p in PAGES if (operator or p.seen_by == "brand") and (p.reports or not reports_only))


def ranked(views: Mapping[str, float] | None = None) -> list[Page]:
    """The report pages, most opened first: by ``views`` (path: times opened), then in the table's order."""
    seen = views or {}
    order = {p.path: i for i, p in enumerate(PAGES)}
    return sorted((p for p in PAGES if p.reports), key=lambda p: (-seen.get(p.path, 0.0), order[p.path]))


def steps(pages: list[Page], each: list[Defaults]) -> Iterator[Step]:
    """The report calls of ``pages`` for each viewer's defaults, page by page (each viewer's before the next
    page's); a viewer's operator pages only when the viewer is the platform."""
    for page in pages:
        for d in each:
            if page.warm is not None and (page.seen_by == "brand" or d.scope.brand is None):
                for step in page.warm(d):
                    yield step._replace(page=page.path)
