"""Granian's multiprocess server, its workers deaf to Ctrl-C: only the main process stops them.

A terminal sends Ctrl-C's SIGINT to its whole foreground process group, the workers included, and Granian's main
process then stops each worker with a SIGTERM of its own. A Granian 2.8 worker given two stop signals can hang
for good: its signal handler waits, holding the GIL, on a runtime thread that waits for the GIL (seen with gdb
in 2 of about 50 stops under load), and the main process waits for that worker forever. A worker still
importing takes the SIGINT as a KeyboardInterrupt instead, and the server exits 1 with a traceback.

So workers ignore SIGINT. An ignored signal stays ignored across fork and exec, and Python leaves it so, so the
main process ignores SIGINT while the main thread starts workers (``_spawn_workers`` at start,
``_respawn_workers`` after a crash; a Ctrl-C in those few milliseconds is lost and must be pressed again).
Granian's worker catches SIGINT again when it sets up its event loop; :func:`ignore_ctrl_c`, a lifespan startup
hook, puts it back. The main process stops workers with one SIGTERM each, and ``workers_kill_timeout`` bounds
whatever else may hold one (a SIGTERM sent to the whole group, or one in that gap, still makes two).

(A blocked signal mask would leave no gap, but CPython's ``_posixsubprocess`` clears the mask in the child.)
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from granian.server.mp import MPServer


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT meanwhile (processes started meanwhile inherit that), then restore its handler."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def ignore_ctrl_c() -> None:
    """In a worker, from its event loop: stop catching SIGINT (Granian's worker catches it again on start)."""
    with contextlib.suppress(RuntimeError):  # no running loop: nothing registered there
        asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Server(MPServer):
    """:class:`granian.server.mp.MPServer` whose worker processes are started ignoring SIGINT."""

    def _spawn_workers(self, spawn_target: Any, target_loader: Any) -> None:
        with sigint_ignored():
            super()._spawn_workers(spawn_target, target_loader)  # type: ignore[no-untyped-call]

    def _respawn_workers(self, workers: Any, spawn_target: Any, target_loader: Any, delay: float = 0) -> None:
        with sigint_ignored():
            super()._respawn_workers(workers, spawn_target, target_loader, delay)
