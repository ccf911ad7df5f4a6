"""The ledger's SQLite append and read (store.append_entries / load_entries) keep every field exactly: times in
any zone come back as the same UTC instant to the microsecond, text with quotes and Chinese as written, no
``from_state`` as None; the unsorted read a settlement uses holds the same entries; the append leaves the
connection's page cache as it found it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hongmao.lake import Lake
from hongmao.settle import store
from hongmao.settle.ledger import Entry, entry_id

SHANGHAI = timezone(timedelta(hours=8))


def _entries() -> list[Entry]:
    moments = [
        datetime(2025, 6, 1, tzinfo=UTC),  # no microseconds: still stored with six digits
        datetime(2025, 6, 1, 8, 0, 0, 1, tzinfo=SHANGHAI),  # the same day's first microsecond, in +08:00
        datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2025, 6, 1, tzinfo=UTC),  # a moment shared with the first (formatted once)
    ]
    out = []
    for n, at in enumerate(moments):
        kind = "earn" if n % 2 == 0 else "hold"
        out.append(
            Entry(
                entry_id("p1", f"o{n}", "c1", kind, n),
                "p1",
                "b1",
                "c1",
                f"o{n}",
                kind,
                n,
                None if kind == "earn" else "pending",
                "pending" if kind == "earn" else "held",
                10**12 + n if n == 2 else 1_234 + n,
                at,
                "ref'\"",
                '{"flags": ["虚假互动"]}' if n == 1 else "",
            )
        )
    return out


def test_append_then_read_keeps_every_field(tmp_path: Path) -> None:
    written = _entries()
    with Lake.open(tmp_path / "lake") as lake:
        with lake.connect("test", transaction=True) as conn:
            (before,) = conn.exec_driver_sql("PRAGMA cache_size").one()
            assert store.append_entries(conn, written, datetime(2025, 7, 1, tzinfo=SHANGHAI)) == len(written)
            assert conn.exec_driver_sql("PRAGMA cache_size").one()[0] == before
        with lake.connect("test") as conn:
            ordered = store.load_entries(conn, "b1")
            unordered = store.load_entries(conn, "b1", ordered=False)
            stored = conn.exec_driver_sql("SELECT effective, recorded_at FROM ledger_entries").all()
    expected = sorted(written, key=lambda e: (e.effective, e.entry_id))
    assert ordered == expected
    assert sorted(unordered, key=lambda e: e.entry_id) == sorted(written, key=lambda e: e.entry_id)
    for got, want in zip(ordered, expected, strict=True):
        assert got.effective.tzinfo is UTC and got.effective == want.effective
        assert (got.from_state, got.note, got.ref, got.amount_cents) == (
            want.from_state,
            want.note,
            want.ref,
            want.amount_cents,
        )
    # The text SQLAlchemy's SQLite DateTime writes: naive UTC with six fraction digits.
    assert sorted(stored) == sorted(
        [
            ("2025-06-01 00:00:00.000000", "2025-06-30 16:00:00.000000"),
            ("2025-06-01 00:00:00.000001", "2025-06-30 16:00:00.000000"),
            ("2025-12-31 23:59:59.999999", "2025-06-30 16:00:00.000000"),
            ("2025-06-01 00:00:00.000000", "2025-06-30 16:00:00.000000"),
        ]
    )
