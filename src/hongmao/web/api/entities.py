"""The scope's notes, creators, items, campaigns and orders; any id outside the scope answers 404. Every brand
key's query here is audited before it is answered (who, which endpoint, its parameters), as the reports are.

Under a differential-privacy budget (:mod:`hongmao.cleanroom.budget`) a brand key's notes, creators, campaigns
and items carry OpenDP's noise on their credit (orders, GMV, net GMV; a campaign's attributed ROI follows) or
sales (an item's orders and GMV), and the notes' and creators' events (impressions, reads, engagements, clicks,
each person's clamped to :data:`hongmao.cleanroom.budget.EVENTS_BOUND` per kind; the CTR follows) in the same release,
charged to the brand's budget as the reports are (one release per listing, model and lake version: asking for
one note after the list costs nothing more), and their exact buyers are not released. What rests on one person
or on no bounded sum is refused with a 403 saying why: an order, the orders list, an order's journey, a note's
orders and a campaign's ROI story."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from hongmao.cleanroom import contributions
from hongmao.reports import privacy
from hongmao.reports.period import WHOLE_LAKE
from hongmao.reports.scope import Scope
from hongmao.web.api.reports import ModelName, check_model
from hongmao.web.auth import Principal
from hongmao.web.deps import Caller, State, TenantScope, owned, record_brand_query
from hongmao.web.dp import (
    CAMPAIGN_ROI_REFUSED,
    ONE_ORDER,
    Noise,
    dp_budget,
    event_sums,
    keyed_sums,
    present,
    with_events,
)
from hongmao.web.reportviews import campaign_rois
from hongmao.web.state import WebState


def noise_for(state: WebState, principal: Principal, scope: Scope, request: Request, listing: str) -> Noise:
    """The budget's noise for an entity listing (``listing``), its refusals logged by the entity audit only."""
    return Noise(state, principal, scope, f"entities.{listing}", request, logged=False)


def audit_brand_query(request: Request, principal: Caller, scope: TenantScope, state: State) -> None:
    """Every brand key's query here is audited before it is answered (:func:`hongmao.web.deps.record_brand_query`)."""
    record_brand_query(state, principal, scope, request)


router = APIRouter(tags=["entities"], dependencies=[Depends(audit_brand_query)])


@router.get("/brands", summary="The brands the caller may see")
async def brands(scope: TenantScope, state: State) -> dict[str, Any]:
    if scope.brand is not None:
        return {"brands": [scope.brand]}
    return {"brands": await run_in_threadpool(state.reports.brands)}


@router.get("/notes", summary="Notes with activity and credit under a model")
async def notes(
    request: Request, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    noise = noise_for(state, principal, scope, request, "notes")
    rows = await run_in_threadpool(_credited, state, scope, "note", model, principal.operator, noise)
    return {"brand": scope.brand, "model": model, "notes": rows, **_dp(noise)}


@router.get("/notes/{note_id}", summary="One note")
async def note(
    note_id: str,
    request: Request,
    scope: TenantScope,
    principal: Caller,
    state: State,
    model: ModelName = "linear",
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "notes", note_id)
    noise = noise_for(state, principal, scope, request, "notes")
    rows = await run_in_threadpool(_credited, state, scope, "note", model, principal.operator, noise)
    return {**_one(rows, "note_id", note_id), **_dp(noise)}


@router.get("/creators", summary="Creators of the scope's notes with activity and credit")
async def creators(
    request: Request, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    noise = noise_for(state, principal, scope, request, "creators")
    rows = await run_in_threadpool(_credited, state, scope, "creator", model, principal.operator, noise)
    return {"brand": scope.brand, "model": model, "creators": rows, **_dp(noise)}


@router.get("/creators/{creator_id}", summary="One creator")
async def creator(
    creator_id: str,
    request: Request,
    scope: TenantScope,
    principal: Caller,
    state: State,
    model: ModelName = "linear",
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "creators", creator_id)
    noise = noise_for(state, principal, scope, request, "creators")
    rows = await run_in_threadpool(_credited, state, scope, "creator", model, principal.operator, noise)
    return {**_one(rows, "creator_id", creator_id), **_dp(noise)}


@router.get("/items", summary="Items on sale with their orders and GMV (a brand key's under k withheld)")
async def items(request: Request, scope: TenantScope, principal: Caller, state: State) -> dict[str, Any]:
    noise = noise_for(state, principal, scope, request, "items")
    rows = await run_in_threadpool(_items, state, scope, principal.operator, noise)
    return {"brand": scope.brand, "items": rows, **_dp(noise)}


@router.get("/items/{item_id}", summary="One item")
async def item(item_id: str, request: Request, scope: TenantScope, principal: Caller, state: State) -> dict[str, Any]:
    owned(state, scope, "items", item_id)
    noise = noise_for(state, principal, scope, request, "items")
    rows = await run_in_threadpool(_items, state, scope, principal.operator, noise)
    return {**_one(rows, "item_id", item_id), **_dp(noise)}


@router.get("/campaigns", summary="Campaigns with spend, credit and ROI")
async def campaigns(
    request: Request, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    noise = noise_for(state, principal, scope, request, "campaigns")
    rows = await run_in_threadpool(_credited, state, scope, "campaign", model, principal.operator, noise)
    return {"brand": scope.brand, "model": model, "campaigns": rows, **_dp(noise)}


@router.get("/campaigns/{campaign_id}", summary="One campaign")
async def campaign(
    campaign_id: str,
    request: Request,
    scope: TenantScope,
    principal: Caller,
    state: State,
    model: ModelName = "linear",
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "campaigns", campaign_id)
    noise = noise_for(state, principal, scope, request, "campaigns")
    rows = await run_in_threadpool(_credited, state, scope, "campaign", model, principal.operator, noise)
    return {**_one(rows, "campaign_id", campaign_id), **_dp(noise)}


@router.get("/orders", summary="The latest orders with the notes credited for each")
async def orders(
    scope: TenantScope,
    principal: Caller,
    state: State,
    model: ModelName = "linear",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    check_model(model)
    _one_person(state, principal, scope)
    await run_in_threadpool(state.fold_clicks)
    rows = await run_in_threadpool(state.reports.orders, scope, model, limit)
    if not principal.operator:
        rows = privacy.orders(rows, privacy.threshold(state.reports.privacy_k))
    return {"brand": scope.brand, "orders": rows}


@router.get("/orders/{order_id}", summary="One order with its credited notes")
async def order(
    order_id: str, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "orders", order_id)
    _one_person(state, principal, scope)
    found = await run_in_threadpool(state.reports.order, scope, order_id, model)
    if found is None:
        raise HTTPException(404, f"no order {order_id!r}")
    if principal.operator:
        return found
    return privacy.order(found, privacy.threshold(state.reports.privacy_k))


@router.get("/notes/{note_id}/orders", summary="The orders a note is credited with, and its share of each")
async def note_orders(
    note_id: str, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "notes", note_id)
    _one_person(state, principal, scope)
    rows = await run_in_threadpool(state.reports.note_orders, scope, note_id, model)
    if rows is None:
        raise HTTPException(404, f"no note {note_id!r}")
    if principal.operator:
        return {"note_id": note_id, "orders": rows}
    k = privacy.threshold(state.reports.privacy_k)
    shown = privacy.note_orders(rows, k)
    why = None if shown is not None else f"one order is one person; {privacy.reason(k)}"
    return {"note_id": note_id, "orders": shown, "suppressed": why}


@router.get("/orders/{order_id}/journey", summary="An order's journey: every touch in its window and its credit")
async def journey(
    order_id: str, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "orders", order_id)
    _one_person(state, principal, scope)
    found = await run_in_threadpool(state.reports.journey, scope, order_id, model)
    if found is None:
        raise HTTPException(404, f"no order {order_id!r}")
    if principal.operator:
        return found
    return privacy.journey(found, privacy.threshold(state.reports.privacy_k))


@router.get("/campaigns/{campaign_id}/roi", summary="A campaign's attributed, T+x and incremental ROI")
async def campaign_roi(
    campaign_id: str, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "campaigns", campaign_id)
    if _budgeted(state, principal, scope):
        raise HTTPException(403, f"{CAMPAIGN_ROI_REFUSED} (差分隐私预算下不提供此报告)")
    rows = await run_in_threadpool(campaign_rois, state, scope, model, WHOLE_LAKE, principal.operator)
    return _one(rows, "campaign_id", campaign_id)


def _budgeted(state: WebState, principal: Principal, scope: Scope) -> bool:
    return not principal.operator and scope.brand is not None and dp_budget(state) is not None


def _one_person(state: WebState, principal: Principal, scope: Scope) -> None:
    """Under the budget, what rests on one order is refused to a brand key (:data:`ONE_ORDER`)."""
    if _budgeted(state, principal, scope):
        raise HTTPException(403, f"{ONE_ORDER} (差分隐私预算下不提供单个订单)")


def _dp(noise: Noise) -> dict[str, Any]:
    return {"dp": noise.dp} if noise.budget is not None else {}


def _credited(state: WebState, scope: Scope, by: str, model: str, operator: bool, noise: Noise) -> list[dict[str, Any]]:
    """Notes, creators or campaigns (``by``) with their credit; a brand key's withheld where under k buyers, and
    under the budget released with noise (a fitted model refused)."""
    reports = state.reports
    listed = {"note": reports.notes, "creator": reports.creators, "campaign": reports.campaigns}
    rows = listed[by](scope, model)
    if operator or not rows:
        return rows
    figures = privacy.CAMPAIGN_FIGURES if by == "campaign" else privacy.ATTRIBUTION_FIGURES
    if noise.budget is not None:
        field, bound = privacy.ENTITY_KEYS[by], noise.bounds
        per = noise.contributions(lambda: contributions.credits(reports, scope, WHOLE_LAKE, by, model))
        sums = (("orders", bound["orders"]), ("gmv", bound["gmv"]), ("net_gmv", bound["gmv"]))
        keys, events = [str(r[field]) for r in rows], present(rows)
        released = [*keyed_sums("rows", sums, keys, per), *event_sums(noise, WHOLE_LAKE, by, keys, events)]
        noise({}, (), WHOLE_LAKE, released)
        rows = [{**r, **{f: noise.values[f"rows.{f}:{r[field]}"] for f, _ in sums}} for r in rows]
        rows = with_events(noise, rows, field, events)
        if by == "campaign":
            rows = [{**r, "attributed_roi": r["net_gmv"] / r["spend"] if r.get("spend") else None} for r in rows]
    k = privacy.threshold(reports.privacy_k)
    shown = privacy.entities(rows, by, reports.buyers(scope, by, model), k, figures)
    shown = privacy.activity_of(reports, scope, shown, by, WHOLE_LAKE, k)
    return shown if noise.budget is None else [{**r, "buyers": None} if "buyers" in r else r for r in shown]


def _items(state: WebState, scope: Scope, operator: bool, noise: Noise) -> list[dict[str, Any]]:
    """The items; a brand key's withheld where under k buyers, and under the budget each item's orders and GMV
    released with noise (each person's clamped across the items) and its exact buyers not released."""
    reports = state.reports
    if operator or noise.budget is None:
        return reports.items(scope, unsuppressed=operator)
    rows = reports.items(scope, unsuppressed=True)
    if rows:
        bound = noise.bounds
        per = contributions.items(reports, scope, WHOLE_LAKE)
        sums = (("orders", bound["orders"]), ("gmv", bound["gmv"]))
        noise({}, (), WHOLE_LAKE, keyed_sums("items", sums, [str(r["item_id"]) for r in rows], per))
        rows = [{**r, **{f: noise.values[f"items.{f}:{r['item_id']}"] for f, _ in sums}} for r in rows]
    shown = privacy.items(rows, privacy.threshold(reports.privacy_k))
    return [{**r, "buyers": None} for r in shown]


def _one(rows: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    for row in rows:
        if row.get(key) == value:
            return row
    raise HTTPException(404, f"no {key.removesuffix('_id')} {value!r}")
