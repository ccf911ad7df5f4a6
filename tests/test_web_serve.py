"""``hongmao serve`` on a brand's own lake: the whole product on one origin, as it runs in production.

Several worker processes answer the console, the REST API, the API docs and the link redirect; ``/healthz`` and
``/readyz`` answer; ``/metrics`` sums every process's counters (requests by route template, clicks folded,
ingest outcomes, report cache); the JSON log lines carry no token, key or id; a trusted proxy's
``X-Forwarded-Proto`` makes the server's cookies Secure; SIGTERM stops it cleanly with every click in the lake.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hongmao.lake import Lake
from hongmao.links import create_link
from hongmao.web.auth import create_key

pytestmark = pytest.mark.slow

from test_links_server import BROWSER, HONGMAO, free_port, lake_clicks  # noqa: E402


class Served:
    def __init__(self, data: Path, *options: str) -> None:
        self.port = free_port()
        self.log = data.parent / f"serve-{self.port}.log"
        args = [HONGMAO, "serve", "--data", str(data), "--port", str(self.port), "--fold-every", "0.2", *options]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 180  # a loaded machine starts workers slowly
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hongmao serve exited: {self.log.read_text(encoding='utf-8')}")
            try:
                if self.request("/readyz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("hongmao serve did not become ready")

    def request(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers={"User-Agent": BROWSER, **(headers or {})})
            response = conn.getresponse()
            answer = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, answer
        finally:
            conn.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # the main process alone, as systemd's KillMode=mixed does
        return self.proc.wait(timeout=60)


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    data = tmp_path / "lake"
    with Lake.open(data):
        pass
    return data


@pytest.fixture
def served(lake_dir: Path) -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for server in started:
        if server.proc.poll() is None:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(timeout=30)


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_serve_answers_console_api_docs_and_links_on_one_origin_and_counts_them(
    lake_dir: Path, served: list[Served]
) -> None:
    link = create_link("note-1", "651", "tmall", data_dir=lake_dir)
    with Lake.open(lake_dir) as lake:
        key = create_key(lake, "operator", label="serve test")[1]
    server = Served(lake_dir, "--workers", "2")
    served.append(server)

    assert server.request("/healthz")[0] == 200
    assert server.request("/console/login")[0] == 200
    status, headers, page = server.request("/docs")
    assert status == 200 and b"<script>" not in page  # no inline script: the page's CSP would refuse it
    assert server.request("/api/v1/brands", headers={"Authorization": f"Bearer {key}"})[0] == 200
    assert server.request("/api/v1/brands")[0] == 401
    events = json.dumps([{"id": "x", "type": "no.such.type"}]).encode()
    status, _, answer = server.request(
        "/api/v1/events",
        "POST",
        {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        events,
    )
    assert status == 200 and json.loads(answer)["rejected"] == 1
    clicks = 0
    for _ in range(6):
        status, headers, _ = server.request(f"/l/{link.token}")
        assert status == 302 and headers["location"].startswith("https://detail.tmall.com/")
        clicks += 1

    # Every process's counters in one scrape, once the main process has folded the clicks.
    deadline = time.monotonic() + 60
    while True:
        text = server.request("/metrics")[2].decode()
        folded = _metric(text, "hongmao_clicks_folded_total")
        if folded >= clicks or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert folded == clicks
    assert _metric(text, "hongmao_http_requests_total", route="/l/{token}", status="302") == clicks
    assert _metric(text, "hongmao_http_requests_total", route="/api/v1/brands", status="401") == 1
    assert _metric(text, "hongmao_ingest_records_total", outcome="rejected") == 1
    assert _metric(text, "hongmao_http_request_seconds_count", route="/console/login") == 1
    assert link.token not in text and key not in text

    assert server.stop() == 0
    assert len(lake_clicks(lake_dir)) == clicks  # every answered click is in the lake after a clean stop
    lines = [json.loads(line) for line in server.log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("message") == "request"]
    assert {line["route"] for line in access} >= {"/l/{token}", "/api/v1/brands", "/docs", "/readyz"}
    logged = server.log.read_text(encoding="utf-8")
    assert link.token not in logged and key not in logged and "note-1" not in logged


def test_a_trusted_proxys_https_makes_cookies_secure_and_an_untrusted_ones_does_not(
    lake_dir: Path, served: list[Served]
) -> None:
    server = Served(lake_dir, "--workers", "1", "--forwarded-allow-ips", "127.0.0.1")
    served.append(server)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    cookie = server.request("/console/login", headers=forwarded)[1].get("set-cookie", "")
    assert "secure" in cookie.lower()
    plain = server.request("/console/login")[1].get("set-cookie", "")
    assert plain and "secure" not in plain.lower()
    server.stop()

    untrusted = Served(lake_dir, "--workers", "1")  # no trusted proxy: the header is anyone's to send
    served.append(untrusted)
    cookie = untrusted.request("/console/login", headers=forwarded)[1].get("set-cookie", "")
    assert cookie and "secure" not in cookie.lower()


def test_readyz_fails_when_the_lake_goes_away_and_healthz_does_not(tmp_path: Path) -> None:
    from hongmao.web import create_app
    from webkit import Client

    data = tmp_path / "lake"
    app = create_app(data)
    client = Client(app)
    try:
        assert client.get("/readyz").status_code == 200
        (data / "segments").rename(data / "unmounted")  # the volume went away under the server
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
        (data / "unmounted").rename(data / "segments")
        assert client.get("/readyz").status_code == 200
        app.state.web.lake.close()  # the catalog's engine gone
        assert client.get("/readyz").status_code == 503
    finally:
        client.close()
