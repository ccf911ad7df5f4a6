"""Ingest through the CLI and the library: formats, every bad-input case, exit codes, de-duplication,
rejects with file/line/field/reason, and the Taobao UserBehavior adapter on the real samples."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import hongmao
from conftest import event, shared, user
from hongmao.cli.app import app

runner = CliRunner()
U = user(1)


def good_events(n: int = 5) -> list[dict[str, Any]]:
    return [
        event(
            "note.read",
            f"2025-06-0{1 + i % 9}T10:00:00+08:00",
            event_id=f"g{i}",
            note_id=f"n{i}",
            user=U,
            dwell_ms=1000 + i,
        )
        for i in range(n)
    ]


def write_jsonl(path: Path, records: list[Any]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
    return path


def invoke(*args: str, input: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def rejects(data: Path) -> list[dict[str, Any]]:
    path = data / "rejects.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


BAD_CASES = [
    ("malformed JSON", '{"id": "b1", "type": ', "(record)", "malformed JSON"),
    ("missing field", {**good_events(1)[0], "id": "b2", "data": {"user": U, "dwell_ms": 1}}, "data.note_id", "missing"),
    (
        "ill-typed field",
        {**good_events(1)[0], "id": "b3", "data": {"note_id": ["x"], "user": U, "dwell_ms": 1}},
        "data.note_id",
        "string",
    ),
    ("unknown type", {**good_events(1)[0], "id": "b4", "type": "note.teleport"}, "type", "unknown event type"),
    (
        "negative amount",
        event("market.refund", "2025-06-01T00:00:00Z", event_id="b5", order_id="o", amount=-1),
        "data.amount",
        "negative amount",
    ),
    ("no offset", {**good_events(1)[0], "id": "b6", "time": "2025-06-01T10:00:00"}, "time", "offset"),
    (
        "unparseable number",
        event("market.refund", "2025-06-01T00:00:00Z", event_id="b7", order_id="o", amount="1,5"),
        "data.amount",
        "unparseable number",
    ),
]


@pytest.mark.parametrize(("name", "record", "field", "needle"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_each_bad_record_is_rejected_with_reason_and_good_ones_kept(
    tmp_path: Path, data_dir: Path, name: str, record: Any, field: str, needle: str
) -> None:
    good = good_events(4)
    src = write_jsonl(tmp_path / "mixed.jsonl", [good[0], good[1], record, good[2], good[3]])
    result = invoke("ingest", str(src), "--data", str(data_dir), "--json")
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["duplicate"], summary["rejected"]) == (4, 0, 1)
    [entry] = rejects(data_dir)
    assert entry["file"] == str(src) and entry["line"] == 3
    assert entry["field"] == field and needle in entry["reason"], entry
    assert hongmao.stats(data_dir)["events"] == {"note.read": 4}
    assert hongmao.stats(data_dir)["rejected"] == 1


def test_reingest_adds_nothing_and_out_of_order_is_fine(tmp_path: Path, data_dir: Path) -> None:
    events = good_events(6)[::-1]  # newest first
    src = write_jsonl(tmp_path / "e.ndjson", events)
    first = invoke("ingest", str(src), "--data", str(data_dir), "--json")
    assert first.exit_code == 0 and json.loads(first.stdout)["accepted"] == 6
    again = invoke("ingest", str(src), "--data", str(data_dir), "--json")
    assert again.exit_code == 0, "duplicates are not errors"
    assert json.loads(again.stdout) == {
        "accepted": 0,
        "duplicate": 6,
        "rejected": 0,
        "rejects": str(data_dir / "rejects.jsonl"),
        "errors": [],
    }
    stats = hongmao.stats(data_dir)
    assert stats["events"] == {"note.read": 6}
    assert stats["first"].startswith("2025-06-01T02:00:00") and stats["last"].startswith("2025-06-06T02:00:00")


def test_duplicates_inside_one_file(tmp_path: Path, data_dir: Path) -> None:
    events = good_events(3)
    src = write_jsonl(tmp_path / "dup.jsonl", [*events, events[1], events[1]])
    out = json.loads(invoke("ingest", str(src), "--data", str(data_dir), "--json").stdout)
    assert (out["accepted"], out["duplicate"]) == (3, 2)


def test_csv_with_data_columns_and_json_cells(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "orders.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "type", "source", "time", "data.order_id", "data.user", "data.lines", "data.amount"])
        w.writerow(
            [
                "c1",
                "market.order",
                "market:jd",
                "2025-06-01T10:00:00+08:00",
                "o1",
                U,
                '[{"item_id": "i1", "price": 9.5, "quantity": 2}]',
                "19",
            ]
        )
        w.writerow(["c2", "market.order", "market:jd", "2025-06-01T10:00:00+08:00", "o2", U, "[{bad", "19"])
        w.writerow(
            [
                "c3",
                "market.order",
                "market:jd",
                "2025-06-01T10:00:00+08:00",
                "o3",
                U,
                '[{"item_id": "i1", "price": 1}]',
                "abc",
            ]
        )
        w.writerow(["c4", "market.order", "market:jd"])
    result = invoke("ingest", str(path), "--data", str(data_dir), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["accepted"] == 1
    bad = {r["line"]: r for r in rejects(data_dir)}
    assert "malformed JSON" in bad[3]["reason"]
    assert bad[4]["field"] == "data.amount" and bad[4]["reason"] == "unparseable number"
    assert "cells" in bad[5]["reason"]


def test_parquet_flat_and_struct_columns(tmp_path: Path, data_dir: Path) -> None:
    flat = pa.table(
        {
            "id": ["p1", "p2"],
            "type": ["note.like", "note.like"],
            "source": ["community", "community"],
            "time": ["2025-06-01T10:00:00+08:00", "2025-06-01T10:00:00"],
            "data.note_id": ["n1", "n2"],
            "data.user": [U, U],
        }
    )
    pq.write_table(flat, tmp_path / "flat.parquet")
    nested = pa.table(
        {
            "id": ["s1"],
            "type": ["note.collect"],
            "source": ["community"],
            "time": ["2025-06-01T10:00:00Z"],
            "data": [{"note_id": "n1", "user": U}],
        }
    )
    pq.write_table(nested, tmp_path / "nested.parquet")
    result = invoke(
        "ingest", str(tmp_path / "flat.parquet"), str(tmp_path / "nested.parquet"), "--data", str(data_dir), "--json"
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["accepted"] == 2
    [entry] = rejects(data_dir)
    assert entry["line"] == 2 and entry["field"] == "time"


def test_standard_input(data_dir: Path) -> None:
    text = "\n".join(json.dumps(e) for e in good_events(3)) + "\n"
    result = invoke("ingest", "-", "--data", str(data_dir), "--json", input=text)
    assert result.exit_code == 0 and json.loads(result.stdout)["accepted"] == 3


def test_usage_errors_exit_2(tmp_path: Path, data_dir: Path) -> None:
    assert invoke("ingest", str(tmp_path / "missing.jsonl"), "--data", str(data_dir)).exit_code == 2
    (tmp_path / "x.txt").write_text("{}", encoding="utf-8")
    assert invoke("ingest", str(tmp_path / "x.txt"), "--data", str(data_dir)).exit_code == 2
    assert invoke("ingest", "--data", str(data_dir)).exit_code == 2
    assert invoke("ingest", str(tmp_path / "x.txt"), "--from", "nope").exit_code == 2
    assert not (data_dir / "rejects.jsonl").exists()


def test_taobao_userbehavior_adapter_on_real_sample(data_dir: Path) -> None:
    sample = shared("taobao_userbehavior/UserBehavior_sample_betashepherd.csv")
    result = invoke("ingest", "--from", "taobao-userbehavior", str(sample), "--data", str(data_dir), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["accepted"] + out["duplicate"] == 10_000
    events = hongmao.stats(data_dir)["events"]
    # The published counts for this sample: pv 9,046, cart 536, fav 212, buy 206 (less exact repeats).
    total = {"market.visit": 9046, "market.cart": 536, "market.favorite": 212, "market.order": 206}
    assert set(events) == set(total)
    assert sum(total.values()) - sum(events.values()) == out["duplicate"]
    for kind, count in total.items():
        assert count - out["duplicate"] <= events[kind] <= count
    raw_ids = {line.split(",")[0] for line in sample.read_text(encoding="utf-8").splitlines()[:50]}
    blob = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert not any(f'"{rid}"'.encode() in blob for rid in raw_ids)


def test_taobao_adapter_rejects_bad_rows(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "ub.csv"
    path.write_text("1,2,3,pv,1511658000\n1,2,3,teleport,1511658000\n1,2,3,pv,yesterday\n1,2\n", encoding="utf-8")
    result = invoke("ingest", "--from", "taobao-userbehavior", str(path), "--data", str(data_dir), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["accepted"] == 1
    reasons = {r["line"]: r["reason"] for r in rejects(data_dir)}
    assert "behavior_type" in reasons[2] and "timestamp" in reasons[3] and "columns" in reasons[4]


def test_library_ingest_matches_cli(tmp_path: Path, data_dir: Path) -> None:
    src = write_jsonl(tmp_path / "e.jsonl", good_events(4))
    report = hongmao.ingest([src], data_dir)
    assert report.to_dict()["accepted"] == 4
    assert hongmao.stats(data_dir)["events"] == {"note.read": 4}
