"""Exact absorption probabilities of an absorbing Markov chain, with and without groups of removed states.

The chain has ``n`` transient states with transition matrix ``Q`` (n x n) and a one-step probability ``r``
of moving into the absorbing *conversion* state (the rest of each row's mass goes to *null*). With
``A = I - Q`` and the fundamental matrix ``N = A^-1``, the probability of converting from state ``i`` is
``x = N r``.

*Removing* a set ``S`` of states (every transition into them is redirected to null) needs the probability of
converting from ``start`` without ever entering ``S``. Two exact ways, both implemented:

``reduce``
    drop the rows and columns of ``S`` from ``A`` and ``r`` and solve the smaller system (one new
    factorisation per removed set).

``update``
    reuse the one factorisation of ``A``. Let ``H[s, j]`` be the probability that the chain started in ``s``
    first enters ``S`` at ``j``. Expected visits decompose on that first entry, ``N[s, S] = H[s, S] N[S, S]``,
    and by the strong Markov property ``P(convert, enter S) = H[s, S] x[S]``, so::

        P_without_S(convert) = x[s] - N[s, S] N[S, S]^-1 x[S]

    ``N[s, :]`` is one transposed solve shared by every set; ``N[S, S]`` needs ``|S|`` solves with the
    shared factorisation. For a first-order chain every set is a single state ``c`` and this is
    ``x[s] - N[s, c] x[c] / N[c, c]``: all removal effects from one factorisation and the diagonal of ``N``.

``auto`` picks, per set, whichever a deterministic flop estimate says is cheaper (never timings, so the same
input always takes the same path and gives bit-identical output). Small or well-connected chains are solved
densely with LAPACK, large sparse ones with SuperLU (``scipy.sparse.linalg.splu``); see :func:`use_dense`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.linalg  # type: ignore[import-untyped, unused-ignore]
import scipy.sparse  # type: ignore[import-untyped, unused-ignore]
import scipy.sparse.linalg  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray

from hongmao.errors import AttributionError

Solver = Literal["auto", "dense", "sparse"]
Method = Literal["auto", "update", "reduce"]
SOLVERS: tuple[str, ...] = ("auto", "dense", "sparse")
METHODS: tuple[str, ...] = ("auto", "update", "reduce")

DENSE_LIMIT = 500
"""Up to this many transient states the chain is always solved densely (a full inverse, a few milliseconds)."""

DENSE_MAX = 4000
"""Beyond this many states the chain is always solved sparsely (the dense inverse would take seconds)."""

DENSE_MIN_ROW_NONZEROS = 8.0
"""Between the two, dense wins when states have many successors. Measured: first-order chains of 1,000 to
2,500 channels (28 to 50 successors a state) ran 2 to 4 times faster dense; second-order chains of 1,400 to
2,800 states (3 successors a state) ran 2 to 3 times faster sparse, the LU fill staying small."""

MAX_BLOCK_ENTRIES = 4_000_000
"""Entries of the ``N[S, S]`` blocks held at once (32 MB); more sets than that are handled in chunks."""

FACTOR_WEIGHT = 4.0
"""How many times the flop estimate of a factorisation understates its time relative to a solve (measured
on journey chains of 200 to 8,000 states: the ratio of times was 4 to 5 times the ratio of estimates)."""


@dataclass(frozen=True)
class Absorption:
    """Conversion probability from ``start``, and the same with each removal set taken out."""

    conversion: float
    without: NDArray[np.float64]
    solver: str
    updated_sets: int
    reduced_sets: int


def _check(transient: Any, to_conversion: NDArray[np.float64], start: int, removals: Sequence[NDArray[np.intp]]) -> int:
    n = int(transient.shape[0])
    if transient.shape != (n, n) or to_conversion.shape != (n,):
        raise AttributionError("transition matrix must be n x n and the conversion vector of length n")
    if not 0 <= start < n:
        raise AttributionError(f"start state {start} is outside 0..{n - 1}")
    for group in removals:
        if group.size and (int(group.min()) < 0 or int(group.max()) >= n):
            raise AttributionError("a removal set names a state outside the chain")
        if np.any(group == start):
            raise AttributionError("the start state cannot be removed")
    return n


def _check_substochastic(transient: Any, to_conversion: NDArray[np.float64]) -> None:
    """The methods here rely on ``I - Q`` being a nonsingular M-matrix; refuse anything else early."""
    q = scipy.sparse.csr_matrix(transient)
    tolerance = 1e-9
    if (q.nnz and float(q.data.min()) < 0) or np.any(to_conversion < 0):
        raise AttributionError("transition probabilities must not be negative")
    outgoing = np.asarray(q.sum(axis=1), dtype=np.float64).reshape(-1) + to_conversion
    if np.any(outgoing > 1 + tolerance):
        raise AttributionError("a state's outgoing probabilities sum to more than 1")


def absorb(
    transient: Any,
    to_conversion: NDArray[np.float64],
    start: int,
    removals: Sequence[NDArray[np.intp]],
    *,
    solver: Solver = "auto",
    method: Method = "auto",
) -> Absorption:
    """Conversion probability from ``start``, and with each set of ``removals`` redirected to null.

    ``transient`` is a scipy sparse matrix (or array) of transition probabilities among transient states;
    every removal set is an array of distinct state indices.
    """
    if solver not in SOLVERS:
        raise AttributionError(f"unknown solver {solver!r}; known: {', '.join(SOLVERS)}")
    if method not in METHODS:
        raise AttributionError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    n = _check(transient, to_conversion, start, removals)
    _check_substochastic(transient, to_conversion)
    a = (scipy.sparse.identity(n, format="csc") - scipy.sparse.csc_matrix(transient)).tocsc()
    if solver == "dense" or (solver == "auto" and use_dense(n, int(a.nnz))):
        return _dense(np.asarray(a.toarray(), dtype=np.float64), to_conversion, start, removals, method)
    return _sparse(a, to_conversion, start, removals, method)


def use_dense(states: int, nonzeros: int) -> bool:
    """Whether ``solver="auto"`` solves a chain of ``states`` with ``nonzeros`` entries in ``I - Q`` densely."""
    if states <= DENSE_LIMIT:
        return True
    return states <= DENSE_MAX and nonzeros / states >= DENSE_MIN_ROW_NONZEROS


def _complement(n: int, group: NDArray[np.intp]) -> NDArray[np.bool_]:
    keep = np.ones(n, dtype=np.bool_)
    keep[group] = False
    return keep


def _updated(
    base: float,
    row: NDArray[np.float64],
    x: NDArray[np.float64],
    block: NDArray[np.float64],
    group: NDArray[np.intp],
) -> float:
    """``x[s] - N[s, S] N[S, S]^-1 x[S]`` given the block ``N[S, S]``."""
    if group.size == 1:
        return base - float(row[group[0]] * x[group[0]] / block[0, 0])
    hits = np.asarray(scipy.linalg.solve(block.T, row[group]), dtype=np.float64)
    return base - float(hits @ x[group])


def _dense(
    a: NDArray[np.float64],
    r: NDArray[np.float64],
    start: int,
    removals: Sequence[NDArray[np.intp]],
    method: Method,
) -> Absorption:
    n = a.shape[0]
    try:
        inverse = np.asarray(scipy.linalg.inv(a, check_finite=False), dtype=np.float64)
    except (scipy.linalg.LinAlgError, ValueError) as exc:
        raise AttributionError(f"the chain's system is singular: {exc}") from exc
    x = inverse @ r
    base = float(x[start])
    row = inverse[start]
    out = np.empty(len(removals), dtype=np.float64)
    updated = reduced = 0
    for k, group in enumerate(removals):
        size = int(group.size)
        if size == 0:
            out[k] = base
            continue
        # both are one dense LU: of the |S| x |S| block, or of the (n - |S|) x (n - |S|) remainder
        if method == "update" or (method == "auto" and size <= n - size):
            out[k] = _updated(base, row, x, inverse[np.ix_(group, group)], group)
            updated += 1
        else:
            keep = _complement(n, group)
            solution = scipy.linalg.solve(a[np.ix_(keep, keep)], r[keep], check_finite=False)
            out[k] = float(solution[int(np.count_nonzero(keep[:start]))])
            reduced += 1
    return Absorption(base, out, "dense", updated, reduced)


def _factor(a: Any) -> Any:
    """Sparse LU of an M-matrix ``I - Q``.

    Such a matrix factors stably without pivoting (every Schur complement is again an M-matrix), so the
    diagonal is kept as pivot and a fill-reducing ordering of ``A + A^T`` is used: on journey chains this
    gives several times less fill than SuperLU's default COLAMD with partial pivoting.
    """
    try:
        return scipy.sparse.linalg.splu(
            a, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )
    except RuntimeError as exc:  # SuperLU reports a singular matrix this way
        raise AttributionError(f"the chain's system is singular: {exc}") from exc


def _factor_flops(lu: Any) -> float:
    """Flops of a sparse LU from its fill: step j updates (|L[:, j]| - 1) x (|U[j, :]| - 1) entries."""
    n = int(lu.shape[0])
    lower = np.diff(lu.L.indptr) - 1
    upper = np.bincount(lu.U.indices, minlength=n) - 1
    return float(2 * np.dot(lower.astype(np.float64), upper.astype(np.float64)) + lu.L.nnz + lu.U.nnz)


def _sparse(
    a: Any, r: NDArray[np.float64], start: int, removals: Sequence[NDArray[np.intp]], method: Method
) -> Absorption:
    n = int(a.shape[0])
    lu = _factor(a)
    x = np.asarray(lu.solve(r), dtype=np.float64)
    base = float(x[start])
    unit = np.zeros(n, dtype=np.float64)
    unit[start] = 1.0
    row = np.asarray(lu.solve(unit, trans="T"), dtype=np.float64)
    # a removal set costs |S| solves with the shared factorisation, or one new factorisation
    budget = FACTOR_WEIGHT * _factor_flops(lu) / (2.0 * (lu.L.nnz + lu.U.nnz))

    out = np.empty(len(removals), dtype=np.float64)
    to_update: list[int] = []
    reduced = 0
    for k, group in enumerate(removals):
        size = int(group.size)
        if size == 0:
            out[k] = base
        elif method == "update" or (method == "auto" and size <= budget):
            to_update.append(k)
        else:
            keep = _complement(n, group)
            solution = _factor(a[keep][:, keep].tocsc()).solve(r[keep])
            out[k] = float(solution[int(np.count_nonzero(keep[:start]))])
            reduced += 1
    for chunk in _chunks(to_update, removals):
        blocks = _blocks(lu, n, [removals[k] for k in chunk])
        for k, block in zip(chunk, blocks, strict=True):
            out[k] = _updated(base, row, x, block, removals[k])
    return Absorption(base, out, "sparse", len(to_update), reduced)


def _chunks(indices: list[int], removals: Sequence[NDArray[np.intp]]) -> list[list[int]]:
    """Consecutive runs of removal sets whose blocks together stay under ``MAX_BLOCK_ENTRIES``."""
    chunks: list[list[int]] = []
    entries = 0
    for k in indices:
        size = int(removals[k].size) ** 2
        if not chunks or entries + size > MAX_BLOCK_ENTRIES:
            chunks.append([])
            entries = 0
        chunks[-1].append(k)
        entries += size
    return chunks


def _blocks(lu: Any, n: int, groups: Sequence[NDArray[np.intp]]) -> list[NDArray[np.float64]]:
    """``N[S, S]`` for every set ``S`` of ``groups``, solving once per distinct state among them.

    At order k a state lies in up to k sets, so sharing the column ``N[:, j]`` between the sets containing
    ``j`` saves up to a factor k of solves. Right-hand sides go one at a time: SuperLU's multi-column solve
    was slower per column on these chains.
    """
    blocks = [np.empty((g.size, g.size), dtype=np.float64) for g in groups]
    owners: dict[int, list[tuple[int, int]]] = {}
    for which, group in enumerate(groups):
        for column, state in enumerate(group.tolist()):
            owners.setdefault(state, []).append((which, column))
    unit = np.zeros(n, dtype=np.float64)
    for state in sorted(owners):
        unit[state] = 1.0
        solved = lu.solve(unit)
        unit[state] = 0.0
        for which, column in owners[state]:
            blocks[which][:, column] = solved[groups[which]]
    return blocks
