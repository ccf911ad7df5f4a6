"""The engine's one owner of a connection: a :class:`Session` over a list of segments.

Whoever needs the engine (a library call, a CLI command, the web app's reports) opens a session, hands it to
every engine function in place of a connection and a list of files, and closes it (``with Session(...)``).
The session picks the backend from the ``engine`` setting (:mod:`hongmao.engine.backends`), reads the
segments as the typed ``events`` table, runs expressions, and is the one place where a backend's own errors
become :class:`~hongmao.errors.EngineError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from ibis import BaseBackend
from ibis.expr.types import Table

from hongmao.engine.backends import Backend, EngineOptions, resolve
from hongmao.engine.schema import EVENTS_SCHEMA
from hongmao.errors import EngineError


class Session:
    """One engine connection over ``segments`` (the lake's committed Parquet files, or a scope's view)."""

    def __init__(
        self,
        segments: Sequence[Path] = (),
        *,
        engine: str | None = None,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> None:
        from hongmao import settings

        self.backend: Backend
        self.backend, remote = resolve(engine or settings.get("engine"))
        options = EngineOptions(
            threads=threads or int(settings.get("engine_threads") or 0) or None,
            memory_limit=memory_limit or settings.get("engine_memory"),
            remote=remote,
        )
        self.segments = [Path(p) for p in segments]
        with self.translated("connecting"):
            self._con: BaseBackend = self.backend.connect(options)
        self._events: Table | None = None

    # --- tables ------------------------------------------------------------------------------------------

    @property
    def events(self) -> Table:
        """The session's segments as the ``events`` table (an empty typed table when there are none)."""
        if self._events is None:
            self._events = self.read(self.segments)
        return self._events

    def read(self, segments: Sequence[Path]) -> Table:
        """Other segments as an events table on the same connection."""
        if not segments:
            return ibis.memtable(EVENTS_SCHEMA.to_pyarrow().empty_table())
        with self.translated("reading the lake's segments"):
            table: Table = self.backend.read_parquet(self._con, list(segments))
        return table

    def has(self, capability: str) -> bool:
        return capability in self.backend.capabilities

    # --- running -----------------------------------------------------------------------------------------

    def arrow(self, expr: Any) -> pa.Table:
        with self.translated("running a query"):
            result: pa.Table = self._con.to_pyarrow(expr)
        return result

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.arrow(expr).to_pylist()
        return rows

    def scalar(self, expr: Any) -> Any:
        with self.translated("running a query"):
            value = self._con.to_pyarrow(expr)
        return value.as_py() if hasattr(value, "as_py") else value

    def to_parquet(self, expr: Any, path: Path) -> None:
        """Write ``expr`` as one Parquet file at ``path``."""
        if self.has("single_file_writes"):
            with self.translated("writing a Parquet file"):
                self._con.to_parquet(expr, path)
            return
        import pyarrow.parquet as pq

        pq.write_table(self.arrow(expr), path)

    # --- lifetime ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def translated(self, doing: str) -> Iterator[None]:
        """The one place a backend's own failures become EngineError (ours pass through unchanged)."""
        try:
            yield
        except self.backend.errors() as error:
            raise EngineError(f"the {self.backend.name} engine failed {doing}: {error}") from error

    def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            self.backend.disconnect(con)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
