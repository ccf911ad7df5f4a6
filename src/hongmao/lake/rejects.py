"""The rejects file: ``DATA/rejects.jsonl``, one JSON object per rejected input record, append-only, fsynced.

Each entry says where the record came from and why it was refused (``file``, ``line``, ``id``, ``type``,
``field``, ``reason``). The catalog counts them (``counters.rejected``) and remembers how many bytes of the
file it has counted, so a crash between the two writes is repaired when the lake next opens.

A reject is recorded once: the catalog keeps the :func:`key` of every entry (``reject_keys``), and an entry
saying the same again (the same file re-ingested, the same API batch retried) is neither appended nor counted.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hongmao.lake.segments import fsync_dir


def key(entry: dict[str, Any]) -> str:
    """What identifies a reject: where the record was (file, line), what it claimed to be (id, type) and every
    problem found; 128 bits of SHA-256 over them. Nothing else of the record is in the entry to hash."""
    problems = entry.get("problems") or [{"field": entry.get("field"), "reason": entry.get("reason")}]
    said = [entry.get("file"), entry.get("line"), entry.get("id"), entry.get("type"), problems]
    text = json.dumps(said, ensure_ascii=True, separators=(",", ":"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


def _line(entry: dict[str, Any]) -> str:
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: as a \\u escape the line stays UTF-8 and means the same
        text = json.dumps(entry, ensure_ascii=True, separators=(",", ":"), default=str)
    return text


def encode(entries: Iterable[dict[str, Any]]) -> bytes:
    return "".join(f"{_line(entry)}\n" for entry in entries).encode("utf-8")


def read_after(path: Path, offset: int) -> Iterator[dict[str, Any] | None]:
    """The entries after byte ``offset`` (None for a line that is not a JSON object, e.g. edited by hand)."""
    with open(path, "rb") as source:
        source.seek(offset)
        for raw in source:
            try:
                entry = json.loads(raw)
            except ValueError:
                entry = None
            yield entry if isinstance(entry, dict) else None


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
