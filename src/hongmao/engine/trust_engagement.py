"""Aggregates for fake-engagement detection (水军): per-account behaviour, lockstep pairs of accounts, and
per-note engagement with the share that came from flagged accounts. The judgement is
:mod:`hongmao.trust.engagement`.

* Account behaviour: reads, reads with implausibly short dwell, engagements (like, collect, comment, share),
  distinct notes and creators engaged, the share of engagement spent on one creator, orders placed.
* Lockstep: two accounts that both engaged the same note within ``window_seconds`` of each other, counted over
  distinct notes. Pairs only come back when they share at least ``min_shared`` notes, so the result stays small.
  Only engagements (not reads or impressions) enter the pairing: they are the signal rings sell, and they are
  sparse enough that the self-join stays cheap.
* Note engagement: reads, likes and all engagements, how many came in the first ``burst_seconds`` after
  publication, and (given the flagged accounts) how many came from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
from ibis.expr.types import Table

from hongmao.contract import ENGAGEMENT_TYPES
from hongmao.engine import tables

ACTION_TYPES = ("note.read", *ENGAGEMENT_TYPES)


def account_activity(ev: Table, short_dwell_ms: int) -> Any:
    """One row per community account with any read or engagement."""
    acts = ev.filter(ev.type.isin(list(ACTION_TYPES)) & ev.user.notnull() & ev.note_id.notnull())
    meta = tables.notes(ev)
    acts = acts.left_join(meta, acts.note_id == meta.note_id).select(
        user=acts.user,
        type=acts.type,
        note_id=acts.note_id,
        dwell_ms=acts.dwell_ms,
        creator=meta.note_creator,
    )
    is_read = acts.type == "note.read"
    is_eng = ~is_read
    base = acts.group_by("user").aggregate(
        reads=is_read.cast("int64").sum(),
        short_reads=(is_read & (acts.dwell_ms < short_dwell_ms)).cast("int64").sum(),
        engagements=is_eng.cast("int64").sum(),
        likes=(acts.type == "note.like").cast("int64").sum(),
        notes=acts.note_id.nunique(),
        engaged_notes=acts.note_id.nunique(where=is_eng),
        creators=acts.creator.nunique(where=is_eng),
    )
    eng = acts.filter(is_eng & acts.creator.notnull())
    per_creator = eng.group_by(["user", "creator"]).aggregate(n=eng.count())
    top = per_creator.group_by("user").aggregate(top_creator_engagements=per_creator.n.max())
    orders = ev.filter((ev.type == "market.order") & ev.user.notnull())
    bought = orders.group_by("user").aggregate(orders=orders.order_id.nunique())
    j = base.left_join(top, base.user == top.user).left_join(bought, base.user == bought.user)
    return j.select(
        "user",
        "reads",
        "short_reads",
        "engagements",
        "likes",
        "notes",
        "engaged_notes",
        "creators",
        top_creator_engagements=j.top_creator_engagements.fill_null(0),
        orders=j.orders.fill_null(0),
    )


def _close_pairs(eng: Table, seconds: int) -> Any:
    """Every (user_a < user_b, note) whose first engagements of one note lie within ``seconds`` of each other."""
    first = eng.group_by(["user", "note_id"]).aggregate(t=eng.time.min().epoch_seconds())
    a = first.view()
    b = first.view()
    return a.join(
        b,
        [a.note_id == b.note_id, a.user < b.user, (a.t - b.t).abs() <= seconds],
        lname="{name}_a",
        rname="{name}_b",
    )


def _shared_at_least(pairs: Any, min_shared: int) -> Any:
    counted = pairs.group_by(["user_a", "user_b"]).aggregate(shared=pairs.note_id_a.nunique())
    return counted.filter(counted.shared >= min_shared)


def _engagements(ev: Table) -> Any:
    return ev.filter(ev.type.isin(list(ENGAGEMENT_TYPES)) & ev.user.notnull() & ev.note_id.notnull())


def lockstep_pairs(ev: Table, window_seconds: int, min_shared: int, among: Iterable[str] | Any | None = None) -> Any:
    """(user_a, user_b, shared): pairs of accounts that engaged at least ``min_shared`` of the same notes, each
    time within ``window_seconds`` of each other (user_a < user_b); only pairs within ``among`` when given."""
    eng = _engagements(ev)
    if among is not None:
        keep = tables.user_set(among)
        if keep is None:
            return eng.select(user_a=eng.user, user_b=eng.user, shared=ibis.literal(0, "int64")).limit(0)
        eng = eng.semi_join(keep, eng.user == keep.user)
    return _shared_at_least(_close_pairs(eng, window_seconds), min_shared)


def coengagement_pairs(ev: Table, tolerance_seconds: int, min_shared: int) -> Any:
    """(user_a, user_b, shared, creators): pairs of accounts that engaged at least ``min_shared`` of the same
    notes, each time within ``tolerance_seconds`` of each other (hours, not minutes: a careful ring spreads a
    job over a day), and how many distinct creators those shared notes belong to (a ring serves several)."""
    pairs = _close_pairs(_engagements(ev), tolerance_seconds)
    kept = _shared_at_least(pairs, min_shared)
    meta = tables.notes(ev)
    hits = pairs.semi_join(kept, [pairs.user_a == kept.user_a, pairs.user_b == kept.user_b])
    hits = hits.left_join(meta, hits.note_id_a == meta.note_id)
    spread = hits.group_by(["user_a", "user_b"]).aggregate(creators=hits.note_creator.nunique())
    out = kept.left_join(spread, [kept.user_a == spread.user_a, kept.user_b == spread.user_b])
    return out.select(kept.user_a, kept.user_b, kept.shared, creators=out.creators.fill_null(0))


def creator_reads(ev: Table, among: Iterable[str] | Any) -> Any:
    """(user, creator, read_notes, engaged_notes) for the accounts ``among``: of each creator's notes, how many
    the account read and how many it engaged (like, collect, comment, share)."""
    acts = ev.filter(ev.type.isin(list(ACTION_TYPES)) & ev.user.notnull() & ev.note_id.notnull())
    keep = tables.user_set(among)
    if keep is None:
        return acts.select(
            user=acts.user,
            creator=acts.user,
            read_notes=ibis.literal(0, "int64"),
            engaged_notes=ibis.literal(0, "int64"),
        ).limit(0)
    acts = acts.semi_join(keep, acts.user == keep.user)
    meta = tables.notes(ev)
    acts = acts.join(meta, acts.note_id == meta.note_id).select(
        user=acts.user, type=acts.type, note_id=acts.note_id, creator=meta.note_creator
    )
    out = acts.group_by(["user", "creator"]).aggregate(
        read_notes=acts.note_id.nunique(where=acts.type == "note.read"),
        engaged_notes=acts.note_id.nunique(where=acts.type != "note.read"),
    )
    return out.order_by(["user", "creator"])


def note_engagement(
    ev: Table, burst_seconds: int, flagged: Iterable[str] | Any | None = None, short_dwell_ms: int = 3_000
) -> Any:
    """One row per published note: reads (and those under ``short_dwell_ms``), likes, engagements, early
    (burst-window) engagements, and the reads, engagements and distinct accounts from ``flagged`` accounts."""
    meta = tables.notes(ev)
    published = ev.filter(ev.type == "note.published")
    pub = published.group_by(pub_note=published.note_id).aggregate(published=published.time.min())
    acts = ev.filter(ev.type.isin(list(ACTION_TYPES)) & ev.user.notnull() & ev.note_id.notnull())
    flagged_set = tables.user_set(flagged)
    if flagged_set is not None:
        marks = flagged_set.mutate(is_flagged=ibis.literal(True))
        acts = acts.left_join(marks, acts.user == marks.user).select(
            acts.user, acts.type, acts.note_id, acts.time, acts.dwell_ms, is_flagged=marks.is_flagged.fill_null(False)
        )
    else:
        acts = acts.select(acts.user, acts.type, acts.note_id, acts.time, acts.dwell_ms, is_flagged=ibis.literal(False))
    acts = acts.left_join(pub, acts.note_id == pub.pub_note).select(
        acts.user, acts.type, acts.note_id, acts.time, acts.dwell_ms, acts.is_flagged, pub.published
    )
    is_read = acts.type == "note.read"
    is_eng = ~is_read
    early = (acts.time.epoch_seconds() - acts.published.epoch_seconds()) <= burst_seconds
    per_note = acts.group_by("note_id").aggregate(
        reads=is_read.cast("int64").sum(),
        short_reads=(is_read & (acts.dwell_ms < short_dwell_ms)).cast("int64").sum(),
        likes=(acts.type == "note.like").cast("int64").sum(),
        engagements=is_eng.cast("int64").sum(),
        early_engagements=(is_eng & early).cast("int64").sum(),
        flagged_reads=(is_read & acts.is_flagged).cast("int64").sum(),
        flagged_likes=((acts.type == "note.like") & acts.is_flagged).cast("int64").sum(),
        flagged_engagements=(is_eng & acts.is_flagged).cast("int64").sum(),
        flagged_accounts=acts.user.nunique(where=acts.is_flagged & is_eng),
    )
    j = meta.join(pub, meta.note_id == pub.pub_note).left_join(per_note, meta.note_id == per_note.note_id)
    zero = ibis.literal(0)
    return j.select(
        note_id=meta.note_id,
        creator_id=meta.note_creator,
        published=pub.published,
        reads=j.reads.fill_null(zero),
        short_reads=j.short_reads.fill_null(zero),
        likes=j.likes.fill_null(zero),
        engagements=j.engagements.fill_null(zero),
        early_engagements=j.early_engagements.fill_null(zero),
        flagged_reads=j.flagged_reads.fill_null(zero),
        flagged_likes=j.flagged_likes.fill_null(zero),
        flagged_engagements=j.flagged_engagements.fill_null(zero),
        flagged_accounts=j.flagged_accounts.fill_null(zero),
    ).order_by("note_id")
