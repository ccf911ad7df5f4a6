"""Readers turn input files into numbered raw records, or a reason the record could not be read.

Format is chosen by extension (.jsonl/.ndjson/.json lines, .csv, .parquet) or given explicitly; ``-`` is
standard input read as JSON lines. Each reader yields :class:`RawRecord` whose ``line`` is the 1-based line
(or row, for Parquet) in the source, so a reject can point at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hongmao.contract.jsontext import loads
from hongmao.errors import InputError, NestingError
from hongmao.ingestion.csvrows import rows
from hongmao.textfiles import numbered_lines

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
    """JSON lines: yields the raw text of each non-blank line; parsing happens in validation (one pass).

    Bytes are split into lines before they are decoded, so a byte that is not UTF-8 rejects its own line only.
    """
    with numbered_lines(path) as lines:
        for line in lines:
            try:
                text = line.text()
            except InputError as exc:
                yield RawRecord(line.number, None, str(exc))
                continue
            if text.strip():
                yield RawRecord(line.number, text)


def _json_cell(value: str, where: str) -> Any:
    try:
        return loads(value)
    except NestingError as exc:
        raise InputError(f"{exc}, in {where}") from None
    except InputError as exc:
        raise InputError(f"{exc} in {where}") from None


def _cell(value: str) -> Any:
    # Lists and objects (order lines, linked items) travel through CSV as JSON text in their cell.
    stripped = value.strip()
    if stripped[:1] in ("[", "{"):
        return _json_cell(stripped, "a cell")
    return value


def _nest(flat: dict[str, Any], where: str = "a cell") -> dict[str, Any]:
    """``{"id":..,"data.note_id":..}`` -> ``{"id":..,"data":{"note_id":..}}``; empty cells are absent."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None or value == "":
            continue
        if key == "data" and isinstance(value, str):
            out["data"] = _json_cell(value, where)
            continue
        if key.startswith("data."):
            out.setdefault("data", {})[key[5:]] = value
        else:
            out[key] = value
    return out


def read_csv(path: str) -> Iterator[RawRecord]:
    """CSV with a header; each record is judged on its own (see :mod:`hongmao.ingestion.csvrows`)."""
    with numbered_lines(path) as lines:
        records = rows(lines)
        first = next(records, None)
        if first is None:
            return
        if first.cells is None:
            raise InputError(f"{path}: the header (line {first.line}) cannot be read: {first.error}")
        header = first.cells
        if len(set(header)) != len(header):
            raise InputError(f"{path}: the header repeats a column name")
        for row in records:
            if row.cells is None:
                yield RawRecord(row.line, None, row.error)
                continue
            if len(row.cells) > len(header):
                yield RawRecord(row.line, None, f"{len(row.cells)} cells for {len(header)} columns")
                continue
            if len(row.cells) < len(header):
                yield RawRecord(row.line, None, f"fewer cells than the {len(header)} columns")
                continue
            try:
                cells = zip(header, row.cells, strict=True)
                record = _nest({k: (_cell(v) if k.startswith("data.") else v) for k, v in cells})
            except InputError as exc:
                yield RawRecord(row.line, None, str(exc))
                continue
            yield RawRecord(row.line, record)


def read_parquet(path: str, batch_rows: int = 50_000) -> Iterator[RawRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a readable Parquet file: {exc}") from exc
    row_no = 0
    batches = parquet.iter_batches(batch_size=batch_rows)
    while True:
        try:
            batch = next(batches, None)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"{path}: cannot read Parquet data after row {row_no}: {exc}") from exc
        if batch is None:
            return
        for row in _pylist(batch):
            row_no += 1
            if isinstance(row, str):
                yield RawRecord(row_no, None, row)
                continue
            try:
                record = _parquet_record(row)
            except InputError as exc:
                yield RawRecord(row_no, None, str(exc))
                continue
            yield RawRecord(row_no, record)


def _pylist(batch: Any) -> list[dict[str, Any] | str]:
    """The batch's rows as dicts; a row Python cannot hold (a time past year 9999, text that is not UTF-8)
    becomes the reason instead, so it alone is rejected."""
    try:
        rows: list[dict[str, Any] | str] = batch.to_pylist()
        return rows
    except (ValueError, OverflowError):  # UnicodeDecodeError is a ValueError
        pass
    out: list[dict[str, Any] | str] = []
    for index in range(batch.num_rows):
        try:
            out.extend(batch.slice(index, 1).to_pylist())
        except (ValueError, OverflowError) as exc:
            out.append(f"a value cannot be read: {exc}")
    return out


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
    return _nest(row, "column data")


def read(path: str, fmt: Format | None = None) -> Iterator[RawRecord]:
    chosen = fmt or detect_format(path)
    if path != "-" and not Path(path).exists():
        raise InputError(f"{path}: no such file")
    if chosen == "jsonl":
        return read_jsonl(path)
    if chosen == "csv":
        return read_csv(path)
    return read_parquet(path)
