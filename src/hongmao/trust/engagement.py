"""Fake engagement (水军): coordinated accounts, and the notes and creators they inflate.

Works on aggregates from :mod:`hongmao.engine.trust_engagement`; no row data and no database here.

Accounts. Signals, each a reason code:

* ``LOCKSTEP`` — the account belongs to a cluster of at least ``min_cluster`` accounts linked by lockstep pairs:
  two accounts that engaged the same note within an hour of each other, on at least ``min_shared_notes``
  notes — or on a single note when both accounts read with implausibly short dwell (a ring hired for one or two
  notes leaves no three-note trail). Clusters are the connected components of those pairs.
* ``SHORT_DWELL`` — at least half its reads lasted under ``short_dwell_ms``: nobody reads a note in under three
  seconds.
* ``ENGAGES_EVERYTHING`` — at least ``engagement_per_read`` engagements per read: liking and saving nearly
  everything opened.
* ``ONE_CREATOR`` — nearly all of its engagement (``concentration``) goes to one creator, over at least
  ``min_engaged_notes`` notes. Weak alone (fans exist); corroborating only.

* ``CO_ENGAGEMENT`` — the account is in the dense core of the co-engagement graph
  (:mod:`hongmao.trust.coengagement`): at least ``core_degree`` partners, each met on at least
  ``coengagement_min_shared`` notes within ``coengagement_seconds`` (hours: what a ring that spreads its jobs
  over a day still leaves), the partners themselves in the core.
* ``CLIENT_FOCUS`` — a core (or lockstep-cluster) account that engaged at least ``focus_rate`` of the notes it
  read from its group's clients (creators engaged by at least ``client_share`` of the group), and at least
  ``min_focus_engaged`` of them. Hired accounts engage nearly every client note they open, however much
  ordinary reading they do in between; a real reader who met the ring by coincidence engages some.

An account is flagged when it is in a lockstep cluster or in the co-engagement core and shows at least one
behavioural signal (SHORT_DWELL, ENGAGES_EVERYTHING, CLIENT_FOCUS — client focus is asked of lockstep
clusters too, their clients being the creators most of the cluster engages), or, outside any cluster, shows
all of SHORT_DWELL, ENGAGES_EVERYTHING and ONE_CREATOR over at least ``min_reads`` reads. Lockstep or
co-engagement alone (busy people who like the same fresh notes) and a few odd reads alone are not enough.

Notes. ``RING_ENGAGEMENT`` when at least ``min_note_accounts`` flagged accounts engaged it and their engagement
is at least ``ring_share`` of its engagement (a ring's cover likes on a popular note are a sliver); ``BURST`` when most
of its engagement came within ``burst_seconds`` of publication; ``SHORT_READS`` when at least
``min_short_reads`` of its reads, and ``short_read_share`` of them, lasted under ``short_dwell_ms``;
``LIKE_READ_OUTLIER`` when its likes per read are far (binomial z >= ``outlier_z``) above its creator's norm
measured without flagged accounts (or the platform's, for creators with too few notes). A note is flagged with
RING_ENGAGEMENT, or with BURST and SHORT_READS together (a ring too new to have been linked yet). A burst of real
readers on a popular creator's fresh note, with its likes per read above the creator's norm, is not enough:
LIKE_READ_OUTLIER is evidence shown to the reviewer, never a flag on its own.

Creators. Flagged when at least ``min_creator_notes`` of their notes, and at least ``creator_share`` of them,
are flagged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hongmao.trust.coengagement import CoreMember, TargetFocus


@dataclass(frozen=True)
class EngagementRules:
    short_dwell_ms: int = 3_000
    lockstep_window_seconds: int = 3_600
    min_shared_notes: int = 3
    min_cluster: int = 5
    min_reads: int = 3
    engagement_per_read: float = 1.5
    concentration: float = 0.9
    min_engaged_notes: int = 5
    min_note_accounts: int = 5
    ring_share: float = 0.15
    burst_seconds: int = 7_200
    burst_share: float = 0.5
    min_burst_engagements: int = 10
    outlier_z: float = 4.0
    min_short_reads: int = 5
    short_read_share: float = 0.05
    min_norm_notes: int = 3
    min_creator_notes: int = 2
    creator_share: float = 0.3
    coengagement_seconds: int = 18 * 3_600
    coengagement_min_shared: int = 5
    core_degree: int = 5
    client_share: float = 0.5  # a group's clients: creators engaged by at least this share of its accounts
    focus_rate: float = 0.6
    min_focus_engaged: int = 4


@dataclass
class AccountFinding:
    user: str
    flagged: bool
    reasons: list[str]
    cluster: int | None
    evidence: dict[str, Any] = field(default_factory=dict)


def clusters(pairs: Iterable[dict[str, Any]], min_cluster: int) -> dict[str, tuple[int, int]]:
    """user -> (cluster id, cluster size) for connected components of at least ``min_cluster`` accounts."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for p in pairs:
        a, b = find(p["user_a"]), find(p["user_b"])
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = defaultdict(list)
    for user in list(parent):
        members[find(user)].append(user)
    big = sorted((sorted(m) for m in members.values() if len(m) >= min_cluster), key=lambda m: m[0])
    return {u: (i, len(m)) for i, m in enumerate(big) for u in m}


def short_dwell(a: dict[str, Any]) -> bool:
    reads = int(a["reads"])
    return reads > 0 and a["short_reads"] / reads >= 0.5


def judge_accounts(
    activity: Iterable[dict[str, Any]],
    pairs: list[dict[str, Any]],
    rules: EngagementRules,
    core: dict[str, CoreMember] | None = None,
    focus: dict[str, TargetFocus] | None = None,
) -> list[AccountFinding]:
    """Every account with a signal (flagged or not), flagged ones first. ``pairs``: lockstep pairs sharing at
    least ``min_shared_notes`` notes, plus any pairs among SHORT_DWELL accounts; ``core``: the dense core of the
    co-engagement graph, and ``focus``: each core account's engagement of its group's clients (see the module
    docstring and :mod:`hongmao.trust.coengagement`)."""
    member = clusters(pairs, rules.min_cluster)
    core = core or {}
    focus = focus or {}
    partners: dict[str, int] = defaultdict(int)
    shared: dict[str, int] = defaultdict(int)
    for p in pairs:
        for u in (p["user_a"], p["user_b"]):
            partners[u] += 1
            shared[u] = max(shared[u], int(p["shared"]))
    out: list[AccountFinding] = []
    for a in activity:
        user = a["user"]
        reads, eng = int(a["reads"]), int(a["engagements"])
        reasons: list[str] = []
        if user in member:
            reasons.append("LOCKSTEP")
        if short_dwell(a):
            reasons.append("SHORT_DWELL")
        per_read = eng / reads if reads else (math.inf if eng else 0.0)
        if reads and per_read >= rules.engagement_per_read:
            reasons.append("ENGAGES_EVERYTHING")
        top_share = a["top_creator_engagements"] / eng if eng else 0.0
        if a["engaged_notes"] >= rules.min_engaged_notes and top_share >= rules.concentration:
            reasons.append("ONE_CREATOR")
        in_core = core.get(user)
        if in_core is not None:
            reasons.append("CO_ENGAGEMENT")
        aim = focus.get(user)
        if aim is not None and aim.engaged >= rules.min_focus_engaged and aim.engaged >= rules.focus_rate * aim.reads:
            reasons.append("CLIENT_FOCUS")
        if not reasons:
            continue
        behaviour = [r for r in reasons if r in ("SHORT_DWELL", "ENGAGES_EVERYTHING", "CLIENT_FOCUS")]
        solo = {"SHORT_DWELL", "ENGAGES_EVERYTHING", "ONE_CREATOR"}
        alone = "LOCKSTEP" not in reasons and solo <= set(reasons) and reads >= rules.min_reads
        flagged = ("LOCKSTEP" in reasons and bool(behaviour)) or (in_core is not None and bool(behaviour)) or alone
        cluster = member.get(user)
        out.append(
            AccountFinding(
                user=user,
                flagged=flagged,
                reasons=reasons,
                cluster=cluster[0] if cluster else None,
                evidence={
                    "reads": reads,
                    "short_dwell_reads": int(a["short_reads"]),
                    "engagements": eng,
                    "engagements_per_read": round(per_read, 3) if math.isfinite(per_read) else None,
                    "engaged_notes": int(a["engaged_notes"]),
                    "top_creator_share": round(top_share, 3),
                    "orders": int(a["orders"]),
                    "lockstep_partners": partners.get(user, 0),
                    "max_shared_notes": shared.get(user, 0),
                    **({"cluster_size": cluster[1]} if cluster else {}),
                    **(
                        {"client_creators": list(aim.targets), "client_reads": aim.reads, "client_engaged": aim.engaged}
                        if aim is not None
                        else {}
                    ),
                    **(
                        {
                            "coengagement_group": in_core.group,
                            "coengagement_group_size": in_core.group_size,
                            "coengagement_partners": in_core.partners,
                            "coengagement_max_shared_notes": in_core.max_shared,
                            "coengagement_creators": in_core.creators,
                        }
                        if in_core is not None
                        else {}
                    ),
                },
            )
        )
    out.sort(key=lambda f: (not f.flagged, f.cluster if f.cluster is not None else 1 << 30, f.user))
    return out


@dataclass
class NoteEngagementFinding:
    note_id: str
    creator_id: str | None
    flagged: bool
    reasons: list[str]
    evidence: dict[str, Any]


def _z(likes: int, reads: int, rate: float) -> float:
    """One-sided binomial z of ``likes`` out of ``reads`` against ``rate``."""
    if reads <= 0:
        return 0.0
    rate = min(max(rate, 1e-4), 1 - 1e-4)
    return (likes - reads * rate) / math.sqrt(reads * rate * (1 - rate))


def judge_notes(rows: list[dict[str, Any]], rules: EngagementRules) -> list[NoteEngagementFinding]:
    """Flag notes from their engagement aggregates (with the flagged accounts' share already counted)."""
    clean: dict[str | None, list[tuple[int, int]]] = defaultdict(list)
    all_likes = all_reads = 0
    for r in rows:
        likes = int(r["likes"]) - int(r["flagged_likes"])
        reads = int(r["reads"]) - int(r["flagged_reads"])
        clean[r["creator_id"]].append((likes, reads))
        all_likes += likes
        all_reads += reads
    platform = all_likes / all_reads if all_reads else 0.0
    out: list[NoteEngagementFinding] = []
    for r in rows:
        reads, likes, eng = int(r["reads"]), int(r["likes"]), int(r["engagements"])
        own = clean[r["creator_id"]]
        others = [(lk, rd) for lk, rd in own if rd > 0]
        if len(others) >= rules.min_norm_notes:
            lk_sum = sum(lk for lk, _ in others)
            rd_sum = sum(rd for _, rd in others)
            norm, basis = (lk_sum / rd_sum if rd_sum else platform), "creator"
        else:
            norm, basis = platform, "platform"
        z = _z(likes, reads, norm)
        reasons: list[str] = []
        ring_eng = int(r["flagged_engagements"])
        if int(r["flagged_accounts"]) >= rules.min_note_accounts and ring_eng >= rules.ring_share * max(eng, 1):
            reasons.append("RING_ENGAGEMENT")
        early = int(r["early_engagements"])
        if eng and early >= rules.min_burst_engagements and early / eng >= rules.burst_share:
            reasons.append("BURST")
        short = int(r.get("short_reads", 0))
        if short >= rules.min_short_reads and reads and short / reads >= rules.short_read_share:
            reasons.append("SHORT_READS")
        if z >= rules.outlier_z:
            reasons.append("LIKE_READ_OUTLIER")
        flagged = "RING_ENGAGEMENT" in reasons or ("BURST" in reasons and "SHORT_READS" in reasons)
        out.append(
            NoteEngagementFinding(
                note_id=r["note_id"],
                creator_id=r["creator_id"],
                flagged=flagged,
                reasons=reasons,
                evidence={
                    "reads": reads,
                    "short_reads": short,
                    "likes": likes,
                    "engagements": eng,
                    "flagged_accounts": int(r["flagged_accounts"]),
                    "flagged_engagements": int(r["flagged_engagements"]),
                    "flagged_reads": int(r["flagged_reads"]),
                    "flagged_engagement_share": round(int(r["flagged_engagements"]) / eng, 3) if eng else 0.0,
                    "early_engagements": early,
                    "like_per_read": round(likes / reads, 3) if reads else None,
                    "norm_like_per_read": round(norm, 3),
                    "norm": basis,
                    "like_read_z": round(z, 2),
                },
            )
        )
    return out


def judge_creators(notes: list[NoteEngagementFinding], rules: EngagementRules) -> dict[str, dict[str, Any]]:
    """creator -> {flagged, notes, flagged_notes, accounts}."""
    by: dict[str, list[NoteEngagementFinding]] = defaultdict(list)
    for n in notes:
        if n.creator_id is not None:
            by[n.creator_id].append(n)
    out: dict[str, dict[str, Any]] = {}
    for creator, items in by.items():
        bad = [n for n in items if n.flagged]
        flagged = len(bad) >= rules.min_creator_notes and len(bad) >= rules.creator_share * len(items)
        out[creator] = {
            "flagged": flagged,
            "notes": len(items),
            "flagged_notes": sorted(n.note_id for n in bad),
            "flagged_accounts_max": max((n.evidence["flagged_accounts"] for n in bad), default=0),
            "flagged_engagements": sum(n.evidence["flagged_engagements"] for n in bad),
        }
    return out
