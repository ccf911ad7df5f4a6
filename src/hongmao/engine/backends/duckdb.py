"""DuckDB, embedded: the default engine. Bounded in memory (past the limit, joins and sorts spill to disk)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis

from hongmao.engine.backends import Backend, EngineOptions


def connect(options: EngineOptions) -> Any:
    from hongmao.errors import ConfigError

    limit = options.memory_limit or "3GB"
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit):
        raise ConfigError(f"engine memory limit {limit!r} is not a size like 3GB or 512MB")
    con = ibis.duckdb.connect()
    if options.threads:
        con.raw_sql(f"SET threads = {int(options.threads)}")
    con.raw_sql(f"SET memory_limit = '{limit}'")
    spill = Path(tempfile.gettempdir()) / "hongmao-engine-spill"
    con.raw_sql(f"SET temp_directory = '{spill}'")
    con.raw_sql("SET preserve_insertion_order = false")
    return con


def read_parquet(con: Any, paths: Sequence[Path]) -> Any:
    return con.read_parquet([str(p) for p in paths], table_name="events")


def disconnect(con: Any) -> None:
    con.disconnect()


def errors() -> tuple[type[BaseException], ...]:
    import duckdb

    return (duckdb.Error,)


BACKEND = Backend(
    name="duckdb",
    connect=connect,
    read_parquet=read_parquet,
    disconnect=disconnect,
    capabilities=frozenset({"json_arrays", "single_file_writes", "exact_decimal_sums"}),
    errors=errors,
)
