"""Benchmark: settling a month of a large synthetic world into the ledger, then settling it again.

    nice -n 10 python bench/settle.py                      # 1,000,000 orders
    nice -n 10 python bench/settle.py --orders 200000
    nice -n 10 python bench/settle.py --orders 200000 --steps settle --compare OLD/src NEW/src --rounds 3

``--compare A B`` runs the bench in child processes with ``PYTHONPATH`` set to each of two source trees (e.g.
``git archive REV src | tar -x -C OLD``), alternating which goes first each round, and prints each step's CPU
seconds per tree and the ratio B/A per round and over all rounds (the same world, seed and machine load for
both). ``--steps settle`` times only the first settlement and the re-run.

The facts are generated, not read from a lake: credited orders over one month (creators, categories, prices),
refunds on ``--refund-share`` of them (a third after payout), and ``--flagged-share`` of creators held by the
trust guard. They go through the library's settlement path (``api.build_commissions`` with a program's tiers,
caps and derived holds, ``api.settle_commissions``, ``store.append_entries``) into a real SQLite catalog in a
temporary directory (removed after), then a payout, late refunds, and the same settlement again, which must
add nothing. The engine queries that read the facts from a lake are not timed here (see bench/attribution.py
for the engine at scale). Figures go to docs/benchmarks.md by hand, with the command.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hongmao.lake import Lake
from hongmao.settle import api, store
from hongmao.settle.ledger import Entry, payout
from hongmao.settle.programs import parse_program

MONTH = datetime(2025, 6, 1, tzinfo=UTC)
CATEGORIES = ("skincare", "makeup", "snacks", "apparel", "home", "electronics", "baby_food")


def world(orders: int, creators: int, refund_share: float, flagged_share: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for n in range(orders):
        creator = f"cr-{rng.randrange(creators):06d}"
        rows.append(
            {
                "order_id": f"ord-{n:09d}",
                "creator_id": creator,
                "creator": creator,
                "brand": "b1",
                "t": MONTH + timedelta(seconds=rng.randrange(30 * 86_400)),
                "gross_cents": rng.randrange(990, 99_900),
                "share": Decimal(1),
                "category": rng.choice(CATEGORIES),
                "item": f"it-{rng.randrange(500)}",
                "campaign": None,
            }
        )
    refunded = rng.sample(range(orders), int(orders * refund_share))
    early = {
        rows[i]["order_id"]: (rows[i]["gross_cents"] // 2, rows[i]["t"] + timedelta(days=2)) for i in refunded[::3]
    }
    late = {rows[i]["order_id"]: (rows[i]["gross_cents"], datetime(2025, 9, 2, tzinfo=UTC)) for i in refunded}
    flagged = {f"cr-{c:06d}": '{"flags": ["fake_engagement"]}' for c in range(int(creators * flagged_share))}
    return {"rows": rows, "early": early, "late": late, "holds": flagged}


PROGRAM = parse_program(
    {
        "program_id": "bench",
        "brand": "b1",
        "credit": "click",
        "terms": [
            {"rate": 0.08, "tiers": [{"from": 0, "rate": 0.08}, {"from": 20_000, "rate": 0.1}]},
            {"scope": {"category": "snacks"}, "flat": 2},
            {"scope": {"category": "electronics"}, "rate": 0.05, "cap": 30},
        ],
        "monthly_cap": 50_000,
    }
)


def settle_once(lake: Lake, w: dict[str, Any], refunds: dict[str, Any], through: datetime) -> dict[str, float]:
    start, cpu = time.perf_counter(), time.process_time()
    with lake.connect("bench: reading") as conn:
        existing: Any
        if hasattr(store, "load_summaries"):
            existing = store.load_summaries(conn, "b1")
        else:  # an older source tree under --compare: it reads every entry
            try:
                existing = store.load_entries(conn, "b1", ordered=False)
            except TypeError:  # older still: its load has no ``ordered``
                existing = store.load_entries(conn, "b1")
        decisions = store.load_decisions(conn, "b1")
    found = api.build_commissions([PROGRAM], {"click": w["rows"]}, refunds, w["holds"])
    new = api.settle_commissions(found, existing, decisions, through)
    with lake.connect("bench: appending", transaction=True) as conn:
        store.append_entries(conn, new)
    return {"entries": len(new), **took(start, cpu)}


def took(start: float, cpu: float) -> dict[str, float]:
    """Wall and CPU seconds: on a shared machine the CPU time is the steadier figure."""
    return {"wall_s": round(time.perf_counter() - start, 2), "cpu_s": round(time.process_time() - cpu, 2)}


def pay(lake: Lake, period_end: datetime) -> int:
    with lake.connect("bench: paying", transaction=True) as conn:
        grouped: dict[str, dict[tuple[str, str, str], list[Entry]]] = {}
        for e in store.load_entries(conn, "b1"):
            grouped.setdefault(e.creator_id, {}).setdefault(e.commission, []).append(e)
        new = [p for _, mine in sorted(grouped.items()) for p in payout(mine, period_end, "bench")]
        store.append_entries(conn, new)
    return len(new)


def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The bench's steps on one world: name -> entries, wall and CPU seconds."""
    w = world(args.orders, args.creators, args.refund_share, args.flagged_share, args.seed)
    root = Path(tempfile.mkdtemp(prefix="hongmao-bench-settle-"))
    out: dict[str, dict[str, Any]] = {}
    try:
        with Lake.open(root / "lake") as lake:
            first = datetime(2025, 8, 1, tzinfo=UTC)
            out["settle a month"] = settle_once(lake, w, w["early"], first)
            out["settle again"] = settle_once(lake, w, w["early"], first)
            if args.steps == "all":
                start, cpu = time.perf_counter(), time.process_time()
                paid = pay(lake, datetime(2025, 9, 1, tzinfo=UTC))
                out["payout"] = {"entries": paid, **took(start, cpu)}
                late = {**w["early"], **w["late"]}
                out["late refunds"] = settle_once(lake, w, late, datetime(2025, 9, 3, tzinfo=UTC))
                out["settle again (late)"] = settle_once(lake, w, late, datetime(2025, 9, 3, tzinfo=UTC))
            if args.digest:
                out["ledger"] = {"entries": 0, "wall_s": 0.0, "cpu_s": 0.0, "digest": digest(lake)}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if out["settle again"]["entries"] or out.get("settle again (late)", {}).get("entries"):
        raise SystemExit("re-settling added entries")
    return out


def digest(lake: Lake) -> str:
    """SHA-256 of every entry's stored fields but ``recorded_at`` (a wall-clock stamp), in insertion order: two
    source trees that write the same ledger on the same world give the same digest."""
    h = hashlib.sha256()
    columns = ", ".join(store.ENTRY_COLUMNS)
    with lake.connect("bench: digest") as conn:
        rows = conn.exec_driver_sql(f"SELECT {columns} FROM ledger_entries ORDER BY rowid").all()
    for r in rows:
        h.update(repr(tuple(r)).encode())
    return f"{len(rows)}:{h.hexdigest()}"


def compare(args: argparse.Namespace, argv: list[str]) -> None:
    """Old and new source trees side by side: child runs alternating which goes first, CPU ratios new/old."""
    trees = {"old": Path(args.compare[0]).resolve(), "new": Path(args.compare[1]).resolve()}
    own = [a for a in argv if a not in args.compare and a not in ("--compare",)]
    own = [a for i, a in enumerate(own) if not (a == "--rounds" or (i and own[i - 1] == "--rounds"))]
    cpu: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
    wall: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
    for r in range(args.rounds):
        order = ("old", "new") if r % 2 == 0 else ("new", "old")
        for name in order:
            env = {**os.environ, "PYTHONPATH": str(trees[name])}
            child = subprocess.run(
                [sys.executable, __file__, *own, "--json"], env=env, capture_output=True, text=True, check=True
            )
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            for step, f in figures.items():
                if "digest" in f:
                    print(f"round {r + 1} {name}: ledger {f['digest']}")
                    continue
                cpu[name].setdefault(step, []).append(f["cpu_s"])
                wall[name].setdefault(step, []).append(f["wall_s"])
            print(
                f"round {r + 1} {name}: "
                + ", ".join(
                    f"{k} {v['cpu_s']:.1f} s CPU, {v['wall_s']:.1f} s wall"
                    for k, v in figures.items()
                    if "digest" not in v
                )
            )
        print(
            f"round {r + 1} ratio new/old: "
            + ", ".join(f"{k} {cpu['new'][k][-1] / cpu['old'][k][-1]:.2f}" for k in cpu["new"])
        )
    for step in cpu["new"]:
        old, new = sum(cpu["old"][step]), sum(cpu["new"][step])
        old_w, new_w = sum(wall["old"][step]), sum(wall["new"][step])
        print(
            f"{step}: old {old / args.rounds:.1f} s CPU, new {new / args.rounds:.1f} s CPU, new/old {new / old:.2f}; "
            f"wall old {old_w / args.rounds:.1f} s, new {new_w / args.rounds:.1f} s, new/old {new_w / old_w:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--creators", type=int, default=20_000)
    parser.add_argument("--refund-share", type=float, default=0.06)
    parser.add_argument("--flagged-share", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", choices=("all", "settle"), default="all")
    parser.add_argument("--digest", action="store_true", help="Also print a digest of the ledger's entries.")
    parser.add_argument("--json", action="store_true", help="Print the figures as one JSON line.")
    parser.add_argument("--compare", nargs=2, metavar=("OLD_SRC", "NEW_SRC"), help="Two source trees side by side.")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.compare:
        compare(args, sys.argv[1:])
        return
    figures = run(args)
    if args.json:
        print(json.dumps(figures))
        return
    for step, f in figures.items():
        if "digest" in f:
            print(f"ledger digest {f['digest']}")
            continue
        print(f"{step:22s} {int(f['entries']):>10,} entries  {f['wall_s']:.1f} s wall, {f['cpu_s']:.1f} s CPU")


if __name__ == "__main__":
    main()
