"""Disclosure (报备): a note tied to a brand commercially must carry the commercial-collaboration label.

Input: one row per note with the commercial ties the lake holds (``hongmao.engine.trust_disclosure``). A note is
*commercial* when it has any tie; it is flagged ``undisclosed`` when it is commercial and unlabelled. Each tie is
evidence with a code a reviewer can act on:

| code | tie |
|---|---|
| ``CAMPAIGN_LISTED`` | a brand's ``campaign.created`` lists the note |
| ``CAMPAIGN_ID`` | the note names a campaign itself |
| ``COLLABORATION_FILED`` | the note carries a filed collaboration id but no label |
| ``SHOPPABLE_LINK`` | a 种草直达 / 挂链 link was created for the note |
| ``COLLABORATION_RECORD`` | a brand's ``collaboration.created`` names the note: it paid for it |
| ``DEAL_MATCHED`` | a brand's record of a deal with the creator names no note; this is the creator's first note |
| | about that brand in the 30 days after it that no other deal claims (one deal, one deliverable) |
| ``PAID_BOOST`` | a brand paid to boost the note (``note.boosted``) |

The strength of the evidence differs: a campaign listing is the brand's own word that it paid; a link alone may
be a creator's own affiliate link. Both break the rule as written, and both are flagged; ``strength`` tells the
reviewer which is which ("paid": the brand or a filing says so; "link": only a shoppable link).
Labelled notes are never flagged; a label without a filing (``LABEL_WITHOUT_FILING``) is reported as a note for
the reviewer, not a violation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

#: A deal that names no note can be delivered by a note published this many days after it at most.
DEAL_DAYS = 30
PAID_CODES = (
    "CAMPAIGN_LISTED",
    "CAMPAIGN_ID",
    "COLLABORATION_FILED",
    "COLLABORATION_RECORD",
    "DEAL_MATCHED",
    "PAID_BOOST",
)


@dataclass
class DisclosureFinding:
    note_id: str
    creator_id: str | None
    brand: str | None
    disclosed: bool
    commercial: bool
    undisclosed: bool
    strength: str | None  # "paid" | "link" | None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "commercial": self.commercial,
            "disclosed": self.disclosed,
            "strength": self.strength,
            "evidence": self.evidence,
            **({"remarks": self.remarks} if self.remarks else {}),
        }


def judge_note(row: dict[str, Any]) -> DisclosureFinding:
    """The finding for one note's evidence row."""
    evidence: list[dict[str, Any]] = []
    listed = sorted(row.get("listed_campaigns") or [])
    if listed:
        evidence.append(
            {"code": "CAMPAIGN_LISTED", "campaigns": listed, "brand": row.get("listed_brand") or row.get("brand")}
        )
    own = row.get("note_campaign")
    if own and own not in listed:
        evidence.append({"code": "CAMPAIGN_ID", "campaign": own})
    collab = row.get("collaboration_id")
    disclosed = bool(row.get("disclosed"))
    if collab:
        evidence.append({"code": "COLLABORATION_FILED", "collaboration_id": collab})
    links = sorted(row.get("link_ids") or [])
    if links:
        item: dict[str, Any] = {"code": "SHOPPABLE_LINK", "links": links}
        if row.get("link_campaign"):
            item["campaign"] = row["link_campaign"]
        evidence.append(item)
    deals = sorted(row.get("deal_ids") or [])
    if deals:
        evidence.append({"code": "COLLABORATION_RECORD", "collaborations": deals, "brand": row.get("deal_brand")})
    matched = sorted(row.get("matched_deals") or [])
    if matched:
        evidence.append({"code": "DEAL_MATCHED", "collaborations": matched, "brand": row.get("brand")})
    if row.get("boost_brand"):
        evidence.append({"code": "PAID_BOOST", "brand": row["boost_brand"], "spend": row.get("boost_spend")})
    commercial = bool(evidence)
    codes = {e["code"] for e in evidence}
    strength = None
    if commercial:
        strength = "paid" if codes & set(PAID_CODES) or any(e.get("campaign") for e in evidence) else "link"
    remarks = []
    if disclosed and not collab:
        remarks.append("LABEL_WITHOUT_FILING")
    return DisclosureFinding(
        note_id=row["note_id"],
        creator_id=row.get("creator_id"),
        brand=row.get("brand"),
        disclosed=disclosed,
        commercial=commercial,
        undisclosed=commercial and not disclosed,
        strength=strength,
        evidence=evidence,
        remarks=remarks,
    )


def match_deals(
    rows: list[dict[str, Any]], deals: Iterable[dict[str, Any]], days: float = DEAL_DAYS
) -> dict[str, list[str]]:
    """Note id -> the collaboration records naming no note that it is matched to (one deal, one deliverable).

    ``deals`` (``deal_id``, ``creator_id``, ``brand``, ``logged``) are taken in the order they were logged; each
    takes the creator's earliest note about the deal's brand published in ``[logged, logged + days)`` that is
    no other deal's deliverable yet — a note a brand's record names, or with a filed collaboration, already is.
    """
    taken = {r["note_id"] for r in rows if r.get("deal_ids") or r.get("collaboration_id")}
    candidates: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: (r["published"], r["note_id"])):
        if r.get("brand") is not None and r["note_id"] not in taken:
            candidates.setdefault((r.get("creator_id"), r["brand"]), []).append(r)
    window = timedelta(days=days)
    matched: dict[str, list[str]] = {}
    for deal in sorted(deals, key=lambda d: (d["logged"], d["deal_id"])):
        for r in candidates.get((deal["creator_id"], deal["brand"]), []):
            if r["note_id"] not in taken and deal["logged"] <= r["published"] < deal["logged"] + window:
                taken.add(r["note_id"])
                matched.setdefault(r["note_id"], []).append(deal["deal_id"])
                break
    return matched


def judge(rows: list[dict[str, Any]], deals: Iterable[dict[str, Any]] = ()) -> list[DisclosureFinding]:
    """The finding for every note, with the deals that name no note matched to notes first."""
    matched = match_deals(rows, deals)
    return [judge_note({**r, "matched_deals": matched.get(r["note_id"])}) for r in rows]


def creator_summary(findings: Iterable[DisclosureFinding]) -> dict[str, dict[str, Any]]:
    """Per creator: commercial notes, undisclosed ones and their ids (a creator is not flagged for this; the
    notes are)."""
    out: dict[str, dict[str, Any]] = {}
    for f in findings:
        if f.creator_id is None:
            continue
        s = out.setdefault(f.creator_id, {"notes": 0, "commercial_notes": 0, "undisclosed_notes": []})
        s["notes"] += 1
        s["commercial_notes"] += int(f.commercial)
        if f.undisclosed:
            s["undisclosed_notes"].append(f.note_id)
    return out
