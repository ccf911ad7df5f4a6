"""Readers turn input files into numbered raw records, or a reason the record could not be read.

Format is chosen by extension (.jsonl/.ndjson/.json lines, .csv, .parquet) or given explicitly; ``-`` is
standard input read as JSON lines. Each reader yields :class:`RawRecord` whose ``line`` is the 1-based line
(or row, for Parquet) in the source, so a reject can point at it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hongmao.errors import InputError
from hongmao.textfiles import open_text

Format = Literal["jsonl", "csv", "parquet"]
_EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: ``value`` is a dict, or raw JSON text (validated later), or None with ``error``."""

    line: int
    value: dict[str, Any] | str | None
    error: str | None = None


def detect_format(path: str) -> Format:
    if path == "-":
        return "jsonl"
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _EXTENSIONS:
        return _EXTENSIONS[suffixes[-1]]
    raise InputError(
        f"{path}: cannot tell the format from the extension; use .jsonl/.ndjson, .csv or .parquet (or --format)"
    )


def read_jsonl(path: str) -> Iterator[RawRecord]:
    """JSON lines: yields the raw text of each non-blank line; parsing happens in validation (one pass)."""
    handle = open_text(path)
    try:
        line_no = 0
        while True:
            try:
                text = handle.readline()
            except UnicodeDecodeError as exc:
                line_no += 1
                yield RawRecord(line_no, None, f"not UTF-8 text: {exc.reason}")
                return
            if not text:
                return
            line_no += 1
            if text.strip():
                yield RawRecord(line_no, text)
    finally:
        if path != "-":
            handle.close()


def _cell(value: str) -> Any:
    # Lists and objects (order lines, linked items) travel through CSV as JSON text in their cell.
    stripped = value.strip()
    if stripped[:1] in ("[", "{"):
        return json.loads(stripped)
    return value


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"id":..,"data.note_id":..}`` -> ``{"id":..,"data":{"note_id":..}}``; empty cells are absent."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None or value == "":
            continue
        if key == "data" and isinstance(value, str):
            out["data"] = json.loads(value)
            continue
        if key.startswith("data."):
            out.setdefault("data", {})[key[5:]] = value
        else:
            out[key] = value
    return out


def read_csv(path: str) -> Iterator[RawRecord]:
    handle = open_text(path)
    try:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            return
        header = list(reader.fieldnames)
        if len(set(header)) != len(header):
            raise InputError(f"{path}: the header repeats a column name")
        line_no = 1
        for row in reader:
            line_no = reader.line_num
            if None in row:
                extra = len(row[None])  # csv puts surplus cells under the key None
                yield RawRecord(line_no, None, f"{extra + len(header)} cells for {len(header)} columns")
                continue
            if any(v is None for v in row.values()):
                yield RawRecord(line_no, None, f"fewer cells than the {len(header)} columns")
                continue
            try:
                record = _nest({k: (_cell(v) if k.startswith("data.") else v) for k, v in row.items()})
            except json.JSONDecodeError as exc:
                yield RawRecord(line_no, None, f"malformed JSON in a cell: {exc.msg}")
                continue
            yield RawRecord(line_no, record)
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV: {exc}") from exc
    finally:
        if path != "-":
            handle.close()


def read_parquet(path: str, batch_rows: int = 50_000) -> Iterator[RawRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a readable Parquet file: {exc}") from exc
    row_no = 0
    for batch in parquet.iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            row_no += 1
            try:
                record = _parquet_record(row)
            except json.JSONDecodeError as exc:
                yield RawRecord(row_no, None, f"malformed JSON in column data: {exc.msg}")
                continue
            yield RawRecord(row_no, record)


def _parquet_record(row: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime

    for key in ("time",):
        value = row.get(key)
        if isinstance(value, datetime) and value.tzinfo is not None:
            row[key] = value.isoformat()
    data = row.get("data")
    if isinstance(data, dict):
        # Struct columns come back with every field; absent (None) fields mean "not given".
        row["data"] = {k: v for k, v in data.items() if v is not None}
    return _nest(row)


def read(path: str, fmt: Format | None = None) -> Iterator[RawRecord]:
    chosen = fmt or detect_format(path)
    if path != "-" and not Path(path).exists():
        raise InputError(f"{path}: no such file")
    if chosen == "jsonl":
        return read_jsonl(path)
    if chosen == "csv":
        return read_csv(path)
    return read_parquet(path)
