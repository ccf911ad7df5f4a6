"""Commission programs: a brand's terms as a declarative table of rows, read from JSON/TOML or flags.

A program belongs to one brand and pays creators for that brand's orders. Its ``terms`` are rows: a scope
(any of ``campaign``, ``creator``, ``item``, ``category``; an empty scope is the brand-wide row) and a rate
(``rate``, a fraction of the credited order value) or a ``flat`` amount per credited order, optional ``tiers``
(``[{"from": yuan, "rate": r}]``: the rate reached by the creator's credited value in the calendar month applies
to all that month's orders) and an optional per-order ``cap``. The most specific matching row wins (most scope
keys; ties go to the earlier row). ``monthly_cap`` bounds what one creator earns from the program per month.

``credit`` says which credit earns: ``click`` (the link's own click chain: the order carries the click id of a
click on the creator's link, the usual affiliate rule) or a rule attribution model (``last``, ``first``,
``linear``, ``position``, ``time_decay``: the creator's share of the order under that model).

The holding period is ``hold_days`` when set, else the longer of the marketplace's refund window
(``refund_window_days``, default :data:`REFUND_WINDOW_DAYS`) and the category's decision cycle
(:data:`DECISION_CYCLE_DAYS`, or the lake's estimates when the caller passes them).
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hongmao.attribution.rules import RULES
from hongmao.errors import InputError

#: Days a marketplace buyer may return an order (Taobao/Tmall and JD: 7 days without reason, plus delivery and
#: after-sales handling); a program may set its own.
REFUND_WINDOW_DAYS = 15
#: Documented default decision cycles (days from seeding to purchase that hold most buyers) per category, used
#: when the caller brings no estimates from the lake (``hongmao cycles``); unknown categories take ``DEFAULT``.
DECISION_CYCLE_DAYS: dict[str, int] = {
    "snacks": 7,
    "makeup": 14,
    "apparel": 14,
    "skincare": 21,
    "home": 21,
    "electronics": 30,
    "baby_food": 60,
}
DEFAULT_CYCLE_DAYS = 15
CREDIT_RULES = ("click", *RULES)
SCOPE_KEYS = ("campaign", "creator", "item", "category")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
CENT = Decimal("0.01")


def to_cents(yuan: Decimal) -> int:
    return int((yuan * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def non_negative(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InputError(f"{where}: expected a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InputError(f"{where}: expected a number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise InputError(f"{where}: must be a non-negative number, got {value!r}")
    return number


@dataclass(frozen=True)
class Tier:
    from_cents: int
    rate: Decimal


@dataclass(frozen=True)
class Term:
    scope: dict[str, str]
    rate: Decimal | None = None
    flat_cents: int | None = None
    tiers: tuple[Tier, ...] = ()
    cap_cents: int | None = None

    def matches(self, order: dict[str, Any]) -> bool:
        return all(order.get(key) == value for key, value in self.scope.items())

    def rate_for(self, month_cents: int) -> Decimal:
        rate = self.rate if self.rate is not None else Decimal(0)
        for tier in self.tiers:
            if month_cents >= tier.from_cents:
                rate = tier.rate
        return rate


@dataclass(frozen=True)
class Program:
    program_id: str
    brand: str
    terms: tuple[Term, ...]
    credit: str = "click"
    hold_days: int | None = None
    refund_window_days: int = REFUND_WINDOW_DAYS
    monthly_cap_cents: int | None = None
    name: str = ""
    spec: dict[str, Any] = field(default_factory=dict, compare=False)

    def term_for(self, order: dict[str, Any]) -> Term | None:
        """The most specific matching row (most scope keys; ties to the earlier row), or None."""
        best: Term | None = None
        for term in self.terms:
            if term.matches(order) and (best is None or len(term.scope) > len(best.scope)):
                best = term
        return best

    def hold_for(self, category: str | None, cycles: dict[str, float] | None = None) -> int:
        """Holding days for an order of ``category``: set, or max(refund window, decision cycle)."""
        if self.hold_days is not None:
            return self.hold_days
        known = cycles or {}
        cycle = known.get(category or "") or DECISION_CYCLE_DAYS.get(category or "", DEFAULT_CYCLE_DAYS)
        return max(self.refund_window_days, math.ceil(cycle))


def _ident(spec: dict[str, Any], key: str, where: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not _ID.match(value):
        raise InputError(f"{where}: field {key!r} must be an id (letters, digits, _.:-; up to 64), got {value!r}")
    return value


def _term(row: Any, where: str) -> Term:
    if not isinstance(row, dict):
        raise InputError(f"{where}: a term must be a table/object, got {row!r}")
    unknown = set(row) - {"scope", "rate", "flat", "tiers", "cap"}
    if unknown:
        raise InputError(f"{where}: unknown fields {sorted(unknown)}")
    scope = row.get("scope") or {}
    if not isinstance(scope, dict) or set(scope) - set(SCOPE_KEYS):
        raise InputError(f"{where}: scope keys must be among {', '.join(SCOPE_KEYS)}, got {scope!r}")
    if any(not isinstance(v, str) for v in scope.values()):
        raise InputError(f"{where}: scope values must be strings, got {scope!r}")
    has_rate = "rate" in row or "tiers" in row
    if has_rate == ("flat" in row):
        raise InputError(f"{where}: give either rate (and/or tiers) or flat, not both or neither")
    rate = non_negative(row["rate"], f"{where}.rate") if "rate" in row else None
    if rate is not None and rate > 1:
        raise InputError(f"{where}.rate: a fraction of the order value (0.1 = 10%), got {row['rate']!r}")
    tiers = []
    for i, tier in enumerate(row.get("tiers") or []):
        if not isinstance(tier, dict) or set(tier) != {"from", "rate"}:
            raise InputError(f"{where}.tiers[{i}]: expected {{from, rate}}, got {tier!r}")
        tier_rate = non_negative(tier["rate"], f"{where}.tiers[{i}].rate")
        if tier_rate > 1:
            raise InputError(f"{where}.tiers[{i}].rate: a fraction (0.1 = 10%), got {tier['rate']!r}")
        tiers.append(Tier(to_cents(non_negative(tier["from"], f"{where}.tiers[{i}].from")), tier_rate))
    if [t.from_cents for t in tiers] != sorted({t.from_cents for t in tiers}):
        raise InputError(f"{where}.tiers: thresholds must increase")
    flat = to_cents(non_negative(row["flat"], f"{where}.flat")) if "flat" in row else None
    cap = to_cents(non_negative(row["cap"], f"{where}.cap")) if row.get("cap") is not None else None
    return Term(dict(sorted(scope.items())), rate, flat, tuple(tiers), cap)


PROGRAM_FIELDS = {"program_id", "brand", "name", "credit", "hold_days", "refund_window_days", "monthly_cap", "terms"}


def parse_program(spec: Any, where: str = "program") -> Program:
    """A program from its JSON/TOML form; errors name the field and the reason."""
    if not isinstance(spec, dict):
        raise InputError(f"{where}: expected an object, got {type(spec).__name__}")
    unknown = set(spec) - PROGRAM_FIELDS
    if unknown:
        raise InputError(f"{where}: unknown fields {sorted(unknown)}; known: {', '.join(sorted(PROGRAM_FIELDS))}")
    program_id = _ident(spec, "program_id", where)
    where = f"program {program_id}"
    brand = _ident(spec, "brand", where)
    credit = spec.get("credit", "click")
    if credit not in CREDIT_RULES:
        raise InputError(f"{where}: credit must be one of {', '.join(CREDIT_RULES)}, got {credit!r}")
    rows = spec.get("terms")
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{where}: terms must be a non-empty list")
    terms = tuple(_term(row, f"{where}.terms[{i}]") for i, row in enumerate(rows))
    hold = spec.get("hold_days")
    window = spec.get("refund_window_days", REFUND_WINDOW_DAYS)
    for key, value in (("hold_days", hold), ("refund_window_days", window)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InputError(f"{where}: {key} must be a whole number of days >= 0, got {value!r}")
    cap = spec.get("monthly_cap")
    return Program(
        program_id=program_id,
        brand=brand,
        terms=terms,
        credit=credit,
        hold_days=hold,
        refund_window_days=int(window),
        monthly_cap_cents=to_cents(non_negative(cap, f"{where}.monthly_cap")) if cap is not None else None,
        name=str(spec.get("name") or ""),
        spec=json.loads(json.dumps(spec, default=str, sort_keys=True)),
    )


def read_programs(path: Path) -> list[Program]:
    """Programs from a JSON (one object or a list) or TOML (``[[program]]`` tables) file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text).get("program", [])
        else:
            data = json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {error}") from None
    items = data if isinstance(data, list) else [data]
    return [parse_program(item, f"{path}[{i}]") for i, item in enumerate(items)]


#: Order values (cents) below which a rate's product is computed in integers (see :func:`exact_ratio`).
EXACT_BELOW = 10**15


def exact_ratio(rate: Decimal) -> tuple[int, int] | None:
    """``rate`` as (numerator, denominator) when ``value * rate`` is exact in Decimal's default 28 digits for
    every value below :data:`EXACT_BELOW` (at most 12 significant digits), else None. A million orders' rates
    multiply and round half up in integers then, the same result as the Decimal product at a fraction of the
    cost; other rates keep the Decimal product."""
    if not rate.is_finite() or len(rate.as_tuple().digits) > 12:
        return None
    return rate.as_integer_ratio()


def commissions(
    program: Program, orders: list[dict[str, Any]], values: list[int] | None = None
) -> dict[tuple[str, str], int]:
    """Commission cents per (order_id, creator_id) for ``orders`` credited under this program.

    Each order row: order_id, creator_id, t (aware datetime), share (Decimal credit share), value_cents (the
    order's value net of the refunds so far; or ``values[i]`` for ``orders[i]`` when given, so a caller need not
    copy each row to add it), gross_cents, and the scope keys. Tiers count the creator's credited gross per
    calendar month; the monthly cap is applied in (time, order id) order, so a late order takes what room is
    left and earlier orders keep theirs.
    """
    # The row that applies depends only on the order's values of the keys the program's scopes name: looked up
    # once per distinct combination (a million orders have a few thousand).
    keys = sorted({key for term in program.terms for key in term.scope})
    terms: dict[tuple[Any, ...], Term | None] = {}
    month_gross: dict[tuple[str, int, int], int] = {}
    months: list[tuple[str, int, int]] = []
    for o in orders:
        t = o["t"]
        key = (o["creator_id"], t.year, t.month)
        months.append(key)
        share = o["share"]
        gross = o["gross_cents"] if share == 1 else int(share * o["gross_cents"])
        month_gross[key] = month_gross.get(key, 0) + gross
    if values is None:
        values = [o["value_cents"] for o in orders]
    out: dict[tuple[str, str], int] = {}
    used: dict[tuple[str, int, int], int] = {}
    monthly_cap = program.monthly_cap_cents
    one = Decimal(1)
    ratios: dict[Decimal, tuple[int, int] | None] = {}
    order_keys = [(o["t"], o["order_id"], o["creator_id"]) for o in orders]
    by_time = sorted(range(len(orders)), key=order_keys.__getitem__)
    for i in by_time:
        o = orders[i]
        which = tuple(map(o.get, keys))
        if which not in terms:
            terms[which] = program.term_for(o)
        term = terms[which]
        amount = 0
        if term is not None:
            month = months[i]
            value = values[i]
            if term.flat_cents is not None:
                amount = to_cents(o["share"] * term.flat_cents / 100) if value > 0 else 0
            else:
                rate = term.rate_for(month_gross[month])
                share = o["share"]
                ratio = None
                if share == 1 and 0 <= value < EXACT_BELOW:
                    ratio = ratios[rate] if rate in ratios else ratios.setdefault(rate, exact_ratio(rate))
                if ratio is not None:
                    # The same as the Decimal product rounded half up (it is exact here), in integers.
                    num, den = ratio
                    amount = (2 * value * num + den) // (2 * den)
                else:
                    base = share * value * rate
                    amount = int(base.quantize(one, rounding=ROUND_HALF_UP))
            if term.cap_cents is not None:
                amount = min(amount, term.cap_cents)
            if monthly_cap is not None:
                room = monthly_cap - used.get(month, 0)
                amount = max(0, min(amount, room))
                used[month] = used.get(month, 0) + amount
        out[(o["order_id"], o["creator_id"])] = amount
    return out
