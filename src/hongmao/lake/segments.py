"""Parquet segments: the immutable files that hold the lake's rows.

One segment per committed batch, named ``seg-<seq>-<uuid>.parquet`` under ``DATA/segments``. Every segment
has the one Arrow schema derived from :data:`hongmao.contract.columns.COLUMNS`, so an engine reads the whole
list of committed segments as one table (DuckDB: ``read_parquet([...])``; Spark:
``spark.read.parquet(*paths)``).

A segment is written durably before the catalog learns about it: a hidden temporary name, flush and fsync, an
atomic rename, then an fsync of the directory. A file the catalog does not list is never visible to readers.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hongmao.contract.columns import COLUMNS
from hongmao.errors import LakeError

#: Bumped when the mapping from contract columns to Parquet types changes (the column list is stored too).
SCHEMA_VERSION = 1
COMPRESSION = "zstd"
#: Columns holding a different value on (nearly) every row: no dictionary encoding, which would only be built
#: to be dropped again past its page limit (faster writes and smaller files; a scratch check on a fold's clicks).
UNIQUE_COLUMNS = frozenset({"id", "time", "click_id", "order_id", "data"})

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "float64": pa.float64(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
}

NAME_RE = re.compile(r"^seg-(\d+)-([0-9a-f]{32})\.parquet$")
TEMP_PREFIX = ".tmp-"


@cache
def segment_schema() -> pa.Schema:
    """The Arrow schema of every segment, from the contract's column list."""
    try:
        fields = [pa.field(name, _ARROW_TYPES[kind]) for name, kind in COLUMNS]
    except KeyError as error:
        raise LakeError(f"the contract uses a column type the lake cannot store: {error}") from error
    return pa.schema(fields, metadata={"hongmao.schema_version": str(SCHEMA_VERSION)})


def columns_signature() -> str:
    """The column list as stored in the catalog's ``meta`` table, to detect a contract change."""
    return json.dumps([list(column) for column in COLUMNS], separators=(",", ":"))


def empty_table() -> pa.Table:
    """A table with the segment schema and no rows (what an empty lake reads as)."""
    return segment_schema().empty_table()


def segment_name(seq: int) -> str:
    return f"seg-{seq:08d}-{uuid.uuid4().hex}.parquet"


def temp_path(directory: Path) -> Path:
    return directory / f"{TEMP_PREFIX}{uuid.uuid4().hex}.parquet"


def is_temp(name: str) -> bool:
    return name.startswith(TEMP_PREFIX)


def _parse_time(value: Any) -> Any:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return value


def _column(rows: Sequence[dict[str, Any]], field: pa.Field) -> pa.Array:
    values = [row.get(field.name) for row in rows]
    try:
        try:
            return pa.array(values, type=field.type)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            if not pa.types.is_timestamp(field.type):
                raise
            return pa.array([_parse_time(v) for v in values], type=field.type)
    except (pa.ArrowTypeError, pa.ArrowInvalid, ValueError, OverflowError) as error:
        raise LakeError(f"column {field.name!r} cannot be stored as {field.type}: {error}") from error


def table_of(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """The rows as a table with the segment schema, in the order given.

    Keys outside the schema are ignored; missing ones are null. ``time`` may also be an ISO 8601 string.
    """
    schema = segment_schema()
    try:
        table = pa.Table.from_pylist(list(rows), schema=schema)
    except (pa.ArrowTypeError, pa.ArrowInvalid, ValueError, OverflowError):
        # The slow path, column by column: parses time strings and names the column that does not fit.
        table = pa.Table.from_arrays([_column(rows, field) for field in schema], schema=schema)
    return checked(table)


def conform(columns: dict[str, pa.Array | pa.ChunkedArray]) -> pa.Table:
    """A table with the segment schema from some of its columns (the others null), rows in the order given.

    Each column must already have its field's type, or be castable to it safely.
    """
    schema = segment_schema()
    unknown = sorted(set(columns) - set(schema.names))
    if unknown:
        raise LakeError(f"the lake has no column {', '.join(unknown)}")
    lengths = {len(column) for column in columns.values()}
    if len(lengths) > 1:
        raise LakeError(f"columns of different lengths: {sorted(lengths)}")
    rows = lengths.pop() if lengths else 0
    arrays = []
    for field in schema:
        column = columns.get(field.name)
        try:
            arrays.append(pa.nulls(rows, field.type) if column is None else column.cast(field.type))
        except (pa.ArrowTypeError, pa.ArrowInvalid) as error:
            raise LakeError(f"column {field.name!r} cannot be stored as {field.type}: {error}") from error
    return checked(pa.Table.from_arrays(arrays, schema=schema))


def checked(table: pa.Table) -> pa.Table:
    """``table`` itself, after refusing it if a row lacks ``id``, ``type`` or ``time``."""
    for required in ("id", "type", "time"):
        if table.column(required).null_count:
            raise LakeError(f"rows without {required!r} cannot be stored")
    return table


def sort(table: pa.Table) -> pa.Table:
    """Rows by time, then id: tight min/max statistics per row group, for pruning. A table already in that
    order (one click log's lines are) is returned as it is, found with two vectorized comparisons."""
    if table.num_rows > 1:
        time, ids = table.column("time"), table.column("id")
        before, after = time.slice(0, len(time) - 1), time.slice(1)
        in_order = pc.or_(
            pc.less(before, after),
            pc.and_(pc.equal(before, after), pc.less_equal(ids.slice(0, len(ids) - 1), ids.slice(1))),
        )
        if pc.all(in_order).as_py():
            return table
    return table.sort_by([("time", "ascending"), ("id", "ascending")])


@dataclass(frozen=True)
class Summary:
    """What the catalog keeps about a segment, so stats never scan files."""

    rows: int
    first_time: datetime
    last_time: datetime
    counts: dict[str, int]


def summarize(table: pa.Table) -> Summary:
    bounds = pc.min_max(table.column("time"))
    counts = pc.value_counts(table.column("type"))
    return Summary(
        rows=table.num_rows,
        first_time=bounds["min"].as_py(),
        last_time=bounds["max"].as_py(),
        counts={item["values"].as_py(): item["counts"].as_py() for item in counts},
    )


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(table: pa.Table, directory: Path) -> Path:
    """Write ``table`` to a new hidden file in ``directory``, flushed and fsynced; returns its path."""
    path = temp_path(directory)
    try:
        with open(path, "wb") as sink:
            dictionary = [name for name in table.column_names if name not in UNIQUE_COLUMNS]
            pq.write_table(table, sink, compression=COMPRESSION, use_dictionary=dictionary)
            sink.flush()
            os.fsync(sink.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def publish(temp: Path, final: Path) -> None:
    """Atomically give a written temp file its final name and make the rename durable."""
    os.replace(temp, final)
    fsync_dir(final.parent)


def read_schema(path: Path) -> pa.Schema:
    return pq.read_schema(path)
