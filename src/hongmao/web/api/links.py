"""Shoppable links of the scope: list, create, read, revoke (``hongmao.links`` underneath).

Under the differential-privacy budget a brand key's link clicks are noisy and charged to the brand's budget, and
a link's conversions are withheld saying why (:mod:`hongmao.web.linkviews`); the answer's ``dp`` block says what
was spent. Without it, a brand key's conversions of fewer than k people are withheld."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hongmao.errors import DestinationError, LinkError
from hongmao.web import linkviews
from hongmao.web.api.reports import ReportWindow
from hongmao.web.deps import Caller, State, TenantScope
from hongmao.web.dp import Noise

router = APIRouter(prefix="/links", tags=["links"])


class NewLink(BaseModel):
    note_id: str = Field(min_length=1, max_length=256)
    item_id: str = Field(min_length=1, max_length=256)
    market: str = Field("tmall", description="tmall, taobao, jd or generic (HONGMAO_LINK_HOSTS).")
    url: str | None = Field(None, description="Landing page; default: the marketplace's page of the item.")
    campaign_id: str | None = None
    expires_days: float | None = Field(None, gt=0, le=3650)


class Revocation(BaseModel):
    reason: str | None = Field(None, max_length=500)


def _translate(error: LinkError) -> HTTPException:
    if isinstance(error, linkviews.NotYours):
        return HTTPException(404, str(error))
    if isinstance(error, DestinationError):
        return HTTPException(422, str(error))
    return HTTPException(400, str(error))


@router.get("", summary="Links to the scope's notes and items, newest first")
async def list_links(
    request: Request,
    scope: TenantScope,
    state: State,
    principal: Caller,
    note_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    noise = Noise(state, principal, scope, "links", request)
    views = await run_in_threadpool(
        lambda: linkviews.list_links(state, scope, note_id=note_id, limit=limit, noise=noise)
    )
    return {"brand": scope.brand, "links": [v.to_dict() for v in views], **_dp(noise)}


def _dp(noise: Noise) -> dict[str, Any]:
    return {"dp": noise.dp} if noise.budget is not None and noise.dp else {}


@router.post("", status_code=201, summary="Create a signed link from a note to an item page")
async def create_link(body: NewLink, scope: TenantScope, state: State) -> dict[str, Any]:
    try:
        view = await run_in_threadpool(lambda: linkviews.create(state, scope, **body.model_dump()))
    except LinkError as error:
        raise _translate(error) from None
    return view.to_dict()


@router.get("/{link_id}", summary="One link with its clicks and status")
async def get_link(
    link_id: str, request: Request, scope: TenantScope, state: State, principal: Caller
) -> dict[str, Any]:
    noise = Noise(state, principal, scope, f"links/{link_id}", request)
    try:
        view = await run_in_threadpool(linkviews.get_link, state, scope, link_id, noise)
    except LinkError as error:
        raise _translate(error) from None
    return {**view.to_dict(), **_dp(noise)}


@router.get(
    "/{link_id}/stats",
    summary="One link's drill-down: clicks per day and by device class, visits and orders its click ids carried",
)
async def link_stats(
    link_id: str, request: Request, scope: TenantScope, state: State, principal: Caller, window: ReportWindow
) -> dict[str, Any]:
    """Clicks per business day (bots and previews apart) and by device class, and the marketplace visits and
    orders carrying one of the link's click ids, in the range; a brand key's conversions of fewer than k people
    are withheld and say so; under the budget the clicks are noisy and the conversions withheld."""
    noise = Noise(state, principal, scope, f"links/{link_id}/stats", request)
    try:
        return await run_in_threadpool(
            lambda: linkviews.stats(state, scope, link_id, window, operator=principal.operator, noise=noise)
        )
    except LinkError as error:
        raise _translate(error) from None


@router.post("/{link_id}/revoke", summary="Revoke a link: its URL and share code answer 410 within a second")
async def revoke_link(
    link_id: str,
    request: Request,
    scope: TenantScope,
    state: State,
    principal: Caller,
    body: Revocation | None = None,
) -> dict[str, Any]:
    noise = Noise(state, principal, scope, f"links/{link_id}", request)
    try:
        view = await run_in_threadpool(linkviews.revoke, state, scope, link_id, body.reason if body else None, noise)
    except LinkError as error:
        raise _translate(error) from None
    return {**view.to_dict(), **_dp(noise)}
