"""How complete the join is: orders with a matched person, orders with a click id, and the days either side
sent nothing or far less than usual.

A brand reading attribution over a day the marketplace sent a tenth of its usual orders should see a gap in
the data, not a drop in sales: each gap names the side, the day, what arrived and what usually does.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hongmao.contract.envelope import EVENT_TYPES
from hongmao.errors import InputError

#: A day with less than this share of the side's median day is a gap.
LOW_SHARE = 0.5
PARTY_OF_SIDE = {"community": "community", "links": "community", "market": "market"}


def coverage(
    events: Iterable[dict[str, Any]], matched: set[str] | None = None, low_share: float = LOW_SHARE
) -> dict[str, Any]:
    """The coverage report over envelopes (dicts); ``matched`` is the set of lake pseudonyms both sides hold
    (None: not known, the share is left out)."""
    per_day: dict[str, Counter[str]] = {"community": Counter(), "market": Counter()}
    orders_per_day: Counter[str] = Counter()
    orders = with_click = with_match = 0
    for e in events:
        spec = EVENT_TYPES.get(e.get("type", ""))
        party = PARTY_OF_SIDE.get(spec.side) if spec else None
        day = str(e.get("time", ""))[:10]
        if party is None or not _is_day(day):
            continue
        per_day[party][day] += 1
        if e["type"] == "market.order":
            data = e.get("data") or {}
            orders += 1
            orders_per_day[day] += 1
            with_click += bool(data.get("click_id"))
            with_match += bool(matched is not None and data.get("user") in matched)
    days = sorted(set(per_day["community"]) | set(per_day["market"]))
    span = _span(days[0], days[-1]) if days else []
    gaps = []
    for party in ("community", "market"):
        usual = statistics.median([per_day[party][d] for d in span]) if span else 0
        for d in span:
            n = per_day[party][d]
            if n == 0 or n < low_share * usual:
                # The first and last day are often partial (the export's cut-off), not an outage: said so.
                edge = d in (span[0], span[-1])
                gap: dict[str, Any] = {"side": party, "day": d, "events": n, "usual": usual, "edge": edge}
                if party == "market":
                    gap["orders"] = orders_per_day[d]
                gaps.append(gap)
    return {
        "orders": orders,
        "orders_with_click_id": with_click,
        "share_with_click_id": _share(with_click, orders),
        "orders_with_matched_person": with_match if matched is not None else None,
        "share_with_matched_person": _share(with_match, orders) if matched is not None else None,
        "days": len(span),
        "gaps": gaps,
        "note": "figures over gap days rest on missing data: a gap is not a drop in sales or reads",
    }


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _span(first: str, last: str) -> list[str]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [(a + timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def read_events(paths: Iterable[str | Path]) -> Iterable[dict[str, Any]]:
    for path in map(Path, paths):
        try:
            with path.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue  # ingest rejects it with its reason; coverage counts what can be read
                    if isinstance(event, dict):
                        yield event
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
