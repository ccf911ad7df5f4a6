"""ROI guarantees (对赌): a brand's contract and, pure, what a measured ROI makes owed under it.

A contract names the brand, the campaign, the spend, the target ROI at T+x (x days after the campaign's end,
set or taken from the category's decision cycle when the contract is created), how ROI is measured
(``attributed``: the campaign's attributed net GMV / spend under a rule model; ``incremental``: the holdout
lift's incremental net GMV / spend, with its interval), the ``share`` of the shortfall returned and a ``cap``
(default: the spend). When an incremental ROI's interval straddles the target the contract's ``straddle`` rule
decides which figure settles:

========= =====================================================================================================
point     the point estimate (the default)
lower     the interval's lower bound: conservative for the guarantor, the brand gets the benefit of the doubt
upper     the interval's upper bound: the guarantor pays only a shortfall the data shows beyond doubt
========= =====================================================================================================

An interval wholly above or below the target is no doubt: the point estimate settles. What is owed is
``min(cap, share x spend x (target - ROI used))`` when the ROI used is below the target, else nothing: the
shortfall is the net GMV the campaign fell short of the target by. Money is integer cents (fen).

What a contract owes the brand is kept as append-only entries (:class:`GuaranteeEntry`): the settlement at T+x
is entry 0, and when the lake's data up to the due date changes afterwards (an order or refund dated before it
that arrives late), settling again appends one ``adjust`` entry by the difference (:func:`restate`). The sum of
a contract's entries is what it owes now; nothing is edited; settling again on the same data adds nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hongmao.attribution.rules import RULES
from hongmao.errors import InputError
from hongmao.settle.programs import non_negative, to_cents
from hongmao.settle.statements import yuan

MEASURES = ("attributed", "incremental")
STRADDLE_RULES = ("point", "lower", "upper")
#: The rule models an attributed contract may name: those the engine's credit runs (one list, the rules').
ATTRIBUTION_MODELS = tuple(RULES)
FIELDS = {
    "guarantee_id",
    "brand",
    "campaign_id",
    "name",
    "spend",
    "target_roi",
    "x_days",
    "measure",
    "model",
    "share",
    "cap",
    "straddle",
    "confidence",
}
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class Guarantee:
    guarantee_id: str
    brand: str
    campaign_id: str
    target_roi: Decimal
    share: Decimal
    measure: str = "incremental"
    spend_cents: int | None = None  # None until created: the campaign's declared spend
    x_days: int | None = None  # None until created: the category's decision cycle
    x_from: str = "set"
    model: str = "linear"
    cap_cents: int | None = None  # None: the spend
    straddle: str = "point"
    confidence: Decimal = Decimal("0.95")
    name: str = ""
    spec: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def cap(self) -> int:
        return self.cap_cents if self.cap_cents is not None else (self.spend_cents or 0)


def _ident(spec: dict[str, Any], key: str, where: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not _ID.match(value):
        raise InputError(f"{where}: field {key!r} must be an id (letters, digits, _.:-; up to 64), got {value!r}")
    return value


def _choice(spec: dict[str, Any], key: str, allowed: tuple[str, ...], default: str, where: str) -> str:
    value = spec.get(key, default)
    if value not in allowed:
        raise InputError(f"{where}: field {key!r} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def parse_guarantee(spec: Any, where: str = "guarantee") -> Guarantee:
    """A contract from its JSON/TOML form; errors name the contract, the field and the reason."""
    if not isinstance(spec, dict):
        raise InputError(f"{where}: expected an object, got {type(spec).__name__}")
    unknown = set(spec) - FIELDS - {"x_from"}
    if unknown:
        raise InputError(f"{where}: unknown fields {sorted(unknown)}; known: {', '.join(sorted(FIELDS))}")
    gid = _ident(spec, "guarantee_id", where)
    where = f"guarantee {gid}"
    brand = _ident(spec, "brand", where)
    campaign = _ident(spec, "campaign_id", where)
    if "target_roi" not in spec:
        raise InputError(f"{where}: field 'target_roi' is required (net GMV / spend, e.g. 3)")
    target = non_negative(spec["target_roi"], f"{where}.target_roi")
    if target <= 0:
        raise InputError(f"{where}.target_roi: must be above 0, got {spec['target_roi']!r}")
    if "share" not in spec:
        raise InputError(f"{where}: field 'share' is required (the fraction of the shortfall returned, e.g. 0.5)")
    share = non_negative(spec["share"], f"{where}.share")
    if share > 1:
        raise InputError(f"{where}.share: a fraction of the shortfall (0.5 = half), got {spec['share']!r}")
    spend = spec.get("spend")
    spend_cents = to_cents(non_negative(spend, f"{where}.spend")) if spend is not None else None
    if spend_cents is not None and spend_cents <= 0:
        raise InputError(f"{where}.spend: must be above 0, got {spend!r}")
    x = spec.get("x_days")
    if x is not None and (isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= 365):
        raise InputError(f"{where}.x_days: a whole number of days after the campaign's end (0-365), got {x!r}")
    cap = spec.get("cap")
    confidence = non_negative(spec.get("confidence", "0.95"), f"{where}.confidence")
    if not Decimal("0.5") <= confidence < 1:
        raise InputError(f"{where}.confidence: between 0.5 and 1 (0.95 = a 95% interval), got {confidence}")
    return Guarantee(
        guarantee_id=gid,
        brand=brand,
        campaign_id=campaign,
        target_roi=target,
        share=share,
        measure=_choice(spec, "measure", MEASURES, "incremental", where),
        spend_cents=spend_cents,
        x_days=x,
        x_from=str(spec.get("x_from") or "set"),
        model=_choice(spec, "model", ATTRIBUTION_MODELS, "linear", where),
        cap_cents=to_cents(non_negative(cap, f"{where}.cap")) if cap is not None else None,
        straddle=_choice(spec, "straddle", STRADDLE_RULES, "point", where),
        confidence=confidence,
        name=str(spec.get("name") or ""),
        spec=json.loads(json.dumps(spec, default=str, sort_keys=True)),
    )


def resolved(g: Guarantee, spend_cents: int, x_days: int, x_from: str) -> Guarantee:
    """The contract as stored: spend and x filled in where it left them to the campaign and the category."""
    spec = dict(g.spec)
    if g.spend_cents is None:
        spec["spend"] = yuan(spend_cents)
    if g.x_days is None:
        spec["x_days"] = x_days
        spec["x_from"] = x_from
    return parse_guarantee(spec)


@dataclass(frozen=True)
class Measured:
    """A measured ROI at T+x: the point estimate, its interval (incremental only) and the net GMV behind it."""

    roi: float
    net_gmv: float
    low: float | None = None
    high: float | None = None
    method: str = ""
    warnings: tuple[str, ...] = ()


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def settle_guarantee(g: Guarantee, m: Measured, due: datetime) -> dict[str, Any]:
    """The settlement statement: the measured figure, its interval, whether the interval straddles the target,
    the figure the contract settles on, the shortfall and what is owed, and why in words."""
    if g.spend_cents is None or g.x_days is None:
        raise InputError(f"guarantee {g.guarantee_id}: spend and x_days must be resolved before settling")
    target = g.target_roi
    point = _dec(m.roi)
    low = _dec(m.low) if m.low is not None else None
    high = _dec(m.high) if m.high is not None else None
    straddles = low is not None and high is not None and low < target < high
    basis = g.straddle if straddles else "point"
    used = {"point": point, "lower": low, "upper": high}[basis]
    assert used is not None
    shortfall_roi = max(Decimal(0), target - used)
    shortfall_cents = int((shortfall_roi * g.spend_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    returned = int((g.share * shortfall_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    owed = min(returned, g.cap)
    pct = f"{(g.confidence * 100).normalize():f}%"
    figure = f"{g.measure} ROI {point}"
    if low is not None and high is not None:
        figure += f" ({pct} interval {low} to {high})"
    if straddles:
        why = [f"{figure} straddles the target {target}: the contract settles on the {basis} figure, {used}"]
    elif used >= target:
        why = [f"{figure} meets the target {target}"]
    else:
        why = [f"{figure} is below the target {target}"]
    if shortfall_cents:
        why.append(
            f"shortfall {shortfall_roi} x spend {yuan(g.spend_cents)} = {yuan(shortfall_cents)} of net GMV; "
            f"{(g.share * 100).normalize():f}% returned = {yuan(returned)}"
        )
        if owed < returned:
            why.append(f"the cap {yuan(g.cap)} applies")
    why.append(f"owed {yuan(owed)}")
    return {
        "guarantee_id": g.guarantee_id,
        "brand": g.brand,
        "campaign_id": g.campaign_id,
        "due": due.isoformat(),
        "x_days": g.x_days,
        "x_from": g.x_from,
        "measure": g.measure,
        "model": g.model if g.measure == "attributed" else None,
        "spend": yuan(g.spend_cents),
        "target_roi": str(target),
        "measured_roi": str(point),
        "interval": [str(low), str(high)] if low is not None and high is not None else None,
        "confidence": str(g.confidence),
        "net_gmv": yuan(to_cents(_dec(m.net_gmv))),
        "straddles": straddles,
        "rule": g.straddle,
        "settled_on": basis,
        "roi_used": str(used),
        "shortfall_roi": str(shortfall_roi),
        "shortfall": yuan(shortfall_cents),
        "share": str(g.share),
        "returned": yuan(returned),
        "cap": yuan(g.cap),
        "capped": owed < returned,
        "owed": yuan(owed),
        "owed_cents": owed,
        "why": "; ".join(why),
        "method": m.method,
        "warnings": list(m.warnings),
    }


KIND_SETTLE = "settle"
KIND_ADJUST = "adjust"


@dataclass(frozen=True)
class GuaranteeEntry:
    """One brand-side entry of a contract: ``amount_cents`` more (or, negative, less) owed to the brand, and
    ``owed_cents``, the running total after it; the statement is the measurement that set it."""

    brand: str
    guarantee_id: str
    seq: int
    kind: str
    amount_cents: int
    owed_cents: int
    due: datetime
    statement: dict[str, Any]
    recorded_at: datetime


def owed_now(entries: Sequence[GuaranteeEntry]) -> int:
    """What the contract owes the brand after ``entries``: the sum of their amounts."""
    return sum(e.amount_cents for e in entries)


def restate(
    existing: Sequence[GuaranteeEntry], statement: dict[str, Any], due: datetime, now: datetime
) -> GuaranteeEntry | None:
    """The entry that brings the contract's entries to what ``statement`` (a settlement on the data as it is now)
    owes, or None when they owe that already. The first is the settlement; a later one adjusts by the
    difference, and its statement says what it restates and why."""
    brand, gid = statement["brand"], statement["guarantee_id"]
    if any((e.brand, e.guarantee_id) != (brand, gid) for e in existing):
        raise ValueError(f"guarantee {gid} of {brand}: entries of another contract given")
    owed = int(statement["owed_cents"])
    if not existing:
        return GuaranteeEntry(brand, gid, 0, KIND_SETTLE, owed, owed, due, statement, now)
    before = owed_now(existing)
    if owed == before:
        return None
    delta = owed - before
    seq = max(e.seq for e in existing) + 1
    restated = {
        **statement,
        "restates": seq,
        "previously_owed": yuan(before),
        "adjustment": yuan(delta),
        "why": f"{statement['why']}; restated on data that arrived after the settlement: owed "
        f"{yuan(before)} before, so an adjustment of {'+' if delta > 0 else ''}{yuan(delta)}",
    }
    return GuaranteeEntry(brand, gid, seq, KIND_ADJUST, delta, owed, due, restated, now)


@dataclass(frozen=True)
class GuaranteePayment:
    """A payment to the brand of what a contract owes, by the payout file ``batch`` (append-only, like a
    commission's ``paid`` entry): ``amount_cents`` of the contract's entries are paid at ``paid_at``."""

    brand: str
    guarantee_id: str
    seq: int
    amount_cents: int
    batch: str
    paid_at: datetime
    recorded_at: datetime


def guarantee_payout(
    entries: Sequence[GuaranteeEntry],
    payments: Sequence[GuaranteePayment],
    cutoff: datetime,
    batch: str,
    now: datetime,
) -> GuaranteePayment | None:
    """What a payout file with ``cutoff`` (the period's end) pays on one contract: what its entries recorded
    before the cutoff owe, less what is paid already, when that is more than nothing; None otherwise. So paying
    again adds nothing; an adjustment recorded after the cutoff waits for a later payout; and a contract
    restated below what was paid pays nothing (what the brand was overpaid shows in :func:`still_owed`)."""
    known = [e for e in entries if e.recorded_at < cutoff]
    if not known:
        return None
    brand, gid = known[0].brand, known[0].guarantee_id
    if any((e.brand, e.guarantee_id) != (brand, gid) for e in entries) or any(
        (p.brand, p.guarantee_id) != (brand, gid) for p in payments
    ):
        raise ValueError(f"guarantee {gid} of {brand}: entries or payments of another contract given")
    due = owed_now(known) - sum(p.amount_cents for p in payments)
    if due <= 0:
        return None
    seq = max((p.seq + 1 for p in payments), default=0)
    return GuaranteePayment(brand, gid, seq, due, batch, cutoff - timedelta(seconds=1), now)


def still_owed(entries: Sequence[GuaranteeEntry], payments: Sequence[GuaranteePayment]) -> int:
    """What the contract owes the brand beyond what is paid (negative: the brand was paid more than it is owed
    after a restatement down)."""
    return owed_now(entries) - sum(p.amount_cents for p in payments)


def entry_view(e: GuaranteeEntry) -> dict[str, Any]:
    """An entry as a statement lists it (money in yuan text)."""
    return {
        "seq": e.seq,
        "kind": e.kind,
        "amount": yuan(e.amount_cents),
        "owed": yuan(e.owed_cents),
        "measured_roi": e.statement.get("measured_roi"),
        "recorded_at": e.recorded_at.isoformat(),
    }
