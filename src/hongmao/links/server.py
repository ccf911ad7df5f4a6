"""``hongmao serve``: the redirect under Granian, the click log folded into the lake as it fills.

Processes: the main process runs Granian, which starts ``workers`` processes (spawned, not forked, so none
inherits the main process's threads), and folds the click log into the lake in a thread at idle CPU
priority: at once on start-up (what a crash left behind; serving does not wait for it), then every
``fold_every`` seconds, and once more after the workers stop. Each worker serves the plain ASGI
:class:`~hongmao.links.redirect.RedirectApp` on a single-threaded Rust runtime with uvloop, writes its own
click log file, polls revocations, and exits if the main process dies (no orphan keeps serving clicks nobody
folds). Ctrl-C and SIGTERM are the main process's: it stops each worker with one SIGTERM and kills one still
running after ``stop_timeout`` seconds (workers ignore SIGINT: :mod:`hongmao.links.workers` says why).

Why Granian: it is maintained, speaks plain ASGI with lifespan, and parses HTTP and handles connections in
Rust, so more of each core is left for the redirect's own Python; ``bench/redirect.py`` measures it against
Uvicorn (uvloop, httptools) on a bare ASGI 302 in the same run (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hongmao.errors import HongmaoError
from hongmao.lake import Lake
from hongmao.links import clicklog, clickwriter, keys
from hongmao.links.clicklog import FoldResult
from hongmao.links.clickwriter import ClickLog
from hongmao.links.live import Revocations, ShareCodes, code_lookup
from hongmao.links.redirect import RedirectApp

if TYPE_CHECKING:
    from hongmao.links.workers import Server

log = logging.getLogger(__name__)

CONFIG_ENV = "HONGMAO_SERVE_CONFIG"
FOLD_NICENESS = 10
#: Seconds a client has to send a request's whole header (a new connection's first, or the next on a kept-alive
#: one) before the connection is closed: a slow sender (slowloris) cannot hold connections open for long. A link
#: click's header is a few hundred bytes in one packet; Granian's own default is 30 s.
HEADER_TIMEOUT = 10.0
#: Seconds a worker has to stop once told to (SIGTERM) before it is killed: a graceful stop waits for a connection
#: in the middle of a header up to the header timeout, and for anything else that holds the worker up. Killing a
#: worker loses no click: every answered click is in its log file before the 302, and the last fold takes the file.
STOP_TIMEOUT = 5


@dataclass(frozen=True)
class ServeConfig:
    """How to serve: where the lake is, where to listen, how many workers, how often to fold and fsync."""

    data_dir: str
    catalog_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    fold_every: float = 1.0
    sync_interval: float = clickwriter.SYNC_INTERVAL
    revocations_every: float = 1.0
    header_timeout: float = HEADER_TIMEOUT
    stop_timeout: int = STOP_TIMEOUT
    #: The factory each worker serves (``module:function``): the redirect alone, or the whole product
    #: (``hongmao.web.served:worker_app``: API, console and redirect on one origin).
    target: str = "hongmao.links.server:worker_app"
    #: Where people reach this server (behind a proxy: the proxy's address), for the links and pages it makes.
    public_url: str | None = None
    #: Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (comma-separated addresses or networks).
    forwarded_allow_ips: str | None = None


class FoldLoop:
    """Folds the click log into the lake every ``interval`` seconds, in a thread of the main process."""

    def __init__(self, config: ServeConfig, on_fold: Callable[[int], None] | None = None) -> None:
        """``on_fold(clicks)`` is told how many clicks each fold brought in (the server's metrics count them)."""
        self.config = config
        self.directory = clicklog.log_dir(Path(config.data_dir))
        self.total = FoldResult()
        self.on_fold = on_fold
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hongmao-fold", daemon=True)

    def start(self) -> FoldLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def fold_once(self, lake: Lake) -> None:
        result = clicklog.fold(lake, self.directory)
        self.total.clicks += result.clicks
        self.total.stored += result.stored
        if self.on_fold is not None:
            self.on_fold(result.clicks)
        if result.malformed:
            log.warning("skipped %d malformed click log lines", result.malformed)

    def _run(self) -> None:
        _lower_priority()
        lake: Lake | None = None
        try:
            while True:  # the first pass, at once, folds what the last run left (after a crash)
                try:
                    if lake is None:
                        lake = Lake.open(self.config.data_dir, self.config.catalog_url, lock_timeout=5.0)
                    self.fold_once(lake)
                except HongmaoError as error:  # lake busy, catalog down: the clicks wait safely in the log
                    log.warning("cannot fold clicks into the lake yet (%s); retrying", error)
                except Exception:  # whatever it is, folding must not stop for good: say so and retry
                    log.exception("folding the click log failed; retrying")
                if self._stop.wait(self.config.fold_every):
                    break
        finally:
            if lake is not None:
                lake.close()


def _lower_priority() -> None:
    """Make the calling thread yield the CPU to the redirect (Linux schedules threads one by one).

    SCHED_IDLE: folding runs on spare CPU only. At saturation (a benchmark, a flash crowd) the redirect keeps
    every cycle and folding falls behind; the clicks wait durably in the log and reach the lake after the peak.
    """
    tid = threading.get_native_id()
    try:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, FOLD_NICENESS)


def fold_now(config: ServeConfig) -> FoldResult:
    with Lake.open(config.data_dir, config.catalog_url) as lake:
        return clicklog.fold(lake, clicklog.log_dir(Path(config.data_dir)))


def serve(config: ServeConfig, on_fold: Callable[[int], None] | None = None) -> None:
    """Serve until interrupted (SIGINT/SIGTERM); folds the log at start-up, continually, and at the end."""
    config = ServeConfig(**{**asdict(config), "data_dir": str(Path(config.data_dir).absolute())})
    keys.load(config.data_dir)  # creates the key file (if needed) once, before any worker reads it
    with Lake.open(config.data_dir, config.catalog_url):
        pass  # migrates the catalog and recovers the lake once, before the workers open it
    os.environ[CONFIG_ENV] = json.dumps(asdict(config))
    # Workers are spawned: a forked child would inherit the folding thread's locks in whatever state they were.
    multiprocessing.set_start_method("spawn", force=True)
    server = granian_server(config)
    folder = FoldLoop(config, on_fold).start()
    try:
        server.serve()
    finally:
        folder.stop()
        fold_now(config)  # the workers are gone: their files are finished, fold and delete them


def granian_server(config: ServeConfig) -> Server:
    """The Granian server of ``config``: its workers serve :func:`worker_app`, each in a process of its own (the
    multiprocess server whatever the build of Python: each worker keeps a click log of its own, by process), and
    leave Ctrl-C to the main process (:mod:`hongmao.links.workers`)."""
    from granian.constants import HTTPModes, Interfaces, Loops, RuntimeModes
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    from hongmao.links.workers import Server

    return Server(
        config.target,
        address=config.host,
        port=config.port,
        interface=Interfaces.ASGI,
        workers=config.workers,
        runtime_mode=RuntimeModes.st,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=max(1, round(config.header_timeout * 1000))),
        websockets=False,
        log_level=LogLevels.warning,
        log_access=False,
        factory=True,
        respawn_failed_workers=True,
        respawn_interval=0.5,
        workers_kill_timeout=max(1, config.stop_timeout),
    )


def _watch_parent(on_orphaned: list[ClickLog]) -> None:
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(0.5)
        log.error("the main hongmao serve process died; this worker stops")
        for sink in on_orphaned:
            sink.close()
        os._exit(1)

    threading.Thread(target=watch, name="hongmao-parent-watch", daemon=True).start()


def worker_config() -> ServeConfig:
    """The configuration the main process handed its workers (in the environment: they are spawned)."""
    return ServeConfig(**json.loads(os.environ[CONFIG_ENV]))


def worker_redirect(config: ServeConfig) -> RedirectApp:
    """The redirect of one worker process: its own click log, the lake's revocations and share codes; the main
    process folds the log. Ctrl-C is the main process's: it stops the workers (links/workers.py)."""
    from hongmao.links.workers import ignore_ctrl_c

    data = Path(config.data_dir)
    ring = keys.load(data, create=False)
    lake = Lake.open(data, config.catalog_url)
    sink = ClickLog(clicklog.log_dir(data), sync_interval=config.sync_interval).open()
    revoked = Revocations(lake, interval=config.revocations_every)
    revoked.start()
    _watch_parent([sink])
    return RedirectApp(
        ring,
        sink,
        revoked=revoked,
        codes=ShareCodes(code_lookup(lake)),
        reload_keys=lambda: keys.load(data, create=False),
        startup=[ignore_ctrl_c],
        shutdown=[revoked.stop, sink.close, lake.close],
    )


def freeze_imports() -> None:
    """The ~100,000 objects imported so far (SQLAlchemy, Alembic, PyArrow, pydantic) live as long as the worker:
    frozen, the collector never walks them again. Unfrozen, each full collection stopped the event loop for tens
    of milliseconds and set the redirect's p99 latency."""
    gc.collect()
    gc.freeze()


def worker_app() -> RedirectApp:
    """The app of one worker process serving links alone (Granian calls this factory in each worker)."""
    app = worker_redirect(worker_config())
    freeze_imports()
    return app
