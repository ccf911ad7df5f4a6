"""What the activity counts' k-threshold costs: the engine queries counting the people behind each key's activity
(``Reports.actors``) beside the reports they guard, on one brand of an existing lake.

    python bench/activity_threshold.py --lake PATH [--brand B] [--rounds 2]

The lake is copied (the server writes its link keys and caches beside it). Each report and query is asked with
the cache cleared, rounds alternating, and its process CPU time and wall time are printed; the figures in
docs/cleanroom.md came from a 10,000-person lake built by ``bench/trust_deceptive.py``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--brand", default=None, help="default: the first brand by name")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from hongmao.reports.scope import Scope
    from hongmao.web import create_server

    copy = Path(tempfile.mkdtemp(prefix="hongmao-activity-")) / "lake"
    shutil.copytree(args.lake, copy)
    try:
        reports = create_server(copy, public_url="http://bench.invalid", fold_every=None).state.reports
        scope = Scope(args.brand or sorted(reports.brands())[0])
        asks: dict[str, Callable[[], Any]] = {
            "notes (linear)": lambda: reports.notes(scope, "linear"),
            "daily series": lambda: reports.timeseries(scope),
            "funnel": lambda: reports.funnel(scope, unsuppressed=True),
        }
        for by in ("note", "creator", "day", "link", ""):
            asks[f"people by {by or 'window'}"] = partial(reports.actors, scope, by)
        spent: dict[str, list[tuple[float, float]]] = {name: [] for name in asks}
        reports.excluded_users()  # the trust guard's flagged accounts: every report needs them, not timed
        kept = ("flagged_accounts", "brands")
        for _ in range(args.rounds):
            for name, ask in asks.items():
                # A cold cache but for what every report shares: each ask computes what it and its inputs need.
                reports._cache = type(reports._cache)((k, v) for k, v in reports._cache.items() if k[1] in kept)
                c0, w0 = _cpu(), time.perf_counter()
                ask()
                spent[name].append((_cpu() - c0, time.perf_counter() - w0))
        print(f"brand {scope.brand}, {args.rounds} rounds (min over rounds)")
        print("| query | CPU s | wall s |\n|---|---:|---:|")
        for name, got in spent.items():
            print(f"| {name} | {min(c for c, _ in got):.2f} | {min(w for _, w in got):.2f} |")
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
