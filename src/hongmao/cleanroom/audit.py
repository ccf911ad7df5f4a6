"""The audit log: who asked what, one JSON line per request, appended to ``audit.jsonl`` in the data directory.

Each line holds the time (UTC), the principal (key id, role, brand; never the key), the endpoint and the parameters
asked for; a report query also how many rows (days, fields) the k-threshold withheld from the answer (``withheld``)
and, with the differential-privacy budget on, the epsilon it spent (``epsilon``). It never holds identifiers,
audience members or secrets: a parameter whose name says it carries one (:data:`WITHHELD`) is written as
``"<withheld>"``. The file is opened for append only (``O_APPEND``), so a line is never rewritten; writers in one
process take a lock, and each line is one ``write`` below the pipe-buffer size, so lines from several processes do
not interleave.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE = "audit.jsonl"
WITHHELD = ("key", "secret", "token", "password", "ids", "identifiers", "user", "users", "salt")
MAX_VALUE = 200  # characters of one parameter kept: a log line stays one atomic write
_lock = threading.Lock()


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in sorted(params.items()):
        if any(word in name.lower() for word in WITHHELD):
            out[name] = "<withheld>"
        elif value is None or isinstance(value, bool | int | float):
            out[name] = value
        else:
            out[name] = str(value)[:MAX_VALUE]
    return out


def clean(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as a log line holds them: identifier-like names withheld, long values cut."""
    return _clean(params)


def record(
    data_dir: str | Path,
    *,
    principal: Mapping[str, Any],
    endpoint: str,
    params: Mapping[str, Any],
    outcome: str = "ok",
    when: datetime | None = None,
    withheld: int | None = None,
    epsilon: float | None = None,
) -> dict[str, Any]:
    """Append one line (and answer it); ``principal`` is key id, role and brand, nothing secret. ``withheld``
    and ``epsilon`` are written only when given (audience lines have neither)."""
    line: dict[str, Any] = {
        "time": (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        "principal": {k: principal.get(k) for k in ("key_id", "role", "brand")},
        "endpoint": endpoint,
        "params": _clean(params),
        "outcome": outcome[:MAX_VALUE],
    }
    if withheld is not None:
        line["withheld"] = int(withheld)
    if epsilon is not None:
        line["epsilon"] = float(epsilon)
    data = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    path = Path(data_dir) / FILE
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    return line


def read(data_dir: str | Path) -> list[dict[str, Any]]:
    """Every line, oldest first (an absent log is empty)."""
    path = Path(data_dir) / FILE
    if not path.exists():
        return []
    # Lines end in "\n" only: str.splitlines would also cut at U+2028 and the other separators a logged
    # parameter may hold (json.dumps keeps them raw with ensure_ascii=False).
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
