"""AIPS stages per person as Ibis expressions over a brand's view (the stage rules: :mod:`hongmao.measure.aips`).

:func:`depths` gives one row per person with the deepest stage (1 = A ... 5 = S) their events between two
instants reach; counts, flows and audiences group or filter that table on the engine, so only a handful of
numbers (or, for an export the caller has allowed, one audience's pseudonyms) come back to Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import ibis
from ibis.expr.types import Table

from hongmao.engine import tables
from hongmao.engine.session import Session
from hongmao.measure import aips

Span = tuple[datetime, datetime]  # [first instant, instant after the last), UTC


def depths(ev: Table, span: Span, deep_read_seconds: float, exclude_users: Iterable[str] | Any | None = None) -> Any:
    """(user, depth): every person with any stage in ``span``, at the deepest one reached."""
    ev = tables.without_engagement(ev, exclude_users)
    lo, hi = span
    ev = ev.filter(ev.user.notnull() & (ev.time >= lo) & (ev.time < hi))
    deep_read = (ev.type == "note.read") & (ev.dwell_ms.fill_null(0) >= int(deep_read_seconds * 1000))
    depth = ibis.cases(
        (ev.type.isin(list(aips.ADVOCACY)), 5),
        (ev.type.isin(list(aips.PURCHASE)), 4),
        (deep_read | ev.type.isin(list(aips.DEEP_ACTIONS)), 3),
        (ev.type.isin(list(aips.INTEREST)), 2),
        (ev.type.isin(list(aips.EXPOSURE)), 1),
        else_=0,
    )
    per_event = ev.select(user=ev.user, depth=depth).filter(lambda t: t.depth > 0)
    return per_event.group_by("user").aggregate(depth=lambda t: t.depth.max())


def stage_people(session: Session, span: Span, deep_read_seconds: float, exclude_users: Any = None) -> dict[str, int]:
    """People *at* each stage in ``span`` (exact counts: the caller suppresses)."""
    d = depths(session.events, span, deep_read_seconds, exclude_users)
    rows = session.rows(d.group_by("depth").aggregate(people=lambda t: t.count()))
    return {aips.stage_of(int(r["depth"])): int(r["people"]) for r in rows}


def flows(
    session: Session, before: Span, after: Span, deep_read_seconds: float, exclude_users: Any = None
) -> list[tuple[str, str, int]]:
    """(stage in ``before``, stage in ``after``, people) for every pair that occurs; ``none`` = no contact."""
    ev = session.events
    a = depths(ev, before, deep_read_seconds, exclude_users).rename(user_a="user", depth_a="depth")
    b = depths(ev, after, deep_read_seconds, exclude_users).rename(user_b="user", depth_b="depth")
    joined = a.outer_join(b, a.user_a == b.user_b).select(
        depth_a=lambda t: t.depth_a.fill_null(0), depth_b=lambda t: t.depth_b.fill_null(0)
    )
    rows = session.rows(joined.group_by(["depth_a", "depth_b"]).aggregate(people=lambda t: t.count()))
    return [(aips.stage_of(int(r["depth_a"])), aips.stage_of(int(r["depth_b"])), int(r["people"])) for r in rows]


def audience(
    session: Session,
    span: Span,
    stage: str,
    deep_read_seconds: float,
    *,
    reached: bool = False,
    exclude_users: Any = None,
) -> list[str]:
    """The lake pseudonyms of the people at ``stage`` in ``span`` (``reached``: at it or deeper), sorted."""
    d = depths(session.events, span, deep_read_seconds, exclude_users)
    want = aips.depth(stage)
    chosen = d.filter(d.depth >= want) if reached else d.filter(d.depth == want)
    return sorted(str(r["user"]) for r in session.rows(chosen.select("user")))
