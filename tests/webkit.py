"""Helpers of the web tests: a small two-brand lake, the server over it, keys, and an in-process client."""

from __future__ import annotations

import asyncio
import atexit
import functools
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

BASE = "http://127.0.0.1:8000"
HOST = "127.0.0.1:8000"
#: A desktop browser's user agent: the redirect counts clicks from scripts and headless browsers as bots.
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
SIM_MATCH_KEY = "hongmao-sim-match-key-2025"


def build_lake(root: Path, *, users: int = 300, days: int = 7) -> Path:
    """Simulate a two-brand world (lumiere, beibei), ingest it, and link its notes to the demo store."""
    import hongmao
    from hongmao.web.demo_shop.setup import link_notes_to_store

    world, lake = root / "world", root / "lake"
    hongmao.simulate(world, seed=7, users=users, days=days, brands=2)
    report = hongmao.ingest(sorted((world / "events").glob("*.jsonl")), lake)
    assert report.rejected == 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HONGMAO_LINK_HOSTS", HOST)
        link_notes_to_store(lake, HOST, BASE)
    return lake


@functools.cache
def shared_base_lake() -> Path:
    """One built lake per test process; tests work on copies (:func:`lake_copy`)."""
    root = Path(tempfile.mkdtemp(prefix="hongmao-web-"))
    atexit.register(shutil.rmtree, root, True)
    return build_lake(root)


def copy_lake(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def lake_copy(target: Path) -> Path:
    """A private copy of the shared two-brand lake at ``target``."""
    return copy_lake(shared_base_lake(), target)


class Client:
    """A synchronous face on ``httpx.AsyncClient`` over ``httpx.ASGITransport`` (in-process, cookies kept)."""

    def __init__(
        self, app: Any, key: str | None = None, *, user_agent: str = BROWSER_UA, raise_app_exceptions: bool = True
    ) -> None:
        """``raise_app_exceptions=False``: see the answer a real server sends after an unexpected error."""
        self._loop = asyncio.new_event_loop()
        headers = {"user-agent": user_agent}
        if key:
            headers["authorization"] = f"Bearer {key}"
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        self._client = httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self._loop.run_until_complete(self._client.request(method, url, **kwargs))
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """POST as a browser submits a form: posting to the sign-in form loads it first for its CSRF token,
        unless ``data`` names one. ``request("POST", ...)`` sends exactly what it is given."""
        data = kwargs.get("data")
        if url.split("?")[0].removeprefix(BASE) == "/console/login" and isinstance(data, dict) and "csrf" not in data:
            kwargs["data"] = {**data, "csrf": form_token(self.get("/console/login").text)}
        return self.request("POST", url, **kwargs)

    def follow(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET ``url`` and follow redirects on this origin only."""
        response = self.get(url, **kwargs)
        while response.status_code in (302, 303) and response.headers["location"].startswith(("/", BASE)):
            response = self.get(response.headers["location"].removeprefix(BASE))
        return response

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


def form_token(html: str) -> str:
    """The CSRF token of the (first) form on a console page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the page has no form token"
    return found.group(1)


def console_client(site: Site, key: str, next: str = "/console/") -> Client:
    """A browser signed in to the console with ``key`` (close it when done)."""
    c = Client(site.server)
    signed = c.post("/console/login", data={"key": key, "next": next})
    assert signed.status_code == 303 and signed.headers["location"] == next, signed.text
    return c


@dataclass
class Site:
    server: Any
    lake: Path
    operator: str
    keys: dict[str, str]  # brand -> key

    @property
    def state(self) -> Any:
        return self.server.state

    @contextmanager
    def client(self, key: str | None = None) -> Iterator[Client]:
        c = Client(self.server, key)
        try:
            yield c
        finally:
            c.close()

    def answer(self, key: str, url: str) -> Any:
        """``url`` asked with ``key``: a 200, its JSON (or text for CSV)."""
        with self.client(key) as c:
            r = c.get(url)
        assert r.status_code == 200, r.text
        return r.json() if "json" in r.headers["content-type"] else r.text


@contextmanager
def dp_budget(site: Site, total: float = 1000.0, per_query: float = 0.5) -> Iterator[Any]:
    """A differential-privacy budget installed on ``site`` for the block (its ledger removed after)."""
    from hongmao.cleanroom import budget as module

    found = module.Budget(site.state.data_dir, total=total, per_query=per_query)
    site.state.extras["dp_budget"] = found
    try:
        yield found
    finally:
        site.state.extras.pop("dp_budget", None)
        (site.state.data_dir / module.FILE).unlink(missing_ok=True)


#: The shared lake's two brands the DP budget tests ask as (``ME``) and check are never charged (``OTHER``).
DP_ME, DP_OTHER = "lumiere", "beibei"


def exact_answer(site: Site, path: str, **params: Any) -> Any:
    """The operator's answer for brand :data:`DP_ME`: a 200 with no noise and no charge."""
    with site.client(site.operator) as c:
        got = c.get(path, params={"brand": DP_ME, **params})
    assert got.status_code == 200, got.text
    assert "dp" not in got.json()
    return got.json()


def charged_answer(c: Client, budget: Any, path: str, **params: Any) -> Any:
    """A brand key's answer: a 200 that spent epsilon from :data:`DP_ME`'s budget (not another's), in the ledger."""
    from hongmao.cleanroom import budget as module

    before, other = budget.spent(DP_ME), budget.spent(DP_OTHER)
    got = c.get(path, params=params)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["dp"]["epsilon"] > 0 and not body["dp"]["repeated"]
    assert budget.spent(DP_ME) == pytest.approx(before + body["dp"]["epsilon"]) and budget.spent(DP_OTHER) == other
    assert module.read(budget.data_dir)[-1]["brand"] == DP_ME
    return body


@contextmanager
def running_site(lake: Path, *, privacy_k: int = 1) -> Iterator[Site]:
    from hongmao.web import DemoSettings, create_server
    from hongmao.web.auth import create_key

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HONGMAO_LINK_HOSTS", HOST)
        server = create_server(
            lake, public_url=BASE, demo=DemoSettings(match_key=SIM_MATCH_KEY), privacy_k=privacy_k, fold_every=None
        )
        try:
            state = server.state
            operator = create_key(state.lake, "operator", label="test operator")[1]
            keys = {b: create_key(state.lake, "brand", b)[1] for b in ("lumiere", "beibei")}
            yield Site(server, lake, operator, keys)
        finally:
            server.close()


class Refs(HTMLParser):
    """Every URL a page makes the browser load or go to (src, href, action, srcset, CSS url())."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("src", "href", "action", "srcset", "poster", "data", "formaction"):
                self.urls.append(value)
            if value and name == "style":
                self.urls += re.findall(r"url\(([^)]+)\)", value)


def foreign_references(html: str) -> list[str]:
    """URLs in ``html`` that point anywhere but the server's own origin."""
    parser = Refs()
    parser.feed(html)
    parser.urls += re.findall(r"url\(([^)]+)\)", html)  # CSS inside <style>
    out = []
    for url in parser.urls:
        url = url.strip("'\" ")
        if url.startswith(("data:", "#", "mailto:")) or url.startswith(BASE):
            continue
        if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith("//"):
            out.append(url)
    return out
