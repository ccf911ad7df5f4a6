"""Benchmark: the redirect's own Python per click, in process, against a bare ASGI 302, side by side.

    python bench/handler.py [--clicks 50000] [--repeat 15]

What ``bench/redirect.py`` cannot resolve on a shared two-core machine: the cost of ``RedirectApp`` itself,
without a server, a socket or wrk. Each target is called as an ASGI app on the same scope (a GET of a link
verified before, a phone browser's User-Agent) with a ``send`` that does nothing, driving the coroutine by hand
(no event loop): ``--clicks`` calls per timing, the best of ``--repeat`` timings, the targets alternating so the
machine's noise falls on all of them.

- **bare**: an ASGI app answering the same 302 with constant headers and nothing else (the floor);
- **hongmao, list sink**: ``RedirectApp`` with its click lines appended to a list (no log);
- **hongmao, mapped log**: ``RedirectApp`` with the real click log (``ClickLog``: the line copied into the mapped,
  preallocated file; its fsync thread runs every 50 ms as in ``hongmao serve``).

The key and the log live in a temporary directory, removed after. Figures go to docs/benchmarks.md by hand.
Inside a loaded server each microsecond here costs more (the worker's Python thread and Granian's Rust thread
hand the GIL back and forth per request), so this is the part of the redirect that code can change, not its
throughput.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

AGENT = b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
DESTINATION = b"https://detail.tmall.com/item.htm?id=651"
App = Callable[[dict[str, Any], Any, Any], Coroutine[Any, Any, None]]

_BARE_HEADERS = [(b"location", DESTINATION), (b"content-length", b"0")]


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 302, "headers": _BARE_HEADERS})
    await send({"type": "http.response.body", "body": b""})


async def _send(message: Any) -> None:
    pass


async def _receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


def per_call_us(app: App, scope: dict[str, Any], calls: int) -> float:
    """Microseconds per call of ``app`` on ``scope``, its coroutine driven to the end by hand."""
    start = time.perf_counter()
    for _ in range(calls):
        coroutine = app(scope, _receive, _send)
        try:
            coroutine.send(None)
        except StopIteration:
            pass
        else:  # pragma: no cover - the app awaited something that did not finish at once
            raise SystemExit("an app did not finish without an event loop")
    return (time.perf_counter() - start) / calls * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=50_000, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=15, help="timings per target (the best is kept)")
    args = parser.parse_args(argv)

    os.environ["HONGMAO_LINK_KEYS"] = "bench:" + secrets.token_urlsafe(32)
    from hongmao.links import create_link, keys
    from hongmao.links.clickwriter import ClickLog
    from hongmao.links.redirect import RedirectApp

    root = Path(tempfile.mkdtemp(prefix="hongmao-handler-"))
    log = ClickLog(root / "clicks").open()  # 64 MiB files: a timing may start a new one, as serving does
    try:
        token = create_link("note-bench", "651", "tmall", data_dir=root / "lake").token
        ring = keys.load(root / "lake", create=False)
        lines: list[bytes] = []

        class ListSink:
            def write(self, line: bytes) -> None:
                lines.append(line)

        targets: dict[str, App] = {
            "bare ASGI 302": bare,
            "hongmao, list sink": RedirectApp(ring, ListSink()),
            "hongmao, mapped log": RedirectApp(ring, log),
        }
        scope = {
            "type": "http",
            "method": "GET",
            "path": f"/l/{token}",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", AGENT)],
        }
        for app in targets.values():  # the first call verifies the token; the timed ones take the hot path
            per_call_us(app, scope, 1)
        best = dict.fromkeys(targets, float("inf"))
        for _ in range(args.repeat):
            for name, app in targets.items():
                lines.clear()
                best[name] = min(best[name], per_call_us(app, scope, args.clicks))
        print(f"| target | µs per click (best of {args.repeat} x {args.clicks:,}) | x bare |")
        print("|---|---:|---:|")
        for name, us in best.items():
            print(f"| {name} | {us:.2f} | {us / best['bare ASGI 302']:.1f} |")
    finally:
        log.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
