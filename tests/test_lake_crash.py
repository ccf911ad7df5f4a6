"""Crash safety: a writer killed with SIGKILL loses no batch whose append() returned and leaves nothing
half-visible; re-running it completes the lake with exactly the missing events.

A subprocess appends batches and prints each batch's id range after append() returns; the test kills it,
re-opens the lake and checks what the catalog shows against what was printed. Kills land at random moments
(several rounds) and at chosen points of the commit (the child wraps a lake function to kill itself there).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from hongmao.lake import Lake, segment_schema
from hongmao.lake.testing import append_batches, event_id

pytestmark = pytest.mark.slow

BATCHES, SIZE, OVERLAP = 16, 1500, 300

CHILD = """
import os, signal, sys
from hongmao.lake import Lake, catalog, segments
from hongmao.lake.testing import append_batches

data, url, batches, size, overlap, point, victim = sys.argv[1:8]
calls = {"n": 0}

def killing_after(module, name):
    original = getattr(module, name)
    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == int(victim):
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(module, name, wrapper)

if point == "after-temp":
    killing_after(segments, "write_temp")
elif point == "after-ids":
    killing_after(catalog, "insert_ids")
elif point == "after-rename":
    killing_after(segments, "publish")

with Lake.open(data, url or None) as lake:
    append_batches(lake, int(batches), int(size), overlap=int(overlap), out=sys.stdout)
print("done", flush=True)
"""


def start_writer(data: Path, url: str | None, point: str = "", victim: int = 0) -> subprocess.Popen[str]:
    args = [str(data), url or "", str(BATCHES), str(SIZE), str(OVERLAP), point, str(victim)]
    return subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, text=True)


def parse(line: str) -> tuple[int, int]:
    start, stop = line.split()
    return int(start), int(stop)


def read_until_killed(child: subprocess.Popen[str], lines: int, rng: random.Random) -> list[tuple[int, int]]:
    """Read committed ranges; after ``lines`` of them, kill the child at a random moment of its next appends."""
    assert child.stdout is not None
    committed: list[tuple[int, int]] = []
    try:
        while len(committed) < lines:
            line = child.stdout.readline()
            assert line and line != "done\n", "the writer finished before it could be killed"
            committed.append(parse(line))
        # One append of SIZE rows takes some tens of milliseconds: land anywhere inside the next few.
        time.sleep(rng.uniform(0.0, 0.08))
        child.send_signal(signal.SIGKILL)
        # Ranges printed before the kill but not read yet were acknowledged too; a line the kill cut short (no
        # newline) was never acknowledged in full, so it asserts nothing.
        committed.extend(parse(line) for line in child.stdout if line[:1].isdigit() and line.endswith("\n"))
    finally:
        child.kill()
        child.wait(30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return committed


def catalog_id_count(data: Path, url: str | None) -> int:
    engine = sa.create_engine(url or f"sqlite:///{data / 'catalog.sqlite'}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM event_ids")).scalar() or 0)
    finally:
        engine.dispose()


def check_lake(data: Path, url: str | None, committed: list[tuple[int, int]]) -> set[str]:
    """Re-open after a crash; every printed batch is there once, and only committed files are visible."""
    with Lake.open(data, url) as lake:
        paths = lake.segment_paths()
        stats = lake.stats()
    ids: list[str] = []
    for path in paths:
        table = pq.read_table(path)  # every committed segment is complete and readable
        assert table.schema.equals(segment_schema(), check_metadata=False)
        ids.extend(table.column("id").to_pylist())
    present = set(ids)
    assert len(ids) == len(present), "an event id is stored twice"
    for start, stop in committed:
        missing = [n for n in range(start, stop) if event_id(n) not in present]
        assert not missing, f"batch {start}-{stop} was acknowledged but {len(missing)} of its events are lost"
    assert sorted(p.name for p in (data / "segments").iterdir()) == sorted(p.name for p in paths)
    assert catalog_id_count(data, url) == len(ids) == sum(stats["events"].values())
    return present


def finish_and_check(data: Path, url: str | None) -> None:
    with Lake.open(data, url) as lake:
        append_batches(lake, BATCHES, SIZE, overlap=OVERLAP)
    present = check_lake(data, url, [(0, BATCHES * SIZE)])
    assert len(present) == BATCHES * SIZE


def test_killed_at_random_moments(tmp_path: Path, catalog_url: str | None) -> None:
    rng = random.Random(20250301)
    data = tmp_path / "lake"
    committed: list[tuple[int, int]] = []
    for _round in range(2):
        # Each round re-runs the whole ingest: batches already in are duplicates, then new ones commit.
        committed += read_until_killed(start_writer(data, catalog_url), len(committed) + 4, rng)
        check_lake(data, catalog_url, committed)
    finish_and_check(data, catalog_url)


def test_killed_at_each_step_of_a_commit(tmp_path: Path, catalog_url: str | None) -> None:
    # Writers at once, each on its own lake: each commits batch 0 and dies in batch 1 after its file is written
    # (temp name), after its ids are inserted (transaction open), or after the rename to the final name (just
    # before the commit). On PostgreSQL only the step that differs from SQLite: the COPY of ids done, uncommitted.
    points = ("after-temp", "after-ids", "after-rename") if catalog_url is None else ("after-ids",)
    lakes = {point: (tmp_path / point, catalog_url) for point in points}
    children = {point: start_writer(data, url, point, victim=2) for point, (data, url) in lakes.items()}
    outputs = {point: child.communicate(timeout=60)[0] for point, child in children.items()}
    for point, (data, url) in lakes.items():
        assert children[point].returncode == -signal.SIGKILL
        committed = [parse(line) for line in outputs[point].splitlines()]
        assert committed == [(0, SIZE)]  # the dying batch never printed
        [in_flight] = {p.name for p in (data / "segments").iterdir()} - set(known_segments(data, url))
        assert in_flight.startswith(".tmp-") == (point != "after-rename")
        check_lake(data, url, committed)
        moved = {p.name for p in (data / "orphans").iterdir()} if (data / "orphans").exists() else set()
        assert moved == ({in_flight} if point == "after-rename" else set())
        with Lake.open(data, url) as lake:
            append_batches(lake, 2, SIZE, overlap=OVERLAP)
        assert len(check_lake(data, url, [(0, 2 * SIZE)])) == 2 * SIZE


def known_segments(data: Path, url: str | None) -> list[str]:
    engine = sa.create_engine(url or f"sqlite:///{data / 'catalog.sqlite'}")
    try:
        with engine.connect() as conn:
            return [str(name) for name in conn.execute(sa.text("SELECT name FROM segments")).scalars()]
    finally:
        engine.dispose()
