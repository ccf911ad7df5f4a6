"""The trust report: every note and creator with its flags (``undisclosed``, ``deceptive``, ``fake_engagement``),
its deceptive-seeding score and the evidence behind each flag.

:func:`hongmao.engine.trust.trust_inputs` runs the engine queries over a session and hands the aggregates to
the pure judgements here (:mod:`~hongmao.trust.disclosure`, :mod:`~hongmao.trust.engagement`,
:mod:`~hongmao.trust.shrinkage`, :func:`deceptive_scores`); :func:`assemble` builds the JSON from their results.
Nothing in this module runs a query.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

from hongmao.trust.causes import split_causes
from hongmao.trust.disclosure import DisclosureFinding
from hongmao.trust.engagement import (
    AccountFinding,
    EngagementRules,
    NoteEngagementFinding,
    judge_creators,
)
from hongmao.trust.pooled import Pooled, pool
from hongmao.trust.shrinkage import ScoreRules, Scores, outcome_exposure, reason_codes, score
from hongmao.trust.suspected import SuspectFinding

FLAGS = ("undisclosed", "deceptive", "fake_engagement")
WATCH_EXCESS_LEVEL = 0.5  # P(excess > min_excess) that puts an entity on the deceptive watch list
OUTCOMES = ("bad", "nad", "low", "refund")
CAUSES = ("share", "em", "em_cross")  # PoolRules.causes: how each order's credit is split among its causes


@dataclass(frozen=True)
class TrustParams:
    """Everything the report depends on; defaults are documented in docs/trust.md."""

    # credit for "orders credited to a note": "hazard" (the additive-hazard model fitted to the lake, each order
    # split between its touches and a baseline credited to nobody; hazard_options: its parameters over the engine's
    # defaults, hongmao.engine.hazard.DEFAULTS) or an engine rule model ("linear", "time_decay", ...) over
    # ``touches`` in ``windows`` (half_life_days: time_decay's). The hazard model is the default: on the trust
    # lakes it flags more deceptive creators than the rule model "linear" does, at the same precision (docs/trust.md)
    model: str = "hazard"
    touches: tuple[str, ...] = ("read", "engagement", "click")
    half_life_days: float = 7.0
    windows: Any = None  # hongmao.engine.Windows; None: the engine's defaults
    hazard_options: dict[str, Any] = field(default_factory=dict)
    score: ScoreRules = field(default_factory=ScoreRules)
    engagement: EngagementRules = field(default_factory=EngagementRules)
    # a creator is flagged undisclosed for one undisclosed note the brand's or a filing's records show was paid,
    # or for this many undisclosed notes of any kind (a single unlabelled shoppable link flags the note only)
    min_undisclosed_notes: int = 2
    exclude_flagged_accounts: bool = True  # leave flagged fake accounts out of the credit the score uses
    # the deceptive watch list: suggestive evidence, judged sequentially before it is strong enough to flag.
    # An entry is watched when its pooled P(deceptive) reaches score.pooling.watch_level on at least
    # watch_min_orders credited orders; it is flagged at score.pooling.flag_level (a note) or creator_flag_level
    # (a creator) on at least score.min_orders (hongmao.trust.pooled).
    watch_min_orders: float = 1.0
    # sharpen each order's note credit by the item it bought: a note linking that item is likelier its cause, by
    # as much as the lake shows persuaded buyers buy linked items (hongmao.trust.item_match; fitted, not assumed)
    item_match: bool = True

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.model != "hazard":  # other routes fit no hazard model (the report shows what the hazard route ran)
            out["hazard_options"] = {}
        out["windows"] = None if self.windows is None else repr(self.windows)
        out["touches"] = list(self.touches)
        return out


@dataclass
class DeceptiveResult:
    keys: list[str]
    primary: Scores
    others: dict[str, Scores]
    pooled: Pooled | None = None
    groups: list[str | None] = field(default_factory=list)

    def stages(self, rules: ScoreRules, watch_min_orders: float, flag_level: float) -> tuple[Any, Any]:
        """(flagged, watched) per key: strong evidence by either view flags (the pooled sequential posterior at
        ``flag_level``, the pooling rules' level for these entities, or the shrunk excess credibly above
        ``min_excess``), on at least ``min_orders`` credited orders; suggestive evidence by either (posterior at
        the watch level, or P(excess) >= 0.5) watches."""
        p, ok = self.primary, self.primary.scored
        post = self.pooled.posterior if self.pooled is not None else np.zeros(len(self.keys))
        strong = (post >= flag_level) | (p.p_exceed >= rules.level)
        flagged = ok & strong & (p.orders >= rules.min_orders)
        suggestive = (post >= rules.pooling.watch_level) | (p.p_exceed >= WATCH_EXCESS_LEVEL)
        watched = ok & suggestive & (p.orders >= watch_min_orders) & ~flagged
        return flagged, watched

    def grounds(self, j: int, rules: ScoreRules, *, flag_level: float | None) -> list[str]:
        """Which view put entry ``j`` at its stage: ``pooled_posterior`` (P(deceptive) at ``flag_level`` for a
        flag; ``flag_level=None`` asks for a watch's grounds, at the watch level) and/or ``excess`` (P(excess >
        min_excess) at the score's level, or 0.5 to watch)."""
        out = []
        strong = flag_level is not None
        post_level = flag_level if flag_level is not None else rules.pooling.watch_level
        if self.pooled is not None and self.pooled.posterior[j] >= post_level:
            out.append("pooled_posterior")
        if self.primary.p_exceed[j] >= (rules.level if strong else WATCH_EXCESS_LEVEL):
            out.append("excess")
        return out

    def index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.keys)}


@dataclass
class TrustInputs:
    """What the engine produced, ready for :func:`assemble`."""

    disclosure: list[DisclosureFinding]
    accounts: list[AccountFinding]
    note_engagement: list[NoteEngagementFinding]
    deceptive_notes: DeceptiveResult | None
    deceptive_creators: DeceptiveResult | None
    data_end: datetime | None = None
    orders: int = 0
    suspected: list[SuspectFinding] = field(default_factory=list)
    item_match: dict[str, Any] | None = None  # the fitted link-following share (TrustParams.item_match), if used
    hazard: dict[str, Any] | None = None  # the hazard route's parameters as it ran (its defaults included), if used


def _days(seconds: float | None) -> float:
    return float("nan") if seconds is None else seconds / 86_400.0


def deceptive_scores(
    orders: list[dict[str, Any]],
    credit_rows: list[dict[str, Any]],
    end: datetime | None,
    rules: ScoreRules,
) -> DeceptiveResult | None:
    """Scores of every key in ``credit_rows`` ({order_id, key, weight}) from the orders' outcomes."""
    if not orders or end is None:
        return None
    order_index = {o["order_id"]: i for i, o in enumerate(orders)}
    items = sorted({str(o["item_id"]) for o in orders})
    item_index = {it: i for i, it in enumerate(items)}
    category_of = {str(o["item_id"]): str(o.get("category")) for o in orders}
    categories = sorted(set(category_of.values()))
    category_index = {c: i for i, c in enumerate(categories)}
    item_group = np.array([category_index[category_of[it]] for it in items], dtype=np.int64)
    item = np.array([item_index[str(o["item_id"])] for o in orders], dtype=np.int64)
    age = np.array([(end - o["t"]).total_seconds() / 86_400.0 for o in orders])
    keys = sorted({str(r["key"]) for r in credit_rows})
    group_of = {str(r["key"]): r.get("group") for r in credit_rows}
    groups = [None if group_of[k] is None else str(group_of[k]) for k in keys]
    key_index = {k: i for i, k in enumerate(keys)}
    rows = [r for r in credit_rows if r["order_id"] in order_index]
    credit = sparse.csr_matrix(
        (
            np.array([float(r["weight"]) for r in rows]),
            (
                np.array([order_index[r["order_id"]] for r in rows], dtype=np.int64),
                np.array([key_index[str(r["key"])] for r in rows], dtype=np.int64),
            ),
        ),
        shape=(len(orders), len(keys)),
    )
    scored = np.array([not k.startswith("(") for k in keys], dtype=np.bool_)
    causes = rules.pooling.causes
    if causes not in CAUSES:
        raise ValueError(f"PoolRules.causes is one of {', '.join(CAUSES)}, not {causes!r}")
    ys: dict[str, Any] = {}
    exposures: dict[str, Any] = {}
    for outcome in OUTCOMES:
        ys[outcome] = np.array([1.0 if o[outcome] else 0.0 for o in orders])
        delay = np.array(
            [
                (o[f"{outcome}_t"] - o["t"]).total_seconds() / 86_400.0 if o.get(f"{outcome}_t") else math.nan
                for o in orders
            ]
        )
        exposures[outcome] = outcome_exposure(age, delay, rules.maturity_days)
    credit_for = {outcome: credit for outcome in OUTCOMES}
    if causes == "em":  # every outcome read under the split fitted to the bad outcome
        split = split_causes(ys["bad"], item, exposures["bad"], credit, scored, item_group).credit
        credit_for = {outcome: split for outcome in OUTCOMES}
    elif causes == "em_cross":  # each evidence outcome read under the split fitted to the other one
        for outcome, other in (("nad", "low"), ("low", "nad")):
            fit = split_causes(ys[other], item, exposures[other], credit, scored, item_group)
            credit_for[outcome] = fit.credit
    results: dict[str, Scores] = {}
    for outcome in OUTCOMES:
        y, exposure = ys[outcome], exposures[outcome]
        results[outcome] = score(outcome, y, item, exposure, credit_for[outcome], rules, scored, item_group)
    primary = results.pop("bad")
    everything = {"bad": primary, **results}
    evidence = np.zeros(len(keys))
    for name in rules.pooling.outcomes:
        llr = everything[name].llr
        assert llr is not None
        evidence += llr
    pooled = pool(evidence, scored, groups, rules.pooling)
    return DeceptiveResult(keys, primary, results, pooled, groups)


def _round(x: float, digits: int = 4) -> float | None:
    return None if not math.isfinite(x) else round(float(x), digits)


def _deceptive_evidence(res: DeceptiveResult, j: int, rules: ScoreRules) -> dict[str, Any]:
    p = res.primary
    exposure = float(p.exposure[j])
    per_outcome = {}
    for name, s in res.others.items():
        per_outcome[name] = {
            "observed_rate": _round(s.observed[j] / s.exposure[j]) if s.exposure[j] > 0 else None,
            "baseline_rate": _round(s.baseline[j]),
            "excess": _round(s.mean[j]),
            "p_exceed": _round(s.p_exceed[j], 3),
        }
    return {
        "score": _round(p.mean[j]),
        "interval": [_round(p.low[j]), _round(p.high[j])],
        "p_exceed": _round(p.p_exceed[j], 3),
        "threshold": rules.min_excess,
        "orders": _round(p.orders[j], 2),
        "exposure": _round(exposure, 2),
        "bad_outcomes": _round(p.observed[j], 2),
        "observed_rate": _round(p.observed[j] / exposure) if exposure > 0 else None,
        "baseline_rate": _round(p.baseline[j]),
        "attributed_bad_outcomes": _round(p.attributed[j], 2),
        "reasons": reason_codes(p, res.others, j, rules),
        "outcomes": per_outcome,
        **_pooled_evidence(res, j),
    }


def _pooled_evidence(res: DeceptiveResult, j: int) -> dict[str, Any]:
    if res.pooled is None:
        return {}
    pooled = res.pooled
    return {
        "p_deceptive": _round(pooled.posterior[j], 4),
        "log_likelihood_ratio": _round(pooled.llr[j], 3),
        "prior_deceptive": _round(pooled.prior[j], 4),
        "group": res.groups[j] if res.groups else None,
    }


def _entry(kind: str, key: str, extra: dict[str, Any]) -> dict[str, Any]:
    # flags: findings on evidence; watch: suggestive evidence, not yet a flag; suspected: no record, shape only
    return {f"{kind}_id": key, **extra, "flags": [], "watch": [], "suspected": [], "score": None, "evidence": {}}


def assemble(inputs: TrustInputs, params: TrustParams | None = None, include_accounts: bool = False) -> dict[str, Any]:
    """The report: ``{"notes": [...], "creators": [...], "accounts": {...}, "summary": {...}}``.

    Notes and creators come ranked: by number of flags, then by deceptive-seeding score (highest first).
    """
    params = params or TrustParams()
    notes: dict[str, dict[str, Any]] = {}
    creators: dict[str, dict[str, Any]] = {}

    def note(key: str, creator: str | None = None, brand: str | None = None) -> dict[str, Any]:
        if key not in notes:
            notes[key] = _entry("note", key, {"creator_id": creator, "brand": brand})
        return notes[key]

    def creator(key: str) -> dict[str, Any]:
        if key not in creators:
            creators[key] = _entry("creator", key, {})
        return creators[key]

    undisclosed_by_creator: dict[str, list[DisclosureFinding]] = {}
    for f in inputs.disclosure:
        e = note(f.note_id, f.creator_id, f.brand)
        if f.commercial:
            e["evidence"]["undisclosed"] = f.to_dict()
        if f.undisclosed:
            e["flags"].append("undisclosed")
            if f.creator_id:
                undisclosed_by_creator.setdefault(f.creator_id, []).append(f)
        if f.creator_id:
            creator(f.creator_id)
    for cid, found in undisclosed_by_creator.items():
        c = creator(cid)
        paid = sorted(f.note_id for f in found if f.strength == "paid")
        c["evidence"]["undisclosed"] = {"undisclosed_notes": sorted(f.note_id for f in found), "paid_notes": paid}
        if paid or len(found) >= params.min_undisclosed_notes:
            c["flags"].append("undisclosed")

    pooling = params.score.pooling
    for kind, res, get, flag_level in (
        ("note", inputs.deceptive_notes, note, pooling.flag_level),
        ("creator", inputs.deceptive_creators, creator, pooling.creator_flag_level),
    ):
        if res is None:
            continue
        flagged, watched = res.stages(params.score, params.watch_min_orders, flag_level)
        for j, key in enumerate(res.keys):
            if key.startswith("("):
                continue
            e = get(key)
            ev = _deceptive_evidence(res, j, params.score)
            e["score"] = ev["score"]
            e["evidence"]["deceptive"] = ev
            if flagged[j]:
                e["flags"].append("deceptive")
                ev["stage"] = "flag"
                ev["grounds"] = res.grounds(j, params.score, flag_level=flag_level)
            elif watched[j]:
                e["watch"].append("deceptive")
                ev["stage"] = "watch"
                ev["grounds"] = res.grounds(j, params.score, flag_level=None)
        del kind

    for hint in inputs.suspected:
        e = note(hint.note_id, hint.creator_id, hint.brand)
        e["evidence"]["suspected_sponsored"] = {"reasons": hint.reasons, **hint.evidence}
        if hint.suspected:
            e["suspected"].append("sponsored")

    for n in inputs.note_engagement:
        e = note(n.note_id, n.creator_id)
        if n.reasons or n.flagged:
            e["evidence"]["fake_engagement"] = {"reasons": n.reasons, **n.evidence}
        if n.flagged:
            e["flags"].append("fake_engagement")
    for cid, summary in judge_creators(inputs.note_engagement, params.engagement).items():
        c = creator(cid)
        if summary["flagged_notes"]:
            c["evidence"]["fake_engagement"] = {k: v for k, v in summary.items() if k != "flagged"}
        if summary["flagged"]:
            c["flags"].append("fake_engagement")

    for e in (*notes.values(), *creators.values()):
        e["flags"] = [f for f in FLAGS if f in e["flags"]]

    def rank(e: dict[str, Any]) -> tuple[int, float, str]:
        s = e["score"]
        return (-len(e["flags"]), -(s if s is not None else -1.0), str(e.get("note_id") or e.get("creator_id")))

    flagged_accounts = [a for a in inputs.accounts if a.flagged]
    clusters: dict[int, int] = {}
    for a in flagged_accounts:
        if a.cluster is not None:
            clusters[a.cluster] = clusters.get(a.cluster, 0) + 1
    accounts: dict[str, Any] = {
        "flagged": len(flagged_accounts),
        "clusters": [{"cluster": k, "flagged_accounts": v} for k, v in sorted(clusters.items())],
        "excluded_from_scores": params.exclude_flagged_accounts,
    }
    if include_accounts:
        accounts["list"] = [
            {"user": a.user, "reasons": a.reasons, "cluster": a.cluster, **a.evidence} for a in flagged_accounts
        ]
    note_list = sorted(notes.values(), key=rank)
    creator_list = sorted(creators.values(), key=rank)
    summary = {
        "notes": len(note_list),
        "creators": len(creator_list),
        "orders": inputs.orders,
        "data_end": inputs.data_end.isoformat() if inputs.data_end else None,
        "flagged_notes": {f: sum(f in e["flags"] for e in note_list) for f in FLAGS},
        "flagged_creators": {f: sum(f in e["flags"] for e in creator_list) for f in FLAGS},
        "watched_notes": {"deceptive": sum("deceptive" in e["watch"] for e in note_list)},
        "watched_creators": {"deceptive": sum("deceptive" in e["watch"] for e in creator_list)},
        "suspected_notes": {"sponsored": sum("sponsored" in e["suspected"] for e in note_list)},
        "deceptive_prior": _prior(inputs),
        "item_match": inputs.item_match,
        "params": _params(params, inputs),
    }
    return {"notes": note_list, "creators": creator_list, "accounts": accounts, "summary": summary}


def _params(params: TrustParams, inputs: TrustInputs) -> dict[str, Any]:
    """The parameters the report ran with: the hazard route's in full (the engine's defaults included) when the
    inputs say what it ran; a rule route's none (``as_dict``)."""
    out = params.as_dict()
    if params.model == "hazard" and inputs.hazard is not None:
        out["hazard_options"] = dict(inputs.hazard)
    return out


def _prior(inputs: TrustInputs) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, res in (("note", inputs.deceptive_notes), ("creator", inputs.deceptive_creators)):
        if res is not None:
            a, b = res.primary.prior
            out[name] = {"a": round(a, 4), "b": round(b, 2), "global_bad_rate": round(res.primary.global_rate, 4)}
            if res.pooled is not None:
                out[name]["deceptive_share"] = round(res.pooled.share, 4)
                out[name]["pooling_strength"] = res.pooled.kappa
    return out


def flagged_users(inputs: TrustInputs) -> list[str]:
    return sorted(a.user for a in inputs.accounts if a.flagged)


def filter_flags(report: dict[str, Any], flags: Iterable[str] | None) -> dict[str, Any]:
    """Keep only notes and creators carrying at least one of ``flags`` (all flagged ones for an empty set)."""
    wanted = set(flags or FLAGS)
    out = dict(report)
    out["notes"] = [e for e in report["notes"] if wanted & set(e["flags"])]
    out["creators"] = [e for e in report["creators"] if wanted & set(e["flags"])]
    return out
