"""A party's key file: its blinding scalars (one active, earlier ones retired) and its own ref key.

The file (JSON, written with mode 0600) never leaves the party::

    {"format": "hongmao-cleanroom-key/1", "party": "community", "ref_key": "<32 bytes hex>",
     "keys": [{"id": "community-1", "state": "retired"},
              {"id": "community-2", "state": "active", "scalar": "<32 bytes hex>"}]}

* the **ref key** pseudonymises the party's own events (HMAC, :mod:`hongmao.identity.pseudonym`); it does not
  rotate with the scalars, so the measurer's earlier refs stay valid;
* **rotation** adds a new active scalar and retires the old one, deleting its secret: values blinded under a
  retired key can no longer be re-blinded, so both sides re-blind from their raw identifiers once.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hongmao.cleanroom import group
from hongmao.errors import ConfigError
from hongmao.identity.pseudonym import IdentifierKind, Pseudonymizer

FORMAT = "hongmao-cleanroom-key/1"
PARTIES = ("community", "market")


@dataclass(frozen=True)
class KeyEntry:
    key_id: str
    scalar: bytes | None  # None once retired: the secret is gone

    @property
    def active(self) -> bool:
        return self.scalar is not None


@dataclass(frozen=True)
class PartyKeys:
    party: str
    ref_key: bytes
    keys: tuple[KeyEntry, ...]

    def __repr__(self) -> str:  # never show a secret
        return f"PartyKeys(party={self.party!r}, active={self.active.key_id!r}, keys={len(self.keys)})"

    @classmethod
    def new(cls, party: str, key_id: str | None = None) -> PartyKeys:
        if party not in PARTIES:
            raise ConfigError(f"party must be one of {', '.join(PARTIES)}, got {party!r}")
        entry = KeyEntry(key_id or f"{party}-1", group.new_scalar())
        return cls(party, secrets.token_bytes(32), (entry,))

    @property
    def active(self) -> KeyEntry:
        return next(k for k in self.keys if k.active)

    def scalar_for(self, key_id: str) -> bytes:
        for k in self.keys:
            if k.key_id == key_id:
                if k.scalar is None:
                    raise ConfigError(f"key {key_id} of the {self.party} side is retired: re-blind from raw ids")
                return k.scalar
        raise ConfigError(f"the {self.party} side has no key {key_id!r}")

    def rotate(self, key_id: str | None = None) -> PartyKeys:
        """A new active scalar; every earlier one retired (its secret dropped)."""
        new_id = key_id or f"{self.party}-{len(self.keys) + 1}"
        if any(k.key_id == new_id for k in self.keys):
            raise ConfigError(f"key id {new_id!r} is already used")
        retired = tuple(KeyEntry(k.key_id, None) for k in self.keys)
        return PartyKeys(self.party, self.ref_key, (*retired, KeyEntry(new_id, group.new_scalar())))

    def pseudonymizer(self, kind: IdentifierKind) -> Pseudonymizer:
        """This party's own keyed pseudonyms (its refs) of raw identifiers."""
        return Pseudonymizer(self.ref_key, kind)

    def to_json(self) -> str:
        keys = [
            {"id": k.key_id, "state": "active", "scalar": k.scalar.hex()}
            if k.scalar is not None
            else {"id": k.key_id, "state": "retired"}
            for k in self.keys
        ]
        doc = {"format": FORMAT, "party": self.party, "ref_key": self.ref_key.hex(), "keys": keys}
        return json.dumps(doc, indent=2) + "\n"

    def save(self, path: str | Path) -> None:
        path = Path(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> PartyKeys:
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no key file (make one with `hongmao match keygen`)") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a readable key file ({exc.__class__.__name__})") from None
        try:
            if doc["format"] != FORMAT:
                raise ConfigError(f"{path}: format {doc['format']!r}, expected {FORMAT!r}")
            keys = tuple(
                KeyEntry(str(k["id"]), bytes.fromhex(k["scalar"]) if k["state"] == "active" else None)
                for k in doc["keys"]
            )
            party, ref_key = str(doc["party"]), bytes.fromhex(doc["ref_key"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: malformed key file (field {exc})") from None
        if party not in PARTIES:
            raise ConfigError(f"{path}: field party: {party!r} is not one of {', '.join(PARTIES)}")
        if sum(k.active for k in keys) != 1:
            raise ConfigError(f"{path}: field keys: exactly one key must be active")
        if any(len(k.scalar) != group.SCALAR_BYTES for k in keys if k.scalar is not None) or len(ref_key) < 16:
            raise ConfigError(f"{path}: field keys: a scalar or the ref key has the wrong length")
        return cls(party, ref_key, keys)
