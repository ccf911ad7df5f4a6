"""Accuracy against ground truth on simulated worlds: attribution error and holdout-lift coverage, per seed.

    python bench/accuracy.py                          # 5 default worlds (10,000 people x 30 days, 6 brands)
    python bench/accuracy.py --seeds 3 --users 4000   # quicker
    python bench/accuracy.py --reuse                  # keep worlds and lakes under --out between runs
    python bench/accuracy.py --diagnose               # + caused orders only, Markov variants (slower)

For each seed: simulate a world (``hongmao.simulate``), ingest its events into a fresh lake (``hongmao.ingest``),
then, against the world's ``truth/``:

1. attribute every order with every model (first, last, linear, time_decay, position, markov, shapley,
   hazard), by note and by creator, and measure the misplaced share of credit (``hongmao.measure.accuracy``);
   the hazard model's ``(baseline)`` row is credit to no note: left out of the shares (like every model, its
   shares are normalised over what it credits to notes) and counted as "no note" in misplaced-with-organic;
2. the floor organic orders set: an "oracle" exact on every caused order that credits the organic orders as
   last-click or linear does (rows ``oracle+last``, ``oracle+linear``);
3. with ``--diagnose``: the same with the organic orders taken out of the lake ("caused orders only": how well
   each model splits the orders notes really caused), and Markov with one chain for all brands (the engine
   before 2026-11-24) and with windowed null paths (see docs/accuracy.md);
4. run the holdout lift of every campaign and check whether its 95% interval covers the true incremental
   orders (and GMV) inside the measured window;
5. estimate the decision cycle of every category (excess-lag, q = 0.9).

Prints the tables of docs/accuracy.md; ``--json FILE`` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import hongmao
from hongmao import api
from hongmao.attribution import attribute_paths
from hongmao.engine import Session, Windows, attribute, credit, tables
from hongmao.engine.attribute import parse_kinds
from hongmao.engine.campaign import campaign_lift
from hongmao.engine.cycles import decision_cycles
from hongmao.engine.hazard import BASELINE, hazard_credits_by
from hongmao.engine.paths import brand_journey_paths, journey_paths
from hongmao.measure.accuracy import coverage, credit_error, true_credit

MODELS = ("first", "last", "linear", "time_decay", "position", "markov", "shapley", "hazard")
DATA_DRIVEN = ("markov", "shapley", "hazard")
GROUPINGS = ("note", "creator")
DIAGNOSTICS = ("markov/pooled", "markov/windowed")  # one chain for all brands; null paths in the windows
FLOOR = "oracle+"  # exact on caused orders, a rule model on organic ones


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def build(seed: int, args: argparse.Namespace) -> tuple[Path, Path, dict[str, float]]:
    """Simulate and ingest one world (or reuse it); returns the world, the lake and timings."""
    root = Path(args.out) / f"seed-{seed}-u{args.users}-d{args.days}-b{args.brands}"
    world, lake = root / "world", root / "lake"
    timings: dict[str, float] = {}
    done = root / "ingested"
    if args.reuse and done.exists():
        return world, lake, timings
    shutil.rmtree(root, ignore_errors=True)
    began = time.perf_counter()
    summary = hongmao.simulate(world, seed=seed, users=args.users, days=args.days, brands=args.brands)
    timings["simulate"] = time.perf_counter() - began
    began = time.perf_counter()
    report = hongmao.ingest(summary.files, lake)
    timings["ingest"] = time.perf_counter() - began
    if report.rejected:
        raise SystemExit(f"seed {seed}: {report.rejected} events rejected")
    done.write_text("ok\n", encoding="utf-8")
    return world, lake, timings


def without_orders(segments: list[Path], drop: list[str], out: Path) -> list[Path]:
    """One segment with the lake's events minus the orders ``drop`` (and their refunds and reviews)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out.parent.mkdir(parents=True, exist_ok=True)
    table = pa.concat_tables([pq.read_table(p) for p in segments])
    dropped = pc.is_in(table["order_id"], value_set=pa.array(drop, pa.string()))
    pq.write_table(table.filter(pc.invert(pc.fill_null(dropped, False))), out)
    return [out]


def data_driven(
    session: Session, by: str, models: tuple[str, ...], diagnose: bool
) -> tuple[dict[str, dict[str, float]], int]:
    """Markov and Shapley credit by conversions exactly as ``hongmao attribute`` computes it (one chain or game
    per brand: ``brand_journey_paths``, then ``attribute_paths`` per brand, summed), the paths aggregated once
    for both models; with ``diagnose``, also Markov with one chain for all brands and with windowed null paths."""
    ev = session.events
    conv = tables.conversions(ev)
    touch = tables.touches(ev, parse_kinds(None))
    j = credit.journeys(conv, touch, Windows())
    total = int(session.scalar(conv.count()))
    out: dict[str, dict[str, float]] = {}

    def per_brand(null_window: str, wanted: Sequence[str]) -> None:
        paths = brand_journey_paths(session, j, touch, conv, by, null_window=null_window, items=tables.items(ev))
        for model in wanted:
            name = model if null_window == "all" else f"{model}/windowed"
            summed: dict[str, float] = defaultdict(float)
            for brand in paths.values():
                for c in attribute_paths(brand.by_gmv, model) if brand.by_gmv else []:
                    summed[c.channel] += c.conversions
            out[name] = dict(summed)

    wanted = [m for m in ("markov", "shapley") if m in models]
    if wanted:
        per_brand("all", wanted)
    if diagnose:
        rows, _ = journey_paths(session, j, touch, conv, by)
        out["markov/pooled"] = {c.channel: c.conversions for c in attribute_paths(rows, "markov")} if rows else {}
        per_brand("windowed", ["markov"])
    return out, total


def hazard_errors(session: Session, truths: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The hazard model fitted once per world, credited by note and by creator; ``(baseline)`` is no note."""
    ev = session.events
    conv = tables.conversions(ev)
    touch = tables.touches(ev, parse_kinds(None))
    total = int(session.scalar(conv.count()))
    out: dict[str, dict[str, Any]] = {}
    for by, result in hazard_credits_by(session, ev, conv, touch, GROUPINGS).items():
        credited = {r["key"]: r["orders"] for r in result.rows if r["key"] != BASELINE}
        err = credit_error(truths[by], credited, total).to_dict()
        err["baseline_orders"] = result.baseline
        err["fits"] = result.fits if by == "note" else {}
        out[f"hazard|{by}"] = err
    return out


def attribution_errors(
    session: Session, truths: dict[str, Any], models: tuple[str, ...], *, diagnose: bool
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for by in GROUPINGS:
        for model in models:
            if model in DATA_DRIVEN:
                continue
            result = attribute(session, model=model, by=by)
            credited = {r["key"]: r["orders"] for r in result.rows}
            out[f"{model}|{by}"] = credit_error(truths[by], credited, result.orders).to_dict()
        credits, total = data_driven(session, by, models, diagnose)
        for model, credited in credits.items():
            out[f"{model}|{by}"] = credit_error(truths[by], credited, total).to_dict()
    if "hazard" in models:
        out.update(hazard_errors(session, truths))
    return out


def lift_rows(session: Session, world: Path, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = api.holdout_key_from_world(world)
    rows = []
    by_campaign: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in orders:
        if o.get("campaign_id"):
            by_campaign[o["campaign_id"]].append(o)
    for c in read_jsonl(world / "truth" / "campaigns.jsonl"):
        result = campaign_lift(session, c["campaign_id"], key)
        end = result.window_end
        inside = [o for o in by_campaign[c["campaign_id"]] if datetime.fromisoformat(o["time"]) <= end]
        true_orders = len(inside)
        true_gmv = math.fsum(o["amount"] for o in inside)
        cmp = result.comparison
        rows.append(
            {
                "campaign_id": c["campaign_id"],
                "category": result.category,
                "treated": cmp.treated.n,
                "holdout": cmp.holdout.n,
                "estimate": cmp.orders.estimate,
                "ci95": list(cmp.orders.ci95),
                "true_orders": true_orders,
                "true_orders_all": c["true_incremental_orders"],
                "covered": cmp.orders.ci95[0] <= true_orders <= cmp.orders.ci95[1],
                "gmv_estimate": cmp.gmv.estimate,
                "gmv_ci95": list(cmp.gmv.ci95),
                "true_gmv": true_gmv,
                "gmv_covered": cmp.gmv.ci95[0] <= true_gmv <= cmp.gmv.ci95[1],
                "holdout_exposed": result.holdout_exposed,
                "srm_p_value": cmp.srm_p_value,
            }
        )
    return rows


def run_seed(seed: int, args: argparse.Namespace, models: tuple[str, ...]) -> dict[str, Any]:
    world, lake, timings = build(seed, args)
    with api.open_lake(lake) as opened:
        segments = opened.segment_paths()
    orders = read_jsonl(world / "truth" / "orders.jsonl")
    creator_of = {n["note_id"]: n["creator_id"] for n in read_jsonl(world / "truth" / "notes.jsonl")}
    truths = {"note": true_credit(orders), "creator": true_credit(orders, creator_of)}
    session = Session(segments)
    began = time.perf_counter()
    errors = attribution_errors(session, truths, models, diagnose=args.diagnose)
    timings["attribute"] = time.perf_counter() - began
    began = time.perf_counter()
    organic = [o["order_id"] for o in orders if not o["incremental"]]
    errors_caused: dict[str, dict[str, Any]] = {}
    if args.diagnose:
        caused = without_orders(segments, organic, world.parent / "caused" / "events.parquet")
        caused_truth = {by: type(t)(t.by_key, t.incremental_orders, 0) for by, t in truths.items()}
        with Session(caused) as on_caused:
            errors_caused = attribution_errors(on_caused, caused_truth, models, diagnose=False)
    # The floor organic orders set: an attribution exact on every caused order that credits the organic
    # orders the way a rule model does (a rule model credits each order on its own, so running it on the
    # organic orders alone gives exactly that part of its credit).
    incremental = [o["order_id"] for o in orders if o["incremental"]]
    organic_only = without_orders(segments, incremental, world.parent / "organic" / "events.parquet")
    with Session(organic_only) as on_organic:
        floor = {(m, by): attribute(on_organic, model=m, by=by) for m in ("last", "linear") for by in GROUPINGS}
    for model in ("last", "linear"):
        for by in GROUPINGS:
            result = floor[(model, by)]
            combined = dict(truths[by].by_key)
            for r in result.rows:
                combined[r["key"]] = combined.get(r["key"], 0.0) + r["orders"]
            total = truths[by].total_orders
            errors[f"{FLOOR}{model}|{by}"] = credit_error(truths[by], combined, total).to_dict()
    timings["attribute_floor"] = time.perf_counter() - began
    began = time.perf_counter()
    lifts = lift_rows(session, world, orders)
    timings["lift"] = time.perf_counter() - began
    began = time.perf_counter()
    cycles = {e.category: e.days for e in decision_cycles(session).estimates}
    session.close()
    timings["cycles"] = time.perf_counter() - began
    meta = json.loads((world / "truth" / "world.json").read_text(encoding="utf-8"))
    return {
        "seed": seed,
        "orders": truths["note"].total_orders,
        "incremental_orders": truths["note"].incremental_orders,
        "errors": errors,
        "errors_caused": errors_caused,
        "lift": lifts,
        "cycles": cycles,
        "true_cycles": {c["category"]: c["mean_delay_days"] for c in meta["categories"]},
        "timings": timings,
    }


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.fmean(values):.3f} ± {statistics.stdev(values):.3f}"


def print_tables(results: list[dict[str, Any]], models: tuple[str, ...]) -> dict[str, Any]:
    names = (*models, *DIAGNOSTICS, f"{FLOOR}last", f"{FLOOR}linear")
    summary: dict[str, Any] = {}
    for field, title in (
        ("errors", "Misplaced share of credit (total-variation distance to the true causal shares), all orders"),
        ("errors_caused", "Misplaced share, caused orders only (organic orders removed from the lake)"),
    ):
        if not results[0][field]:
            continue
        print(f"\n{title} — mean ± sd over {len(results)} seeds; ratio = model / last")
        print(f"{'model':<14} {'by note':>16} {'ratio':>6}   {'by creator':>16} {'ratio':>6}")
        for name in names:
            if f"{name}|note" not in results[0][field]:
                continue
            cells = []
            for by in GROUPINGS:
                vals = [r[field][f"{name}|{by}"]["misplaced_share"] for r in results]
                last = [r[field][f"last|{by}"]["misplaced_share"] for r in results]
                ratio = statistics.fmean(vals) / statistics.fmean(last)
                summary[f"{field}|{name}|{by}"] = {"mean": statistics.fmean(vals), "ratio_to_last": ratio}
                cells.append(f"{mean_sd(vals):>16} {ratio:>6.2f}")
            print(f"{name:<14} {cells[0]}   {cells[1]}")
    print("\nMisplaced with organic (organic orders credited to notes count as misplaced), all orders, by note")
    for name in names:
        if f"{name}|note" not in results[0]["errors"]:
            continue
        vals = [r["errors"][f"{name}|note"]["misplaced_with_organic"] for r in results]
        excess = [r["errors"][f"{name}|note"]["excess_credit"] for r in results]
        print(f"{name:<14} {mean_sd(vals):>16}   credit beyond caused orders {statistics.fmean(excess):>8,.0f}")
    print(
        "\norders per world "
        + ", ".join(f"{r['orders']:,} ({r['incremental_orders']:,} caused by notes)" for r in results)
    )

    print("\nHoldout lift: 95% interval of incremental orders vs the true incremental orders in the window")
    pairs, gmv_pairs = [], []
    for r in results:
        cov = sum(x["covered"] for x in r["lift"])
        print(f"seed {r['seed']}: {cov}/{len(r['lift'])} covered")
        for x in r["lift"]:
            lo, hi = x["ci95"]
            mark = "" if x["covered"] else "   <- missed"
            print(
                f"   {x['campaign_id']:<18} {x['estimate']:>8.1f} [{lo:>7.1f}, {hi:>7.1f}]  "
                f"true {x['true_orders']:>4} (all {x['true_orders_all']:>4}){mark}"
            )
            pairs.append(((lo, hi), x["true_orders"]))
            gmv_pairs.append(((x["gmv_ci95"][0], x["gmv_ci95"][1]), x["true_gmv"]))
    orders_cov = coverage([p[0] for p in pairs], [p[1] for p in pairs])
    gmv_cov = coverage([p[0] for p in gmv_pairs], [p[1] for p in gmv_pairs])
    seeds_all = sum(all(x["covered"] for x in r["lift"]) for r in results)
    print(
        f"coverage: orders {orders_cov:.1%} of {len(pairs)} campaign-seeds, GMV {gmv_cov:.1%}; "
        f"seeds with every campaign covered: {seeds_all}/{len(results)}"
    )
    summary["lift"] = {"orders_coverage": orders_cov, "gmv_coverage": gmv_cov, "seeds_all_covered": seeds_all}

    print("\nDecision cycles (excess-lag, q=0.9), estimated days per seed vs the simulator's mean cycle")
    categories = sorted({c for r in results for c in r["cycles"]})
    for cat in categories:
        est = [r["cycles"].get(cat) for r in results]
        true = results[0]["true_cycles"].get(cat)
        shown = ", ".join("—" if e is None else str(e) for e in est)
        print(f"{cat:<12} mean cycle {true:>4}  ideal q0.9 {true * math.log(10):>6.1f}   estimated {shown}")

    print("\nHazard model: orders credited to its baseline vs the organic orders of the truth")
    for r in results:
        if "hazard|note" in r["errors"]:
            organic = r["orders"] - r["incremental_orders"]
            print(
                f"seed {r['seed']}: baseline {r['errors']['hazard|note']['baseline_orders']:,.0f}, organic {organic:,}"
            )

    goals: dict[str, dict[str, bool]] = {}
    for by in GROUPINGS:
        goals[by] = {
            m: summary[f"errors|{m}|{by}"]["ratio_to_last"] <= 0.5 for m in DATA_DRIVEN if f"errors|{m}|{by}" in summary
        }
    met = {by: [m for m, ok in g.items() if ok] for by, g in goals.items()}
    print(
        "\ngoal: a data-driven model misplaces <= half of last-click's share: "
        + "; ".join(f"by {by} {'met by ' + ', '.join(ms) if ms else 'NOT met'}" for by, ms in met.items())
        + f"; lift coverage >= 90%: {'met' if orders_cov >= 0.9 else 'NOT met'}"
    )
    summary["goals"] = {"models": goals, "lift_coverage": orders_cov >= 0.9}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="number of worlds (seeds first-seed, first-seed+1, ...)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--brands", type=int, default=6)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated models")
    parser.add_argument("--out", default="bench/out/accuracy")
    parser.add_argument("--reuse", action="store_true", help="keep simulated worlds and lakes between runs")
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--diagnose", action="store_true", help="add caused orders only and Markov variants")
    args = parser.parse_args()
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if "last" not in models:
        raise SystemExit("--models must include last (the reference)")
    began = time.perf_counter()
    results = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        log(f"seed {seed}: simulate, ingest, attribute, lift ...")
        result = run_seed(seed, args, models)
        log("  " + ", ".join(f"{k} {v:.1f}s" for k, v in result["timings"].items()))
        results.append(result)
    summary = print_tables(results, models)
    wall = time.perf_counter() - began
    print(
        f"\nwall time {wall:.0f} s for {args.seeds} seeds "
        f"({args.users:,} people x {args.days} days, {args.brands} brands)"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"args": vars(args), "results": results, "summary": summary, "wall_s": wall}, indent=1),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
