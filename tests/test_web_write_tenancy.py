"""Write-side tenancy: a brand key cannot claim, rename or touch another brand's ids with any event type.

An id belongs to whoever registered it first. Every event type of the contract is sent with the other brand's
ids under my own brand name, through the API; each is refused, and afterwards the other brand still owns all
it owned, I own none of it, and the operators' platform report has not moved an order. The same types with my
own (or new) ids are accepted, so each refusal means something. A claim that reached the lake anyway (an
operator's import) changes nobody's view either: ownership is first registration on the read side too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from hongmao.contract import EVENT_TYPES
from webkit import Site, lake_copy, running_site

ME, OTHER = "lumiere", "beibei"
T = "2025-06-20T10:00:00+08:00"
T_END = "2025-06-21T10:00:00+08:00"
SOURCES = {"community": "community", "market": "market:tmall", "brand": "brand", "links": "links"}
_ids = itertools.count(1)


def event(kind: str, **data: Any) -> dict[str, Any]:
    side = EVENT_TYPES[kind].side
    return {"id": f"wt-{kind}-{next(_ids)}", "type": kind, "source": SOURCES.get(side, side), "time": T, "data": data}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    lake = lake_copy(tmp_path_factory.mktemp("write-tenancy") / "lake")
    with running_site(lake) as s:
        yield s


def _ownership(site: Site, brand: str) -> Any:
    from hongmao.reports.scope import Scope

    return site.state.reports.ownership(Scope(brand))


@pytest.fixture(scope="module")
def ids(site: Site) -> dict[str, dict[str, str]]:
    """One id of each kind for each brand, owned by that brand alone."""
    mine, other = _ownership(site, ME), _ownership(site, OTHER)
    out: dict[str, dict[str, str]] = {ME: {}, OTHER: {}}
    for kind in ("notes", "items", "stores", "orders", "links", "campaigns"):
        for brand, own, rival in ((ME, mine, other), (OTHER, other, mine)):
            only = sorted(set(getattr(own, kind)) - set(getattr(rival, kind)))
            assert only, f"the fixture world gives {brand} no {kind} of its own"
            out[brand][kind] = only[0]
    return out


def attacks(theirs: dict[str, str], mine: dict[str, str]) -> list[dict[str, Any]]:
    """Every event type naming the other brand's ids (each record one attack), all under my brand name."""
    user = "a" * 32
    order = {"user": user, "amount": 10, "lines": [{"item_id": mine["items"], "price": 10}]}
    money = {"spend": 1, "start": T, "end": T_END}
    return [
        # claims and renames of their ids by a record of mine
        event("note.published", note_id=theirs["notes"], creator_id="c", brand=ME),
        event("note.published", note_id=theirs["notes"], creator_id="c", brand=OTHER),  # as them: not my brand
        event("note.published", note_id="wt-new-n1", creator_id="c", brand=ME, campaign_id=theirs["campaigns"]),
        event("note.published", note_id="wt-new-n2", creator_id="c", brand=ME, items=[theirs["items"]]),
        event("item.listed", item_id=theirs["items"], store_id="wt-s", brand=ME, category="x", price=1),
        event("item.listed", item_id="wt-new-i1", store_id=theirs["stores"], brand=ME, category="x", price=1),
        event("campaign.created", campaign_id=theirs["campaigns"], brand=ME, **money),
        event("campaign.created", campaign_id="wt-new-c1", brand=ME, notes=[theirs["notes"]], **money),
        event("collaboration.created", collaboration_id="wt-d1", brand=ME, creator_id="c", fee=1,
              note_id=theirs["notes"]),
        event("collaboration.created", collaboration_id="wt-d2", brand=ME, creator_id="c", fee=1,
              campaign_id=theirs["campaigns"]),
        event("note.boosted", note_id=theirs["notes"], brand=ME, **money),
        event("note.boosted", note_id=mine["notes"], brand=ME, campaign_id=theirs["campaigns"], **money),
        # touches of their things
        *[event(k, note_id=theirs["notes"], user=user) for k in EVENT_TYPES
          if k.startswith("note.") and k not in ("note.published", "note.boosted", "note.read")],
        event("note.read", note_id=theirs["notes"], user=user, dwell_ms=1000),
        event("link.created", link_id=theirs["links"], note_id=mine["notes"], item_id=mine["items"], market="tmall",
              url="https://detail.tmall.com/item.htm?id=1"),
        event("link.created", link_id="wt-l1", note_id=theirs["notes"], item_id=mine["items"], market="tmall",
              url="https://detail.tmall.com/item.htm?id=1"),
        event("link.created", link_id="wt-l2", note_id=mine["notes"], item_id=theirs["items"], market="tmall",
              url="https://detail.tmall.com/item.htm?id=1"),
        event("link.created", link_id="wt-l3", note_id=mine["notes"], item_id=mine["items"], market="tmall",
              url="https://detail.tmall.com/item.htm?id=1", campaign_id=theirs["campaigns"]),
        event("link.click", click_id="wt-k1", link_id=theirs["links"]),
        event("market.visit", user=user, item_id=theirs["items"]),
        event("market.visit", user=user, store_id=theirs["stores"]),
        event("market.cart", user=user, item_id=theirs["items"]),
        event("market.favorite", user=user, item_id=theirs["items"]),
        event("market.order", order_id=theirs["orders"], **order),
        event("market.order", order_id="wt-o1", user=user, amount=10,
              lines=[{"item_id": theirs["items"], "price": 10}]),
        event("market.refund", order_id=theirs["orders"], amount=1),
        event("market.review", order_id=theirs["orders"], rating=1),
        # platform data
        event("community.search", user=user, query=OTHER),
        event("market.search", user=user, query=OTHER),
    ]  # fmt: skip


def fair(mine: dict[str, str]) -> list[dict[str, Any]]:
    """The same kinds of record with my own ids or new ones: each is accepted."""
    user = "b" * 32
    money = {"spend": 1, "start": T, "end": T_END}
    return [
        event("note.published", note_id=mine["notes"], creator_id="c", brand=ME, title="updated"),
        event("note.published", note_id="wt-mine-n1", creator_id="c", brand=ME, campaign_id="wt-mine-c0"),
        event("item.listed", item_id="wt-mine-i1", store_id=mine["stores"], brand=ME, category="x", price=1),
        event("campaign.created", campaign_id="wt-mine-c1", brand=ME, notes=["wt-mine-n1", mine["notes"]], **money),
        event("collaboration.created", collaboration_id="wt-mine-d1", brand=ME, creator_id="c", fee=1,
              note_id="wt-mine-n1", campaign_id="wt-mine-c1"),
        event("note.boosted", note_id="wt-mine-n1", brand=ME, campaign_id="wt-mine-c1", **money),
        event("note.like", note_id="wt-mine-n1", user=user),
        event("note.read", note_id=mine["notes"], user=user, dwell_ms=1000),
        event("link.created", link_id="wt-mine-l1", note_id="wt-mine-n1", item_id="wt-mine-i1", market="tmall",
              url="https://detail.tmall.com/item.htm?id=1", campaign_id="wt-mine-c1"),
        event("link.click", click_id="wt-mine-k1", link_id="wt-mine-l1"),
        event("market.visit", user=user, item_id="wt-mine-i1", click_id="wt-mine-k1"),
        event("market.order", order_id="wt-mine-o1", user=user, amount=10,
              lines=[{"item_id": "wt-mine-i1", "price": 10}]),
        event("market.refund", order_id="wt-mine-o1", amount=1),
        event("market.review", order_id=mine["orders"], rating=5),
    ]  # fmt: skip


def _platform_orders(site: Site) -> dict[str, Any]:
    with site.client(site.operator) as c:
        answer = c.get("/api/v1/reports/platform")
    assert answer.status_code == 200, answer.text[:300]
    body = answer.json()
    rows = body.get("brands") or body.get("rows") or []
    return {r["brand"]: (r.get("orders"), r.get("gmv")) for r in rows if isinstance(r, dict) and "brand" in r}


def test_every_event_type_with_another_brands_ids_is_refused(site: Site, ids: dict[str, dict[str, str]]) -> None:
    sent = attacks(ids[OTHER], ids[ME])
    assert {e["type"] for e in sent} == set(EVENT_TYPES), "every event type is tried"
    before_other, before_me = _ownership(site, OTHER), _ownership(site, ME)
    platform = _platform_orders(site)
    assert platform, "the platform report lists brands"
    with site.client(site.keys[ME]) as c:
        answer = c.post("/api/v1/events", json=sent)
    assert answer.status_code == 200, answer.text[:300]
    records = answer.json()["records"]
    accepted = [(sent[r["index"]]["type"], sent[r["index"]]["data"]) for r in records if r["status"] != "rejected"]
    assert not accepted, accepted
    # Refused for whose ids they name, not for some other fault of the record.
    tenancy = ("of brand", "registered to another", "its own brand", "platform data", "is brand")
    for record in records:
        reason = record["problems"][0]["reason"]
        assert any(words in reason for words in tenancy), (sent[record["index"]]["type"], reason)
    after_other, after_me = _ownership(site, OTHER), _ownership(site, ME)
    assert after_other == before_other and after_me == before_me
    assert _platform_orders(site) == platform


def test_the_same_types_with_my_own_ids_are_accepted(site: Site, ids: dict[str, dict[str, str]]) -> None:
    sent = fair(ids[ME])
    with site.client(site.keys[ME]) as c:
        answer = c.post("/api/v1/events", json=sent)
    assert answer.status_code == 200, answer.text[:300]
    refused = [(r["index"], r.get("problems")) for r in answer.json()["records"] if r["status"] != "accepted"]
    assert not refused, refused
    mine = _ownership(site, ME)
    assert {"wt-mine-n1", ids[ME]["notes"]} <= mine.notes and "wt-mine-i1" in mine.items
    assert {"wt-mine-o1", ids[ME]["orders"]} <= mine.orders and "wt-mine-l1" in mine.links
    assert "wt-mine-c1" in mine.campaigns
    # ... and the other brand cannot now touch what I just registered.
    with site.client(site.keys[OTHER]) as c:
        answer = c.post(
            "/api/v1/events",
            json=[
                event("note.published", note_id="wt-mine-n1", creator_id="c", brand=OTHER),
                event("market.refund", order_id="wt-mine-o1", amount=5),
                event("link.click", click_id="wt-k9", link_id="wt-mine-l1"),
            ],
        )
    assert {r["status"] for r in answer.json()["records"]} == {"rejected"}


def test_one_batch_cannot_race_a_claim_past_the_first_registration(site: Site) -> None:
    """Two brands registering the same new id: the first batch's brand owns it, the second is refused."""
    first = [event("item.listed", item_id="wt-race-i", store_id="wt-race-s1", brand=OTHER, category="x", price=1)]
    second = [event("item.listed", item_id="wt-race-i", store_id="wt-race-s2", brand=ME, category="x", price=1)]
    with site.client(site.keys[OTHER]) as c:
        assert c.post("/api/v1/events", json=first).json()["accepted"] == 1
    with site.client(site.keys[ME]) as c:
        refused = c.post("/api/v1/events", json=second).json()
    assert refused["rejected"] == 1 and "registered to another" in refused["records"][0]["problems"][0]["reason"]
    assert "wt-race-i" in _ownership(site, OTHER).items and "wt-race-i" not in _ownership(site, ME).items


def test_a_claim_that_reached_the_lake_changes_no_view(site: Site, ids: dict[str, dict[str, str]]) -> None:
    """Operators may send anything; a later record naming their note and item under my brand moves nothing."""
    theirs = ids[OTHER]
    before_other, before_me = _ownership(site, OTHER), _ownership(site, ME)
    platform = _platform_orders(site)
    later = "2025-07-30T10:00:00+08:00"
    claims = [
        {**event("note.published", note_id=theirs["notes"], creator_id="c", brand=ME), "time": later},
        {**event("item.listed", item_id=theirs["items"], store_id="wt-s", brand=ME, category="x", price=1),
         "time": later},
    ]  # fmt: skip
    with site.client(site.operator) as c:
        assert c.post("/api/v1/events", json=claims).json()["accepted"] == 2
    after_me = _ownership(site, ME)
    assert theirs["notes"] not in after_me.notes and theirs["items"] not in after_me.items
    assert after_me.orders == before_me.orders
    assert _ownership(site, OTHER).notes == before_other.notes
    assert _ownership(site, OTHER).orders == before_other.orders
    assert _platform_orders(site) == platform


def test_links_cannot_join_another_brands_campaign(site: Site, ids: dict[str, dict[str, str]]) -> None:
    """The API refuses a link of mine in their campaign; the console's form has no campaign to smuggle one in."""
    from hongmao.reports.scope import Scope
    from hongmao.web import linkviews
    from webkit import console_client, form_token

    mine = {"note_id": ids[ME]["notes"], "item_id": ids[ME]["items"], "market": "tmall"}
    with site.client(site.keys[ME]) as api:
        refused = api.post("/api/v1/links", json={**mine, "campaign_id": ids[OTHER]["campaigns"]})
        assert refused.status_code == 404, refused.text[:300]
        assert api.post("/api/v1/links", json={**mine, "campaign_id": ids[ME]["campaigns"]}).status_code == 201
    c = console_client(site, site.keys[ME])
    try:
        form = {**mine, "csrf": form_token(c.get("/console/links").text), "campaign_id": ids[OTHER]["campaigns"]}
        made = c.post("/console/links", data=form)
        assert made.status_code == 303 and "created=" in made.headers["location"]
        link_id = made.headers["location"].split("created=")[1]
    finally:
        c.close()
    record = linkviews.get_link(site.state, Scope(ME), link_id).record
    assert record.campaign_id is None
