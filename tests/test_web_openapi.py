"""The API keeps to its own OpenAPI document: every status it answers is documented, every body matches its
schema and content type, every error has the one ``Error`` shape, and nothing answers 5xx.

Schemathesis generates requests from ``/openapi.json`` (valid and invalid ones) and sends them to the
in-process app, once with an operator's key and once with a brand's; a bounded number of examples per
operation keeps the run near a minute. The first tests pin the error shape on the cases a fuzzer reaches
only by luck: unknown routes, 405 with ``Allow``, 401, bodies that are not JSON or too large.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import event
from webkit import Client, Site, lake_copy, running_site

ME = "lumiere"
#: Examples per operation and key. Each distinct valid report request runs attribution models over the lake,
#: so the two report operations that take a model list or any grouping get fewer.
MAX_EXAMPLES = 15
EXAMPLES = {"/api/v1/reports/compare": 6, "/api/v1/reports/attribution": 10}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Seconds a request may take before it counts as failed; the first report of each grouping computes models.
TIMEOUT = 60


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    lake = lake_copy(tmp_path_factory.mktemp("web-openapi") / "lake")
    with running_site(lake) as s:
        yield s


@pytest.fixture(scope="module")
def document(site: Site) -> dict[str, Any]:
    with site.client() as c:
        doc: dict[str, Any] = c.get("/openapi.json").json()
    return doc


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message", "problems"}, body
    assert body["error"]["status"] == status and body["error"]["message"]
    return body["error"]


def test_every_error_has_the_one_documented_shape(site: Site, document: dict[str, Any]) -> None:
    assert set(document["components"]["schemas"]["Error"]["properties"]) == {"error"}
    assert "HTTPValidationError" not in document["components"]["schemas"]  # FastAPI's own 422 body is never sent
    with site.client() as anonymous:
        e = _error(anonymous.get("/api/v1/reports/overview"), 401)
        assert e["code"] == "unauthorized"
        assert anonymous.get("/api/v1/me").headers["www-authenticate"] == "Bearer"
        assert _error(anonymous.get("/api/v1/nowhere"), 404)["code"] == "not_found"
    with site.client(site.keys[ME]) as c:
        invalid = _error(c.get("/api/v1/orders", params={"limit": "0"}), 422)
        assert invalid["code"] == "invalid_request" and invalid["problems"][0]["field"] == "query.limit"
        assert _error(c.get("/api/v1/reports/overview", params={"model": "nope"}), 422)["problems"] == []
        assert _error(c.get("/api/v1/notes/nope"), 404)["message"] == "no note 'nope'"
        assert _error(c.get("/api/v1/keys"), 403)["code"] == "forbidden"
        assert _error(c.get("/api/v1/notes", params={"brand": "beibei"}), 403)
        not_json = c.post("/api/v1/links", content=b"{", headers={"content-type": "application/json"})
        assert _error(not_json, 400)["code"] == "bad_request"
        assert _error(c.post("/api/v1/events", content=b"{"), 400)
        # 405 names every method of the path, not only the first route's (GET and POST are two routes here).
        wrong = c.request("DELETE", "/api/v1/links")
        assert _error(wrong, 405)["code"] == "method_not_allowed"
        assert {m.strip() for m in wrong.headers["allow"].split(",")} >= {"GET", "POST"}


def test_a_body_over_its_limit_is_413_before_it_is_read(site: Site) -> None:
    big = b"[" + b" " * (1 << 20) + b"]"
    with site.client(site.keys[ME]) as c:
        e = _error(c.post("/api/v1/links", content=big, headers={"content-type": "application/json"}), 413)
        assert e["code"] == "payload_too_large"

        async def chunks() -> Any:  # no Content-Length: the bytes are counted as they come
            for _ in range(20):
                yield b" " * (100 << 10)

        _error(c.post("/api/v1/keys", content=chunks(), headers={"content-type": "application/json"}), 413)
        batch = c.post("/api/v1/events", content=b"[" + b" " * (2 << 20) + b"]")
        assert batch.status_code == 200  # an event batch may be 16 MiB
    form = Client(site.server)
    try:
        _error(form.request("POST", "/console/login", content=big), 413)
    finally:
        form.close()


def test_an_unexpected_error_is_a_500_that_tells_nothing(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret detail: /srv/hongmao/catalog.sqlite password=hunter2")

    monkeypatch.setattr(site.state.reports, "funnel", broken)
    client = Client(site.server, site.keys[ME], raise_app_exceptions=False)  # as a real server answers
    try:
        e = _error(client.get("/api/v1/reports/funnel"), 500)
        assert e["code"] == "internal_error" and "incident" in e["message"]
        assert "secret" not in e["message"] and "RuntimeError" not in e["message"]
    finally:
        client.close()


def _without_lifespan(app: Any) -> Any:
    """``app`` with a lifespan that does nothing: the fixture opened the lake and closes it."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await app(scope, receive, send)

    return asgi


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Site]:
    """A lake of its own: what one key's run writes (events, links, keys) is not the next run's data."""
    with running_site(lake_copy(tmp_path / "lake")) as s:
        yield s


def _my_ids(site: Site) -> dict[str, str]:
    """One id of each kind that both keys may see, so the operations on one entity answer 200 too."""
    from hongmao.reports.scope import Scope
    from hongmao.web import linkviews

    owns = site.state.reports.ownership(Scope(ME))
    ids = {f"{kind[:-1]}_id": sorted(getattr(owns, kind))[0] for kind in ("notes", "items", "orders", "campaigns")}
    ids["creator_id"] = sorted(owns.creators)[0]
    ids["link_id"] = linkviews.list_links(site.state, Scope(ME))[0].record.link_id
    return ids  # never a key id: revoking the caller's own key would end the run


def _describe(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return str(error) + "".join("\n  - " + _describe(e).replace("\n", "\n    ") for e in error.exceptions)
    return f"{type(error).__name__}: {error}"


def _conforms(site: Site, key: str) -> list[str]:
    """Every operation's generated requests, sent with ``key``; the failures, one per operation.

    Hypothesis is driven here rather than through ``schema.parametrize()``: schemathesis's pytest loader for a
    fixture's schema renames the test node through ``node._nodeid``, which pytest 9.2 no longer has.
    """
    api = schemathesis.openapi.from_asgi("/openapi.json", _without_lifespan(site.server))
    ids = _my_ids(site)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 25
    # Reads first, then writes: a batch the fuzzer gets accepted changes the lake the reports are read from.
    operations.sort(key=lambda op: op.method.upper() != "GET")
    failures = []
    for operation in operations:
        strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
        known = {p.name: ids[p.name] for p in operation.path_parameters if p.name in ids}
        if known and len(known) == len(list(operation.path_parameters)):
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))

        # derandomize: the same requests every run, so a failure here is the code's, never the draw's.
        @settings(
            max_examples=EXAMPLES.get(operation.path, MAX_EXAMPLES),
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def run(case: Any) -> None:
            case.call_and_validate(headers={"authorization": f"Bearer {key}"}, checks=CHECKS, timeout=TIMEOUT)

        try:
            run()
        except BaseException as error:  # every operation is tried; all their failures are reported together
            if not isinstance(error, Exception | BaseExceptionGroup):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {_describe(error)}")
    return failures


def test_the_api_keeps_to_its_document_for_an_operator(fresh: Site) -> None:
    failures = _conforms(fresh, fresh.operator)
    assert not failures, "\n\n".join(failures)


def test_the_api_keeps_to_its_document_for_a_brand(fresh: Site) -> None:
    failures = _conforms(fresh, fresh.keys[ME])
    assert not failures, "\n\n".join(failures)


def test_an_absurd_amount_cannot_break_the_reports(fresh: Site) -> None:
    campaign = event("campaign.created", "2025-06-02T10:00:00+08:00", "huge-1", campaign_id="cmp-huge", brand=ME,
                     spend=1e200, start="2025-06-02T10:00:00+08:00", end="2025-06-03T10:00:00+08:00")  # fmt: skip
    with fresh.client(fresh.operator) as c:
        sent = c.post("/api/v1/events", json=[campaign]).json()
        client = Client(fresh.server, fresh.operator, raise_app_exceptions=False)
        try:
            overview = client.get("/api/v1/reports/overview")
        finally:
            client.close()
    assert sent["rejected"] == 1 or overview.status_code == 200, overview.text[:300]
