"""Who produced the activity counts: each event of a report's activity figures with its figure, its key and the
person behind it, as one engine expression.

The reports' activity counts (impressions, reads, link clicks, engagements, carts, store visits, bot fetches) are
events, but each event is someone's: a note read 40 times by two people tells a brand what those two did. So the
k-threshold counts the distinct people behind each key's figure (:func:`actors`) and the differential-privacy
budget clamps each person's events (:mod:`hongmao.web.dp`); both read :func:`keyed_events`.

A person is the event's pseudonym, else the one the marketplace saw on the visit or order carrying the click's id,
else the event alone: an anonymous click (or a bot's fetch) is one event and one person, since nothing tells two
anonymous clicks apart (:mod:`hongmao.engine.clicks` counts them the same way).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import ibis

from hongmao.contract.envelope import ENGAGEMENT_TYPES
from hongmao.engine import tables
from hongmao.reports.metrics import local_day, note_meta

#: Every activity figure an event can count for.
FIGURES = ("impressions", "reads", "clicks", "engagements", "carts", "bot_clicks", "store_visits", "orders")
#: Keys an event can be counted under; ``creator`` and ``campaign`` are their notes' owners.
KEYS = ("note", "creator", "campaign", "day", "link", "ua_class", "")


def event_figure(ev: Any) -> Any:
    """Each event's figure (null: not an activity figure): human impressions, reads and link clicks as the daily
    series counts them, engagements (likes, collects, comments, shares), carts, bot and preview fetches, and
    marketplace visits carrying a click id (store visits); and orders (each its buyer's), which the funnel shows
    beside them."""
    bot = ev.bot.fill_null(False)
    return ibis.cases(
        ((ev.type == "note.impression") & ~bot, "impressions"),
        ((ev.type == "note.read") & ~bot, "reads"),
        ((ev.type == "link.click") & ~bot, "clicks"),
        ((ev.type == "link.click") & bot, "bot_clicks"),
        (ev.type.isin(list(ENGAGEMENT_TYPES)), "engagements"),
        (ev.type == "market.cart", "carts"),
        ((ev.type == "market.visit") & ev.click_id.notnull(), "store_visits"),
        (ev.type == "market.order", "orders"),
        else_=ibis.null("string"),
    )


def keyed_events(act: Any, by: str, tz: ZoneInfo, *, link_id: str | None = None) -> Any:
    """``act`` (a window's activity events, flagged accounts' engagement already left out) as (person, key,
    figure), one row per event of an activity figure. ``by``: one of :data:`KEYS` (``""``: one key, ``""``); a
    click counts for its link's note. ``link_id``: only that link's clicks and fetches. Events with no key
    under ``by`` (an impression under ``link``) are left out."""
    if by not in KEYS:
        raise ValueError(f"by: {by!r} is not one of {', '.join(repr(k) for k in KEYS)}")
    picked = act.mutate(figure=event_figure(act))
    picked = picked.filter(picked.figure.notnull())
    if link_id is not None:
        picked = picked.filter(picked.link_id == link_id)
    chain = tables.click_people(act).rename(chain_click="click_id")
    picked = picked.left_join(chain, picked.click_id == chain.chain_click)
    links = tables.links(act)
    picked = picked.left_join(links, picked.link_id == links.link_id).select(
        "id", "user", "time", "note_id", "link_id", "figure", "chain_user", "link_note", "data"
    )
    person = picked.user.coalesce(picked.chain_user, ibis.literal("event:").concat(picked.id))
    note = picked.note_id.coalesce(picked.link_note)
    if by in ("note", "creator", "campaign"):
        key: Any = note
    elif by == "day":
        key = local_day(picked.time, tz)
    elif by == "link":
        key = picked.link_id
    elif by == "ua_class":
        key = picked.data.cast("json")["ua_class"].str.fill_null("unknown")
    else:
        key = ibis.literal("")
    keyed = picked.select(person=person, key=key, figure=picked.figure)
    keyed = keyed.filter(keyed.key.notnull())
    if by in ("creator", "campaign"):
        owners = note_meta(act).select(owned_note="note_id", owner=f"{by}_id")
        keyed = keyed.join(owners, keyed.key == owners.owned_note)
        keyed = keyed.select("person", "figure", key=keyed.owner).filter(ibis._.key.notnull())
    return keyed


def actors(act: Any, by: str, tz: ZoneInfo, *, link_id: str | None = None) -> Any:
    """(figure, key, actors): how many distinct people each key's figure rests on (:func:`keyed_events`)."""
    keyed = keyed_events(act, by, tz, link_id=link_id)
    return keyed.group_by(["figure", "key"]).aggregate(actors=keyed.person.nunique())


def key_text(value: Any) -> str:
    """A key as the reports name it: ISO dates for days, text otherwise."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
