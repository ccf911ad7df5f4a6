"""The additive-hazard model as pure math: it recovers the parameters of person-day data drawn inside the test
from a known additive hazard, its gradient is exact, each order's shares sum to one, the fit is deterministic,
and bad input is refused with a reason."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from scipy.optimize import check_grad

from hongmao.attribution.hazard import (
    _DistinctTouches,
    _Objective,
    fit_additive_hazard,
    fit_frailty_hazard,
    hazard_shares,
)
from hongmao.attribution.hazard_data import HazardData, quantile_strata
from hongmao.errors import AttributionError

KINDS = ("impression", "read", "click")
MU = (0.002, 0.008)  # baseline per day, two strata
ALPHA = (0.0, 0.012, 0.2)  # effect per kind: impressions do nothing, a click adds a lot
GAMMA = (1.0, 0.1, 1.5)  # decay per day: reads last (half-life ~7 days), clicks act within a day or two


def draw(
    seed: int = 0,
    people: int = 6000,
    days: int = 40,
    notes: int = 24,
    note_sd: float = 0.0,
    recent_factor: float | None = None,
    onset: tuple[float, ...] | None = None,
    frailty_shape: float | None = None,
) -> tuple[HazardData, np.ndarray]:
    """Person-day orders drawn as Poisson(λ) of the model with the constants above; returns the true b_n too.

    ``recent_factor``: a fifth of the person-days (at random) are marked as just after a purchase of the person's
    and their baseline is multiplied by this. ``onset``: per kind, δ of an effect rising as 1 - e^{-δ(age+1)}.
    """
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, len(MU), people)
    z = rng.gamma(frailty_shape, 1.0 / frailty_shape, people) if frailty_shape is not None else np.ones(people)
    # with a frailty, a targeted feed: people likely to buy anyway see the most notes
    count = rng.poisson(6 * z) if frailty_shape is not None else rng.poisson(6, people)
    tu = np.repeat(np.arange(people), count)
    td = rng.integers(0, days, tu.size)
    tk = rng.choice(len(KINDS), tu.size, p=[0.6, 0.3, 0.1])
    tn = rng.integers(0, notes, tu.size)
    b = rng.normal(0.0, note_sd, notes) if note_sd > 0 else np.zeros(notes)
    alpha, gamma = np.asarray(ALPHA), np.asarray(GAMMA)
    lam = np.tile((np.asarray(MU)[stratum] * z)[:, None], (1, days))
    recent = rng.random((people, days)) < 0.2 if recent_factor is not None else np.zeros((people, days), dtype=bool)
    lam = np.where(recent, lam * (recent_factor or 1.0), lam)
    rise = np.asarray(onset) if onset is not None else None
    for day in range(days):
        age = day - td
        on = age >= 0
        term = alpha[tk[on]] * np.exp(b[tn[on]] - gamma[tk[on]] * age[on])
        if rise is not None:
            term = term * -np.expm1(-rise[tk[on]] * (age[on] + 1.0))
        np.add.at(lam[:, day], tu[on], term)
    y = rng.poisson(lam)
    ou, od = np.nonzero(y)
    reps = y[ou, od]
    ou, od = np.repeat(ou, reps), np.repeat(od, reps)
    pair_order, pair_touch, pair_age = [], [], []
    by_person: dict[int, np.ndarray] = {}
    order_of_touch = np.argsort(tu, kind="stable")
    starts = np.searchsorted(tu[order_of_touch], np.arange(people + 1))
    for o, (u, day) in enumerate(zip(ou.tolist(), od.tolist(), strict=True)):
        mine = by_person.setdefault(u, order_of_touch[starts[u] : starts[u + 1]])
        before = mine[td[mine] <= day]
        pair_order += [o] * before.size
        pair_touch += before.tolist()
        pair_age += (day - td[before]).tolist()
    data = HazardData(
        kinds=KINDS,
        stratum_exposure=np.bincount(stratum, minlength=len(MU)).astype(np.float64) * days,
        order_stratum=stratum[ou].astype(np.int64),
        touch_kind=tk.astype(np.int64),
        touch_note=tn.astype(np.int64),
        touch_creator=(tn % 4).astype(np.int64),
        touch_exposure=(days - td).astype(np.float64),
        pair_order=np.asarray(pair_order, dtype=np.int64),
        pair_touch=np.asarray(pair_touch, dtype=np.int64),
        pair_age=np.asarray(pair_age, dtype=np.float64),
        n_notes=notes,
        n_creators=4,
    )
    if frailty_shape is not None:
        data = replace(
            data,
            order_person=ou.astype(np.int64),
            cell_person=np.arange(people, dtype=np.int64),
            cell_stratum=stratum.astype(np.int64),
            cell_exposure=np.full(people, float(days)),
            cell_unexposed=_first_touch(tu, td, people, days).astype(np.float64),
            person_touches=np.bincount(tu, minlength=people).astype(np.float64),
        )
    if recent_factor is not None:
        exposure = np.bincount(stratum, weights=recent.sum(axis=1), minlength=len(MU)).astype(np.float64)
        data = replace(data, order_recent=recent[ou, od].astype(np.float64), stratum_recent_exposure=exposure)
    return data, b


def _first_touch(tu: np.ndarray, td: np.ndarray, people: int, days: int) -> np.ndarray:
    """Each person's first touch day (``days`` for a person never touched): their days without exposure."""
    first = np.full(people, days, dtype=np.int64)
    np.minimum.at(first, tu, td)
    return first


@pytest.fixture(scope="module")
def drawn() -> tuple[HazardData, np.ndarray]:
    return draw(note_sd=0.5)


def test_recovers_known_parameters(drawn: tuple[HazardData, np.ndarray]) -> None:
    data, true_b = drawn
    fit = fit_additive_hazard(data)
    assert fit.converged
    assert fit.baseline == pytest.approx(MU, rel=0.15)
    assert fit.effect[1:] == pytest.approx(ALPHA[1:], rel=0.25)
    assert fit.effect[0] < 0.1 * ALPHA[1]  # impressions: no effect
    assert fit.decay[1:] == pytest.approx(GAMMA[1:], rel=0.3)
    # the note multipliers are recovered up to the shrinkage, and their prior scale is estimated near 0.5
    assert np.corrcoef(fit.note_effect, true_b)[0, 1] > 0.8
    assert 0.25 < fit.prior_sd_note < 0.8
    half = fit.half_life_days()
    assert half["read"] == pytest.approx(np.log(2) / GAMMA[1], rel=0.3)


def test_fixed_prior_scale_is_kept(drawn: tuple[HazardData, np.ndarray]) -> None:
    data, _ = drawn
    fit = fit_additive_hazard(data, prior_sd_creator=0.01, prior_sd_note=0.01)
    assert (fit.prior_sd_creator, fit.prior_sd_note) == (0.01, 0.01)
    assert np.abs(fit.note_effect).max() < 0.05  # held near zero by the narrow prior


def test_shares_sum_to_each_order(drawn: tuple[HazardData, np.ndarray]) -> None:
    data, _ = drawn
    fit = fit_additive_hazard(data)
    pair_share, baseline_share = hazard_shares(fit, data)
    per_order = baseline_share + np.bincount(data.pair_order, weights=pair_share, minlength=data.n_orders)
    assert per_order == pytest.approx(np.ones(data.n_orders), abs=1e-12)
    assert np.all(pair_share >= 0) and np.all((baseline_share > 0) & (baseline_share <= 1))
    # attributed + baseline = orders
    assert pair_share.sum() + baseline_share.sum() == pytest.approx(data.n_orders, abs=1e-9)
    # the baseline takes about the orders the baseline rate predicts
    expected = float(np.asarray(MU) @ data.stratum_exposure)
    assert baseline_share.sum() == pytest.approx(expected, rel=0.15)


def test_fit_is_deterministic() -> None:
    data, _ = draw(seed=3, people=1500, days=20)
    one, two = fit_additive_hazard(data), fit_additive_hazard(data)
    for field in ("baseline", "effect", "decay", "creator_effect", "note_effect"):
        assert np.array_equal(getattr(one, field), getattr(two, field))
    assert one.log_likelihood == two.log_likelihood


def test_gradient_is_exact() -> None:
    data, _ = draw(seed=1, people=800, days=15, note_sd=0.3)
    objective = _Objective(data, 0.7, 0.4)
    rng = np.random.default_rng(2)
    size = data.n_strata + 2 * len(KINDS) + data.n_creators + data.n_notes
    for _ in range(3):
        x = np.concatenate([rng.normal(-5, 0.5, data.n_strata + len(KINDS)), rng.normal(-1, 0.5, len(KINDS))])
        x = np.concatenate([x, rng.normal(0, 0.3, size - x.size)])
        error = check_grad(lambda v: objective(v)[0], lambda v: objective(v)[1], x)
        assert error < 1e-5 * max(1.0, float(np.linalg.norm(objective(x)[1])))


def random_point(lay: Any, rng: np.random.Generator) -> np.ndarray:
    """A point of the objective's parameter space near where fits land: log rates, log decays, multipliers, onsets."""
    return np.concatenate(
        [
            rng.normal(-5, 0.5, lay.s + lay.k),
            rng.normal(-1, 0.5, lay.k),
            rng.normal(0, 0.3, lay.c + lay.n + lay.h),
            rng.normal(0, 0.7, lay.d),
        ]
    )


@pytest.mark.parametrize("onset", [False, True])
def test_touches_grouped_by_kind_creator_note_and_exposure_give_the_per_touch_objective(onset: bool) -> None:
    data, _ = draw(seed=4, people=800, days=15, note_sd=0.3)
    grouped = _DistinctTouches.of(data)
    assert grouped.count.sum() == data.touch_kind.size and grouped.count.size < data.touch_kind.size / 2
    each = _DistinctTouches(
        data.touch_kind, data.touch_creator, data.touch_note, data.touch_exposure, np.ones(data.touch_kind.size)
    )
    rng = np.random.default_rng(5)
    one, per_touch = _Objective(data, 0.7, 0.4, onset, grouped), _Objective(data, 0.7, 0.4, onset, each)
    lay = one.layout
    for _ in range(3):
        x = random_point(lay, rng)
        (value, grad), (want, want_grad) = one(x), per_touch(x)
        assert value == pytest.approx(want, rel=1e-12) and np.allclose(grad, want_grad, rtol=1e-10, atol=1e-15)
        assert one.log_likelihood(x) == pytest.approx(per_touch.log_likelihood(x), rel=1e-12)


@pytest.mark.parametrize(("history", "onset"), [(True, False), (False, True), (True, True)])
def test_gradient_is_exact_with_history_and_onset(history: bool, onset: bool) -> None:
    data, _ = draw(seed=1, people=800, days=15, note_sd=0.3, recent_factor=2.0 if history else None)
    objective = _Objective(data, 0.7, 0.4, onset)
    lay = objective.layout
    assert (lay.h, lay.d) == (int(history), len(KINDS) if onset else 0)
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = random_point(lay, rng)
        error = check_grad(lambda v: objective(v)[0], lambda v: objective(v)[1], x)
        assert error < 1e-5 * max(1.0, float(np.linalg.norm(objective(x)[1])))


def test_recovers_the_baseline_factor_after_own_purchases() -> None:
    """Days just after a person's own purchase carry a baseline three times as high: the fit finds the factor,
    the baseline and the effects, and those days' orders go more to the baseline than other days' orders."""
    data, _ = draw(seed=5, people=5000, days=30, recent_factor=3.0)
    fit = fit_additive_hazard(data, prior_sd_creator=0.01, prior_sd_note=0.01)
    assert fit.recent_factor == pytest.approx(3.0, rel=0.25)
    assert fit.baseline == pytest.approx(MU, rel=0.2)
    assert fit.effect[1:] == pytest.approx(ALPHA[1:], rel=0.3)
    _, baseline_share = hazard_shares(fit, data)
    assert data.order_recent is not None
    recent = data.order_recent > 0
    assert baseline_share[recent].mean() > baseline_share[~recent].mean()
    # without the history term the model cannot tell those days apart
    plain = fit_additive_hazard(replace(data, order_recent=None, stratum_recent_exposure=None))
    assert plain.recent_factor == 1.0 and plain.onset is None


def _kernel(alpha: float, gamma: float, delta: float, age: np.ndarray) -> np.ndarray:
    return alpha * np.exp(-gamma * age) * -np.expm1(-delta * (age + 1.0))


def test_recovers_a_lagged_onset() -> None:
    """Reads whose effect builds up over days (δ = 0.15: 14% of its height on the day, most after a week) and
    clicks that act at once (δ large): with an onset, the fitted effect curve of reads rises from the read's day
    to a peak days later and follows the true curve, and clicks keep their fast effect. (The rise and the decay
    trade off against each other, so the curve is checked, not each parameter.)"""
    delta = (5.0, 0.15, 5.0)
    data, _ = draw(seed=6, people=6000, days=40, onset=delta)
    fit = fit_additive_hazard(data, prior_sd_creator=0.01, prior_sd_note=0.01, onset=True)
    assert fit.onset is not None
    age = np.array([0.0, 3.0, 7.0, 14.0, 21.0])
    true = _kernel(ALPHA[1], GAMMA[1], delta[1], age)
    fitted = _kernel(float(fit.effect[1]), float(fit.decay[1]), float(fit.onset[1]), age)
    assert fitted == pytest.approx(true, rel=0.4)
    assert fitted[0] < 0.6 * fitted[1:3].max()  # rises after the read's day
    assert fit.onset[2] > 1.0 and fit.effect[2] == pytest.approx(ALPHA[2], rel=0.25)
    assert fit.baseline == pytest.approx(MU, rel=0.2)
    # the plain model, which has every effect start at its height, fits these data worse
    plain = fit_additive_hazard(data, prior_sd_creator=0.01, prior_sd_note=0.01)
    assert fit.log_likelihood > plain.log_likelihood + 2


def test_a_frailty_keeps_the_targeted_peoples_own_propensity_in_the_baseline() -> None:
    """People differ (Gamma frailty, shape 0.5) and the most likely buyers see the most notes: a shared stratum
    baseline hands their own propensity to the notes (about 195 baseline orders of a true 621); the frailty fit,
    learning from the days before each person's first touch, halves that error at least (about 525)."""
    data, _ = draw(seed=4, people=4000, days=30, frailty_shape=0.5)
    rng = np.random.default_rng(4)
    stratum = rng.integers(0, len(MU), 4000)
    z = rng.gamma(0.5, 2.0, 4000)
    assert data.order_person is not None
    true_mu = (np.asarray(MU)[stratum] * z)[data.order_person]
    plain = fit_additive_hazard(data, prior_sd_creator=0.5, prior_sd_note=0.5)
    _, plain_base = hazard_shares(plain, data)
    fit, weighted = fit_frailty_hazard(data, prior_sd_creator=0.5, prior_sd_note=0.5)
    pair_share, base_share = hazard_shares(fit, weighted)
    assert fit.frailty_shape is not None and fit.frailty_shape > 0
    # the truth's baseline orders: each order's true baseline share of its true hazard, summed
    w = np.asarray(ALPHA)[data.touch_kind[data.pair_touch]] * np.exp(
        -np.asarray(GAMMA)[data.touch_kind[data.pair_touch]] * data.pair_age
    )
    lam = true_mu + np.bincount(data.pair_order, weights=w, minlength=data.n_orders)
    truth = float(np.sum(true_mu / lam))
    assert abs(float(base_share.sum()) - truth) < 0.5 * abs(float(plain_base.sum()) - truth)
    per_order = base_share + np.bincount(data.pair_order, weights=pair_share, minlength=data.n_orders)
    np.testing.assert_allclose(per_order, 1.0, atol=1e-12)


def test_routes_hand_their_share_to_the_other_terms(drawn: tuple[HazardData, np.ndarray]) -> None:
    """Clicks taken as routes: no share of any order, which goes to the order's other terms and baseline in
    proportion to theirs, so each order still sums to 1."""
    data, _ = drawn
    fit = fit_additive_hazard(data)
    pair, base = hazard_shares(fit, data)
    routed_pair, routed_base = hazard_shares(fit, data, routes=("click",))
    click = data.touch_kind[data.pair_touch] == KINDS.index("click")
    assert click.any() and np.all(routed_pair[click] == 0.0)
    per_order = routed_base + np.bincount(data.pair_order, weights=routed_pair, minlength=data.n_orders)
    assert per_order == pytest.approx(np.ones(data.n_orders), abs=1e-12)
    assert routed_base.sum() > base.sum()
    # the other terms keep their ratios within each order (shares below the smallest normal float are subnormal:
    # a fit that drives a term's decay high leaves shares near 1e-320, whose ratios keep only a few digits)
    other = ~click & (pair > np.finfo(np.float64).tiny)
    ratio = routed_pair[other] / pair[other]
    order_ratio = routed_base / base
    assert ratio == pytest.approx(order_ratio[data.pair_order[other]], rel=1e-9)
    with pytest.raises(AttributionError, match="routes name kinds"):
        hazard_shares(fit, data, routes=("search",))


def _brute_shapley(hazard: dict[int, float], mu: float, days: float) -> tuple[dict[int, float], float]:
    """Every note's Shapley value in ``1 - exp(-days * (mu + sum of the coalition's hazards))`` over ``f(all)``,
    and ``f(none) / f(all)``, by the permutation formula over every coalition."""
    players = sorted(hazard)
    n = len(players)

    def f(coalition: tuple[int, ...]) -> float:
        return -math.expm1(-days * (mu + sum(hazard[p] for p in coalition)))

    values = {}
    for p in players:
        others = [q for q in players if q != p]
        values[p] = sum(
            math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) * (f((*s, p)) - f(s))
            for k in range(n)
            for s in itertools.combinations(others, k)
        )
    whole = f(tuple(players))
    return {p: v / whole for p, v in values.items()}, f(()) / whole


@pytest.mark.parametrize("days", [1.0, 30.0])
def test_probability_shapley_matches_every_coalition(days: float) -> None:
    """Credit as Shapley values of the purchase probability: per order and note, the shares equal the Shapley
    values counted over every coalition (notes with several touches are one player), and each order sums to 1."""
    data, _ = draw(seed=7, people=1500, days=30, note_sd=0.5)
    fit = fit_additive_hazard(data, prior_sd_creator=0.3, prior_sd_note=0.3)
    pair_share, base_share = hazard_shares(fit, data, shapley_days=days)
    per_order = base_share + np.bincount(data.pair_order, weights=pair_share, minlength=data.n_orders)
    assert per_order == pytest.approx(np.ones(data.n_orders), abs=1e-12)
    # each term of the model at its order, from the proportional split: term = share * λ
    plain_pair, plain_base = hazard_shares(fit, data)
    mu = fit.baseline[data.order_stratum]
    lam = mu / plain_base
    term = plain_pair * lam[data.pair_order]
    note = data.touch_note[data.pair_touch]
    checked = shared = 0
    for o in np.unique(data.pair_order).tolist():
        mine = np.flatnonzero(data.pair_order == o)
        hazard: dict[int, float] = {}
        for i in mine.tolist():
            hazard[int(note[i])] = hazard.get(int(note[i]), 0.0) + float(term[i])
        if len(hazard) > 8:
            continue
        values, organic = _brute_shapley(hazard, float(mu[o]), days)
        assert base_share[o] == pytest.approx(organic, rel=1e-9)
        for n, value in values.items():
            assert pair_share[mine][note[mine] == n].sum() == pytest.approx(value, rel=1e-8, abs=1e-15)
        checked += len(hazard) > 1
        shared += len(hazard) < mine.size
    assert checked > 50 and shared > 10  # orders with several notes, and notes with several touches
    # concave: the baseline gets at least its proportional share, more the more days
    assert np.all(base_share >= plain_base - 1e-12)
    assert base_share.sum() > plain_base.sum()


def test_probability_shapley_tends_to_the_proportional_split(drawn: tuple[HazardData, np.ndarray]) -> None:
    data, _ = drawn
    fit = fit_additive_hazard(data)
    pair, base = hazard_shares(fit, data)
    small_pair, small_base = hazard_shares(fit, data, shapley_days=1e-7)
    np.testing.assert_allclose(small_pair, pair, atol=1e-6)
    np.testing.assert_allclose(small_base, base, atol=1e-6)
    one_pair, _ = hazard_shares(fit, data, shapley_days=1.0)
    again_pair, _ = hazard_shares(fit, data, shapley_days=1.0)
    assert np.array_equal(one_pair, again_pair)  # deterministic
    assert np.abs(one_pair - pair).max() > 1e-4  # and not the proportional split


def test_orders_without_touches_are_all_baseline() -> None:
    data = HazardData(
        kinds=("read",),
        stratum_exposure=np.array([100.0]),
        order_stratum=np.zeros(3, dtype=np.int64),
        touch_kind=np.zeros(0, dtype=np.int64),
        touch_note=np.zeros(0, dtype=np.int64),
        touch_creator=np.zeros(0, dtype=np.int64),
        touch_exposure=np.zeros(0),
        pair_order=np.zeros(0, dtype=np.int64),
        pair_touch=np.zeros(0, dtype=np.int64),
        pair_age=np.zeros(0),
        n_notes=0,
        n_creators=0,
    )
    fit = fit_additive_hazard(data)
    assert fit.baseline == pytest.approx([0.03], rel=1e-4)  # 3 orders in 100 person-days
    assert fit.effect.tolist() == [0.0]
    pair_share, baseline_share = hazard_shares(fit, data)
    assert pair_share.size == 0 and baseline_share.tolist() == [1.0, 1.0, 1.0]
    pair_share, baseline_share = hazard_shares(fit, data, shapley_days=1.0)
    assert pair_share.size == 0 and baseline_share.tolist() == [1.0, 1.0, 1.0]


def bad(data: HazardData, **change: Any) -> str:
    with pytest.raises(AttributionError) as caught:
        replace(data, **change)
    return str(caught.value)


def test_bad_input_is_refused_with_a_reason() -> None:
    data, _ = draw(seed=4, people=300, days=10)
    assert "touch_kind holds an index outside" in bad(data, touch_kind=data.touch_kind + 5)
    assert "touch_note" in bad(data, touch_note=data.touch_note - 3)
    assert "pair_touch" in bad(data, pair_touch=data.pair_touch + data.n_touches)
    assert "finite and not negative" in bad(data, pair_age=-data.pair_age - 1)
    assert "finite and not negative" in bad(data, stratum_exposure=np.array([np.nan, 1.0]))
    assert "one entry per pair" in bad(data, pair_age=data.pair_age[:-1])
    assert "one entry per touch" in bad(data, touch_exposure=data.touch_exposure[:-1])
    assert "not below its touch's exposure" in bad(data, touch_exposure=np.zeros(data.n_touches))
    assert "has orders but no exposure" in bad(data, stratum_exposure=np.zeros(2))
    assert "distinct" in bad(data, kinds=("read", "read", "click"))
    assert "integer array" in bad(data, order_stratum=data.order_stratum.astype(np.float64))
    assert "given together" in bad(data, order_recent=np.zeros(data.n_orders))
    history = {"order_recent": np.zeros(data.n_orders), "stratum_recent_exposure": data.stratum_exposure}
    assert "one entry per order" in bad(data, **{**history, "order_recent": np.zeros(data.n_orders + 1)})
    assert "exceeds" in bad(data, **{**history, "stratum_recent_exposure": data.stratum_exposure + 1})
    assert "0 or 1" in bad(data, **{**history, "order_recent": np.full(data.n_orders, 2.0)})
    with pytest.raises(AttributionError, match="prior_sd_note"):
        fit_additive_hazard(data, prior_sd_note=-1.0)
    with pytest.raises(AttributionError, match="max_iter"):
        fit_additive_hazard(data, max_iter=0)
    empty = replace(
        data,
        order_stratum=np.zeros(0, dtype=np.int64),
        pair_order=np.zeros(0, dtype=np.int64),
        pair_touch=np.zeros(0, dtype=np.int64),
        pair_age=np.zeros(0),
    )
    with pytest.raises(AttributionError, match="no orders"):
        fit_additive_hazard(empty)
    fit = fit_additive_hazard(data)
    with pytest.raises(AttributionError, match="different"):
        hazard_shares(fit, replace(data, kinds=("a", "b", "c")))


def test_quantile_strata() -> None:
    values = np.array([0.0, 0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.9])
    stratum, edges = quantile_strata(values, 4)
    assert stratum.tolist() == sorted(stratum.tolist())  # numbered from the lowest values up
    assert set(stratum.tolist()) == set(range(int(stratum.max()) + 1))  # no gaps
    assert len(set(stratum[:4].tolist())) == 1  # ties share a stratum
    assert edges.size == int(stratum.max())
    one, none = quantile_strata(values, 1)
    assert one.tolist() == [0] * 10 and none.size == 0
    assert quantile_strata(np.zeros(0), 3)[0].size == 0
    with pytest.raises(AttributionError, match="at least 1"):
        quantile_strata(values, 0)
    with pytest.raises(AttributionError, match="finite"):
        quantile_strata(np.array([np.inf]), 2)
