"""Shapley values of one buyer's notes in their purchase intensity: the simulator's model-agnostic truth.

A *game* is a value function over coalitions of players (a person's notes of one brand): given a boolean
``(coalitions, players)`` mask it returns the purchase intensity with only those notes' effects present, the
empty coalition being the organic intensity. A note's Shapley value is its average marginal effect over all
orders in which the notes could arrive; the values sum to ``v(all) - v(none)`` (efficiency).

Exact up to :data:`EXACT_MAX_PLAYERS` players (every subset enumerated, one vectorised call); beyond, the mean
of :data:`PERMUTATIONS` random permutations, with the standard error of each mean. Every sampled permutation's
marginal effects sum to ``v(all) - v(none)``, so sampled values are efficient too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import factorial

import numpy as np
from numpy.typing import NDArray

EXACT_MAX_PLAYERS = 12  # 4,096 coalitions
PERMUTATIONS = 2_000

Game = Callable[[NDArray[np.bool_]], NDArray[np.float64]]


@dataclass(frozen=True)
class ShapleyValues:
    values: NDArray[np.float64]  # one per player
    se: NDArray[np.float64] | None  # standard errors when sampled, None when exact
    empty: float  # v(none)
    full: float  # v(all)

    @property
    def exact(self) -> bool:
        return self.se is None


def exact_shapley(game: Game, players: int) -> ShapleyValues:
    """Every coalition of ``players`` (at most :data:`EXACT_MAX_PLAYERS`) evaluated once."""
    if players > EXACT_MAX_PLAYERS:
        raise ValueError(f"exact Shapley values of {players} players: at most {EXACT_MAX_PLAYERS}")
    m = players
    codes = np.arange(1 << m, dtype=np.int64)
    masks = ((codes[:, None] >> np.arange(m, dtype=np.int64)) & 1).astype(np.bool_)
    v = np.asarray(game(masks), dtype=np.float64)
    size = masks.sum(axis=1)
    # weight of a coalition S not containing i: |S|! (m - |S| - 1)! / m!
    weight = np.array([factorial(s) * factorial(m - s - 1) / factorial(m) for s in range(m)], dtype=np.float64)
    values = np.zeros(m, dtype=np.float64)
    for i in range(m):
        without = codes[~masks[:, i]]
        values[i] = float(np.dot(weight[size[without]], v[without | (1 << i)] - v[without]))
    return ShapleyValues(values, None, float(v[0]), float(v[-1]))


def sampled_shapley(
    game: Game, players: int, rng: np.random.Generator, permutations: int = PERMUTATIONS
) -> ShapleyValues:
    """The mean marginal effect of each player over ``permutations`` uniformly random arrival orders."""
    m, k = players, permutations
    rank = np.argsort(rng.random((k, m)), axis=1).argsort(axis=1)  # rank[p, i]: position of player i
    steps = np.arange(m + 1)
    masks = rank[:, None, :] < steps[None, :, None]  # (k, m + 1, m): the first j arrivals of permutation p
    v = np.asarray(game(masks.reshape(k * (m + 1), m)), dtype=np.float64).reshape(k, m + 1)
    marginal = np.take_along_axis(np.diff(v, axis=1), rank, axis=1)  # (k, m): player i's marginal effect
    values = marginal.mean(axis=0)
    se = marginal.std(axis=0, ddof=1) / np.sqrt(k) if k > 1 else np.full(m, np.inf)
    return ShapleyValues(values, se, float(v[0, 0]), float(v[0, -1]))


def shapley(game: Game, players: int, rng: np.random.Generator) -> ShapleyValues:
    """Exact when there are few players, sampled (with standard errors) beyond."""
    if players <= EXACT_MAX_PLAYERS:
        return exact_shapley(game, players)
    return sampled_shapley(game, players, rng)
