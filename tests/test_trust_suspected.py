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
from hongmao.trust.suspected import betabinomial_tail, binomial_tail, judge, poisson_tail, similarity

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
PRODUCTS = ("面霜", "防晒", "洁面", "眼霜", "面膜", "爽肤水")
WORDS = ("干皮实测", "用了三个月", "学生党平价", "空瓶记", "换季不踩雷", "敏感肌日常", "通勤妆", "油皮夏天")


def background(uniform: bool = False, per_side: int = 24) -> list[dict[str, Any]]:
    """The brand's ordinary notes, far from the wave in time: its own norm of how alike titles are."""
    out = []
    for i in range(2 * per_side):
        day = -60.0 + 45.0 * i / per_side if i < per_side else 40.0 + 40.0 * (i - per_side) / per_side
        title = (
            "被lumi精华液惊艳到了"
            if uniform
            else f"{WORDS[i % len(WORDS)]}：lumi{PRODUCTS[(i * 5) % len(PRODUCTS)]}{'值不值' if i % 3 else ''}"
        )
        out.append(note(f"bg{i}", f"bg{i}", day, title))
    return out


def test_titles_cut_from_one_brief_are_alike_and_others_are_not() -> None:
    assert similarity("被lumi精华液惊艳到了！", "被lumi精华液惊艳到了✨") == 1.0
    assert similarity("被lumi精华液惊艳到了", "lumi面霜真实测评") < 0.3


def test_a_wave_before_a_campaign_is_suspected_with_its_evidence() -> None:
    found = {f.note_id: f for f in judge(wave() + background(), CAMPAIGN, [], set())}
    suspected = {k for k, f in found.items() if f.suspected}
    # d wrote about lumi before, but a brief's copy is a copy whoever posts it: suspected too, without the first post
    assert suspected == {"w1", "w2", "w3", "d-later"}
    assert "BEFORE_CAMPAIGN" in found["d-later"].reasons
    assert "FIRST_POST_BEFORE_CAMPAIGN" not in found["d-later"].reasons
    assert "FIRST_POST_BEFORE_CAMPAIGN" in found["w1"].reasons
    ev = found["w1"].evidence
    assert [x["note_id"] for x in ev["same_brief_notes"]] == ["d-later", "w2", "w3"]
    assert ev["campaign_starts_in_days"] == 5.0
    assert "far" not in suspected


def test_no_campaign_or_too_few_alike_titles_raise_no_suspicion() -> None:
    assert not any(f.suspected for f in judge(wave() + background(), [], [], set()))
    pair = [n for n in wave() if n["note_id"] in ("w1", "w2")]
    assert not any(f.suspected for f in judge(pair + background(), CAMPAIGN, [], set()))


def test_alike_titles_are_judged_against_the_brands_own_norm() -> None:
    # Without a norm (no unrelated notes) nothing can be rare; where every title reads alike, neither is a brief.
    assert not any(f.suspected for f in judge(wave(), CAMPAIGN, [], set()))
    assert not any(f.suspected for f in judge(wave() + background(uniform=True), CAMPAIGN, [], set()))


def test_a_bigger_world_of_honest_notes_raises_no_suspicion() -> None:
    # Many honest first posts right before the campaign, with titles as varied as the brand's norm.
    crowd = [
        note(f"h{i}", f"h{i}", -3.0 + 8.0 * i / 120, f"{WORDS[i % 8]}lumi{PRODUCTS[i % 6]}{WORDS[(i // 8) % 8]}")
        for i in range(120)
    ]
    found = judge(crowd + background(per_side=200), CAMPAIGN, [], set())
    assert not any(f.suspected for f in found)


def test_regulars_posting_before_a_campaign_raise_no_suspicion() -> None:
    # The same crowd, every creator a regular who wrote about lumi a month before: no first posts, all peers.
    crowd = [
        note(f"h{i}", f"h{i}", -3.0 + 8.0 * i / 120, f"{WORDS[i % 8]}lumi{PRODUCTS[i % 6]}{WORDS[(i // 8) % 8]}")
        for i in range(120)
    ]
    earlier = [
        note(f"e{i}", f"h{i}", -40.0 + i / 10, f"lumi{PRODUCTS[(i + 1) % 6]}{WORDS[(i + 3) % 8]}") for i in range(120)
    ]
    found = judge(crowd + earlier + background(per_side=200), CAMPAIGN, [], set())
    assert any("BEFORE_CAMPAIGN" in f.reasons for f in found)
    assert not any(f.suspected for f in found)


def test_the_tails_match_their_distributions() -> None:
    assert abs(binomial_tail(2, 30, 0.001) - 4.2696e-4) < 1e-7
    assert abs(binomial_tail(4, 10, 0.3) - 0.3503893) < 1e-6
    assert binomial_tail(0, 5, 0.1) == 1.0 and binomial_tail(6, 5, 0.1) == 0.0
    assert abs(poisson_tail(20, 5.0) - 3.452136e-7) < 1e-12
    assert abs(poisson_tail(3, 1.0) - 0.0803014) < 1e-6


def test_evidenced_or_labelled_notes_are_never_suspected() -> None:
    notes = wave()
    notes[1]["disclosed"] = True
    found = {f.note_id: f for f in judge(notes + background(), CAMPAIGN, [], {"w3"})}
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
    for bg in background():
        day = (bg["published"] - T0).total_seconds() / 86_400 + 100  # the brand's ordinary notes, later on
        events.append(
            event(
                "note.published",
                at(day),
                note_id=bg["note_id"],
                creator_id=bg["creator_id"],
                brand="lumi",
                title=bg["title"],
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


def test_a_wave_stays_found_when_the_brand_has_many_more_honest_notes() -> None:
    # A brand eight times busier: 1,200 honest notes over four months from 1,200 creators, their titles cut from
    # 48 templates, so exact twins are common among the brand's notes (one pair in 48) and the run-up holds some
    # hundred peers. Judged against the brand's pooled norm, four twins among a hundred peers are chance; judged
    # against how often the brand's notes read like *this* title (never, outside the wave), they are not.
    crowd = [
        note(f"h{i}", f"h{i}", -60.0 + 120.0 * i / 1200, f"{WORDS[i % 8]}：lumi{PRODUCTS[(i // 8) % 6]}")
        for i in range(1200)
    ]
    brief = [n for n in wave() if n["note_id"] in ("w1", "w2", "w3", "d-later")]
    brief.append(note("w4", "f", 3.0, "被lumi精华液惊艳到了!!"))
    found = judge(brief + crowd, CAMPAIGN, [], set())
    assert {f.note_id for f in found if f.suspected} == {"w1", "w2", "w3", "w4", "d-later"}
    ev = next(f for f in found if f.note_id == "w1").evidence
    assert ev["peers"] > 90 and ev["brand_share_as_alike"] < 1e-3


def test_the_beta_binomial_tail_matches_its_distribution() -> None:
    # Beta(1, 1) makes every count of 0..m equally likely; a very sure Beta is the binomial.
    assert abs(betabinomial_tail(2, 4, 1.0, 1.0) - 0.6) < 1e-12
    assert abs(betabinomial_tail(2, 4, 3e6, 7e6) - binomial_tail(2, 4, 0.3)) < 1e-6
    assert betabinomial_tail(0, 3, 0.5, 9.0) == 1.0 and betabinomial_tail(4, 3, 0.5, 9.0) == 0.0


def test_a_burst_without_a_campaign_is_context_for_a_brief() -> None:
    # Twelve creators on lumi within three days, where it usually sees a couple a week: a burst, no campaign.
    # The brief's copies in it are suspected; the burst's other notes (titles of their own) carry the code only.
    others = [note(f"o{i}", f"o{i}", 1.0 + 2.0 * i / 8, f"{WORDS[i]}：lumi{PRODUCTS[i % 6]}真实感受") for i in range(8)]
    # (without 'far': the same words a month later would make them the brand's own, not a brief's)
    notes = [n for n in wave() if n["note_id"] != "far"] + others + background()
    found = {f.note_id: f for f in judge(notes, [], [], set())}
    assert {k for k, f in found.items() if f.suspected} == {"w1", "w2", "w3", "d-later"}
    assert all("BRAND_BURST" in found[k].reasons for k in ("w1", "o0", "o7"))
    for k in ("w1", "o3", "d-later"):
        t = next(n["published"] for n in notes if n["note_id"] == k)
        near = {n["creator_id"] for n in notes if abs(n["published"] - t) <= timedelta(days=3)}
        assert found[k].evidence["burst_creators"] == len(near) == 12
    assert not any("BRAND_BURST" in f.reasons for k, f in found.items() if k.startswith("bg"))
