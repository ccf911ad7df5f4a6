"""The lake: append with de-duplication, durability across re-opening, stats, rejects, the writer lock, recovery.

The behaviour tests run on every catalog backend (SQLite always; PostgreSQL when a server answers), in the
spirit of one conformance suite for every engine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from hongmao.errors import CatalogError, LakeBusyError, LakeError
from hongmao.lake import AppendResult, Lake, segment_schema, segments
from hongmao.lake import catalog as catalog_module
from hongmao.lake.testing import event_id, sample_row, sample_rows

SEGMENT_NAME = re.compile(r"^seg-\d{8}-[0-9a-f]{32}\.parquet$")


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def lake(lake_dir: Path, catalog_url: str | None) -> Iterator[Lake]:
    with Lake.open(lake_dir, catalog_url) as opened:
        yield opened


def stored_ids(lake: Lake) -> list[str]:
    paths = lake.segment_paths()
    if not paths:
        return []
    return [str(v) for v in pq.read_table([str(p) for p in paths], columns=["id"]).column("id").to_pylist()]


# --- appending and de-duplication ---------------------------------------------------------------------------


def test_append_writes_one_segment_with_the_contract_schema(lake: Lake) -> None:
    rows = sample_rows(0, 500)
    result = lake.append(rows)
    assert result.accepted == 500 and result.duplicate == 0
    assert result.segment is not None and SEGMENT_NAME.match(result.segment)
    [path] = lake.segment_paths()
    assert path == lake.data_dir / "segments" / result.segment
    table = pq.read_table(path)
    assert table.schema.equals(segment_schema(), check_metadata=False)
    assert str(table.schema.field("time").type) == "timestamp[us, tz=UTC]"
    assert sorted(table.column("id").to_pylist()) == [event_id(n) for n in range(500)]
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    by_id = {row["id"]: row for row in table.to_pylist()}
    assert by_id[event_id(7)]["time"] == rows[7]["time"]
    assert by_id[event_id(7)]["data"] == rows[7]["data"]


def test_duplicates_within_a_batch_keep_the_first(lake: Lake) -> None:
    first = sample_row(1)
    again = {**sample_row(1), "note_id": "changed"}
    result = lake.append([sample_row(0), first, again, sample_row(2), sample_row(0)])
    assert result == AppendResult(accepted=3, duplicate=2, segment=result.segment)
    table = pq.read_table(lake.segment_paths()[0])
    notes = dict(zip(table.column("id").to_pylist(), table.column("note_id").to_pylist(), strict=True))
    assert notes[event_id(1)] == first["note_id"]


def test_duplicates_across_batches_are_dropped(lake: Lake) -> None:
    assert lake.append(sample_rows(0, 100)).accepted == 100
    overlap = lake.append(sample_rows(50, 150))
    assert (overlap.accepted, overlap.duplicate) == (50, 50)
    repeat = lake.append(sample_rows(0, 150))
    assert repeat == AppendResult(accepted=0, duplicate=150, segment=None)
    assert len(lake.segment_paths()) == 2
    ids = stored_ids(lake)
    assert len(ids) == len(set(ids)) == 150


def test_empty_batch_is_a_no_op(lake: Lake) -> None:
    assert lake.append([]) == AppendResult(0, 0, None)
    assert lake.segment_paths() == []


def test_a_table_is_appended_like_its_rows(lake: Lake, tmp_path: Path) -> None:
    rows = [*sample_rows(0, 50), sample_row(3), *sample_rows(40, 60)]
    table = segments.conform({name: pa.array([row.get(name) for row in rows]) for name in ("id", "type", "time")})
    via_table = lake.append_table(table)
    with Lake.open(tmp_path / "other") as other:
        via_rows = other.append([{k: row[k] for k in ("id", "type", "time")} for row in rows])
        expected = pq.read_table(other.segment_paths()[0])
    assert (via_table.accepted, via_table.duplicate) == (via_rows.accepted, via_rows.duplicate) == (60, 11)
    assert pq.read_table(lake.segment_paths()[0]).equals(expected)
    assert lake.append_table(table) == AppendResult(0, 71, None)


def test_a_table_expected_new_is_not_looked_up_and_each_id_is_still_kept_once(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    def table_of(rows: list[dict[str, object]]) -> pa.Table:
        return segments.conform({name: pa.array([row[name] for row in rows]) for name in ("id", "type", "time")})

    looked_up: list[int] = []
    real_lookup = catalog_module.existing_ids

    def counting_lookup(conn: sa.Connection, ids: list[str]) -> set[str]:
        looked_up.append(len(ids))
        return real_lookup(conn, ids)

    monkeypatch.setattr(catalog_module, "existing_ids", counting_lookup)
    first = lake.append_table(table_of(sample_rows(0, 100)), expect_new=True)
    assert (first.accepted, first.duplicate, looked_up) == (100, 0, [])
    # Half of these are held already: the primary key refuses the optimistic segment, which is rolled back,
    # and the batch goes the usual way (looked up once, its new half stored).
    mixed = lake.append_table(table_of([*sample_rows(50, 150), sample_row(149)]), expect_new=True)
    assert (mixed.accepted, mixed.duplicate, looked_up) == (50, 51, [100])
    ids = stored_ids(lake)
    assert len(ids) == len(set(ids)) == 150
    assert len(lake.segment_paths()) == 2 and not list(lake.segments_dir.glob(".tmp-*"))
    assert sum(lake.stats()["events"].values()) == 150


def test_a_table_needs_the_segment_schema_and_ids(lake: Lake) -> None:
    with pytest.raises(LakeError, match="segment schema"):
        lake.append_table(pa.table({"id": ["a"], "type": ["x"]}))
    no_id = segments.conform(
        {"id": pa.array([""]), "type": pa.array(["note.read"]), "time": pa.array([sample_row(0)["time"]])}
    )
    with pytest.raises(LakeError, match="non-empty string id"):
        lake.append_table(no_id)
    no_time = no_id.set_column(0, "id", pa.array(["a"])).set_column(
        no_id.schema.get_field_index("time"), segment_schema().field("time"), pa.nulls(1, pa.timestamp("us", "UTC"))
    )
    with pytest.raises(LakeError, match="'time'"):
        lake.append_table(no_time)
    assert lake.append_table(segment_schema().empty_table()) == AppendResult(0, 0, None)
    assert lake.segment_paths() == []


def test_sort_orders_by_time_then_id_and_leaves_an_ordered_table_as_it_is() -> None:
    def table(pairs: list[tuple[int, str]]) -> pa.Table:
        times = [sample_row(0)["time"] + timedelta(seconds=t) for t, _ in pairs]
        return segments.conform(
            {"id": pa.array([i for _, i in pairs]), "type": pa.array(["x"] * len(pairs)), "time": pa.array(times)}
        )

    ordered = table([(0, "b"), (1, "a"), (1, "c"), (2, "a")])
    assert segments.sort(ordered) is ordered
    for shuffled in ([(1, "c"), (0, "b"), (2, "a"), (1, "a")], [(0, "b"), (1, "c"), (1, "a"), (2, "a")]):
        result = segments.sort(table(shuffled))
        assert result.column("id").to_pylist() == ["b", "a", "c", "a"]
        assert result.equals(ordered)


def test_unique_columns_are_written_without_a_dictionary(lake: Lake) -> None:
    lake.append(sample_rows(0, 200))
    metadata = pq.ParquetFile(lake.segment_paths()[0]).metadata.row_group(0)
    encodings = {metadata.column(k).path_in_schema: metadata.column(k).encodings for k in range(metadata.num_columns)}
    assert not any("DICTIONARY" in e for e in encodings["id"]) and not any("DICTIONARY" in e for e in encodings["time"])
    assert any("DICTIONARY" in e for e in encodings["type"])


def test_conform_names_what_does_not_fit() -> None:
    with pytest.raises(LakeError, match="no column colour"):
        segments.conform({"colour": pa.array(["red"])})
    with pytest.raises(LakeError, match="different lengths"):
        segments.conform({"id": pa.array(["a", "b"]), "type": pa.array(["x"])})
    with pytest.raises(LakeError, match="'quantity'"):
        segments.conform({"id": pa.array(["a"]), "quantity": pa.array(["three"])})
    with pytest.raises(LakeError, match="'time'"):
        segments.conform({"id": pa.array(["a"]), "type": pa.array(["x"])})


def test_reopening_keeps_everything(lake_dir: Path, catalog_url: str | None) -> None:
    with Lake.open(lake_dir, catalog_url) as lake:
        lake.append(sample_rows(0, 300))
        lake.append(sample_rows(300, 600))
        lake.reject([{"file": "a.jsonl", "line": 3, "id": "x", "type": None, "field": "type", "reason": "r"}])
        before = (lake.segment_paths(), lake.stats())
    with Lake.open(lake_dir, catalog_url) as lake:
        assert (lake.segment_paths(), lake.stats()) == before
        assert lake.append(sample_rows(550, 650)) == AppendResult(50, 50, lake.segment_paths()[-1].name)
        assert len(stored_ids(lake)) == 650


def test_segment_paths_are_in_commit_order(lake: Lake) -> None:
    names = [lake.append(sample_rows(n * 10, n * 10 + 10)).segment for n in range(5)]
    assert [p.name for p in lake.segment_paths()] == names
    assert [s.seq for s in lake.segments()] == sorted(s.seq for s in lake.segments())


def test_stats_come_from_the_catalog(lake: Lake) -> None:
    assert lake.stats() == {"events": {}, "first": None, "last": None, "rejected": 0}
    lake.append(sample_rows(0, 10))
    lake.append(sample_rows(10, 25))
    stats = lake.stats()
    expected: dict[str, int] = {}
    for row in sample_rows(0, 25):
        expected[row["type"]] = expected.get(row["type"], 0) + 1
    assert stats["events"] == expected
    assert stats["first"] == sample_row(0)["time"].isoformat() == "2025-03-01T00:00:00+00:00"
    assert stats["last"] == sample_row(24)["time"].isoformat()
    assert stats["rejected"] == 0
    [first, second] = lake.segments()
    assert (first.rows, second.rows) == (10, 15)
    assert second.first_time == sample_row(10)["time"] and second.last_time == sample_row(24)["time"]
    assert sum(second.counts.values()) == 15 and second.bytes == second.path.stat().st_size


def test_duckdb_reads_all_segments_as_one_table(lake: Lake) -> None:
    for start in range(0, 1000, 250):
        lake.append(sample_rows(start, start + 250))
    paths = [str(p) for p in lake.segment_paths()]
    schemas = {str(pq.read_schema(p)) for p in paths}
    assert len(schemas) == 1
    con = duckdb.connect()
    total, distinct, first_us = con.execute(
        "SELECT count(*), count(DISTINCT id), epoch_us(min(time)) FROM read_parquet(?)", [paths]
    ).fetchone() or (0, 0, 0)
    assert (total, distinct) == (1000, 1000)
    assert first_us == int(sample_row(0)["time"].timestamp() * 1_000_000)
    kinds = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [paths]).fetchall()}
    assert kinds["time"] == "TIMESTAMP WITH TIME ZONE"
    assert kinds["quantity"] == "BIGINT" and kinds["bot"] == "BOOLEAN"


def test_contract_rows_round_trip(lake: Lake) -> None:
    from hongmao.contract import parse_event, to_row

    event = parse_event(
        {
            "id": "read-1",
            "type": "note.read",
            "source": "community",
            "time": "2025-03-01T08:00:00+08:00",
            "data": {"note_id": "n-1", "user": "0" * 32, "dwell_ms": 1200},
        }
    )
    assert lake.append([to_row(event)]).accepted == 1
    [row] = pq.read_table(lake.segment_paths()[0]).to_pylist()
    assert row["id"] == "read-1" and row["note_id"] == "n-1" and row["dwell_ms"] == 1200
    assert row["time"].isoformat() == "2025-03-01T00:00:00+00:00"


# --- bad input ----------------------------------------------------------------------------------------------


def test_rows_without_an_id_are_refused(lake: Lake) -> None:
    with pytest.raises(LakeError, match="non-empty string id"):
        lake.append([{**sample_row(0), "id": None}])
    with pytest.raises(LakeError, match="non-empty string id"):
        lake.append([{**sample_row(0), "id": ""}])


def test_a_value_of_the_wrong_type_names_its_column(lake: Lake) -> None:
    with pytest.raises(LakeError, match="'quantity'"):
        lake.append([{**sample_row(0), "quantity": "three"}])
    with pytest.raises(LakeError, match="'time'"):
        lake.append([{**sample_row(0), "time": None}])
    assert lake.segment_paths() == []
    assert list((lake.data_dir / "segments").iterdir()) == []


def test_time_may_be_an_iso_string(lake: Lake) -> None:
    lake.append([{**sample_row(0), "time": "2025-03-01T08:00:00+08:00"}, {**sample_row(1), "time": "2025-03-01"}])
    times = pq.read_table(lake.segment_paths()[0]).column("time").to_pylist()
    assert [t.isoformat() for t in times] == ["2025-03-01T00:00:00+00:00", "2025-03-01T00:00:00+00:00"]


# --- rejects ------------------------------------------------------------------------------------------------


def entry(line: int) -> dict[str, object]:
    return {
        "file": "in.jsonl",
        "line": line,
        "id": f"r{line}",
        "type": "note.read",
        "field": "time",
        "reason": "not a timestamp",
    }


def test_rejects_are_appended_and_counted(lake_dir: Path, catalog_url: str | None) -> None:
    with Lake.open(lake_dir, catalog_url) as lake:
        lake.reject([entry(1), entry(2)])
        lake.reject([])
        lake.reject([entry(3)])
        assert lake.stats()["rejected"] == 3
        lines = lake.rejects_path.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == [entry(1), entry(2), entry(3)]
        assert lake.rejects_path == lake_dir / "rejects.jsonl"
    with Lake.open(lake_dir, catalog_url) as lake:
        assert lake.stats()["rejected"] == 3


def test_rejects_written_but_not_counted_are_counted_on_open(lake_dir: Path, catalog_url: str | None) -> None:
    with Lake.open(lake_dir, catalog_url) as lake:
        lake.reject([entry(1)])
        path = lake.rejects_path
    # A crash after the file write and before the catalog update, then one in the middle of a line.
    with path.open("ab") as handle:
        handle.write((json.dumps(entry(2)) + "\n" + json.dumps(entry(3))[:20]).encode())
    with Lake.open(lake_dir, catalog_url) as lake:
        assert lake.stats()["rejected"] == 2
        assert [json.loads(line)["line"] for line in path.read_text().splitlines()] == [1, 2]
        lake.reject([entry(4)])
        assert lake.stats()["rejected"] == 3


# --- the writer lock ----------------------------------------------------------------------------------------


def test_a_second_writer_is_refused_while_the_first_writes(lake_dir: Path, catalog_url: str | None) -> None:
    with Lake.open(lake_dir, catalog_url) as first, Lake.open(lake_dir, catalog_url, lock_timeout=0) as second:
        with first.writer():
            first.append(sample_rows(0, 10))
            with pytest.raises(LakeBusyError, match=f"process {os.getpid()} holds its write lock"):
                second.append(sample_rows(10, 20))
            with pytest.raises(LakeBusyError):
                second.reject([entry(1)])
            first.append(sample_rows(20, 30))
        assert second.append(sample_rows(10, 20)).accepted == 10
        assert len(stored_ids(first)) == 30


def test_a_writer_waits_for_the_lock_up_to_its_timeout(lake_dir: Path) -> None:
    with Lake.open(lake_dir) as first, Lake.open(lake_dir, lock_timeout=0.3) as second, first.writer():
        started = time.monotonic()
        with pytest.raises(LakeBusyError, match=r"after waiting 0\.3 s"):
            second.append(sample_rows(0, 1))
        assert time.monotonic() - started >= 0.3


def test_the_lock_excludes_other_processes_and_dies_with_them(lake_dir: Path) -> None:
    Lake.open(lake_dir).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom hongmao.lake import Lake\n"
            "with Lake.open(sys.argv[1]) as lake, lake.writer():\n"
            "    print('locked', flush=True)\n    time.sleep(60)\n",
            str(lake_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with Lake.open(lake_dir, lock_timeout=0) as lake:
            with pytest.raises(LakeBusyError, match=f"process {holder.pid}"):
                lake.append(sample_rows(0, 1))
            holder.kill()
            holder.wait(10)
            assert lake.append(sample_rows(0, 1)).accepted == 1
    finally:
        holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()


# --- recovery and integrity ---------------------------------------------------------------------------------


def test_orphans_and_temp_files_are_cleared_on_open(lake_dir: Path, catalog_url: str | None) -> None:
    with Lake.open(lake_dir, catalog_url) as lake:
        lake.append(sample_rows(0, 10))
        committed = lake.segment_paths()
    segments = lake_dir / "segments"
    (segments / ".tmp-0123.parquet").write_bytes(b"half a file")
    orphan = segments / f"seg-00000099-{'a' * 32}.parquet"
    orphan.write_bytes(b"written, never committed")
    with Lake.open(lake_dir, catalog_url) as lake:
        assert sorted(segments.iterdir()) == committed == lake.segment_paths()
        assert (lake_dir / "orphans" / orphan.name).read_bytes() == b"written, never committed"
        assert len(stored_ids(lake)) == 10


def test_recovery_leaves_an_active_writers_files_alone(lake_dir: Path) -> None:
    with Lake.open(lake_dir) as writer, writer.writer():
        in_flight = lake_dir / "segments" / ".tmp-inflight.parquet"
        in_flight.write_bytes(b"being written")
        with Lake.open(lake_dir) as reader:
            assert reader.segment_paths() == []
        assert in_flight.exists()


def test_a_missing_committed_segment_is_reported(lake_dir: Path) -> None:
    with Lake.open(lake_dir) as lake:
        lake.append(sample_rows(0, 10))
        lost = lake.segment_paths()[0]
    lost.unlink()
    with pytest.raises(LakeError, match="missing from"):
        Lake.open(lake_dir)


def test_a_data_directory_opened_with_another_catalog_is_refused(lake_dir: Path, tmp_path: Path) -> None:
    with Lake.open(lake_dir) as lake:
        lake.append(sample_rows(0, 10))
        committed = lake.segment_paths()
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    with pytest.raises(LakeError, match="HONGMAO_CATALOG_URL"):
        Lake.open(lake_dir, other)
    assert sorted((lake_dir / "segments").iterdir()) == committed  # nothing was swept aside
    with pytest.raises(LakeError, match="not the data directory of that catalog"):
        Lake.open(tmp_path / "elsewhere", f"sqlite:///{lake_dir / 'catalog.sqlite'}")


def test_a_changed_column_layout_is_refused(lake_dir: Path) -> None:
    Lake.open(lake_dir).close()
    engine = sa.create_engine(f"sqlite:///{lake_dir / 'catalog.sqlite'}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta SET value = '[]' WHERE key = 'segment_columns'"))
    engine.dispose()
    with pytest.raises(LakeError, match="different column layout"):
        Lake.open(lake_dir)


def test_a_catalog_from_a_newer_hongmao_is_refused(lake_dir: Path) -> None:
    Lake.open(lake_dir).close()
    engine = sa.create_engine(f"sqlite:///{lake_dir / 'catalog.sqlite'}")
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {catalog_module.VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(CatalogError, match="newer Hongmao"):
        Lake.open(lake_dir)


def test_sqlite_catalog_runs_in_wal_mode(lake_dir: Path) -> None:
    Lake.open(lake_dir).close()
    engine = catalog_module.create_engine(f"sqlite:///{lake_dir / 'catalog.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


# --- opening ------------------------------------------------------------------------------------------------


def test_defaults_come_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HONGMAO_DATA", str(tmp_path / "from-env"))
    monkeypatch.delenv("HONGMAO_CATALOG_URL", raising=False)
    with Lake.open() as lake:
        assert lake.data_dir == tmp_path / "from-env"
        assert (lake.data_dir / "catalog.sqlite").exists()
        assert lake.catalog_url.startswith("sqlite:///")
    monkeypatch.setenv("HONGMAO_CATALOG_URL", f"sqlite:///{tmp_path / 'env-catalog.sqlite'}")
    with Lake.open(tmp_path / "other") as lake:
        assert lake.catalog_url == f"sqlite:///{tmp_path / 'env-catalog.sqlite'}"


def test_catalog_errors_are_translated(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="invalid catalog URL"):
        Lake.open(tmp_path / "a", "not a url")
    with pytest.raises(CatalogError, match="invalid catalog URL"):
        Lake.open(tmp_path / "b", "nosuchdb://x/y")
    with pytest.raises(CatalogError, match="cannot connect to the catalog at sqlite:////nonexistent"):
        Lake.open(tmp_path / "c", "sqlite:////nonexistent/dir/catalog.sqlite")


def test_a_closed_lake_refuses_work(lake_dir: Path) -> None:
    lake = Lake.open(lake_dir)
    lake.close()
    lake.close()
    with pytest.raises(LakeError, match="closed"):
        lake.append(sample_rows(0, 1))
    with pytest.raises(LakeError, match="closed"):
        lake.stats()
