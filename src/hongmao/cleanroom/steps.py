"""The clean room's steps over files, as the CLI (``hongmao match``) and the library (``hongmao.api``) run them.

=============  ============  ===========================================================================
step           who           writes
=============  ============  ===========================================================================
keygen/rotate  each side     its key file (0600)
localize       each side     its own events with refs in ``data.user``
blind          each side     ``<party>.blinded`` (→ other side) and ``<party>.index`` (→ measurer)
reblind        each side     ``<origin>.double`` (→ measurer) from the other side's ``.blinded``
join           measurer      ``identity.json`` (kept) and ``match_report.json`` (→ both sides)
translate      measurer      the sides' events with lake pseudonyms, ready for ``hongmao ingest``
coverage       measurer      the coverage report
=============  ============  ===========================================================================
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hongmao.cleanroom import coverage as coverage_mod
from hongmao.cleanroom import identity, protocol, sides, translate
from hongmao.cleanroom.keys import PartyKeys
from hongmao.errors import ConfigError, InputError
from hongmao.identity.pseudonym import IdentifierKind
from hongmao.measure.threshold import DEFAULT_K, suppress


def keygen(path: str | Path, party: str, key_id: str | None = None, *, force: bool = False) -> str:
    path = Path(path)
    if path.exists() and not force:
        raise ConfigError(f"{path} exists: a new key would orphan every value blinded under it (use rotate)")
    keys = PartyKeys.new(party, key_id)
    keys.save(path)
    return keys.active.key_id


def rotate(path: str | Path, key_id: str | None = None) -> str:
    keys = PartyKeys.load(path).rotate(key_id)
    keys.save(path)
    return keys.active.key_id


def localize(key_path: str | Path, events: Sequence[str | Path], out: str | Path, id_kind: IdentifierKind) -> int:
    return sides.localize(PartyKeys.load(key_path), id_kind, events, out)


def blind(
    key_path: str | Path,
    out_dir: str | Path,
    id_kind: IdentifierKind,
    *,
    ids_file: str | Path | None = None,
    events: Sequence[str | Path] = (),
    workers: int = 1,
) -> dict[str, Any]:
    """Blind the identifiers of ``ids_file`` (one a line) or those the party's own raw ``events`` name."""
    keys = PartyKeys.load(key_path)
    if (ids_file is None) == (not events):
        raise ConfigError("give an identifiers file or the party's raw event files (one of them)")
    if ids_file is not None:
        try:
            ids = [line for line in Path(ids_file).read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{ids_file}: cannot read ({exc.__class__.__name__})") from None
    else:
        ids = sides.identifiers(keys.party, events)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    blinded, index = out / f"{keys.party}.blinded", out / f"{keys.party}.index"
    n = protocol.blind(keys, ids, id_kind, blinded, index, workers=workers)
    return {"party": keys.party, "key": keys.active.key_id, "people": n, "blinded": str(blinded), "index": str(index)}


def reblind(key_path: str | Path, blinded: str | Path, out_dir: str | Path, *, workers: int = 1) -> dict[str, Any]:
    keys = PartyKeys.load(key_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{protocol.OTHER[keys.party]}.double"
    n = protocol.reblind(keys, blinded, target, workers=workers)
    return {"party": keys.party, "key": keys.active.key_id, "rows": n, "double": str(target)}


def join(
    community: tuple[str | Path, str | Path],
    market: tuple[str | Path, str | Path],
    out_dir: str | Path,
    *,
    previous: str | Path | None = None,
    k: int = DEFAULT_K,
) -> dict[str, Any]:
    """Join; keep ``identity.json``; write ``match_report.json`` for both sides (counts under ``k`` withheld)."""
    prev = identity.load(previous) if previous is not None else None
    result = protocol.join(community, market, prev)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    identity.save(out / "identity.json", result.tables)
    report = match_report(result.report, k)
    (out / "match_report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return report


def match_report(raw: dict[str, Any], k: int) -> dict[str, Any]:
    """The report both sides receive: counts and rates, the matched count withheld below ``k`` people."""
    matched = int(raw["matched"])
    report: dict[str, Any] = {"keys": raw["keys"], "k": k, "matched": suppress(matched, matched, k)}
    for side in ("community", "market"):
        s = raw[side]
        report[side] = {
            "sent": s["sent"],
            "matched": suppress(matched, matched, k),
            "rate": suppress(s["rate"], matched, k),
        }
    return report


def translate_events(identity_path: str | Path, events: Sequence[str | Path], out_dir: str | Path) -> list[Path]:
    return translate.translate_files(events, identity.load(identity_path), out_dir)


def coverage(events: Sequence[str | Path], identity_path: str | Path | None = None) -> dict[str, Any]:
    matched = identity.matched(identity.load(identity_path)) if identity_path is not None else None
    return coverage_mod.coverage(coverage_mod.read_events(events), matched)
