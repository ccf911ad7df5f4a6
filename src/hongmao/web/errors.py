"""Errors as the server answers them: one body for every status, declared once in the OpenAPI document.

    {"error": {"status": 404, "code": "not_found", "message": "no note 'n-1'", "problems": []}}

``status`` repeats the HTTP status, ``code`` is its stable name (:data:`CODES`), ``message`` says what to do
about it, and ``problems`` lists the fields of a request that failed validation (``{"field": "query.limit",
"reason": "..."}``, as ingest names a rejected record's fields). Every error takes this shape: the API's own
``HTTPException``s, FastAPI's validation errors (422; a body that is not JSON is 400), routing's 404 and 405
(``Allow`` lists every method of the path), our :class:`~hongmao.errors.HongmaoError` tree, and anything
unexpected, which answers a 500 naming an incident id and logs the traceback under that id: the caller learns
nothing of the server's inside.

:func:`document` writes the same facts into the OpenAPI document: the ``Error`` schema once, and on every
operation each status it can answer, read from what the operation takes (a key: 401; a role, or the ``brand``
of a tenant scope: 403; an id in the path, or a brand to look at: 404; parameters or a body: 422; a body: 400
and 413), plus 500 and 503 everywhere. ``tests/test_web_openapi.py`` holds the server to that document.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from hongmao.errors import ConfigError, HongmaoError, LakeBusyError, LinkGoneError

log = logging.getLogger("hongmao.web")

#: The query parameter naming the brand an operator looks at (:func:`hongmao.web.deps.api_scope`).
TENANT = "brand"

#: The stable name of every status the server answers with an error.
CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    410: "gone",
    413: "payload_too_large",
    422: "invalid_request",
    500: "internal_error",
    503: "unavailable",
}


class Problem(BaseModel):
    field: str = Field(description="Where: the request part and name, e.g. query.limit or body.note_id.")
    reason: str


class ErrorInfo(BaseModel):
    status: int = Field(description="The HTTP status again.")
    code: str = Field(description="The status's stable name: " + ", ".join(CODES.values()) + ".")
    message: str = Field(description="What went wrong, for people.")
    problems: list[Problem] = Field(default_factory=list, description="The invalid fields of a 400 or 422.")


class Error(BaseModel):
    """Every error the server answers, whatever its status."""

    error: ErrorInfo


def _code(status: int) -> str:
    if status in CODES:
        return CODES[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def error_response(
    status: int,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    problems: Sequence[Problem] = (),
) -> JSONResponse:
    body = Error(error=ErrorInfo(status=status, code=_code(status), message=message, problems=list(problems)))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _incident(error: BaseException) -> JSONResponse:
    incident = secrets.token_hex(6)
    log.error("incident %s: %s", incident, type(error).__name__, exc_info=error)
    return error_response(500, f"internal error (incident {incident}); the server's log has the details")


# --- handlers ---------------------------------------------------------------------------------------------


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(request: Request) -> str:
    """Every method some route of this path answers (routing's own 405 names only the first route's)."""
    routes = request.app.router.routes
    return ", ".join(
        m for m in METHODS if any(r.matches({**request.scope, "method": m})[0] is Match.FULL for r in routes)
    )


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    status, headers = error.status_code, dict(error.headers or {})
    if status < 400:  # the console's redirect to sign-in travels as an exception
        return Response(status_code=status, headers=headers)
    if status >= 500 and status != 503:
        return _incident(error)
    if status == 405:
        headers["allow"] = _allowed(request) or headers.get("Allow", "")
        headers.pop("Allow", None)
    detail = error.detail
    message = detail if isinstance(detail, str) and detail else HTTPStatus(status).phrase
    return error_response(status, message, headers=headers)


def _problems(errors: Sequence[Any]) -> list[Problem]:
    out = []
    for item in errors:
        place = ".".join(str(part) for part in item.get("loc", ()))
        out.append(Problem(field=place or "request", reason=str(item.get("msg", "invalid"))))
    return out


async def validation_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    errors = error.errors()
    if any(item.get("type") == "json_invalid" for item in errors):
        return error_response(400, "the body is not valid JSON")
    return error_response(422, "the request is invalid; see problems", problems=_problems(errors))


async def hongmao_error(_: Request, error: Exception) -> Response:
    if isinstance(error, LakeBusyError):
        return error_response(503, "the lake is busy with another writer; retry shortly", headers={"retry-after": "1"})
    if isinstance(error, LinkGoneError):
        return error_response(410, str(error))
    if isinstance(error, ValueError) and not isinstance(error, ConfigError):  # the request's fault: say why
        return error_response(422, str(error))
    return _incident(error)  # the server's fault (a setting, the catalog, the engine): nothing to show


async def unexpected_error(_: Request, error: Exception) -> Response:
    return _incident(error)


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with the one body."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HongmaoError, hongmao_error)
    app.add_exception_handler(Exception, unexpected_error)


# --- the OpenAPI document -----------------------------------------------------------------------------------

DESCRIPTIONS = {
    400: "The body is not valid JSON (or not a batch of events).",
    401: "No key, or a key that is malformed, unknown or revoked.",
    403: "The key may not do this: another brand's data, or an operators' operation.",
    404: "No such thing in the caller's scope (another brand's ids are not found either), or no such brand.",
    413: "The body is too large.",
    422: "A parameter or the body is invalid; ``problems`` names the fields.",
    500: "An internal error; the answer names an incident id the server's log has the details under.",
    503: "The lake is busy with another writer; retry after ``Retry-After`` seconds.",
}
HEADERS = {
    401: {"WWW-Authenticate": {"description": "``Bearer``", "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
}


def statuses(operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation of the document can answer, from what the document says it takes."""
    parameters = operation.get("parameters", [])
    body = "requestBody" in operation
    security = operation.get("security") or []
    out = {500, 503}
    if security:  # a key: missing, malformed, unknown or revoked
        out.add(401)
    if any(roles for requirement in security for roles in requirement.values()):  # a role: the operator's
        out.add(403)
    if any(p["in"] == "query" and p["name"] == TENANT for p in parameters):  # another brand, or no such brand
        out |= {403, 404}
    if any(p["in"] == "path" for p in parameters):
        out.add(404)
    if parameters or body:
        out.add(422)
    if body:
        out |= {400, 413}
    return out


def document(doc: dict[str, Any]) -> dict[str, Any]:
    """Add the ``Error`` schema and every operation's error responses to ``doc`` (FastAPI's document)."""
    schema = Error.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(schema.pop("$defs", {}))
    schemas["Error"] = schema
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422 body, never sent
        schemas.pop(name, None)
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            declared = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
            for status in sorted(statuses(operation) | declared):
                entry: dict[str, Any] = {
                    "description": responses.get(str(status), {}).get("description")
                    or DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
                if status in HEADERS:
                    entry["headers"] = HEADERS[status]
                responses[str(status)] = entry
    return doc
