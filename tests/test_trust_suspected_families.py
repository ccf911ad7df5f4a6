"""The brief test's multiplicity (issue 21, item 3): run-ups selected by Benjamini-Hochberg, notes within a selected
run-up by Bonferroni at the level the selection leaves, so a bigger world (more run-up notes tested) does not push
a wave's copies out of reach when other run-ups hold waves too; one run-up alone is judged as before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hongmao.trust.suspected import SuspectRules, family_cuts, judge
from test_trust_suspected import PRODUCTS, T0, WORDS, note

BRIEF = (
    "救命{b}精华液｜早八救星～",
    "姐妹们！{b}精华液｜早八救星",
    "{b}精华液｜早八救星!!",
    "挖到宝了{b}精华液｜早八救星✨",
)
BRANDS = ("lumi", "mori", "tula", "vexa")


def test_family_cuts_select_by_bh_and_share_alpha_within() -> None:
    # Four run-ups, their Bonferroni p-values 10 * 1e-4, 20 * 1e-3, 10 * 0.004 and 1.0 (0.001, 0.02, 0.04, 1.0)
    # against BH's 0.0125 r: 0.02 <= 0.025 passes, 0.04 > 0.0375 fails, so R = 2 of C = 4 are selected.
    sizes = {"a": 10, "b": 20, "c": 10, "d": 10}
    cuts = family_cuts(sizes, {"a": 1e-4, "b": 1e-3, "c": 0.004, "d": 0.5}, 0.05)
    assert abs(cuts["a"] - 0.05 * 2 / (4 * 10)) < 1e-15 and abs(cuts["b"] - 0.05 * 2 / (4 * 20)) < 1e-15
    # nothing selected: the cut-off is what one selection would allow (no p-value reaches it)
    assert family_cuts({"a": 10}, {"a": 0.5}, 0.05) == {"a": 0.005}
    assert family_cuts({"a": 10}, {}, 0.05) == {"a": 0.005}


def crowd(brand: str, n: int = 600) -> list[dict[str, Any]]:
    """A brand's honest notes over four months, titles from 48 templates: some fifty in the campaign's run-up."""
    return [
        note(
            f"{brand}h{i}",
            f"{brand}h{i}",
            -60.0 + 120.0 * i / n,
            f"{WORDS[i % 8]}：{brand}{PRODUCTS[(i // 8) % 6]}",
            brand=brand,
        )
        for i in range(n)
    ]


def world() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Four brands, each with a campaign and a wave before it; the last wave has four copies, the others five."""
    notes, campaigns = [], []
    for k, b in enumerate(BRANDS):
        titles = [t.format(b=b) for t in BRIEF] + ([] if k == len(BRANDS) - 1 else [f"真心推荐{b}精华液｜早八救星"])
        notes += crowd(b) + [note(f"{b}w{i}", f"{b}c{i}", 0.5 + 0.8 * i, t, brand=b) for i, t in enumerate(titles)]
        campaigns.append({"brand": b, "start": T0 + timedelta(days=6)})
    return notes, campaigns


def test_a_weaker_wave_is_found_when_other_run_ups_hold_waves_too() -> None:
    notes, campaigns = world()
    found = {f.note_id: f for f in judge(notes, campaigns, [], set())}
    waves = {k for k in found if "w" in k[4:]}
    assert {k for k, f in found.items() if f.suspected} == waves and len(waves) == 19
    ev = found["vexaw0"].evidence
    # the four-copy wave's p-value misses one Bonferroni cut-off over every run-up note, but clears its run-up's
    assert 0.05 / (4 * ev["peers"]) < ev["same_brief_p"] <= ev["same_brief_cut"]
    strict = judge(notes, campaigns, [], set(), SuspectRules(control="bonferroni"))
    assert not any(f.suspected for f in strict if f.note_id.startswith("vexaw"))


def test_honest_run_ups_stay_unsuspected() -> None:
    notes = [n for b in BRANDS for n in crowd(b)]
    campaigns = [{"brand": b, "start": T0 + timedelta(days=6)} for b in BRANDS]
    found = judge(notes, campaigns, [], set())
    assert sum("FIRST_POST_BEFORE_CAMPAIGN" in f.reasons for f in found) > 150  # the family tested is big
    assert not any(f.suspected for f in found)
