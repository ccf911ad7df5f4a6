"""Prometheus metrics of a served Hongmao: requests and their latency, clicks folded, events ingested, report cache.

Labels never carry an identifier or a key: a request is counted under its route's template (``/l/{token}``,
``/api/v1/notes/{note_id}``), never its path, and paths no route knows count as ``(unmatched)``.

``hongmao serve`` runs several worker processes and a main process that folds clicks. Each writes its values
to files under ``PROMETHEUS_MULTIPROC_DIR`` (set and emptied by ``hongmao serve`` before anything imports this
module: prometheus-client picks its storage at import), and ``GET /metrics`` in any worker sums them all
(prometheus-client's multiprocess mode). Without that variable (the demo, tests, one process) the values live in
the process.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from hongmao.web import logs

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "(unmatched)"

REQUESTS = Counter("hongmao_http_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "hongmao_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CLICKS_FOLDED = Counter("hongmao_clicks_folded", "Link clicks folded from the click log into the lake")
INGESTED = Counter("hongmao_ingest_records", "Records sent to the ingest API, by outcome", ["outcome"])
REPORT_CACHE = Counter("hongmao_report_cache_lookups", "Report cache lookups, by result", ["result"])


def answered(method: str, route: str, status: int, seconds: float) -> None:
    """One answered request: counted, timed and written to the access log, wherever it was answered."""
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
    logs.access(method, route, status, seconds)


def observe_ingest(accepted: int, duplicate: int, rejected: int) -> None:
    for outcome, count in (("accepted", accepted), ("duplicate", duplicate), ("rejected", rejected)):
        if count:
            INGESTED.labels(outcome).inc(count)


def observe_cache(hit: bool) -> None:
    REPORT_CACHE.labels("hit" if hit else "miss").inc()


def observe_fold(clicks: int) -> None:
    if clicks:
        CLICKS_FOLDED.inc(clicks)


def exposition() -> bytes:
    """The text every scrape gets: all processes' values in multiprocess mode, else this process's."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(PROCESS_REGISTRY)
