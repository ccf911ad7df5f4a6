"""The click log: what is written is folded into the lake exactly once, whatever happens in between."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongmao.contract import to_row, validate
from hongmao.lake import Lake, segments
from hongmao.links import clicklog, clickwriter
from hongmao.links.clicklog import decode, encode, fold
from hongmao.links.clickwriter import ClickLog

VISITOR = "0123456789abcdef0123456789abcdef"
T0 = 1_780_000_000_123_456


def click_line(n: int) -> bytes:
    return encode(f"c{n:06d}", f"lk{n % 7}", T0 + n, VISITOR if n % 2 else None, "browser", n % 5 == 0)


def write_clicks(log: ClickLog, start: int, stop: int) -> None:
    for n in range(start, stop):
        log.write(click_line(n))


def clicks_in(lake: Lake) -> list[str]:
    import pyarrow.parquet as pq

    ids: list[str] = []
    for path in lake.segment_paths():
        table = pq.read_table(path, columns=["type", "click_id"])
        ids += [
            c
            for t, c in zip(table["type"].to_pylist(), table["click_id"].to_pylist(), strict=True)
            if t == "link.click"
        ]
    return ids


@pytest.mark.parametrize("user", [VISITOR, None])
@pytest.mark.parametrize("link_id", ["lk0123", 'odd\\"link/中'])
@pytest.mark.parametrize(("ua_class", "bot"), [("browser", False), ("preview", True), ("app", False)])
def test_the_redirects_prepared_parts_make_the_same_line(
    user: str | None, link_id: str, ua_class: str, bot: bool
) -> None:
    parts = clicklog.encode_parts(
        b"0123456789abcdef01234567",
        clicklog.link_field(link_id),
        T0,
        (user or "").encode(),
        clicklog.ua_fields(ua_class, bot),
    )
    assert parts == encode("0123456789abcdef01234567", link_id, T0, user, ua_class, bot)


@pytest.mark.parametrize("user", [VISITOR, None])
@pytest.mark.parametrize("link_id", ["lk0123", 'odd\\"link/中'])
def test_a_folded_line_is_exactly_the_contract_row(user: str | None, link_id: str) -> None:
    line = encode("Ab-_9", link_id, T0, user, "app", True).rstrip(b"\n")
    event = validate(
        {
            "id": "link.click/Ab-_9",
            "type": "link.click",
            "source": "links",
            "time": datetime.fromtimestamp(T0 / 1e6, UTC),
            "data": {"click_id": "Ab-_9", "link_id": link_id, "user": user, "ua_class": "app", "bot": True},
        }
    )
    assert not isinstance(event, list)
    expected = to_row(event)
    row = decode(line)
    assert row is not None
    assert {k: v for k, v in expected.items() if v is not None} == {k: v for k, v in row.items() if v is not None}
    assert row["time"] == datetime(1970, 1, 1, tzinfo=UTC) + (expected["time"] - datetime(1970, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"a\tb",
        b"c\tl\tnot-a-time\t\tbrowser\t0",
        b"c\tl\t99999999999999999999999\t\tbrowser\t0",
        b"c\tl\t1\t\tmartian\t0",
        b"c\tl\t1\tRAW-PHONE\tbrowser\t0",
        b"\tl\t1\t\tbrowser\t0",
        b"c\tl\t1\t\tbrowser\t2",
        b"\xff\xfe\tl\t1\t\tbrowser\t0",
    ],
)
def test_malformed_lines_are_refused(line: bytes) -> None:
    assert decode(line) is None


def per_line(block: bytes) -> tuple[list[dict[str, object]], int]:
    rows = [decode(line) for line in block.splitlines() if line and not line.startswith(b"#")]
    return [row for row in rows if row is not None], sum(row is None for row in rows)


GOOD = st.builds(
    lambda n, link, user, ua, bot: encode(f"{T0 + n:014x}{n:016x}", link, T0 + n, user, ua, bot),
    st.integers(0, 10**9),
    st.sampled_from(["lk1", "lk-2.a_b:c/d"]),
    st.sampled_from([None, VISITOR]),
    st.sampled_from(sorted(clicklog.UA_CLASSES)),
    st.booleans(),
)
ODD = st.sampled_from(
    [
        encode("c1", 'lk "quoted"', T0, None, "app", False),  # ids that need JSON escaping
        encode("c2", "链接-1", T0, None, "app", False),
        b"c3\tl\t99999999999999999999999\t\tbrowser\t0\n",  # a time no datetime holds
        b"c4\tl\t-5\t\tbrowser\t0\n",
        b"a\tb\n",
        b"c5\tl\t1\t\tmartian\t0\n",
        b"\xff\xfe\tl\t1\t\tbrowser\t0\n",
        b"\n",
        b"#a comment\n",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(GOOD, GOOD, ODD), max_size=40))
def test_a_block_decodes_as_its_lines_do(lines: list[bytes]) -> None:
    block = clickwriter.HEADER + b"".join(lines)
    table, malformed = clicklog.decode_block(block)
    rows, expected_malformed = per_line(block)
    assert malformed == expected_malformed
    assert table.equals(segments.table_of(rows))


def test_the_redirects_lines_take_the_columnar_path() -> None:
    block = clickwriter.HEADER + b"".join(encode(f"c{n}", "lk1", T0 + n, VISITOR, "app", n % 2 == 0) for n in range(9))
    assert clicklog._columnar(block) is not None
    assert clicklog._columnar(block + b"a\tb\n") is None  # a malformed line: decoded line by line


def test_folding_is_exactly_once_even_when_repeated(tmp_path: Path) -> None:
    directory = tmp_path / "clicks"
    log = ClickLog(directory).open()
    write_clicks(log, 0, 500)
    with Lake.open(tmp_path / "lake") as lake:
        first = fold(lake, directory)
        assert (first.clicks, first.stored, first.finished_files) == (500, 500, 0)
        assert fold(lake, directory).clicks == 0  # nothing new past the offset
        write_clicks(log, 500, 800)
        assert fold(lake, directory).stored == 300
        # The offsets are lost (as after a crash between the lake commit and the state update): everything is
        # read again and the lake keeps each click once.
        (directory / clicklog.STATE_FILE).unlink()
        again = fold(lake, directory)
        assert (again.clicks, again.stored, again.duplicate) == (800, 0, 800)
        log.close()
        last = fold(lake, directory)
        assert last.finished_files == 1 and not list(directory.glob("clicks-*.log"))
        ids = clicks_in(lake)
        assert len(ids) == len(set(ids)) == 800
        assert lake.stats()["events"] == {"link.click": 800}


def test_a_live_file_is_kept_and_a_finished_one_deleted(tmp_path: Path) -> None:
    directory = tmp_path / "clicks"
    live, done = ClickLog(directory).open(), ClickLog(directory).open()
    write_clicks(live, 0, 10)
    write_clicks(done, 10, 20)
    done.close()
    with Lake.open(tmp_path / "lake") as lake:
        result = fold(lake, directory)
    assert (result.stored, result.finished_files) == (20, 1)
    assert [p for p in directory.glob("clicks-*.log")] == [live.path]
    live.close()


def test_one_fold_is_one_segment_across_files(tmp_path: Path) -> None:
    directory = tmp_path / "clicks"
    logs = [ClickLog(directory).open() for _ in range(3)]
    for i, log in enumerate(logs):
        write_clicks(log, i * 100, i * 100 + 100)
    with Lake.open(tmp_path / "lake") as lake:
        fold(lake, directory)
        assert len(lake.segments()) == 1
    for log in logs:
        log.close()


def test_a_torn_last_line_is_not_folded_and_malformed_lines_are_counted(tmp_path: Path) -> None:
    directory = tmp_path / "clicks"
    log = ClickLog(directory).open()
    write_clicks(log, 0, 3)
    assert log.path is not None
    path = log.path
    log.close()
    with open(path, "ab") as handle:
        handle.write(b"garbage line\n")
        handle.write(encode("torn", "lk1", T0, None, "browser", False)[:-5])  # power cut mid-line
    with Lake.open(tmp_path / "lake") as lake:
        result = fold(lake, directory)
        assert (result.stored, result.malformed, result.finished_files) == (3, 1, 1)
        assert "torn" not in clicks_in(lake)


def test_the_log_rotates_and_retired_files_are_folded(tmp_path: Path) -> None:
    directory = tmp_path / "clicks"
    log = ClickLog(directory, max_bytes=2_000, sync_interval=0.01).open()
    write_clicks(log, 0, 200)
    log._sync()  # what the timer thread does: fsync, close retired files
    assert len(list(directory.glob("clicks-*.log"))) > 3
    with Lake.open(tmp_path / "lake") as lake:
        result = fold(lake, directory)
        assert result.stored == 200 and result.finished_files >= 3
        assert len(list(directory.glob("clicks-*.log"))) == 1
        log.close()
        assert fold(lake, directory).finished_files == 1
        assert sorted(clicks_in(lake)) == [f"c{n:06d}" for n in range(200)]


def test_lines_are_whole_and_fsynced_on_the_timer(tmp_path: Path) -> None:
    log = ClickLog(tmp_path, sync_interval=0.01).open()
    write_clicks(log, 0, 5)
    assert log.path is not None
    assert log.path.read_bytes().count(b"\n") == 6  # the header and five lines, visible before any fsync
    log.close()
    assert log.path.stat().st_mode & 0o777 == 0o640


def test_a_file_that_cannot_be_started_refuses_its_click_and_the_log_carries_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = ClickLog(tmp_path, max_bytes=len(clickwriter.HEADER) + sum(len(click_line(n)) for n in range(6))).open()
    first = log.path
    write_clicks(log, 0, 6)  # fills the first file to its last byte
    real, calls = os.posix_fallocate, []

    def disk_full_once(fd: int, offset: int, length: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, offset, length)

    monkeypatch.setattr(clickwriter.os, "posix_fallocate", disk_full_once)
    with pytest.raises(OSError, match="No space"):
        write_clicks(log, 6, 7)
    assert log.path == first and not list(tmp_path.glob(".clicks-*.new"))
    write_clicks(log, 7, 8)  # the disk has room again
    assert log.path != first
    log.close()
    with Lake.open(tmp_path / "lake") as lake:
        result = fold(lake, tmp_path)
        assert (result.stored, result.malformed) == (7, 0)
        assert sorted(clicks_in(lake)) == [f"c{n:06d}" for n in (0, 1, 2, 3, 4, 5, 7)]


def test_a_fold_between_a_new_files_create_and_its_lock_does_not_stop_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder removes a ``.new`` file it can lock (a writer that died before naming it). A worker starting its
    log while ``hongmao serve`` folds on Ctrl-C could lose that race between its create and its lock (seen once in
    the suite as a worker's FileNotFoundError on the rename): the writer starts another file instead."""
    directory = tmp_path / "clicks"
    directory.mkdir()
    real, folds, folding = fcntl.flock, [], []  # (fcntl is one module: the folder's own locks come here too)

    def fold_first(fd: int, operation: int) -> None:
        if not folding and len(folds) < 2 and any(directory.glob(".clicks-*.new")):
            folding.append(True)
            try:
                with Lake.open(tmp_path / "lake") as lake:
                    folds.append(fold(lake, directory))  # the folder takes the unlocked file for a dead writer's
            finally:
                folding.clear()
        real(fd, operation)

    monkeypatch.setattr(clickwriter.fcntl, "flock", fold_first)
    log = ClickLog(directory).open()
    monkeypatch.setattr(clickwriter.fcntl, "flock", real)
    assert len(folds) == 2 and log.path is not None and log.path.exists()  # two starts lost the race, the third won
    write_clicks(log, 0, 3)
    log.close()
    assert not list(directory.glob(".clicks-*.new"))
    with Lake.open(tmp_path / "lake") as lake:
        assert fold(lake, directory).stored == 3


def test_a_file_too_small_for_a_line_or_a_line_with_a_zero_byte_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="header"):
        ClickLog(tmp_path, max_bytes=len(clickwriter.HEADER))
    log = ClickLog(tmp_path, max_bytes=len(clickwriter.HEADER) + 8).open()
    with pytest.raises(OSError, match="does not fit"):
        log.write(click_line(0))
    with pytest.raises(ValueError, match="zero byte"):
        log.write(b"c1\tlk\0\t1\t\tbrowser\t0\n")
    with pytest.raises(ValueError, match="empty"):
        log.write(b"")
    log.write(b"c1\tlk\t1\n")  # what fits is kept
    log.close()
    assert log.path is not None and log.path.read_bytes() == clickwriter.HEADER + b"c1\tlk\t1\n"


def test_a_live_file_is_preallocated_and_read_up_to_its_unwritten_part(tmp_path: Path) -> None:
    directory = tmp_path / "clicks"
    log = ClickLog(directory, max_bytes=1 << 20).open()
    write_clicks(log, 0, 50)
    assert log.path is not None and log.path.stat().st_size == 1 << 20
    with Lake.open(tmp_path / "lake") as lake:
        assert fold(lake, directory).stored == 50
        write_clicks(log, 50, 60)
        assert fold(lake, directory).stored == 10
        log.close()
        assert log.path.stat().st_size == log.path.read_bytes().rindex(b"\n") + 1  # cut to its lines
        last = fold(lake, directory)
        assert (last.stored, last.finished_files) == (0, 1)
        assert sorted(clicks_in(lake)) == [f"c{n:06d}" for n in range(60)]


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from hongmao.links.clicklog import encode
from hongmao.links.clickwriter import ClickLog
log = ClickLog(Path(sys.argv[1]), sync_interval=3600).open()  # no fsync: only the kernel holds the lines
for n in range(int(sys.argv[2])):
    log.write(encode(f"k{n:06d}", "lk1", 1_780_000_000_000_000 + n, None, "browser", False))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_every_line_copied_before_a_kill_9_is_folded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "clicks"
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(directory), "3000"], check=False)
    assert done.returncode == -signal.SIGKILL
    with Lake.open(tmp_path / "lake") as lake:
        result = fold(lake, directory)
        assert (result.stored, result.malformed, result.finished_files) == (3000, 0, 1)
        assert sorted(clicks_in(lake)) == [f"k{n:06d}" for n in range(3000)]
    assert "torn" not in caplog.text and not list(directory.glob("clicks-*.log"))


def test_bytes_past_a_crashed_files_last_line_are_reported_not_folded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "clicks"
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(directory), "5"], check=False)
    (path,) = directory.glob("clicks-*.log")
    with open(path, "r+b") as handle:  # a line half copied when the power went: its end landed, not its start
        data = handle.read()
        handle.seek(data.index(b"\0") + 40)
        handle.write(b"\tbrowser\t0\n")
    with Lake.open(tmp_path / "lake") as lake:
        result = fold(lake, directory)
        assert (result.stored, result.finished_files) == (5, 1)
    assert "dropping a torn last line (11 bytes)" in caplog.text


def test_a_second_folder_steps_aside(tmp_path: Path) -> None:
    directory = tmp_path / "clicks"
    log = ClickLog(directory).open()
    write_clicks(log, 0, 3)
    with Lake.open(tmp_path / "lake") as lake, clicklog._try_lock(directory / clicklog.FOLD_LOCK, create=True) as held:
        assert held
        assert fold(lake, directory).busy
    log.close()


def test_state_file_damage_is_survived(tmp_path: Path) -> None:
    directory = tmp_path / "clicks"
    log = ClickLog(directory).open()
    write_clicks(log, 0, 10)
    with Lake.open(tmp_path / "lake") as lake:
        fold(lake, directory)
        (directory / clicklog.STATE_FILE).write_text("{not json", encoding="utf-8")
        assert fold(lake, directory).stored == 0
        assert json.loads((directory / clicklog.STATE_FILE).read_text(encoding="utf-8"))
    log.close()


def test_a_file_a_writer_never_named_is_swept(tmp_path: Path) -> None:
    directory = tmp_path / "clicks"
    directory.mkdir()
    abandoned = directory / f".{clickwriter.PREFIX}0001-1{clickwriter.SUFFIX}.new"
    abandoned.write_bytes(clickwriter.HEADER)
    log = ClickLog(directory).open()  # a live writer's file is never touched
    with Lake.open(tmp_path / "lake") as lake:
        fold(lake, directory)
    assert not abandoned.exists() and log.path is not None and log.path.exists()
    log.close()


def test_a_write_while_another_thread_closes_the_log_is_refused_and_the_file_keeps_its_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = ClickLog(tmp_path, sync_interval=3600).open()
    write_clicks(log, 0, 5)
    refused: list[Exception] = []
    retire = clickwriter._File.retire

    def retire_with_a_click_in_between(self: clickwriter._File) -> None:
        try:  # what the event loop may do while the parent-watch thread is closing the log
            log.write(click_line(99))
        except OSError as error:
            refused.append(error)
        retire(self)

    monkeypatch.setattr(clickwriter._File, "retire", retire_with_a_click_in_between)
    path = log.path
    log.close()
    assert len(refused) == 1 and "closed" in str(refused[0])  # a 503, not a 302 for a click nobody keeps
    assert path is not None and path.read_bytes().count(b"\n") == 6  # the header and its five lines
    assert [p.name for p in tmp_path.glob("clicks-*.log")] == [path.name]  # no new file was started
    with pytest.raises(OSError, match="closed"):
        log.write(click_line(100))
