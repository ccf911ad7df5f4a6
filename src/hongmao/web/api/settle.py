"""Settlement over the API: commission programs, settling, statements (JSON or CSV), holds and decisions,
payouts, and ROI guarantees (``hongmao.settle`` underneath).

Who does what: the platform's operators record programs, run settlements and payouts and decide on held money
(the issue's "operator's decision"); a brand key reads its own programs, statements, holds and contracts, and
creates and settles ROI guarantees on its own campaigns. Tenancy on read and on write: another brand's
campaign or creator id answers 404, as an id that does not exist would; another brand named in the query or
the body answers 403; an operators' operation answers 403 to a brand key. Every write names the id it acts on
in its path, checked before the body is read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hongmao.errors import ConfigError
from hongmao.reports.scope import Scope
from hongmao.settle import api as settle_api
from hongmao.settle import guarantee_api
from hongmao.settle.guarantees import parse_guarantee
from hongmao.settle.programs import parse_program
from hongmao.settle.statements import COLUMNS
from hongmao.web.api.reports import CSV_TOO
from hongmao.web.csvexport import csv_response
from hongmao.web.deps import Operator, State, TenantScope, owned
from hongmao.web.state import WebState

router = APIRouter(prefix="/settle", tags=["settlement"])

Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")]
Period = Annotated[str | None, Query(description="Calendar month YYYY-MM (default: every period).")]


def _where(state: WebState) -> dict[str, Any]:
    return {"data_dir": state.data_dir, "catalog_url": state.catalog_url}


def _own_brand(scope: Scope, body_brand: str | None) -> str:
    """The brand a write acts for: the key's own (another is 403); an operator names one."""
    if scope.brand is not None:
        if body_brand not in (None, "", scope.brand):
            raise HTTPException(403, f"this key may only act for its own brand, not {body_brand!r}")
        return scope.brand
    if not body_brand:
        raise HTTPException(422, "brand: an operator names the brand this is for")
    return body_brand


# --- programs and settling ---------------------------------------------------------------------------------------


@router.get("/programs", summary="The scope's commission programs")
async def list_programs(scope: TenantScope, state: State) -> dict[str, Any]:
    found = await run_in_threadpool(settle_api.list_programs, brand=scope.brand, **_where(state))
    return {"brand": scope.brand, "programs": [p.spec for p in found]}


@router.post("/programs", status_code=201, summary="Operators: record a brand's commission program (never edited)")
async def create_program(body: dict[str, Any], _: Operator, scope: TenantScope, state: State) -> dict[str, Any]:
    brand = _own_brand(scope, body.get("brand"))
    program = parse_program({**body, "brand": brand})
    added = await run_in_threadpool(settle_api.add_programs, [program], brand=brand, **_where(state))
    return {"program": program.spec, "created": bool(added)}


class SettleRun(BaseModel):
    through: datetime = Field(description="Settle the facts before this time (timezone-aware).")


@router.post("/runs", summary="Operators: settle the programs through a time, appending exactly the entries due")
async def run_settlement(body: SettleRun, _: Operator, scope: TenantScope, state: State) -> dict[str, Any]:
    if body.through.tzinfo is None:
        raise HTTPException(422, "through: give a timezone-aware time")
    report = await run_in_threadpool(settle_api.settle, body.through, brand=scope.brand, **_where(state))
    return report.to_dict()


# --- statements, holds, payouts ----------------------------------------------------------------------------------


@router.get("/statements", summary="Statements per creator and period (yuan)", responses=CSV_TOO)
async def statements(scope: TenantScope, state: State, period: Period = None, format: Format = "json") -> Any:
    rows = await run_in_threadpool(settle_api.statements, period=period, brand=scope.brand, **_where(state))
    if format == "csv":
        return csv_response(rows, COLUMNS, f"statements-{period or 'all'}.csv")
    return {"brand": scope.brand, "period": period, "columns": list(COLUMNS), "rows": rows}


async def _creator_in_scope(state: WebState, scope: Scope, creator_id: str) -> None:
    found = await run_in_threadpool(settle_api.entries, brand=scope.brand, creator=creator_id, **_where(state))
    if not found:
        raise HTTPException(404, f"no creator {creator_id!r} with commissions in this scope")


@router.get("/creators/{creator_id}/statements", summary="One creator's own statements (yuan)", responses=CSV_TOO)
async def creator_statements(
    creator_id: str, scope: TenantScope, state: State, period: Period = None, format: Format = "json"
) -> Any:
    await _creator_in_scope(state, scope, creator_id)
    rows = await run_in_threadpool(
        settle_api.statements, period=period, brand=scope.brand, creator=creator_id, **_where(state)
    )
    if format == "csv":
        return csv_response(rows, COLUMNS, f"statements-{creator_id}-{period or 'all'}.csv")
    return {"brand": scope.brand, "creator_id": creator_id, "period": period, "columns": list(COLUMNS), "rows": rows}


@router.get("/holds", summary="Commissions held by the trust guard, with the evidence")
async def holds(scope: TenantScope, state: State) -> dict[str, Any]:
    return {"brand": scope.brand, "holds": await run_in_threadpool(settle_api.held, brand=scope.brand, **_where(state))}


class HoldDecision(BaseModel):
    action: Literal["release", "void"]
    reason: str = Field(min_length=1, max_length=1000)
    at: datetime | None = Field(None, description="When decided (default: now); timezone-aware.")


@router.post(
    "/creators/{creator_id}/decisions", status_code=201, summary="Operators: release or void a creator's held money"
)
async def decide(
    creator_id: str, body: HoldDecision, caller: Operator, scope: TenantScope, state: State
) -> dict[str, Any]:
    await _creator_in_scope(state, scope, creator_id)
    if body.at is not None and body.at.tzinfo is None:
        raise HTTPException(422, "at: give a timezone-aware time")
    decision = await run_in_threadpool(
        lambda: settle_api.decide(
            creator_id,
            body.action,
            body.reason,
            caller.label or caller.key_id,
            brand=scope.brand,
            at=body.at or datetime.now(UTC),
            **_where(state),
        )
    )
    return {
        "decision_id": decision.decision_id,
        "creator_id": creator_id,
        "brand": decision.brand,
        "action": decision.action,
        "reason": decision.reason,
        "operator": decision.operator,
        "decided_at": decision.decided_at.isoformat(),
    }


class Payout(BaseModel):
    period: str = Field(description="Calendar month YYYY-MM: what is payable at its end is paid.")


@router.post("/payouts", summary="Operators: pay what is payable at a period's end; the payout file", responses=CSV_TOO)
async def payout(body: Payout, _: Operator, scope: TenantScope, state: State, format: Format = "json") -> Any:
    rows = await run_in_threadpool(settle_api.pay, body.period, brand=scope.brand, **_where(state))
    if format == "csv":
        return csv_response(rows, settle_api.PAYOUT_COLUMNS, f"payout-{body.period}.csv")
    return {"brand": scope.brand, "period": body.period, "rows": rows}


# --- ROI guarantees ----------------------------------------------------------------------------------------------


@router.get(
    "/guarantees",
    summary="The scope's ROI guarantees with their due dates, settlements, and what is paid and still owed",
)
async def list_guarantees(scope: TenantScope, state: State) -> dict[str, Any]:
    rows = await run_in_threadpool(guarantee_api.listing, brand=scope.brand, **_where(state))
    return {"brand": scope.brand, "guarantees": rows}


@router.post(
    "/guarantees/payouts",
    summary="Operators: pay what settled guarantees owe their brands at a period's end; the payout file",
    responses=CSV_TOO,
)
async def guarantee_payout(body: Payout, _: Operator, scope: TenantScope, state: State, format: Format = "json") -> Any:
    # Like the commissions' payout: an operator's key, in one brand's view (?brand=) paying that brand's
    # contracts only; a brand key is refused (403) and pays nothing.
    rows = await run_in_threadpool(guarantee_api.pay, body.period, brand=scope.brand, **_where(state))
    if format == "csv":
        return csv_response(rows, guarantee_api.PAYOUT_COLUMNS, f"guarantee-payout-{body.period}.csv")
    return {"brand": scope.brand, "period": body.period, "rows": rows}


def campaign_in_scope(campaign_id: str, scope: TenantScope, state: State) -> str:
    """404 unless the scope owns the campaign (a dependency: checked before the body is read)."""
    if scope.brand is not None:
        owned(state, scope, "campaigns", campaign_id)
    return campaign_id


OwnCampaign = Annotated[str, Depends(campaign_in_scope)]


@router.get("/campaigns/{campaign_id}/guarantees", summary="A campaign's ROI guarantees with their settlements")
async def campaign_guarantees(campaign_id: OwnCampaign, scope: TenantScope, state: State) -> dict[str, Any]:
    rows = await run_in_threadpool(guarantee_api.listing, brand=scope.brand, **_where(state))
    return {"campaign_id": campaign_id, "guarantees": [r for r in rows if r["campaign_id"] == campaign_id]}


@router.post(
    "/campaigns/{campaign_id}/guarantees", status_code=201, summary="Create an ROI guarantee (对赌) for a campaign"
)
async def create_guarantee(
    campaign_id: OwnCampaign, body: dict[str, Any], scope: TenantScope, state: State
) -> dict[str, Any]:
    brand = _own_brand(scope, body.get("brand"))
    if body.get("campaign_id") not in (None, campaign_id):
        raise HTTPException(422, f"campaign_id: the body names {body['campaign_id']!r}, the path {campaign_id!r}")
    contract = parse_guarantee({**body, "brand": brand, "campaign_id": campaign_id})
    made = await run_in_threadpool(guarantee_api.create, [contract], brand=brand, **_where(state))
    return {"guarantee": made[0].spec}


class GuaranteeSettle(BaseModel):
    guarantee_id: str = Field(min_length=1, max_length=64, description="The contract to settle.")
    at: datetime | None = Field(None, description="Settle as at this time (default: now); timezone-aware.")


@router.post(
    "/campaigns/{campaign_id}/guarantees/settle",
    summary="Settle a campaign's guarantee at T+x: one entry; again on late data, one adjusting entry; again, none",
)
async def settle_guarantee(
    campaign_id: OwnCampaign, body: GuaranteeSettle, scope: TenantScope, state: State
) -> dict[str, Any]:
    # Ids are per brand: a brand key sees only its own contracts, so another brand's id is a 404 like a missing
    # one; for an operator the contract on this campaign names its brand.
    rows = await run_in_threadpool(guarantee_api.listing, brand=scope.brand, **_where(state))
    match = [r for r in rows if r["guarantee_id"] == body.guarantee_id and r["campaign_id"] == campaign_id]
    if not match:
        raise HTTPException(404, f"no guarantee {body.guarantee_id!r} on campaign {campaign_id!r}")
    if body.at is not None and body.at.tzinfo is None:
        raise HTTPException(422, "at: give a timezone-aware time")
    brand: str = match[0]["brand"]
    try:
        statement, new = await run_in_threadpool(
            lambda: guarantee_api.settle(body.guarantee_id, brand=brand, at=body.at, **_where(state))
        )
    except ConfigError as error:
        raise HTTPException(409, f"the server cannot measure this contract: {error}") from None
    return {**statement, "new": new}
