"""Reports: attribution by note, creator, campaign or item under any model; model comparison; the funnel;
the overview; the daily series; and the per-brand table for operators. All scoped by the caller's key.

Every report takes a date range and filters (``trust`` a range only) (:mod:`hongmao.reports.period`): ``range``
(yesterday, 7d, 30d: the days ending on the lake's newest day; all; custom), ``from``/``to`` (YYYY-MM-DD in
the business time zone), ``compare`` (also the previous period of the same length, as ``previous``),
``campaign``, ``tier``, ``item``, ``category``, ``touches`` and ``disclosed``. The answer says what it
covers in ``window``. A bad value is a 422 naming the parameter.

A brand key's answers go through :mod:`hongmao.reports.privacy` (figures resting on fewer than k people are
withheld, and say so), and every report a brand key asks for leaves a line in the deployment's audit log
(:mod:`hongmao.cleanroom.audit`: who, which report, the parameters, how many rows were withheld; never an
identifier), which operators read at ``GET /reports/audit``.

With a differential-privacy budget on (:mod:`hongmao.cleanroom.budget`), a brand key's funnel and overview counts
of people, the overview's sums, the attribution rows and totals, the daily series' sales and attributed figures
and the economics rows' orders and net GMV carry OpenDP's noise, and so do the event counts beside them (the
funnel's impressions, reads, clicks, engagements, carts, orders and GMV; the daily series' and economics rows'
impressions, reads, clicks and engagements; :mod:`hongmao.web.dp`), each person's contribution clamped to a stated
bound; the answer's ``dp`` block names the epsilon spent and, per figure, the bound and the noise scale. What no
bounded sum gives (the model comparison, which needs fitted models; the campaign ROI story, whose lift and
ROI(T+x) are not per-person sums) is refused with a 403 saying why. Without one, the difference check
(:class:`Differences`) withholds from the funnel, the overview and attribution the figures whose difference from
the brand's earlier answer over overlapping days rests on fewer than k people, and names them in ``differenced``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from hongmao.cleanroom import audit, differences
from hongmao.engine.attribute import MODELS
from hongmao.engine.windows import TOUCH_KINDS
from hongmao.errors import AttributionError
from hongmao.reports import period, privacy
from hongmao.reports.period import Period, Window
from hongmao.reports.scope import Scope
from hongmao.reports.service import PEOPLE_COUNTS
from hongmao.web.auth import Principal
from hongmao.web.csvexport import csv_response
from hongmao.web.deps import Caller, Operator, State, TenantScope
from hongmao.web.dp import (
    AUDITED,
    CAMPAIGN_ROI_REFUSED,
    COMPARE_REFUSED,
    OVERVIEW_PEOPLE,
    Noise,
    audited,
    dp_budget,
    noisy_attribution,
    noisy_economics,
    noisy_funnel,
    noisy_overview,
    noisy_timeseries,
)
from hongmao.web.reportviews import campaign_rois, compare_withheld, window_of
from hongmao.web.state import WebState

router = APIRouter(prefix="/reports", tags=["reports"])

By = Literal["note", "creator", "campaign", "item", "brand"]
# The models are listed in the document as an enum; an unknown one is still answered by check_model (422).
ENUM: dict[str, Any] = {"enum": list(MODELS)}
ModelName = Annotated[str, Query(description=f"Attribution model: {', '.join(MODELS)}.", json_schema_extra=ENUM)]
#: The 200 of a report that also comes as CSV (``format=csv``).
CSV_TOO: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV with format=csv."}
}
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")]


async def report_window(
    request: Request,
    state: State,
    scope: TenantScope,
    range: Annotated[
        str | None,
        Query(
            description="yesterday, 7d or 30d (the days ending on the lake's newest day), all (default), or custom "
            "(from/to).",
            json_schema_extra={"enum": [*period.PRESETS, "all", "custom"]},
        ),
    ] = None,
    from_: Annotated[
        str | None, Query(alias="from", description="First day, YYYY-MM-DD, in the business time zone.")
    ] = None,
    to: Annotated[str | None, Query(description="Last day (inclusive), YYYY-MM-DD.")] = None,
    compare: Annotated[
        str | None, Query(description="yes: also the previous period of the same length, as `previous`.")
    ] = None,
    campaign: Annotated[str | None, Query(description="Only this campaign's notes.")] = None,
    tier: Annotated[str | None, Query(description="Only notes of creators of this tier (koc, kol, ...).")] = None,
    item: Annotated[str | None, Query(description="Only this item (its orders, visits, carts).")] = None,
    category: Annotated[str | None, Query(description="Only items of this category.")] = None,
    touches: Annotated[str | None, Query(description=f"Comma-separated touch kinds: {','.join(TOUCH_KINDS)}.")] = None,
    disclosed: Annotated[str | None, Query(description="yes: disclosed notes only; no: undisclosed only.")] = None,
) -> Window:
    newest = await run_in_threadpool(state.reports.newest_day)
    window = window_of(request.query_params, newest)
    if window.filters.notes or window.filters.items:
        window = window_of(request.query_params, newest, await run_in_threadpool(state.reports.filter_choices, scope))
    return window


ReportWindow = Annotated[Window, Depends(report_window)]


async def with_previous(compute: Callable[[Window], Any], window: Window) -> dict[str, Any]:
    """``window`` and (when asked) the previous period's ``previous`` for a report: ``compute(window)``."""
    out: dict[str, Any] = {"window": window.describe()}
    before = period.previous(window)
    if before is not None:
        out["previous"] = await run_in_threadpool(compute, before)
    return out


#: Why a figure is withheld by the difference check (:mod:`hongmao.cleanroom.differences`).
def differenced(k: int) -> str:
    return f"differs from an earlier answer over overlapping days by {privacy.reason(k)}"


#: An attribution answer's totals, as the difference check's store names them.
TOTALS = "totals"
#: The overview's sums and the people they rest on.
OVERVIEW_SUMS = ((privacy.OVERVIEW_SALES, "buyers"), (privacy.OVERVIEW_ATTRIBUTED, "attributed_buyers"))


class Differences:
    """The difference check of a brand key's answers when no differential-privacy budget is on
    (:mod:`hongmao.cleanroom.differences`): each answer is compared with the brand's earlier answers of the same
    report, parameters and filters over overlapping ranges; a figure whose difference rests on fewer than k
    people is withheld (``None``, named in ``suppressed`` or the row's ``suppressed``, and listed in
    ``differenced``). Off for operators and under a budget (the noise covers differencing there)."""

    def __init__(
        self, state: WebState, who: Principal, scope: Scope, report: str, k: int | None, **params: Any
    ) -> None:
        self.state, self.scope, self.report, self.params = state, scope, report, params
        self.k = k if k is not None else 0
        self.on = not who.operator and scope.brand is not None and k is not None and dp_budget(state) is None
        # The lake version before the answer is computed: an answer over the same range on a later version (late
        # data) has its counts of people compared too.
        self.version = state.reports.view.version() if self.on else None

    def _family(self, w: Window) -> str:
        return differences.family(self.report, {**self.params, **w.filters.params()})

    @staticmethod
    def days(w: Window) -> differences.Days:
        return differences.ALL_DAYS if w.period is None else (w.period.start, w.period.end)

    def earlier(self, w: Window) -> list[differences.Answered]:
        assert self.scope.brand is not None
        return differences.earlier(self.state.data_dir, self.scope.brand, self._family(w), self.days(w), self.version)

    def remember(self, w: Window, counts: Mapping[str, Any], shown: Sequence[str] = ()) -> None:
        assert self.scope.brand is not None
        name, brand = self._family(w), self.scope.brand
        differences.remember(self.state.data_dir, brand, self.report, name, self.days(w), counts, shown, self.version)

    def gaps(
        self, w: Window, before: Sequence[differences.Answered]
    ) -> list[tuple[differences.Answered, list[differences.Days]]]:
        """Each earlier answer with the days one range has and the other lacks."""
        return [(b, differences.gaps(self.days(w), b.days)) for b in before]

    def busiest(self, w: Window, gaps: Sequence[differences.Days], field: str = "buyers") -> int:
        """A lower bound of the distinct people (``field``: buyers or attributed buyers) with orders on the
        ``gaps`` days: the most on any one of those days (from the daily series over their span)."""
        newest = self.state.reports.newest_day()
        gaps = [g for g in gaps if newest is None or g[0] <= newest]
        if not gaps:
            return 0
        last = max(g[1] for g in gaps)  # no day after the lake's newest holds anyone
        span = Window(Period(min(g[0] for g in gaps), last if newest is None else min(last, newest)), w.filters)
        most = 0
        for day in self.state.reports.timeseries(self.scope, window=span):
            when = str(day["day"])[:10]
            if any(g[0].isoformat() <= when <= g[1].isoformat() for g in gaps):
                most = max(most, int(day.get(field) or 0))
        return most

    def counts(self, out: dict[str, Any], names: Sequence[str], before: Sequence[differences.Answered]) -> list[str]:
        """Withhold ``out``'s counts of people (``names``) that differ from an earlier answer's by fewer than k."""
        hidden = differences.close_counts({n: out.get(n) for n in names}, before, self.k)
        for n in hidden:
            out[n] = None
        return hidden

    def funnel(self, out: dict[str, Any], w: Window) -> dict[str, Any]:
        if not self.on:
            return out
        out = dict(out)
        hidden = self.counts(out, PEOPLE_COUNTS, self.earlier(w))
        if hidden:
            out["suppressed"] = [*out.get("suppressed", []), *hidden]
            out["differenced"] = hidden
            if out.get("search_back_users") is None or out.get("readers") is None:
                out["search_back_rate"] = None
        self.remember(w, {n: out.get(n) for n in PEOPLE_COUNTS})
        return out

    def overview(self, out: dict[str, Any], w: Window) -> dict[str, Any]:
        if not self.on:
            return out
        out = dict(out)
        before = self.earlier(w)
        hidden = self.counts(out, OVERVIEW_PEOPLE, before)
        for b, gaps in self.gaps(w, before):
            for figures, field in OVERVIEW_SUMS:
                visible = any(out.get(f) is not None for f in figures)
                if visible and field in b.shown and differences.thin(self.busiest(w, gaps, field), self.k):
                    hidden += [f for f in figures if out.get(f) is not None]
                    out |= dict.fromkeys(figures)
        if hidden:
            gone = out.get("new_customers") is None or out.get("attributed_buyers") is None
            if gone and out.get("new_customer_share") is not None:
                out["new_customer_share"] = None
                hidden.append("new_customer_share")
            out["suppressed"] = [*out.get("suppressed", []), *(f for f in hidden if f not in out.get("suppressed", []))]
            out["differenced"] = sorted(set(hidden))
        shown = [field for figures, field in OVERVIEW_SUMS if any(out.get(f) is not None for f in figures)]
        self.remember(w, {n: out.get(n) for n in OVERVIEW_PEOPLE}, shown)
        return out

    def attribution(self, out: dict[str, Any], w: Window, by: str, model: str) -> dict[str, Any]:
        """Rows whose credit changes through fewer than k buyers on the days between this range and an earlier
        one (the key's buyers on those days, from the lake) lose their figures; so does the folded row of the
        k-threshold's pool when its keys' buyers on those days are fewer than k, and the totals when any row
        goes or the window's buyers on those days are fewer than k."""
        if not self.on:
            return out
        before = self.earlier(w)
        reports, why = self.state.reports, differenced(self.k)
        pooled = {str(r["key"]) for r in out["rows"] if r.get("suppressed") and r["key"] != privacy.WITHHELD_KEY}
        gone: set[str] = set()
        pool_thin = totals_thin = False
        for b, gaps in self.gaps(w, before):
            moved: dict[str, int] = {}
            for g in gaps:
                for key, n in reports.buyers(self.scope, by, model, window=Window(Period(*g), w.filters)).items():
                    moved[key] = max(moved.get(key, 0), n)
            gone |= {k for k, n in moved.items() if differences.thin(n, self.k) and k not in pooled and k in b.shown}
            if privacy.WITHHELD_KEY in b.shown:
                pool_thin |= differences.thin(max((moved.get(key, 0) for key in pooled), default=0), self.k)
            if TOTALS in b.shown:
                totals_thin |= differences.thin(self.busiest(w, gaps), self.k)
        rows = []
        for row in out["rows"]:
            key = str(row["key"])
            if key in gone or (key == privacy.WITHHELD_KEY and pool_thin and row.get("suppressed") is None):
                row = {**row, **dict.fromkeys(privacy.ATTRIBUTION_FIGURES), "buyers": None, "suppressed": why}
            rows.append(row)
        result = {**out, "rows": rows}
        marked = sorted(gone & {str(r["key"]) for r in out["rows"]})
        if marked or totals_thin:
            totals = [f for f in privacy.ATTRIBUTION_TOTALS if result.get(f) is not None]
            result |= dict.fromkeys(totals)
            result["suppressed"] = sorted({*result.get("suppressed", []), *totals})
        pool = [privacy.WITHHELD_KEY] if pool_thin and any(r["key"] == privacy.WITHHELD_KEY for r in rows) else []
        if marked or totals_thin or pool:
            result["differenced"] = marked + pool + ([TOTALS] if marked or totals_thin else [])
        shown = [str(r["key"]) for r in rows if r.get("gmv") is not None]
        self.remember(w, {}, shown + ([TOTALS] if result.get("total_orders") is not None else []))
        return result


def check_model(model: str) -> str:
    if model not in MODELS:
        raise HTTPException(422, f"unknown model {model!r}; known: {', '.join(MODELS)}")
    return model


@router.get(
    "/attribution", summary="Orders, GMV and net GMV credited by note, creator, campaign or item", responses=CSV_TOO
)
async def attribution(
    request: Request,
    scope: TenantScope,
    principal: Caller,
    state: State,
    window: ReportWindow,
    by: By = "note",
    model: ModelName = "linear",
    half_life: Annotated[float, Query(gt=0, description="time_decay half-life in days.")] = 7.0,
    markov_order: Annotated[int, Query(ge=1, le=4)] = 1,
    limit: Annotated[int | None, Query(ge=1)] = None,
    format: Format = "json",
) -> Any:
    check_model(model)

    def run(w: Window) -> Any:
        return state.reports.attribution(
            scope, by, model, half_life_days=half_life, markov_order=markov_order, window=w
        )

    k = None if principal.operator else privacy.threshold(state.reports.privacy_k)
    noise = Noise(state, principal, scope, "attribution", request)
    params = {"by": by, "model": model, "half_life": half_life, "markov_order": markov_order}
    diff = Differences(state, principal, scope, "attribution", k, **params)

    def body(w: Window) -> dict[str, Any]:
        out = _attribution_body(run(w))
        if noise.budget is not None:
            out = noisy_attribution(noise, out, w, by, model, half_life)
        if k is not None:
            out = privacy.attribution(out, state.reports.buyers(scope, by, model, window=w), k)
            if noise.budget is not None:  # the k-threshold chose the rows; their exact buyers are not released
                out["rows"] = [{**r, "buyers": None} for r in out["rows"]]
            out = diff.attribution(out, w, by, model)
        if limit:
            out["rows"] = out["rows"][:limit]
        return out

    try:
        result = await run_in_threadpool(body, window)
        await run_in_threadpool(
            audited, state, principal, scope, "attribution", request, result["rows"], "ok", noise.spent
        )
        if format == "csv":
            columns = ["key", "orders", "gmv", "net_gmv", *(["buyers", "suppressed"] if k is not None else [])]
            return csv_response(result["rows"], columns, f"attribution-{by}-{model}.csv")
        extra = await with_previous(body, window)
    except AttributionError as error:
        raise HTTPException(422, str(error)) from None
    return {"brand": scope.brand, **result, **extra}


def _attribution_body(result: Any) -> dict[str, Any]:
    """An attribution answer; a brand key's goes through :func:`hongmao.reports.privacy.attribution`, which
    withholds rows (and folds them) before ``limit`` cuts the list, so a cut never shows a pool's parts."""
    return {
        "model": result.model,
        "by": result.by,
        "params": result.params,
        "orders": result.orders,
        "total_orders": result.total_orders,
        "unattributed_orders": result.unattributed_orders,
        "rows": result.rows,
    }


@router.get("/compare", summary="The same keys' credit under several models side by side")
async def compare(
    request: Request,
    scope: TenantScope,
    principal: Caller,
    state: State,
    by: By = "note",
    models: Annotated[str, Query(description="Comma-separated models (default: all).")] = ",".join(MODELS),
    top: Annotated[int, Query(ge=1, le=500)] = 20,
    rank: Annotated[
        str | None, Query(description="The model whose net GMV ranks the keys.", json_schema_extra=ENUM)
    ] = None,
    *,
    window: ReportWindow,
) -> dict[str, Any]:
    chosen = [check_model(m.strip()) for m in models.split(",") if m.strip()]
    if not chosen:
        raise HTTPException(422, "name at least one model")

    k = None if principal.operator else privacy.threshold(state.reports.privacy_k)
    Noise(state, principal, scope, "compare", request).refuse_all(COMPARE_REFUSED)

    def run(w: Window) -> dict[str, Any]:
        out = state.reports.compare(scope, by, chosen, top, rank, window=w)
        return out if k is None else compare_withheld(state, scope, by, out, k, w)

    out = await run_in_threadpool(run, window)
    await run_in_threadpool(audited, state, principal, scope, "compare", request, out["rows"])
    return {"brand": scope.brand, **out, **await with_previous(run, window)}


@router.get("/funnel", summary="Impressions -> reads -> clicks -> store visits -> search-back -> carts -> orders")
async def funnel(
    request: Request, scope: TenantScope, principal: Caller, state: State, window: ReportWindow
) -> dict[str, Any]:
    k = privacy.threshold(state.reports.privacy_k)
    noise = Noise(state, principal, scope, "funnel", request)
    diff = Differences(state, principal, scope, "funnel", k)

    def run(w: Window) -> dict[str, Any]:
        if noise.budget is None:
            return diff.funnel(state.reports.funnel(scope, window=w, k=k, unsuppressed=principal.operator), w)
        out = noisy_funnel(noise, state.reports.funnel(scope, window=w, unsuppressed=True), w)
        return privacy.activity_totals(privacy.funnel(out, PEOPLE_COUNTS, k), state.reports.actors(scope, window=w), k)

    out = await run_in_threadpool(run, window)
    extra = await with_previous(run, window)
    await run_in_threadpool(audited, state, principal, scope, "funnel", request, out, "ok", noise.spent)
    return {"brand": scope.brand, "privacy_k": k, **out, **extra}


@router.get("/overview", summary="Spend, attributed GMV and net GMV, ROI, orders and new-customer share")
async def overview(
    request: Request,
    scope: TenantScope,
    principal: Caller,
    state: State,
    window: ReportWindow,
    model: ModelName = "linear",
) -> dict[str, Any]:
    """A brand key's totals are withheld when the window's buyers are under k, its attributed totals when its
    attributed buyers are, and its counts of people under k (:func:`hongmao.reports.privacy.overview`)."""
    check_model(model)
    k = privacy.threshold(state.reports.privacy_k)
    noise = Noise(state, principal, scope, "overview", request)
    diff = Differences(state, principal, scope, "overview", k, model=model)

    def run(w: Window) -> dict[str, Any]:
        if noise.budget is None:
            exact = state.reports.overview(scope, model, window=w, k=k, unsuppressed=principal.operator)
            return diff.overview(exact, w)
        raw = state.reports.overview(scope, model, window=w, unsuppressed=True)
        return privacy.overview(noisy_overview(noise, raw, w, model), k)

    out = await run_in_threadpool(run, window)
    extra = await with_previous(run, window)
    await run_in_threadpool(audited, state, principal, scope, "overview", request, out, "ok", noise.spent)
    return {"privacy_k": k, **out, **extra}


SERIES_COLUMNS = [
    "day",
    "spend",
    "orders",
    "gmv",
    "net_gmv",
    "refunded",
    "attributed_orders",
    "attributed_gmv",
    "attributed_net_gmv",
    "impressions",
    "reads",
    "clicks",
    "buyers",
    "attributed_buyers",
]


@router.get("/timeseries", summary="One row per business day (UTC+08:00)", responses=CSV_TOO)
async def timeseries(
    request: Request,
    scope: TenantScope,
    principal: Caller,
    state: State,
    window: ReportWindow,
    format: Format = "json",
) -> Any:
    """A brand key's days under k buyers (or attributed buyers) lose those figures, with the reason
    (:func:`hongmao.reports.privacy.timeseries`); the smallest day at or above k goes with them."""
    k = None if principal.operator else privacy.threshold(state.reports.privacy_k)
    noise = Noise(state, principal, scope, "timeseries", request)

    def run(w: Window) -> dict[str, Any]:
        rows = state.reports.timeseries(scope, window=w)
        if noise.budget is not None:
            rows = noisy_timeseries(noise, rows, w)
        if k is not None:
            rows = privacy.activity_of(state.reports, scope, privacy.timeseries(rows, k), "day", w, k)
            if noise.budget is not None:  # the k-threshold chose the days; their exact buyers are not released
                rows = [{**r, "buyers": None, "attributed_buyers": None} for r in rows]
        return {"days": rows, **({"dp": noise.dp} if noise.budget is not None else {})}

    out = await run_in_threadpool(run, window)
    rows = out["days"]
    extra = {} if format == "csv" else await with_previous(run, window)  # before the audit line: its epsilon too
    await run_in_threadpool(audited, state, principal, scope, "timeseries", request, rows, "ok", noise.spent)
    if format == "csv":
        return csv_response(rows, [*SERIES_COLUMNS, *(["suppressed"] if k is not None else [])], "daily.csv")
    return {"brand": scope.brand, **({} if k is None else {"privacy_k": k}), **out, **extra}


@router.get("/trust", summary="Operators: flagged notes and creators with evidence, and the feeds' commercial share")
async def trust(_: Operator, state: State, window: ReportWindow) -> dict[str, Any]:
    """With a range: the flags as the guard judged them on its last day (every event up to its end) and the
    feeds' commercial share over its days. Filters do not apply (the guard judges every note): one is a 422."""
    given = window.filters.params()
    if given:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", min(given)),
                    "msg": "the trust report judges every note; filters do not apply to it (a range does)",
                    "type": "value_error",
                }
            ]
        )
    data: dict[str, Any] = await run_in_threadpool(lambda: state.reports.trust(window=window))
    return {**data, "window": window.describe()}


@router.get("/platform", summary="Operators: every brand's orders, GMV, spend, attributed net GMV and ROI")
async def platform(_: Operator, state: State, window: ReportWindow, model: ModelName = "linear") -> dict[str, Any]:
    check_model(model)

    def run(w: Window) -> dict[str, Any]:
        return {"brands": state.reports.platform(model, window=w)}

    out = await run_in_threadpool(run, window)
    return {"model": model, **out, **await with_previous(run, window)}


@router.get(
    "/campaign-roi",
    summary="Each campaign's attributed ROI, attributed ROI(T+x) at its category's decision cycle and incremental "
    "ROI from its holdout lift (95% intervals), named apart, with why they differ",
)
async def campaign_roi(
    request: Request,
    scope: TenantScope,
    principal: Caller,
    state: State,
    window: ReportWindow,
    model: ModelName = "linear",
) -> dict[str, Any]:
    check_model(model)
    Noise(state, principal, scope, "campaign-roi", request).refuse_all(CAMPAIGN_ROI_REFUSED)

    def run(w: Window) -> dict[str, Any]:
        return {"campaigns": campaign_rois(state, scope, model, w, principal.operator)}

    out = await run_in_threadpool(run, window)
    await run_in_threadpool(audited, state, principal, scope, "campaign-roi", request, out["campaigns"])
    return {"brand": scope.brand, "model": model, **out, **await with_previous(run, window)}


ECONOMICS_COLUMNS = [
    "fee",
    "impressions",
    "engagements",
    "orders",
    "net_gmv",
    "cpm",
    "cpe",
    "cost_per_order",
    "attributed_roi",
    "incremental_net_gmv",
    "incremental_roi",
]


@router.get(
    "/economics",
    summary="Creator economics (蒲公英's view): fees, CPM, CPE, cost per attributed order, attributed and "
    "incremental ROI on fees, per creator or per note",
    responses=CSV_TOO,
)
async def economics(
    request: Request,
    scope: TenantScope,
    principal: Caller,
    state: State,
    window: ReportWindow,
    model: ModelName = "linear",
    by: Annotated[Literal["creator", "note"], Query(description="creator (default) or note.")] = "creator",
    format: Format = "json",
) -> Any:
    check_model(model)

    k = None if principal.operator else privacy.threshold(state.reports.privacy_k)
    noise = Noise(state, principal, scope, "economics", request)

    def run(w: Window) -> dict[str, Any]:
        rows = state.reports.economics(scope, model, window=w)["creators" if by == "creator" else "notes"]
        if noise.budget is not None:
            rows = noisy_economics(noise, rows, w, by, model)
        if k is not None and rows:
            buyers = state.reports.buyers(scope, by, model, window=w)
            rows = privacy.entities(rows, by, buyers, k, privacy.ECONOMICS_FIGURES)
            rows = privacy.activity_of(state.reports, scope, rows, by, w, k)
        return {"rows": rows, **({"dp": noise.dp} if noise.budget is not None else {})}

    out = await run_in_threadpool(run, window)
    rows = out["rows"]
    extra = {} if format == "csv" else await with_previous(run, window)  # before the audit line: its epsilon too
    await run_in_threadpool(audited, state, principal, scope, "economics", request, rows, "ok", noise.spent)
    if format == "csv":
        head = ["creator_id", "tier", "notes"] if by == "creator" else ["note_id", "title", "creator_id", "campaign_id"]
        tail = ["suppressed"] if k is not None else []
        return csv_response(rows, [*head, *ECONOMICS_COLUMNS, *tail], f"economics-{by}.csv")
    return {"brand": scope.brand, "model": model, "by": by, **out, **extra}


@router.get(
    "/audit",
    summary="Operators: the audit log of brand keys' report and entity queries (who, what, parameters, rows withheld)",
)
async def report_audit(
    _: Operator,
    state: State,
    brand: Annotated[str | None, Query(description="Only the lines about this brand.")] = None,
    report: Annotated[str | None, Query(description="Only this report (attribution, overview, ...).")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="The newest this many lines.")] = 200,
) -> dict[str, Any]:
    # The reports' lines, the entity endpoints' (notes, orders, journeys, ...) and the console's pages; audiences
    # keep their own view.
    lines = [x for x in await run_in_threadpool(audit.read, state.data_dir) if "audiences" not in x["endpoint"]]
    if brand:
        lines = [x for x in lines if brand in (x["principal"].get("brand"), x["params"].get("brand"))]
    if report:
        lines = [x for x in lines if x["endpoint"] == AUDITED + report]
    return {"lines": lines[-limit:], "total": len(lines)}
