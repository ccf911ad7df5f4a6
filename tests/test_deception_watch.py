"""The deceptive watch list's helpers: the distinct unhappy buyers behind an entity (one complaint is one buyer,
however large the entity's share of the order) and the Bayesian-FDR level that sets the watch line from the
posterior itself."""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

from hongmao.trust.pooled import (
    Array,
    PoolRules,
    bad_buyers,
    bayes_fdr_level,
    log_likelihood_ratio,
    null_moments,
    overdispersion,
    watch_line,
)


def test_bad_buyers_count_distinct_bad_orders_not_credit() -> None:
    # orders 0-3; order 0 and 2 went bad. Entity 0 holds a sliver of both bad orders, entity 1 all of one,
    # entity 2 only good orders, entity 3 a zero-weight entry on a bad order (no credit: not its buyer).
    y = np.array([1.0, 0.0, 1.0, 0.0])
    rows = [0, 2, 0, 1, 3, 2]
    cols = [0, 0, 1, 2, 2, 3]
    data = [0.1, 0.2, 0.9, 1.0, 1.0, 0.0]
    credit = sparse.csr_matrix((data, (rows, cols)), shape=(4, 5))
    assert bad_buyers(y, credit).tolist() == [2.0, 1.0, 0.0, 0.0, 0.0]


def test_bayes_fdr_level_keeps_the_expected_honest_share_under_q() -> None:
    post = np.array([0.99, 0.95, 0.8, 0.6, 0.4, 0.1, 0.05])
    everyone = np.ones(len(post), dtype=bool)
    level = bayes_fdr_level(post, everyone, 0.3)
    chosen = post[post >= level]
    assert np.mean(1.0 - chosen) <= 0.3
    # one more entry would break the bound
    nxt = post[post < level].max()
    assert np.mean(1.0 - np.append(chosen, nxt)) > 0.3
    # a stricter q never lowers the line; ineligible entries are not counted
    assert bayes_fdr_level(post, everyone, 0.1) >= level
    only_low = post < 0.5
    assert bayes_fdr_level(post, only_low, 0.3) == math.inf


def test_watch_line_is_the_fixed_level_or_the_fdr_level_capped_at_the_flag() -> None:
    post = np.array([0.99, 0.95, 0.8, 0.6, 0.4, 0.1, 0.05])
    everyone = np.ones(len(post), dtype=bool)
    assert watch_line(post, everyone, PoolRules()) == PoolRules().watch_level
    assert watch_line(post, everyone, PoolRules(watch_fdr=0.3)) == bayes_fdr_level(post, everyone, 0.3)
    # nobody qualifies: the line is the flag level, so flagged entities are still watched
    assert watch_line(post, post < 0.5, PoolRules(watch_fdr=0.3)) == PoolRules().flag_level
    # ... the lower of the notes' and the creators' flag levels
    assert watch_line(post, post < 0.5, PoolRules(watch_fdr=0.3, creator_flag_level=0.7)) == 0.7


def _honest_world(rng: np.random.Generator, spread: float, deceivers: int) -> tuple[Array, Array, Array]:
    """300 entities of 60 orders each at a 6% baseline; ``spread``: each entity's true rate drawn around the
    baseline (over-dispersion the model does not know of); the first ``deceivers`` go bad 25 points more."""
    n_ent, per = 300, 60
    rate = np.clip(0.06 + spread * rng.standard_normal(n_ent), 0.0, 1.0)
    rate[:deceivers] += 0.25
    ent = np.repeat(np.arange(n_ent), per)
    y = (rng.random(len(ent)) < rate[ent]).astype(np.float64)
    credit = sparse.coo_matrix((np.ones(len(ent)), (np.arange(len(ent)), ent)), shape=(len(ent), n_ent))
    p0 = np.full(len(ent), 0.06)
    llr = log_likelihood_ratio(y, p0, credit, n_ent, 0.1)
    mean, var = null_moments(p0, credit, n_ent, 0.1)
    return llr, mean, var


def test_overdispersion_is_one_for_binomial_evidence_and_ignores_the_deceivers() -> None:
    rng = np.random.default_rng(11)
    everyone = np.ones(300, dtype=bool)
    assert overdispersion(*_honest_world(rng, 0.0, 0), everyone) < 1.2
    assert overdispersion(*_honest_world(rng, 0.0, 30), everyone) < 1.2  # a tenth deceptive: trimmed, not noise
    assert overdispersion(*_honest_world(rng, 0.04, 0), everyone) > 1.5  # honest rates that wander


def test_null_moments_match_the_likelihood_ratio_under_h0() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    p0 = np.full(n, 0.05)
    credit = sparse.coo_matrix((np.full(n, 0.5), (np.arange(n), np.zeros(n, dtype=np.int64))), shape=(n, 1))
    mean, var = null_moments(p0, credit, 1, 0.1)
    draws = [log_likelihood_ratio((rng.random(n) < p0).astype(np.float64), p0, credit, 1, 0.1)[0] for _ in range(300)]
    assert abs(np.mean(draws) - mean[0]) < 3 * math.sqrt(var[0] / 300)
    assert 0.7 < np.var(draws) / var[0] < 1.3
