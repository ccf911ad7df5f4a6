"""Link clicks as rate metrics count them: people only, and one per visitor and link per hour of activity.

Bots and link-preview fetchers are flagged at click time and left out. The same visitor clicking the same link
again less than an hour after their previous click on it is the same intent, so it counts once: like an
analytics session with a one-hour inactivity timeout, a burst of clicks with under an hour between neighbours
counts once, and a click after an hour of quiet counts again. Computed here, by the engine, at query time (a
window function over the lake), not stored at fold time: the visitor of a click is often learned later, from
the marketplace visit or order that carries its click id, and the answer must not depend on fold order.
Clicks whose visitor stays unknown cannot be matched to each other and each count.

The lake keeps every click; attribution uses every human click (a repeat is still a touch), rate metrics
(CTR, CVR) use :func:`counted_clicks`.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis import _
from ibis.expr.types import Table

from hongmao.engine import tables

REPEAT_WINDOW_SECONDS = 3600


def counted_clicks(ev: Table, window_seconds: float = REPEAT_WINDOW_SECONDS) -> Any:
    """The human link clicks that count in rate metrics. Columns: id, click_id, link_id, visitor, t."""
    clicks = ev.filter((ev.type == "link.click") & ~ev.bot.fill_null(False))
    chain = tables.click_people(ev)
    joined = clicks.left_join(chain, clicks.click_id == chain.click_id)
    rows = joined.select(
        id=_.id, click_id=_.click_id, link_id=_.link_id, visitor=_.user.coalesce(_.chain_user), t=_.time
    )
    order = ibis.window(group_by=[rows.visitor, rows.link_id], order_by=[rows.t, rows.id])
    rows = rows.mutate(previous=rows.t.lag().over(order))
    gap = rows.t.epoch_seconds() - rows.previous.epoch_seconds()
    return rows.filter(rows.visitor.isnull() | rows.previous.isnull() | (gap >= window_seconds)).drop("previous")
