"""What a serving process keeps in memory from the catalog, so no click waits on a database.

- :class:`Revocations`: the revoked link ids, polled about once a second (``seq > last seen``, a cheap
  indexed read) and reloaded in full every minute, which also catches a revocation whose number was handed
  out before a later one's but committed after it (PostgreSQL sequences do that).
- :class:`ShareCodes`: share code -> token, looked up in the catalog (in a thread) on a miss and cached;
  codes that name nothing are remembered briefly so made-up codes cannot hammer the catalog.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from hongmao.errors import HongmaoError
from hongmao.lake import Lake
from hongmao.links import registry

log = logging.getLogger(__name__)


class Revocations:
    """A set of revoked link ids kept fresh by a background thread; ``link_id in revocations`` is the check."""

    def __init__(self, lake: Lake, *, interval: float = 1.0, full_every: float = 60.0) -> None:
        self.lake = lake
        self.interval = interval
        self.full_every = full_every
        self._ids: set[str] = set()
        self._seq = 0
        self._last_full = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __contains__(self, link_id: object) -> bool:
        return link_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def refresh(self, *, full: bool = False) -> None:
        """Read new revocations (all of them when ``full``); raises CatalogError if the catalog is down."""
        with self.lake.connect("reading link revocations") as conn:
            seq, ids = registry.revoked_since(conn, 0 if full else self._seq)
        if full:
            self._ids = set(ids)  # swapped whole: readers see the old or the new set, never a half-built one
            self._last_full = time.monotonic()
        else:
            self._ids.update(ids)
        self._seq = max(self._seq, seq)

    def start(self) -> None:
        self.refresh(full=True)
        self._thread = threading.Thread(target=self._loop, name="hongmao-revocations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh(full=time.monotonic() - self._last_full >= self.full_every)
            except HongmaoError as error:  # keep serving with what we know; say so
                log.warning("cannot refresh link revocations (%s); retrying", error)


class ShareCodes:
    """``await codes(text)``: the token a share code names, or None."""

    def __init__(self, lookup: Callable[[str], str | None], *, size: int = 100_000, miss_ttl: float = 5.0) -> None:
        self.lookup = lookup
        self.size = size
        self.miss_ttl = miss_ttl
        self._tokens: dict[str, str] = {}
        self._misses: dict[str, float] = {}

    async def __call__(self, text: str) -> str | None:
        code = registry.normalize_code(text)
        if code is None:
            return None
        token = self._tokens.get(code)
        if token is not None:
            return token
        now = time.monotonic()
        if self._misses.get(code, 0.0) > now:
            return None
        try:
            token = await asyncio.get_running_loop().run_in_executor(None, self.lookup, code)
        except HongmaoError as error:
            log.warning("cannot look up a share code (%s)", error)
            return None
        cache: dict[str, str] | dict[str, float] = self._tokens if token is not None else self._misses
        if len(cache) >= self.size:
            cache.clear()
        if token is None:
            self._misses[code] = now + self.miss_ttl
        else:
            self._tokens[code] = token
        return token


def code_lookup(lake: Lake) -> Callable[[str], str | None]:
    def lookup(code: str) -> str | None:
        with lake.connect("looking up a share code") as conn:
            return registry.token_for_code(conn, code)

    return lookup
