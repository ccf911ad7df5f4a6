"""Commercial load cap (轻商业化): re-rank a feed so commercial notes never crowd it, losing as little score as
possible.

The rule, for a feed of slots 0, 1, 2, ...:

* no ``window`` consecutive slots hold more than ``max_commercial`` commercial notes, and
* two commercial notes stand at least ``min_gap`` slots apart (slots i < j both commercial => j - i >= min_gap).

Every organic candidate is kept; commercial candidates are kept as long as they fit (a commercial is dropped only
when the organics run out and the rule leaves no slot for it). Among feeds that keep the most commercials, the
re-ranker returns one with the largest position-weighted score ``sum_t w_t * score(slot t)``, with weights
``w_t = 1 / log2(t + 2)`` (DCG) by default: a slot near the top is worth more than one further down.

Optimality (the argument is spelled out in docs/trust.md):

1. Only the pattern of commercial slots matters to the rule. For a fixed pattern, filling organic slots with the
   organics in descending score and commercial slots with the commercials in descending score is optimal
   (rearrangement inequality, weights non-increasing). So organics keep their score order and so do commercials.
2. Writing ``V = sum_t (w_t - w_{t+1}) * S_t`` (S_t the score of the first t + 1 slots), the value of a feed whose
   k-th commercial sits at slot p_k is a constant plus ``sum_k psi_k(p_k)``: separable in the positions, with
   ``psi_k(p) - psi_k(p + 1) = (w_p - w_{p+1}) * (c_k - o_{p-k})``. Each psi_k is unimodal, peaking where the
   commercial would sit in a plain merge by score (m_k).
3. The rule is a set of difference constraints on the positions (p_{k+1} - p_k >= min_gap,
   p_{k+M} - p_k >= window), so feasible position vectors form a lattice (closed under element-wise min and max).
   With unimodal psi_k this confines an optimum to a band: between the backward and forward "push" of the merge
   positions (h_k <= p_k <= g_k), intersected with the earliest and latest feasible slots.
4. A dynamic programme over the commercials, inside those bands, with the offsets of the previous
   ``max_commercial - 1`` commercials (capped at ``window``) as its state, finds the exact optimum. Commercials
   whose bands cannot interact are solved independently, so typical feeds cost little more than a sort.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

Weights = str | Sequence[float] | Callable[[int], NDArray[np.float64]]
_NEG = -np.inf


@dataclass(frozen=True)
class LoadCap:
    """The commercial load rule: at most ``max_commercial`` commercial notes in any ``window`` consecutive slots,
    and commercial notes at least ``min_gap`` slots apart."""

    window: int = 10
    max_commercial: int = 2
    min_gap: int = 3

    def __post_init__(self) -> None:
        if self.window < 1 or self.max_commercial < 1 or self.min_gap < 1:
            raise ValueError("window, max_commercial and min_gap must be at least 1")

    @property
    def gap(self) -> int:
        """The effective minimum distance between consecutive commercials."""
        return max(self.min_gap, self.window) if self.max_commercial == 1 else self.min_gap

    @property
    def window_binds(self) -> bool:
        """False when the window rule is implied by the gap (then only the gap is enforced)."""
        return self.max_commercial >= 2 and self.max_commercial * self.min_gap < self.window

    def allows(self, commercial: Sequence[bool]) -> bool:
        """True when a feed's pattern of commercial slots obeys the rule."""
        slots = [i for i, c in enumerate(commercial) if c]
        if any(b - a < self.min_gap for a, b in pairwise(slots)):
            return False
        m = self.max_commercial
        return all(slots[i + m] - slots[i] >= self.window for i in range(len(slots) - m))


@dataclass
class Feed:
    """A re-ranked feed: candidate indices in slot order, and the commercials that did not fit."""

    order: list[int]
    commercial: list[bool]
    dropped: list[int] = field(default_factory=list)
    value: float = 0.0  # position-weighted score of this feed
    unconstrained_value: float = 0.0  # the same for the plain merge by score, which may break the rule
    dropped_score: float = 0.0

    @property
    def loss(self) -> float:
        """Position-weighted score given up to respect the rule (0 when the plain ranking already complies)."""
        return self.unconstrained_value - self.value

    def to_dict(self, ids: Sequence[Any] | None = None) -> dict[str, Any]:
        def name(i: int) -> Any:
            return ids[i] if ids is not None else i

        return {
            "feed": [{"id": name(i), "commercial": c} for i, c in zip(self.order, self.commercial, strict=True)],
            "dropped": [name(i) for i in self.dropped],
            "value": self.value,
            "unconstrained_value": self.unconstrained_value,
            "loss": self.loss,
        }


def position_weights(n: int, weights: Weights = "dcg") -> NDArray[np.float64]:
    """Weights of slots 0..n-1, non-increasing and non-negative."""
    if isinstance(weights, str):
        t = np.arange(n, dtype=np.float64)
        if weights == "dcg":
            w = 1.0 / np.log2(t + 2.0)
        elif weights == "linear":
            w = (n - t) / max(n, 1)
        elif weights == "flat":
            w = np.ones(n)
        else:
            raise ValueError(f"unknown weights {weights!r}; use dcg, linear, flat, a sequence or a function")
    elif callable(weights):
        w = np.asarray(weights(n), dtype=np.float64)
    else:
        w = np.asarray(list(weights)[:n], dtype=np.float64)
        if len(w) < n:
            w = np.concatenate([w, np.full(n - len(w), w[-1] if len(w) else 0.0)])
    if len(w) != n or not np.all(np.isfinite(w)) or np.any(w < 0) or np.any(np.diff(w) > 1e-12):
        raise ValueError("position weights must be finite, non-negative and non-increasing")
    return w


def _sorted_class(scores: NDArray[np.float64], members: NDArray[np.int64]) -> NDArray[np.int64]:
    """Indices of one class in descending score, ties in input order."""
    return members[np.argsort(-scores[members], kind="stable")]


def _earliest(n: int, cap: LoadCap) -> NDArray[np.int64]:
    """Earliest slot of each commercial when all are packed as tightly as the rule allows."""
    e = np.zeros(n, dtype=np.int64)
    gap, m, k_win, win = cap.gap, cap.max_commercial, cap.window, cap.window_binds
    for k in range(1, n):
        v = e[k - 1] + gap
        if win and k >= m:
            v = max(v, e[k - m] + k_win)
        e[k] = v
    return e


def _bounds(
    merge: NDArray[np.int64], n_org: int, cap: LoadCap
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(lo, hi, earliest): the band holding an optimal slot of each commercial (see the module docstring)."""
    c = len(merge)
    gap, m, kw, win = cap.gap, cap.max_commercial, cap.window, cap.window_binds
    e = _earliest(c, cap)
    latest = np.zeros(c, dtype=np.int64)
    fwd = np.zeros(c, dtype=np.int64)
    back = np.zeros(c, dtype=np.int64)
    for k in range(c):
        v = int(merge[k])
        if k:
            v = max(v, int(fwd[k - 1]) + gap)
        if win and k >= m:
            v = max(v, int(fwd[k - m]) + kw)
        fwd[k] = v
    for k in range(c - 1, -1, -1):
        v, u = int(merge[k]), n_org + k
        if k + 1 < c:
            v = min(v, int(back[k + 1]) - gap)
            u = min(u, int(latest[k + 1]) - gap)
        if win and k + m < c:
            v = min(v, int(back[k + m]) - kw)
            u = min(u, int(latest[k + m]) - kw)
        back[k], latest[k] = v, u
    lo = np.maximum(back, e)
    hi = np.minimum(fwd, latest)
    return lo, hi, e


@dataclass(frozen=True)
class _Automaton:
    """States: offsets (capped at the window) from the current commercial back to the previous max_commercial - 1
    ones. Transitions: the next commercial ``delta`` slots later (delta == window stands for any delta >= window)."""

    states: list[tuple[int, ...]]
    free: int
    # transitions with delta < window: parallel arrays (source state, delta, target state), sorted by source
    src: NDArray[np.int64]
    delta: NDArray[np.int64]
    dst: NDArray[np.int64]
    min_delta: NDArray[np.int64]  # per state: smallest allowed delta
    step: dict[tuple[int, int], int] = field(default_factory=dict)  # (state, delta < window) -> next state
    windows: dict[tuple[int, int], tuple[NDArray[np.int64], ...]] = field(default_factory=dict)

    def select(self, low: int, high: int) -> tuple[NDArray[np.int64], ...]:
        """Transitions with low <= delta <= high: (delta, target, group starts, source of each group)."""
        key = (low, high)
        got = self.windows.get(key)
        if got is None:
            sel = np.flatnonzero((self.delta >= low) & (self.delta <= high))
            src = self.src[sel]
            first = np.flatnonzero(np.diff(src, prepend=-1)).astype(np.int64)
            got = (self.delta[sel], self.dst[sel], first, src[first])
            self.windows[key] = got
        return got


@lru_cache(maxsize=64)
def _automaton(cap: LoadCap) -> _Automaton:
    gap = cap.gap
    if not cap.window_binds:
        return _gap_automaton(gap)
    kw, m = cap.window, cap.max_commercial
    free = (kw,) * (m - 1)
    index: dict[tuple[int, ...], int] = {free: 0}
    states = [free]
    edges: list[tuple[int, int, int]] = []
    mins: list[int] = []
    i = 0
    while i < len(states):
        h = states[i]
        low = max(gap, kw - h[-1])
        mins.append(low)
        for d in range(low, kw + 1):
            nxt = (min(d, kw), *(min(d + x, kw) for x in h[:-1]))
            if nxt not in index:
                index[nxt] = len(states)
                states.append(nxt)
            if d < kw:
                edges.append((i, d, index[nxt]))
        i += 1
    edges.sort()
    arr = np.array(edges, dtype=np.int64).reshape(-1, 3)
    step = {(x, d): t for x, d, t in edges}
    return _Automaton(states, 0, arr[:, 0], arr[:, 1], arr[:, 2], np.array(mins, dtype=np.int64), step)


def _gap_automaton(gap: int) -> _Automaton:
    # One state; "delta >= window" of the general case becomes "delta >= gap" here (the suffix branch).
    empty = np.zeros(0, dtype=np.int64)
    return _Automaton([()], 0, empty, empty, empty, np.array([gap], dtype=np.int64))


def rerank_indices(
    scores: Sequence[float] | NDArray[np.float64],
    commercial: Sequence[bool] | NDArray[np.bool_],
    cap: LoadCap | None = None,
    weights: Weights = "dcg",
) -> Feed:
    """The optimal capped feed as candidate indices (see the module docstring)."""
    cap = cap or LoadCap()
    s = np.asarray(scores, dtype=np.float64)
    is_c = np.asarray(commercial, dtype=np.bool_)
    if s.shape != is_c.shape or s.ndim != 1:
        raise ValueError("scores and commercial must be two sequences of the same length")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    idx = np.arange(len(s), dtype=np.int64)
    org = _sorted_class(s, idx[~is_c])
    com = _sorted_class(s, idx[is_c])
    o, c = s[org], s[com]
    n_o = len(org)
    # The most commercials that fit: packed as early as possible, commercial k needs k - p_k <= ... i.e. at most
    # n_o organics before it (no empty slot in the feed).
    e = _earliest(len(com), cap)
    fit = int(np.count_nonzero(e - np.arange(len(com)) <= n_o))
    kept, dropped = com[:fit], com[fit:]
    ck = c[:fit]
    length = n_o + fit
    w = position_weights(length, weights)
    dw = w - np.append(w[1:], 0.0)  # w_t - w_{t+1}, with w_length = 0
    # merge slot: k + number of organics scoring at least c_k (organics first on ties)
    merge = np.arange(fit, dtype=np.int64) + np.searchsorted(-o, -ck, side="right").astype(np.int64)
    positions = _solve(o, ck, dw, merge, n_o, cap) if fit else np.zeros(0, dtype=np.int64)

    slots_c = np.zeros(length, dtype=np.bool_)
    slots_c[positions] = True
    order = np.empty(length, dtype=np.int64)
    order[slots_c] = kept
    order[~slots_c] = org
    value = float(np.dot(w, s[order])) if length else 0.0
    merged = np.sort(np.concatenate([o, ck]))[::-1]
    best = float(np.dot(w, merged)) if length else 0.0
    return Feed(
        order=order.tolist(),
        commercial=slots_c.tolist(),
        dropped=dropped.tolist(),
        value=value,
        unconstrained_value=best,
        dropped_score=float(s[dropped].sum()),
    )


def _psi(o: NDArray[np.float64], ck: float, k: int, dw: NDArray[np.float64], lo: int, hi: int) -> NDArray[np.float64]:
    """psi_k(p) - psi_k(lo) for p in [lo, hi]: the value of the k-th commercial at slot p, up to a constant."""
    if hi == lo:
        return np.zeros(1)
    p = np.arange(lo, hi)
    steps = dw[p] * (ck - o[p - k])
    return np.concatenate([[0.0], -np.cumsum(steps)])


def _psi_block(
    o: NDArray[np.float64],
    c: NDArray[np.float64],
    dw: NDArray[np.float64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    a: int,
    b: int,
) -> list[NDArray[np.float64]]:
    """:func:`_psi` for commercials a..b-1 at once (one segmented cumulative sum)."""
    lo_b, hi_b = lo[a:b], hi[a:b]
    steps_per = hi_b - lo_b  # psi has width steps + 1
    total = int(steps_per.sum())
    ks = np.repeat(np.arange(a, b, dtype=np.int64), steps_per)
    start = np.repeat(lo_b - np.concatenate([[0], np.cumsum(steps_per)[:-1]]), steps_per)
    p = start + np.arange(total, dtype=np.int64)
    cs = np.concatenate([[0.0], np.cumsum(dw[p] * (c[ks] - o[p - ks]))])
    ends = np.cumsum(steps_per)
    out = []
    begin = 0
    for end in ends.tolist():
        seg = cs[begin : end + 1]
        out.append(seg[0] - seg)  # psi(p) - psi(lo) = -(sum of steps from lo to p - 1)
        begin = end
    return out


def _solve(
    o: NDArray[np.float64],
    c: NDArray[np.float64],
    dw: NDArray[np.float64],
    merge: NDArray[np.int64],
    n_o: int,
    cap: LoadCap,
) -> NDArray[np.int64]:
    lo, hi, _ = _bounds(merge, n_o, cap)
    n = len(c)
    out = np.zeros(n, dtype=np.int64)
    gap, m, kw, win = cap.gap, cap.max_commercial, cap.window, cap.window_binds
    start = 0
    # Blocks: a constraint between k and a later commercial can only bind when their bands come closer than it.
    for k in range(n + 1):
        if k == n or (k > start and _independent(lo, hi, k, gap, m, kw, win)):
            if k > start:
                out[start:k] = _block(o, c, dw, lo, hi, start, k, cap)
            start = k
    return out


def _independent(lo: NDArray[np.int64], hi: NDArray[np.int64], k: int, gap: int, m: int, kw: int, win: bool) -> bool:
    """True when no constraint between commercials before k and from k on can bind, whatever their slots."""
    if lo[k] - hi[k - 1] < gap:
        return False
    if win:
        for j in range(max(0, k - m), k):
            if j + m >= len(lo):
                break
            if j + m >= k and lo[j + m] - hi[j] < kw:
                return False
    return True


def _block(
    o: NDArray[np.float64],
    c: NDArray[np.float64],
    dw: NDArray[np.float64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    a: int,
    b: int,
    cap: LoadCap,
) -> NDArray[np.int64]:
    """Exact DP over commercials a..b-1 inside their bands; the first starts free of earlier constraints."""
    if np.all(lo[a:b] == hi[a:b]):  # an optimum lies inside the bands: one slot each leaves no choice
        return lo[a:b].copy()
    if b - a == 1:
        psi = _psi(o, float(c[a]), a, dw, int(lo[a]), int(hi[a]))
        return np.array([int(lo[a]) + _last_argmax(psi)], dtype=np.int64)
    auto = _automaton(cap)
    h_n = len(auto.states)
    win = cap.window_binds
    far = cap.window if win else cap.gap  # deltas >= far all lead to the free state
    values: list[NDArray[np.float64]] = [np.zeros((0, 0))] * (b - a)
    psis = _psi_block(o, c, dw, lo, hi, a, b)
    nxt: NDArray[np.float64] | None = None
    for k in range(b - 1, a - 1, -1):
        lo_k, hi_k = int(lo[k]), int(hi[k])
        psi = psis[k - a]
        width = hi_k - lo_k + 1
        if nxt is None:
            v = np.broadcast_to(psi, (h_n, width)).copy()
        else:
            lo_n = int(lo[k + 1])
            w_n = nxt.shape[1]
            pos = np.arange(lo_k, hi_k + 1)
            best = np.full((h_n, width), _NEG)
            # any delta >= far: suffix maximum of the free state's values
            suffix = np.maximum.accumulate(nxt[auto.free][::-1])[::-1]
            j = pos + far - lo_n
            ok = j < w_n
            best[:, ok] = suffix[np.maximum(j[ok], 0)][None, :]
            # explicit deltas below `far`, only those that can land in the next band
            if len(auto.src):
                delta, dst, first, rows = auto.select(max(lo_n - hi_k, 0), lo_n + w_n - 1 - lo_k)
                if len(delta):
                    tgt = pos[None, :] + delta[:, None] - lo_n  # (transitions, width)
                    got = nxt[dst[:, None], np.clip(tgt, 0, w_n - 1)]
                    got[(tgt < 0) | (tgt >= w_n)] = _NEG
                    best[rows] = np.maximum(best[rows], np.maximum.reduceat(got, first, axis=0))
            v = best + psi[None, :]
        values[k - a] = v
        nxt = v
    # forward: pick the best start, then at each step the best successor (latest slot on ties: organics first)
    step = auto.step
    res = np.zeros(b - a, dtype=np.int64)
    p = int(lo[a]) + _last_argmax(values[0][auto.free])
    state = auto.free
    res[0] = p
    for k in range(a, b - 1):
        lo_n = int(lo[k + 1])
        following = values[k + 1 - a]
        w_n = following.shape[1]
        slots: list[int] = []
        states: list[int] = []
        for d in range(int(auto.min_delta[state]), far):
            if 0 <= p + d - lo_n < w_n:
                slots.append(p + d)
                states.append(step[(state, d)])
        j0 = max(p + far - lo_n, 0)
        if j0 < w_n:  # the best of the free-state slots from p + far on (the latest of equal ones)
            slots.append(lo_n + j0 + _last_argmax(following[auto.free, j0:]))
            states.append(auto.free)
        vals = following[np.array(states, dtype=np.int64), np.array(slots, dtype=np.int64) - lo_n]
        pick = _last_argmax(vals)
        p, state = slots[pick], states[pick]
        res[k + 1 - a] = p
    return res


def _last_argmax(x: NDArray[np.float64]) -> int:
    top = np.max(x)
    tol = 1e-12 * (1.0 + abs(float(top)))
    return int(np.flatnonzero(x >= top - tol)[-1])


def greedy_indices(
    scores: Sequence[float] | NDArray[np.float64],
    commercial: Sequence[bool] | NDArray[np.bool_],
    cap: LoadCap | None = None,
    weights: Weights = "dcg",
) -> Feed:
    """The common slot-by-slot heuristic (take the better of the next organic and the next commercial when the rule
    allows it). Not optimal; kept as the baseline the exact re-ranker is compared with in tests and benchmarks."""
    cap = cap or LoadCap()
    s = np.asarray(scores, dtype=np.float64)
    is_c = np.asarray(commercial, dtype=np.bool_)
    idx = np.arange(len(s), dtype=np.int64)
    org = _sorted_class(s, idx[~is_c]).tolist()
    com = _sorted_class(s, idx[is_c]).tolist()
    order: list[int] = []
    flags: list[bool] = []
    slots: list[int] = []
    i = j = 0
    while i < len(org) or j < len(com):
        t = len(order)
        ok = j < len(com) and (not slots or t - slots[-1] >= cap.min_gap)
        if ok and len(slots) >= cap.max_commercial:
            ok = t - slots[-cap.max_commercial] >= cap.window
        if ok and (i >= len(org) or s[com[j]] > s[org[i]]):
            order.append(com[j])
            flags.append(True)
            slots.append(t)
            j += 1
        elif i < len(org):
            order.append(org[i])
            flags.append(False)
            i += 1
        else:
            break
    w = position_weights(len(order), weights)
    dropped = com[j:]
    merged = np.sort(s[order + dropped])[::-1][: len(order)]
    return Feed(
        order=order,
        commercial=flags,
        dropped=dropped,
        value=float(np.dot(w, s[order])) if order else 0.0,
        unconstrained_value=float(np.dot(w, merged)) if order else 0.0,
        dropped_score=float(s[dropped].sum()) if dropped else 0.0,
    )


def rerank(
    candidates: Sequence[tuple[Any, float, bool]] | Sequence[dict[str, Any]],
    window: int = 10,
    max_commercial: int = 2,
    min_gap: int = 3,
    weights: Weights = "dcg",
) -> dict[str, Any]:
    """Re-rank ``(id, score, commercial)`` tuples (or dicts with those keys) under the commercial load cap.

    Returns ``{"feed": [{"id", "commercial"}, ...], "dropped": [...], "value", "unconstrained_value", "loss"}``.
    """
    ids: list[Any] = []
    scores: list[float] = []
    flags: list[bool] = []
    for cand in candidates:
        if isinstance(cand, dict):
            ids.append(cand["id"])
            scores.append(float(cand["score"]))
            flags.append(bool(cand["commercial"]))
        else:
            ident, score, com = cand
            ids.append(ident)
            scores.append(float(score))
            flags.append(bool(com))
    feed = rerank_indices(scores, flags, LoadCap(window, max_commercial, min_gap), weights)
    return feed.to_dict(ids)
