"""Settlement over the API and in the console: statements (JSON and CSV, the operator's, a brand's and one
creator's own), payouts, holds and ROI guarantees, with tenancy checked on every read and every write: a brand
key naming another brand's program, contract, campaign or creator gets 403 or 404 and changes nothing."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from hongmao.reports.scope import Scope
from simkit import small_world
from webkit import Site, console_client, copy_lake, running_site

ME, OTHER = "lumiere", "beibei"
THROUGH = "2025-07-31T00:00:00+00:00"


def program(pid: str, brand: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"program_id": pid, "credit": "linear", "hold_days": 1, "terms": [{"rate": 0.1}]}
    if brand is not None:
        body["brand"] = brand
    return body


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # The simulation tests' world (1,500 people, 16 days, 3 brands): both brands' creators earn commissions.
    lake = copy_lake(small_world(tmp_path_factory)[1], tmp_path_factory.mktemp("web-settle") / "lake")
    with running_site(lake) as s:
        yield s


@pytest.fixture(scope="module")
def settled(site: Site) -> dict[str, Any]:
    """Both brands' programs, settled by each brand's own key, then the operator's view of everything."""
    out: dict[str, Any] = {}
    with site.client(site.operator) as c:
        for brand in (ME, OTHER):
            made = c.post("/api/v1/settle/programs", json=program(f"p-{brand}", brand))
            assert made.status_code == 201, made.text
            # An operator's run in one brand's view settles that brand's programs only.
            run = c.post("/api/v1/settle/runs", json={"through": THROUGH}, params={"brand": brand})
            assert run.status_code == 200, run.text
            assert run.json()["programs"] == 1
            out[brand] = run.json()
        assert c.post("/api/v1/settle/programs", json=program("p-nobody", None)).status_code == 422
        out["all"] = c.get("/api/v1/settle/statements").json()["rows"]
    assert {r["brand"] for r in out["all"]} == {ME, OTHER}
    return out


def creators_of(rows: list[dict[str, str]], brand: str) -> set[str]:
    return {r["creator_id"] for r in rows if r["brand"] == brand}


def test_statements_are_scoped_and_the_csv_says_what_the_json_says(site: Site, settled: dict[str, Any]) -> None:
    with site.client(site.keys[ME]) as c:
        mine = c.get("/api/v1/settle/statements").json()
        assert mine["rows"] and {r["brand"] for r in mine["rows"]} == {ME}
        assert mine["rows"] == [r for r in settled["all"] if r["brand"] == ME]
        assert c.get("/api/v1/settle/statements", params={"brand": OTHER}).status_code == 403
        response = c.get("/api/v1/settle/statements", params={"format": "csv"})
        assert response.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [r["creator_id"] for r in table] == [r["creator_id"] for r in mine["rows"]]
        assert sum(Decimal(r["earned"]) for r in table) == sum(Decimal(r["earned"]) for r in mine["rows"]) > 0
        # One creator's own statement: the same lines as the brand's, for that creator only.
        creator = mine["rows"][0]["creator_id"]
        own = c.get(f"/api/v1/settle/creators/{creator}/statements").json()["rows"]
        assert own == [r for r in mine["rows"] if r["creator_id"] == creator]
        assert c.get("/api/v1/settle/statements", params={"period": "July"}).status_code == 422


def test_a_brand_key_cannot_read_or_act_on_another_brands_ids(site: Site, settled: dict[str, Any]) -> None:
    theirs = sorted(creators_of(settled["all"], OTHER) - creators_of(settled["all"], ME))
    assert theirs, "the fixture world gives the other brand no creator of its own"
    before = [r for r in settled["all"] if r["brand"] == OTHER]
    with site.client(site.keys[ME]) as c:
        # Reads: another brand's creator is not found.
        assert c.get(f"/api/v1/settle/creators/{theirs[0]}/statements").status_code == 404
        # Writes: programs, runs, payouts and hold decisions are the operators' (403); a contract on another
        # brand's campaign is not found (404), one naming another brand is refused (403).
        assert c.post("/api/v1/settle/programs", json=program("p-hijack", OTHER)).status_code == 403
        assert c.post("/api/v1/settle/programs", json=program("p-mine", ME)).status_code == 403
        decision = {"action": "void", "reason": "not mine to void"}
        assert c.post(f"/api/v1/settle/creators/{theirs[0]}/decisions", json=decision).status_code == 403
        rival_campaign = sorted(site.state.reports.ownership(Scope(OTHER)).campaigns)[0]
        my_campaign = sorted(site.state.reports.ownership(Scope(ME)).campaigns)[0]
        contract = {"guarantee_id": "g-hijack", "target_roi": 2, "share": 0.5}
        assert c.post(f"/api/v1/settle/campaigns/{rival_campaign}/guarantees", json=contract).status_code == 404
        named = {**contract, "brand": OTHER}
        assert c.post(f"/api/v1/settle/campaigns/{my_campaign}/guarantees", json=named).status_code == 403
        settle_theirs = {"guarantee_id": "g-hijack"}
        assert (
            c.post(f"/api/v1/settle/campaigns/{rival_campaign}/guarantees/settle", json=settle_theirs).status_code
            == 404
        )
        assert c.get(f"/api/v1/settle/campaigns/{rival_campaign}/guarantees").status_code == 404
        assert c.post("/api/v1/settle/runs", json={"through": THROUGH}).status_code == 403
        assert c.post("/api/v1/settle/payouts", json={"period": "2025-07"}).status_code == 403
    with site.client(site.operator) as c:
        # The operator looking at one brand cannot decide on another brand's creator either.
        decided = c.post(f"/api/v1/settle/creators/{theirs[0]}/decisions", json=decision, params={"brand": ME})
        assert decided.status_code == 404
    with site.client(site.keys[OTHER]) as c:
        assert c.get("/api/v1/settle/statements").json()["rows"] == before  # nothing moved
        assert [p["program_id"] for p in c.get("/api/v1/settle/programs").json()["programs"]] == [f"p-{OTHER}"]


def test_guarantees_over_the_api_are_the_brands_own(site: Site, settled: dict[str, Any]) -> None:
    campaign = sorted(site.state.reports.ownership(Scope(ME)).campaigns)[0]
    contract = {"guarantee_id": "g-web", "target_roi": 2, "share": 0.5}
    contract.update({"x_days": 0, "measure": "attributed", "spend": 1000})
    url = f"/api/v1/settle/campaigns/{campaign}/guarantees"
    with site.client(site.keys[ME]) as c:
        made = c.post(url, json=contract)
        assert made.status_code == 201, made.text
        assert made.json()["guarantee"]["brand"] == ME
        assert c.post(url, json={**contract, "share": 0.9}).status_code == 422
        listed = c.get("/api/v1/settle/guarantees").json()["guarantees"]
        assert [g["guarantee_id"] for g in listed] == ["g-web"] and listed[0]["due"]
        assert c.get(url).json()["guarantees"] == listed
        bad = c.post(url, json={**contract, "guarantee_id": "g2", "target_roi": -1})
        assert bad.status_code == 422 and "target_roi" in bad.json()["error"]["message"]
    with site.client(site.keys[OTHER]) as c:
        assert c.get(url).status_code == 404
        assert c.post(f"{url}/settle", json={"guarantee_id": "g-web"}).status_code == 404
        assert c.get("/api/v1/settle/guarantees").json()["guarantees"] == []
    with site.client(site.operator) as c:
        assert [g["brand"] for g in c.get(url).json()["guarantees"]] == [ME]
    # Settled at its due date by the brand: the statement, once; the console shows it with its reasons.
    with site.client(site.keys[ME]) as c:
        due = listed[0]["due"]
        early = c.post(f"{url}/settle", json={"guarantee_id": "g-web", "at": "2025-01-01T00:00:00+00:00"})
        assert early.status_code == 422 and "not due until" in early.json()["error"]["message"]
        assert c.post(f"{url}/settle", json={"guarantee_id": "nope"}).status_code == 404
        done = c.post(f"{url}/settle", json={"guarantee_id": "g-web", "at": due})
        assert done.status_code == 200, done.text
        statement = done.json()
        assert statement["new"] and statement["measure"] == "attributed" and statement["owed"]
        again = c.post(f"{url}/settle", json={"guarantee_id": "g-web", "at": due}).json()
        assert not again["new"] and again["owed"] == statement["owed"] and again["why"] == statement["why"]
        # What it owes the brand is one append-only entry; settling again on the same lake added none.
        assert [(e["seq"], e["kind"], e["amount"]) for e in again["entries"]] == [(0, "settle", statement["owed"])]
        (row,) = [g for g in c.get("/api/v1/settle/guarantees").json()["guarantees"] if g["guarantee_id"] == "g-web"]
        assert row["settlement"]["entries"] == again["entries"]
    c = console_client(site, site.keys[ME])
    try:
        page = c.get("/console/guarantees")
        assert page.status_code == 200 and "效果对赌结算" in page.text
        assert f"<b>{statement['owed']}</b>" in page.text and statement["measured_roi"] in page.text
        entries = page.text.split('id="entries-g-web"')[1].split("</table>")[0]
        assert 'data-seq="0"' in entries and "T+x 结算" in entries and 'data-seq="1"' not in entries
    finally:
        c.close()


def test_a_payout_pays_once_and_the_statement_shows_it(site: Site, settled: dict[str, Any]) -> None:
    with site.client(site.operator) as c:
        first = c.post("/api/v1/settle/payouts", json={"period": "2025-07"}, params={"brand": ME})
        assert first.status_code == 200, first.text
        assert first.json()["rows"] and {r["brand"] for r in first.json()["rows"]} == {ME}
        again = c.post("/api/v1/settle/payouts", json={"period": "2025-07"}, params={"brand": ME, "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(again.content.decode("utf-8-sig"))))
        assert [dict(r) for r in rows] == first.json()["rows"]  # the same file, nothing paid twice
        paid = sum(Decimal(r["amount"]) for r in rows)
    with site.client(site.keys[ME]) as c:
        lines = c.get("/api/v1/settle/statements", params={"period": "2025-07"}).json()["rows"]
        assert sum(Decimal(r["paid"]) for r in lines) == paid


def test_the_console_shows_statements_and_guarantees_in_both_languages(site: Site, settled: dict[str, Any]) -> None:
    c = console_client(site, site.keys[ME])
    try:
        page = c.get("/console/settle")
        assert page.status_code == 200 and "博主佣金对账单" in page.text
        assert OTHER not in page.text.split("<main>")[1].split('id="statements"')[1]
        creator = sorted(creators_of(settled["all"], ME))[0]
        own = c.get("/console/settle", params={"creator": creator})
        assert own.status_code == 200 and creator in own.text
        theirs = sorted(creators_of(settled["all"], OTHER) - creators_of(settled["all"], ME))[0]
        assert c.get("/console/settle", params={"creator": theirs}).status_code == 404
        english = c.get("/console/settle", params={"lang": "en"})
        assert "Creator commission statements" in english.text and "Earned" in english.text
        exported = c.get("/console/settle.csv")
        assert exported.content.decode("utf-8-sig").splitlines()[0].startswith("period,brand,creator_id,earned")
        assert c.get("/console/settle", params={"period": "bad"}).status_code == 422
    finally:
        c.close()
    operator = console_client(site, site.operator)
    try:
        table = operator.get("/console/settle").text.split('id="statements"')[1].split("</table>")[0]
        assert f"<td>{ME}</td>" in table and f"<td>{OTHER}</td>" in table
    finally:
        operator.close()


def test_an_incremental_guarantee_needs_the_servers_holdout_key(
    site: Site, settled: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = small_world(tmp_path_factory)[0]
    key = json.loads((world / "truth" / "world.json").read_text(encoding="utf-8"))["config"]["holdout_key"]
    campaign = "cmp-lumiere-1"
    url = f"/api/v1/settle/campaigns/{campaign}/guarantees"
    contract = {"guarantee_id": "g-inc", "target_roi": 2, "share": 0.5, "x_days": 0, "straddle": "lower"}
    with site.client(site.keys[ME]) as c:
        assert c.post(url, json=contract).status_code == 201
        due = next(g["due"] for g in c.get(url).json()["guarantees"] if g["guarantee_id"] == "g-inc")
        monkeypatch.delenv("HONGMAO_HOLDOUT_KEY", raising=False)
        monkeypatch.delenv("HONGMAO_HOLDOUT_KEY_FILE", raising=False)
        missing = c.post(f"{url}/settle", json={"guarantee_id": "g-inc", "at": due})
        assert missing.status_code == 409 and "holdout key" in missing.json()["error"]["message"]
        monkeypatch.setenv("HONGMAO_HOLDOUT_KEY", key)
        done = c.post(f"{url}/settle", json={"guarantee_id": "g-inc", "at": due})
        assert done.status_code == 200, done.text
        s = done.json()
        low, high = (Decimal(x) for x in s["interval"])
        assert s["measure"] == "incremental" and low <= Decimal(s["measured_roi"]) <= high
        assert s["straddles"] == (low < 2 < high)
        assert s["settled_on"] == ("lower" if s["straddles"] else "point")


def test_two_brands_may_use_one_guarantee_id_and_neither_sees_the_others(site: Site, settled: dict[str, Any]) -> None:
    mine = sorted(site.state.reports.ownership(Scope(ME)).campaigns)[0]
    theirs = sorted(site.state.reports.ownership(Scope(OTHER)).campaigns)[0]
    terms = {"x_days": 0, "measure": "attributed", "share": 0.5}
    with site.client(site.keys[OTHER]) as c:
        for gid in ("g-shared", "g-theirs-only"):
            made = c.post(
                f"/api/v1/settle/campaigns/{theirs}/guarantees",
                json={"guarantee_id": gid, **terms} | {"target_roi": 4, "spend": 3000},
            )
            assert made.status_code == 201, made.text
    with site.client(site.keys[ME]) as c:
        url = f"/api/v1/settle/campaigns/{mine}/guarantees"
        # The id the other brand used is free for this one, on other terms: nothing tells it the id was taken.
        made = c.post(url, json={"guarantee_id": "g-shared", "target_roi": 2, "spend": 1000, **terms})
        assert made.status_code == 201, made.text
        assert made.json()["guarantee"]["brand"] == ME and made.json()["guarantee"]["spend"] == 1000
        assert (
            c.post(url, json={"guarantee_id": "g-shared", "target_roi": 3, "spend": 1000, **terms}).status_code == 422
        )
        listed = [g for g in c.get("/api/v1/settle/guarantees").json()["guarantees"] if g["brand"] != ME]
        assert listed == []
        (own,) = [g for g in c.get(url).json()["guarantees"] if g["guarantee_id"] == "g-shared"]
        assert own["spend"] == "1000.00" and Decimal(own["target_roi"]) == 2
        # Another brand's id answers exactly as an id nobody has.
        rival = c.post(f"{url}/settle", json={"guarantee_id": "g-theirs-only", "at": own["due"]})
        missing = c.post(f"{url}/settle", json={"guarantee_id": "g-nobody-has", "at": own["due"]})
        assert rival.status_code == missing.status_code == 404
        assert rival.json() == json.loads(missing.text.replace("g-nobody-has", "g-theirs-only"))
        done = c.post(f"{url}/settle", json={"guarantee_id": "g-shared", "at": own["due"]})
        assert done.status_code == 200, done.text
        statement = done.json()
        assert statement["new"] and statement["brand"] == ME and statement["spend"] == "1000.00"
    # Settling one brand's g-shared left the other's untouched; the operator settles it through its campaign.
    with site.client(site.keys[OTHER]) as c:
        (other,) = [
            g for g in c.get("/api/v1/settle/guarantees").json()["guarantees"] if g["guarantee_id"] == "g-shared"
        ]
        assert other["brand"] == OTHER and other["settlement"] is None and other["owed"] is None
    with site.client(site.operator) as c:
        both = [g for g in c.get("/api/v1/settle/guarantees").json()["guarantees"] if g["guarantee_id"] == "g-shared"]
        assert sorted(g["brand"] for g in both) == sorted([ME, OTHER])
        body = {"guarantee_id": "g-shared", "at": other["due"]}
        theirs_done = c.post(f"/api/v1/settle/campaigns/{theirs}/guarantees/settle", json=body)
        assert theirs_done.status_code == 200, theirs_done.text
        s = theirs_done.json()
        assert s["new"] and s["brand"] == OTHER and s["spend"] == "3000.00" and Decimal(s["target_roi"]) == 4
    with site.client(site.keys[ME]) as c:
        again = c.post(f"{url}/settle", json={"guarantee_id": "g-shared", "at": own["due"]}).json()
        assert not again["new"] and again["owed"] == statement["owed"] and again["spend"] == "1000.00"
