"""What the lake knows about each note's commercial ties, for the disclosure check (报备).

A note is tied to a brand commercially when the lake holds any of:

* a filed collaboration: ``collaboration_id`` on its ``note.published``;
* a campaign claiming it: ``campaign_id`` on the note, or the note listed in a ``campaign.created``'s ``notes``
  (an undisclosed paid note names no campaign; only the brand's campaign record lists it);
* a shoppable link (种草直达 / 挂链): a ``link.created`` for the note;
* a brand's collaboration record (``collaboration.created``) naming the note, or, when the record names no
  note (a deal paying for "a post"), a note matched to it by :func:`hongmao.trust.disclosure.match_deals`;
* paid boosting: a ``note.boosted`` of the note.

One row per published note; the judgement itself is :mod:`hongmao.trust.disclosure`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ibis.expr.types import Table

from hongmao.engine.exact import exact_sum
from hongmao.engine.session import Session


def published_notes(ev: Table) -> Any:
    """One row per note: its latest published record (a re-sent note.published corrects the earlier one)."""
    p = ev.filter(ev.type == "note.published")
    data = p.data.cast("json")
    p = p.mutate(
        disclosed=data["disclosed"].bool.fill_null(False),
        collaboration_id=data["collaboration_id"].str,
        tier=data["creator_tier"].str,
        title=data["title"].str,
    )
    return p.group_by("note_id").aggregate(
        creator_id=p.creator_id.argmax(p.time),
        brand=p.brand.argmax(p.time),
        disclosed=p.disclosed.argmax(p.time),
        collaboration_id=p.collaboration_id.argmax(p.time),
        note_campaign=p.campaign_id.argmax(p.time),
        tier=p.tier.argmax(p.time),
        title=p.title.argmax(p.time),
        published=p.time.min(),
    )


def campaign_starts(ev: Table) -> Any:
    """(campaign_id, brand, start): when each campaign says it starts (ISO text, as the record has it)."""
    c = ev.filter(ev.type == "campaign.created")
    return c.select(c.campaign_id, c.brand, start=c.data.cast("json")["start"].str).order_by("campaign_id")


def campaign_listings(ev: Table) -> Any:
    """(note_id, campaign_id, campaign_brand): every note a brand's campaign record lists."""
    c = ev.filter(ev.type == "campaign.created")
    listed = c.select(
        campaign_id=c.campaign_id, campaign_brand=c.brand, note=c.data.cast("json")["notes"].array.unnest()
    )
    return listed.select(note_id=listed.note.str, campaign_id=listed.campaign_id, campaign_brand=listed.campaign_brand)


def note_links(ev: Table) -> Any:
    """(note_id, link_ids, link_campaigns): the shoppable links created for each note."""
    lk = ev.filter((ev.type == "link.created") & ev.note_id.notnull())
    return lk.group_by("note_id").aggregate(
        link_ids=lk.link_id.collect(order_by=lk.link_id, distinct=True),
        link_campaign=lk.campaign_id.max(),
    )


def named_deals(ev: Table) -> Any:
    """(note_id, deal_ids, deal_brand): the collaboration records that name their note."""
    d = ev.filter((ev.type == "collaboration.created") & ev.note_id.notnull())
    return d.group_by("note_id").aggregate(
        deal_ids=d.data.cast("json")["collaboration_id"].str.collect(distinct=True), deal_brand=d.brand.max()
    )


def unnamed_deals(ev: Table) -> Any:
    """(deal_id, creator_id, brand, logged): collaboration records that name no note."""
    d = ev.filter((ev.type == "collaboration.created") & ev.note_id.isnull())
    return d.select(
        deal_id=d.data.cast("json")["collaboration_id"].str, creator_id=d.creator_id, brand=d.brand, logged=d.time
    ).order_by(["logged", "deal_id"])


def boosts(ev: Table) -> Any:
    """(note_id, boost_brand, boost_spend): the paid boosting of each note."""
    b = ev.filter((ev.type == "note.boosted") & ev.note_id.notnull())
    return b.group_by("note_id").aggregate(boost_brand=b.brand.max(), boost_spend=exact_sum(b.amount))


def commercial_evidence(ev: Table) -> Any:
    """One row per published note with every commercial tie the lake holds.

    Columns: note_id, creator_id, brand, tier, published, disclosed, collaboration_id, note_campaign,
    listed_campaigns (array), listed_brand, link_ids (array), link_campaign, deal_ids (array), deal_brand,
    boost_brand, boost_spend.
    """
    notes = published_notes(ev)
    listings = campaign_listings(ev)
    listed = listings.group_by("note_id").aggregate(
        listed_campaigns=listings.campaign_id.collect(order_by=listings.campaign_id, distinct=True),
        listed_brand=listings.campaign_brand.max(),
    )
    links = note_links(ev)
    named, boosted = named_deals(ev), boosts(ev)
    j = (
        notes.left_join(listed, notes.note_id == listed.note_id)
        .left_join(links, notes.note_id == links.note_id)
        .left_join(named, notes.note_id == named.note_id)
        .left_join(boosted, notes.note_id == boosted.note_id)
    )
    return j.select(
        "note_id",
        "creator_id",
        "brand",
        "tier",
        "published",
        "disclosed",
        "collaboration_id",
        "note_campaign",
        "listed_campaigns",
        "listed_brand",
        "link_ids",
        "link_campaign",
        "deal_ids",
        "deal_brand",
        "boost_brand",
        "boost_spend",
    ).order_by("note_id")


def suspect_rows(session: Session, ev: Table) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every published note with its title, and every campaign's brand and start (parsed), for
    :mod:`hongmao.trust.suspected`."""
    notes: list[dict[str, Any]] = session.arrow(
        published_notes(ev).select("note_id", "creator_id", "brand", "published", "disclosed", "title")
    ).to_pylist()
    campaigns = []
    for c in session.arrow(campaign_starts(ev)).to_pylist():
        try:
            start = datetime.fromisoformat(str(c["start"]))
        except ValueError:
            continue  # a campaign with no readable start cannot time a warm-up
        campaigns.append({"brand": c["brand"], "start": start})
    return notes, campaigns


def evidence_rows(session: Session, ev: Table) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The evidence row of every note, and the collaboration records that name no note."""
    rows: list[dict[str, Any]] = session.arrow(commercial_evidence(ev)).to_pylist()
    deals: list[dict[str, Any]] = session.arrow(unnamed_deals(ev)).to_pylist()
    return rows, deals
