"""The click log: every click written here before its 302 is sent, then folded into the lake exactly once.

Durability model:

- Each serving process writes its own file ``DATA/clicks/clicks-<ns>-<pid>.log``, one tab-separated line per
  click, copied into the file's shared memory mapping *before* the response goes out
  (:class:`hongmao.links.clickwriter.ClickLog`). The mapping is the kernel's page cache: once the copy returns
  the line is the kernel's, and a killed process (even ``kill -9``) loses nothing it answered.
- A background thread calls ``fdatasync`` on the file every ``sync_interval`` (50 ms by default): a power
  loss loses at most that much.
- The writer holds an exclusive ``flock`` on its file while it lives (the kernel drops it when the process
  dies), so the folder knows a file is finished when it can take the lock.
- Files are preallocated; what is not yet written holds zero bytes, which no line contains.
- :func:`fold` reads the complete lines past the offset it last folded, up to the first zero byte, and appends
  them to the lake as ``link.click`` events whose id is ``link.click/<click id>``. The lake de-duplicates by
  event id, so folding the same line twice (after a crash between the lake commit and the offset update)
  stores it once. Finished files are deleted once folded.

Line format (version 1, after a ``#hongmao-clicks 1`` header line)::

    click_id \\t link_id \\t time (Unix microseconds) \\t visitor pseudonym or empty \\t ua_class \\t bot (0/1)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from hongmao.lake import Lake, segments
from hongmao.links.clickwriter import PREFIX, SUFFIX

log = logging.getLogger(__name__)

STATE_FILE = "fold-state.json"
FOLD_LOCK = ".fold.lock"
UA_CLASSES = frozenset({"app", "browser", "bot", "preview", "unknown"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PSEUDONYM = re.compile(r"[0-9a-f]{32}")
_PLAIN = re.compile(r"[A-Za-z0-9_.:/-]+")  # needs no JSON escaping


def encode(click_id: str, link_id: str, time_us: int, user: str | None, ua_class: str, bot: bool) -> bytes:
    """One click line (version 1), newline included."""
    return f"{click_id}\t{link_id}\t{time_us}\t{user or ''}\t{ua_class}\t{1 if bot else 0}\n".encode()


# The redirect builds the same line from parts prepared ahead (per link, per user-agent class): one bytes
# formatting per click instead of a str format and an encode. ``tests/test_links_clicklog.py`` checks both agree.


def link_field(link_id: str) -> bytes:
    """The part of a link's lines between the click id and the time: ``\\t<link_id>\\t``."""
    return f"\t{link_id}\t".encode()


_UA_FIELDS = {(ua, bot): f"\t{ua}\t{1 if bot else 0}\n".encode() for ua in UA_CLASSES for bot in (False, True)}


def ua_fields(ua_class: str, bot: bool) -> bytes:
    """The end of a line after the visitor: ``\\t<ua_class>\\t<0|1>\\n``."""
    return _UA_FIELDS[ua_class, bot]


def encode_parts(click_id: bytes, link: bytes, time_us: int, user: bytes, ua: bytes) -> bytes:
    """:func:`encode` from prepared parts: ``link`` from :func:`link_field`, ``ua`` from :func:`ua_fields`."""
    return b"%b%b%d\t%b%b" % (click_id, link, time_us, user, ua)


def event_id(click_id: str) -> str:
    """The lake event id of a click: derived from the click id alone, so re-folding is idempotent."""
    return f"link.click/{click_id}"


def decode(line: bytes) -> dict[str, Any] | None:
    """The stored row of one log line (``to_row`` of its ``link.click`` event; absent columns are null), or
    None if the line is malformed. Built by hand, not through the contract models: folding is the one place
    clicks arrive by the tens of thousands a second (a test checks the two agree).
    """
    try:
        click_id, link_id, time_text, user, ua_class, bot = line.decode("utf-8").split("\t")
        when = EPOCH + timedelta(microseconds=int(time_text))
    except (ValueError, OverflowError):  # OverflowError: a time no datetime can hold
        return None
    if not click_id or not link_id or ua_class not in UA_CLASSES or bot not in ("0", "1"):
        return None
    if user and not _PSEUDONYM.fullmatch(user):
        return None
    flag = bot == "1"
    # The JSON of ``data`` with sorted keys, as to_row writes it; ids are quoted by json only when they need it.
    quoted_click = f'"{click_id}"' if _PLAIN.fullmatch(click_id) else json.dumps(click_id, ensure_ascii=False)
    quoted_link = f'"{link_id}"' if _PLAIN.fullmatch(link_id) else json.dumps(link_id, ensure_ascii=False)
    quoted_user = f'"{user}"' if user else "null"
    data = (
        f'{{"bot":{"true" if flag else "false"},"click_id":{quoted_click},"link_id":{quoted_link},'
        f'"ua_class":"{ua_class}","user":{quoted_user}}}'
    )
    return {
        "id": event_id(click_id),
        "type": "link.click",
        "source": "links",
        "time": when,
        "user": user or None,
        "link_id": link_id,
        "click_id": click_id,
        "bot": flag,
        "data": data,
    }


_FIELDS = ("click_id", "link_id", "time", "user", "ua_class", "bot")
_CSV_READ = pacsv.ReadOptions(column_names=list(_FIELDS), use_threads=False)
_CSV_CONVERT = pacsv.ConvertOptions(
    column_types=dict.fromkeys(_FIELDS, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
)


def decode_block(block: bytes) -> tuple[pa.Table, int]:
    """Complete log lines (``#`` lines skipped) as a table with the lake's segment schema, in their order, and
    the number of malformed lines: what :func:`decode` gives line by line, built column by column.

    The columnar path is taken when every line is well formed and its ids need no JSON escaping (what the
    redirect writes); otherwise the block is decoded line by line, so both always agree (a test checks).
    """
    table = _columnar(block)
    if table is not None:
        return table, 0
    rows, malformed = [], 0
    for line in block.splitlines():
        if not line or line.startswith(b"#"):
            continue
        row = decode(line)
        if row is None:
            malformed += 1
        else:
            rows.append(row)
    return segments.table_of(rows), malformed


def _columnar(block: bytes) -> pa.Table | None:
    odd: list[str] = []

    def invalid(row: Any) -> str:
        odd.append(row.text)
        return "skip"

    parse = pacsv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False, invalid_row_handler=invalid)
    try:
        lines = pacsv.read_csv(
            pa.BufferReader(block), read_options=_CSV_READ, parse_options=parse, convert_options=_CSV_CONVERT
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if any(not text.startswith("#") for text in odd):
        return None
    click, link, micros = lines["click_id"], lines["link_id"], lines["time"]
    user, ua_class, bot = lines["user"], lines["ua_class"], lines["bot"]
    well_formed = [
        pc.match_substring_regex(click, _PLAIN.pattern.join("^$")),
        pc.match_substring_regex(link, _PLAIN.pattern.join("^$")),
        pc.match_substring_regex(micros, "^[0-9]{1,17}$"),  # up to year 5138: others go line by line
        pc.match_substring_regex(user, "^(|[0-9a-f]{32})$"),
        pc.is_in(ua_class, pa.array(sorted(UA_CLASSES))),
        pc.is_in(bot, pa.array(["0", "1"])),
    ]
    if not all(pc.all(check).as_py() is not False for check in well_formed):
        return None
    flag = pc.equal(bot, "1")
    no_user = pc.equal(user, "")
    quoted_user = pc.if_else(no_user, "null", pc.binary_join_element_wise('"', user, '"', ""))
    data = pc.binary_join_element_wise(
        '{"bot":', pc.if_else(flag, "true", "false"), ',"click_id":"', click, '","link_id":"', link,
        '","ua_class":"', ua_class, '","user":', quoted_user, "}", "",
    )  # fmt: skip
    return segments.conform(
        {
            "id": pc.binary_join_element_wise(event_id(""), click, ""),
            "type": pa.repeat("link.click", lines.num_rows),
            "source": pa.repeat("links", lines.num_rows),
            "time": pc.cast(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "user": pc.if_else(no_user, pa.scalar(None, pa.string()), user),
            "link_id": link,
            "click_id": click,
            "bot": flag,
            "data": data,
        }
    )


def log_dir(data_dir: Path) -> Path:
    return data_dir / "clicks"


# --- folding ---------------------------------------------------------------------------------------------


@dataclass
class FoldResult:
    """What a fold did: clicks read, stored and already in the lake; files finished; malformed lines."""

    clicks: int = 0
    stored: int = 0
    duplicate: int = 0
    finished_files: int = 0
    malformed: int = 0
    busy: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@contextmanager
def _try_lock(path: Path, *, create: bool = False) -> Iterator[bool]:
    flags = (os.O_RDWR | os.O_CREAT) if create else os.O_RDONLY
    fd = os.open(path, flags | os.O_CLOEXEC, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _load_state(path: Path) -> dict[str, int]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring the unreadable fold state %s (%s): folding from the start, the lake de-dups", path, error)
        return {}
    return {str(k): int(v) for k, v in state.items()} if isinstance(state, dict) else {}


def _save_state(path: Path, state: dict[str, int]) -> None:
    # No fsync: a lost update only makes the next fold re-read lines the lake already holds.
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
    os.replace(temp, path)


def _report_torn(path: Path, tail: bytes, handle: BinaryIO, gap_at: int) -> None:
    """Warn of a finished file's bytes past its last whole line (``tail``, and any not zero after ``gap_at``
    when a zero byte ended the lines): only a crash or power cut mid-line leaves them, before that click's 302."""
    stray = len(tail)
    if gap_at >= 0:
        handle.seek(gap_at)
        while chunk := handle.read(1 << 20):
            stray += len(chunk) - chunk.count(0)
    if stray:
        log.warning("dropping a torn last line (%d bytes) of %s", stray, path.name)


class _Folder:
    """One fold pass: rows gathered across files, committed in chunks; offsets saved after each commit."""

    def __init__(self, lake: Lake, directory: Path, chunk_rows: int) -> None:
        self.lake = lake
        self.state_path = directory / STATE_FILE
        self.state = _load_state(self.state_path)
        self.chunk_rows = chunk_rows
        self.tables: list[pa.Table] = []
        self.rows = 0
        self.reached: list[tuple[Path, int, bool]] = []  # (file, offset folded, writer gone)
        self.result = FoldResult()

    def read(self, path: Path, finished: bool, read_bytes: int) -> None:
        offset = self.state.get(path.name, 0)
        with open(path, "rb") as handle:
            handle.seek(offset)
            while True:
                start, data = offset, handle.read(read_bytes)
                written = data.find(b"\0")  # where the preallocated, not yet written part begins
                if written >= 0:
                    data = data[:written]
                end = data.rfind(b"\n") + 1
                if end:
                    table, malformed = decode_block(data[:end])
                    self.result.malformed += malformed
                    self.tables.append(table)
                    self.rows += table.num_rows
                    offset += end
                    if self.rows >= self.chunk_rows:
                        self.reached.append((path, offset, False))
                        self.flush()
                if end == 0 or written >= 0:
                    if finished:
                        _report_torn(path, data[end:], handle, start + written if written >= 0 else -1)
                    break
                handle.seek(offset)
        self.reached.append((path, offset, finished))

    def flush(self) -> None:
        """Commit the gathered rows, then record the offsets reached and delete the files now finished."""
        if self.rows:
            appended = self.lake.append_table(pa.concat_tables(self.tables), expect_new=True)
            self.result.clicks += self.rows
            self.result.stored += appended.accepted
            self.result.duplicate += appended.duplicate
        self.tables, self.rows = [], 0
        for path, offset, finished in self.reached:
            if finished:
                path.unlink(missing_ok=True)
                self.state.pop(path.name, None)
                self.result.finished_files += 1
            else:
                self.state[path.name] = offset
        self.reached = []
        _save_state(self.state_path, self.state)


def fold(lake: Lake, directory: Path, *, chunk_rows: int = 200_000, read_bytes: int = 4 << 20) -> FoldResult:
    """Append every complete, not yet folded click line under ``directory`` to ``lake``; exactly once.

    One lake segment per fold (per ``chunk_rows`` clicks). Only one folder works at a time (``.fold.lock``);
    a second one returns at once with ``busy``. Raises :class:`~hongmao.errors.LakeBusyError` when another
    lake writer holds the lake past its lock timeout: nothing is lost, the next fold picks the lines up.
    """
    if not directory.is_dir():
        return FoldResult()
    with _try_lock(directory / FOLD_LOCK, create=True) as locked:
        if not locked:
            return FoldResult(busy=True)
        folder = _Folder(lake, directory, chunk_rows)
        for path in sorted(directory.glob(f"{PREFIX}*{SUFFIX}")):
            # A file whose lock we can take has no writer left (closed, rotated or killed): it will not grow.
            # (Writers lock a file before it takes a name this loop can see.)
            try:
                with _try_lock(path) as finished:
                    folder.read(path, finished, read_bytes)
            except FileNotFoundError:
                continue  # finished and deleted by an earlier fold
        folder.flush()
        for temp in directory.glob(f".{PREFIX}*{SUFFIX}.new"):  # a writer died before naming its file
            with contextlib.suppress(FileNotFoundError), _try_lock(temp) as abandoned:
                if abandoned:
                    temp.unlink()  # it never held a click: lines are written only after the rename
        stale = [name for name in folder.state if not (directory / name).exists()]
        if stale:
            _save_state(folder.state_path, {k: v for k, v in folder.state.items() if k not in stale})
        return folder.result


def fold_data_dir(data_dir: str | Path | None = None, catalog_url: str | None = None) -> FoldResult:
    """Fold the click log of a data directory into its lake (what ``hongmao link fold`` does)."""
    from hongmao import settings

    directory = settings.data_dir(data_dir).absolute()
    with Lake.open(directory, catalog_url or settings.get("catalog_url")) as lake:
        return fold(lake, log_dir(directory))
