"""Signed link tokens: what the redirect needs to serve a click, carried in the URL and checked by HMAC.

A token is three dot-separated parts, all URL-safe::

    <payload>.<kid>.<mac>

``payload`` is base64url (unpadded) of the compact JSON array ``[1, link_id, market, url, expires]``
(``expires`` in Unix seconds, 0 for never); ``kid`` names the key that signed it; ``mac`` is the first 16
bytes (128 bits) of HMAC-SHA256 over ``<payload>.<kid>`` under that key, base64url. Everything after the
signature check is trusted, so the redirect serves a click without reading any database.

Key rotation: a :class:`KeyRing` signs with its first key and verifies with any key it holds, so a new key
goes first and old keys stay until no live link was signed by them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hongmao.errors import ConfigError, TokenError

VERSION = 1
MAC_BYTES = 16
MIN_SECRET_BYTES = 16
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


@dataclass(frozen=True, slots=True)
class Claims:
    """What a token says: the link, its marketplace adapter, its destination and its expiry (Unix seconds)."""

    link_id: str
    market: str
    url: str
    expires: int | None = None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyRing:
    """Signing keys by id; the first one signs, every one verifies. Never shows its secrets."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ConfigError("a link key ring needs at least one key")
        seen: dict[str, bytes] = {}
        for kid, secret in keys:
            if not KID_PATTERN.match(kid):
                raise ConfigError(f"link key id {kid!r} must be 1-16 letters, digits, '_' or '-'")
            if len(secret) < MIN_SECRET_BYTES:
                raise ConfigError(f"link key {kid!r} is shorter than {MIN_SECRET_BYTES} bytes")
            if kid in seen:
                raise ConfigError(f"link key id {kid!r} appears twice")
            seen[kid] = secret
        self._keys = seen
        self.signing_kid = keys[0][0]

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """A key ring from ``kid:secret,kid:secret`` (the HONGMAO_LINK_KEYS format), first key signs."""
        keys: list[tuple[str, bytes]] = []
        for item in text.split(","):
            item = item.strip()
            if not item:
                continue
            kid, sep, secret = item.partition(":")
            if not sep:
                raise ConfigError("link keys must be written kid:secret, separated by commas")
            keys.append((kid.strip(), secret.strip().encode("utf-8")))
        return cls(keys)

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(kids={self.kids!r}, signing={self.signing_kid!r})"

    def _mac(self, kid: str, signed: bytes) -> bytes | None:
        secret = self._keys.get(kid)
        if secret is None:
            return None
        return hmac.digest(secret, signed, "sha256")[:MAC_BYTES]

    def sign(self, claims: Claims) -> str:
        """The token of ``claims``, signed with the first key."""
        body = [VERSION, claims.link_id, claims.market, claims.url, claims.expires or 0]
        payload = _b64(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        signed = f"{payload}.{self.signing_kid}"
        mac = self._mac(self.signing_kid, signed.encode("ascii"))
        assert mac is not None
        return f"{signed}.{_b64(mac)}"

    def verify(self, token: str) -> Claims:
        """The claims of a token whose signature checks out under one of the ring's keys.

        Raises :class:`TokenError` for a malformed token, a bad signature or an unknown key id. Expiry is the
        caller's to check (the redirect compares ``expires`` with its clock on every request).
        """
        parts = token.split(".")
        if len(parts) != 3 or not token.isascii():
            raise TokenError("malformed link token")
        payload, kid, mac_text = parts
        expected = self._mac(kid, f"{payload}.{kid}".encode("ascii"))
        if expected is None:
            raise TokenError("link token signed by an unknown key")
        # Compared as text: only the one canonical encoding of the MAC is accepted (no padding or stray
        # characters a lenient base64 decoder would skip), so each link has exactly one token string.
        if not hmac.compare_digest(mac_text.encode("ascii"), _b64(expected).encode("ascii")):
            raise TokenError("link token signature does not match")
        try:
            body = json.loads(_unb64(payload))
            version, link_id, market, url, expires = body
        except (binascii.Error, ValueError, TypeError):
            raise TokenError("malformed link token payload") from None
        if version != VERSION:
            raise TokenError(f"link token version {version!r} is not supported")
        if not (isinstance(link_id, str) and isinstance(market, str) and isinstance(url, str)):
            raise TokenError("malformed link token payload")
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise TokenError("malformed link token payload")
        return Claims(link_id, market, url, expires or None)
