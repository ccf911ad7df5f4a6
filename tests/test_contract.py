"""The contract: every documented example validates, the schema exports, and bad records get reasons."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hongmao.contract import EVENT_TYPES, json_schema, to_row, validate, validate_json
from hongmao.contract.envelope import EventBase

DOC = Path(__file__).resolve().parents[1] / "docs" / "contract.md"


def doc_examples() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [json.loads(b) for b in blocks]


def test_every_type_has_a_valid_documented_example() -> None:
    examples = doc_examples()
    assert {e["type"] for e in examples} == set(EVENT_TYPES)
    for example in examples:
        result = validate(example)
        assert isinstance(result, EventBase), (example["type"], result)
        row = to_row(result)
        assert row["id"] == example["id"] and row["type"] == example["type"]
        assert row["time"].utcoffset().total_seconds() == 0


def test_json_schema_covers_every_type() -> None:
    schema = json_schema()
    text = json.dumps(schema)
    for name in EVENT_TYPES:
        assert f'"{name}"' in text
    assert schema["$schema"].endswith("2020-12/schema")


GOOD = {
    "id": "e1",
    "type": "note.read",
    "source": "community",
    "time": "2025-06-01T20:15:00+08:00",
    "data": {"note_id": "n1", "user": "0123456789abcdef0123456789abcdef", "dwell_ms": 3000},
}


def _with(path: str, value: object) -> dict[str, object]:
    record = json.loads(json.dumps(GOOD))
    target = record
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[key]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return record


@pytest.mark.parametrize(
    ("record", "field", "needle"),
    [
        (_with("type", "note.reed"), "type", "unknown event type"),
        (_with("time", "2025-06-01T20:15:00"), "time", "offset"),
        (_with("time", 1717244100), "time", "RFC 3339"),
        (_with("data.note_id", KeyError), "data.note_id", "missing"),
        (_with("data.dwell_ms", "long"), "data.dwell_ms", "unparseable number"),
        (_with("data.user", "13800138000"), "data.user", "not a pseudonym"),
        (_with("data.extra", 1), "data.extra", "unknown field"),
        (_with("source", "somewhere"), "source", "pattern"),
        (_with("id", KeyError), "id", "missing"),
    ],
)
def test_bad_records_name_field_and_reason(record: dict[str, object], field: str, needle: str) -> None:
    problems = validate(record)
    assert isinstance(problems, list)
    assert any(p.field == field and needle in p.reason for p in problems), problems


def test_negative_amount_is_rejected_with_reason() -> None:
    order = {
        "id": "o",
        "type": "market.order",
        "source": "market:jd",
        "time": "2025-06-01T20:15:00Z",
        "data": {"order_id": "o1", "user": "0" * 32, "lines": [{"item_id": "i", "price": 5}], "amount": -5},
    }
    problems = validate(order)
    assert isinstance(problems, list)
    assert [(p.field, "negative amount" in p.reason) for p in problems] == [("data.amount", True)]


def test_reasons_never_echo_the_value() -> None:
    problems = validate_json(json.dumps(_with("data.user", "13800138000")))
    assert isinstance(problems, list)
    assert "13800138000" not in json.dumps([p.__dict__ for p in problems])


def test_malformed_json_is_a_record_problem() -> None:
    problems = validate_json('{"id": "x", ')
    assert isinstance(problems, list) and problems[0].field == "(record)" and "malformed JSON" in problems[0].reason


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("campaign.created", {"campaign_id": "c1", "brand": "B", "spend": 10}),
        ("note.boosted", {"note_id": "n1", "brand": "B", "spend": 10}),
    ],
)
def test_a_period_must_end_after_it_starts(kind: str, data: dict[str, object]) -> None:
    bad = {
        "id": "c",
        "type": kind,
        "source": "brand",
        "time": "2025-06-01T00:00:00Z",
        "data": {**data, "start": "2025-06-02T00:00:00Z", "end": "2025-06-01T00:00:00Z"},
    }
    problems = validate(bad)
    assert isinstance(problems, list) and "end must be after start" in problems[0].reason
