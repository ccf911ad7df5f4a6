"""Helpers to put hand-made events straight into Parquet segments for engine tests (no lake needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import event
from hongmao.contract import parse_event, to_row
from hongmao.engine.schema import EVENTS_SCHEMA
from hongmao.engine.session import Session


def write_segment(path: Path, events: list[dict[str, Any]]) -> Path:
    rows = [to_row(parse_event(e)) for e in events]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=EVENTS_SCHEMA.to_pyarrow()), path)
    return path


T0 = datetime(2025, 6, 1, tzinfo=UTC)
_OPEN: list[Session] = []


def on(segments: list[Path]) -> Session:
    """An engine session over ``segments`` for one test; conftest closes every one after the test."""
    session = Session(segments)
    _OPEN.append(session)
    return session


def close_sessions() -> None:
    while _OPEN:
        _OPEN.pop().close()


def at(days: float) -> str:
    """The time ``days`` after 2025-06-01 00:00 UTC, as RFC 3339."""
    return (T0 + timedelta(days=days)).isoformat()


def two_brand_catalog() -> list[dict[str, Any]]:
    """Items of Lumi (skincare) and Oat (baby food); notes n1 (c1, Lumi), n2 (c2, Lumi, campaign k1, link l2),
    n3 (c1, Oat)."""
    return [
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
        event("item.listed", at(0), item_id="i2", store_id="s2", brand="Oat", category="babyfood", price=50),
        event("note.published", at(0), note_id="n1", creator_id="c1", brand="Lumi", items=["i1"]),
        event("note.published", at(0), note_id="n2", creator_id="c2", brand="Lumi", items=["i1"], campaign_id="k1"),
        event("note.published", at(0), note_id="n3", creator_id="c1", brand="Oat", items=["i2"]),
        event(
            "link.created",
            at(0),
            link_id="l2",
            note_id="n2",
            item_id="i1",
            market="tmall",
            url="https://detail.tmall.com/item.htm?id=1",
        ),
    ]
