"""Benchmark of exact Markov removal-effect attribution on generated aggregated paths.

    python bench/markov.py                      # 100,000 distinct paths over 1,000 channels, seed 7
    python bench/markov.py --paths 20000 --channels 300 --order2-paths 5000 --order2-channels 100

Paths are generated with a fixed seed: channel popularity is Zipf-like, each channel has a few favoured
successors (so the transition matrix is sparse, as real journeys are), lengths are 1 + geometric, and each
distinct path carries integer conversion and null counts. Prints one line per measurement:
best and median of ``--repeat`` runs, in seconds.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from hongmao.attribution import PathRow, attribute_paths, markov_attribution

T = TypeVar("T")


def generate(paths: int, channels: int, seed: int) -> list[PathRow]:
    """``paths`` distinct paths over ``channels`` channel names, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    names = [f"ch{i:04d}" for i in range(channels)]
    popularity = 1.0 / np.arange(1, channels + 1) ** 1.1
    popularity /= popularity.sum()
    successors = rng.choice(channels, size=(channels, 5), p=popularity)
    appeal = rng.uniform(0.0, 0.3, size=channels)  # per-channel pull towards converting
    seen: set[tuple[int, ...]] = set()
    rows: list[PathRow] = []
    while len(rows) < paths:
        batch = max(1024, (paths - len(rows)) * 2)
        lengths = np.minimum(1 + rng.geometric(0.35, size=batch), 12)
        firsts = rng.choice(channels, size=batch, p=popularity)
        for length, first in zip(lengths.tolist(), firsts.tolist(), strict=True):
            path = [first]
            for _ in range(length - 1):
                if rng.random() < 0.6:
                    path.append(int(successors[path[-1], rng.integers(5)]))
                else:
                    path.append(int(rng.choice(channels, p=popularity)))
            key = tuple(path)
            if key in seen:
                continue
            seen.add(key)
            journeys = 1 + int(rng.geometric(0.2))
            rate = min(0.9, 0.02 + float(appeal[list(key)].mean()) + 0.03 * len(key))
            conversions = int(rng.binomial(journeys, rate))
            value = float(conversions * rng.lognormal(4.5, 0.6))
            steps = tuple(names[i] for i in key)
            rows.append(PathRow(steps, float(conversions), value, float(journeys - conversions)))
            if len(rows) == paths:
                break
    return rows


def timed(label: str, run: Callable[[], T], repeat: int) -> T:
    """Run ``repeat`` times and print the best and the median wall time (the machine may be shared)."""
    seconds = []
    for _ in range(max(1, repeat)):
        began = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - began)
    seconds.sort()
    print(f"{label:<62} best {seconds[0]:6.2f} s  median {seconds[len(seconds) // 2]:6.2f} s", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--order2-paths", type=int, default=20_000)
    parser.add_argument("--order2-channels", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best and median shown)")
    parser.add_argument("--skip-sparse", action="store_true", help="skip the forced sparse and dense runs")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    rows = generate(args.paths, args.channels, args.seed)
    steps = sum(len(row.steps) for row in rows)
    print(
        f"generated {len(rows):,} distinct paths, {steps:,} touches, {args.channels:,} channels "
        f"in {time.perf_counter() - began:.1f} s"
    )

    label = f"markov order 1, {len(rows):,} paths"
    auto = timed(f"{label}, solver auto", lambda: markov_attribution(rows, 1), args.repeat)
    print(f"  (auto chose {auto.solver}; {auto.states:,} states)")
    if not args.skip_sparse:
        timed(f"{label}, solver sparse (SuperLU)", lambda: markov_attribution(rows, 1, solver="sparse"), args.repeat)
        timed(f"{label}, solver dense (LAPACK)", lambda: markov_attribution(rows, 1, solver="dense"), args.repeat)
    for model in ("linear", "position", "time_decay", "shapley"):
        timed(f"{model}, {len(rows):,} paths", functools.partial(attribute_paths, rows, model), args.repeat)

    small = generate(args.order2_paths, args.order2_channels, args.seed)
    label = f"{len(small):,} paths over {args.order2_channels} channels"
    result = timed(f"markov order 2, {label}", lambda: markov_attribution(small, 2), args.repeat)
    print(f"  (order 2 chain: {result.states:,} states, solver {result.solver})")
    timed(f"markov order 1, {label}", lambda: markov_attribution(small, 1), args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
