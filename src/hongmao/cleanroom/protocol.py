"""The three steps of the protocol over files: ``blind`` and ``reblind`` at the sides, ``join`` at the measurer.

Each step checks the headers it reads (kind, origin, key ids) so a file sent to the wrong party or step, or a
value blinded twice by one key, fails with its reason instead of silently matching nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hongmao.cleanroom import group, messages, parallel
from hongmao.cleanroom.keys import PartyKeys
from hongmao.errors import ContractError, InputError
from hongmao.identity.pseudonym import IdentifierKind, normalize

OTHER = {"community": "market", "market": "community"}


def blind(
    keys: PartyKeys,
    identifiers: Iterable[str],
    id_kind: IdentifierKind,
    out_blinded: str | Path,
    out_index: str | Path,
    *,
    workers: int = 1,
) -> int:
    """Write ``H(x)^own`` of each distinct identifier (for the other side) and the row → ref index (for the
    measurer); the number of distinct people."""
    refs: dict[str, str] = {}  # normalised identifier -> this side's ref (the pseudonym its events carry)
    for line, raw in enumerate(identifiers, start=1):
        try:
            norm = normalize(raw, id_kind)
        except ContractError as exc:
            raise ContractError(f"identifier {line}: {exc}") from None
        if norm not in refs:
            refs[norm] = _ref(keys.ref_key, norm)
    ordered = sorted(refs)
    entry = keys.active
    assert entry.scalar is not None
    blinded = parallel.hash_and_blind(ordered, entry.scalar, workers)
    rows = sorted(zip(messages.hex_rows(blinded), (refs[x] for x in ordered), strict=True))
    head = messages.Header("blinded", keys.party, (entry.key_id,), id_kind)
    messages.write(out_blinded, head, [b for b, _ in rows])
    messages.write(out_index, messages.Header("index", keys.party, (entry.key_id,), id_kind), [r for _, r in rows])
    return len(rows)


def reblind(keys: PartyKeys, in_blinded: str | Path, out_double: str | Path, *, workers: int = 1) -> int:
    """Raise the other side's blinded values to this side's active key, same rows, for the measurer."""
    head, rows = messages.read(in_blinded, "blinded")
    if head.origin != OTHER[keys.party]:
        raise InputError(
            f"{in_blinded}: field origin is {head.origin!r}; the {keys.party} side re-blinds only "
            f"the {OTHER[keys.party]} side's values"
        )
    entry = keys.active
    assert entry.scalar is not None
    if any(k in {e.key_id for e in keys.keys} for k in head.keys):
        raise InputError(f"{in_blinded}: already blinded by this side's key {head.keys}")
    double = parallel.blind(messages.points_buffer(in_blinded, rows), entry.scalar, workers)
    out = messages.Header("double", head.origin, (*head.keys, entry.key_id), head.id_kind)
    messages.write(out_double, out, messages.hex_rows(double))
    return len(rows)


@dataclass(frozen=True)
class JoinResult:
    """What the measurer keeps: per side, ref → lake pseudonym; the match counts for both sides."""

    tables: dict[str, dict[str, str]]
    report: dict[str, object]


def _side(origin: str, index_path: str | Path, double_path: str | Path) -> tuple[messages.Header, list[str], list[str]]:
    ih, refs = messages.read(index_path, "index")
    dh, doubles = messages.read(double_path, "double")
    for path, h in ((index_path, ih), (double_path, dh)):
        if h.origin != origin:
            raise InputError(f"{path}: field origin is {h.origin!r}, expected the {origin} side's file")
    if len(dh.keys) != 2 or dh.keys[0] != ih.keys[0]:
        raise InputError(f"{double_path}: keys {list(dh.keys)} are not the index's key {ih.keys[0]} and one more")
    if len(refs) != len(doubles):
        raise InputError(f"{double_path}: {len(doubles)} rows, the {origin} index has {len(refs)}")
    messages.points_buffer(double_path, doubles)  # validates every row
    return dh, refs, doubles


def join(
    community: tuple[str | Path, str | Path],
    market: tuple[str | Path, str | Path],
    previous: dict[str, dict[str, str]] | None = None,
) -> JoinResult:
    """Match on doubly blinded values. ``community``/``market`` are (index, double) file pairs.

    ``previous`` tables (from an earlier join, e.g. before a key rotation) carry each ref's lake pseudonym
    forward, so the lake keeps one pseudonym per person across rotations."""
    ch, crefs, cdoubles = _side("community", *community)
    mh, mrefs, mdoubles = _side("market", *market)
    if set(ch.keys) != set(mh.keys):
        raise InputError(
            f"the two sides' values are under different keys ({list(ch.keys)} vs {list(mh.keys)}): "
            "re-blind both with the current keys"
        )
    previous = previous or {}
    prev_c, prev_m = previous.get("community", {}), previous.get("market", {})
    by_double: dict[str, str] = {}
    # Earlier pseudonyms first (community's wins a conflict), then a hash of the value for people new here.
    for refs, doubles, prev in ((crefs, cdoubles, prev_c), (mrefs, mdoubles, prev_m)):
        for ref, d in zip(refs, doubles, strict=True):
            if ref in prev and d not in by_double:
                by_double[d] = prev[ref]
    tables: dict[str, dict[str, str]] = {"community": {}, "market": {}}
    for side, refs, doubles in (("community", crefs, cdoubles), ("market", mrefs, mdoubles)):
        for ref, d in zip(refs, doubles, strict=True):
            tables[side][ref] = by_double.setdefault(d, group.lake_pseudonym(bytes.fromhex(d)))
    matched = len(set(cdoubles) & set(mdoubles))
    report: dict[str, object] = {
        "keys": sorted(ch.keys),
        "matched": matched,
        "community": {"sent": len(crefs), "matched": matched, "rate": _rate(matched, len(crefs))},
        "market": {"sent": len(mrefs), "matched": matched, "rate": _rate(matched, len(mrefs))},
    }
    return JoinResult(tables, report)


def _ref(ref_key: bytes, normalized: str) -> str:
    """The side's ref of an already normalised identifier: what ``keys.pseudonymizer(kind)(raw)`` answers,
    without normalising a second time (a million ids a side)."""
    return hmac.new(ref_key, normalized.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
