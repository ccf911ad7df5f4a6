"""Accuracy against ground truth: how much of a model's credit lands on the wrong notes (or creators).

Only a simulated world knows what caused each order (``truth/orders.jsonl``): an order is *incremental* when
a note caused it, and then its truth row lists every contributing note with its share of the cause
(``notes``, ``weights``, summing to 1); an *organic* order would have happened without any note.

True credit
    ``T(k)`` = Σ over incremental orders of the weights of key ``k`` (a note, or a creator: the sum over
    their notes). Σ_k T(k) is the number of incremental orders. Weights are expected causes, so ``T`` is the
    causal contribution without the noise of which single note was drawn as the cause.

Model credit
    ``M(k)`` = the orders a model credits to key ``k`` (a row of ``hongmao attribute``). Keys that are not
    notes — ``(community search)``, say — are kept: credit there is credit not given to the notes that caused
    the order.

Two errors, both total-variation distances (half the L1 distance between two distributions, in [0, 1]: the
smallest share of credit that must move to turn one into the other):

``misplaced_share``
    between the *shares* ``M(k) / Σ M`` and ``T(k) / Σ T`` over all keys. It asks: of the credit the model
    hands to notes, what share sits on the wrong notes? Organic orders count only through where their credit
    lands: an attribution model cannot tell an organic buyer from a seeded one (only a holdout can), so it
    credits both; when the organic buyers' touches are spread like the seeded buyers', this costs little,
    when they are not, the shares move and the error shows it.

``misplaced_with_organic``
    between ``M`` and ``T`` as distributions of *all* orders, with one more key, "no note": the orders a
    model leaves uncredited (or credits to no note) against the organic orders. Here every organic order the
    model credits to a note counts as misplaced. Attribution alone cannot bring this near zero; it is the
    gap that incrementality (holdout lift) fills.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hongmao.errors import InputError

NO_NOTE = "(no note)"
"""The extra key of ``misplaced_with_organic``: orders credited to no note, and organic orders."""


@dataclass(frozen=True, slots=True)
class TrueCredit:
    """The causal contribution of each key, from a world's truth rows."""

    by_key: dict[str, float]
    incremental_orders: int
    organic_orders: int

    @property
    def total_orders(self) -> int:
        return self.incremental_orders + self.organic_orders


@dataclass(frozen=True, slots=True)
class CreditError:
    """How far a model's credit is from the true causal contribution (see the module docstring)."""

    misplaced_share: float
    misplaced_with_organic: float
    credited_orders: float
    true_orders: float
    total_orders: int

    @property
    def excess_credit(self) -> float:
        """Orders' worth of credit given beyond the orders notes really caused (negative: less)."""
        return self.credited_orders - self.true_orders

    def to_dict(self) -> dict[str, Any]:
        return {
            "misplaced_share": self.misplaced_share,
            "misplaced_with_organic": self.misplaced_with_organic,
            "credited_orders": self.credited_orders,
            "true_orders": self.true_orders,
            "total_orders": self.total_orders,
            "excess_credit": self.excess_credit,
        }


def true_credit(orders: Iterable[Mapping[str, Any]], key_of: Mapping[str, str] | None = None) -> TrueCredit:
    """Sum truth rows (``incremental``, ``notes``, ``weights``) into true credit per note, or per ``key_of[note]``.

    A note missing from ``key_of`` is an error (the truth and the mapping come from different worlds).
    """
    by_key: dict[str, float] = {}
    incremental = organic = 0
    for number, row in enumerate(orders, start=1):
        if not row.get("incremental"):
            organic += 1
            continue
        notes, weights = row.get("notes") or [], row.get("weights") or []
        if len(notes) != len(weights) or not notes:
            raise InputError(f"truth order {number}: an incremental order needs notes with one weight each")
        total = math.fsum(float(w) for w in weights)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise InputError(f"truth order {number}: weights sum to {total!r}, not 1")
        incremental += 1
        for note, weight in zip(notes, weights, strict=True):
            if key_of is None:
                key = note
            elif note in key_of:
                key = key_of[note]
            else:
                raise InputError(f"truth order {number}: note {note!r} has no key in the mapping")
            by_key[key] = by_key.get(key, 0.0) + float(weight) / total
    return TrueCredit(by_key, incremental, organic)


def total_variation(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """Half the L1 distance between two non-negative mass functions, each normalised to sum 1."""
    sp, sq = math.fsum(p.values()), math.fsum(q.values())
    for name, mass in (("first", p), ("second", q)):
        bad = [k for k, v in mass.items() if not (math.isfinite(v) and v >= -1e-9)]
        if bad:
            raise InputError(f"{name} distribution has a negative or non-finite mass at {bad[0]!r}")
    if not sp > 0 or not sq > 0:
        raise InputError("both distributions need positive total mass")
    keys = set(p) | set(q)
    return 0.5 * math.fsum(abs(p.get(k, 0.0) / sp - q.get(k, 0.0) / sq) for k in keys)


def credit_error(truth: TrueCredit, credited: Mapping[str, float], total_orders: int | None = None) -> CreditError:
    """The errors of one model's credit (``key -> orders``) against ``truth``.

    ``total_orders`` (default: the truth's) is the number of orders the model saw; the credited orders must
    not exceed it. A model that credits nothing misplaces everything (``misplaced_share`` 1).
    """
    total = truth.total_orders if total_orders is None else int(total_orders)
    true_orders = math.fsum(truth.by_key.values())
    if not true_orders > 0:
        raise InputError("the truth has no incremental orders: there is no causal credit to compare with")
    credited = {k: float(v) for k, v in credited.items() if v}
    given = math.fsum(credited.values())
    if given > total * (1 + 1e-9) + 1e-9:
        raise InputError(f"{given!r} orders credited but only {total} orders exist")
    share = total_variation(credited, truth.by_key) if given > 0 else 1.0
    model_all = {**credited, NO_NOTE: max(0.0, total - given)}
    true_all = {**truth.by_key, NO_NOTE: max(0.0, total - true_orders)}
    with_organic = total_variation(model_all, true_all) if total > 0 else 0.0
    return CreditError(share, with_organic, given, true_orders, total)


def coverage(intervals: Iterable[tuple[float, float]], truths: Iterable[float]) -> float:
    """Share of ``(low, high)`` intervals containing the matching truth (ends included)."""
    pairs = list(zip(intervals, truths, strict=True))
    if not pairs:
        raise InputError("coverage of no intervals")
    hits = sum(1 for (low, high), value in pairs if low <= value <= high)
    return hits / len(pairs)
