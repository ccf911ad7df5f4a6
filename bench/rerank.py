"""Benchmark the commercial load cap (轻商业化) re-ranker: 10,000 candidates, exact optimum vs the greedy heuristic.

    python bench/rerank.py                    # 10,000 candidates, three rules, four candidate mixes
    python bench/rerank.py --n 100000         # bigger pools

For every (rule, mix): the best of ``--repeat`` runs in CPU milliseconds (the machine is shared; CPU time of this
process is steadier than wall time), how many commercials the feed holds, the position-weighted score given up
to respect the rule (``loss``, vs the plain merge by score), and how much more the exact feed keeps than the
slot-by-slot greedy heuristic. Figures go to docs/trust.md by hand.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hongmao.trust import LoadCap, greedy_indices, rerank_indices

MIXES = {
    "10% commercial, same scores": (0.10, "same"),
    "25% commercial, same scores": (0.25, "same"),
    "30% commercial, mid-range scores": (0.30, "mid"),
    "30% commercial, boosted scores": (0.30, "boosted"),
}
RULES = (LoadCap(5, 1, 1), LoadCap(10, 2, 3), LoadCap(20, 3, 4))


def candidates(rng: np.random.Generator, n: int, share: float, kind: str) -> tuple[np.ndarray, np.ndarray]:
    com = rng.random(n) < share
    organic = rng.random(n)
    if kind == "same":
        s = organic
    elif kind == "mid":
        s = np.where(com, 0.2 + 0.6 * rng.random(n), organic)
    else:
        s = np.where(com, 0.5 + rng.random(n), organic)
    return s, com


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    print(f"{args.n:,} candidates; CPU ms = best of {args.repeat}")
    print()
    print("| rule (K, M, G) | candidates | exact CPU ms | greedy CPU ms | commercials kept | loss | exact − greedy |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for cap in RULES:
        for name, (share, kind) in MIXES.items():
            s, com = candidates(rng, args.n, share, kind)
            best = float("inf")
            for _ in range(args.repeat):
                started = time.process_time()
                feed = rerank_indices(s, com, cap)
                best = min(best, time.process_time() - started)
            started = time.process_time()
            greedy = greedy_indices(s, com, cap)
            g_time = time.process_time() - started
            assert cap.allows(feed.commercial) and cap.allows(greedy.commercial)
            print(
                f"| ({cap.window}, {cap.max_commercial}, {cap.min_gap}) | {name} | {best * 1000:.0f} | "
                f"{g_time * 1000:.0f} | {sum(feed.commercial):,} / {int(com.sum()):,} | {feed.loss:.3f} | "
                f"{feed.value - greedy.value:+.3f} |"
            )


if __name__ == "__main__":
    main()
