"""Console pages never wait for a recomputation: after a lake change they show the figures of the version the
warm-up last finished, say so, and reload themselves until the new figures are in.

While the warm-up runs, every GET of an HTML console page runs inside
:meth:`hongmao.reports.service.Reports.serve_stale`: a report of the current lake version that is cached is shown as is;
otherwise the page reads the version the warm-up last finished for it (:meth:`~hongmao.reports.service.Reports.settle`:
the most opened pages first); a report no version has yet (a range nobody asked for, a brand new lake) is computed in
the background and waited for at most :data:`BUDGET_SECONDS` in all, then the page answers "computing" and reloads. The
page's notice (templates/console/base.html) names the lake version and the time its figures are as of. Exports
(``.csv``), forms (POST) and the REST API always get current figures: a file or an API answer carries no notice.
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

        async def route(request: Request) -> Response:
            if not tolerant(request):
                return await handler(request)
            reports = request.app.state.web.reports
            with reports.serve_stale(BUDGET_SECONDS, request.url.path):
                try:
                    return await handler(request)
                except Computing:
                    return computing(request)

        return route


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
