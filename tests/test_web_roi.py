"""One ROI story and creator economics, in the API and the console, each figure checked against a calculation
made another way: spend and fees from the raw brand records, credit from the attribution endpoint, the lift
from the engine called directly with the CLI's window."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from webkit import Site, console_client, lake_copy, running_site, shared_base_lake

#: Each ROI the product shows and the message keys that name it: one label per ROI, never one for two.
ROI_LABELS = {
    "brand attributed (all notes / all campaigns' spend)": ("kpi.roi", "col.brand_roi"),
    "campaign attributed": ("col.attributed_roi", "roi.attributed"),
    "campaign attributed over T+x": ("roi.at_cycle",),
    "campaign incremental": ("roi.incremental",),
    "attributed on fees": ("col.fee_attributed_roi",),
    "incremental on fees (shared)": ("col.fee_incremental_roi",),
}


def raw_brand_records(kind: str) -> list[dict[str, Any]]:
    """The simulated world's own brand records of ``kind`` (what was ingested), read without the lake."""
    path = shared_base_lake().parent / "world" / "events" / "brand.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["data"] for r in rows if r["type"] == kind]


def holdout_key() -> str:
    world = shared_base_lake().parent / "world" / "truth" / "world.json"
    key: str = json.loads(world.read_text(encoding="utf-8"))["config"]["holdout_key"]
    return key


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("roi")
    lake = lake_copy(root / "lake")  # no world beside it: the key comes from the settings, as in production
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HONGMAO_HOLDOUT_KEY", holdout_key())
        with running_site(lake) as s:
            yield s


@pytest.fixture(scope="module")
def story(site: Site) -> dict[str, Any]:
    with site.client(site.keys["lumiere"]) as c:
        out: dict[str, Any] = c.get("/api/v1/reports/campaign-roi").json()
        return out


def test_the_three_campaign_rois_match_their_independent_calculations(site: Site, story: dict[str, Any]) -> None:
    from hongmao import api
    from hongmao.engine.campaign import campaign_lift

    spend = {c["campaign_id"]: c["spend"] for c in raw_brand_records("campaign.created")}
    with site.client(site.keys["lumiere"]) as c:
        credit = {r["key"]: r for r in c.get("/api/v1/reports/attribution", params={"by": "campaign"}).json()["rows"]}
    assert [c["campaign_id"] for c in story["campaigns"]] == ["cmp-lumiere-1"]
    for row in story["campaigns"]:
        cid = row["campaign_id"]
        assert row["spend"] == spend[cid]
        attributed = row["attributed"]
        assert attributed["roi"] == pytest.approx(credit[cid]["net_gmv"] / spend[cid])
        at = row["at_cycle"]
        assert at["roi"] == pytest.approx(at["net_gmv"] / spend[cid])
        if at["x_from"] == "default window" and at["complete"]:  # the window holds the whole short world
            assert at["roi"] == pytest.approx(attributed["roi"])
        lift = row["incremental"]
        assert lift is not None, row["incremental_unavailable"]
        with api.engine_session(site.lake) as session:
            direct = campaign_lift(session, cid, holdout_key(), window_days=at["x_days"], min_group=1).to_dict()
        assert lift["window"]["days_after_end"] == at["x_days"]
        for metric in ("orders", "gmv", "net_gmv"):
            assert lift[metric]["estimate"] == pytest.approx(direct[f"incremental_{metric}"]["estimate"])
            assert lift[metric]["ci95"] == pytest.approx(direct[f"incremental_{metric}"]["ci95"])
        assert lift["roi"] == pytest.approx(lift["net_gmv"]["estimate"] / spend[cid])
        lo, hi = lift["roi_ci95"]
        assert lo <= lift["roi"] <= hi
        expected = "spans_zero" if lo <= 0 <= hi else "lower" if lift["roi"] < attributed["roi"] else "higher"
        assert row["why"] == expected


def test_without_a_holdout_key_the_lift_says_why(tmp_path: Path) -> None:
    from hongmao.reports.roi import holdout_key_beside

    lake = lake_copy(tmp_path / "lake")
    assert holdout_key_beside(lake) is None
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("HONGMAO_HOLDOUT_KEY", raising=False)
        mp.delenv("HONGMAO_HOLDOUT_KEY_FILE", raising=False)
        with running_site(lake) as s, s.client(s.keys["lumiere"]) as c:
            row = c.get("/api/v1/reports/campaign-roi").json()["campaigns"][0]
    assert row["incremental"] is None and "HONGMAO_HOLDOUT_KEY" in row["incremental_unavailable"]
    assert row["why"] == "no_lift" and row["attributed"]["roi"] is not None
    (tmp_path / "world" / "truth").mkdir(parents=True)
    (tmp_path / "world" / "truth" / "world.json").write_text(json.dumps({"config": {"holdout_key": holdout_key()}}))
    assert holdout_key_beside(lake) == holdout_key()  # the demo's layout: DIR/world beside DIR/lake


def test_creator_economics_match_the_raw_fees_and_the_credit(site: Site, story: dict[str, Any]) -> None:
    collabs = [c for c in raw_brand_records("collaboration.created") if c["brand"] == "lumiere"]
    fees: dict[str, float] = {}
    for c in collabs:
        fees[c["creator_id"]] = fees.get(c["creator_id"], 0.0) + c["fee"]
    with site.client(site.keys["lumiere"]) as c:
        creators = {r["creator_id"]: r for r in c.get("/api/v1/reports/economics").json()["rows"]}
        notes = {r["note_id"]: r for r in c.get("/api/v1/reports/economics", params={"by": "note"}).json()["rows"]}
        credit = {r["creator_id"]: r for r in c.get("/api/v1/creators").json()["creators"]}
        note_credit = {r["note_id"]: r for r in c.get("/api/v1/notes").json()["notes"]}
        csv = c.get("/api/v1/reports/economics", params={"format": "csv"})
    assert csv.status_code == 200 and csv.text.lstrip("\ufeff").startswith("creator_id,tier,notes,fee,")
    assert set(creators) == set(credit) and fees and set(fees) <= set(creators)
    for cid, row in creators.items():
        fee, got = fees.get(cid, 0.0), credit[cid]
        assert row["fee"] == pytest.approx(fee)
        if not fee:
            assert row["cpm"] is None and row["attributed_roi"] is None
            continue
        assert row["cpm"] == (pytest.approx(fee * 1000 / got["impressions"]) if got["impressions"] else None)
        assert row["cpe"] == (pytest.approx(fee / got["engagements"]) if got["engagements"] else None)
        assert row["cost_per_order"] == (pytest.approx(fee / got["orders"]) if got["orders"] else None)
        assert row["attributed_roi"] == pytest.approx(got["net_gmv"] / fee)
    lift = {r["campaign_id"]: r["incremental"]["net_gmv"]["estimate"] for r in story["campaigns"] if r["incremental"]}
    in_campaign: dict[str, float] = {}
    for n in note_credit.values():
        if n["campaign_id"]:
            in_campaign[n["campaign_id"]] = in_campaign.get(n["campaign_id"], 0.0) + n["net_gmv"]
    shared = 0
    for nid, row in notes.items():
        n, cmp = note_credit[nid], note_credit[nid]["campaign_id"]
        if cmp in lift and in_campaign[cmp] and row["fee"]:
            expected = lift[cmp] * n["net_gmv"] / in_campaign[cmp]
            assert row["incremental_net_gmv"] == pytest.approx(expected)
            assert row["incremental_roi"] == pytest.approx(expected / row["fee"])
            shared += 1
        elif cmp not in lift:
            assert row["incremental_roi"] is None
    assert shared > 0  # the world has paid notes inside its campaign


def test_a_brand_sees_only_its_own_campaigns_and_fees(site: Site) -> None:
    beibei_fees = sum(c["fee"] for c in raw_brand_records("collaboration.created") if c["brand"] == "beibei")
    with site.client(site.keys["beibei"]) as c:
        rois = c.get("/api/v1/reports/campaign-roi").json()["campaigns"]
        rows = c.get("/api/v1/reports/economics").json()["rows"]
        assert c.get("/api/v1/reports/campaign-roi", params={"brand": "lumiere"}).status_code in (403, 404)
    assert {r["campaign_id"] for r in rois} == {"cmp-beibei-1"} and {r["brand"] for r in rois} == {"beibei"}
    assert sum(r["fee"] for r in rows) == pytest.approx(beibei_fees)
    with site.client(site.operator) as c:
        both = c.get("/api/v1/reports/campaign-roi").json()["campaigns"]
    assert {r["campaign_id"] for r in both} == {"cmp-lumiere-1", "cmp-beibei-1"}


def test_every_roi_has_its_own_label_in_both_languages() -> None:
    from hongmao.web.i18n import MESSAGES

    for lang in (0, 1):
        labels = []
        for keys in ROI_LABELS.values():
            named = {MESSAGES[k][lang] for k in keys}
            assert len(named) == 1, named  # one ROI, one name wherever it shows
            labels += named
        assert len(set(labels)) == len(labels), labels  # two ROIs, two names
        bare = [k for k, v in MESSAGES.items() if v[lang].strip() in ("ROI", "投产比 ROI")]
        assert bare == []


def test_the_console_campaign_page_tells_the_roi_story(site: Site, story: dict[str, Any]) -> None:
    row = story["campaigns"][0]
    c = console_client(site, site.keys["lumiere"], "/console/campaigns")
    try:
        zh = c.get("/console/campaigns").text
        at = row["at_cycle"]
        for text in ("活动归因ROI", f"活动归因ROI(T+{at['x_days']:,.0f})", "活动增量ROI", "95% 区间", "增量订单",
                     f"{row['attributed']['roi']:,.2f}", f"{at['roi']:,.2f}", f"{row['incremental']['roi']:+.2f}",
                     "为什么不同", f"--window-days {at['x_days']:g}"):  # fmt: skip
            assert text in zh, text
        en = c.get("/console/campaigns?lang=en").text
        for text in ("Campaign attributed ROI", "Campaign incremental ROI", "95% interval", "Why they differ"):
            assert text in en, text
        overview = c.get("/console/").text
        with site.client(site.keys["lumiere"]) as api:
            summary = api.get("/api/v1/reports/overview").json()
        assert "Brand attributed ROI" in overview and f"{summary['attributed_roi']:,.2f}" in overview
        creators = c.get("/console/creators?lang=zh").text
        with site.client(site.keys["lumiere"]) as api:
            top = api.get("/api/v1/reports/economics").json()["rows"]
        paid = max(top, key=lambda r: r["fee"])
        for text in ("合作费用", "CPM 千次曝光成本", "费用归因ROI", "费用增量ROI（分摊）", f"¥{paid['fee']:,.2f}"):
            assert text in creators, text
        assert 'id="note_economics"' in creators
    finally:
        c.close()


def test_drill_down_note_to_orders_to_journeys_adds_up(site: Site) -> None:
    with site.client(site.keys["lumiere"]) as c:
        notes = c.get("/api/v1/notes").json()["notes"]
        top = max(notes, key=lambda n: n["orders"])
        orders = c.get(f"/api/v1/notes/{top['note_id']}/orders").json()["orders"]
        # the note's shares of its orders add up to the orders the notes report credits it with
        assert sum(o["share"] for o in orders) == pytest.approx(top["orders"])
        assert sum(o["credited_net"] for o in orders) == pytest.approx(top["net_gmv"])
        for o in orders[:5]:
            j = c.get(f"/api/v1/orders/{o['order_id']}/journey").json()
            assert sum(s["credit"] for s in j["touches"]) == pytest.approx(1.0)  # an order is credited once
            mine = sum(s["credit"] for s in j["touches"] if s["note_id"] == top["note_id"])
            assert mine == pytest.approx(o["share"])
            times = [s["time"] for s in j["touches"]]
            assert times == sorted(times) and all(s["time"] <= j["time"] for s in j["touches"])
            assert {s["title"] for s in j["touches"] if s["note_id"] == top["note_id"]} == {top["title"]}
    with site.client(site.keys["beibei"]) as c:
        assert c.get(f"/api/v1/notes/{top['note_id']}/orders").status_code == 404  # not beibei's note
        assert c.get(f"/api/v1/orders/{orders[0]['order_id']}/journey").status_code == 404


def test_console_drill_down_pages_show_names_with_ids_on_hover(site: Site) -> None:
    with site.client(site.keys["lumiere"]) as api:
        notes = api.get("/api/v1/notes").json()["notes"]
        top = max(notes, key=lambda n: n["orders"])
        orders = api.get(f"/api/v1/notes/{top['note_id']}/orders").json()["orders"]
        journey = api.get(f"/api/v1/orders/{orders[0]['order_id']}/journey").json()
        campaign = api.get("/api/v1/reports/campaign-roi").json()["campaigns"][0]
    c = console_client(site, site.keys["lumiere"], "/console/notes")
    try:
        listing = c.get("/console/notes").text
        assert f'href="/console/notes/{top["note_id"]}" title="{top["note_id"]}">{top["title"]}</a>' in listing
        note = c.get(f"/console/notes/{top['note_id']}").text
        assert top["title"] in note and f'href="/console/orders/{orders[0]["order_id"]}"' in note
        assert f"¥{orders[0]['credited_net']:,.2f}" in note
        order = c.get(f"/console/orders/{orders[0]['order_id']}").text
        assert 'id="journey"' in order and order.count("data-touch=") == len(journey["touches"])
        for step in journey["touches"]:
            assert f"{step['credit']:.1%}" in order
        creator = c.get(f"/console/creators/{top['creator_id']}").text
        assert f'href="/console/notes/{top["note_id"]}"' in creator and 'id="creator_notes"' in creator
        page = c.get(f"/console/campaigns/{campaign['campaign_id']}").text
        assert "活动增量ROI" in page and 'id="campaign_notes"' in page and 'id="campaign_creators"' in page
        assert c.get("/console/notes/note-nope").status_code == 404
        assert c.get("/console/orders/ord-nope").status_code == 404
    finally:
        c.close()
    b = console_client(site, site.keys["beibei"], "/console/notes")
    try:
        assert b.get(f"/console/notes/{top['note_id']}").status_code == 404
        assert b.get(f"/console/campaigns/{campaign['campaign_id']}").status_code == 404
    finally:
        b.close()


def test_every_model_is_named_and_negative_money_reads_as_money() -> None:
    from hongmao.engine.attribute import MODELS
    from hongmao.web.console.view import money
    from hongmao.web.i18n import MESSAGES

    assert [m for m in MODELS if f"model.{m}" not in MESSAGES] == []
    assert money(-1234.5) == "−¥1,234.50" and money(0.0) == "¥0.00" and money(None) == "—"
