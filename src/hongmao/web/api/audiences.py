"""AIPS audiences: stage counts and flows, exports for the marketplace, and the audit log of who asked.

Every operation is scoped by the caller's key (a brand key sees its own brand's audiences only) and leaves a
line in the deployment's audit log (:mod:`hongmao.cleanroom.audit`): principal, endpoint, parameters, time,
outcome; never an identifier. Counts below the strictest party's k are withheld and say so; an export below
the minimum size is refused (403, saying why) before any value is computed from its members.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from hongmao.cleanroom import audit
from hongmao.cleanroom.audiences import AudienceRefused
from hongmao.measure import aips
from hongmao.web.auth import Principal
from hongmao.web.deps import Caller, State, TenantScope
from hongmao.web.state import WebState

router = APIRouter(prefix="/audiences", tags=["audiences"])

Range = Annotated[
    str | None, Query(description="yesterday, 7d or 30d (default 30d, ending on the lake's newest day), or custom.")
]
From = Annotated[str | None, Query(alias="from", description="First day, YYYY-MM-DD, in the business time zone.")]
To = Annotated[str | None, Query(description="Last day (inclusive), YYYY-MM-DD.")]
Stage = Annotated[
    Literal["A", "I", "TI", "P", "S"],
    Query(description="A exposed, I interested, TI 种草值, P bought (default), S shared."),
]


def _log(state: WebState, who: Principal, endpoint: str, params: dict[str, Any], outcome: str) -> None:
    principal = {"key_id": who.key_id, "role": who.role, "brand": who.brand}
    audit.record(state.data_dir, principal=principal, endpoint=endpoint, params=params, outcome=outcome)


async def _audited(state: WebState, who: Principal, endpoint: str, params: dict[str, Any], run: Any) -> Any:
    try:
        out = await run_in_threadpool(run)
    except Exception as exc:
        _log(state, who, endpoint, params, f"refused: {exc}" if isinstance(exc, ValueError) else "error")
        raise
    _log(state, who, endpoint, params, "ok")
    return out


@router.get("/aips", summary="People at each AIPS stage and the flows from the previous period (k-withheld)")
async def aips_report(
    scope: TenantScope, state: State, who: Caller, range: Range = None, from_: From = None, to: To = None
) -> dict[str, Any]:
    params = {"brand": scope.brand, "range": range, "from": from_, "to": to}
    svc = state.audiences()

    def run() -> dict[str, Any]:
        return svc.report(scope, svc.period_of({"range": range or "", "from": from_ or "", "to": to or ""}))

    out: dict[str, Any] = await _audited(state, who, "GET /api/v1/audiences/aips", params, run)
    return out


@router.post(
    "/export",
    summary="One stage's people as ids only the marketplace can map back (min. size applies)",
    responses={403: {"description": "Another brand; or an audience below the minimum size, which never leaves."}},
)
async def export(
    scope: TenantScope,
    state: State,
    who: Caller,
    stage: Stage = "P",
    reached: Annotated[bool, Query(description="true: the stage or deeper; false (default): at the stage.")] = False,
    range: Range = None,
    from_: From = None,
    to: To = None,
) -> dict[str, Any]:
    params = {"brand": scope.brand, "stage": stage, "reached": reached, "range": range, "from": from_, "to": to}
    svc = state.audiences()

    def run() -> dict[str, Any]:
        per = svc.period_of({"range": range or "", "from": from_ or "", "to": to or ""})
        return svc.export(scope, per, stage, reached=reached)

    try:
        out: dict[str, Any] = await _audited(state, who, "POST /api/v1/audiences/export", params, run)
    except AudienceRefused as exc:  # a rule of the clean room, not a malformed request
        raise HTTPException(403, str(exc)) from None
    return out


@router.get("/rules", summary="The thresholds in force: k (strictest party), minimum export size, the 种草值 bar")
async def rules(state: State, _scope: TenantScope) -> dict[str, Any]:
    return {"stages": [{"stage": s, "name_zh": aips.NAMES[s][0], "name": aips.NAMES[s][1]} for s in aips.STAGES]} | {
        "rules": state.audiences().describe_rules()
    }


@router.get("/audit", summary="Who asked what: the audit log of audience requests (a brand sees its own), newest last")
async def audit_log(
    state: State,
    scope: TenantScope,
    limit: Annotated[int, Query(ge=1, le=10_000, description="The newest this many lines.")] = 200,
) -> dict[str, Any]:
    lines = await run_in_threadpool(audit.read, state.data_dir)
    if scope.brand is not None:  # a brand's own requests, and operators' requests about it
        lines = [x for x in lines if scope.brand in (x["principal"].get("brand"), x["params"].get("brand"))]
    return {"brand": scope.brand, "lines": lines[-limit:], "total": len(lines)}


__all__ = ["router"]
