"""The contract as JSON Schema (draft 2020-12), one document covering every event type."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from hongmao.contract.envelope import EVENT_TYPES, Event


def json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = TypeAdapter(Event).json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:hongmao:contract:event:1"
    schema["title"] = "Hongmao event"
    schema["description"] = "A CloudEvents-style envelope (id, type, source, time, data). Types: " + ", ".join(
        EVENT_TYPES
    )
    return schema
