"""The measurer's identity file: per side, ref → lake pseudonym, written after each join.

It holds no raw identifier and no blinded value; the refs are pseudonyms under keys only each side holds.
The file is the ``previous`` of the next join (after a key rotation, for instance).
"""

from __future__ import annotations

import json
from pathlib import Path

from hongmao.errors import InputError

FORMAT = "hongmao-cleanroom-identity/1"
SIDES = ("community", "market")


def save(path: str | Path, tables: dict[str, dict[str, str]]) -> None:
    doc: dict[str, object] = {"format": FORMAT}
    doc |= {side: dict(sorted(tables.get(side, {}).items())) for side in SIDES}
    Path(path).write_text(json.dumps(doc, indent=0, sort_keys=True) + "\n", encoding="utf-8")


def load(path: str | Path) -> dict[str, dict[str, str]]:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            raise InputError(f"{path}: field format: expected {FORMAT!r}")
        return {side: {str(k): str(v) for k, v in doc[side].items()} for side in SIDES}
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise InputError(f"{path}: not an identity file ({exc.__class__.__name__}: {exc})") from None


def matched(tables: dict[str, dict[str, str]]) -> set[str]:
    """Lake pseudonyms both sides hold: the matched people."""
    return set(tables.get("community", {}).values()) & set(tables.get("market", {}).values())
