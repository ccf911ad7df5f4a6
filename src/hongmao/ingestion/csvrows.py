"""CSV rows from hostile files: every record judged on its own, a bad one rejected by its line, the rest kept.

The csv module reads a file as one stream of cells, so one fault spreads: a quote that never closes turns every
later line into part of one cell (good rows swallowed into a single reject, or the whole file aborted once that
cell passes the module's 128 KiB field limit), and a byte that is not UTF-8 stops a decoding stream for the whole
file. A careful loader rejects the faulty record and carries on from a boundary it can trust; here that boundary
is the next physical line. The lines of the record being read are kept, and when the reader cannot finish the
record (end of file inside quotes, a cell over the field limit, a record over :data:`MAX_RECORD`) its first line
is rejected and reading resumes on the line after it, replaying the kept lines. A quoted cell may still span lines,
as CSV allows; only a quote that never closes costs its line, and the good rows after it are read again. Lines are
decoded one at a time (bytes that are not UTF-8 kept as escapes so the structure still parses) and a record
holding any such byte is rejected naming it.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from hongmao.errors import InputError
from hongmao.textfiles import MAX_LINE, Line

#: Longest record (all its lines) read before it is judged broken: far above any event's.
MAX_RECORD = MAX_LINE


@dataclass(frozen=True, slots=True)
class Row:
    """A record's cells, or why it cannot be read; ``line`` is the record's first physical line."""

    line: int
    cells: list[str] | None
    error: str | None = None


class _Unfinished(Exception):
    """The csv reader cannot finish the current record; raised through it from :class:`_Feed`."""


class _Feed:
    """The csv reader's input: decoded lines, remembering those of the record in progress."""

    def __init__(self, lines: Iterator[Line]) -> None:
        self._lines = lines
        self._replay: deque[Line] = deque()
        self.record: list[Line] = []
        self.undecodable: str | None = None  # why the first undecodable line of the record is not UTF-8
        self._size = 0

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        line = self._replay.popleft() if self._replay else next(self._lines, None)
        if line is None:
            if self.record:
                raise _Unfinished("unterminated quote: a quoted cell opened on this line is never closed")
            raise StopIteration
        self.record.append(line)
        if line.data is None:
            raise _Unfinished(f"line longer than {MAX_LINE >> 20} MiB")
        self._size += len(line.data)
        if self._size > MAX_RECORD:
            raise _Unfinished(f"record longer than {MAX_RECORD >> 20} MiB: a quote never closed?")
        try:
            return line.data.decode("utf-8")
        except UnicodeDecodeError:
            if self.undecodable is None:
                try:
                    line.text()
                except InputError as exc:
                    where = "" if line is self.record[0] else f" on line {line.number}"
                    self.undecodable = f"{exc}{where}"
            return line.data.decode("utf-8", "surrogateescape")

    def finish(self) -> list[Line]:
        """The lines of the record just read; the next one starts empty."""
        lines, self.record, self.undecodable, self._size = self.record, [], None, 0
        return lines

    def drop_first(self) -> Line:
        """Give up the record in progress: its first line is returned, the rest will be read again."""
        lines = self.finish()
        self._replay.extendleft(reversed(lines[1:]))
        return lines[0]


def _reason(error: Exception) -> str:
    if isinstance(error, _Unfinished):
        return str(error)
    text = str(error)
    if "field larger than field limit" in text:
        return f"a cell larger than {csv.field_size_limit() >> 10} KiB, or a quote never closed"
    return f"malformed CSV: {text}"


def rows(lines: Iterator[Line]) -> Iterator[Row]:
    """Each non-blank record of ``lines`` as a :class:`Row`, numbered by its first line."""
    feed = _Feed(lines)
    reader = csv.reader(feed)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, _Unfinished) as error:
            first = feed.drop_first()
            yield Row(first.number, None, _reason(error))
            reader = csv.reader(feed)  # a fresh reader: the old one is mid-record
            continue
        undecodable = feed.undecodable
        record = feed.finish()
        if undecodable is not None:
            yield Row(record[0].number, None, undecodable)
        elif cells:
            yield Row(record[0].number, cells)
