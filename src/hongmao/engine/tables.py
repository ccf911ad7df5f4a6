"""Base relations derived from the events table: notes, links, items, touches and conversions.

All are Ibis expressions (nothing runs until executed). Identity is resolved here: people meet across the
two sides on equal pseudonyms, and a link click without a known visitor takes the pseudonym from the
marketplace visit or order that carries the same click id (the click -> visit -> order chain).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import pyarrow as pa
from ibis import _
from ibis.expr.types import Table

from hongmao.contract import ENGAGEMENT_TYPES, EVENT_TYPES
from hongmao.engine import owners
from hongmao.engine.exact import exact_sum

NO_NOTE = "(community search)"


def user_set(users: Iterable[str] | Any | None) -> Any:
    """An Ibis table with one ``user`` column (pseudonyms), from an iterable or an existing table; None for none.

    Used to leave accounts out, e.g. the fake-engagement accounts the trust guard flags
    (``hongmao.trust.flagged_accounts``).
    """
    if users is None:
        return None
    if isinstance(users, ibis.Table):
        return users.select("user").distinct()
    values = sorted({str(u) for u in users})
    if not values:
        return None

    return ibis.memtable(pa.table({"user": pa.array(values, pa.string())}))


def without_users(rel: Any, users: Iterable[str] | Any | None) -> Any:
    """``rel`` without the rows whose ``user`` is in ``users`` (rows with no user are kept)."""
    excluded = user_set(users)
    if excluded is None:
        return rel
    return rel.anti_join(excluded, rel.user == excluded.user)


#: Event types that are a person's engagement with seeding (what fake accounts fake): everything a person does
#: on the community side but publish, and link clicks.
PERSON_ENGAGEMENT = (
    *sorted(name for name, t in EVENT_TYPES.items() if t.side == "community" and name != "note.published"),
    "link.click",
)


def without_engagement(ev: Table, users: Iterable[str] | Any | None) -> Any:
    """``ev`` without the community engagement (impressions, reads, likes, collects, comments, shares, searches,
    link clicks) of ``users``; their marketplace events stay (a flagged account's purchase is still a sale)."""
    excluded = user_set(users)
    if excluded is None:
        return ev
    engagement = ev.type.isin(PERSON_ENGAGEMENT)
    flagged = ev.user.isin(excluded.user).fill_null(False)
    return ev.filter(~(engagement & flagged))


def notes(ev: Table) -> Any:
    """One row per note; its brand is its owner (first registration, :mod:`hongmao.engine.owners`)."""
    published = ev.filter(ev.type == "note.published")
    published = published.mutate(_first=owners.is_first(published, "note_id"))
    return published.group_by("note_id").aggregate(
        note_creator=published.creator_id.max(),
        note_brand=published.brand.max(where=published._first),
        note_campaign=published.campaign_id.max(),
    )


def links(ev: Table) -> Any:
    created = ev.filter(ev.type == "link.created")
    return created.group_by("link_id").aggregate(
        link_note=created.note_id.max(),
        link_campaign=created.campaign_id.max(),
    )


def items(ev: Table) -> Any:
    """One row per item; its brand is its owner (first registration, :mod:`hongmao.engine.owners`)."""
    listed = ev.filter(ev.type == "item.listed")
    listed = listed.mutate(_first=owners.is_first(listed, "item_id"))
    return listed.group_by("item_id").aggregate(
        item_brand=listed.brand.max(where=listed._first),
        item_category=listed.category.max(),
    )


def click_people(ev: Table) -> Any:
    """click_id -> the pseudonym the marketplace saw on the visit or order carrying that click id."""
    carried = ev.filter(ev.type.isin(["market.visit", "market.order"]) & ev.click_id.notnull() & ev.user.notnull())
    return carried.group_by("click_id").aggregate(chain_user=carried.user.min())


def brands(ev: Table) -> Any:
    return items(ev).select(brand=_.item_brand).filter(_.brand.notnull()).distinct()


#: Community event types that are touches of a note, and the touch kind each one is.
NOTE_TOUCH_KINDS = (
    ("note.impression", "impression"),
    ("note.read", "read"),
    *((t, "engagement") for t in ENGAGEMENT_TYPES),
)


def touches(ev: Table, kinds: frozenset[str], exclude_users: Iterable[str] | Any | None = None) -> Any:
    """Every touch a person had with seeding, less the touches of ``exclude_users`` (pseudonyms or a table with
    a ``user`` column: flagged fake-engagement accounts, say).

    Columns: touch_id, user, t, kind, note_id, brand, creator_id, campaign_id.
    """
    parts = []
    note_meta = notes(ev)
    note_kinds = [(t, k) for t, k in NOTE_TOUCH_KINDS if k in kinds]
    if note_kinds:
        # A join to a small table of the wanted types, not ``type IN (...)``: planners estimate an IN list badly
        # (DuckDB guessed 16 k of 5 M rows and built its note join on the touches), a join they estimate well.
        wanted = ibis.memtable(
            pa.table({"touch_type": [t for t, _k in note_kinds], "touch_kind": [k for _t, k in note_kinds]})
        )
        nt = ev.filter(ev.user.notnull()).join(wanted, ev.type == wanted.touch_type)
        nt = nt.select(
            touch_id=nt.id,
            user=nt.user,
            t=nt.time,
            kind=nt.touch_kind,
            note_id=nt.note_id,
            link_campaign=ibis.null("string"),
        )
        parts.append(nt)
    if "click" in kinds:
        clicks = ev.filter((ev.type == "link.click") & ~ev.bot.fill_null(False))
        lk = links(ev)
        chain = click_people(ev)
        clicks = clicks.left_join(lk, clicks.link_id == lk.link_id).left_join(chain, clicks.click_id == chain.click_id)
        clicks = clicks.select(
            touch_id=_.id,
            user=_.user.coalesce(_.chain_user),
            t=_.time,
            kind=ibis.literal("click"),
            note_id=_.link_note,
            link_campaign=_.link_campaign,
        ).filter(_.user.notnull())
        parts.append(clicks)
    touch = None
    for part in parts:
        touch = part if touch is None else touch.union(part)
    result = []
    if touch is not None:
        joined = touch.left_join(note_meta, touch.note_id == note_meta.note_id)
        result.append(
            joined.select(
                touch_id=_.touch_id,
                user=_.user,
                t=_.t,
                kind=_.kind,
                note_id=_.note_id,
                brand=_.note_brand,
                creator_id=_.note_creator,
                campaign_id=_.link_campaign.coalesce(_.note_campaign),
            )
        )
    if "search" in kinds:
        searches = ev.filter((ev.type == "community.search") & ev.user.notnull() & ev.query.notnull())
        known = brands(ev).select(named_brand=_.brand)
        # A community search counts toward a brand when the query names it.
        matched = searches.join(known, searches.query.lower().contains(known.named_brand.lower()))
        result.append(
            matched.select(
                touch_id=_.id,
                user=_.user,
                t=_.time,
                kind=ibis.literal("search"),
                note_id=ibis.null("string"),
                brand=_.named_brand,
                creator_id=ibis.null("string"),
                campaign_id=ibis.null("string"),
            )
        )
    if not result:
        raise ValueError("no touch kinds selected")
    out = result[0]
    for part in result[1:]:
        out = out.union(part)
    return without_users(out, exclude_users)


def refunds(ev: Table) -> Any:
    r = ev.filter(ev.type == "market.refund")
    return r.group_by("order_id").aggregate(refunded=exact_sum(r.amount))


def conversions(ev: Table) -> Any:
    """One row per order: order_id, user, t, amount, net (after refunds), item_id, brand, category."""
    o = ev.filter(ev.type == "market.order")
    # The same order id sent twice under two event ids is one order: keep its earliest record.
    o = o.group_by("order_id").aggregate(
        user=o.user.min(), t=o.time.min(), amount=o.amount.max(), item_id=o.item_id.min()
    )
    it = items(ev)
    rf = refunds(ev)
    j = o.left_join(it, o.item_id == it.item_id).left_join(rf, o.order_id == rf.order_id)
    return j.select(
        order_id=_.order_id,
        user=_.user,
        t=_.t,
        amount=_.amount,
        refunded=ibis.least(_.refunded.fill_null(0.0), _.amount),
        item_id=_.item_id,
        brand=_.item_brand,
        category=_.item_category,
    ).mutate(net=_.amount - _.refunded)
