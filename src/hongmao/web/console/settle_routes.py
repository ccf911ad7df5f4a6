"""The console's settlement pages: statements per creator and period (with holds, and CSV), one creator's own
statements, and ROI guarantees with their settlement statements and what payout files paid and still owe.
Read-only (payouts are the API's and the CLI's, as for commissions); scoped like every console page
(a brand sees its own creators and contracts; another brand's creator answers 404)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from hongmao.errors import InputError
from hongmao.settle import api as settle_api
from hongmao.settle import guarantee_api
from hongmao.settle.statements import COLUMNS, period_bounds
from hongmao.web.console.routes import page, view
from hongmao.web.csvexport import csv_response
from hongmao.web.deps import State

router = APIRouter(prefix="/console", include_in_schema=False)

#: The statement columns the page shows (money, yuan), in order; the CSV carries every column.
MONEY = [c for c in COLUMNS if c not in ("period", "brand", "creator_id", "hold_reasons")]


def _period(request: Request) -> str | None:
    period = request.query_params.get("period") or None
    if period is not None:
        try:
            period_bounds(period)
        except InputError as error:
            raise HTTPException(422, str(error)) from None
    return period


@router.get("/settle", response_class=HTMLResponse)
async def statements(request: Request, state: State) -> Response:
    """Statements per creator and period; ``?creator=`` narrows to one creator's own view."""
    v = view(request, state)
    period = _period(request)
    creator = request.query_params.get("creator") or None
    data, url = state.data_dir, state.catalog_url
    if creator is not None:
        mine = await run_in_threadpool(
            lambda: settle_api.entries(data, brand=v.scope.brand, creator=creator, catalog_url=url)
        )
        if not mine:
            raise HTTPException(404, f"no creator {creator!r} with commissions in this scope")
    rows = await run_in_threadpool(
        lambda: settle_api.statements(data, period=period, brand=v.scope.brand, creator=creator, catalog_url=url)
    )
    held = (
        [] if creator else await run_in_threadpool(lambda: settle_api.held(data, brand=v.scope.brand, catalog_url=url))
    )
    periods = sorted({r["period"] for r in rows}, reverse=True)
    return page(
        v,
        "settle_statements.html",
        rows=rows,
        columns=MONEY,
        held=held,
        period=period,
        creator=creator,
        periods=periods,
    )


@router.get("/settle.csv")
async def statements_csv(request: Request, state: State) -> Response:
    v = view(request, state)
    period = _period(request)
    creator = request.query_params.get("creator") or None
    rows = await run_in_threadpool(
        lambda: settle_api.statements(
            period=period, brand=v.scope.brand, creator=creator, data_dir=state.data_dir, catalog_url=state.catalog_url
        )
    )
    return csv_response(rows, COLUMNS, f"statements-{creator or 'all'}-{period or 'all'}.csv")


@router.get("/guarantees", response_class=HTMLResponse)
async def guarantees(request: Request, state: State) -> Response:
    """ROI guarantees of the scope: terms, due date and, once settled, the statement with its reasons."""
    v = view(request, state)
    rows = await run_in_threadpool(
        lambda: guarantee_api.listing(brand=v.scope.brand, data_dir=state.data_dir, catalog_url=state.catalog_url)
    )
    return page(v, "settle_guarantees.html", rows=rows, paid_text=PAID_TEXT[0 if v.lang == "zh" else 1])


#: The payment labels of the guarantees page (Chinese, English); kept here as this page alone shows them.
PAID_TEXT = (
    {
        "paid": "已支付（元）",
        "outstanding": "尚欠（元）",
        "overpaid": "已多付，不再支付",
        "payments": "支付记录",
        "batch": "支付批次",
        "amount": "金额（元）",
        "paid_at": "支付时间",
        "none": "尚未支付",
    },
    {
        "paid": "Paid (yuan)",
        "outstanding": "Still owed (yuan)",
        "overpaid": "overpaid; nothing more is paid",
        "payments": "Payments",
        "batch": "Payout batch",
        "amount": "Amount (yuan)",
        "paid_at": "Paid at",
        "none": "nothing paid yet",
    },
)
