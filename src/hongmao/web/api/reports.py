"""Reports: attribution by note, creator, campaign or item under any model; model comparison; the funnel;
the overview; the daily series; and the per-brand table for operators. All scoped by the caller's key."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hongmao.engine.attribute import MODELS
from hongmao.engine.windows import TOUCH_KINDS
from hongmao.errors import AttributionError
from hongmao.web.deps import Operator, State, TenantScope

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


def check_model(model: str) -> str:
    if model not in MODELS:
        raise HTTPException(422, f"unknown model {model!r}; known: {', '.join(MODELS)}")
    return model


#: What a spreadsheet takes as the start of a formula (OWASP's list, and the full-width signs a Chinese input
#: method types, which Excel in CJK locales reads the same way).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell that no spreadsheet evaluates (formula injection, CWE-1236).

    Only text is touched: note titles and ids come from creators and platforms, not from whoever opens the
    export, so text starting a formula gets a leading ``'``, which spreadsheets show as "this is text". The
    report's own numbers (``-3.5`` net GMV) are written by ``csv`` from ints and floats: they stay numbers,
    since a quoted number would no longer sum, and a number cannot carry a formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def attachment(filename: str) -> str:
    """A Content-Disposition for ``filename``: an ASCII name for every client and the UTF-8 one (RFC 6266), so
    a brand named in Chinese neither breaks the header (latin-1 only) nor injects into it."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_response(rows: Sequence[dict[str, Any]], columns: Sequence[str], filename: str) -> Response:
    buffer = io.StringIO()
    # RFC 4180's CRLF: csv quotes a field holding any character of the line terminator, so with "\n" alone a
    # bare CR in a title went out unquoted and split the row for readers that end lines at CR.
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: csv_cell(row.get(column)) for column in columns} for row in rows)
    # A byte-order mark so Excel opens Chinese text as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": attachment(filename)},
    )


@router.get(
    "/attribution", summary="Orders, GMV and net GMV credited by note, creator, campaign or item", responses=CSV_TOO
)
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
    rank: Annotated[
        str | None, Query(description="The model whose net GMV ranks the keys.", json_schema_extra=ENUM)
    ] = None,
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


@router.get("/timeseries", summary="One row per business day (UTC+08:00)", responses=CSV_TOO)
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


@router.get(
    "/campaign-roi",
    summary="Each campaign's attributed ROI, attributed ROI(T+x) at its category's decision cycle and incremental "
    "ROI from its holdout lift (95% intervals), named apart, with why they differ",
)
async def campaign_roi(scope: TenantScope, state: State, model: ModelName = "linear") -> dict[str, Any]:
    check_model(model)
    rows = await run_in_threadpool(state.reports.campaign_rois, scope, model)
    return {"brand": scope.brand, "model": model, "campaigns": rows}


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
    scope: TenantScope,
    state: State,
    model: ModelName = "linear",
    by: Annotated[Literal["creator", "note"], Query(description="creator (default) or note.")] = "creator",
    format: Format = "json",
) -> Any:
    check_model(model)
    data = await run_in_threadpool(state.reports.economics, scope, model)
    rows = data["creators" if by == "creator" else "notes"]
    if format == "csv":
        head = ["creator_id", "tier", "notes"] if by == "creator" else ["note_id", "title", "creator_id", "campaign_id"]
        return csv_response(rows, [*head, *ECONOMICS_COLUMNS], f"economics-{by}.csv")
    return {"brand": scope.brand, "model": model, "by": by, "rows": rows}
