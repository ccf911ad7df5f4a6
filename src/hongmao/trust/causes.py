"""Whose note caused each order, given how the order turned out: an outcome-aware split of an order's credit for
the deceptive-seeding judgement (种骗).

Credit (linear or hazard) spreads an order over every note its buyer read, so a deceived buyer's not-as-described
refund lands in equal parts on the note that oversold and on the honest notes read beside it. Here each order's
cause is one of its credited entities or a baseline (nobody), a hierarchical mixture fitted by EM:

* prior: ``P(cause = e) = x_ie``, the order's credit share; the baseline holds what the shares leave (``1 - sum
  x_ie``, zero under linear credit, the hazard model's baseline under hazard credit);
* each scored entity e has an excess rate ``d_e >= 0`` of bad outcomes (a deception rate); unscored keys
  ('(unknown)' and the like) and the baseline have none;
* likelihood: ``P(bad_i | cause = e) = F_i * (beta_item(i) + d_e)``, the item's own norm (shrunk toward its
  category's, as :func:`hongmao.trust.shrinkage.score` does) plus the cause's excess, times the order's exposure F_i
  (how complete its outcomes are at its age);
* E-step: the posterior over each order's cause given its outcome, damped toward the prior shares
  (``r = (1 - damping) x + damping posterior``);
* M-step: ``d_e`` from the expected counts under a Beta(1, ``prior_orders``)-like shrinkage (every entity starts
  with the record of ``prior_orders`` ordinary orders, so a handful of orders cannot make it a magnet), and the
  items' norms from the outcomes the fit leaves to the baseline.

The result is a credit matrix of the same shape and entries, the posterior-weighted shares, which the existing
judgement (:func:`hongmao.trust.shrinkage.score`, :mod:`hongmao.trust.pooled`) reads instead of the plain shares.
The obvious failure, a rich-get-richer collapse of every co-read order onto whichever entity looked worst first, is
held off three ways: few iterations, damping, and the shrinkage prior.

What the split can and cannot do: it moves a *bad* order's share toward the co-read entity whose other buyers go
bad, but a good order's share hardly moves (a good outcome is nearly as likely under either cause), so most of a
deceiver's credit on orders it did not cause stays. And the outcome that moves a share, judged again under that
share, is counted partly twice (``PoolRules.causes = "em"``); the cross-fitted use (``"em_cross"``) reads each
evidence outcome (not-as-described refunds, low ratings) under the split fitted to the other, which a deceived
buyer also tends to show, so no outcome moves the shares it is judged under.

Pure NumPy/SciPy on arrays; :mod:`hongmao.trust.report` calls it when ``PoolRules.causes`` is ``"em"`` or
``"em_cross"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

Array = NDArray[np.float64]

RATE_CAP = 0.999  # a cause's chance of a bad outcome is held below one


@dataclass(frozen=True)
class CauseRules:
    iterations: int = 3  # EM rounds: few, so a share moves on evidence, not on its own feedback
    damping: float = 0.5  # how far a round moves the shares from the prior toward the posterior (0: not at all)
    prior_orders: float = 20.0  # an entity's excess starts as if from this many ordinary orders
    item_prior_orders: float = 20.0  # an item's norm is shrunk toward its category's by this many orders


@dataclass
class CauseFit:
    credit: sparse.csr_matrix  # the posterior-weighted shares (orders x entities), entries where the prior has them
    excess: Array  # per entity, the fitted excess rate d_e (zero for unscored entities)
    moved: float  # the share of credit that moved between entities and the baseline (half the L1 change)
    iterations: int


def item_norms(
    y: Array, item: NDArray[np.int64], exposure: Array, item_group: NDArray[np.int64] | None, prior_orders: float
) -> tuple[Array, Array]:
    """(the items' norms, the centres they are shrunk toward): each item's bad-outcome rate shrunk by
    ``prior_orders`` toward its category's rate (itself shrunk toward the global rate), as the score does."""
    n_items = int(item.max()) + 1 if len(item) else 0
    total = float(exposure.sum())
    g = float(y.sum() / total) if total > 0 else 0.0
    centre = np.full(n_items, g)
    if item_group is not None and n_items:
        grp = np.asarray(item_group, dtype=np.int64)
        grp_bad = np.bincount(grp[item], weights=y, minlength=int(grp.max()) + 1)
        grp_exposure = np.bincount(grp[item], weights=exposure, minlength=int(grp.max()) + 1)
        centre = ((grp_bad + prior_orders * g) / (grp_exposure + prior_orders))[grp]
    item_exposure = np.bincount(item, weights=exposure, minlength=n_items)
    beta = (np.bincount(item, weights=y, minlength=n_items) + prior_orders * centre) / (item_exposure + prior_orders)
    return beta, centre


def split_causes(
    y: Array,
    item: NDArray[np.int64],
    exposure: Array,
    credit: sparse.spmatrix,
    scored: NDArray[np.bool_],
    item_group: NDArray[np.int64] | None = None,
    rules: CauseRules | None = None,
) -> CauseFit:
    """Fit the mixture for one outcome ``y`` (0/1 per order) and return the posterior-weighted credit.

    ``credit``: orders x entities shares (a row may sum to less than one: the rest is the baseline's);
    ``scored``: entities that may carry an excess; ``item``, ``item_group``, ``exposure`` as for
    :func:`hongmao.trust.shrinkage.score`."""
    rules = rules or CauseRules()
    y = np.asarray(y, dtype=np.float64)
    f = np.asarray(exposure, dtype=np.float64)
    x = sparse.coo_matrix(credit, dtype=np.float64)
    n_orders, n_ent = x.shape
    row, col, prior = x.row, x.col, x.data
    base_prior = np.maximum(1.0 - np.bincount(row, weights=prior, minlength=n_orders), 0.0)
    beta, centre = item_norms(y, item, f, item_group, rules.item_prior_orders)
    n_items = len(beta)
    item_exposure = np.bincount(item, weights=f, minlength=n_items)
    can = np.asarray(scored, dtype=np.bool_)[col]
    d = np.zeros(n_ent)
    r = prior.copy()
    yy, fe = y[row], f[row]
    for _ in range(rules.iterations):
        # M-step: each scored entity's excess from its expected orders and bad outcomes, shrunk toward zero
        b_entry = beta[item[row]]
        excess_bad = np.bincount(col, weights=r * (yy - fe * b_entry), minlength=n_ent)
        orders = np.bincount(col, weights=r * fe, minlength=n_ent)
        d = np.where(scored, np.maximum(excess_bad, 0.0) / (orders + rules.prior_orders), 0.0)
        # E-step: the posterior over each order's cause (its credited entities or the baseline) given its outcome
        p_e = np.clip(fe * (b_entry + d[col]), 0.0, RATE_CAP)
        p_0 = np.clip(f * beta[item], 0.0, RATE_CAP)
        lik_e = np.where(yy > 0, p_e, 1.0 - p_e)
        lik_0 = np.where(y > 0, p_0, 1.0 - p_0)
        w_e = prior * np.where(can, lik_e, lik_0[row])
        total = np.bincount(row, weights=w_e, minlength=n_orders) + base_prior * lik_0
        post = np.divide(w_e, total[row], out=prior.copy(), where=total[row] > 0)
        r = (1.0 - rules.damping) * prior + rules.damping * post
        # the items' norms from the bad outcomes the fit does not put down to an entity's excess
        share_excess = np.divide(d[col], b_entry + d[col], out=np.zeros_like(r), where=(b_entry + d[col]) > 0)
        excess_of_order = np.bincount(row, weights=r * yy * share_excess, minlength=n_orders)
        kept = np.bincount(item, weights=y - excess_of_order, minlength=n_items)
        beta = np.maximum(kept + rules.item_prior_orders * centre, 0.0) / (item_exposure + rules.item_prior_orders)
    moved = float(np.abs(r - prior).sum() / max(float(prior.sum()), 1e-12) / 2.0) if len(prior) else 0.0
    out = sparse.csr_matrix((r, (row, col)), shape=(n_orders, n_ent))
    return CauseFit(out, d, moved, rules.iterations)
