"""The outcome-aware split of each order's cause (hongmao.trust.causes) on hand-built worlds: where one creator's
buyers refund and a co-read honest creator's own buyers do not, the split moves the shared orders' bad outcomes
onto the deceptive one; where nobody deceives, nothing moves; the split never collapses a shared order wholly
onto one creator in a few rounds; and the judgement reads the split credit when asked to."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

from hongmao.trust.causes import CauseRules, split_causes
from hongmao.trust.pooled import PoolRules
from hongmao.trust.shrinkage import ScoreRules, score


def world(
    rate_alone: tuple[float, float], rate_shared: float, n: int = 400, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Creators 0 and 1: n orders each credited wholly to one of them (bad at ``rate_alone``), and n orders whose
    buyers read both (half credit each, bad at ``rate_shared``). One item, so one norm."""
    rng = np.random.default_rng(seed)
    rows, cols, w, y = [], [], [], []
    for creator, rate in enumerate(rate_alone):
        for _ in range(n):
            rows.append(len(y))
            cols.append(creator)
            w.append(1.0)
            y.append(float(rng.random() < rate))
    for _ in range(n):
        for creator in (0, 1):
            rows.append(len(y))
            cols.append(creator)
            w.append(0.5)
        y.append(float(rng.random() < rate_shared))
    x = sparse.csr_matrix((np.array(w), (np.array(rows), np.array(cols))), shape=(len(y), 2))
    return np.array(y), np.zeros(len(y), dtype=np.int64), x


def bad_share(credit: sparse.csr_matrix, y: np.ndarray, creator: int) -> float:
    """Creator's share of the bad outcomes on orders both creators hold."""
    x = credit.toarray()
    both = (x[:, 0] > 0) & (x[:, 1] > 0) & (y > 0)
    return float(x[both, creator].sum() / x[both].sum())


def test_bad_outcomes_move_onto_the_creator_whose_own_buyers_refund() -> None:
    # creator 0 deceives (25% bad on its own buyers), creator 1 is honest (5%); their shared buyers: about 15%
    y, item, x = world((0.25, 0.05), 0.15)
    fit = split_causes(y, item, np.ones(len(y)), x, np.ones(2, dtype=bool))
    assert bad_share(x, y, 0) == 0.5
    assert bad_share(fit.credit, y, 0) > 0.58  # the shared bad outcomes lean onto the deceiver
    assert fit.excess[0] > 0.1 and fit.excess[1] < 0.02
    # a good outcome moves little; every order still holds all its credit (linear: no baseline)
    assert np.allclose(np.asarray(fit.credit.sum(axis=1)).ravel(), 1.0)


def test_without_deception_nothing_moves() -> None:
    y, item, x = world((0.05, 0.05), 0.05)
    fit = split_causes(y, item, np.ones(len(y)), x, np.ones(2, dtype=bool))
    assert fit.moved < 0.01
    assert abs(bad_share(fit.credit, y, 0) - 0.5) < 0.05


def test_a_few_rounds_do_not_collapse_a_shared_order_onto_one_creator() -> None:
    y, item, x = world((0.25, 0.05), 0.15)
    fit = split_causes(y, item, np.ones(len(y)), x, np.ones(2, dtype=bool), rules=CauseRules(iterations=3))
    shared = fit.credit.toarray()[800:]
    assert shared.min() > 0.1  # the honest co-read creator keeps part of every shared order


def test_the_baseline_keeps_its_share_and_unscored_keys_carry_no_excess() -> None:
    # hazard-like credit: creator 0 holds 0.6 of each order, the baseline the rest; creator 1 unscored
    rng = np.random.default_rng(2)
    n = 600
    y = (rng.random(n) < 0.3).astype(float)
    x = sparse.csr_matrix((np.full(n, 0.6), (np.arange(n), np.zeros(n, dtype=np.int64))), shape=(n, 2))
    fit = split_causes(y, np.zeros(n, dtype=np.int64), np.ones(n), x, np.array([True, False]))
    assert fit.excess[1] == 0.0
    assert float(fit.credit.sum()) < n  # the baseline still holds part of the orders


def test_the_split_raises_the_deceivers_evidence_and_not_the_honest_ones() -> None:
    y, item, x = world((0.25, 0.05), 0.15)
    f = np.ones(len(y))
    plain = score("bad", y, item, f, x, ScoreRules())
    split = score("bad", y, item, f, split_causes(y, item, f, x, np.ones(2, dtype=bool)).credit, ScoreRules())
    assert plain.llr is not None and split.llr is not None
    assert split.llr[0] > plain.llr[0]
    assert split.llr[1] <= plain.llr[1] + 1e-9


def test_the_report_reads_the_split_only_when_asked() -> None:
    from datetime import datetime, timedelta

    from hongmao.trust.report import DeceptiveResult, deceptive_scores

    # as in the simulator: each order has one cause (a shared order's is either creator, half and half), and a
    # deceived buyer is more likely both to refund as not described and to rate low, each drawn on its own
    nad, _, x = world((0.25, 0.05), 0.15, n=200, seed=1)
    rng = np.random.default_rng(3)
    cause = np.r_[np.zeros(200), np.ones(200), (rng.random(200) < 0.5) * 1.0]
    rate = np.where(cause == 0, 0.25, 0.05)
    nad = (rng.random(len(cause)) < rate) * 1.0
    low = (rng.random(len(cause)) < rate) * 1.0
    end = datetime(2026, 1, 31)
    late = end - timedelta(days=18)
    orders = []
    for i in range(len(nad)):
        bad, refund = bool(nad[i] or low[i]), bool(nad[i])
        orders.append(
            {
                "order_id": f"o{i}",
                "item_id": "item",
                "category": "c",
                "t": end - timedelta(days=20),
                "bad": bad,
                "nad": refund,
                "low": bool(low[i]),
                "refund": refund,
                **{f"{k}_t": late if v else None for k, v in (("bad", bad), ("nad", refund), ("refund", refund))},
                "low_t": late if low[i] else None,
            }
        )
    xc = x.tocoo()
    rows = [
        {"order_id": f"o{i}", "key": f"c{j}", "weight": float(w), "group": None}
        for i, j, w in zip(xc.row, xc.col, xc.data, strict=True)
    ]
    got = {
        causes: deceptive_scores(orders, rows, end, ScoreRules(pooling=PoolRules(causes=causes)))
        for causes in ("share", "em", "em_cross")
    }
    plain, em, cross = got["share"], got["em"], got["em_cross"]
    assert plain is not None and em is not None and cross is not None
    assert plain.pooled is not None and em.pooled is not None and cross.pooled is not None

    def evidence(res: DeceptiveResult) -> np.ndarray:  # the pooled judgement's LLR before its cap
        return np.asarray(res.others["nad"].llr) + np.asarray(res.others["low"].llr)

    assert evidence(em)[0] > evidence(plain)[0]
    assert em.primary.observed[0] > plain.primary.observed[0]
    # cross-fitted: the evidence rises for the deceiver, not for the honest one; the excess view keeps the shares
    assert evidence(cross)[0] > evidence(plain)[0]
    assert evidence(cross)[1] <= evidence(plain)[1] + 1e-9
    assert np.array_equal(cross.primary.observed, plain.primary.observed)
    with pytest.raises(ValueError, match="causes"):
        deceptive_scores(orders, rows, end, ScoreRules(pooling=PoolRules(causes="truth")))
