"""Unit-level experiment tables: one row per randomised unit, a group column and metric columns.

Reads CSV (optionally gzip-compressed) or Parquet (via pyarrow), picks columns by name, and hands the metric
values of the requested groups to :func:`hongmao.measure.lift.difference_in_means`. Rows in other groups are
skipped (Hillstrom has two e-mail arms and one holdout; a lift compares one arm with the holdout).

Every problem is an :class:`~hongmao.errors.InputError` that names the file and, where there is one, the line
(CSV; line 1 is the header) or row (Parquet; row 1 is the first data row) and the column.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hongmao.errors import InputError
from hongmao.measure.lift import Interval, LiftResult, difference_in_means
from hongmao.textfiles import open_text

__all__ = ["lift_from_units", "read_groups"]

UnitsFormat = Literal["csv", "parquet"]
_MAX_LISTED = 20


def _format_of(path: str) -> UnitsFormat:
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in (".csv", ".txt"):
        return "csv"
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "parquet"
    raise InputError(f"{path}: cannot tell the format from the extension; use .csv, .csv.gz or .parquet")


def _present(counts: Counter[str]) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{value!r} ({n:,} row{'s' if n != 1 else ''})" for value, n in items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f", and {more} more" if more > 0 else "") if items else "none (no data rows)"


def _parse_metric(text: str, where: str, column: str) -> float:
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{where}, column {column!r}: empty metric value; every unit needs a number")
    try:
        value = float(stripped)
    except ValueError:
        raise InputError(f"{where}, column {column!r}: cannot read {text!r} as a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}, column {column!r}: {text!r} is not a finite number")
    return value


def _csv_rows(path: str, group: str, metric: str) -> Iterator[tuple[str, str, str]]:
    """(where, group value, metric text) per data row, after checking the header has both columns."""
    handle = open_text(path)
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise InputError(f"{path}: the file is empty; expected a header line naming the columns")
            columns = [c.strip() for c in header]
            idx: dict[str, int] = {}
            for name in (group, metric):
                if name not in columns:
                    raise InputError(
                        f"{path}, line 1: no column {name!r}; the header has {', '.join(map(repr, columns))}"
                    )
                idx[name] = columns.index(name)
            g, m = idx[group], idx[metric]
            width = len(columns)
            start = reader.line_num + 1
            for row in reader:
                where = f"{path}, line {start}"
                start = reader.line_num + 1
                if not row:
                    continue
                if len(row) != width:
                    raise InputError(f"{where}: {len(row)} fields where the header has {width}")
                yield where, row[g], row[m]
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from exc
        except csv.Error as exc:
            raise InputError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from exc


def _group_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parquet_rows(path: str, group: str, metric: str) -> Iterator[tuple[str, str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
        raise InputError(f"{path}: reading Parquet needs pyarrow") from exc
    try:
        parquet = pq.ParquetFile(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot open as Parquet: {exc}") from exc
    except Exception as exc:  # pyarrow raises ArrowInvalid (a ValueError) for non-Parquet files
        raise InputError(f"{path}: not a readable Parquet file: {exc}") from exc
    names = list(parquet.schema_arrow.names)
    for name in (group, metric):
        if name not in names:
            raise InputError(f"{path}: no column {name!r}; the file has {', '.join(map(repr, names))}")
    row = 0
    try:
        for batch in parquet.iter_batches(columns=[group, metric]):
            groups = batch.column(0).to_pylist()
            metrics = batch.column(1).to_pylist()
            for gv, mv in zip(groups, metrics, strict=True):
                row += 1
                yield f"{path}, row {row}", _group_text(gv), mv
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot read Parquet data after row {row}: {exc}") from exc


def _parquet_metric(value: Any, where: str, column: str) -> float:
    if value is None:
        raise InputError(f"{where}, column {column!r}: null metric value; every unit needs a number")
    if isinstance(value, str):
        return _parse_metric(value, where, column)
    if isinstance(value, bool | int | float) or hasattr(value, "__float__"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if math.isfinite(number):
            return number
    raise InputError(f"{where}, column {column!r}: {value!r} is not a finite number")


def read_groups(
    path: str | os.PathLike[str], group: str, metric: str, values: Sequence[str]
) -> dict[str, npt.NDArray[np.float64]]:
    """Metric values per requested group value, read from a CSV or Parquet unit table.

    Rows whose group is not in ``values`` are skipped (their metric is not parsed). Raises InputError for a
    missing column, an unparseable metric value in a requested group, and a requested group value with no rows
    (listing the values present, with their row counts).
    """
    path_s = os.fspath(path)
    wanted = set(values)
    collected: dict[str, list[float]] = {v: [] for v in values}
    seen: Counter[str] = Counter()
    if _format_of(path_s) == "csv":
        for where, gv, text in _csv_rows(path_s, group, metric):
            seen[gv] += 1
            if gv in wanted:
                collected[gv].append(_parse_metric(text, where, metric))
    else:
        for where, gv, raw in _parquet_rows(path_s, group, metric):
            seen[gv] += 1
            if gv in wanted:
                collected[gv].append(_parquet_metric(raw, where, metric))
    for v in values:
        if not collected[v]:
            hint = ""
            close = [s for s in seen if s.strip().casefold() == v.strip().casefold()]
            if close:
                hint = f" (did you mean {close[0]!r}?)"
            raise InputError(
                f"{path_s}, column {group!r}: no unit has the group value {v!r}{hint}; values present: {_present(seen)}"
            )
    return {v: np.asarray(collected[v], dtype=np.float64) for v in values}


def lift_from_units(
    path: str | os.PathLike[str],
    group: str,
    treatment: str,
    holdout: str,
    metric: str,
    *,
    alpha: float = 0.05,
    interval: Interval = "auto",
) -> LiftResult:
    """Holdout lift of ``metric`` per unit, ``treatment`` group against ``holdout`` group of column ``group``.

    See :func:`hongmao.measure.lift.difference_in_means` for the interval; the result's ``metric`` is the
    column name.
    """
    if treatment == holdout:
        raise InputError(f"treatment and holdout are both {treatment!r}; a lift needs two groups")
    groups = read_groups(path, group, metric, [treatment, holdout])
    where = os.fspath(path)
    try:
        return difference_in_means(groups[treatment], groups[holdout], metric=metric, alpha=alpha, interval=interval)
    except InputError as exc:
        raise InputError(f"{where}, column {group!r}: {exc}") from exc
