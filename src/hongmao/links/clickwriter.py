"""Writing the click log: each line is copied into a memory-mapped, preallocated file before its 302 is sent.

Why a shared file mapping and not one ``write(2)`` per click: a ``MAP_SHARED`` mapping of a file *is* the
kernel's page cache for that file, so once the copy returns the line is the kernel's exactly as after a
returned ``write``: ``kill -9`` of the process loses nothing it answered, and ``fdatasync`` writes it to disk.
The copy costs a fraction of a system call, on the path every click takes (``bench/redirect.py``; figures in
docs/benchmarks.md).

A file's life:

- It is created as ``.clicks-<ns>-<pid>.log.new``, locked (``flock``, held for the writer's life; the kernel
  drops it when the process dies), preallocated to ``max_bytes`` with ``posix_fallocate`` so that a full
  disk is an error when a file is started (the click is answered with a 503), never a ``SIGBUS`` on a copy.
  The header line is written and fsynced, then the file takes its ``clicks-*.log`` name.
- Lines follow one another from the header on; the part of the file not yet written holds zero bytes, which no
  line contains, so a reader takes the file up to its first zero byte (``clicklog.fold``).
- A line that does not fit starts a new file. The full one is retired: the sync thread fsyncs it, unmaps it,
  truncates it to its lines and closes it, which drops the lock.
- The sync thread ``fdatasync``\\s the current file every ``sync_interval`` (50 ms): a power cut loses at most
  that much.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import mmap
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hongmao.lake.segments import fsync_dir

log = logging.getLogger(__name__)

HEADER = b"#hongmao-clicks 1\n"
PREFIX = "clicks-"
SUFFIX = ".log"
#: Tries to start a log file when a folder took the unnamed file for a dead writer's (see ``_start_file``).
START_ATTEMPTS = 5
SYNC_INTERVAL = 0.05
MAX_BYTES = 64 << 20


# Stands in for the mapping while no file is open: every line written to it raises ValueError, as a full file's
# does (``write`` refuses an empty line first: it would fit).
_CLOSED = mmap.mmap(-1, 1)
_CLOSED.seek(1)


class ClickSink(Protocol):
    """Where the redirect writes a click line (the log, or a list in tests); raises OSError on failure."""

    def write(self, line: bytes) -> None: ...


@dataclass
class _File:
    """One log file while it is written: its descriptor and its mapping, whose position is the end of its lines."""

    path: Path
    fd: int
    view: mmap.mmap

    def retire(self) -> None:
        """Make the lines durable, drop the unwritten rest and close (the lock goes with the last handle)."""
        used = self.view.tell()
        try:
            os.fsync(self.fd)
        finally:
            self.view.close()  # the mapping holds its own handle of the file, and so the lock, until closed
            try:
                os.ftruncate(self.fd, used)
            finally:
                os.close(self.fd)


class ClickLog:
    """The click log of one process: ``write`` copies a line into the mapped file; a thread fsyncs it.

    ``write`` is called from the event loop thread only; starting a new file happens there too, and the sync
    thread retires the full one after its last fsync. ``close`` may come from another thread (a worker's
    parent watch): it detaches the file first, so a later ``write`` raises OSError.
    """

    def __init__(self, directory: Path, *, sync_interval: float = SYNC_INTERVAL, max_bytes: int = MAX_BYTES) -> None:
        if max_bytes <= len(HEADER):
            raise ValueError(f"max_bytes must exceed the header's {len(HEADER)} bytes")
        self.directory = directory
        self.sync_interval = sync_interval
        self.max_bytes = max_bytes
        self.path: Path | None = None
        self._file: _File | None = None
        self._view: mmap.mmap = _CLOSED  # the current file's mapping, its position past the last line
        self._dirty = False
        self._retired: list[_File] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def open(self) -> ClickLog:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._start_file()
        self._thread = threading.Thread(target=self._sync_loop, name="hongmao-click-fsync", daemon=True)
        self._thread.start()
        return self

    def write(self, line: bytes) -> None:
        """Copy one line (newline included) into the log; raises OSError if it cannot be kept, ValueError if the
        line is empty or holds a zero byte (the folder would take it for the end of the file's lines)."""
        if 0 in line or not line:  # an int needle: several times cheaper here than ``b"\0" in line``
            raise ValueError("a click line cannot be empty or hold a zero byte")
        try:
            self._view.write(line)  # at the mapping's own position, which it advances; ValueError if past the end
        except ValueError:
            self._next_file(line)
        self._dirty = True

    def _next_file(self, line: bytes) -> None:
        """Write a line that did not fit (or found the log closed) at the start of a new file."""
        if self._file is None:
            raise OSError("the click log is closed") from None
        if len(HEADER) + len(line) > self.max_bytes:
            raise OSError(f"a click line of {len(line)} bytes does not fit a log file of {self.max_bytes}") from None
        self._start_file()  # raises OSError (disk full): this click is refused, the next one tries again
        self._view.write(line)

    def _start_file(self) -> None:
        # A folder removes a ``.new`` file whose lock it can take (a writer that died before naming it). Between
        # this writer's create and its lock there is a moment when a folder can do that (the rename then finds
        # no file) or hold the lock itself (the lock is refused): the file never held a click, so start again.
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                started = self._create_file()
                break
            except (FileNotFoundError, BlockingIOError):
                if attempt == START_ATTEMPTS:
                    raise
        if self._file is not None:
            self._retired.append(self._file)
        self._file, self._view, self.path = started, started.view, started.path

    def _create_file(self) -> _File:
        """A new log file, locked, preallocated, mapped and holding its header, under its final name."""
        name = f"{PREFIX}{time.time_ns():020d}-{os.getpid()}{SUFFIX}"
        path, temp = self.directory / name, self.directory / f".{name}.new"
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
        view: mmap.mmap | None = None
        try:
            # Locked before it is named clicks-*.log: the folder never mistakes a new file for a finished one.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _preallocate(fd, self.max_bytes)
            view = mmap.mmap(fd, self.max_bytes)
            view.write(HEADER)
            os.fsync(fd)
            os.rename(temp, path)
            fsync_dir(self.directory)
        except BaseException:
            if view is not None:
                view.close()
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        return _File(path, fd, view)

    def _sync_loop(self) -> None:
        while not self._stop.wait(self.sync_interval):
            self._sync()

    def _sync(self) -> None:
        try:
            current = self._file
            if self._dirty and current is not None:
                self._dirty = False
                os.fdatasync(current.fd)
            while self._retired:
                self._retired.pop().retire()
        except OSError as error:  # keep syncing; a file that cannot be started refuses its clicks
            log.error("cannot fsync the click log %s: %s", self.path, error)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._sync()
        # Detached before it is retired: the parent-watch thread may close the log while the event loop still
        # writes, and a write from then on must find the log closed (a 503), not start a new file.
        file = self._file
        self._file, self._view = None, _CLOSED
        if file is not None:
            file.retire()


def _preallocate(fd: int, size: int) -> None:
    """Reserve the file's blocks (a full disk fails here, not on a copy into the mapping later)."""
    try:
        os.posix_fallocate(fd, 0, size)
    except AttributeError:  # no posix_fallocate (macOS): a sparse file, as large
        os.ftruncate(fd, size)
    except OSError as error:
        if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
        os.ftruncate(fd, size)
