"""Differential-privacy helpers shared by the API's routes and the console's pages: the brand's budget in force,
the noise of one request (:class:`Noise`, charged to the brand's ledger, :mod:`hongmao.cleanroom.budget`), the
noisy releases of the reports (overview, funnel, attribution, daily series, economics) and the reasons what no
bounded sum gives is refused.

Event counts (impressions, reads, clicks, engagements, carts) are sums over people too: each person's events of a
kind are counted (:func:`event_people`: the event's pseudonym, else the one the marketplace saw on a click's visit
or order, else the event alone) and clamped to the events bound (setting ``dp_events_bound``, default 20) per
figure and query (across the rows of a figure, scaled down in total), then released in the same release as the
figures beside them, so a report still costs one query's epsilon. At the default per-query epsilon (0.5) the noise
scale of an event figure is the default bound over its share of it: 520 events for each of the funnel's (13
figures), 360 for the daily series' (9), 280 for the notes' (7), 40 for the link listing's one.

Neither the API nor the console owns these helpers, so the console imports no API route module for them. Also
the report audit line a refusal leaves (:func:`audited`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import HTTPException, Request

from hongmao.cleanroom import audit, contributions
from hongmao.cleanroom.budget import Budget, BudgetExhausted, Sums
from hongmao.reports import privacy
from hongmao.reports.period import Window
from hongmao.reports.scope import Scope
from hongmao.web.auth import Principal
from hongmao.web.state import WebState

#: The endpoint prefix of a report query's audit line.
AUDITED = "GET /api/v1/reports/"


def audited(
    state: WebState,
    who: Principal,
    scope: Scope,
    report: str,
    request: Request,
    answer: Any,
    outcome: str = "ok",
    epsilon: float | None = None,
) -> None:
    """One audit line for a brand key's report query (operators' are not logged): the key's id, role and brand,
    the report, the query's parameters and how many rows (days, fields) the answer withholds
    (:func:`hongmao.reports.privacy.withheld_count`). Called before the answer leaves: a log that cannot be
    written fails the request rather than let a query go unrecorded."""
    if who.operator:
        return
    params = {**dict(request.query_params), "brand": scope.brand}
    audit.record(
        state.data_dir,
        principal={"key_id": who.key_id, "role": who.role, "brand": who.brand},
        endpoint=AUDITED + report,
        params=params,
        outcome=outcome,
        withheld=privacy.withheld_count(answer),
        epsilon=epsilon,
    )


def dp_budget(state: WebState) -> Budget | None:
    """The differential-privacy budget in force (:mod:`hongmao.cleanroom.budget`), once per app; None: off."""
    if "dp_budget" not in state.extras:
        state.extras["dp_budget"] = Budget.from_settings(state.data_dir)
    found = state.extras["dp_budget"]
    return found if isinstance(found, Budget) else None


class Noise:
    """A brand key's counts of people released with noise under the brand's budget, one request's worth
    (the period asked for and, with ``compare``, the previous one): ``spent`` sums what it cost."""

    def __init__(
        self, state: WebState, who: Principal, scope: Scope, report: str, request: Request, *, logged: bool = True
    ) -> None:
        self.state, self.who, self.scope, self.report, self.request = state, who, scope, report, request
        self.budget = None if who.operator or scope.brand is None else dp_budget(state)
        #: Whether a refusal leaves a report audit line (the entity endpoints log each query before answering).
        self.logged = logged
        self.spent: float | None = None
        #: The last release's values, rows' figures too (named ``figure:key``).
        self.values: dict[str, Any] = {}
        #: The last release's ``dp`` block.
        self.dp: dict[str, Any] = {}

    def __call__(
        self, raw: dict[str, Any], fields: tuple[str, ...], w: Window, sums: Sequence[Sums] = ()
    ) -> dict[str, Any]:
        """``raw`` with its counts of people (``fields``) and ``sums`` released with noise, and a ``dp`` block:
        the epsilon spent, the brand's total, what is noisy and, per figure, the clamp bound and noise scale."""
        if self.budget is None or self.scope.brand is None:
            return raw
        params = {**audit.clean(self.request.query_params), "window": w.describe()}
        counts = {f: raw[f] for f in fields if raw.get(f) is not None}
        try:
            got = self.budget.release(
                self.scope.brand, self.report, params, counts, version=self.state.reports.view.version(), sums=sums
            )
        except BudgetExhausted as exc:
            self.refuse(str(exc))
        self.spent = (self.spent or 0.0) + got["epsilon"]
        self.values = dict(got["values"])
        dp = {k: got[k] for k in ("epsilon", "spent", "total", "repeated", "mechanisms")}
        values = {n: v for n, v in got["values"].items() if ":" not in n}  # rows' figures: see :func:`keyed_sums`
        self.dp = dp | {"noisy": sorted(values) + sorted({f.figure for f in sums})}
        return {**raw, **values, "dp": self.dp}

    @property
    def bounds(self) -> dict[str, float]:
        """The clamp bound of each kind of figure: ``orders`` and ``gmv`` (GMV, net GMV, refunds)."""
        assert self.budget is not None
        return {"orders": self.budget.orders_bound, "gmv": self.budget.gmv_bound}

    def refuse(self, why: str) -> Any:
        """A 403 with ``why``, logged as refused."""
        if self.logged:
            audited(self.state, self.who, self.scope, self.report, self.request, None, f"refused: {why}")
        raise HTTPException(403, why) from None

    def refuse_all(self, why: str) -> None:
        """Under the budget, this report is refused to a brand key: no bounded, noisy answer exists (``why``)."""
        if self.budget is not None:
            self.refuse(f"{why} (差分隐私预算下不提供此报告)")

    def contributions(self, compute: Callable[[], Any]) -> Any:
        """``compute()`` (people's contributions), a fitted model refused with the reason."""
        try:
            return compute()
        except contributions.NotBounded as exc:
            return self.refuse(str(exc))


def keyed_sums(
    prefix: str, figures: Sequence[tuple[str, float]], keys: Sequence[str], per: Mapping[str, Mapping[str, Any]]
) -> list[Sums]:
    """One vector sum per figure (named ``prefix.figure``, with the bound given) over ``keys``: each person's
    contributions ``per[person][key][figure]``, named ``prefix.figure:key`` (read back from :attr:`Noise.values`)."""
    if not keys:
        return []
    return [
        Sums(
            f"{prefix}.{f}",
            bound,
            tuple(f"{prefix}.{f}:{key}" for key in keys),
            {u: {f"{prefix}.{f}:{key}": c.get(f, 0.0) for key, c in mine.items()} for u, mine in per.items()},
        )
        for f, bound in figures
    ]


def noisy_attribution(
    noise: Noise, out: dict[str, Any], w: Window, by: str, model: str, half_life: float
) -> dict[str, Any]:
    """An attribution answer under the brand's budget: each row's credited orders, GMV and net GMV, and the
    window's orders and attributed orders, released by OpenDP with each person's contribution clamped
    (:data:`~hongmao.cleanroom.budget.ORDERS_BOUND` orders, :data:`~hongmao.cleanroom.budget.GMV_BOUND` yuan
    over all the rows of a figure); the unattributed orders follow from them. A fitted model is refused."""
    reports, scope, bound = noise.state.reports, noise.scope, noise.bounds
    per = noise.contributions(lambda: contributions.credits(reports, scope, w, by, model, half_life_days=half_life))
    bought = contributions.orders(reports, scope, w)
    keys = [str(r["key"]) for r in out["rows"]]
    figures = (("orders", bound["orders"]), ("gmv", bound["gmv"]), ("net_gmv", bound["gmv"]))
    sums = keyed_sums("rows", figures, keys, per)
    sums.append(Sums("orders", bound["orders"], ("orders",), {u: {"orders": v["orders"]} for u, v in bought.items()}))
    credited = {u: {"total_orders": sum(c["orders"] for c in mine.values())} for u, mine in per.items()}
    sums.append(Sums("total_orders", bound["orders"], ("total_orders",), credited))
    released = noise(out, (), w, sums)
    values = noise.values
    released["rows"] = [
        {**r, **{f: values[f"rows.{f}:{r['key']}"] for f in contributions.CREDIT_FIGURES}} for r in out["rows"]
    ]
    released["unattributed_orders"] = max(0.0, released["orders"] - released["total_orders"])
    return released


def noisy_overview(noise: Noise, raw: dict[str, Any], w: Window, model: str) -> dict[str, Any]:
    """The overview under the brand's budget: its counts of people and its sums (orders, GMV, refunds, and the
    attributed orders, GMV and net GMV of rule ``model``) released by OpenDP, each person's contribution clamped;
    net GMV, ROI and the new-customer share follow from the released figures. A fitted model is refused."""
    reports, scope, bounds = noise.state.reports, noise.scope, noise.bounds
    per = noise.contributions(lambda: contributions.credits(reports, scope, w, "note", model))
    bought = contributions.orders(reports, scope, w)
    sums = [
        Sums(f, bounds[kind], (f,), {u: {f: v[f]} for u, v in bought.items()})
        for f, kind in (("orders", "orders"), ("gmv", "gmv"), ("refunded", "gmv"))
    ]
    for f, bound in (("orders", bounds["orders"]), ("gmv", bounds["gmv"]), ("net_gmv", bounds["gmv"])):
        name = f"attributed_{f}"
        people = {u: {name: sum(c[f] for c in mine.values())} for u, mine in per.items()}
        sums.append(Sums(name, bound, (name,), people))
    out = noise(raw, OVERVIEW_PEOPLE, w, sums)
    out["net_gmv"] = max(0.0, out["gmv"] - out["refunded"])
    spend = float(out.get("spend") or 0.0)
    out["attributed_roi"] = out["attributed_net_gmv"] / spend if spend else None
    if out.get("attributed_buyers") and out.get("new_customers") is not None:
        out["new_customers"] = min(out["new_customers"], out["attributed_buyers"])
        out["new_customer_share"] = out["new_customers"] / out["attributed_buyers"]
    return out


#: Why the model comparison is refused under the differential-privacy budget.
COMPARE_REFUSED = (
    "under the differential-privacy budget the model comparison is not answered to a brand key: it sets fitted "
    "models (Markov, Shapley, hazard, data-driven) beside rule ones, and one person's share of a fitted model's "
    "credit is not bounded; each rule model's noisy attribution is at /reports/attribution"
)
#: Why the campaign ROI story is refused under the differential-privacy budget.
CAMPAIGN_ROI_REFUSED = (
    "under the differential-privacy budget the campaign ROI story is not answered to a brand key: its incremental "
    "ROI is a holdout lift with an interval over everyone in the community and its ROI(T+x) a separate window, "
    "neither a per-person sum with a bound; the campaigns' noisy attributed credit is at "
    "/reports/attribution?by=campaign"
)


#: The overview's counts of people that carry noise under a differential-privacy budget.
OVERVIEW_PEOPLE = ("buyers", "attributed_buyers", "new_customers")


def noisy_timeseries(noise: Noise, rows: list[dict[str, Any]], w: Window) -> list[dict[str, Any]]:
    """The daily series under the brand's budget: each day's orders, GMV and refunds, and its attributed orders,
    GMV and net GMV, released by OpenDP as one vector per figure over the days, each person's contribution across
    the days clamped to the bound in total; a day's net GMV follows from its GMV and refunds. The day's
    impressions, reads and clicks are released the same way (each person's events of a kind clamped to
    the events bound across the days), in the same release. Spend (the brand's own) stays exact."""
    per = contributions.daily(noise.state.reports, noise.scope, w)
    bound = noise.bounds
    figures = [(f, bound["orders" if f.endswith("orders") else "gmv"]) for f in contributions.DAY_FIGURES]
    days = [str(r["day"]) for r in rows]
    events = present(rows, SERIES_EVENTS)
    noise({}, (), w, [*keyed_sums("days", figures, days, per), *event_sums(noise, w, "day", days, events)])
    values = noise.values
    out = []
    for r in rows:
        day = {**r, **{f: values[f"days.{f}:{r['day']}"] for f in contributions.DAY_FIGURES}}
        day["net_gmv"] = max(0.0, day["gmv"] - day["refunded"])
        out.append(day)
    return with_events(noise, out, "day", events)


#: The daily series' event figures.
SERIES_EVENTS = ("impressions", "reads", "clicks")


#: Why the economics rows' incremental figures are withheld under the differential-privacy budget.
INCREMENTAL_WITHHELD = (
    "a share of a campaign's holdout lift, estimated over everyone in the community: not a per-person sum with a "
    "bound, so not released under the differential-privacy budget"
)


def noisy_economics(noise: Noise, rows: list[dict[str, Any]], w: Window, by: str, model: str) -> list[dict[str, Any]]:
    """Economics rows under the brand's budget: each row's credited orders and net GMV released by OpenDP (rule
    ``model``'s credit, each person's clamped across the rows; a fitted model is refused), the cost per order and
    attributed ROI following from them; the incremental figures withheld (:data:`INCREMENTAL_WITHHELD`). Each
    row's impressions and engagements are released in the same release (each person's events of a kind clamped
    to the events bound across the rows), the CPM and CPE following from them. Fees (the brand's own) stay
    exact."""
    reports, scope, bound = noise.state.reports, noise.scope, noise.bounds
    per = noise.contributions(lambda: contributions.credits(reports, scope, w, by, model))
    field = privacy.ENTITY_KEYS[by]
    figures = (("orders", bound["orders"]), ("net_gmv", bound["gmv"]))
    keys = [str(r[field]) for r in rows]
    events = present(rows, ("impressions", "engagements"))
    noise({}, (), w, [*keyed_sums("rows", figures, keys, per), *event_sums(noise, w, by, keys, events)])
    noise.dp["withheld"] = dict.fromkeys(("incremental_net_gmv", "incremental_roi"), INCREMENTAL_WITHHELD)
    values, out = noise.values, []
    for r in rows:
        orders, net = values[f"rows.orders:{r[field]}"], values[f"rows.net_gmv:{r[field]}"]
        cost = r["fee"] or None
        out.append(
            {
                **r,
                "orders": orders,
                "net_gmv": net,
                "cost_per_order": cost / orders if cost and orders else None,
                "attributed_roi": net / cost if cost else None,
                "incremental_net_gmv": None,
                "incremental_roi": None,
            }
        )
    return with_events(noise, out, field, events)


#: Why a single order's figures are refused under the differential-privacy budget.
ONE_ORDER = (
    "one order is one person's purchase: under the differential-privacy budget no single order, its credit or its "
    "journey is answered to a brand key; the noisy totals are at /reports/overview and /reports/attribution"
)


# --- events ----------------------------------------------------------------------------------------------------

#: The event figures of the notes' and creators' rows (and the economics rows' two).
ROW_EVENTS = ("impressions", "reads", "engagements", "clicks")


def event_people(
    reports: Any, scope: Scope, window: Window, by: str | None, *, link_id: str | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """Per person, per key, per event figure (:data:`hongmao.reports.activity.FIGURES`): how many of the window's
    events are theirs. ``by``: ``note`` (a click counts for its link's note), ``day`` (ISO business day),
    ``link``, ``ua_class`` (a click's device class), or None (one key, ``""``). ``link_id``: only that link's
    clicks. A person is :func:`hongmao.reports.activity.keyed_events`' (the event's pseudonym, else the one the
    marketplace saw on the click's visit or order, else the event alone). Flagged accounts' engagement is left
    out, as the reports leave it."""
    from hongmao.engine import Session, tables
    from hongmao.reports.activity import key_text, keyed_events
    from hongmao.reports.service import restrict

    session = Session(reports.view.segments(scope))
    try:
        act = tables.without_engagement(restrict(session.events, window, reports.tz), reports.excluded_users() or None)
        keyed = keyed_events(act, by or "", reports.tz, link_id=link_id)
        rows = session.rows(keyed.group_by(["person", "key", "figure"]).aggregate(n=keyed.count()))
    finally:
        session.close()
    out: dict[str, dict[str, dict[str, float]]] = {}
    for r in rows:
        mine = out.setdefault(str(r["person"]), {}).setdefault(key_text(r["key"]), {})
        mine[str(r["figure"])] = mine.get(str(r["figure"]), 0.0) + float(r["n"] or 0)
    return out


def regroup(
    per: Mapping[str, Mapping[str, Mapping[str, float]]], owner: Mapping[str, Any]
) -> dict[str, dict[str, dict[str, float]]]:
    """``per``'s keys mapped through ``owner`` (a note's creator or campaign, say), their figures added up; keys
    ``owner`` does not name are left out."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for person, mine in per.items():
        for key, figures in mine.items():
            to = owner.get(key)
            if to is None:
                continue
            got = out.setdefault(person, {}).setdefault(str(to), {})
            for f, n in figures.items():
                got[f] = got.get(f, 0.0) + n
    return out


def event_sums(
    noise: Noise,
    w: Window,
    by: str,
    keys: Sequence[str],
    figures: Sequence[str],
    *,
    link_id: str | None = None,
    prefix: str = "events",
) -> list[Sums]:
    """The event ``figures`` of the rows ``keys`` (by ``by``: ``note``, ``creator``, ``campaign``, ``day``,
    ``link``, ``ua_class``; or ``""``: one scalar per figure, named as the figure) as sums for ``noise``, each
    person's events clamped to the events bound per figure (across the rows). Rows' figures are named
    ``prefix.figure:key`` (read back with :func:`noisy_counts`)."""
    if not figures or (by and not keys):
        return []
    reports, scope = noise.state.reports, noise.scope
    source = "note" if by in ("creator", "campaign") else by or None
    per = event_people(reports, scope, w, source, link_id=link_id)
    if by in ("creator", "campaign"):
        notes = reports.note_activity(scope, window=w)
        per = regroup(per, {str(n["note_id"]): n.get(f"{by}_id") for n in notes})
    assert noise.budget is not None
    bound = noise.budget.events_bound
    if not by:
        return [Sums(f, bound, (f,), {u: {f: c.get("", {}).get(f, 0.0)} for u, c in per.items()}) for f in figures]
    return keyed_sums(prefix, [(f, bound) for f in figures], keys, per)


def noisy_counts(noise: Noise, key: str, figures: Sequence[str], prefix: str = "events") -> dict[str, int]:
    """Row ``key``'s released event ``figures`` (rounded to whole events: post-processing)."""
    return {f: round(noise.values[f"{prefix}.{f}:{key}"]) for f in figures}


def with_events(
    noise: Noise, rows: Sequence[dict[str, Any]], field: str, figures: Sequence[str]
) -> list[dict[str, Any]]:
    """``rows`` with their released event ``figures`` and what follows from them: the CTR (clicks per read), CPM
    (fee per thousand impressions) and CPE (fee per engagement) where the row has them."""
    out = []
    for r in rows:
        row = {**r, **noisy_counts(noise, str(r[field]), figures)}
        if "ctr" in row and "clicks" in figures:
            row["ctr"] = row["clicks"] / row["reads"] if row.get("reads") else None
        cost = row.get("fee") or None
        if "cpm" in row:
            row["cpm"] = cost * 1000.0 / row["impressions"] if cost and row.get("impressions") else None
        if "cpe" in row:
            row["cpe"] = cost / row["engagements"] if cost and row.get("engagements") else None
        out.append(row)
    return out


def present(rows: Sequence[Mapping[str, Any]], figures: Sequence[str] = ROW_EVENTS) -> tuple[str, ...]:
    """The event ``figures`` ``rows`` carry."""
    return tuple(f for f in figures if rows and f in rows[0])


#: The funnel's event figures released with noise under the budget.
FUNNEL_EVENTS = ("impressions", "reads", "clicks", "engagements", "carts")
#: Why the funnel's other steps are withheld under the budget.
FUNNEL_WITHHELD = (
    "under the differential-privacy budget this step is not released to a brand key: it counts events through a "
    "chain (a click's visit, an order's refund) whose per-person bound this release does not carry; the noisy "
    "clicks and orders are"
)


def noisy_funnel(noise: Noise, raw: dict[str, Any], w: Window) -> dict[str, Any]:
    """The funnel under the brand's budget, one release: its counts of people, its events (impressions, reads,
    clicks, engagements, carts; each person's clamped to the events bound per step) and its orders, GMV and
    refunds (clamped as the overview's); store visits, counted clicks and refunded orders withheld
    (:data:`FUNNEL_WITHHELD`); the rates follow from the released figures (the CTR from all human clicks)."""
    from hongmao.reports.service import PEOPLE_COUNTS

    reports, scope, bounds = noise.state.reports, noise.scope, noise.bounds
    sums = event_sums(noise, w, "", (), FUNNEL_EVENTS)
    bought = contributions.orders(reports, scope, w)
    sums += [
        Sums(f, bounds[kind], (f,), {u: {f: v[f]} for u, v in bought.items()})
        for f, kind in (("orders", "orders"), ("gmv", "gmv"), ("refunded", "gmv"))
    ]
    out = noise(raw, PEOPLE_COUNTS, w, sums)
    for f in (*FUNNEL_EVENTS, "orders"):
        out[f] = round(out[f])
    withheld = ("store_visits", "counted_clicks", "refunds")
    out |= dict.fromkeys(withheld)
    noise.dp["withheld"] = dict.fromkeys((*withheld, "store_visit_rate"), FUNNEL_WITHHELD)
    reads = out["reads"]
    out["read_rate"] = reads / out["impressions"] if out["impressions"] else None
    out["engagement_rate"] = out["engagements"] / reads if reads else None
    out["ctr"] = out["clicks"] / reads if reads else None
    out["store_visit_rate"] = None
    if out.get("readers") and out.get("search_back_users") is not None:
        out["search_back_rate"] = out["search_back_users"] / out["readers"]
    return out
