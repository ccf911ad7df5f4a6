"""The ledger's rules, pure: which entries bring a commission from what the ledger holds to what the facts say.

Every entry moves ``amount_cents`` of one commission (program, order, creator) from one state to another; an
``earn`` entry has no source (it is where money enters). A state's balance is the sum of the entries into it
less the entries out of it, so the balances of a commission always add up to what it has earned: no entry kind
but ``earn`` can create or lose money. States:

    pending --lock--> locked --payable--> payable --paid--> paid
       \\________________\\____hold____> held --release--> (locked or payable) / --void--> voided
    any unpaid state --reverse--> reversed;   a paid commission refunded: payable --clawback--> reversed

A commission is locked when its holding period ends (refunds still reverse it), payable at the start of the
month after it locked, and paid only by a payout (:func:`payout`). A refund after payout is a clawback: a
negative payable balance, netted against the creator's later earnings in the next payout. Commissions of a
creator flagged by the trust guard (fake engagement, deceptive seeding) are held with the evidence until an
operator's recorded decision releases or voids them; the first decision after an order decides it.

:func:`reconcile` is idempotent: its entries are derived from the difference between the ledger and the facts,
with ids from (program, order, creator, kind, sequence), so a second run on the same facts adds nothing and a
late event adds exactly the adjusting entries. Corrections are new entries, never edits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

STATES = ("pending", "locked", "held", "payable", "paid", "voided", "reversed")
UNPAID = ("pending", "locked", "held", "payable")
TIMING = ("pending", "locked", "payable")
KINDS = ("earn", "lock", "payable", "hold", "release", "void", "reverse", "clawback", "paid")
#: Entry kind of a move into a state (a move out of ``held`` into a timing state is a release).
MOVE_KIND = {"locked": "lock", "payable": "payable", "held": "hold", "voided": "void"}


@dataclass(frozen=True)
class Entry:
    entry_id: str
    program_id: str
    brand: str
    creator_id: str
    order_id: str
    kind: str
    seq: int
    from_state: str | None
    to_state: str
    amount_cents: int
    effective: datetime
    ref: str = ""
    note: str = ""

    @property
    def commission(self) -> tuple[str, str, str]:
        return (self.program_id, self.order_id, self.creator_id)


_object_new = object.__new__
_object_setattr = object.__setattr__


def new_entry(
    entry_id: str,
    program_id: str,
    brand: str,
    creator_id: str,
    order_id: str,
    kind: str,
    seq: int,
    from_state: str | None,
    to_state: str,
    amount_cents: int,
    effective: datetime,
    ref: str,
    note: str,
) -> Entry:
    """``Entry(...)`` with every field given, made in one step: a frozen dataclass's ``__init__`` sets each of its
    13 fields through ``object.__setattr__``, which costs about twice the rest of making an entry, and a large
    settlement makes millions (the same object: equal to, and hashing as, the one ``Entry(...)`` makes)."""
    e = _object_new(Entry)
    _object_setattr(
        e,
        "__dict__",
        {
            "entry_id": entry_id,
            "program_id": program_id,
            "brand": brand,
            "creator_id": creator_id,
            "order_id": order_id,
            "kind": kind,
            "seq": seq,
            "from_state": from_state,
            "to_state": to_state,
            "amount_cents": amount_cents,
            "effective": effective,
            "ref": ref,
            "note": note,
        },
    )
    return e


@dataclass(frozen=True)
class Decision:
    """An operator's recorded decision on a creator's held commissions (brand None: the operator's, for all)."""

    decision_id: str
    creator_id: str
    brand: str | None
    action: str  # release | void
    reason: str
    operator: str
    decided_at: datetime


@dataclass(frozen=True)
class Commission:
    """What the facts say one commission is worth and where it stands, as of a settlement date."""

    program_id: str
    brand: str
    creator_id: str
    order_id: str
    value_cents: int
    t: datetime
    hold_until: datetime
    hold_reason: str | None = None  # the trust guard's evidence when the creator is flagged
    last_change: datetime | None = None  # the latest refund (or other change) on or before the settlement date


def new_commission(
    program_id: str,
    brand: str,
    creator_id: str,
    order_id: str,
    value_cents: int,
    t: datetime,
    hold_until: datetime,
    hold_reason: str | None,
    last_change: datetime | None,
) -> Commission:
    """``Commission(...)`` with every field given, made in one step (as :func:`new_entry`, one per order)."""
    c = _object_new(Commission)
    _object_setattr(
        c,
        "__dict__",
        {
            "program_id": program_id,
            "brand": brand,
            "creator_id": creator_id,
            "order_id": order_id,
            "value_cents": value_cents,
            "t": t,
            "hold_until": hold_until,
            "hold_reason": hold_reason,
            "last_change": last_change,
        },
    )
    return c


class Summary(NamedTuple):
    """What a settlement needs of one commission's entries: its brand, first and latest effective times, the
    balance of each state (in :data:`STATES` order) and the next sequence number of each kind (in :data:`KINDS`
    order). The catalog computes it in SQL (``store.load_summaries``) so a settlement need not read every entry."""

    brand: str
    first: datetime
    last: datetime
    balances: tuple[int, ...]
    next_seq: tuple[int, ...]


def summarize(entries: Sequence[Entry]) -> Summary:
    """The summary of one commission's entries (at least one)."""
    seq = dict.fromkeys(KINDS, 0)
    bal = dict.fromkeys(STATES, 0)
    first = last = entries[0].effective
    for e in entries:
        if e.seq >= seq[e.kind]:
            seq[e.kind] = e.seq + 1
        bal[e.to_state] += e.amount_cents
        if e.from_state is not None:
            bal[e.from_state] -= e.amount_cents
        if e.effective > last:
            last = e.effective
        elif e.effective < first:
            first = e.effective
    return Summary(entries[0].brand, first, last, tuple(bal.values()), tuple(seq.values()))


def entry_id(program_id: str, order_id: str, creator_id: str, kind: str, seq: int) -> str:
    key = "\x1f".join((program_id, order_id, creator_id, kind, str(seq)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def month_start_after(moment: datetime) -> datetime:
    """The first instant of the calendar month after ``moment`` (UTC)."""
    if moment.month == 12:
        return datetime(moment.year + 1, 1, 1, tzinfo=moment.tzinfo)
    return datetime(moment.year, moment.month + 1, 1, tzinfo=moment.tzinfo)


def balances(entries: Iterable[Entry]) -> dict[str, int]:
    out = dict.fromkeys(STATES, 0)
    for e in entries:
        out[e.to_state] += e.amount_cents
        if e.from_state is not None:
            out[e.from_state] -= e.amount_cents
    return out


def applicable(decisions: Iterable[Decision], c: Commission, through: datetime) -> Decision | None:
    """The decision that settles the commission's hold: the first one on the creator within the program's brand
    made after the order (and by ``through``). Later decisions are about later orders: a release is not undone
    by a void that follows it, nor a void by a release."""
    best: Decision | None = None
    for d in decisions:
        if d.creator_id != c.creator_id or d.brand not in (None, c.brand):
            continue
        if not (c.t <= d.decided_at <= through):
            continue
        if best is None or (d.decided_at, d.decision_id) < (best.decided_at, best.decision_id):
            best = d
    return best


def timing_state(c: Commission, through: datetime, payable_at: datetime | None = None) -> tuple[str, datetime]:
    if through < c.hold_until:
        return "pending", c.t
    payable_at = payable_at or month_start_after(c.hold_until)
    if through < payable_at:
        return "locked", c.hold_until
    return "payable", payable_at


_NO_SEQ = dict.fromkeys(KINDS, 0)
_NO_BALANCE = dict.fromkeys(STATES, 0)


class _Builder:
    def __init__(self, c: Commission, existing: Summary | None) -> None:
        # A settlement builds one of these per commission, from its summary: the next sequence number per kind,
        # the balances, and the latest effective time.
        self.c = c
        if existing is None:
            self.seq = _NO_SEQ.copy()
            self.bal = _NO_BALANCE.copy()
            # An entry is never dated before the commission's latest one: its history reads in order.
            self.last = c.t
        else:
            self.seq = dict(zip(KINDS, existing.next_seq, strict=True))
            self.bal = dict(zip(STATES, existing.balances, strict=True))
            self.last = existing.last
        self.out: list[Entry] = []
        # The entry ids' common start, hashed once per commission (an id hashes "program, order, creator, kind,
        # sequence"; each entry hashes only its kind and sequence onto a copy of this).
        self.hash: Any = None

    def add(
        self, kind: str, src: str | None, dst: str, amount: int, at: datetime, ref: str = "", note: str = ""
    ) -> None:
        if amount == 0:
            return
        c, seq = self.c, self.seq[kind]
        self.seq[kind] = seq + 1
        if at < self.last:
            at = self.last
        else:
            self.last = at
        if self.hash is None:
            self.hash = hashlib.sha256(f"{c.program_id}\x1f{c.order_id}\x1f{c.creator_id}\x1f".encode())
        h = self.hash.copy()
        h.update(f"{kind}\x1f{seq}".encode())
        self.out.append(
            new_entry(
                h.hexdigest()[:32],
                c.program_id,
                c.brand,
                c.creator_id,
                c.order_id,
                kind,
                seq,
                src,
                dst,
                amount,
                at,
                ref,
                note,
            )
        )
        self.bal[dst] += amount
        if src is not None:
            self.bal[src] -= amount


def target_state(
    c: Commission,
    bal: dict[str, int],
    decision: Decision | None,
    through: datetime,
    payable_at: datetime | None = None,
) -> tuple[str, datetime]:
    """Where the commission's unpaid money belongs now, and since when."""
    flagged = c.hold_reason is not None or bal["held"] > 0
    if decision is not None and decision.action == "void" and flagged:
        return "voided", decision.decided_at
    state, since = timing_state(c, through, payable_at)
    if decision is not None and decision.action == "release":
        return state, max(since, decision.decided_at)
    if c.hold_reason is not None:
        return "held", c.t
    return state, since


def reconcile(
    c: Commission, existing: Sequence[Entry] | Summary | None, decisions: Iterable[Decision], through: datetime
) -> list[Entry]:
    """The new entries that bring commission ``c`` from ``existing`` (its entries so far, or their summary; None
    or empty: no entries) to the facts."""
    if existing is not None and not isinstance(existing, Summary):
        existing = summarize(existing) if existing else None
    b = _Builder(c, existing)
    changed = c.last_change or c.t
    bal = b.bal
    accounted = bal["pending"] + bal["locked"] + bal["held"] + bal["payable"] + bal["paid"] + bal["voided"]
    if c.value_cents > accounted:
        b.add("earn", None, "pending", c.value_cents - accounted, c.t if accounted == 0 else max(c.t, changed))
    elif c.value_cents < accounted:
        short = accounted - c.value_cents
        for state in (*UNPAID, "voided"):
            take = min(short, max(b.bal[state], 0))
            b.add("reverse", state, "reversed", take, changed)
            short -= take
        # Already paid: the creator owes it back, netted against later earnings (a negative payable balance).
        b.add("clawback", "payable", "reversed", short, changed)
    decision = applicable(decisions, c, through) if decisions else None
    payable_from = month_start_after(c.hold_until)
    target, since = target_state(c, b.bal, decision, through, payable_from)
    ref = decision.decision_id if decision is not None else ""
    note = decision.reason if decision is not None else ""
    if target in TIMING:
        if b.bal["held"] > 0:
            b.add("release", "held", target, b.bal["held"], since, ref, note)
        # Forward one step at a time, each at the moment it happened: pending -> locked -> payable.
        if target != "pending" and b.bal["pending"] > 0:
            b.add("lock", "pending", "locked", b.bal["pending"], c.hold_until)
        if target == "payable" and b.bal["locked"] > 0:
            b.add("payable", "locked", "payable", b.bal["locked"], payable_from)
    else:
        for state in UNPAID:
            if state != target and b.bal[state] > 0:
                kind = MOVE_KIND[target]
                b.add(
                    kind,
                    state,
                    target,
                    b.bal[state],
                    since,
                    *((ref, note) if kind == "void" else ("", c.hold_reason or "")),
                )
    return b.out


def payable_at(entries: Iterable[Entry], cutoff: datetime) -> int:
    """The payable balance of ``entries`` counting only entries effective before ``cutoff``."""
    return balances(e for e in entries if e.effective < cutoff)["payable"]


def payout(by_commission: dict[tuple[str, str, str], list[Entry]], cutoff: datetime, batch: str) -> list[Entry]:
    """Paid entries for one creator's commissions (of one brand): each commission's payable balance as of
    ``cutoff`` moves to paid, when their sum is positive (a clawback nets against the earnings beside it;
    a negative total waits for later earnings)."""
    due = {key: payable_at(entries, cutoff) for key, entries in sorted(by_commission.items())}
    if sum(due.values()) <= 0:
        return []
    out: list[Entry] = []
    paid_at = cutoff - timedelta(seconds=1)
    for (program_id, order_id, creator_id), amount in due.items():
        if amount == 0:
            continue
        existing = by_commission[(program_id, order_id, creator_id)]
        seq = max((e.seq + 1 for e in existing if e.kind == "paid"), default=0)
        brand = existing[0].brand
        out.append(
            Entry(
                entry_id(program_id, order_id, creator_id, "paid", seq),
                program_id,
                brand,
                creator_id,
                order_id,
                "paid",
                seq,
                "payable",
                "paid",
                amount,
                paid_at,
                batch,
            )
        )
    return out
