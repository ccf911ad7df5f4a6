"""Benchmark the world simulator: a ~10M-event world, its events per second and peak memory.

    python bench/simulate.py                            # 85,000 people x 30 days: about 10.7M events
    python bench/simulate.py --users 10000 --days 30    # the default world
    python bench/simulate.py --out /data/world          # keep the files (e.g. to benchmark ingest next)

Prints wall time, CPU time (this process: the simulator is single-threaded), events per second and the peak
resident set size (``resource.getrusage``). Figures are recorded in docs/simulator.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from hongmao.sim import simulate


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=85_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--brands", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write, kept afterwards (default: a temporary directory, removed)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--quiet", action="store_true", help="no per-day progress")
    args = parser.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="hongmao-bench-")) / "world"
    began_wall, began_cpu = time.perf_counter(), time.process_time()

    def progress(done: int, days: int) -> None:
        if not args.quiet and (done % 5 == 0 or done == days):
            elapsed = time.perf_counter() - began_wall
            print(f"  day {done:>3}/{days}  {elapsed:6.1f} s  peak RSS {peak_rss_mib():6.0f} MiB", flush=True)

    print(f"simulating {args.users:,} people x {args.days} days, {args.brands} brands (seed {args.seed}) -> {out}")
    summary = simulate(out, seed=args.seed, users=args.users, days=args.days, brands=args.brands, progress=progress)
    wall, cpu = time.perf_counter() - began_wall, time.process_time() - began_cpu
    size = sum(f.stat().st_size for f in summary.files)
    total = summary.total_events
    print(f"events        {total:,} in {len(summary.files)} files, {size / 2**30:.2f} GiB")
    print(f"wall time     {wall:.1f} s   ({total / wall:,.0f} events/s)")
    print(f"CPU time      {cpu:.1f} s   ({total / cpu:,.0f} events/s of CPU)")
    print(f"peak RSS      {peak_rss_mib():.0f} MiB")
    print(f"orders        {summary.events.get('market.order', 0):,}")
    print(f"machine       {platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    if args.out is None and not args.keep:
        shutil.rmtree(out.parent, ignore_errors=True)
    else:
        print(f"kept          {out}")


if __name__ == "__main__":
    main()
