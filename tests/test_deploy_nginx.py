"""docs/deploy.md's nginx configuration, run: nginx in front of ``hongmao serve``, as the document says.

The ``nginx`` block is read from the document itself (so what is published is what is tested), with only its
ports and the scraper's allowed address changed. nginx comes from Debian (installed here when missing and
running as root, as Chromium is for the browser test).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from debkit import apt_install
from hongmao.lake import Lake
from hongmao.links import create_link
from hongmao.web.auth import create_key
from test_links_server import free_port, lake_clicks
from test_web_serve import Served

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("nginx is not installed and this is not root on Debian to install it")
    apt_install("nginx")
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        pytest.skip("apt-get did not install nginx")
    return found


def documented_config() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/deploy.md holds one nginx block"
    return blocks[0]


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[dict[str, object]]:
    nginx = _nginx()
    data = tmp_path / "lake"
    link = create_link("note-1", "651", "tmall", data_dir=data)
    with Lake.open(data) as lake:
        key = create_key(lake, "operator", label="nginx test")[1]
    server = Served(data, "--workers", "1", "--forwarded-allow-ips", "127.0.0.1")
    port = free_port()
    site = documented_config()
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{server.port};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("allow 127.0.0.1;", "allow 192.0.2.1;")  # the scraper is elsewhere: this client is outside
    run = tmp_path / "nginx"
    run.mkdir()
    conf = run / "nginx.conf"
    conf.write_text(
        f"pid {run}/nginx.pid;\nerror_log {run}/error.log;\nevents {{}}\nhttp {{\n"
        f"access_log {run}/access.log;\nclient_body_temp_path {run}/body;\nproxy_temp_path {run}/proxy;\n"
        f"fastcgi_temp_path {run}/fastcgi;\nuwsgi_temp_path {run}/uwsgi;\nscgi_temp_path {run}/scgi;\n"
        f"{site}\n}}\n",
        encoding="utf-8",
    )
    errors = run / "stderr.log"
    with open(errors, "wb") as sink:
        proc = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], stderr=sink)
    try:
        front = Served.__new__(Served)
        front.port = port
        deadline = time.monotonic() + 30
        while True:
            try:
                if front.request("/healthz")[0] == 200:
                    break
            except OSError as failure:
                if proc.poll() is not None or time.monotonic() > deadline:
                    why = errors.read_text(encoding="utf-8", errors="replace")
                    raise AssertionError(f"nginx did not start: {why}") from failure
                time.sleep(0.2)
        yield {"front": front, "server": server, "link": link, "key": key, "data": data}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        server.stop()


def test_the_documented_nginx_configuration_serves_the_product(proxied: dict[str, object]) -> None:
    front = proxied["front"]
    server = proxied["server"]
    assert isinstance(front, Served) and isinstance(server, Served)
    link, key, data = proxied["link"], proxied["key"], proxied["data"]
    assert front.request("/console/login")[0] == 200
    status, _, page = front.request("/docs")
    assert status == 200 and b"swagger-ui" in page
    assert front.request("/api/v1/brands", headers={"Authorization": f"Bearer {key}"})[0] == 200
    status, headers, _ = front.request(f"/l/{link.token}")  # type: ignore[attr-defined]
    assert status == 302 and headers["location"].startswith("https://detail.tmall.com/")
    assert front.request("/metrics")[0] == 403  # outside the scraper's network
    assert server.request("/metrics")[0] == 200  # the scraper, straight to the server
    assert server.stop() == 0
    assert len(lake_clicks(data)) == 1  # type: ignore[arg-type]
