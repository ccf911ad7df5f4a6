"""Ingest of one batch of records with an outcome per record: what the HTTP API and the demo store use.

The same validation as file ingest (:func:`hongmao.ingestion.pipeline.check`), the same rejects file and the
same de-duplication by event id; the difference is the answer: each record is reported ``accepted``,
``duplicate`` (its id is already in the lake, or earlier in the batch) or ``rejected`` with its problems.
An optional ``gate`` refuses valid events the caller may not send (a brand sending another brand's data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from hongmao.contract import EventBase, Problem, to_row
from hongmao.ingestion.pipeline import check, printable, reject_entry
from hongmao.ingestion.readers import RawRecord
from hongmao.lake import Lake, catalog

Status = Literal["accepted", "duplicate", "rejected"]


class Gate(Protocol):
    """Refuses valid events the caller may not send; :meth:`prepare` sees the batch first, under the write lock."""

    def prepare(self, events: Sequence[EventBase]) -> None: ...

    def __call__(self, event: EventBase) -> Problem | None: ...


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
            # printable: a field named with a lone surrogate could not be sent as UTF-8.
            out["problems"] = [{"field": printable(p.field), "reason": printable(p.reason)} for p in self.problems]
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


@dataclass(frozen=True)
class Unreadable:
    """A record its sender's framing could not turn into JSON (a JSON line that is not JSON, say): rejected
    with ``reason`` in its place in the batch."""

    reason: str


def _peek(value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, dict):
        return None, None
    rid, rtype = value.get("id"), value.get("type")
    return (
        printable(str(rid)[:256]) if isinstance(rid, str | int | float) else None,
        printable(str(rtype)[:64]) if isinstance(rtype, str) else None,
    )


def ingest_batch(lake: Lake, records: Sequence[Any], *, name: str = "api", gate: Gate | None = None) -> BatchReport:
    """Validate ``records`` (dicts as parsed from JSON), store the good new ones, report every one."""
    outcomes: list[RecordOutcome] = []
    valid: list[tuple[RecordOutcome, RawRecord, EventBase]] = []
    rejects: list[dict[str, Any]] = []
    for index, value in enumerate(records):
        raw = RawRecord(line=index + 1, value=value if isinstance(value, dict) else None)
        if isinstance(value, Unreadable):
            raw = RawRecord(line=index + 1, value=None, error=value.reason)
        elif not isinstance(value, dict):
            raw = RawRecord(line=index + 1, value=None, error=f"expected a JSON object, got {type(value).__name__}")
        result = check(raw)
        rid, rtype = _peek(value)
        if isinstance(result, list):
            outcome = RecordOutcome(index, rid, rtype, "rejected", result)
            rejects.append(reject_entry(name, raw, result))
        else:
            outcome = RecordOutcome(index, result.id, rtype, "accepted")
            valid.append((outcome, raw, result))
        outcomes.append(outcome)
    with lake.writer():
        events: list[tuple[RecordOutcome, EventBase]] = []
        if gate is not None and valid:
            # Under the write lock: who owns an id cannot change between the gate's look-up and the append.
            gate.prepare([event for _, _, event in valid])
        for outcome, raw, event in valid:
            refused = gate(event) if gate is not None else None
            if refused is None:
                events.append((outcome, event))
            else:
                outcome.status, outcome.problems = "rejected", [refused]
                rejects.append(reject_entry(name, raw, [refused]))
        if rejects:
            lake.reject(sorted(rejects, key=lambda entry: int(entry["line"])))
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
