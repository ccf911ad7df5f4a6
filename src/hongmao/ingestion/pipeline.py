"""The ingest pipeline: read -> validate -> (reject with reasons | store) in committed batches.

Good records of a file are stored even when others in it are rejected; every reject names file, line,
field and reason. A batch is acknowledged (counted as accepted) only after the lake has committed it, so a
crash loses no acknowledged batch. De-duplication by event id is the lake's job.

A file that cannot be read as its format at all (not Parquet, a CSV header naming a column twice, a damaged
gzip stream) is a file-level error: the report keeps its reason (:attr:`FileReport.error`), what was read of
it before the fault is kept, and the remaining files are still ingested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hongmao.contract import EventBase, Problem, to_row, validate, validate_json
from hongmao.contract.jsontext import loads
from hongmao.errors import InputError
from hongmao.ingestion.readers import Format, RawRecord, read

DEFAULT_BATCH = 50_000


class EventSink(Protocol):
    """What ingest needs of a lake."""

    rejects_path: Path

    def append(self, rows: list[dict[str, Any]]) -> Any: ...

    def reject(self, entries: list[dict[str, Any]]) -> Any: ...


@dataclass
class FileReport:
    file: str
    read: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    error: str | None = None  # why the file could not be read (to its end), if it could not


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    rejects: str = ""

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def duplicate(self) -> int:
        return sum(f.duplicate for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def errors(self) -> list[FileReport]:
        """The files that could not be read as their format (see the module docstring)."""
        return [f for f in self.files if f.error is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "rejects": self.rejects,
            "errors": [{"file": f.file, "reason": f.error} for f in self.errors],
        }


def printable(text: str) -> str:
    """``text`` with lone surrogates spelled as escapes (``\\udc80``): anything shown or stored must be UTF-8."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _peek(raw: dict[str, Any] | str | None) -> tuple[str | None, str | None]:
    """Best-effort id and type of a rejected record, for the rejects file (never its data)."""
    obj: Any = raw
    if isinstance(raw, str):
        try:
            obj = loads(raw)
        except InputError:
            return None, None
    if not isinstance(obj, dict):
        return None, None
    rid, rtype = obj.get("id"), obj.get("type")
    return (
        printable(str(rid)[:256]) if isinstance(rid, str | int | float) else None,
        printable(str(rtype)[:64]) if isinstance(rtype, str) else None,
    )


def reject_entry(file: str, raw: RawRecord, problems: list[Problem]) -> dict[str, Any]:
    rid, rtype = _peek(raw.value)
    listed = [{"field": printable(p.field), "reason": printable(p.reason)} for p in problems]
    return {
        "file": printable(file),
        "line": raw.line,
        "id": rid,
        "type": rtype,
        "field": listed[0]["field"],
        "reason": listed[0]["reason"],
        "problems": listed,
    }


def check(raw: RawRecord) -> EventBase | list[Problem]:
    if raw.error is not None or raw.value is None:
        return [Problem("(record)", raw.error or "unreadable record")]
    if isinstance(raw.value, str):
        return validate_json(raw.value)
    return validate(raw.value)


class Ingestor:
    """Feeds records into a sink in committed batches, keeping per-file counts."""

    def __init__(
        self,
        sink: EventSink,
        batch_size: int = DEFAULT_BATCH,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.sink = sink
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.report = IngestReport(rejects=str(sink.rejects_path))
        self._rows: list[dict[str, Any]] = []
        self._rejects: list[dict[str, Any]] = []
        self._current: FileReport | None = None

    def feed(self, name: str, records: Iterable[RawRecord]) -> FileReport:
        rep = FileReport(file=name)
        self.report.files.append(rep)
        self._current = rep
        try:
            for raw in records:
                rep.read += 1
                result = check(raw)
                if isinstance(result, list):
                    rep.rejected += 1
                    self._rejects.append(reject_entry(name, raw, result))
                else:
                    self._rows.append(to_row(result))
                if len(self._rows) + len(self._rejects) >= self.batch_size:
                    self.flush()
        except InputError as error:
            rep.error = str(error)
        # A batch never spans two files, so each file's accepted and duplicate counts are exact.
        self.flush()
        return rep

    def fail(self, name: str, reason: str) -> FileReport:
        """Report a file that could not even be opened as its format."""
        rep = FileReport(file=name, error=reason)
        self.report.files.append(rep)
        return rep

    def flush(self) -> None:
        if self._rejects:
            self.sink.reject(self._rejects)
        if self._rows:
            result = self.sink.append(self._rows)
            if self._current is not None:
                self._current.accepted += int(result.accepted)
                self._current.duplicate += int(result.duplicate)
        done = len(self._rows) + len(self._rejects)
        self._rows, self._rejects = [], []
        if self.on_progress is not None and done:
            self.on_progress(done)

    def close(self) -> IngestReport:
        self.flush()
        return self.report


def ingest_records(
    sink: EventSink, records: Iterable[RawRecord], name: str = "<records>", batch_size: int = DEFAULT_BATCH
) -> IngestReport:
    ingestor = Ingestor(sink, batch_size)
    ingestor.feed(name, records)
    return ingestor.close()


def ingest_paths(
    sink: EventSink,
    paths: Iterable[str],
    fmt: Format | None = None,
    adapter: Callable[[str], Iterator[RawRecord]] | None = None,
    batch_size: int = DEFAULT_BATCH,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest files (``-`` is standard input). ``adapter`` reads an outside format instead of the contract's."""
    ingestor = Ingestor(sink, batch_size, on_progress)
    for path in paths:
        try:
            records = adapter(path) if adapter is not None else read(path, fmt)
        except InputError as error:
            ingestor.fail(path, str(error))
            continue
        ingestor.feed(path, records)
    return ingestor.close()
