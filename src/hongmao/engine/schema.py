"""The ``events`` table's schema on every engine: the lake's storage columns (``hongmao.contract.COLUMNS``),
typed for Ibis. A leaf module, so the session and every backend can read it without importing each other."""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from hongmao.contract import COLUMNS

_TYPES = {
    "string": dt.string,
    "timestamp": dt.Timestamp(timezone="UTC"),
    "float64": dt.float64,
    "int64": dt.int64,
    "bool": dt.boolean,
}
EVENTS_SCHEMA = ibis.schema({name: _TYPES[kind] for name, kind in COLUMNS})
