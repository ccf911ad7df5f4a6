"""The web server: REST API, console, demo community and store, and the link redirect, on one origin.

    from hongmao.web import create_app, create_server

    app = create_app("./hongmao-data")        # FastAPI: /api/v1, /docs, /openapi.json, /console
    server = create_server("./hongmao-data")  # the same, with GET /l/{token} and /c/{code} in front

:func:`create_server` puts the plain-ASGI redirect of :mod:`hongmao.links` in front of FastAPI: a request
for ``/l/...`` or ``/c/...`` goes straight to it, with no framework routing on the hot path. Every page
references only the server's own origin (charts are inline SVG, the API docs' assets are served locally,
and a Content-Security-Policy of ``'self'`` tells the browser to load nothing else).

Every error, from any layer, answers one JSON shape that the OpenAPI document declares once
(:mod:`~hongmao.web.errors`); request bodies are bounded (:mod:`~hongmao.web.limits`); console forms are
protected against cross-site submission (:mod:`~hongmao.web.csrf`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import TypeAdapter

from hongmao import __version__, settings
from hongmao.contract import Event
from hongmao.errors import HongmaoError
from hongmao.lake import Lake
from hongmao.reports.service import Reports
from hongmao.web import auth, csrf, errors, metrics, warmup
from hongmao.web.deps import route_template
from hongmao.web.limits import BodyLimit
from hongmao.web.state import DemoSettings, WebState

HERE = Path(__file__).parent
STATIC = HERE / "static"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


#: The API docs: Swagger UI from the installed ``fastapi-offline`` assets, started by ``static/docs-init.js``. No
#: inline script: the CSP's ``script-src 'self'`` refuses one (FastAPI's own page starts Swagger UI inline, so it
#: stayed blank in a browser).
DOCS_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>Hongmao API · 接口文档</title>
<link rel="icon" href="/static/favicon.svg">
<link rel="stylesheet" href="/static-docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static-docs/swagger-ui-bundle.js"></script>
<script src="/static/docs-init.js"></script>
</body>
</html>
"""


#: Paths no API route matches, counted under a template of their own (a file name is not an identifier, but the
#: number of label values must stay bounded).
MOUNTS = {"/static/": "/static/{file}", "/static-docs/": "/static-docs/{file}", "/l/": "/l/{token}", "/c/": "/c/{code}"}


def route_of(scope: Scope) -> str:
    """The template of the route that answered (``/api/v1/notes/{note_id}``), never the path itself."""
    template = route_template(scope)
    if template is not None:
        return template
    path: str = scope.get("path", "")
    return next((name for prefix, name in MOUNTS.items() if path.startswith(prefix)), metrics.UNMATCHED)


def _docs_assets() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:  # pragma: no cover - a dependency; without it /docs is not served rather than CDN-fed
        return None
    return Path(fastapi_offline.__file__).parent / "static"


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's OpenAPI document with the event contract added as ``components/schemas/Event``."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes, tags=None
            )
            schema = TypeAdapter(Event).json_schema(ref_template="#/components/schemas/{model}")
            components = doc.setdefault("components", {}).setdefault("schemas", {})
            components.update(schema.pop("$defs", {}))
            components["Event"] = schema
            app.openapi_schema = errors.document(doc)
        return app.openapi_schema

    return build


def create_app(
    data_dir: str | Path | None = None,
    catalog_url: str | None = None,
    *,
    privacy_k: int | None = None,
    public_url: str | None = None,
    demo: DemoSettings | None = None,
) -> FastAPI:
    """The FastAPI app over the lake in ``data_dir`` (opened now, closed on shutdown)."""
    directory = settings.data_dir(data_dir).absolute()
    url = catalog_url or settings.get("catalog_url")
    lake = Lake.open(directory, url)
    k = privacy_k if privacy_k is not None else int(settings.get("privacy_k") or 50)
    state = WebState(
        lake=lake,
        reports=Reports(lake, privacy_k=k, on_lookup=metrics.observe_cache),
        sessions=auth.Sessions(auth.server_secret(directory), directory / auth.SESSIONS_FILE),
        data_dir=directory,
        public_url=(public_url or settings.get("public_base_url") or "http://127.0.0.1:8000").rstrip("/"),
        catalog_url=url,
        demo=demo,
    )
    warmup.install(state)  # the console's reports computed when the lake changes (started by the lifespan)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for hook in state.extras.pop("on_start", []):
            hook()
        yield
        for hook in state.extras.pop("on_close", []):
            hook()
        state.reports.close()
        state.sessions.close()
        lake.close()

    app = FastAPI(
        title="Hongmao API",
        version=__version__,
        description=(
            "Ingest both sides' events, manage shoppable links and read attribution, funnel and daily reports. "
            "Authenticate with `Authorization: Bearer <key>` (`hongmao keys create --brand B`); a brand key "
            "sees only its own brand."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = state
    app.openapi = _openapi(app)  # type: ignore[method-assign]

    from hongmao.web.api import router as api_router
    from hongmao.web.console.audiences_routes import router as audiences_console_router
    from hongmao.web.console.routes import router as console_router
    from hongmao.web.console.settle_routes import router as settle_console_router

    app.include_router(api_router)
    app.include_router(console_router)
    app.include_router(settle_console_router)
    app.include_router(audiences_console_router)
    if demo is not None:
        from hongmao.web.demo_shop.routes import router as shop_router

        app.include_router(shop_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    assets = _docs_assets()
    if assets is not None:
        app.mount("/static-docs", StaticFiles(directory=assets), name="docs-assets")

        @app.get("/docs", include_in_schema=False)
        def docs() -> HTMLResponse:
            return HTMLResponse(DOCS_PAGE)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/community" if demo is not None else "/console/", status_code=302)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        """Alive: the process answers."""
        return Response("ok\n", media_type="text/plain")

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        """Ready: the lake's directory and its catalog answer (a load balancer sends traffic only then)."""
        try:
            lake.segment_paths()
        except HongmaoError as error:
            return Response(f"not ready: {type(error).__name__}\n", status_code=503, media_type="text/plain")
        if not lake.segments_dir.is_dir():  # the volume went away under the server
            return Response("not ready: no segments directory\n", status_code=503, media_type="text/plain")
        return Response("ready\n", media_type="text/plain")

    @app.get("/metrics", include_in_schema=False)
    def metrics_page() -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    errors.install(app)
    app.add_middleware(BodyLimit)  # inside the headers below, so its 413 carries them too

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        if csrf.foreign_origin(request):  # before any handler: another site's form never reaches one
            response: Response = errors.error_response(403, "cross-site form submissions are refused")
        else:
            response = await call_next(request)
        response.headers.setdefault("content-security-policy", CSP)
        response.headers.setdefault("x-content-type-options", "nosniff")
        response.headers.setdefault("referrer-policy", "same-origin")
        seconds = time.perf_counter() - start
        route = route_of(request.scope)
        metrics.answered(request.method, route, response.status_code, seconds)
        return response

    return app


class Server:
    """One ASGI app: the redirect for ``/l/`` and ``/c/``, FastAPI for everything else (lifespan included)."""

    def __init__(self, web: FastAPI, redirect: ASGIApp | None) -> None:
        self.web = web
        self.redirect = redirect

    @property
    def state(self) -> WebState:
        state: WebState = self.web.state.web
        return state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.redirect is not None and scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(("/l/", "/c/")):
                await self.redirect(scope, receive, send)
                return
        await self.web(scope, receive, send)

    def close(self) -> None:
        state = self.state
        for hook in state.extras.pop("on_close", []):
            hook()
        state.reports.close()
        state.sessions.close()
        state.lake.close()


def create_server(
    data_dir: str | Path | None = None,
    catalog_url: str | None = None,
    *,
    privacy_k: int | None = None,
    public_url: str | None = None,
    demo: DemoSettings | None = None,
    fold_every: float | None = 1.0,
) -> Server:
    """The API and console with the link redirect in front, its clicks folded into the lake every second."""
    from hongmao.web.redirect import mount_redirect

    web = create_app(data_dir, catalog_url, privacy_k=privacy_k, public_url=public_url, demo=demo)
    state: WebState = web.state.web
    redirect = mount_redirect(state, fold_every=fold_every)
    return Server(web, redirect)
