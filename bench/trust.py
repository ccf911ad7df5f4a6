"""Precision and recall of the trust guard's flags against the simulator's planted truth, across seeds.

    python bench/trust.py                                   # seeds 1-5 of the default world (10,000 people, 30 days)
    python bench/trust.py --seeds 7 --reuse                 # one seed, keeping worlds and lakes in --out
    python bench/trust.py --users 30000 --days 60 --seeds 1 # a bigger world: more evidence per creator
    python bench/trust.py --json bench/out/trust.json       # also write every figure as JSON

Each seed: simulate the world, ingest it into a fresh lake, run ``hongmao.trust.report`` and compare its flags
with ``truth/notes.jsonl``, ``truth/creators.jsonl`` and ``truth/fake_accounts.jsonl``. The truths:

* ``undisclosed`` (notes): the rule as the issue states it — a note tied to a brand (paid for, boosted, or carrying
  a shoppable link) without the label: ``not disclosed and (sponsored or boosted or links)``. Shown again against
  the planted hidden ads alone (``sponsored and not disclosed``, recall only: a creator's own unlabelled link is a
  violation of the rule but not a hidden ad), split by whether the brand's record names the note (campaign
  notes) or not (private deals, matched by creator, brand and time).
* ``undisclosed`` (creators): the creator published at least one hidden ad.
* ``deceptive``: ``deceptive`` in the truth. Recall is also shown on the notes and creators with enough evidence
  to be judged at all: at least ``--evaluable`` orders truly caused by their deceptive notes (recall only: the
  precision of the flag is the row above).
* ``fake_engagement``: notes of creators who buy fake engagement, those creators, and the fake accounts.

Figures go to docs/trust.md by hand, with the command.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def build(out: Path, seed: int, users: int, days: int, brands: int, reuse: bool) -> tuple[Path, Path]:
    """Simulate and ingest one world (or reuse what is already in ``out``)."""
    import hongmao

    world, lake = out / f"world-{seed}", out / f"lake-{seed}"
    stamp = out / f"lake-{seed}.done"
    wanted = f"{seed} {users} {days} {brands}"
    if reuse and stamp.exists() and stamp.read_text().strip() == wanted:
        return world, lake
    import shutil

    shutil.rmtree(lake, ignore_errors=True)
    summary = hongmao.simulate(world, seed=seed, users=users, days=days, brands=brands)
    report = hongmao.ingest([str(p) for p in summary.files], lake)
    if report.rejected:
        raise SystemExit(f"seed {seed}: {report.rejected} events rejected")
    stamp.write_text(wanted + "\n")
    return world, lake


def prf(flagged: set[str], truth: set[str], recall_only: bool = False) -> dict[str, Any]:
    tp = len(flagged & truth)
    return {
        "flagged": len(flagged) if not recall_only else tp,
        "true": len(truth),
        "tp": tp,
        "precision": tp / len(flagged) if flagged and not recall_only else None,
        "recall": tp / len(truth) if truth else None,
    }


def evaluate(world: Path, report: dict[str, Any], evaluable: int) -> dict[str, dict[str, Any]]:
    notes = {n["note_id"]: n for n in _lines(world / "truth" / "notes.jsonl")}
    creators = {c["creator_id"]: c for c in _lines(world / "truth" / "creators.jsonl")}
    fake_accounts = {a["user"] for a in _lines(world / "truth" / "fake_accounts.jsonl")}
    orders = _lines(world / "truth" / "orders.jsonl")

    def flagged(kind: str, flag: str) -> set[str]:
        return {e[f"{kind}_id"] for e in report[f"{kind}s"] if flag in e["flags"]}

    caused: Counter[str] = Counter()
    caused_by_creator: Counter[str] = Counter()
    for o in orders:
        cause = o.get("cause_note")
        if cause and notes[cause]["deceptive"]:
            caused[cause] += 1
            caused_by_creator[notes[cause]["creator_id"]] += 1

    hidden = {k for k, n in notes.items() if n["sponsored"] and not n["disclosed"]}
    private = {k for k in hidden if notes[k]["campaign_id"] is None}
    rule = {k for k, n in notes.items() if not n["disclosed"] and (n["sponsored"] or n["boosted"] or n["links"])}
    hidden_creators = {notes[k]["creator_id"] for k in hidden}
    dec_notes = {k for k, n in notes.items() if n["deceptive"]}
    dec_creators = {k for k, c in creators.items() if c["deceptive"]}
    fake_notes = {k for k, n in notes.items() if n["fake_engagement"]}
    fake_creators = {k for k, c in creators.items() if c["buys_fake_engagement"]}
    evaluable_notes = {k for k in dec_notes if caused[k] >= evaluable}
    evaluable_creators = {k for k in dec_creators if caused_by_creator[k] >= evaluable}
    accounts = {a["user"] for a in report["accounts"].get("list", [])}

    un_notes, dn, dc = flagged("note", "undisclosed"), flagged("note", "deceptive"), flagged("creator", "deceptive")
    return {
        "undisclosed notes (the rule: paid, boosted or linked, unlabelled)": prf(un_notes, rule),
        "undisclosed notes (planted hidden ads)": prf(un_notes, hidden, recall_only=True),
        "undisclosed notes (hidden ads in campaigns: the record names the note)": prf(
            un_notes, hidden - private, recall_only=True
        ),
        "undisclosed notes (hidden ads from private deals: matched)": prf(un_notes, private, recall_only=True),
        "undisclosed creators": prf(flagged("creator", "undisclosed"), hidden_creators),
        "deceptive notes": prf(dn, dec_notes),
        f"deceptive notes (>= {evaluable} deceived orders)": prf(dn, evaluable_notes, recall_only=True),
        "deceptive creators": prf(dc, dec_creators),
        f"deceptive creators (>= {evaluable} deceived orders)": prf(dc, evaluable_creators, recall_only=True),
        "fake_engagement notes": prf(flagged("note", "fake_engagement"), fake_notes),
        "fake_engagement creators": prf(flagged("creator", "fake_engagement"), fake_creators),
        "fake_engagement accounts": prf(accounts, fake_accounts),
    }


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated seeds")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--brands", type=int, default=6)
    parser.add_argument("--evaluable", type=int, default=10, help="deceived orders needed to count as evaluable")
    parser.add_argument("--out", type=Path, default=Path("bench/out/trust"))
    parser.add_argument("--reuse", action="store_true", help="keep and reuse worlds and lakes in --out")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from hongmao.trust import report as trust_report

    args.out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    per_seed: dict[int, dict[str, dict[str, Any]]] = {}
    timings: dict[int, float] = {}
    for seed in seeds:
        world, lake = build(args.out, seed, args.users, args.days, args.brands, args.reuse)
        started = time.perf_counter()
        rep = trust_report(lake, include_accounts=True)
        timings[seed] = time.perf_counter() - started
        per_seed[seed] = evaluate(world, rep, args.evaluable)
        print(f"seed {seed}: trust report in {timings[seed]:.1f} s", file=sys.stderr)

    rows = list(next(iter(per_seed.values())))
    print(f"world: users={args.users} days={args.days} brands={args.brands}; seeds {','.join(map(str, seeds))}")
    print()
    print("| flag (truth) | precision (mean, min) | recall (mean, min) | flagged / true (sum) |")
    print("|---|---|---|---|")
    summary: dict[str, Any] = {}
    for name in rows:
        ps = [per_seed[s][name]["precision"] for s in seeds if per_seed[s][name]["precision"] is not None]
        rs = [per_seed[s][name]["recall"] for s in seeds if per_seed[s][name]["recall"] is not None]
        flagged_sum = sum(per_seed[s][name]["flagged"] for s in seeds)
        true_sum = sum(per_seed[s][name]["true"] for s in seeds)
        p_mean = statistics.fmean(ps) if ps else None
        r_mean = statistics.fmean(rs) if rs else None
        summary[name] = {"precision": p_mean, "recall": r_mean, "flagged": flagged_sum, "true": true_sum}
        print(
            f"| {name} | {_fmt(p_mean)} ({_fmt(min(ps) if ps else None)}) | {_fmt(r_mean)} "
            f"({_fmt(min(rs) if rs else None)}) | {flagged_sum} / {true_sum} |"
        )
    print()
    print("trust report time per lake: " + ", ".join(f"seed {s} {t:.1f} s" for s, t in timings.items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"args": {k: str(v) for k, v in vars(args).items()}, "summary": summary, "seeds": per_seed}, indent=2
            )
            + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
