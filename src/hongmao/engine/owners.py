"""Who owns an id: the brand of its first registration, the one rule behind tenancy on both sides.

An id that exists belongs to whoever registered it first. A later record naming the same id with another brand
(a brand claiming a rival's note, an operator's import of conflicting listings) changes nothing: it neither
moves the id nor shares it. "First" is the earliest event time, ties broken by event id, so every engine and
every segment order agrees on it.

Registrations, as a table (kind -> the records that register an id of that kind, and the field naming it):

==============  ==============================================================================================
notes           ``note.published`` (note_id)
items           ``item.listed`` (item_id)
stores          ``item.listed`` (store_id): a store belongs to the brand that first listed in it
campaigns       ``campaign.created``, and the brand records naming one (``note.published``,
                ``collaboration.created``, ``note.boosted``): a campaign id first named by brand A is A's
collaborations  ``collaboration.created`` and ``note.published`` (collaboration_id, in the record's data)
==============  ==============================================================================================

Derived kinds: a link (``link.created``) belongs to the owner of its note, or of its item when the note has no
brand; an order (``market.order``) to the owner of its main item. A registration without a brand (a note with
no brand) is owned by the platform: ``owner`` is null and no brand may claim it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import ibis
from ibis.expr.types import Table

from hongmao.engine.session import Session

#: kind -> ((event type, column or ``data.<field>``), ...): the records that register an id of that kind.
REGISTRATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "notes": (("note.published", "note_id"),),
    "items": (("item.listed", "item_id"),),
    "stores": (("item.listed", "store_id"),),
    "campaigns": (
        ("campaign.created", "campaign_id"),
        ("note.published", "campaign_id"),
        ("collaboration.created", "campaign_id"),
        ("note.boosted", "campaign_id"),
    ),
    "collaborations": (("collaboration.created", "data.collaboration_id"), ("note.published", "data.collaboration_id")),
}
#: Kinds whose owner follows from another kind's: (event type, id column).
DERIVED: dict[str, tuple[str, str]] = {"links": ("link.created", "link_id"), "orders": ("market.order", "order_id")}
KINDS = (*REGISTRATIONS, *DERIVED)


def _column(ev: Table, name: str) -> Any:
    if name.startswith("data."):
        return ev.data.cast("json")[name[5:]].str
    return ev[name]


def is_first(rel: Any, key: str) -> Any:
    """True on the row of ``rel`` (records of one registering type) that registers its ``key`` first.

    For a one-row-per-id aggregate without a join: ``rel.brand.max(where=is_first(rel, "note_id"))`` is the
    owner, as :func:`owners` gives it for a kind registered by that type alone (notes, items, stores).
    """
    return ibis.row_number().over(ibis.window(group_by=key, order_by=["time", "id"])) == 0


def most_common(rel: Any, key: str, value: str, name: str) -> Any:
    """(``key``, ``name``): each key's most frequent non-null ``value``, ties to the first by value. Engines'
    own ``mode()`` break ties each their own way (DuckDB in no stated order), which would make a brand's
    category, and every figure that follows from it, depend on the engine."""
    known = rel.filter(rel[key].notnull() & rel[value].notnull())
    counts = known.group_by([key, value]).aggregate(_n=known.count())
    first = ibis.window(group_by=counts[key], order_by=[ibis.desc(counts._n), counts[value]])
    ranked = counts.mutate(_rank=ibis.row_number().over(first))
    return ranked.filter(ranked._rank == 0).select(key, **{name: ranked[value]})


def _first(rel: Any) -> Any:
    """One row per ``id``: the earliest by (t, event_id)."""
    window = ibis.window(group_by="id", order_by=["t", "event_id"])
    return rel.mutate(_rank=ibis.row_number().over(window)).filter(ibis._._rank == 0).drop("_rank")


def _registrations(ev: Table, kind: str, ids: Iterable[str] | None) -> Any:
    parts = []
    wanted = sorted(set(ids)) if ids is not None else None
    for event_type, column in REGISTRATIONS[kind]:
        rec = ev.filter(ev.type == event_type)
        rel = rec.select(id=_column(rec, column), owner=rec.brand, t=rec.time, event_id=rec.id)
        rel = rel.filter(rel.id.notnull())
        if wanted is not None:
            rel = rel.filter(rel.id.isin(wanted))
        parts.append(rel)
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part)
    return union


def owners(ev: Table, kind: str, ids: Iterable[str] | None = None) -> Any:
    """(id, owner): the owner of each id of ``kind`` in ``ev`` (only ``ids``, when given)."""
    if kind in REGISTRATIONS:
        return _first(_registrations(ev, kind, ids)).select("id", "owner")
    if kind not in DERIVED:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    event_type, column = DERIVED[kind]
    rec = ev.filter((ev.type == event_type) & ev[column].notnull())
    if ids is not None:
        rec = rec.filter(rec[column].isin(sorted(set(ids))))
    first = _first(rec.select(id=rec[column], note_id=rec.note_id, item_id=rec.item_id, t=rec.time, event_id=rec.id))
    items = owners(ev, "items").rename(item_owner="owner", item_key="id")
    joined = first.left_join(items, first.item_id == items.item_key)
    if kind == "orders":
        return joined.select(id=joined.id, owner=joined.item_owner)
    notes = owners(ev, "notes").rename(note_owner="owner", note_key="id")
    joined = joined.left_join(notes, joined.note_id == notes.note_key)
    return joined.select(id=joined.id, owner=joined.note_owner.coalesce(joined.item_owner))


def owned_by(ev: Table, kind: str, brand: str) -> Any:
    """The ids of ``kind`` that ``brand`` owns, as a one-column (``id``) table."""
    rel = owners(ev, kind)
    return rel.filter(rel.owner == brand).select("id")


def lookup(session: Session, ev: Table, wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str | None]]:
    """For each kind, the ids of ``wanted`` that exist and their owner (None: the platform's)."""
    out: dict[str, dict[str, str | None]] = {}
    for kind, ids in wanted.items():
        chosen = sorted(set(ids))
        if not chosen:
            out[kind] = {}
            continue
        rows = session.arrow(owners(ev, kind, chosen)).to_pylist()
        out[kind] = {r["id"]: r["owner"] for r in rows}
    return out
