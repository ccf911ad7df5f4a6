"""Library twins of ``hongmao programs``, ``hongmao settle``, ``hongmao statements`` and ``hongmao holds``.

Every call takes the tenant's ``brand`` scope: a brand sees and settles only its own programs and entries;
``brand=None`` is the operator, who sees all. ``creator`` narrows a statement to one creator's own view.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hongmao.errors import InputError
from hongmao.settle import asof, facts, gcpause, store
from hongmao.settle.ledger import (
    Commission,
    Decision,
    Entry,
    Summary,
    new_commission,
    payout,
    reconcile,
    summarize,
)
from hongmao.settle.programs import Program, commissions, read_programs
from hongmao.settle.statements import COLUMNS, period_bounds, statement_rows, to_csv, yuan

PAYOUT_COLUMNS = ("batch", "brand", "creator_id", "amount", "entries")


@dataclass
class SettleReport:
    through: datetime
    programs: int
    commissions: int
    added: int
    by_kind: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "through": self.through.isoformat(),
            "programs": self.programs,
            "commissions": self.commissions,
            "added": self.added,
            "by_kind": dict(sorted(self.by_kind.items())),
        }


def _lake(data_dir: str | Path | None, catalog_url: str | None) -> Any:
    from hongmao.api import open_lake

    return open_lake(data_dir, catalog_url)


def _scoped(brand: str | None, program: Program) -> None:
    if brand is not None and program.brand != brand:
        raise InputError(f"program {program.program_id}: belongs to brand {program.brand!r}, not to {brand!r}")


def add_programs(
    source: Path | Sequence[Program],
    data_dir: str | Path | None = None,
    *,
    brand: str | None = None,
    catalog_url: str | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Store programs (from a JSON/TOML file or parsed); returns the ids newly stored."""
    items = read_programs(source) if isinstance(source, Path) else list(source)
    for program in items:
        _scoped(brand, program)
    added = []
    with _lake(data_dir, catalog_url) as lake, lake.connect("storing programs", transaction=True) as conn:
        for program in items:
            if store.add_program(conn, program, now or datetime.now(UTC)):
                added.append(program.program_id)
    return added


def list_programs(
    data_dir: str | Path | None = None, *, brand: str | None = None, catalog_url: str | None = None
) -> list[Program]:
    with _lake(data_dir, catalog_url) as lake, lake.connect("reading programs") as conn:
        return store.load_programs(conn, brand)


@gcpause.paused()
def build_commissions(
    programs: Iterable[Program],
    credited: dict[str, list[dict[str, Any]]],
    refunds: dict[str, tuple[int, datetime]],
    holds: dict[str, str],
    cycles: dict[str, float] | None = None,
) -> list[Commission]:
    """Each program's commissions from the credited orders (per credit rule), refunds and creator holds."""
    from datetime import timedelta

    out = []
    for program in programs:
        hold_days: dict[str | None, timedelta] = {}
        rows = [r for r in credited.get(program.credit, []) if r["brand"] == program.brand]
        # Each order's value net of its refunds so far, beside the rows (not a copy of each row with it added).
        found = [refunds.get(r["order_id"]) for r in rows]
        values = [max(0, r["gross_cents"] - (f[0] if f else 0)) for r, f in zip(rows, found, strict=True)]
        amounts = commissions(program, rows, values)
        program_id, brand = program.program_id, program.brand
        for r, refund in zip(rows, found, strict=True):
            category = r["category"]
            hold = hold_days.get(category)
            if hold is None:
                hold = hold_days[category] = timedelta(days=program.hold_for(category, cycles))
            t, creator = r["t"], r["creator_id"]
            out.append(
                new_commission(
                    program_id,
                    brand,
                    creator,
                    r["order_id"],
                    amounts[(r["order_id"], creator)],
                    t,
                    t + hold,
                    holds.get(creator),
                    refund[1] if refund else None,
                )
            )
    return out


@gcpause.paused()
def settle_commissions(
    found: Sequence[Commission],
    existing: Sequence[Entry] | Mapping[tuple[str, str, str], Summary],
    decisions: Sequence[Decision],
    through: datetime,
) -> list[Entry]:
    """The new entries for ``found`` given the ledger so far, as its entries or as each commission's summary
    (``store.load_summaries``); commissions no longer credited reconcile to 0."""
    summaries = existing if isinstance(existing, Mapping) else summarize_by_commission(existing)
    by_creator: dict[str, list[Decision]] = {}
    for d in decisions:
        by_creator.setdefault(d.creator_id, []).append(d)
    new: list[Entry] = []
    seen = set()
    get = summaries.get
    for c in found:
        key = (c.program_id, c.order_id, c.creator_id)
        seen.add(key)
        new.extend(reconcile(c, get(key), by_creator.get(c.creator_id, ()), through))
    for key in sorted(set(summaries) - seen):
        old = summaries[key]
        gone = Commission(key[0], old.brand, key[2], key[1], 0, old.first, old.first, None, through)
        new.extend(reconcile(gone, old, by_creator.get(key[2], ()), through))
    return new


def summarize_by_commission(existing: Iterable[Entry]) -> dict[tuple[str, str, str], Summary]:
    by_key: dict[tuple[str, str, str], list[Entry]] = {}
    for e in existing:
        key = (e.program_id, e.order_id, e.creator_id)
        mine = by_key.get(key)
        if mine is None:
            by_key[key] = [e]
        else:
            mine.append(e)
    return {key: summarize(mine) for key, mine in by_key.items()}


def settle(
    through: datetime,
    data_dir: str | Path | None = None,
    *,
    brand: str | None = None,
    catalog_url: str | None = None,
    holds: dict[str, str] | None = None,
    cycles: dict[str, float] | None = None,
    now: datetime | None = None,
) -> SettleReport:
    """Settle every program in scope on the lake's facts before ``through``: append the entries that bring the
    ledger to them (none when it is there already). ``holds`` (creator -> evidence) replaces the trust guard's
    flags as they stood at ``through`` (see :func:`holds_as_of`); ``cycles`` (category -> days) replaces the
    documented default decision cycles."""
    from hongmao.api import engine_session

    if through.tzinfo is None:
        raise InputError("through: give a timezone-aware time (UTC)")
    with _lake(data_dir, catalog_url) as lake, lake.connect("reading the ledger") as conn:
        programs = store.load_programs(conn, brand)
        existing = store.load_summaries(conn, brand)
        decisions = store.load_decisions(conn, brand)
    if not programs:
        return SettleReport(through, 0, 0, 0)
    if holds is None:
        holds = holds_as_of(through, data_dir, catalog_url=catalog_url, now=now)
    brands = sorted({p.brand for p in programs})
    with engine_session(data_dir, catalog_url) as session:
        credited = {
            rule: facts.credited_orders(session, brands, through, rule) for rule in {p.credit for p in programs}
        }
        refunds = facts.refunds(session, through)
    found = build_commissions(programs, credited, refunds, holds, cycles)
    ids = {p.program_id for p in programs}
    new = settle_commissions(found, {k: v for k, v in existing.items() if k[0] in ids}, decisions, through)
    with _lake(data_dir, catalog_url) as lake, lake.connect("appending ledger entries", transaction=True) as conn:
        store.append_entries(conn, new, now)
    kinds: dict[str, int] = {}
    for e in new:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    return SettleReport(through, len(programs), len(found), len(new), kinds)


def holds_as_of(
    through: datetime,
    data_dir: str | Path | None = None,
    *,
    catalog_url: str | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """The creators the trust guard held at ``through`` (creator -> evidence): computed once from the events
    before it and kept in the catalog, so settling through that date again, however much the lake has grown
    since, holds the same creators with the same evidence and adds the same entries (none)."""
    with _lake(data_dir, catalog_url) as lake, lake.connect("reading the trust snapshot") as conn:
        kept = store.load_trust_snapshot(conn, through)
        segments = lake.segment_paths()
    if kept is not None:
        return kept
    computed = asof.trust_holds(segments, through)
    with _lake(data_dir, catalog_url) as lake, lake.connect("keeping the trust snapshot", transaction=True) as conn:
        return store.add_trust_snapshot(conn, through, computed, now or datetime.now(UTC))


def entries(
    data_dir: str | Path | None = None,
    *,
    brand: str | None = None,
    creator: str | None = None,
    catalog_url: str | None = None,
) -> list[Entry]:
    with _lake(data_dir, catalog_url) as lake, lake.connect("reading the ledger") as conn:
        return store.load_entries(conn, brand, creator)


def statements(
    data_dir: str | Path | None = None,
    *,
    period: str | None = None,
    brand: str | None = None,
    creator: str | None = None,
    catalog_url: str | None = None,
) -> list[dict[str, str]]:
    """Statement rows per (period, brand, creator) in scope (see :mod:`hongmao.settle.statements`)."""
    if period is not None:
        period_bounds(period)
    return statement_rows(entries(data_dir, brand=brand, creator=creator, catalog_url=catalog_url), period)


def statements_csv(rows: Sequence[dict[str, str]]) -> str:
    return to_csv(COLUMNS, rows)


def pay(
    period: str,
    data_dir: str | Path | None = None,
    *,
    brand: str | None = None,
    catalog_url: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, str]]:
    """Mark what is payable at the end of ``period`` paid (appending paid entries) and return the payout file's
    rows: per brand and creator, the batch's total. Running it again adds nothing and returns the same rows."""
    _, end = period_bounds(period)
    with _lake(data_dir, catalog_url) as lake, lake.connect("paying out", transaction=True) as conn:
        ledger = store.load_entries(conn, brand)
        grouped: dict[tuple[str, str], dict[tuple[str, str, str], list[Entry]]] = {}
        for e in ledger:
            grouped.setdefault((e.brand, e.creator_id), {}).setdefault(e.commission, []).append(e)
        new: list[Entry] = []
        for (b, _creator), mine in sorted(grouped.items()):
            new.extend(payout(mine, end, batch_id(b, period)))
        store.append_entries(conn, new, now)
    rows = []
    paid: dict[tuple[str, str], list[Entry]] = {}
    for e in [*ledger, *new]:
        if e.kind == "paid" and e.ref == batch_id(e.brand, period):
            paid.setdefault((e.brand, e.creator_id), []).append(e)
    for (b, creator), batch in sorted(paid.items()):
        rows.append(
            {
                "batch": batch_id(b, period),
                "brand": b,
                "creator_id": creator,
                "amount": yuan(sum(e.amount_cents for e in batch)),
                "entries": str(len(batch)),
            }
        )
    return rows


def batch_id(brand: str, period: str) -> str:
    return f"payout:{brand}:{period}"


def decide(
    creator: str,
    action: str,
    reason: str,
    operator: str,
    data_dir: str | Path | None = None,
    *,
    brand: str | None = None,
    at: datetime | None = None,
    catalog_url: str | None = None,
) -> Decision:
    """Record an operator's decision on a creator's held commissions (``release`` or ``void``), with the reason;
    the next settlement applies it to the creator's orders up to ``at``."""
    if action not in ("release", "void"):
        raise InputError(f"action {action!r}: use release or void")
    if not reason.strip():
        raise InputError("reason: a decision on held money needs a reason")
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        raise InputError("at: give a timezone-aware time (UTC)")
    key = "\x1f".join((creator, brand or "", action, when.isoformat(), reason, operator))
    decision = Decision(hashlib.sha256(key.encode()).hexdigest()[:24], creator, brand, action, reason, operator, when)
    with _lake(data_dir, catalog_url) as lake, lake.connect("recording a decision", transaction=True) as conn:
        store.add_decision(conn, decision)
    return decision


def held(
    data_dir: str | Path | None = None, *, brand: str | None = None, catalog_url: str | None = None
) -> list[dict[str, str]]:
    """Per brand and creator, the money held now and the evidence."""
    from hongmao.settle.ledger import balances

    by: dict[tuple[str, str], list[Entry]] = {}
    for e in entries(data_dir, brand=brand, catalog_url=catalog_url):
        by.setdefault((e.brand, e.creator_id), []).append(e)
    rows = []
    for (b, creator), mine in sorted(by.items()):
        amount = balances(mine)["held"]
        if amount:
            notes = sorted({e.note for e in mine if e.kind == "hold" and e.note})
            rows.append({"brand": b, "creator_id": creator, "held": yuan(amount), "evidence": " | ".join(notes)})
    return rows
