"""Attribution of the lake's orders to notes, creators, brands, campaigns or items, run on the engine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis

from hongmao.engine import backend, credit, tables
from hongmao.engine.windows import TOUCH_KINDS, Windows
from hongmao.errors import AttributionError

GROUPINGS = ("note", "creator", "brand", "campaign", "item")
DATA_DRIVEN = ("markov", "shapley")
MODELS = (*credit.RULE_MODELS, *DATA_DRIVEN)


@dataclass
class AttributionResult:
    model: str
    by: str
    rows: list[dict[str, Any]]
    total_orders: float
    unattributed_orders: int
    orders: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "by": self.by,
            "rows": self.rows,
            "total_orders": self.total_orders,
            "unattributed_orders": self.unattributed_orders,
        }


def parse_kinds(kinds: Iterable[str] | None) -> frozenset[str]:
    if kinds is None:
        return frozenset(TOUCH_KINDS)
    chosen = frozenset(k.strip() for k in kinds if k.strip())
    unknown = chosen - set(TOUCH_KINDS)
    if unknown or not chosen:
        raise AttributionError(f"unknown touch kinds {sorted(unknown)}; known: {', '.join(TOUCH_KINDS)}")
    return chosen


def attribute_segments(
    segments: Sequence[Path],
    model: str = "last",
    by: str = "note",
    touches: Iterable[str] | None = None,
    windows: Windows | None = None,
    half_life_days: float = 7.0,
    con: Any = None,
    markov_order: int = 1,
    exclude_users: Iterable[str] | Any | None = None,
) -> AttributionResult:
    """Credit the lake's orders; touches of ``exclude_users`` (e.g. flagged fake accounts) are left out."""
    if by not in GROUPINGS:
        raise AttributionError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
    if model not in MODELS:
        raise AttributionError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    kinds = parse_kinds(touches)
    windows = windows or Windows()
    con = con if con is not None else backend.connect()
    ev = backend.events_table(con, segments)
    conv = tables.conversions(ev)
    touch = tables.touches(ev, kinds, exclude_users=exclude_users)
    j = credit.journeys(conv, touch, windows)
    orders = int(con.to_pyarrow(conv.count()).as_py())
    if model in DATA_DRIVEN:
        rows, attributed, params = _data_driven(con, j, touch, conv, model, by, markov_order)
    else:
        rows, attributed, params = _rule_based(con, j, model, by, half_life_days)
    return AttributionResult(
        model=model,
        by=by,
        rows=rows,
        total_orders=float(attributed),
        unattributed_orders=orders - attributed,
        orders=orders,
        params={"touches": sorted(kinds), **params},
    )


Credits = tuple[list[dict[str, Any]], int, dict[str, Any]]


def _rule_based(con: Any, j: Any, model: str, by: str, half_life_days: float) -> Credits:
    weighted = credit.weights(j, model, half_life_days)
    by_key = credit.credited(weighted, by).order_by([ibis.desc("orders"), "key"])
    records = con.to_pyarrow(by_key).to_pylist()
    rows = [
        {"key": r["key"], "orders": float(r["orders"]), "gmv": float(r["gmv"]), "net_gmv": float(r["net_gmv"])}
        for r in records
    ]
    # One pass over the journeys gives both the rows and the attributed count.
    attributed = sum(int(r["journeys"]) for r in records)
    return rows, attributed, {"half_life_days": half_life_days}


def _data_driven(con: Any, j: Any, touch: Any, conv: Any, model: str, by: str, order: int) -> Credits:
    """Markov or Shapley over the lake's aggregated paths (converting and not), valued by GMV and net GMV."""
    from hongmao.attribution import attribute_paths
    from hongmao.engine.paths import journey_paths

    by_gmv, by_net = journey_paths(con, j, touch, conv, by)
    params: dict[str, Any] = {"order": order} if model == "markov" else {}
    gmv = {c.channel: c for c in attribute_paths(by_gmv, model, **params)} if by_gmv else {}
    net = {c.channel: c.value for c in attribute_paths(by_net, model, **params)} if by_net else {}
    attributed = int(sum(p.conversions for p in by_gmv))
    rows: list[dict[str, Any]] = [
        {"key": key, "orders": float(c.conversions), "gmv": float(c.value), "net_gmv": float(net.get(key, 0.0))}
        for key, c in gmv.items()
    ]
    rows.sort(key=lambda r: (-r["orders"], r["key"]))
    return rows, attributed, params
