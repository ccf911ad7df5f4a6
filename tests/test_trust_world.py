"""On a small simulated world the trust guard finds what the simulator planted: fake-engagement rings (accounts,
notes, creators), hidden ads a campaign record lists, and deceptive seeding, with few false flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import hongmao
from hongmao import api
from hongmao.sim.config import WorldConfig
from hongmao.trust.pooled import PoolRules

pytestmark = pytest.mark.slow  # one 4,000-person world, simulated and ingested: about a minute


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("trust-world")
    # deceivers a little blunter than the default (how much each oversells still varies by creator): a world this
    # small gives each of them few orders, and the flag must still convict the clearest
    config = WorldConfig(deceptive_refund_rate=0.6)
    summary = hongmao.simulate(root / "world", seed=11, users=4_000, days=30, brands=4, config=config)
    hongmao.ingest([str(p) for p in summary.files], root / "lake")
    return root, api.trust_report(root / "lake", include_accounts=True)


def test_rings_are_found(world: tuple[Path, dict[str, Any]]) -> None:
    root, report = world
    truth = root / "world" / "truth"
    fake = {a["user"] for a in lines(truth / "fake_accounts.jsonl")}
    flagged = {a["user"] for a in report["accounts"]["list"]}
    assert len(flagged & fake) >= 0.9 * len(fake) and len(flagged - fake) <= 0.1 * len(flagged)
    notes = {n["note_id"]: n for n in lines(truth / "notes.jsonl")}
    ring_notes = {k for k, n in notes.items() if n["fake_engagement"]}
    flagged_notes = {e["note_id"] for e in report["notes"] if "fake_engagement" in e["flags"]}
    assert len(flagged_notes & ring_notes) >= 0.9 * len(ring_notes)
    assert len(flagged_notes - ring_notes) <= 0.1 * max(len(flagged_notes), 1)
    buyers = {c["creator_id"] for c in lines(truth / "creators.jsonl") if c["buys_fake_engagement"]}
    with_notes = {notes[k]["creator_id"] for k in ring_notes}
    flagged_creators = {e["creator_id"] for e in report["creators"] if "fake_engagement" in e["flags"]}
    assert flagged_creators <= buyers and flagged_creators >= with_notes


def test_hidden_ads_a_campaign_lists_are_flagged_and_labelled_notes_never(world: tuple[Path, dict[str, Any]]) -> None:
    root, report = world
    truth = root / "world" / "truth"
    notes = {n["note_id"]: n for n in lines(truth / "notes.jsonl")}
    codes = {
        e["note_id"]: {x["code"] for x in e["evidence"]["undisclosed"]["evidence"]}
        for e in report["notes"]
        if "undisclosed" in e["flags"]
    }
    flagged = set(codes)
    listed_hidden = {k for k, n in notes.items() if n["campaign_id"] and n["sponsored"] and not n["disclosed"]}
    assert listed_hidden and listed_hidden <= flagged
    assert not any(notes[k]["disclosed"] for k in flagged)
    # a flag on a record that names the note breaks the rule as written: unlabelled, and paid for or linked
    named = {k for k, c in codes.items() if c != {"DEAL_MATCHED"}}
    assert all(notes[k]["sponsored"] or notes[k]["links"] for k in named)
    # a deal that names no note is matched by creator, brand and time: mostly, not always, the paid note
    matched = flagged - named
    private = {k for k, n in notes.items() if n["sponsored"] and not n["disclosed"] and not n["campaign_id"]}
    assert matched and len(matched & private) >= 0.7 * len(matched)


def test_deceptive_flags_are_mostly_right_and_ranked_by_score(world: tuple[Path, dict[str, Any]]) -> None:
    root, report = world
    truth = root / "world" / "truth"
    creators = {c["creator_id"]: c for c in lines(truth / "creators.jsonl")}
    flagged = [e for e in report["creators"] if "deceptive" in e["flags"]]
    assert flagged, "a world with deceptive KOLs should convict at least one creator"
    right = sum(creators[e["creator_id"]]["deceptive"] for e in flagged)
    assert right >= 0.8 * len(flagged)
    for e in flagged:
        ev = e["evidence"]["deceptive"]
        assert ev["interval"][0] <= e["score"] <= ev["interval"][1]
        assert ev["orders"] >= 10 and ev["observed_rate"] > ev["baseline_rate"]
        assert ev["grounds"] and set(ev["grounds"]) <= {"pooled_posterior", "excess"}
        if ev["grounds"] == ["pooled_posterior"]:
            assert ev["p_deceptive"] >= PoolRules().creator_flag_level
    scores = [e["score"] for e in report["notes"] if e["flags"] == ["deceptive"]]
    assert scores == sorted(scores, reverse=True)


def test_the_watch_list_comes_before_the_flag(world: tuple[Path, dict[str, Any]]) -> None:
    _root, report = world
    watched = [e for e in report["creators"] if "deceptive" in e["watch"]]
    flagged = [e for e in report["creators"] if "deceptive" in e["flags"]]
    assert watched and not any("deceptive" in e["flags"] for e in watched)  # a stage of its own
    assert {e["evidence"]["deceptive"]["stage"] for e in watched} == {"watch"}
    assert {e["evidence"]["deceptive"]["stage"] for e in flagged} == {"flag"}
    level = PoolRules().watch_level
    assert all(
        e["evidence"]["deceptive"]["p_exceed"] >= 0.5 or e["evidence"]["deceptive"]["p_deceptive"] >= level
        for e in watched
    )
    # Whether the list adds deceivers beyond the flags is not asserted on a world this small: one creator decides
    # it (the plain linear credit watched one deceiver among five here, the item-matched credit none among three).
    # bench/trust.py measures what the list holds over 16 lakes (docs/trust.md, "Deception with item-matched
    # credit").
    assert report["summary"]["watched_creators"] == {"deceptive": len(watched)}


def test_flagged_accounts_match_the_report(world: tuple[Path, dict[str, Any]]) -> None:
    root, report = world
    assert api.flagged_accounts(root / "lake") == sorted(a["user"] for a in report["accounts"]["list"])


def test_agencies_in_the_records_reach_the_deceptive_evidence(world: tuple[Path, dict[str, Any]]) -> None:
    root, report = world
    named: dict[str, set[str]] = {}
    for path in sorted((root / "world" / "events").rglob("*.jsonl")):
        for e in lines(path):
            if e["type"] == "collaboration.created" and e["data"].get("agency"):
                named.setdefault(e["data"]["creator_id"], set()).add(e["data"]["agency"])
    assert named and all(len(v) == 1 for v in named.values())  # one agency per creator in the simulator
    groups = {
        e["creator_id"]: e["evidence"]["deceptive"]["group"] for e in report["creators"] if "deceptive" in e["evidence"]
    }
    assert {k: g for k, g in groups.items() if g is not None} == {k: min(v) for k, v in named.items() if k in groups}
    prior = report["summary"]["deceptive_prior"]["creator"]
    assert 0.0 < prior["deceptive_share"] < 0.5 and prior["pooling_strength"] > 0


def test_a_creators_flag_level_moves_creators_only(world: tuple[Path, dict[str, Any]]) -> None:
    """``PoolRules.creator_flag_level`` sets the pooled posterior at which a creator is flagged; notes keep
    ``flag_level``. Past 1 only the shrunk excess flags creators; at a lower level every creator on 10+ credited
    orders whose posterior reaches it is flagged too, and no note changes."""
    from dataclasses import replace

    from hongmao.trust import TrustParams, assemble
    from hongmao.trust.shrinkage import ScoreRules

    root, report = world
    inputs = api.trust_inputs(root / "lake")

    def judged(level: float) -> dict[str, Any]:
        params = TrustParams(score=ScoreRules(pooling=replace(PoolRules(), creator_flag_level=level)))
        return assemble(inputs, params)

    def flagged(report: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
        key = f"{kind}_id"
        return {e[key]: e["evidence"]["deceptive"] for e in report[f"{kind}s"] if "deceptive" in e["flags"]}

    by_excess = judged(1.01)
    excess_only = flagged(by_excess, "creator")
    assert all(ev["grounds"] == ["excess"] for ev in excess_only.values())
    res = inputs.deceptive_creators
    assert res is not None and res.pooled is not None
    post, orders, scored = res.pooled.posterior, res.primary.orders, res.primary.scored
    others = {
        k: float(post[j])
        for j, k in enumerate(res.keys)
        if scored[j] and orders[j] >= ScoreRules().min_orders and k not in excess_only and not k.startswith("(")
    }
    level = min(p for p in others.values() if p > 0.01)  # the least suspect creator a level can still reach
    lowered = judged(level)
    assert set(flagged(lowered, "creator")) == set(excess_only) | {k for k, p in others.items() if p >= level}
    assert all("pooled_posterior" in ev["grounds"] for k, ev in flagged(lowered, "creator").items() if k in others)
    assert set(flagged(lowered, "creator")) > set(flagged(report, "creator")) >= set(excess_only)
    assert flagged(lowered, "note") == flagged(by_excess, "note") == flagged(report, "note")
