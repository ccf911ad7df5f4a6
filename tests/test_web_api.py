"""The REST API in-process: schema and docs, batch ingest with an outcome per record, reports under every
model, links (create, redirect, revoke), keys, and the demo loop read -> click -> buy -> attributed order."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from conftest import event, user
from webkit import BASE, Site, foreign_references, lake_copy, running_site

MODELS = ["first", "last", "linear", "time_decay", "position", "markov", "shapley"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    lake = lake_copy(tmp_path_factory.mktemp("web-api") / "lake")
    with running_site(lake) as s:
        yield s


def test_schema_openapi_and_docs_are_served_without_a_cdn(site: Site) -> None:
    with site.client() as c:
        schema = c.get("/api/v1/schema").json()
        assert schema["$schema"].endswith("2020-12/schema") and "market.order" in schema["description"]
        doc = c.get("/openapi.json").json()
        paths = set(doc["paths"])
        for path in [
            "/api/v1/events",
            "/api/v1/links",
            "/api/v1/links/{link_id}/revoke",
            "/api/v1/reports/attribution",
        ]:
            assert path in paths
        assert "Event" in doc["components"]["schemas"]
        docs = c.get("/docs")
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        assert foreign_references(docs.text) == []
        assert c.get("/static-docs/swagger-ui-bundle.js").status_code == 200
        assert "default-src 'self'" in docs.headers["content-security-policy"]


def test_requests_without_a_valid_key_are_401(site: Site) -> None:
    with site.client() as c:
        assert c.get("/api/v1/reports/overview").status_code == 401
        bad = c.get("/api/v1/reports/overview", headers={"authorization": "Bearer hm_0000000000000000_" + "x" * 43})
        assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"


def test_batch_ingest_reports_each_record(site: Site) -> None:
    t = "2025-06-05T10:00:00+08:00"
    good = event("market.search", t, "api-1", user=user(1), query="lumiere 面霜")
    bad_user = event("market.search", t, "api-2", user="13800138000", query="x")
    negative = event(
        "market.order", t, "api-3", order_id="o-neg", user=user(2), lines=[{"item_id": "i", "price": 1}], amount=-5
    )
    with site.client(site.operator) as c:
        out = c.post("/api/v1/events", json=[good, bad_user, negative, good, "not an object"]).json()
        assert [r["status"] for r in out["records"]] == ["accepted", "rejected", "rejected", "duplicate", "rejected"]
        assert (out["accepted"], out["duplicate"], out["rejected"]) == (1, 1, 3)
        assert out["records"][1]["problems"][0]["field"] == "data.user"
        assert "pseudonym" in out["records"][1]["problems"][0]["reason"]
        assert "13800138000" not in json.dumps(out)  # reasons never repeat the raw identifier
        assert "negative amount" in out["records"][2]["problems"][0]["reason"]
        again = c.post("/api/v1/events", json={"events": [good]}).json()
        assert again["records"][0]["status"] == "duplicate"
        lines = "\n".join(json.dumps(e) for e in [event("market.search", t, "api-4", user=user(3), query="q")])
        nd = c.post("/api/v1/events", content=lines + "\n{oops\n", headers={"content-type": "application/x-ndjson"})
        assert [r["status"] for r in nd.json()["records"]] == ["accepted", "rejected"]
        assert c.post("/api/v1/events", content=b"{", headers={"content-type": "application/json"}).status_code == 400
    rejects = (site.lake / "rejects.jsonl").read_text(encoding="utf-8")
    assert "api:" in rejects and "13800138000" not in rejects


def test_a_brand_key_sends_only_its_own_brand(site: Site) -> None:
    t = "2025-06-05T11:00:00+08:00"
    mine = event("campaign.created", t, "api-c1", campaign_id="cmp-x", brand="lumiere", spend=10,
                 start=t, end="2025-06-06T11:00:00+08:00")  # fmt: skip
    theirs = event("campaign.created", t, "api-c2", campaign_id="cmp-y", brand="beibei", spend=10,
                   start=t, end="2025-06-06T11:00:00+08:00")  # fmt: skip
    search = event("market.search", t, "api-c3", user=user(4), query="lumiere")
    item = event("item.listed", t, "api-c4", item_id="new-item", store_id="tmall-lumiere", brand="lumiere",
                 category="skincare", price=99)  # fmt: skip
    order = event("market.order", t, "api-c5", order_id="o-new", user=user(5),
                  lines=[{"item_id": "new-item", "price": 99}], amount=99)  # fmt: skip
    with site.client(site.keys["lumiere"]) as c:
        out = c.post("/api/v1/events", json=[mine, theirs, search, item, order]).json()
    assert [r["status"] for r in out["records"]] == ["accepted", "rejected", "rejected", "accepted", "accepted"]
    assert "lumiere" in out["records"][1]["problems"][0]["reason"]
    assert "operator" in out["records"][2]["problems"][0]["reason"]


@pytest.mark.parametrize("by", ["note", "creator", "campaign", "item"])
def test_attribution_by_every_grouping_sums_to_the_attributed_orders(site: Site, by: str) -> None:
    with site.client(site.keys["lumiere"]) as c:
        for model in MODELS if by == "note" else ["last", "position", "markov"]:
            out = c.get("/api/v1/reports/attribution", params={"by": by, "model": model}).json()
            assert out["brand"] == "lumiere" and out["model"] == model
            assert sum(r["orders"] for r in out["rows"]) == pytest.approx(out["total_orders"], abs=1e-6)
        csv = c.get("/api/v1/reports/attribution", params={"by": by, "format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv") and csv.text.lstrip("\ufeff").startswith("key,orders")
        assert c.get("/api/v1/reports/attribution", params={"model": "nope"}).status_code == 422


def test_reports_overview_funnel_series_and_compare(site: Site) -> None:
    with site.client(site.keys["lumiere"]) as c:
        overview = c.get("/api/v1/reports/overview", params={"model": "last"}).json()
        assert overview["brand"] == "lumiere" and overview["orders"] >= 3 and overview["spend"] > 0
        assert overview["attributed_roi"] == pytest.approx(overview["attributed_net_gmv"] / overview["spend"])
        assert overview["roi_kind"] == "attributed_all_notes" and "roi" not in overview
        funnel = c.get("/api/v1/reports/funnel").json()
        assert funnel["impressions"] >= funnel["reads"] >= funnel["clicks"] > 0
        days = c.get("/api/v1/reports/timeseries").json()["days"]
        assert len(days) >= 7 and sum(d["orders"] for d in days) == overview["orders"]
        assert sum(d["spend"] for d in days) == pytest.approx(overview["spend"], abs=0.05)
        compare = c.get("/api/v1/reports/compare", params={"by": "note", "models": "last,linear,markov"}).json()
        assert compare["models"] == ["last", "linear", "markov"] and compare["rows"]
        assert set(compare["rows"][0]["net_gmv"]) == {"last", "linear", "markov"}
        assert c.get("/api/v1/reports/platform").status_code == 403
    with site.client(site.operator) as c:
        brands = c.get("/api/v1/reports/platform").json()["brands"]
        assert {b["brand"] for b in brands} == {"lumiere", "beibei"}
        whole = c.get("/api/v1/reports/overview").json()
        one = c.get("/api/v1/reports/overview", params={"brand": "beibei"}).json()
        assert whole["brand"] is None and one["brand"] == "beibei" and whole["orders"] > one["orders"]


def test_people_counts_under_k_are_suppressed(site: Site) -> None:
    from hongmao.reports.scope import Scope
    from hongmao.reports.service import Reports

    strict = Reports(site.state.lake, privacy_k=50)
    funnel = strict.funnel(Scope("lumiere"))
    assert funnel["search_back_users"] is None and "search_back_users" in funnel["suppressed"]
    assert funnel["search_back_rate"] is None
    overview = strict.overview(Scope("lumiere"))
    assert overview["new_customer_share"] is None and "new_customer_share" in overview["suppressed"]


def test_links_create_redirect_and_revoke(site: Site) -> None:
    state = site.state
    with site.client(site.keys["beibei"]) as c:
        notes = c.get("/api/v1/notes").json()["notes"]
        items = c.get("/api/v1/items").json()["items"]
        body = {"note_id": notes[0]["note_id"], "item_id": items[0]["item_id"], "market": "tmall"}
        made = c.post("/api/v1/links", json=body)
        assert made.status_code == 201, made.text
        link = made.json()
        assert link["url"].startswith(f"{BASE}/l/") and link["status"] == "active" and len(link["share_code"]) == 8
        assert link["link_id"] in {x["link_id"] for x in c.get("/api/v1/links").json()["links"]}
        hop = c.get(link["url"].removeprefix(BASE))
        assert hop.status_code == 302 and hop.headers["location"].startswith("https://detail.tmall.com/item.htm?id=")
        assert "hm_click=" in hop.headers["location"]
        assert c.get(f"/c/{link['share_code']}").status_code == 302
        bad = c.post("/api/v1/links", json={**body, "url": "https://evil.example.com/x"})
        assert bad.status_code == 422
        revoked = c.post(f"/api/v1/links/{link['link_id']}/revoke", json={"reason": "campaign over"}).json()
        assert revoked["status"] == "revoked"
    from hongmao.links.live import Revocations

    poll = Revocations(state.lake)
    poll.refresh(full=True)
    assert link["link_id"] in poll


def test_keys_are_managed_by_operators(site: Site) -> None:
    with site.client(site.operator) as c:
        made = c.post("/api/v1/keys", json={"role": "brand", "brand": "beibei", "label": "agency"}).json()
        assert made["key"].startswith("hm_") and made["brand"] == "beibei"
        listed = c.get("/api/v1/keys").json()["keys"]
        assert made["key_id"] in {k["key_id"] for k in listed} and all(
            "key" not in k and "hash" not in k for k in listed
        )
        with site.client(made["key"]) as agency:
            assert agency.get("/api/v1/me").json() == {
                "key_id": made["key_id"], "role": "brand", "brand": "beibei", "label": "agency"
            }  # fmt: skip
            assert c.post(f"/api/v1/keys/{made['key_id']}/revoke").json()["revoked"] is True
            assert agency.get("/api/v1/me").status_code == 401
        assert c.post("/api/v1/keys", json={"role": "brand"}).status_code == 422
    with site.client(site.keys["beibei"]) as c:
        assert c.get("/api/v1/keys").status_code == 403


def test_the_demo_loop_read_click_buy_lands_attributed(site: Site) -> None:
    """A visitor reads a linked note, clicks its card through the redirect, buys; the order is the brand's,
    attributed to that note through the click (click -> visit -> order chain)."""
    with site.client() as visitor:
        feed = visitor.get("/community")
        assert feed.status_code == 200 and foreign_references(feed.text) == []
        note_id = re.search(r'data-note="([^"]+)" data-brand="beibei" data-linked="yes"', feed.text)
        assert note_id is not None
        page = visitor.get(f"/community/notes/{note_id.group(1)}")
        card = re.search(r'class="shop-card" href="([^"]+)"', page.text)
        assert card is not None and card.group(1).startswith(f"{BASE}/l/")
        hop = visitor.get(card.group(1).removeprefix(BASE))
        assert hop.status_code == 302 and hop.headers["location"].startswith(f"{BASE}/shop/item/")
        item = visitor.get(hop.headers["location"].removeprefix(BASE))
        click = re.search(r'name="click_id" value="([^"]+)"', item.text)
        item_id = re.search(r'data-item="([^"]+)"', item.text)
        assert click is not None and item_id is not None
        bought = visitor.post(f"/shop/item/{item_id.group(1)}/buy", data={"click_id": click.group(1)})
        order_id = bought.headers["location"].rsplit("/", 1)[1]
    with site.client(site.keys["beibei"]) as brand:
        order = brand.get(f"/api/v1/orders/{order_id}", params={"model": "last"}).json()
        assert order["attributed"] and order["brand"] == "beibei"
        assert order["credits"][0]["note_id"] == note_id.group(1) and "click" in order["credits"][0]["kinds"]
        clicks = {x["link_id"]: x["clicks"] for x in brand.get("/api/v1/links").json()["links"]}
        assert sum(clicks.values()) >= 1
    with site.client(site.keys["lumiere"]) as other:
        assert other.get(f"/api/v1/orders/{order_id}").status_code == 404
