"""The model comparison's two costs, kept apart (:meth:`hongmao.reports.service.Reports.compare`).

The rule models (first, last, linear, position, time decay) differ only in each journey row's weight: their
credit comes from one journeys table (orders joined with the touches inside their windows), computed once and
held as an Arrow table, instead of once per model (:func:`hongmao.engine.attribute.attribute_rules`, exactly what
:func:`hongmao.engine.attribute.attribute` gives each of them).

The fitted models (Markov, Shapley, hazard, data-driven) take far longer: minutes for the hazard model on the
demo's default lake. :class:`Background` computes them one at a time on a daemon thread of its own, so that a
comparison asked with ``wait=False`` answers at once with the models ready and names the rest as pending; a
caller who waits for a model already being computed there shares that computation instead of starting another.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

from hongmao.engine import credit
from hongmao.errors import LakeError

log = logging.getLogger(__name__)

RULE_MODELS = credit.RULE_MODELS
#: How long closing waits for the fit being computed (the web app's shutdown; a worker has seconds to stop).
CLOSE_SECONDS = 5.0
#: The rule models' half-life (days) as :meth:`Reports.attribution` passes it by default.
HALF_LIFE_DAYS = 7.0


class Background:
    """Slow reports computed one at a time on one daemon thread (started when there is work, ended when there is
    none), each computation shared by everyone who asks for the same key while it runs. A failure is kept for its
    key (the lake version is part of every key, so a new version tries again) and raised to whoever asks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[tuple[Hashable, Callable[[], Any], Future[Any]]] = deque()
        self._futures: dict[Hashable, Future[Any]] = {}
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, key: Hashable, compute: Callable[[], Any]) -> Future[Any]:
        """The computation of ``key``: the one queued or running, a failed one, or a new one queued last."""
        with self._lock:
            if self._closed:
                refused: Future[Any] = Future()
                refused.set_exception(LakeError("the server is shutting down: no new model fits are started"))
                return refused
            future = self._futures.get(key)
            if future is None:
                future = self._futures[key] = Future()
                self._queue.append((key, compute, future))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="hongmao-fits", daemon=True)
                    self._thread.start()
            return future

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Start nothing more: queued computations are cancelled (whoever waits for one gets ``CancelledError``)
        and the one running is waited for up to ``timeout`` seconds, so that its engine query is not cut off by
        the process exiting under it (a native thread torn down mid-query aborts the process)."""
        with self._lock:
            self._closed = True
            queued, self._queue = list(self._queue), deque()
            for key, _compute, future in queued:
                future.cancel()
                self._futures.pop(key, None)
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.info("a model fit was still running at shutdown; it ends with the process")

    def running(self, key: Hashable) -> Future[Any] | None:
        """The computation of ``key`` if one is queued or running (not a failed one)."""
        with self._lock:
            future = self._futures.get(key)
        return future if future is not None and not future.done() else None

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._thread = None
                    return
                key, compute, future = self._queue.popleft()
            future.set_running_or_notify_cancel()
            try:
                value = compute()
            except Exception as error:  # kept for the key: the page that asks shows it
                log.warning("computing %r in the background failed: %s", key, error)
                future.set_exception(error)
                with self._lock:
                    self._trim()
                continue
            future.set_result(value)
            with self._lock:  # the value is in the report cache now; done futures are not kept
                self._futures.pop(key, None)
                self._trim()

    def _trim(self, keep: int = 64) -> None:
        """Forget the oldest failures beyond ``keep`` (the lock held)."""
        failed = [k for k, f in self._futures.items() if f.done()]
        for k in failed[: max(0, len(failed) - keep)]:
            del self._futures[k]
