"""The commercial load cap (轻商业化): the rule always holds, the total position-weighted score is optimal
(checked against brute force), organics and commercials keep their score order, and 10,000 candidates are fast."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongmao.trust import LoadCap, greedy_indices, rerank, rerank_indices
from hongmao.trust.rerank import position_weights

caps = st.builds(
    LoadCap,
    window=st.integers(1, 7),
    max_commercial=st.integers(1, 3),
    min_gap=st.integers(1, 4),
)
scores = st.one_of(st.floats(0, 1, allow_nan=False), st.sampled_from([0.0, 0.25, 0.5, 1.0]))


def brute_force(s: list[float], com: list[bool], cap: LoadCap, weights: str = "dcg") -> tuple[int, float]:
    """(most commercials that fit, best position-weighted value with that many), by trying every pattern."""
    o = sorted((x for x, c in zip(s, com, strict=True) if not c), reverse=True)
    c = sorted((x for x, f in zip(s, com, strict=True) if f), reverse=True)
    for count in range(len(c), -1, -1):
        length = len(o) + count
        w = position_weights(length, weights)
        best = None
        for slots in itertools.combinations(range(length), count):
            pattern = [False] * length
            for q in slots:
                pattern[q] = True
            if not cap.allows(pattern):
                continue
            oi, ci, value = iter(o), iter(c), 0.0
            for t, is_c in enumerate(pattern):
                value += w[t] * (next(ci) if is_c else next(oi))
            best = value if best is None else max(best, value)
        if best is not None:
            return count, best
    return 0, 0.0


@settings(max_examples=200, deadline=None)
@given(
    data=st.lists(st.tuples(scores, st.booleans()), max_size=10),
    cap=caps,
    weights=st.sampled_from(["dcg", "linear", "flat"]),
)
def test_optimal_against_brute_force(data: list[tuple[float, bool]], cap: LoadCap, weights: str) -> None:
    s = [x for x, _ in data]
    com = [c for _, c in data]
    feed = rerank_indices(s, com, cap, weights)
    count, best = brute_force(s, com, cap, weights)
    assert cap.allows(feed.commercial)
    assert sum(feed.commercial) == count
    assert feed.value == pytest.approx(best, abs=1e-9)
    greedy = greedy_indices(s, com, cap, weights)
    assert cap.allows(greedy.commercial)
    assert greedy.value <= feed.value + 1e-9 or sum(greedy.commercial) < count


@settings(max_examples=200, deadline=None)
@given(data=st.lists(st.tuples(scores, st.booleans()), max_size=80), cap=caps)
def test_rule_holds_order_is_kept_and_nothing_is_lost(data: list[tuple[float, bool]], cap: LoadCap) -> None:
    s = [x for x, _ in data]
    com = [c for _, c in data]
    feed = rerank_indices(s, com, cap)
    assert cap.allows(feed.commercial)
    # every organic is in the feed; every commercial is either placed or dropped; nothing twice
    organics = [i for i, c in enumerate(com) if not c]
    placed = [i for i, c in zip(feed.order, feed.commercial, strict=True) if c]
    assert sorted(i for i in feed.order if not com[i]) == organics
    assert sorted(placed + feed.dropped) == [i for i, c in enumerate(com) if c]
    assert [com[i] for i in feed.order] == feed.commercial
    # organics keep their order (descending score, ties in input order); so do commercials
    in_feed = [i for i in feed.order if not com[i]]
    assert in_feed == sorted(organics, key=lambda i: (-s[i], i))
    assert placed == sorted(placed, key=lambda i: (-s[i], i))
    # dropped commercials are the lowest-scored ones
    if feed.dropped and placed:
        assert max(s[i] for i in feed.dropped) <= min(s[i] for i in placed)
    assert feed.value <= feed.unconstrained_value + 1e-9


def test_the_greedy_trap_is_avoided() -> None:
    # Greedy puts the 6 first (6 > 5) and then every commercial one slot later than it could be;
    # starting with a commercial lets all five sit one slot higher, which is worth more.
    s = [6, 1, 1, 1, 1, 5, 5, 5, 5, 5]
    com = [False] * 5 + [True] * 5
    cap = LoadCap(window=2, max_commercial=1, min_gap=2)
    feed = rerank_indices(s, com, cap)
    greedy = greedy_indices(s, com, cap)
    assert feed.commercial == [True, False] * 5
    assert greedy.commercial == [False, True] * 5
    assert feed.value > greedy.value


def test_compliant_ranking_is_left_alone_and_rule_costs_score() -> None:
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    com = [False, False, True, False, False, True]
    feed = rerank_indices(s, com, LoadCap(window=3, max_commercial=1, min_gap=3))
    assert feed.order == [0, 1, 2, 3, 4, 5] and feed.loss == pytest.approx(0.0)
    crowded = rerank_indices([0.9, 0.8, 0.7, 0.1], [True, True, True, False], LoadCap(2, 1, 2))
    assert crowded.commercial == [True, False, True] and crowded.dropped == [2]
    assert crowded.loss > 0


def test_window_rule_binds_beyond_the_gap() -> None:
    # at most 2 commercial in any 6 slots, at least 2 apart: C . C . . . C . C
    s = [1.0] * 6 + [0.1] * 6
    com = [True] * 6 + [False] * 6
    feed = rerank_indices(s, com, LoadCap(window=6, max_commercial=2, min_gap=2))
    slots = [t for t, c in enumerate(feed.commercial) if c]
    assert slots[:4] == [0, 2, 6, 8]


def test_rerank_wrapper_and_weights() -> None:
    out = rerank([("a", 0.9, True), {"id": "b", "score": 0.8, "commercial": True}, ("c", 0.1, False)], 2, 1, 2)
    assert [x["id"] for x in out["feed"]] == ["a", "c", "b"]
    assert out["dropped"] == []
    with pytest.raises(ValueError, match="non-increasing"):
        position_weights(3, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        LoadCap(window=0)


def test_ten_thousand_candidates_are_fast() -> None:
    rng = np.random.default_rng(3)
    n = 10_000
    com = rng.random(n) < 0.25
    s = rng.random(n)
    cap = LoadCap(window=10, max_commercial=2, min_gap=3)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        feed = rerank_indices(s, com, cap)
        best = min(best, time.perf_counter() - started)
    assert cap.allows(feed.commercial)
    assert best < 2.0  # typically tens of milliseconds; the bound only catches a pathological slowdown


def test_rerank_command(tmp_path: Path) -> None:
    path = tmp_path / "cands.csv"
    path.write_text("id,score,commercial\nn1,0.9,0\nad1,0.95,1\nad2,0.94,1\nn2,0.5,0\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hongmao.cli",
            "rerank",
            str(path),
            "--window",
            "2",
            "--max-commercial",
            "1",
            "--min-gap",
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(proc.stdout)
    assert [x["id"] for x in out["feed"]] == ["ad1", "n1", "ad2", "n2"]
