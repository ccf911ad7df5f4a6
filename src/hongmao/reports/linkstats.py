"""One link's drill-down: its clicks per business day, by device class, and the visits and orders that came by it.

Ibis expressions over one view's events, as in :mod:`hongmao.reports.metrics`, plus the shaping of their rows.
A click's device class is the one the redirect saw (``ua_class``: app, browser, bot, preview, unknown); bots and
link-preview fetchers are counted apart and never as clicks. Conversions follow the click id chain only (a
marketplace visit or order carrying the id of one of this link's clicks): what the link itself carried, not the
credit a model gives the note it sits under.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ibis import _

from hongmao.engine import tables
from hongmao.engine.exact import exact_sum
from hongmao.measure.threshold import SUPPRESSED, suppress
from hongmao.reports.metrics import local_day

#: Device classes in the order a page lists them (the redirect's classes, :mod:`hongmao.links.useragents`).
DEVICE_CLASSES = ("app", "browser", "unknown", "preview", "bot")


def _clicks(act: Any, link_id: str) -> Any:
    return act.filter((act.type == "link.click") & (act.link_id == link_id))


def daily(act: Any, link_id: str, tz: ZoneInfo) -> Any:
    """(day, clicks, bot_clicks): the link's human clicks and its bot and preview fetches per business day."""
    c = _clicks(act, link_id)
    bot = c.bot.fill_null(False)
    return (
        c.mutate(day=local_day(c.time, tz), is_bot=bot)
        .group_by("day")
        .aggregate(clicks=(~_.is_bot).cast("int64").sum(), bot_clicks=_.is_bot.cast("int64").sum())
        .order_by("day")
    )


def devices(act: Any, link_id: str) -> Any:
    """(ua_class, clicks): every click of the link (bots included, under their own class) by device class."""
    c = _clicks(act, link_id)
    ua = c.data.cast("json")["ua_class"].str.fill_null("unknown")
    return c.mutate(ua_class=ua).group_by("ua_class").aggregate(clicks=_.count())


def conversions(ev: Any, act: Any, link_id: str) -> Any:
    """One row: visits and orders inside the window carrying the id of one of the link's human clicks (clicks
    from before the window count: ``ev`` holds the look-back), their buyers, GMV and net GMV."""
    c = _clicks(ev, link_id)
    ids = c.filter(~c.bot.fill_null(False) & c.click_id.notnull()).select("click_id").distinct()
    visits = act.filter((act.type == "market.visit") & act.click_id.isin(ids.click_id))
    carried = act.filter((act.type == "market.order") & act.click_id.isin(ids.click_id)).select("order_id").distinct()
    orders = tables.conversions(act)
    orders = orders.filter(orders.order_id.isin(carried.order_id))
    visit_row = visits.aggregate(visits=visits.count(), visitors=visits.user.nunique())
    order_row = orders.aggregate(
        orders=orders.count(),
        buyers=orders.user.nunique(),
        gmv=exact_sum(orders.amount),
        net_gmv=exact_sum(orders.net),
    )
    return visit_row.cross_join(order_row)


def shape(
    daily_rows: list[dict[str, Any]],
    device_rows: list[dict[str, Any]],
    conversion_row: dict[str, Any],
    span: tuple[date, date] | None,
) -> dict[str, Any]:
    """The drill-down as the API and the console give it: every day of ``span`` (or of the days with clicks),
    days without clicks as zeros; devices in :data:`DEVICE_CLASSES` order; conversions with their rates."""
    by_day = {r["day"]: r for r in daily_rows}
    if span is None and by_day:
        span = (min(by_day), max(by_day))
    days: list[dict[str, Any]] = []
    if span is not None:
        d = span[0]
        while d <= span[1]:
            r = by_day.get(d, {})
            days.append(
                {"day": d.isoformat(), "clicks": int(r.get("clicks") or 0), "bot_clicks": int(r.get("bot_clicks") or 0)}
            )
            d += timedelta(days=1)
    counted = {r["ua_class"]: int(r["clicks"]) for r in device_rows}
    order = {k: i for i, k in enumerate(DEVICE_CLASSES)}
    device_list = [
        {"ua_class": k, "clicks": n, "human": k not in ("bot", "preview")}
        for k, n in sorted(counted.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    ]
    clicks = sum(d["clicks"] for d in days)
    orders = int(conversion_row.get("orders") or 0)
    visits = int(conversion_row.get("visits") or 0)
    return {
        "days": days,
        "devices": device_list,
        "clicks": clicks,
        "bot_clicks": sum(d["bot_clicks"] for d in days),
        "visits": visits,
        "visitors": int(conversion_row.get("visitors") or 0),
        "orders": orders,
        "buyers": int(conversion_row.get("buyers") or 0),
        "gmv": float(conversion_row.get("gmv") or 0.0),
        "net_gmv": float(conversion_row.get("net_gmv") or 0.0),
        "visit_rate": visits / clicks if clicks else None,
        "order_rate": orders / clicks if clicks else None,
    }


#: The conversion figures that rest on the link's buyers (and visitors) and are withheld together under k.
BUYER_FIELDS = ("orders", "buyers", "gmv", "net_gmv", "order_rate")
VISITOR_FIELDS = ("visits", "visitors", "visit_rate")


def withhold(stats: dict[str, Any], k: int) -> dict[str, Any]:
    """A brand key's view: the conversion figures of fewer than ``k`` buyers (visitors) withheld, saying so.
    The clicks are withheld apart, by the people who made them (:mod:`hongmao.web.linkviews`)."""
    out = dict(stats)
    withheld: list[str] = []
    for people, fields in (("buyers", BUYER_FIELDS), ("visitors", VISITOR_FIELDS)):
        if suppress(stats[people], stats[people], k) is SUPPRESSED:
            for f in fields:
                out[f] = SUPPRESSED
            withheld.extend(fields)
    if withheld:
        out["suppressed"] = {"fields": withheld, "reason": f"fewer than {k} people", "k": k}
    return out
