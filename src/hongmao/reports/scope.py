"""Tenancy in one place: the part of the lake a brand may see, as segments every engine function can read.

A brand's view holds the events that are about it and nothing else:

- its notes (``note.published`` with its brand) and every touch of them (impressions, reads, engagement);
- its items (``item.listed``), the visits, carts and favourites of those items and the visits of its stores;
- its orders (whose main item is one of its items) and the refunds and reviews of those orders;
- the links to its notes or items and their clicks; its campaigns;
- searches (community or marketplace) whose query names the brand: the search-back signal.

:class:`LakeView` materialises that view once per lake version as one Parquet file under the data directory
(``.views/``), so attribution, the funnel and any other engine function that reads segments runs unchanged on
a brand's data: a report cannot reach another brand's rows because it is never handed them. The operator's
view (``brand=None``) is the lake's own segments.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hongmao.contract import EventBase, Problem
from hongmao.engine import backend
from hongmao.lake import Lake

VIEWS_DIR = ".views"
STALE_SECONDS = 60.0
ORDER_CHILDREN = ("market.refund", "market.review")
ITEM_TOUCHES = ("market.visit", "market.cart", "market.favorite")
SEARCHES = ("community.search", "market.search")
#: Records that name their brand: each belongs to the brand it names (a brand may only send its own).
BRAND_RECORDS = ("note.published", "item.listed", "campaign.created", "collaboration.created", "note.boosted")


@dataclass(frozen=True)
class Scope:
    """Whose data a request may see: one brand, or (``brand=None``) the whole platform (operators)."""

    brand: str | None

    @property
    def platform(self) -> bool:
        return self.brand is None


def brand_events(ev: Any, brand: str) -> Any:
    """The events of ``ev`` (an Ibis table with the lake's columns) that belong to ``brand``."""
    notes = ev.filter((ev.type == "note.published") & (ev.brand == brand)).select("note_id")
    items = ev.filter((ev.type == "item.listed") & (ev.brand == brand))
    item_ids = items.select("item_id")
    store_ids = items.select("store_id")
    links = ev.filter(
        (ev.type == "link.created") & (ev.note_id.isin(notes.note_id) | ev.item_id.isin(item_ids.item_id))
    ).select("link_id")
    orders = ev.filter((ev.type == "market.order") & ev.item_id.isin(item_ids.item_id)).select("order_id")
    keep = (
        (ev.type.isin(list(BRAND_RECORDS)) & (ev.brand == brand))
        | (ev.type.startswith("note.") & (ev.type != "note.published") & ev.note_id.isin(notes.note_id))
        | (ev.type.isin(["link.created", "link.click"]) & ev.link_id.isin(links.link_id))
        | (ev.type.isin(list(ITEM_TOUCHES)) & ev.item_id.isin(item_ids.item_id))
        | ((ev.type == "market.visit") & ev.item_id.isnull() & ev.store_id.isin(store_ids.store_id))
        | ((ev.type == "market.order") & ev.item_id.isin(item_ids.item_id))
        | (ev.type.isin(list(ORDER_CHILDREN)) & ev.order_id.isin(orders.order_id))
        | (ev.type.isin(list(SEARCHES)) & ev.query.lower().contains(brand.lower()))
    )
    return ev.filter(keep.fill_null(False))


@dataclass(frozen=True)
class Ownership:
    """The ids a brand owns: a request naming any other id is answered 404, an event about one is refused."""

    notes: frozenset[str] = frozenset()
    items: frozenset[str] = frozenset()
    stores: frozenset[str] = frozenset()
    orders: frozenset[str] = frozenset()
    links: frozenset[str] = frozenset()
    campaigns: frozenset[str] = frozenset()
    creators: frozenset[str] = frozenset()


@dataclass
class BrandGate:
    """Refuses events a brand key may not send: the write-side twin of :func:`brand_events`.

    A brand sends events about its own brand only: its notes, items, campaigns, the touches, visits, orders,
    refunds and reviews of those, and its links and their clicks. Searches belong to no brand (they are
    platform data). Ids the batch itself makes the brand's (a new item, then its orders) count at once.
    """

    brand: str
    owned: Ownership
    _new: dict[str, set[str]] = field(default_factory=dict)

    def _has(self, kind: str, value: str | None) -> bool:
        return value is not None and (value in getattr(self.owned, kind) or value in self._new.get(kind, set()))

    def _add(self, kind: str, value: str | None) -> None:
        if value is not None:
            self._new.setdefault(kind, set()).add(value)

    def __call__(self, event: EventBase) -> Problem | None:
        kind: str = event.type  # type: ignore[attr-defined]
        data: Any = event.data  # type: ignore[attr-defined]
        ok: bool
        if kind in BRAND_RECORDS:
            ok = data.brand == self.brand
            if ok and kind == "note.published":
                self._add("notes", data.note_id)
            elif ok and kind == "item.listed":
                self._add("items", data.item_id)
                self._add("stores", data.store_id)
        elif kind.startswith("note."):
            ok = self._has("notes", data.note_id)
        elif kind == "link.created":
            ok = self._has("notes", data.note_id) or self._has("items", data.item_id)
            if ok:
                self._add("links", data.link_id)
        elif kind == "link.click":
            ok = self._has("links", data.link_id)
        elif kind in ITEM_TOUCHES:
            item = getattr(data, "item_id", None)
            ok = self._has("items", item) if item is not None else self._has("stores", getattr(data, "store_id", None))
        elif kind == "market.order":
            ok = self._has("items", data.main_item())
            if ok:
                self._add("orders", data.order_id)
        elif kind in ORDER_CHILDREN:
            ok = self._has("orders", data.order_id)
        else:
            return Problem("type", f"{kind} events are platform data: send them with an operator key")
        if ok:
            return None
        return Problem("(record)", f"not about brand {self.brand!r}: a brand key sends its own brand's events only")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class LakeView:
    """Segments per scope, materialised once per lake version (the list of committed segments)."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.directory = lake.data_dir / VIEWS_DIR
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def version(self) -> str:
        """A short digest of the committed segments: it changes whenever anything is appended."""
        return _digest("\n".join(p.name for p in self.lake.segment_paths()))

    def segments(self, scope: Scope) -> list[Path]:
        paths = self.lake.segment_paths()
        if scope.brand is None:
            return paths
        version = _digest("\n".join(p.name for p in paths))
        target = self.directory / f"{_digest(scope.brand)}-{version}.parquet"
        if target.exists():
            return [target]
        with self._lock_for(target.name):
            if not target.exists():
                self._materialise(paths, scope.brand, target)
        return [target]

    def _lock_for(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    def _materialise(self, paths: list[Path], brand: str, target: Path) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        con = backend.connect()
        try:
            ev = backend.events_table(con, paths)
            temp = target.with_name(f".{target.stem}.{uuid.uuid4().hex}.tmp")
            con.to_parquet(brand_events(ev, brand), temp)
            os.replace(temp, target)
        finally:
            con.disconnect()
        # Older versions of this brand's view are dead weight once the new one exists; a minute's grace
        # lets a report that listed an old one finish reading it.
        prefix = target.name.split("-", 1)[0] + "-"
        for old in self.directory.glob(prefix + "*.parquet"):
            with contextlib.suppress(OSError):
                if old != target and old.stat().st_mtime < time.time() - STALE_SECONDS:
                    old.unlink()
