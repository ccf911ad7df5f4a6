"""World kinds: each simulates, is deterministic, and its Shapley truth is efficient, exact where it can be, and
the additive world's own truth where the game is additive."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from hongmao.cli.app import app
from hongmao.contract import validate
from hongmao.errors import ConfigError
from hongmao.sim import simulate
from hongmao.sim.shapley import EXACT_MAX_PLAYERS, exact_shapley, sampled_shapley, shapley
from hongmao.sim.worlds import WORLD_KINDS, WORLDS, Dynamics, hill, linear

USERS, DAYS, BRANDS = 1200, 12, 3


def rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.jsonl"))}


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("worlds")
    return {
        kind: simulate(root / kind, seed=4, world=kind, users=USERS, days=DAYS, brands=BRANDS).out for kind in WORLDS
    }


def game_of(response: Any, organic: float, prior: float, k: float, x: Any, y: Any) -> Any:
    kind = replace(WORLD_KINDS["saturating"], response=response)
    dyn = Dynamics.__new__(Dynamics)
    dyn.kind = kind
    return dyn.game(organic, prior, k, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))


# -- the switch -----------------------------------------------------------------------------------------------------
def test_the_table_has_the_four_kinds_and_additive_first() -> None:
    assert WORLDS[:4] == ("additive", "saturating", "targeted", "routes")


@pytest.mark.parametrize("kind", WORLDS)
def test_each_kind_simulates_contract_events_with_orders_and_caused_orders(worlds: dict[str, Path], kind: str) -> None:
    out = worlds[kind]
    for path in sorted((out / "events").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert not isinstance(validate(json.loads(line)), list), line
    orders = list(rows(out / "truth" / "orders.jsonl"))
    assert len(orders) > 20
    assert 0 < sum(o["incremental"] for o in orders) < len(orders)
    meta = json.loads((out / "truth" / "world.json").read_text(encoding="utf-8"))
    assert meta["world"] == kind and meta["config"]["world"] == kind


@pytest.mark.parametrize("kind", ["saturating", "targeted", "routes"])
def test_each_kind_is_deterministic_for_a_seed_and_differs_from_the_additive_world(
    worlds: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    again = simulate(tmp_path / "again", seed=4, world=kind, users=USERS, days=DAYS, brands=BRANDS).out
    assert files(again) == files(worlds[kind])
    assert files(worlds[kind])["truth/orders.jsonl"] != files(worlds["additive"])["truth/orders.jsonl"]


def test_an_unknown_kind_is_a_config_error_naming_the_kinds(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown world kind 'nope'; known kinds: additive, saturating"):
        simulate(tmp_path / "w", users=20, days=1, brands=1, world="nope")


def test_cli_world_switch_runs_and_rejects_an_unknown_kind(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        app, ["simulate", "--out", str(tmp_path / "bad"), "--users", "20", "--days", "1", "--world", "x"]
    )
    assert bad.exit_code == 2
    text = " ".join(bad.output.replace("│", " ").split())  # the error box wraps at the terminal's width
    assert "unknown world kind 'x'; known kinds: additive, saturating, targeted, routes" in text
    assert not (tmp_path / "bad").exists()
    ok = runner.invoke(
        app, ["simulate", "--out", str(tmp_path / "ok"), "--users", "30", "--days", "2", "--world", "routes"]
    )
    assert ok.exit_code == 0, ok.output
    meta = json.loads((tmp_path / "ok" / "truth" / "world.json").read_text(encoding="utf-8"))
    assert meta["world"] == "routes"


# -- the truth ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["saturating", "targeted", "routes"])
def test_shapley_truth_rows_are_shares_of_the_order(worlds: dict[str, Path], kind: str) -> None:
    orders = list(rows(worlds[kind] / "truth" / "orders.jsonl"))
    for o in orders:
        assert o["shapley"] in ("exact", "sampled")
        assert 0.0 <= o["organic_share"] <= 1.0
        if o["incremental"]:
            assert math.isclose(math.fsum(o["weights"]), 1.0, abs_tol=1e-6)
            assert all(w > 0 for w in o["weights"]) and o["cause_note"] in o["notes"]
            assert o["organic_share"] < 1.0
        assert all(0.0 <= share <= 1.0 for share in o.get("campaign_effect", {}).values())
    # the sampled incremental flags follow the Shapley organic shares: their sums agree within sampling error
    expected = math.fsum(1.0 - o["organic_share"] for o in orders)
    drawn = sum(o["incremental"] for o in orders)
    sd = math.sqrt(math.fsum(o["organic_share"] * (1.0 - o["organic_share"]) for o in orders))
    assert abs(drawn - expected) <= 4 * sd + 1


def test_additive_world_rows_keep_their_original_shape(worlds: dict[str, Path]) -> None:
    first = next(rows(worlds["additive"] / "truth" / "orders.jsonl"))
    assert set(first) == {
        "order_id", "time", "user", "brand", "amount", "incremental", "notes", "weights", "cause_note",
        "campaign_id", "path", "click_id",
    }  # fmt: skip


def test_additive_truth_is_the_shapley_truth_of_the_additive_game(
    worlds: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The additive world's closed-form truth (each note's own hazard term) equals the Shapley values computed
    by the general path, run on the same world with the additive kind's game."""
    general = replace(WORLD_KINDS["additive"], name="additive_by_shapley", linear=False)
    monkeypatch.setitem(WORLD_KINDS, general.name, general)
    out = simulate(tmp_path / "g", seed=4, world=general.name, users=USERS, days=DAYS, brands=BRANDS).out
    base = {o["order_id"]: o for o in rows(worlds["additive"] / "truth" / "orders.jsonl")}
    by_shapley = {o["order_id"]: o for o in rows(out / "truth" / "orders.jsonl")}
    assert base.keys() == by_shapley.keys()
    assert sum(o["incremental"] for o in base.values()) > 10
    for oid, o in base.items():
        s = by_shapley[oid]
        assert (s["incremental"], s["notes"], s["cause_note"]) == (o["incremental"], o["notes"], o["cause_note"])
        assert s["weights"] == pytest.approx(o["weights"], abs=2e-6)
    assert files(out)["events/market.jsonl"] == files(worlds["additive"])["events/market.jsonl"]


def test_routes_world_routes_organic_orders_through_clicks(worlds: dict[str, Path], tmp_path: Path) -> None:
    bigger = simulate(tmp_path / "r", seed=4, world="routes", users=2000, days=14, brands=3).out
    routed = [o for o in rows(bigger / "truth" / "orders.jsonl") if o["click_id"] and not o["incremental"]]
    assert routed, "an organic buyer who clicked the brand's link orders through it"
    additive = [o for o in rows(worlds["additive"] / "truth" / "orders.jsonl") if o["click_id"]]
    assert all(o["incremental"] for o in additive)


# -- Shapley values -------------------------------------------------------------------------------------------------
def test_exact_shapley_of_an_additive_game_is_each_players_term() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.random(9), rng.random(9) * 0.1
    game = game_of(linear, 0.002, 0.0, 0.004, x, y)
    sv = exact_shapley(game, 9)
    assert sv.values == pytest.approx(0.004 * x + y, rel=1e-12)
    assert sv.empty == pytest.approx(0.002) and sv.se is None


@pytest.mark.parametrize("players", [1, 2, 5, EXACT_MAX_PLAYERS])
def test_exact_shapley_is_efficient_and_symmetric(players: int) -> None:
    rng = np.random.default_rng(players)
    x = rng.random(players) * 3
    x[-1] = x[0]
    game = game_of(hill(3.0), 0.001, 0.7, 0.01, x, np.zeros(players))
    sv = exact_shapley(game, players)
    assert math.fsum(sv.values) == pytest.approx(sv.full - sv.empty, rel=1e-12)
    assert sv.values[0] == pytest.approx(sv.values[-1], rel=1e-12)
    assert (sv.values >= 0).all()


def test_sampled_shapley_is_efficient_and_within_its_stated_error_of_exact() -> None:
    m = EXACT_MAX_PLAYERS
    rng = np.random.default_rng(20)
    game = game_of(hill(3.0), 0.001, 0.3, 0.01, rng.random(m) * 2.5, rng.random(m) * 0.002)
    exact = exact_shapley(game, m)
    sampled = sampled_shapley(game, m, np.random.default_rng(5))
    assert sampled.se is not None and (sampled.se > 0).all()
    assert math.fsum(sampled.values) == pytest.approx(exact.full - exact.empty, rel=1e-9)
    z = np.abs(sampled.values - exact.values) / sampled.se
    assert z.max() < 4.0, z
    assert (sampled.se < 0.1 * exact.values).all()  # 2,000 permutations pin every value to 10%


def test_beyond_twelve_players_the_values_are_sampled_and_still_efficient() -> None:
    m = EXACT_MAX_PLAYERS + 3
    game = game_of(hill(3.0), 0.001, 0.0, 0.01, np.full(m, 0.5), np.zeros(m))
    sv = shapley(game, m, np.random.default_rng(0))
    assert sv.se is not None
    assert math.fsum(sv.values) == pytest.approx(sv.full - sv.empty, rel=1e-9)
    fair = (sv.full - sv.empty) / m  # the exact value of each of m symmetric players
    assert (np.abs(sv.values - fair) < 4 * sv.se).all()
    with pytest.raises(ValueError, match="at most 12"):
        exact_shapley(game, m)


def test_saturating_notes_complement_at_low_intent_and_substitute_at_high() -> None:
    def interaction(prior: float) -> float:
        v = game_of(hill(3.0), 0.0, prior, 0.01, [1.0, 1.0], [0.0, 0.0])
        a, b, both, none = v(np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=np.bool_))
        return float(both - a - b + none)

    assert interaction(0.0) > 0  # together more than the sum of each alone
    assert interaction(5.0) < 0  # together less: they substitute
