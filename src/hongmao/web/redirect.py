"""The link redirect of :mod:`hongmao.links`, served in-process beside the API and console.

Built like a ``hongmao serve`` worker (signed tokens, click log, revocations, share codes), with the click log
folded into the lake every second by the same :class:`~hongmao.links.server.FoldLoop`.

One adapter is ours: link destinations must be ``https`` (:func:`hongmao.links.markets.check_destination`),
but the demo store is served by this very process over plain ``http`` on a loopback address. So demo links
point at ``https://127.0.0.1:<port>/shop/...`` and :class:`OwnOrigin` sends the browser to ``http`` instead,
only when the redirect points back at a loopback host on this server's own port and this server is itself
plain http on a loopback address. Every other redirect passes untouched. (Dropping this adapter needs the
generic marketplace adapter to accept ``http`` for loopback hosts.)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hongmao.links import clicklog, keys
from hongmao.links.clickwriter import ClickLog
from hongmao.links.live import Revocations, ShareCodes, code_lookup
from hongmao.links.redirect import RedirectApp
from hongmao.links.server import FoldLoop, ServeConfig
from hongmao.web.state import WebState

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class OwnOrigin:
    """Sends a redirect to ``https://<loopback>:<our port>/...`` to ``http://<the Host asked for>/...`` instead.

    Only on a plain-http server listening on a loopback address: the link then points back at this very
    server, and keeping the browser on the host name it used keeps its cookies (the demo visitor) too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        host = next((v for k, v in scope.get("headers", []) if k == b"host"), b"")
        if scope.get("scheme") != "http" or not server or not _loopback(str(server[0])) or not host:
            await self.app(scope, receive, send)
            return
        port = int(server[1])

        def local(location: bytes) -> bytes:
            parts = urlsplit(location.decode("latin-1"))
            if parts.scheme != "https" or not _loopback(parts.hostname or "") or parts.port != port:
                return location
            rebuilt: str = urlunsplit(("http", host.decode("latin-1"), parts.path, parts.query, parts.fragment))
            return rebuilt.encode("latin-1")

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (301, 302, 303, 307, 308):
                message["headers"] = [(k, local(v) if k == b"location" else v) for k, v in message["headers"]]
            await send(message)

        await self.app(scope, receive, rewrite)


def mount_redirect(state: WebState, *, fold_every: float | None = 1.0) -> ASGIApp:
    """The redirect app over ``state``'s lake, its threads registered to stop when the server closes."""
    data: Path = state.data_dir
    ring = keys.load(data)
    sink = ClickLog(clicklog.log_dir(data)).open()
    revoked = Revocations(state.lake)
    revoked.start()
    app = RedirectApp(
        ring,
        sink,
        revoked=revoked,
        codes=ShareCodes(code_lookup(state.lake)),
        reload_keys=lambda: keys.load(data, create=False),
    )
    hooks: list[Callable[[], None]] = []
    if fold_every:
        folder = FoldLoop(ServeConfig(data_dir=str(data), catalog_url=state.catalog_url, fold_every=fold_every))
        folder.start()
        hooks.append(folder.stop)
    hooks += [revoked.stop, sink.close, state.fold_clicks]
    state.extras.setdefault("on_close", []).extend(hooks)
    return OwnOrigin(app)
