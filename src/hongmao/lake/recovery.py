"""Putting a lake back in order after a crash; runs when a lake opens, under the write lock.

What a killed writer can leave behind, and what happens to it:

- a temp file (``.tmp-*.parquet``) it was writing: deleted, it was never committed;
- a segment file with its final name whose catalog transaction never committed: moved to ``DATA/orphans``
  (its rows are not in the lake; kept only for inspection, since re-running the ingest re-appends them);
- a rejects line without its newline: cut, and rejects appended but not yet counted: counted, their keys
  recorded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from pathlib import Path

from sqlalchemy.engine import Connection

from hongmao.lake import catalog, rejects, segments

log = logging.getLogger(__name__)


def sweep_segments(segments_dir: Path, orphans_dir: Path, committed: Collection[str]) -> list[str]:
    """Delete temp files and move uncommitted segment files aside; returns the names moved or deleted."""
    handled: list[str] = []
    for path in sorted(segments_dir.iterdir()):
        name = path.name
        if name in committed or not path.is_file():
            continue
        if segments.is_temp(name):
            path.unlink(missing_ok=True)
            log.info("deleted the unfinished segment file %s", name)
        else:
            orphans_dir.mkdir(exist_ok=True)
            os.replace(path, orphans_dir / name)
            log.warning("moved %s, which the catalog does not list, to %s", name, orphans_dir)
        handled.append(name)
    if handled:
        segments.fsync_dir(segments_dir)
    return handled


def reconcile_rejects(conn: Connection, path: Path) -> None:
    """Count rejects written to the file but not yet counted by the catalog (crash between the writes)."""
    length = rejects.drop_partial_line(path)
    counted = catalog.counter(conn, catalog.REJECTS_BYTES)
    if length > counted:
        entries = list(rejects.read_after(path, counted))
        keys = sorted({rejects.key(entry) for entry in entries if entry is not None})
        known = catalog.existing_reject_keys(conn, keys)
        catalog.insert_reject_keys(conn, [k for k in keys if k not in known])
        catalog.add_counter(conn, catalog.REJECTED, len(entries))
        catalog.set_counter(conn, catalog.REJECTS_BYTES, length)
    elif length < counted:
        # The file was truncated or removed by hand: keep the count, follow the file from here on.
        catalog.set_counter(conn, catalog.REJECTS_BYTES, length)
