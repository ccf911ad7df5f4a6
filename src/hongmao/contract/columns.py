"""How an accepted event is stored: one flat row with typed, queryable columns plus its full data as JSON.

Engines (DuckDB embedded, Spark at scale) read these columns; ``data`` keeps every field losslessly.
The column list is the storage contract between the lake and the engine; change it only with a migration.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hongmao.contract.envelope import EventBase

#: (column, logical type). Logical types: string, timestamp (UTC, microseconds), float64, int64, bool.
COLUMNS: list[tuple[str, str]] = [
    ("id", "string"),
    ("type", "string"),
    ("source", "string"),
    ("time", "timestamp"),
    ("user", "string"),
    ("note_id", "string"),
    ("creator_id", "string"),
    ("brand", "string"),
    ("item_id", "string"),
    ("store_id", "string"),
    ("category", "string"),
    ("link_id", "string"),
    ("click_id", "string"),
    ("order_id", "string"),
    ("campaign_id", "string"),
    ("query", "string"),
    ("amount", "float64"),
    ("quantity", "int64"),
    ("dwell_ms", "int64"),
    ("rating", "int64"),
    ("bot", "bool"),
    ("data", "string"),
]
COLUMN_NAMES = [name for name, _ in COLUMNS]

# Fields of ``data`` copied as-is into the column of the same name when the kind has them.
_DIRECT = (
    "user",
    "note_id",
    "creator_id",
    "brand",
    "item_id",
    "store_id",
    "category",
    "link_id",
    "click_id",
    "order_id",
    "campaign_id",
    "query",
    "amount",
    "quantity",
    "dwell_ms",
    "rating",
    "bot",
)


def to_row(event: EventBase) -> dict[str, Any]:
    """The stored row of a validated event."""
    data = event.data  # type: ignore[attr-defined]
    payload = data.model_dump(mode="json")
    row: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
    row["id"] = event.id
    row["type"] = event.type  # type: ignore[attr-defined]
    row["source"] = event.source
    row["time"] = event.time.astimezone(UTC)
    for name in _DIRECT:
        if name in payload:
            row[name] = payload[name]
    kind = row["type"]
    if kind == "item.listed":
        row["amount"] = payload["price"]
    elif kind in ("campaign.created", "note.boosted"):
        row["amount"] = payload["spend"]
    elif kind == "collaboration.created":
        row["amount"] = payload["fee"]
    elif kind == "market.order":
        row["item_id"] = data.main_item()
        row["quantity"] = sum(line["quantity"] for line in payload["lines"])
    row["data"] = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return row


def utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC)
