"""Recall and precision of the ``suspected`` class alone, on simulated worlds, without ingesting a lake.

    python bench/trust_suspected.py                                  # reported seeds 201-203, 10,000 people
    python bench/trust_suspected.py --users 85000 --seeds 201 --reuse --out bench/out/t85
    python bench/trust_suspected.py --world saturating --seeds 3     # a development seed of another world kind

An 85,000-person world takes far longer to ingest than :func:`hongmao.trust.suspected.judge` needs, so this
bench feeds the judge straight from the world's event files: every ``note.published`` (note, creator, brand,
time, label, title) and every ``campaign.created`` (brand, start). The one input it cannot rebuild without the
lake is the set of *evidenced* notes (those the disclosure check judges on a record: a campaign or collaboration
named on the note, or a boost, link or private deal it matches); here it is the notes naming a campaign or
collaboration plus the truth's boosted, linked and on-platform sponsored notes. On the 10,000-person lakes the
figures match ``bench/trust.py`` within a note. Later ties (LATER_TIE, shown only) are left out.

Truth: ``offplatform`` notes (paid off-platform, no record). Development seeds 3 (and 1, 11, 101-103 as in
``bench/trust.py``); reported 201-203.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any


def world_dir(out: Path, seed: int, users: int, kind: str, reuse: bool) -> Path:
    """Simulate one world (events and truth only), or reuse the one in ``out``."""
    import hongmao
    from hongmao.sim.config import WorldConfig

    world = out / (f"world-mixed-{seed}" if kind == "additive" else f"world-{kind}-mixed-{seed}")
    if reuse and (world / "truth" / "notes.jsonl").exists():
        return world
    config = WorldConfig(ring_styles=("crude", "sloppy", "careful"), world=kind)
    hongmao.simulate(world, seed=seed, users=users, days=30, brands=6, config=config)
    return world


def inputs(world: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[str], dict[str, Any]]:
    truth = {}
    for line in (world / "truth" / "notes.jsonl").read_text(encoding="utf-8").splitlines():
        n = json.loads(line)
        truth[n["note_id"]] = n
    notes: list[dict[str, Any]] = []
    evidenced: set[str] = set()
    with (world / "events" / "community.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if '"type":"note.published"' not in line:
                continue
            e = json.loads(line)
            d = e["data"]
            notes.append(
                {
                    "note_id": d["note_id"],
                    "creator_id": d["creator_id"],
                    "brand": d["brand"],
                    "published": datetime.fromisoformat(e["time"]),
                    "disclosed": d["disclosed"],
                    "title": d.get("title"),
                }
            )
            t = truth[d["note_id"]]
            record = t["boosted"] or t["links"] or (t["sponsored"] and not t["offplatform"])
            if d.get("campaign_id") or d.get("collaboration_id") or record:
                evidenced.add(d["note_id"])
    campaigns = []
    for line in (world / "events" / "brand.jsonl").read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        if e["type"] == "campaign.created":
            campaigns.append({"brand": e["data"]["brand"], "start": datetime.fromisoformat(e["data"]["start"])})
    return notes, campaigns, evidenced, truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="201,202,203")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--world", default="additive")
    parser.add_argument("--out", type=Path, default=Path("bench/out/trust_suspected"))
    parser.add_argument("--reuse", action="store_true", help="reuse worlds already simulated in --out")
    parser.add_argument(
        "--control",
        default="families",
        help="the brief test's multiplicity: families (run-ups by BH, Bonferroni within) or bonferroni (one cut-off)",
    )
    args = parser.parse_args(argv)

    from hongmao.trust.suspected import SuspectRules, judge

    args.out.mkdir(parents=True, exist_ok=True)
    print(f"world: {args.world}, users={args.users}; seeds {args.seeds}; control {args.control}")
    print("| seed | flagged | true | found | precision | recall | judge wall s | judge CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for seed in [int(s) for s in args.seeds.split(",") if s.strip()]:
        world = world_dir(args.out, seed, args.users, args.world, args.reuse)
        notes, campaigns, evidenced, truth = inputs(world)
        started, cpu = time.perf_counter(), time.process_time()
        found = judge(notes, campaigns, [], evidenced, SuspectRules(control=args.control))
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        flagged = {f.note_id for f in found if f.suspected}
        true = {k for k, n in truth.items() if n.get("offplatform")}
        tp = len(flagged & true)
        p = f"{tp / len(flagged):.2f}" if flagged else "—"
        r = f"{tp / len(true):.2f}" if true else "—"
        print(f"| {seed} | {len(flagged)} | {len(true)} | {tp} | {p} | {r} | {took:.1f} | {cpu:.1f} |", flush=True)
        if flagged & evidenced:
            sys.exit("a suspected note is evidenced too")


if __name__ == "__main__":
    main()
