"""Ingest of one batch of records with an outcome per record: what the HTTP API and the demo store use.

The same validation as file ingest (:func:`hongmao.ingestion.pipeline.check`), the same rejects file and the
same de-duplication by event id; the difference is the answer: each record is reported ``accepted``,
``duplicate`` (its id is already in the lake, or earlier in the batch) or ``rejected`` with its problems.
An optional ``gate`` refuses valid events the caller may not send (a brand sending another brand's data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hongmao.contract import EventBase, Problem, to_row
from hongmao.ingestion.pipeline import check, reject_entry
from hongmao.ingestion.readers import RawRecord
from hongmao.lake import Lake, catalog

Status = Literal["accepted", "duplicate", "rejected"]
Gate = Callable[[EventBase], Problem | None]


@dataclass
class RecordOutcome:
    index: int
    id: str | None
    type: str | None
    status: Status
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "id": self.id, "type": self.type, "status": self.status}
        if self.problems:
            out["problems"] = [{"field": p.field, "reason": p.reason} for p in self.problems]
        return out


@dataclass
class BatchReport:
    records: list[RecordOutcome]

    def count(self, status: Status) -> int:
        return sum(1 for r in self.records if r.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.count("accepted"),
            "duplicate": self.count("duplicate"),
            "rejected": self.count("rejected"),
            "records": [r.to_dict() for r in self.records],
        }


def _peek(value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, dict):
        return None, None
    rid, rtype = value.get("id"), value.get("type")
    return (str(rid)[:256] if rid is not None else None), (str(rtype)[:64] if rtype is not None else None)


def ingest_batch(lake: Lake, records: Sequence[Any], *, name: str = "api", gate: Gate | None = None) -> BatchReport:
    """Validate ``records`` (dicts as parsed from JSON), store the good new ones, report every one."""
    outcomes: list[RecordOutcome] = []
    events: list[tuple[RecordOutcome, EventBase]] = []
    rejects: list[dict[str, Any]] = []
    for index, value in enumerate(records):
        raw = RawRecord(line=index + 1, value=value if isinstance(value, dict) else None)
        if not isinstance(value, dict):
            raw = RawRecord(line=index + 1, value=None, error=f"expected a JSON object, got {type(value).__name__}")
        result = check(raw)
        if not isinstance(result, list) and gate is not None:
            refused = gate(result)
            result = [refused] if refused is not None else result
        rid, rtype = _peek(value)
        if isinstance(result, list):
            outcome = RecordOutcome(index, rid, rtype, "rejected", result)
            rejects.append(reject_entry(name, raw, result))
        else:
            outcome = RecordOutcome(index, result.id, rtype, "accepted")
            events.append((outcome, result))
        outcomes.append(outcome)
    with lake.writer():
        if rejects:
            lake.reject(rejects)
        if events:
            with lake.connect("looking up event ids") as conn:
                known = catalog.existing_ids(conn, [e.id for _, e in events])
            fresh: dict[str, dict[str, Any]] = {}
            for outcome, event in events:
                if event.id in known or event.id in fresh:
                    outcome.status = "duplicate"
                else:
                    fresh[event.id] = to_row(event)
            if fresh:
                # Under the same write lock as the look-up: nobody else can add one of these ids in between.
                lake.append(list(fresh.values()))
    return BatchReport(outcomes)
