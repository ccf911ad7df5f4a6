"""The console's pages, once: the menu draws them, and the warm-up's test, the latency bench and the browser test
open them from here, so a new page cannot be left out of any of them.

Each row: path, the i18n key of its menu label, who sees it (``brand`` pages every signed-in analyst, ``operator``
pages operators only, after a separator), and whether its figures come from the report cache the warm-up fills.
"""

from __future__ import annotations

from typing import Literal, NamedTuple


class Page(NamedTuple):
    path: str
    label: str
    seen_by: Literal["brand", "operator"]
    reports: bool


PAGES: tuple[Page, ...] = (
    Page("/console/", "nav.overview", "brand", True),
    Page("/console/funnel", "nav.funnel", "brand", True),
    Page("/console/notes", "nav.notes", "brand", True),
    Page("/console/creators", "nav.creators", "brand", True),
    Page("/console/campaigns", "nav.campaigns", "brand", True),
    Page("/console/models", "nav.models", "brand", True),
    Page("/console/links", "nav.links", "brand", True),
    Page("/console/audiences", "nav.audiences", "brand", False),
    Page("/console/settle", "nav.settle", "brand", False),
    Page("/console/guarantees", "nav.guarantees", "brand", False),
    Page("/console/platform", "nav.platform", "operator", True),
    Page("/console/trust", "nav.trust", "operator", True),
    Page("/console/keys", "nav.keys", "operator", False),
)


def paths(operator: bool, reports_only: bool = False) -> tuple[str, ...]:
    """The pages one kind of caller may open (operators see every page), optionally only the report pages."""
    return tuple(p.path for p in PAGES if (operator or p.seen_by == "brand") and (p.reports or not reports_only))
