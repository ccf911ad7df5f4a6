"""Opening input text files — plain, gzip-compressed or standard input — with errors that name the file."""

from __future__ import annotations

import gzip
import io
import sys
from typing import IO

from hongmao.errors import InputError


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
