"""Attribution of the lake's orders to notes, creators, brands, campaigns or items, run on the engine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hongmao.engine import backend, credit, tables
from hongmao.engine.windows import TOUCH_KINDS, Windows
from hongmao.errors import AttributionError

GROUPINGS = ("note", "creator", "brand", "campaign", "item")


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
) -> AttributionResult:
    if by not in GROUPINGS:
        raise AttributionError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
    if model not in credit.RULE_MODELS:
        raise AttributionError(f"unknown model {model!r}; known: {', '.join(credit.RULE_MODELS)}")
    kinds = parse_kinds(touches)
    windows = windows or Windows()
    con = con if con is not None else backend.connect()
    ev = backend.events_table(con, segments)
    conv = tables.conversions(ev)
    j = credit.journeys(conv, tables.touches(ev, kinds), windows)
    weighted = credit.weights(j, model, half_life_days)
    by_key = credit.credited(weighted, by).order_by([ibis_desc("orders"), "key"])
    frame = con.to_pyarrow(by_key)
    records = frame.to_pylist()
    rows = [
        {"key": r["key"], "orders": float(r["orders"]), "gmv": float(r["gmv"]), "net_gmv": float(r["net_gmv"])}
        for r in records
    ]
    # One pass over the journeys gives both the rows and the attributed count; the order count is a cheap scan.
    attributed = sum(int(r["journeys"]) for r in records)
    orders = int(con.to_pyarrow(conv.count()).as_py())
    return AttributionResult(
        model=model,
        by=by,
        rows=rows,
        total_orders=float(attributed),
        unattributed_orders=orders - attributed,
        orders=orders,
        params={"touches": sorted(kinds), "half_life_days": half_life_days},
    )


def ibis_desc(column: str) -> Any:
    import ibis

    return ibis.desc(column)
