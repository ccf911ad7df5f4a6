"""A link's drill-down (issue 17, item 3): clicks per day and by device class, and the visits and orders its
click ids carried, in the API and the console, checked against the lake's raw events a second way."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq
import pytest

from hongmao.lake import Lake
from webkit import BASE, Client, Site, build_lake, console_client, running_site

HUMAN_CLICKS, BOT_CLICKS = 3, 2


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A lake whose busiest link got clicks through the redirect (people and a client library) and one order."""
    lake = build_lake(tmp_path_factory.mktemp("linkstats"), users=300, days=20)
    with running_site(lake) as s:
        with s.client(s.operator) as c:
            link = c.get("/api/v1/links").json()["links"][0]
        path = link["url"].removeprefix(BASE)
        with s.client() as visitor:
            hops = [visitor.get(path) for _ in range(HUMAN_CLICKS)]
            assert all(h.status_code == 302 for h in hops)
            item = visitor.get(hops[-1].headers["location"].removeprefix(BASE))
            click = re.search(r'name="click_id" value="([^"]+)"', item.text)
            item_id = re.search(r'data-item="([^"]+)"', item.text)
            assert click is not None and item_id is not None, "the link should land on the demo shop"
            bought = visitor.post(f"/shop/item/{item_id.group(1)}/buy", data={"click_id": click.group(1)})
            assert bought.status_code in (302, 303), bought.text
        bot = Client(s.server, user_agent="curl/8.5.0")
        try:
            assert all(bot.get(path).status_code in (200, 302) for _ in range(BOT_CLICKS))
        finally:
            bot.close()
        s.state.fold_clicks()
        yield s


def raw_events(site: Site) -> list[dict[str, Any]]:
    with Lake.open(site.lake) as lake:
        paths = lake.segment_paths()
    rows: list[dict[str, Any]] = []
    for path in paths:
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def busiest_link(site: Site) -> dict[str, Any]:
    with site.client(site.operator) as c:
        links = c.get("/api/v1/links").json()["links"]
    return max(links, key=lambda link: (link["clicks"], link["link_id"]))


def test_the_drill_down_agrees_with_the_raw_events(site: Site) -> None:
    link = busiest_link(site)
    link_id = link["link_id"]
    with site.client(site.operator) as c:
        stats = c.get(f"/api/v1/links/{link_id}/stats").json()
    events = raw_events(site)
    clicks = [e for e in events if e["type"] == "link.click" and e["link_id"] == link_id]
    human = [e for e in clicks if not e["bot"]]
    assert stats["clicks"] == len(human) == link["clicks"] == HUMAN_CLICKS
    assert stats["bot_clicks"] == len(clicks) - len(human) == BOT_CLICKS
    assert sum(d["clicks"] for d in stats["days"]) == stats["clicks"]
    # Devices: every click under the class the redirect saw, bots included.
    seen = Counter(json.loads(e["data"]).get("ua_class", "unknown") for e in clicks)
    assert {d["ua_class"]: d["clicks"] for d in stats["devices"]} == dict(seen)
    # Conversions by the click chain, counted here from the events.
    ids = {e["click_id"] for e in human if e["click_id"]}
    orders = {e["order_id"] for e in events if e["type"] == "market.order" and e["click_id"] in ids}
    visits = [e for e in events if e["type"] == "market.visit" and e["click_id"] in ids]
    assert stats["orders"] == len(orders) == 1
    assert stats["visits"] == len(visits)
    buyers = {e["user"] for e in events if e["type"] == "market.order" and e["order_id"] in orders}
    assert stats["buyers"] == len(buyers)
    gmv = sum(max(e["amount"] for e in events if e["type"] == "market.order" and e["order_id"] == o) for o in orders)
    assert stats["gmv"] == pytest.approx(gmv)
    assert stats["order_rate"] == pytest.approx(len(orders) / len(human))


def test_a_range_gives_every_day_of_it_and_counts_less(site: Site) -> None:
    link_id = busiest_link(site)["link_id"]
    with site.client(site.operator) as c:
        whole = c.get(f"/api/v1/links/{link_id}/stats").json()
        week = c.get(f"/api/v1/links/{link_id}/stats", params={"range": "7d"}).json()
        bad = c.get(f"/api/v1/links/{link_id}/stats", params={"range": "fortnight"})
    assert len(week["days"]) == 7 and week["window"]["period"]["days"] == 7
    assert week["clicks"] <= whole["clicks"]
    by_day = {d["day"]: d["clicks"] for d in whole["days"]}
    assert all(d["clicks"] == by_day.get(d["day"], 0) for d in week["days"])
    assert bad.status_code == 422 and "range" in bad.text


def test_tenancy_and_the_threshold(site: Site) -> None:
    link = busiest_link(site)
    events = raw_events(site)
    notes = {e["note_id"]: e["brand"] for e in events if e["type"] == "note.published"}
    owner = notes[link["note_id"]]
    other = next(b for b in site.keys if b != owner)
    url = f"/api/v1/links/{link['link_id']}/stats"
    with site.client(site.keys[other]) as c:
        assert c.get(url).status_code == 404
        assert c.get("/api/v1/links/no-such-link/stats").status_code == 404
    reports = site.state.reports
    kept = reports.privacy_k
    reports.privacy_k = 10**6  # every conversion figure rests on fewer people than that
    try:
        with site.client(site.keys[owner]) as c:
            mine = c.get(url).json()
        with site.client(site.operator) as c:
            full = c.get(url).json()
    finally:
        reports.privacy_k = kept
    # Three clicks are three people's (anonymous clicks each count as one), fewer than k: withheld too.
    assert full["clicks"] == HUMAN_CLICKS and mine["clicks"] is None and "clicks" in mine["suppressed"]["activity"]
    assert [d["day"] for d in mine["days"]] == [d["day"] for d in full["days"]]
    assert all(m["clicks"] is None for m, f in zip(mine["days"], full["days"], strict=True) if f["clicks"])
    assert mine["orders"] == "suppressed" and mine["buyers"] == "suppressed" and mine["visits"] == "suppressed"
    assert mine["suppressed"]["k"] == 10**6 and "orders" in mine["suppressed"]["fields"]
    assert isinstance(full["orders"], int) and "suppressed" not in full


@pytest.mark.parametrize(("lang", "says"), [("zh", "每日点击"), ("en", "Clicks per day")])
def test_the_console_page(site: Site, lang: str, says: str) -> None:
    link_id = busiest_link(site)["link_id"]
    c = console_client(site, site.operator)
    try:
        listed = c.get("/console/links").text
        assert f'href="/console/links/{link_id}"' in listed
        page = c.get(f"/console/links/{link_id}", params={"lang": lang, "range": "30d"}).text
        assert says in page and 'id="link-clicks"' in page and 'id="link-devices"' in page
        assert c.get("/console/links/no-such-link").status_code == 404
    finally:
        c.close()
