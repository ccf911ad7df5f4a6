"""The sequential, pooled deception judgement on hand-made evidence: the likelihood ratio grows with bad outcomes
above an item's norm, a high-refund category sets its own norm, and a group shares evidence only when its members
really are alike (never an entity's own evidence raising its own prior)."""

from __future__ import annotations

import numpy as np
from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

from hongmao.trust.pooled import NO_POOLING, PoolRules, pool, sprt_bounds
from hongmao.trust.shrinkage import ScoreRules, score


def orders(spec: list[tuple[int, int, int, int]], n_entities: int) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Orders from (count, bad, item, entity or -1 for nobody) rows; each order fully credited to its entity."""
    y: list[float] = []
    item: list[int] = []
    rows: list[int] = []
    cols: list[int] = []
    for count, bad, it, ent in spec:
        for k in range(count):
            if ent >= 0:
                rows.append(len(y))
                cols.append(ent)
            y.append(1.0 if k < bad else 0.0)
            item.append(it)
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(y), n_entities))
    return np.array(y), np.array(item, dtype=np.int64), x


def test_the_likelihood_ratio_rises_with_excess_bad_outcomes_and_falls_without() -> None:
    y, item, x = orders([(2000, 100, 0, -1), (40, 14, 0, 0), (40, 2, 0, 1), (4, 1, 0, 2)], 3)
    s = score("nad", y, item, np.ones(len(y)), x, ScoreRules())
    assert s.llr is not None
    assert s.llr[0] > 3.0  # 14 of 40 against a 5% norm
    assert s.llr[1] < 0.0  # at the norm: the evidence speaks for H0
    assert abs(s.llr[2]) < abs(s.llr[0])  # a handful of orders cannot carry it far


def test_a_high_refund_category_is_its_own_norm() -> None:
    # category 1 refunds 30% of everything; its items have few orders each, so their baselines lean on a centre
    spec = [(3000, 60, 0, -1)]  # category 0: item 0, 2%
    spec += [(20, 6, it, -1) for it in range(1, 41)]  # category 1: items 1-40, 30%
    spec += [(20, 6, it, 0) for it in range(41, 44)]  # an honest creator selling category-1 items at their norm
    y, item, x = orders(spec, 1)
    group = np.array([0] + [1] * 43, dtype=np.int64)
    with_category = score("nad", y, item, np.ones(len(y)), x, ScoreRules(), None, group)
    global_only = score("nad", y, item, np.ones(len(y)), x, ScoreRules())
    assert with_category.llr is not None and global_only.llr is not None
    assert with_category.llr[0] < 1.0 < global_only.llr[0]
    assert with_category.baseline[0] > global_only.baseline[0]


def test_groups_pool_only_when_they_tell_something() -> None:
    rng = np.random.default_rng(5)
    n = 200
    truth = np.zeros(n, dtype=bool)
    truth[:20] = True  # group "lax" (entities 0-39) holds every deceiver
    llr = np.where(truth, rng.normal(3.0, 1.0, n), rng.normal(-1.0, 1.0, n))
    scored = np.ones(n, dtype=bool)
    lax = ["lax" if j < 40 else f"g{j // 40}" for j in range(n)]
    pooled = pool(llr, scored, lax, PoolRules())
    assert pooled.kappa < NO_POOLING
    assert pooled.prior[:40].min() > pooled.prior[40:].max()
    shuffled = [f"g{j % 5}" for j in range(n)]  # groups unrelated to deception
    flat = pool(llr, scored, shuffled, PoolRules())
    assert flat.kappa == NO_POOLING
    assert np.allclose(flat.prior, flat.share)
    assert 0.05 < flat.share < 0.2


def test_an_entity_alone_in_its_group_gets_no_lift_from_its_own_evidence() -> None:
    llr = np.array([8.0] + [-1.0] * 99)
    groups: list[str | None] = ["solo"] + [None] * 99
    pooled = pool(llr, np.ones(100, dtype=bool), groups, PoolRules())
    assert pooled.prior[0] == pooled.prior[1]  # its group without it is empty: the overall share


def test_wald_bounds() -> None:
    low, high = sprt_bounds(0.01, 0.2)
    assert low < 0 < high
    assert np.isclose(high, np.log(0.8 / 0.01))
