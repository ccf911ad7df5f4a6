"""Benchmark: the clean room end to end — both sides blind, both re-blind, the measurer joins — on N ids a side.

    nice -n 10 python bench/psi.py                         # 1,000,000 ids per side, 2 worker processes
    python bench/psi.py --ids 100000 --workers 2           # the quick check
    python bench/psi.py --ids 1000000 --json out.json

Half of each side's ids are shared with the other (distinct mobile numbers). Every step runs the library code
the ``hongmao match`` commands run, through the protocol files, in a temporary directory. Both sides' steps run
one after the other on this machine, so the end-to-end time is both sides' work; the figure "per side per
million" is one side's blind + re-blind time scaled to one million ids (the sides would run at once on their
own machines), and the join is the measurer's. CPU seconds (this process and its finished workers) are printed
beside the wall times: on a machine shared with other work they say what the steps cost, load aside.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hongmao.cleanroom import protocol
from hongmao.cleanroom.keys import PartyKeys


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def numbers(start: int, count: int) -> list[str]:
    return [f"13{n:09d}" for n in range(start, start + count)]


def run(ids: int, workers: int) -> dict[str, Any]:
    c_keys, m_keys = PartyKeys.new("community"), PartyKeys.new("market")
    c_ids, m_ids = numbers(0, ids), numbers(ids // 2, ids)
    timings: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}  # this process and its finished workers: what the step costs, load aside
    with tempfile.TemporaryDirectory(prefix="hongmao-psi-") as tmp:
        d = Path(tmp)

        def step(name: str, fn: Any, *args: Any, **kw: Any) -> Any:
            began, cpu = time.perf_counter(), _cpu()
            out = fn(*args, **kw)
            timings[name], cpu_seconds[name] = round(time.perf_counter() - began, 2), round(_cpu() - cpu, 2)
            print(f"  {name}: {timings[name]} s ({cpu_seconds[name]} s of CPU)", file=sys.stderr, flush=True)
            return out

        began = time.perf_counter()
        step("community blind", protocol.blind, c_keys, c_ids, "phone", d / "c.blinded", d / "c.index", workers=workers)
        step("market blind", protocol.blind, m_keys, m_ids, "phone", d / "m.blinded", d / "m.index", workers=workers)
        step("market reblind", protocol.reblind, m_keys, d / "c.blinded", d / "c.double", workers=workers)
        step("community reblind", protocol.reblind, c_keys, d / "m.blinded", d / "m.double", workers=workers)
        result = step("join", protocol.join, (d / "c.index", d / "c.double"), (d / "m.index", d / "m.double"))
        total = time.perf_counter() - began
    assert result.report["matched"] == ids - ids // 2, result.report
    per_side = max(
        timings["community blind"] + timings["community reblind"], timings["market blind"] + timings["market reblind"]
    )
    per_side_cpu = max(
        cpu_seconds["community blind"] + cpu_seconds["community reblind"],
        cpu_seconds["market blind"] + cpu_seconds["market reblind"],
    )
    return {
        "ids_per_side": ids,
        "workers": workers,
        "matched": result.report["matched"],
        "seconds": timings,
        "cpu_seconds": cpu_seconds,
        "per_side_cpu_seconds_per_million": round(per_side_cpu * 1_000_000 / ids, 1),
        "end_to_end_seconds": round(total, 1),
        "per_side_seconds_per_million": round(per_side * 1_000_000 / ids, 1),
        "join_seconds_per_million": round(timings["join"] * 1_000_000 / ids, 1),
        "end_to_end_seconds_per_million": round(total * 1_000_000 / ids, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ids", type=int, default=1_000_000, help="Distinct ids per side.")
    parser.add_argument("--workers", type=int, default=2, help="Blinding processes per step.")
    parser.add_argument("--json", type=Path, help="Also write the result here.")
    args = parser.parse_args()
    result = run(args.ids, args.workers)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
