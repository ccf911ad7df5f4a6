"""The measurer rewrites each side's events from the side's refs to lake pseudonyms before ingesting them.

Only ``data.user`` carries a person in the contract; community and link events use the community's table,
marketplace events the marketplace's, brand events carry none. Click ids pass through untouched: the
click → visit → order chain never needed a person. A line that is not JSON passes through unchanged, for
ingest to reject with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from hongmao.contract.envelope import EVENT_TYPES
from hongmao.errors import ContractError

TABLE_OF_SIDE = {"community": "community", "links": "community", "market": "market"}


def translate_line(line: str, tables: dict[str, dict[str, str]], where: str) -> str:
    try:
        event = json.loads(line)
        data, kind = event["data"], event["type"]
        ref = data.get("user")
    except (ValueError, KeyError, TypeError, AttributeError):
        return line
    spec = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if ref is None or spec is None or spec.side not in TABLE_OF_SIDE:
        return line
    side = TABLE_OF_SIDE[spec.side]
    try:
        data["user"] = tables[side][ref]
    except (KeyError, TypeError):
        raise ContractError(
            f"{where}: field data.user: not a ref in the {side} side's index (blind every person the events name)"
        ) from None
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def translate_files(paths: Iterable[str | Path], tables: dict[str, dict[str, str]], out_dir: str | Path) -> list[Path]:
    """Each file rewritten under ``out_dir`` with the same name; the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, paths):
        target = out_dir / path.name
        with path.open(encoding="utf-8") as src, target.open("w", encoding="utf-8", newline="\n") as dst:
            for n, line in enumerate(src, start=1):
                body = line.rstrip("\n")
                if body.strip():
                    dst.write(translate_line(body, tables, f"{path.name} line {n}") + "\n")
        written.append(target)
    return written
