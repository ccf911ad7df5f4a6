"""Library twins of ``hongmao guarantees create/list/settle``: ROI guarantees (对赌) stored in the catalog and
settled at T+x on the lake's events up to then, what they owe kept as append-only entries (restated by an
adjusting entry when late-arriving data changes it).

Like :mod:`hongmao.settle.api`, every call takes the tenant's ``brand`` scope (None: the operator). A brand
can neither create a contract for another brand, nor name another brand's campaign, nor read or settle
another brand's contract: each is refused as unknown. A contract's id is its brand's own (the catalog keys
contracts and settlements by (brand, guarantee_id)): two brands may each have a contract ``g1``, and a brand
never learns whether another used an id. The operator names the brand when an id is used by several.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hongmao.engine.session import Session
from hongmao.errors import InputError
from hongmao.settle import asof, store
from hongmao.settle.api import _lake
from hongmao.settle.guarantees import (
    Guarantee,
    GuaranteeEntry,
    GuaranteePayment,
    guarantee_payout,
    parse_guarantee,
    resolved,
    settle_guarantee,
    still_owed,
)
from hongmao.settle.programs import to_cents
from hongmao.settle.statements import period_bounds, yuan

PAYOUT_COLUMNS = ("batch", "brand", "guarantee_id", "amount", "paid_at")
LIST_COLUMNS = ("guarantee_id", "brand", "campaign_id", "measure", "target_roi", "spend", "x_days", "due", "owed")
#: What ``hongmao guarantees list`` shows of payments after LIST_COLUMNS (``listing`` adds them to every row).
PAID_COLUMNS = ("paid", "outstanding")


def _segments(data_dir: str | Path | None, catalog_url: str | None) -> list[Path]:
    with _lake(data_dir, catalog_url) as lake:
        return list(lake.segment_paths())


def read_guarantees(path: Path) -> list[Guarantee]:
    """Contracts from a JSON (one object or a list) or TOML (``[[guarantee]]`` tables) file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    try:
        data: Any = tomllib.loads(text).get("guarantee", []) if path.suffix.lower() == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {error}") from None
    items = data if isinstance(data, list) else [data]
    return [parse_guarantee(item, f"{path}[{i}]") for i, item in enumerate(items)]


def create(
    source: Path | Sequence[Guarantee],
    data_dir: str | Path | None = None,
    *,
    brand: str | None = None,
    catalog_url: str | None = None,
    now: datetime | None = None,
) -> list[Guarantee]:
    """Store contracts (spend and x resolved from the campaign and its category when left out); returns them as
    stored. The same contract again is no change; other terms under a stored id are refused."""
    items = read_guarantees(source) if isinstance(source, Path) else list(source)
    for g in items:
        if brand is not None and g.brand != brand:
            raise InputError(f"guarantee {g.guarantee_id}: belongs to brand {g.brand!r}, not to {brand!r}")
    out = []
    with Session(_segments(data_dir, catalog_url)) as session:
        for g in items:
            info, category = asof.campaign_of(session, g.campaign_id, g.brand)
            x, x_from = (g.x_days, g.x_from) if g.x_days is not None else asof.cycle_days(session, category)
            spend = g.spend_cents if g.spend_cents is not None else to_cents_or_fail(g, info.spend)
            out.append(resolved(g, spend, x, x_from))
    with _lake(data_dir, catalog_url) as lake, lake.connect("storing guarantees", transaction=True) as conn:
        stored = []
        for g in out:
            if store.add_guarantee(conn, g, now or datetime.now(UTC)):
                stored.append(g)
            else:
                stored.extend(store.load_guarantees(conn, g.brand, g.guarantee_id))
    return stored


def to_cents_or_fail(g: Guarantee, spend: float) -> int:
    from decimal import Decimal

    cents = to_cents(Decimal(repr(float(spend))))
    if cents <= 0:
        raise InputError(f"guarantee {g.guarantee_id}: the campaign declares no spend; give the contract's spend")
    return cents


@dataclass
class Row:
    guarantee: Guarantee
    due: datetime | None
    settlement: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        g = self.guarantee
        return {
            "guarantee_id": g.guarantee_id,
            "brand": g.brand,
            "campaign_id": g.campaign_id,
            "name": g.name,
            "measure": g.measure,
            "target_roi": str(g.target_roi),
            "spend": yuan(g.spend_cents or 0),
            "x_days": g.x_days,
            "x_from": g.x_from,
            "share": str(g.share),
            "cap": yuan(g.cap),
            "straddle": g.straddle,
            "due": self.due.isoformat() if self.due else None,
            "owed": self.settlement["owed"] if self.settlement else None,
            "settlement": self.settlement,
        }


def listing(
    data_dir: str | Path | None = None,
    *,
    brand: str | None = None,
    guarantee_id: str | None = None,
    catalog_url: str | None = None,
) -> list[dict[str, Any]]:
    """Contracts in scope with their due dates and, once settled, their settlement statements."""
    with _lake(data_dir, catalog_url) as lake, lake.connect("reading guarantees") as conn:
        found = store.load_guarantees(conn, brand, guarantee_id)
        settled = {(s["brand"], s["guarantee_id"]): s for s in store.load_settlements(conn, brand, guarantee_id)}
        money = _paid_and_outstanding(conn, brand, guarantee_id)
    if guarantee_id is not None and not found:
        raise InputError(f"guarantee_id {guarantee_id!r}: no such guarantee" + (f" of brand {brand}" if brand else ""))
    rows = []
    ends: dict[str, datetime] = {}
    if any((g.brand, g.guarantee_id) not in settled for g in found):
        with Session(_segments(data_dir, catalog_url)) as session:
            ends = asof.campaign_ends(session)
    for g in found:
        s = settled.get((g.brand, g.guarantee_id))
        due = datetime.fromisoformat(s["due"]) if s else None
        if due is None and g.campaign_id in ends and g.x_days is not None:
            due = ends[g.campaign_id] + timedelta(days=g.x_days)
        rows.append({**Row(g, due, s).to_dict(), **money.get((g.brand, g.guarantee_id), _NOTHING_PAID)})
    return rows


#: A contract without settlement entries or payments: nothing paid, nothing outstanding (not settled yet).
_NOTHING_PAID: dict[str, Any] = {"paid": yuan(0), "outstanding": None, "payments": []}


def _paid_and_outstanding(conn: Any, brand: str | None, guarantee_id: str | None) -> dict[tuple[str, str], Any]:
    """Per contract in scope: what payout files paid its brand (``paid``, yuan), what it still owes beyond that
    (``outstanding``: negative when a restatement left the brand overpaid) and the payments themselves."""
    entries: dict[tuple[str, str], list[GuaranteeEntry]] = {}
    for e in store.load_guarantee_entries(conn, brand, guarantee_id):
        entries.setdefault((e.brand, e.guarantee_id), []).append(e)
    payments: dict[tuple[str, str], list[GuaranteePayment]] = {}
    for p in store.load_guarantee_payments(conn, brand, guarantee_id):
        payments.setdefault((p.brand, p.guarantee_id), []).append(p)
    out = {}
    for key in sorted(entries.keys() | payments.keys()):
        mine = payments.get(key, [])
        out[key] = {
            "paid": yuan(sum(p.amount_cents for p in mine)),
            "outstanding": yuan(still_owed(entries.get(key, []), mine)),
            "payments": [
                {"seq": p.seq, "batch": p.batch, "amount": yuan(p.amount_cents), "paid_at": p.paid_at.isoformat()}
                for p in mine
            ],
        }
    return out


def key_check(holdout_key: str) -> str:
    """A check value of the holdout key a contract was settled with (HMAC of a fixed text: it does not give the
    key), so a restatement is refused with another key instead of measuring another holdout split."""
    return hmac.new(holdout_key.encode("utf-8"), b"hongmao guarantee settlement", hashlib.sha256).hexdigest()[:16]


def settle(
    guarantee_id: str,
    data_dir: str | Path | None = None,
    *,
    brand: str | None = None,
    at: datetime | None = None,
    holdout_key: str | None = None,
    catalog_url: str | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """Settle one contract at its due date (T+x) on the events up to it; returns (statement, whether an entry
    was added).

    The first settlement appends the contract's first entry (what it owes the brand). Settling again measures
    again on the events dated up to the due date: when data that arrived since (an order or a refund dated
    before the due date) changes what is owed, one ``adjust`` entry by the difference is appended and the
    statement says so; otherwise nothing is added and the current statement comes back. Before the due date
    (``at``, default now) or while the lake's data ends before it, settling is refused with the reason."""
    with _lake(data_dir, catalog_url) as lake, lake.connect("reading guarantees") as conn:
        found = store.load_guarantees(conn, brand, guarantee_id)
        if not found:
            raise InputError(
                f"guarantee_id {guarantee_id!r}: no such guarantee" + (f" of brand {brand}" if brand else "")
            )
        if len(found) > 1:  # the operator (no brand) naming an id several brands use
            raise InputError(
                f"guarantee_id {guarantee_id!r}: brands {', '.join(sorted(g.brand for g in found))} each have a "
                "guarantee with this id; name the brand"
            )
        g = found[0]
        stored = store.load_settlements(conn, g.brand, guarantee_id)
        segments = list(lake.segment_paths())
    assert g.x_days is not None
    with Session(segments) as session:
        info, _category = asof.campaign_of(session, g.campaign_id, g.brand)
        end = asof.data_end(session)
    due = asof.due_date(info, g.x_days)
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        raise InputError("at: give a timezone-aware time (UTC)")
    if when < due:
        if stored:  # settled already; nothing is restated before the due date
            return stored[0], False
        raise InputError(f"guarantee {guarantee_id}: not due until {due.isoformat()} (T+{g.x_days} days)")
    if end is None or end < due:
        raise InputError(
            f"guarantee {guarantee_id}: the lake's events end at {end.isoformat() if end else 'nothing'}, before "
            f"the due date {due.isoformat()}; settle once the data up to it is in"
        )
    check = None
    if g.measure == "incremental":
        if holdout_key is None:
            from hongmao import settings

            holdout_key = settings.holdout_key(None, None)
        if holdout_key:
            check = key_check(holdout_key)
        settled_with = stored[0].get("holdout_key_check") if stored else None
        if settled_with is not None and settled_with != check:
            raise InputError(
                f"guarantee {guarantee_id}: settled with another holdout key than the one given; restating on "
                "another key would measure another holdout split (give the campaign's key)"
            )
    with asof.AsOfSession(segments, due) as session:
        measured = asof.measure(session, g, holdout_key)
    statement = settle_guarantee(g, measured, due)
    if check is not None:
        statement["holdout_key_check"] = check
    with _lake(data_dir, catalog_url) as lake, lake.connect("recording a settlement", transaction=True) as conn:
        entry = store.record_settlement(conn, statement, due, now or datetime.now(UTC))
        (current,) = store.load_settlements(conn, g.brand, guarantee_id)
    return current, entry is not None


def pay(
    period: str,
    data_dir: str | Path | None = None,
    *,
    brand: str | None = None,
    catalog_url: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, str]]:
    """Mark paid what settled contracts owe their brands at the end of ``period`` (appending a payment per
    contract, as commissions' payout file appends ``paid`` entries) and return the payout file's rows: per
    brand and contract, the batch's amount. Running it again adds nothing and returns the same rows; an
    adjustment recorded after the period's end is paid by a later period's payout."""
    _, end = period_bounds(period)
    recorded = now or datetime.now(UTC)
    with _lake(data_dir, catalog_url) as lake, lake.connect("paying guarantees", transaction=True) as conn:
        owed: dict[tuple[str, str], list[GuaranteeEntry]] = {}
        for e in store.load_guarantee_entries(conn, brand):
            owed.setdefault((e.brand, e.guarantee_id), []).append(e)
        paid: dict[tuple[str, str], list[GuaranteePayment]] = {}
        for p in store.load_guarantee_payments(conn, brand):
            paid.setdefault((p.brand, p.guarantee_id), []).append(p)
        for (b, gid), entries in sorted(owed.items()):
            new = guarantee_payout(entries, paid.get((b, gid), []), end, payout_batch(b, period), recorded)
            if new is not None:
                store.append_guarantee_payment(conn, new)
                paid.setdefault((b, gid), []).append(new)
    rows = []
    for (b, gid), mine in sorted(paid.items()):
        for p in mine:
            if p.batch == payout_batch(b, period):
                rows.append(
                    {
                        "batch": p.batch,
                        "brand": b,
                        "guarantee_id": gid,
                        "amount": yuan(p.amount_cents),
                        "paid_at": p.paid_at.isoformat(),
                    }
                )
    return rows


def payout_batch(brand: str, period: str) -> str:
    return f"guarantee-payout:{brand}:{period}"
