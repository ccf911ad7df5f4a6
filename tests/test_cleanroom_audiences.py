"""Audiences out of the clean room: k-withheld AIPS counts per brand, exports only the marketplace can map back,
refusals below the minimum size, tenancy, and the audit log of who asked what (with no identifier in it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aipskit import PLAN, build, person
from hongmao.cleanroom import audit, identity
from hongmao.cleanroom.audiences import (
    AudienceRefused,
    Audiences,
    map_back,
    rekey,
    rules_from_settings,
    single_party_map_back,
)
from hongmao.cleanroom.keys import PartyKeys
from hongmao.errors import ConfigError, InputError
from hongmao.measure.threshold import SUPPRESSED, party_thresholds
from webkit import Client

WEEK2 = {"from": "2025-06-08", "to": "2025-06-14"}
MATCHED = range(17)  # people 0..16 are the marketplace's customers too; 17..21 are not (or not matched)


def phone(i: int) -> str:
    return f"1380000{i:04d}"


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("aud"), PLAN, oat=4)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> tuple[PartyKeys, Path]:
    """The marketplace's keys and the measurer's identity file: market ref -> lake pseudonym (people 0..16)."""
    keys = PartyKeys.new("market")
    ref = keys.pseudonymizer("phone")
    tables = {"community": {}, "market": {ref(phone(i)): person(i) for i in MATCHED}}
    path = tmp_path_factory.mktemp("measurer") / "identity.json"
    identity.save(path, tables)
    return keys, path


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, market: tuple[PartyKeys, Path]) -> None:
    monkeypatch.setenv("HONGMAO_CLEANROOM_IDENTITY", str(market[1]))
    monkeypatch.setenv("HONGMAO_PRIVACY_K_PARTIES", "community:2,market:3")
    monkeypatch.setenv("HONGMAO_AUDIENCE_MIN_SIZE", "4")


@pytest.fixture
def app(env: None, lake_dir: Path, tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    import shutil

    from hongmao.web import create_app
    from hongmao.web.auth import create_key

    copy = tmp_path / "lake"
    shutil.copytree(lake_dir, copy)
    application = create_app(copy, privacy_k=4)
    lake = application.state.web.lake
    keys = {b: create_key(lake, "brand", b)[1] for b in ("Lumi", "Oat")}
    keys["operator"] = create_key(lake, "operator", label="ops")[1]
    try:
        yield application, keys
    finally:
        lake.close()


def call(app: Any, key: str, method: str, url: str) -> Any:
    c = Client(app, key)
    try:
        return c.request(method, url)
    finally:
        c.close()


def test_a_brand_sees_its_own_stages_and_flows_with_small_counts_withheld(app: tuple[Any, dict[str, str]]) -> None:
    application, keys = app
    r = call(application, keys["Lumi"], "GET", "/api/v1/audiences/aips?range=custom&from=2025-06-08&to=2025-06-14")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["brand"] == "Lumi" and body["rules"]["k"] == 4  # strictest of 4 (own), 2 and 3 (parties)
    at = {row["stage"]: row["at"] for row in body["stages"]}
    # A (0) and S (3) are under k; P (7) is withheld too, or reached P (10) - P would give S away
    assert at == {"A": SUPPRESSED, "I": 6, "TI": 4, "P": SUPPRESSED, "S": SUPPRESSED}
    assert {row["stage"]: row["reached"] for row in body["stages"]}["P"] == 10
    # the 3 newcomers at S are the only way into S: shown, the flows would give S away, so none is shown
    assert body["flows_withheld"] and {(f["from"], f["to"]) for f in body["flows"]} == {
        ("A", "I"),
        ("I", "TI"),
        ("TI", "P"),
        ("none", "S"),
        ("P", "none"),
    }
    assert {f["people"] for f in body["flows"]} == {SUPPRESSED}
    assert body["previous"] == {"from": "2025-06-01", "to": "2025-06-07"}
    oat = call(application, keys["Oat"], "GET", "/api/v1/audiences/aips?range=custom&from=2025-06-08&to=2025-06-14")
    assert {row["stage"]: row["at"] for row in oat.json()["stages"]}["S"] == 4  # the rival's 4 sharers, only


def test_a_brand_key_cannot_ask_for_another_brand(app: tuple[Any, dict[str, str]]) -> None:
    application, keys = app
    for url in ("/api/v1/audiences/aips?brand=Oat", "/api/v1/audiences/export?stage=P&brand=Oat"):
        method = "POST" if "export" in url else "GET"
        assert call(application, keys["Lumi"], method, url).status_code == 403
    assert call(application, "", "GET", "/api/v1/audiences/aips").status_code == 401


def test_an_export_is_marketplace_refs_rekeyed_that_only_the_marketplace_maps_back(
    app: tuple[Any, dict[str, str]], market: tuple[PartyKeys, Path]
) -> None:
    application, keys = app
    url = "/api/v1/audiences/export?stage=P&reached=true&range=custom&from=2025-06-08&to=2025-06-14"
    first = call(application, keys["Lumi"], "POST", url)
    assert first.status_code == 200, first.text
    export = first.json()
    # P or deeper in week 2: people 10..19; 17..19 are not the marketplace's (matched) customers
    assert export["id_space"] == "market_refs" and export["size"] == 7 == len(export["ids"])
    customers = [phone(i) for i in range(40)]
    assert map_back(market[0], "phone", customers, export) == sorted(phone(i) for i in range(10, 17))
    # nothing in the export is a lake pseudonym or a raw ref, and a second export shares no value with the first
    raw_refs = {market[0].pseudonymizer("phone")(phone(i)) for i in range(40)}
    assert not set(export["ids"]) & (raw_refs | {person(i) for i in range(40)})
    second = call(application, keys["Lumi"], "POST", url).json()
    assert second["size"] == 7 and not set(second["ids"]) & set(export["ids"])
    # another party's keys map nothing back
    assert map_back(PartyKeys.new("market"), "phone", customers, export) == []


def test_an_export_below_the_minimum_is_refused_and_says_why(app: tuple[Any, dict[str, str]]) -> None:
    application, keys = app
    r = call(application, keys["Lumi"], "POST", "/api/v1/audiences/export?stage=S&range=custom&from=2025-06-08")
    assert r.status_code == 403
    assert "stage S: the audience has fewer than 4 people (the minimum for an export); nothing was exported" in r.text
    assert "ids" not in r.json()
    bad = call(application, keys["Lumi"], "POST", "/api/v1/audiences/export?stage=X")
    assert bad.status_code == 422 and "stage" in bad.text
    ops = call(application, keys["operator"], "POST", "/api/v1/audiences/export?stage=P")
    assert ops.status_code == 403 and "an audience belongs to one brand" in ops.text


def test_every_request_is_in_the_audit_log_without_an_identifier(app: tuple[Any, dict[str, str]]) -> None:
    application, keys = app
    call(application, keys["Lumi"], "GET", "/api/v1/audiences/aips?range=custom&from=2025-06-08&to=2025-06-14")
    call(application, keys["Lumi"], "POST", "/api/v1/audiences/export?stage=TI&range=custom&from=2025-06-08")
    call(application, keys["Lumi"], "POST", "/api/v1/audiences/export?stage=S&range=custom&from=2025-06-08")
    call(application, keys["Oat"], "GET", "/api/v1/audiences/aips")
    mine = call(application, keys["Lumi"], "GET", "/api/v1/audiences/audit").json()
    assert mine["total"] == 3 and "Oat" not in json.dumps(mine)  # a brand sees its own requests only
    r = call(application, keys["operator"], "GET", "/api/v1/audiences/audit")
    assert r.status_code == 200
    lines = r.json()["lines"]
    assert [(x["endpoint"], x["params"].get("stage"), x["outcome"][:7]) for x in lines] == [
        ("GET /api/v1/audiences/aips", None, "ok"),
        ("POST /api/v1/audiences/export", "TI", "ok"),
        ("POST /api/v1/audiences/export", "S", "refused"),
        ("GET /api/v1/audiences/aips", None, "ok"),
    ]
    assert [x["principal"]["brand"] for x in lines] == ["Lumi", "Lumi", "Lumi", "Oat"]
    assert all(x["principal"]["key_id"] for x in lines)
    text = (Path(application.state.web.data_dir) / audit.FILE).read_text(encoding="utf-8")
    assert not any(person(i) in text or phone(i) in text for i in range(40))
    assert keys["Lumi"] not in text and keys["Lumi"].split("_")[-1] not in text


def test_the_audit_log_withholds_parameters_that_carry_identifiers_or_secrets(tmp_path: Path) -> None:
    line = audit.record(
        tmp_path,
        principal={"key_id": "k1", "role": "brand", "brand": "Lumi", "secret": "s"},
        endpoint="x",
        params={"stage": "P", "user_ids": "abc", "api_key": "hm_x", "limit": 3},
    )
    assert line["params"] == {"api_key": "<withheld>", "limit": 3, "stage": "P", "user_ids": "<withheld>"}
    assert line["principal"] == {"key_id": "k1", "role": "brand", "brand": "Lumi"}
    audit.record(tmp_path, principal={}, endpoint="y", params={})
    assert [x["endpoint"] for x in audit.read(tmp_path)] == ["x", "y"]  # appended, never rewritten


def test_settings_name_a_bad_party_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    assert party_thresholds("community:50, market:100") == [50, 100]
    with pytest.raises(ConfigError, match="privacy_k_parties: 'market:lots'"):
        party_thresholds("market:lots")
    monkeypatch.setenv("HONGMAO_PRIVACY_K_PARTIES", "market:120")
    monkeypatch.setenv("HONGMAO_AUDIENCE_MIN_SIZE", "10")
    rules = rules_from_settings(50)
    assert (rules.k, rules.min_audience) == (120, 120)


def test_the_library_refuses_a_small_audience_before_any_value_is_computed(
    env: None, lake_dir: Path, market: tuple[PartyKeys, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hongmao.cleanroom import audiences as mod
    from hongmao.lake import Lake
    from hongmao.reports.scope import Scope

    called: list[str] = []
    real = mod.rekey

    def counting(salt: bytes, value: str) -> str:
        called.append(value)
        return real(salt, value)

    monkeypatch.setattr(mod, "rekey", counting)
    lake = Lake.open(lake_dir)
    try:
        svc = Audiences.from_settings(lake, privacy_k=4)
        per = svc.period_of(WEEK2)
        week1 = svc.period_of({"from": "2025-06-01", "to": "2025-06-07"})
        # week 1's buyers (people 20, 21) are not matched on the marketplace: nothing it could reach
        with pytest.raises(AudienceRefused, match="stage P: the audience has fewer than 4 people"):
            svc.export(Scope("Lumi"), week1, "p")
        assert called == []
        out = svc.export(Scope("Lumi"), per, "ti")
        assert out["size"] == 4 and sorted(called) == sorted(
            market[0].pseudonymizer("phone")(phone(i)) for i in range(6, 10)
        )
        assert json.dumps(out)  # the export is plain JSON
    finally:
        lake.close()


def test_the_cli_counts_exports_and_logs_like_the_api(
    env: None, lake_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from typer.testing import CliRunner

    from hongmao.cli.app import app as cli

    copy = tmp_path / "lake"
    shutil.copytree(lake_dir, copy)
    monkeypatch.setenv("HONGMAO_PRIVACY_K", "5")  # the strictest: parties 2 and 3; minimum export 4 -> 5
    runner = CliRunner()
    week2 = ["--data", str(copy), "--range", "custom", "--from", "2025-06-08", "--to", "2025-06-14"]
    shown = runner.invoke(cli, ["audiences", "aips", "--brand", "Lumi", "--json", *week2])
    assert shown.exit_code == 0, shown.output
    at = {row["stage"]: row["at"] for row in json.loads(shown.output)["stages"]}
    assert at == {"A": SUPPRESSED, "I": 6, "TI": SUPPRESSED, "P": 7, "S": SUPPRESSED}  # TI: 4 < k
    out = tmp_path / "ti.json"
    refused = runner.invoke(cli, ["audiences", "export", "--brand", "Lumi", "--stage", "TI", "--out", str(out), *week2])
    assert isinstance(refused.exception, AudienceRefused) and not out.exists()  # 4 < 5, the minimum
    lines = audit.read(copy)
    assert [(x["endpoint"], x["outcome"][:7]) for x in lines] == [
        ("cli audiences aips", "ok"),
        ("cli audiences export", "refused"),
    ]
    assert lines[0]["principal"]["key_id"].startswith("cli:")


def test_the_console_page_shows_a_brand_its_stages_with_small_counts_withheld(app: tuple[Any, dict[str, str]]) -> None:
    from webkit import Site, console_client

    application, keys = app
    site = Site(application, Path(application.state.web.data_dir), keys["operator"], keys)
    c = console_client(site, keys["Lumi"])
    try:
        html = c.get("/console/audiences?range=custom&from=2025-06-08&to=2025-06-14&lang=zh-CN").text
        assert "人群资产 AIPS" in html and "深度种草" in html
        row = html[html.index('data-stage="I"') :].split("</tr>")[0]
        assert ">6<" in row
        row = html[html.index('data-stage="P"') :].split("</tr>")[0]
        assert "cannot be worked out" in row and ">7<" not in row
        row = html[html.index('data-stage="S"') :].split("</tr>")[0]
        assert "fewer than 4 people" in row and ">3<" not in row
        assert c.get("/console/audiences?brand=Oat").status_code in (403, 404)
    finally:
        c.close()
    assert audit.read(application.state.web.data_dir)[-1]["endpoint"] == "GET /console/audiences"


def test_the_single_party_mode_exports_rekeyed_lake_pseudonyms(lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hongmao.identity.pseudonym import pseudonymize
    from hongmao.lake import Lake
    from hongmao.reports.scope import Scope

    monkeypatch.setenv("HONGMAO_AUDIENCE_MIN_SIZE", "4")
    lake = Lake.open(lake_dir)
    try:
        svc = Audiences.from_settings(lake, privacy_k=4)
        assert svc.identity_path is None
        out = svc.export(Scope("Lumi"), svc.period_of(WEEK2), "TI")
    finally:
        lake.close()
    salt = bytes.fromhex(out["salt"])
    assert out["id_space"] == "lake_pseudonyms" and out["ids"] == sorted(rekey(salt, person(i)) for i in range(6, 10))
    with pytest.raises(InputError, match="not a hongmao-audience/1 export of marketplace refs"):
        map_back(PartyKeys.new("market"), "phone", [], out)
    # the one party maps its own pseudonyms back (here: an export over phones it pseudonymised itself)
    key = "k" * 32
    mine = {"format": out["format"], "id_space": "lake_pseudonyms", "salt": out["salt"]}
    mine["ids"] = [rekey(salt, pseudonymize(phone(i), key, "phone")) for i in (3, 5)]
    assert single_party_map_back(key, "phone", [phone(i) for i in range(9)], mine) == [phone(3), phone(5)]
