"""k-anonymity thresholds: a figure that counts people, or rests on fewer than k of them, is withheld.

Pure functions; reports call :func:`suppress` per figure and :func:`strictest` to combine the parties' rules
(the strictest party's threshold wins).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hongmao.errors import ConfigError

DEFAULT_K = 50
SUPPRESSED = "suppressed"


def strictest(*thresholds: int | None) -> int:
    """The threshold in force when several parties set one: the largest (none set: :data:`DEFAULT_K`)."""
    given = [k for k in thresholds if k is not None]
    for k in given:
        if k < 1:
            raise ValueError(f"a threshold must be at least 1, got {k}")
    return max(given) if given else DEFAULT_K


def suppress(value: Any, people: int, k: int = DEFAULT_K) -> Any:
    """``value`` when it rests on at least ``k`` people, else the marker :data:`SUPPRESSED`."""
    return value if people >= k else SUPPRESSED


def suppress_rows(
    rows: Iterable[dict[str, Any]], people_field: str, value_fields: Iterable[str], k: int = DEFAULT_K
) -> list[dict[str, Any]]:
    """Rows with ``value_fields`` (and the people count) replaced by the marker where people < k, each row
    saying whether it was withheld and why."""
    fields = tuple(value_fields)
    out = []
    for row in rows:
        people = int(row[people_field])
        new = dict(row)
        if people < k:
            for f in (*fields, people_field):
                new[f] = SUPPRESSED
            new["suppressed"] = f"fewer than {k} people"
        else:
            new["suppressed"] = None
        out.append(new)
    return out


def party_thresholds(text: str | None) -> list[int]:
    """``community:50,market:100`` → [50, 100]; a malformed pair names itself."""
    out = []
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        party, _, k = pair.partition(":")
        try:
            out.append(int(k))
        except ValueError:
            raise ConfigError(f"privacy_k_parties: {pair.strip()!r} is not party:k (an integer k)") from None
        if out[-1] < 1 or not party.strip():
            raise ConfigError(f"privacy_k_parties: {pair.strip()!r}: k must be at least 1 and the party named")
    return out
