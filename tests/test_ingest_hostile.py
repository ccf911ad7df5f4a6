"""Hostile input: every case that used to end in a traceback, a 500 or lost good records is now a reject naming
file, line, field and reason, and every good record beside it is stored; exit codes and counts say what
happened (0 all stored, 1 some rejected, 2 usage, 3 a file unreadable as its format, 4 the lake busy)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import hongmao
from conftest import event, user
from hongmao.cli.app import app

runner = CliRunner()
U = user(1)


def good(i: int) -> dict[str, Any]:
    return event("note.read", "2025-06-01T10:00:00+08:00", event_id=f"g{i}", note_id=f"n{i}", user=U, dwell_ms=5)


def line(record: Any) -> bytes:
    return (record if isinstance(record, bytes) else json.dumps(record).encode()) + b"\n"


def jsonl(path: Path, records: list[Any]) -> Path:
    path.write_bytes(b"".join(line(r) for r in records))
    return path


def ingest(*args: str) -> Any:
    return runner.invoke(app, ["ingest", *args, "--json"], catch_exceptions=False)


def rejects(data: Path) -> list[dict[str, Any]]:
    path = data / "rejects.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def stored(data: Path) -> dict[str, int]:
    events: dict[str, int] = hongmao.stats(data)["events"]
    return events


def assert_one_reject(data: Path, file: Path, line_no: int, field: str, needle: str) -> dict[str, Any]:
    [entry] = rejects(data)
    assert (entry["file"], entry["line"], entry["field"]) == (str(file), line_no, field), entry
    assert needle in entry["reason"], entry
    return entry


def read_event(event_id: str, **data: Any) -> dict[str, Any]:
    return event("note.read", "2025-06-01T10:00:00+08:00", event_id=event_id, **{"note_id": "n", "user": U, **data})


# --- record-level cases in a JSON-lines file: the bad record is line 3 of 5 ----------------------------------

RECORD_CASES = [
    ("time before year 1 in UTC", read_event("b", dwell_ms=1) | {"time": "0001-01-01T00:00:00+08:00"}, "time", "range"),
    ("time after 9999 in UTC", read_event("b", dwell_ms=1) | {"time": "9999-12-31T23:59:59-08:00"}, "time", "range"),
    ("a boolean is not a number", read_event("b", dwell_ms=True), "data.dwell_ms", "boolean"),
    ("a NUL in an id", read_event("a\x00b", dwell_ms=1), "id", "NUL"),
    ("a NUL in a data id", read_event("b", dwell_ms=1, note_id="n\x00"), "data.note_id", "NUL"),
    ("deep nesting", b'{"id": "b", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "(record)", "nested deeper"),
    ("a lone surrogate in an id", b'{"id": "\\ud800", "type": "note.read"}', "id", "surrogate"),
    ("a lone surrogate in a type", b'{"id": "b", "type": "\\udfff"}', "type", "surrogate"),
]


@pytest.mark.parametrize(("name", "bad", "field", "needle"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_a_bad_record_is_rejected_and_the_good_ones_kept(
    tmp_path: Path, data_dir: Path, name: str, bad: Any, field: str, needle: str
) -> None:
    src = jsonl(tmp_path / "in.jsonl", [good(1), good(2), bad, good(3), good(4)])
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["accepted"] == 4
    assert_one_reject(data_dir, src, 3, field, needle)
    assert stored(data_dir) == {"note.read": 4}


def test_a_nul_in_an_id_never_blocks_a_later_resend(tmp_path: Path, data_dir: Path) -> None:
    src = jsonl(tmp_path / "in.jsonl", [good(1), read_event("x\x00y", dwell_ms=1)])
    for _ in range(3):
        result = ingest(str(src), "--data", str(data_dir))
        assert result.exit_code == 1, result.output
    assert stored(data_dir) == {"note.read": 1}


def test_one_invalid_utf8_byte_rejects_only_its_line(tmp_path: Path, data_dir: Path) -> None:
    broken = json.dumps(good(9)).encode().replace(b'"n9"', b'"n\xff9"')
    src = jsonl(tmp_path / "in.jsonl", [good(1), good(2), broken, good(3), good(4)])
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 1, result.output
    entry = assert_one_reject(data_dir, src, 3, "(record)", "not UTF-8 text at byte")
    column = broken.index(b"\xff") + 1
    assert entry["reason"].startswith(f"not UTF-8 text at byte {column} "), entry
    assert stored(data_dir) == {"note.read": 4}


def test_line_numbers_count_blank_lines_and_crlf(tmp_path: Path, data_dir: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + line(good(1)).replace(b"\n", b"\r\n") + b"\n  \n" + b"{oops\r\n" + line(good(2)))
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 1, result.output
    assert_one_reject(data_dir, src, 4, "(record)", "malformed JSON")
    assert stored(data_dir) == {"note.read": 2}


# --- CSV ----------------------------------------------------------------------------------------------------

HEADER = ["id", "type", "source", "time", "data.note_id", "data.user", "data.dwell_ms"]


def csv_row(i: int, note: str | None = None) -> list[str]:
    return [f"c{i}", "note.read", "community", "2025-06-01T10:00:00+08:00", note or f"n{i}", U, "5"]


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([HEADER, *rows])
    return out.getvalue()


def test_csv_invalid_utf8_rejects_only_its_row(tmp_path: Path, data_dir: Path) -> None:
    text = csv_text([csv_row(1), csv_row(2, "nXX"), csv_row(3)]).encode()
    src = tmp_path / "in.csv"
    src.write_bytes(text.replace(b"nXX", b"n\xc3\x28"))
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 1, result.output
    assert_one_reject(data_dir, src, 3, "(record)", "not UTF-8 text at byte")
    assert stored(data_dir) == {"note.read": 2}


def test_csv_field_over_128_kib_rejects_only_its_row(tmp_path: Path, data_dir: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(csv_text([csv_row(1), csv_row(2, "n" * 200_000), csv_row(3), csv_row(4)]), encoding="utf-8")
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 1, result.output
    assert_one_reject(data_dir, src, 3, "(record)", "larger than")
    assert stored(data_dir) == {"note.read": 3}


def test_csv_unterminated_quote_swallows_no_good_row(tmp_path: Path, data_dir: Path) -> None:
    rows = csv_text([csv_row(1)]) + 'c2,note.read,community,"2025-06-01T10:00:00+08:00,n2,x,5\n'
    rows += "".join(csv_text([csv_row(i)]).split("\n", 1)[1] for i in (3, 4, 5))
    src = tmp_path / "in.csv"
    src.write_text(rows, encoding="utf-8")
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 1, result.output
    assert_one_reject(data_dir, src, 3, "(record)", "unterminated quote")
    assert stored(data_dir) == {"note.read": 4}


def test_csv_quoted_cells_may_span_lines(tmp_path: Path, data_dir: Path) -> None:
    header = [*HEADER[:-1], "data.title"]
    out = io.StringIO()
    published = ["p1", "note.published", "community", "2025-06-01T10:00:00+08:00", "n1", "", ""]
    out.write(",".join(["id", "type", "source", "time", "data.note_id", "data.creator_id", "data.title"]) + "\n")
    csv.writer(out, lineterminator="\n").writerow([*published[:5], "cr1", "two\nlines"])
    csv.writer(out, lineterminator="\n").writerow([*published[:4], "n2", "cr1", "one line"])
    src = tmp_path / "in.csv"
    src.write_text(out.getvalue(), encoding="utf-8")
    assert header  # the note.read header is not used here
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 0, result.output
    assert stored(data_dir) == {"note.published": 1}  # same id p1 twice: the second is a duplicate
    assert json.loads(result.stdout)["duplicate"] == 1


def test_csv_deeply_nested_json_cell_is_a_reject(tmp_path: Path, data_dir: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(csv_text([csv_row(1), [*csv_row(2)[:6], "[" * 100_000], csv_row(3)]), encoding="utf-8")
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 1, result.output
    assert_one_reject(data_dir, src, 3, "(record)", "nested deeper")
    assert stored(data_dir) == {"note.read": 2}


def test_taobao_rows_with_bad_bytes_or_quotes_cost_only_their_line(tmp_path: Path, data_dir: Path) -> None:
    src = tmp_path / "ub.csv"
    src.write_bytes(b'1,2,3,pv,1511658000\n1\xff,2,3,pv,1511658001\n"1,2,3,pv,1511658002\n1,2,3,buy,1511658003\n')
    result = runner.invoke(
        app, ["ingest", "--from", "taobao-userbehavior", str(src), "--data", str(data_dir), "--json"]
    )
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["accepted"] == 2
    assert {r["line"]: r["reason"].split(":")[0] for r in rejects(data_dir)} == {
        2: "not UTF-8 text at byte 2 of the line (invalid start byte)",
        3: "unterminated quote",
    }


# --- file-level errors and a busy lake have exit codes of their own ----------------------------------------


def test_an_unreadable_parquet_file_exits_3_and_the_other_files_are_ingested(tmp_path: Path, data_dir: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    src = jsonl(tmp_path / "in.jsonl", [good(1), good(2)])
    result = ingest(str(broken), str(src), "--data", str(data_dir))
    assert result.exit_code == 3, result.output
    out = json.loads(result.stdout)
    assert out["accepted"] == 2 and out["rejected"] == 0
    [error] = out["errors"]
    assert error["file"] == str(broken) and "not a readable Parquet file" in error["reason"]
    assert rejects(data_dir) == []


def test_a_repeated_csv_header_exits_3(tmp_path: Path, data_dir: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,type,id\nx,note.read,y\n", encoding="utf-8")
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 3, result.output
    assert "repeats a column" in json.loads(result.stdout)["errors"][0]["reason"]


def test_a_damaged_gzip_stream_exits_3_keeping_what_was_read(tmp_path: Path, data_dir: Path) -> None:
    import gzip

    whole = gzip.compress(b"".join(line(good(i)) for i in range(2000)))
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(whole[: len(whole) // 2])
    result = ingest(str(src), "--data", str(data_dir))
    assert result.exit_code == 3, result.output
    out = json.loads(result.stdout)
    assert 0 < out["accepted"] < 2000 and "cannot read after line" in out["errors"][0]["reason"]


def test_a_busy_lake_exits_4_and_stores_nothing(tmp_path: Path, data_dir: Path) -> None:
    src = jsonl(tmp_path / "in.jsonl", [good(1)])
    assert ingest(str(src), "--data", str(data_dir)).exit_code == 0
    other = jsonl(tmp_path / "other.jsonl", [good(2)])
    with hongmao.open_lake(data_dir) as lake, lake.writer():
        result = ingest(str(other), "--data", str(data_dir), "--wait", "0")
    assert result.exit_code == 4, result.output
    assert "busy" in result.stderr
    assert stored(data_dir) == {"note.read": 1}


def test_ingest_help_documents_the_exit_codes() -> None:
    text = runner.invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"}).stdout
    for code in ("0", "1", "2", "3", "4"):
        assert f"{code}:" in text or f"{code} " in text
    assert "busy" in text and "unreadable" in text


# --- commands that read a lake never invent one ------------------------------------------------------------


@pytest.mark.parametrize("command", [["attribute"], ["stats"], ["roi"], ["trust"]])
def test_reading_a_lake_that_is_not_there_fails_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    import subprocess
    import sys

    typo = tmp_path / "typo"
    hongmao_cmd = str(Path(sys.executable).with_name("hongmao"))
    proc = subprocess.run([hongmao_cmd, *command, "--data", str(typo)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    said = " ".join(proc.stderr.split())  # unwrapped: the console breaks long lines
    assert f"no lake at {typo}: check --data" in said and "Traceback" not in said
    assert not typo.exists()


# --- a reject is recorded once ------------------------------------------------------------------------------


def test_reingesting_a_file_does_not_record_its_rejects_again(tmp_path: Path, data_dir: Path) -> None:
    src = jsonl(tmp_path / "in.jsonl", [good(1), read_event("b", dwell_ms=True)])
    for _ in range(3):
        result = ingest(str(src), "--data", str(data_dir))
        assert result.exit_code == 1 and json.loads(result.stdout)["rejected"] == 1  # this run did reject it
    assert hongmao.stats(data_dir)["rejected"] == 1
    assert len(rejects(data_dir)) == 1
    moved = jsonl(tmp_path / "again.jsonl", [read_event("b", dwell_ms=True)])  # another file: another reject
    assert ingest(str(moved), "--data", str(data_dir)).exit_code == 1
    assert hongmao.stats(data_dir)["rejected"] == 2


def test_rejects_recovered_after_a_crash_are_recognised_when_they_come_again(data_dir: Path) -> None:
    from hongmao.lake import Lake

    entry = {"file": "in.jsonl", "line": 2, "id": "b", "type": "note.read", "field": "time", "reason": "bad"}
    with Lake.open(data_dir) as lake:
        lake.reject([{**entry, "line": 1}])
        path = lake.rejects_path
    with path.open("ab") as handle:  # written, then a crash before the catalog counted it
        handle.write((json.dumps(entry) + "\n").encode())
    with Lake.open(data_dir) as lake:
        assert lake.stats()["rejected"] == 2
        assert lake.reject([entry, {**entry, "line": 1}]) == 0
        assert lake.reject([{**entry, "line": 3}, {**entry, "line": 3}]) == 1
        assert lake.stats()["rejected"] == 3
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


def test_the_lake_refuses_a_nul_in_an_id_from_any_caller(data_dir: Path) -> None:
    from hongmao.contract import parse_event, to_row
    from hongmao.errors import LakeError
    from hongmao.lake import Lake

    row = to_row(parse_event(good(1))) | {"id": "a\x00b"}
    with Lake.open(data_dir) as lake, pytest.raises(LakeError, match="NUL"):
        lake.append([row])


# --- pseudonymize -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("bad.jsonl", b'{"phone": "13800138000"}\n{"phone": "1380013800\n', ":2: malformed JSON"),
        ("bytes.jsonl", b'{"phone": "13800138000"}\n\n{"phone": "1\xff"}\n', ":3: not UTF-8 text at byte 13"),
        ("deep.jsonl", b'{"phone": "13800138000"}\n' + b"[" * 100_000 + b"\n", ":2: nested deeper"),
        ("bad.csv", b'phone,city\n13800138000,x\n"13800138001,y\n13800138002,z\n', ":3: unterminated quote"),
        ("cells.csv", b"phone,city\n13800138000,x,extra\n", ":2: 3 cells for 2 columns"),
    ],
)
def test_pseudonymize_names_the_bad_line_and_leaves_no_output(
    tmp_path: Path, name: str, content: bytes, needle: str
) -> None:
    from hongmao.errors import InputError

    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / f"out-{name}"
    result = runner.invoke(app, ["pseudonymize", str(src), "--columns", "phone", "--kind", "phone", "--out", str(out)])
    assert isinstance(result.exception, InputError), result.output
    assert f"{src}{needle}" in str(result.exception)
    assert "1380013800" not in str(result.exception)  # never the raw identifier
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == [name]


def test_pseudonymize_keeps_a_lone_surrogate_escaped(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"phone": "13800138000", "note": "\\ud800"}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["pseudonymize", str(src), "--columns", "phone", "--kind", "phone", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["note"] == "\ud800" and len(written["phone"]) == 32


# --- the HTTP API: the same cases are rejects or a 400, never a 500 ----------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from webkit import running_site

    root = tmp_path_factory.mktemp("hostile-api")
    jsonl(root / "seed.jsonl", [good(0)])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HONGMAO_MATCH_KEY", "test-match-key-0123456789abcdef")
        hongmao.ingest([root / "seed.jsonl"], root / "lake")
    with running_site(root / "lake") as s:
        yield s


def post(site: Any, content: bytes, content_type: str = "application/json") -> Any:
    with site.client(site.operator) as c:
        return c.post("/api/v1/events", content=content, headers={"content-type": content_type})


API_CASES = [
    ("time overflow", read_event("a1", dwell_ms=1) | {"time": "0001-01-01T00:00:00+08:00"}, "time"),
    ("a boolean", read_event("a2", dwell_ms=True), "data.dwell_ms"),
    ("a NUL in an id", read_event("a3\x00", dwell_ms=1), "id"),
    ("a lone surrogate in an id", read_event("a4\ud800", dwell_ms=1), "id"),
    ("a lone surrogate in a type", read_event("a5", dwell_ms=1) | {"type": "\udfff"}, "type"),
    ("a lone surrogate in a field name", read_event("a6", dwell_ms=1, **{"x\ud800": 1}), "data"),
]


@pytest.mark.parametrize(("name", "bad", "field"), API_CASES, ids=[c[0] for c in API_CASES])
def test_the_api_rejects_the_bad_record_and_keeps_the_good(site: Any, name: str, bad: Any, field: str) -> None:
    mine = good(100 + API_CASES.index(next(c for c in API_CASES if c[0] == name)))
    body = json.dumps([mine, bad]).encode()  # ensure_ascii: the surrogates travel as \u escapes
    response = post(site, body)
    assert response.status_code == 200, response.text
    first, second = response.json()["records"]
    assert first["status"] == "accepted" and second["status"] == "rejected", response.text
    assert second["problems"][0]["field"] == field


def test_the_api_answers_deep_nesting_with_400_or_a_reject(site: Any) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = post(site, b'[{"id": "d1", "data": ' + deep + b"}]")
    assert response.status_code == 400 and "nested deeper" in response.text
    assert post(site, deep).status_code == 400
    lines = json.dumps(good(200)).encode() + b"\n" + b'{"data": ' + deep + b"}\n" + b"\xff{}\n"
    response = post(site, lines, "application/x-ndjson")
    assert response.status_code == 200, response.text
    records = response.json()["records"]
    assert [r["status"] for r in records] == ["accepted", "rejected", "rejected"]
    assert "line 2: nested deeper" in records[1]["problems"][0]["reason"]
    assert "line 3: not UTF-8 text at byte 1" in records[2]["problems"][0]["reason"]
