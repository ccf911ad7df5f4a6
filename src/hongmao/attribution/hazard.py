"""Additive-hazard (survival) attribution: a baseline purchase rate plus decaying effects of touches.

The model, after Zhang, Wei & Ren, "Multi-touch Attribution in Online Advertising with Survival Theory"
(ICDM 2014), which treats conversion as a point process whose hazard adds the effects of past ad exposures,
and Aalen's additive hazards model: on day ``t`` person ``u`` buys the brand at rate ::

    λ_u(t) = μ_s(u) + Σ_{touches i of u on day t or before}  α_k(i) · m_i · exp(-γ_k(i) · (t - t_i))

* ``μ_s``: the *baseline* rate of the person's stratum ``s`` (what they would buy with no touch at all);
* ``α_k``, ``γ_k``: the effect size and decay rate (per day) of a touch of kind ``k`` (read, click, ...);
* ``m_i = exp(a_c + b_n)``: a multiplier for the touch's creator ``c`` and note ``n``, with Gaussian priors
  ``a_c ~ N(0, σ_c²)`` and ``b_n ~ N(0, σ_n²)``: hierarchical shrinkage toward the kind's effect, so a note
  with few touches keeps about its kind's effect and a well-observed one gets its own. The scales σ are
  estimated from the data (empirical Bayes, an evidence update after each fit) unless given.

Time is in whole days (person-day data): a day's orders are Poisson with mean λ_u(t), so the log-likelihood
is ``Σ_orders log λ(t_o) − Σ_person-days λ``; the sum of each touch's term over its days is a geometric series
in closed form. A whole-day clock means a touch counts for its own day's orders whatever the hour: on a finer
clock, the browsing people do just before buying anyway would pass for a strong, fast effect. Parameters
maximise the penalised log-likelihood by L-BFGS-B on log parameters with exact gradients. The fit is
deterministic: a fixed start, no sampling.

Credit: each order's hazard at its time is split into its terms. A touch gets ``term / λ(t_o)`` of the order;
the baseline gets ``μ / λ(t_o)`` — the expected share of such orders that would have happened without any touch
— and is reported as baseline, credited to no note. Because the terms add, a touch's share is also (to first
order) the part of the order's probability that is lost without that touch: a counterfactual contribution.

What it assumes: effects add (substitutes, not complements) and decay exponentially day by day; the baseline
of a person is constant in time within their stratum; touches are not themselves caused by an approaching
purchase (beyond the same day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize, minimize_scalar  # type: ignore[import-untyped, unused-ignore]
from scipy.special import gammaln  # type: ignore[import-untyped, unused-ignore]

from hongmao.attribution.hazard_data import FloatArray, HazardData, IntArray, quantile_strata
from hongmao.errors import AttributionError

LOG_RATE_BOUNDS = (-30.0, 5.0)  # baseline and effect per day
LOG_DECAY_BOUNDS = (math.log(1 / 365), math.log(30.0))  # from a year to the same day only
MULTIPLIER_BOUNDS = (-10.0, 10.0)
START_DECAY = 1 / 7
START_SD = 0.5  # first prior scale of the log multipliers when it is estimated
SD_BOUNDS = (0.01, 3.0)
EVIDENCE_ROUNDS = 12
HISTORY_BOUNDS = (-5.0, 5.0)  # β, the log factor of the baseline after the person's own purchase
LOG_ONSET_BOUNDS = (math.log(1 / 60), math.log(30.0))  # δ: an effect reaching 63% of its height after 1/δ days
START_ONSET = 1.0


@dataclass(frozen=True)
class HazardFit:
    """The fitted parameters of one brand (see the module docstring); rates are per day."""

    kinds: tuple[str, ...]
    baseline: FloatArray  # (S,) μ per stratum
    effect: FloatArray  # (K,) α per kind (0 for a kind with no touches)
    decay: FloatArray  # (K,) γ per kind (the start value for a kind with no touches)
    creator_effect: FloatArray  # (C,) a_c (log multiplier)
    note_effect: FloatArray  # (N,) b_n (log multiplier)
    prior_sd_creator: float  # σ_c, given or estimated
    prior_sd_note: float  # σ_n, given or estimated
    log_likelihood: float  # unpenalised
    iterations: int
    converged: bool
    recent_factor: float = 1.0  # e^β: the baseline's factor on days just after the person's own purchase
    onset: FloatArray | None = None  # (K,) δ per kind with a lagged onset, else None
    frailty_shape: float | None = None  # k of the people's Gamma(k, k) baseline frailty, None without one

    def half_life_days(self) -> dict[str, float]:
        """Days for a touch's effect to halve, per kind."""
        return {k: math.log(2) / float(g) for k, g in zip(self.kinds, self.decay, strict=True)}


@dataclass(frozen=True)
class _Layout:
    """Where each parameter sits in the optimiser's vector: log μ (S), log α (K), log γ (K), a (C), b (N), then
    β (1, with a history term) and log δ (K, with a lagged onset)."""

    s: int
    k: int
    c: int
    n: int
    h: int = 0
    d: int = 0

    def split(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        s, k, c, n = self.s, self.k, self.c, self.n
        return (
            x[:s],
            x[s : s + k],
            x[s + k : s + 2 * k],
            x[s + 2 * k : s + 2 * k + c],
            x[s + 2 * k + c : s + 2 * k + c + n],
        )

    def extra(self, x: FloatArray) -> tuple[float, FloatArray | None]:
        """β (0 without a history term) and log δ per kind (``None`` without a lagged onset)."""
        at = self.s + 2 * self.k + self.c + self.n
        beta = float(x[at]) if self.h else 0.0
        log_delta = x[at + self.h : at + self.h + self.d] if self.d else None
        return beta, log_delta


def _padded(values: FloatArray) -> FloatArray:
    """``values`` with a trailing 0 so index -1 (no note, no creator) reads a zero log multiplier."""
    return np.concatenate([values, np.zeros(1)])


@dataclass(frozen=True)
class _DistinctTouches:
    """The touches grouped by (kind, creator, note, exposure), with how many touches each group holds. A touch's
    term summed over its days depends on nothing else, and many touches share all four (many people read one
    note on one day), so the objective computes each group's sum once and weighs it by the group's count."""

    kind: IntArray
    creator: IntArray
    note: IntArray
    exposure: FloatArray
    count: FloatArray

    @classmethod
    def of(cls, data: HazardData) -> _DistinctTouches:
        order = np.lexsort((data.touch_exposure, data.touch_note, data.touch_creator, data.touch_kind))
        kind, creator, note = data.touch_kind[order], data.touch_creator[order], data.touch_note[order]
        exposure = data.touch_exposure[order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = (
            (kind[1:] != kind[:-1])
            | (creator[1:] != creator[:-1])
            | (note[1:] != note[:-1])
            | (exposure[1:] != exposure[:-1])
        )
        starts = np.flatnonzero(first)
        count = np.diff(np.append(starts, order.size)).astype(np.float64)
        return cls(kind[starts], creator[starts], note[starts], exposure[starts], count)


class _Objective:
    """Negative penalised log-likelihood per order and its gradient."""

    def __init__(
        self,
        data: HazardData,
        prior_sd_creator: float,
        prior_sd_note: float,
        onset: bool = False,
        touches: _DistinctTouches | None = None,
    ) -> None:
        self.d = data
        self.t = touches if touches is not None else _DistinctTouches.of(data)
        k = len(data.kinds)
        self.layout = _Layout(
            data.n_strata, k, data.n_creators, data.n_notes, 1 if data.has_history else 0, k if onset else 0
        )
        self.scale = 1.0 / max(data.n_orders, 1)
        self.prec_c = 1.0 / prior_sd_creator**2
        self.prec_n = 1.0 / prior_sd_note**2
        d = data
        self.pk = d.touch_kind[d.pair_touch]
        self.pn = d.touch_note[d.pair_touch]
        self.pc = d.touch_creator[d.pair_touch]
        self.recent = d.order_recent if d.order_recent is not None else np.zeros(d.n_orders)
        self.frailty = d.order_frailty if d.order_frailty is not None else np.ones(d.n_orders)
        self.recent_exposure = (
            d.stratum_recent_exposure if d.stratum_recent_exposure is not None else np.zeros(d.n_strata)
        )

    def terms(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per pair its hazard term at the order, per order its baseline."""
        log_mu, log_alpha, log_gamma, a, b = self.layout.split(x)
        beta, log_delta = self.layout.extra(x)
        alpha, gamma = np.exp(log_alpha), np.exp(log_gamma)
        mult = np.exp(_padded(a)[self.pc] + _padded(b)[self.pn])
        w = alpha[self.pk] * mult * np.exp(-gamma[self.pk] * self.d.pair_age)
        if log_delta is not None:
            w = w * -np.expm1(-np.exp(log_delta)[self.pk] * (self.d.pair_age + 1.0))
        return w, np.exp(log_mu)[self.d.order_stratum] * np.exp(beta * self.recent) * self.frailty

    def _touch_sums(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray | None, FloatArray]:
        """Per group of :class:`_DistinctTouches`: its touches' terms summed over their days, the derivatives of
        that in log γ and log δ, and α·m times the group's count."""
        t = self.t
        _, log_alpha, log_gamma, a, b = self.layout.split(x)
        _, log_delta = self.layout.extra(x)
        gamma = np.exp(log_gamma)[t.kind]
        am = t.count * np.exp(log_alpha)[t.kind] * np.exp(_padded(a)[t.creator] + _padded(b)[t.note])
        g, dg = _day_sums(gamma, t.exposure)
        if log_delta is None:
            return am * g, am * dg, None, am
        delta = np.exp(log_delta)[t.kind]
        late = gamma + delta
        g2, dg2 = _day_sums(late, t.exposure)  # dg2 = γ'·∂G/∂γ' at γ' = γ + δ
        e = np.exp(-delta)
        total = g - e * g2
        d_gamma = dg - e * (gamma / late) * dg2
        d_delta = delta * e * g2 - e * (delta / late) * dg2
        return am * total, am * d_gamma, am * d_delta, am

    def baseline_integral(self, x: FloatArray) -> float:
        log_mu = self.layout.split(x)[0]
        beta, _ = self.layout.extra(x)
        return float(np.exp(log_mu) @ (self.d.stratum_exposure + np.expm1(beta) * self.recent_exposure))

    def log_likelihood(self, x: FloatArray) -> float:
        d = self.d
        w, mu_o = self.terms(x)
        lam = mu_o + np.bincount(d.pair_order, weights=w, minlength=d.n_orders)
        q, _, _, _ = self._touch_sums(x)
        return float(np.sum(np.log(lam))) - self.baseline_integral(x) - float(q.sum())

    def __call__(self, x: FloatArray) -> tuple[float, FloatArray]:
        d, lay = self.d, self.layout
        log_mu, _, log_gamma, a, b = lay.split(x)
        beta, log_delta = lay.extra(x)
        mu, gamma_k = np.exp(log_mu), np.exp(log_gamma)
        w, mu_o = self.terms(x)
        lam = mu_o + np.bincount(d.pair_order, weights=w, minlength=d.n_orders)
        inv = 1.0 / lam
        r = w * inv[d.pair_order]  # each pair's share of its order's hazard
        base_share = mu_o * inv
        # every touch's term summed over its days
        q, dq_dlog_gamma, dq_dlog_delta, _ = self._touch_sums(x)
        ll = float(np.sum(np.log(lam))) - self.baseline_integral(x) - float(q.sum())
        penalty = 0.5 * (self.prec_c * float(a @ a) + self.prec_n * float(b @ b))

        person_days = d.stratum_exposure + np.expm1(beta) * self.recent_exposure
        grad_mu = np.bincount(d.order_stratum, weights=base_share, minlength=lay.s) - mu * person_days
        k = lay.k
        grad_alpha = np.bincount(self.pk, weights=r, minlength=k) - np.bincount(self.t.kind, weights=q, minlength=k)
        grad_gamma = -np.bincount(self.pk, weights=r * gamma_k[self.pk] * d.pair_age, minlength=k) - np.bincount(
            self.t.kind, weights=dq_dlog_gamma, minlength=k
        )
        grad_a = _bincount_none(self.pc, r, lay.c) - _bincount_none(self.t.creator, q, lay.c) - self.prec_c * a
        grad_b = _bincount_none(self.pn, r, lay.n) - _bincount_none(self.t.note, q, lay.n) - self.prec_n * b
        parts = [grad_mu, grad_alpha, grad_gamma, grad_a, grad_b]
        if lay.h:
            parts.append(
                np.array([float(base_share @ self.recent) - math.exp(beta) * float(mu @ self.recent_exposure)])
            )
        if log_delta is not None and dq_dlog_delta is not None:
            u = np.exp(log_delta)[self.pk] * (d.pair_age + 1.0)
            dlog_rho = u * np.exp(-u) / np.maximum(-np.expm1(-u), 1e-300)
            parts.append(
                np.bincount(self.pk, weights=r * dlog_rho, minlength=k)
                - np.bincount(self.t.kind, weights=dq_dlog_delta, minlength=k)
            )
        grad = np.concatenate(parts)
        return -(ll - penalty) * self.scale, -grad * self.scale


def _day_sums(gamma: FloatArray, days: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``G = Σ_{j<days} exp(-γ j) = (1 - e^{-γ days}) / (1 - e^{-γ})`` and its derivative in ``log γ``."""
    one = -np.expm1(-gamma)  # 1 - e^{-γ}
    g = -np.expm1(-gamma * days) / one
    dg = gamma * (days * np.exp(-gamma * days) - g * np.exp(-gamma)) / one
    return g, dg


def _bincount_none(index: np.ndarray, weights: FloatArray, size: int) -> FloatArray:
    """``bincount`` of ``weights`` by ``index``, skipping index -1 (no note or creator)."""
    keep = index >= 0
    return np.bincount(index[keep], weights=weights[keep], minlength=size).astype(np.float64)


def _start(data: HazardData, layout: _Layout) -> tuple[FloatArray, list[tuple[float, float]]]:
    """The fixed starting point (baseline at half the stratum's order rate, touches doubling the mean rate, no
    history factor, an onset of a day)."""
    s, k = data.n_strata, len(data.kinds)
    per_stratum = np.bincount(data.order_stratum, minlength=s).astype(np.float64)
    exposure = np.maximum(data.stratum_exposure, 1e-12)
    rate = max(float(per_stratum.sum()) / float(data.stratum_exposure.sum()), 1e-9)
    mu0 = np.log(np.maximum(0.5 * per_stratum / exposure, rate * 1e-3))
    x0 = np.concatenate(
        [
            np.clip(mu0, *LOG_RATE_BOUNDS),
            np.full(k, math.log(rate)),
            np.full(k, math.log(START_DECAY)),
            np.zeros(data.n_creators + data.n_notes),
            np.zeros(layout.h),
            np.full(layout.d, math.log(START_ONSET)),
        ]
    )
    bounds = (
        [LOG_RATE_BOUNDS] * (s + k)
        + [LOG_DECAY_BOUNDS] * k
        + [MULTIPLIER_BOUNDS] * (data.n_creators + data.n_notes)
        + [HISTORY_BOUNDS] * layout.h
        + [LOG_ONSET_BOUNDS] * layout.d
    )
    return x0, bounds


def _group_information(pair_order: np.ndarray, group: np.ndarray, share: FloatArray, size: int) -> FloatArray:
    """Per group (note or creator), ``Σ_orders S²`` with ``S`` the group's share of the order: at the optimum, the
    observed information of the group's log multiplier from the likelihood."""
    keep = group >= 0
    if size == 0 or not keep.any():
        return np.zeros(size)
    combo = pair_order[keep].astype(np.int64) * size + group[keep]
    distinct, inverse = np.unique(combo, return_inverse=True)
    per = np.bincount(inverse.reshape(-1), weights=share[keep], minlength=distinct.size)
    return np.bincount(distinct % size, weights=per**2, minlength=size).astype(np.float64)


def _evidence_sd(values: FloatArray, information: FloatArray, sd: float) -> float:
    """One evidence (type-II likelihood) update of a Gaussian prior's scale, after MacKay: the effective number
    of well-determined values is ``Σ I / (I + 1/σ²)`` and ``σ² = Σ b² / that``."""
    if values.size == 0:
        return sd
    determined = float(np.sum(information / (information + 1.0 / sd**2)))
    if determined <= 1e-9:
        return SD_BOUNDS[0]
    return float(np.clip(math.sqrt(float(values @ values) / determined), *SD_BOUNDS))


def _check(name: str, value: float | None) -> None:
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise AttributionError(f"{name} must be a positive number or None (estimated), got {value!r}")


def fit_additive_hazard(
    data: HazardData,
    *,
    prior_sd_creator: float | None = None,
    prior_sd_note: float | None = None,
    max_iter: int = 1000,
    onset: bool = False,
) -> HazardFit:
    """Fit the model of the module docstring to one brand's data by penalised maximum likelihood.

    A prior scale left ``None`` is estimated (empirical Bayes): the fit alternates between the penalised
    optimum and an evidence update of the scale, until the scales move by under 1%.
    """
    return _fit_additive(data, _DistinctTouches.of(data), prior_sd_creator, prior_sd_note, max_iter, onset)


def _fit_additive(
    data: HazardData,
    touches: _DistinctTouches,
    prior_sd_creator: float | None,
    prior_sd_note: float | None,
    max_iter: int,
    onset: bool,
) -> HazardFit:
    """:func:`fit_additive_hazard` with the touches already grouped (they depend on the touches alone, so a caller
    refitting the same touches, as :func:`fit_frailty_hazard` does, groups them once)."""
    _check("prior_sd_creator", prior_sd_creator)
    _check("prior_sd_note", prior_sd_note)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise AttributionError(f"max_iter must be a whole number of at least 1, got {max_iter!r}")
    if data.n_orders == 0:
        raise AttributionError("hazard model: no orders to fit")
    sd_c = START_SD if prior_sd_creator is None else float(prior_sd_creator)
    sd_n = START_SD if prior_sd_note is None else float(prior_sd_note)
    estimate = prior_sd_creator is None or prior_sd_note is None
    x, bounds = _start(data, _Objective(data, sd_c, sd_n, onset, touches).layout)
    iterations, converged = 0, True
    for _ in range(EVIDENCE_ROUNDS if estimate else 1):
        objective = _Objective(data, sd_c, sd_n, onset, touches)
        result = minimize(
            objective,
            x,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "maxfun": 4 * max_iter, "ftol": 1e-12, "gtol": 1e-7},
        )
        x = np.asarray(result.x, dtype=np.float64)
        iterations += int(result.nit)
        converged = bool(result.success)
        if not estimate:
            break
        w, mu_o = objective.terms(x)
        lam = mu_o + np.bincount(data.pair_order, weights=w, minlength=data.n_orders)
        share = w / lam[data.pair_order]
        _, _, _, a, b = objective.layout.split(x)
        new_c, new_n = sd_c, sd_n
        if prior_sd_creator is None:
            info = _group_information(data.pair_order, objective.pc, share, data.n_creators)
            new_c = _evidence_sd(a, info, sd_c)
        if prior_sd_note is None:
            new_n = _evidence_sd(b, _group_information(data.pair_order, objective.pn, share, data.n_notes), sd_n)
        moved = max(abs(math.log(new_c / sd_c)), abs(math.log(new_n / sd_n)))
        sd_c, sd_n = new_c, new_n
        if moved < 0.01:
            break
    objective = _Objective(data, sd_c, sd_n, onset, touches)
    log_mu, log_alpha, log_gamma, a, b = objective.layout.split(x)
    beta, log_delta = objective.layout.extra(x)
    present = np.bincount(data.touch_kind, minlength=len(data.kinds)) > 0
    return HazardFit(
        kinds=data.kinds,
        baseline=np.exp(log_mu),
        effect=np.where(present, np.exp(log_alpha), 0.0),
        decay=np.exp(log_gamma),
        creator_effect=a.copy(),
        note_effect=b.copy(),
        prior_sd_creator=sd_c,
        prior_sd_note=sd_n,
        log_likelihood=objective.log_likelihood(x),
        iterations=iterations,
        converged=converged,
        recent_factor=math.exp(beta),
        onset=None if log_delta is None else np.exp(log_delta),
    )


def hazard_shares(
    fit: HazardFit, data: HazardData, routes: tuple[str, ...] = (), shapley_days: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Each pair's share of its order, and each order's baseline share; per order they sum to 1.

    ``shapley_days``: 0 splits each order in proportion to its hazard terms (each note's Shapley value in the
    day's intensity, which is linear in the terms). A positive ``d`` splits it by the notes' Shapley values in
    the probability of buying within ``d`` days at the order day's hazard, ``1 − exp(−d·λ)``, which is concave
    in the terms: the baseline gets more than ``μ / λ`` and several notes read together less than their terms'
    share (see :func:`_probability_shapley`); ``d = 1`` is the order day's own probability.

    ``routes``: kinds whose touches are taken as routes to the order, not causes of it (a link click is mostly
    how a person who already wants the brand gets to it): their terms still enter the fit, but their share of
    each order goes to what made the person want to buy — the order's other terms and its baseline, in
    proportion to theirs.
    """
    if fit.kinds != data.kinds or fit.baseline.size != data.n_strata:
        raise AttributionError("the fit and the data describe different kinds or strata")
    if fit.creator_effect.size != data.n_creators or fit.note_effect.size != data.n_notes:
        raise AttributionError("the fit and the data describe different notes or creators")
    unknown = sorted(set(routes) - set(data.kinds))
    if unknown:
        raise AttributionError(f"routes name kinds the model does not have: {', '.join(unknown)}")
    kind = data.touch_kind[data.pair_touch]
    mult = np.exp(
        _padded(fit.creator_effect)[data.touch_creator[data.pair_touch]]
        + _padded(fit.note_effect)[data.touch_note[data.pair_touch]]
    )
    w = fit.effect[kind] * mult * np.exp(-fit.decay[kind] * data.pair_age)
    if fit.onset is not None:
        w = w * -np.expm1(-fit.onset[kind] * (data.pair_age + 1.0))
    mu = fit.baseline[data.order_stratum]
    if data.order_frailty is not None:
        mu = mu * data.order_frailty
    if data.order_recent is not None:
        mu = mu * np.power(fit.recent_factor, data.order_recent)
    if routes:
        route = np.isin(kind, [data.kinds.index(r) for r in routes])
        w = np.where(route, 0.0, w)
    if shapley_days:
        return _probability_shapley(w, mu, data, float(shapley_days))
    lam = mu + np.bincount(data.pair_order, weights=w, minlength=data.n_orders)
    return w / lam[data.pair_order], mu / lam


def _players(data: HazardData) -> tuple[IntArray, IntArray]:
    """Per pair its player in its order's game (the touch's note; a touch with no note plays alone), and per
    player its order: players are numbered over (order, note) cells."""
    note = data.touch_note[data.pair_touch].astype(np.int64)
    alone = note < 0
    width = data.n_notes + data.n_touches
    who = np.where(alone, data.n_notes + data.pair_touch.astype(np.int64), note)
    cell = data.pair_order.astype(np.int64) * max(width, 1) + who
    cells, player = np.unique(cell, return_inverse=True)
    return player.reshape(-1).astype(np.int64), (cells // max(width, 1)).astype(np.int64)


def _probability_shapley(w: FloatArray, mu: FloatArray, data: HazardData, days: float) -> tuple[FloatArray, FloatArray]:
    """Shares of each order as Shapley values of its buyer's probability to buy, ``f(S) = 1 − exp(−d·(μ + Σ_S
    h))`` with ``d = days``, the notes read being the players and the baseline the empty coalition.

    A note's hazard ``h`` is the sum of its touches' terms at the order. With ``a_i = 1 − e^{−d·h_i}``, adding
    note ``i`` to a coalition ``S`` adds ``e^{−d·μ} · Π_{j∈S} (1 − a_j) · a_i``, so (averaging over orders of
    the players as the multilinear extension does) ``φ_i = e^{−d·μ} · a_i · ∫₀¹ Π_{j≠i} (1 − t·a_j) dt``; the
    integrand is a polynomial of degree ``n − 1`` in ``t`` for an order with ``n`` notes, which Gauss–Legendre
    quadrature with ``⌈n/2⌉`` nodes integrates exactly: exact for every ``n``, no sampling. The values sum to
    ``f(all) − f(∅)``; the order's baseline share is ``f(∅) / f(all)`` and note ``i``'s is ``φ_i / f(all)``,
    split among its touches by their terms. As ``d → 0`` this is the proportional split ``h / λ``.
    """
    player, player_order = _players(data)
    n_players = player_order.size
    h = np.bincount(player, weights=w, minlength=n_players).astype(np.float64)
    lam = mu + np.bincount(data.pair_order, weights=w, minlength=data.n_orders)
    f_all = -np.expm1(-days * lam)
    f_none = -np.expm1(-days * mu)
    a = -np.expm1(-days * h)
    phi = np.zeros(n_players)
    count = np.bincount(player_order, minlength=data.n_orders)
    nodes_needed = np.maximum((count + 1) // 2, 1)
    bucket = np.left_shift(1, np.ceil(np.log2(nodes_needed)).astype(np.int64))  # powers of two: few node sets
    for m in np.unique(bucket[count > 0]).tolist():
        t, weight = np.polynomial.legendre.leggauss(int(m))
        t, weight = 0.5 * (t + 1.0), 0.5 * weight  # on [0, 1]
        mine = np.flatnonzero(bucket[player_order] == m)  # players sorted by order, so each order's run is whole
        log_factor = np.log1p(-np.outer(a[mine], t))  # (players, nodes): log(1 - t·a_j)
        starts = np.flatnonzero(np.r_[True, np.diff(player_order[mine]) != 0])
        per_order = np.add.reduceat(log_factor, starts, axis=0)
        run = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, mine.size]))
        others = np.exp(per_order[run] - log_factor)  # Π_{j≠i} (1 − t·a_j) at each node
        phi[mine] = a[mine] * (others @ weight) * np.exp(-days * mu[player_order[mine]])
    # the quadrature is exact; rescaling to f(all) − f(∅) only removes rounding, so the shares sum to one
    total = np.bincount(player_order, weights=phi, minlength=data.n_orders)
    gain = f_all - f_none
    scale = np.divide(gain, total, out=np.zeros_like(gain), where=total > 0)
    phi = phi * scale[player_order]
    within = np.divide(w, h[player], out=np.zeros_like(w), where=h[player] > 0)
    pair_share = phi[player] * within / f_all[data.pair_order]
    return pair_share, f_none / f_all


FRAILTY_ROUNDS = 8
TOUCH_GROUPS = 4  # people split by their number of touches: none, then quantile groups of the touched


def _touch_groups(touches: FloatArray) -> IntArray:
    """Group 0: people never touched; then at most ``TOUCH_GROUPS`` quantile groups of the touched by count."""
    group = np.zeros(touches.size, dtype=np.int64)
    touched = touches > 0
    if touched.any():
        q, _ = quantile_strata(np.log(touches[touched]), TOUCH_GROUPS)
        group[touched] = q + 1
    return group


FRAILTY_SHAPE_BOUNDS = (0.05, 1000.0)


def _frailty_shape(counts: FloatArray, expected: FloatArray) -> float:
    """The shape ``k`` of a Gamma(k, k) frailty by maximum marginal likelihood: each person's (expected) baseline
    orders are Poisson with mean ``z · expected``, ``z ~ Gamma(k, k)``, so they are negative binomial."""

    def negative(log_k: float) -> float:
        k = math.exp(log_k)
        ll = (
            gammaln(k + counts)
            - gammaln(k)
            + k * np.log(k / (k + expected))
            + counts * np.log(np.maximum(expected, 1e-300) / (k + expected))
        )
        return -float(ll.sum())

    low, high = (math.log(v) for v in FRAILTY_SHAPE_BOUNDS)
    result = minimize_scalar(negative, bounds=(low, high), method="bounded", options={"xatol": 1e-3})
    return math.exp(float(result.x))


def fit_frailty_hazard(
    data: HazardData,
    *,
    prior_sd_creator: float | None = None,
    prior_sd_note: float | None = None,
    max_iter: int = 1000,
    onset: bool = False,
    rounds: int = FRAILTY_ROUNDS,
) -> tuple[HazardFit, HazardData]:
    """The model with a per-person frailty of the baseline: person ``u`` buys at ``z_u · μ_s + Σ touch terms``,
    ``z_u ~ Gamma(k, k / m_g)`` (mean ``m_g``). People differ in how likely they are to buy anyway, and a feed
    that targets people close to buying shows notes to exactly the people with a high ``z``; a shared stratum
    baseline hands their own propensity to the notes.

    Each person's frailty is learnt where no note can have caused anything: the days before their first touch
    of the brand. With ``n_u`` the orders on those days and ``E_u = Σ μ_s · days`` their expected number at the
    stratum baselines, the prior mean ``m_g`` of a group ``g`` of people by their number of touches (none, then
    quantiles: a targeted feed shows the likely buyers more notes) is ``(Σ n + 1) / (Σ E + 1)`` over the group;
    ``n_u`` is negative binomial, ``k`` maximises that marginal likelihood (empirical Bayes) and ``z_u`` is its
    posterior mean ``(k + n_u) / (k / m_g + E_u)`` (``m_g`` for a person touched from the first day).
    The hazard is then refitted with each person's frailty fixed, and the two steps alternate until the
    frailties settle. Returns the fit and the data with the frailties in (``order_frailty`` and the
    frailty-weighted ``stratum_exposure``), which is what :func:`hazard_shares` must be given.
    """
    order_person, cell_person, cell_stratum = data.order_person, data.cell_person, data.cell_stratum
    cell_exposure, cell_unexposed, touches = data.cell_exposure, data.cell_unexposed, data.person_touches
    if order_person is None or cell_person is None or cell_stratum is None:
        raise AttributionError("a frailty needs the people: order_person, the cells of observed days, touches")
    assert cell_exposure is not None and cell_unexposed is not None and touches is not None
    n_people = data.n_people
    group = _touch_groups(touches)
    unexposed_orders = np.bincount(data.pair_order, minlength=data.n_orders) == 0
    counts = np.bincount(order_person[unexposed_orders], minlength=n_people).astype(np.float64)
    z = np.ones(n_people)
    sd_c, sd_n = prior_sd_creator, prior_sd_note
    shape: float | None = None

    def weighted(z: FloatArray) -> HazardData:
        exposure = np.bincount(cell_stratum, weights=z[cell_person] * cell_exposure, minlength=data.n_strata)
        return replace(data, stratum_exposure=exposure.astype(np.float64), order_frailty=z[order_person])

    current = weighted(z)
    grouped = _DistinctTouches.of(data)  # the touches never change between the rounds; only the frailties do
    fit = _fit_additive(current, grouped, sd_c, sd_n, max_iter, onset)
    for _ in range(max(rounds, 1)):
        # the prior scales settle in the first fit; later rounds keep them (one optimisation each)
        sd_c, sd_n = fit.prior_sd_creator, fit.prior_sd_note
        expected = np.bincount(
            cell_person, weights=fit.baseline[cell_stratum] * cell_unexposed, minlength=n_people
        ).astype(np.float64)
        # the frailty's mean per group of people by how many touches they got: a feed that targets the likely
        # buyers shows them more notes, and their orders before the first touch show how much more likely
        n_groups = int(group.max()) + 1
        # (one pseudo-order at the pooled rate keeps a group with few unexposed days near 1)
        mean = (np.bincount(group, weights=counts, minlength=n_groups) + 1.0) / (
            np.bincount(group, weights=expected, minlength=n_groups) + 1.0
        )
        m = mean[group]
        seen = expected > 0
        shape = _frailty_shape(counts[seen], expected[seen] * m[seen]) if seen.any() else FRAILTY_SHAPE_BOUNDS[1]
        new = (shape + counts) / (shape / m + expected)
        new = new / float(np.average(new, weights=np.maximum(expected, 1e-12)))  # keeps the baseline's scale in μ
        moved = float(np.max(np.abs(np.log(new / z)))) if n_people else 0.0
        z = new
        current = weighted(z)
        fit = _fit_additive(current, grouped, sd_c, sd_n, max_iter, onset)
        if moved < 0.02:
            break
    return replace(fit, frailty_shape=shape), current
