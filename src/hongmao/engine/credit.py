"""Journeys and rule-based credit as portable expressions.

A journey is an order with every touch of the same person, about the same brand, inside the window of the
touch's kind and the order's category. Each model is a per-touch weight computed with window functions over
the order's touches, ordered by (time, touch id) so input order never matters; weights of one order sum to
one. The heavy rows stay in the engine; only per-key sums come back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis import _
from ibis.expr.types import Table

from hongmao.attribution import rules
from hongmao.engine.exact import exact_sum
from hongmao.engine.windows import TOUCH_KINDS, Windows
from hongmao.errors import AttributionError

RULE_MODELS = tuple(rules.RULES)
SECONDS_PER_DAY = 86_400.0


def window_seconds(kind: Any, category: Any, windows: Windows) -> Any:
    """Per-row window in seconds from the touch kind and the category (Ibis expressions for both)."""
    branches = []
    for cat, over in windows.by_category.items():
        for touch_kind in TOUCH_KINDS:
            days = windows.for_category(cat)[touch_kind]
            if touch_kind in over:
                branches.append(((category == cat) & (kind == touch_kind), days * SECONDS_PER_DAY))
    for touch_kind in TOUCH_KINDS:
        branches.append((kind == touch_kind, windows.days[touch_kind] * SECONDS_PER_DAY))
    return ibis.cases(*branches, else_=0.0)


def journeys(conv: Table, touch: Table, windows: Windows) -> Any:
    """(order, touch) pairs inside the window, with the touch's age in seconds."""
    horizon = windows.max_days * SECONDS_PER_DAY
    # Seconds as float64: DuckDB's epoch keeps the fraction while Ibis types it int32, so a journeys table
    # fetched to Arrow (the model comparison's shared one) failed on a click at 12:00:00.231.
    c = conv.mutate(ct=conv.t.epoch_seconds().cast("float64"))
    t = touch.mutate(tt=touch.t.epoch_seconds().cast("float64"))
    j = c.join(
        t,
        [c.user == t.user, c.brand == t.brand, t.tt <= c.ct, t.tt >= c.ct - horizon],
        lname="",
        rname="{name}_touch",
    )
    j = j.mutate(age=(j.ct - j.tt).cast("float64"))
    return j.filter(j.age <= window_seconds(j.kind, j.category, windows))


#: Rules that give the whole order to one end of its journey (``first_rule`` and ``last_rule``: weight 1 at rank
#: 0 or n - 1), and whether that end is the newest touch. The engine keeps that touch by a grouped arg-max on
#: (time, touch id): one hash aggregate instead of ranking every journey row in a sorted window.
ENDS = {"first": False, "last": True}


def _end(j: Table, newest: bool) -> Any:
    key = ibis.struct({"tt": j.tt, "touch_id": j.touch_id})
    pick = j.touch_id.argmax(key) if newest else j.touch_id.argmin(key)
    ends = j.group_by(end_order=j.order_id).aggregate(end_touch=pick)
    kept = j.semi_join(ends, [j.order_id == ends.end_order, j.touch_id == ends.end_touch])
    return kept.mutate(weight=ibis.literal(1.0))


def weights(j: Table, model: str, params: Mapping[str, float]) -> Any:
    """Each journey row's weight under a rule model: the formula of :data:`hongmao.attribution.rules.RULES`,
    evaluated on the order's touches ranked by (time, touch id); ``params`` are the model's parameters
    (``MODEL_SPECS`` defaults overridden by the caller's; ``half_life`` in days)."""
    if model not in RULE_MODELS:
        raise AttributionError(f"unknown model {model!r}; rule models: {', '.join(RULE_MODELS)}")
    rules.check_params(model, params)
    if model in ENDS:
        return _end(j, newest=ENDS[model])
    whole = ibis.window(group_by=j.order_id)
    needs = rules.RULE_INPUTS[model]
    if "r" in needs:
        j = j.mutate(r=ibis.row_number().over(ibis.window(group_by=j.order_id, order_by=[j.tt, j.touch_id])))
    if "n" in needs:
        # A grouped count of rows joined back: a hash aggregate where a window count partitions every journey
        # row, and counting rows rather than touch ids lets the scan of the touches skip their id column.
        counts = j.group_by(n_order=j.order_id).aggregate(n=j.count().cast("float64"))
        j = j.join(counts, j.order_id == counts.n_order).drop("n_order")
    r = j.r if "r" in needs else None
    n = j.n if "n" in needs else None
    raw = rules.RULES[model](r, n, j.age / SECONDS_PER_DAY, params, ibis.ifelse)
    if model not in rules.NORMALISED:
        return j.mutate(weight=ibis.literal(1.0) * raw)
    j = j.mutate(raw=raw)
    return j.mutate(weight=j.raw / exact_sum(j.raw, over=whole))


def rule_params(model: str, half_life_days: float | None = None, **given: float) -> dict[str, float]:
    """The parameters of rule ``model``: its defaults from ``MODEL_SPECS``, then ``given`` (and the engine's
    ``half_life_days`` as the model's ``half_life``)."""
    from hongmao.attribution.registry import MODEL_SPECS

    params = {k: float(v) for k, v in MODEL_SPECS[model].params.items() if isinstance(v, int | float)}
    if half_life_days is not None and "half_life" in params:
        params["half_life"] = float(half_life_days)
    params.update({k: float(v) for k, v in given.items() if k in params})
    return params


def credit_key(j: Table, by: str) -> Any:
    from hongmao.engine.tables import NO_NOTE

    if by == "note":
        return j.note_id.fill_null(NO_NOTE)
    if by == "creator":
        return j.creator_id.fill_null(NO_NOTE)
    if by == "campaign":
        return j.campaign_id.fill_null("(no campaign)")
    if by == "brand":
        return j.brand.fill_null("(unknown brand)")
    if by == "item":
        return j.item_id.fill_null("(unknown item)")
    raise AttributionError(f"unknown grouping {by!r}; use note, creator, brand, campaign or item")


def credited(weighted: Table, by: str) -> Any:
    keyed = weighted.mutate(key=credit_key(weighted, by))
    return keyed.group_by("key").aggregate(
        orders=exact_sum(_.weight),
        gmv=exact_sum(_.weight * _.amount),
        net_gmv=exact_sum(_.weight * _.net),
    )
