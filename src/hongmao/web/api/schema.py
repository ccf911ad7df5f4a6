"""The contract's JSON Schema, and who the caller is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hongmao.contract import json_schema
from hongmao.web.deps import Caller

router = APIRouter(tags=["contract"])


@router.get("/schema", summary="The event contract as JSON Schema (draft 2020-12)")
def schema() -> dict[str, Any]:
    return json_schema()


@router.get("/me", summary="The calling key: its id, role and brand", tags=["keys"])
def me(principal: Caller) -> dict[str, Any]:
    return {"key_id": principal.key_id, "role": principal.role, "brand": principal.brand, "label": principal.label}
