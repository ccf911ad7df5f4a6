"""``hongmao trust``: undisclosed commercial notes, deceptive seeding (种骗) and fake engagement (水军), with
evidence; ``hongmao rerank``: the feed's commercial load cap (轻商业化) on a candidate file."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hongmao.cli.misc_cmd import DataOpt
from hongmao.cli.output import console, print_json, print_table

FLAG_NAMES = ("undisclosed", "deceptive", "fake_engagement")


def _summary_row(kind: str, e: dict[str, Any]) -> dict[str, Any]:
    d = e["evidence"].get("deceptive") or {}
    f = e["evidence"].get("fake_engagement") or {}
    u = e["evidence"].get("undisclosed") or {}
    interval = d.get("interval") or [None, None]
    why = []
    if "undisclosed" in e["flags"]:
        codes = [x["code"] for x in u.get("evidence", [])] if kind == "note" else ["undisclosed notes"]
        why.append(",".join(codes))
    if "deceptive" in e["flags"]:
        why.append(f"bad outcomes {d.get('observed_rate') or 0:.1%} vs {d.get('baseline_rate') or 0:.1%} expected")
    if "fake_engagement" in e["flags"]:
        if kind == "note":
            why.append(f"{f.get('flagged_accounts')} flagged accounts")
        else:
            why.append(f"{len(f.get('flagged_notes', []))} ring notes")
    return {
        "key": e[f"{kind}_id"],
        "flags": ",".join(e["flags"]),
        "score": e["score"] if e["score"] is not None else "",
        "interval": "" if interval[0] is None else f"{interval[0]:.3f}–{interval[1]:.3f}",
        "orders": d.get("orders", ""),
        "evidence": "; ".join(why),
    }


def trust(
    data: DataOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    flag: Annotated[
        list[str] | None, typer.Option("--flag", help="Only entries with this flag (repeat): " + ", ".join(FLAG_NAMES))
    ] = None,
    flagged_only: Annotated[
        bool, typer.Option("--flagged-only", help="JSON: only flagged notes and creators.")
    ] = False,
    accounts: Annotated[
        bool, typer.Option("--accounts", help="JSON: list the flagged accounts (pseudonyms) with their evidence.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="Rows per table.")] = 20,
) -> None:
    """Flag undisclosed commercial notes, deceptive seeding and fake engagement, with the evidence for each."""
    from hongmao import api

    if fmt not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    for name in flag or []:
        if name not in FLAG_NAMES:
            raise typer.BadParameter(f"{name!r}: use one of {', '.join(FLAG_NAMES)}", param_hint="--flag")
    wanted = flag or (list(FLAG_NAMES) if flagged_only or fmt == "table" else None)
    result = api.trust_report(data, flags=wanted, include_accounts=accounts)
    if fmt == "json":
        print_json(result)
        return
    columns = ["key", "flags", "score", "interval", "orders", "evidence"]
    for kind in ("note", "creator"):
        rows = [_summary_row(kind, e) for e in result[f"{kind}s"]]
        print_table(f"Flagged {kind}s (score: excess rate of bad outcomes, 90% interval)", columns, rows[:limit], 3)
        if len(rows) > limit:
            console.print(f"{len(rows) - limit:,} more (use --format json)")
    s = result["summary"]
    console.print(
        "notes flagged: "
        + ", ".join(f"{k} {v}" for k, v in s["flagged_notes"].items())
        + " · creators flagged: "
        + ", ".join(f"{k} {v}" for k, v in s["flagged_creators"].items())
        + f" · fake accounts flagged: {result['accounts']['flagged']} (left out of the scores)"
    )


def _read_candidates(path: Path) -> list[dict[str, Any]]:
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("[") or stripped.startswith("{"):
        rows: list[dict[str, Any]] = (
            json.loads(text) if stripped.startswith("[") else [json.loads(x) for x in text.split("\n") if x.strip()]
        )
    else:
        rows = list(csv.DictReader(text.splitlines()))
    out = []
    for i, row in enumerate(rows):
        try:
            com = row["commercial"]
            commercial = com if isinstance(com, bool) else str(com).strip().lower() in ("1", "true", "yes", "y")
            out.append({"id": row["id"], "score": float(row["score"]), "commercial": commercial})
        except (KeyError, TypeError, ValueError) as exc:
            raise typer.BadParameter(f"candidate {i + 1}: needs id, score and commercial ({exc})") from exc
    return out


def rerank(
    file: Annotated[
        Path, typer.Argument(help="Candidates: CSV, JSON or JSON lines with id, score, commercial; - reads stdin.")
    ],
    window: Annotated[int, typer.Option("--window", min=1, help="K: slots in the sliding window.")] = 10,
    max_commercial: Annotated[int, typer.Option("--max-commercial", min=1, help="M: commercial notes per window.")] = 2,
    min_gap: Annotated[int, typer.Option("--min-gap", min=1, help="G: least distance between commercial notes.")] = 3,
) -> None:
    """Re-rank a scored feed so no WINDOW slots hold more than MAX_COMMERCIAL commercial notes, MIN_GAP apart."""
    from hongmao.trust import rerank as run

    try:
        result = run(_read_candidates(file), window=window, max_commercial=max_commercial, min_gap=min_gap)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    print_json(result)


def register(app: typer.Typer) -> None:
    app.command("trust")(trust)
    app.command("rerank")(rerank)
