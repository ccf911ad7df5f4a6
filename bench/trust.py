"""Precision and recall of the trust guard's flags against the simulator's planted truth, across seeds.

    python bench/trust.py                                   # reported seeds 201-203 of the default world
                                                            # (10,000 people, 30 days, the three ring styles)
    python bench/trust.py --rings careful                   # a world whose rings are all careful ones
    python bench/trust.py --rings diffuse --seeds 3,11      # the stress style written after the detector
    python bench/trust.py --world saturating --seeds 201    # another world kind (hongmao.sim.worlds)
    python bench/trust.py --seeds 7 --reuse                 # one seed, keeping worlds and lakes in --out
    python bench/trust.py --users 30000 --days 60 --seeds 1 # a bigger world: more evidence per creator
    python bench/trust.py --json bench/out/trust.json       # also write every figure as JSON

Each seed: simulate the world, ingest it into a fresh lake, run ``hongmao.trust.report`` and compare its flags
with ``truth/notes.jsonl``, ``truth/creators.jsonl`` and ``truth/fake_accounts.jsonl``. The truths:

* ``undisclosed`` (notes): the rule as the issue states it — a note tied to a brand (paid for, boosted, or carrying
  a shoppable link) without the label: ``not disclosed and (sponsored or boosted or links)``, less the notes paid
  off-platform (``offplatform`` in the truth: no record exists, so they are scored as ``suspected`` instead).
  Shown again against the planted hidden ads alone (``sponsored and not disclosed``, recall only: a creator's
  own unlabelled link is a violation of the rule but not a hidden ad), split by whether the brand's record names
  the note (campaign notes) or not (private deals, matched by creator, brand and time).
* ``undisclosed`` (creators): the creator published at least one hidden ad.
* ``deceptive``: ``deceptive`` in the truth. Recall is also shown on the notes and creators with enough evidence
  to be judged at all: at least ``--evaluable`` orders truly caused by their deceptive notes (recall only: the
  precision of the flag is the row above).
* ``fake_engagement``: notes of creators who buy fake engagement, those creators, and the fake accounts; recall
  per ring style (``style`` in ``truth/fake_accounts.jsonl``, ``ring_style`` in ``truth/creators.jsonl``).
* ``suspected`` (sponsored notes): the notes paid off-platform (``offplatform`` in the truth); also how many of
  them the evidenced flag catches, and how many notes carry both (must be 0). The class alone on bigger worlds,
  without ingesting a lake: ``bench/trust_suspected.py --users 85000``.
* deceptive creators: the flag among creators with at least ``--evaluable`` credited orders (the report's own
  count), the watch list (flags included) against all deceptive creators, precision at 5/10/20 of the creators
  ranked by their pooled ``P(deceptive)`` (the excess score when a report has none), and that ranking's AUC
  (shown in the precision column). The simulator varies deception (strength per creator, refund rates per
  category, agencies mixing honest and deceptive creators); development seeds 3 and 11, reported 201-203.

``--ceiling`` adds how far the deceptive flag could go on the same world: the same score and flag rule fed with
credit no real system has — the simulator's true intent shares of every caused order (which notes persuaded the
buyer, and how much), and its drawn cause (the one note that made the sale) — each at the default policy and at
looser ones (lower posterior level, no minimum of credited orders). Outcomes, exposure and item baselines are the
lake's, exactly as the report uses them; only the credit changes.

Figures go to docs/trust.md by hand, with the command.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hongmao.sim.config import WorldConfig
from hongmao.sim.rings import RING_STYLES

if TYPE_CHECKING:
    from hongmao.trust.shrinkage import ScoreRules


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


#: World kinds by their rings: the default world's styles together, or any one style alone (``diffuse``, a stress
#: style written after the detector, is in no default world).
RINGS = {"mixed": WorldConfig().ring_styles, **{name: (name,) for name in RING_STYLES}}


def build(
    out: Path,
    seed: int,
    users: int,
    days: int,
    brands: int,
    reuse: bool,
    rings: str = "mixed",
    kind: str = "additive",
) -> tuple[Path, Path]:
    """Simulate and ingest one world (or reuse what is already in ``out``)."""
    import hongmao

    name = f"{rings}-{seed}" if kind == "additive" else f"{kind}-{rings}-{seed}"
    world, lake = out / f"world-{name}", out / f"lake-{name}"
    stamp = out / f"lake-{name}.done"
    wanted = f"{seed} {users} {days} {brands} {rings} {kind}"
    if reuse and stamp.exists() and stamp.read_text().strip() == wanted:
        return world, lake
    import shutil

    shutil.rmtree(lake, ignore_errors=True)
    config = WorldConfig(ring_styles=RINGS[rings], world=kind)
    summary = hongmao.simulate(world, seed=seed, users=users, days=days, brands=brands, config=config)
    report = hongmao.ingest([str(p) for p in summary.files], lake)
    if report.rejected:
        raise SystemExit(f"seed {seed}: {report.rejected} events rejected")
    stamp.write_text(wanted + "\n")
    return world, lake


def prf(flagged: set[str], truth: set[str], recall_only: bool = False) -> dict[str, Any]:
    tp = len(flagged & truth)
    return {
        "flagged": len(flagged) if not recall_only else tp,
        "true": len(truth),
        "tp": tp,
        "precision": tp / len(flagged) if flagged and not recall_only else None,
        "recall": tp / len(truth) if truth else None,
    }


def evaluate(world: Path, report: dict[str, Any], evaluable: int) -> dict[str, dict[str, Any]]:
    notes = {n["note_id"]: n for n in _lines(world / "truth" / "notes.jsonl")}
    creators = {c["creator_id"]: c for c in _lines(world / "truth" / "creators.jsonl")}
    fake_accounts = {a["user"] for a in _lines(world / "truth" / "fake_accounts.jsonl")}
    orders = _lines(world / "truth" / "orders.jsonl")

    def flagged(kind: str, flag: str) -> set[str]:
        return {e[f"{kind}_id"] for e in report[f"{kind}s"] if flag in e["flags"]}

    caused: Counter[str] = Counter()
    caused_by_creator: Counter[str] = Counter()
    for o in orders:
        cause = o.get("cause_note")
        if cause and notes[cause]["deceptive"]:
            caused[cause] += 1
            caused_by_creator[notes[cause]["creator_id"]] += 1

    # Off-platform notes (no record anywhere) are scored apart, as "suspected": the evidenced flag cannot see them.
    offplatform = {k for k, n in notes.items() if n.get("offplatform")}
    hidden = {k for k, n in notes.items() if n["sponsored"] and not n["disclosed"]} - offplatform
    private = {k for k in hidden if notes[k]["campaign_id"] is None}
    rule = {
        k for k, n in notes.items() if not n["disclosed"] and (n["sponsored"] or n["boosted"] or n["links"])
    } - offplatform
    hidden_creators = {notes[k]["creator_id"] for k in hidden}
    dec_notes = {k for k, n in notes.items() if n["deceptive"]}
    dec_creators = {k for k, c in creators.items() if c["deceptive"]}
    fake_notes = {k for k, n in notes.items() if n["fake_engagement"]}
    fake_creators = {k for k, c in creators.items() if c["buys_fake_engagement"]}
    evaluable_notes = {k for k in dec_notes if caused[k] >= evaluable}
    evaluable_creators = {k for k in dec_creators if caused_by_creator[k] >= evaluable}
    accounts = {a["user"] for a in report["accounts"].get("list", [])}

    un_notes, dn, dc = flagged("note", "undisclosed"), flagged("note", "deceptive"), flagged("creator", "deceptive")
    suspected = {e["note_id"] for e in report["notes"] if "sponsored" in e.get("suspected", [])}
    watch = {e["creator_id"] for e in report["creators"] if "deceptive" in e.get("watch", [])} | dc
    credited = {
        e["creator_id"]: (e["evidence"].get("deceptive") or {}).get("orders") or 0.0 for e in report["creators"]
    }
    credited_creators = {k for k in dec_creators if credited.get(k, 0.0) >= evaluable}
    flagged_credited = {k for k in dc if credited.get(k, 0.0) >= evaluable}
    styles = sorted({a["style"] for a in _lines(world / "truth" / "fake_accounts.jsonl")})
    by_style: dict[str, Any] = {}
    for style in styles:
        acc = {a["user"] for a in _lines(world / "truth" / "fake_accounts.jsonl") if a["style"] == style}
        cre = {k for k, c in creators.items() if c.get("ring_style") == style}
        by_style[f"fake_engagement accounts ({style} rings, recall)"] = prf(accounts, acc, recall_only=True)
        by_style[f"fake_engagement creators ({style} rings, recall)"] = prf(
            flagged("creator", "fake_engagement"), cre, recall_only=True
        )
    return {
        "undisclosed notes (the rule: paid, boosted or linked, unlabelled)": prf(un_notes, rule),
        "undisclosed notes (planted hidden ads)": prf(un_notes, hidden, recall_only=True),
        "undisclosed notes (hidden ads in campaigns: the record names the note)": prf(
            un_notes, hidden - private, recall_only=True
        ),
        "undisclosed notes (hidden ads from private deals: matched)": prf(un_notes, private, recall_only=True),
        "undisclosed creators": prf(flagged("creator", "undisclosed"), hidden_creators),
        "deceptive notes": prf(dn, dec_notes),
        f"deceptive notes (>= {evaluable} deceived orders)": prf(dn, evaluable_notes, recall_only=True),
        "deceptive creators": prf(dc, dec_creators),
        f"deceptive creators (>= {evaluable} deceived orders)": prf(dc, evaluable_creators, recall_only=True),
        "fake_engagement notes": prf(flagged("note", "fake_engagement"), fake_notes),
        "fake_engagement creators": prf(flagged("creator", "fake_engagement"), fake_creators),
        "fake_engagement accounts": prf(accounts, fake_accounts),
        **by_style,
        "suspected sponsored notes (paid off-platform, no record)": prf(suspected, offplatform),
        "undisclosed notes among the off-platform ones (recall only)": prf(un_notes, offplatform, recall_only=True),
        "suspected sponsored notes that are evidenced undisclosed too (must be 0)": prf(
            suspected & un_notes, set(), recall_only=True
        ),
        f"deceptive creators with >= {evaluable} credited orders (flag)": prf(flagged_credited, credited_creators),
        "deceptive creators (watch list, flags included)": prf(watch, dec_creators),
        **ranking(report, dec_creators),
    }


def ranking(report: dict[str, Any], truth: set[str]) -> dict[str, dict[str, Any]]:
    """Precision at k of the creators ranked by their pooled P(deceptive) (the excess score when the report has
    none), and the ranking's AUC (as a 'precision')."""

    def rank_value(e: dict[str, Any]) -> float | None:
        ev = e["evidence"].get("deceptive") or {}
        value = ev.get("p_deceptive", e.get("score"))
        return None if value is None else float(value)

    scored = [(v, e["creator_id"]) for e in report["creators"] if (v := rank_value(e)) is not None]
    scored.sort(key=lambda x: (-x[0], x[1]))
    out: dict[str, dict[str, Any]] = {}
    for k in (5, 10, 20):
        top = {c for _, c in scored[:k]}
        out[f"deceptive creators, precision at {k} by score"] = prf(top, truth)
    pos = [s for s, c in scored if c in truth]
    neg = [s for s, c in scored if c not in truth]
    auc = None
    if pos and neg:
        wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
        auc = wins / (len(pos) * len(neg))
    out["deceptive creators, AUC of the score (in the precision column)"] = {
        "flagged": len(scored),
        "true": len(truth),
        "tp": len(pos),
        "precision": auc,
        "recall": None,
    }
    return out


#: (posterior level, minimum credited orders) for the ceiling: the default policy first, then looser ones
POLICIES = ((0.8, 10.0), (0.8, 0.0), (0.6, 0.0), (0.5, 0.0))
CREDITS = ("engine credit (what Hongmao sees)", "true intent shares (oracle)", "drawn cause (oracle)")


def _flags_at(res: Any, level: float, min_orders: float) -> set[str]:
    """Keys of a DeceptiveResult flagged under another level and minimum (the fit does not depend on either)."""
    return {k for k, f in zip(res.keys, res.primary.flagged_at(level, min_orders), strict=True) if f}


def _truth_credit(orders: list[dict[str, Any]], owner: dict[str, str], how: str) -> list[dict[str, Any]]:
    """(order_id, key, weight) from the truth: each caused order's intent shares, or 1 to its drawn cause."""
    rows: defaultdict[tuple[str, str], float] = defaultdict(float)
    for o in orders:
        if how == "cause":
            if o.get("cause_note"):
                rows[(o["order_id"], owner[o["cause_note"]])] += 1.0
        else:
            for note, weight in zip(o["notes"], o["weights"], strict=True):
                rows[(o["order_id"], owner[note])] += float(weight)
    return [{"order_id": k[0], "key": k[1], "weight": v} for k, v in rows.items()]


def ceiling(world: Path, lake: Path, inputs: Any) -> dict[str, dict[str, Any]]:
    """Deceptive flags under the engine's credit and two oracle credits, at every policy of POLICIES."""
    from hongmao import api
    from hongmao.engine import trust_outcomes
    from hongmao.trust.report import deceptive_scores
    from hongmao.trust.shrinkage import ScoreRules

    notes = {n["note_id"]: n for n in _lines(world / "truth" / "notes.jsonl")}
    creators = {c["creator_id"]: c for c in _lines(world / "truth" / "creators.jsonl")}
    truth_orders = _lines(world / "truth" / "orders.jsonl")
    with api.engine_session(lake) as session:
        orders = session.rows(trust_outcomes.order_outcomes(session.events))
        end = session.scalar(trust_outcomes.data_end(session.events))
    out: dict[str, dict[str, Any]] = {}
    for by in ("note", "creator"):
        owner = {k: (k if by == "note" else n["creator_id"]) for k, n in notes.items()}
        truth = (
            {k for k, n in notes.items() if n["deceptive"]}
            if by == "note"
            else {k for k, c in creators.items() if c["deceptive"]}
        )
        results = {
            CREDITS[0]: inputs.deceptive_notes if by == "note" else inputs.deceptive_creators,
            CREDITS[1]: deceptive_scores(orders, _truth_credit(truth_orders, owner, "shares"), end, ScoreRules()),
            CREDITS[2]: deceptive_scores(orders, _truth_credit(truth_orders, owner, "cause"), end, ScoreRules()),
        }
        for name, res in results.items():
            for level, min_orders in POLICIES:
                flagged = _flags_at(res, level, min_orders) if res is not None else set()
                out[f"{by}s | {name} | level {level}, min orders {min_orders:g}"] = prf(flagged, truth)
    return out


def _table(per_seed: dict[int, dict[str, dict[str, Any]]], seeds: list[int], first: str) -> dict[str, Any]:
    """Print one markdown table of means (and minima) over seeds; return the means."""
    print(f"| {first} | precision (mean, min) | recall (mean, min) | flagged / true (sum) |")
    print("|---" * (first.count("|") + 4) + "|")
    summary: dict[str, Any] = {}
    for name in next(iter(per_seed.values())):
        ps = [per_seed[s][name]["precision"] for s in seeds if per_seed[s][name]["precision"] is not None]
        rs = [per_seed[s][name]["recall"] for s in seeds if per_seed[s][name]["recall"] is not None]
        flagged_sum = sum(per_seed[s][name]["flagged"] for s in seeds)
        true_sum = sum(per_seed[s][name]["true"] for s in seeds)
        p_mean = statistics.fmean(ps) if ps else None
        r_mean = statistics.fmean(rs) if rs else None
        summary[name] = {"precision": p_mean, "recall": r_mean, "flagged": flagged_sum, "true": true_sum}
        print(
            f"| {name} | {_fmt(p_mean)} ({_fmt(min(ps) if ps else None)}) | {_fmt(r_mean)} "
            f"({_fmt(min(rs) if rs else None)}) | {flagged_sum} / {true_sum} |"
        )
    return summary


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _hazard_option(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` of ``--hazard-option``: the value read as JSON (a number, true, null), else kept as text."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"--hazard-option wants NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def creator_flag_rules(level: float) -> ScoreRules:
    """The report's ScoreRules with creators flagged at pooled P(deceptive) >= ``level`` (PoolRules.creator_flag_level;
    notes keep theirs)."""
    from hongmao.trust.pooled import PoolRules
    from hongmao.trust.shrinkage import ScoreRules

    if not 0.0 < level <= 1.0:
        raise SystemExit(f"a creator flag level is a probability in (0, 1], got {level}")
    return ScoreRules(pooling=PoolRules(creator_flag_level=level))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--seeds",
        default="201,202,203",
        help="comma-separated seeds (reported: 201-203; 1, 3, 11 and 101-103 were used to tune the rules)",
    )
    parser.add_argument("--rings", default="mixed", choices=sorted(RINGS), help="the world's ring styles")
    parser.add_argument("--world", default="additive", help="the world kind (hongmao.sim.worlds.WORLD_KINDS)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--brands", type=int, default=6)
    parser.add_argument("--evaluable", type=int, default=10, help="deceived orders needed to count as evaluable")
    parser.add_argument("--out", type=Path, default=Path("bench/out/trust"))
    parser.add_argument("--reuse", action="store_true", help="keep and reuse worlds and lakes in --out")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--ceiling", action="store_true", help="also score deceptive flags with oracle credit")
    parser.add_argument(
        "--model", default="hazard", help="the credit route of the deceptive score (TrustParams; the report's default)"
    )
    parser.add_argument("--half-life", type=float, default=7.0, help="time_decay's half-life in days (TrustParams)")
    parser.add_argument(
        "--item-match",
        choices=("on", "off", "default"),
        default="default",
        help="sharpen the deceptive score's credit by the item each order bought (TrustParams.item_match)",
    )
    parser.add_argument(
        "--creator-flag-level",
        type=float,
        default=None,
        help="pooled P(deceptive) at which a creator is flagged (PoolRules.creator_flag_level; default: the report's)",
    )
    parser.add_argument(
        "--hazard-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the hazard route (TrustParams.hazard_options; hongmao.engine.hazard.DEFAULTS), repeatable",
    )
    args = parser.parse_args(argv)

    from hongmao.api import trust_inputs
    from hongmao.trust import TrustParams, assemble

    chosen: dict[str, Any] = {"model": args.model, "half_life_days": args.half_life}
    if args.item_match != "default":
        chosen["item_match"] = args.item_match == "on"
    if args.hazard_option:
        if args.model != "hazard":
            raise SystemExit("--hazard-option applies to --model hazard only")
        chosen["hazard_options"] = dict(_hazard_option(text) for text in args.hazard_option)
    if args.creator_flag_level is not None:
        chosen["score"] = creator_flag_rules(args.creator_flag_level)
    params = TrustParams(**chosen)

    args.out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    per_seed: dict[int, dict[str, dict[str, Any]]] = {}
    ceilings: dict[int, dict[str, dict[str, Any]]] = {}
    timings: dict[int, float] = {}
    for seed in seeds:
        world, lake = build(args.out, seed, args.users, args.days, args.brands, args.reuse, args.rings, args.world)
        started = time.perf_counter()
        inputs = trust_inputs(lake, params)
        rep = assemble(inputs, params, include_accounts=True)
        timings[seed] = time.perf_counter() - started
        per_seed[seed] = evaluate(world, rep, args.evaluable)
        if args.ceiling:
            ceilings[seed] = ceiling(world, lake, inputs)
        print(f"seed {seed}: trust report in {timings[seed]:.1f} s", file=sys.stderr)

    print(
        f"world: {args.world}, users={args.users} days={args.days} brands={args.brands} rings={args.rings}; "
        f"seeds {','.join(map(str, seeds))}"
    )
    print()
    summary = _table(per_seed, seeds, "flag (truth)")
    print()
    if args.ceiling:
        print("Deceptive flag: the same score fed with oracle credit, at the default and looser policies")
        print()
        summary["ceiling"] = _table(ceilings, seeds, "deceptive | credit | policy")
        print()
    print("trust report time per lake: " + ", ".join(f"seed {s} {t:.1f} s" for s, t in timings.items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "summary": summary,
                    "seeds": per_seed,
                    "ceiling": ceilings,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
