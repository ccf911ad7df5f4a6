"""The operators' trust page: flagged notes and creators with their evidence, and how commercial the feeds are.

The flags come from :func:`hongmao.engine.trust.trust_inputs` over the whole lake (operators only: the page
judges every brand's notes). The trend is per business day (the business time zone): of the notes people were shown
(``note.impression``, bots left out), the share that were commercial — tied to a brand by a campaign, a
collaboration record, a shoppable link or paid boosting (see :mod:`hongmao.trust.disclosure`) — and the share
that were commercial *and* unlabelled. A feed kept lightly commercial (轻商业化) shows a low, steady line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from hongmao.engine.session import Session
from hongmao.engine.trust import trust_inputs
from hongmao.reports import metrics
from hongmao.trust.report import FLAGS, TrustParams, assemble

#: Flagged entries listed per table on the page (the JSON report has them all).
LIST_LIMIT = 200


def daily_note_impressions(ev: Any, tz: ZoneInfo) -> Any:
    """(day, note_id, impressions): people's impressions of each note per business day."""
    shown = ev.filter((ev.type == "note.impression") & ~ev.bot.fill_null(False) & ev.note_id.notnull())
    shown = shown.mutate(day=metrics.local_day(shown.time, tz))
    return shown.group_by(["day", "note_id"]).aggregate(impressions=shown.count())


def commercial_trend(
    rows: Sequence[dict[str, Any]], commercial: set[str], undisclosed: set[str]
) -> list[dict[str, Any]]:
    """Per day: impressions, how many were of commercial notes and of undisclosed ones, and their shares."""
    days: dict[Any, list[int]] = {}
    for r in rows:
        total = days.setdefault(r["day"], [0, 0, 0])
        n = int(r["impressions"])
        total[0] += n
        if r["note_id"] in commercial:
            total[1] += n
        if r["note_id"] in undisclosed:
            total[2] += n
    out = []
    for day in sorted(days):
        shown, paid, hidden = days[day]
        out.append(
            {
                "day": day.isoformat() if hasattr(day, "isoformat") else str(day),
                "impressions": shown,
                "commercial": paid,
                "undisclosed": hidden,
                "commercial_share": paid / shown if shown else None,
                "undisclosed_share": hidden / shown if shown else None,
            }
        )
    return out


def _codes(flag: str, evidence: dict[str, Any]) -> list[str]:
    """The evidence codes behind one flag of a note or creator (language-neutral, as in the JSON report)."""
    if flag == "undisclosed":
        if evidence.get("evidence"):
            return [e["code"] for e in evidence["evidence"]]
        notes = len(evidence.get("undisclosed_notes") or [])
        paid = len(evidence.get("paid_notes") or [])
        return [f"UNDISCLOSED_NOTES={notes}", *([f"PAID_NOTES={paid}"] if paid else [])]
    if flag == "fake_engagement" and "reasons" not in evidence:
        return [f"FLAGGED_NOTES={len(evidence.get('flagged_notes') or [])}/{evidence.get('notes', 0)}"]
    return list(evidence.get("reasons") or [])


def _brief(entry: dict[str, Any]) -> dict[str, Any]:
    """A flagged entry as the page lists it: flags, score and the evidence codes behind each flag it carries."""
    evidence = entry.get("evidence") or {}
    deceptive = evidence.get("deceptive") or {}
    return {
        **{k: entry.get(k) for k in ("note_id", "creator_id", "brand") if k in entry},
        "flags": entry["flags"],
        "score": entry.get("score"),
        "interval": deceptive.get("interval"),
        "orders": deceptive.get("orders"),
        "reasons": {flag: _codes(flag, evidence.get(flag) or {}) for flag in entry["flags"]},
    }


def trust_view(
    session: Session, tz: ZoneInfo, params: TrustParams | None = None, days: tuple[date, date] | None = None
) -> dict[str, Any]:
    """Everything the operator page shows: summary, flagged notes and creators (ranked), the daily trend.

    The guard judges whatever ``session.events`` holds (the caller cuts it at a range's end to see the flags as
    they stood then); ``days``: the trend's first and last business day (default: every day with impressions)."""
    params = params or TrustParams()
    inputs = trust_inputs(session, params)
    rows = session.rows(daily_note_impressions(session.events, tz)) if session.segments else []
    if days is not None:
        rows = [r for r in rows if days[0] <= r["day"] <= days[1]]
    report = assemble(inputs, params)
    commercial = {f.note_id for f in inputs.disclosure if f.commercial}
    undisclosed = {f.note_id for f in inputs.disclosure if f.undisclosed}
    flagged_notes = [e for e in report["notes"] if e["flags"]]
    flagged_creators = [e for e in report["creators"] if e["flags"]]
    return {
        "summary": {
            **{k: report["summary"][k] for k in ("notes", "creators", "orders", "data_end")},
            "flagged_notes": report["summary"]["flagged_notes"],
            "flagged_creators": report["summary"]["flagged_creators"],
            "flagged_accounts": report["accounts"]["flagged"],
            "watched_creators": report["summary"]["watched_creators"],
            "suspected_notes": report["summary"]["suspected_notes"],
            "commercial_notes": len(commercial),
            "undisclosed_notes": len(undisclosed),
            "credit_model": report["summary"]["params"]["model"],  # the credit behind "credited orders"
        },
        "flags": list(FLAGS),
        "notes": [_brief(e) for e in flagged_notes[:LIST_LIMIT]],
        "creators": [_brief(e) for e in flagged_creators[:LIST_LIMIT]],
        "listed": {"notes": min(len(flagged_notes), LIST_LIMIT), "creators": min(len(flagged_creators), LIST_LIMIT)},
        "trend": commercial_trend(rows, commercial, undisclosed),
    }
