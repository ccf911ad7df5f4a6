"""Benchmark: folding click lines into the lake, with time-ordered click ids (what the redirect makes) against
random ones, side by side, as the lake grows.

    python bench/fold.py                          # 30 folds of 30,000 clicks each way (about a minute)
    python bench/fold.py --folds 10 --clicks 10000

Each fold is what ``hongmao serve`` does every second under load: decode a block of log lines column by column
(``hongmao.links.clicklog.decode_block``) and ``Lake.append_table(..., expect_new=True)`` them as one segment,
which inserts every event id into the catalog's primary-key index without looking it up first (the key
refuses a repeat); the time per click covers both. Two more lakes fold the same ordered ids as earlier folds
did: with every id looked up first (``append_table`` without ``expect_new``, the fold until 2026-11-25's
second stop), and line by line (``clicklog.decode`` per line, then ``Lake.append`` of the row dicts, the fold
before 2026-11-25). Every lake uses the default SQLite catalog in a temporary directory (removed
after). The kinds alternate fold by fold, so the machine's noise falls on all of them. Figures go to
docs/benchmarks.md by hand, with the command.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from hongmao.lake import Lake
from hongmao.links.clicklog import decode, decode_block, encode
from hongmao.links.clickwriter import HEADER

START_US = 1_750_000_000_000_000


def lines(kind: str, first_us: int, clicks: int) -> list[bytes]:
    """``clicks`` log lines 30 µs apart from ``first_us``; ids ordered (ms + 64 random bits) or 96 random bits."""
    out = []
    for k in range(clicks):
        t = first_us + 30 * k
        click_id = f"{t // 1000:012x}{os.urandom(8).hex()}" if kind == "ordered" else os.urandom(12).hex()
        out.append(encode(click_id, "lnk-bench", t, None, "app", False).rstrip(b"\n"))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=30)
    parser.add_argument("--clicks", type=int, default=30_000, help="clicks per fold")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="hongmao-fold-"))
    try:
        kinds = ("ordered", "random", "looked-up", "lines")
        lakes = {kind: Lake.open(root / kind) for kind in kinds}
        per_click: dict[str, list[float]] = {kind: [] for kind in kinds}
        first = START_US
        print("| clicks in the lake | ordered ids µs/click | random ids µs/click | random / ordered "
              "| ordered, ids looked up first µs/click | looked up / ordered "
              "| ordered, line by line µs/click | line by line / ordered |")  # fmt: skip
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for fold in range(args.folds):
            for kind, lake in lakes.items():
                batch = lines("random" if kind == "random" else "ordered", first, args.clicks)
                block = HEADER + b"\n".join(batch) + b"\n"
                started = time.perf_counter()
                if kind == "lines":
                    rows = [decode(line) for line in batch]
                    lake.append([r for r in rows if r is not None])
                else:
                    lake.append_table(decode_block(block)[0], expect_new=kind != "looked-up")
                per_click[kind].append((time.perf_counter() - started) / args.clicks * 1e6)
            first += 30 * args.clicks
            if (fold + 1) % 5 == 0 or fold + 1 == args.folds:
                o, r, k, n = (per_click[kind][-1] for kind in kinds)
                print(f"| {(fold + 1) * args.clicks:,} | {o:.1f} | {r:.1f} | {r / o:.1f} | {k:.1f} | {k / o:.1f} "
                      f"| {n:.1f} | {n / o:.1f} |")  # fmt: skip
        for lake in lakes.values():
            lake.close()
        o_mean, r_mean, k_mean, n_mean = (statistics.fmean(per_click[kind]) for kind in kinds)
        print(f"\nmean over all folds: ordered {o_mean:.1f} µs/click, random {r_mean:.1f} µs/click "
              f"({r_mean / o_mean:.1f}x), ordered with ids looked up first {k_mean:.1f} µs/click "
              f"({k_mean / o_mean:.1f}x), ordered line by line {n_mean:.1f} µs/click "
              f"({n_mean / o_mean:.1f}x)")  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
