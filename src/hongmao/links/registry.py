"""Link records, share codes and revocations in the lake's catalog (tables ``links`` and ``link_revocations``).

Every function takes an open catalog connection (``Lake.connect``), so callers choose the transaction. The
redirect reads nothing here per click: it polls :func:`revoked_since` about once a second and looks share
codes up only on a cache miss.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hongmao.lake import catalog

#: Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives (see :func:`normalize_code`).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8  # 40 bits: a billion links still collide with a fresh code about once in a thousand tries
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


@dataclass(frozen=True)
class LinkRecord:
    """A shoppable link as the catalog keeps it."""

    link_id: str
    share_code: str
    token: str
    market: str
    url: str
    note_id: str
    item_id: str
    creator_id: str | None
    campaign_id: str | None
    created_at: datetime
    expires: datetime | None
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("created_at", "expires", "revoked_at"):
            value = out[key]
            out[key] = value.isoformat() if value is not None else None
        return out


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """The canonical share code in ``text`` (a pasted 口令 like ``￥7K3Q-X9PD￥``), or None if there is none.

    Case, separators, currency signs and brackets are ignored; O, I and L read as 0, 1 and 1.
    """
    cleaned = "".join(c for c in text.upper() if c.isascii() and c.isalnum()).translate(_CONFUSABLE)
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


def insert(conn: Connection, record: LinkRecord) -> None:
    conn.execute(sa.insert(catalog.links).values(**asdict(record)))


def code_taken(conn: Connection, code: str) -> bool:
    found = conn.execute(sa.select(catalog.links.c.link_id).where(catalog.links.c.share_code == code)).first()
    return found is not None


def _record(row: Any) -> LinkRecord:
    return LinkRecord(**{name: getattr(row, name) for name in LinkRecord.__dataclass_fields__})


def get(conn: Connection, link_id: str) -> LinkRecord | None:
    row = conn.execute(sa.select(catalog.links).where(catalog.links.c.link_id == link_id)).first()
    return _record(row) if row is not None else None


def by_code(conn: Connection, code: str) -> LinkRecord | None:
    row = conn.execute(sa.select(catalog.links).where(catalog.links.c.share_code == code)).first()
    return _record(row) if row is not None else None


def token_for_code(conn: Connection, code: str) -> str | None:
    """The token of the link a share code names (the redirect's lookup on a cache miss)."""
    return conn.execute(sa.select(catalog.links.c.token).where(catalog.links.c.share_code == code)).scalar()


def revoke(conn: Connection, link_id: str, when: datetime, reason: str | None = None) -> bool:
    """Mark a link revoked and queue the revocation for the redirects; False if it already was."""
    table = catalog.links
    changed = conn.execute(
        sa.update(table).where(table.c.link_id == link_id, table.c.revoked_at.is_(None)).values(revoked_at=when)
    ).rowcount
    if not changed:
        return False
    conn.execute(sa.insert(catalog.link_revocations).values(link_id=link_id, revoked_at=when, reason=reason))
    return True


def revoked_since(conn: Connection, seq: int) -> tuple[int, list[str]]:
    """Revocations after number ``seq``: the highest number seen (``seq`` if none) and their link ids."""
    table = catalog.link_revocations
    rows = conn.execute(sa.select(table.c.seq, table.c.link_id).where(table.c.seq > seq).order_by(table.c.seq)).all()
    return (rows[-1].seq if rows else seq), [row.link_id for row in rows]


def list_links(conn: Connection, *, limit: int = 100, note_id: str | None = None) -> list[LinkRecord]:
    table = catalog.links
    query = sa.select(table).order_by(table.c.created_at.desc()).limit(limit)
    if note_id is not None:
        query = query.where(table.c.note_id == note_id)
    return [_record(row) for row in conn.execute(query)]
