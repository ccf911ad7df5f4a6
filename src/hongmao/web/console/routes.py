"""The console's pages: overview, funnel, notes, creators, campaigns, model comparison, links, and for
operators the platform table and API keys. Server-rendered; Chinese first, ``?lang=en`` switches.

Sign-in takes an API key and sets a session cookie (``hm_session``, a random id the server keeps; signing
out deletes it there). The view settings — language, model, the date range and filters (one range picker on
every report page, :mod:`hongmao.reports.period`), and for operators the brand looked at — come from the
query string and are remembered in cookies, so links between pages stay plain. Every form that
changes something, sign-in and sign-out included, carries a token checked on POST (:mod:`hongmao.web.csrf`).
Cookies are ``Secure`` whenever the page was asked for over https.

With a differential-privacy budget on (:mod:`hongmao.cleanroom.budget`), a brand key's pages obey it as the API
does, through the API's own functions: the overview, its daily series, the funnel, the notes, creators and
campaigns tables (and their CSV) and the note and creator pages are noisy and charged to the brand, one release
per figure family and period as their API twins (``/reports/overview``, ``/reports/timeseries``,
``/reports/funnel``, ``/reports/attribution``, ``/reports/economics``); the model comparison, the campaign ROI
story, a campaign's page (its ROI story), an order's journey and the overview's and a note's orders are refused
(a 403 page saying why, Chinese first). A release is keyed by what sets its figures (the model, the key and the
window), so the page's language or sort order cannot buy a fresh draw. Operators stay exact and are never charged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as PlainRequest

from hongmao.cleanroom import contributions
from hongmao.engine.attribute import MODELS
from hongmao.errors import LinkError
from hongmao.reports import period, privacy
from hongmao.reports.period import WHOLE_LAKE, PeriodError, Window
from hongmao.reports.scope import Scope
from hongmao.reports.service import PEOPLE_COUNTS
from hongmao.web import auth, charts, csrf, i18n, linkviews
from hongmao.web.console.fresh import StaleRoute
from hongmao.web.console.view import COLUMNS, COMPARED, INTERVALS, MARKETS, SORTABLE, View, change, render, sort_rows
from hongmao.web.csvexport import csv_response
from hongmao.web.deps import State, record_brand_query, resolve_scope
from hongmao.web.dp import (
    CAMPAIGN_ROI_REFUSED,
    COMPARE_REFUSED,
    ONE_ORDER,
    Noise,
    dp_budget,
    event_sums,
    keyed_sums,
    noisy_economics,
    noisy_funnel,
    noisy_overview,
    noisy_timeseries,
    present,
    with_events,
)
from hongmao.web.reportviews import campaign_rois, compare_withheld, window_of

router = APIRouter(prefix="/console", include_in_schema=False, route_class=StaleRoute)

SESSION = "hm_session"
MODEL_COOKIE = "hm_model"
BRAND_COOKIE = "hm_brand"
WINDOW_COOKIE = "hm_window"
DEFAULT_MODEL = "linear"
BY_CHOICES = ("note", "creator", "campaign", "item")
T = TypeVar("T")


def _pick_model(request: Request) -> str:
    for value in (request.query_params.get("model"), request.cookies.get(MODEL_COOKIE)):
        if value in MODELS:
            return value
    return DEFAULT_MODEL


def _window_params(request: Request) -> tuple[dict[str, str], bool]:
    """The range and filter parameters of a page: the query's, else the remembered ones; (params, from query).

    The picker's form sends its day fields whatever the preset: a preset (or ``all``) wins over them, and the
    touch kinds come as one box per kind."""
    q = request.query_params
    from_query = any(k in q for k in period.PARAMS)
    if from_query:
        params = {k: q[k] for k in period.PARAMS if k in q}
        if "touches" in q:
            params["touches"] = ",".join(q.getlist("touches"))
    else:
        params = dict(parse_qsl(request.cookies.get(WINDOW_COOKIE, "")))
    if params.get("range") in (*period.PRESETS, "all"):
        params.pop("from", None)
        params.pop("to", None)
    if params.get("range") == "all":
        params.pop("compare", None)
    return params, from_query


def resolve_window(request: Request, state: State, scope: Scope) -> Window:
    """The page's window; a bad parameter in the query is a 422 naming it, a stale remembered one (another
    brand's campaign, say) is dropped."""
    newest = state.reports.newest_day()
    choices = state.reports.filter_choices(scope)
    params, from_query = _window_params(request)
    if from_query:
        return window_of(params, newest, choices)
    try:
        return period.check_window(period.parse(params, newest), choices)
    except PeriodError:
        return WHOLE_LAKE


def view(request: Request, state: State) -> View:
    """Who is signed in and what they are looking at; redirects to sign-in when nobody is."""
    cookie = request.cookies.get(SESSION)
    key_id = state.sessions.key_id(cookie)
    principal = auth.principal_by_id(state.lake, key_id) if key_id else None
    lang = i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))
    if principal is None or cookie is None:
        target = quote(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""), safe="")
        raise HTTPException(303, headers={"location": f"/console/login?next={target}"})
    brand = request.query_params.get("brand")
    if brand is None:
        brand = request.cookies.get(BRAND_COOKIE) if principal.operator else None
    try:
        scope = resolve_scope(principal, brand or None, state)
    except HTTPException as error:
        if error.status_code == 404 and principal.operator:  # a remembered brand that is gone
            scope = Scope(None)
        else:
            raise
    record_brand_query(state, principal, scope, request)  # a brand key's page views are audited as its API queries
    return View(
        request=request,
        principal=principal,
        scope=scope,
        lang=lang,
        model=_pick_model(request),
        csrf=state.sessions.token(cookie, "form"),
        brands=state.reports.brands() if principal.operator else [principal.brand or ""],
        window=resolve_window(request, state, scope),
        newest=state.reports.newest_day(),
        choices=state.reports.filter_choices(scope),
        tz=str(state.reports.tz),
    )


def remember(response: Response, request: Request) -> Response:
    """Keep the view settings named in the query string in cookies."""
    q = request.query_params
    for name, cookie in (("lang", i18n.COOKIE), ("model", MODEL_COOKIE), ("brand", BRAND_COOKIE)):
        if name in q:
            response.set_cookie(
                cookie, q[name], max_age=365 * 86400, samesite="lax", httponly=True, secure=csrf.secure(request)
            )
    return response


#: The pages whose figures carry the budget's noise for a brand key (settlement and audiences do not).
NOISY_PAGES = frozenset(
    {"overview.html", "funnel.html", "table.html", "note.html", "creator.html", "links.html", "link.html"}
)


def page(v: View, template: str, *, ranged: bool = True, **context: Any) -> Response:
    """A rendered page; ``ranged``: it honours the range picker (shown above it) and remembers its choice. Under
    the differential-privacy budget a brand key's page names it and what the brand has spent (``dp``)."""
    budget = dp_budget(v.request.app.state.web) if template in NOISY_PAGES else None
    if budget is not None and v.scope.brand is not None and not v.user.operator and "dp" not in context:
        context["dp"] = {"spent": budget.spent(v.scope.brand), "total": budget.total}
    response = remember(render(v, template, ranged=ranged, **context), v.request)
    if ranged and any(k in v.request.query_params for k in period.PARAMS):
        response.set_cookie(
            WINDOW_COOKIE,
            urlencode(v.window.params()),
            max_age=30 * 86400,
            samesite="lax",
            httponly=True,
            secure=csrf.secure(v.request),
        )
    return response


def check_csrf(v: View, token: str) -> None:
    csrf.check(v.csrf, token)


# --- the differential-privacy budget -----------------------------------------------------------------------------


class Refused(Exception):
    """A page a brand key may not see under the budget (``why``, in English; the page says it in Chinese first
    from the i18n key ``dp.refused.<kind>``)."""

    def __init__(self, kind: str, why: str) -> None:
        super().__init__(why)
        self.kind, self.why = kind, why


def budgeted(v: View, state: State) -> bool:
    """Whether the differential-privacy budget covers this viewer's pages (a brand key's, with one in force)."""
    return not v.user.operator and v.scope.brand is not None and dp_budget(state) is not None


def refuse_under_budget(v: View, state: State, kind: str, why: str) -> None:
    if budgeted(v, state):
        raise Refused(kind, why)


def noise(v: View, state: State, report: str, **params: str) -> Noise:
    """The budget's noise for one of a page's figure families (``report``: its API twin's name), charged as the
    API charges it. The release is keyed by ``params`` (what sets the figures besides the window, which the
    release adds) rather than by the page's query, so language, sort order or a remembered cookie neither buy a
    fresh draw nor reuse another model's. Refusals leave no report audit line: the page view has one."""
    query = PlainRequest({"type": "http", "query_string": urlencode(sorted(params.items())).encode(), "headers": []})
    return Noise(state, v.user, v.scope, f"console.{report}", query, logged=False)


def refused_page(v: View, kind: str, why: str) -> Response:
    """The page's refusal under the budget: a 403 saying why, in the viewer's language and in English."""
    response = page(v, "refused.html", kind=kind, why=why, ranged=False, dp=None)
    response.status_code = 403
    return response


async def guarded(v: View, state: State, draw: Any) -> Response:
    """``await draw()``, or the refusal page when the budget refuses it (a refused kind of page, an exhausted
    budget, or a fitted model, whose per-person credit has no bound)."""
    try:
        response: Response = await draw()
        return response
    except Refused as refused:
        return refused_page(v, refused.kind, refused.why)
    except HTTPException as error:
        if error.status_code == 403 and budgeted(v, state):
            return refused_page(v, "budget", str(error.detail))
        raise


# --- sign in -------------------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, state: State, next: str = "/console/", error: str | None = None) -> Response:
    lang = i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))
    v = View.anonymous(request, lang)
    nonce = csrf.login_nonce(request)
    v.csrf = csrf.login_token(state.sessions, nonce)
    response = render(v, "login.html", next=_safe_next(next), error=error)
    return csrf.keep_login_nonce(remember(response, request), request, nonce)


@router.post("/login")
def login(
    request: Request,
    state: State,
    key: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/console/",
    csrf_token: Annotated[str, Form(alias="csrf")] = "",
) -> Response:
    csrf.check_login(request, state.sessions, csrf_token)
    principal = auth.authenticate(state.lake, key)
    if principal is None:
        return RedirectResponse(f"/console/login?error=1&next={quote(_safe_next(next), safe='')}", status_code=303)
    state.sessions.revoke(request.cookies.get(SESSION))  # signing in as someone else ends the session before
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION,
        state.sessions.issue(principal.key_id),
        max_age=state.sessions.seconds,
        httponly=True,
        samesite="lax",
        secure=csrf.secure(request),
        path="/",
    )
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/console/")
    response.delete_cookie(BRAND_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, state: State, csrf_token: Annotated[str, Form(alias="csrf")] = "") -> Response:
    """End the session on the server, so the cookie is worthless wherever it was copied to, then forget it."""
    cookie = request.cookies.get(SESSION)
    if cookie is not None and state.sessions.key_id(cookie) is not None:
        csrf.check(state.sessions.token(cookie, "form"), csrf_token)  # nobody else may sign this browser out
        state.sessions.revoke(cookie)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION, path="/", secure=csrf.secure(request), httponly=True, samesite="lax")
    return response


def _safe_next(target: str) -> str:
    # Only a path on this console: never another site (no open redirect through the sign-in form).
    return target if target.startswith("/console") and not target.startswith("//") else "/console/"


# --- reports ---------------------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, state: State) -> Response:
    v = view(request, state)
    return await guarded(v, state, lambda: _overview(v, state))


async def _overview(v: View, state: State) -> Response:
    await run_in_threadpool(state.fold_clicks)
    reports = state.reports
    w, before = v.window, v.previous
    everything = v.user.operator  # operators see every figure; a brand key's rest on k people or are withheld
    k = privacy.threshold(reports.privacy_k)
    totals, daily = noise(v, state, "overview", model=v.model), noise(v, state, "timeseries")

    def summarise(w: Window) -> dict[str, Any]:
        if totals.budget is None:
            return reports.overview(v.scope, v.model, window=w, unsuppressed=everything)
        raw = reports.overview(v.scope, v.model, window=w, unsuppressed=True)
        return privacy.overview(noisy_overview(totals, raw, w, v.model), k)

    summary = await run_in_threadpool(summarise, w)
    previous = await run_in_threadpool(summarise, before) if before else None
    days = await run_in_threadpool(lambda: reports.timeseries(v.scope, window=w))
    if daily.budget is not None:
        days = await run_in_threadpool(noisy_timeseries, daily, days, w)
    orders: list[dict[str, Any]] = []
    if not budgeted(v, state):  # under the budget no single order is shown to a brand key (as the API's)
        orders = await run_in_threadpool(lambda: reports.orders(v.scope, v.model, 12, window=w))
    if not everything:
        orders = privacy.orders(orders, k)
        days = privacy.activity_of(reports, v.scope, privacy.timeseries(days, k), "day", w, k)
        if daily.budget is not None:  # the k-threshold chose the days; their exact buyers are not released
            days = [{**d, "buyers": None, "attributed_buyers": None} for d in days]
    t = v.t
    labels = {
        "gmv": t("chart.gmv"),
        "attributed_gmv": t("chart.attributed_gmv"),
        "net": t("chart.net"),
        "spend": t("chart.spend"),
        "orders": t("chart.orders"),
        "attributed_orders": t("kpi.attributed_orders"),
    }
    return page(
        v,
        "overview.html",
        summary=summary,
        previous=previous,
        daily_chart=charts.daily(days, labels) if days else None,
        orders_chart=charts.orders(days, labels) if days else None,
        orders=orders,
        orders_refused=ONE_ORDER if budgeted(v, state) else None,
        privacy_k=k,
    )


FUNNEL_STEPS = ("impressions", "reads", "clicks", "store_visits", "search_back_users", "carts", "orders", "refunds")
RATES = ("read_rate", "engagement_rate", "ctr", "store_visit_rate", "search_back_rate")


@router.get("/funnel", response_class=HTMLResponse)
async def funnel(request: Request, state: State) -> Response:
    v = view(request, state)
    return await guarded(v, state, lambda: _funnel(v, state))


async def _funnel(v: View, state: State) -> Response:
    k = privacy.threshold(state.reports.privacy_k)
    op = v.user.operator
    counts = noise(v, state, "funnel")

    def run(w: Window) -> dict[str, Any]:
        if counts.budget is None:
            return state.reports.funnel(v.scope, window=w, k=k, unsuppressed=op)
        out = noisy_funnel(counts, state.reports.funnel(v.scope, window=w, unsuppressed=True), w)
        actors = state.reports.actors(v.scope, window=w)
        return privacy.activity_totals(privacy.funnel(out, PEOPLE_COUNTS, k), actors, k)

    data = await run_in_threadpool(run, v.window)
    before = v.previous
    earlier = await run_in_threadpool(run, before) if before else None
    steps = [(v.t(f"funnel.{s}"), data.get(s)) for s in FUNNEL_STEPS]
    rows = []
    previous: int | None = None
    for key, (label, value) in zip(FUNNEL_STEPS, steps, strict=True):
        ratio = value / previous if value is not None and previous else None
        rows.append({"key": key, "label": label, "value": value, "step_rate": ratio})
        if earlier is not None:
            rows[-1]["previous"] = earlier.get(key)
            rows[-1]["change"] = change(value, earlier.get(key))
        if value is not None and key != "search_back_users":
            previous = value
    return page(
        v,
        "funnel.html",
        chart=charts.funnel(steps),
        rows=rows,
        rates=[(v.t(f"rate.{r}"), data.get(r), earlier.get(r) if earlier else None) for r in RATES],
        data=data,
        earlier=earlier,
        privacy_k=k,
    )


def _table(kind: str, rows: Sequence[dict[str, Any]], request: Request) -> tuple[list[dict[str, Any]], str, str]:
    sort = request.query_params.get("sort", "net_gmv")
    direction = request.query_params.get("dir", "desc")
    if sort not in SORTABLE[kind]:
        sort = "net_gmv"
    return sort_rows(rows, sort, direction), sort, direction


def _economics(
    v: View, state: State, window: Window, kinds: tuple[str, ...] = ("creators", "notes")
) -> dict[str, list[dict[str, Any]]]:
    """Creator and note economics; a brand key's with the credit of rows under k buyers withheld, and under the
    budget each of ``kinds`` released with noise as ``/reports/economics`` releases it (one release per kind and
    period); the kinds not asked for are then left out."""
    reports = state.reports
    found = reports.economics(v.scope, v.model, window=window)
    if v.user.operator:
        return found
    k = privacy.threshold(reports.privacy_k)
    if not budgeted(v, state):
        buyers = {by: reports.buyers(v.scope, by, v.model, window=window) for by in ("creator", "note")}
        shown = privacy.economics(found, buyers, k)
        for kind in ("creators", "notes"):
            shown[kind] = privacy.activity_of(reports, v.scope, shown.get(kind) or [], kind[:-1], window, k)
        return shown
    out: dict[str, list[dict[str, Any]]] = {"creators": [], "notes": []}
    for kind in kinds:
        by = kind.removesuffix("s")
        rows = noisy_economics(noise(v, state, "economics", by=by, model=v.model), found[kind], window, by, v.model)
        if rows:
            rested = reports.buyers(v.scope, by, v.model, window=window)
            rows = privacy.entities(rows, by, rested, k, privacy.ECONOMICS_FIGURES)
            rows = privacy.activity_of(reports, v.scope, rows, by, window, k)
        out[kind] = rows
    return out


def _noisy_credit(v: View, state: State, rows: list[dict[str, Any]], by: str, w: Window) -> list[dict[str, Any]]:
    """Notes' or campaigns' credit (``by``) under the budget, released as ``/reports/attribution`` releases its
    rows (each person's orders, GMV and net GMV clamped across the rows; a fitted model refused), with the notes'
    events (impressions, reads, engagements, clicks) in the same release; a campaign's attributed ROI follows
    from its noisy net GMV, a note's CTR from its noisy clicks and reads."""
    reports, scope = state.reports, v.scope
    credit = noise(v, state, "attribution", by=by, model=v.model)
    field, bound = privacy.ENTITY_KEYS[by], credit.bounds
    per = credit.contributions(lambda: contributions.credits(reports, scope, w, by, v.model))
    sums = (("orders", bound["orders"]), ("gmv", bound["gmv"]), ("net_gmv", bound["gmv"]))
    keys, events = [str(r[field]) for r in rows], present(rows)
    credit({}, (), w, [*keyed_sums("rows", sums, keys, per), *event_sums(credit, w, by, keys, events)])
    out = [{**r, **{f: credit.values[f"rows.{f}:{r[field]}"] for f, _ in sums}} for r in rows]
    out = with_events(credit, out, field, events)
    if by == "campaign":
        out = [{**r, "attributed_roi": r["net_gmv"] / r["spend"] if r.get("spend") else None} for r in out]
    return out


def _kind_rows(kind: str, v: View, state: State, window: Window) -> list[dict[str, Any]]:
    """A table's rows; a brand key's with the credit of rows under k buyers withheld (:mod:`privacy`)."""
    reports = state.reports
    if kind == "notes":
        rows = reports.notes(v.scope, v.model, window=window)
        figures: tuple[str, ...] = privacy.ATTRIBUTION_FIGURES
    elif kind == "creators":
        return _economics(v, state, window)["creators"]
    else:
        rows = reports.campaigns(v.scope, v.model, window=window)
        figures = privacy.CAMPAIGN_FIGURES
    if v.user.operator or not rows:
        return rows
    by = "note" if kind == "notes" else "campaign"
    if budgeted(v, state):
        rows = _noisy_credit(v, state, rows, by, window)
    buyers = reports.buyers(v.scope, by, v.model, window=window)
    k = privacy.threshold(reports.privacy_k)
    shown = privacy.activity_of(reports, v.scope, privacy.entities(rows, by, buyers, k, figures), by, window, k)
    if budgeted(v, state):  # the k-threshold chose the rows; their exact buyers are not released
        shown = [{**r, "buyers": None} if "buyers" in r else r for r in shown]
    return shown


async def _rows(kind: str, v: View, state: State) -> list[dict[str, Any]]:
    """The table's rows over the page's window; with a comparison, each with the previous period's net GMV
    and the change (rows of the previous period alone are not listed)."""
    rows = await run_in_threadpool(_kind_rows, kind, v, state, v.window)
    before = v.previous
    if before is None:
        return rows
    earlier = await run_in_threadpool(_kind_rows, kind, v, state, before)
    key = COLUMNS[kind][0][0]
    then = {r[key]: r.get("net_gmv") for r in earlier}
    return [
        {**r, "net_gmv_previous": then.get(r[key]), "net_gmv_change": change(r.get("net_gmv"), then.get(r[key]))}
        for r in rows
    ]


def _columns(kind: str, v: View, rows: Sequence[dict[str, Any]] = ()) -> list[tuple[str, str]]:
    """The table's columns: the kind's, each note's interval when the model gives one (after its orders), and
    the previous period's with a comparison."""
    columns = list(COLUMNS[kind])
    if any(r.get("orders_low") is not None for r in rows):
        at = [c for c, _ in columns].index("orders") + 1
        columns[at:at] = INTERVALS
    return [*columns, *COMPARED] if v.previous else columns


def _baseline(v: View, state: State) -> dict[str, Any] | None:
    """What a fitted model (hazard, data-driven) credits to no note: the orders it expects would have happened
    anyway, and their share of the orders it credits (None for the rule models, which credit every order to
    notes). A brand key's is withheld (``withheld``) when its attribution totals are (``privacy.attribution``)."""
    reports = state.reports
    if budgeted(v, state):
        return None
    result = reports.attribution(v.scope, "note", v.model, window=v.window)
    if result.baseline_orders is None:
        return None
    if not v.user.operator:
        k = privacy.threshold(reports.privacy_k)
        if privacy.pool(reports.buyers(v.scope, "note", v.model, window=v.window), k)[1]:
            return {"withheld": True, "orders": None, "share": None}
    baseline, total = result.baseline_orders, result.total_orders
    return {"withheld": False, "orders": baseline, "share": baseline / total if total else None}


async def _extras(kind: str, v: View, state: State) -> dict[str, Any]:
    """What a table page shows beside its table: the creators page its notes' economics, the campaigns page
    each campaign's three ROIs."""
    if kind == "creators":
        economics = await run_in_threadpool(_economics, v, state, v.window)
        paid = [r for r in economics["notes"] if r["fee"]]
        return {"note_economics": sort_rows(paid, "fee", "desc"), "note_columns": COLUMNS["note_economics"]}
    if kind == "campaigns":
        if budgeted(v, state):
            return {"story_refused": CAMPAIGN_ROI_REFUSED}
        return {"story": await run_in_threadpool(campaign_rois, state, v.scope, v.model, v.window, v.user.operator)}
    return {}


def _table_page(kind: str) -> Any:
    async def html(request: Request, state: State) -> Response:
        v = view(request, state)
        return await guarded(v, state, lambda: draw(v, state))

    async def draw(v: View, state: State) -> Response:
        rows, sort, direction = _table(kind, await _rows(kind, v, state), v.request)
        extras = await _extras(kind, v, state)
        return page(
            v,
            "table.html",
            kind=kind,
            rows=rows,
            baseline=await run_in_threadpool(_baseline, v, state),
            columns=_columns(kind, v, rows),
            sort=sort,
            direction=direction,
            privacy_k=privacy.threshold(state.reports.privacy_k),
            **extras,
        )

    async def csv(request: Request, state: State) -> Response:
        v = view(request, state)
        return await guarded(v, state, lambda: export(v, state))

    async def export(v: View, state: State) -> Response:
        rows, _, _ = _table(kind, await _rows(kind, v, state), v.request)
        columns = [c for c, _ in _columns(kind, v, rows)]
        if any("suppressed" in r for r in rows):  # a brand key's export says which rows are withheld and why
            columns += ["suppressed"]
        return csv_response(rows, columns, f"{kind}-{v.scope.brand or 'all'}-{v.model}.csv")

    router.add_api_route(f"/{kind}", html, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(f"/{kind}.csv", csv, methods=["GET"])
    return html


for _kind in ("notes", "creators", "campaigns"):
    _table_page(_kind)


# --- drill-down: note -> orders -> journey; creator -> notes; campaign -> notes and creators -------------------


def _found(value: T | None, what: str, key: str) -> T:
    if value is None:
        raise HTTPException(404, f"no {what} {key!r}")
    return value


@router.get("/notes/{note_id}", response_class=HTMLResponse)
async def note_page(request: Request, state: State, note_id: str) -> Response:
    v = view(request, state)
    return await guarded(v, state, lambda: _note_page(v, state, note_id))


async def _note_page(v: View, state: State, note_id: str) -> Response:
    w = v.window
    orders = _found(
        await run_in_threadpool(lambda: state.reports.note_orders(v.scope, note_id, v.model, window=w)), "note", note_id
    )
    economics = await run_in_threadpool(_economics, v, state, w, ("notes",))
    note = _found(next((r for r in economics["notes"] if r["note_id"] == note_id), None), "note", note_id)
    k = privacy.threshold(state.reports.privacy_k)
    shown = orders if v.user.operator else privacy.note_orders(orders, k)
    if budgeted(v, state):  # no single order under the budget (as the API's /notes/{id}/orders)
        shown = None
    return page(
        v,
        "note.html",
        note=note,
        orders=shown or [],
        orders_withheld=shown is None,
        orders_refused=ONE_ORDER if budgeted(v, state) else None,
        privacy_k=k,
        columns=COLUMNS["note_economics"],
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, state: State, order_id: str) -> Response:
    v = view(request, state)
    return await guarded(v, state, lambda: _order_page(v, state, order_id))


async def _order_page(v: View, state: State, order_id: str) -> Response:
    refuse_under_budget(v, state, "order", ONE_ORDER)
    journey = _found(await run_in_threadpool(state.reports.journey, v.scope, order_id, v.model), "order", order_id)
    k = privacy.threshold(state.reports.privacy_k)
    if not v.user.operator:
        journey = privacy.journey(journey, k)
    return page(v, "order.html", order=journey, ranged=False, privacy_k=k)


@router.get("/creators/{creator_id}", response_class=HTMLResponse)
async def creator_page(request: Request, state: State, creator_id: str) -> Response:
    v = view(request, state)
    return await guarded(v, state, lambda: _creator_page(v, state, creator_id))


async def _creator_page(v: View, state: State, creator_id: str) -> Response:
    economics = await run_in_threadpool(_economics, v, state, v.window)
    creator = _found(
        next((r for r in economics["creators"] if r["creator_id"] == creator_id), None), "creator", creator_id
    )
    notes = [r for r in economics["notes"] if r["creator_id"] == creator_id]
    return page(
        v,
        "creator.html",
        creator=creator,
        notes=notes,
        columns=COLUMNS["creators"],
        note_columns=COLUMNS["note_economics"],
    )


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_page(request: Request, state: State, campaign_id: str) -> Response:
    v = view(request, state)
    return await guarded(v, state, lambda: _campaign_page(v, state, campaign_id))


async def _campaign_page(v: View, state: State, campaign_id: str) -> Response:
    refuse_under_budget(v, state, "campaign_roi", CAMPAIGN_ROI_REFUSED)
    story = await run_in_threadpool(campaign_rois, state, v.scope, v.model, v.window, v.user.operator)
    mine = _found([c for c in story if c["campaign_id"] == campaign_id] or None, "campaign", campaign_id)
    economics = await run_in_threadpool(_economics, v, state, v.window)
    notes = [r for r in economics["notes"] if r["campaign_id"] == campaign_id]
    ids = {r["creator_id"] for r in notes}
    creators = [r for r in economics["creators"] if r["creator_id"] in ids]
    return page(
        v,
        "campaign.html",
        privacy_k=privacy.threshold(state.reports.privacy_k),
        story=mine,
        notes=notes,
        creators=creators,
        note_columns=COLUMNS["note_economics"],
        columns=COLUMNS["creators"],
    )


@router.get("/models", response_class=HTMLResponse)
async def models(request: Request, state: State, by: str = "note", metric: str = "net_gmv") -> Response:
    v = view(request, state)
    if budgeted(v, state):
        return refused_page(v, "compare", COMPARE_REFUSED)
    by = by if by in BY_CHOICES else "note"
    metric = metric if metric in ("net_gmv", "orders") else "net_gmv"
    # The fitted models (hazard, data-driven: minutes on a large lake) never hold the page: it shows the models
    # ready now and names the ones still being computed in the background.
    data = await run_in_threadpool(
        lambda: state.reports.compare(v.scope, by, list(MODELS), 15, v.model, window=v.window, wait=False)
    )
    if not v.user.operator:
        k = privacy.threshold(state.reports.privacy_k)
        data = await run_in_threadpool(compare_withheld, state, v.scope, by, data, k, v.window)
    named = [(m, v.t(f"model.{m}")) for m in MODELS if m in data["models"]]
    shown = [r for r in data["rows"] if not r.get("suppressed")]
    chart = charts.compare(shown[:8], named, metric) if shown else None
    return page(
        v,
        "models.html",
        data=data,
        by=by,
        metric=metric,
        chart=chart,
        named=named,
        pending=[v.t(f"model.{m}") for m in data.get("pending", [])],
        failed=[v.t(f"model.{m}") for m in data.get("failed", [])],
        by_choices=BY_CHOICES,
        privacy_k=privacy.threshold(state.reports.privacy_k),
    )


@router.get("/platform", response_class=HTMLResponse)
async def platform(request: Request, state: State) -> Response:
    v = view(request, state)
    if not v.user.operator:
        raise HTTPException(403, "operators only")
    rows = await run_in_threadpool(lambda: state.reports.platform(v.model, window=v.window))
    before = v.previous
    if before is not None:
        past = await run_in_threadpool(lambda: state.reports.platform(v.model, window=before))
        then = {r["brand"]: r["net_gmv"] for r in past}
        rows = [
            r | {"net_gmv_previous": then.get(r["brand"]), "net_gmv_change": change(r["net_gmv"], then.get(r["brand"]))}
            for r in rows
        ]
    return page(v, "platform.html", rows=rows)


@router.get("/trust", response_class=HTMLResponse)
async def trust(request: Request, state: State) -> Response:
    """Operators: flagged notes and creators with evidence, and the feeds' commercial share by day."""
    v = view(request, state)
    if not v.user.operator:
        raise HTTPException(403, "operators only")
    # The guard judges every note: the range applies (flags as of its last day, the trend over its days), the
    # filters the other pages remember do not, and the page says so when some are set.
    ranged = Window(period=v.window.period)
    data = await run_in_threadpool(lambda: state.reports.trust(window=ranged))
    series = [(key, v.t(f"trust.{key}")) for key in ("commercial_share", "undisclosed_share")]
    chart = charts.shares(data["trend"], series) if data["trend"] else None
    unfiltered = bool(v.window.filters.params())
    return page(v, "trust.html", data=data, chart=chart, filters_ignored=unfiltered)


# --- links ------------------------------------------------------------------------------------------------------


@router.get("/links", response_class=HTMLResponse)
async def links(request: Request, state: State, created: str | None = None, revoked: str | None = None) -> Response:
    v = view(request, state)
    return await guarded(v, state, lambda: _links(v, state, created, revoked))


async def _links(v: View, state: State, created: str | None, revoked: str | None) -> Response:
    request = v.request
    counts = noise(v, state, "links")
    views = await run_in_threadpool(lambda: linkviews.list_links(state, v.scope, noise=counts))
    notes = await run_in_threadpool(state.reports.notes, v.scope, v.model)
    items = await run_in_threadpool(state.reports.items, v.scope)
    return page(
        v,
        "links.html",
        links=views,
        notes=notes,
        items=items,
        markets=MARKETS,
        created=created,
        revoked=revoked,
        error=request.query_params.get("error"),
        ranged=False,
    )


@router.get("/links/{link_id}", response_class=HTMLResponse)
async def link_page(request: Request, state: State, link_id: str) -> Response:
    """One link: clicks per day (bots apart), device classes, and the visits and orders its click ids carried;
    under the budget the clicks noisy (charged as the API's twin) and the conversions withheld."""
    v = view(request, state)
    return await guarded(v, state, lambda: _link_page(v, state, link_id))


async def _link_page(v: View, state: State, link_id: str) -> Response:
    counts = noise(v, state, f"links/{link_id}/stats")
    try:
        data = await run_in_threadpool(
            lambda: linkviews.stats(state, v.scope, link_id, v.window, operator=v.user.operator, noise=counts)
        )
    except linkviews.NotYours:
        raise HTTPException(404, f"no link {link_id!r}") from None
    labels = {"clicks": v.t("links.clicks"), "bot_clicks": v.t("links.bot_clicks")}
    chart = charts.clicks(data["days"], labels) if data["days"] else None
    return page(v, "link.html", data=data, chart=chart, privacy_k=privacy.threshold(state.reports.privacy_k))


@router.post("/links")
async def create_link(
    request: Request,
    state: State,
    csrf: Annotated[str, Form()],
    note_id: Annotated[str, Form()],
    item_id: Annotated[str, Form()],
    market: Annotated[str, Form()] = "tmall",
    url: Annotated[str, Form()] = "",
    expires_days: Annotated[str, Form()] = "",
) -> Response:
    v = view(request, state)
    check_csrf(v, csrf)
    try:
        days = float(expires_days) if expires_days.strip() else None
        made = await run_in_threadpool(
            lambda: linkviews.create(
                state, v.scope, note_id=note_id, item_id=item_id, market=market, url=url or None, expires_days=days
            )
        )
    except (LinkError, ValueError) as error:
        return RedirectResponse(f"/console/links?error={quote(str(error))}", status_code=303)
    return RedirectResponse(f"/console/links?created={made.record.link_id}", status_code=303)


@router.post("/links/{link_id}/revoke")
async def revoke_link(request: Request, state: State, link_id: str, csrf: Annotated[str, Form()]) -> Response:
    v = view(request, state)
    check_csrf(v, csrf)
    try:
        await run_in_threadpool(linkviews.revoke, state, v.scope, link_id)
    except linkviews.NotYours:
        raise HTTPException(404, f"no link {link_id!r}") from None
    return RedirectResponse(f"/console/links?revoked={link_id}", status_code=303)


# --- keys (operators) -----------------------------------------------------------------------------------------


@router.get("/keys", response_class=HTMLResponse)
async def keys(request: Request, state: State) -> Response:
    v = view(request, state)
    if not v.user.operator:
        raise HTTPException(403, "operators only")
    listed = await run_in_threadpool(auth.list_keys, state.lake)
    return page(v, "keys.html", keys=listed, new_key=None, ranged=False)


@router.post("/keys", response_class=HTMLResponse)
async def create_key(
    request: Request,
    state: State,
    csrf: Annotated[str, Form()],
    role: Annotated[str, Form()] = "brand",
    brand: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
) -> Response:
    v = view(request, state)
    if not v.user.operator:
        raise HTTPException(403, "operators only")
    check_csrf(v, csrf)
    chosen: auth.Role = "operator" if role == "operator" else "brand"
    try:
        _, key = await run_in_threadpool(auth.create_key, state.lake, chosen, brand or None, label or None)
    except auth.ApiKeyError as error:
        raise HTTPException(422, str(error)) from None
    listed = await run_in_threadpool(auth.list_keys, state.lake)
    return page(v, "keys.html", keys=listed, new_key=key, ranged=False)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(request: Request, state: State, key_id: str, csrf: Annotated[str, Form()]) -> Response:
    v = view(request, state)
    if not v.user.operator:
        raise HTTPException(403, "operators only")
    check_csrf(v, csrf)
    try:
        await run_in_threadpool(auth.revoke_key, state.lake, key_id)
    except auth.ApiKeyError as error:
        raise HTTPException(404, str(error)) from None
    return RedirectResponse("/console/keys", status_code=303)
