"""The rejects file: ``DATA/rejects.jsonl``, one JSON object per rejected input record, append-only, fsynced.

Each entry says where the record came from and why it was refused (``file``, ``line``, ``id``, ``type``,
``field``, ``reason``). The catalog counts them (``counters.rejected``) and remembers how many bytes of the
file it has counted, so a crash between the two writes is repaired when the lake next opens.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hongmao.lake.segments import fsync_dir


def encode(entries: Iterable[dict[str, Any]]) -> bytes:
    lines = (json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str) for entry in entries)
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def append(path: Path, data: bytes) -> int:
    """Append ``data`` durably; returns the file's size afterwards."""
    created = not path.exists()
    with open(path, "ab") as sink:
        sink.write(data)
        sink.flush()
        os.fsync(sink.fileno())
        size = sink.tell()
    if created:
        fsync_dir(path.parent)
    return size


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def drop_partial_line(path: Path) -> int:
    """Cut a last line left without its newline by a crash mid-write; returns the resulting size."""
    length = size(path)
    if length == 0:
        return 0
    with open(path, "r+b") as handle:
        handle.seek(length - 1)
        if handle.read(1) == b"\n":
            return length
        # Walk back to the last newline; lines are short, read in blocks.
        end = length
        while end > 0:
            start = max(0, end - 65536)
            handle.seek(start)
            block = handle.read(end - start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                end = start + cut + 1
                break
            end = start
        handle.truncate(end)
        handle.flush()
        os.fsync(handle.fileno())
        return end


def count_lines(path: Path, offset: int) -> int:
    """Newlines in the file after byte ``offset``."""
    count = 0
    with open(path, "rb") as source:
        source.seek(offset)
        while block := source.read(1 << 20):
            count += block.count(b"\n")
    return count
