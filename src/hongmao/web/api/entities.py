"""The scope's notes, creators, items, campaigns and orders; any id outside the scope answers 404. Every brand
key's query here is audited before it is answered (who, which endpoint, its parameters), as the reports are."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from hongmao.reports import privacy
from hongmao.reports.period import WHOLE_LAKE
from hongmao.reports.scope import Scope
from hongmao.web.api.reports import ModelName, campaign_rois, check_model
from hongmao.web.deps import Caller, State, TenantScope, owned, record_brand_query
from hongmao.web.state import WebState


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
async def notes(scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear") -> dict[str, Any]:
    check_model(model)
    rows = await run_in_threadpool(_credited, state, scope, "note", model, principal.operator)
    return {"brand": scope.brand, "model": model, "notes": rows}


@router.get("/notes/{note_id}", summary="One note")
async def note(
    note_id: str, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "notes", note_id)
    rows = await run_in_threadpool(_credited, state, scope, "note", model, principal.operator)
    return _one(rows, "note_id", note_id)


@router.get("/creators", summary="Creators of the scope's notes with activity and credit")
async def creators(scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear") -> dict[str, Any]:
    check_model(model)
    rows = await run_in_threadpool(_credited, state, scope, "creator", model, principal.operator)
    return {"brand": scope.brand, "model": model, "creators": rows}


@router.get("/creators/{creator_id}", summary="One creator")
async def creator(
    creator_id: str, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "creators", creator_id)
    rows = await run_in_threadpool(_credited, state, scope, "creator", model, principal.operator)
    return _one(rows, "creator_id", creator_id)


@router.get("/items", summary="Items on sale with their orders and GMV (a brand key's under k withheld)")
async def items(scope: TenantScope, principal: Caller, state: State) -> dict[str, Any]:
    rows = await run_in_threadpool(lambda: state.reports.items(scope, unsuppressed=principal.operator))
    return {"brand": scope.brand, "items": rows}


@router.get("/items/{item_id}", summary="One item")
async def item(item_id: str, scope: TenantScope, principal: Caller, state: State) -> dict[str, Any]:
    owned(state, scope, "items", item_id)
    rows = await run_in_threadpool(lambda: state.reports.items(scope, unsuppressed=principal.operator))
    return _one(rows, "item_id", item_id)


@router.get("/campaigns", summary="Campaigns with spend, credit and ROI")
async def campaigns(scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear") -> dict[str, Any]:
    check_model(model)
    rows = await run_in_threadpool(_credited, state, scope, "campaign", model, principal.operator)
    return {"brand": scope.brand, "model": model, "campaigns": rows}


@router.get("/campaigns/{campaign_id}", summary="One campaign")
async def campaign(
    campaign_id: str, scope: TenantScope, principal: Caller, state: State, model: ModelName = "linear"
) -> dict[str, Any]:
    check_model(model)
    owned(state, scope, "campaigns", campaign_id)
    rows = await run_in_threadpool(_credited, state, scope, "campaign", model, principal.operator)
    return _one(rows, "campaign_id", campaign_id)


@router.get("/orders", summary="The latest orders with the notes credited for each")
async def orders(
    scope: TenantScope,
    principal: Caller,
    state: State,
    model: ModelName = "linear",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    check_model(model)
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
    rows = await run_in_threadpool(campaign_rois, state, scope, model, WHOLE_LAKE, principal.operator)
    return _one(rows, "campaign_id", campaign_id)


def _credited(state: WebState, scope: Scope, by: str, model: str, operator: bool) -> list[dict[str, Any]]:
    """Notes, creators or campaigns (``by``) with their credit; a brand key's withheld where under k buyers."""
    reports = state.reports
    listed = {"note": reports.notes, "creator": reports.creators, "campaign": reports.campaigns}
    rows = listed[by](scope, model)
    if operator or not rows:
        return rows
    k = privacy.threshold(reports.privacy_k)
    figures = privacy.CAMPAIGN_FIGURES if by == "campaign" else privacy.ATTRIBUTION_FIGURES
    return privacy.entities(rows, by, reports.buyers(scope, by, model), k, figures)


def _one(rows: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    for row in rows:
        if row.get(key) == value:
            return row
    raise HTTPException(404, f"no {key.removesuffix('_id')} {value!r}")
