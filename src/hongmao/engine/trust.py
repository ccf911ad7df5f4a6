"""The trust guard's run on the engine: its queries over a session, handed to the trust math to judge.

The judging is pure (:mod:`hongmao.trust`); this module is where it meets the lake: it runs
:mod:`~hongmao.engine.trust_disclosure`, :mod:`~hongmao.engine.trust_engagement` and
:mod:`~hongmao.engine.trust_outcomes` on a :class:`~hongmao.engine.session.Session` and passes the rows on.
"""

from __future__ import annotations

from typing import Any

from ibis.expr.types import Table

from hongmao.engine import hazard, tables, trust_disclosure, trust_engagement, trust_outcomes
from hongmao.engine.session import Session
from hongmao.trust.coengagement import CoreMember, TargetFocus, dense_core, target_focus
from hongmao.trust.disclosure import DisclosureFinding, judge
from hongmao.trust.engagement import (
    AccountFinding,
    EngagementRules,
    clusters,
    judge_accounts,
    judge_notes,
    short_dwell,
)
from hongmao.trust.item_match import ItemMatch, sharpen
from hongmao.trust.report import DeceptiveResult, TrustInputs, TrustParams, deceptive_scores
from hongmao.trust.suspected import SuspectFinding
from hongmao.trust.suspected import judge as judge_suspects


def trust_inputs(session: Session, params: TrustParams | None = None) -> TrustInputs:
    """Run the engine over the session's segments and judge every note, creator and account."""
    params = params or TrustParams()
    ev = session.events

    evidence, deals = trust_disclosure.evidence_rows(session, ev)
    disclosure = judge(evidence, deals)
    suspected = suspect_notes(session, ev, disclosure, evidence, deals)

    rules = params.engagement
    accounts = judge_accounts_in(session, ev, rules)
    flagged = [a.user for a in accounts if a.flagged]
    note_rows = session.arrow(
        trust_engagement.note_engagement(ev, rules.burst_seconds, flagged, rules.short_dwell_ms)
    ).to_pylist()
    notes_eng = judge_notes(note_rows, rules)

    exclude = flagged if params.exclude_flagged_accounts and flagged else None
    orders = session.arrow(trust_outcomes.order_outcomes(ev)).to_pylist()
    end_value = session.scalar(trust_outcomes.data_end(ev))
    credit_rows, fit = credited_rows(session, ev, params, exclude, orders)
    results: dict[str, DeceptiveResult | None] = {
        by: deceptive_scores(orders, rows, end_value, params.score) for by, rows in credit_rows.items()
    }
    return TrustInputs(
        disclosure=disclosure,
        accounts=accounts,
        note_engagement=notes_eng,
        deceptive_notes=results["note"],
        deceptive_creators=results["creator"],
        data_end=end_value,
        orders=len(orders),
        suspected=suspected,
        item_match=None if fit is None else fit.as_dict(),
        hazard=hazard_run(params),
    )


def hazard_run(params: TrustParams) -> dict[str, Any] | None:
    """The hazard route's parameters as it runs them (the engine's defaults under ``params.hazard_options``; lists
    where the engine takes a sequence, as JSON shows them), or None when the route is a rule model."""
    if params.model != "hazard":
        return None
    ran = hazard.check_params(params.hazard_options)
    return {k: list(v) if isinstance(v, tuple | list) else v for k, v in ran.items()}


def credited_rows(
    session: Session,
    ev: Table,
    params: TrustParams,
    exclude_users: list[str] | None,
    orders: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], ItemMatch | None]:
    """Per note and per creator, each order's credit rows (order_id, key, weight, group) by the route
    ``params.model`` names: the hazard model's, or an engine rule model's (:mod:`~hongmao.engine.trust_outcomes`);
    with ``params.item_match``, each order's note credit sharpened by the item it bought
    (:mod:`hongmao.trust.item_match`) and summed per creator from there; and the item match's fit (None without).
    ``orders``: the rows of :func:`~hongmao.engine.trust_outcomes.order_outcomes` when the caller has them
    already (None: the item match fetches them)."""
    if params.item_match:
        return item_matched_rows(session, ev, params, exclude_users, orders)
    if params.model == "hazard":
        rows = trust_outcomes.hazard_credited(
            session, ev, ("note", "creator"), exclude_users=exclude_users, **params.hazard_options
        )
        return rows, None
    return {by: rule_rows(session, ev, params, exclude_users, by) for by in ("note", "creator")}, None


def item_matched_rows(
    session: Session,
    ev: Table,
    params: TrustParams,
    exclude_users: list[str] | None,
    orders: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], ItemMatch]:
    """The route's note credit made each note's posterior given the item the order bought, then summed per
    (order, creator); a creator's group is its agency, as the unsharpened route names it. ``orders``: the rows
    of :func:`~hongmao.engine.trust_outcomes.order_outcomes` (None: fetched here)."""
    if params.model == "hazard":
        notes = trust_outcomes.hazard_credited(
            session, ev, ("note",), exclude_users=exclude_users, **params.hazard_options
        )["note"]
    else:
        notes = rule_rows(session, ev, params, exclude_users, "note")
    if orders is None:
        orders = session.arrow(trust_outcomes.order_outcomes(ev)).to_pylist()
    linked: dict[str, set[str]] = {}
    for r in session.arrow(trust_outcomes.note_items(ev)).to_pylist():
        linked.setdefault(r["note_id"], set()).add(r["item_id"])
    items = session.arrow(tables.items(ev).select("item_id", "item_brand")).to_pylist()
    item_brands = {r["item_id"]: r["item_brand"] for r in items}
    # An order's brand is its item's, as tables.conversions joins it: none when the item is not listed (or the
    # order names no item: a null id joins nothing there, whatever the item table holds under null).
    bought = {
        r["order_id"]: {
            "item_id": r["item_id"],
            "brand": None if r["item_id"] is None else item_brands.get(r["item_id"]),
        }
        for r in orders
    }
    sharpened, fit = sharpen(notes, bought, {k: frozenset(v) for k, v in linked.items()}, item_brands)
    agency = {r["entity"]: r["group"] for r in session.arrow(trust_outcomes.groups(ev, "creator")).to_pylist()}
    per_creator: dict[tuple[str, str], float] = {}
    for r in sharpened:
        key = (r["order_id"], r["group"] if r["group"] is not None else tables.NO_NOTE)
        per_creator[key] = per_creator.get(key, 0.0) + r["weight"]
    creators = [
        {"order_id": o, "key": c, "weight": w, "group": agency.get(c)} for (o, c), w in sorted(per_creator.items())
    ]
    return {"note": sharpened, "creator": creators}, fit


def rule_rows(
    session: Session, ev: Table, params: TrustParams, exclude_users: list[str] | None, by: str
) -> list[dict[str, Any]]:
    """(order_id, key, weight, group) per note or creator under the engine rule model ``params.model``."""
    expr = trust_outcomes.credited(
        ev,
        by,
        model=params.model,
        kinds=params.touches,
        windows=params.windows,
        half_life_days=params.half_life_days,
        exclude_users=exclude_users,
    )
    return list(session.arrow(expr).to_pylist())


def suspect_notes(
    session: Session,
    ev: Table,
    disclosure: list[DisclosureFinding],
    evidence: list[dict[str, Any]],
    deals: list[dict[str, Any]],
) -> list[SuspectFinding]:
    """Notes that look sponsored with no record (:mod:`hongmao.trust.suspected`)."""
    notes, campaigns = trust_disclosure.suspect_rows(session, ev)
    evidenced = {f.note_id for f in disclosure if f.commercial}
    tied = [
        {"creator_id": r["creator_id"], "brand": r["brand"], "t": r["published"]}
        for r in evidence
        if r["note_id"] in evidenced
    ]
    tied += [{"creator_id": d["creator_id"], "brand": d["brand"], "t": d["logged"]} for d in deals]
    return judge_suspects(notes, campaigns, tied, evidenced)


def judge_accounts_in(session: Session, ev: Table, rules: EngagementRules) -> list[AccountFinding]:
    """Every engaging account of ``ev`` judged for fake engagement (activity, lockstep pairs, then the rules)."""
    activity = session.arrow(trust_engagement.account_activity(ev, rules.short_dwell_ms)).to_pylist()
    co_pairs = session.arrow(
        trust_engagement.coengagement_pairs(ev, rules.coengagement_seconds, rules.coengagement_min_shared)
    ).to_pylist()
    core = dense_core(co_pairs, rules.core_degree, rules.min_cluster)
    pairs = lockstep_pairs(session, ev, activity, rules)
    # Client focus is asked of the co-engagement core and of lockstep clusters alike: a sloppy ring hired for a
    # few notes leaves a lockstep trail too short for the core, and reads too long for SHORT_DWELL.
    groups = dict(core)
    first = max((m.group for m in core.values()), default=-1) + 1
    for user, (cluster, size) in clusters(pairs, rules.min_cluster).items():
        groups.setdefault(user, CoreMember(first + cluster, size, 0, 0, 0))
    focus: dict[str, TargetFocus] = {}
    if groups:
        rows = session.arrow(trust_engagement.creator_reads(ev, sorted(groups))).to_pylist()
        focus = target_focus(groups, rows, rules.client_share, rules.focus_rate)
    return judge_accounts(activity, pairs, rules, core, focus)


def lockstep_pairs(
    session: Session, ev: Table, activity: list[dict[str, Any]], rules: EngagementRules
) -> list[dict[str, Any]]:
    """Pairs sharing ``min_shared_notes`` notes, and pairs sharing any note among short-dwell accounts."""
    window = rules.lockstep_window_seconds
    pairs: list[dict[str, Any]] = session.arrow(
        trust_engagement.lockstep_pairs(ev, window, rules.min_shared_notes)
    ).to_pylist()
    suspects = [a["user"] for a in activity if short_dwell(a)]
    if len(suspects) >= 2:
        pairs += session.arrow(trust_engagement.lockstep_pairs(ev, window, 1, among=suspects)).to_pylist()
    return pairs


def flagged_accounts(session: Session, params: TrustParams | None = None) -> list[str]:
    """Pseudonyms of the accounts flagged for fake engagement in the session's segments."""
    if not session.segments:
        return []
    accounts = judge_accounts_in(session, session.events, (params or TrustParams()).engagement)
    return sorted(a.user for a in accounts if a.flagged)
