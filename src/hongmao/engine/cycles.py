"""Decision cycles and ROI(T+x) from the lake: the day-binned lags behind :mod:`hongmao.measure.cycles`.

Everything heavy is an Ibis expression; what comes back is one small histogram per category (a row per day of
lag), from which the pure functions of ``hongmao.measure.cycles`` compute the cycles. ROI(T+x) credits each
campaign's orders with a rule model whose window, for the campaign's category, is the cycle ``x``.

Seeding touches are, by default, reads, engagements and link clicks (someone opened the note): an impression
alone is a note scrolled past, and a community search names a brand without a note.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import ibis
from ibis.expr.types import Table

from hongmao.engine import credit, tables
from hongmao.engine.attribute import parse_kinds
from hongmao.engine.campaign import brand_categories, campaigns, lake_end
from hongmao.engine.exact import exact_sum
from hongmao.engine.session import Session
from hongmao.engine.windows import Windows
from hongmao.errors import AttributionError, InputError
from hongmao.measure.cycles import (
    DEFAULT_QUANTILE,
    METHODS,
    MIN_PURCHASES,
    CycleEstimate,
    cycle_from_excess,
    cycle_from_gaps,
    expected_profile,
    roi,
)

DAY = 86_400.0
SEEDING_KINDS = ("read", "engagement", "click")
LOOKBACK_DAYS = 90


@dataclass
class CycleReport:
    """Decision cycles of every category with orders, and the lake span they were measured over."""

    method: str
    quantile: float
    touches: list[str]
    lookback_days: int
    span_days: float
    estimates: list[CycleEstimate] = field(default_factory=list)

    def category_days(self) -> dict[str, float]:
        return {e.category: float(e.days) for e in self.estimates if e.days is not None}

    def to_dict(self, *, profile: bool = False) -> dict[str, Any]:
        return {
            "method": self.method,
            "quantile": self.quantile,
            "touches": self.touches,
            "lookback_days": self.lookback_days,
            "span_days": self.span_days,
            "cycles": [e.to_dict(profile=profile) for e in self.estimates],
        }


def _dense(rows: Iterable[dict[str, Any]], column: str, bins: int) -> list[float]:
    out = [0.0] * bins
    for row in rows:
        b = int(row["bin"])
        if 0 <= b < bins:
            out[b] += float(row[column] or 0.0)
    return out


def _span(session: Session, ev: Table) -> tuple[float, float] | None:
    # As float64: Ibis types epoch seconds as int32, which fails on the fraction of a sub-second time.
    span = ev.aggregate(
        s=ev.time.min().epoch_seconds().cast("float64"), e=ev.time.max().epoch_seconds().cast("float64")
    )
    row = session.arrow(span).to_pylist()[0]
    if row["s"] is None or row["e"] is None:
        return None
    return float(row["s"]), float(row["e"])


def lag_histograms(session: Session, ev: Table, kinds: frozenset[str], lookback_days: int) -> dict[str, dict[str, Any]]:
    """Per category: ``observed``, ``gaps`` (day bins), ``remaining`` counts and fractions, ``purchases``."""
    span = _span(session, ev)
    if span is None:
        return {}
    _, end = span
    horizon = lookback_days * DAY
    conv = tables.conversions(ev).filter(ibis._.category.notnull())
    touch = tables.touches(ev, kinds).filter(ibis._.brand.notnull())
    previous = ibis.window(group_by=[conv.user, conv.brand], order_by=[conv.t, conv.order_id])
    c = conv.mutate(ct=conv.t.epoch_seconds(), pt=conv.t.lag().over(previous).epoch_seconds())
    t = touch.mutate(tt=touch.t.epoch_seconds())
    j = c.join(
        t,
        [c.user == t.user, c.brand == t.brand, t.tt <= c.ct, t.tt > c.ct - horizon],
        lname="",
        rname="{name}_touch",
    )
    j = j.mutate(age=(j.ct - j.tt).cast("float64"))
    observed = j.group_by(["category", (j.age / DAY).floor().cast("int64").name("bin")]).aggregate(n=j.count())
    journey = j.filter(j.pt.isnull() | (j.tt > j.pt))
    first = journey.group_by(["order_id", "category"]).aggregate(gap=journey.age.max())
    gaps = first.group_by(["category", (first.gap / DAY).floor().cast("int64").name("bin")]).aggregate(n=first.count())
    k = conv.group_by(["user", "brand", "category"]).aggregate(k=conv.count())
    touched = k.semi_join(touch, [k.user == touch.user, k.brand == touch.brand])
    purchases = touched.group_by("category").aggregate(n=touched.k.sum())
    te = t.join(k, [t.user == k.user, t.brand == k.brand], lname="", rname="{name}_k")
    te = te.mutate(r=(ibis.literal(end) - te.tt.cast("float64")) / DAY)
    te = te.mutate(bin=te.r.floor().cast("int64"))
    remaining = te.group_by(["category", "bin"]).aggregate(
        cnt=te.k.sum().cast("float64"), frac=exact_sum(te.k * (te.r - te.bin))
    )

    bins = max(1, int(lookback_days))
    rem_bins = bins + 1
    out: dict[str, dict[str, Any]] = {}

    def entry(category: str) -> dict[str, Any]:
        return out.setdefault(category, {"obs": [], "gaps": [], "rem": [], "purchases": 0})

    for row in session.arrow(observed).to_pylist():
        entry(row["category"])["obs"].append(row)
    for row in session.arrow(gaps).to_pylist():
        entry(row["category"])["gaps"].append(row)
    for row in session.arrow(remaining).to_pylist():
        entry(row["category"])["rem"].append(row)
    for row in session.arrow(purchases).to_pylist():
        entry(row["category"])["purchases"] = int(row["n"] or 0)
    span_days = (span[1] - span[0]) / DAY
    result: dict[str, dict[str, Any]] = {}
    for category, parts in out.items():
        # remaining times beyond the lookback all count as "more than the last bin"
        counts = _dense(parts["rem"], "cnt", rem_bins)
        counts[-1] += sum(float(r["cnt"] or 0.0) for r in parts["rem"] if int(r["bin"]) >= rem_bins)
        fracs = _dense(parts["rem"], "frac", rem_bins)
        result[category] = {
            "observed": _dense(parts["obs"], "n", bins),
            "gaps": _dense(parts["gaps"], "n", bins),
            "expected": expected_profile(counts, fracs, span_days, bins) if span_days > 0 else [0.0] * bins,
            "purchases": parts["purchases"],
        }
    return result


def decision_cycles(
    session: Session,
    *,
    quantile: float = DEFAULT_QUANTILE,
    method: str = "excess-lag",
    touches: Iterable[str] | None = SEEDING_KINDS,
    lookback_days: int = LOOKBACK_DAYS,
    min_purchases: int = MIN_PURCHASES,
) -> CycleReport:
    """The decision cycle of every category with orders (see :mod:`hongmao.measure.cycles`)."""
    if method not in METHODS:
        raise InputError(f"unknown cycle method {method!r}; use {' or '.join(METHODS)}")
    if isinstance(lookback_days, bool) or not isinstance(lookback_days, int) or lookback_days < 1:
        raise InputError(f"the lookback must be a whole number of days >= 1, got {lookback_days!r}")
    kinds = parse_kinds(touches)
    ev = session.events
    span = _span(session, ev)
    span_days = (span[1] - span[0]) / DAY if span else 0.0
    report = CycleReport(method, quantile, sorted(kinds), lookback_days, span_days)
    for category, h in sorted(lag_histograms(session, ev, kinds, lookback_days).items()):
        if method == "first-exposure":
            estimate = cycle_from_gaps(
                category, h["gaps"], quantile=quantile, min_purchases=min_purchases, span_days=span_days
            )
        else:
            estimate = cycle_from_excess(
                category,
                h["observed"],
                h["expected"],
                h["purchases"],
                quantile=quantile,
                min_purchases=min_purchases,
                span_days=span_days,
            )
        report.estimates.append(estimate)
    return report


def cycle_windows(report: CycleReport, base: Windows | None = None) -> Windows:
    """Attribution windows where each category with an estimated cycle looks back that many days."""
    return Windows.with_category_days(report.category_days(), base)


# ---- ROI(T+x) ------------------------------------------------------------------------------------------


def _credit(
    session: Session, ev: Table, info: Any, category: str | None, days: float, model: str, half_life: float, kinds: Any
) -> dict[str, float]:
    """Orders, GMV and net GMV credited to the campaign's notes and links, orders up to ``days`` after its end."""
    windows = (
        Windows.with_category_days({category: days})
        if category
        else Windows(days={k: (v if k == "impression" else days) for k, v in Windows().days.items()})
    )
    conv = tables.conversions(ev)
    conv = conv.filter(
        (conv.brand == info.brand) & (conv.t >= info.start) & (conv.t <= info.end + timedelta(days=days))
    )
    j = credit.journeys(conv, tables.touches(ev, kinds), windows)
    w = credit.weights(j, model, credit.rule_params(model, half_life))
    mine = w.campaign_id == info.campaign_id
    if info.notes:
        mine = mine | w.note_id.isin(list(info.notes))
    w = w.filter(mine)
    row = session.arrow(
        w.aggregate(orders=exact_sum(w.weight), gmv=exact_sum(w.weight * w.amount), net=exact_sum(w.weight * w.net))
    ).to_pylist()[0]
    return {k: float(row[k] or 0.0) for k in ("orders", "gmv", "net")}


def roi_at_cycles(
    session: Session,
    cycles: CycleReport,
    *,
    model: str = "linear",
    half_life_days: float = 7.0,
    touches: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """ROI(T+x) of every campaign: attributed net GMV / spend, x = its category's cycle (else the default).

    Orders count from the campaign's start until x days after its end, each credited by ``model`` to touches
    inside a window of x days (impressions keep theirs); the campaign's credit is what lands on its notes (the
    ones it lists, and notes or links carrying its id). For comparison, ``roi_default`` uses the default
    window for both.
    """
    if model not in credit.RULE_MODELS:
        raise AttributionError(f"ROI(T+x) uses a rule model ({', '.join(credit.RULE_MODELS)}), not {model!r}")
    kinds = parse_kinds(touches)
    ev = session.events
    infos = campaigns(session, ev)
    if not infos:
        return []
    category_of = brand_categories(session, ev)
    estimated = cycles.category_days()
    default_days = Windows().days["read"]
    end_of_lake = lake_end(session, ev)
    rows = []
    for cid, info in sorted(infos.items()):
        category = category_of.get(info.brand)
        x = estimated.get(category) if category else None
        days = float(x) if x is not None else default_days
        at_x = _credit(session, ev, info, category, days, model, half_life_days, kinds)
        at_default = _credit(session, ev, info, category, default_days, model, half_life_days, kinds)
        rows.append(
            {
                "campaign_id": cid,
                "brand": info.brand,
                "category": category,
                "spend": info.spend,
                "x_days": days,
                "x_from": "cycle" if x is not None else "default window",
                "complete": end_of_lake is not None and end_of_lake >= info.end + timedelta(days=days),
                "orders": at_x["orders"],
                "gmv": at_x["gmv"],
                "net_gmv": at_x["net"],
                "roi": roi(at_x["net"], info.spend),
                "default_days": default_days,
                "roi_default": roi(at_default["net"], info.spend),
                "model": model,
            }
        )
    return rows
