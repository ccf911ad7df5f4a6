"""The deceptive-seeding score on hand-made orders: shrinkage (three bad outcomes out of three orders do not
convict; forty out of sixty do), item baselines, explaining away, and outcome maturity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from hongmao.trust.shrinkage import ScoreRules, outcome_exposure, reason_codes, score


def world(
    groups: list[tuple[int, int, int, list[int]]], n_entities: int, items: int = 1
) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Orders from (count, bad, item, entities credited equally) groups."""
    y: list[float] = []
    item: list[int] = []
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for count, bad, it, ents in groups:
        for k in range(count):
            i = len(y)
            y.append(1.0 if k < bad else 0.0)
            item.append(it)
            for e in ents:
                rows.append(i)
                cols.append(e)
                vals.append(1.0 / len(ents))
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(y), n_entities))
    return np.array(y), np.array(item, dtype=np.int64), x


def scored(groups: list[tuple[int, int, int, list[int]]], n: int, rules: ScoreRules | None = None) -> object:
    y, item, x = world(groups, n)
    return score("refund", y, item, np.ones(len(y)), x, rules or ScoreRules())


def test_a_handful_cannot_convict_but_a_record_does() -> None:
    background = [(1000, 50, 0, [])]  # the item's other orders: 5% refunded
    honest = [(60, 3, 0, [e]) for e in range(2, 12)]  # ten ordinary notes at the baseline
    s = scored([*background, (3, 3, 0, [0]), (60, 40, 0, [1]), *honest], 12)
    assert not s.flagged[0]  # 3 of 3
    assert s.flagged[1]  # 40 of 60
    assert not s.flagged[2:].any()
    assert s.mean[0] < s.mean[1]
    assert s.low[1] <= s.mean[1] <= s.high[1]
    assert s.baseline[1] == pytest.approx(0.05, abs=0.01)
    assert s.observed[1] == pytest.approx(40.0)
    codes = reason_codes(s, {}, 0, ScoreRules())  # type: ignore[arg-type]
    assert "LIMITED_EVIDENCE" in codes


def test_shrinkage_alone_keeps_small_samples_near_zero() -> None:
    # Without the minimum-orders rule, the prior still pulls three orders toward no excess.
    rules = ScoreRules(min_orders=0)
    s = scored([(1000, 50, 0, []), (3, 3, 0, [0]), (60, 40, 0, [1])], 2, rules)
    assert s.mean[0] < 0.2 < 0.4 < s.mean[1]  # raw excesses: 95 and 62 points; 3/3 is pulled far more
    assert s.prior[1] >= rules.prior_orders_min


def test_baselines_are_per_item() -> None:
    # A note selling only an item that is refunded 30% of the time is ordinary at 30%.
    groups = [(1000, 300, 1, []), (1000, 20, 0, []), (80, 24, 1, [0]), (80, 24, 0, [1])]
    y, item, x = world(groups, 2)
    s = score("refund", y, item, np.ones(len(y)), x, ScoreRules())
    assert not s.flagged[0] and s.flagged[1]
    assert s.baseline[0] == pytest.approx(0.3, abs=0.02)


def test_explaining_away_clears_a_note_that_shares_buyers_with_a_deceptive_one() -> None:
    # Every order of note 1 was also credited to note 0; note 0 alone drives the bad outcomes
    # (its own orders go bad 60%), note 1's own orders are ordinary.
    groups = [
        (2000, 60, 0, []),
        (100, 60, 0, [0]),
        (60, 18, 0, [0, 1]),
        (100, 3, 0, [1]),
    ]
    y, item, x = world(groups, 2)
    s = score("bad", y, item, np.ones(len(y)), x, ScoreRules())
    assert s.flagged[0] and not s.flagged[1]


def test_outcome_exposure() -> None:
    age = np.array([0.0, 1.0, 3.0, 20.0, 30.0, 40.0, 25.0, 21.0, 22.0])
    delay = np.array([np.nan, np.nan, np.nan, 2.0, 4.0, 2.0, 6.0, 1.0, np.nan])
    f = outcome_exposure(age, delay, 14.0)
    assert f[3:].tolist() == [1.0] * 6
    assert 0 < f[0] < f[1] < f[2] < 1  # seen delays 1, 2, 2, 4, 6: F(1) = 0.2, F(3) = 0.6
    assert f[1] == pytest.approx(0.2) and f[2] == pytest.approx(0.6)
    assert outcome_exposure(age, delay, 0.0).tolist() == [1.0] * len(age)


def test_young_orders_count_for_less() -> None:
    # The same 12 bad outcomes out of 40 are stronger evidence when the orders are old (complete records).
    y, item, x = world([(2000, 100, 0, []), (40, 12, 0, [0])], 1)
    full = score("bad", y, item, np.ones(len(y)), x, ScoreRules())
    young = np.ones(len(y))
    young[-40:] = 0.5
    partial = score("bad", y, item, young, x, ScoreRules())
    assert partial.exposure[0] == pytest.approx(20.0)
    assert partial.mean[0] > full.mean[0]  # 12 of an effective 20 is a higher rate than 12 of 40
