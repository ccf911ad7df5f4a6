"""Where the engine runs: an Ibis connection and the ``events`` table over the lake's Parquet segments.

DuckDB is the embedded default; the expressions built in this package are backend-neutral, so a Spark
connection (``ibis.pyspark.connect``) over the same segment files runs them unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from hongmao.contract import COLUMNS

_TYPES = {
    "string": dt.string,
    "timestamp": dt.Timestamp(timezone="UTC"),
    "float64": dt.float64,
    "int64": dt.int64,
    "bool": dt.boolean,
}
EVENTS_SCHEMA = ibis.schema({name: _TYPES[kind] for name, kind in COLUMNS})


def connect(threads: int | None = None, memory_limit: str | None = None) -> Any:
    """An embedded DuckDB connection bounded in memory: past the limit, joins and sorts spill to disk."""
    import re
    import tempfile

    from hongmao import settings

    con = ibis.duckdb.connect()
    threads = threads or int(settings.get("engine_threads") or 0)
    if threads:
        con.raw_sql(f"SET threads = {int(threads)}")
    limit = memory_limit or settings.get("engine_memory") or "3GB"
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit):
        from hongmao.errors import ConfigError

        raise ConfigError(f"engine memory limit {limit!r} is not a size like 3GB or 512MB")
    con.raw_sql(f"SET memory_limit = '{limit}'")
    spill = Path(tempfile.gettempdir()) / "hongmao-engine-spill"
    con.raw_sql(f"SET temp_directory = '{spill}'")
    con.raw_sql("SET preserve_insertion_order = false")
    return con


def events_table(con: Any, segments: Sequence[Path]) -> Any:
    """The lake's events as one Ibis table (an empty typed table when the lake is empty)."""
    if not segments:
        return ibis.memtable(EVENTS_SCHEMA.to_pyarrow().empty_table())
    return con.read_parquet([str(p) for p in segments], table_name="events")
