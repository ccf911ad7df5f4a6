"""Suspected sponsorship: notes that look paid although the lake holds no record of any deal.

This is a separate class from ``undisclosed`` and never mixed with it. ``undisclosed`` rests on a record (a
campaign listing, a collaboration, a link, a boost) and is a finding; a *suspicion* rests on shape alone and
is a lead for a reviewer, who asks the creator and the brand. It is only raised on notes without a label and
without any record (an evidenced note is already judged by :mod:`hongmao.trust.disclosure`).

Signals, each a reason code with its evidence:

* ``SAME_BRIEF`` — at least ``brief_twins`` other creators' unlabelled notes about the same brand without a
  record, each its creator's first note about the brand, within ``brief_days``, have a near-identical title
  (character-bigram Jaccard of the titles, letters and digits only, at least ``title_similarity``): notes
  written from one brief. Two titles alike happen by chance; three first posts alike are a brief.
* ``BRAND_BURST`` — at least ``burst_creators`` distinct creators posted about the brand within
  ``burst_days`` either side of the note, at least ``burst_ratio`` times the brand's usual rate.
* ``FIRST_POST_BEFORE_CAMPAIGN`` — the creator's first note about the brand, published within
  ``lead_days`` before one of the brand's campaigns starts (seeding paid to warm up a launch).
* ``LATER_TIE`` — the brand later boosted, linked or contracted this creator (a relation that began
  off the record often continues on it).

A note is suspected with SAME_BRIEF and FIRST_POST_BEFORE_CAMPAIGN together. BRAND_BURST and LATER_TIE are
shown to the reviewer but decide nothing: a brand's own campaign brings a burst of notes and ties to the
creators it hires, so on measured worlds they fired on ordinary campaign traffic far more than on waves.
Pure Python over rows from :mod:`hongmao.engine.trust_disclosure`.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

_KEEP = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


@dataclass(frozen=True)
class SuspectRules:
    brief_days: float = 7.0
    title_similarity: float = 0.75
    brief_twins: int = 2
    burst_days: float = 3.0
    burst_creators: int = 3
    burst_ratio: float = 2.0
    lead_days: float = 10.0
    later_tie_days: float = 30.0


@dataclass
class SuspectFinding:
    note_id: str
    creator_id: str | None
    brand: str
    suspected: bool
    reasons: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)


def _bigrams(title: str) -> frozenset[str]:
    text = _KEEP.sub("", title.lower())
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) if len(text) > 1 else frozenset({text})


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two titles' character bigrams (letters, digits and CJK only)."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x | y else 0.0


def judge(
    notes: list[dict[str, Any]],
    campaigns: list[dict[str, Any]],
    ties: list[dict[str, Any]],
    evidenced: set[str],
    rules: SuspectRules | None = None,
) -> list[SuspectFinding]:
    """One finding per unlabelled brand note without a record (``evidenced``: notes with any commercial tie).

    ``notes``: note_id, creator_id, brand, published (datetime), disclosed, title. ``campaigns``: brand,
    start (datetime). ``ties``: creator_id, brand, t — every recorded commercial tie (deal, boost, link) of a
    creator with a brand, for LATER_TIE."""
    rules = rules or SuspectRules()
    by_brand: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n in notes:
        if n.get("brand"):
            by_brand[str(n["brand"])].append(n)
    starts: dict[str, list[datetime]] = defaultdict(list)
    for c in campaigns:
        if c.get("brand") and c.get("start") is not None:
            starts[str(c["brand"])].append(c["start"])
    tie_times: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for t in ties:
        if t.get("creator_id") and t.get("brand") and t.get("t") is not None:
            tie_times[(str(t["creator_id"]), str(t["brand"]))].append(t["t"])
    out: list[SuspectFinding] = []
    for brand, items in sorted(by_brand.items()):
        items.sort(key=lambda n: (n["published"], n["note_id"]))
        times = [n["published"] for n in items]
        span_days = max((times[-1] - times[0]).total_seconds() / 86_400.0, 1.0)
        creators_total = len({n["creator_id"] for n in items})
        usual = creators_total / span_days * (2 * rules.burst_days)  # creators expected in a window
        first_by_creator: dict[str, datetime] = {}
        for n in items:
            first_by_creator.setdefault(str(n["creator_id"]), n["published"])
        for n in items:
            if n["note_id"] in evidenced or n.get("disclosed"):
                continue
            t = n["published"]
            reasons: list[str] = []
            evidence: dict[str, Any] = {}
            lo = bisect.bisect_left(times, t - timedelta(days=rules.brief_days))
            hi = bisect.bisect_right(times, t + timedelta(days=rules.brief_days))
            twins = [
                (m["note_id"], round(similarity(str(n.get("title") or ""), str(m.get("title") or "")), 2))
                for m in items[lo:hi]
                if m["creator_id"] != n["creator_id"]
                and m["note_id"] not in evidenced
                and not m.get("disclosed")
                and first_by_creator[str(m["creator_id"])] == m["published"]
            ]
            twins = [(k, s) for k, s in twins if s >= rules.title_similarity]
            if len(twins) >= rules.brief_twins:
                reasons.append("SAME_BRIEF")
                evidence["same_brief_notes"] = [{"note_id": k, "title_similarity": s} for k, s in sorted(twins)]
            lo = bisect.bisect_left(times, t - timedelta(days=rules.burst_days))
            hi = bisect.bisect_right(times, t + timedelta(days=rules.burst_days))
            near = {m["creator_id"] for m in items[lo:hi]}
            if len(near) >= rules.burst_creators and len(near) >= rules.burst_ratio * usual:
                reasons.append("BRAND_BURST")
                evidence["burst_creators"] = len(near)
                evidence["usual_creators"] = round(usual, 2)
            first = first_by_creator[str(n["creator_id"])] == t
            ahead = [s for s in starts.get(brand, []) if timedelta(0) <= s - t <= timedelta(days=rules.lead_days)]
            if first and ahead:
                reasons.append("FIRST_POST_BEFORE_CAMPAIGN")
                evidence["campaign_starts_in_days"] = round(min((s - t).total_seconds() for s in ahead) / 86_400, 2)
            later = [
                x
                for x in tie_times.get((str(n["creator_id"]), brand), [])
                if timedelta(0) < x - t <= timedelta(days=rules.later_tie_days)
            ]
            if later:
                reasons.append("LATER_TIE")
                evidence["later_tie_in_days"] = round(min((x - t).total_seconds() for x in later) / 86_400, 2)
            if not reasons:
                continue
            suspected = "SAME_BRIEF" in reasons and "FIRST_POST_BEFORE_CAMPAIGN" in reasons
            out.append(SuspectFinding(n["note_id"], n["creator_id"], brand, suspected, reasons, evidence))
    out.sort(key=lambda f: (not f.suspected, f.note_id))
    return out
