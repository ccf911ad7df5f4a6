"""The REST API under ``/api/v1``: one router per area, every one scoped by the caller's key."""

from __future__ import annotations

from fastapi import APIRouter

from hongmao.web.api import audiences, entities, ingest, keys, links, reports, schema, settle

router = APIRouter(prefix="/api/v1")
for module in (schema, ingest, reports, entities, links, keys, settle, audiences):
    router.include_router(module.router)

__all__ = ["router"]
