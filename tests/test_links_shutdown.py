"""Stopping ``hongmao serve``: Ctrl-C in a terminal (SIGINT to the whole process group) stops every process.

A terminal sends Ctrl-C's SIGINT to the foreground process group: the main process and every worker. The main
process then stops each worker with SIGTERM, so a worker that took the SIGINT as well got two stop signals,
and Granian's worker can deadlock on the second (its signal handler waits, holding the GIL, on a thread that
waits for the GIL), leaving the main process waiting for it forever. A worker still starting took the SIGINT
as a KeyboardInterrupt instead and the server exited 1 with a traceback. Here every stop must be clean, every
time, with clicks in flight and connections left open, and every answered click must reach the lake once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hongmao.links import create_link
from test_links_server import Server, free_port, lake_clicks, load

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes from /proc"),
]

ROUNDS = 5
STOP_BOUND = 30.0  # seconds: generous; a clean stop takes about one


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def workers_of(pid: int) -> list[int]:
    """The Granian worker processes of a ``hongmao serve`` main process."""
    found = []
    for member in group_members(pid):
        try:
            cmdline = (Path("/proc") / str(member) / "cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.append(member)
    return found


def signal_sets(pid: int) -> tuple[set[int], set[int]]:
    """The signals a process ignores and the ones it catches (SigIgn, SigCgt in /proc/PID/status)."""
    masks = {}
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("SigIgn", "SigCgt"):
            masks[name] = int(value, 16)
    return tuple({n for n in range(1, 65) if masks[name] >> (n - 1) & 1} for name in ("SigIgn", "SigCgt"))  # type: ignore[return-value]


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.proc.poll() is None:
            server.kill()
        for pid in group_members(server.proc.pid):  # a worker left behind by a failed stop
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_to_the_process_group_stops_every_process_cleanly(
    tmp_path: Path, servers: list[Server], workers: int
) -> None:
    data = tmp_path / "lake"
    link = create_link("note-1", "651", "tmall", data_dir=data)
    path = f"/l/{link.token}"
    answered: list[str] = []
    for round_ in range(ROUNDS):
        # A 2 s stop timeout: the connection left mid-header holds a worker's graceful stop until it is killed.
        server = Server(data, free_port(), workers, "--stop-timeout", "2")
        servers.append(server)
        # Clicks in flight, a kept-alive connection left idle and one in the middle of a header, as a browser and
        # a slow phone would leave them; the Ctrl-C comes at once, while a second worker may still be starting.
        stop = threading.Event()
        got: list[str] = []
        clients = [threading.Thread(target=load, args=(server.port, path, stop, got, 10.0)) for _ in range(2)]
        for client in clients:
            client.start()
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        idle.recv(4096)
        partial = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.1 * round_)  # from at once to mid-load
        os.killpg(server.proc.pid, signal.SIGINT)
        try:
            code = server.proc.wait(timeout=STOP_BOUND)
        except subprocess.TimeoutExpired:
            pytest.fail(f"round {round_}: hongmao serve did not stop within {STOP_BOUND} s of Ctrl-C")
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=10)
            idle.close()
            partial.close()
        log = server.log.read_text(encoding="utf-8")
        assert code == 0, f"round {round_}: exit code {code}\n{log}"
        assert "Unexpected exit" not in log and "Traceback" not in log, f"round {round_}:\n{log}"
        deadline = time.monotonic() + STOP_BOUND
        while group_members(server.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not group_members(server.proc.pid), f"round {round_}: a process of the server outlived it"
        answered += got
    # A graceful stop folds what its workers logged: every answered click is in the lake, once.
    in_lake = lake_clicks(data)
    assert len(in_lake) == len(set(in_lake)), "a click was stored twice"
    assert set(answered) <= set(in_lake), f"{len(set(answered) - set(in_lake))} answered clicks are not in the lake"
    assert not list((data / "clicks").glob("clicks-*.log"))


def test_workers_leave_ctrl_c_to_the_main_process(tmp_path: Path, servers: list[Server]) -> None:
    """The mechanism: the workers ignore SIGINT (from birth, and again once Granian's loop is set up); the main
    process catches it and stops them with one SIGTERM each."""
    server = Server(tmp_path / "lake", free_port(), 2)
    servers.append(server)
    deadline = time.monotonic() + 30
    while len(workers_of(server.proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = workers_of(server.proc.pid)
    assert len(workers) == 2

    def deaf(worker: int) -> bool:  # set up (it catches SIGTERM, Granian's loop handler) and ignoring SIGINT
        ignored, caught = signal_sets(worker)
        return signal.SIGTERM in caught and signal.SIGINT in ignored and signal.SIGINT not in caught

    while not all(deaf(worker) for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(deaf(worker) for worker in workers), [signal_sets(worker) for worker in workers]
    ignored, caught = signal_sets(server.proc.pid)
    assert signal.SIGINT in caught and signal.SIGINT not in ignored, "the main process must take Ctrl-C"
    server.stop()
