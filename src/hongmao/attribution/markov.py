"""Markov-chain removal-effect attribution, first and higher order, solved exactly.

The chain is built from every journey of the aggregated paths, converted or not. A path ``a > b > c`` with
``m`` conversions and ``u`` nulls adds ``m + u`` to the transitions ``start -> a -> b -> c`` and then ``m`` to
``c -> conversion`` and ``u`` to ``c -> null``; transition probabilities are the counts normalised per state.

For order ``k`` a state is the tuple of the last ``k`` channels seen (shorter at the start of a path), so the
path above at order 2 visits ``(a,) -> (a, b) -> (b, c)``; order 1 is the classic chain of channels.
Removing channel ``c`` redirects every transition into a state *containing* ``c`` to null.

* ``P(conv)``: probability of absorption in conversion from start (the chain's conversion rate);
* removal effect ``RE_c = 1 - P(conv | c removed) / P(conv)``;
* credit ``RE_c / sum(RE) * total conversions``, and the same share of the total value.

The probabilities come from absorbing-chain linear algebra (:mod:`hongmao.attribution.absorbing`), not
simulation. A self-loop (``a > a``) does not change any absorption probability at order 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray

from hongmao.attribution.absorbing import METHODS, SOLVERS, Method, Solver, absorb
from hongmao.attribution.paths import PathRow
from hongmao.errors import AttributionError

START = 0
"""Index of the start state; channel states follow from 1."""


@dataclass(frozen=True)
class MarkovResult:
    """Removal effects and credits of one Markov model run. Every channel of the input has an entry."""

    order: int
    conversion_rate: float
    removal_effects: dict[str, float]
    conversions: dict[str, float]
    value: dict[str, float]
    states: int
    solver: str


@dataclass(frozen=True)
class _Chain:
    channels: tuple[str, ...]
    transient: scipy.sparse.csr_matrix
    to_conversion: NDArray[np.float64]
    removals: list[NDArray[np.intp]]  # per channel, the transient states containing it


def _state_keys(flat: NDArray[np.intp], position: NDArray[np.intp], order: int) -> NDArray[np.intp]:
    """Row ``i`` is the state after touch ``i``: the channel ids of touches i, i-1, ..., -1 before a path."""
    keys = np.full((flat.size, order), -1, dtype=np.intp)
    for back in range(order):
        has = position >= back
        keys[has, back] = flat[np.flatnonzero(has) - back]
    return keys


def _distinct_states(keys: NDArray[np.intp], channels: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The distinct rows of ``keys`` (sorted) and each row's index among them.

    Rows are packed into one integer (base ``channels + 1``) when that fits, because sorting integers is
    many times faster than NumPy's row-wise ``unique(axis=0)``.
    """
    base = channels + 1
    order = keys.shape[1]
    if order * math.log2(base) < 62:
        weights = base ** np.arange(order, dtype=np.int64)
        codes = (keys.astype(np.int64) + 1) @ weights
        unique_codes, inverse = np.unique(codes, return_inverse=True)
        unique_keys = (unique_codes[:, None] // weights[None, :]) % base - 1
        return unique_keys.astype(np.intp), inverse.reshape(-1).astype(np.intp)
    unique_keys, inverse = np.unique(keys, axis=0, return_inverse=True)
    return unique_keys.astype(np.intp), inverse.reshape(-1).astype(np.intp)


def _build_chain(rows: Sequence[PathRow], order: int) -> _Chain:
    channels = tuple(sorted({step for row in rows for step in row.steps}))
    index = {channel: i for i, channel in enumerate(channels)}
    active = [row for row in rows if row.journeys > 0]
    lengths = np.fromiter((len(row.steps) for row in active), dtype=np.intp, count=len(active))
    flat = np.fromiter((index[s] for row in active for s in row.steps), dtype=np.intp, count=int(lengths.sum()))
    journeys = np.fromiter((row.journeys for row in active), dtype=np.float64, count=len(active))
    conversions = np.fromiter((row.conversions for row in active), dtype=np.float64, count=len(active))
    nulls = np.fromiter((row.nulls for row in active), dtype=np.float64, count=len(active))

    ends = np.cumsum(lengths)
    begins = ends - lengths
    position = np.arange(flat.size, dtype=np.intp) - np.repeat(begins, lengths)
    keys = _state_keys(flat, position, order)
    unique_keys, inverse = _distinct_states(keys, len(channels))
    state = inverse + 1  # 0 is start
    size = unique_keys.shape[0] + 1

    weight = np.repeat(journeys, lengths)
    inner = np.ones(flat.size, dtype=np.bool_)
    inner[ends - 1] = False  # the last touch of a path leaves to conversion or null
    sources = np.concatenate([np.full(len(active), START, dtype=np.intp), state[:-1][inner[:-1]]])
    targets = np.concatenate([state[begins], state[1:][inner[:-1]]])
    counts = np.concatenate([journeys, weight[:-1][inner[:-1]]])
    transitions = scipy.sparse.coo_matrix((counts, (sources, targets)), shape=(size, size)).tocsr()

    last = state[ends - 1]
    to_conversion = np.bincount(last, weights=conversions, minlength=size).astype(np.float64)
    to_null = np.bincount(last, weights=nulls, minlength=size).astype(np.float64)
    out = np.asarray(transitions.sum(axis=1), dtype=np.float64).reshape(-1) + to_conversion + to_null
    out[out == 0] = 1.0  # cannot happen with journeys on every active path; keeps the division safe
    scale = scipy.sparse.diags(1.0 / out)
    transient = (scale @ transitions).tocsr()

    # which states contain which channel: (state, channel) pairs from every column of the keys
    state_ids, slots = np.nonzero(unique_keys >= 0)
    members = unique_keys[state_ids, slots]
    pairs = np.unique(members.astype(np.int64) * size + state_ids + 1)  # channel-major, then state
    split = np.searchsorted(pairs, np.arange(len(channels) + 1, dtype=np.int64) * size)
    removals = [(pairs[split[c] : split[c + 1]] % size).astype(np.intp) for c in range(len(channels))]
    return _Chain(channels, transient, to_conversion / out, removals)


def markov_attribution(
    rows: Sequence[PathRow], order: int = 1, *, solver: Solver = "auto", method: Method = "auto"
) -> MarkovResult:
    """Removal-effect attribution of ``rows`` with a Markov chain of the given order.

    ``solver`` ("auto", "dense", "sparse") and ``method`` ("auto", "update", "reduce") choose how the exact
    solution is computed (see :mod:`hongmao.attribution.absorbing`); they change speed, not results beyond
    floating-point rounding.
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise AttributionError(f"order must be a whole number >= 1, got {order!r}")
    if solver not in SOLVERS:
        raise AttributionError(f"unknown solver {solver!r}; known: {', '.join(SOLVERS)}")
    if method not in METHODS:
        raise AttributionError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if not any(row.journeys > 0 for row in rows):
        zeros = {name: 0.0 for name in sorted({step for row in rows for step in row.steps})}
        return MarkovResult(order, 0.0, dict(zeros), dict(zeros), dict(zeros), 0, "none")
    chain = _build_chain(rows, order)
    names = chain.channels
    total_conversions = math.fsum(row.conversions for row in rows)
    total_value = math.fsum(row.value for row in rows)
    states = int(chain.transient.shape[0]) - 1
    zeros = {name: 0.0 for name in names}

    result = absorb(chain.transient, chain.to_conversion, START, chain.removals, solver=solver, method=method)
    # removing states can only lower the probability: clip rounding noise into [0, 1]
    effects = np.clip(1.0 - result.without / result.conversion, 0.0, 1.0) if result.conversion > 0 else None
    total_effect = math.fsum(effects.tolist()) if effects is not None else 0.0
    if effects is None or total_effect <= 0:
        return MarkovResult(
            order, max(result.conversion, 0.0), dict(zeros), dict(zeros), dict(zeros), states, result.solver
        )
    shares = effects / total_effect
    return MarkovResult(
        order=order,
        conversion_rate=result.conversion,
        removal_effects={name: float(e) for name, e in zip(names, effects, strict=True)},
        conversions={name: float(s * total_conversions) for name, s in zip(names, shares, strict=True)},
        value={name: float(s * total_value) for name, s in zip(names, shares, strict=True)},
        states=states,
        solver=result.solver,
    )
