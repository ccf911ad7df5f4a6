"""The console's audiences page: AIPS people per stage and the flows from the previous period, k-withheld.

Read-only and scoped like every console page (a brand sees its own brand); the numbers come from the same
service as ``/api/v1/audiences`` and each view is a line in the audit log. Exports stay in the API and CLI.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from hongmao.cleanroom import audit
from hongmao.measure import aips
from hongmao.web.console.routes import page, view
from hongmao.web.deps import State

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/audiences", response_class=HTMLResponse)
async def audiences(request: Request, state: State) -> Response:
    v = view(request, state)
    if v.principal is None:  # view() has sent an anonymous visitor to sign in already
        raise HTTPException(401, "sign in first")
    svc = state.audiences()
    q = request.query_params
    asked = {name: q.get(name, "") for name in ("range", "from", "to")}
    report = await run_in_threadpool(lambda: svc.report(v.scope, svc.period_of(asked)))
    who = {"key_id": v.principal.key_id, "role": v.principal.role, "brand": v.principal.brand}
    params = {"brand": v.scope.brand, **{k: value or None for k, value in asked.items()}}
    await run_in_threadpool(
        lambda: audit.record(state.data_dir, principal=who, endpoint="GET /console/audiences", params=params)
    )
    names = {s: aips.NAMES[s][0 if v.lang.startswith("zh") else 1] for s in (*aips.STAGES, aips.NONE)}
    return page(v, "audiences.html", ranged=False, report=report, names=names, zh=v.lang.startswith("zh"))
