"""The trust guard on hand-built lakes: disclosure evidence, a fake-engagement ring with its notes and creator,
flagged accounts left out of attribution and the funnel, and the ``hongmao trust`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import event, user
from enginekit import at, on, write_segment
from hongmao.engine import attribute_segments
from hongmao.engine.funnel import funnel
from hongmao.engine.trust import trust_inputs
from hongmao.trust import TrustParams, assemble


def published(note: str, creator: str, brand: str | None = "Lumi", **kw: Any) -> dict[str, Any]:
    return event("note.published", at(kw.pop("day", 0)), note_id=note, creator_id=creator, brand=brand, **kw)


def link(link_id: str, note: str) -> dict[str, Any]:
    return event(
        "link.created",
        at(0),
        link_id=link_id,
        note_id=note,
        item_id="i1",
        market="tmall",
        url="https://detail.tmall.com/item.htm?id=1",
    )


def disclosure_events() -> list[dict[str, Any]]:
    return [
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
        published("paid-open", "c1", disclosed=True, collaboration_id="co-1", campaign_id="k1"),
        published("paid-hidden", "c2"),  # listed by the campaign, no label, no campaign id
        published("linked", "c3"),  # a shoppable link, no label
        published("filed-unlabelled", "c4", collaboration_id="co-2"),
        published("plain", "c5"),
        published("labelled-only", "c6", disclosed=True),
        published("corrected", "c7", campaign_id="k1"),
        published("corrected", "c7", campaign_id="k1", disclosed=True, collaboration_id="co-3", day=0.5),
        link("l1", "linked"),
        link("l2", "paid-open"),
        event(
            "campaign.created",
            at(0),
            campaign_id="k1",
            brand="Lumi",
            spend=1000,
            start=at(0),
            end=at(10),
            notes=["paid-open", "paid-hidden", "corrected"],
        ),
    ]


def run(tmp_path: Path, events: list[dict[str, Any]], params: TrustParams | None = None) -> dict[str, Any]:
    seg = write_segment(tmp_path / "seg.parquet", events)
    return assemble(trust_inputs(on([seg]), params), params, include_accounts=True)


def by_id(report: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {e[f"{kind}_id"]: e for e in report[f"{kind}s"]}


def test_disclosure_flags_each_unlabelled_commercial_note_with_its_evidence(tmp_path: Path) -> None:
    notes = by_id(run(tmp_path, disclosure_events()), "note")
    flagged = {k for k, e in notes.items() if "undisclosed" in e["flags"]}
    assert flagged == {"paid-hidden", "linked", "filed-unlabelled"}
    codes = {k: [x["code"] for x in notes[k]["evidence"]["undisclosed"]["evidence"]] for k in flagged}
    assert codes == {
        "paid-hidden": ["CAMPAIGN_LISTED"],
        "linked": ["SHOPPABLE_LINK"],
        "filed-unlabelled": ["COLLABORATION_FILED"],
    }
    assert notes["paid-hidden"]["evidence"]["undisclosed"]["strength"] == "paid"
    assert notes["linked"]["evidence"]["undisclosed"]["strength"] == "link"
    assert notes["paid-open"]["flags"] == [] and notes["paid-open"]["evidence"]["undisclosed"]["commercial"]
    assert notes["corrected"]["flags"] == []  # the later note.published carries the label
    assert "undisclosed" not in notes["plain"]["evidence"]
    assert notes["labelled-only"]["flags"] == []


def deal(deal_id: str, creator: str, day: float, note: str | None = None, brand: str = "Lumi") -> dict[str, Any]:
    extra = {"note_id": note} if note else {}
    return event(
        "collaboration.created", at(day), collaboration_id=deal_id, brand=brand, creator_id=creator, fee=500, **extra
    )


def test_brand_records_tie_notes_to_brands(tmp_path: Path) -> None:
    """A collaboration record naming the note, a deal naming none (matched to the creator's next note about the
    brand that no other deal claims), and paid boosting each make an unlabelled note undisclosed."""
    events = [
        published("named", "c1", day=1),
        deal("d-named", "c1", 1.1, note="named"),
        published("deliverable-of-other", "c2", day=2, collaboration_id="co-9", disclosed=True),
        published("first-free", "c2", day=3),
        published("second", "c2", day=4),
        published("other-brand", "c2", brand="Nova", day=2.5),
        deal("d-private", "c2", 1.5),  # before all of c2's notes: takes the first note no deal claims
        published("too-late", "c3", day=40),
        deal("d-stale", "c3", 1),  # the note came more than 30 days later: no match
        published("boosted", "c4", day=1),
        event("note.boosted", at(1.2), note_id="boosted", brand="Lumi", spend=80, start=at(1.2), end=at(8)),
        published("boosted-open", "c5", day=1, disclosed=True),
        event("note.boosted", at(1.2), note_id="boosted-open", brand="Lumi", spend=80, start=at(1.2), end=at(8)),
    ]
    notes = by_id(run(tmp_path, events), "note")
    flagged = {k for k, e in notes.items() if "undisclosed" in e["flags"]}
    assert flagged == {"named", "first-free", "boosted"}
    codes = {k: [x["code"] for x in notes[k]["evidence"]["undisclosed"]["evidence"]] for k in flagged}
    assert codes == {"named": ["COLLABORATION_RECORD"], "first-free": ["DEAL_MATCHED"], "boosted": ["PAID_BOOST"]}
    assert notes["first-free"]["evidence"]["undisclosed"]["evidence"][0]["collaborations"] == ["d-private"]
    assert all(notes[k]["evidence"]["undisclosed"]["strength"] == "paid" for k in flagged)
    assert notes["boosted-open"]["flags"] == [] and notes["boosted-open"]["evidence"]["undisclosed"]["commercial"]


def ring_events() -> tuple[list[dict[str, Any]], list[str]]:
    """Creator 'bought' has 4 notes; 8 ring accounts read each for 0.8 s and like and collect it within minutes.
    Ordinary readers read for 20 s and now and then like, days apart."""
    events: list[dict[str, Any]] = [
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
    ]
    ring = [user(900 + k) for k in range(8)]
    for n in range(4):
        note, day = f"rn{n}", 2 * n
        events.append(published(note, "bought", day=day))
        for k, fake in enumerate(ring):
            t = day + (10 + k) / 1440
            events.append(event("note.read", at(t), note_id=note, user=fake, dwell_ms=800))
            events.append(event("note.like", at(t + 1 / 86400), note_id=note, user=fake))
            events.append(event("note.collect", at(t + 2 / 86400), note_id=note, user=fake))
    for n in range(4):
        note, day = f"hn{n}", 2 * n + 1
        events.append(published(note, "honest", day=day))
    for k in range(30):
        reader = user(k)
        for n in range(4):
            for prefix, base in (("rn", 2 * n), ("hn", 2 * n + 1)):
                t = base + 0.5 + (k % 10) * 0.3
                events.append(event("note.read", at(t), note_id=f"{prefix}{n}", user=reader, dwell_ms=20_000))
                if k % 7 == 0:
                    events.append(event("note.like", at(t + 0.001), note_id=f"{prefix}{n}", user=reader))
    return events, ring


def test_a_ring_is_found_with_its_notes_and_creator(tmp_path: Path) -> None:
    events, ring = ring_events()
    report = run(tmp_path, events)
    flagged = {a["user"] for a in report["accounts"]["list"]}
    assert flagged == set(ring)
    assert all("LOCKSTEP" in a["reasons"] and "SHORT_DWELL" in a["reasons"] for a in report["accounts"]["list"])
    notes = by_id(report, "note")
    assert {k for k, e in notes.items() if "fake_engagement" in e["flags"]} == {f"rn{n}" for n in range(4)}
    ev = notes["rn0"]["evidence"]["fake_engagement"]
    assert ev["flagged_accounts"] == 8 and "RING_ENGAGEMENT" in ev["reasons"]
    creators = by_id(report, "creator")
    assert creators["bought"]["flags"] == ["fake_engagement"]
    assert creators["honest"]["flags"] == []


def test_a_one_note_ring_is_found_and_a_real_burst_is_not(tmp_path: Path) -> None:
    events, _ = ring_events()
    small = [user(950 + k) for k in range(6)]
    events.append(published("once", "newbie", day=3))
    for k, fake in enumerate(small):  # one note only: no three-note trail, but short reads in lockstep
        t = 3 + (5 + k) / 1440
        events.append(event("note.read", at(t), note_id="once", user=fake, dwell_ms=600))
        events.append(event("note.like", at(t + 1 / 86400), note_id="once", user=fake))
    events.append(published("hit", "star", day=5))
    for k in range(40):  # real readers rush a fresh note and like it a lot, reading for 25 s
        t = 5 + (1 + k) / 1440
        events.append(event("note.read", at(t), note_id="hit", user=user(k), dwell_ms=25_000))
        events.append(event("note.like", at(t + 30 / 86400), note_id="hit", user=user(k)))
    report = run(tmp_path, events)
    flagged = {a["user"] for a in report["accounts"]["list"]}
    assert set(small) <= flagged and not {user(k) for k in range(40)} & flagged
    notes = by_id(report, "note")
    assert "fake_engagement" in notes["once"]["flags"]
    assert notes["hit"]["flags"] == []
    assert "BURST" in notes["hit"]["evidence"]["fake_engagement"]["reasons"]
    creators = by_id(report, "creator")
    assert creators["newbie"]["flags"] == []  # one note is not a pattern for the creator
    assert creators["star"]["flags"] == []


def test_flagged_accounts_are_left_out_of_attribution_and_the_funnel(tmp_path: Path) -> None:
    events, ring = ring_events()
    # one ring account "buys" after its burst: its touch must not earn the note credit once excluded
    events.append(
        event(
            "market.order",
            at(0.5),
            order_id="o1",
            user=ring[0],
            lines=[{"item_id": "i1", "price": 100}],
            amount=100,
        )
    )
    seg = write_segment(tmp_path / "seg.parquet", events)
    with_ring = attribute_segments([seg], model="last", by="note")
    without = attribute_segments([seg], model="last", by="note", exclude_users=ring)
    assert with_ring.total_orders == 1 and {r["key"] for r in with_ring.rows} == {"rn0"}
    assert without.total_orders == 0 and without.unattributed_orders == 1
    f_all = funnel(on([seg]))
    f_clean = funnel(on([seg]), exclude_users=ring)
    assert f_all["reads"] - f_clean["reads"] == 8 * 4
    assert f_all["engagements"] - f_clean["engagements"] == 8 * 4 * 2
    assert f_clean["orders"] == f_all["orders"] == 1  # engagement is left out, not the sale


def test_reports_leave_flagged_engagement_out_of_the_funnel_and_attribution(tmp_path: Path) -> None:
    """What the console and the REST API show: the ring's reads and likes are not in the funnel, and a ring
    account's touch earns no credit; its order still counts as a sale."""
    from hongmao import api
    from hongmao.reports.scope import Scope
    from hongmao.reports.service import Reports

    events, ring = ring_events()
    events.append(
        event("market.order", at(0.5), order_id="o1", user=ring[0], lines=[{"item_id": "i1", "price": 100}], amount=100)
    )
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    api.ingest([source], tmp_path / "data")
    with api.open_lake(tmp_path / "data") as lake:
        clean, raw = Reports(lake), Reports(lake, exclude_flagged=False)
        assert set(clean.excluded_users()) == set(ring) and raw.excluded_users() == []
        # The figures, not a brand key's view (which withholds counts of fewer than k people).
        f_clean, f_raw = clean.funnel(Scope(None), unsuppressed=True), raw.funnel(Scope(None), unsuppressed=True)
        assert f_raw["reads"] - f_clean["reads"] == 8 * 4
        assert f_clean["orders"] == f_raw["orders"] == 1
        assert raw.attribution(Scope(None), "note", "last").total_orders == 1
        assert clean.attribution(Scope(None), "note", "last").total_orders == 0
        overview = clean.overview(Scope("Lumi"), unsuppressed=True)  # the figures, not a brand key's view
        assert overview["orders"] == 1 and overview["attributed_orders"] == 0
    # the library and the command line leave them out too, unless asked not to
    assert api.attribute(tmp_path / "data", "last").total_orders == 0
    assert api.attribute(tmp_path / "data", "last", exclude_flagged=False).total_orders == 1
    for extra, credited in (([], 0), (["--include-flagged"], 1)):
        out = subprocess.run(
            [sys.executable, "-m", "hongmao.cli", "attribute", "--data", str(tmp_path / "data"), "--model", "last",
             "--format", "json", *extra],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert json.loads(out.stdout)["total_orders"] == credited


def test_deceptive_note_on_a_hand_built_lake(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = [
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
        published("oversold", "liar"),
        published("fair", "truthful"),
    ]
    for k in range(240):
        buyer = user(k)
        note = "oversold" if k < 60 else "fair" if k < 120 else None
        if note:
            events.append(event("note.read", at(1), note_id=note, user=buyer, dwell_ms=20_000))
        order = f"o{k + 1}"
        events.append(
            event(
                "market.order",
                at(2),
                order_id=order,
                user=buyer,
                lines=[{"item_id": "i1", "price": 100}],
                amount=100,
            )
        )
        disappointed = (note == "oversold" and k % 2 == 0) or (note != "oversold" and k % 20 == 0)
        if disappointed:
            events.append(event("market.refund", at(4), order_id=order, amount=100, reason="not_as_described"))
    events.append(event("note.read", at(40), note_id="fair", user=user(999), dwell_ms=5_000))  # data end: day 40
    # the rule route credits every order a reader made to the note read, so its counts can be checked by hand
    report = run(tmp_path, events, TrustParams(model="linear"))
    notes = by_id(report, "note")
    assert notes["oversold"]["flags"] == ["deceptive"]
    assert notes["fair"]["flags"] == []
    ev = notes["oversold"]["evidence"]["deceptive"]
    assert ev["orders"] == pytest.approx(60) and ev["bad_outcomes"] == pytest.approx(30)
    # the default hazard route leaves part of each reader's order to the baseline (120 people bought unread, the
    # same day) and flags the same note and creator
    default = run(tmp_path, events)
    hazard_ev = by_id(default, "note")["oversold"]["evidence"]["deceptive"]
    assert 50 < hazard_ev["orders"] < 60 and hazard_ev["bad_outcomes"] < 30
    flags = [[(e["note_id"], e["flags"]) for e in r["notes"]] for r in (default, report)]
    assert flags[0] == flags[1]
    assert by_id(default, "creator")["liar"]["flags"] == ["deceptive"]
    assert ev["baseline_rate"] == pytest.approx(0.05, abs=0.02)
    assert ev["interval"][0] < ev["score"] < ev["interval"][1]
    assert "EXCESS_BAD_OUTCOMES" in ev["reasons"] and "EXCESS_NOT_AS_DESCRIBED" in ev["reasons"]
    creators = by_id(report, "creator")
    assert creators["liar"]["flags"] == ["deceptive"] and creators["truthful"]["flags"] == []
    assert report["notes"][0]["note_id"] == "oversold"  # ranked first


def test_trust_command_prints_the_contract(tmp_path: Path) -> None:
    import hongmao

    events = disclosure_events()
    files = tmp_path / "events.jsonl"
    files.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    lake = tmp_path / "lake"
    hongmao.ingest([files], lake)
    proc = subprocess.run(
        [sys.executable, "-m", "hongmao.cli", "trust", "--data", str(lake), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(proc.stdout)
    assert set(out) >= {"notes", "creators"}
    for kind in ("note", "creator"):
        for e in out[f"{kind}s"]:
            assert {f"{kind}_id", "flags", "score", "evidence"} <= set(e)
            assert set(e["flags"]) <= {"undisclosed", "deceptive", "fake_engagement"}
    assert {e["note_id"] for e in out["notes"] if e["flags"]} == {"paid-hidden", "linked", "filed-unlabelled"}
    from typer.testing import CliRunner

    from hongmao.cli.app import app

    table = CliRunner().invoke(app, ["trust", "--data", str(lake)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "paid-hidden" in table.output and "CAMPAIGN_LISTED" in table.output
