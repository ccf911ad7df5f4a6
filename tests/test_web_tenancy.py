"""Tenancy: a brand's key tries every endpoint with another brand's ids and gets 403 or 404, never data.

The routes are read from the app itself, so an endpoint added later is covered without touching this file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from webkit import Client, Site, lake_copy, running_site

ME, OTHER = "lumiere", "beibei"
OPERATORS_ONLY = {"/api/v1/reports/platform", "/api/v1/reports/trust", "/api/v1/reports/audit", "/api/v1/keys"}
PUBLIC = {"/api/v1/schema", "/api/v1/me"}  # the contract, and the caller's own key


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("tenancy")
    lake = lake_copy(root / "lake")
    with running_site(lake) as s:
        yield s


@pytest.fixture(scope="module")
def theirs(site: Site) -> dict[str, set[str]]:
    """The other brand's ids that are not also mine (a creator may write for both)."""
    from hongmao.reports.scope import Scope

    reports = site.state.reports
    mine, other = reports.ownership(Scope(ME)), reports.ownership(Scope(OTHER))
    out = {
        kind: set(getattr(other, kind)) - set(getattr(mine, kind))
        for kind in ("notes", "items", "orders", "links", "campaigns", "creators")
    }
    from hongmao.web import linkviews

    out["links"] |= {v.record.link_id for v in linkviews.list_links(site.state, Scope(OTHER))}
    out["keys"] = {site.keys[OTHER].split("_")[1]}
    for kind, ids in out.items():
        assert ids, f"the fixture world gives {OTHER} no {kind} of its own"
    return out


def _first(ids: set[str]) -> str:
    return sorted(ids)[0]


PARAM_KINDS = {
    "note_id": "notes",
    "item_id": "items",
    "order_id": "orders",
    "link_id": "links",
    "campaign_id": "campaigns",
    "creator_id": "creators",
    "key_id": "keys",
}


def _routes(site: Site) -> list[tuple[str, str]]:
    """Every operation of the API, from the app's own OpenAPI document."""
    out = []
    for path, operations in site.server.web.openapi()["paths"].items():
        if path.startswith("/api/v1") and path not in PUBLIC:
            out += [(method.upper(), path) for method in sorted(operations)]
    assert len(out) >= 25
    return out


def _body(path: str, theirs: dict[str, set[str]]) -> Any:
    if path.endswith("/events"):
        return [
            {"id": "x-1", "type": "campaign.created", "source": "brand", "time": "2025-06-02T10:00:00+08:00",
             "data": {"campaign_id": "steal", "brand": OTHER, "spend": 1, "start": "2025-06-02T10:00:00+08:00",
                      "end": "2025-06-03T10:00:00+08:00"}},
            {"id": "x-2", "type": "market.refund", "source": "market:tmall", "time": "2025-06-09T10:00:00+08:00",
             "data": {"order_id": _first(theirs["orders"]), "amount": 1}},
        ]  # fmt: skip
    if path.endswith("/links"):
        return {"note_id": _first(theirs["notes"]), "item_id": _first(theirs["items"]), "market": "tmall"}
    if path.endswith("/keys"):
        return {"role": "brand", "brand": OTHER}
    return None


def _leaks(text: str, theirs: dict[str, set[str]], asked: str = "") -> list[str]:
    """Their ids (or their brand) in ``text``, other than those the request itself named (echoed in errors)."""
    found = []
    for kind in ("notes", "items", "orders", "links", "campaigns"):
        found += [i for i in theirs[kind] if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text) and i not in asked]
    return found + ([OTHER] if re.search(rf"\b{OTHER}\b", text) and OTHER not in asked else [])


def test_every_endpoint_with_another_brands_ids_is_403_or_404(site: Site, theirs: dict[str, set[str]]) -> None:
    seen = 0
    with site.client(site.keys[ME]) as c:
        for method, path in _routes(site):
            url = path
            for name, kind in PARAM_KINDS.items():
                url = url.replace("{" + name + "}", _first(theirs[kind]))
            assert "{" not in url, f"no test id for {path}"
            body = _body(path, theirs)
            # Asking for the other brand by name is refused outright ...
            named = c.request(method, url, params={"brand": OTHER}, json=body)
            if path.endswith("/events"):  # a batch answers per record: every one refused
                assert {r["status"] for r in named.json()["records"]} == {"rejected"}
            else:
                assert named.status_code in (403, 404), (method, url, named.status_code, named.text[:200])
            asked = url + json.dumps(body)
            assert not _leaks(named.text, theirs, asked), (method, url)
            # ... and naming the other brand's ids under my own scope finds nothing.
            plain = c.request(method, url, json=body)
            if "{" in path or (method == "POST" and not path.endswith("/events")):
                assert plain.status_code in (403, 404), (method, url, plain.status_code, plain.text[:200])
            elif path.endswith("/events"):
                assert {r["status"] for r in plain.json()["records"]} == {"rejected"}
            else:  # my own lists and reports: fine to read (operators' own pages refused), nothing of theirs in them
                assert plain.status_code in ((403,) if path in OPERATORS_ONLY else (200,)), (
                    method,
                    url,
                    plain.status_code,
                )
            assert not _leaks(plain.text, theirs, asked), (method, url)
            seen += 1
    assert seen >= 25


def test_my_own_ids_work_so_the_404s_mean_something(site: Site) -> None:
    from hongmao.reports.scope import Scope

    mine = site.state.reports.ownership(Scope(ME))
    with site.client(site.keys[ME]) as c:
        for kind, prefix in [("notes", "notes"), ("items", "items"), ("orders", "orders"), ("campaigns", "campaigns")]:
            one = sorted(getattr(mine, kind))[0]
            assert c.get(f"/api/v1/{prefix}/{one}").status_code == 200, (kind, one)


def _console(site: Site, key: str) -> Client:
    c = Client(site.server)
    signed = c.post("/console/login", data={"key": key, "next": "/console/"})
    assert signed.status_code == 303 and signed.headers["location"] == "/console/"
    return c


CONSOLE_PAGES = ["/console/", "/console/funnel", "/console/notes", "/console/notes.csv", "/console/creators",
                 "/console/creators.csv", "/console/campaigns", "/console/campaigns.csv", "/console/models",
                 "/console/links"]  # fmt: skip


def test_console_pages_refuse_another_brand(site: Site, theirs: dict[str, set[str]]) -> None:
    c = _console(site, site.keys[ME])
    try:
        for page in CONSOLE_PAGES:
            assert c.get(page, params={"brand": OTHER}).status_code == 403, page
            mine = c.get(page)
            assert mine.status_code == 200 and not _leaks(mine.text, theirs), page
        for page in ["/console/platform", "/console/keys"]:
            assert c.get(page).status_code == 403
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/links").text)
        assert csrf is not None
        link = _first(theirs["links"])
        assert c.post(f"/console/links/{link}/revoke", data={"csrf": csrf.group(1)}).status_code == 404
        made = c.post("/console/links", data={"csrf": csrf.group(1), "note_id": _first(theirs["notes"]),
                                              "item_id": _first(theirs["items"]), "market": "tmall"})  # fmt: skip
        assert made.status_code == 303 and "error=" in made.headers["location"]
    finally:
        c.close()
