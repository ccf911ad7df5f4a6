"""A hand-made lake for AIPS tests: two brands, two weeks, people placed at the stage a test asks for."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from conftest import event

# Two 7-day periods, business days in Asia/Shanghai: 2025-06-01..07 (before) and 2025-06-08..14 (after).
BEFORE, AFTER = "2025-06-0{}T04:00:00+00:00", "2025-06-{:02d}T04:00:00+00:00"


def person(n: int | str) -> str:
    return hashlib.md5(f"p{n}".encode()).hexdigest()  # 32 lowercase hex digits, like a lake pseudonym


def catalog() -> list[dict[str, Any]]:
    return [
        event("item.listed", BEFORE.format(1), item_id="i1", store_id="s1", brand="Lumi", category="c", price=10),
        event("item.listed", BEFORE.format(1), item_id="i2", store_id="s2", brand="Oat", category="c", price=10),
        event("note.published", BEFORE.format(1), note_id="n1", creator_id="c1", brand="Lumi", items=["i1"]),
        event("note.published", BEFORE.format(1), note_id="n2", creator_id="c1", brand="Oat", items=["i2"]),
    ]


def reach(who: str, stage: str, when: str, note: str = "n1", item: str = "i1", order: str | None = None) -> list[Any]:
    """Events that put ``who`` at ``stage`` (and no deeper) at ``when``."""
    out = [event("note.impression", when, note_id=note, user=who)]
    if stage in ("I", "TI", "P", "S"):
        out.append(event("note.read", when, note_id=note, user=who, dwell_ms=5_000))
    if stage in ("TI", "P", "S"):
        out.append(event("note.read", when, note_id=note, user=who, dwell_ms=45_000))
    if stage in ("P", "S"):
        oid = order or f"o-{who[:8]}-{when[:10]}"
        lines = [{"item_id": item, "quantity": 1, "price": 10.0}]
        out.append(event("market.order", when, order_id=oid, user=who, lines=lines, amount=10.0))
    if stage == "S":
        out.append(event("note.share", when, note_id=note, user=who))
    return out


def build(tmp_path: Path, plan: list[tuple[int, str | None, str | None]], oat: int = 0) -> Path:
    """A lake where person i is at stage ``before`` in week 1 and ``after`` in week 2 (None: no contact);
    ``oat`` more people touch only the rival brand's note."""
    import hongmao

    events = catalog()
    for i, before, after in plan:
        if before:
            events += reach(person(i), before, BEFORE.format(3))
        if after:
            events += reach(person(i), after, AFTER.format(10))
    for j in range(oat):
        events += reach(person(f"oat{j}"), "S", AFTER.format(10), note="n2", item="i2")
    src = tmp_path / "events.jsonl"
    src.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    lake = tmp_path / "lake"
    report = hongmao.ingest([src], lake)
    assert report.rejected == 0, report
    return lake


#: Person i: (stage in week 1, stage in week 2).
PLAN: list[tuple[int, str | None, str | None]] = (
    [(i, "A", "I") for i in range(6)]
    + [(i, "I", "TI") for i in range(6, 10)]
    + [(i, "TI", "P") for i in range(10, 17)]
    + [(i, None, "S") for i in range(17, 20)]
    + [(i, "P", None) for i in range(20, 22)]
)
