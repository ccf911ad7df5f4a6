"""Shapley attribution: exact on aggregated paths, exact on any game of up to 20 players, sampled beyond.

**The path game.** With aggregated paths the worth of a coalition ``S`` of channels is
``v(S) = conversions of the paths whose set of channels lies within S`` (and likewise for value). Grouping
paths by their distinct channel set ``T`` with total ``w_T``, ``v(S) = sum of w_T over T ⊆ S``: a sum of
unanimity games. Its Harsanyi dividends (the Möbius inverse of ``v`` over the coalition lattice) are
therefore exactly ``w_T`` on the distinct channel sets that occur and 0 elsewhere, and the Shapley value
gives each dividend to the members of its set in equal parts. :func:`shapley_paths` computes this exactly
for any number of channels in time linear in the input; no enumeration of coalitions is needed.

**Any game, exactly.** :func:`shapley_lattice` takes a worth function, evaluates it on all ``2**n``
coalitions (``n <= MAX_LATTICE_PLAYERS``), computes every dividend with the fast Möbius transform
(``n * 2**n`` steps) and splits each equally: the same rule, for worths that are not a sum over the
observed sets (a conversion *rate*, say).

**Any game, sampled.** :func:`sample_shapley` averages marginal contributions over random orders of the
players (permutation sampling). Every sampled order hands out exactly ``v(N) - v(∅)``, so the estimates are
efficient by construction. Each estimate comes with two error bounds at the stated confidence: a
central-limit half-width ``z * sd / sqrt(m)`` and, when the range of a player's marginal contributions is
known, a Hoeffding half-width ``range * sqrt(ln(2n / δ) / (2m))`` that holds for all players at once (union
bound) with no distributional assumption. :func:`sample_shapley_paths` does this vectorised for the path
game, where the range is known: a set's worth goes to whichever of its members comes last in the order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from hongmao.attribution.paths import PathRow
from hongmao.errors import AttributionError

MAX_LATTICE_PLAYERS = 20
"""The lattice of 21 players is 2 million coalitions of worth calls: past 20, sample."""

Worth = Callable[[frozenset[str]], float]


@dataclass(frozen=True, eq=False)
class PathGame:
    """Aggregated paths grouped by distinct channel set: the coalitions that carry worth.

    ``coalitions[k]`` holds the indices into ``players`` of the k-th distinct channel set, ascending; the
    sets are in a canonical order, so the same rows in any order give the same game.
    """

    players: tuple[str, ...]
    coalitions: tuple[tuple[int, ...], ...]
    conversions: tuple[float, ...]
    value: tuple[float, ...]

    def worth(self, coalition: frozenset[str] | set[str], *, of: str = "conversions") -> float:
        """``v(S)``: conversions (or value, ``of="value"``) of the paths whose channels all lie in ``S``."""
        inside = {i for i, player in enumerate(self.players) if player in coalition}
        weights = self.weights(of)
        return math.fsum(w for t, w in zip(self.coalitions, weights, strict=True) if inside.issuperset(t))

    def weights(self, of: str = "conversions") -> tuple[float, ...]:
        """Per coalition, the total conversions (or value) of the paths with exactly that channel set."""
        if of == "conversions":
            return self.conversions
        if of == "value":
            return self.value
        raise AttributionError(f"a path game has worth 'conversions' or 'value', not {of!r}")

    def members(self) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """The coalitions flattened: player indices, and each coalition's size."""
        sizes = np.fromiter((len(t) for t in self.coalitions), dtype=np.intp, count=len(self.coalitions))
        flat = np.fromiter((i for t in self.coalitions for i in t), dtype=np.intp, count=int(sizes.sum()))
        return flat, sizes


def path_game(rows: Sequence[PathRow]) -> PathGame:
    """Group ``rows`` by distinct channel set. Every channel of the input is a player, worth or not."""
    players = tuple(sorted({step for row in rows for step in row.steps}))
    index = {player: i for i, player in enumerate(players)}
    conversions: dict[tuple[int, ...], list[float]] = {}
    value: dict[tuple[int, ...], list[float]] = {}
    for row in rows:
        key = tuple(sorted({index[step] for step in row.steps}))
        conversions.setdefault(key, []).append(row.conversions)
        value.setdefault(key, []).append(row.value)
    coalitions = sorted(conversions)
    # fsum is correctly rounded, so the totals do not depend on the order of the rows
    return PathGame(
        players=players,
        coalitions=tuple(coalitions),
        conversions=tuple(math.fsum(conversions[t]) for t in coalitions),
        value=tuple(math.fsum(value[t]) for t in coalitions),
    )


def shapley_paths(game: PathGame) -> tuple[dict[str, float], dict[str, float]]:
    """Exact Shapley credits (conversions, value) of the path game: each set's worth split among members."""
    flat, sizes = game.members()
    credits = []
    for weights in (game.conversions, game.value):
        shares = np.repeat(np.asarray(weights, dtype=np.float64) / np.maximum(sizes, 1), sizes)
        totals = np.bincount(flat, weights=shares, minlength=len(game.players))
        credits.append(dict(zip(game.players, totals.tolist(), strict=True)))
    return credits[0], credits[1]


# ---- the full coalition lattice ------------------------------------------------------------------------


def _check_lattice(worth: NDArray[np.float64]) -> int:
    n = int(worth.size).bit_length() - 1
    if worth.ndim != 1 or worth.size != 1 << n:
        raise AttributionError("a worth table needs 2**n entries, one per coalition bitmask")
    if n > MAX_LATTICE_PLAYERS:
        raise AttributionError(f"the exact lattice is limited to {MAX_LATTICE_PLAYERS} players, got {n}")
    return n


def harsanyi_dividends(worth: NDArray[np.float64]) -> NDArray[np.float64]:
    """Dividends ``d(T) = sum over R ⊆ T of (-1)^|T \\ R| v(R)`` for a table indexed by coalition bitmask."""
    n = _check_lattice(worth)
    out = np.array(worth, dtype=np.float64)
    for bit in range(n):
        view = out.reshape(-1, 2, 1 << bit)
        view[:, 1, :] -= view[:, 0, :]
    return out


def worth_from_dividends(dividends: NDArray[np.float64]) -> NDArray[np.float64]:
    """The inverse of :func:`harsanyi_dividends`: ``v(S) = sum over T ⊆ S of d(T)``."""
    n = _check_lattice(dividends)
    out = np.array(dividends, dtype=np.float64)
    for bit in range(n):
        view = out.reshape(-1, 2, 1 << bit)
        view[:, 1, :] += view[:, 0, :]
    return out


def shapley_from_table(worth: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exact Shapley values of the game whose worth of bitmask ``S`` is ``worth[S]`` (player i is bit i)."""
    n = _check_lattice(worth)
    dividends = harsanyi_dividends(worth)
    masks = np.arange(worth.size, dtype=np.int64)
    sizes = np.zeros(worth.size, dtype=np.int64)
    for bit in range(n):
        sizes += (masks >> bit) & 1
    per_member = np.divide(dividends, sizes, out=np.zeros_like(dividends), where=sizes > 0)
    return np.array([per_member[(masks >> bit) & 1 == 1].sum() for bit in range(n)], dtype=np.float64)


def shapley_lattice(players: Sequence[str], worth: Worth) -> dict[str, float]:
    """Exact Shapley values of any game on up to ``MAX_LATTICE_PLAYERS`` players (``2**n`` worth calls)."""
    names = _distinct(players)
    if len(names) > MAX_LATTICE_PLAYERS:
        raise AttributionError(
            f"the exact lattice is limited to {MAX_LATTICE_PLAYERS} players, got {len(names)}; "
            "use sample_shapley for more"
        )
    table = np.empty(1 << len(names), dtype=np.float64)
    for mask in range(table.size):
        table[mask] = worth(frozenset(name for bit, name in enumerate(names) if mask >> bit & 1))
    return dict(zip(names, shapley_from_table(table).tolist(), strict=True))


def path_game_table(game: PathGame, *, of: str = "conversions") -> NDArray[np.float64]:
    """The path game's worth on the whole lattice (player i = ``game.players[i]``) by the zeta transform."""
    if len(game.players) > MAX_LATTICE_PLAYERS:
        raise AttributionError(
            f"the exact lattice is limited to {MAX_LATTICE_PLAYERS} players, got {len(game.players)}"
        )
    dividends = np.zeros(1 << len(game.players), dtype=np.float64)
    for coalition, weight in zip(game.coalitions, game.weights(of), strict=True):
        dividends[sum(1 << i for i in coalition)] += weight
    return worth_from_dividends(dividends)


def _distinct(players: Sequence[str]) -> tuple[str, ...]:
    names = tuple(players)
    if len(set(names)) != len(names):
        raise AttributionError("players must be distinct")
    return names


# ---- sampling ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampledShapley:
    """Permutation-sampled Shapley values with error bounds at ``confidence``.

    ``clt`` half-widths are per player (normal approximation); ``hoeffding`` half-widths hold for all players
    simultaneously and are ``None`` where the range of marginal contributions is unknown.
    """

    estimates: dict[str, float]
    clt: dict[str, float]
    hoeffding: dict[str, float | None]
    permutations: int
    confidence: float


def _check_sampling(permutations: int, confidence: float) -> None:
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 2:
        raise AttributionError(f"permutations must be a whole number >= 2, got {permutations!r}")
    if not 0 < confidence < 1:
        raise AttributionError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def _summarise(
    names: tuple[str, ...],
    samples: NDArray[np.float64],
    ranges: Sequence[float | None],
    confidence: float,
) -> SampledShapley:
    m = samples.shape[0]
    means = samples.mean(axis=0)
    sd = samples.std(axis=0, ddof=1)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    delta = 1 - confidence
    hoeffding_factor = math.sqrt(math.log(2 * max(len(names), 1) / delta) / (2 * m))
    return SampledShapley(
        estimates=dict(zip(names, means.tolist(), strict=True)),
        clt={name: float(z * s / math.sqrt(m)) for name, s in zip(names, sd, strict=True)},
        hoeffding={
            name: None if width is None else width * hoeffding_factor for name, width in zip(names, ranges, strict=True)
        },
        permutations=m,
        confidence=confidence,
    )


def sample_shapley(
    players: Sequence[str],
    worth: Worth,
    *,
    permutations: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> SampledShapley:
    """Permutation-sampling estimate for any game: ``permutations * (n + 1)`` worth calls.

    ``ranges`` gives, per player, bounds ``(low, high)`` on its marginal contributions; with them the result
    carries Hoeffding bounds as well as CLT ones.
    """
    _check_sampling(permutations, confidence)
    names = _distinct(players)
    rng = np.random.default_rng(seed)
    samples = np.zeros((permutations, len(names)), dtype=np.float64)
    for k in range(permutations):
        coalition: set[str] = set()
        before = worth(frozenset())
        for i in rng.permutation(len(names)).tolist():
            coalition.add(names[i])
            after = worth(frozenset(coalition))
            samples[k, i] = after - before
            before = after
    widths = [None if ranges is None or n not in ranges else ranges[n][1] - ranges[n][0] for n in names]
    return _summarise(names, samples, widths, confidence)


def sample_shapley_paths(
    game: PathGame,
    *,
    permutations: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    of: str = "conversions",
) -> SampledShapley:
    """Permutation sampling of the path game, vectorised: a set's worth goes to its last member in the order.

    Marginal contributions of player ``i`` lie between the negative and the positive worth of the sets
    containing ``i``, which gives the Hoeffding bound.
    """
    _check_sampling(permutations, confidence)
    weights = np.array(game.weights(of), dtype=np.float64)
    members, sizes = game.members()
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
    n = len(game.players)
    rng = np.random.default_rng(seed)
    samples = np.zeros((permutations, n), dtype=np.float64)
    if weights.size:
        for k in range(permutations):
            order = rng.permutation(n)
            rank = np.empty(n, dtype=np.intp)
            rank[order] = np.arange(n)
            closer = order[np.maximum.reduceat(rank[members], starts)]
            samples[k] = np.bincount(closer, weights=weights, minlength=n)
    owner = np.repeat(np.arange(weights.size), sizes)
    positive = np.bincount(members, weights=np.clip(weights, 0, None)[owner], minlength=n)
    negative = np.bincount(members, weights=np.clip(weights, None, 0)[owner], minlength=n)
    return _summarise(game.players, samples, (positive - negative).tolist(), confidence)
