"""Activity counts that reveal no one: a note read forty times by two people tells a brand what those two did, so a
brand key's impressions, reads, clicks, engagements, carts and store visits of a note, creator, day, link or
device class that fewer than k people produced are withheld, pooled so that a total less the rows shown never
gives one back, with the rates built on them; operators see every count."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from webkit import BASE, Site, console_client, lake_copy, running_site

ME = "lumiere"
#: Between the fewest and the most people behind a note's reads in the shared lake (8 to 130): some notes'
#: counts are shown at this k and some withheld.
MIDDLE_K = 20


@pytest.fixture(scope="module")
def middle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(lake_copy(tmp_path_factory.mktemp("activity") / "lake"), privacy_k=MIDDLE_K) as s:
        yield s


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """k = 1000, and one of the brand's links clicked three times through the redirect."""
    with running_site(lake_copy(tmp_path_factory.mktemp("activity-strict") / "lake"), privacy_k=1000) as s:
        with s.client(s.operator) as c:
            link = c.get(f"/api/v1/links?brand={ME}").json()["links"][0]
        with s.client() as visitor:
            assert all(visitor.get(link["url"].removeprefix(BASE)).status_code == 302 for _ in range(3))
        s.state.fold_clicks()
        yield s


def _get(site: Site, key: str, url: str) -> Any:
    return site.answer(key, url)


def test_a_keys_counts_under_k_go_with_the_smallest_at_or_above_k_and_the_rates_with_them() -> None:
    from hongmao.reports import privacy

    rows: list[dict[str, Any]] = [
        {"note_id": "a", "impressions": 900, "reads": 300, "clicks": 30, "ctr": 0.1, "suppressed": None},
        {"note_id": "b", "impressions": 400, "reads": 120, "clicks": 4, "ctr": 4 / 120, "suppressed": None},
        {"note_id": "c", "impressions": 40, "reads": 12, "clicks": 0, "ctr": 0.0, "suppressed": "fewer than 10 people"},
        {"note_id": "d", "impressions": 0, "reads": 0, "clicks": 0, "ctr": None, "suppressed": None},
    ]
    actors = {
        "impressions": {"a": 200, "b": 90, "c": 6},
        "reads": {"a": 100, "b": 40, "c": 3},
        "clicks": {"a": 20, "b": 3},
    }
    out = {r["note_id"]: r for r in privacy.activity(rows, "note_id", actors, 10)}
    # c's impressions and reads rest on fewer than 10 people; b (the smallest at or above 10) goes with them.
    assert out["c"]["impressions"] is None and out["c"]["reads"] is None and out["b"]["reads"] is None
    assert out["a"]["impressions"] == 900 and out["a"]["reads"] == 300
    # b's 4 clicks rest on 3 people: withheld, and a's clicks (the smallest at or above 10) with them.
    assert out["b"]["clicks"] is None and out["a"]["clicks"] is None and out["a"]["ctr"] is None
    assert out["a"]["withheld"] == ["clicks", "ctr"] and out["a"]["suppressed"] == "fewer than 10 people"
    assert out["d"] == {**rows[3], "withheld": []}  # no one behind it: nothing to withhold
    assert out["c"]["suppressed"] == rows[2]["suppressed"]  # an earlier reason stays
    # The total less the rows shown never gives one row back: what is withheld of each figure is a pool
    # holding a key of at least k people.
    for figure in ("impressions", "reads", "clicks"):
        gone = [r["note_id"] for r in out.values() if r[figure] is None]
        assert not gone or max(actors[figure].get(g, 0) for g in gone) >= 10, figure


def test_the_funnels_counts_and_sales_go_when_the_windows_people_are_under_k() -> None:
    from hongmao.reports import privacy

    raw = {"impressions": 500, "reads": 90, "clicks": 7, "counted_clicks": 6, "ctr": 6 / 90, "readers": None}
    raw |= {"orders": 3, "gmv": 300.0, "refunds": 0, "refunded": 0.0, "read_rate": 0.18, "suppressed": ["readers"]}
    actors = {"impressions": {"": 60}, "reads": {"": 40}, "clicks": {"": 5}, "orders": {"": 3}}
    out = privacy.activity_totals(raw, actors, 10)
    assert out["impressions"] == 500 and out["reads"] == 90 and out["read_rate"] == 0.18
    assert out["clicks"] is None and out["counted_clicks"] is None and out["ctr"] is None
    assert out["orders"] is None and out["gmv"] is None and out["refunds"] is None and out["refunded"] is None
    assert out["suppressed"][0] == "readers" and {"clicks", "ctr", "orders", "gmv"} <= set(out["suppressed"])
    assert privacy.activity_totals(raw, actors, 3)["suppressed"] == ["readers"]


def test_the_people_behind_each_count_are_the_distinct_people_who_produced_it(middle: Site) -> None:
    from hongmao.engine import Session
    from hongmao.reports.scope import Scope

    reports = middle.state.reports
    scope = Scope(ME)
    with Session(reports.view.segments(scope)) as session:
        ev = session.events
        reads = ev.filter((ev.type == "note.read") & ~ev.bot.fill_null(False))
        expected = {
            str(r["note_id"]): int(r["n"])
            for r in session.rows(reads.group_by("note_id").aggregate(n=reads.user.nunique()))
        }
        shows = ev.filter(ev.type == "note.impression")
        seen = session.rows(shows.aggregate(n=shows.user.nunique()))[0]["n"]
    actors = reports.actors(scope, "note")
    assert expected and actors["reads"] == expected
    assert reports.actors(scope)["impressions"] == {"": seen}
    # A creator's readers are the distinct readers of its notes: at least its busiest note's, at most their sum
    # (one person reading two of its notes counts once).
    owner = {n["note_id"]: n["creator_id"] for n in reports.notes(scope)}
    by_creator = reports.actors(scope, "creator")["reads"]
    assert set(by_creator) == {owner[n] for n in expected}
    for creator, n in by_creator.items():
        mine = [a for note, a in expected.items() if owner[note] == creator]
        assert max(mine) <= n <= sum(mine), creator


def test_a_brand_key_sees_notes_counts_withheld_as_pooled_and_an_operator_sees_them(middle: Site) -> None:
    from hongmao.reports import privacy
    from hongmao.reports.scope import Scope

    actors = middle.state.reports.actors(Scope(ME), "note")
    under = {n for n, a in actors["reads"].items() if 0 < a < MIDDLE_K}
    over = {n for n, a in actors["reads"].items() if a >= MIDDLE_K}
    assert under and len(over) >= 2, "the fixture's notes are all on one side of k: the test would prove nothing"
    gone, _ = privacy.pool(actors["reads"], MIDDLE_K)
    brand = {n["note_id"]: n for n in _get(middle, middle.keys[ME], "/api/v1/notes")["notes"]}
    op = {n["note_id"]: n for n in _get(middle, middle.operator, f"/api/v1/notes?brand={ME}")["notes"]}
    assert set(brand) - {"(withheld)"} == set(op)  # the pool of rows whose credit is withheld
    for note_id, row in brand.items():
        if note_id == "(withheld)":
            continue
        if note_id in gone:
            assert row["reads"] is None and row["ctr"] is None and "reads" in row["withheld"], note_id
            assert row["suppressed"] and str(MIDDLE_K) in row["suppressed"]
        else:
            assert row["reads"] == op[note_id]["reads"], note_id
    assert gone - under, "the smallest note at or above k is withheld with the ones under it"
    assert all(isinstance(r["reads"], int) and "withheld" not in r for r in op.values())
    creators = _get(middle, middle.keys[ME], "/api/v1/creators")["creators"]
    assert any(c["reads"] is None for c in creators) and any(isinstance(c["reads"], int) for c in creators)


def test_a_strict_k_withholds_every_activity_count_of_every_report_and_page(strict: Site) -> None:
    key = strict.keys[ME]
    funnel = _get(strict, key, "/api/v1/reports/funnel")
    full = _get(strict, strict.operator, f"/api/v1/reports/funnel?brand={ME}")
    assert full["impressions"] and full["orders"], "the fixture has no activity: the test would prove nothing"
    for f in ("impressions", "reads", "clicks", "engagements", "carts", "store_visits", "orders", "gmv", "ctr"):
        assert funnel[f] is None and f in funnel["suppressed"], f
        assert full[f] is not None, f
    days = _get(strict, key, "/api/v1/reports/timeseries")["days"]
    assert any(d["withheld"] and "impressions" in d["withheld"] for d in days)
    assert all(d["impressions"] is None for d in days if d["withheld"] and "impressions" in d["withheld"])
    text = _get(strict, key, "/api/v1/reports/timeseries?format=csv")
    assert all(r["impressions"] == "" for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))) if r["reads"] == "")
    economics = _get(strict, key, "/api/v1/reports/economics?by=note")["rows"]
    assert economics and all(r["impressions"] is None and r["cpm"] is None for r in economics if r["fee"])
    links = _get(strict, key, "/api/v1/links")["links"]
    op_links = {x["link_id"]: x for x in _get(strict, strict.operator, f"/api/v1/links?brand={ME}")["links"]}
    clicked = [x for x in links if op_links[x["link_id"]]["clicks"]]
    assert clicked and all(x["clicks"] is None for x in clicked)
    stats = _get(strict, key, f"/api/v1/links/{clicked[0]['link_id']}/stats")
    assert stats["clicks"] is None and "clicks" in stats["suppressed"]["activity"]
    assert stats["link"]["clicks"] is None  # the link's own (whole-lake) count, as the listing gives it
    assert all(d["clicks"] is None for d in stats["days"] if d["withheld"])
    assert all(d["clicks"] is None for d in stats["devices"])
    op_stats = _get(strict, strict.operator, f"/api/v1/links/{clicked[0]['link_id']}/stats?brand={ME}")
    assert op_stats["clicks"] and "suppressed" not in op_stats
    c = console_client(strict, key)
    try:
        for url in (
            "/console/",
            "/console/funnel",
            "/console/notes",
            "/console/creators",
            "/console/links",
            f"/console/links/{clicked[0]['link_id']}",
        ):
            page = c.get(url)
            assert page.status_code == 200, url
        export = list(csv.DictReader(io.StringIO(c.get("/console/notes.csv").text.lstrip("\ufeff"))))
        assert export and all(r["impressions"] == "" for r in export)
    finally:
        c.close()
