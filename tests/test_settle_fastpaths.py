"""The settlement's fast paths give what the plain ones give: commissions in integers where the Decimal product
is exact, entries and commissions made in one step, the collector paused and restored."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hongmao.settle import gcpause
from hongmao.settle.ledger import Commission, Entry, new_commission, new_entry
from hongmao.settle.programs import EXACT_BELOW, commissions, parse_program

AT = datetime(2025, 6, 3, 12, tzinfo=UTC)


def decimal_commission(value: int, share: Decimal, rate: Decimal) -> int:
    return int((share * value * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(st.integers(0, 10**6), st.integers(0, EXACT_BELOW + 10**6)),
    rate=st.decimals(min_value=0, max_value=1, allow_nan=False, allow_infinity=False, places=14),
    share=st.sampled_from([Decimal(1), Decimal("1.000"), Decimal("0.5"), Decimal("0.3333")]),
)
def test_a_rate_earns_the_decimal_product_rounded_half_up(value: int, rate: Decimal, share: Decimal) -> None:
    program = parse_program({"program_id": "p", "brand": "b", "terms": [{"rate": str(rate)}]})
    order = {"order_id": "o1", "creator_id": "c1", "t": AT, "share": share, "gross_cents": value}
    assert commissions(program, [order], [value]) == {("o1", "c1"): decimal_commission(value, share, rate)}


def test_tiers_in_integers_match_the_decimal_product() -> None:
    program = parse_program(
        {
            "program_id": "p",
            "brand": "b",
            "terms": [{"rate": 0.08, "tiers": [{"from": 0, "rate": 0.085}, {"from": 200, "rate": "0.125"}]}],
        }
    )
    values = [1_001 + 37 * n for n in range(40)]
    orders: list[dict[str, Any]] = [
        {"order_id": f"o{n}", "creator_id": "c1", "t": AT, "share": Decimal(1), "gross_cents": v}
        for n, v in enumerate(values)
    ]
    got = commissions(program, orders, values)
    assert got == {
        (o["order_id"], "c1"): decimal_commission(v, Decimal(1), Decimal("0.125"))
        for o, v in zip(orders, values, strict=True)
    }


def test_one_step_entries_and_commissions_are_the_plain_ones() -> None:
    fields = ("e1", "p", "b", "c", "o", "lock", 2, "pending", "locked", 1_234, AT, "r", "n")
    made, plain = new_entry(*fields), Entry(*fields)
    assert made == plain and hash(made) == hash(plain) and repr(made) == repr(plain)
    assert made.commission == ("p", "o", "c")
    c_fields = ("p", "b", "c", "o", 50, AT, AT, None, None)
    assert new_commission(*c_fields) == Commission(*c_fields)


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause found it off: leaves it off
    assert gc.isenabled()
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()  # found off: left off
    finally:
        gc.enable()
