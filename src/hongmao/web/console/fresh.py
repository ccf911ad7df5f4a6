"""Console pages never wait for a recomputation: after a lake change they show the figures of the version the
warm-up last finished, say so, and reload themselves until the new figures are in.

While the warm-up runs, every GET of an HTML console page runs inside
:meth:`hongmao.reports.service.Reports.serve_stale`: a report of the current lake version that is cached is shown as is;
otherwise the page reads the version the warm-up last finished for it (:meth:`~hongmao.reports.service.Reports.settle`:
the most opened pages first); a report no version has yet (a range nobody asked for, a brand new lake) is computed in
the background and waited for at most :data:`BUDGET_SECONDS` in all, then the page answers "computing" and reloads. The
page's notice (templates/console/base.html) names the lake version and the time its figures are as of. Exports
(``.csv``), forms (POST) and the REST API always get current figures: a file or an API answer carries no notice.

A detail page (one note, order, creator, campaign or link: a route with a path parameter) is drawn from one lake
version or not at all. Its reports are not the warm-up's, so the version a list page is pinned to rarely has all
of them, and a mix (a note's figures of one version, its orders of the next) would contradict itself on one
screen. Such a page reads current figures only (:data:`BUDGET_SECONDS` to get them) and answers "computing"
when any report had to come from an earlier version or the lake changed while the page was drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from hongmao.reports.service import Computing
from hongmao.web import i18n
from hongmao.web.console.view import RELOAD_SECONDS, TEMPLATES

#: How long one page may wait, in all, for reports that no lake version has yet.
BUDGET_SECONDS = 0.5


def tolerant(request: Request) -> bool:
    """Whether this request may be answered with earlier figures: an HTML page asked for, never a file, and
    only while the warm-up runs (it computes the new figures; an app whose lifespan never started it computes
    each page's reports on request, as before)."""
    if request.method != "GET" or request.url.path.endswith(".csv"):
        return False
    warmup = request.app.state.web.extras.get("warmup")
    return bool(getattr(warmup, "running", False))


class StaleRoute(APIRoute):
    """A console route whose GET pages are answered within :data:`BUDGET_SECONDS` of report waiting."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        detail = "{" in self.path and "GET" in (self.methods or ())  # one note, order, creator, campaign, link

        async def route(request: Request) -> Response:
            if detail and not request.url.path.endswith(".csv"):
                return await one_version(request, handler)
            if not tolerant(request):
                return await handler(request)
            reports = request.app.state.web.reports
            with reports.serve_stale(BUDGET_SECONDS, request.url.path):
                try:
                    return await handler(request)
                except Computing:
                    return computing(request)

        return route


async def one_version(request: Request, handler: Callable[[Request], Coroutine[Any, Any, Response]]) -> Response:
    """A detail page drawn from the current lake version alone, else "computing" (see the module docstring)."""
    reports = request.app.state.web.reports
    before = reports.view.version()
    if tolerant(request):
        with reports.serve_stale(BUDGET_SECONDS, request.url.path) as seen:
            seen.pin = None  # never the list pages' settled version: current, or an earlier one recorded below
            try:
                response = await handler(request)
            except Computing:
                return computing(request)
        mixed = bool(seen.stale)
    else:
        response = await handler(request)
        mixed = False
    if mixed or reports.view.version() != before:
        return computing(request)
    return response


def computing(request: Request) -> Response:
    """A page whose reports no lake version has yet: said at once, reloaded until they are in."""
    lang = i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))
    response: Response = TEMPLATES.TemplateResponse(
        request,
        "console/computing.html",
        {"t": i18n.translate(lang), "lang": lang, "reload": RELOAD_SECONDS},
        status_code=200,
        headers={"cache-control": "no-store"},
    )
    return response
