"""Benchmark: the data-driven model (fit and credit, with its bootstrap) on the synthetic lake of bench/attribution.py.

    python bench/datadriven.py                                   # 5M touchpoints, 100k orders, bootstrap 5
    python bench/datadriven.py --touches 50000000 --orders 1000000   # the issue's target size
    python bench/datadriven.py --bootstrap 0 --json out.json

The data set is bench/attribution.py's (generated once by DuckDB into lake-format Parquet segments under
``--data``, outside the repository: 20 brands, 100,000 notes, one person per order, impressions, reads with
dwell, likes and collects over 60 days). The model runs in a child process (``hongmao.engine.attribute`` with
``model="datadriven"`` by note, the code ``hongmao attribute --model datadriven`` runs), timed from opening the
session to the result, its peak memory read with ``wait4``. Printed: wall seconds, peak RSS, orders, rows,
baseline share, and the time the engine's queries took apart from the fits (``--phases``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

CHILD = """
import json, sys, time
from pathlib import Path
from hongmao.engine.session import Session
from hongmao.engine.attribute import attribute
files = [Path(p) for p in json.loads(sys.argv[1])]
params = json.loads(sys.argv[2])
start = time.perf_counter()
with Session(files) as session:
    result = attribute(session, "datadriven", by="note", datadriven=params)
wall = time.perf_counter() - start
brands = result.params["brands"]
print(json.dumps({
    "wall_s": wall,
    "orders": result.orders,
    "attributed": result.total_orders,
    "baseline": result.baseline_orders,
    "rows": len(result.rows),
    "fit_rows": sum(b["rows"] for b in brands.values()),
    "sampled_orders": sum(b["sampled_orders"] for b in brands.values()),
    "converged": sum(bool(b["converged"]) for b in brands.values()),
    "brands": len(brands),
}))
"""


def run(files: list[str], params: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """One measurement in its own process: its result, CPU seconds and peak RSS (wait4). Past ``timeout``
    seconds the child is stopped and the result says so (with the CPU and memory it had used)."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(files), json.dumps(params)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    stopped: list[bool] = []

    def stop() -> None:
        stopped.append(True)
        proc.kill()

    timer = threading.Timer(timeout, stop) if timeout else None
    if timer is not None:
        timer.start()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # reaps the child: its own CPU time and peak RSS
    if timer is not None:
        timer.cancel()
    figures = {
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "elapsed_s": time.perf_counter() - began,
    }
    if stopped:
        return {"finished": False, **figures}
    if status != 0:
        raise SystemExit(f"the measurement failed (status {status})")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return {"finished": True, **result, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--touches", type=int, default=5_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--bootstrap", type=int, default=5)
    parser.add_argument("--data", default="/tmp/hongmao-bench-attribution")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--timeout", type=float, help="stop the model after this many seconds (reported as such)")
    parser.add_argument("--params", default="{}", help="more model parameters, as JSON (e.g. control_pairs)")
    args = parser.parse_args()
    import attribution as layout  # bench/attribution.py: the synthetic lake

    root = layout.dataset(Path(args.data), args.touches, args.orders)
    files = sorted(str(p) for p in root.glob("*.parquet"))
    began = time.perf_counter()
    result = run(files, {**json.loads(args.params), "bootstrap": args.bootstrap}, args.timeout)
    result.update({"touches": args.touches, "bootstrap": args.bootstrap, "total_s": time.perf_counter() - began})
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    if not result["finished"]:
        print(
            f"datadriven on {args.touches:,} touchpoints / {args.orders:,} orders, bootstrap {args.bootstrap}: "
            f"stopped after {result['elapsed_s']:.0f} s ({result['cpu_s']:.0f} CPU-s), "
            f"peak RSS {result['peak_rss_mb']:,.0f} MB"
        )
        return
    share = (result["baseline"] or 0.0) / max(result["orders"], 1)
    print(
        f"datadriven on {args.touches:,} touchpoints / {result['orders']:,} orders, bootstrap {args.bootstrap}: "
        f"{result['wall_s']:.0f} s ({result['cpu_s']:.0f} CPU-s), peak RSS {result['peak_rss_mb']:,.0f} MB; "
        f"{result['fit_rows']:,} model rows "
        f"over {result['brands']} brands ({result['converged']} converged), baseline share {share:.1%}, "
        f"{result['sampled_orders']:,} orders past the exact-Shapley limit"
    )


if __name__ == "__main__":
    main()
