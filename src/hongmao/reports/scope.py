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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hongmao.contract import EVENT_TYPES, EventBase, Problem
from hongmao.engine import owners
from hongmao.engine.session import Session
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
    """The events of ``ev`` (an Ibis table with the lake's columns) that belong to ``brand``.

    Ownership is first registration (:mod:`hongmao.engine.owners`): a later record naming a rival's id with
    this brand, had one slipped in, makes nothing of that id this brand's.
    """
    notes = owners.owned_by(ev, "notes", brand)
    items = owners.owned_by(ev, "items", brand)
    stores = owners.owned_by(ev, "stores", brand)
    links = owners.owned_by(ev, "links", brand)
    orders = owners.owned_by(ev, "orders", brand)
    keep = (
        (ev.type.isin(list(BRAND_RECORDS)) & (ev.brand == brand))
        | (ev.type.startswith("note.") & (ev.type != "note.published") & ev.note_id.isin(notes.id))
        | (ev.type.isin(["link.created", "link.click"]) & ev.link_id.isin(links.id))
        | (ev.type.isin(list(ITEM_TOUCHES)) & ev.item_id.isin(items.id))
        | ((ev.type == "market.visit") & ev.item_id.isnull() & ev.store_id.isin(stores.id))
        | ((ev.type == "market.order") & ev.order_id.isin(orders.id))
        | (ev.type.isin(list(ORDER_CHILDREN)) & ev.order_id.isin(orders.id))
        | (ev.type.isin(list(SEARCHES)) & ev.query.lower().contains(brand.lower()))
    )
    # A brand record naming this brand is kept only when the id it registers is this brand's (or new to the
    # lake's first-registration rule, as a campaign's own record is): a claim on a rival's note stays out.
    claims = (
        ((ev.type == "note.published") & ~ev.note_id.isin(notes.id))
        | ((ev.type == "item.listed") & ~ev.item_id.isin(items.id))
        | ((ev.type == "note.boosted") & ~ev.note_id.isin(notes.id))
    )
    return ev.filter(keep.fill_null(False) & ~claims.fill_null(False))


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


#: A person's contact with a note (impression, read, like, ...): the contract's note events but the brand's own.
NOTE_TOUCHES = tuple(t for t in EVENT_TYPES if t.startswith("note.") and t not in BRAND_RECORDS)
#: How a field of an event relates to the sending brand's ids:
#: ``claim`` -- the record registers the id: it must be new to the lake or already the brand's;
#: ``own``   -- the id must be the brand's (in the lake, or claimed earlier in the same batch);
#: ``free``  -- the id may be new (a deal naming a note yet to be published) but never another's.
Role = Literal["claim", "own", "free"]
#: event type -> ((field of data, kind of id, role), ...); a field holding a list names one id per element.
#: Types not listed are platform data (searches): brand keys may not send them.
ID_FIELDS: dict[str, tuple[tuple[str, str, Role], ...]] = {
    "note.published": (
        ("note_id", "notes", "claim"),
        ("items", "items", "free"),
        ("campaign_id", "campaigns", "claim"),
        ("collaboration_id", "collaborations", "claim"),
    ),
    "item.listed": (("item_id", "items", "claim"), ("store_id", "stores", "claim")),
    "campaign.created": (("campaign_id", "campaigns", "claim"), ("notes", "notes", "free")),
    "collaboration.created": (
        ("collaboration_id", "collaborations", "claim"),
        ("note_id", "notes", "free"),
        ("campaign_id", "campaigns", "claim"),
    ),
    "note.boosted": (("note_id", "notes", "own"), ("campaign_id", "campaigns", "claim")),
    **{kind: (("note_id", "notes", "own"),) for kind in NOTE_TOUCHES},
    # A link needs one of note and item to be the brand's (checked below); neither may be another's.
    "link.created": (
        ("link_id", "links", "claim"),
        ("note_id", "notes", "free"),
        ("item_id", "items", "free"),
        ("campaign_id", "campaigns", "free"),
    ),
    "link.click": (("link_id", "links", "own"),),
    "market.visit": (("item_id", "items", "own"), ("store_id", "stores", "free")),
    "market.cart": (("item_id", "items", "own"),),
    "market.favorite": (("item_id", "items", "own"),),
    "market.order": (("order_id", "orders", "claim"), ("main_item", "items", "own"), ("line_items", "items", "free")),
    "market.refund": (("order_id", "orders", "own"),),
    "market.review": (("order_id", "orders", "own"),),
}
#: Who owns the ids named, per kind: ``{kind: {id: owner}}``; an id absent from the answer is not in the lake.
Lookup = Callable[[Mapping[str, Iterable[str]]], dict[str, dict[str, str | None]]]


def _values(data: Any, name: str) -> list[str]:
    if name == "main_item":
        return [data.main_item()]
    if name == "line_items":
        return [line.item_id for line in data.lines]
    value = getattr(data, name, None)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@dataclass
class BrandGate:
    """Refuses events a brand key may not send: the write-side twin of :func:`brand_events`.

    A brand sends events about its own brand only: it may register new ids under its own brand and update
    its own, never claim, rename or touch another's (:data:`ID_FIELDS` says which field does what). Searches
    belong to no brand (platform data). ``lookup`` answers who owns the ids a batch names, in the lake as
    committed; call :meth:`prepare` with the batch under the lake's write lock, so that no other batch can
    register one of them in between, then the gate on each event in order: ids the batch registers count at
    once for the events after it.
    """

    brand: str
    lookup: Lookup
    _owner: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def prepare(self, events: Iterable[EventBase]) -> None:
        wanted: dict[str, set[str]] = {}
        for event in events:
            data: Any = event.data  # type: ignore[attr-defined]
            for name, kind, _role in ID_FIELDS.get(event.type, ()):  # type: ignore[attr-defined]
                wanted.setdefault(kind, set()).update(_values(data, name))
        self._owner = {kind: dict(found) for kind, found in self.lookup(wanted).items()}

    def _mine(self, kind: str, value: str) -> bool:
        known = self._owner.setdefault(kind, {})
        return value in known and known[value] == self.brand

    def _taken(self, kind: str, value: str) -> bool:
        known = self._owner.setdefault(kind, {})
        return value in known and known[value] != self.brand

    def __call__(self, event: EventBase) -> Problem | None:
        kind: str = event.type  # type: ignore[attr-defined]
        data: Any = event.data  # type: ignore[attr-defined]
        if kind not in ID_FIELDS:
            return Problem("type", f"{kind} events are platform data: send them with an operator key")
        if kind in BRAND_RECORDS and data.brand != self.brand:
            return Problem("data.brand", f"a key of brand {self.brand!r} sends records of its own brand only")
        claims: list[tuple[str, str]] = []
        for name, id_kind, role in ID_FIELDS[kind]:
            for value in _values(data, name):
                where = f"data.{'items' if name in ('main_item', 'line_items') else name}"
                if role == "own" and not self._mine(id_kind, value):
                    return Problem(where, f"no {id_kind[:-1]} {value!r} of brand {self.brand!r}")
                if role in ("claim", "free") and self._taken(id_kind, value):
                    return Problem(where, f"{id_kind[:-1]} {value!r} is registered to another party")
                if role == "claim":
                    claims.append((id_kind, value))
        if kind == "link.created" and not (self._mine("notes", data.note_id) or self._mine("items", data.item_id)):
            return Problem(
                "data.note_id", f"neither note {data.note_id!r} nor item {data.item_id!r} is brand {self.brand!r}'s"
            )
        for id_kind, value in claims:
            self._owner[id_kind].setdefault(value, self.brand)
        return None


def lake_owners(lake: Lake, wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str | None]]:
    """Who owns each of ``wanted``'s ids in ``lake`` as committed now (a :data:`Lookup` over a lake)."""
    paths = lake.segment_paths()
    if not paths or not any(True for ids in wanted.values() for _ in ids):
        return {kind: {} for kind in wanted}
    with Session(paths) as session:
        return owners.lookup(session, session.events, wanted)


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
        with Session(paths) as session:
            temp = target.with_name(f".{target.stem}.{uuid.uuid4().hex}.tmp")
            session.to_parquet(brand_events(session.events, brand), temp)
            os.replace(temp, target)
        # Older versions of this brand's view are dead weight once the new one exists; a minute's grace
        # lets a report that listed an old one finish reading it.
        prefix = target.name.split("-", 1)[0] + "-"
        for old in self.directory.glob(prefix + "*.parquet"):
            with contextlib.suppress(OSError):
                if old != target and old.stat().st_mtime < time.time() - STALE_SECONDS:
                    old.unlink()
