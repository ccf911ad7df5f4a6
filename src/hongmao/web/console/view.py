"""What a console page is rendered with: the viewer, the template environment, formats and table columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hongmao.engine.attribute import MODELS
from hongmao.links.markets import GENERIC
from hongmao.links.markets import MARKETS as LINK_MARKETS
from hongmao.reports import period
from hongmao.reports.period import WHOLE_LAKE, Window
from hongmao.reports.scope import Scope
from hongmao.reports.service import Freshness
from hongmao.web import i18n
from hongmao.web.auth import Principal
from hongmao.web.console import pages

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
TEMPLATES.env.globals["console_pages"] = pages.PAGES  # the menu (templates/console/base.html)
MARKETS: tuple[str, ...] = (*LINK_MARKETS, GENERIC)

#: What a creator or a note cost and brought (蒲公英's view, Reports.economics): the same columns for both.
ECONOMICS: list[tuple[str, str]] = [
    ("fee", "col.fee"),
    ("impressions", "col.impressions"),
    ("cpm", "col.cpm"),
    ("engagements", "col.engagements"),
    ("cpe", "col.cpe"),
    ("orders", "col.orders"),
    ("cost_per_order", "col.cost_per_order"),
    ("net_gmv", "col.net_gmv"),
    ("attributed_roi", "col.fee_attributed_roi"),
    ("incremental_roi", "col.fee_incremental_roi"),
]
#: Table columns per kind: (field, message key). The first is the row's name.
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "notes": [
        ("note_id", "col.note"),
        ("title", "col.title"),
        ("creator_id", "col.creator"),
        ("disclosed", "col.disclosed"),
        ("impressions", "col.impressions"),
        ("reads", "col.reads"),
        ("engagements", "col.engagements"),
        ("clicks", "col.clicks"),
        ("ctr", "col.ctr"),
        ("orders", "col.orders"),
        ("gmv", "col.gmv"),
        ("net_gmv", "col.net_gmv"),
    ],
    # 蒲公英's view: what each creator cost and what it brought (Reports.economics)
    "creators": [
        ("creator_id", "col.creator"),
        ("tier", "col.tier"),
        ("notes", "col.notes"),
        ("disclosed_notes", "col.disclosed"),
        *ECONOMICS,
    ],
    "campaigns": [
        ("campaign_id", "col.campaign"),
        ("name", "col.title"),
        ("start", "col.period"),
        ("spend", "col.spend"),
        ("orders", "col.orders"),
        ("gmv", "col.gmv"),
        ("net_gmv", "col.net_gmv"),
        ("attributed_roi", "col.attributed_roi"),
    ],
    "note_economics": [
        ("note_id", "col.note"),
        ("title", "col.title"),
        ("creator_id", "col.creator"),
        *ECONOMICS,
    ],
}
#: With a comparison, each table shows the previous period's net GMV and the change beside this period's.
COMPARED: list[tuple[str, str]] = [("net_gmv_previous", "col.net_gmv_previous"), ("net_gmv_change", "col.change")]
#: A model with intervals (the data-driven one) adds each note's 90% interval of its orders after them.
INTERVALS: list[tuple[str, str]] = [("orders_low", "col.orders_low"), ("orders_high", "col.orders_high")]
SORTABLE = {kind: {c for c, _ in cols} | {c for c, _ in COMPARED} for kind, cols in COLUMNS.items()}
SORTABLE["notes"] |= {c for c, _ in INTERVALS}
#: The range picker's presets, in its order.
RANGES = ("all", "yesterday", "7d", "30d", "custom")
MONEY = {
    "gmv",
    "net_gmv",
    "spend",
    "amount",
    "refunded",
    "attributed_gmv",
    "attributed_net_gmv",
    "price",
    "fee",
    "cpm",
    "cpe",
    "cost_per_order",
    "net_gmv_previous",
}
RATIOS = {"ctr", "read_rate", "engagement_rate", "store_visit_rate", "search_back_rate", "new_customer_share"}
DECIMALS = {"orders", "orders_low", "orders_high", "roi", "attributed_roi", "incremental_roi"}


def money(value: Any) -> str:
    """¥1,234.50; a negative amount (an incremental GMV) as −¥1,234.50, the sign before the currency."""
    if value is None:
        return "—"
    return f"{'−' if value < 0 else ''}¥{abs(value):,.2f}"


def number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    return f"{value:,.0f}" if isinstance(value, float) else f"{value:,}"


def percent(value: Any) -> str:
    return "—" if value is None else f"{value:.1%}"


def change(now: Any, before: Any) -> float | None:
    """The relative change from ``before`` to ``now`` (None when either is missing or ``before`` is zero)."""
    if now is None or before is None or not before:
        return None
    return float((now - before) / abs(before))


def signed(value: float | None) -> str:
    """A change as +12.3% / −4.0%."""
    if value is None:
        return "—"
    return f"{'−' if value < 0 else '+'}{abs(value):.1%}"


def cell(column: str, value: Any, t: Callable[..., str]) -> str:
    """A table cell's text, by what the column holds."""
    if column in MONEY:
        return money(value)
    if column in RATIOS:
        return percent(value)
    if column == "net_gmv_change":
        return signed(value)
    if column in DECIMALS:
        return number(value, 2)
    if column == "disclosed":
        return t("yes") if value else t("no")
    if column == "start" and isinstance(value, str):
        return value[:10]
    if isinstance(value, int | float):
        return number(value)
    return "" if value is None else str(value)


def sort_rows(rows: Sequence[dict[str, Any]], column: str, direction: str) -> list[dict[str, Any]]:
    present = [r for r in rows if r.get(column) is not None]
    missing = [r for r in rows if r.get(column) is None]
    ordered = sorted(present, key=lambda r: r[column], reverse=direction != "asc")
    return ordered + missing


@dataclass
class View:
    """The viewer of a page and their settings."""

    request: Request
    principal: Principal | None
    scope: Scope
    lang: str
    model: str
    csrf: str = ""
    brands: list[str] = field(default_factory=list)
    #: The date range and filters of the page (the range picker), the lake's newest day, and what the
    #: picker offers (campaigns, tiers, items, categories).
    window: Window = WHOLE_LAKE
    newest: date | None = None
    choices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tz: str = "Asia/Shanghai"

    @property
    def previous(self) -> Window | None:
        """The window compared with, when the viewer asked for a comparison."""
        return period.previous(self.window)

    @property
    def range_choice(self) -> str:
        p = self.window.period
        return "all" if p is None else (p.preset or "custom")

    @classmethod
    def anonymous(cls, request: Request, lang: str) -> View:
        return cls(request, None, Scope(None), lang, "linear")

    @property
    def user(self) -> Principal:
        """The signed-in principal (every page but sign-in has one)."""
        if self.principal is None:
            raise RuntimeError("this page needs a signed-in viewer")
        return self.principal

    @property
    def t(self) -> Callable[..., str]:
        return i18n.translate(self.lang)

    def url(self, path: str | None = None, **params: Any) -> str:
        """This page (or ``path``) with query parameters changed; None drops one."""
        query = dict(self.request.query_params)
        for key in ("lang", "model", "brand", "created", "revoked", "error", *period.PARAMS):
            query.pop(key, None)  # remembered in cookies, or one-off notices
        for key, value in params.items():
            if value is None:
                query.pop(key, None)
            else:
                query[key] = str(value)
        base = path if path is not None else self.request.url.path
        return base + (f"?{urlencode(query)}" if query else "")


#: How often a page showing earlier figures (or "computing") reloads itself (:mod:`hongmao.web.console.fresh`).
RELOAD_SECONDS = 5


def notice(f: Freshness | None, tz: Any) -> dict[str, str] | None:
    """What the page's "updating" notice says: the (oldest) earlier lake version shown and when it was new."""
    if f is None or not f.stale:
        return None
    version, seen = min(f.stale.items(), key=lambda kv: (kv[1], kv[0]))
    return {"version": version[:12], "as_of": datetime.fromtimestamp(seen, tz).strftime("%Y-%m-%d %H:%M:%S")}


def render(v: View, template: str, **context: Any) -> HTMLResponse:
    from hongmao.reports.service import freshness

    stale = notice(freshness(), v.request.app.state.web.reports.tz)
    response: HTMLResponse = TEMPLATES.TemplateResponse(
        v.request,
        f"console/{template}",
        {
            "v": v,
            "t": v.t,
            "models": MODELS,
            "money": money,
            "number": number,
            "percent": percent,
            "signed": signed,
            "change": change,
            "cell": cell,
            "ranges": RANGES,
            "touch_kinds": period.TOUCH_KINDS,
            "window_params": period.PARAMS,
            "stale": stale,
            "reload": RELOAD_SECONDS,
            **context,
        },
    )
    if stale is not None:
        response.headers["cache-control"] = "no-store"
    return response
