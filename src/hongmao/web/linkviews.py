"""Links as a tenant sees them: the catalog's link records filtered to the scope, with clicks and status.

A thin layer over :mod:`hongmao.links` (create, revoke and the ``links`` catalog table): the links package
knows nothing of tenants, so ownership is decided here from the scope's notes and items.

Under the differential-privacy budget (:mod:`hongmao.web.dp`; a brand key's ``noise``), a link's clicks are
released with OpenDP's noise and charged to the brand's budget as the reports are: the listing's clicks per link
in one release, and the drill-down's clicks and bot fetches per day and per device class in another (each
person's clicks clamped to :data:`hongmao.cleanroom.budget.EVENTS_BOUND` per figure across the rows; the totals follow).
The drill-down's conversions (visits, orders, GMV, their people) are withheld under the budget, saying why
(:data:`CONVERSIONS_WITHHELD`); without it a brand key's conversions of fewer than k people are withheld.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hongmao.errors import LinkError
from hongmao.lake import catalog
from hongmao.links import create_link, registry, revoke_link
from hongmao.links.manage import link_url, share_url
from hongmao.links.registry import LinkRecord
from hongmao.measure.threshold import SUPPRESSED
from hongmao.reports import linkstats, privacy
from hongmao.reports.period import WHOLE_LAKE, Window
from hongmao.reports.scope import Scope
from hongmao.web.dp import Noise, event_sums, noisy_counts
from hongmao.web.state import WebState

#: Why a link's conversions are withheld under the differential-privacy budget.
CONVERSIONS_WITHHELD = (
    "under the differential-privacy budget a link's visits and orders are not released to a brand key: they follow "
    "one link's click ids to a few people's purchases, a chain this release does not bound per person; the noisy "
    "attributed credit of the link's note is at /reports/attribution (差分隐私预算下不提供单个链接的转化)"
)


class NotYours(LinkError):
    """The link, note or item is not in the caller's scope (answered 404)."""


@dataclass(frozen=True)
class LinkView:
    record: LinkRecord
    url: str
    share_url: str
    clicks: int | None  # None: withheld from a brand key (fewer than k people clicked)

    @property
    def status(self) -> str:
        if self.record.revoked_at is not None:
            return "revoked"
        if self.record.expires is not None and self.record.expires <= datetime.now(UTC):
            return "expired"
        return "active"

    def to_dict(self) -> dict[str, Any]:
        out = self.record.to_dict()
        out.update(url=self.url, share_url=self.share_url, clicks=self.clicks, status=self.status)
        return out


def _owns(state: WebState, scope: Scope, record: LinkRecord) -> bool:
    if scope.brand is None:
        return True
    owned = state.reports.ownership(scope)
    return record.note_id in owned.notes or record.item_id in owned.items


def _view(state: WebState, record: LinkRecord, clicks: dict[str, int | None]) -> LinkView:
    return LinkView(
        record,
        link_url(record.token, state.public_url),
        share_url(record.share_code, state.public_url),
        clicks.get(record.link_id, 0),
    )


def list_links(
    state: WebState, scope: Scope, *, note_id: str | None = None, limit: int = 500, noise: Noise | None = None
) -> list[LinkView]:
    """The scope's links, newest first; under the budget (``noise`` on) their clicks noisy, in one release."""
    table = catalog.links
    query = sa.select(table).order_by(table.c.created_at.desc()).limit(limit)
    if scope.brand is not None:
        owned = state.reports.ownership(scope)
        query = query.where(table.c.note_id.in_(sorted(owned.notes)) | table.c.item_id.in_(sorted(owned.items)))
    if note_id is not None:
        query = query.where(table.c.note_id == note_id)
    with state.lake.connect("listing links") as conn:
        records = [registry.get(conn, row.link_id) for row in conn.execute(query)]
    found = [r for r in records if r is not None]
    clicks = _clicks(state, scope, [r.link_id for r in found], noise)
    return [_view(state, r, clicks) for r in found]


def _clicks(state: WebState, scope: Scope, link_ids: list[str], noise: Noise | None) -> dict[str, int | None]:
    """The human clicks of each link; under the budget (``noise`` on) released with noise, in one release. A
    brand key's (``noise`` given, not an operator's) clicks of fewer than k people are withheld (None) as
    :func:`hongmao.reports.privacy.activity` withholds a key's counts, over every link of the scope."""
    clicks: dict[str, int | None]
    if noise is None or noise.budget is None:
        clicks = dict(state.reports.link_clicks(scope))
    elif not link_ids:
        return {}
    else:
        noise({}, (), WHOLE_LAKE, event_sums(noise, WHOLE_LAKE, "link", link_ids, ("clicks",), prefix="links"))
        clicks = {i: noisy_counts(noise, i, ("clicks",), "links")["clicks"] for i in link_ids}
    if noise is None or noise.who.operator or scope.brand is None:
        return clicks
    gone = _few_clicked_links(state, scope, privacy.threshold(state.reports.privacy_k))
    return {i: None if i in gone else n for i, n in clicks.items()}


def _few_clicked_links(state: WebState, scope: Scope, k: int) -> frozenset[str]:
    """The links whose whole-lake clicks a brand key does not see: :func:`hongmao.reports.privacy.pool` over the
    people behind each link's clicks (the listing's and a drill-down's own count alike)."""
    return privacy.pool(state.reports.actors(scope, "link").get("clicks", {}), k)[0]


def get_link(state: WebState, scope: Scope, link_id: str, noise: Noise | None = None) -> LinkView:
    """One of the scope's links (:class:`NotYours` otherwise); under the budget its clicks noisy."""
    with state.lake.connect("reading a link") as conn:
        record = registry.get(conn, link_id)
    if record is None or not _owns(state, scope, record):
        raise NotYours(f"no link {link_id!r}")
    return _view(state, record, _clicks(state, scope, [link_id], noise))


def stats(
    state: WebState, scope: Scope, link_id: str, window: Window, *, operator: bool, noise: Noise | None = None
) -> dict[str, Any]:
    """The link with its drill-down over ``window``; a brand key's conversions under k withheld (404 unless the
    link is the scope's), and under the budget (``noise`` on) its clicks noisy and its conversions withheld."""
    link = get_link(state, scope, link_id)
    figures = state.reports.link_stats(scope, link_id, window=window)
    if not operator:
        figures = linkstats.withhold(figures, privacy.threshold(state.reports.privacy_k))
    if operator or noise is None or noise.budget is None:
        shown = {"link": link.to_dict(), "window": window.describe(), **figures}
    else:
        # The link's own click count (the whole lake's) is the listing's release, not this one: not repeated here.
        shown = {
            "link": {**link.to_dict(), "clicks": None},
            "window": window.describe(),
            **_noisy(noise, figures, window, link_id),
        }
    return shown if operator else _few_clickers(state, scope, link_id, window, shown)


def _few_clickers(state: WebState, scope: Scope, link_id: str, window: Window, shown: dict[str, Any]) -> dict[str, Any]:
    """A brand key's drill-down with the clicks and fetches of a day or device class that fewer than k people
    made withheld (None), as :func:`hongmao.reports.privacy.activity` withholds them (the smallest day or class
    at or above k with them), and the totals when the range's are under k; ``suppressed["activity"]`` names
    what went. A bot's fetch is one event, one person."""
    reports = state.reports
    k = privacy.threshold(reports.privacy_k)
    days = privacy.activity_of(reports, scope, shown["days"], "day", window, k, link_id=link_id)
    per_class = reports.actors(scope, "ua_class", window=window, link_id=link_id)
    gone = {f: privacy.pool(per_class.get(f, {}), k)[0] for f in ("clicks", "bot_clicks")}
    devices = []
    for d in shown["devices"]:
        hidden = d["ua_class"] in gone["clicks" if d["human"] else "bot_clicks"]
        devices.append({**d, "clicks": None} if hidden else d)
    totals = privacy.activity_totals(
        {"clicks": shown["clicks"], "bot_clicks": shown["bot_clicks"]},
        reports.actors(scope, window=window, link_id=link_id),
        k,
    )
    out = {**shown, "days": days, "devices": devices, "clicks": totals["clicks"], "bot_clicks": totals["bot_clicks"]}
    if link_id in _few_clicked_links(state, scope, k):
        out["link"] = {**shown["link"], "clicks": None}  # the link's own count, as the listing withholds it
    if totals["clicks"] is None:
        for f in ("visit_rate", "order_rate"):
            if out.get(f) != SUPPRESSED:
                out[f] = None
    withheld = [*{f for d in days for f in d.get("withheld", [])}, *totals["suppressed"]]
    withheld += ["devices"] if any(d["clicks"] is None for d in devices) else []
    if withheld:
        got = dict(out.get("suppressed") or {"fields": [], "reason": privacy.reason(k), "k": k})
        got["activity"] = sorted(set(withheld))
        out["suppressed"] = got
    return out


#: The figures of a link's drill-down released with noise, per day and per device class.
CLICK_FIGURES = ("clicks", "bot_clicks")


def _noisy(noise: Noise, figures: dict[str, Any], window: Window, link_id: str) -> dict[str, Any]:
    """The drill-down under the budget: clicks and bot fetches per day and per device class in one release (every
    class listed is released, so a class's presence says nothing; a class whose noisy count rounds to 0 is left
    out), the totals their sums; the conversions withheld (:data:`CONVERSIONS_WITHHELD`)."""
    days = [str(d["day"]) for d in figures["days"]]
    classes = list(linkstats.DEVICE_CLASSES)
    sums = [
        *event_sums(noise, window, "day", days, CLICK_FIGURES, link_id=link_id, prefix="days"),
        *event_sums(noise, window, "ua_class", classes, CLICK_FIGURES, link_id=link_id, prefix="devices"),
    ]
    noise({}, (), window, sums)
    out = dict(figures)
    out["days"] = [{"day": d, **noisy_counts(noise, d, CLICK_FIGURES, "days")} for d in days]
    devices = []
    for c in classes:
        got = noisy_counts(noise, c, CLICK_FIGURES, "devices")
        human = c not in ("bot", "preview")
        n = got["clicks"] if human else got["bot_clicks"]
        if n > 0:
            devices.append({"ua_class": c, "clicks": n, "human": human})
    out["devices"] = devices
    out["clicks"] = sum(d["clicks"] for d in out["days"])
    out["bot_clicks"] = sum(d["bot_clicks"] for d in out["days"])
    withheld = (*linkstats.BUYER_FIELDS, *linkstats.VISITOR_FIELDS)
    out |= dict.fromkeys(withheld, SUPPRESSED)
    out["suppressed"] = {"fields": list(withheld), "reason": CONVERSIONS_WITHHELD}
    noise.dp["withheld"] = dict.fromkeys(withheld, CONVERSIONS_WITHHELD)
    out["dp"] = noise.dp
    return out


def create(
    state: WebState,
    scope: Scope,
    *,
    note_id: str,
    item_id: str,
    market: str,
    url: str | None = None,
    campaign_id: str | None = None,
    expires_days: float | None = None,
) -> LinkView:
    """Create a link from one of the scope's notes to one of its items (operators: any note and item)."""
    owned = state.reports.ownership(scope)
    if scope.brand is not None and note_id not in owned.notes:
        raise NotYours(f"no note {note_id!r}")
    if scope.brand is not None and item_id not in owned.items:
        raise NotYours(f"no item {item_id!r}")
    if scope.brand is not None and campaign_id and campaign_id not in owned.campaigns:
        raise NotYours(f"no campaign {campaign_id!r}")
    creator = next((n["creator_id"] for n in state.reports.notes(scope) if n["note_id"] == note_id), None)
    created = create_link(
        note_id,
        item_id,
        market,
        url or None,
        creator_id=creator,
        campaign_id=campaign_id or None,
        expires=timedelta(days=expires_days) if expires_days else None,
        data_dir=state.data_dir,
        catalog_url=state.catalog_url,
        base_url=state.public_url,
    )
    return LinkView(created.record, created.url, share_url(created.share_code, state.public_url), 0)


def revoke(
    state: WebState, scope: Scope, link_id: str, reason: str | None = None, noise: Noise | None = None
) -> LinkView:
    get_link(state, scope, link_id)  # 404 unless it is the scope's
    revoke_link(link_id, reason, data_dir=state.data_dir, catalog_url=state.catalog_url)
    return get_link(state, scope, link_id, noise)
