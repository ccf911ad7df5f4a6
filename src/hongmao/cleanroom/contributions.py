"""Each person's contribution to a report's sums, so that a differential-privacy release can bound it
(:class:`hongmao.cleanroom.budget.Sums`): the orders, GMV, refunds and net GMV of each buyer in a window, and the
credit a rule model gives each attribution key from each buyer's orders.

The tables are the ones the reports read (:mod:`hongmao.reports.service`: the scope's segments, the window with
attribution's look-back, flagged accounts' engagement left out), and the credit is the engine's own formula
(:func:`hongmao.engine.credit.weights` and :func:`~hongmao.engine.credit.credited`'s sums per person), so the
people's contributions add up to the figures the reports show. Fitted models (Markov, Shapley, hazard,
data-driven) give credit from a model fitted on everyone's journeys, so one person's contribution to a row is
not theirs alone: they are not offered here (:class:`NotBounded`). Persons are the lake's pseudonyms; they
never leave this module's callers (the budget sums them and releases only noisy totals).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hongmao.engine import Session, credit, tables
from hongmao.engine.attribute import parse_kinds
from hongmao.engine.exact import exact_sum
from hongmao.engine.windows import Windows
from hongmao.reports.period import Window
from hongmao.reports.scope import Scope

#: The per-person order figures of a window.
ORDER_FIGURES = ("orders", "gmv", "refunded", "net_gmv")
#: The per-person credit figures of an attribution key.
CREDIT_FIGURES = ("orders", "gmv", "net_gmv")


class NotBounded(Exception):
    """A model whose credit per person is not that person's alone (fitted on everyone's journeys)."""

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(
            f"model {model!r} is fitted on every journey, so one person's share of its credit is not bounded; under "
            f"the differential-privacy budget a brand key's attribution figures use a rule model "
            f"({', '.join(credit.RULE_MODELS)})"
        )


def _events(reports: Any, scope: Scope, window: Window) -> tuple[Session, Any]:
    from hongmao.reports.service import LOOKBACK_DAYS, restrict

    session = Session(reports.view.segments(scope))
    base = restrict(session.events, window, reports.tz, LOOKBACK_DAYS)
    return session, tables.without_engagement(base, reports.excluded_users() or None)


def orders(reports: Any, scope: Scope, window: Window) -> dict[str, dict[str, float]]:
    """Per buyer of the window (``reports``: a :class:`~hongmao.reports.service.Reports`): their orders, GMV,
    refunded and net GMV."""
    session, ev = _events(reports, scope, window)
    try:
        conv = tables.conversions(ev)
        rows = session.rows(
            conv.group_by("user").aggregate(
                orders=conv.count(),
                gmv=exact_sum(conv.amount),
                refunded=exact_sum(conv.refunded),
                net_gmv=exact_sum(conv.net),
            )
        )
    finally:
        session.close()
    return {str(r["user"]): {f: float(r[f] or 0.0) for f in ORDER_FIGURES} for r in rows}


def credits(
    reports: Any,
    scope: Scope,
    window: Window,
    by: str,
    model: str,
    *,
    half_life_days: float = 7.0,
    touches: Sequence[str] | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """Per buyer, per attribution key (``by``): the orders, GMV and net GMV rule ``model`` credits the key with
    from that buyer's orders. Raises :class:`NotBounded` for a fitted model."""
    if model not in credit.RULE_MODELS:
        raise NotBounded(model)
    kinds = touches if touches is not None else window.filters.touches
    session, ev = _events(reports, scope, window)
    try:
        conv = tables.conversions(ev)
        j = credit.journeys(conv, tables.touches(ev, parse_kinds(kinds)), Windows())
        weighted = credit.weights(j, model, credit.rule_params(model, half_life_days))
        keyed = weighted.mutate(key=credit.credit_key(weighted, by))
        rows = session.rows(
            keyed.group_by(["user", "key"]).aggregate(
                orders=exact_sum(keyed.weight),
                gmv=exact_sum(keyed.weight * keyed.amount),
                net_gmv=exact_sum(keyed.weight * keyed.net),
            )
        )
    finally:
        session.close()
    out: dict[str, dict[str, dict[str, float]]] = {}
    for r in rows:
        out.setdefault(str(r["user"]), {})[str(r["key"])] = {f: float(r[f] or 0.0) for f in CREDIT_FIGURES}
    return out


#: The per-person figures of each day of the daily series.
DAY_FIGURES = ("orders", "gmv", "refunded", "attributed_orders", "attributed_gmv", "attributed_net_gmv")
#: The per-person figures of each item.
ITEM_FIGURES = ("orders", "gmv")


def daily(reports: Any, scope: Scope, window: Window) -> dict[str, dict[str, dict[str, float]]]:
    """Per buyer of the window, per business day (ISO date) of their orders: the orders, GMV and refunded, and
    the same of their attributed orders (an order with a touch in its window, as the daily series counts it)."""
    import ibis

    from hongmao.reports import metrics

    session, ev = _events(reports, scope, window)
    try:
        conv, j = metrics.journeys(ev)
        flagged = conv.left_join(metrics.attributed_orders(j).mutate(hit=ibis.literal(1)), "order_id")
        day = flagged.mutate(day=metrics.local_day(flagged.t, reports.tz), attributed=flagged.hit.notnull())
        rows = session.rows(
            day.group_by(["user", "day"]).aggregate(
                orders=day.count(),
                gmv=exact_sum(day.amount),
                refunded=exact_sum(day.refunded),
                attributed_orders=day.attributed.cast("int64").sum(),
                attributed_gmv=exact_sum(ibis.ifelse(day.attributed, day.amount, 0.0)),
                attributed_net_gmv=exact_sum(ibis.ifelse(day.attributed, day.net, 0.0)),
            )
        )
    finally:
        session.close()
    out: dict[str, dict[str, dict[str, float]]] = {}
    for r in rows:
        when = r["day"].isoformat() if hasattr(r["day"], "isoformat") else str(r["day"])[:10]
        out.setdefault(str(r["user"]), {})[when] = {f: float(r[f] or 0.0) for f in DAY_FIGURES}
    return out


def items(reports: Any, scope: Scope, window: Window) -> dict[str, dict[str, dict[str, float]]]:
    """Per buyer of the window, per item they ordered: their orders and GMV of it."""
    session, ev = _events(reports, scope, window)
    try:
        conv = tables.conversions(ev)
        rows = session.rows(
            conv.group_by(["user", "item_id"]).aggregate(orders=conv.count(), gmv=exact_sum(conv.amount))
        )
    finally:
        session.close()
    out: dict[str, dict[str, dict[str, float]]] = {}
    for r in rows:
        out.setdefault(str(r["user"]), {})[str(r["item_id"])] = {f: float(r[f] or 0.0) for f in ITEM_FIGURES}
    return out
