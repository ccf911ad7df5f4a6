"""Late refunds for restating guarantees: a market file of full refunds of orders a lake already holds.

The guarantee tests and ``bench/settle_guarantees.py`` both need refunds that arrive after a settlement and are
dated before (or after) a contract's due date; this writes them from a simulated world's market events.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any


def late_refunds(world: Path, out: Path, before: datetime, at: datetime, half: int = 0, tag: str = "late") -> int:
    """Write to ``out`` full refunds, dated ``at``, of half (``half`` 0 or 1: alternate ones, in order id order)
    of the orders in ``world`` placed before ``before`` and not refunded yet; event ids ``{tag}-{n}``. Returns
    how many it wrote."""
    orders: dict[str, dict[str, Any]] = {}
    refunded: set[str] = set()
    for line in (world / "events" / "market.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["type"] == "market.order" and datetime.fromisoformat(event["time"]) < before:
            orders[event["data"]["order_id"]] = event
        elif event["type"] == "market.refund":
            refunded.add(event["data"]["order_id"])
    lines = [
        json.dumps(
            {
                "id": f"{tag}-{n}",
                "type": "market.refund",
                "source": o["source"],
                "time": at.isoformat(),
                "data": {"order_id": oid, "amount": o["data"]["amount"], "reason": "other", "user": o["data"]["user"]},
            }
        )
        for n, (oid, o) in enumerate(sorted(orders.items()))
        if oid not in refunded and n % 2 == half
    ]
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)
