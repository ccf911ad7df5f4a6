"""The Lake: accepted events as Parquet segments, made visible by a catalog transaction.

Layout of a data directory::

    DATA/
      catalog.sqlite        the default catalog (or HONGMAO_CATALOG_URL, e.g. PostgreSQL)
      lake.json             which catalog this directory belongs to (its lake id)
      segments/             committed segments, plus at most one hidden temp file while a batch is written
      orphans/              segment files a crash left uncommitted (not part of the lake)
      rejects.jsonl         rejected input records with their reasons
      .write.lock           the writers' lock

An :meth:`Lake.append` runs, under the write lock: de-duplicate by id (within the batch, then against the
catalog), write the new rows as a Parquet temp file (fsynced), then in ONE catalog transaction insert the
segment row and its ids, rename the file to its final name (directory fsynced) and commit. Readers only
ever see the segments the catalog lists, so a kill at any point loses no batch whose ``append`` returned and
shows nothing half-written; :mod:`hongmao.lake.recovery` tidies what a crash left when the lake next opens.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hongmao import settings
from hongmao.errors import DuplicateIdError, LakeBusyError, LakeError
from hongmao.lake import catalog, recovery, rejects, segments
from hongmao.lake.lock import WriteLock

log = logging.getLogger(__name__)

MARKER = "lake.json"
DEFAULT_LOCK_TIMEOUT = 10.0


def require(directory: Path) -> None:
    """Raise :class:`~hongmao.errors.NoLakeError` unless ``directory`` holds a lake: a mistyped ``--data`` must
    not become a new, empty lake whose zeros read like an answer."""
    from hongmao.errors import NoLakeError

    # catalog.sqlite: a lake from before the marker file, which gets one when it is next opened.
    if not (directory / MARKER).is_file() and not (directory / "catalog.sqlite").is_file():
        raise NoLakeError(
            f"no lake at {directory}: check --data (or HONGMAO_DATA); `hongmao ingest FILE --data {directory}` "
            "creates one"
        )


@dataclass(frozen=True)
class AppendResult:
    """What an append did: rows stored, rows dropped as duplicates, and the new segment's file name."""

    accepted: int
    duplicate: int
    segment: str | None


@dataclass(frozen=True)
class SegmentInfo:
    """A committed segment as the catalog records it."""

    seq: int
    name: str
    path: Path
    rows: int
    bytes: int
    first_time: datetime
    last_time: datetime
    counts: dict[str, int]
    created_at: datetime


class Lake:
    """An open lake: a data directory and its catalog. Use :meth:`open`; close it (or use ``with``)."""

    def __init__(self, data_dir: Path, engine: Engine, url: str, lock_timeout: float | None) -> None:
        self.data_dir = data_dir
        self.segments_dir = data_dir / "segments"
        self.orphans_dir = data_dir / "orphans"
        self.rejects_path = data_dir / "rejects.jsonl"
        self.catalog_url = catalog.redact(url)
        self.lock_timeout = lock_timeout
        self._url = url
        self._engine: Engine | None = engine
        self._lock = WriteLock(data_dir / ".write.lock")
        self._mutex = threading.RLock()

    # --- opening and closing ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        data_dir: str | Path | None = None,
        catalog_url: str | None = None,
        *,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
    ) -> Lake:
        """Open (creating if needed) the lake in ``data_dir`` with its catalog at ``catalog_url``.

        Defaults: ``settings.data_dir()`` (HONGMAO_DATA) and HONGMAO_CATALOG_URL, else SQLite at
        ``DATA/catalog.sqlite``. Runs pending catalog migrations and, when no writer is active, crash
        recovery.
        ``lock_timeout`` is how long writes wait for another writer (None: forever, 0: fail at once).
        """
        directory = settings.data_dir(data_dir).absolute()
        try:
            if not (directory / "segments").is_dir():
                (directory / "segments").mkdir(parents=True, exist_ok=True)
                segments.fsync_dir(directory)
        except OSError as error:
            raise LakeError(f"cannot create the lake directory {directory}: {error}") from error
        url = catalog_url or settings.get("catalog_url") or f"sqlite:///{directory / 'catalog.sqlite'}"
        lake = cls(directory, catalog.create_engine(url), url, lock_timeout)
        try:
            lake._prepare()
        except BaseException:
            lake.close()
            raise
        return lake

    def close(self) -> None:
        with self._mutex:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Lake({str(self.data_dir)!r}, catalog={self.catalog_url!r})"

    # --- writing ------------------------------------------------------------------------------------------

    @contextmanager
    def writer(self, timeout: float | None = None) -> Iterator[Self]:
        """Hold the write lock across several appends (a whole ingest run), so no other writer interleaves.

        Raises :class:`LakeBusyError` if another writer keeps the lock past ``timeout`` (default: the lake's).
        """
        with self._mutex:
            self._lock.acquire(self.lock_timeout if timeout is None else timeout)
            try:
                yield self
            finally:
                self._lock.release()

    def append(self, rows: Sequence[dict[str, Any]]) -> AppendResult:
        """Store the rows whose id the lake does not hold yet, as one segment; durable once this returns.

        ``rows`` are as made by :func:`hongmao.contract.columns.to_row`. Rows repeating an id (within the
        batch or already committed) are counted as duplicates and dropped; the first occurrence in the batch
        wins.
        """
        if not rows:
            return AppendResult(0, 0, None)
        for row in rows:
            event_id = row.get("id")
            if not isinstance(event_id, str) or not event_id:
                raise LakeError(f"every row needs a non-empty string id, got {event_id!r}")
        return self.append_table(segments.table_of(rows))

    def append_table(self, table: pa.Table, *, expect_new: bool = False) -> AppendResult:
        """:meth:`append` for rows already in a table with the segment schema (:func:`segments.conform`), in
        their order: the columnar path for callers that never hold the rows as Python objects.

        ``expect_new``: for callers whose ids are almost never in the lake yet (the click log's fold, where only
        a re-read after a crash repeats them). The ids are not looked up first; the catalog's primary key is
        the check, and if it refuses one the segment is rolled back and the batch stored the usual way.
        """
        if table.num_rows == 0:
            return AppendResult(0, 0, None)
        if not table.schema.equals(segments.segment_schema()):
            raise LakeError("the table does not have the lake's segment schema (see segments.conform)")
        ids = segments.checked(table).column("id")
        if pc.any(pc.equal(pc.utf8_length(ids), 0)).as_py():
            raise LakeError("every row needs a non-empty string id")
        if pc.any(pc.match_substring(ids, "\x00")).as_py():
            # SQLite's JSON functions and PostgreSQL's text stop at a NUL: such an id would be stored under
            # another, or fail the whole batch. The contract refuses them; this keeps any other caller out.
            raise LakeError("an event id holds a NUL character")
        unique = _first_of_each_id(table)
        with self.writer():
            engine = self._live_engine()
            if expect_new:
                try:
                    return self._store(engine, unique, table.num_rows - unique.num_rows)
                except DuplicateIdError:
                    log.info("some of %d new rows are already in the lake; looking their ids up", unique.num_rows)
            with catalog.connect(engine, self._url, "looking up event ids") as conn:
                known = catalog.existing_ids(conn, unique.column("id").to_pylist())
            fresh = unique
            if known:
                fresh = unique.filter(pc.invert(pc.is_in(unique.column("id"), pa.array(sorted(known), pa.string()))))
            return self._store(engine, fresh, table.num_rows - fresh.num_rows)

    def _store(self, engine: Engine, fresh: pa.Table, duplicate: int) -> AppendResult:
        """Commit ``fresh`` (rows with distinct ids) as one segment, sorted; ``duplicate`` rows were left out."""
        if fresh.num_rows == 0:
            return AppendResult(0, duplicate, None)
        fresh = segments.sort(fresh)
        name = self._commit(engine, fresh, segments.summarize(fresh))
        return AppendResult(fresh.num_rows, duplicate, name)

    def _commit(self, engine: Engine, table: Any, summary: segments.Summary) -> str:
        try:
            temp = segments.write_temp(table, self.segments_dir)
        except OSError as error:
            raise LakeError(f"cannot write a segment in {self.segments_dir}: {error}") from error
        try:
            with catalog.connect(engine, self._url, "committing a segment", transaction=True) as conn:
                seq = catalog.insert_segment(
                    conn,
                    {
                        "name": f"pending-{uuid.uuid4().hex}",
                        "rows": summary.rows,
                        "bytes": temp.stat().st_size,
                        "first_time": summary.first_time,
                        "last_time": summary.last_time,
                        "counts_json": json.dumps(summary.counts, sort_keys=True, separators=(",", ":")),
                        "created_at": datetime.now(UTC),
                    },
                )
                name = segments.segment_name(seq)
                conn.execute(sa.update(catalog.segments).where(catalog.segments.c.seq == seq).values(name=name))
                catalog.insert_ids(conn, table.column("id").to_pylist(), seq)
                # The file takes its final name just before the commit: a crash in between leaves an orphan
                # (moved aside on the next open), never a committed segment without its file. If the commit
                # fails, the final file stays: the outcome of a COMMIT whose answer was lost is unknown, and
                # the next open keeps the file if the catalog has it, else moves it to orphans.
                segments.publish(temp, self.segments_dir / name)
            return name
        except OSError as error:
            raise LakeError(f"cannot publish a segment in {self.segments_dir}: {error}") from error
        finally:
            temp.unlink(missing_ok=True)  # only still there if the transaction failed before the rename

    def reject(self, entries: Sequence[dict[str, Any]]) -> int:
        """Append reject entries (``file, line, id, type, field, reason``) to rejects.jsonl and count them.

        An entry the lake has recorded before (same :func:`rejects.key`) is left out; returns how many were new.
        """
        if not entries:
            return 0
        keyed: dict[str, dict[str, Any]] = {}
        for entry in entries:
            keyed.setdefault(rejects.key(entry), entry)
        with self.writer():
            engine = self._live_engine()
            with catalog.connect(engine, self._url, "looking up rejects") as conn:
                known = catalog.existing_reject_keys(conn, list(keyed))
            fresh = {k: entry for k, entry in keyed.items() if k not in known}
            if not fresh:
                return 0
            try:
                length = rejects.append(self.rejects_path, rejects.encode(fresh.values()))
            except OSError as error:
                raise LakeError(f"cannot write the rejects file {self.rejects_path}: {error}") from error
            # A crash here leaves lines the catalog has not counted: the next open counts them and their keys.
            with catalog.connect(engine, self._url, "counting rejects", transaction=True) as conn:
                catalog.insert_reject_keys(conn, list(fresh))
                catalog.add_counter(conn, catalog.REJECTED, len(fresh))
                catalog.set_counter(conn, catalog.REJECTS_BYTES, length)
            return len(fresh)

    # --- reading ------------------------------------------------------------------------------------------

    def segment_paths(self) -> list[Path]:
        """Paths of the committed segments in commit order: exactly what readers may read."""
        with catalog.connect(self._live_engine(), self._url, "listing segments") as conn:
            names = catalog.segment_names(conn)
        return [self.segments_dir / name for name in names]

    def segments(self) -> list[SegmentInfo]:
        """The committed segments with their catalog metadata, in commit order."""
        table = catalog.segments
        with catalog.connect(self._live_engine(), self._url, "listing segments") as conn:
            rows = conn.execute(sa.select(table).order_by(table.c.seq)).all()
        return [
            SegmentInfo(
                seq=row.seq,
                name=row.name,
                path=self.segments_dir / row.name,
                rows=row.rows,
                bytes=row.bytes,
                first_time=row.first_time,
                last_time=row.last_time,
                counts=json.loads(row.counts_json),
                created_at=row.created_at,
            )
            for row in rows
        ]

    def stats(self) -> dict[str, Any]:
        """Events per type, first and last event time (ISO 8601) and the rejected count, from the catalog."""
        table = catalog.segments
        counts: Counter[str] = Counter()
        with catalog.connect(self._live_engine(), self._url, "reading stats") as conn:
            for text in conn.execute(sa.select(table.c.counts_json)).scalars():
                counts.update(json.loads(text))
            first, last = conn.execute(sa.select(sa.func.min(table.c.first_time), sa.func.max(table.c.last_time))).one()
            rejected = catalog.counter(conn, catalog.REJECTED)
        return {
            "events": dict(sorted(counts.items())),
            "first": first.isoformat() if first is not None else None,
            "last": last.isoformat() if last is not None else None,
            "rejected": rejected,
        }

    def connect(self, action: str, *, transaction: bool = False) -> AbstractContextManager[Connection]:
        """A catalog connection for modules that keep their own tables in the catalog (``hongmao.links``).

        ``action`` names the work in error messages; driver errors become :class:`CatalogError`.
        """
        return catalog.connect(self._live_engine(), self._url, action, transaction=transaction)

    # --- internals ----------------------------------------------------------------------------------------

    def _live_engine(self) -> Engine:
        if self._engine is None:
            raise LakeError(f"the lake at {self.data_dir} is closed")
        return self._engine

    def _prepare(self) -> None:
        """Migrate and initialise the catalog if needed, check it belongs here, recover after a crash."""
        engine = self._live_engine()
        with catalog.connect(engine, self._url, "reading the catalog's version") as conn:
            pending = catalog.pending_migrations(conn)
            info = {} if pending else catalog.get_meta(conn)
        if pending or "lake_id" not in info:
            with (
                self._lock.hold(self.lock_timeout),
                catalog.connect(engine, self._url, "migrating the catalog", transaction=True) as conn,
            ):
                if catalog.pending_migrations(conn):
                    catalog.upgrade(conn)
                info = catalog.get_meta(conn)
                if "lake_id" not in info:
                    self._check_marker_for_new_catalog()
                    info = {
                        "lake_id": uuid.uuid4().hex,
                        "segment_schema_version": str(segments.SCHEMA_VERSION),
                        "segment_columns": segments.columns_signature(),
                    }
                    for key, value in info.items():
                        catalog.set_meta(conn, key, value)
        self._check_columns(info)
        with catalog.connect(engine, self._url, "listing segments") as conn:
            names = catalog.segment_names(conn)
        self._check_marker(info["lake_id"], has_segments=bool(names))
        self._recover(engine, names)
        missing = [name for name in names if not (self.segments_dir / name).is_file()]
        if missing:
            raise LakeError(
                f"the catalog at {self.catalog_url} lists {len(missing)} segment(s) missing from "
                f"{self.segments_dir} (first: {missing[0]}); the data directory and catalog do not match"
            )

    def _check_columns(self, info: dict[str, str]) -> None:
        stored = (info.get("segment_schema_version"), info.get("segment_columns"))
        current = (str(segments.SCHEMA_VERSION), segments.columns_signature())
        if stored != current:
            raise LakeError(
                f"the lake at {self.data_dir} stores segments with a different column layout "
                f"(schema version {stored[0]}) than this version of Hongmao (schema version {current[0]}); "
                "the lake needs a migration of its segments before it can be used"
            )

    def _check_marker_for_new_catalog(self) -> None:
        marker = self.data_dir / MARKER
        if marker.exists():
            raise LakeError(
                f"{self.data_dir} holds a lake whose catalog is not {self.catalog_url} (that catalog is "
                "new); open it with its own catalog URL (HONGMAO_CATALOG_URL) or use another data directory"
            )

    def _check_marker(self, lake_id: str, *, has_segments: bool) -> None:
        marker = self.data_dir / MARKER
        try:
            found = json.loads(marker.read_text(encoding="utf-8")).get("lake_id")
        except FileNotFoundError:
            found = None
        except (OSError, ValueError, AttributeError) as error:
            raise LakeError(f"cannot read {marker}: {error}") from error
        if found == lake_id:
            return
        if found is not None:
            raise LakeError(
                f"{self.data_dir} belongs to lake {found}, but the catalog at {self.catalog_url} is lake "
                f"{lake_id}; open the directory with its own catalog URL (HONGMAO_CATALOG_URL)"
            )
        if has_segments:
            raise LakeError(
                f"the catalog at {self.catalog_url} lists segments but {self.data_dir} has no {MARKER}: "
                "this is not the data directory of that catalog"
            )
        temp = marker.with_name(f".{MARKER}.tmp")
        temp.write_text(json.dumps({"lake_id": lake_id}) + "\n", encoding="utf-8")
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, marker)
        segments.fsync_dir(self.data_dir)

    def _recover(self, engine: Engine, committed: list[str]) -> None:
        """Tidy after a crash, unless a writer is active (its files are in flight; a later open will)."""
        try:
            self._lock.acquire(timeout=0)
        except LakeBusyError:
            log.debug("a writer is active on %s; recovery left for a later open", self.data_dir)
            return
        try:
            with catalog.connect(engine, self._url, "recovering", transaction=True) as conn:
                # Re-read under the lock: a writer may have committed since the list was taken.
                names = set(catalog.segment_names(conn)) | set(committed)
                recovery.sweep_segments(self.segments_dir, self.orphans_dir, names)
                recovery.reconcile_rejects(conn, self.rejects_path)
        except OSError as error:
            raise LakeError(f"cannot recover the lake at {self.data_dir}: {error}") from error
        finally:
            self._lock.release()


def _first_of_each_id(table: pa.Table) -> pa.Table:
    """The rows whose id does not occur earlier in the table (in table order)."""
    ids = table.column("id")
    if pc.count_distinct(ids).as_py() == table.num_rows:
        return table
    positions = pa.table({"id": ids, "position": np.arange(table.num_rows)})
    first = positions.group_by("id", use_threads=False).aggregate([("position", "min")])
    return table.take(np.sort(first.column("position_min").to_numpy()))
