"""API keys, for operators: list, create (the key is in the answer, once) and revoke."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hongmao.web import auth
from hongmao.web.deps import Operator, State

router = APIRouter(prefix="/keys", tags=["keys"])


class NewKey(BaseModel):
    role: auth.Role = "brand"
    brand: str | None = Field(None, min_length=1, max_length=256)
    label: str | None = Field(None, max_length=200)


@router.get("", summary="Every key (never the key itself)")
async def list_keys(_: Operator, state: State, brand: str | None = None) -> dict[str, Any]:
    keys = await run_in_threadpool(auth.list_keys, state.lake, brand)
    return {"keys": [k.to_dict() for k in keys]}


@router.post("", status_code=201, summary="Create a key; the answer carries it once")
async def create_key(body: NewKey, _: Operator, state: State) -> dict[str, Any]:
    try:
        info, key = await run_in_threadpool(auth.create_key, state.lake, body.role, body.brand, body.label)
    except auth.ApiKeyError as error:
        raise HTTPException(422, str(error)) from None
    return {**info.to_dict(), "key": key}


@router.post("/{key_id}/revoke", summary="Revoke a key; its console sessions end too")
async def revoke_key(key_id: str, _: Operator, state: State) -> dict[str, Any]:
    try:
        changed = await run_in_threadpool(auth.revoke_key, state.lake, key_id)
    except auth.ApiKeyError as error:
        raise HTTPException(404, str(error)) from None
    return {"key_id": key_id, "revoked": True, "changed": changed}
