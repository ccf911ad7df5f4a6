"""Attribution models on aggregated paths: golden fixtures, the journey file reader, and model properties.

The fixtures (``../shared/data/attribution_fixtures.json``) give exact expected credits for small path sets;
every model is checked against every case. Property tests check what must hold for any input: credits add
up, input order does not matter, Shapley's axioms hold, the exact solvers agree with each other.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA
from hongmao.attribution import (
    MODELS,
    ChannelCredit,
    PathRow,
    absorbing,
    attribute_paths,
    format_paths,
    markov_attribution,
    parse_paths,
    path_game,
    position_weights,
    read_paths,
    rules,
    sample_shapley,
    sample_shapley_paths,
    shapley,
    shapley_lattice,
    shapley_paths,
    time_decay_weights,
)
from hongmao.errors import AttributionError, HongmaoError, InputError

FIXTURES = SHARED_DATA / "attribution_fixtures.json"
PRICE = 7.5  # fixture rows carry no value: give each conversion this value, so value credit = PRICE * credit
TOLERANCE = 1e-9
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load_cases() -> list[Any]:
    if not FIXTURES.exists():
        reason = f"attribution fixtures {FIXTURES} are absent (CI has them at ../shared/data beside the clone)"
        return [pytest.param(None, id="no-fixtures", marks=pytest.mark.skip(reason=reason))]
    cases = json.loads(FIXTURES.read_text(encoding="utf-8"))["cases"]
    return [pytest.param(case, id=name) for name, case in cases.items()]


CASES = _load_cases()


def fixture_rows(case: dict[str, Any]) -> list[PathRow]:
    given_ = case["input"]
    return [
        PathRow(tuple(path.split(" > ")), float(conversions), PRICE * conversions, float(nulls))
        for path, conversions, nulls in zip(
            given_["path"], given_["total_conversions"], given_["total_null"], strict=True
        )
    ]


def by_channel(credits: list[ChannelCredit]) -> dict[str, ChannelCredit]:
    return {credit.channel: credit for credit in credits}


def assert_credits(credits: list[ChannelCredit], expected: dict[str, float], tolerance: float = TOLERANCE) -> None:
    """Compare credits with expected conversions (value must be PRICE times them); missing channels are 0."""
    got = by_channel(credits)
    for channel in set(got) | set(expected):
        want = float(expected.get(channel, 0.0))
        credit = got.get(channel, ChannelCredit(channel, 0.0, 0.0))
        assert credit.conversions == pytest.approx(want, abs=tolerance), channel
        assert credit.value == pytest.approx(PRICE * want, abs=tolerance * PRICE * 10), channel


# ---- golden fixtures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["first", "last", "linear", "position", "markov", "shapley"])
@pytest.mark.parametrize("case", CASES)
def test_fixture_credits(case: dict[str, Any], model: str) -> None:
    assert_credits(attribute_paths(fixture_rows(case), model), case["expected"][model])


@pytest.mark.parametrize("case", CASES)
def test_fixture_markov_details(case: dict[str, Any]) -> None:
    expected = case["expected"]
    result = markov_attribution(fixture_rows(case))
    assert result.conversion_rate == pytest.approx(expected["markov_base_conversion_rate"], abs=TOLERANCE)
    for channel, effect in expected["markov_removal_effect"].items():
        assert result.removal_effects[channel] == pytest.approx(effect, abs=TOLERANCE)


@pytest.mark.parametrize(("solver", "method"), [(s, m) for s in ("dense", "sparse") for m in ("update", "reduce")])
@pytest.mark.parametrize("case", CASES)
def test_fixture_markov_every_solver(case: dict[str, Any], solver: str, method: str) -> None:
    credits = attribute_paths(fixture_rows(case), "markov", solver=solver, method=method)
    assert_credits(credits, case["expected"]["markov"])


@pytest.mark.parametrize("case", CASES)
def test_fixture_shapley_lattice_and_sampled(case: dict[str, Any]) -> None:
    rows = fixture_rows(case)
    expected = case["expected"]["shapley"]
    assert_credits(attribute_paths(rows, "shapley", method="lattice"), expected)
    sampled = sample_shapley_paths(path_game(rows), permutations=400, seed=3)
    for channel, estimate in sampled.estimates.items():
        bound = sampled.hoeffding[channel]
        assert bound is not None
        assert abs(estimate - expected.get(channel, 0.0)) <= bound
    assert math.fsum(sampled.estimates.values()) == pytest.approx(sum(row.conversions for row in rows))


@pytest.mark.parametrize("case", CASES)
def test_fixture_higher_order_markov_order_one_is_the_fixture(case: dict[str, Any]) -> None:
    assert_credits(attribute_paths(fixture_rows(case), "markov", order=1), case["expected"]["markov"])


# ---- rule weights --------------------------------------------------------------------------------------


def test_position_weights() -> None:
    assert position_weights(1) == (1.0,)
    assert position_weights(2) == (0.5, 0.5)
    assert position_weights(3) == pytest.approx((0.4, 0.2, 0.4))
    assert position_weights(5) == pytest.approx((0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4))
    assert position_weights(2, 0.3, 0.1) == pytest.approx((0.75, 0.25))
    assert position_weights(4, 0.5, 0.5) == (0.5, 0.0, 0.0, 0.5)
    with pytest.raises(AttributionError, match="first_share"):
        position_weights(3, 0.7, 0.7)


def test_time_decay_weights() -> None:
    assert time_decay_weights([2.0, 1.0, 0.0], half_life=1.0) == pytest.approx((1 / 7, 2 / 7, 4 / 7))
    assert time_decay_weights([0.0, 0.0]) == (0.5, 0.5)
    # far-apart touches do not underflow: the youngest always keeps its weight
    assert time_decay_weights([1e6, 0.0], half_life=1.0) == (0.0, 1.0)
    with pytest.raises(AttributionError, match="half_life"):
        time_decay_weights([1.0], half_life=0.0)
    with pytest.raises(AttributionError, match="ages"):
        time_decay_weights([-1.0])


def test_time_decay_on_paths_spaces_touches_one_day_apart() -> None:
    rows = [PathRow(("a", "b", "c"), 7.0, 70.0, 0.0)]
    credits = by_channel(attribute_paths(rows, "time_decay", half_life=1.0))
    assert credits["a"].conversions == pytest.approx(1.0)
    assert credits["b"].conversions == pytest.approx(2.0)
    assert credits["c"].conversions == pytest.approx(4.0)
    assert credits["c"].value == pytest.approx(40.0)
    default = by_channel(attribute_paths(rows, "time_decay"))  # half-life of 7 days
    assert default["c"].conversions / default["b"].conversions == pytest.approx(2 ** (1 / 7))


def test_rule_weights_reject_empty_paths() -> None:
    for weights in (rules.first_touch_weights, rules.last_touch_weights, rules.linear_weights):
        with pytest.raises(AttributionError):
            weights(0)


# ---- the registry --------------------------------------------------------------------------------------


def test_models_are_the_documented_seven() -> None:
    assert MODELS == ("first", "last", "linear", "position", "time_decay", "markov", "shapley")


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(AttributionError, match="known models: first, last, linear, position") as caught:
        attribute_paths([], "lastclick")
    assert isinstance(caught.value, HongmaoError) and isinstance(caught.value, ValueError)


def test_unknown_or_bad_parameters() -> None:
    rows = [PathRow(("a",), 1.0, 1.0, 0.0)]
    with pytest.raises(AttributionError, match="no parameter half_life; its parameters: none"):
        attribute_paths(rows, "linear", half_life=3)
    with pytest.raises(AttributionError, match="order"):
        attribute_paths(rows, "markov", order=0)
    with pytest.raises(AttributionError, match="solver"):
        attribute_paths(rows, "markov", solver="gpu")
    with pytest.raises(AttributionError, match="method"):
        attribute_paths(rows, "shapley", method="banzhaf")
    with pytest.raises(AttributionError, match="half_life"):
        attribute_paths(rows, "time_decay", half_life=-1)
    with pytest.raises(AttributionError, match="PathRow"):
        attribute_paths([("a",)], "first")  # type: ignore[list-item]


def test_result_lists_every_channel_sorted_by_credit_then_name() -> None:
    rows = [
        PathRow(("b", "a"), 2.0, 20.0, 1.0),
        PathRow(("c",), 2.0, 10.0, 0.0),
        PathRow(("z",), 0.0, 0.0, 5.0),  # never converts: listed with no credit
    ]
    credits = attribute_paths(rows, "last")
    assert [c.channel for c in credits] == ["a", "c", "b", "z"]
    assert by_channel(credits)["z"] == ChannelCredit("z", 0.0, 0.0)


def test_zero_conversion_rows_give_rule_models_no_credit_but_matter_to_markov() -> None:
    converted = [PathRow(("a", "b"), 4.0, 40.0, 0.0)]
    with_nulls = [*converted, PathRow(("a",), 0.0, 0.0, 4.0)]
    for model in ("first", "last", "linear", "position", "time_decay", "shapley"):
        assert attribute_paths(with_nulls, model)[:2] == attribute_paths(converted, model)
    before = by_channel(attribute_paths(converted, "markov"))
    after = by_channel(attribute_paths(with_nulls, "markov"))
    assert before["a"].conversions == pytest.approx(2.0)
    assert after["a"].conversions == pytest.approx(2.0)  # a and b are each still necessary...
    assert markov_attribution(with_nulls).conversion_rate == pytest.approx(0.5)  # ...but the rate halves


# ---- the journey file ----------------------------------------------------------------------------------

GOOD = """\ufeffpath;total_conversions;total_conversion_value;total_null
note:A > search > note:B;3;297.5;12
direct;0;0;4

search;1.5;-20;0
"""


def test_read_good_file(tmp_path: Path) -> None:
    path = tmp_path / "paths.csv"
    path.write_text(GOOD, encoding="utf-8")
    rows = read_paths(path)
    assert rows == [
        PathRow(("note:A", "search", "note:B"), 3.0, 297.5, 12.0),
        PathRow(("direct",), 0.0, 0.0, 4.0),
        PathRow(("search",), 1.5, -20.0, 0.0),
    ]
    assert parse_paths(format_paths(rows).splitlines()) == rows


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("a > b;1;2", "expected 4 fields"),
        ("a > b;1;2;3;4", "expected 4 fields"),
        ("a > b;one;2;3", "total_conversions is not a number"),
        ("a > b;1;2;-3", "total_null must not be negative"),
        ("a > b;-1;2;3", "total_conversions must not be negative"),
        ("a > b;nan;2;3", "total_conversions must be finite"),
        ("a > b;1;inf;3", "total_conversion_value must be finite"),
        ("a > b;1;;3", "total_conversion_value is not a number"),
        (";1;2;3", "empty path"),
        ("a >  > b;1;2;3", "step 2 of the path is empty"),
        ("a>b;1;2;3", "step 1 contains '>'"),
    ],
)
def test_bad_line_names_line_number_and_reason(line: str, reason: str) -> None:
    lines = ["path;total_conversions;total_conversion_value;total_null", "a;1;1;0", line]
    with pytest.raises(InputError, match=rf"journeys.csv: line 3: {reason}"):
        parse_paths(lines, source="journeys.csv")


def test_header_is_required() -> None:
    with pytest.raises(InputError, match="line 1: expected the header"):
        parse_paths(["a > b;1;2;3"])
    with pytest.raises(InputError, match="empty file"):
        parse_paths(["", "  "])


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read"):
        read_paths(tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"path;total_conversions;total_conversion_value;total_null\n\xff\xfe;1;1;1\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_paths(binary)


def test_path_row_checks_itself() -> None:
    with pytest.raises(AttributionError, match="at least one step"):
        PathRow((), 1.0, 1.0, 0.0)
    with pytest.raises(AttributionError, match="conversions must not be negative"):
        PathRow(("a",), -1.0, 1.0, 0.0)
    with pytest.raises(AttributionError, match="non-empty string"):
        PathRow(("a", ""), 1.0, 1.0, 0.0)
    odd = PathRow(("a;b", "x > y"), 1.0, 1.0, 0.0)  # any name is a valid channel in memory...
    assert attribute_paths([odd], "linear")[0].conversions == 0.5
    with pytest.raises(AttributionError, match="cannot be written"):  # ...but not in a journey file
        format_paths([odd])


# ---- property tests ------------------------------------------------------------------------------------

CHANNELS = ["a", "b", "c", "d", "e", "f"]
amounts = st.integers(min_value=0, max_value=6).map(float)
path_rows = st.builds(
    PathRow,
    steps=st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=5).map(tuple),
    conversions=amounts,
    value=st.floats(min_value=-50, max_value=500, allow_nan=False).map(lambda v: round(v, 2)),
    nulls=amounts,
)
row_lists = st.lists(path_rows, min_size=1, max_size=8)
RULE_MODELS = ["first", "last", "linear", "position", "time_decay"]


def totals(credits: list[ChannelCredit]) -> tuple[float, float]:
    return math.fsum(c.conversions for c in credits), math.fsum(c.value for c in credits)


@SETTINGS
@given(row=path_rows)
def test_rule_credits_of_a_path_sum_to_its_conversions_and_value(row: PathRow) -> None:
    for model in RULE_MODELS:
        conversions, value = totals(attribute_paths([row], model))
        assert conversions == pytest.approx(row.conversions, abs=1e-9)
        assert value == pytest.approx(row.value, abs=1e-9)


@SETTINGS
@given(rows=row_lists, seed=st.integers(0, 2**32 - 1))
def test_input_order_does_not_matter(rows: list[PathRow], seed: int) -> None:
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    for model in MODELS:
        assert attribute_paths(shuffled, model) == attribute_paths(rows, model), model
    assert attribute_paths(shuffled, "markov", order=2) == attribute_paths(rows, "markov", order=2)
    sampled = {"method": "sampled", "permutations": 20}
    assert attribute_paths(shuffled, "shapley", **sampled) == attribute_paths(rows, "shapley", **sampled)


@SETTINGS
@given(rows=row_lists, order=st.integers(1, 3))
def test_markov_credits_sum_to_total_conversions_and_value(rows: list[PathRow], order: int) -> None:
    result = markov_attribution(rows, order)
    total = math.fsum(row.conversions for row in rows)
    if result.conversion_rate > 0:
        assert math.fsum(result.conversions.values()) == pytest.approx(total, abs=1e-9)
        assert math.fsum(result.value.values()) == pytest.approx(math.fsum(r.value for r in rows), abs=1e-7)
        assert all(0.0 <= effect <= 1.0 for effect in result.removal_effects.values())
    else:
        assert total == 0


@SETTINGS
@given(rows=row_lists, order=st.integers(1, 3))
def test_markov_solvers_agree(rows: list[PathRow], order: int) -> None:
    results = [
        markov_attribution(rows, order, solver=solver, method=method)
        for solver in ("dense", "sparse")
        for method in ("update", "reduce")
    ]
    for other in results[1:]:
        assert other.conversion_rate == pytest.approx(results[0].conversion_rate, abs=1e-12)
        for channel, effect in results[0].removal_effects.items():
            assert other.removal_effects[channel] == pytest.approx(effect, abs=1e-9)


@SETTINGS
@given(rows=row_lists)
def test_shapley_efficiency(rows: list[PathRow]) -> None:
    conversions, value = totals(attribute_paths(rows, "shapley"))
    game = path_game(rows)
    everyone = frozenset(game.players)
    assert conversions == pytest.approx(game.worth(everyone), abs=1e-9)
    assert value == pytest.approx(game.worth(everyone, of="value"), abs=1e-7)


def _swap(row: PathRow, x: str, y: str) -> PathRow:
    swapped = tuple(y if s == x else x if s == y else s for s in row.steps)
    return PathRow(swapped, row.conversions, row.value, row.nulls)


@SETTINGS
@given(rows=row_lists)
def test_shapley_symmetry(rows: list[PathRow]) -> None:
    # adding every path with a and b swapped makes a and b interchangeable in v
    mirrored = rows + [_swap(row, "a", "b") for row in rows]
    credits = by_channel(attribute_paths(mirrored, "shapley"))
    if "a" in credits:
        assert credits["a"].conversions == pytest.approx(credits["b"].conversions, abs=1e-9)
        assert credits["a"].value == pytest.approx(credits["b"].value, abs=1e-7)


@SETTINGS
@given(rows=row_lists)
def test_shapley_null_player(rows: list[PathRow]) -> None:
    # "z" joins only paths worth nothing: adding it to any coalition never changes v, so it earns nothing
    nulls = [PathRow((*row.steps, "z"), 0.0, 0.0, row.nulls + 1) for row in rows]
    credits = by_channel(attribute_paths(rows + nulls, "shapley"))
    assert credits["z"].conversions == 0.0 and credits["z"].value == 0.0
    assert {c: v.conversions for c, v in credits.items() if c != "z"} == pytest.approx(
        {c.channel: c.conversions for c in attribute_paths(rows, "shapley")}
    )


@SETTINGS
@given(rows=row_lists)
def test_shapley_lattice_equals_the_dividend_split(rows: list[PathRow]) -> None:
    exact = attribute_paths(rows, "shapley")
    lattice = by_channel(attribute_paths(rows, "shapley", method="lattice"))
    for credit in exact:
        assert lattice[credit.channel].conversions == pytest.approx(credit.conversions, abs=1e-9)
        assert lattice[credit.channel].value == pytest.approx(credit.value, abs=1e-7)


def _worth_tables(n: int) -> st.SearchStrategy[np.ndarray[Any, np.dtype[np.float64]]]:
    worth = st.floats(min_value=-10, max_value=10, allow_nan=False)
    return st.lists(worth, min_size=1 << n, max_size=1 << n).map(lambda w: np.array([0.0, *w[1:]]))


games = st.integers(1, 5).flatmap(_worth_tables)


@SETTINGS
@given(table=games)
def test_lattice_axioms_on_any_game(table: np.ndarray[Any, np.dtype[np.float64]]) -> None:
    n = table.size.bit_length() - 1
    values = shapley.shapley_from_table(table)
    assert values.sum() == pytest.approx(table[-1], abs=1e-9)  # efficiency (v of the empty set is 0)
    assert shapley.worth_from_dividends(shapley.harsanyi_dividends(table)) == pytest.approx(table)
    # a null player: a new bit whose joining never changes the worth
    extended = np.concatenate([table, table])
    assert shapley.shapley_from_table(extended)[n] == pytest.approx(0.0, abs=1e-9)
    assert shapley.shapley_from_table(extended)[:n] == pytest.approx(values, abs=1e-9)
    # symmetry: a game that only counts members treats everyone alike
    sizes = np.array([bin(mask).count("1") for mask in range(table.size)], dtype=np.float64)
    counted = shapley.shapley_from_table(np.asarray(table[np.minimum(sizes, table.size - 1).astype(int)]))
    assert counted == pytest.approx(np.full(n, counted[0]), abs=1e-9)


@SETTINGS
@given(rows=st.lists(st.tuples(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=4), amounts), max_size=6))
def test_paths_file_round_trip(rows: list[tuple[list[str], float]]) -> None:
    records = [PathRow(tuple(steps), count, count * 3.25, count + 1) for steps, count in rows]
    assert parse_paths(format_paths(records).splitlines()) == records


# ---- Markov, beyond the fixtures -----------------------------------------------------------------------


def test_second_order_remembers_where_the_journey_came_from() -> None:
    # a > x always converts, b > x never does. Order 1 merges both into one state x that converts half the
    # time, so b looks as useful as a; order 2 keeps (a, x) and (b, x) apart and b earns nothing.
    rows = [PathRow(("a", "x"), 1.0, 10.0, 0.0), PathRow(("b", "x"), 0.0, 0.0, 1.0)]
    first = markov_attribution(rows, 1)
    assert first.removal_effects == pytest.approx({"a": 0.5, "b": 0.5, "x": 1.0})
    assert first.conversions == pytest.approx({"a": 0.25, "b": 0.25, "x": 0.5})
    second = markov_attribution(rows, 2)
    assert second.removal_effects == pytest.approx({"a": 1.0, "b": 0.0, "x": 1.0})
    assert second.conversions == pytest.approx({"a": 0.5, "b": 0.0, "x": 0.5})
    assert second.value == pytest.approx({"a": 5.0, "b": 0.0, "x": 5.0})
    assert second.states == 4  # (a,), (b,), (a, x), (b, x)


def test_higher_order_differs_where_order_matters_and_still_sums() -> None:
    rows = [
        PathRow(("a", "b", "c"), 10.0, 100.0, 2.0),
        PathRow(("b", "a", "c"), 1.0, 10.0, 9.0),
        PathRow(("c",), 3.0, 30.0, 5.0),
        PathRow(("a", "b", "a", "c"), 2.0, 20.0, 2.0),
    ]
    first, second = markov_attribution(rows, 1), markov_attribution(rows, 2)
    assert first.conversions != pytest.approx(second.conversions, abs=1e-3)
    for result in (first, second, markov_attribution(rows, 3)):
        assert math.fsum(result.conversions.values()) == pytest.approx(16.0)
        assert math.fsum(result.value.values()) == pytest.approx(160.0)


def test_markov_self_loops_change_nothing_at_order_one() -> None:
    plain = [PathRow(("a", "b"), 2.0, 2.0, 1.0), PathRow(("b",), 1.0, 1.0, 3.0)]
    looped = [PathRow(("a", "a", "b"), 2.0, 2.0, 1.0), PathRow(("b", "b", "b"), 1.0, 1.0, 3.0)]
    assert markov_attribution(looped).conversions == pytest.approx(markov_attribution(plain).conversions)


def test_markov_without_conversions_or_journeys() -> None:
    silent = markov_attribution([PathRow(("a", "b"), 0.0, 0.0, 3.0)])
    assert silent.conversion_rate == 0.0 and silent.conversions == {"a": 0.0, "b": 0.0}
    empty = markov_attribution([PathRow(("a",), 0.0, 0.0, 0.0)])
    assert empty.conversions == {"a": 0.0} and empty.states == 0
    assert markov_attribution([]).conversions == {}


def test_absorb_refuses_what_is_not_an_absorbing_chain() -> None:
    q = np.array([[0.0, 0.9], [0.5, 0.0]])
    with pytest.raises(AttributionError, match="more than 1"):
        absorbing.absorb(q, np.array([0.2, 0.1]), 0, [])
    with pytest.raises(AttributionError, match="negative"):
        absorbing.absorb(-q, np.array([0.1, 0.1]), 0, [])
    with pytest.raises(AttributionError, match="start state cannot be removed"):
        absorbing.absorb(q * 0.5, np.array([0.1, 0.1]), 0, [np.array([0], dtype=np.intp)])
    trap = np.array([[0.0, 1.0], [1.0, 0.0]])  # a closed loop never absorbs: I - Q is singular
    for solver in ("dense", "sparse"):
        with pytest.raises(AttributionError, match="singular"):
            absorbing.absorb(trap, np.zeros(2), 0, [], solver=solver)


def test_markov_on_a_larger_random_chain_every_route_agrees() -> None:
    rng = np.random.default_rng(11)
    names = [f"n{i:02d}" for i in range(25)]
    rows = []
    for _ in range(150):
        steps = tuple(names[i] for i in rng.integers(0, 25, size=int(rng.integers(1, 6))))
        conversions = float(rng.integers(0, 4))
        rows.append(PathRow(steps, conversions, conversions * 9.0, float(rng.integers(0, 6))))
    for order in (1, 2):
        reference = markov_attribution(rows, order, solver="dense", method="reduce")
        for solver, method in (("sparse", "update"), ("sparse", "reduce"), ("dense", "update")):
            other = markov_attribution(rows, order, solver=solver, method=method)  # type: ignore[arg-type]
            assert other.conversions == pytest.approx(reference.conversions, abs=1e-9)


# ---- Shapley, beyond the fixtures ----------------------------------------------------------------------


def test_sampled_shapley_of_a_glove_game_is_within_its_bounds() -> None:
    # one left glove (L) and two right gloves (R1, R2): a pair is worth 1. Exact values: L 2/3, R 1/6 each.
    def worth(coalition: frozenset[str]) -> float:
        return 1.0 if "L" in coalition and ({"R1", "R2"} & coalition) else 0.0

    exact = shapley_lattice(["L", "R1", "R2"], worth)
    assert exact == pytest.approx({"L": 2 / 3, "R1": 1 / 6, "R2": 1 / 6})
    ranges = {player: (0.0, 1.0) for player in exact}
    sampled = sample_shapley(["L", "R1", "R2"], worth, permutations=600, seed=5, ranges=ranges)
    for player, value in exact.items():
        hoeffding = sampled.hoeffding[player]
        assert hoeffding is not None
        assert abs(sampled.estimates[player] - value) <= hoeffding
        assert sampled.clt[player] < hoeffding  # the CLT bound is the tighter, assumption-laden one
    assert math.fsum(sampled.estimates.values()) == pytest.approx(1.0)  # efficient in every permutation
    assert sample_shapley(["L"], worth, permutations=4).hoeffding == {"L": None}


def test_lattice_is_limited_and_sampling_is_not() -> None:
    players = [f"p{i}" for i in range(shapley.MAX_LATTICE_PLAYERS + 1)]
    with pytest.raises(AttributionError, match="limited to 20"):
        shapley_lattice(players, lambda coalition: float(len(coalition)))
    rows = [PathRow(tuple(players), 1.0, 1.0, 0.0)]
    with pytest.raises(AttributionError, match="'lattice' is limited to 20 channels"):
        attribute_paths(rows, "shapley", method="lattice")
    exact, _ = shapley_paths(path_game(rows))
    assert exact == pytest.approx({p: 1 / 21 for p in players})
    sampled = sample_shapley_paths(path_game(rows), permutations=50)
    assert sampled.estimates == pytest.approx(exact, abs=0.2)


def test_shapley_splits_over_distinct_channels_not_touches() -> None:
    credits = by_channel(attribute_paths([PathRow(("a", "b", "a"), 6.0, 60.0, 0.0)], "shapley"))
    assert credits["a"].conversions == pytest.approx(3.0)  # linear would give a 4
    assert by_channel(attribute_paths([PathRow(("a", "b", "a"), 6.0, 60.0, 0.0)], "linear"))["a"].conversions == 4


class _Unread:
    """Stands for an input the engine did not compute: any use of it fails."""

    def _refuse(self, *_: object) -> Any:
        raise TypeError("an undeclared input was read")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize("rule", sorted(rules.RULES))
def test_each_rule_reads_only_the_inputs_it_declares(rule: str) -> None:
    """The engine computes only the declared inputs (each is a window over every journey row): a rule that read
    an undeclared one would fail on the engine. Undeclared inputs fail on any use here, and every declared one
    is read."""
    r, n, age = np.arange(4), np.full(4, 4.0), np.array([3.0, 2.0, 1.0, 0.0])
    needs = rules.RULE_INPUTS[rule]
    params = {"first_share": 0.4, "last_share": 0.4, "half_life": 7.0}
    unread = _Unread()
    out = rules.RULES[rule](r if "r" in needs else unread, n if "n" in needs else unread, age, params, np.where)
    assert np.all(np.isfinite(np.broadcast_to(out, (4,))))
    for dropped in needs:
        with pytest.raises(TypeError, match="undeclared"):
            rules.RULES[rule](unread if dropped == "r" else r, unread if dropped == "n" else n, age, params, np.where)
