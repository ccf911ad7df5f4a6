"""Structured logs for a served Hongmao: one JSON object a line on standard error.

An access line names the method, the route's template, the status and the time taken, never the path (which
can hold a link token or an id), a query string, a header or a key. Other records keep their logger and message.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

ACCESS = logging.getLogger("hongmao.access")
#: The extra fields an access record carries into its JSON line.
ACCESS_FIELDS = ("method", "route", "status", "ms")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def configure(level: int = logging.INFO) -> None:
    """JSON lines for every logger of this process (each worker calls it: they are spawned)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("hongmao").setLevel(level)


def access(method: str, route: str, status: int, seconds: float) -> None:
    if ACCESS.isEnabledFor(logging.INFO):
        fields = {"method": method, "route": route, "status": status, "ms": round(seconds * 1000, 2)}
        ACCESS.info("request", extra=fields)
