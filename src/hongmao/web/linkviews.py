"""Links as a tenant sees them: the catalog's link records filtered to the scope, with clicks and status.

A thin layer over :mod:`hongmao.links` (create, revoke and the ``links`` catalog table): the links package
knows nothing of tenants, so ownership is decided here from the scope's notes and items.
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
from hongmao.reports import linkstats, privacy
from hongmao.reports.period import Window
from hongmao.reports.scope import Scope
from hongmao.web.state import WebState


class NotYours(LinkError):
    """The link, note or item is not in the caller's scope (answered 404)."""


@dataclass(frozen=True)
class LinkView:
    record: LinkRecord
    url: str
    share_url: str
    clicks: int

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


def _view(state: WebState, record: LinkRecord, clicks: dict[str, int]) -> LinkView:
    return LinkView(
        record,
        link_url(record.token, state.public_url),
        share_url(record.share_code, state.public_url),
        clicks.get(record.link_id, 0),
    )


def list_links(state: WebState, scope: Scope, *, note_id: str | None = None, limit: int = 500) -> list[LinkView]:
    table = catalog.links
    query = sa.select(table).order_by(table.c.created_at.desc()).limit(limit)
    if scope.brand is not None:
        owned = state.reports.ownership(scope)
        query = query.where(table.c.note_id.in_(sorted(owned.notes)) | table.c.item_id.in_(sorted(owned.items)))
    if note_id is not None:
        query = query.where(table.c.note_id == note_id)
    with state.lake.connect("listing links") as conn:
        records = [registry.get(conn, row.link_id) for row in conn.execute(query)]
    clicks = state.reports.link_clicks(scope)
    return [_view(state, r, clicks) for r in records if r is not None]


def get_link(state: WebState, scope: Scope, link_id: str) -> LinkView:
    with state.lake.connect("reading a link") as conn:
        record = registry.get(conn, link_id)
    if record is None or not _owns(state, scope, record):
        raise NotYours(f"no link {link_id!r}")
    return _view(state, record, state.reports.link_clicks(scope))


def stats(state: WebState, scope: Scope, link_id: str, window: Window, *, operator: bool) -> dict[str, Any]:
    """The link with its drill-down over ``window``; a brand key's conversions under k withheld (404 unless the
    link is the scope's)."""
    link = get_link(state, scope, link_id)
    figures = state.reports.link_stats(scope, link_id, window=window)
    if not operator:
        figures = linkstats.withhold(figures, privacy.threshold(state.reports.privacy_k))
    return {"link": link.to_dict(), "window": window.describe(), **figures}


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


def revoke(state: WebState, scope: Scope, link_id: str, reason: str | None = None) -> LinkView:
    get_link(state, scope, link_id)  # 404 unless it is the scope's
    revoke_link(link_id, reason, data_dir=state.data_dir, catalog_url=state.catalog_url)
    return get_link(state, scope, link_id)
