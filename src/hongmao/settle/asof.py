"""The lake as it stood at a date, for settlement: an engine session that sees only the events up to it, the
trust guard's creator flags computed on that session, and a guarantee's campaign and measured ROI at T+x.

Money settled on a date must not move when the lake grows: a refund, a flag or an order that arrives later is
a later settlement's fact. So every figure here is computed from the events whose time is not after the date
(a late-arriving event dated before it still counts; the figures computed once are kept in the catalog, see
:mod:`hongmao.settle.store`, so a re-run reads them back instead of recomputing).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
from ibis.expr.types import Table

from hongmao.engine import credit, tables
from hongmao.engine.campaign import CampaignInfo, brand_categories, campaign_lift, campaigns, lake_end
from hongmao.engine.cycles import SEEDING_KINDS, decision_cycles
from hongmao.engine.exact import exact_sum
from hongmao.engine.session import Session
from hongmao.engine.windows import Windows
from hongmao.errors import InputError
from hongmao.settle import facts
from hongmao.settle.guarantees import Guarantee, Measured
from hongmao.settle.programs import DECISION_CYCLE_DAYS, DEFAULT_CYCLE_DAYS

#: The interval warning :func:`campaign_lift` gives on a session cut at the due date, checked here instead.
_CUT_WARNING = "the lake ends before the window"


class AsOfSession(Session):
    """An engine session over ``segments`` whose ``events`` are those at or before ``as_of`` (``before``: strictly
    before)."""

    def __init__(self, segments: Sequence[Path], as_of: datetime, *, before: bool = False) -> None:
        super().__init__(segments)
        self.as_of = as_of
        self.before = before

    @property
    def events(self) -> Table:
        if self._events is None:
            ev = self.read(self.segments)
            cut = ibis.literal(self.as_of)
            self._events = ev.filter(ev.time < cut if self.before else ev.time <= cut)
        return self._events


def trust_holds(segments: Sequence[Path], through: datetime) -> dict[str, str]:
    """creator -> evidence, for the creators the trust guard flags on the events before ``through``."""
    from hongmao.engine.trust import trust_inputs
    from hongmao.trust import TrustParams, assemble

    params = TrustParams()
    with AsOfSession(segments, through, before=True) as session:
        return facts.creator_holds(assemble(trust_inputs(session, params), params))


def campaign_of(session: Session, campaign_id: str, brand: str | None) -> tuple[CampaignInfo, str | None]:
    """The campaign as declared in the lake and its brand's category; a campaign of another brand is unknown."""
    info = campaigns(session, session.events).get(campaign_id)
    if info is None or (brand is not None and info.brand != brand):
        raise InputError(f"campaign_id {campaign_id!r}: no such campaign of brand {brand or 'any'} in the lake")
    return info, brand_categories(session, session.events).get(info.brand)


def campaign_ends(session: Session) -> dict[str, datetime]:
    """Every declared campaign's end, by id."""
    return {cid: info.end for cid, info in campaigns(session, session.events).items()}


def cycle_days(session: Session, category: str | None) -> tuple[int, str]:
    """x for a contract that leaves it to the category: the lake's estimated decision cycle (q=0.9), else the
    documented default of :mod:`hongmao.settle.programs`."""
    if category is not None:
        estimated = decision_cycles(session, touches=SEEDING_KINDS).category_days().get(category)
        if estimated is not None:
            return math.ceil(estimated), f"decision cycle of {category} estimated from the lake (q=0.9)"
    return DECISION_CYCLE_DAYS.get(category or "", DEFAULT_CYCLE_DAYS), f"documented default cycle of {category}"


def due_date(info: CampaignInfo, x_days: int) -> datetime:
    return info.end + timedelta(days=x_days)


def data_end(session: Session) -> datetime | None:
    return lake_end(session, session.events)


def attributed_net(session: Session, info: CampaignInfo, category: str | None, days: int, model: str) -> float:
    """The campaign's attributed net GMV at T+x, as ``hongmao roi`` counts it: orders of the brand from the
    campaign's start to ``days`` after its end, credited by ``model`` in a window of ``days`` (at least one),
    landing on the campaign's notes and links."""
    look = float(max(days, 1))  # a touch window is at least a day (x = 0 still counts orders to the end)
    windows = (
        Windows.with_category_days({category: look})
        if category
        else Windows(days={k: (v if k == "impression" else look) for k, v in Windows().days.items()})
    )
    ev = session.events
    conv = tables.conversions(ev)
    conv = conv.filter((conv.brand == info.brand) & (conv.t >= info.start) & (conv.t <= due_date(info, days)))
    kinds = frozenset({"impression", "read", "engagement", "click"})
    j = credit.journeys(conv, tables.touches(ev, kinds), windows)
    w = credit.weights(j, model, credit.rule_params(model))
    mine = w.campaign_id == info.campaign_id
    if info.notes:
        mine = mine | w.note_id.isin(list(info.notes))
    w = w.filter(mine)
    value: Any = session.scalar(exact_sum(w.weight * w.net))
    return float(value or 0.0)


def measure(session: Session, g: Guarantee, holdout_key: str | None) -> Measured:
    """The contract's ROI at T+x on ``session`` (cut at the due date): attributed, or the holdout lift's
    incremental net GMV over the contract's spend with its interval."""
    assert g.spend_cents is not None and g.x_days is not None
    spend = g.spend_cents / 100
    info, category = campaign_of(session, g.campaign_id, g.brand)
    if g.measure == "attributed":
        net = attributed_net(session, info, category, g.x_days, g.model)
        method = (
            f"attributed net GMV of the campaign's notes and links under the {g.model} model, orders from its "
            f"start to {g.x_days} days after its end, over the contract's spend; a rule model has no interval"
        )
        return Measured(net / spend, net, method=method)
    if not holdout_key:
        raise InputError(
            f"guarantee {g.guarantee_id}: an incremental contract needs the campaign's holdout key "
            "(HONGMAO_HOLDOUT_KEY or HONGMAO_HOLDOUT_KEY_FILE, or --holdout-key-file)"
        )
    lift = campaign_lift(
        session, g.campaign_id, holdout_key, window_days=float(g.x_days), alpha=float(1 - g.confidence)
    )
    lifted = lift.comparison.net_gmv
    warnings = tuple(w for w in lift.warnings if not w.startswith(_CUT_WARNING))
    return Measured(
        lifted.estimate / spend,
        lifted.estimate,
        lifted.ci95[0] / spend,
        lifted.ci95[1] / spend,
        method=lift.comparison.method + " ROI here: incremental net GMV / the contract's spend.",
        warnings=warnings,
    )
