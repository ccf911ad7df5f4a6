"""What a side does to its own events before they leave it: the raw identifier in ``data.user`` (its own
account id or phone number) becomes its ref, the pseudonym under its own ref key.

A side sends only its own events: the community its community and link events, the marketplace its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from hongmao.cleanroom.keys import PartyKeys
from hongmao.contract.envelope import EVENT_TYPES
from hongmao.errors import ContractError, InputError
from hongmao.identity.pseudonym import IdentifierKind

SIDES_OF_PARTY = {"community": frozenset({"community", "links"}), "market": frozenset({"market"})}


def _events(paths: Iterable[str | Path]) -> Iterator[tuple[str, int, str, dict[str, object] | None]]:
    for path in map(Path, paths):
        try:
            with path.open(encoding="utf-8") as f:
                for n, line in enumerate(f, start=1):
                    body = line.rstrip("\n")
                    if not body.strip():
                        continue
                    try:
                        event = json.loads(body)
                    except ValueError:
                        event = None
                    yield f"{path.name} line {n}", n, body, event if isinstance(event, dict) else None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None


def _side_of(event: dict[str, object] | None) -> str | None:
    kind = event.get("type") if event else None
    spec = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    return spec.side if spec else None


def identifiers(party: str, paths: Iterable[str | Path]) -> list[str]:
    """The distinct raw identifiers the party's own events name, sorted."""
    found: set[str] = set()
    for _, _, _, event in _events(paths):
        if _side_of(event) in SIDES_OF_PARTY[party]:
            data = event.get("data") if event else None
            user = data.get("user") if isinstance(data, dict) else None
            if isinstance(user, str):
                found.add(user)
    return sorted(found)


def localize(keys: PartyKeys, id_kind: IdentifierKind, paths: Iterable[str | Path], out: str | Path) -> int:
    """Write the party's own events to ``out`` (one JSONL file) with refs for raw identifiers; the count."""
    pz, own, count = keys.pseudonymizer(id_kind), SIDES_OF_PARTY[keys.party], 0
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with Path(out).open("w", encoding="utf-8", newline="\n") as dst:
        for where, _, body, event in _events(paths):
            if event is None:
                raise ContractError(f"{where}: not a JSON object; fix it before it leaves the {keys.party} side")
            if _side_of(event) not in own:
                continue
            data = event.get("data")
            if isinstance(data, dict) and isinstance(data.get("user"), str):
                try:
                    data["user"] = pz(data["user"])
                except ContractError as exc:
                    raise ContractError(f"{where}: field data.user: {exc}") from None
                body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            dst.write(body + "\n")
            count += 1
    return count
