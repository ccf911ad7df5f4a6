"""Benchmark: settling a month of a large synthetic world into the ledger, then settling it again.

    nice -n 10 python bench/settle.py                      # 1,000,000 orders
    nice -n 10 python bench/settle.py --orders 200000

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
import random
import shutil
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


def settle_once(lake: Lake, w: dict[str, Any], refunds: dict[str, Any], through: datetime) -> tuple[int, str]:
    start, cpu = time.perf_counter(), time.process_time()
    with lake.connect("bench: reading") as conn:
        existing = store.load_entries(conn, "b1")
        decisions = store.load_decisions(conn, "b1")
    found = api.build_commissions([PROGRAM], {"click": w["rows"]}, refunds, w["holds"])
    new = api.settle_commissions(found, existing, decisions, through)
    with lake.connect("bench: appending", transaction=True) as conn:
        store.append_entries(conn, new)
    return len(new), took(start, cpu)


def took(start: float, cpu: float) -> str:
    """Wall and CPU seconds: on a shared machine the CPU time is the steadier figure."""
    return f"{time.perf_counter() - start:.1f} s wall, {time.process_time() - cpu:.1f} s CPU"


def pay(lake: Lake, period_end: datetime) -> int:
    with lake.connect("bench: paying", transaction=True) as conn:
        grouped: dict[str, dict[tuple[str, str, str], list[Entry]]] = {}
        for e in store.load_entries(conn, "b1"):
            grouped.setdefault(e.creator_id, {}).setdefault(e.commission, []).append(e)
        new = [p for _, mine in sorted(grouped.items()) for p in payout(mine, period_end, "bench")]
        store.append_entries(conn, new)
    return len(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--creators", type=int, default=20_000)
    parser.add_argument("--refund-share", type=float, default=0.06)
    parser.add_argument("--flagged-share", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    w = world(args.orders, args.creators, args.refund_share, args.flagged_share, args.seed)
    root = Path(tempfile.mkdtemp(prefix="hongmao-bench-settle-"))
    try:
        with Lake.open(root / "lake") as lake:
            added, seconds = settle_once(lake, w, w["early"], datetime(2025, 8, 1, tzinfo=UTC))
            print(f"settle a month: {args.orders:,} orders -> {added:,} entries in {seconds}")
            again, seconds = settle_once(lake, w, w["early"], datetime(2025, 8, 1, tzinfo=UTC))
            print(f"settle again:   {again:,} new entries in {seconds}")
            start, cpu = time.perf_counter(), time.process_time()
            paid = pay(lake, datetime(2025, 9, 1, tzinfo=UTC))
            print(f"payout:         {paid:,} paid entries in {took(start, cpu)}")
            late = {**w["early"], **w["late"]}
            added, seconds = settle_once(lake, w, late, datetime(2025, 9, 3, tzinfo=UTC))
            print(f"late refunds:   {len(w['late']):,} refunds -> {added:,} entries in {seconds}")
            again, seconds = settle_once(lake, w, late, datetime(2025, 9, 3, tzinfo=UTC))
            print(f"settle again:   {again:,} new entries in {seconds}")
            if again:
                raise SystemExit("re-settling added entries")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
