"""API keys, roles and console sessions. No web framework here: the CLI manages keys with these functions.

A key reads ``hm_<key_id>_<secret>``: ``key_id`` (16 hex digits) finds its row, ``secret`` (256 random bits)
proves it. The catalog keeps ``HMAC-SHA256(salt, key)`` with a per-key random salt, never the key, and
compares in constant time. A fast hash is enough: the secret is random, not a password, so there is nothing
to guess. Roles:

- ``brand``: one tenant. Reads its own notes, items, links, orders and reports; manages its own links; sends
  events about its own brand.
- ``operator``: the platform. Reads every brand (or one, by choice), sends any event, manages keys.

The console signs in with a key and then carries a session cookie holding a random session id (256 bits).
Sessions live on the server (:class:`Sessions`, ``DATA/web-sessions.sqlite3``), which keeps only a SHA-256 of
each id: signing out deletes the row, so a copied cookie stops working at once, not at its expiry. Every
request checks the session's key against its row too, so revoking a key ends its sessions.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
import string
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeGuard

import sqlalchemy as sa

from hongmao import settings
from hongmao.errors import ConfigError, HongmaoError
from hongmao.lake import Lake
from hongmao.lake.catalog import UTCDateTime

Role = Literal["brand", "operator"]
ROLES: tuple[Role, ...] = ("brand", "operator")
KEY_PREFIX = "hm"
SECRET_FILE = "web-secret"
SESSIONS_FILE = "web-sessions.sqlite3"
SESSION_SECONDS = 12 * 3600
_URLSAFE = frozenset(string.ascii_letters + string.digits + "-_")

#: Mirror of migration 0003 (the catalog's ``api_keys`` table).
api_keys = sa.Table(
    "api_keys",
    sa.MetaData(),
    sa.Column("key_id", sa.String, primary_key=True),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("brand", sa.String, nullable=True),
    sa.Column("label", sa.Text, nullable=True),
    sa.Column("salt", sa.String, nullable=False),
    sa.Column("hash", sa.String, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)


class ApiKeyError(HongmaoError, ValueError):
    """An API key cannot be created or found."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's id, role and (for a brand key) its brand."""

    key_id: str
    role: Role
    brand: str | None
    label: str | None = None

    @property
    def operator(self) -> bool:
        return self.role == "operator"


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    role: Role
    brand: str | None
    label: str | None
    created_at: datetime
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "role": self.role,
            "brand": self.brand,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _digest(salt: str, key: str) -> str:
    return hmac.new(bytes.fromhex(salt), key.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_key(text: str) -> tuple[str, str] | None:
    """(key_id, key) of a well-formed key, else None."""
    text = text.strip()
    prefix, sep, rest = text.partition("_")
    key_id, sep2, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not sep or not sep2 or len(key_id) != 16 or len(secret) < 32:
        return None
    if any(c not in "0123456789abcdef" for c in key_id) or not text.isascii():
        return None
    return key_id, text


def create_key(lake: Lake, role: Role, brand: str | None = None, label: str | None = None) -> tuple[KeyInfo, str]:
    """A new key: its stored info and the key itself (shown once; only its hash is kept)."""
    if role not in ROLES:
        raise ApiKeyError(f"unknown role {role!r}; use brand or operator")
    if role == "brand" and not (brand and brand.strip()):
        raise ApiKeyError("a brand key needs its brand")
    if role == "operator":
        brand = None
    key_id = secrets.token_hex(8)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    salt = secrets.token_hex(16)
    now = datetime.now(UTC)
    with lake.connect("creating an API key", transaction=True) as conn:
        conn.execute(
            sa.insert(api_keys).values(
                key_id=key_id, role=role, brand=brand, label=label, salt=salt, hash=_digest(salt, key), created_at=now
            )
        )
    return KeyInfo(key_id, role, brand, label, now, None), key


def _info(row: Any) -> KeyInfo:
    return KeyInfo(row.key_id, row.role, row.brand, row.label, row.created_at, row.revoked_at)


def list_keys(lake: Lake, brand: str | None = None, *, include_revoked: bool = True) -> list[KeyInfo]:
    query = sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)
    if brand is not None:
        query = query.where(api_keys.c.brand == brand)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    with lake.connect("listing API keys") as conn:
        return [_info(row) for row in conn.execute(query)]


def revoke_key(lake: Lake, key_id: str) -> bool:
    """Revoke a key (its sessions end too); False if it was already revoked. Raises if there is no such key."""
    with lake.connect("revoking an API key", transaction=True) as conn:
        row = conn.execute(sa.select(api_keys.c.key_id).where(api_keys.c.key_id == key_id)).first()
        if row is None:
            raise ApiKeyError(f"no API key {key_id!r}")
        changed = conn.execute(
            sa.update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        ).rowcount
    return bool(changed)


def _live_row(lake: Lake, key_id: str) -> Any:
    with lake.connect("checking an API key") as conn:
        return conn.execute(
            sa.select(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        ).first()


def authenticate(lake: Lake, text: str) -> Principal | None:
    """The principal of a presented key, or None (malformed, unknown, revoked or wrong secret)."""
    parsed = parse_key(text)
    if parsed is None:
        return None
    key_id, key = parsed
    row = _live_row(lake, key_id)
    expected = row.hash if row is not None else _digest("00" * 16, "")
    # Compare even when the row is missing, so timing does not tell a known key id from an unknown one.
    ok = hmac.compare_digest(_digest(row.salt if row is not None else "00" * 16, key), expected)
    if row is None or not ok:
        return None
    return Principal(row.key_id, row.role, row.brand, row.label)


def principal_by_id(lake: Lake, key_id: str) -> Principal | None:
    row = _live_row(lake, key_id)
    return Principal(row.key_id, row.role, row.brand, row.label) if row is not None else None


# --- the server secret and console sessions ---------------------------------------------------------------


def server_secret(data_dir: Path) -> bytes:
    """HONGMAO_WEB_SECRET, else ``DATA/web-secret`` (created with 256 random bits, mode 0600)."""
    configured = settings.get("web_secret")
    if configured:
        if len(configured) < 16:
            raise ConfigError("HONGMAO_WEB_SECRET must be at least 16 characters")
        return configured.encode("utf-8")
    path = data_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            try:
                os.write(fd, secrets.token_hex(32).encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError as error:
        raise ConfigError(f"cannot read the web secret file {path}: {error}") from error
    if len(text) < 16:
        raise ConfigError(f"the web secret file {path} is too short")
    return text.encode("ascii")


class Sessions:
    """Console sessions, kept server-side: the cookie is a random id; the store keeps its SHA-256, key and expiry.

    Why not a signed cookie alone: it stays valid until it expires, whatever the user does, so signing out
    could only ask the browser to forget it. Here signing out deletes the row, and the id in any copy of the
    cookie names nothing. A hash of the id is stored, not the id, so reading the store does not sign anyone in.

    The store is a small SQLite file beside the web secret (``None``: in memory, for one process and tests),
    shared by every worker of the console on the host. ``now`` parameters exist so tests need no clock.
    """

    def __init__(self, secret: bytes, path: Path | None = None, seconds: int = SESSION_SECONDS) -> None:
        self._secret = secret
        self.seconds = seconds
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path is not None else ":memory:", timeout=10, check_same_thread=False)
        self._db.isolation_level = None  # autocommit: every statement below is one transaction
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS sessions (id_hash TEXT PRIMARY KEY, key_id TEXT NOT NULL, "
                "expires INTEGER NOT NULL) WITHOUT ROWID"
            )
        if path is not None:
            with contextlib.suppress(OSError):
                path.chmod(0o600)

    @staticmethod
    def _hash(session: str) -> str:
        return hashlib.sha256(session.encode("ascii")).hexdigest()

    @staticmethod
    def _well_formed(cookie: str | None) -> TypeGuard[str]:
        return cookie is not None and 0 < len(cookie) <= 64 and all(c in _URLSAFE for c in cookie)

    def issue(self, key_id: str, now: float | None = None) -> str:
        """A new session for ``key_id`` (a new id every sign-in, so no id chosen before sign-in survives it)."""
        moment = int(time.time() if now is None else now)
        session = secrets.token_urlsafe(32)
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE expires < ?", (moment,))
            self._db.execute(
                "INSERT INTO sessions (id_hash, key_id, expires) VALUES (?, ?, ?)",
                (self._hash(session), key_id, moment + self.seconds),
            )
        return session

    def key_id(self, cookie: str | None, now: float | None = None) -> str | None:
        """The key id of a live session, or None (unknown, signed out or expired)."""
        if not self._well_formed(cookie):
            return None
        moment = time.time() if now is None else now
        with self._lock:
            row = self._db.execute(
                "SELECT key_id, expires FROM sessions WHERE id_hash = ?", (self._hash(cookie),)
            ).fetchone()
        if row is None or row[1] < moment:
            return None
        return str(row[0])

    def revoke(self, cookie: str | None) -> bool:
        """End a session (sign-out); False if there was none."""
        if not self._well_formed(cookie):
            return False
        with self._lock:
            gone = self._db.execute("DELETE FROM sessions WHERE id_hash = ?", (self._hash(cookie),)).rowcount
        return bool(gone)

    def token(self, value: str, purpose: str) -> str:
        """A form token bound to a session (or to the sign-in form's nonce): CSRF protection for POST forms."""
        return hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]

    def close(self) -> None:
        with self._lock:
            self._db.close()
