"""The real server: ``hongmao serve`` as a subprocess on a loopback port, killed with SIGKILL mid-load.

Every click that got its 302 must be in the lake exactly once after a restart: the 302 is sent only after the
click line is the kernel's, the restart folds what the dead run left in the log, and the lake de-duplicates by
the event id derived from the click id (a kill during a fold leaves lines that are folded again).
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyarrow.parquet as pq
import pytest

from hongmao.lake import Lake
from hongmao.links import create_link, revoke_link

pytestmark = pytest.mark.slow

HONGMAO = shutil.which("hongmao") or str(Path(sys.executable).with_name("hongmao"))
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
CLIENTS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, data: Path, port: int, workers: int, *options: str) -> None:
        self.log = data.parent / f"serve-{port}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    HONGMAO,
                    "serve",
                    "--data",
                    str(data),
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--fold-every",
                    "0.2",
                    *options,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill takes the workers too
            )
        self.port = port
        deadline = time.monotonic() + 120  # generous: a loaded machine starts workers slowly
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hongmao serve exited: {self.log.read_text(encoding='utf-8')}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError("hongmao serve did not answer within 30 s")

    def get(self, path: str, method: str = "GET") -> tuple[int, str | None]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(method, path, headers={"User-Agent": BROWSER})
            response = conn.getresponse()
            response.read()
            return response.status, response.getheader("location")
        finally:
            conn.close()

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM to the main process alone, as a service manager sends it (systemd's ``KillMode=mixed``,
        docs/deploy.md): the main process stops its workers. SIGTERM to the whole group reaches each worker twice,
        and Granian reports a worker that stopped on its own signal as an unexpected exit (exit status 1)."""
        os.kill(self.proc.pid, signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0, self.log.read_text(encoding="utf-8")


def click_id(location: str) -> str:
    return parse_qs(urlsplit(location).query)["hm_click"][0]


def load(port: int, path: str, stop: threading.Event, answered: list[str], limit: float) -> None:
    """Keep-alive GETs until ``stop`` or the server dies; records the click id of every 302 received."""
    deadline = time.monotonic() + limit
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            conn.request("GET", path, headers={"User-Agent": BROWSER})
            response = conn.getresponse()
            response.read()
            if response.status == 302:
                answered.append(click_id(response.getheader("location") or ""))
    except (OSError, http.client.HTTPException):
        pass  # the server was killed under us
    finally:
        conn.close()


def lake_clicks(data: Path) -> list[str]:
    with Lake.open(data) as lake:
        ids: list[str] = []
        for path in lake.segment_paths():
            table = pq.read_table(path, columns=["type", "click_id"])
            ids += [
                c
                for t, c in zip(table["type"].to_pylist(), table["click_id"].to_pylist(), strict=True)
                if t == "link.click"
            ]
        return ids


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.proc.poll() is None:
            server.kill()


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_mid_load_loses_no_answered_click_and_counts_none_twice(
    tmp_path: Path, servers: list[Server], workers: int
) -> None:
    data = tmp_path / "lake"
    link = create_link("note-1", "651", "tmall", data_dir=data)
    path = f"/l/{link.token}"
    answered: list[str] = []
    rng = random.Random(workers)
    for _round in range(2):
        server = Server(data, free_port(), workers)
        servers.append(server)
        stop = threading.Event()
        clients = [
            threading.Thread(target=load, args=(server.port, path, stop, answered, 10.0)) for _ in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        time.sleep(rng.uniform(0.8, 1.6))  # mid-load, and most likely mid-fold (every 0.2 s)
        before = len(answered)
        server.kill()
        stop.set()
        for client in clients:
            client.join(timeout=10)
        assert before > 50, "the load did not get going before the kill"
    server = Server(data, free_port(), workers)  # serves at once; folds what the dead runs left meanwhile
    servers.append(server)
    deadline = time.monotonic() + 30
    while True:
        in_lake = lake_clicks(data)
        missing = set(answered) - set(in_lake)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not missing, f"{len(missing)} of {len(answered)} answered clicks are not in the lake after 30 s"
    assert len(in_lake) == len(set(in_lake)), "a click was stored twice"
    # Clicks whose 302 never arrived (killed in flight) may be in the lake too: logged first, answered second.
    assert len(in_lake) - len(answered) <= CLIENTS * 2 * 2
    # It serves again, HEAD counts nothing, and a graceful stop folds the rest.
    status, location = server.get(path)
    assert status == 302 and location is not None
    assert server.get(path, "HEAD")[0] == 302
    server.stop()
    final = lake_clicks(data)
    assert click_id(location) in final and len(final) == len(in_lake) + 1 == len(set(final))
    assert not list((data / "clicks").glob("clicks-*.log"))


def test_revocation_and_share_codes_on_the_real_server(tmp_path: Path, servers: list[Server]) -> None:
    data = tmp_path / "lake"
    link = create_link("note-1", "600123", "taobao", data_dir=data)
    server = Server(data, free_port(), 1)
    servers.append(server)
    assert server.get(f"/c/{link.share_code.lower()}")[0] == 302
    revoke_link(link.link_id, data_dir=data)
    # The server polls every second; the bound is generous so that a loaded machine cannot fail it.
    deadline = time.monotonic() + 30
    while server.get(f"/l/{link.token}")[0] != 410:
        assert time.monotonic() < deadline, "the revocation did not reach the server within 30 s"
        time.sleep(0.1)
    assert server.get(f"/c/{link.share_code}")[0] == 410
    server.stop()
    assert len(lake_clicks(data)) >= 2


def closed_within(sock: socket.socket, seconds: float, drip: bytes = b"") -> bool:
    """True if the server closes ``sock`` within ``seconds``; meanwhile ``drip`` is sent every 0.2 s."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if drip:
                sock.sendall(drip)
            if sock.recv(4096) == b"":
                return True
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def test_a_slow_header_sender_is_cut_off(tmp_path: Path, servers: list[Server]) -> None:
    server = Server(tmp_path / "lake", free_port(), 1, "--header-timeout", "1")
    servers.append(server)
    address = ("127.0.0.1", server.port)
    with socket.create_connection(address, timeout=5) as dripping, socket.create_connection(address, timeout=5) as idle:
        # A header line growing by a byte every 0.2 s, never ending in the blank line: hours of a worker's
        # connection slot if nothing cut it off. Bounds are generous; only the order of magnitude is asserted.
        dripping.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert closed_within(dripping, 15, drip=b"x"), "a dripping header was not cut off within 15 s"
        assert closed_within(idle, 15), "a connection that sent nothing was not closed within 15 s"
    assert server.get("/healthz")[0] == 200  # and it serves the rest as before
    server.stop()


def test_the_header_and_stop_timeouts_default_to_ten_and_five_seconds(tmp_path: Path) -> None:
    from hongmao.links.server import ServeConfig, granian_server

    server = granian_server(ServeConfig(data_dir=str(tmp_path)))
    assert server.http1_settings is not None and server.http1_settings.header_read_timeout == 10_000
    assert server.workers_kill_timeout == 5
    server = granian_server(ServeConfig(data_dir=str(tmp_path), header_timeout=2.5, stop_timeout=2))
    assert server.http1_settings is not None and server.http1_settings.header_read_timeout == 2_500
    assert server.workers_kill_timeout == 2
