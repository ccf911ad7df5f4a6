"""Aggregated journey paths from the lake, for the data-driven models (Markov, Shapley).

A converting path is an order's in-window touches, as keys of the chosen grouping (note, creator, ...) in
time order. A non-converting path is the touches of a person about a brand they did not buy in the period.
Consecutive repeats of one key collapse to one step (reading a note and then liking it is one visit to that
state, not a self-loop). Paths are aggregated in the engine; only distinct paths come back.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import ibis

from hongmao.attribution import PathRow
from hongmao.engine.credit import credit_key

SEP = "\x1f"  # cannot appear in a key from the contract's ids, unlike " > "


def _collapse(steps: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for step in steps:
        if not out or out[-1] != step:
            out.append(step)
    return tuple(out)


def journey_paths(con: Any, journeys: Any, touch: Any, conv: Any, by: str) -> tuple[list[PathRow], list[PathRow]]:
    """Distinct paths with conversions, nulls and value: one list valued by GMV, one by net GMV."""
    keyed = journeys.mutate(key=credit_key(journeys, by))
    per_order = keyed.group_by("order_id").aggregate(
        path=keyed.key.collect(order_by=[keyed.tt, keyed.touch_id]).join(SEP),
        amount=keyed.amount.max(),
        net=keyed.net.max(),
    )
    converting = per_order.group_by("path").aggregate(
        conversions=per_order.count(), value=per_order.amount.sum(), net=per_order.net.sum()
    )
    buyers = conv.select("user", "brand").distinct()
    idle = touch.anti_join(buyers, [touch.user == buyers.user, touch.brand == buyers.brand])
    # Unbought touches have no ordered item: grouped by item they share one '(unknown item)' state.
    idle = idle.mutate(item_id=ibis.null("string"))
    idle = idle.mutate(key=credit_key(idle, by))
    per_person = idle.group_by(["user", "brand"]).aggregate(
        path=idle.key.collect(order_by=[idle.t, idle.touch_id]).join(SEP)
    )
    nulls = per_person.group_by("path").aggregate(nulls=per_person.count())

    acc: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for row in con.to_pyarrow(converting).to_pylist():
        entry = acc[_collapse(row["path"].split(SEP))]
        entry[0] += row["conversions"]
        entry[1] += row["value"]
        entry[2] += row["net"]
    for row in con.to_pyarrow(nulls).to_pylist():
        acc[_collapse(row["path"].split(SEP))][3] += row["nulls"]
    by_gmv = [PathRow(steps, c, v, n) for steps, (c, v, _net, n) in acc.items() if steps]
    by_net = [PathRow(steps, c, net, n) for steps, (c, _v, net, n) in acc.items() if steps]
    return by_gmv, by_net
