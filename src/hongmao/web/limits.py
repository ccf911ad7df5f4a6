"""How large a request body may be: 16 MiB for an event batch, 1 MiB for anything else.

Without a limit the server reads whatever it is sent into memory before any handler can object, so one large
POST to a small form could exhaust it. :class:`BodyLimit` refuses a declared ``Content-Length`` over the limit
before reading anything, and counts the bytes of a body sent without one (chunked), stopping at the limit.
Either way the answer is 413 in the one error shape (:mod:`hongmao.web.errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from hongmao.web.api.ingest import MAX_BYTES as BATCH_BYTES
from hongmao.web.errors import error_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FORM_BYTES = 1 << 20
#: Path -> the largest body it takes; every other path takes FORM_BYTES.
LIMITS = {"/api/v1/events": BATCH_BYTES}


def limit_of(path: str) -> int:
    return LIMITS.get(path.rstrip("/") or "/", FORM_BYTES)


def _too_large(limit: int) -> str:
    return f"the body is larger than {limit >> 20} MiB" + ("; split the batch" if limit == BATCH_BYTES else "")


class BodyLimit:
    """Plain ASGI: 413 for a body over its path's limit, declared or counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_of(scope["path"])
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            status = 413 if declared.isdigit() else 400
            message = _too_large(limit) if status == 413 else "the Content-Length header is not a number"
            await error_response(status, message)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # raised inside the handler's read: its exception handler answers 413
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)
