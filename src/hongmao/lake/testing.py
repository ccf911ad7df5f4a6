"""Helpers for tests and benchmarks of the lake: generated rows and throwaway PostgreSQL schemas.

Importable by any test suite (and by the subprocesses of the crash tests), never used by the lake itself.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hongmao.contract.columns import COLUMN_NAMES
from hongmao.errors import CatalogError
from hongmao.lake import catalog

if TYPE_CHECKING:
    from hongmao.lake.lake import Lake

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BASE_TIME = datetime(2025, 3, 1, tzinfo=UTC)
SAMPLE_TYPES = ("note.impression", "note.read", "link.click", "market.visit", "market.order")


def event_id(number: int) -> str:
    return f"ev-{number:010d}"


def sample_row(number: int) -> dict[str, Any]:
    """A stored row (as ``to_row`` makes them) for event ``number``: deterministic, types cycling."""
    kind = SAMPLE_TYPES[number % len(SAMPLE_TYPES)]
    user = f"{number % 9973:032x}"
    row: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
    row.update(
        id=event_id(number),
        type=kind,
        source="market:tmall" if kind.startswith("market.") else "community",
        time=BASE_TIME + timedelta(seconds=number),
        user=user,
        note_id=f"note-{number % 101}",
        amount=float(number % 500) if kind == "market.order" else None,
        quantity=1 if kind == "market.order" else None,
        dwell_ms=number % 60000 if kind == "note.read" else None,
        bot=False,
        data=json.dumps({"n": number, "user": user}, separators=(",", ":")),
    )
    return row


def sample_rows(start: int, stop: int) -> list[dict[str, Any]]:
    return [sample_row(number) for number in range(start, stop)]


def append_batches(lake: Lake, batches: int, size: int, *, overlap: int = 0, out: TextIO | None = None) -> None:
    """Append ``batches`` batches of ``size`` new events (each also repeating ``overlap`` events of the one
    before), printing ``start stop`` of each batch to ``out`` once its append has returned (crash tests).
    """
    for number in range(batches):
        start, stop = number * size, (number + 1) * size
        lake.append(sample_rows(max(0, start - overlap), stop))
        if out is not None:
            out.write(f"{start} {stop}\n")  # one write: a kill cannot split a line
            out.flush()


def postgres_test_url() -> str:
    return os.environ.get("HONGMAO_TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL


def with_search_path(url: str, schema: str) -> str:
    """``url`` with every connection's search_path set to ``schema`` (a libpq ``options`` parameter)."""
    parsed = make_url(url)
    options = parsed.query.get("options")
    extra = f"-csearch_path={schema}"
    merged = f"{options} {extra}" if isinstance(options, str) and options else extra
    return parsed.update_query_dict({"options": merged}).render_as_string(hide_password=False)


@contextmanager
def postgres_schema(url: str | None = None) -> Iterator[str]:
    """A fresh schema in the test database for one test; yields a catalog URL confined to it, drops it after.

    Raises :class:`CatalogError` when the server cannot be reached.
    """
    base = url or postgres_test_url()
    schema = f"hongmao_test_{uuid.uuid4().hex[:12]}"
    engine = catalog.create_engine(base)
    try:
        with catalog.connect(engine, base, "creating a test schema", transaction=True) as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield with_search_path(base, schema)
        finally:
            with catalog.connect(engine, base, "dropping a test schema", transaction=True) as conn:
                conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def postgres_available(url: str | None = None) -> str | None:
    """None when the test server answers, else the reason it does not."""
    base = url or postgres_test_url()
    engine = catalog.create_engine(base)
    try:
        with catalog.connect(engine, base, "checking the server") as conn:
            conn.execute(sa.text("SELECT 1"))
    except CatalogError as error:
        return str(error)
    finally:
        engine.dispose()
    return None
