"""Variants of the deceptive-creator judgement (issue 21, item 2) side by side, on the same lakes.

    python bench/trust_deceptive.py --seeds 3,11 --reuse                  # development seeds
    python bench/trust_deceptive.py --world targeted --seeds 5,6 --reuse  # another world kind
    python bench/trust_deceptive.py --seeds 201,202,203 --reuse           # reported seeds, once, after choosing

Worlds and lakes are built (or reused with ``--reuse``) exactly as ``bench/trust.py`` builds them, in the same
``--out``. Each variant changes one thing in what ``hongmao.trust.report`` does for creators and is scored like
``bench/trust.py`` scores the report: the flag among deceptive creators with at least 10 credited orders, the
watch list (flags included) against all deceptive creators, precision at 10 and the AUC of the ranking. The
variants:

* ``report rule``: the report as it is (flag: pooled P(deceptive) >= 0.9, ``PoolRules.creator_flag_level``, or
  P(excess > 0.05) >= 0.8, on 10+ credited orders; watch: P(deceptive) >= 0.5 or P(excess) >= 0.5);
* ``flag: posterior alone``: the shrunk-excess view no longer flags (it still watches);
* ``flag and watch: posterior alone``;
* ``watch: + exposure-adaptive z >= Z``: also watch when the evidence (the LLR) lies Z standard deviations above
  what an honest creator with the same credited orders would show (its mean and variance under H0), a
  sequential threshold that adapts to exposure;
* ``evidence: ...``: the outcomes whose LLRs make the evidence (``r1``: 1-star reviews only; ``r3``: 3-star
  reviews; ``r12``: 1 star counts one, 2 stars half);
* ``evidence: mixture alternative``: the LLR averaged over excesses 0.0125-0.4 with weights fitted by empirical
  Bayes, instead of the single alternative 0.1;
* ``pooling: campaigns``: the creators of one campaign pooled instead of one agency (the brands' records name
  both); ``pooling: forced``: agency pooling without the 2-nat bar;
* ``credit: time_decay H``, ``credit: last touch``: the engine's time-decay credit (half-life H days) or
  last-touch credit instead of linear credit;
* ``watch: Bayesian FDR <= 0.3``: the watch list is the largest set, taken in order of the pooled posterior, whose
  expected share of honest creators (the mean of 1 - P(deceptive)) is at most 0.3, the watch goal's error; the
  flag is the posterior alone. Its realised precision against the nominal 0.7 shows how well calibrated the
  posterior is;
* ``credit: hazard``, ``credit: hazard, frailty``: the additive-hazard model's credit (``hongmao attribute
  --model hazard``, default parameters; with ``frailty``, a per-person Gamma frailty of the baseline): each order
  split between the touches before it and a baseline by their hazard terms, the baseline share credited to nobody,
  so a creator should hold less credit on buyers who would have bought anyway. It is the trust report's own
  hazard route (``TrustParams(model="hazard")``, :func:`hongmao.engine.trust_outcomes.hazard_credited`); its
  CPU seconds per lake are printed. ``--frailty`` adds the frailty variant (slower); ``--quick`` runs the report
  rule, hazard credit (with and without the Bayesian-FDR watch), the watch, evidence and cause-split variants
  named in ``QUICK``, the creator flag level 0.6 and both ceilings, without the rule credits;
* ``watch: 2+ bad buyers`` (``3+``): the watch also needs that many distinct orders with a bad outcome that
  credit the creator (:func:`hongmao.trust.pooled.bad_buyers`); ``watch: FDR <= q (flag as the report)``: the
  Bayesian-FDR watch (:func:`hongmao.trust.pooled.watch_line` with ``PoolRules(watch_fdr=q)``) with the report's
  own flag; ``watch: excess arm needs LLR > 0``: the P(excess) >= 0.5 arm watches only where the sequential
  evidence leans the same way; ``evidence: bad once``: the LLR of "not as described or 1-2 stars" counted once;
  ``over-dispersion correction``: ``ScoreRules(dispersion=True)``, the evidence and the orders divided by the
  honest majority's over-dispersion (:func:`hongmao.trust.pooled.overdispersion`; off by default);
* ``causes: EM split of ... credit`` (:func:`hongmao.trust.causes.split_causes`, the report's
  ``PoolRules(causes="em")``): each order's credit split among its credited creators and the baseline by how it
  turned out (a mixture fitted by EM to the bad outcome: creators' excess rates, items' norms), every outcome then
  judged under the posterior-weighted shares; ``damping``, ``rounds`` and ``prior`` are
  :class:`hongmao.trust.causes.CauseRules`. ``cross-fitted ... for the nad and low evidence only`` (the report's
  ``causes="em_cross"``): the pooled evidence's not-as-described LLR under the split fitted to low ratings and
  the low-rating LLR under the split fitted to refunds, the shrunk excess and the credited orders on the plain
  shares. The CPU seconds of the split per lake are printed;
* ``credit: the truth's cause``: a ceiling, not a rule. Every order a note caused (in the simulator's truth)
  credited wholly to that note's creator, organic orders to nobody: what the same judgement reaches when the
  credit that assigns orders to creators is exact, so the gap to the report rule is the part of the lost recall
  that the credit, not the evidence or the thresholds, accounts for;
* ``credit: the truth's intent shares``: a weaker ceiling, still not a rule. Every order a note caused split among
  its notes' creators by the truth's intent shares (each note's Shapley value in the buyer's purchase intensity,
  issue 20's definition of true credit), organic orders to nobody: what a credit model exact by issue 20's measure
  would give the judgement, with a little more (a model estimates which orders were organic; the truth knows). A
  credit that also reads what the buyer did (the item bought, as the report's item match does; the outcome) could
  go past it; the gap from here to the truth's cause is the order's draw among the notes that moved the buyer;
* ``creator flag level 0.6``: the flag at pooled P(deceptive) >= 0.6 instead of ``PoolRules.creator_flag_level``
  (``bench/trust.py --creator-flag-level``), under hazard credit and under the truth's intent shares.

Also printed, from the truth (diagnostics, not rules): the median days from order to a not-as-described
refund, for orders a deceptive note caused and for the others; and, per credit model, the share of the credit
held by deceptive creators that lies on orders they caused (the rest dilutes their evidence with buyers they
did not persuade); and, per credit and per route an order took in the truth (caused by a note or organic; via
search, a click, direct), the credit each order gives its true cause's creator and the credit it gives any
creator (organic orders have no cause: what they give is misplaced).

What the variants showed on the development worlds (additive seeds 3, 11; targeted seed 5), 2026-12-06: no
change of evidence (r1, r12, r3, ``bad`` once, the EB mixture), pooling or watch threshold moves the flag's
recall among 10+ credited orders by more than one creator; the truth's cause moves it from 0.45 to 0.86 (additive)
and 0.80 to 1.00 (targeted) at unchanged precision. Only about 30% of a deceptive creator's linear credit lies
on orders it caused, so most of its credited buyers were not deceived by it. Sharper engine credit (time_decay
1-3, last touch) recovers part of that recall but lets honest creators onto the watch list (precision 0.42-0.67),
and under exact credit the watch list's precision is still 0.54-0.61: the P(excess) >= 0.5 arm watches
thin-evidence honest creators, and the Bayesian-FDR list's realised precision falls below its nominal 0.7, so
the posterior is over-confident once credit is concentrated. Counting a buyer's not-as-described refund and low
rating once (``bad``) instead of summing them calms the over-confidence (an honest creator on 9 orders: 0.99 ->
0.77) but costs the targeted world two flags. A credit built for "whose note caused this purchase" (recency of
each touch and an organic share, fitted to the lake) is the open work; the thresholds are not the bottleneck.

Hazard credit against the report rule, 2026-12-06 (``--quick``, 10,000 people, 30 days, 6 brands, mixed rings,
loaded machine). The column "flag R, 10+ orders by linear credit" holds one population for every credit (hazard
credit holds fewer orders, which also shrinks its own flag denominator). Development seeds 3, 11: flag P / R
1.00 / 0.45 (rule) vs 1.00 / 0.62 (hazard), fixed population 0.45 vs 0.50; watch P / R 0.75 / 0.39 vs
0.53 / 0.47 (0.70 / 0.42 with the Bayesian-FDR watch); AUC 0.85 vs 0.86. Held-out seeds 201, 202, 203, run once:
flag 0.94 / 0.34 vs 0.92 / 0.70 (fixed population 0.34 vs 0.50); watch 0.76 / 0.49 vs 0.65 / 0.65 (FDR watch
0.68 / 0.67); precision at 10 0.87 vs 0.83; AUC 0.83 vs 0.88; the ceiling 0.94 / 0.88, watch 0.66 / 0.81. The
share of deceptive creators' credit on orders they caused rises from 0.30 to 0.38. The hazard route costs about
55 CPU-s per lake (the fit), the rule route a few.

The watch rule, 2026-12-07 (``--quick --cache``, 10,000 people, 30 days; development seeds additive 3, targeted
5, saturating 3, routes 3). Requiring two or three distinct unhappy buyers changes nothing: every watched creator
already has them (linear and hazard credit spread each creator over many orders), so the false watches are not
one-complaint creators. The over-dispersion of the evidence, measured on the honest majority with a trimmed
ratio of sums, is 1.00 on additive 3 but up to 1.6 (the ``bad`` outcome) on routes 3, and there dividing the
evidence by it cost a flag and two watches under each credit: off by default. What moves the watch list is its
line: the Bayesian-FDR watch (q = 0.3) with the report's own flag, pooled over the four development lakes, P / R
0.75 / 0.51 against 0.64 / 0.49 for the report rule under hazard credit, and 0.74 / 0.41 against 0.70 / 0.42
under linear credit, without changing any flag. Held-out seed 201 of each of the four kinds, run once after
that, does not confirm it: summed over the kinds the watch list is 0.76 / 0.62 (47 / 62 of 76) for the report
rule under hazard credit and 0.72 / 0.62 (47 / 65) with the FDR line; 0.70 / 0.49 and 0.70 / 0.39 under linear
credit. The flag (10+ credited orders): 0.91 / 0.40 linear, 0.96 / 0.60 hazard; precision at 10 0.80 / 0.83,
AUC 0.84 / 0.91. Seeds 201 and 202 together (eight lakes): watch 0.77 / 0.62 (hazard) against 0.71 / 0.62
with the FDR line, 0.77 / 0.51 against 0.75 / 0.45 (linear); flag 0.97 / 0.60 and 0.96 / 0.41. So the
report's own watch rule stays; the FDR line is there to try, not adopted.

The outcome-aware cause split, 2026-12-07 (``hongmao.trust.causes``; ``--quick --cache --out bench/out/dec``,
10,000 people, 30 days; counts summed over lakes; flag among 10+ credited, watch over all deceptive creators).
Development lakes additive 3, targeted 5, saturating 3, routes 3: report rule flag 1.00 / 0.45 (22/22/49), watch
0.70 / 0.42; full EM split of linear credit (``causes="em"``, damping 0.5, 3 rounds) flag 0.96 / 0.47, watch
0.63 / 0.43 (saturating flag 3 of 4 right); damping 1 flag 0.87 / 0.54; cross-fitted split of the evidence
only (``causes="em_cross"``) flag 1.00 / 0.47 (one more flag, on saturating; the other kinds unchanged), watch
0.70 / 0.42; hazard credit 1.00 / 0.63, with the full split 0.90 / 0.68 (saturating 5/7, routes 3/4), watch
0.62 / 0.50; the truth's cause 0.95 / 0.88. The split moves bad outcomes onto deceivers (additive 3, linear:
107 -> 121 of their credited bad outcomes, 142 at damping 1) but hardly the good orders, so the share of a
deceiver's credit on orders it caused rises only from 0.31 to 0.32 (0.33 at damping 1): the prior shares, not
the outcomes, hold the recall down, and reading an outcome under the shares it moved costs precision. Fixed
variant: ``em_cross``. Reported seeds 201 and 202 of each kind, run once after: rule 0.96 / 0.41 (46/48/113),
watch 0.77 / 0.51; ``em_cross`` 0.96 / 0.41, watch 0.77 / 0.50; ``em`` 0.95 / 0.47, watch 0.74 / 0.57; hazard
0.97 / 0.60, watch 0.77 / 0.62; hazard + ``em`` 0.97 / 0.62, watch 0.79 / 0.64; the truth's cause 0.97 / 0.87.
The split costs about 0.01 CPU-s a lake. It stays opt-in (``PoolRules(causes=...)``): no setting raised flag
recall at precision 0.9 on every development kind with the watch list at 0.7.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import trust as bench
from hongmao.trust.causes import CauseRules

GRID = (0.0125, 0.025, 0.05, 0.1, 0.2, 0.4)


def _days(a: Any, b: Any) -> float:
    return float((a - b).total_seconds() / 86_400.0)


class Lake:
    """One lake's orders, outcomes and credit, shaped as ``hongmao.trust.report.deceptive_scores`` shapes them."""

    def __init__(
        self, world: Path, lake: Path, credits: tuple[tuple[str, float], ...], hazards: dict[str, dict[str, Any]]
    ) -> None:
        from hongmao import api
        from hongmao.engine import trust_outcomes
        from hongmao.engine.trust import judge_accounts_in
        from hongmao.trust.report import TrustParams

        params = TrustParams()
        with api.engine_session(lake) as s:
            ev = s.events
            flagged = [a.user for a in judge_accounts_in(s, ev, params.engagement) if a.flagged]
            self.orders = s.arrow(trust_outcomes.order_outcomes(ev)).to_pylist()
            self.end = s.scalar(trust_outcomes.data_end(ev))
            self.rows: dict[str, list[dict[str, Any]]] = {}
            self.cpu: dict[str, float] = {}
            for model, half_life in (("linear", params.half_life_days), *credits):
                expr = trust_outcomes.credited(
                    ev, "creator", model=model, half_life_days=half_life, exclude_users=flagged or None
                )
                self.rows[credit_name(model, half_life)] = s.arrow(expr).to_pylist()
            for name, options in hazards.items():
                # the report's hazard route (hongmao.engine.trust_outcomes.hazard_credited), flagged accounts'
                # touches left out as the rule route leaves them out
                start = time.process_time()
                rows = trust_outcomes.hazard_credited(s, ev, ("creator",), exclude_users=flagged or None, **options)
                self.rows[name] = rows["creator"]
                self.cpu[name] = time.process_time() - start
            rv = ev.filter(ev.type == "market.review")
            reviews = s.arrow(rv.select(rv.order_id, rv.rating)).to_pylist()
            deals = ev.filter(ev.type == "collaboration.created")
            deals = deals.select(deals.creator_id, campaign=deals.data.cast("json")["campaign_id"].str)
            self.deals = s.arrow(deals).to_pylist()
        self.rating: dict[str, int] = {}
        for r in reviews:
            if r["rating"] is not None:
                self.rating[r["order_id"]] = min(int(r["rating"]), self.rating.get(r["order_id"], 9))
        creators = bench._lines(world / "truth" / "creators.jsonl")
        notes = {n["note_id"]: n for n in bench._lines(world / "truth" / "notes.jsonl")}
        self.truth = {c["creator_id"] for c in creators if c["deceptive"]}
        truth_orders = bench._lines(world / "truth" / "orders.jsonl")
        self.deceived = {
            o["order_id"] for o in truth_orders if o.get("cause_note") and notes[o["cause_note"]]["deceptive"]
        }
        # each order's route in the truth: (caused by a note or organic, the path it took: search, click, ...)
        self.route = {o["order_id"]: ("caused" if o.get("cause_note") else "organic", o["path"]) for o in truth_orders}
        # the ceiling: each note-caused order wholly to its cause's creator (groups as the report has them)
        self.cause = {o["order_id"]: notes[o["cause_note"]]["creator_id"] for o in truth_orders if o.get("cause_note")}
        group = {str(r["key"]): r.get("group") for r in self.rows["linear"]}
        self.rows["truth"] = [
            {"order_id": o, "key": c, "weight": 1.0, "group": group.get(c)} for o, c in self.cause.items()
        ]
        # a weaker ceiling: each note-caused order split by the truth's intent shares (the notes' Shapley values in
        # the buyer's purchase intensity, issue 20's definition of true credit), organic orders to nobody
        owner = {k: str(n["creator_id"]) for k, n in notes.items()}
        self.rows["truth shares"] = [
            {**r, "group": group.get(r["key"])} for r in bench._truth_credit(truth_orders, owner, "shares")
        ]

    def by_route(self, credit: str) -> dict[tuple[str, str], list[float]]:
        """Per truth route (caused or organic, path): [orders, credit to the true cause's creator, credit to any
        creator] summed over the orders, under ``credit``."""
        out: dict[tuple[str, str], list[float]] = {}
        for route in self.route.values():
            out.setdefault(route, [0.0, 0.0, 0.0])[0] += 1.0
        for r in self.rows[credit]:
            taken = self.route.get(r["order_id"])
            if taken is None:
                continue
            weight = float(r["weight"])
            out[taken][2] += weight
            if self.cause.get(r["order_id"]) == r["key"]:
                out[taken][1] += weight
        return out

    def caused_share(self, credit: str) -> float:
        """The share of deceptive creators' credit (under ``credit``) that lies on orders they caused."""
        rows = [r for r in self.rows[credit] if r["key"] in self.truth]
        total = sum(float(r["weight"]) for r in rows)
        return (
            sum(float(r["weight"]) for r in rows if self.cause.get(r["order_id"]) == r["key"]) / total if total else 0.0
        )


def credit_name(model: str, half_life: float) -> str:
    return model if model in ("linear", "last", "first") else f"{model} {half_life:g}"


def judge(lake: Lake, credit: str, variant: dict[str, Any]) -> dict[str, Any]:
    """The report's creator judgement under one variant: (keys, orders, scored, flagged, watched, ranking)."""
    from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

    import hongmao.trust.shrinkage as shrinkage
    from hongmao.trust import pooled as pm
    from hongmao.trust.report import WATCH_EXCESS_LEVEL
    from hongmao.trust.shrinkage import ScoreRules, outcome_exposure, score

    rules = ScoreRules(dispersion=variant.get("dispersion", False))
    orders, rows = lake.orders, lake.rows[credit]
    order_index = {o["order_id"]: i for i, o in enumerate(orders)}
    items = sorted({str(o["item_id"]) for o in orders})
    item_index = {it: i for i, it in enumerate(items)}
    category_of = {str(o["item_id"]): str(o.get("category")) for o in orders}
    cats = sorted(set(category_of.values()))
    item_group = np.array([cats.index(category_of[it]) for it in items], dtype=np.int64)
    item = np.array([item_index[str(o["item_id"])] for o in orders], dtype=np.int64)
    age = np.array([_days(lake.end, o["t"]) for o in orders])
    keys = sorted({str(r["key"]) for r in rows})
    key_index = {k: i for i, k in enumerate(keys)}
    group_of = {str(r["key"]): r.get("group") for r in rows}
    if variant.get("groups") == "campaign":
        first: dict[str, str] = {}
        for d in lake.deals:
            if d["campaign"] and d["creator_id"]:
                first[d["creator_id"]] = min(d["campaign"], first.get(d["creator_id"], d["campaign"]))
        group_of = {k: first.get(k) for k in keys}
    groups = [None if group_of.get(k) is None else str(group_of[k]) for k in keys]
    rr = [r for r in rows if r["order_id"] in order_index]
    credit_m = sparse.csr_matrix(
        (
            np.array([float(r["weight"]) for r in rr]),
            (np.array([order_index[r["order_id"]] for r in rr]), np.array([key_index[str(r["key"])] for r in rr])),
        ),
        shape=(len(orders), len(keys)),
    )
    scored = np.array([not k.startswith("(") for k in keys], dtype=np.bool_)
    rating = np.array([lake.rating.get(o["order_id"], 0) for o in orders])
    credit_for: dict[str, Any] = {}
    if "causes" in variant:
        plain = credit_m
        if not variant.get("cross_only"):
            credit_m = _split(lake, credit, orders, item, item_group, age, plain, scored, rules, variant["causes"])
        if variant.get("cross"):
            # cross-fitted: each outcome's evidence read under the split fitted to the other outcome, so an
            # outcome does not move the very shares it is then judged under
            credit_for["nad"] = _split(
                lake, credit, orders, item, item_group, age, plain, scored, rules, variant["causes"], "low"
            )
            credit_for["low"] = _split(
                lake, credit, orders, item, item_group, age, plain, scored, rules, variant["causes"], "nad"
            )
    outcomes: dict[str, tuple[Any, str]] = {
        "bad": (None, "bad"),
        "nad": (None, "nad"),
        "low": (None, "low"),
        "r1": ((rating == 1) * 1.0, "low"),
        "r3": ((rating == 3) * 1.0, "low"),
        "r12": (np.where(rating == 1, 1.0, np.where(rating == 2, 0.5, 0.0)), "low"),
    }
    wanted = {"bad", *variant.get("evidence", ("nad", "low"))}
    captured: dict[str, tuple[Any, ...]] = {}
    fits = {}
    # Wrapped to see each entry's baseline (for z and the mixture): looked up by name, as the module's own callers do.
    original: Callable[..., Any] = getattr(shrinkage, "log_likelihood_ratio")  # noqa: B009
    for name in sorted(wanted):
        given, timing = outcomes[name]
        y = given if given is not None else np.array([1.0 if o[name] else 0.0 for o in orders])
        delay = np.array(
            [_days(o[f"{timing}_t"], o["t"]) if o.get(f"{timing}_t") else np.nan for o in orders], dtype=np.float64
        )

        def capture(*args: Any, name: str = name) -> Any:
            captured[name] = args
            return original(*args)

        setattr(shrinkage, "log_likelihood_ratio", capture)  # noqa: B010
        try:
            fits[name] = score(
                name,
                y,
                item,
                outcome_exposure(age, delay, rules.maturity_days),
                credit_for.get(name, credit_m),
                rules,
                scored,
                item_group,
            )
        finally:
            setattr(shrinkage, "log_likelihood_ratio", original)  # noqa: B010
    if variant.get("dispersion"):
        phis = ", ".join(f"{n} {fits[n].meta['dispersion']:.2f}" for n in sorted(fits))
        print(f"dispersion under {credit} credit: {phis}", file=sys.stderr)
    evidence_names = variant.get("evidence", ("nad", "low"))
    if variant.get("mixture"):
        llr: Callable[..., Any] = getattr(pm, "log_likelihood_ratio")  # noqa: B009
        stack = np.stack([sum(llr(*captured[n][:4], a) for n in evidence_names) for a in GRID])
        evidence = _mixture(stack, scored)
    else:
        evidence = sum(fits[n].llr for n in evidence_names)
    pool_rules = rules.pooling if not variant.get("forced") else replace(rules.pooling, pooling_gain=0.0)
    pooled = pm.pool(np.asarray(evidence), scored, groups, pool_rules)
    post, p = pooled.posterior, fits["bad"]
    strong = post >= variant.get("creator_flag_level", rules.pooling.creator_flag_level)
    if not variant.get("flag_posterior_only"):
        strong = strong | (p.p_exceed >= rules.level)
    flagged = scored & strong & (p.orders >= rules.min_orders)
    suggestive = post >= rules.pooling.watch_level
    if "fdr" in variant:
        eligible = scored
        if "min_bad" in variant:
            bad_y = np.array([1.0 if o["bad"] else 0.0 for o in orders])
            eligible = eligible & (pm.bad_buyers(bad_y, credit_m) >= variant["min_bad"])
        suggestive = post >= pm.bayes_fdr_level(post, eligible, variant["fdr"])
    elif variant.get("excess_agrees"):
        # the shrunk-excess view watches only where the sequential evidence leans the same way (LLR > 0)
        suggestive = suggestive | ((p.p_exceed >= WATCH_EXCESS_LEVEL) & (pooled.llr > 0))
    elif not variant.get("watch_posterior_only"):
        suggestive = suggestive | (p.p_exceed >= WATCH_EXCESS_LEVEL)
    if "min_bad" in variant:
        # distinct buyers with a bad outcome behind the entity (hongmao.trust.pooled.bad_buyers)
        bad_y = np.array([1.0 if o["bad"] else 0.0 for o in orders])
        suggestive = suggestive & (pm.bad_buyers(bad_y, credit_m) >= variant["min_bad"])
    if "z" in variant:
        total = mean = var = 0.0
        for n in evidence_names:
            t, m, v = _null_moments(*captured[n])
            total, mean, var = total + t, mean + m, var + v
        z = (np.asarray(total) - mean) / np.sqrt(np.maximum(var, 1e-12))
        suggestive = suggestive | (z >= variant["z"])
    watched = scored & suggestive & (p.orders >= 1.0) & ~flagged
    return {"keys": keys, "orders": p.orders, "scored": scored, "flagged": flagged, "watched": watched, "rank": post}


CAUSE_CPU: dict[str, list[float]] = {}


def _split(
    lake: Lake,
    credit: str,
    orders: list[dict[str, Any]],
    item: Any,
    item_group: Any,
    age: Any,
    credit_m: Any,
    scored: Any,
    rules: Any,
    cause_rules: Any,
    outcome: str = "bad",
) -> Any:
    """The outcome-aware split of each order's credit (:func:`hongmao.trust.causes.split_causes`), as the report
    runs it with ``PoolRules(causes="em")``: the bad outcome, its exposure, the score's item norms."""
    from hongmao.trust.causes import split_causes
    from hongmao.trust.shrinkage import outcome_exposure

    start = time.process_time()
    y = np.array([1.0 if o[outcome] else 0.0 for o in orders])
    delay = np.array(
        [_days(o[f"{outcome}_t"], o["t"]) if o.get(f"{outcome}_t") else np.nan for o in orders], dtype=np.float64
    )
    f = outcome_exposure(age, delay, rules.maturity_days)
    fit = split_causes(y, item, f, credit_m, scored, item_group, cause_rules)
    CAUSE_CPU.setdefault(credit, []).append(time.process_time() - start)
    del lake
    return fit.credit


def _null_moments(y: Any, p_without: Any, credit: Any, n: int, alternative: float) -> tuple[Any, Any, Any]:
    """Per entity: the LLR, and its mean and variance if the entity's orders went bad at the baseline (H0)."""
    x = credit.data
    p0 = np.clip(p_without, 1e-6, 1 - 1e-6)
    p1 = np.clip(p0 + x * alternative, 1e-6, 1 - 1e-6)
    a, b = np.log(p1 / p0), np.log((1 - p1) / (1 - p0))
    yy = y[credit.row]
    out = [yy * a + (1 - yy) * b, p0 * a + (1 - p0) * b, p0 * (1 - p0) * (a - b) ** 2]
    return tuple(np.bincount(credit.col, weights=w, minlength=n) for w in out)  # type: ignore[return-value]


def _mixture(stack: Any, scored: Any, iterations: int = 500) -> Any:
    """log of the Bayes factor averaged over the alternatives in GRID, the weights (and the deceptive share)
    fitted by EM over the scored entities."""
    from scipy import special  # type: ignore[import-untyped, unused-ignore]

    lam = np.clip(stack, -30, 30)
    w, pi = np.full(len(GRID), 1 / len(GRID)), 0.1
    for _ in range(iterations):
        a = np.log(w)[:, None] + lam[:, scored]
        lbf = special.logsumexp(a, axis=0)
        post = special.expit(np.log(pi / (1 - pi)) + lbf)
        w = (np.exp(a - lbf) * post).sum(axis=1) + 1e-3
        w /= w.sum()
        pi = float(np.clip(post.mean(), 0.01, 0.5))
    return special.logsumexp(np.log(w)[:, None] + lam, axis=0)


def metrics(res: dict[str, Any], truth: set[str], fixed: set[str]) -> dict[str, Any]:
    """``fixed``: deceptive creators with 10+ orders under linear credit, one population for every credit (a
    credit that holds fewer orders also shrinks the flag's own denominator)."""
    keys = np.array(res["keys"])
    dec = np.array([k in truth for k in keys])
    scored, orders, flagged = res["scored"], res["orders"], res["flagged"]
    credited = scored & (orders >= 10)
    f = flagged & credited
    watch = flagged | res["watched"]
    rank = res["rank"][scored]
    d = dec[scored]
    order = np.lexsort((keys[scored], -rank))
    pos, neg = rank[d], rank[~d]
    auc = float(np.mean([(pp > nn) + 0.5 * (pp == nn) for pp in pos for nn in neg])) if len(pos) and len(neg) else None
    return {
        "flag": (int((f & dec).sum()), int(f.sum()), int((credited & dec).sum())),
        "watch": (int((watch & dec).sum()), int(watch.sum()), len(truth)),
        "fixed": (len(set(keys[flagged].tolist()) & fixed), 0, len(fixed)),
        "p10": float(d[order[:10]].mean()),
        "auc": auc,
    }


VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "report rule": ("linear", {}),
    "flag: posterior alone": ("linear", {"flag_posterior_only": True}),
    "flag and watch: posterior alone": ("linear", {"flag_posterior_only": True, "watch_posterior_only": True}),
    "watch: + exposure-adaptive z >= 1.64": ("linear", {"z": 1.64}),
    "watch: + exposure-adaptive z >= 2.33": ("linear", {"z": 2.33}),
    "evidence: nad + r1 (1 star only)": ("linear", {"evidence": ("nad", "r1")}),
    "evidence: nad + r12 (2 stars count half)": ("linear", {"evidence": ("nad", "r12")}),
    "evidence: nad + low + r3 (3 stars too)": ("linear", {"evidence": ("nad", "low", "r3")}),
    "evidence: bad (nad or low, once)": ("linear", {"evidence": ("bad",)}),
    "evidence: mixture alternative (EB)": ("linear", {"mixture": True}),
    "pooling: campaigns instead of agencies": ("linear", {"groups": "campaign"}),
    "pooling: agencies, forced (no 2-nat bar)": ("linear", {"forced": True}),
    "credit: time_decay 3": ("time_decay 3", {}),
    "credit: time_decay 3, flag posterior alone": ("time_decay 3", {"flag_posterior_only": True}),
    "credit: time_decay 7": ("time_decay 7", {}),
    "credit: time_decay 1": ("time_decay 1", {}),
    "credit: last touch": ("last", {}),
    "watch: Bayesian FDR <= 0.3, flag posterior alone": ("linear", {"fdr": 0.3, "flag_posterior_only": True}),
    "credit: time_decay 1, watch: Bayesian FDR <= 0.3": ("time_decay 1", {"fdr": 0.3, "flag_posterior_only": True}),
    "credit: hazard": ("hazard", {}),
    "credit: hazard, frailty": ("hazard frailty", {}),
    "credit: hazard, watch: Bayesian FDR <= 0.3": ("hazard", {"fdr": 0.3, "flag_posterior_only": True}),
    "watch: 2+ bad buyers": ("linear", {"min_bad": 2}),
    "watch: posterior alone, 2+ bad buyers": ("linear", {"watch_posterior_only": True, "min_bad": 2}),
    "watch: FDR <= 0.3 over 2+ bad buyers": ("linear", {"fdr": 0.3, "min_bad": 2}),
    "credit: hazard, watch: 2+ bad buyers": ("hazard", {"min_bad": 2}),
    "credit: hazard, watch: posterior alone, 2+ bad buyers": ("hazard", {"watch_posterior_only": True, "min_bad": 2}),
    "credit: hazard, watch: FDR <= 0.3 over 2+ bad buyers": ("hazard", {"fdr": 0.3, "min_bad": 2}),
    "credit: hazard, watch: 3+ bad buyers": ("hazard", {"min_bad": 3}),
    "watch: FDR <= 0.3 (flag as the report)": ("linear", {"fdr": 0.3}),
    "watch: FDR <= 0.2 (flag as the report)": ("linear", {"fdr": 0.2}),
    "watch: excess arm needs LLR > 0": ("linear", {"excess_agrees": True}),
    "credit: hazard, watch: FDR <= 0.3 (flag as the report)": ("hazard", {"fdr": 0.3}),
    "credit: hazard, watch: FDR <= 0.2 (flag as the report)": ("hazard", {"fdr": 0.2}),
    "credit: hazard, watch: excess arm needs LLR > 0": ("hazard", {"excess_agrees": True}),
    "credit: hazard, evidence: bad once": ("hazard", {"evidence": ("bad",)}),
    "credit: hazard, evidence: bad once, watch: FDR <= 0.3": ("hazard", {"evidence": ("bad",), "fdr": 0.3}),
    "evidence: bad once, watch: FDR <= 0.3": ("linear", {"evidence": ("bad",), "fdr": 0.3}),
    "evidence: over-dispersion correction (rejected)": ("linear", {"dispersion": True}),
    "credit: hazard, evidence: over-dispersion correction (rejected)": ("hazard", {"dispersion": True}),
    "causes: EM split of linear credit": ("linear", {"causes": CauseRules()}),
    "causes: EM split of linear credit, damping 1": ("linear", {"causes": CauseRules(damping=1.0)}),
    "causes: EM split of linear credit, damping 1, 10 rounds": (
        "linear",
        {"causes": CauseRules(damping=1.0, iterations=10)},
    ),
    "causes: EM split of linear credit, damping 0.3, 1 round": (
        "linear",
        {"causes": CauseRules(damping=0.3, iterations=1)},
    ),
    "causes: EM split of linear credit, cross-fitted (nad by low, low by nad)": (
        "linear",
        {"causes": CauseRules(), "cross": True},
    ),
    "causes: EM split of linear credit, damping 1, cross-fitted": (
        "linear",
        {"causes": CauseRules(damping=1.0), "cross": True},
    ),
    "causes: EM split of hazard credit, damping 1, cross-fitted": (
        "hazard",
        {"causes": CauseRules(damping=1.0), "cross": True},
    ),
    "causes: cross-fitted EM split of linear credit for the nad and low evidence only": (
        "linear",
        {"causes": CauseRules(), "cross": True, "cross_only": True},
    ),
    "causes: cross-fitted EM split (damping 1) of linear credit for the nad and low evidence only": (
        "linear",
        {"causes": CauseRules(damping=1.0), "cross": True, "cross_only": True},
    ),
    "causes: cross-fitted EM split (damping 1) of hazard credit for the nad and low evidence only": (
        "hazard",
        {"causes": CauseRules(damping=1.0), "cross": True, "cross_only": True},
    ),
    "causes: EM split of linear credit, prior 100 orders": ("linear", {"causes": CauseRules(prior_orders=100.0)}),
    "causes: EM split of hazard credit, prior 100 orders": ("hazard", {"causes": CauseRules(prior_orders=100.0)}),
    "causes: EM split of hazard credit": ("hazard", {"causes": CauseRules()}),
    "causes: EM split of hazard credit, damping 1": ("hazard", {"causes": CauseRules(damping=1.0)}),
    "credit: the truth's cause (ceiling, not a rule)": ("truth", {}),
    "credit: the truth's intent shares (ceiling, not a rule)": ("truth shares", {}),
    "credit: the truth's intent shares, creator flag level 0.6": ("truth shares", {"creator_flag_level": 0.6}),
    "credit: hazard, creator flag level 0.6": ("hazard", {"creator_flag_level": 0.6}),
    "credit: the truth's cause, watch: Bayesian FDR <= 0.3": ("truth", {"fdr": 0.3, "flag_posterior_only": True}),
}
# the report's hazard route: its parameters as TrustParams(model="hazard") runs them (the engine's defaults)
HAZARDS: dict[str, dict[str, Any]] = {
    "hazard": {},
    "hazard frailty": {"frailty": True},
}
QUICK = {
    "report rule",
    "credit: hazard",
    "credit: hazard, watch: Bayesian FDR <= 0.3",
    "credit: the truth's cause (ceiling, not a rule)",
    "credit: the truth's intent shares (ceiling, not a rule)",
    *(name for name in VARIANTS if "creator flag level" in name),
    *(name for name, (_, variant) in VARIANTS.items() if {"min_bad", "excess_agrees", "dispersion"} & set(variant)),
    *(name for name in VARIANTS if "(flag as the report)" in name or "bad once" in name),
    *(name for name in VARIANTS if name.startswith("causes:")),
}
#: the layout of a cached Lake; raised when Lake gains rows or fields (2: the truth's intent shares and routes)
CACHE_VERSION = 2
CREDITS = (("time_decay", 1.0), ("time_decay", 3.0), ("time_decay", 7.0), ("last", 7.0))


def _lake(
    args: argparse.Namespace,
    world: Path,
    lake_dir: Path,
    credits: tuple[tuple[str, float], ...],
    hazards: dict[str, dict[str, Any]],
) -> Lake:
    """The lake's credit rows, computed or (``--cache``) read back from a pickle this bench wrote next to it."""
    import pickle

    from hongmao.engine.hazard import check_params

    # the routes' parameters (the engine's defaults included) and the layout of the cached rows (CACHE_VERSION) are in
    # the name, so a cache of other parameters (an older default) or an older layout is not read back
    ran = {name: check_params(options) for name, options in hazards.items()}
    digest = hashlib.sha256(repr(sorted((k, sorted(v.items())) for k, v in ran.items())).encode()).hexdigest()
    path = lake_dir.with_name(
        lake_dir.name + f".judge{CACHE_VERSION}-{'-'.join(sorted(hazards))}-{digest[:12]}-{len(credits)}.pkl"
    )
    if args.cache and path.exists():
        with path.open("rb") as fh:
            cached: Lake = pickle.load(fh)  # a file this bench wrote
        return cached
    lake = Lake(world, lake_dir, credits, hazards)
    if args.cache:
        with path.open("wb") as fh:
            pickle.dump(lake, fh)
    return lake


def _ratio(parts: list[tuple[int, int, int]], i: int) -> str:
    tp, n = sum(p[0] for p in parts), sum(p[i] for p in parts)
    return f"{tp / n:.2f}" if n else "—"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="3,11")
    parser.add_argument("--world", default="additive")
    parser.add_argument("--rings", default="mixed", choices=sorted(bench.RINGS))
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--brands", type=int, default=6)
    parser.add_argument("--out", type=Path, default=Path("bench/out/trust"))
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="the report rule, hazard credit, the QUICK variants and both ceilings"
    )
    parser.add_argument(
        "--cache",
        action="store_true",
        help="keep each lake's credit rows (hazard fit too) in --out, reuse them",
    )
    parser.add_argument("--frailty", action="store_true", help="also the hazard credit with frailty (slow)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    hazards = {k: v for k, v in HAZARDS.items() if args.frailty or not v.get("frailty")}
    credits = () if args.quick else CREDITS
    chosen = {
        name: (credit, variant)
        for name, (credit, variant) in VARIANTS.items()
        if (not args.quick or name in QUICK) and (not credit.startswith("hazard") or credit in hazards)
    }
    per: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}
    cpu: dict[str, list[float]] = {}
    delays: dict[bool, list[float]] = {True: [], False: []}
    caused: dict[str, list[float]] = {}
    routes: dict[str, dict[tuple[str, str], list[float]]] = {}
    for seed in seeds:
        world, lake_dir = bench.build(
            args.out, seed, args.users, args.days, args.brands, args.reuse, args.rings, args.world
        )
        lake = _lake(args, world, lake_dir, credits, hazards)
        for credit in lake.rows:
            caused.setdefault(credit, []).append(lake.caused_share(credit))
            for route, totals in lake.by_route(credit).items():
                acc = routes.setdefault(credit, {}).setdefault(route, [0.0, 0.0, 0.0])
                for i, x in enumerate(totals):
                    acc[i] += x
        for credit, seconds in lake.cpu.items():
            cpu.setdefault(credit, []).append(seconds)
        base = judge(lake, "linear", {})
        fixed = {k for k, n, ok in zip(base["keys"], base["orders"], base["scored"], strict=True) if ok and n >= 10}
        fixed &= lake.truth
        for name, (credit, variant) in chosen.items():
            per[name].append(metrics(judge(lake, credit, variant), lake.truth, fixed))
        for o in lake.orders:
            if o.get("nad_t"):
                delays[o["order_id"] in lake.deceived].append(_days(o["nad_t"], o["t"]))
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    print(f"world: {args.world}, seeds {args.seeds} (counts summed over seeds; AUC and precision at 10 means)")
    print()
    print(
        "| variant | flag, >= 10 credited: P / R (tp/flagged/true) | watch list: P / R (tp/watched/true) "
        "| flag R, 10+ orders by linear credit | precision at 10 | AUC |"
    )
    print("|---|---|---|---|---|---|")
    fmt: Callable[[float | None], str] = lambda x: "—" if x is None else f"{x:.2f}"  # noqa: E731
    for name, rows in per.items():
        f = [r["flag"] for r in rows]
        w = [r["watch"] for r in rows]

        def sums(parts: list[Any]) -> str:
            return "/".join(str(sum(p[i] for p in parts)) for i in range(3))

        aucs = [r["auc"] for r in rows if r["auc"] is not None]
        print(
            f"| {name} | {_ratio(f, 1)} / {_ratio(f, 2)} ({sums(f)}) | {_ratio(w, 1)} / {_ratio(w, 2)} ({sums(w)}) "
            f"| {_ratio([r['fixed'] for r in rows], 2)} "
            f"| {fmt(statistics.fmean(r['p10'] for r in rows))} | {fmt(statistics.fmean(aucs) if aucs else None)} |"
        )
    print()
    med = {k: statistics.median(v) if v else float("nan") for k, v in delays.items()}
    print(
        f"days from order to a not-as-described refund (truth diagnostic), median: deceived orders {med[True]:.2f} "
        f"(n={len(delays[True])}), others {med[False]:.2f} (n={len(delays[False])})"
    )
    print(
        "share of deceptive creators' credit on orders they caused (truth diagnostic), mean over seeds: "
        + ", ".join(f"{k} {statistics.fmean(v):.2f}" for k, v in caused.items())
    )
    print()
    print(
        "credit per order by its route in the truth (diagnostic), summed over seeds: to the true cause's creator / "
        "to any creator (orders)"
    )
    print()
    kinds = sorted({route for by in routes.values() for route in by})
    print("| credit | " + " | ".join(f"{c}, {p}" for c, p in kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for credit, by in routes.items():
        cells = []
        for route in kinds:
            n, to_cause, to_any = by.get(route, [0.0, 0.0, 0.0])
            cells.append(f"{to_cause / n:.2f} / {to_any / n:.2f} ({n:.0f})" if n else "—")
        print(f"| {credit} | " + " | ".join(cells) + " |")
    if CAUSE_CPU:
        print(
            "CPU seconds of the EM cause split per lake and credit, mean: "
            + ", ".join(f"{k} {statistics.fmean(v):.2f}" for k, v in CAUSE_CPU.items())
        )
    if cpu:
        print(
            "CPU seconds of the hazard route per lake, mean: "
            + ", ".join(f"{k} {statistics.fmean(v):.1f}" for k, v in cpu.items())
        )


if __name__ == "__main__":
    main()
