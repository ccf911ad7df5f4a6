"""``POST /api/v1/events``: a batch of events, validated like ``hongmao ingest``, with an outcome per record.

The body is a JSON array of events, an object ``{"events": [...]}``, or JSON lines
(``Content-Type: application/x-ndjson``). The answer lists every record as ``accepted``, ``duplicate`` or
``rejected`` with its problems (field and reason); rejects also go to the lake's rejects file, as from the
CLI. A brand key may send only events about its own brand (others are rejected with the reason).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from hongmao.ingestion.batch import ingest_batch
from hongmao.web import metrics
from hongmao.web.deps import Caller, State

router = APIRouter(tags=["ingest"])

MAX_BYTES = 16 << 20
MAX_RECORDS = 10_000

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {
                                "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}
                            },
                        },
                    ]
                }
            },
            "application/x-ndjson": {"schema": {"type": "string", "description": "One event per line."}},
        },
    }
}


def parse_body(body: bytes, content_type: str) -> list[Any]:
    """The records of a request body. A JSON body that cannot be parsed (or nests deeper than any event) is a
    400; in JSON lines each line stands alone, and one that cannot be read is rejected in its place."""
    from hongmao.contract.jsontext import loads
    from hongmao.errors import InputError, NestingError
    from hongmao.ingestion.batch import Unreadable

    if len(body) > MAX_BYTES:
        raise HTTPException(413, f"the body is larger than {MAX_BYTES >> 20} MiB; split the batch")
    if "ndjson" in content_type or "jsonl" in content_type:
        records: list[Any] = []
        for number, line in enumerate(body.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                records.append(loads(line.decode("utf-8")))
            except UnicodeDecodeError as error:
                records.append(Unreadable(f"line {number}: not UTF-8 text at byte {error.start + 1} of the line"))
            except NestingError as error:
                records.append(Unreadable(f"line {number}: {error}"))
            except InputError:
                records.append(Unreadable(f"line {number}: malformed JSON"))
        return records
    try:
        parsed = loads(body)
    except NestingError as error:
        raise HTTPException(400, f"the body is JSON {error}") from None
    except InputError as error:
        raise HTTPException(400, f"the body is not JSON: {error}") from None
    if isinstance(parsed, dict) and isinstance(parsed.get("events"), list):
        parsed = parsed["events"]
    if not isinstance(parsed, list):
        raise HTTPException(400, 'send a JSON array of events, {"events": [...]}, or JSON lines')
    return parsed


@router.post(
    "/events",
    summary="Ingest a batch of events; each record is reported accepted, duplicate or rejected with its reason",
    openapi_extra=_BODY,
)
async def post_events(request: Request, principal: Caller, state: State) -> dict[str, Any]:
    records = parse_body(await request.body(), request.headers.get("content-type", ""))
    if len(records) > MAX_RECORDS:
        raise HTTPException(413, f"at most {MAX_RECORDS} events per request; split the batch")
    gate = state.gate(principal)
    report = await run_in_threadpool(ingest_batch, state.lake, records, name=f"api:{principal.key_id}", gate=gate)
    answer = report.to_dict()
    metrics.observe_ingest(answer["accepted"], answer["duplicate"], answer["rejected"])
    return answer
