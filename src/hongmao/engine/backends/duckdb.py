"""DuckDB, embedded: the default engine. Bounded in memory (past the limit, joins and sorts spill to disk)."""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hongmao.engine.backends import Backend, EngineOptions

if TYPE_CHECKING:
    from ibis import BaseBackend
    from ibis.expr.types import Table


@functools.cache
def _backend_class() -> type:
    """Ibis's DuckDB backend with one rule of its compiler replaced.

    Ibis 12 compiles ``epoch_seconds()`` to ``EPOCH(CAST(t AS TIMESTAMP))``. On the lake's ``TIMESTAMP WITH TIME
    ZONE`` column that cast is a conversion to the session's time zone, row by row through ICU: about 6x the
    cost of ``epoch(t)`` (5-6 s against 0.6-0.9 s per 5M rows, docs/benchmarks.md), and in a session time zone
    with daylight saving it would shift ages across the change. ``epoch`` of an instant is its seconds since
    1970-01-01 UTC, fractions included, whatever the time zone: the same figure the Spark backend computes.
    """
    from ibis.backends.duckdb import Backend as IbisDuckDB
    from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

    class HongmaoDuckDBCompiler(DuckDBCompiler):  # type: ignore[misc]
        def visit_ExtractEpochSeconds(self, op: Any, *, arg: Any) -> Any:
            if op.arg.dtype.is_timestamp() and op.arg.dtype.timezone is not None:
                return self.f.epoch(arg)
            return super().visit_ExtractEpochSeconds(op, arg=arg)

    class HongmaoDuckDB(IbisDuckDB):  # type: ignore[misc]
        compiler = HongmaoDuckDBCompiler()

    return HongmaoDuckDB


def connect(options: EngineOptions) -> BaseBackend:
    from hongmao.errors import ConfigError

    limit = options.memory_limit or "3GB"
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit):
        raise ConfigError(f"engine memory limit {limit!r} is not a size like 3GB or 512MB")
    con = _backend_class()().connect()
    if options.threads:
        con.raw_sql(f"SET threads = {int(options.threads)}")
    con.raw_sql(f"SET memory_limit = '{limit}'")
    spill = Path(tempfile.gettempdir()) / "hongmao-engine-spill"
    con.raw_sql(f"SET temp_directory = '{spill}'")
    con.raw_sql("SET preserve_insertion_order = false")
    return con


def read_parquet(con: BaseBackend, paths: Sequence[Path]) -> Table:
    return con.read_parquet([str(p) for p in paths], table_name="events")


def disconnect(con: BaseBackend) -> None:
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
