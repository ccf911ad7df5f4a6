"""The attribution models by name, and :func:`attribute_paths` to run one over aggregated paths.

Each model is declared once in ``MODEL_SPECS`` (name, one-line summary, parameters with defaults); a CLI or
API derives its choices and help from that table.

Rule models spread every row's conversions and value over its touches by the rule's weights, so a row with
no conversions gives no credit. ``time_decay`` on aggregated paths has no timestamps: touches are taken as
one day apart, the last at the conversion. ``markov`` builds its chain from every journey, converted or not.
``shapley`` uses the path game of :mod:`hongmao.attribution.shapley`.

The result has one entry per channel of the input (zero credit included), sorted by conversions descending
then channel name. Rows are put in a canonical order first, so the same multiset of rows gives bit-identical
credits whatever order it arrives in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from hongmao.attribution import rules
from hongmao.attribution.absorbing import METHODS, SOLVERS, Method, Solver
from hongmao.attribution.markov import markov_attribution
from hongmao.attribution.paths import PathRow
from hongmao.attribution.shapley import (
    MAX_LATTICE_PLAYERS,
    path_game,
    path_game_table,
    sample_shapley_paths,
    shapley_from_table,
    shapley_paths,
)
from hongmao.errors import AttributionError

Split = tuple[dict[str, float], dict[str, float]]
"""Per channel: credited conversions, credited value."""


@dataclass(frozen=True, slots=True)
class ChannelCredit:
    channel: str
    conversions: float
    value: float


@dataclass(frozen=True)
class ModelSpec:
    name: str
    summary: str
    params: Mapping[str, object]
    run: Callable[[Sequence[PathRow], Mapping[str, Any]], Split]


# ---- parameter checks ----------------------------------------------------------------------------------


def _real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AttributionError(f"parameter {name} must be a finite number, got {value!r}")
    return float(value)


def _whole(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AttributionError(f"parameter {name} must be a whole number, got {value!r}")
    return value


def _choice(name: str, value: object, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise AttributionError(f"parameter {name} must be one of {', '.join(choices)}, got {value!r}")
    return value


# ---- rule models ---------------------------------------------------------------------------------------


def _spread(rows: Sequence[PathRow], weights: Callable[[int], tuple[float, ...]]) -> Split:
    used = [row for row in rows if row.conversions != 0 or row.value != 0]
    if not used:
        return {}, {}
    channels = sorted({step for row in used for step in row.steps})
    index = {channel: i for i, channel in enumerate(channels)}
    lengths = np.fromiter((len(row.steps) for row in used), dtype=np.intp, count=len(used))
    touches = int(lengths.sum())
    ids = np.fromiter((index[step] for row in used for step in row.steps), dtype=np.intp, count=touches)
    per_length = {n: np.asarray(weights(n), dtype=np.float64) for n in set(lengths.tolist())}
    touch_weight = np.concatenate([per_length[n] for n in lengths.tolist()])
    split = []
    for amounts in ([row.conversions for row in used], [row.value for row in used]):
        per_touch = np.repeat(np.asarray(amounts, dtype=np.float64), lengths) * touch_weight
        totals = np.bincount(ids, weights=per_touch, minlength=len(channels))
        split.append(dict(zip(channels, totals.tolist(), strict=True)))
    return split[0], split[1]


def _first(rows: Sequence[PathRow], params: Mapping[str, Any]) -> Split:
    return _spread(rows, rules.first_touch_weights)


def _last(rows: Sequence[PathRow], params: Mapping[str, Any]) -> Split:
    return _spread(rows, rules.last_touch_weights)


def _linear(rows: Sequence[PathRow], params: Mapping[str, Any]) -> Split:
    return _spread(rows, rules.linear_weights)


def _position(rows: Sequence[PathRow], params: Mapping[str, Any]) -> Split:
    first = _real("first_share", params["first_share"])
    last = _real("last_share", params["last_share"])
    rules.position_weights(3, first, last)  # check the shares before touching any row

    def weights(n: int) -> tuple[float, ...]:
        return rules.position_weights(n, first, last)

    return _spread(rows, weights)


def _time_decay(rows: Sequence[PathRow], params: Mapping[str, Any]) -> Split:
    half_life = _real("half_life", params["half_life"])
    rules.time_decay_weights((0.0,), half_life)

    def weights(n: int) -> tuple[float, ...]:
        return rules.time_decay_weights(rules.path_ages(n, spacing=1.0), half_life)

    return _spread(rows, weights)


# ---- model-based ---------------------------------------------------------------------------------------


def _markov(rows: Sequence[PathRow], params: Mapping[str, Any]) -> Split:
    result = markov_attribution(
        rows,
        order=_whole("order", params["order"]),
        solver=cast(Solver, _choice("solver", params["solver"], SOLVERS)),
        method=cast(Method, _choice("method", params["method"], METHODS)),
    )
    return result.conversions, result.value


SHAPLEY_METHODS: tuple[str, ...] = ("exact", "lattice", "sampled")


def _shapley(rows: Sequence[PathRow], params: Mapping[str, Any]) -> Split:
    method = _choice("method", params["method"], SHAPLEY_METHODS)
    game = path_game(rows)
    if method == "exact":
        return shapley_paths(game)
    if method == "lattice":
        if len(game.players) > MAX_LATTICE_PLAYERS:
            raise AttributionError(
                f"shapley method 'lattice' is limited to {MAX_LATTICE_PLAYERS} channels, "
                f"got {len(game.players)}; use 'exact' or 'sampled'"
            )
        players = game.players
        return (
            dict(zip(players, shapley_from_table(path_game_table(game)).tolist(), strict=True)),
            dict(zip(players, shapley_from_table(path_game_table(game, of="value")).tolist(), strict=True)),
        )
    permutations = _whole("permutations", params["permutations"])
    seed = _whole("seed", params["seed"])
    conversions = sample_shapley_paths(game, permutations=permutations, seed=seed)
    value = sample_shapley_paths(game, permutations=permutations, seed=seed, of="value")
    return conversions.estimates, value.estimates


MODEL_SPECS: Mapping[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("first", "all credit to the first touch", {}, _first),
        ModelSpec("last", "all credit to the last touch", {}, _last),
        ModelSpec("linear", "equal credit to every touch", {}, _linear),
        ModelSpec(
            "position",
            "first_share to the first touch, last_share to the last, the rest over the middle",
            {"first_share": rules.DEFAULT_FIRST_SHARE, "last_share": rules.DEFAULT_LAST_SHARE},
            _position,
        ),
        ModelSpec(
            "time_decay",
            "weight 2^(-age/half_life), touches one day apart ending at the conversion",
            {"half_life": rules.DEFAULT_HALF_LIFE_DAYS},
            _time_decay,
        ),
        ModelSpec(
            "markov",
            "removal effect in an absorbing Markov chain of the given order, solved exactly",
            {"order": 1, "solver": "auto", "method": "auto"},
            _markov,
        ),
        ModelSpec(
            "shapley",
            "Shapley value of v(S) = conversions of paths within S (exact; lattice or sampled on request)",
            {"method": "exact", "permutations": 1000, "seed": 0},
            _shapley,
        ),
    ]
}

MODELS: tuple[str, ...] = tuple(MODEL_SPECS)

#: Models fitted on the lake itself rather than on aggregated paths (``hongmao attribute`` runs them on the
#: engine): name -> one-line summary.
LAKE_MODELS: Mapping[str, str] = {
    "datadriven": "each order split by the Shapley values of its notes in a fitted daily purchase probability, "
    "the rest to the baseline (hongmao.attribution.datadriven)",
}


def _row_key(row: PathRow) -> tuple[tuple[str, ...], float, float, float]:
    return (row.steps, row.conversions, row.value, row.nulls)


def attribute_paths(rows: Iterable[PathRow], model: str, **params: object) -> list[ChannelCredit]:
    """Credit each channel of ``rows`` under ``model`` (one of :data:`MODELS`) with its parameters."""
    spec = MODEL_SPECS.get(model)
    if spec is None:
        raise AttributionError(f"unknown model {model!r}; known models: {', '.join(MODELS)}")
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        accepted = ", ".join(spec.params) or "none"
        raise AttributionError(f"model {model!r} has no parameter {', '.join(unknown)}; its parameters: {accepted}")
    given = list(rows)
    for row in given:
        if not isinstance(row, PathRow):
            raise AttributionError(f"rows must be PathRow records, got {type(row).__name__}")
    ordered = sorted(given, key=_row_key)
    conversions, value = spec.run(ordered, {**spec.params, **params})
    channels = sorted({step for row in ordered for step in row.steps})
    credits = [ChannelCredit(c, conversions.get(c, 0.0), value.get(c, 0.0)) for c in channels]
    credits.sort(key=lambda credit: (-credit.conversions, credit.channel))
    return credits
