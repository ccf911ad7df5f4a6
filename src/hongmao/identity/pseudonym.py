"""Keyed pseudonyms: HMAC-SHA256 of a normalised identifier under one match key — the single-party mode.

**Single party owning both sides** (one company runs the community and the store, or a demo): it applies
:func:`pseudonymize` with one match key to both sides' data before it reaches the lake, and the two sides meet
on equal pseudonyms. Whoever holds that key can hash every candidate phone number and read back who is in the
data, so two *separate* platforms must not share it: they match with :mod:`hongmao.cleanroom` (each side its
own secret, commutative blinding), where each side still uses this HMAC under its *own* key for its refs.
The key is configuration (``HONGMAO_MATCH_KEY`` or a key file), never data; Hongmao never stores or logs the
raw value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Literal

from hongmao.errors import ConfigError, ContractError

IdentifierKind = Literal["phone", "account", "email"]
MIN_KEY_BYTES = 16
_DIGITS = re.compile(r"\D+")


def normalize(value: str, kind: IdentifierKind) -> str:
    """The canonical form of an identifier, so both sides hash the same person to the same text."""
    text = value.strip()
    if not text:
        raise ContractError(f"empty {kind} identifier")
    if kind == "phone":
        digits = _DIGITS.sub("", text)
        # Mainland numbers arrive as 138..., +86 138..., 0086 138...: all are one person.
        for prefix in ("0086", "86"):
            if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
                digits = digits[len(prefix) :]
        if len(digits) < 5:
            raise ContractError("phone identifier has too few digits")
        return "phone:" + digits
    if kind == "email":
        return "email:" + text.lower()
    return "account:" + text


def match_key_bytes(key: str | bytes) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    if len(raw) < MIN_KEY_BYTES:
        raise ConfigError(f"the match key must be at least {MIN_KEY_BYTES} bytes")
    return raw


def pseudonymize(value: str, key: str | bytes, kind: IdentifierKind = "account") -> str:
    """The pseudonym of ``value``: 32 lowercase hex digits (the first 128 bits of HMAC-SHA256)."""
    digest = hmac.new(match_key_bytes(key), normalize(value, kind).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


class Pseudonymizer:
    """A reusable pseudonymizer bound to one key (validates the key once)."""

    def __init__(self, key: str | bytes, kind: IdentifierKind = "account") -> None:
        self._key = match_key_bytes(key)
        self.kind: IdentifierKind = kind

    def __call__(self, value: str) -> str:
        digest = hmac.new(self._key, normalize(value, self.kind).encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()[:32]

    def __repr__(self) -> str:  # never show the key
        return f"Pseudonymizer(kind={self.kind!r}, key=<hidden>)"
