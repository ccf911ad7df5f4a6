"""What the lake knows about each note's commercial ties, for the disclosure check (报备).

A note is tied to a brand commercially when the lake holds any of:

* a filed collaboration: ``collaboration_id`` on its ``note.published``;
* a campaign claiming it: ``campaign_id`` on the note, or the note listed in a ``campaign.created``'s ``notes``
  (an undisclosed paid note names no campaign; only the brand's campaign record lists it);
* a shoppable link (种草直达 / 挂链): a ``link.created`` for the note.

Paid boosting (投流) has no event in the contract yet, so it cannot be evidence here (see docs/trust.md).
One row per published note; the judgement itself is :mod:`hongmao.trust.disclosure`.
"""

from __future__ import annotations

from typing import Any


def published_notes(ev: Any) -> Any:
    """One row per note: its latest published record (a re-sent note.published corrects the earlier one)."""
    p = ev.filter(ev.type == "note.published")
    data = p.data.cast("json")
    p = p.mutate(
        disclosed=data["disclosed"].bool.fill_null(False),
        collaboration_id=data["collaboration_id"].str,
        tier=data["creator_tier"].str,
    )
    return p.group_by("note_id").aggregate(
        creator_id=p.creator_id.argmax(p.time),
        brand=p.brand.argmax(p.time),
        disclosed=p.disclosed.argmax(p.time),
        collaboration_id=p.collaboration_id.argmax(p.time),
        note_campaign=p.campaign_id.argmax(p.time),
        tier=p.tier.argmax(p.time),
        published=p.time.min(),
    )


def campaign_listings(ev: Any) -> Any:
    """(note_id, campaign_id, campaign_brand): every note a brand's campaign record lists."""
    c = ev.filter(ev.type == "campaign.created")
    listed = c.select(
        campaign_id=c.campaign_id, campaign_brand=c.brand, note=c.data.cast("json")["notes"].array.unnest()
    )
    return listed.select(note_id=listed.note.str, campaign_id=listed.campaign_id, campaign_brand=listed.campaign_brand)


def note_links(ev: Any) -> Any:
    """(note_id, link_ids, link_campaigns): the shoppable links created for each note."""
    lk = ev.filter((ev.type == "link.created") & ev.note_id.notnull())
    return lk.group_by("note_id").aggregate(
        link_ids=lk.link_id.collect(order_by=lk.link_id, distinct=True),
        link_campaign=lk.campaign_id.max(),
    )


def commercial_evidence(ev: Any) -> Any:
    """One row per published note with every commercial tie the lake holds.

    Columns: note_id, creator_id, brand, tier, published, disclosed, collaboration_id, note_campaign,
    listed_campaigns (array), listed_brand, link_ids (array), link_campaign.
    """
    notes = published_notes(ev)
    listings = campaign_listings(ev)
    listed = listings.group_by("note_id").aggregate(
        listed_campaigns=listings.campaign_id.collect(order_by=listings.campaign_id, distinct=True),
        listed_brand=listings.campaign_brand.max(),
    )
    links = note_links(ev)
    j = notes.left_join(listed, notes.note_id == listed.note_id).left_join(links, notes.note_id == links.note_id)
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
    ).order_by("note_id")


def evidence_rows(con: Any, ev: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = con.to_pyarrow(commercial_evidence(ev)).to_pylist()
    return rows
