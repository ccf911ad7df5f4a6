"""A synthetic data set for the data-driven model, drawn from the model itself with known parameters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hongmao.attribution.datadriven import BASIS, KINDS, DataDrivenData, DataDrivenFit, basis


@dataclass(frozen=True)
class Synthetic:
    data: DataDrivenData
    truth: DataDrivenFit
    pair_note: np.ndarray  # per pair, its note
    order_person: np.ndarray


def true_fit(beta1: float = 0.0, beta2: float = 0.0) -> DataDrivenFit:
    theta = np.array([-3.0, -1.0, -0.3, -1.0, 0.0, -0.5, 0.7])  # impressions weak, clicks strong
    phi = np.array([-0.5, -1.0, -1.5, -9.0, -9.0, -0.5])  # same day, fast decays, a peak at 15 days
    return DataDrivenFit(
        b_ref=float(np.log(0.002)),
        cell=np.array([-0.5, 0.5]),
        day=np.zeros(40),
        scale=float(np.log(0.004)),
        omega=0.0,
        beta1=beta1,
        beta2=beta2,
        theta=theta,
        phi=phi,
        note=np.zeros(60),
        log_likelihood=0.0,
        iterations=0,
        converged=True,
    )


def synthetic(
    seed: int = 0,
    people: int = 20_000,
    days: int = 40,
    horizon: int = 30,
    notes: int = 60,
    control_every: int = 1,
    truth: DataDrivenFit | None = None,
) -> Synthetic:
    """People in two cells touch notes on random days; orders are drawn from ``truth``'s probability. Exposed
    person-days are kept as controls one in ``control_every`` (weight ``control_every``)."""
    rng = np.random.default_rng(seed)
    fit = truth or true_fit()
    k, j = len(KINDS), len(BASIS)
    person_cell = rng.integers(0, 2, people).astype(np.int64)
    n_touch = rng.poisson(1.5, people)
    t_person = np.repeat(np.arange(people), n_touch)
    t_day = rng.integers(0, days, t_person.size)
    t_note = rng.integers(0, notes, t_person.size)
    t_kind = rng.choice(k, t_person.size, p=[0.45, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05])
    # every (touch, later day) within the horizon: the exposure of each person-day by note
    ages = np.arange(horizon + 1)
    rep_touch = np.repeat(np.arange(t_person.size), ages.size)
    rep_age = np.tile(ages, t_person.size)
    rep_day = t_day[rep_touch] + rep_age
    keep = rep_day < days
    rep_touch, rep_age, rep_day = rep_touch[keep], rep_age[keep], rep_day[keep]
    feat = np.zeros((rep_touch.size, k * j))
    cols = t_kind[rep_touch] * j
    b = basis(rep_age.astype(np.float64))
    for jj in range(j):
        feat[np.arange(rep_touch.size), cols + jj] = b[:, jj]
    # per (person, day, note) features
    key_pdn = (t_person[rep_touch] * days + rep_day) * notes + t_note[rep_touch]
    uniq, inv = np.unique(key_pdn, return_inverse=True)
    pdn_x = np.zeros((uniq.size, k * j))
    np.add.at(pdn_x, inv.reshape(-1), feat)
    pdn_pd = uniq // notes
    pd_keys, pd_inv = np.unique(pdn_pd, return_inverse=True)
    pd_x = np.zeros((pd_keys.size, k * j))
    np.add.at(pd_x, pd_inv.reshape(-1), pdn_x)
    # exposed ranges (first touch to its horizon or the end): every person-day in them
    first = np.full(people, days, dtype=np.int64)
    last = np.full(people, -1, dtype=np.int64)
    np.minimum.at(first, t_person, t_day)
    np.maximum.at(last, t_person, t_day)
    exposed_people = np.flatnonzero(last >= 0)
    r_first = first[exposed_people]
    r_last = np.minimum(last[exposed_people] + horizon, days - 1)
    lens = r_last - r_first + 1
    ex_person = np.repeat(exposed_people, lens)
    ex_day = np.repeat(r_first, lens) + (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens))
    ex_key = ex_person * days + ex_day
    ex_x = np.zeros((ex_key.size, k * j))
    where = np.searchsorted(ex_key, pd_keys)
    ex_x[where] = pd_x

    # orders: exposed days from the model, the others from the baseline alone
    def prob(cells: np.ndarray, e: np.ndarray) -> np.ndarray:
        from hongmao.attribution.datadriven import _probability

        return _probability(fit, cells, np.zeros(cells.size, dtype=np.int64), e)

    ex_p = prob(person_cell[ex_person], ex_x @ fit.weights)
    ex_buy = rng.random(ex_key.size) < ex_p
    unexposed = np.ones((people, days), dtype=bool)
    unexposed[ex_person, ex_day] = False
    un_person, un_day = np.nonzero(unexposed)
    un_p = prob(person_cell[un_person], np.zeros(un_person.size))
    un_buy = rng.random(un_person.size) < un_p
    o_person = np.concatenate([ex_person[ex_buy], un_person[un_buy]])
    o_day = np.concatenate([ex_day[ex_buy], un_day[un_buy]])
    controls = np.arange(ex_key.size)[rng.random(ex_key.size) < 1.0 / control_every]
    # each control's notes: the (person, day, note) entries of its person-day
    control_pos = np.full(ex_key.size, -1, dtype=np.int64)
    control_pos[controls] = np.arange(controls.size)
    pdn_ex = np.searchsorted(ex_key, pdn_pd)
    pdn_control = control_pos[pdn_ex]
    c_pairs = np.flatnonzero(pdn_control >= 0)
    n_o, n_c = o_person.size, controls.size
    # pairs: the notes of each order's person-day
    o_key = o_person * days + o_day
    pair_rows = np.flatnonzero(np.isin(pdn_pd, o_key))
    order_of_key = {int(key): i for i, key in enumerate(o_key.tolist())}
    pair_order = np.array([order_of_key[int(v)] for v in pdn_pd[pair_rows].tolist()], dtype=np.int64)
    data = DataDrivenData(
        n_cells=2,
        n_days=days,
        row_cell=np.concatenate([person_cell[o_person], person_cell[ex_person[controls]]]).astype(np.int64),
        row_day=np.concatenate([o_day, ex_day[controls]]).astype(np.int64),
        row_person=np.concatenate([o_person, ex_person[controls]]).astype(np.int64),
        row_y=np.concatenate([np.ones(n_o), np.zeros(n_c)]),
        row_w=np.concatenate([np.zeros(n_o), np.full(n_c, float(control_every))]),
        n_notes=notes,
        xp_row=np.concatenate([pair_order, n_o + pdn_control[c_pairs]]).astype(np.int64),
        xp_note=np.concatenate([uniq[pair_rows] % notes, uniq[c_pairs] % notes]).astype(np.int64),
        xp_x=np.concatenate([pdn_x[pair_rows], pdn_x[c_pairs]]),
        order_row=np.arange(n_o, dtype=np.int64),
        pair_order=pair_order,
        pair_note=(uniq[pair_rows] % notes).astype(np.int64),
        pair_x=pdn_x[pair_rows],
        person_cell=person_cell,
        range_person=exposed_people.astype(np.int64),
        range_first=r_first.astype(np.int64),
        range_last=r_last.astype(np.int64),
    )
    return Synthetic(data, fit, (uniq % notes)[pair_rows], o_person)
