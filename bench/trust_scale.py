"""How long the whole trust report takes on a big world (issue 21: 85,000 people over 30 days in under 120 s).

    python bench/trust_scale.py                                       # seeds 203 and 201, 85,000 people, 30 days
    python bench/trust_scale.py --seeds 203 --reuse --out DIR         # time again on lakes already built in DIR
    python bench/trust_scale.py --users 10000 --model linear,hazard --rounds 2 --reuse   # the two credit routes

Each seed: simulate the world and ingest it into a lake (``bench/trust.py``'s ``build``, so its lakes are
reusable there; not timed), then time the trust report in a fresh child process per round — what ``hongmao
trust`` runs (:func:`hongmao.api.trust_report`: ``trust_inputs`` and ``assemble`` over the lake, the default
``TrustParams``, accounts included as ``bench/trust.py`` asks) — and report its wall seconds, CPU seconds (user +
system of the child, every engine thread included) and peak resident memory. ``--model`` times other credit
routes (``ROUTES``: ``hazard`` is ``TrustParams(model="hazard")``, ``hazard-eb`` the same with its prior scales
estimated, ``linear`` the rule route the report defaulted to before 2026-12-07, ``linear-plain`` it without
the item match, ``hazard-creator-0.6`` the default with creators flagged at P(deceptive) >= 0.6); with several,
rounds alternate between them. The report of the first round of each route is scored against the simulator's
truth by ``bench/trust.py``'s ``evaluate``; the suspected class (notes paid off-platform, no record) is printed,
and every figure with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import trust as bench

SUSPECTED = "suspected sponsored notes (paid off-platform, no record)"
SHOWN = (
    SUSPECTED,
    "undisclosed notes (the rule: paid, boosted or linked, unlabelled)",
    "fake_engagement accounts",
    "deceptive creators with >= 10 credited orders (flag)",
)


#: Credit routes by name: the TrustParams each times (``-plain``: without the item match, as before it existed).
ROUTES: dict[str, dict[str, Any]] = {
    "linear": {"model": "linear"},
    "linear-plain": {"model": "linear", "item_match": False},
    "hazard": {"model": "hazard"},
    "hazard-plain": {"model": "hazard", "item_match": False},
    # the hazard route with its prior scales estimated (empirical Bayes), not fixed (hongmao.engine.hazard.DEFAULTS)
    "hazard-eb": {"model": "hazard", "hazard_options": {"prior_sd_creator": None, "prior_sd_note": None}},
    # the default route with creators flagged at pooled P(deceptive) >= 0.6 instead of 0.9 (PoolRules)
    "hazard-creator-0.6": {"model": "hazard", "creator_flag_level": 0.6},
}


def run_once(lake: Path, world: Path, model: str, evaluate: bool) -> dict[str, Any]:
    """The child's job: one timed report over ``lake`` (and its scores when asked)."""
    from hongmao import api
    from hongmao.trust import TrustParams

    spec = dict(ROUTES.get(model, {"model": model}))
    if "creator_flag_level" in spec:
        spec["score"] = bench.creator_flag_rules(spec.pop("creator_flag_level"))
    params = TrustParams(**spec)
    wall0, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    report = api.trust_report(lake, params, include_accounts=True)
    wall, cpu1 = time.perf_counter() - wall0, resource.getrusage(resource.RUSAGE_SELF)
    out: dict[str, Any] = {
        "wall_s": wall,
        "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "peak_rss_mb": cpu1.ru_maxrss / 1024.0,
        "orders": report["summary"].get("orders"),
    }
    if evaluate:
        out["scores"] = bench.evaluate(world, report, 10)
    return out


def child(lake: Path, world: Path, model: str, evaluate: bool, nice: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(lake), str(world), model]
    if evaluate:
        command.append("--evaluate")
    if nice:
        command = ["nice", "-n", str(nice), *command]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def main(argv: list[str] | None = None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        lake, world, model = Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
        print(json.dumps(run_once(lake, world, model, "--evaluate" in sys.argv[5:])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="203,201", help="comma-separated seeds (reported: 201-203)")
    parser.add_argument("--users", type=int, default=85_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--brands", type=int, default=6)
    parser.add_argument(
        "--model",
        default="hazard",
        help=f"comma-separated credit routes to time ({', '.join(ROUTES)}, or any rule model; default: the report's)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="timed reports per route and seed")
    parser.add_argument("--nice", type=int, default=0, help="niceness of the timed child")
    parser.add_argument("--goal", type=float, default=120.0, help="seconds the report must take less than")
    parser.add_argument("--out", type=Path, default=Path("bench/out/trust_scale"))
    parser.add_argument("--reuse", action="store_true", help="keep and reuse worlds and lakes in --out")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    models = [m.strip() for m in args.model.split(",") if m.strip()]
    results: dict[str, Any] = {}
    print(f"world: users={args.users} days={args.days} brands={args.brands}; seeds {args.seeds}; routes {models}")
    print()
    print("| seed | route | round | wall s | CPU s | peak RSS MB | orders | under goal |")
    print("|---|---|---|---:|---:|---:|---:|---|")
    for seed in seeds:
        started = time.perf_counter()
        world, lake = bench.build(args.out, seed, args.users, args.days, args.brands, args.reuse)
        print(f"seed {seed}: world and lake ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for r in range(args.rounds):
            for model in models:
                got = child(lake, world, model, evaluate=r == 0, nice=args.nice)
                results.setdefault(str(seed), {}).setdefault(model, []).append(got)
                ok = "yes" if got["wall_s"] < args.goal else "NO"
                print(
                    f"| {seed} | {model} | {r + 1} | {got['wall_s']:.1f} | {got['cpu_s']:.1f} | "
                    f"{got['peak_rss_mb']:.0f} | {got['orders']} | {ok} |",
                    flush=True,
                )
    print()
    print("| seed | route | flag (truth) | precision | recall | flagged / true |")
    print("|---|---|---|---:|---:|---:|")
    for seed_name, by_model in results.items():
        for model, rounds in by_model.items():
            for name in SHOWN:
                s = rounds[0]["scores"][name]
                print(
                    f"| {seed_name} | {model} | {name} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | "
                    f"{s['flagged']} / {s['true']} |"
                )
    print("load average at the end:", " ".join(f"{x:.1f}" for x in __import__("os").getloadavg()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}))


if __name__ == "__main__":
    main()
