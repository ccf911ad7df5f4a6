"""Attribution of the lake's orders to notes, creators, brands, campaigns or items, run on the engine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
from ibis.expr.types import Table

from hongmao.attribution.registry import MODEL_SPECS
from hongmao.engine import credit, tables
from hongmao.engine.session import Session
from hongmao.engine.windows import TOUCH_KINDS, Windows
from hongmao.errors import AttributionError

GROUPINGS = ("note", "creator", "brand", "campaign", "item")
#: The models of the one registry (:data:`hongmao.attribution.MODEL_SPECS`): its rule models run as weights on
#: the engine's journeys, the others (Markov, Shapley) on each brand's aggregated paths; plus the hazard model,
#: which needs the lake itself.
DATA_DRIVEN = tuple(name for name in MODEL_SPECS if name not in credit.RULE_MODELS)
HAZARD = "hazard"
DATADRIVEN = "datadriven"  # the fitted purchase probability credited by Shapley values (engine/datadriven.py)
MODELS = (*MODEL_SPECS, HAZARD, DATADRIVEN)


@dataclass
class AttributionResult:
    model: str
    by: str
    rows: list[dict[str, Any]]
    total_orders: float
    unattributed_orders: int
    orders: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    baseline_orders: float | None = None
    """hazard only: orders' worth credited to the baseline (the ``(baseline)`` row), not to any touch."""
    lift_checks: list[dict[str, Any]] | None = None
    """datadriven with a holdout key: per campaign, its notes' credit against the measured lift."""

    def to_dict(self) -> dict[str, Any]:
        out = {
            "model": self.model,
            "by": self.by,
            "rows": self.rows,
            "total_orders": self.total_orders,
            "unattributed_orders": self.unattributed_orders,
        }
        if self.baseline_orders is not None:
            out["baseline_orders"] = self.baseline_orders
        if self.lift_checks is not None:
            out["lift_checks"] = self.lift_checks
        return out


def parse_kinds(kinds: Iterable[str] | None) -> frozenset[str]:
    if kinds is None:
        return frozenset(TOUCH_KINDS)
    chosen = frozenset(k.strip() for k in kinds if k.strip())
    unknown = chosen - set(TOUCH_KINDS)
    if unknown or not chosen:
        raise AttributionError(f"unknown touch kinds {sorted(unknown)}; known: {', '.join(TOUCH_KINDS)}")
    return chosen


def attribute_segments(segments: Sequence[Path], model: str = "last", **options: Any) -> AttributionResult:
    """:func:`attribute` over ``segments`` in a session of its own (opened and closed here)."""
    with Session(segments) as session:
        return attribute(session, model, **options)


def attribute(
    session: Session,
    model: str = "last",
    by: str = "note",
    touches: Iterable[str] | None = None,
    windows: Windows | None = None,
    half_life_days: float = 7.0,
    markov_order: int = 1,
    exclude_users: Iterable[str] | Any | None = None,
    null_window: str = "all",
    hazard: dict[str, Any] | None = None,
    datadriven: dict[str, Any] | None = None,
) -> AttributionResult:
    """Credit the lake's orders; touches of ``exclude_users`` (e.g. flagged fake accounts) are left out.

    Markov and Shapley build one chain (game) per brand; ``null_window`` says which touches a non-buyer's
    path holds (see :mod:`hongmao.engine.paths`). ``hazard`` holds the hazard model's parameters
    (:data:`hongmao.engine.hazard.DEFAULTS`); its result has a ``(baseline)`` row and ``baseline_orders``:
    ``total_orders`` (credited to touches) + ``baseline_orders`` + ``unattributed_orders`` = ``orders``.
    """
    if by not in GROUPINGS:
        raise AttributionError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
    if model not in MODELS:
        raise AttributionError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    kinds = parse_kinds(touches)
    windows = windows or Windows()
    ev = session.events
    conv = tables.conversions(ev)
    touch = tables.touches(ev, kinds, exclude_users=exclude_users)
    j = credit.journeys(conv, touch, windows)
    orders = int(session.scalar(conv.count()))
    if model == HAZARD:
        return _hazard(session, ev, conv, touch, by, kinds, orders, hazard or {})
    if model == DATADRIVEN:
        return _datadriven(session, ev, conv, touch, by, kinds, orders, dict(datadriven or {}))
    if model in DATA_DRIVEN:
        rows, attributed, params = _data_driven(
            session, ev, j, touch, conv, model, by, markov_order, null_window, windows
        )
    else:
        rows, attributed, params = _rule_based(session, j, model, by, half_life_days)
    return _result(model, by, kinds, orders, (rows, attributed, params))


def attribute_rules(
    session: Session,
    models: Sequence[str],
    by: str = "note",
    touches: Iterable[str] | None = None,
    exclude_users: Iterable[str] | Any | None = None,
    half_life_days: float = 7.0,
) -> dict[str, AttributionResult]:
    """Several rule models at once (the model comparison): the journeys table is computed once and held in memory
    as Arrow (one row per order and touch in its window: fine for a console's lake, not for a cluster's), and
    each model's result is exactly :func:`attribute`'s with the default windows."""
    unknown = [m for m in models if m not in credit.RULE_MODELS]
    if unknown:
        raise AttributionError(f"not rule models: {', '.join(unknown)}")
    kinds = parse_kinds(touches)
    ev = session.events
    conv = tables.conversions(ev)
    touch = tables.touches(ev, kinds, exclude_users=exclude_users)
    j = ibis.memtable(session.arrow(credit.journeys(conv, touch, Windows())))
    orders = int(session.scalar(conv.count()))
    return {m: _result(m, by, kinds, orders, _rule_based(session, j, m, by, half_life_days)) for m in models}


Credits = tuple[list[dict[str, Any]], int, dict[str, Any]]


def _result(model: str, by: str, kinds: frozenset[str], orders: int, credits: Credits) -> AttributionResult:
    rows, attributed, params = credits
    return AttributionResult(
        model=model,
        by=by,
        rows=rows,
        total_orders=float(attributed),
        unattributed_orders=orders - attributed,
        orders=orders,
        params={"touches": sorted(kinds), **params},
    )


def _rule_based(session: Session, j: Table, model: str, by: str, half_life_days: float) -> Credits:
    weighted = credit.weights(j, model, credit.rule_params(model, half_life_days))
    by_key = credit.credited(weighted, by).order_by([ibis.desc("orders"), "key"])
    records = session.arrow(by_key).to_pylist()
    rows = [
        {"key": r["key"], "orders": float(r["orders"]), "gmv": float(r["gmv"]), "net_gmv": float(r["net_gmv"])}
        for r in records
    ]
    # An order's weights sum to one: the credits add up to the attributed orders (exact sums, so the rounding
    # only removes the last bits of the decimal-to-float conversion).
    attributed = round(sum(float(r["orders"]) for r in records))
    return rows, attributed, {"half_life_days": half_life_days}


def _fitted(
    model: str, by: str, credits: Any, orders: int, params: dict[str, Any], lift_checks: Any = None
) -> AttributionResult:
    """The result of a model fitted on the lake (hazard, datadriven): touches' credit, and a baseline that is
    nobody's; ``credits`` carries ``rows``, ``attributed``, ``baseline`` and per-brand ``fits``."""
    return AttributionResult(
        model=model,
        by=by,
        rows=credits.rows,
        total_orders=credits.attributed,
        unattributed_orders=orders - round(credits.attributed + credits.baseline),
        orders=orders,
        params={**params, "brands": credits.fits},
        baseline_orders=credits.baseline,
        lift_checks=lift_checks,
    )


def _hazard(
    session: Session,
    ev: Table,
    conv: Table,
    touch: Table,
    by: str,
    kinds: frozenset[str],
    orders: int,
    params: dict[str, Any],
) -> AttributionResult:
    from hongmao.engine.hazard import check_params, hazard_credits
    from hongmao.engine.hazard_data import KINDS

    credits = hazard_credits(session, ev, conv, touch, by, **params)
    return _fitted(HAZARD, by, credits, orders, {"touches": sorted(kinds & set(KINDS)), **check_params(params)})


def _datadriven(
    session: Session,
    ev: Table,
    conv: Table,
    touch: Table,
    by: str,
    kinds: frozenset[str],
    orders: int,
    params: dict[str, Any],
) -> AttributionResult:
    """The data-driven model (``datadriven`` parameters; a ``holdout_key`` among them checks campaigns' lift)."""
    from hongmao.attribution.datadriven import KINDS
    from hongmao.engine.datadriven import check_params, datadriven_credits

    key = params.pop("holdout_key", None)
    credits = datadriven_credits(session, ev, conv, touch, by, holdout_key=key, **params)
    checks = credits.lift_checks if key else None
    return _fitted(DATADRIVEN, by, credits, orders, {"touches": sorted(KINDS), **check_params(params)}, checks)


def _data_driven(
    session: Session,
    ev: Table,
    j: Table,
    touch: Table,
    conv: Table,
    model: str,
    by: str,
    order: int,
    null_window: str,
    windows: Windows,
) -> Credits:
    """Markov or Shapley with one chain (or game) per brand: each brand's orders are credited among its own
    touches, from its own converting and null paths, valued by GMV and net GMV; the brands' credits add up."""
    from hongmao.attribution import attribute_paths
    from hongmao.engine.paths import brand_journey_paths

    items = tables.items(ev)
    per_brand = brand_journey_paths(session, j, touch, conv, by, null_window=null_window, windows=windows, items=items)
    params: dict[str, Any] = {"order": order} if model == "markov" else {}
    orders: dict[str, float] = {}
    gmv: dict[str, float] = {}
    net: dict[str, float] = {}
    for paths in per_brand.values():
        if not paths.by_gmv:
            continue
        for c in attribute_paths(paths.by_gmv, model, **params):
            orders[c.channel] = orders.get(c.channel, 0.0) + c.conversions
            gmv[c.channel] = gmv.get(c.channel, 0.0) + c.value
        for c in attribute_paths(paths.by_net, model, **params):
            net[c.channel] = net.get(c.channel, 0.0) + c.value
    attributed = round(sum(p.conversions for p in per_brand.values()))
    rows: list[dict[str, Any]] = [
        {"key": key, "orders": float(orders[key]), "gmv": float(gmv[key]), "net_gmv": float(net.get(key, 0.0))}
        for key in orders
    ]
    rows.sort(key=lambda r: (-r["orders"], r["key"]))
    return rows, attributed, {**params, "chains": "per brand", "null_window": null_window}
