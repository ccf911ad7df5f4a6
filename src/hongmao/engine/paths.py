"""Aggregated journey paths from the lake, one set per brand, for the data-driven models (Markov, Shapley).

A converting path is an order's in-window touches, as keys of the chosen grouping (note, creator, ...) in
time order. A non-converting (null) path is a person's touches about a brand they did not buy in the period.
Consecutive repeats of one key collapse to one step (reading a note and then liking it is one visit to that
state, not a self-loop). Paths are aggregated in the engine; only distinct paths come back.

Paths are kept **per brand**: an order of brand A is a journey among A's touches only, and a null path is one
person's touches of one brand, so each brand gets its own chain (or game) and adding brand B's data to the
lake never changes brand A's credits.

Null paths, by default (``null_window="all"``), hold every touch of the brand the person had, while a
converting path holds only the touches inside the windows before its order. ``null_window="windowed"``
applies the same windows to null paths, counted back from the person's last touch of the brand (as if the
person had bought then). See docs/attribution.md for the measured effect of each and why the default stays.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import ibis
from ibis.expr.types import Table

from hongmao.attribution import PathRow
from hongmao.engine import owners
from hongmao.engine.credit import credit_key, window_seconds
from hongmao.engine.exact import exact_sum
from hongmao.engine.session import Session
from hongmao.engine.windows import Windows
from hongmao.errors import AttributionError

SEP = "\x1f"  # cannot appear in a key from the contract's ids, unlike " > "
NULL_WINDOWS = ("all", "windowed")


@dataclass
class BrandPaths:
    """One brand's distinct paths: valued by GMV and by net GMV (same steps, conversions and nulls)."""

    by_gmv: list[PathRow] = field(default_factory=list)
    by_net: list[PathRow] = field(default_factory=list)

    @property
    def conversions(self) -> float:
        return sum(p.conversions for p in self.by_gmv)


def _collapse(steps: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for step in steps:
        if not out or out[-1] != step:
            out.append(step)
    return tuple(out)


def _idle_touches(touch: Table, conv: Table, null_window: str, windows: Windows | None, items: Any) -> Any:
    """Touches of people about brands they did not buy, optionally cut to the windows before their last touch."""
    buyers = conv.select("user", "brand").distinct()
    idle = touch.anti_join(buyers, [touch.user == buyers.user, touch.brand == buyers.brand])
    # Unbought touches have no ordered item: grouped by item they share one '(unknown item)' state.
    idle = idle.mutate(item_id=ibis.null("string"))
    if null_window == "all":
        return idle
    windows = windows or Windows()
    idle = idle.mutate(tt=idle.t.epoch_seconds())
    idle = idle.mutate(last_tt=idle.tt.max().over(ibis.window(group_by=[idle.user, idle.brand])))
    category = ibis.null("string")
    if items is not None and windows.by_category:
        cats = owners.most_common(items.rename(brand="item_brand"), "brand", "item_category", "brand_category")
        idle = idle.left_join(cats, idle.brand == cats.brand).drop("brand_right")
        category = idle.brand_category
    age = (idle.last_tt - idle.tt).cast("float64")
    return idle.filter(age <= window_seconds(idle.kind, category, windows))


def brand_journey_paths(
    session: Session,
    journeys: Table,
    touch: Table,
    conv: Table,
    by: str,
    *,
    null_window: str = "all",
    windows: Windows | None = None,
    items: Any = None,
) -> dict[str, BrandPaths]:
    """Per brand (sorted by name), its distinct paths with conversions, nulls and value.

    ``items`` (the ``tables.items`` relation) gives a brand's category for category windows of null paths.
    """
    if null_window not in NULL_WINDOWS:
        raise AttributionError(f"unknown null-path window {null_window!r}; use {' or '.join(NULL_WINDOWS)}")
    keyed = journeys.mutate(key=credit_key(journeys, by))
    per_order = keyed.group_by(["order_id", "brand"]).aggregate(
        path=keyed.key.collect(order_by=[keyed.tt, keyed.touch_id]).join(SEP),
        amount=keyed.amount.max(),
        net=keyed.net.max(),
    )
    converting = per_order.group_by(["brand", "path"]).aggregate(
        conversions=per_order.count(), value=exact_sum(per_order.amount), net=exact_sum(per_order.net)
    )
    idle = _idle_touches(touch, conv, null_window, windows, items)
    idle = idle.mutate(key=credit_key(idle, by))
    per_person = idle.group_by(["user", "brand"]).aggregate(
        path=idle.key.collect(order_by=[idle.t, idle.touch_id]).join(SEP)
    )
    nulls = per_person.group_by(["brand", "path"]).aggregate(nulls=per_person.count())

    # Rows in a fixed order: paths that collapse to the same steps are summed, and the chain's states are
    # numbered, in the order rows arrive; DuckDB's parallel group-by would otherwise vary it run to run.
    acc: dict[str, dict[tuple[str, ...], list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0.0, 0.0]))
    for row in session.arrow(converting.order_by(["brand", "path"])).to_pylist():
        entry = acc[row["brand"]][_collapse(row["path"].split(SEP))]
        entry[0] += row["conversions"]
        entry[1] += row["value"]
        entry[2] += row["net"]
    for row in session.arrow(nulls.order_by(["brand", "path"])).to_pylist():
        if row["brand"] is None:  # a touch whose note names no brand: no brand's chain holds it
            continue
        acc[row["brand"]][_collapse(row["path"].split(SEP))][3] += row["nulls"]
    out: dict[str, BrandPaths] = {}
    for brand in sorted(acc):
        paths = acc[brand]
        out[brand] = BrandPaths(
            by_gmv=[PathRow(steps, c, v, n) for steps, (c, v, _net, n) in paths.items() if steps],
            by_net=[PathRow(steps, c, net, n) for steps, (c, _v, net, n) in paths.items() if steps],
        )
    return out


def journey_paths(
    session: Session, journeys: Table, touch: Table, conv: Table, by: str
) -> tuple[list[PathRow], list[PathRow]]:
    """Every brand's paths pooled into one list (valued by GMV, and by net GMV): one chain for all brands.

    Kept for comparison (docs/accuracy.md); ``hongmao attribute`` uses :func:`brand_journey_paths`.
    """
    pooled = brand_journey_paths(session, journeys, touch, conv, by)
    merged: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for paths in pooled.values():
        for gmv, net in zip(paths.by_gmv, paths.by_net, strict=True):
            entry = merged[gmv.steps]
            entry[0] += gmv.conversions
            entry[1] += gmv.value
            entry[2] += net.value
            entry[3] += gmv.nulls
    return (
        [PathRow(steps, c, v, n) for steps, (c, v, _net, n) in merged.items()],
        [PathRow(steps, c, net, n) for steps, (c, _v, net, n) in merged.items()],
    )
