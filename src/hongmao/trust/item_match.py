"""Which note an order followed, sharpened by what was bought: a note that links the item an order bought is more
likely its cause than a note that links other items, by as much as the lake shows buyers follow links.

The credit a route gives (rule weights, or the hazard model's shares with the rest left to a baseline) is each
note's prior probability of being the order's cause. The item bought is evidence: a buyer a note persuaded buys one
of the items it links with probability ``s`` (any of them alike) and otherwise what the brand's buyers buy (the
item's share of the brand's orders not explained by a note's links, ``pop``); a buyer no note persuaded buys by
``pop`` alone. So

    P(item | note n) = s * [item linked by n] / (items n links) + (1 - s) * pop    (n links items)
    P(item | note n) = pop                                                         (n links none, or the baseline)

and each note's posterior credit is its prior times that likelihood, over the order's total (the baseline's part
included, so an order the route left mostly to the baseline stays mostly there). ``s`` and ``pop`` are fitted on
the lake by expectation-maximisation over every order, ``pop`` from the orders weighted by how likely their item
was chosen the brand's way (so the buyers links sent do not make the linked items look popular anyway). A lake
where buyers do not follow links (``s`` near 0) leaves the credit as the route gave it: the share is learned, never
assumed. Organic buyers who read a note linking the item they bought anyway pull ``s`` up a little, and notes that
persuade buyers of items they do not link pull it down.

Pure numpy; rows in, rows out. :func:`sharpen` is what the trust report's deceptive score uses
(``TrustParams.item_match``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

MAX_ITERATIONS = 1000
TOLERANCE = 1e-9  # EM stops when neither the share nor any item share moves by more than this in a round
POP_SMOOTHING = 1.0  # pseudo-orders per item in the brand's item shares, so an item bought once is not certain


@dataclass(frozen=True)
class ItemMatch:
    """The fitted share of persuaded buyers who buy an item the note links, and what it was fitted on."""

    share: float
    orders: int  # orders with at least one credited note that links items of the order's brand
    iterations: int
    converged: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "share": round(self.share, 6),
            "orders": self.orders,
            "iterations": self.iterations,
            "converged": self.converged,
        }


@dataclass(frozen=True)
class _Design:
    order: NDArray[np.int64]  # per row: the order's index
    prior: Array  # per row: the route's credit
    base: Array  # per order: the prior left to the baseline (1 - the order's credit, at least 0)
    cell: NDArray[np.int64]  # per order: its (brand, item)'s index
    brand_of_cell: NDArray[np.int64]  # per (brand, item): the brand's index
    n_brands: int
    linked: Array  # per row: 1 when the note links any item of the order's brand
    hit: Array  # per row: [item linked] / (items of the order's brand the note links)
    n_orders: int


def _design(
    rows: Sequence[Mapping[str, Any]],
    orders: Mapping[str, Mapping[str, Any]],
    note_items: Mapping[str, frozenset[str]],
    item_brands: Mapping[str, str | None] | None,
) -> _Design:
    # Every order counts in the items' shares (an order no note is credited with is the baseline's alone), the
    # credited ones by their rows. Ids are compared as text throughout.
    known = {str(k): v for k, v in orders.items()}
    index: dict[str, int] = {k: i for i, k in enumerate(sorted(known))}
    order_ix = np.empty(len(rows), dtype=np.int64)
    prior = np.empty(len(rows))
    linked = np.zeros(len(rows))
    hit = np.zeros(len(rows))
    of_brand: dict[tuple[Any, Any], frozenset[str]] = {}  # (note, brand) -> the note's items of that brand
    for r, row in enumerate(rows):
        oid = str(row["order_id"])
        order_ix[r] = index.setdefault(oid, len(index))
        weight = float(row["weight"])
        prior[r] = weight if np.isfinite(weight) and weight > 0.0 else 0.0  # a broken weight is no credit
        items = note_items.get(row["key"], frozenset())
        order = known.get(oid) or {}
        if items and item_brands is not None:
            # Only the note's items of the order's brand can be what its buyer bought there.
            brand = order.get("brand")
            cached = of_brand.get((row["key"], brand))
            if cached is None:
                cached = of_brand[(row["key"], brand)] = frozenset(i for i in items if item_brands.get(i) == brand)
            items = cached
        if items:
            linked[r] = 1.0
            hit[r] = (1.0 / len(items)) if order.get("item_id") in items else 0.0
    cells: dict[tuple[Any, Any], int] = {}
    brands: dict[Any, int] = {}
    cell = np.empty(len(index), dtype=np.int64)
    for k, o in index.items():
        order = known.get(k) or {}
        key = (order.get("brand"), order.get("item_id"))
        cell[o] = cells.setdefault(key, len(cells))
        brands.setdefault(key[0], len(brands))
    brand_of_cell = np.array([brands[b] for b, _i in cells], dtype=np.int64)
    total = np.bincount(order_ix, weights=prior, minlength=len(index))
    base = np.clip(1.0 - total, 0.0, None)
    return _Design(order_ix, prior, base, cell, brand_of_cell, len(brands), linked, hit, len(index))


def _item_shares(d: _Design, organic: Array) -> Array:
    """Per (brand, item): its smoothed share of the brand's orders, each order counted by how likely its item was
    chosen as the brand's buyers choose (not from a note's links): the M-step of the items' shares."""
    per_cell = np.bincount(d.cell, weights=organic, minlength=len(d.brand_of_cell)) + POP_SMOOTHING
    per_brand = np.bincount(d.brand_of_cell, weights=per_cell, minlength=d.n_brands)
    out: Array = per_cell / per_brand[d.brand_of_cell]
    return out


def _posterior(d: _Design, s: float, cell_pop: Array) -> tuple[Array, Array, Array]:
    """Per row the joint weight prior * P(item | note), per order its normaliser (the baseline's part included),
    and per row the part of the joint where the item came from the note's links."""
    pop = cell_pop[d.cell]
    pop_row = pop[d.order]
    like = np.where(d.linked > 0, s * d.hit + (1.0 - s) * pop_row, pop_row)
    joint = d.prior * like
    z = np.bincount(d.order, weights=joint, minlength=d.n_orders) + d.base * pop
    return joint, z, d.prior * s * d.hit * d.linked


def fit_share(d: _Design) -> tuple[ItemMatch, Array]:
    """EM for ``s`` and the items' shares: ``s`` is the posterior weight of "bought a linked item because of the
    note" over the posterior weight of "a note that links items persuaded the buyer", across every order; the
    items' shares count each order by its posterior weight of "chosen the brand's way". It stops when neither
    moves by more than TOLERANCE (after two rounds at least: one round's ``s`` can stand still while the shares
    move), and says whether it got there within MAX_ITERATIONS."""
    has_linked = np.bincount(d.order, weights=d.linked * (d.prior > 0), minlength=d.n_orders) > 0
    cell_pop = _item_shares(d, np.ones(d.n_orders))
    if not has_linked.any():
        return ItemMatch(0.0, 0, 0), cell_pop
    s = 0.5
    for iterations in range(1, MAX_ITERATIONS + 1):
        joint, z, from_link = _posterior(d, s, cell_pop)
        safe = np.where(z > 0, z, 1.0)
        link_part = np.where(z > 0, np.bincount(d.order, weights=from_link, minlength=d.n_orders) / safe, 0.0)
        caused_linked = float(((joint * d.linked) / safe[d.order]).sum())
        new_pop = _item_shares(d, 1.0 - link_part)
        new = min(max(float(link_part.sum()) / caused_linked, 0.0), 1.0) if caused_linked > 0 else 0.0
        moved = max(abs(new - s), float(np.abs(new_pop - cell_pop).max()))
        s, cell_pop = new, new_pop
        if iterations >= 2 and moved < TOLERANCE:
            return ItemMatch(s, int(has_linked.sum()), iterations), cell_pop
    return ItemMatch(s, int(has_linked.sum()), MAX_ITERATIONS, converged=False), cell_pop


def sharpen(
    rows: Sequence[Mapping[str, Any]],
    orders: Mapping[str, Mapping[str, Any]],
    note_items: Mapping[str, frozenset[str]],
    item_brands: Mapping[str, str | None] | None = None,
) -> tuple[list[dict[str, Any]], ItemMatch]:
    """Each (order_id, key = note, weight, ...) row's weight made its posterior given the item the order bought.

    ``orders``: order_id -> {"brand", "item_id"}; ``note_items``: note -> the items it links; ``item_brands``:
    item -> its brand, so that only a note's items of the order's brand count (None: every linked item counts).
    Other fields of a row are kept. An order's weights keep their sum's complement as the baseline's (rows of a
    rule route, summing to one, keep summing to one). Rows are taken in (order_id, key) order, so the fit does not
    depend on theirs.
    """
    ordered = sorted(rows, key=lambda r: (str(r["order_id"]), str(r["key"])))
    if not ordered:
        return [], ItemMatch(0.0, 0, 0)
    d = _design(ordered, orders, note_items, item_brands)
    fit, cell_pop = fit_share(d)
    joint, z, _link = _posterior(d, fit.share, cell_pop)
    total = np.bincount(d.order, weights=d.prior, minlength=d.n_orders)
    # The posterior keeps each order's credited total plus its baseline's where the route put them: only the split
    # among the notes and the baseline moves (an order whose item no cause explains keeps the route's split).
    scale = np.where(z > 0, (total + d.base) / np.where(z > 0, z, 1.0), 0.0)
    weight = np.where(z[d.order] > 0, joint * scale[d.order], d.prior)
    out = [{**row, "weight": float(w)} for row, w in zip(ordered, weight, strict=True)]
    return out, fit
