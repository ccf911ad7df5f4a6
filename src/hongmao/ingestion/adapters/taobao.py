"""Adapter for Taobao UserBehavior (Alibaba Tianchi data set 649) into contract events.

Rows: ``user_id,item_id,category_id,behavior_type,timestamp`` (no header; Unix seconds). ``pv`` becomes
``market.visit``, ``cart`` ``market.cart``, ``fav`` ``market.favorite`` and ``buy`` ``market.order``. The
data carries no prices, so orders have amount 0 and a line price of 0. ``category_id`` is not carried: the
contract's ``item.listed`` needs a brand and a price, which the data set does not publish. User ids are
pseudonymised with the match key as they are read: the raw id never reaches the lake or the rejects file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from hongmao.identity import Pseudonymizer
from hongmao.ingestion.csvrows import rows
from hongmao.ingestion.readers import RawRecord
from hongmao.textfiles import numbered_lines

SOURCE = "market:taobao"
CHINA = timezone(timedelta(hours=8))
COLUMNS = ("user_id", "item_id", "category_id", "behavior_type", "timestamp")


def _visit(user: str, item: str, _category: str, _key: str) -> tuple[str, dict[str, Any]]:
    return "market.visit", {"user": user, "item_id": item}


def _cart(user: str, item: str, _category: str, _key: str) -> tuple[str, dict[str, Any]]:
    return "market.cart", {"user": user, "item_id": item, "quantity": 1}


def _fav(user: str, item: str, _category: str, _key: str) -> tuple[str, dict[str, Any]]:
    return "market.favorite", {"user": user, "item_id": item}


def _buy(user: str, item: str, _category: str, key: str) -> tuple[str, dict[str, Any]]:
    lines = [{"item_id": item, "quantity": 1, "price": 0}]
    return "market.order", {"order_id": "tb-" + key, "user": user, "lines": lines, "amount": 0}


#: behavior_type -> builder of (event type, data): the whole mapping in one table.
BEHAVIORS: dict[str, Callable[[str, str, str, str], tuple[str, dict[str, Any]]]] = {
    "pv": _visit,
    "cart": _cart,
    "fav": _fav,
    "buy": _buy,
}


def read_userbehavior(path: str, pseudonymizer: Pseudonymizer) -> Iterator[RawRecord]:
    with numbered_lines(path) as lines:
        for found in rows(lines):
            line_no, row = found.line, found.cells
            if row is None:
                yield RawRecord(line_no, None, found.error)
                continue
            if len(row) == 1 and not row[0].strip():
                continue
            if len(row) != len(COLUMNS):
                yield RawRecord(line_no, None, f"expected {len(COLUMNS)} columns ({','.join(COLUMNS)}), got {len(row)}")
                continue
            raw_user, item, category, behavior, ts = (cell.strip() for cell in row)
            builder = BEHAVIORS.get(behavior)
            if builder is None:
                yield RawRecord(line_no, None, f"behavior_type: unknown value (expected one of {', '.join(BEHAVIORS)})")
                continue
            try:
                when = datetime.fromtimestamp(int(ts), tz=CHINA)
            except (ValueError, OverflowError, OSError):
                yield RawRecord(line_no, None, "timestamp: not Unix seconds")
                continue
            if not raw_user or not item:
                yield RawRecord(line_no, None, "user_id/item_id: empty")
                continue
            user = pseudonymizer(raw_user)
            # The same row twice is the same event: the id is derived from its content.
            key = f"{user[:16]}-{item}-{behavior}-{ts}"
            kind, data = builder(user, item, category, key)
            record = {"id": "tb-" + key, "type": kind, "source": SOURCE, "time": when.isoformat(), "data": data}
            yield RawRecord(line_no, record)


def adapter(key: str) -> Callable[[str], Iterator[RawRecord]]:
    """The reader the ingest pipeline calls per path, bound to the match key."""
    pseudonymizer = Pseudonymizer(key, kind="account")
    return lambda path: read_userbehavior(path, pseudonymizer)
