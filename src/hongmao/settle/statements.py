"""Statements: per creator and period (calendar month, UTC), what was earned, reversed, clawed back, voided
and paid in the period, and what stands pending, locked, held (with the reason) and payable at its end.

Pure functions over ledger entries; amounts are yuan with two decimals as text (exact, from integer cents).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from hongmao.errors import InputError
from hongmao.settle.ledger import UNPAID, Entry, balances, month_start_after

FLOWS = ("earned", "reversed", "clawed_back", "voided", "paid")
FLOW_KIND = {"earn": "earned", "reverse": "reversed", "clawback": "clawed_back", "void": "voided", "paid": "paid"}
COLUMNS = ("period", "brand", "creator_id", *FLOWS, *(f"{s}_end" for s in UNPAID), "hold_reasons")


def yuan(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def period_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def period_bounds(period: str) -> tuple[datetime, datetime]:
    from datetime import UTC

    try:
        start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise InputError(f"period {period!r}: expected YYYY-MM (a calendar month)") from None
    return start, month_start_after(start)


def statement_rows(entries: Iterable[Entry], period: str | None = None) -> list[dict[str, str]]:
    """One row per (period, brand, creator) with entries in or before the period; all periods when None."""
    by_creator: dict[tuple[str, str], list[Entry]] = {}
    for e in entries:
        by_creator.setdefault((e.brand, e.creator_id), []).append(e)
    rows = []
    for (brand, creator), mine in sorted(by_creator.items()):
        periods = [period] if period else sorted({period_of(e.effective) for e in mine})
        for p in periods:
            start, end = period_bounds(p)
            upto = [e for e in mine if e.effective < end]
            if not upto:
                continue
            flows = dict.fromkeys(FLOWS, 0)
            for e in upto:
                if e.effective >= start and e.kind in FLOW_KIND:
                    flows[FLOW_KIND[e.kind]] += e.amount_cents
            bal = balances(upto)
            held_keys = _held_commissions(upto)
            reasons = sorted({reason_of(e.note) for e in upto if e.kind == "hold" and e.commission in held_keys})
            row = {"period": p, "brand": brand, "creator_id": creator}
            row.update({k: yuan(v) for k, v in flows.items()})
            row.update({f"{s}_end": yuan(bal[s]) for s in UNPAID})
            row["hold_reasons"] = " | ".join(reasons)
            rows.append(row)
    rows.sort(key=lambda r: (r["period"], r["brand"], r["creator_id"]))
    return rows


def reason_of(note: str) -> str:
    """A hold's reason in a few words: the trust flags of its evidence (the entry keeps the evidence itself)."""
    try:
        flags = json.loads(note).get("flags")
    except (ValueError, AttributeError):
        return note
    return ",".join(str(f) for f in flags) if isinstance(flags, list) else note


def _held_commissions(entries: list[Entry]) -> set[tuple[str, str, str]]:
    per: dict[tuple[str, str, str], int] = {}
    for e in entries:
        if e.to_state == "held":
            per[e.commission] = per.get(e.commission, 0) + e.amount_cents
        if e.from_state == "held":
            per[e.commission] = per.get(e.commission, 0) - e.amount_cents
    return {k for k, v in per.items() if v > 0}


def to_csv(columns: Iterable[str], rows: Iterable[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
