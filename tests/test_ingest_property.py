"""Property: whatever bytes arrive, ingest answers with a documented exit code or status, never a traceback or a
5xx, and stores every good record in the input exactly once.

Inputs mix valid events, valid events with one thing broken (a flipped, inserted or deleted byte; a hostile
value: deep nesting, a lone surrogate, a NUL, a boolean, a time with no UTC equivalent, a cell over 128 KiB)
and raw bytes. "Good" is judged line by line by the contract itself, so the property checks that readers and
the lake lose, duplicate or invent nothing around it; the unbroken events are also checked by their ids alone.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import hongmao
from conftest import TEST_KEY, event, user
from hongmao.cli.app import app
from hongmao.contract import EventBase, validate_json

runner = CliRunner()
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: The documented exit codes of ``hongmao ingest`` (see its --help); JSON lines have no file-level errors.
EXIT_CODES = {0, 1, 2, 3, 4}

EVIL = [
    b'"\\ud800"',
    b'"a\\u0000b"',
    b"true",
    b"1e999",
    b'"0001-01-01T00:00:00+08:00"',
    b'"9999-12-31T23:59:59-08:00"',
    b"[" * 5000 + b"]" * 5000,
    b"[" * 100_000,
    b"{",
    b'"' + b"x" * 140_000 + b'"',
    b"\xff\xfe",
]


def make_event(kind: str, n: int) -> dict[str, Any]:
    t = f"2025-06-{1 + n % 28:02d}T{n % 24:02d}:00:00+08:00"
    who = user(n % 5)
    if kind == "note.read":
        return event(kind, t, event_id=f"e{n}", note_id=f"n{n % 7}", user=who, dwell_ms=n % 90_000)
    if kind == "market.order":
        lines = [{"item_id": f"i{n % 3}", "price": 9.5, "quantity": 1 + n % 3}]
        return event(kind, t, event_id=f"e{n}", order_id=f"o{n}", user=who, lines=lines, amount=9.5)
    if kind == "market.search":
        return event(kind, t, event_id=f"e{n}", user=who, query=f"面霜 {n}")
    return event(kind, t, event_id=f"e{n}", note_id=f"n{n}", creator_id="c1", items=["i1"], title="种草")


events = st.builds(
    make_event, st.sampled_from(["note.read", "market.order", "market.search", "note.published"]), st.integers(0, 999)
)


def encoded(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


@st.composite
def broken(draw: st.DrawFn) -> bytes:
    """A valid event with one thing broken."""
    record = draw(events)
    how = draw(st.sampled_from(["flip", "insert", "delete", "value", "value"]))
    if how == "value":
        data = record["data"]
        target, key = draw(st.sampled_from([(record, k) for k in record] + [(data, k) for k in data]))
        target[key] = "\x00EVIL\x00"
        return encoded(record).replace(b'"\\u0000EVIL\\u0000"', draw(st.sampled_from(EVIL)))
    raw = encoded(record)
    at = draw(st.integers(0, len(raw) - 1))
    if how == "flip":
        return raw[:at] + bytes([draw(st.integers(0, 255).filter(lambda b: b != 10))]) + raw[at + 1 :]
    if how == "insert":
        return raw[:at] + draw(st.binary(min_size=1, max_size=4)).replace(b"\n", b"") + raw[at:]
    return raw[:at] + raw[at + draw(st.integers(1, 8)) :]


lines = st.lists(
    st.one_of(events.map(encoded), broken(), st.binary(max_size=60).map(lambda b: b.replace(b"\n", b""))),
    min_size=1,
    max_size=10,
)


def good_ids(data: bytes) -> list[str]:
    """The ids of the lines the contract accepts, judged one line at a time (as JSON lines are defined)."""
    ids = []
    for number, chunk in enumerate(data.split(b"\n"), start=1):
        if number == 1 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text.strip():
            result = validate_json(text)
            if isinstance(result, EventBase):
                ids.append(result.id)
    return ids


def stored_ids(data_dir: Path) -> Counter[str]:
    with hongmao.open_lake(data_dir) as lake:
        paths = lake.segment_paths()
    return Counter(i for p in paths for i in pq.read_table(p, columns=["id"]).column("id").to_pylist())


@pytest.fixture
def scratch() -> Iterator[Path]:
    # One directory for the test; each example makes its own lake inside it (function-scoped fixtures are not
    # reset between examples, so nothing the examples share may hold state).
    with tempfile.TemporaryDirectory(prefix="hongmao-prop-") as root:
        yield Path(root)


_examples = iter(range(10**9))


def run_ingest(scratch: Path, name: str, data: bytes, *extra: str) -> tuple[Any, Path]:
    n = next(_examples)
    src, lake = scratch / f"{n}-{name}", scratch / f"lake-{n}"
    src.write_bytes(data)
    result = runner.invoke(app, ["ingest", str(src), "--data", str(lake), "--json", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result, lake


@SETTINGS
@given(records=lines)
def test_any_json_lines_file(scratch: Path, records: list[bytes]) -> None:
    data = b"\n".join(records) + b"\n"
    result, lake = run_ingest(scratch, "in.jsonl", data)
    assert result.exit_code in {0, 1}, result.output  # JSON lines: every fault is a record's
    out = json.loads(result.stdout)
    stored = stored_ids(lake)
    assert set(stored) == set(good_ids(data))
    assert all(count == 1 for count in stored.values())
    assert out["accepted"] == sum(stored.values())
    for raw in records:  # an unbroken event is good by construction
        if raw.startswith(b'{"id": "e') and raw.endswith(b"}") and b"[[" not in raw:
            valid = validate_json(raw)
            if isinstance(valid, EventBase):
                assert stored[valid.id] == 1


@SETTINGS
@given(records=st.lists(events, min_size=1, max_size=8), hostile=st.lists(broken(), min_size=1, max_size=3))
def test_valid_events_survive_any_neighbours(
    scratch: Path, records: list[dict[str, Any]], hostile: list[bytes]
) -> None:
    ids = {r["id"] for r in records}
    mixed = [encoded(r) for r in records]
    for i, raw in enumerate(hostile):
        mixed.insert((i * 7) % (len(mixed) + 1), raw)
    result, lake = run_ingest(scratch, "in.ndjson", b"\n".join(mixed))
    assert result.exit_code in {0, 1}, result.output
    stored = stored_ids(lake)
    assert ids <= set(stored) and all(count == 1 for count in stored.values())


CSV_HEADER = b"id,type,source,time,data.note_id,data.user,data.dwell_ms\n"
csv_cells = st.one_of(
    st.sampled_from(["", "true", "1e999", "0001-01-01T00:00:00+08:00", "[" * 3000, "x" * 140_000, "a\x00b"]),
    st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape")),
)


@st.composite
def csv_rows(draw: st.DrawFn) -> tuple[bytes, str | None]:
    """A valid note.read row (and its id), or one with a cell replaced by something hostile (and None)."""
    n = draw(st.integers(0, 999))
    cells = [f"r{n}", "note.read", "community", "2025-06-01T10:00:00+08:00", f"n{n}", user(n % 5), str(n)]
    if draw(st.booleans()):
        return ",".join(cells).encode() + b"\n", cells[0]
    cells[draw(st.integers(0, len(cells) - 1))] = draw(csv_cells)
    raw = ",".join(cells).encode("utf-8", "surrogateescape")
    # Quotes and line breaks inside a cell change where records end; those are tested on their own.
    return raw.replace(b'"', b"").replace(b"\n", b"").replace(b"\r", b"") + b"\n", None


@SETTINGS
@given(rows=st.lists(csv_rows(), min_size=1, max_size=8))
def test_any_csv_rows(scratch: Path, rows: list[tuple[bytes, str | None]]) -> None:
    result, lake = run_ingest(scratch, "in.csv", CSV_HEADER + b"".join(raw for raw, _ in rows))
    assert result.exit_code in {0, 1}, result.output
    stored = stored_ids(lake)
    assert {i for _, i in rows if i is not None} <= set(stored) and all(c == 1 for c in stored.values())
    assert json.loads(result.stdout)["accepted"] == sum(stored.values())


@settings(SETTINGS, max_examples=10)
@given(data=st.binary(max_size=300))
def test_any_bytes_as_csv_or_parquet_exit_with_a_documented_code(scratch: Path, data: bytes) -> None:
    for name in ("in.csv", "in.parquet", "in.jsonl.gz"):
        result, _ = run_ingest(scratch, name, data)
        assert result.exit_code in EXIT_CODES - {2, 4}, result.output


# --- the HTTP API ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from webkit import running_site

    root = tmp_path_factory.mktemp("property-api")
    (root / "seed.jsonl").write_bytes(encoded(make_event("note.read", 0)) + b"\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HONGMAO_MATCH_KEY", TEST_KEY)
        hongmao.ingest([root / "seed.jsonl"], root / "lake")
    with running_site(root / "lake") as s, s.client(s.operator) as client:
        yield client


_batches = iter(range(10**9))


def renamed(raw: bytes, batch: int) -> bytes:
    """Ids unique to this example: the lake outlives examples."""
    return raw.replace(b'"id": "e', f'"id": "b{batch}-e'.encode())


@settings(max_examples=40, deadline=None, derandomize=True)
@given(records=lines, as_lines=st.booleans(), raw=st.binary(max_size=200))
def test_any_api_body(site: Any, records: list[bytes], as_lines: bool, raw: bytes) -> None:
    batch = next(_batches)
    records = [renamed(r, batch) for r in records]
    if as_lines:
        body, content_type = b"\n".join(records), "application/x-ndjson"
    else:
        body, content_type = b"[" + b",".join(records) + b"]", "application/json"
    for content, kind in ((body, content_type), (raw, "application/json"), (raw, "application/x-ndjson")):
        response = site.post("/api/v1/events", content=content, headers={"content-type": kind})
        assert response.status_code in {200, 400, 413}, (response.status_code, response.text)
    response = site.post("/api/v1/events", content=body, headers={"content-type": content_type})
    assert response.status_code in {200, 400}
    if response.status_code == 200:
        good = set(good_ids(b"\n".join(records)))
        outcomes = response.json()["records"]
        # Sent twice: everything good is a duplicate now, and nothing bad got in.
        assert {r["id"] for r in outcomes if r["status"] == "duplicate"} == good
        assert all(r["status"] != "accepted" for r in outcomes)
