"""Sums that give the same bits whatever order the engine's threads add the rows in.

Floating-point addition is not associative: a parallel group-by adds a group's rows in whichever order its
threads finish, so the last bits of a float sum move from run to run, with the thread count and with the
order of the lake's segments. Every sum a report shows goes through :func:`exact_sum`: each row is rounded
once to a fixed point of ``SCALE`` decimals (deterministic per row), the fixed-point values are added exactly
(DuckDB and Spark both sum decimals in wide integers), and the total is turned back into a float.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.datatypes as dt

SCALE = 12
"""Decimals kept per row: credits are fractions of an order and money is in yuan, so 1e-12 is far below any
figure shown, and 38 digits leave 26 for the integer part."""
EXACT = dt.Decimal(38, SCALE)


def exact_sum(value: Any, over: Any = None) -> Any:
    """The sum of ``value`` (a numeric column expression) as float64, identical at any thread count.

    ``over``: an Ibis window, for a windowed sum.
    """
    total = value.cast(EXACT).sum()
    if over is not None:
        total = total.over(over)
    return total.cast("float64")
