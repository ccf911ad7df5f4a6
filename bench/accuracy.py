"""Accuracy against ground truth on simulated worlds of every kind: attribution error and holdout-lift coverage.

    python bench/accuracy.py                                # reported seeds 101-103, every world kind
    python bench/accuracy.py --dev                          # development seeds 1-2 (tune here, never on reported)
    python bench/accuracy.py --worlds routes --models last,hazard --users 2000
    python bench/accuracy.py --reuse --json out.json        # keep worlds and lakes under --out; every figure
    python bench/accuracy.py --diagnose                     # + caused orders only, Markov variants (slower)
    python bench/accuracy.py --dev --hazard '{"frailty": true}'   # a hazard option on trial
    python bench/accuracy.py --dev --models last,hazard --hazard-credit '[{"shapley_days": 1}]'  # same fit

World kinds (``hongmao.sim.worlds``): additive, saturating, targeted, routes; in every one an order's true credit
to a note is the note's Shapley value in the buyer's purchase intensity on the order's day (docs/simulator.md).
Seeds: ``--seeds`` are the reported ones, ``--dev-seeds`` the development ones (``--dev`` runs those instead);
the two lists must not overlap, and the output says which were run.

For each world kind and seed: simulate (``hongmao.simulate(world=KIND)``), ingest into a fresh lake
(``hongmao.ingest``), then, against the world's ``truth/``:

1. attribute every order with every registered model (``hongmao.engine.attribute.MODELS``: the registry's
   models plus hazard, and any model registered later), by note and by creator, and measure the misplaced share
   of credit (``hongmao.measure.accuracy``); a ``(baseline)`` row is credit to no note: left out of the shares
   and counted as "no note" in misplaced-with-organic;
2. the floor organic orders set: an "oracle" exact on every caused order that credits the organic orders as
   last-click or linear does (rows ``oracle+last``, ``oracle+linear``);
3. with ``--diagnose``: the same with the organic orders taken out of the lake, and Markov variants;
4. run the holdout lift of every campaign and check whether its 95% interval covers the true incremental
   orders inside the measured window (the sum of the orders' removal effects of the campaign's notes where the
   truth has them, else the orders a campaign note caused);
5. estimate the decision cycle of every category (excess-lag, q = 0.9);
6. interval coverage of per-note credits (models whose rows carry ``orders_low``/``orders_high``, i.e.
   datadriven, asked for 90% intervals from ``--bootstrap`` refits): the share of notes with at least 10 true
   credited orders whose interval holds the true credited orders (goal >= 80%); ``coverage_by_note`` in the
   JSON (None for a model without intervals).

Prints one table per world kind and a summary of every model on every kind; ``--json FILE`` writes every figure.
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
from hongmao.engine.attribute import MODELS as REGISTERED
from hongmao.engine.attribute import parse_kinds
from hongmao.engine.campaign import campaign_lift
from hongmao.engine.cycles import decision_cycles
from hongmao.engine.hazard import BASELINE, CREDIT_PARAMS, brand_shares, check_params, credit_shares, reshare
from hongmao.engine.hazard_data import gather
from hongmao.engine.paths import brand_journey_paths, journey_paths
from hongmao.errors import HongmaoError
from hongmao.measure.accuracy import coverage, credit_error, true_credit
from hongmao.sim.worlds import WORLDS

#: every model the registry knows, plus hazard: a model registered later is scored with no change here
MODELS: tuple[str, ...] = tuple(REGISTERED)
PATH_MODELS = ("markov", "shapley")  # scored from one aggregation of the paths per brand (as the engine does)
DATA_DRIVEN = tuple(m for m in MODELS if m not in credit.RULE_MODELS)
DEV_SEEDS = "1,2"
REPORTED_SEEDS = "101,102,103"
GROUPINGS = ("note", "creator")
DIAGNOSTICS = ("markov/pooled", "markov/windowed")  # one chain for all brands; null paths in the windows
FLOOR = "oracle+"  # exact on caused orders, a rule model on organic ones
BASELINE_MODEL = "hazard"  # fitted once for both groupings and every credit variant (brand_shares)
HAZARD_PARAMS: dict[str, Any] = {}  # --hazard: the hazard model's options (e.g. {"frailty": true}) for a trial
HAZARD_CREDIT: list[dict[str, Any]] = []  # --hazard-credit: credit-step variants scored on the same fits
#: interval coverage of per-note credits (issue 20): 90% intervals, judged on notes with >= 10 true orders
COVERAGE_LEVEL = 0.9
COVERAGE_MIN_TRUE = 10.0
#: datadriven's options by grouping: bootstrap refits (--bootstrap) for the intervals by note only; the point
#: credit does not depend on them, so by creator skips the refits
DATADRIVEN_PARAMS: dict[str, dict[str, Any]] = {
    "note": {"bootstrap": 20, "level": COVERAGE_LEVEL},
    "creator": {"bootstrap": 0},
}


def credit_variant(options: dict[str, Any]) -> str:
    """The row name of a hazard credit-step variant, e.g. ``hazard~shapley_days=1``."""
    return BASELINE_MODEL + "~" + ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(options.items()))


def note_coverage(
    rows: Sequence[dict[str, Any]], truth: dict[str, float], min_true: float = COVERAGE_MIN_TRUE
) -> dict[str, Any] | None:
    """How often a model's per-note intervals (``orders_low``, ``orders_high``) hold the true credited orders,
    judged on the notes with at least ``min_true`` true credited orders (by the truth, not the model). A judged
    note the model gives no row counts as missed (its credit is zero with no interval). None when no row carries
    an interval (a model without intervals)."""
    by_key = {r["key"]: r for r in rows if r["key"] != BASELINE}
    if not any(r.get("orders_low") is not None and r.get("orders_high") is not None for r in by_key.values()):
        return None
    hits = notes = 0
    for key, true_orders in truth.items():
        if true_orders < min_true:
            continue
        notes += 1
        row = by_key.get(key)
        if row is not None and row.get("orders_low") is not None and row.get("orders_high") is not None:
            hits += int(row["orders_low"] <= true_orders <= row["orders_high"])
    return {"share": hits / notes if notes else None, "covered": hits, "notes": notes}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def build(kind: str, seed: int, args: argparse.Namespace) -> tuple[Path, Path, dict[str, float]]:
    """Simulate and ingest one world (or reuse it); returns the world, the lake and timings."""
    root = Path(args.out) / f"{kind}-seed-{seed}-u{args.users}-d{args.days}-b{args.brands}"
    world, lake = root / "world", root / "lake"
    timings: dict[str, float] = {}
    done = root / "ingested"
    if args.reuse and done.exists():
        return world, lake, timings
    shutil.rmtree(root, ignore_errors=True)
    began = time.perf_counter()
    summary = hongmao.simulate(world, seed=seed, users=args.users, days=args.days, brands=args.brands, world=kind)
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

    wanted = [m for m in PATH_MODELS if m in models]
    if wanted:
        per_brand("all", wanted)
    if diagnose:
        rows, _ = journey_paths(session, j, touch, conv, by)
        out["markov/pooled"] = {c.channel: c.conversions for c in attribute_paths(rows, "markov")} if rows else {}
        per_brand("windowed", ["markov"])
    return out, total


def hazard_errors(session: Session, truths: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The hazard model fitted once per world, credited by note and by creator; ``(baseline)`` is no note. Each
    ``--hazard-credit`` variant credits the same fits another way (row ``hazard~option=value``)."""
    ev = session.events
    conv = tables.conversions(ev)
    touch = tables.touches(ev, parse_kinds(None))
    total = int(session.scalar(conv.count()))
    p = check_params(HAZARD_PARAMS)
    lake = gather(session, ev, conv, touch, int(p["horizon_days"]), float(p["utc_offset_hours"]))
    fitted = list(brand_shares(lake, **HAZARD_PARAMS))
    out: dict[str, dict[str, Any]] = {}
    variants: list[tuple[str, Any]] = [(BASELINE_MODEL, fitted)]
    for options in HAZARD_CREDIT:
        credit_step = {k: v for k, v in HAZARD_PARAMS.items() if k in CREDIT_PARAMS} | options
        variants.append((credit_variant(options), [reshare(b, **credit_step) for b in fitted]))
    for name, brands in variants:
        for by, result in credit_shares(brands, GROUPINGS).items():
            credited = {r["key"]: r["orders"] for r in result.rows if r["key"] != BASELINE}
            err = credit_error(truths[by], credited, total).to_dict()
            err["baseline_orders"] = result.baseline
            err["fits"] = result.fits if by == "note" and name == BASELINE_MODEL else {}
            if by == "note":
                err["coverage_by_note"] = note_coverage(result.rows, truths[by].by_key)
            out[f"{name}|{by}"] = err
    return out


def attribution_errors(
    session: Session, truths: dict[str, Any], models: tuple[str, ...], *, diagnose: bool
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for by in GROUPINGS:
        for model in models:
            if model in PATH_MODELS or model == BASELINE_MODEL:
                continue
            try:
                options = DATADRIVEN_PARAMS[by] if model == "datadriven" else None
                result = attribute(session, model=model, by=by, datadriven=options)
            except HongmaoError as exc:  # a model that cannot run on this world is reported, not fatal
                log(f"  {model} by {by}: {exc}")
                continue
            credited = {r["key"]: r["orders"] for r in result.rows if r["key"] != BASELINE}
            err = credit_error(truths[by], credited, result.orders).to_dict()
            if result.baseline_orders is not None:
                err["baseline_orders"] = result.baseline_orders
            if by == "note":
                err["coverage_by_note"] = note_coverage(result.rows, truths[by].by_key)
            out[f"{model}|{by}"] = err
        credits, total = data_driven(session, by, models, diagnose)
        for model, credited in credits.items():
            out[f"{model}|{by}"] = credit_error(truths[by], credited, total).to_dict()
    if BASELINE_MODEL in models:
        out.update(hazard_errors(session, truths))
    return out


def lift_rows(session: Session, world: Path, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = api.holdout_key_from_world(world)
    rows = []
    by_campaign: dict[str, list[tuple[dict[str, Any], float]]] = defaultdict(list)
    for o in orders:
        # the share of the order the campaign's notes made happen: its removal effect where the truth has it
        # (interacting worlds), else whether a campaign note caused it (additive: the same in expectation)
        effects = o.get("campaign_effect")
        if effects is not None:
            for cid, share in effects.items():
                by_campaign[cid].append((o, float(share)))
        elif o.get("campaign_id"):
            by_campaign[o["campaign_id"]].append((o, 1.0))
    for c in read_jsonl(world / "truth" / "campaigns.jsonl"):
        result = campaign_lift(session, c["campaign_id"], key)
        end = result.window_end
        inside = [(o, s) for o, s in by_campaign[c["campaign_id"]] if datetime.fromisoformat(o["time"]) <= end]
        true_orders = math.fsum(s for _, s in inside)
        true_gmv = math.fsum(o["amount"] * s for o, s in inside)
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


def run_seed(kind: str, seed: int, args: argparse.Namespace, models: tuple[str, ...]) -> dict[str, Any]:
    world, lake, timings = build(kind, seed, args)
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
        "world": kind,
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


def pooled_coverage(judged: Sequence[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Per-seed :func:`note_coverage` figures pooled (notes of all seeds together); None if any seed has none."""
    if not judged or any(j is None for j in judged):
        return None
    covered = sum(j["covered"] for j in judged if j is not None)
    notes = sum(j["notes"] for j in judged if j is not None)
    return {"share": covered / notes if notes else None, "covered": covered, "notes": notes}


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.fmean(values):.3f} ± {statistics.stdev(values):.3f}"


def print_tables(kind: str, results: list[dict[str, Any]], models: tuple[str, ...]) -> dict[str, Any]:
    names = (*models, *DIAGNOSTICS, f"{FLOOR}last", f"{FLOOR}linear")
    summary: dict[str, Any] = {}
    print(f"\n===== world kind: {kind} — seeds {', '.join(str(r['seed']) for r in results)} =====")
    for field, title in (
        ("errors", "Misplaced share of credit (total-variation distance to the true causal shares), all orders"),
        ("errors_caused", "Misplaced share, caused orders only (organic orders removed from the lake)"),
    ):
        if not results[0][field]:
            continue
        print(f"\n{title} — mean ± sd over {len(results)} seeds; ratio = model / last")
        print(f"{'model':<24} {'by note':>16} {'ratio':>6}   {'by creator':>16} {'ratio':>6}")
        for name in names:
            if any(f"{name}|{by}" not in r[field] for r in results for by in GROUPINGS):
                continue
            cells = []
            for by in GROUPINGS:
                vals = [r[field][f"{name}|{by}"]["misplaced_share"] for r in results]
                last = [r[field][f"last|{by}"]["misplaced_share"] for r in results]
                ratio = statistics.fmean(vals) / statistics.fmean(last)
                summary[f"{field}|{name}|{by}"] = {"mean": statistics.fmean(vals), "ratio_to_last": ratio}
                cells.append(f"{mean_sd(vals):>16} {ratio:>6.2f}")
            print(f"{name:<24} {cells[0]}   {cells[1]}")
    print("\nMisplaced with organic (organic orders credited to notes count as misplaced), all orders, by note")
    for name in names:
        if any(f"{name}|note" not in r["errors"] for r in results):
            continue
        vals = [r["errors"][f"{name}|note"]["misplaced_with_organic"] for r in results]
        excess = [r["errors"][f"{name}|note"]["excess_credit"] for r in results]
        print(f"{name:<24} {mean_sd(vals):>16}   credit beyond caused orders {statistics.fmean(excess):>8,.0f}")
    print(
        f"\nInterval coverage of per-note credits: share of notes with >= {COVERAGE_MIN_TRUE:g} true credited "
        f"orders whose {COVERAGE_LEVEL:.0%} interval holds the truth (goal >= 80%), pooled over seeds"
    )
    for name in names:
        judged = [r["errors"][f"{name}|note"].get("coverage_by_note") for r in results if f"{name}|note" in r["errors"]]
        if not judged:
            continue
        pooled = pooled_coverage(judged)
        summary[f"coverage_by_note|{name}"] = pooled
        if pooled is None:
            print(f"{name:<24} {'— (no intervals)':>16}")
        elif pooled["share"] is None:
            print(f"{name:<24} {'— (no note judged)':>16}")
        else:
            print(f"{name:<24} {pooled['share']:>16.1%}   {pooled['covered']}/{pooled['notes']} notes")
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
            if not x["covered"]:
                print(
                    f"   {x['campaign_id']:<18} {x['estimate']:>8.1f} [{lo:>7.1f}, {hi:>7.1f}]  "
                    f"true {x['true_orders']:>7.1f} (all {x['true_orders_all']:>4})   <- missed"
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
        for name in (m for m in models if m.split("~")[0] == BASELINE_MODEL):
            if f"{name}|note" in r["errors"] and "baseline_orders" in r["errors"][f"{name}|note"]:
                organic = r["orders"] - r["incremental_orders"]
                base = r["errors"][f"{name}|note"]["baseline_orders"]
                print(f"seed {r['seed']} {name}: baseline {base:,.0f}, organic {organic:,}")

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


def seed_list(text: str, flag: str) -> list[int]:
    try:
        seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"{flag} must be comma-separated whole numbers, got {text!r}") from None
    if not seeds:
        raise SystemExit(f"{flag} names no seed")
    return seeds


def print_summary(summaries: dict[str, dict[str, Any]], models: tuple[str, ...]) -> None:
    """Every model on every world kind: misplaced share by note / by creator as a ratio to last-click."""
    kinds = list(summaries)
    print("\n===== summary: misplaced share as a ratio to last-click, by note / by creator (mean over seeds) =====")
    print(f"{'model':<24} " + " ".join(f"{k:>17}" for k in kinds))
    for name in (*models, f"{FLOOR}last", f"{FLOOR}linear"):
        cells = []
        for k in kinds:
            note, creator = (summaries[k].get(f"errors|{name}|{by}") for by in GROUPINGS)
            cells.append(
                f"{note['ratio_to_last']:>8.2f} /{creator['ratio_to_last']:>6.2f}" if note and creator else f"{'—':>17}"
            )
        print(f"{name:<24} " + " ".join(cells))
    print(
        f"{'last (share)':<24} "
        + " ".join(
            f"{summaries[k]['errors|last|note']['mean']:>8.3f} /{summaries[k]['errors|last|creator']['mean']:>6.3f}"
            for k in kinds
        )
    )
    print(f"{'lift coverage':<24} " + " ".join(f"{summaries[k]['lift']['orders_coverage']:>17.0%}" for k in kinds))
    for name in models:
        pooled = [summaries[k].get(f"coverage_by_note|{name}") for k in kinds]
        if all(p is None for p in pooled):
            continue
        cells = [
            f"{'—':>17}" if p is None or p["share"] is None else f"{p['share']:>7.0%} of {p['notes']:>6}"
            for p in pooled
        ]
        print(f"{'coverage ' + name:<24} " + " ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", default=",".join(WORLDS), help="comma-separated world kinds")
    parser.add_argument("--seeds", default=REPORTED_SEEDS, help="reported seeds, comma-separated")
    parser.add_argument("--dev-seeds", default=DEV_SEEDS, help="development seeds, comma-separated")
    parser.add_argument("--dev", action="store_true", help="run the development seeds instead of the reported ones")
    parser.add_argument("--users", type=int, default=3_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--brands", type=int, default=6)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated models (default: all registered)")
    parser.add_argument("--out", default="bench/out/accuracy")
    parser.add_argument("--reuse", action="store_true", help="keep simulated worlds and lakes between runs")
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--diagnose", action="store_true", help="add caused orders only and Markov variants")
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=DATADRIVEN_PARAMS["note"]["bootstrap"],
        help="datadriven's bootstrap refits for its per-note intervals (0: none; coverage then not scored)",
    )
    parser.add_argument("--hazard", default="{}", help='hazard options as JSON, e.g. {"frailty": true}')
    parser.add_argument(
        "--hazard-credit",
        default="[]",
        help='credit-step variants scored on the same hazard fits, a JSON list, e.g. [{"shapley_days": 1}]',
    )
    args = parser.parse_args()
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    DATADRIVEN_PARAMS["note"]["bootstrap"] = args.bootstrap
    try:
        HAZARD_PARAMS.update(json.loads(args.hazard))
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise SystemExit(f"--hazard must be a JSON object of hazard options: {exc}") from exc
    try:
        HAZARD_CREDIT.extend(json.loads(args.hazard_credit))
        if not all(isinstance(v, dict) for v in HAZARD_CREDIT):
            raise TypeError("every variant must be a JSON object")
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise SystemExit(f"--hazard-credit must be a JSON list of objects of credit options: {exc}") from exc
    if HAZARD_CREDIT and BASELINE_MODEL not in models:
        raise SystemExit("--hazard-credit needs the hazard model in --models")
    if "last" not in models:
        raise SystemExit("--models must include last (the reference)")
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise SystemExit(f"unknown models {', '.join(unknown)}; registered: {', '.join(MODELS)}")
    kinds = [k.strip() for k in args.worlds.split(",") if k.strip()]
    bad = [k for k in kinds if k not in WORLDS]
    if bad or not kinds:
        raise SystemExit(f"unknown world kinds {', '.join(bad)}; known: {', '.join(WORLDS)}")
    reported, dev = seed_list(args.seeds, "--seeds"), seed_list(args.dev_seeds, "--dev-seeds")
    if set(reported) & set(dev):
        raise SystemExit(f"development and reported seeds overlap: {sorted(set(reported) & set(dev))}")
    seeds, stage = (dev, "development") if args.dev else (reported, "reported")
    print(
        f"{stage} seeds {', '.join(map(str, seeds))} (development: {', '.join(map(str, dev))}; "
        f"reported: {', '.join(map(str, reported))}); worlds {', '.join(kinds)}; "
        f"{args.users:,} people x {args.days} days, {args.brands} brands; models {', '.join(models)}"
    )
    shown = (*models, *(credit_variant(v) for v in HAZARD_CREDIT))  # the rows printed: models, then variants
    began = time.perf_counter()
    results: dict[str, list[dict[str, Any]]] = {}
    summaries: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        for seed in seeds:
            log(f"{kind} seed {seed}: simulate, ingest, attribute, lift ...")
            result = run_seed(kind, seed, args, models)
            log("  " + ", ".join(f"{k} {v:.1f}s" for k, v in result["timings"].items()))
            results.setdefault(kind, []).append(result)
        summaries[kind] = print_tables(kind, results[kind], shown)
    print_summary(summaries, shown)
    wall = time.perf_counter() - began
    print(
        f"\nwall time {wall:.0f} s for {len(kinds)} world kinds x {len(seeds)} {stage} seeds "
        f"({args.users:,} people x {args.days} days, {args.brands} brands)"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"args": vars(args), "stage": stage, "results": results, "summary": summaries, "wall_s": wall},
                indent=1,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
