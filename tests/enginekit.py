"""Helpers to put hand-made events straight into Parquet segments for engine tests (no lake needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from hongmao.contract import parse_event, to_row
from hongmao.engine.backend import EVENTS_SCHEMA


def write_segment(path: Path, events: list[dict[str, Any]]) -> Path:
    rows = [to_row(parse_event(e)) for e in events]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=EVENTS_SCHEMA.to_pyarrow()), path)
    return path
