"""The lake with its catalog on PostgreSQL, over a real connection (the behaviour suite in test_lake.py also
runs there); each test gets a fresh schema in the test database (HONGMAO_TEST_POSTGRES_URL), dropped after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from hongmao.errors import CatalogError, LakeError
from hongmao.lake import Lake, segments
from hongmao.lake.catalog import VERSION_TABLE
from hongmao.lake.testing import postgres_available, postgres_schema, sample_rows

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    reason = postgres_available()
    if reason:
        pytest.skip(f"PostgreSQL catalog tests need a server (HONGMAO_TEST_POSTGRES_URL): {reason}")
    with ExitStack() as stack:
        yield stack.enter_context(postgres_schema())


def scalar(url: str, sql: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def test_the_catalog_lives_in_postgresql(pg_url: str, tmp_path: Path) -> None:
    with Lake.open(tmp_path / "lake", pg_url) as lake:
        assert lake.catalog_url.startswith("postgresql+psycopg://")
        lake.append(sample_rows(0, 100))
    assert not (tmp_path / "lake" / "catalog.sqlite").exists()
    tables = scalar(
        pg_url,
        "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables "
        "WHERE table_schema = current_schema()",
    )
    # The lake's own tables (later migrations add others: links, API keys).
    assert {"counters", "event_ids", VERSION_TABLE, "meta", "segments"} <= set(tables.split(","))
    assert scalar(pg_url, "SELECT count(*) FROM event_ids") == 100
    assert scalar(pg_url, "SELECT sum(rows) FROM segments") == 100


def test_a_large_batch_of_ids_goes_in_with_copy(pg_url: str, tmp_path: Path) -> None:
    with Lake.open(tmp_path / "lake", pg_url) as lake:
        result = lake.append(sample_rows(0, 20_000))
        assert (result.accepted, result.duplicate) == (20_000, 0)
        again = lake.append(sample_rows(10_000, 30_000))
        assert (again.accepted, again.duplicate) == (10_000, 10_000)
        paths = [str(p) for p in lake.segment_paths()]
    assert scalar(pg_url, "SELECT count(DISTINCT id) FROM event_ids") == 30_000
    assert pq.read_table(paths, columns=["id"]).num_rows == 30_000


def test_the_catalog_url_comes_from_the_environment(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HONGMAO_CATALOG_URL", pg_url)
    with Lake.open(tmp_path / "lake") as lake:
        assert lake.catalog_url.startswith("postgresql")
        lake.append(sample_rows(0, 5))
    assert scalar(pg_url, "SELECT count(*) FROM event_ids") == 5


def test_two_catalogs_in_two_schemas_stay_apart(pg_url: str, tmp_path: Path) -> None:
    with postgres_schema() as other, Lake.open(tmp_path / "a", pg_url) as a, Lake.open(tmp_path / "b", other) as b:
        assert a.append(sample_rows(0, 10)).accepted == 10
        assert b.append(sample_rows(0, 10)).accepted == 10  # a different lake: not duplicates there
        assert a.stats()["events"] == b.stats()["events"]


def test_another_data_directory_cannot_share_a_catalog(pg_url: str, tmp_path: Path) -> None:
    with Lake.open(tmp_path / "a", pg_url) as lake:
        lake.append(sample_rows(0, 10))
    with pytest.raises(LakeError, match="not the data directory of that catalog"):
        Lake.open(tmp_path / "b", pg_url)


def test_an_unreachable_server_is_a_catalog_error_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://hongmao:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2"
    with pytest.raises(CatalogError, match="cannot connect to the catalog at postgresql") as caught:
        Lake.open(tmp_path / "lake", url)
    assert "s3cret-pw" not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_missing_database_is_a_catalog_error(pg_url: str, tmp_path: Path) -> None:
    url = sa.make_url(pg_url).set(database="hongmao_no_such_database").render_as_string(hide_password=False)
    with pytest.raises(CatalogError, match="hongmao_no_such_database"):
        Lake.open(tmp_path / "lake", url)


def test_failures_inside_a_transaction_are_catalog_errors(pg_url: str, tmp_path: Path) -> None:
    with Lake.open(tmp_path / "lake", pg_url) as lake:
        lake.append(sample_rows(0, 10))
        engine = sa.create_engine(pg_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE event_ids"))
        engine.dispose()
        with pytest.raises(CatalogError, match="looking up event ids failed"):
            lake.append(sample_rows(10, 20))
        assert len(lake.segment_paths()) == 1


def test_a_failed_copy_of_ids_is_a_catalog_error_and_leaves_the_lake_usable(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # COPY runs on the raw driver connection, where SQLAlchemy's error translation does not reach. PostgreSQL
    # refuses a zero byte in text, but the lake now refuses such an id before any COPY (the contract does too),
    # so the driver's refusal is made here by the driver itself.
    import psycopg
    from psycopg import errors as pg_errors

    def refuse(self: object, row: object) -> None:
        raise pg_errors.CharacterNotInRepertoire("invalid byte sequence for encoding UTF8: 0x00")

    row = {k: v for k, v in sample_rows(0, 1)[0].items() if k in ("id", "type", "time")}
    table = segments.conform({name: pa.array([value]) for name, value in {**row, "id": "copy-refused"}.items()})
    with_nul = segments.conform({name: pa.array([value]) for name, value in {**row, "id": "bad\x00id"}.items()})
    with Lake.open(tmp_path / "lake", pg_url) as lake:
        with pytest.raises(LakeError, match="NUL"):
            lake.append_table(with_nul, expect_new=True)
        with monkeypatch.context() as patched:
            patched.setattr(psycopg.Copy, "write_row", refuse)
            with pytest.raises(CatalogError, match="copying event ids failed"):
                lake.append_table(table, expect_new=True)
        assert lake.append(sample_rows(0, 10)).accepted == 10
        assert lake.segment_paths() and not list(lake.segments_dir.glob(".tmp-*"))
    assert scalar(pg_url, "SELECT count(*) FROM event_ids") == 10
