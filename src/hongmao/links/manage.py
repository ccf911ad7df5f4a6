"""Creating, revoking and looking up links: the library behind ``hongmao link``.

Creating a link: check the destination against its marketplace's allow-list, store the ``link.created`` event
in the lake (so attribution resolves link -> note), sign the token, then record the link with a fresh share
code in the catalog. The event goes first: if the catalog insert fails, the lake holds a link no token points
to (harmless) rather than a token whose clicks no note would claim.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hongmao import settings
from hongmao.contract import to_row, validate
from hongmao.errors import ContractError, LinkError
from hongmao.lake import Lake, require
from hongmao.links import keys, registry
from hongmao.links.markets import check_destination, get_market, item_destination
from hongmao.links.registry import LinkRecord
from hongmao.links.tokens import Claims

_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class CreatedLink:
    """A new link: its id, signed token, full redirect URL and share code (口令), and the stored record."""

    link_id: str
    token: str
    url: str
    share_code: str
    record: LinkRecord

    def to_dict(self) -> dict[str, Any]:
        return {"link_id": self.link_id, "token": self.token, "url": self.url, "share_code": self.share_code}


def _open(data_dir: str | Path | None, catalog_url: str | None, *, create: bool = False) -> Lake:
    """The lake; only creating a link may start a new one (looking a link up in a mistyped --data is an error)."""
    directory = settings.data_dir(data_dir)
    if not create:
        require(directory)
    return Lake.open(directory, catalog_url or settings.get("catalog_url"))


def link_url(token: str, base_url: str | None = None) -> str:
    """The redirect URL of a token under the public base URL (HONGMAO_PUBLIC_URL)."""
    base = base_url or settings.get("public_base_url") or "http://127.0.0.1:8000"
    return f"{base.rstrip('/')}/l/{token}"


def share_url(code: str, base_url: str | None = None) -> str:
    base = base_url or settings.get("public_base_url") or "http://127.0.0.1:8000"
    return f"{base.rstrip('/')}/c/{code}"


def _expiry(expires: datetime | timedelta | None, now: datetime) -> datetime | None:
    if expires is None:
        return None
    when = now + expires if isinstance(expires, timedelta) else expires
    if when.tzinfo is None:
        raise LinkError("the expiry time needs a UTC offset, e.g. 2025-07-01T00:00:00+08:00")
    if when <= now:
        raise LinkError("the expiry time is in the past")
    return when.astimezone(UTC)


def create_link(
    note_id: str,
    item_id: str,
    market: str,
    url: str | None = None,
    *,
    creator_id: str | None = None,
    campaign_id: str | None = None,
    expires: datetime | timedelta | None = None,
    data_dir: str | Path | None = None,
    catalog_url: str | None = None,
    base_url: str | None = None,
) -> CreatedLink:
    """Create a signed link from a note to an item (or store) page on ``market``.

    ``url`` defaults to the marketplace's item page for ``item_id``. Raises
    :class:`~hongmao.errors.DestinationError` when the destination is not allowed.
    """
    adapter = get_market(market)
    destination = check_destination(adapter, url, item_id) if url else item_destination(adapter, item_id)
    now = datetime.now(UTC)
    expiry = _expiry(expires, now)
    ring = keys.load(data_dir)
    link_id = f"lk{secrets.token_hex(8)}"
    data: dict[str, Any] = {"link_id": link_id, "note_id": note_id, "item_id": item_id, "market": adapter.name}
    data["url"] = destination
    data.update({k: v for k, v in [("creator_id", creator_id), ("campaign_id", campaign_id)] if v is not None})
    if expiry is not None:
        data["expires"] = expiry.isoformat()
    event = validate(
        {"id": f"link.created/{link_id}", "type": "link.created", "source": "links", "time": now, "data": data}
    )
    if isinstance(event, list):
        raise ContractError("; ".join(f"{p.field}: {p.reason}" for p in event))
    token = ring.sign(Claims(link_id, adapter.name, destination, int(expiry.timestamp()) if expiry else None))
    with _open(data_dir, catalog_url, create=True) as lake:
        lake.append([to_row(event)])
        for _ in range(_CODE_ATTEMPTS):
            record = LinkRecord(
                link_id=link_id,
                share_code=registry.new_code(),
                token=token,
                market=adapter.name,
                url=destination,
                note_id=note_id,
                item_id=item_id,
                creator_id=creator_id,
                campaign_id=campaign_id,
                created_at=now,
                expires=expiry,
                revoked_at=None,
            )
            with lake.connect("recording a link", transaction=True) as conn:
                if registry.code_taken(conn, record.share_code):
                    continue
                registry.insert(conn, record)
                break
        else:  # pragma: no cover - 40-bit codes: five collisions in a row do not happen
            raise LinkError("could not find a free share code; try again")
    return CreatedLink(link_id, token, link_url(token, base_url), record.share_code, record)


def revoke_link(
    link_id: str,
    reason: str | None = None,
    *,
    data_dir: str | Path | None = None,
    catalog_url: str | None = None,
) -> bool:
    """Revoke a link (its token then answers 410 within about a second); False if it was already revoked."""
    with _open(data_dir, catalog_url) as lake, lake.connect("revoking a link", transaction=True) as conn:
        if registry.get(conn, link_id) is None:
            raise LinkError(f"no link {link_id!r}")
        return registry.revoke(conn, link_id, datetime.now(UTC), reason)


def get_link(link_or_code: str, *, data_dir: str | Path | None = None, catalog_url: str | None = None) -> LinkRecord:
    """A link by its id or by its share code."""
    with _open(data_dir, catalog_url) as lake, lake.connect("reading a link") as conn:
        record = registry.get(conn, link_or_code)
        if record is None:
            code = registry.normalize_code(link_or_code)
            record = registry.by_code(conn, code) if code else None
    if record is None:
        raise LinkError(f"no link or share code {link_or_code!r}")
    return record


def resolve_share_code(code: str, *, data_dir: str | Path | None = None, catalog_url: str | None = None) -> LinkRecord:
    """The link a share code (口令, as pasted: case and separators do not matter) names."""
    normalized = registry.normalize_code(code)
    if normalized is None:
        raise LinkError(f"{code!r} is not a share code")
    with _open(data_dir, catalog_url) as lake, lake.connect("resolving a share code") as conn:
        record = registry.by_code(conn, normalized)
    if record is None:
        raise LinkError(f"no link has the share code {normalized}")
    return record
