"""Deceptive-seeding score (种骗): did the buyers a note (or creator) brought have more bad outcomes than the same
items' other buyers? Empirical-Bayes Beta posteriors over post-purchase outcomes, on plain arrays.

The model, per outcome (``bad`` = a not-as-described refund or a 1-2 star review, by default; also ``nad``,
``low`` and ``refund`` for the reason codes):

* Every order i has an item, an outcome y_i in {0, 1}, and an exposure F_i in (0, 1]: the share of outcomes
  that have had time to arrive at its age (estimated from the lake's own mature orders; an order placed
  yesterday has F near 0, an old one F = 1). Each note e holds credit x_ie in it (the engine's journeys).
* The chance of a bad outcome is additive: ``P(y_i) = F_i * (beta_item(i) + sum_e x_ie * delta_e)``:
  the item's own baseline plus an excess delta_e for each note, in proportion to its share of the persuasion.
  An honest note has delta = 0; a note that oversells has delta > 0.
* Fitting it (EM: each bad outcome is shared between the item's baseline and the notes behind the order in
  proportion to their terms) estimates the item baselines from *all other orders* of the item, net of the
  other notes' excess, so one note's victims neither raise another note's baseline nor its excess.
* For note e: ``n_e = sum_i F_i x_ie`` credited orders (exposure-weighted), ``r_e`` bad outcomes attributed to
  it by the fit, and the baseline ``b_e``: the bad-outcome rate its orders would show without it (the items'
  baselines plus the other notes' excess). The posterior of its excess is
  ``delta_e ~ Beta(a + r_e, b + n_e - r_e)`` under the prior Beta(a, b): shape a = 1 (density highest at zero
  excess: innocent by default) and strength b fitted by empirical Bayes (beta-binomial marginal likelihood of
  every note's r_e out of n_e) within [``prior_orders_min``, ``prior_orders_max``]: a note starts with the record
  of at least 20 ordinary orders, so a handful of orders cannot convict it.
* Score = posterior mean excess (a rate: 0.12 means 12 more bad outcomes per 100 orders than the baseline), with
  a 90% credible interval. Flagged when ``P(delta_e > min_excess) >= level`` and at least ``min_orders`` orders
  are credited to it: the prior keeps small samples near zero excess, and the minimum states the policy
  outright (three bad outcomes out of three orders are striking, but not enough to convict a creator).

Item baselines are shrunk toward their category's rate when the categories are known (``item_group``), not the
global rate: a category whose buyers refund a lot (clothing that does not fit) sets the norm of its own items,
so its honest creators are not mistaken for deceptive ones. The fit also gives, per entity, the log likelihood
ratio of "its orders go bad at baseline plus ``pooling.alternative``" against "at baseline"
(:mod:`hongmao.trust.pooled`, which pools it over a group and judges sequentially).

Everything here is NumPy/SciPy on arrays; :mod:`hongmao.engine.trust_outcomes` supplies them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, sparse, special, stats  # type: ignore[import-untyped, unused-ignore]

from hongmao.trust.pooled import PoolRules, log_likelihood_ratio, null_moments, overdispersion

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ScoreRules:
    min_excess: float = 0.05  # an excess of bad outcomes that matters: five percentage points (about double)
    level: float = 0.8  # posterior probability of at least that excess needed to flag
    prior_orders_min: float = 20.0  # the prior counts as at least this many ordinary orders ...
    prior_orders_max: float = 100.0  # ... and at most this many, whatever empirical Bayes suggests
    prior_shape: float = 1.0  # Beta(1, b): density highest at zero excess, falling off over about 1/b
    item_prior_orders: float = 20.0  # an item's baseline is shrunk toward the global rate by this many orders
    maturity_days: float = 14.0  # outcomes of orders at least this old are complete; 0 turns exposure off
    interval: float = 0.9
    min_orders: float = 10.0  # fewer credited orders than this never flag (reason code LIMITED_EVIDENCE)
    # quasi-likelihood: an order counts 1 / dispersion of an order, where the dispersion is how much more the
    # honest majority's evidence varies than the model says (pooled.overdispersion, at least 1). Off: where it
    # acted on the development lakes (routes world) it cost flags and watches (bench/trust_deceptive.py)
    dispersion: bool = False
    iterations: int = 300
    tolerance: float = 1e-9
    pooling: PoolRules = field(default_factory=PoolRules)


@dataclass
class Scores:
    """Per-entity results of one outcome, aligned with the entity index."""

    outcome: str
    orders: Array  # credited orders, raw (sum of credit shares)
    exposure: Array  # credited orders weighted by outcome completeness
    observed: Array  # bad outcomes among credited orders (credit-weighted)
    attributed: Array  # bad outcomes the fit attributes to the entity
    baseline: Array  # expected rate without the entity
    mean: Array  # posterior mean excess
    low: Array
    high: Array
    p_exceed: Array  # P(excess > min_excess)
    flagged: NDArray[np.bool_]
    post_a: Array  # the posterior of the excess is Beta(post_a, post_b)
    post_b: Array
    scored: NDArray[np.bool_]  # entities that may be flagged (the others only absorb their share of the fit)
    prior: tuple[float, float] = (1.0, 30.0)
    global_rate: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    llr: Array | None = None  # the sequential evidence: log LR of baseline + pooling.alternative vs baseline

    def flagged_at(self, level: float, min_orders: float) -> NDArray[np.bool_]:
        """The flag rule: scored, ``P(excess > min_excess) >= level`` and at least ``min_orders`` credited orders.
        ``flagged`` is this at the rules' own level and minimum; neither changes the fit."""
        return _flags(self.scored, self.p_exceed, self.orders, level, min_orders)


def _flags(
    scored: NDArray[np.bool_], p_exceed: Array, orders: Array, level: float, min_orders: float
) -> NDArray[np.bool_]:
    return scored & (p_exceed >= level) & (orders >= min_orders)


def outcome_exposure(age_days: Array, delay_days: Array, maturity_days: float) -> Array:
    """Per order, the share of its outcomes already observable at its age.

    ``delay_days`` holds, for orders with the outcome, the days from order to outcome (NaN otherwise). Delays
    of orders at least ``maturity_days`` old (whose outcomes are complete) give the empirical distribution F;
    an order of age t gets F(t), mature orders 1.
    """
    age = np.asarray(age_days, dtype=np.float64)
    if maturity_days <= 0:
        return np.ones_like(age)
    delay = np.asarray(delay_days, dtype=np.float64)
    mature = age >= maturity_days
    seen = np.sort(delay[mature & np.isfinite(delay)])
    seen = seen[seen <= maturity_days]
    if len(seen) < 5:  # too few mature outcomes to know the lag: treat every order as complete
        return np.ones_like(age)
    f = np.searchsorted(seen, np.clip(age, 0.0, maturity_days), side="right") / len(seen)
    f[mature] = 1.0
    return np.maximum(f, 1e-3)


def _prior_strength(r: Array, n: Array, shape: float, bounds: tuple[float, float]) -> float:
    """Empirical Bayes for the prior's strength: the b of Beta(shape, b) that maximises the beta-binomial
    marginal likelihood of ``r`` attributed bad outcomes out of ``n`` credited orders (fractional counts), within
    ``bounds``. The shape is fixed (policy: mode at zero excess); only how strongly to shrink is learnt."""
    ok = n > 0
    r, n = r[ok], n[ok]
    low, high = bounds
    if len(r) < 3:
        return low

    def nll(log_b: float) -> float:
        b = math.exp(log_b)
        return float(-np.sum(special.betaln(shape + r, b + n - r) - special.betaln(shape, b)))

    res = optimize.minimize_scalar(nll, bounds=(math.log(low), math.log(high)), method="bounded")
    return float(min(max(math.exp(res.x), low), high))


def score(
    outcome: str,
    y: Array,
    item: NDArray[np.int64],
    exposure: Array,
    credit: sparse.csr_matrix,
    rules: ScoreRules,
    scored: NDArray[np.bool_] | None = None,
    item_group: NDArray[np.int64] | None = None,
) -> Scores:
    """Fit the additive model for one outcome and score every entity (column of ``credit``).

    ``y``: outcome per order (0/1); ``item``: item index per order; ``exposure``: F per order;
    ``credit``: orders x entities credit shares; ``scored``: entities that get a prior and a score (others,
    e.g. '(unknown)' keys, only absorb their share of the fit); ``item_group``: each item's category (index),
    whose rate an item's baseline is shrunk toward (None: the global rate).
    """
    y = np.asarray(y, dtype=np.float64)
    f = np.asarray(exposure, dtype=np.float64)
    n_orders, n_ent = credit.shape
    scored = np.ones(n_ent, dtype=np.bool_) if scored is None else scored
    x = sparse.csr_matrix(credit, dtype=np.float64)
    xf = sparse.diags(f) @ x  # exposure-weighted credit
    n_e = np.asarray(xf.sum(axis=0)).ravel()
    raw = np.asarray(x.sum(axis=0)).ravel()
    observed = np.asarray(x.T @ y).ravel()
    n_items = int(item.max()) + 1 if len(item) else 0
    item_exposure = np.bincount(item, weights=f, minlength=n_items)
    total_exposure = float(f.sum())
    g = float(y.sum() / total_exposure) if total_exposure > 0 else 0.0
    m = rules.item_prior_orders
    centre = np.full(n_items, g)
    if item_group is not None and n_items:
        grp = np.asarray(item_group, dtype=np.int64)
        grp_bad = np.bincount(grp[item], weights=y, minlength=int(grp.max()) + 1)
        grp_exposure = np.bincount(grp[item], weights=f, minlength=int(grp.max()) + 1)
        centre = ((grp_bad + m * g) / (grp_exposure + m))[grp]  # a category's rate, itself shrunk to the global
    beta = (np.bincount(item, weights=y, minlength=n_items) + m * centre) / (item_exposure + m)

    def fit(prior: tuple[float, float], delta: Array, beta: Array) -> tuple[Array, Array, Array]:
        pa, pb = prior
        resp = np.zeros(n_ent)
        for _ in range(rules.iterations):
            p = f * beta[item] + xf @ delta
            ratio = np.divide(y, p, out=np.zeros_like(y), where=p > 0)
            resp = delta * np.asarray(xf.T @ ratio).ravel()
            resp_item = beta * np.bincount(item, weights=f * ratio, minlength=n_items)
            ml = np.divide(resp, n_e, out=np.zeros(n_ent), where=n_e > 0)
            new = np.where(scored, (pa + resp) / (pa + pb + n_e), ml)
            new_beta = (resp_item + m * centre) / (item_exposure + m)
            change = max(float(np.max(np.abs(new - delta), initial=0.0)), float(np.max(np.abs(new_beta - beta))))
            delta, beta = new, new_beta
            if change < rules.tolerance:
                break
        return delta, beta, resp

    # 1. Fit with a weak prior (mode at zero, worth prior_orders_min orders); EM updates are multiplicative, so
    #    every excess starts at half the global rate rather than at an absorbing zero.
    start = (rules.prior_shape, max(rules.prior_orders_min, 1.0))
    delta, beta, resp = fit(start, np.full(n_ent, 0.5 * g if g > 0 else 0.01), beta)
    # 2. Empirical Bayes: the Beta prior that best explains the attributed outcomes across entities, held to
    #    the policy bounds (mode at zero; worth between prior_orders_min and prior_orders_max orders).
    a = rules.prior_shape
    b = _prior_strength(resp[scored], n_e[scored], a, (rules.prior_orders_min, rules.prior_orders_max))
    # 3. Refit under that prior.
    if (a, b) != start:
        delta, beta, resp = fit((a, b), np.maximum(delta, 1e-6), beta)
    # Baseline of each entity: the expected rate of its orders without its own excess.
    p = f * beta[item] + xf @ delta
    xc = xf.tocoo()
    without = (p[xc.row] - xc.data * delta[xc.col]) / f[xc.row]
    baseline = np.divide(
        np.bincount(xc.col, weights=xc.data * without, minlength=n_ent), n_e, out=np.zeros(n_ent), where=n_e > 0
    )
    p_without = p[xc.row] - xc.data * delta[xc.col]
    llr = log_likelihood_ratio(y, p_without, xc, n_ent, rules.pooling.alternative)
    # Over-dispersion: credit and baselines are estimates, so honest entities' evidence spreads wider than the
    # binomial model says. Measured on the honest majority (a median), it divides the evidence and the orders:
    # an over-dispersed order is worth less than one order in both the likelihood ratio and the Beta posterior.
    phi = 1.0
    if rules.dispersion:
        null_mean, null_var = null_moments(p_without, xc, n_ent, rules.pooling.alternative)
        phi = overdispersion(llr, null_mean, null_var, scored)
    llr = llr / phi
    r = np.minimum(resp, n_e)
    pa, pb = a + r / phi, b + np.maximum(n_e - r, 0.0) / phi
    tail = (1.0 - rules.interval) / 2
    mean = pa / (pa + pb)
    low = stats.beta.ppf(tail, pa, pb)
    high = stats.beta.ppf(1.0 - tail, pa, pb)
    p_exceed = stats.beta.sf(rules.min_excess, pa, pb)
    return Scores(
        outcome=outcome,
        orders=raw,
        exposure=n_e,
        observed=observed,
        attributed=r,
        baseline=baseline,
        mean=mean,
        low=low,
        high=high,
        p_exceed=p_exceed,
        flagged=_flags(scored, p_exceed, raw, rules.level, rules.min_orders),
        post_a=pa,
        post_b=pb,
        scored=scored,
        prior=(a, b),
        global_rate=g,
        meta={"orders": n_orders, "items": n_items, "dispersion": phi},
        llr=llr,
    )


def reason_codes(primary: Scores, others: dict[str, Scores], j: int, rules: ScoreRules) -> list[str]:
    """Reason codes of entity ``j``: which outcomes are in credible excess, and whether evidence is thin."""
    codes = []
    names = {"bad": "EXCESS_BAD_OUTCOMES", "nad": "EXCESS_NOT_AS_DESCRIBED", "low": "EXCESS_LOW_RATINGS"}
    names["refund"] = "EXCESS_REFUNDS"
    for s in (primary, *others.values()):
        if s.p_exceed[j] >= rules.level:
            codes.append(names.get(s.outcome, f"EXCESS_{s.outcome.upper()}"))
    if primary.orders[j] < rules.min_orders:
        codes.append("LIMITED_EVIDENCE")
    return codes
