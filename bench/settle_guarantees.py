"""Benchmark: settling ROI guarantees (对赌) on a simulated lake, settling them again, and restating them after
late-arriving refunds.

    nice -n 10 python bench/settle_guarantees.py                       # 1,000 people x 20 days, 3 brands
    nice -n 10 python bench/settle_guarantees.py --users 20000 --days 30

A world is simulated and ingested into a temporary lake (not timed). Every campaign gets contracts of each
kind whose due date (T+x) the lake covers: attributed under each rule model, and incremental with each straddle
rule, for several x. Timed, through the library (``hongmao.settle.guarantee_api``): creating them, settling each
at T+x (one entry each), settling again (must add nothing), then, after refunds dated before the due dates
arrive late (half of the orders placed before the earliest due date, ingested, not timed), restating (one
adjusting entry per contract whose owed amount moved) and settling again (must add nothing). Wall and CPU
seconds per step; on a shared machine CPU is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import hongmao
from hongmao.engine.campaign import campaigns
from hongmao.engine.session import Session
from hongmao.settle import asof, guarantee_api
from hongmao.settle.api import _lake
from hongmao.settle.guarantees import ATTRIBUTION_MODELS, STRADDLE_RULES, parse_guarantee
from hongmao.settle.late import late_refunds


def took(start: float, cpu: float) -> dict[str, float]:
    return {"wall_s": round(time.perf_counter() - start, 2), "cpu_s": round(time.process_time() - cpu, 2)}


def contracts(lake: Path, xs: list[int]) -> list[Any]:
    with _lake(lake, None) as lk:
        segments = lk.segment_paths()
    with Session(segments) as session:
        found = campaigns(session, session.events)
        end = asof.data_end(session)
    assert end is not None
    out = []
    for cid, info in sorted(found.items()):
        for x in xs:
            if info.end + timedelta(days=x) > end:
                continue
            terms: list[dict[str, Any]] = [{"measure": "attributed", "model": m} for m in ATTRIBUTION_MODELS]
            terms += [{"measure": "incremental", "straddle": r} for r in STRADDLE_RULES]
            for n, term in enumerate(terms):
                spec = {
                    "guarantee_id": f"g-{cid}-x{x}-{n}",
                    "brand": info.brand,
                    "campaign_id": cid,
                    "target_roi": "4",
                    "share": "0.3",
                    "spend": "2000",
                    "x_days": x,
                    **term,
                }
                out.append(parse_guarantee(spec))
    return out


def settle_all(lake: Path, found: list[Any], at: datetime, key: str) -> tuple[int, dict[str, float]]:
    start, cpu = time.perf_counter(), time.process_time()
    added = sum(guarantee_api.settle(g.guarantee_id, lake, brand=g.brand, at=at, holdout_key=key)[1] for g in found)
    return added, took(start, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--brands", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--x", type=int, nargs="+", default=[0, 3, 7])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hongmao-bench-guarantees-"))
    steps: dict[str, Any] = {}
    try:
        start = time.perf_counter()
        summary = hongmao.simulate(root / "world", seed=args.seed, users=args.users, days=args.days, brands=args.brands)
        hongmao.ingest(summary.files, root / "lake")
        config = json.loads((root / "world" / "truth" / "world.json").read_text(encoding="utf-8"))["config"]
        key: str = config["holdout_key"]
        print(f"world: {args.users:,} people x {args.days} days, {args.brands} brands (not timed: {took(start, 0)})")
        lake = root / "lake"
        found = contracts(lake, args.x)
        start, cpu = time.perf_counter(), time.process_time()
        guarantee_api.create(found, lake)
        steps["create"] = {"contracts": len(found), **took(start, cpu)}
        dues = {r["guarantee_id"]: datetime.fromisoformat(r["due"]) for r in guarantee_api.listing(lake)}
        at = max(dues.values())
        added, t = settle_all(lake, found, at, key)
        steps["settle"] = {"new_entries": added, **t}
        again, t = settle_all(lake, found, at, key)
        steps["settle_again"] = {"new_entries": again, **t}
        before = min(dues.values())
        refunds = late_refunds(
            root / "world", root / "late.jsonl", before, before - timedelta(seconds=1), tag="bench-late"
        )
        hongmao.ingest([root / "late.jsonl"], lake)
        restated, t = settle_all(lake, found, at, key)
        steps["restate_after_late_refunds"] = {"late_refunds": refunds, "new_entries": restated, **t}
        final, t = settle_all(lake, found, at, key)
        steps["settle_again_after"] = {"new_entries": final, **t}
        for name, figures in steps.items():
            print(f"{name:28s} {json.dumps(figures)}")
        if again or final:
            raise SystemExit("settling again added entries")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
