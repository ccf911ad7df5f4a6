"""The co-engagement graph of accounts: who keeps engaging the same notes as whom, within hours.

Nodes are accounts; an edge joins two accounts that engaged at least ``min_shared`` of the same notes, each time
within a tolerance of hours (:func:`hongmao.engine.trust_engagement.coengagement_pairs`). Real readers of one
popular note make edges too, but sparse ones: two people rarely meet on four notes, and a person rarely meets
many others that way. A ring is dense: each of its accounts meets most of the others on most jobs.

:func:`dense_core` keeps the accounts that have at least ``degree`` partners *inside* the kept set (the graph's
``degree``-core, found by peeling off weaker accounts until none is left to peel), grouped in connected parts.
A chain of coincidences does not survive the peeling; a ring does, however its jobs are spread over the day.

:func:`target_focus` then asks each core account how much of what it read from the group's clients it engaged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CoreMember:
    group: int  # connected part of the core, numbered by its smallest account
    group_size: int
    partners: int  # partners inside the core
    max_shared: int  # the most notes shared with one partner
    creators: int  # the most distinct creators the shared notes of one pair belong to


def dense_core(pairs: Iterable[dict[str, Any]], degree: int, min_group: int) -> dict[str, CoreMember]:
    """account -> its place in the ``degree``-core of the pair graph, for connected parts of at least
    ``min_group`` accounts."""
    adj: dict[str, set[str]] = defaultdict(set)
    shared: dict[str, int] = defaultdict(int)
    spread: dict[str, int] = defaultdict(int)
    for p in pairs:
        a, b = str(p["user_a"]), str(p["user_b"])
        adj[a].add(b)
        adj[b].add(a)
        for u in (a, b):
            shared[u] = max(shared[u], int(p["shared"]))
            spread[u] = max(spread[u], int(p.get("creators", 0) or 0))
    alive = {u for u, n in adj.items() if len(n) >= degree}
    alive_deg = {u: len(adj[u] & alive) for u in alive}
    queue = sorted(u for u in alive if alive_deg[u] < degree)
    while queue:
        u = queue.pop()
        if u not in alive:
            continue
        alive.discard(u)
        for v in adj[u]:
            if v in alive:
                alive_deg[v] -= 1
                if alive_deg[v] < degree:
                    queue.append(v)
    seen: set[str] = set()
    parts: list[list[str]] = []
    for start in sorted(alive):
        if start in seen:
            continue
        part, stack = [], [start]
        seen.add(start)
        while stack:
            u = stack.pop()
            part.append(u)
            for v in adj[u]:
                if v in alive and v not in seen:
                    seen.add(v)
                    stack.append(v)
        if len(part) >= min_group:
            parts.append(sorted(part))
    parts.sort(key=lambda m: m[0])
    return {u: CoreMember(i, len(m), len(adj[u] & alive), shared[u], spread[u]) for i, m in enumerate(parts) for u in m}


@dataclass(frozen=True)
class TargetFocus:
    targets: tuple[str, ...]  # the creators its group works for
    reads: int  # notes of those creators the account read (or engaged without a read)
    engaged: int  # ... and engaged


def target_focus(
    core: dict[str, CoreMember], rows: Iterable[dict[str, Any]], share: float, rate: float
) -> dict[str, TargetFocus]:
    """For each core account: how much of what it read from its group's *targets* it engaged.

    ``rows``: (user, creator, read_notes, engaged_notes) for the core's accounts. A group's targets are the
    creators engaged by at least ``share`` of its accounts, who together engaged at least ``rate`` of what they
    read of them: a ring's clients (its cover reading spreads over popular creators, engaged at a reader's
    rate). A hired account engages nearly every client note it opens; a real reader caught in the core by
    coincidence engages a few of them."""
    per: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for r in rows:
        if r["user"] in core and r["creator"] is not None:
            per[str(r["user"])].append((str(r["creator"]), int(r["read_notes"]), int(r["engaged_notes"])))
    backers: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    tally: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for user, items in per.items():
        group = core[user].group
        for creator, read, engaged in items:
            if engaged:
                backers[group][creator] += 1
            tally[group][creator][0] += max(read, engaged)
            tally[group][creator][1] += engaged
    size = {m.group: m.group_size for m in core.values()}
    targets = {
        g: tuple(
            sorted(c for c, n in counts.items() if n >= share * size[g] and tally[g][c][1] >= rate * tally[g][c][0])
        )
        for g, counts in backers.items()
    }
    out: dict[str, TargetFocus] = {}
    for user, member in sorted(core.items()):
        mine = set(targets.get(member.group, ()))
        reads = engaged = 0
        for creator, read, eng in per.get(user, []):
            if creator in mine:
                reads += max(read, eng)
                engaged += eng
        out[user] = TargetFocus(tuple(sorted(mine)), reads, engaged)
    return out
