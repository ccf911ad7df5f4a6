"""The ledger's tables in the lake's catalog (mirror of migrations 0005 to 0008) and their reads and
appends.

Nothing here updates or deletes a row: programs, entries, decisions, guarantees, their settlements and entries
and the trust snapshots are only ever inserted. Reads take the brand scope (None: the operator, every brand).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hongmao.errors import InputError
from hongmao.lake.catalog import UTCDateTime
from hongmao.settle import gcpause
from hongmao.settle.guarantees import (
    Guarantee,
    GuaranteeEntry,
    GuaranteePayment,
    entry_view,
    parse_guarantee,
    restate,
)
from hongmao.settle.ledger import KINDS, STATES, Decision, Entry, Summary, new_entry
from hongmao.settle.programs import Program, parse_program

metadata = sa.MetaData()

programs = sa.Table(
    "settle_programs",
    metadata,
    sa.Column("program_id", sa.String, primary_key=True),
    sa.Column("brand", sa.String, nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("entry_id", sa.String, primary_key=True),
    sa.Column("program_id", sa.String, nullable=False),
    sa.Column("brand", sa.String, nullable=False),
    sa.Column("creator_id", sa.String, nullable=False),
    sa.Column("order_id", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("from_state", sa.String, nullable=True),
    sa.Column("to_state", sa.String, nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("effective", UTCDateTime, nullable=False),
    sa.Column("ref", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

decisions = sa.Table(
    "hold_decisions",
    metadata,
    sa.Column("decision_id", sa.String, primary_key=True),
    sa.Column("creator_id", sa.String, nullable=False),
    sa.Column("brand", sa.String, nullable=True),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("operator", sa.String, nullable=False),
    sa.Column("decided_at", UTCDateTime, nullable=False),
)

#: Rows per INSERT statement when appending entries.
CHUNK = 5_000
#: SQLite page cache while appending entries (negative: KiB, so 256 MiB), back to the connection's after.
APPEND_CACHE_KIB = -262_144


def add_program(conn: Connection, program: Program, now: datetime) -> bool:
    """Store ``program``; False when the same program is stored already; a different one under its id fails."""
    spec = json.dumps(program.spec, sort_keys=True, ensure_ascii=False)
    row = conn.execute(sa.select(programs).where(programs.c.program_id == program.program_id)).first()
    if row is not None:
        if row.spec_json == spec:
            return False
        raise InputError(
            f"program {program.program_id}: already stored with other terms; terms are not edited once "
            "settled on (create a program with a new id)"
        )
    conn.execute(
        sa.insert(programs).values(program_id=program.program_id, brand=program.brand, spec_json=spec, created_at=now)
    )
    return True


def load_programs(conn: Connection, brand: str | None) -> list[Program]:
    query = sa.select(programs.c.spec_json).order_by(programs.c.program_id)
    if brand is not None:
        query = query.where(programs.c.brand == brand)
    return [parse_program(json.loads(spec)) for spec in conn.execute(query).scalars()]


ENTRY_COLUMNS = (
    "entry_id",
    "program_id",
    "brand",
    "creator_id",
    "order_id",
    "kind",
    "seq",
    "from_state",
    "to_state",
    "amount_cents",
    "effective",
    "ref",
    "note",
)


@gcpause.paused()
def load_entries(
    conn: Connection, brand: str | None, creator: str | None = None, *, ordered: bool = True
) -> list[Entry]:
    """Entries in scope, in a stable order (effective time, entry id); in the catalog's order when not
    ``ordered`` (a settlement groups them by commission and needs no order: SQLite then skips sorting them)."""
    sqlite = conn.dialect.name == "sqlite"
    columns = [
        # SQLite keeps times as text: parsed below by the C ISO parser, far cheaper than the type's regex.
        sa.type_coerce(entries.c[name], sa.String) if sqlite and name == "effective" else entries.c[name]
        for name in ENTRY_COLUMNS
    ]
    query = sa.select(*columns)
    if ordered:
        query = query.order_by(entries.c.effective, entries.c.entry_id)
    if brand is not None:
        query = query.where(entries.c.brand == brand)
    if creator is not None:
        query = query.where(entries.c.creator_id == creator)

    # Plain tuples: a settlement re-reads every entry, and row mappings cost more than the rows themselves.
    # All rows at once: the cursor's fetchall, not a fetch per row through the result.
    if sqlite:
        # The stored text is naive UTC: parsed with its offset spelled out (the C parser then returns the UTC
        # singleton itself, several times cheaper than parsing and replacing the zone). No column here has a
        # result processor on SQLite, so the driver's rows are read as they are, without wrapping each in a Row.
        result = conn.execute(query)
        rows = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
        parse = datetime.fromisoformat
        return [
            new_entry(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                int(r[6]),
                r[7],
                r[8],
                int(r[9]),
                parse(r[10] + "+00:00"),
                r[11],
                r[12],
            )
            for r in rows
        ]
    return [
        new_entry(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7], r[8], int(r[9]), r[10], r[11], r[12])
        for r in conn.execute(query).all()
    ]


@gcpause.paused()
def load_summaries(conn: Connection, brand: str | None) -> dict[tuple[str, str, str], Summary]:
    """Each commission's summary in scope, by (program, order, creator): what a settlement needs of its entries
    (balances, next sequence per kind, first and latest times), computed by the catalog in one grouped query
    instead of reading every entry into Python (``ledger.summarize`` over the entries gives the same)."""
    sqlite = conn.dialect.name == "sqlite"
    t = entries
    # SQLite keeps times as text, naive UTC in one fixed-width format: its text order is time order.
    effective = sa.type_coerce(t.c.effective, sa.String) if sqlite else t.c.effective
    amount = t.c.amount_cents
    columns: list[Any] = [
        t.c.program_id,
        t.c.order_id,
        t.c.creator_id,
        sa.func.min(t.c.brand),
        sa.func.min(effective),
        sa.func.max(effective),
    ]
    for state in STATES:
        into = sa.func.sum(sa.case((t.c.to_state == state, amount), else_=0))
        out = sa.func.sum(sa.case((t.c.from_state == state, amount), else_=0))
        columns.append(into - out)
    for kind in KINDS:
        columns.append(sa.func.coalesce(sa.func.max(sa.case((t.c.kind == kind, t.c.seq))) + 1, 0))
    # No index serves this query on SQLite: a settlement reads the brand's whole ledger, and a scan in table order
    # reads pages in sequence where an index visits them at random (540,000 entries of one brand: 0.07 s CPU to
    # scan, 0.54 s through the brand's index). So the brand is matched as ``brand || ''`` (no index matches it)
    # and the groups are named order first (no index starts with the order; by program, SQLite walks the
    # program's index). A brand with a small share of a shared catalog pays a scan of the others' rows, in
    # sequence too.
    query = sa.select(*columns).group_by(t.c.order_id, t.c.creator_id, t.c.program_id)
    if brand is not None:
        query = query.where((t.c.brand + "" if sqlite else t.c.brand) == brand)
    n_states = len(STATES)
    if sqlite:
        result = conn.execute(query)
        rows = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
        parse = datetime.fromisoformat
        return {
            (r[0], r[1], r[2]): Summary(
                r[3], parse(r[4] + "+00:00"), parse(r[5] + "+00:00"), r[6 : 6 + n_states], r[6 + n_states :]
            )
            for r in rows
        }
    return {
        (r[0], r[1], r[2]): Summary(
            r[3], r[4], r[5], tuple(int(v) for v in r[6 : 6 + n_states]), tuple(int(v) for v in r[6 + n_states :])
        )
        for r in conn.execute(query).all()
    }


@gcpause.paused()
def append_entries(conn: Connection, new: Sequence[Entry], now: datetime | None = None) -> int:
    """Insert ``new`` (ids the caller has checked are absent, inside its transaction); returns how many."""
    recorded = now or datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        _append_sqlite(conn, new, recorded)
        return len(new)
    rows = [
        {
            "entry_id": e.entry_id,
            "program_id": e.program_id,
            "brand": e.brand,
            "creator_id": e.creator_id,
            "order_id": e.order_id,
            "kind": e.kind,
            "seq": e.seq,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "amount_cents": e.amount_cents,
            "effective": e.effective,
            "ref": e.ref,
            "note": e.note,
            "recorded_at": recorded,
        }
        for e in new
    ]
    for start in range(0, len(rows), CHUNK):
        conn.execute(sa.insert(entries), rows[start : start + CHUNK])
    return len(rows)


def _sqlite_time(moment: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC), so the column reads back as usual."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    # "YYYY-MM-DD HH:MM:SS.ffffff" and the "+00:00" cut off: the same text as formatting it naive, without the copy.
    return utc.isoformat(" ", "microseconds")[:26]


def _append_sqlite(conn: Connection, new: Sequence[Entry], recorded: datetime) -> None:
    # The driver's executemany over plain tuples, bypassing SQLAlchemy's per-row parameter handling: measured
    # cheaper than one INSERT ... SELECT over a JSON array per chunk (SQLite 3.40 re-parses the array text for
    # every column it extracts).
    names = [*ENTRY_COLUMNS, "recorded_at"]
    statement = f"INSERT INTO ledger_entries ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    stamp = _sqlite_time(recorded)
    # Many entries share a moment (a month's payable date, a lock at the same hold's end): formatted once each.
    times: dict[datetime, str] = {}

    def text(moment: datetime) -> str:
        found = times.get(moment)
        if found is None:
            found = times[moment] = _sqlite_time(moment)
        return found

    # A settlement of a large world inserts millions of rows into three indexes (the id, brand and creator,
    # program) at scattered places: with SQLite's default 2 MB page cache most inserts evict and re-read pages.
    # The cache is raised for this append only and set back after, on this connection.
    (before,) = conn.exec_driver_sql("PRAGMA cache_size").one()
    conn.exec_driver_sql(f"PRAGMA cache_size = {APPEND_CACHE_KIB}")
    try:
        for start in range(0, len(new), CHUNK * 4):
            batch = [
                (
                    e.entry_id,
                    e.program_id,
                    e.brand,
                    e.creator_id,
                    e.order_id,
                    e.kind,
                    e.seq,
                    e.from_state,
                    e.to_state,
                    e.amount_cents,
                    text(e.effective),
                    e.ref,
                    e.note,
                    stamp,
                )
                for e in new[start : start + CHUNK * 4]
            ]
            conn.exec_driver_sql(statement, batch)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def add_decision(conn: Connection, decision: Decision) -> None:
    conn.execute(
        sa.insert(decisions).values(
            decision_id=decision.decision_id,
            creator_id=decision.creator_id,
            brand=decision.brand,
            action=decision.action,
            reason=decision.reason,
            operator=decision.operator,
            decided_at=decision.decided_at,
        )
    )


def load_decisions(conn: Connection, brand: str | None) -> list[Decision]:
    query = sa.select(decisions).order_by(decisions.c.decided_at, decisions.c.decision_id)
    if brand is not None:
        query = query.where(sa.or_(decisions.c.brand == brand, decisions.c.brand.is_(None)))
    return [
        Decision(r.decision_id, r.creator_id, r.brand, r.action, r.reason, r.operator, r.decided_at)
        for r in conn.execute(query)
    ]


# --- ROI guarantees, their entries and trust snapshots (migrations 0006, 0007) -----------------------------------

guarantees = sa.Table(
    "guarantees",
    metadata,
    sa.Column("brand", sa.String, primary_key=True),
    sa.Column("guarantee_id", sa.String, primary_key=True),
    sa.Column("campaign_id", sa.String, nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

guarantee_settlements = sa.Table(
    "guarantee_settlements",
    metadata,
    sa.Column("brand", sa.String, primary_key=True),
    sa.Column("guarantee_id", sa.String, primary_key=True),
    sa.Column("due", UTCDateTime, nullable=False),
    sa.Column("owed_cents", sa.BigInteger, nullable=False),
    sa.Column("statement_json", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

trust_snapshots = sa.Table(
    "trust_snapshots",
    metadata,
    sa.Column("as_of", sa.String, primary_key=True),
    sa.Column("holds_json", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)


def add_guarantee(conn: Connection, g: Guarantee, now: datetime) -> bool:
    """Store ``g``; False when the same contract is stored already; other terms under its id fail.

    Ids are the brand's own: only ``g.brand``'s contracts are looked at, so another brand's use of the same id
    neither blocks this one nor shows through."""
    spec = json.dumps(g.spec, sort_keys=True, ensure_ascii=False)
    row = conn.execute(
        sa.select(guarantees.c.spec_json).where(
            guarantees.c.brand == g.brand, guarantees.c.guarantee_id == g.guarantee_id
        )
    ).first()
    if row is not None:
        if _same_terms(json.loads(row.spec_json), g.spec):
            return False
        raise InputError(
            f"guarantee {g.guarantee_id}: already stored with other terms; a contract is not edited once made "
            "(create one with a new id)"
        )
    conn.execute(
        sa.insert(guarantees).values(
            guarantee_id=g.guarantee_id, brand=g.brand, campaign_id=g.campaign_id, spec_json=spec, created_at=now
        )
    )
    return True


def _same_terms(stored: dict[str, Any], asked: dict[str, Any]) -> bool:
    """The stored contract says what ``asked`` says (what asked left out, spend and x, was resolved on storing)."""
    return all(stored.get(k) == v for k, v in asked.items())


def load_guarantees(conn: Connection, brand: str | None, guarantee_id: str | None = None) -> list[Guarantee]:
    """Contracts in scope (None: every brand), by id then brand; an id alone may match one per brand."""
    query = sa.select(guarantees.c.spec_json).order_by(guarantees.c.guarantee_id, guarantees.c.brand)
    if brand is not None:
        query = query.where(guarantees.c.brand == brand)
    if guarantee_id is not None:
        query = query.where(guarantees.c.guarantee_id == guarantee_id)
    return [parse_guarantee(json.loads(spec)) for spec in conn.execute(query).scalars()]


guarantee_entries = sa.Table(
    "guarantee_entries",
    metadata,
    sa.Column("brand", sa.String, primary_key=True),
    sa.Column("guarantee_id", sa.String, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("owed_cents", sa.BigInteger, nullable=False),
    sa.Column("due", UTCDateTime, nullable=False),
    sa.Column("statement_json", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)


def _contract_rows(t: sa.Table, brand: str | None, guarantee_id: str | None) -> sa.Select[Any]:
    """A per-contract table's rows in scope (one brand, one contract, or all), by id, brand and sequence."""
    query = sa.select(t).order_by(t.c.guarantee_id, t.c.brand, t.c.seq)
    if brand is not None:
        query = query.where(t.c.brand == brand)
    if guarantee_id is not None:
        query = query.where(t.c.guarantee_id == guarantee_id)
    return query


def load_guarantee_entries(
    conn: Connection, brand: str | None, guarantee_id: str | None = None
) -> list[GuaranteeEntry]:
    """Contracts' owed entries in scope, by id, brand and sequence (migration 0007)."""
    query = _contract_rows(guarantee_entries, brand, guarantee_id)
    return [
        GuaranteeEntry(
            r.brand,
            r.guarantee_id,
            int(r.seq),
            r.kind,
            int(r.amount_cents),
            int(r.owed_cents),
            r.due,
            json.loads(r.statement_json),
            r.recorded_at,
        )
        for r in conn.execute(query)
    ]


def append_guarantee_entry(conn: Connection, entry: GuaranteeEntry) -> None:
    """Insert ``entry`` (the caller derived it from the entries it read in this transaction). The first entry
    also records the settlement statement at T+x (``guarantee_settlements``, as before migration 0007); a
    concurrent settlement that got there first fails on the primary key, and nothing of this one is kept."""
    statement_json = json.dumps(entry.statement, sort_keys=True, ensure_ascii=False)
    if entry.seq == 0:
        conn.execute(
            sa.insert(guarantee_settlements).values(
                guarantee_id=entry.guarantee_id,
                brand=entry.brand,
                due=entry.due,
                owed_cents=entry.owed_cents,
                statement_json=statement_json,
                recorded_at=entry.recorded_at,
            )
        )
    conn.execute(
        sa.insert(guarantee_entries).values(
            brand=entry.brand,
            guarantee_id=entry.guarantee_id,
            seq=entry.seq,
            kind=entry.kind,
            amount_cents=entry.amount_cents,
            owed_cents=entry.owed_cents,
            due=entry.due,
            statement_json=statement_json,
            recorded_at=entry.recorded_at,
        )
    )


def record_settlement(
    conn: Connection, statement: dict[str, Any], due: datetime, now: datetime
) -> GuaranteeEntry | None:
    """Append the entry that brings the contract to what ``statement`` owes (the settlement, or an adjustment by
    the difference); None, adding nothing, when its entries owe that already."""
    existing = load_guarantee_entries(conn, statement["brand"], statement["guarantee_id"])
    entry = restate(existing, statement, due, now)
    if entry is not None:
        append_guarantee_entry(conn, entry)
    return entry


def add_settlement(conn: Connection, statement: dict[str, Any], due: datetime, now: datetime) -> dict[str, Any]:
    """Insert a guarantee's first settlement unless one is stored for its (brand, guarantee_id); returns the
    current one (a stored settlement stays: restating is :func:`record_settlement`)."""
    found = load_settlements(conn, statement["brand"], statement["guarantee_id"])
    if found:
        return found[0]
    append_guarantee_entry(conn, restate([], statement, due, now) or _never())
    return statement


def _never() -> GuaranteeEntry:
    raise AssertionError("a contract with no entries always gets its first")


def load_settlements(conn: Connection, brand: str | None, guarantee_id: str | None = None) -> list[dict[str, Any]]:
    """Each settled contract's current statement (its latest entry's), with ``owed`` the sum of its entries,
    ``recorded_at`` the latest entry's and ``entries`` the list of them."""
    by: dict[tuple[str, str], list[GuaranteeEntry]] = {}
    for e in load_guarantee_entries(conn, brand, guarantee_id):
        by.setdefault((e.guarantee_id, e.brand), []).append(e)
    out = []
    for _key, mine in sorted(by.items()):
        last = mine[-1]
        statement: dict[str, Any] = dict(last.statement)
        statement["recorded_at"] = last.recorded_at.isoformat()
        statement["owed_cents"] = sum(e.amount_cents for e in mine)  # the entries' sum, the running total
        statement["entries"] = [entry_view(e) for e in mine]
        out.append(statement)
    return out


guarantee_payments = sa.Table(
    "guarantee_payments",
    metadata,
    sa.Column("brand", sa.String, primary_key=True),
    sa.Column("guarantee_id", sa.String, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("batch", sa.String, nullable=False),
    sa.Column("paid_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)


def load_guarantee_payments(
    conn: Connection, brand: str | None, guarantee_id: str | None = None
) -> list[GuaranteePayment]:
    """Contracts' payments to their brands in scope, by id, brand and sequence (migration 0008)."""
    query = _contract_rows(guarantee_payments, brand, guarantee_id)
    return [
        GuaranteePayment(r.brand, r.guarantee_id, int(r.seq), int(r.amount_cents), r.batch, r.paid_at, r.recorded_at)
        for r in conn.execute(query)
    ]


def append_guarantee_payment(conn: Connection, p: GuaranteePayment) -> None:
    """Insert ``p`` (derived from what the caller read in this transaction; a concurrent payout that got there
    first fails on the primary key, and nothing of this one is kept)."""
    conn.execute(
        sa.insert(guarantee_payments).values(
            brand=p.brand,
            guarantee_id=p.guarantee_id,
            seq=p.seq,
            amount_cents=p.amount_cents,
            batch=p.batch,
            paid_at=p.paid_at,
            recorded_at=p.recorded_at,
        )
    )


def load_trust_snapshot(conn: Connection, as_of: datetime) -> dict[str, str] | None:
    """The creators held at ``as_of`` as first computed, or None when no settlement has used that date."""
    row = conn.execute(
        sa.select(trust_snapshots.c.holds_json).where(trust_snapshots.c.as_of == as_of.astimezone(UTC).isoformat())
    ).first()
    if row is None:
        return None
    holds: dict[str, str] = json.loads(row.holds_json)
    return holds


def add_trust_snapshot(conn: Connection, as_of: datetime, holds: dict[str, str], now: datetime) -> dict[str, str]:
    """Keep the holds computed for ``as_of`` unless some are kept already; returns the kept ones."""
    kept = load_trust_snapshot(conn, as_of)
    if kept is not None:
        return kept
    conn.execute(
        sa.insert(trust_snapshots).values(
            as_of=as_of.astimezone(UTC).isoformat(),
            holds_json=json.dumps(holds, sort_keys=True, ensure_ascii=False),
            recorded_at=now,
        )
    )
    return holds
