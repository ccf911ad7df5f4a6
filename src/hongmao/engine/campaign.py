"""Campaign holdout lift over the lake: who was randomised, what they bought, treated against held out.

A campaign (``campaign.created``) names its brand, its period [start, end), its notes and the share of people
held out. Who is held out is the keyed hash of :mod:`hongmao.identity.holdout`, recomputed here from each
person's pseudonym with the holdout key: the community applied the same function when it filled feeds (held-out
people never see the campaign's notes; everything else in their feed is unchanged).

* **Units** are the people seen in the community (any community event with a pseudonym) during the campaign
  period. Both groups are seen there: the holdout removes the campaign's notes from feeds, not people.
* **Outcome** per person: orders, GMV and net GMV (after refunds) of the campaign's brand placed from the
  campaign's start until its end plus the brand category's window (the attribution window of that category:
  its ``--category-window`` or estimated decision cycle, else the default), cut at the last event in the lake.
* **Moments** per group (count, sums and sums of squares) are aggregated in the engine; the statistics are
  :func:`hongmao.measure.campaign.compare_groups`. Only the pseudonyms of the units leave the engine, to be
  hashed with the key, and only the held-out ones go back.

Checks reported with the lift: the sample ratio against the configured share, and how many held-out people
nevertheless touched the campaign's notes (should be none; many means a wrong key or a community that did not
apply the holdout, and a lift diluted towards zero).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa
from ibis import _
from ibis.expr.types import Table

from hongmao.engine import tables
from hongmao.engine.exact import exact_sum
from hongmao.engine.session import Session
from hongmao.engine.windows import Windows
from hongmao.errors import InputError
from hongmao.identity.holdout import holdout_mask
from hongmao.measure.campaign import MIN_GROUP, GroupComparison, GroupMoments, compare_groups

UNITS = "people seen in the community (any community event with a pseudonym) during the campaign period"
EXPOSED_WARN_SHARE = 0.01


@dataclass(frozen=True)
class CampaignInfo:
    """A campaign as the brand declared it (the latest ``campaign.created`` of its id)."""

    campaign_id: str
    brand: str
    start: datetime
    end: datetime
    holdout_share: float
    spend: float
    currency: str
    notes: tuple[str, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "brand": self.brand,
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "holdout_share": self.holdout_share,
            "spend": self.spend,
            "currency": self.currency,
            "notes": len(self.notes),
        }


@dataclass(frozen=True)
class CampaignLift:
    """One campaign's holdout lift with its design, window and checks."""

    campaign: CampaignInfo
    category: str | None
    window_days: float
    window_start: datetime
    window_end: datetime
    window_complete: bool
    comparison: GroupComparison
    treated_exposed: int
    holdout_exposed: int
    units: str = UNITS

    @property
    def warnings(self) -> list[str]:
        out = list(self.comparison.warnings)
        held = self.comparison.holdout.n
        if self.holdout_exposed > EXPOSED_WARN_SHARE * held:
            out.append(
                f"{self.holdout_exposed:,} of {held:,} held-out people touched the campaign's notes: the holdout "
                "key may be wrong, or the community did not apply the holdout; the lift is diluted towards zero"
            )
        if not self.window_complete:
            out.append(
                f"the lake ends before the window does (the campaign's end + {self.window_days:g} days): "
                "orders are counted until its last event only"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign.to_dict(),
            "category": self.category,
            "window": {
                "start": self.window_start.isoformat(),
                "end": self.window_end.isoformat(),
                "days_after_end": self.window_days,
                "complete": self.window_complete,
            },
            "units": self.units,
            "exposed": {"treated": self.treated_exposed, "holdout": self.holdout_exposed},
            **self.comparison.to_dict(),
            "warnings": self.warnings,
        }


def _when(text: Any) -> datetime:
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise InputError(f"campaign time {text!r} has no time zone")
    return value


def campaigns(session: Session, ev: Table) -> dict[str, CampaignInfo]:
    """Every campaign declared in the lake, by id (a later ``campaign.created`` of an id replaces an earlier)."""
    created = ev.filter(ev.type == "campaign.created").select("id", "time", "data").order_by(["time", "id"])
    out: dict[str, CampaignInfo] = {}
    for row in session.arrow(created).to_pylist():
        d = json.loads(row["data"])
        out[d["campaign_id"]] = CampaignInfo(
            campaign_id=d["campaign_id"],
            brand=d["brand"],
            start=_when(d["start"]),
            end=_when(d["end"]),
            holdout_share=float(d.get("holdout_share") or 0.0),
            spend=float(d["spend"]),
            currency=d.get("currency") or "CNY",
            notes=tuple(d.get("notes") or ()),
            name=d.get("name"),
        )
    return out


def brand_categories(session: Session, ev: Table) -> dict[str, str]:
    """Each brand's category: the category of most of its listed items (ties: the first by name)."""
    it = tables.items(ev).filter(_.item_brand.notnull() & _.item_category.notnull())
    counts = it.group_by(["item_brand", "item_category"]).aggregate(n=_.count())
    out: dict[str, str] = {}
    for row in session.arrow(counts.order_by([ibis.desc("n"), "item_category"])).to_pylist():
        out.setdefault(row["item_brand"], row["item_category"])
    return out


def lake_end(session: Session, ev: Table) -> datetime | None:
    """The time of the last event in the lake."""
    value = session.scalar(ev.time.max())
    return value if isinstance(value, datetime) else None


def campaign_notes(ev: Table, info: CampaignInfo) -> Any:
    """Touches of the campaign's notes: the notes it lists, and notes or links that carry its id."""
    kinds = frozenset({"impression", "read", "engagement", "click"})
    touch = tables.touches(ev, kinds)
    hit = touch.campaign_id == info.campaign_id
    if info.notes:
        hit = hit | touch.note_id.isin(list(info.notes))
    return touch.filter(hit)


def _moments(row: dict[str, Any] | None) -> GroupMoments:
    row = row or {}
    return GroupMoments(
        n=int(row.get("n") or 0),
        orders=float(row.get("orders") or 0.0),
        orders_sumsq=float(row.get("orders2") or 0.0),
        buyers=int(row.get("buyers") or 0),
        gmv=float(row.get("gmv") or 0.0),
        gmv_sumsq=float(row.get("gmv2") or 0.0),
        net_gmv=float(row.get("net") or 0.0),
        net_gmv_sumsq=float(row.get("net2") or 0.0),
    )


def campaign_lift(
    session: Session,
    campaign_id: str,
    holdout_key: str | bytes,
    *,
    windows: Windows | None = None,
    window_days: float | None = None,
    alpha: float = 0.05,
    min_group: int = MIN_GROUP,
) -> CampaignLift:
    """Holdout lift of one campaign in the lake (see the module docstring for units, outcome and checks).

    ``window_days`` (days after the campaign's end) overrides the category's window from ``windows``.
    """
    ev = session.events
    known = campaigns(session, ev)
    info = known.get(campaign_id)
    if info is None:
        listed = ", ".join(sorted(known)[:10]) or "none"
        raise InputError(f"no campaign {campaign_id!r} in the lake; campaigns: {listed}")
    if info.holdout_share <= 0.0:
        raise InputError(f"campaign {campaign_id!r} has no holdout (holdout_share 0): its lift cannot be measured")
    category = brand_categories(session, ev).get(info.brand)
    windows = windows or Windows()
    if window_days is None:
        window_days = windows.for_category(category)["read"]
    if not window_days >= 0:
        raise InputError(f"the window after the campaign must be zero or more days, got {window_days!r}")
    end_of_lake = lake_end(session, ev)
    wanted_end = info.end + timedelta(days=window_days)
    window_end = min(wanted_end, end_of_lake) if end_of_lake is not None else wanted_end
    window_end = window_end.astimezone(info.end.tzinfo)  # shown in the campaign's own offset
    complete = end_of_lake is not None and end_of_lake >= wanted_end

    seen = ev.filter((ev.source == "community") & ev.user.notnull() & (ev.time >= info.start) & (ev.time < info.end))
    units = seen.select(person=seen.user).distinct()
    people = session.arrow(units).column("person").to_pylist()
    mask = holdout_mask(people, info.campaign_id, info.holdout_share, holdout_key)
    held_people = [p for p, m in zip(people, mask.tolist(), strict=True) if m]
    held = ibis.memtable(pa.table({"held_person": pa.array(held_people, pa.string())}))

    conv = tables.conversions(ev)
    bought = conv.filter((conv.brand == info.brand) & (conv.t >= info.start) & (conv.t <= window_end))
    per = bought.group_by(buyer=bought.user).aggregate(
        k=bought.count(), g=exact_sum(bought.amount), nt=exact_sum(bought.net)
    )
    exposed = campaign_notes(ev, info).select(exposed_person=_.user).distinct()

    u = (
        units.left_join(held, units.person == held.held_person)
        .left_join(per, units.person == per.buyer)
        .left_join(exposed, units.person == exposed.exposed_person)
    )
    u = u.select(
        held=u.held_person.notnull(),
        k=u.k.fill_null(0).cast("float64"),
        g=u.g.fill_null(0.0),
        nt=u.nt.fill_null(0.0),
        e=u.exposed_person.notnull().cast("int64"),
    )
    agg = u.group_by("held").aggregate(
        n=u.count(),
        orders=u.k.sum(),
        orders2=(u.k * u.k).sum(),
        buyers=(u.k > 0).cast("int64").sum(),
        gmv=exact_sum(u.g),
        gmv2=exact_sum(u.g * u.g),
        net=exact_sum(u.nt),
        net2=exact_sum(u.nt * u.nt),
        exposed=u.e.sum(),
    )
    by_group = {bool(r["held"]): r for r in session.arrow(agg).to_pylist()}
    comparison = compare_groups(
        _moments(by_group.get(False)),
        _moments(by_group.get(True)),
        spend=info.spend,
        expected_holdout_share=info.holdout_share,
        alpha=alpha,
        min_group=min_group,
    )
    return CampaignLift(
        campaign=info,
        category=category,
        window_days=float(window_days),
        window_start=info.start,
        window_end=window_end,
        window_complete=complete,
        comparison=comparison,
        treated_exposed=int((by_group.get(False) or {}).get("exposed") or 0),
        holdout_exposed=int((by_group.get(True) or {}).get("exposed") or 0),
    )
