"""Data-driven attribution: a fitted daily purchase probability, each order credited by exact Shapley values.

The model of one brand, per person ``u`` and calendar day ``t`` (the engine builds the rows,
:mod:`hongmao.engine.datadriven`)::

    E_u(t) = Σ_notes e_n(t),   e_n(t) = Σ_{touches i of note n, age a_i ≤ horizon}  Σ_j A[k(i), j] · B_j(a_i)
    h_u(t) = exp(δ_t) · ( exp(b_ref + β_c(u)) + exp(a + ω β_c(u)) · ψ(E_u(t)) )
    P(buys on day t) = 1 − exp(−h_u(t))                      (a complementary log-log model)

* ``k(i)`` is the touch's kind (impression, short read, long read, like, collect, comment or share, link click:
  :data:`KINDS`; a click is a touch like any other whose effect is learned, not assumed);
  ``B_j`` a recency basis (same day, decays of 2, 7 and 21 days, peaks after 5 and 15 days: :data:`BASIS`) and
  ``A[k, j] = exp(θ_k + φ_j)`` its weights — so the decay, and a peak days after the read, are learned per kind;
* ``ψ(E) = f(−β₂, f(β₁, E))`` with ``f(β, x) = (e^{βx} − 1)/β`` (``f(0, x) = x``): with β₁ > 0 the notes
  complement each other (convex), with β₂ > 0 they saturate (concave), both together give an S shape, and
  β₁ = β₂ = 0 is the additive world (each note adds its own hazard);
* ``β_c`` is the baseline of the person's cell ``c`` (cells of people by their interest in the category and
  their activity); ``ω`` lets a note's effect grow (ω > 0) or shrink with the person's baseline; ``δ_t`` is
  the day's effect (calendar, weekday, sales), day 0 being the reference.

The fit is penalised maximum likelihood on aggregates (Poisson in person-days, exact for daily probabilities of
a few percent and under): every order is a row; exposed person-days (from a person's first touch of the brand to
``horizon`` days after the last) are a sample of rows with weights (each the days it stands for); every other
person-day has no exposure and enters as a count per cell and day. L-BFGS-B with exact gradients from a fixed
start: deterministic. Gaussian penalties keep every parameter near the additive, no-effect start unless the
data say otherwise.

Credit: on the order's day, the value of a coalition ``S`` of the order's notes is ``v(S) = P`` with only the
touches of ``S``; each note gets its Shapley value ``φ_n / v(all)`` of the order and the baseline
``v(∅) / v(all)`` — the orders expected without any note, credited to no note. Exact up to
:data:`MAX_EXACT` notes per order, Monte Carlo over permutations beyond (each permutation telescopes, so the
shares still sum to one). Intervals come from refits on people resampled with Poisson(1) weights
(:func:`bootstrap_weights`).

What it cannot see: a touch caused by an approaching purchase (targeting on intent the data do not show) is
read as an effect. Cells absorb what interest and activity explain, and a holdout measures the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize  # type: ignore[import-untyped, unused-ignore]

from hongmao.errors import AttributionError

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

KINDS: tuple[str, ...] = ("impression", "read", "read_long", "like", "collect", "reply", "click")
#: The recency basis: (name, shape, days). ``same_day`` is 1 at age 0; ``decay`` is e^{-a/τ}; ``peak`` is
#: (a/τ)·e^{1-a/τ}, highest τ days after the touch.
BASIS: tuple[tuple[str, str, float], ...] = (
    ("same_day", "same_day", 0.0),
    ("decay_2d", "decay", 2.0),
    ("decay_7d", "decay", 7.0),
    ("decay_21d", "decay", 21.0),
    ("peak_5d", "peak", 5.0),
    ("peak_15d", "peak", 15.0),
)
N_FEATURES = len(KINDS) * len(BASIS)
MAX_EXACT = 12  # notes per order credited by exact Shapley values; Monte Carlo beyond
SMALL = 1e-8
X_MAX = 1e6  # exposure sums are capped here: far beyond any saturation, and no overflow in the link

#: Gaussian penalty scales (and centres: 0) of each parameter group, and its bounds.
PRIOR_SD = {
    "cell": 5.0,
    "day": 0.5,
    "scale": 10.0,
    "omega": 0.5,
    "beta1": 1.0,
    "beta2": 1.0,
    "theta": 5.0,
    "phi": 5.0,
    "note": 1.0,
}
BOUNDS = {
    "cell": (-15.0, 15.0),
    "day": (-3.0, 3.0),
    "scale": (-25.0, 5.0),
    "omega": (0.0, 0.0),
    "beta1": (-3.0, 3.0),
    "beta2": (0.0, 6.0),
    "theta": (-12.0, 3.0),
    "phi": (-12.0, 3.0),
    "note": (-5.0, 5.0),
}


def basis(age: FloatArray) -> FloatArray:
    """The recency basis at ages in days: (n, len(BASIS))."""
    a = np.asarray(age, dtype=np.float64)
    cols = []
    for _, shape, tau in BASIS:
        if shape == "same_day":
            cols.append((a == 0).astype(np.float64))
        elif shape == "decay":
            cols.append(np.exp(-a / tau))
        else:
            cols.append((a / tau) * np.exp(1.0 - a / tau))
    return np.stack(cols, axis=-1)


@dataclass(frozen=True)
class DataDrivenData:
    """One brand's aggregates (see the module docstring).

    Rows are person-days: the order days (``row_y`` orders, weight 0) and the sampled exposed days (no order,
    ``row_w`` days each). ``xp_*`` holds every row's exposure note by note (row, note, kinds × basis flattened);
    ``pair_*`` the same for each order (for crediting). People: ``person_cell`` and the exposed
    range of each person (``range_person``, ``range_first``, ``range_last``, day indices, both included).
    """

    n_cells: int
    n_days: int
    row_cell: IntArray
    row_day: IntArray
    row_person: IntArray
    row_y: FloatArray
    row_w: FloatArray
    n_notes: int
    xp_row: IntArray  # (Q,) index into rows
    xp_note: IntArray  # (Q,) index into notes
    xp_x: FloatArray  # (Q, N_FEATURES)
    order_row: IntArray  # (O,) each order's row
    pair_order: IntArray  # (M,) index into orders
    pair_note: IntArray  # (M,) index into notes
    pair_x: FloatArray  # (M, N_FEATURES)
    person_cell: IntArray  # (P,)
    range_person: IntArray
    range_first: IntArray
    range_last: IntArray
    #: With ``xp_kind``, ``xp_x`` is sparse in kinds: each entry is one (row, note, kind) with its
    #: ``len(BASIS)`` basis sums (the engine's layout; a person's control days × notes × 42 dense columns,
    #: mostly zero, do not fit in memory at scale). Without it, ``xp_x`` is dense (kinds × basis flattened).
    xp_kind: IntArray | None = None

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise AttributionError(f"data-driven model data: {problem}")

    @property
    def n_orders(self) -> int:
        return int(self.order_row.size)


def _problem(d: DataDrivenData) -> str | None:
    rows = d.row_cell.size
    if d.n_cells < 1 or d.n_days < 1:
        return "at least one cell and one day are needed"
    if not (d.row_day.size == d.row_person.size == d.row_y.size == d.row_w.size == rows):
        return "row_cell, row_day, row_person, row_y and row_w must have one entry per row"
    xp_columns = N_FEATURES if d.xp_kind is None else len(BASIS)
    if d.xp_x.ndim != 2 or d.xp_x.shape[1] != xp_columns or d.pair_x.shape[1:] != (N_FEATURES,):
        return f"xp_x and pair_x must have {N_FEATURES} columns (kinds x basis; xp_x {len(BASIS)} with xp_kind)"
    if not (d.xp_row.size == d.xp_note.size == d.xp_x.shape[0]):
        return "xp_row, xp_note and xp_x must have one entry per pair"
    if d.xp_kind is not None and d.xp_kind.size != d.xp_row.size:
        return "xp_kind must have one entry per row of xp_x"
    if not (d.pair_order.size == d.pair_note.size == d.pair_x.shape[0]):
        return "pair_order, pair_note and pair_x must have one entry per pair"
    for name, values, size in (
        ("row_cell", d.row_cell, d.n_cells),
        ("row_day", d.row_day, d.n_days),
        ("order_row", d.order_row, rows),
        ("pair_order", d.pair_order, d.order_row.size),
        ("xp_row", d.xp_row, rows),
        ("xp_note", d.xp_note, d.n_notes),
        ("pair_note", d.pair_note, d.n_notes),
        ("person_cell", d.person_cell, d.n_cells),
        ("row_person", d.row_person, d.person_cell.size),
        ("range_person", d.range_person, d.person_cell.size),
        ("range_first", d.range_first, d.n_days),
        ("range_last", d.range_last, d.n_days),
        ("xp_kind", d.xp_kind if d.xp_kind is not None else np.zeros(0, dtype=np.int64), len(KINDS)),
    ):
        if values.size and (int(values.min()) < 0 or int(values.max()) >= size):
            return f"{name} holds an index outside [0, {size})"
    for name, floats in (("row_y", d.row_y), ("row_w", d.row_w), ("xp_x", d.xp_x), ("pair_x", d.pair_x)):
        if floats.size and not (np.all(np.isfinite(floats)) and float(floats.min()) >= 0.0):
            return f"{name} must be finite and not negative"
    if d.range_first.size and np.any(d.range_first > d.range_last):
        return "an exposed range ends before it starts"
    return None


@dataclass(frozen=True)
class DataDrivenFit:
    """The fitted parameters of one brand (see the module docstring)."""

    b_ref: float
    cell: FloatArray  # (C,) β_c
    day: FloatArray  # (D,) δ_t, δ_0 = 0
    scale: float  # a
    omega: float
    beta1: float
    beta2: float
    theta: FloatArray  # (K,)
    phi: FloatArray  # (J,)
    note: FloatArray  # (N,) each note's log multiplier of its exposure (persuasion, quality)
    log_likelihood: float
    iterations: int
    converged: bool

    @property
    def weights(self) -> FloatArray:
        """A[k, j] flattened: each feature's weight in E."""
        return np.exp(self.theta[:, None] + self.phi[None, :]).reshape(-1)

    def summary(self) -> dict[str, object]:
        a = self.weights.reshape(len(KINDS), len(BASIS))
        ages = np.arange(0.0, 61.0)
        curve = basis(ages) @ a.T  # (ages, kinds)
        return {
            "baseline_per_day": [float(math.exp(self.b_ref + c)) for c in self.cell],
            "effect_scale": math.exp(self.scale),
            "omega": self.omega,
            "complement_beta1": self.beta1,
            "saturation_beta2": self.beta2,
            "effect_at_age": {k: [float(v) for v in curve[[0, 1, 3, 7, 14, 30], i]] for i, k in enumerate(KINDS)},
            "peak_day": {k: int(np.argmax(curve[:, i])) for i, k in enumerate(KINDS)},
            "log_likelihood": self.log_likelihood,
            "iterations": self.iterations,
            "converged": self.converged,
        }


# ---- the link: ψ(E) and its derivatives ----------------------------------------------------------------


def _f(beta: float, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``f(β, x) = (e^{βx} − 1)/β``, ``∂f/∂x`` and ``∂f/∂β`` (series near β = 0)."""
    x = np.minimum(x, X_MAX)
    if abs(beta) < 1e-6:
        return x + 0.5 * beta * x * x, 1.0 + beta * x, 0.5 * x * x + beta * x**3 / 3.0
    bx = np.clip(beta * x, -50.0, 50.0)
    ebx = np.exp(bx)
    value = np.expm1(bx) / beta
    return value, ebx, (x * ebx - value) / beta


def _psi(beta1: float, beta2: float, e: FloatArray) -> FloatArray:
    u, _, _ = _f(beta1, e)
    value, _, _ = _f(-beta2, u)
    return value


# ---- the fit -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    c: int
    d: int  # days less the reference day
    n: int = 0  # notes
    k: int = len(KINDS)
    j: int = len(BASIS)

    @property
    def size(self) -> int:
        return self.c + self.d + 4 + self.k + self.j + self.n

    def groups(self) -> list[str]:
        return (
            ["cell"] * self.c
            + ["day"] * self.d
            + ["scale", "omega", "beta1", "beta2"]
            + ["theta"] * self.k
            + ["phi"] * self.j
            + ["note"] * self.n
        )


def _unpack(
    x: FloatArray, lay: _Layout
) -> tuple[FloatArray, FloatArray, float, float, float, float, FloatArray, FloatArray, FloatArray]:
    c, d = lay.c, lay.d
    i = c + d
    day = np.concatenate([np.zeros(1), x[c:i]])
    return (
        x[:c],
        day,
        float(x[i]),
        float(x[i + 1]),
        float(x[i + 2]),
        float(x[i + 3]),
        x[i + 4 : i + 4 + lay.k],
        x[i + 4 + lay.k : i + 4 + lay.k + lay.j],
        x[i + 4 + lay.k + lay.j :],
    )


def unexposed_days(data: DataDrivenData, person_weight: FloatArray | None = None) -> FloatArray:
    """Per cell and day, the (weighted) person-days outside every exposed range."""
    w = np.ones(data.person_cell.size) if person_weight is None else person_weight
    total = np.bincount(data.person_cell, weights=w, minlength=data.n_cells)
    diff = np.zeros((data.n_cells, data.n_days + 1))
    rw = w[data.range_person]
    cells = data.person_cell[data.range_person]
    np.add.at(diff, (cells, data.range_first), rw)
    np.add.at(diff, (cells, data.range_last + 1), -rw)
    exposed = np.cumsum(diff, axis=1)[:, : data.n_days]
    return np.maximum(total[:, None] - exposed, 0.0)


class _Objective:
    """Negative penalised log-likelihood per order and its gradient."""

    def __init__(self, data: DataDrivenData, b_ref: float, person_weight: FloatArray | None) -> None:
        self.d = data
        self.lay = _Layout(data.n_cells, data.n_days - 1, data.n_notes)
        self.b_ref = b_ref
        pw = np.ones(data.person_cell.size) if person_weight is None else person_weight
        x_row, x_note, x_kind, x_t = _sparse_exposure(data)
        # entries grouped by kind (a stable sort: the same data, the same order): each kind's weights apply to a
        # contiguous block, and the weights' gradient is one product per block
        by_kind = np.argsort(x_kind, kind="stable")
        self.x_row, self.x_note, self.x_t = x_row[by_kind], x_note[by_kind], np.ascontiguousarray(x_t[:, by_kind])
        self.kind_bounds = np.searchsorted(x_kind[by_kind], np.arange(self.lay.k + 1)).tolist()
        rw = pw[data.row_person]
        self.y = data.row_y * rw
        self.w = data.row_w * rw
        self.n0 = unexposed_days(data, person_weight)
        self.scale = 1.0 / max(float(self.y.sum()), 1.0)
        self.sd = np.array([PRIOR_SD[g] for g in self.lay.groups()])

    def __call__(self, x: FloatArray) -> tuple[float, FloatArray]:
        d, lay = self.d, self.lay
        cell, day, a, omega, beta1, beta2, theta, phi, note = _unpack(x, lay)
        weights = np.exp(theta[:, None] + phi[None, :])
        # per (row, note, kind) entry: Σ_j A[kind, j] x_j, column by column (BLAS-free: BLAS threads spin
        # against each other on thin matrices on a shared machine)
        s_p = np.empty(self.x_row.size)
        bounds = self.kind_bounds
        for kk in range(lay.k):
            lo, hi = bounds[kk], bounds[kk + 1]
            s_p[lo:hi] = np.einsum("j,jn->n", weights[kk], self.x_t[:, lo:hi])
        m_p = np.exp(note)[self.x_note]
        e_p = m_p * s_p
        e = np.bincount(self.x_row, weights=e_p, minlength=d.row_y.size).astype(np.float64)
        u, du_de, du_db1 = _f(beta1, e)
        psi, dpsi_du, dpsi_dnb2 = _f(-beta2, u)
        bc = cell[d.row_cell]
        ed = np.exp(day[d.row_day])
        base = np.exp(self.b_ref + bc)
        mult = np.exp(a + omega * bc)
        h = ed * (base + mult * psi)
        h_safe = np.maximum(h, 1e-300)
        ll_rows = float(np.sum(self.y * np.log(h_safe)) - np.sum(self.w * h))
        n0_rate = self.n0 * np.exp(self.b_ref + cell[:, None] + day[None, :])
        ll = ll_rows - float(n0_rate.sum())
        pen = 0.5 * float(np.sum((x / self.sd) ** 2))

        g = self.y / h_safe - self.w  # dℓ/dh per row
        gh = g * h
        grad_day = np.bincount(d.row_day, weights=gh, minlength=d.n_days) - n0_rate.sum(axis=0)
        grad_cell = np.bincount(
            d.row_cell, weights=g * ed * (base + omega * mult * psi), minlength=lay.c
        ) - n0_rate.sum(axis=1)
        gpsi = g * ed * mult  # dℓ/dψ
        grad_a = float(np.sum(gpsi * psi))
        grad_omega = float(np.sum(gpsi * psi * bc))
        grad_b1 = float(np.sum(gpsi * dpsi_du * du_db1))
        grad_b2 = float(-np.sum(gpsi * dpsi_dnb2))
        ge = gpsi * dpsi_du * du_de  # dℓ/dE
        ge_p = ge[self.x_row]
        coef = ge_p * m_p
        grad_w = np.zeros((lay.k, lay.j))
        for kk in range(lay.k):
            lo, hi = bounds[kk], bounds[kk + 1]
            if hi > lo:
                grad_w[kk] = np.einsum("jn,n->j", self.x_t[:, lo:hi], coef[lo:hi])
        grad_w *= weights
        grad_note = np.bincount(self.x_note, weights=ge_p * e_p, minlength=lay.n)
        grad = np.concatenate(
            [
                grad_cell,
                grad_day[1:],
                [grad_a, grad_omega, grad_b1, grad_b2],
                grad_w.sum(axis=1),
                grad_w.sum(axis=0),
                grad_note,
            ]
        )
        grad = grad - x / self.sd**2
        return -(ll - pen) * self.scale, -grad * self.scale

    def log_likelihood(self, x: FloatArray) -> float:
        value, _ = self(x)
        cell_pen = 0.5 * float(np.sum((x / self.sd) ** 2))
        return -value / self.scale + cell_pen


def _sparse_exposure(data: DataDrivenData) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """The rows' exposure as (row, note, kind) entries with their basis sums, basis-major ((J, Q) contiguous):
    ``xp_kind``'s layout as it is, a dense ``xp_x`` with its all-zero kinds left out."""
    if data.xp_kind is not None:
        return data.xp_row, data.xp_note, data.xp_kind, np.ascontiguousarray(data.xp_x.T)
    q = data.xp_x.shape[0]
    blocks = data.xp_x.reshape(q, len(KINDS), len(BASIS))
    entry, kind = np.nonzero(blocks.any(axis=2))
    return data.xp_row[entry], data.xp_note[entry], kind.astype(np.int64), np.ascontiguousarray(blocks[entry, kind].T)


def _start(data: DataDrivenData, b_ref: float) -> FloatArray:
    lay = _Layout(data.n_cells, data.n_days - 1, data.n_notes)
    x = np.zeros(lay.size)
    i = lay.c + lay.d
    # the effect scale starts at a tenth of the mean rate per unit of exposure: a small, additive effect
    x[i] = b_ref + math.log(0.1)
    return x


def _bounds(lay: _Layout) -> list[tuple[float, float]]:
    return [BOUNDS[g] for g in lay.groups()]


def fit_datadriven(
    data: DataDrivenData,
    *,
    person_weight: FloatArray | None = None,
    start: DataDrivenFit | None = None,
    max_iter: int = 500,
) -> DataDrivenFit:
    """Fit the model of the module docstring by penalised maximum likelihood (``person_weight``: a bootstrap's
    weights; ``start``: a fit to start from, e.g. the full data's for a bootstrap refit)."""
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise AttributionError(f"max_iter must be a whole number of at least 1, got {max_iter!r}")
    if data.n_orders == 0:
        raise AttributionError("data-driven model: no orders to fit")
    people_days = float(data.person_cell.size) * data.n_days
    b_ref = math.log(max(float(data.row_y.sum()), 1.0) / max(people_days, 1.0))
    lay = _Layout(data.n_cells, data.n_days - 1, data.n_notes)
    x0 = _start(data, b_ref) if start is None else _pack(start, lay)
    objective = _Objective(data, b_ref, person_weight)
    result = minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=_bounds(lay),
        options={"maxiter": max_iter, "maxfun": 2 * max_iter, "ftol": 1e-11, "gtol": 1e-7},
    )
    x = np.asarray(result.x, dtype=np.float64)
    cell, day, a, omega, beta1, beta2, theta, phi, note = _unpack(x, lay)
    return DataDrivenFit(
        b_ref=b_ref,
        cell=cell.copy(),
        day=day.copy(),
        scale=a,
        omega=omega,
        beta1=beta1,
        beta2=beta2,
        theta=theta.copy(),
        phi=phi.copy(),
        note=note.copy(),
        log_likelihood=objective.log_likelihood(x),
        iterations=int(result.nit),
        converged=bool(result.success),
    )


def _pack(fit: DataDrivenFit, lay: _Layout) -> FloatArray:
    return np.concatenate(
        [fit.cell, fit.day[1:], [fit.scale, fit.omega, fit.beta1, fit.beta2], fit.theta, fit.phi, fit.note]
    ).astype(np.float64)


# ---- credit: Shapley values of the notes in the order day's probability ---------------------------------


def _probability(fit: DataDrivenFit, cell: IntArray, day: IntArray, e: FloatArray) -> FloatArray:
    """P = 1 − exp(−h) for exposure sums ``e`` (any shape whose last axes broadcast with the per-order ones)."""
    bc = fit.cell[cell]
    h = np.exp(fit.day[day]) * (
        np.exp(fit.b_ref + bc) + np.exp(fit.scale + fit.omega * bc) * _psi(fit.beta1, fit.beta2, e)
    )
    out: FloatArray = -np.expm1(-np.maximum(h, 0.0))
    return out


def _exact_tables(k: int) -> tuple[FloatArray, list[tuple[IntArray, IntArray, FloatArray]]]:
    """Subsets of k players as 0/1 rows, and per player the (without, with) subset rows and Shapley weights."""
    masks = ((np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1).astype(np.float64)
    size = masks.sum(axis=1).astype(np.int64)
    fact = [math.factorial(i) for i in range(k + 1)]
    per_player = []
    for n in range(k):
        without = np.flatnonzero(masks[:, n] == 0)
        weight = np.array([fact[s] * fact[k - s - 1] / fact[k] for s in size[without].tolist()])
        per_player.append((without, without + (1 << n), weight))
    return masks, per_player


def _exact(fit: DataDrivenFit, cell: IntArray, day: IntArray, e: FloatArray, chunk: int = 4096) -> FloatArray:
    """Exact Shapley values (O, K) of orders that all have K notes with exposures ``e``."""
    k = e.shape[1]
    masks, per_player = _exact_tables(k)
    out = np.zeros_like(e)
    step = max(1, chunk // max(1, 2 ** max(k - 6, 0)))
    for lo in range(0, e.shape[0], step):
        hi = min(lo + step, e.shape[0])
        v = _probability(fit, cell[lo:hi, None], day[lo:hi, None], np.einsum("ok,sk->os", e[lo:hi], masks))
        for n, (without, with_n, weight) in enumerate(per_player):
            out[lo:hi, n] = np.einsum("os,s->o", v[:, with_n] - v[:, without], weight)
    return out


def _sampled(
    fit: DataDrivenFit, cell: IntArray, day: IntArray, e: FloatArray, permutations: int, rng: np.random.Generator
) -> FloatArray:
    """Shapley values (O, K) by ``permutations`` random orders of the players (each one telescopes)."""
    o, k = e.shape
    out = np.zeros_like(e)
    rows = np.arange(o)[:, None]
    v0 = _probability(fit, cell, day, np.zeros(o, dtype=np.float64))
    for _ in range(permutations):
        order = np.argsort(rng.random((o, k)), axis=1)
        cum = np.cumsum(e[rows, order], axis=1)
        v = _probability(fit, cell[:, None], day[:, None], cum)
        marginal = np.diff(np.concatenate([v0[:, None], v], axis=1), axis=1)
        out[rows, order] += marginal
    return out / permutations


@dataclass(frozen=True)
class Shares:
    """Each (order, note) pair's share of its order, and each order's baseline share (they sum to 1)."""

    pair: FloatArray
    baseline: FloatArray
    sampled_orders: int  # orders with more than MAX_EXACT notes (credited by sampled permutations)


def shapley_shares(fit: DataDrivenFit, data: DataDrivenData, *, permutations: int = 200, seed: int = 0) -> Shares:
    """Credit every order of ``data`` (see the module docstring)."""
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 1:
        raise AttributionError(f"permutations must be a whole number of at least 1, got {permutations!r}")
    o = data.n_orders
    cell = data.row_cell[data.order_row]
    day = data.row_day[data.order_row]
    if fit.note.size != data.n_notes:
        raise AttributionError("the fit and the data describe different notes")
    e_pair = np.einsum("ij,j->i", data.pair_x, fit.weights) * np.exp(fit.note[data.pair_note])
    v_empty = _probability(fit, cell, day, np.zeros(o))
    e_all = np.bincount(data.pair_order, weights=e_pair, minlength=o).astype(np.float64)
    v_all = _probability(fit, cell, day, e_all)
    pair_share = np.zeros(e_pair.size)
    # the pairs of each order, in order (pairs are grouped by order by a stable sort)
    order_of_pair = np.argsort(data.pair_order, kind="stable")
    counts = np.bincount(data.pair_order, minlength=o)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rng = np.random.default_rng(seed)
    sampled = 0
    for k in sorted(set(counts.tolist()) - {0}):
        orders = np.flatnonzero(counts == k)
        pairs = order_of_pair[starts[orders][:, None] + np.arange(k)[None, :]]
        e = e_pair[pairs]
        if k <= MAX_EXACT:
            phi = _exact(fit, cell[orders], day[orders], e)
        else:
            phi = _sampled(fit, cell[orders], day[orders], e, permutations, rng)
            sampled += orders.size
        pair_share[pairs] = phi / np.maximum(v_all[orders], SMALL)[:, None]
    baseline = np.where(v_all > 0, v_empty / np.maximum(v_all, SMALL), 1.0)
    return Shares(pair_share, baseline, sampled)


# ---- bootstrap -----------------------------------------------------------------------------------------


def bootstrap_weights(n_people: int, resamples: int, seed: int) -> list[FloatArray]:
    """``resamples`` Poisson(1) weight vectors over people (a bootstrap over people), from ``seed``."""
    rng = np.random.default_rng(seed)
    return [rng.poisson(1.0, n_people).astype(np.float64) for _ in range(resamples)]


def t_quantile(df: int, level: float) -> float:
    """The two-sided Student-t quantile for an interval of ``level`` with ``df`` degrees of freedom."""
    from scipy.stats import t  # type: ignore[import-untyped, unused-ignore]

    return float(t.ppf(0.5 + level / 2.0, df))


__all__ = [
    "BASIS",
    "KINDS",
    "MAX_EXACT",
    "N_FEATURES",
    "DataDrivenData",
    "DataDrivenFit",
    "Shares",
    "basis",
    "bootstrap_weights",
    "fit_datadriven",
    "shapley_shares",
    "t_quantile",
    "unexposed_days",
]
