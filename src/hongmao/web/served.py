"""The whole product as ``hongmao serve`` runs it: each worker process serves the REST API, the console and the
link redirect on one origin; the main process folds every worker's click log into the lake.

Granian calls :func:`worker_app` in each worker (spawned, with the configuration in the environment, see
:mod:`hongmao.links.server`). A worker's redirect is the same as a links-only worker's (its own click log,
revocations, share codes); its web app is :func:`hongmao.web.create_app` over the same lake. Requests to
``/l/`` and ``/c/`` go straight to the redirect, counted in the metrics under their route's template.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from hongmao.links.server import ServeConfig, freeze_imports, worker_config, worker_redirect
from hongmao.web import logs, metrics
from hongmao.web.app import ASGIApp, Receive, Send, Server, create_app, route_of

Message = MutableMapping[str, Any]


class Measured:
    """Counts and times the redirect's answers (the web app's middleware does the rest)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - start
            route = route_of(scope)
            metrics.answered(scope["method"], route, status, seconds)


def build(config: ServeConfig) -> Any:
    """The API, console and redirect of one worker over ``config``'s lake (behind the trusted proxies, if any)."""
    web = create_app(config.data_dir, config.catalog_url, public_url=config.public_url)
    redirect = worker_redirect(config)
    state = web.state.web
    # The redirect's own start and stop hooks run in the web app's lifespan (the server sends it only there).
    state.extras.setdefault("on_start", []).extend(redirect.startup)
    state.extras.setdefault("on_close", []).extend(redirect.shutdown)
    app: Any = Server(web, Measured(redirect))
    if config.forwarded_allow_ips:
        from granian.utils.proxies import wrap_asgi_with_proxy_headers

        app = wrap_asgi_with_proxy_headers(app, trusted_hosts=config.forwarded_allow_ips)
    return app


def worker_app() -> Any:
    """Granian's factory in each worker process."""
    logs.configure()
    app = build(worker_config())
    freeze_imports()
    return app
