"""Campaign holdouts: who is kept out of a campaign, decided by a keyed hash anyone holding the key can redo.

A person is held out of campaign C when HMAC-SHA256(key, "C|pseudonym"), its first 64 bits read as a number in
[0, 1), falls below the campaign's holdout share. The assignment is random with respect to behaviour, stable
per (person, campaign), independent across campaigns, and needs no stored list: the community applies it when
it fills feeds, the marketplace side and the measuring side recompute it from the pseudonym alone.

The holdout key is configuration, like the match key (``HONGMAO_HOLDOUT_KEY`` or a key file); it is a
different secret from the match key, so knowing who is held out reveals nothing about the pseudonyms.
Standard library and NumPy only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["holdout_draw", "holdout_mask", "in_holdout"]

_SCALE = float(2**64)


def _key_bytes(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


def holdout_draw(pseudonym: str, campaign_id: str, key: str | bytes) -> float:
    """The person's uniform draw in [0, 1) for the campaign (first 64 bits of the HMAC)."""
    digest = hmac.new(_key_bytes(key), f"{campaign_id}|{pseudonym}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def in_holdout(pseudonym: str, campaign_id: str, share: float, key: str | bytes) -> bool:
    """True when the person is in the campaign's holdout group (never shown its notes)."""
    return share > 0.0 and holdout_draw(pseudonym, campaign_id, key) < share


def holdout_mask(pseudonyms: Sequence[str], campaign_id: str, share: float, key: str | bytes) -> NDArray[np.bool_]:
    """:func:`in_holdout` for many people at once (the key is hashed once, its state copied per person)."""
    if share <= 0.0:
        return np.zeros(len(pseudonyms), dtype=np.bool_)
    base = hmac.new(_key_bytes(key), digestmod=hashlib.sha256)
    prefix = f"{campaign_id}|".encode()
    draws = np.empty(len(pseudonyms), dtype=np.uint64)
    for i, p in enumerate(pseudonyms):
        h = base.copy()
        h.update(prefix + p.encode())
        draws[i] = int.from_bytes(h.digest()[:8], "big")
    return np.asarray(draws.astype(np.float64) / _SCALE < share, dtype=np.bool_)
