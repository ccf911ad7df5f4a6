"""The lake's exclusive writer lock: ``flock`` on ``DATA/.write.lock``, one writer at a time across processes.

The kernel drops a ``flock`` when its holder dies (even by SIGKILL), so a crashed writer never leaves the lake
locked. The lock file holds the holder's pid, only to say who is busy in the error message.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hongmao.errors import LakeBusyError, LakeError

_POLL = 0.05


class WriteLock:
    """A re-entrant (per instance) exclusive lock on a file.

    Two instances conflict even inside one process: ``flock`` belongs to the open file, not to the process.
    Not thread-safe by itself; :class:`hongmao.lake.Lake` serialises its threads before taking it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._depth > 0

    def acquire(self, timeout: float | None = None) -> None:
        """Take the lock, waiting up to ``timeout`` seconds (None: forever, 0: not at all).

        Raises :class:`LakeBusyError` when another holder keeps it past the timeout.
        """
        if self._depth:
            self._depth += 1
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise LakeError(f"cannot open the lake's lock file {self.path}: {error}") from error
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    now = time.monotonic()
                    if deadline is not None and now >= deadline:
                        raise LakeBusyError(self._busy_message(timeout)) from None
                    time.sleep(_POLL if deadline is None else min(_POLL, deadline - now))
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._depth = 1

    def release(self) -> None:
        if not self._depth:
            return
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    @contextmanager
    def hold(self, timeout: float | None = None) -> Iterator[None]:
        self.acquire(timeout)
        try:
            yield
        finally:
            self.release()

    def holder_pid(self) -> int | None:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None

    def _busy_message(self, timeout: float | None) -> str:
        pid = self.holder_pid()
        who = f"process {pid}" if pid else "another process"
        waited = f" after waiting {timeout:g} s" if timeout else ""
        return (
            f"the lake at {self.path.parent} is busy: {who} holds its write lock ({self.path}){waited}; "
            "only one writer at a time, try again when it has finished"
        )
