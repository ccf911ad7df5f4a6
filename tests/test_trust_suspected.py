"""Suspected sponsorship (no record, shape only) stays apart from the evidenced ``undisclosed`` flag; the legal
rule for shoppable links still holds; the deceptive watch list comes before the flag."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import event
from enginekit import at, on, write_segment
from hongmao.engine.trust import trust_inputs
from hongmao.trust import assemble
from hongmao.trust.suspected import judge, similarity

T0 = datetime(2025, 6, 1, 12)


def note(nid: str, creator: str, day: float, title: str, brand: str = "lumi", **kw: Any) -> dict[str, Any]:
    return {
        "note_id": nid,
        "creator_id": creator,
        "brand": brand,
        "published": T0 + timedelta(days=day),
        "disclosed": kw.get("disclosed", False),
        "title": title,
    }


def wave() -> list[dict[str, Any]]:
    return [
        note("w1", "a", 1.0, "被lumi精华液惊艳到了！"),
        note("w2", "b", 2.0, "被lumi精华液惊艳到了～"),
        note("w3", "c", 3.5, "被lumi精华液惊艳到了✨"),
        note("old", "d", -20.0, "lumi面霜真实测评"),
        note("d-later", "d", 2.5, "被lumi精华液惊艳到了"),  # d wrote about lumi before: not a first post
        note("far", "e", 30.0, "被lumi精华液惊艳到了"),  # the same words a month later: another time
    ]


CAMPAIGN = [{"brand": "lumi", "start": T0 + timedelta(days=6)}]


def test_titles_cut_from_one_brief_are_alike_and_others_are_not() -> None:
    assert similarity("被lumi精华液惊艳到了！", "被lumi精华液惊艳到了✨") == 1.0
    assert similarity("被lumi精华液惊艳到了", "lumi面霜真实测评") < 0.3


def test_a_wave_before_a_campaign_is_suspected_with_its_evidence() -> None:
    found = {f.note_id: f for f in judge(wave(), CAMPAIGN, [], set())}
    suspected = {k for k, f in found.items() if f.suspected}
    assert suspected == {"w1", "w2", "w3"}
    assert "SAME_BRIEF" in found["d-later"].reasons and "FIRST_POST_BEFORE_CAMPAIGN" not in found["d-later"].reasons
    ev = found["w1"].evidence
    assert [x["note_id"] for x in ev["same_brief_notes"]] == ["w2", "w3"]  # d-later is no first post: no twin
    assert ev["campaign_starts_in_days"] == 5.0
    assert "far" not in suspected


def test_no_campaign_or_too_few_alike_titles_raise_no_suspicion() -> None:
    assert not any(f.suspected for f in judge(wave(), [], [], set()))
    pair = [n for n in wave() if n["note_id"] in ("w1", "w2")]
    assert not any(f.suspected for f in judge(pair, CAMPAIGN, [], set()))


def test_evidenced_or_labelled_notes_are_never_suspected() -> None:
    notes = wave()
    notes[1]["disclosed"] = True
    found = {f.note_id: f for f in judge(notes, CAMPAIGN, [], {"w3"})}
    assert "w2" not in found and "w3" not in found  # labelled, or judged on its record by the disclosure check
    assert not found["w1"].suspected  # its twins left are d-later only: two alike titles are chance


def test_the_report_keeps_suspected_apart_from_undisclosed_and_links_need_the_label(tmp_path: Path) -> None:
    events = [
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="lumi", category="skincare", price=100),
        event(
            "campaign.created",
            at(5),
            campaign_id="k1",
            brand="lumi",
            spend=1000,
            start=at(6),
            end=at(12),
            notes=["paid"],
        ),
        event("note.published", at(6.5), note_id="paid", creator_id="z", brand="lumi", disclosed=True),
    ]
    for nid, creator, day in (("w1", "a", 1), ("w2", "b", 2), ("w3", "c", 3), ("w4", "d", 4)):
        title = "被lumi精华液惊艳到了"
        events.append(event("note.published", at(day), note_id=nid, creator_id=creator, brand="lumi", title=title))
    events.append(
        event(
            "link.created",
            at(3),
            link_id="l1",
            note_id="w3",
            item_id="i1",
            market="tmall",
            url="https://detail.tmall.com/item.htm?id=1",
        )
    )
    seg = write_segment(tmp_path / "seg.parquet", events)
    report = assemble(trust_inputs(on([seg])))
    notes = {e["note_id"]: e for e in report["notes"]}
    assert notes["w3"]["flags"] == ["undisclosed"] and notes["w3"]["suspected"] == []  # a link without 广告
    # w3 is judged on its record, so w1, w2 and w4 are the brief's unrecorded notes
    assert {k for k, e in notes.items() if e["suspected"]} == {"w1", "w2", "w4"}
    assert all(notes[k]["flags"] == [] and notes[k]["suspected"] == ["sponsored"] for k in ("w1", "w2", "w4"))
    reasons = notes["w1"]["evidence"]["suspected_sponsored"]["reasons"]
    assert {"SAME_BRIEF", "FIRST_POST_BEFORE_CAMPAIGN"} <= set(reasons)
    assert report["summary"]["suspected_notes"] == {"sponsored": sum(bool(e["suspected"]) for e in report["notes"])}
