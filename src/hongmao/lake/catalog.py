"""The catalog database: which segments are committed, the event ids they hold, counters and metadata.

SQLite inside the data directory by default, PostgreSQL in production. The tables are created by the Alembic
migrations in ``migrations/`` (:func:`upgrade` runs them when a lake opens); the Core tables below mirror the
head revision. A segment exists for readers only once its row is committed here, together with its ids.

Every driver error crossing this module is translated into :class:`~hongmao.errors.CatalogError` (see
:func:`translate`); messages name the catalog by its URL with the password hidden.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Dialect, Engine, make_url

from hongmao.errors import CatalogError, DuplicateIdError

#: Alembic's bookkeeping table, named so it cannot collide with another application's in a shared database.
VERSION_TABLE = "hongmao_alembic_version"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Largest IN list sent at once when looking up ids (SQLite and generic dialects).
ID_CHUNK = 1000

# Counter names in ``counters``.
REJECTED = "rejected"
REJECTS_BYTES = "rejects_bytes"  # size of rejects.jsonl already counted in REJECTED


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite stores it naive, PostgreSQL as timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("catalog timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

segments = sa.Table(
    "segments",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("first_time", UTCDateTime, nullable=False),
    sa.Column("last_time", UTCDateTime, nullable=False),
    sa.Column("counts_json", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

event_ids = sa.Table(
    "event_ids",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    # No foreign key: ids and their segment row are inserted in one transaction, and a per-row FK check
    # would triple the cost of inserting a batch's ids on PostgreSQL.
    sa.Column("segment", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

# What each recorded reject says, as a digest (hongmao.lake.rejects.key): a reject already here is not
# appended to rejects.jsonl again (migration 0004).
reject_keys = sa.Table(
    "reject_keys",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sqlite_with_rowid=False,
)

counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Shoppable links (hongmao.links.registry; migration 0002). The redirect never reads these per click: a link's
# destination and expiry travel in its signed token, and revocations are polled into memory.
links = sa.Table(
    "links",
    metadata,
    sa.Column("link_id", sa.String, primary_key=True),
    sa.Column("share_code", sa.String, nullable=False, unique=True),
    sa.Column("token", sa.Text, nullable=False),
    sa.Column("market", sa.String, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("note_id", sa.String, nullable=False),
    sa.Column("item_id", sa.String, nullable=False),
    sa.Column("creator_id", sa.String, nullable=True),
    sa.Column("campaign_id", sa.String, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

link_revocations = sa.Table(
    "link_revocations",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("link_id", sa.String, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sqlite_autoincrement=True,
)


# --- engine and errors -------------------------------------------------------------------------------------


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparseable URL>"


def _reason(error: BaseException) -> str:
    """A short reason: the driver's own message without SQLAlchemy's statement and parameter dump."""
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers (reports, the engine) work while a writer commits; FULL syncs the WAL on every
        # commit so an append() that returned survives power loss, not only a killed process.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def create_engine(url: str) -> Engine:
    """An engine for the catalog at ``url``; no connection is made yet."""
    shown = redact(url)
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = sa.create_engine(parsed, connect_args={"timeout": 60.0})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True)
    except (exc.ArgumentError, ImportError) as error:
        raise CatalogError(f"invalid catalog URL {shown}: {_reason(error)}") from error
    return engine


@contextmanager
def translate(url: str, action: str) -> Iterator[None]:
    """Translate SQLAlchemy and driver errors raised inside the block into :class:`CatalogError`."""
    try:
        yield
    except exc.DBAPIError as error:
        if error.connection_invalidated or isinstance(error, exc.InterfaceError):
            raise CatalogError(
                f"lost the connection to the catalog at {redact(url)} while {action}: {_reason(error)}"
            ) from error
        raise CatalogError(f"catalog at {redact(url)}: {action} failed: {_reason(error)}") from error
    except exc.SQLAlchemyError as error:
        raise CatalogError(f"catalog at {redact(url)}: {action} failed: {_reason(error)}") from error


@contextmanager
def connect(engine: Engine, url: str, action: str, *, transaction: bool = False) -> Iterator[Connection]:
    """A connection (in a transaction committed on success if asked), errors translated."""
    try:
        conn = engine.connect()
    except exc.SQLAlchemyError as error:
        raise CatalogError(f"cannot connect to the catalog at {redact(url)}: {_reason(error)}") from error
    with translate(url, action), conn:
        if transaction:
            with conn.begin():
                yield conn
        else:
            yield conn
            conn.rollback()  # end the read transaction so SQLite can checkpoint its WAL


# --- migrations ------------------------------------------------------------------------------------------


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def pending_migrations(conn: Connection) -> bool:
    """True when the catalog is not at the head revision (new, or created by an older Hongmao)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    current = set(context.get_current_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = current - known
    if unknown:
        raise CatalogError(
            f"the catalog is at revision {', '.join(sorted(unknown))}, which this version of Hongmao does "
            "not know: it was written by a newer Hongmao; upgrade Hongmao to use it"
        )
    return current != set(script.get_heads())


def upgrade(conn: Connection) -> None:
    """Run every pending migration on ``conn`` (inside the caller's transaction)."""
    from alembic import command
    from alembic.util import CommandError

    config = _alembic_config()
    config.attributes["connection"] = conn
    try:
        command.upgrade(config, "head")
    except CommandError as error:
        raise CatalogError(f"cannot migrate the catalog: {error}") from error


# --- queries ---------------------------------------------------------------------------------------------


def _is_psycopg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def existing_ids(conn: Connection, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` the catalog already holds."""
    found: set[str] = set()
    if not ids:
        return found
    if conn.dialect.name == "postgresql":
        # One round trip: the batch as one JSON array, joined to the primary key (faster than = ANY(array)).
        joined = sa.text(
            "SELECT e.id FROM json_array_elements_text(CAST(:ids AS json)) AS v(id) JOIN event_ids AS e ON e.id = v.id"
        )
        found.update(conn.execute(joined, {"ids": json.dumps(list(ids))}).scalars())
        return found
    if conn.dialect.name == "sqlite":
        # One round trip: the batch as a JSON array unpacked by json_each (SQLite >= 3.38 has JSON built in).
        batch = sa.select(sa.column("value", sa.String)).select_from(sa.func.json_each(sa.bindparam("ids")))
        query = sa.select(event_ids.c.id).where(event_ids.c.id.in_(batch.scalar_subquery()))
        found.update(conn.execute(query, {"ids": json.dumps(list(ids))}).scalars())
        return found
    query = sa.select(event_ids.c.id).where(event_ids.c.id.in_(sa.bindparam("ids", expanding=True)))
    for start in range(0, len(ids), ID_CHUNK):
        found.update(conn.execute(query, {"ids": list(ids[start : start + ID_CHUNK])}).scalars())
    return found


def insert_ids(conn: Connection, ids: Iterable[str], seq: int) -> None:
    """Record ``ids`` as held by segment ``seq``; raises :class:`DuplicateIdError` if one is already held (the
    primary key refuses it, and the caller's transaction is left to roll back)."""
    if _is_psycopg(conn):
        import psycopg
        from psycopg import errors as pg_errors

        # COPY is several times faster than a multi-row INSERT for tens of thousands of ids; it runs on the
        # same DBAPI connection, so inside the caller's transaction.
        raw = cast(Any, conn.connection.dbapi_connection)
        try:
            with raw.cursor() as cursor, cursor.copy("COPY event_ids (id, segment) FROM STDIN") as copy:
                for event_id in ids:
                    copy.write_row((event_id, seq))
        except pg_errors.UniqueViolation as error:
            raise DuplicateIdError(f"an event id is already in the catalog: {_reason(error)}") from error
        except psycopg.Error as error:  # on the raw connection, outside what translate() sees
            raise CatalogError(f"catalog: copying event ids failed: {_reason(error)}") from error
        return
    try:
        if conn.dialect.name == "sqlite":
            unpacked = sa.select(sa.column("value", sa.String), sa.bindparam("seq", type_=sa.Integer)).select_from(
                sa.func.json_each(sa.bindparam("ids"))
            )
            statement = sa.insert(event_ids).from_select(["id", "segment"], unpacked)
            conn.execute(statement, {"ids": json.dumps(list(ids)), "seq": seq})
            return
        conn.execute(sa.insert(event_ids), [{"id": event_id, "segment": seq} for event_id in ids])
    except exc.IntegrityError as error:
        raise DuplicateIdError(f"an event id is already in the catalog: {_reason(error)}") from error


def existing_reject_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are recorded already (rejects are few: plain IN lists suffice)."""
    query = sa.select(reject_keys.c.key).where(reject_keys.c.key.in_(sa.bindparam("keys", expanding=True)))
    found: set[str] = set()
    for start in range(0, len(keys), ID_CHUNK):
        found.update(conn.execute(query, {"keys": list(keys[start : start + ID_CHUNK])}).scalars())
    return found


def insert_reject_keys(conn: Connection, keys: Sequence[str]) -> None:
    """Record ``keys``, which the caller has checked are new (under the write lock)."""
    if keys:
        conn.execute(sa.insert(reject_keys), [{"key": key} for key in keys])


def insert_segment(conn: Connection, values: dict[str, Any]) -> int:
    """Insert a segment row and return its ``seq``."""
    key = conn.execute(sa.insert(segments).values(**values)).inserted_primary_key
    if key is None:  # pragma: no cover - every supported dialect returns it
        raise CatalogError("the catalog did not return the new segment's number")
    return int(key[0])


def add_counter(conn: Connection, name: str, delta: int) -> None:
    conn.execute(sa.update(counters).where(counters.c.name == name).values(value=counters.c.value + delta))


def set_counter(conn: Connection, name: str, value: int) -> None:
    conn.execute(sa.update(counters).where(counters.c.name == name).values(value=value))


def counter(conn: Connection, name: str) -> int:
    value = conn.execute(sa.select(counters.c.value).where(counters.c.name == name)).scalar()
    return int(value or 0)


def get_meta(conn: Connection) -> dict[str, str]:
    return {row.key: row.value for row in conn.execute(sa.select(meta.c.key, meta.c.value))}


def set_meta(conn: Connection, key: str, value: str) -> None:
    if conn.execute(sa.update(meta).where(meta.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(sa.insert(meta).values(key=key, value=value))


def segment_names(conn: Connection) -> list[str]:
    """Names of the committed segments in commit order."""
    return list(conn.execute(sa.select(segments.c.name).order_by(segments.c.seq)).scalars())
