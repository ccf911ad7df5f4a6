"""The redirect: a plain ASGI app answering ``GET /l/{token}`` and ``GET /c/{share code}`` with a 302.

Per click, with no database read: verify the token (cached per token once verified), check expiry against the
clock and the link against the in-memory revocation set, classify the visitor, write the click line to the
log (the kernel has it before the 302 leaves), then answer. ``HEAD`` is answered the same way, without a
click id and without counting. ``?to=app`` answers with a page that opens the marketplace app by its deep
link, the web page as fallback. Anything wrong gives a 404 (not a link) or 410 (expired, revoked) page.

Visitor: the community's pseudonym of the reader, from the ``u`` query parameter or the ``hm_u`` cookie,
used only if it is 32 lowercase hex digits (see docs/links.md).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Container, MutableMapping
from dataclasses import dataclass
from typing import Any

from hongmao.errors import DestinationError, HongmaoError, TokenError
from hongmao.links import pages
from hongmao.links.clicklog import encode_parts, link_field, ua_fields
from hongmao.links.clickwriter import ClickSink
from hongmao.links.markets import GENERIC, MARKETS, Market, check_destination, generic_market
from hongmao.links.tokens import KeyRing
from hongmao.links.useragents import PREFETCH_HEADERS, classify, is_prefetch

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
CodeLookup = Callable[[str], Awaitable[str | None]]

log = logging.getLogger(__name__)

NEVER = 1 << 62
CACHE_SIZE = 100_000
KEY_RELOAD_SECONDS = 5.0
_VISITOR = re.compile(rb"[0-9a-f]{32}")
_LINK_ID = re.compile(r"[^\x00-\x1f\x7f]{1,256}")
_HEADERS = [(b"content-length", b"0"), *pages.COMMON_HEADERS]  # a 302's, after its Location
_PREVIEW_FIELDS = ua_fields("preview", True)


@dataclass(frozen=True, slots=True)
class Target:
    """A verified token made ready to answer: the Location around the click id, and what to check."""

    link_id: str
    log_link: bytes  # the link's part of each click line (clicklog.link_field)
    expires_us: int
    prefix: bytes  # the destination up to and including "<click_param>="
    suffix: bytes  # the destination's fragment, if any
    plain: bytes  # the destination as is (HEAD answers)
    market: Market


def _market(name: str) -> Market:
    return MARKETS.get(name) or (generic_market() if name == GENERIC else Market(name, name, ()))


def prepare(keys: KeyRing, token: str) -> Target | pages.Page:
    """The target of a token, or the page to answer instead (404 for a bad token, 410 for a disallowed host)."""
    try:
        claims = keys.verify(token)
    except TokenError:
        return pages.NOT_FOUND
    if not _LINK_ID.fullmatch(claims.link_id):
        return pages.NOT_FOUND  # could not be one log line; create_link never makes such ids
    market = _market(claims.market)
    # The allow-list is checked again at first use, so removing a host takes effect without revoking links.
    try:
        check_destination(market, claims.url)
    except DestinationError:
        return pages.GONE
    url, _, fragment = claims.url.partition("#")
    joiner = "&" if "?" in url else "?"
    return Target(
        link_id=claims.link_id,
        log_link=link_field(claims.link_id),
        expires_us=claims.expires * 1_000_000 if claims.expires else NEVER,
        prefix=f"{url}{joiner}{market.click_param}=".encode("ascii"),
        suffix=f"#{fragment}".encode("ascii") if fragment else b"",
        plain=claims.url.encode("ascii"),
        market=market,
    )


class ClickIds:
    """Click ids that sort by time and cannot be guessed: the click's millisecond as 12 hex digits, then 64 bits
    from the OS's randomness as 16 hex digits (ASCII bytes, 28 in all), the random parts made 512 at a time
    from one system call, hex-encoded and split in C. A forked child starts afresh.

    Time first, because the lake keeps every event id in its catalog's primary-key index: ids that arrive in
    order are appended at the index's end, where random ids land all over it (``python bench/fold.py``, figures in
    docs/benchmarks.md: folding costs about 2.5 µs a click with ordered ids, 6-13 µs and growing with random ones).
    """

    DIGITS = 16
    BATCH = 512

    def __init__(self) -> None:
        self._random: list[bytes] = []  # random parts still unused, taken from the end
        self._ms = -1
        self._ms_hex = b""  # the hex of the last millisecond asked for: tens of clicks share one under load
        _CLICK_ID_SOURCES.add(self)

    def reset(self) -> None:
        self._random = []

    def new(self, time_us: int) -> bytes:
        """A click id for a click at ``time_us`` (a method, not ``__call__``: calling an instance costs more)."""
        ms = time_us // 1000
        if ms != self._ms:
            self._ms, self._ms_hex = ms, b"%012x" % ms
        if not self._random:
            self._refill()
        return self._ms_hex + self._random.pop()

    def _refill(self) -> None:
        # Hex with a space every DIGITS digits, split: the cutting is done in C.
        self._random = os.urandom(self.DIGITS // 2 * self.BATCH).hex(" ", self.DIGITS // 2).encode("ascii").split()


_CLICK_ID_SOURCES: weakref.WeakSet[ClickIds] = weakref.WeakSet()


def _reset_click_ids() -> None:
    for source in _CLICK_ID_SOURCES:
        source.reset()


os.register_at_fork(after_in_child=_reset_click_ids)


def visitor(query: bytes, cookie: bytes) -> bytes:
    """The reader's pseudonym from ``u=`` in the query or the ``hm_u`` cookie if well formed, else ``b""``."""
    if query:
        for part in query.split(b"&"):
            if part.startswith(b"u=") and _VISITOR.fullmatch(part, 2):
                return part[2:]
    if cookie:
        for part in cookie.split(b";"):
            part = part.strip()
            if part.startswith(b"hm_u=") and _VISITOR.fullmatch(part, 5):
                return part[5:]
    return b""


class RedirectApp:
    """The ASGI app. ``sink`` takes click lines; ``revoked`` holds revoked link ids (refreshed elsewhere);
    ``codes`` turns a share code into its token; ``startup``/``shutdown`` run on the lifespan events."""

    def __init__(
        self,
        keys: KeyRing,
        sink: ClickSink,
        *,
        revoked: Container[str] = frozenset(),
        codes: CodeLookup | None = None,
        startup: list[Callable[[], None]] | None = None,
        shutdown: list[Callable[[], None]] | None = None,
        reload_keys: Callable[[], KeyRing] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.keys = keys
        self.reload_keys = reload_keys
        self._keys_loaded = time.monotonic()
        self.sink = sink
        self.revoked = revoked
        self.codes = codes
        self.startup = startup or []
        self.shutdown = shutdown or []
        self.clock_ns = clock_ns
        self.click_ids = ClickIds()
        self._links: dict[str, Target] = {}  # "/l/<token>" -> its verified target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._lifespan(scope, receive, send)
            return
        target = self._links.get(scope["path"])
        if target is None or scope["method"] != "GET":
            await self._route(scope, send)
            return
        # The hot path, a GET of a link verified before: one coroutine, the two sends written out here.
        answer = self._click(scope, target)
        if isinstance(answer, bytes):
            await send({"type": "http.response.start", "status": 302, "headers": [(b"location", answer), *_HEADERS]})
            await send({"type": "http.response.body", "body": b""})
        else:
            await _answer(send, answer, False)

    async def _route(self, scope: Scope, send: Send) -> None:
        """Everything but the hot path: first use of a token, share codes, HEAD, health, refusals."""
        path: str = scope["path"]
        if path.startswith("/l/"):
            token: str | None = path[3:]
        elif path.startswith("/c/") and self.codes is not None:
            token = await self.codes(path[3:])
        elif path == "/healthz":
            await _answer(send, pages.HEALTHY, scope["method"] == "HEAD")
            return
        else:
            token = None
        target = self._target(token) if token else pages.NOT_FOUND
        head = scope["method"] == "HEAD"
        if isinstance(target, pages.Page):
            await _answer(send, target, head)
        elif not head and scope["method"] != "GET":
            await _answer(send, pages.NOT_ALLOWED, False)
        elif not head:
            answer = self._click(scope, target)
            await (_redirect(send, answer) if isinstance(answer, bytes) else _answer(send, answer, False))
        elif self._live(target, self.clock_ns() // 1000):  # link checkers: where it goes, without a click
            await _redirect(send, target.plain)
        else:
            await _answer(send, pages.GONE, True)

    def _live(self, target: Target, now: int) -> bool:
        """Not expired (checked against the clock on every request) and not revoked."""
        return now < target.expires_us and target.link_id not in self.revoked

    def _click(self, scope: Scope, target: Target) -> bytes | pages.Page:
        """Log the click (handed to the kernel), then return the Location of the 302 that carries its click id, or
        the page to answer instead (gone, unavailable, the app-opening page)."""
        now = self.clock_ns() // 1000
        if not self._live(target, now):
            return pages.GONE
        agent, cookie, prefetch = b"", b"", False
        for name, value in scope["headers"]:
            if name == b"user-agent":
                agent = value
            elif name == b"cookie":
                cookie = value
            elif name in PREFETCH_HEADERS and is_prefetch(value):
                prefetch = True
        query: bytes = scope["query_string"]
        user = visitor(query, cookie) if query or cookie else b""
        click_id = self.click_ids.new(now)
        line = encode_parts(click_id, target.log_link, now, user, _PREVIEW_FIELDS if prefetch else _ua(agent))
        try:
            self.sink.write(line)
        except OSError as error:  # no 302 without its click on record
            log.error("cannot log a click, answering 503: %s", error)
            return pages.UNAVAILABLE
        location = target.prefix + click_id + target.suffix
        if query and b"to=app" in query.split(b"&"):
            deep = target.market.deep_link(location.decode("ascii"))
            if deep is not None:
                return pages.app_page(deep, location.decode("ascii"))
        return location

    def _target(self, token: str) -> Target | pages.Page:
        path = f"/l/{token}"
        found = self._links.get(path)
        if found is None:
            prepared = prepare(self.keys, token)
            if prepared is pages.NOT_FOUND and self._reload_keys():
                prepared = prepare(self.keys, token)  # signed by a key added since this process started?
            if isinstance(prepared, pages.Page):
                return prepared  # not cached: made-up tokens must not be able to crowd out real ones
            if len(self._links) >= CACHE_SIZE:
                self._links.clear()
            self._links[path] = found = prepared
        return found

    def _reload_keys(self) -> bool:
        """Re-read the key ring (at most every few seconds, whatever the traffic); True if it was re-read."""
        now = time.monotonic()
        if self.reload_keys is None or now - self._keys_loaded < KEY_RELOAD_SECONDS:
            return False
        self._keys_loaded = now
        try:
            self.keys = self.reload_keys()
        except HongmaoError as error:
            log.warning("cannot re-read the link keys (%s); keeping the ones loaded", error)
            return False
        return True

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for hook in self.startup:
                        hook()
                except Exception as error:
                    log.exception("the redirect cannot start")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self.shutdown:
                    hook()
                await send({"type": "lifespan.shutdown.complete"})
                return


@functools.lru_cache(maxsize=10_000)
def _ua(agent: bytes) -> bytes:
    """The user-agent fields of a click line for this agent (its class and bot flag). The one cache of user-agent
    classes, in C: one lookup a click (``bench/handler.py``)."""
    ua_class, bot = classify(agent)
    return ua_fields(ua_class, bot)


async def _redirect(send: Send, location: bytes) -> None:
    await send({"type": "http.response.start", "status": 302, "headers": [(b"location", location), *_HEADERS]})
    await send({"type": "http.response.body", "body": b""})


async def _answer(send: Send, page: pages.Page, head: bool) -> None:
    await send({"type": "http.response.start", "status": page.status, "headers": page.headers})
    await send({"type": "http.response.body", "body": b"" if head else page.body})
