"""Reports: attribution by note, creator, campaign or item under any model; model comparison; the funnel;
the overview; the daily series; and the per-brand table for operators. All scoped by the caller's key."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hongmao.engine.attribute import MODELS
from hongmao.engine.windows import TOUCH_KINDS
from hongmao.errors import AttributionError
from hongmao.web.deps import Operator, State, TenantScope

router = APIRouter(prefix="/reports", tags=["reports"])

By = Literal["note", "creator", "campaign", "item", "brand"]
ModelName = Annotated[str, Query(description=f"Attribution model: {', '.join(MODELS)}.")]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")]


def check_model(model: str) -> str:
    if model not in MODELS:
        raise HTTPException(422, f"unknown model {model!r}; known: {', '.join(MODELS)}")
    return model


def csv_response(rows: Sequence[dict[str, Any]], columns: Sequence[str], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    # A byte-order mark so Excel opens Chinese text as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/attribution", summary="Orders, GMV and net GMV credited by note, creator, campaign or item")
async def attribution(
    scope: TenantScope,
    state: State,
    by: By = "note",
    model: ModelName = "linear",
    touches: Annotated[str | None, Query(description=f"Comma-separated: {','.join(TOUCH_KINDS)}.")] = None,
    half_life: Annotated[float, Query(gt=0, description="time_decay half-life in days.")] = 7.0,
    markov_order: Annotated[int, Query(ge=1, le=4)] = 1,
    limit: Annotated[int | None, Query(ge=1)] = None,
    format: Format = "json",
) -> Any:
    check_model(model)
    kinds = [k for k in touches.split(",") if k.strip()] if touches else None
    try:
        result = await run_in_threadpool(
            state.reports.attribution,
            scope,
            by,
            model,
            touches=kinds,
            half_life_days=half_life,
            markov_order=markov_order,
        )
    except AttributionError as error:
        raise HTTPException(422, str(error)) from None
    rows = result.rows[:limit] if limit else result.rows
    if format == "csv":
        return csv_response(rows, ["key", "orders", "gmv", "net_gmv"], f"attribution-{by}-{model}.csv")
    return {
        "brand": scope.brand,
        "model": result.model,
        "by": result.by,
        "params": result.params,
        "orders": result.orders,
        "total_orders": result.total_orders,
        "unattributed_orders": result.unattributed_orders,
        "rows": rows,
    }


@router.get("/compare", summary="The same keys' credit under several models side by side")
async def compare(
    scope: TenantScope,
    state: State,
    by: By = "note",
    models: Annotated[str, Query(description="Comma-separated models (default: all).")] = ",".join(MODELS),
    top: Annotated[int, Query(ge=1, le=500)] = 20,
    rank: Annotated[str | None, Query(description="The model whose net GMV ranks the keys.")] = None,
) -> dict[str, Any]:
    chosen = [check_model(m.strip()) for m in models.split(",") if m.strip()]
    if not chosen:
        raise HTTPException(422, "name at least one model")
    out: dict[str, Any] = await run_in_threadpool(state.reports.compare, scope, by, chosen, top, rank)
    return {"brand": scope.brand, **out}


@router.get("/funnel", summary="Impressions -> reads -> clicks -> store visits -> search-back -> carts -> orders")
async def funnel(scope: TenantScope, state: State) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(state.reports.funnel, scope)
    return {"brand": scope.brand, "privacy_k": state.reports.privacy_k, **out}


@router.get("/overview", summary="Spend, attributed GMV and net GMV, ROI, orders and new-customer share")
async def overview(scope: TenantScope, state: State, model: ModelName = "linear") -> dict[str, Any]:
    check_model(model)
    out: dict[str, Any] = await run_in_threadpool(state.reports.overview, scope, model)
    return {"privacy_k": state.reports.privacy_k, **out}


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
]


@router.get("/timeseries", summary="One row per business day (UTC+08:00)")
async def timeseries(scope: TenantScope, state: State, format: Format = "json") -> Any:
    rows = await run_in_threadpool(state.reports.timeseries, scope)
    if format == "csv":
        return csv_response(rows, SERIES_COLUMNS, "daily.csv")
    return {"brand": scope.brand, "days": rows}


@router.get("/trust", summary="Operators: flagged notes and creators with evidence, and the feeds' commercial share")
async def trust(_: Operator, state: State) -> dict[str, Any]:
    data: dict[str, Any] = await run_in_threadpool(state.reports.trust)
    return data


@router.get("/platform", summary="Operators: every brand's orders, GMV, spend, attributed net GMV and ROI")
async def platform(_: Operator, state: State, model: ModelName = "linear") -> dict[str, Any]:
    check_model(model)
    rows = await run_in_threadpool(state.reports.platform, model)
    return {"model": model, "brands": rows}
