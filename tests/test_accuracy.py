"""Accuracy against ground truth: true credit from truth rows, the two misplaced-credit measures with exact
values, interval coverage, and the measures on a small simulated world (the truth scores zero against itself;
every model scores within [0, 1])."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hongmao.errors import InputError
from hongmao.measure.accuracy import NO_NOTE, coverage, credit_error, total_variation, true_credit
from simkit import small_world

ORDERS: list[dict[str, Any]] = [
    {"order_id": "o1", "incremental": True, "notes": ["a", "b"], "weights": [0.75, 0.25]},
    {"order_id": "o2", "incremental": True, "notes": ["a"], "weights": [1.0]},
    {"order_id": "o3", "incremental": True, "notes": ["c", "b"], "weights": [0.5, 0.5]},
    {"order_id": "o4", "incremental": False, "notes": [], "weights": []},
]
CREATOR = {"a": "x", "b": "y", "c": "y"}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return small_world(tmp_path_factory)


def test_true_credit_by_note_and_creator() -> None:
    by_note = true_credit(ORDERS)
    assert by_note.by_key == {"a": 1.75, "b": 0.75, "c": 0.5}
    assert (by_note.incremental_orders, by_note.organic_orders, by_note.total_orders) == (3, 1, 4)
    assert true_credit(ORDERS, CREATOR).by_key == {"x": 1.75, "y": 1.25}


def test_true_credit_rejects_broken_truth() -> None:
    with pytest.raises(InputError, match="sum to"):
        true_credit([{"incremental": True, "notes": ["a"], "weights": [0.5]}])
    with pytest.raises(InputError, match="one weight each"):
        true_credit([{"incremental": True, "notes": ["a", "b"], "weights": [1.0]}])
    with pytest.raises(InputError, match="no key"):
        true_credit(ORDERS, {"a": "x"})


def test_total_variation() -> None:
    assert total_variation({"a": 1, "b": 1}, {"a": 3, "b": 1}) == pytest.approx(0.25)
    assert total_variation({"a": 2}, {"b": 5}) == pytest.approx(1.0)
    assert total_variation({"a": 1, "b": 3}, {"a": 2, "b": 6}) == pytest.approx(0.0)
    with pytest.raises(InputError):
        total_variation({}, {"a": 1})
    with pytest.raises(InputError, match="negative"):
        total_variation({"a": -1, "b": 3}, {"a": 1})


def test_credit_error_exact() -> None:
    truth = true_credit(ORDERS)  # a 1.75, b 0.75, c 0.5 of 4 orders (1 organic)
    # a model crediting all four orders, one of them to a community search
    credited = {"a": 2.0, "b": 1.0, "(community search)": 1.0}
    err = credit_error(truth, credited)
    # shares: model a .5 b .25 search .25; truth a 7/12 b 3/12 c 2/12
    assert err.misplaced_share == pytest.approx(0.5 * (abs(0.5 - 7 / 12) + 0 + 0.25 + 2 / 12))
    # all orders: model a 2 b 1 search 1 none 0; truth a 1.75 b .75 c .5 none 1 -> half the L1 / 4
    assert err.misplaced_with_organic == pytest.approx(0.5 * (0.25 + 0.25 + 1 + 0.5 + 1) / 4)
    assert (err.credited_orders, err.true_orders, err.total_orders, err.excess_credit) == (4.0, 3.0, 4, 1.0)
    perfect = credit_error(truth, truth.by_key)
    assert perfect.misplaced_share == 0.0 and perfect.misplaced_with_organic == 0.0
    nothing = credit_error(truth, {})
    assert nothing.misplaced_share == 1.0 and nothing.misplaced_with_organic == pytest.approx(0.75)
    assert set(err.to_dict()) >= {"misplaced_share", "misplaced_with_organic", "excess_credit"}
    assert NO_NOTE not in credited


def test_credit_error_rejects_impossible_inputs() -> None:
    truth = true_credit(ORDERS)
    with pytest.raises(InputError, match="only 4 orders"):
        credit_error(truth, {"a": 5.0})
    with pytest.raises(InputError, match="no incremental"):
        credit_error(true_credit([ORDERS[3]]), {"a": 1.0})


def test_coverage() -> None:
    assert coverage([(0, 2), (1, 3), (5, 6)], [2, 0, 5.5]) == pytest.approx(2 / 3)
    with pytest.raises(InputError):
        coverage([], [])
    with pytest.raises(ValueError):
        coverage([(0, 1)], [1, 2])


def test_models_on_a_simulated_world(sim: tuple[Path, Path]) -> None:
    from hongmao import api

    world, lake = sim
    rows = [json.loads(line) for line in (world / "truth" / "orders.jsonl").read_text(encoding="utf-8").splitlines()]
    creator_of = {
        n["note_id"]: n["creator_id"]
        for n in map(json.loads, (world / "truth" / "notes.jsonl").read_text(encoding="utf-8").splitlines())
    }
    truth = {"note": true_credit(rows), "creator": true_credit(rows, creator_of)}
    assert truth["note"].incremental_orders > 20 and truth["note"].organic_orders > 20
    # the lake holds every order of the truth, and the truth scores zero against itself
    for by in ("note", "creator"):
        assert credit_error(truth[by], truth[by].by_key).misplaced_share == 0.0
    errors = {}
    for model in ("first", "last", "linear", "markov"):
        result = api.attribute(lake, model, "note")
        assert result.orders == truth["note"].total_orders
        err = credit_error(truth["note"], {r["key"]: r["orders"] for r in result.rows}, result.orders)
        assert 0.0 < err.misplaced_share < 1.0 and err.misplaced_share <= err.misplaced_with_organic + 1e-12
        errors[model] = err.misplaced_share
    # first touch is the worst of the rule models on a world where intent fades
    assert errors["first"] > errors["linear"]


@pytest.mark.parametrize("kind", ["saturating", "targeted", "routes"])
def test_every_world_kinds_truth_reads_as_true_credit(tmp_path: Path, kind: str) -> None:
    """The Shapley truth of every world kind has the shape the measures read: caused orders sum to their count."""
    from hongmao.sim import simulate

    out = simulate(tmp_path / kind, seed=2, users=1200, days=12, brands=3, world=kind).out
    rows = [json.loads(line) for line in (out / "truth" / "orders.jsonl").read_text(encoding="utf-8").splitlines()]
    truth = true_credit(rows)
    assert truth.incremental_orders > 5 and truth.organic_orders > 5
    assert sum(truth.by_key.values()) == pytest.approx(truth.incremental_orders)
    assert credit_error(truth, truth.by_key).misplaced_share == 0.0
