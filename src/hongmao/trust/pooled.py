"""Deception judged sequentially and pooled over groups: is this creator (or note) deceptive, given its own
buyers' outcomes and how common deception is among its group (the creator's agency; a note's creator)?

The per-entity evidence is a log likelihood ratio, the statistic of Wald's sequential probability ratio test:

* H0: the entity's orders go bad at their baseline rate (the items' own norms, net of the other notes' excess,
  as :func:`hongmao.trust.shrinkage.score` fits them), so an honest creator in a category whose buyers refund a
  lot is judged against that category's items, not a global rate;
* H1: they go bad at that rate plus ``alternative`` (an excess that matters) in proportion to the entity's
  credit in each order, times the order's exposure (how complete its outcomes are at its age).

``LLR = sum_i y_i log(p1_i / p0_i) + (1 - y_i) log((1 - p1_i) / (1 - p0_i))`` over the entity's orders. It
grows with every bad outcome and shrinks with every good one, so it can be read at any time: a few orders
cannot carry it far either way.

Pooling is a two-class hierarchical model: each entity is deceptive with probability ``pi_g``, the share of
deceptive entities in its group, and ``pi_g ~ Beta(kappa * pi, kappa * (1 - pi))`` around the overall share
``pi``. Both ``pi`` and the pooling strength ``kappa`` are fitted by empirical Bayes (EM for ``pi``, leave-one-out
predictive likelihood for ``kappa``, which must beat no pooling by ``pooling_gain`` nats, as an extra
parameter must: if groups say nothing about deception, every entity gets the overall share). An entity's own
evidence never raises its own group prior (the group share it is judged against leaves it out). The posterior
``P(deceptive) = sigmoid(logit(prior) + LLR)`` is the sequential judgement: watched at ``watch_level``,
flagged at ``flag_level`` (a note) or ``creator_flag_level`` (a creator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse, special  # type: ignore[import-untyped, unused-ignore]

Array = NDArray[np.float64]

LLR_CAP = 30.0
NO_POOLING = 1e6
KAPPAS = (NO_POOLING, 64.0, 32.0, 16.0, 8.0, 4.0)  # pooling strengths tried, weakest first
POOLING_GAIN = 2.0  # nats of leave-one-out likelihood a pooling strength must gain over none to be used


@dataclass(frozen=True)
class PoolRules:
    alternative: float = 0.1  # H1's excess of each outcome (a rate: 10 more per 100 orders)
    # the outcomes whose LLRs add up to the evidence: not-as-described refunds (a refund reason) and 1-2 star
    # reviews; their sum counts a buyer who does both twice, which the flag level allows for
    outcomes: tuple[str, ...] = ("nad", "low")
    watch_level: float = 0.5  # posterior P(deceptive) to watch ...
    flag_level: float = 0.9  # ... and to flag a note (with the score's minimum of credited orders) ...
    # ... and a creator. Its own level, for operators to trade recall for precision: at 0.6, on 10,000-person
    # lakes, creators' flags found 0.72-0.76 of the deceptive at precision 0.93-0.94 (0.63 at 0.97), but at
    # 85,000 people precision fell from 0.82 to 0.69, where honest creators carry evidence that diffuse credit
    # leaks onto them (docs/trust.md, "A creator's own flag level")
    creator_flag_level: float = 0.9
    # None: watch at watch_level. A share q: watch the longest run of entities, most suspect first, whose
    # expected share of honest ones (the mean of 1 - P(deceptive)) is at most q (watch_line, bayes_fdr_level)
    watch_fdr: float | None = None
    share_bounds: tuple[float, float] = (0.01, 0.5)  # the overall deceptive share is held within these
    pooling_gain: float = POOLING_GAIN
    iterations: int = 200
    # whose note caused each order: "share" reads the credit shares as they come (linear or hazard); "em" first
    # splits each order between its credited entities and the baseline by how it turned out (a mixture fitted
    # by EM to the bad outcome, hongmao.trust.causes.split_causes) and reads every outcome under that split;
    # "em_cross" reads only the evidence's not-as-described refunds under the split fitted to low ratings and
    # low ratings under the split fitted to refunds (an outcome never moves the shares it is judged under; the
    # shrunk excess and the credited orders keep the plain shares). Opt-in: neither raised flag recall at
    # precision 0.9 on every development world (bench/trust_deceptive.py)
    causes: str = "share"


@dataclass
class Pooled:
    llr: Array  # the entity's own evidence
    prior: Array  # P(deceptive) before its evidence: its group's share, leaving it out
    posterior: Array  # P(deceptive | its evidence, its group)
    share: float  # the overall deceptive share (pi)
    kappa: float  # the pooling strength (large: groups say nothing)
    groups: dict[str, dict[str, float]] = field(default_factory=dict)  # per group: entities, expected deceptive


def log_likelihood_ratio(
    y: Array, p_without: Array, credit: sparse.coo_matrix, n_entities: int, alternative: float
) -> Array:
    """Per entity, the LLR of H1 (excess ``alternative`` per unit of exposure-weighted credit) against H0.

    ``credit`` holds (order, entity, exposure-weighted credit) entries; ``p_without`` the chance, per entry, that
    the order goes bad without the entity's excess (exposure included)."""
    x = credit.data
    p0 = np.clip(p_without, 1e-6, 1 - 1e-6)
    p1 = np.clip(p0 + x * alternative, 1e-6, 1 - 1e-6)
    yy = y[credit.row]
    terms = yy * np.log(p1 / p0) + (1.0 - yy) * np.log((1.0 - p1) / (1.0 - p0))
    return np.bincount(credit.col, weights=terms, minlength=n_entities).astype(np.float64)


def null_moments(
    p_without: Array, credit: sparse.coo_matrix, n_entities: int, alternative: float
) -> tuple[Array, Array]:
    """Per entity, the mean and variance :func:`log_likelihood_ratio` would have if its orders went bad at their
    baselines (H0): what an honest entity with the same orders and credit shows, on average and in spread."""
    x = credit.data
    p0 = np.clip(p_without, 1e-6, 1 - 1e-6)
    p1 = np.clip(p0 + x * alternative, 1e-6, 1 - 1e-6)
    a, b = np.log(p1 / p0), np.log((1.0 - p1) / (1.0 - p0))
    mean = np.bincount(credit.col, weights=p0 * a + (1.0 - p0) * b, minlength=n_entities)
    var = np.bincount(credit.col, weights=p0 * (1.0 - p0) * (a - b) ** 2, minlength=n_entities)
    return mean.astype(np.float64), var.astype(np.float64)


def _posterior(prior: Array, llr: Array) -> Array:
    return np.asarray(special.expit(special.logit(prior) + llr), dtype=np.float64)


def pool(llr: Array, scored: NDArray[np.bool_], groups: Sequence[str | None], rules: PoolRules) -> Pooled:
    """The hierarchical two-class fit over the scored entities; ``groups[j]`` is entity j's group (None: alone)."""
    n = len(llr)
    lam = np.clip(np.asarray(llr, dtype=np.float64), -LLR_CAP, LLR_CAP)
    idx = np.flatnonzero(scored)
    low, high = rules.share_bounds
    if len(idx) == 0:
        return Pooled(lam, np.full(n, low), _posterior(np.full(n, low), lam), low, NO_POOLING)
    members_of = [int(j) for j in idx]
    names = sorted({g for j in members_of if (g := groups[j]) is not None})
    gid = np.full(n, -1, dtype=np.int64)
    code = {g: i for i, g in enumerate(names)}
    for j in members_of:
        name = groups[j]
        if name is not None:
            gid[j] = code[name]
    lik1, lik0 = np.exp(np.minimum(lam, 0.0)), np.exp(-np.maximum(lam, 0.0))  # scaled L1, L0 (ratio = e^lam)

    def priors(pi: float, kappa: float, post: Array) -> Array:
        """Leave-one-out group shares: entity j's group without j."""
        prior = np.full(n, pi)
        if names and kappa < NO_POOLING:
            g = gid[idx]
            inside = g >= 0
            size = np.bincount(g[inside], minlength=len(names)).astype(np.float64)
            total = np.bincount(g[inside], weights=post[idx][inside], minlength=len(names))
            j = idx[inside]
            prior[j] = (kappa * pi + total[g[inside]] - post[j]) / (kappa + size[g[inside]] - 1.0)
        return np.asarray(np.clip(prior, 1e-4, 1 - 1e-4), dtype=np.float64)

    best: tuple[float, float, float, Array] | None = None
    for kappa in KAPPAS:
        pi, post = 0.1, _posterior(np.full(n, 0.1), lam)
        for _ in range(rules.iterations):
            prior = priors(pi, kappa, post)
            new = _posterior(prior, lam)
            new_pi = float(np.clip(new[idx].mean(), low, high))
            done = abs(new_pi - pi) < 1e-7 and float(np.max(np.abs(new - post))) < 1e-7
            pi, post = new_pi, new
            if done:
                break
        prior = priors(pi, kappa, post)
        loglik = float(np.sum(np.log(prior[idx] * lik1[idx] + (1 - prior[idx]) * lik0[idx])))
        if best is None or loglik > best[0] + (rules.pooling_gain if best[1] == NO_POOLING else 1e-9):
            best = (loglik, kappa, pi, post)
    assert best is not None
    _, kappa, pi, post = best
    prior = priors(pi, kappa, post)
    posterior = _posterior(prior, lam)
    summary = {}
    for g, i in code.items():
        members = idx[gid[idx] == i]
        summary[g] = {"entities": float(len(members)), "expected_deceptive": float(posterior[members].sum())}
    return Pooled(lam, prior, posterior, pi, kappa, summary)


def sprt_bounds(alpha: float, beta: float) -> tuple[float, float]:
    """Wald's thresholds on the LLR for error rates alpha (false flag) and beta (missed): (lower, upper)."""
    return math.log(beta / (1 - alpha)), math.log((1 - beta) / alpha)


def bad_buyers(y: Array, credit: sparse.spmatrix) -> Array:
    """Per entity (column of ``credit``), how many distinct orders with a bad outcome (``y > 0``) credit it at
    all: the buyers a reviewer can list as the complaints behind a watch or a flag. One unhappy buyer is a single
    event, however large the creator's share of that order."""
    x = sparse.coo_matrix(credit)
    hit = (np.asarray(y, dtype=np.float64)[x.row] > 0) & (x.data > 0)
    return np.bincount(x.col[hit], minlength=x.shape[1]).astype(np.float64)


def bayes_fdr_level(posterior: Array, eligible: NDArray[np.bool_], q: float) -> float:
    """The lowest posterior P(deceptive) at which the eligible entities at or above it hold, in expectation, at
    most a share ``q`` of honest ones (the mean of 1 - P(deceptive) over the set: the Bayesian false discovery
    rate of Mueller, Parmigiani and Rice). Infinite when even the most suspect entity does not qualify."""
    p = np.sort(np.asarray(posterior, dtype=np.float64)[eligible])[::-1]
    ok = np.flatnonzero(np.cumsum(1.0 - p) / np.arange(1, len(p) + 1) <= q)
    return float(p[ok[-1]]) if len(ok) else math.inf


TRIM_Z = 2.0  # entities whose evidence lies further above its null mean than this (in dispersed sd) are left out


def overdispersion(llr: Array, null_mean: Array, null_var: Array, eligible: NDArray[np.bool_]) -> float:
    """How much more the evidence varies across entities than the model says it should (at least 1).

    Under H0 an entity's LLR has mean ``null_mean`` and variance ``null_var`` (its orders' baselines). The
    dispersion is the ratio of the observed squared deviations to the variances the model expects, summed over
    the eligible entities (a ratio of sums: many small entities and a few large ones weigh by their information,
    and discreteness of small counts averages out). Entities more than ``TRIM_Z`` dispersed standard deviations
    above their null mean are left out (the deceptive minority, whose excess is the signal, not noise), and the
    ratio is corrected for that trimming as for a normal tail (E[z^2 | z < 2] = 0.889), iterated to a fixed
    point. The quasi-likelihood evidence is LLR / dispersion: systematic error in baselines or credit that
    honest entities share is not read as evidence against any one of them."""
    ok = eligible & (null_var > 0)
    if int(ok.sum()) < 20:
        return 1.0
    dev, var = (llr - null_mean)[ok], null_var[ok]
    c = TRIM_Z
    kept_moment = 1.0 - c * math.exp(-c * c / 2) / math.sqrt(2 * math.pi) / special.ndtr(c)
    phi = 1.0
    for _ in range(100):
        keep = dev < c * np.sqrt(phi * var)
        new = max(1.0, float(np.sum(dev[keep] ** 2) / np.sum(var[keep]) / kept_moment))
        if abs(new - phi) < 1e-6:
            break
        phi = new
    return phi


def watch_line(posterior: Array, eligible: NDArray[np.bool_], rules: PoolRules) -> float:
    """The posterior P(deceptive) at which an eligible entity is watched: ``rules.watch_level``, or with
    ``rules.watch_fdr`` the Bayesian-FDR level (never above either flag level, so a flag is always watched too)."""
    if rules.watch_fdr is None:
        return rules.watch_level
    return min(bayes_fdr_level(posterior, eligible, rules.watch_fdr), rules.flag_level, rules.creator_flag_level)
