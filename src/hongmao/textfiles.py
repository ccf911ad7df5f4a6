"""Opening input text files — plain, gzip-compressed or standard input — with errors that name the file.

Two ways in: :func:`open_text`, a decoded stream for readers that refuse a whole file on a bad byte, and
:func:`numbered_lines`, raw lines numbered from 1 for readers that judge each line on its own (ingest: one
bad byte must cost one record, not the file). Lines are split on ``\\n`` only, as JSON lines and RFC 4180
define them; a ``\\r`` before it stays on the line.
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, cast

from hongmao.errors import InputError

BOM = b"\xef\xbb\xbf"
#: Longest line read whole; a longer one is skipped (and reported) rather than held in memory.
MAX_LINE = 16 << 20


def open_text(path: str) -> IO[str]:
    """A text stream of ``path`` (``-`` is standard input); UTF-8, a leading byte-order mark is dropped."""
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="strict")
    try:
        if path.lower().endswith(".gz"):
            return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from exc


@dataclass(frozen=True, slots=True)
class Line:
    """One physical line: its bytes with the ``\\n`` (None when longer than the limit) and its number."""

    number: int
    data: bytes | None

    def text(self) -> str:
        """The line decoded; raises :class:`InputError` naming the first byte that is not UTF-8 (1-based)."""
        if self.data is None:
            raise InputError(f"line longer than {MAX_LINE >> 20} MiB")
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text at byte {exc.start + 1} of the line ({exc.reason})") from None


@contextmanager
def numbered_lines(path: str, limit: int = MAX_LINE) -> Iterator[Iterator[Line]]:
    """The physical lines of ``path`` (``-`` is standard input, ``.gz`` is decompressed), a BOM dropped.

    A file that cannot be opened, or whose compressed stream is damaged, raises :class:`InputError`: that is
    the file's fault as a whole, not a line's.
    """
    if path == "-":
        yield _lines(sys.stdin.buffer, path, limit)
        return
    try:
        stream = cast(IO[bytes], gzip.open(path, "rb") if path.lower().endswith(".gz") else open(path, "rb"))  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    with stream:
        yield _lines(stream, path, limit)


def _lines(stream: IO[bytes], path: str, limit: int) -> Iterator[Line]:
    number = 0
    while True:
        try:
            data = stream.readline(limit + 1)
            overlong = len(data) > limit and not data.endswith(b"\n")
            rest = data
            while overlong and rest and not rest.endswith(b"\n"):  # skip to the end of an overlong line
                rest = stream.readline(1 << 20)
        except (OSError, EOFError, zlib.error) as exc:  # gzip: BadGzipFile is an OSError, truncation EOFError
            raise InputError(f"{path}: cannot read after line {number}: {exc}") from exc
        if not data:
            return
        number += 1
        if overlong:
            yield Line(number, None)
        else:
            yield Line(number, data[len(BOM) :] if number == 1 and data.startswith(BOM) else data)
