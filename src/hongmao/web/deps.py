"""FastAPI dependencies: the shared state, who is calling, and the tenant scope of the request.

The scope is decided here and only here: a brand key always gets its own brand (asking for another is 403),
an operator gets the brand it names or the whole platform. Handlers receive a
:class:`~hongmao.reports.scope.Scope` and pass it on; they never filter by brand themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hongmao.cleanroom import audit
from hongmao.reports.scope import Ownership, Scope
from hongmao.web.auth import Principal, authenticate
from hongmao.web.state import WebState


def get_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


State = Annotated[WebState, Depends(get_state)]


#: Declares the key in the OpenAPI document (``security`` of every operation that needs one); parsing is ours.
bearer = HTTPBearer(auto_error=False, scheme_name="bearer", description="An API key: `hongmao keys create --brand B`.")


def bearer_principal(
    request: Request, state: State, _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller of an API request, from ``Authorization: Bearer KEY``; 401 otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _sep, key = header.partition(" ")
    principal = authenticate(state.lake, key) if scheme.lower() == "bearer" and key else None
    if principal is None:
        raise HTTPException(
            401,
            "missing or invalid API key: send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


Caller = Annotated[Principal, Depends(bearer_principal)]


def resolve_scope(principal: Principal, brand: str | None, state: WebState) -> Scope:
    if principal.brand is not None:
        if brand not in (None, "", principal.brand):
            raise HTTPException(403, "this key may only see its own brand")
        return Scope(principal.brand)
    if brand:
        if brand not in state.reports.brands():
            raise HTTPException(404, f"no brand {brand!r}")
        return Scope(brand)
    return Scope(None)


def api_scope(
    principal: Caller,
    state: State,
    brand: Annotated[str | None, Query(description="Operators: one brand's view (default: the platform).")] = None,
) -> Scope:
    return resolve_scope(principal, brand, state)


TenantScope = Annotated[Scope, Depends(api_scope)]


def require_operator(principal: Caller) -> Principal:
    if not principal.operator:
        raise HTTPException(403, "operators only")
    return principal


#: The role travels in the document as the security requirement's role (``{"bearer": ["operator"]}``).
Operator = Annotated[Principal, Security(require_operator, scopes=["operator"])]


def owned(state: WebState, scope: Scope, kind: str, value: str) -> None:
    """404 unless the scope owns ``value`` among its ``kind`` (notes, items, orders, links, campaigns, ...)."""
    owns: Ownership = state.reports.ownership(scope)
    if value not in getattr(owns, kind):
        raise HTTPException(404, f"no {kind[:-1]} {value!r}")


def route_template(scope: Mapping[str, Any]) -> str | None:
    """The template of the route that matched (``/api/v1/notes/{note_id}``), never the path itself; None when no
    route matched. A route of an included router knows its path below the router's prefix (``/notes/{note_id}``):
    the prefix is what the request's path holds before the template's segments (prefixes have no parameters)."""
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str):
        return None
    parts = str(scope.get("path", "")).split("/")
    return "/".join(parts[: max(len(parts) - template.count("/"), 0)]) + template


#: The entity kind each path parameter names: a brand key's query of another brand's id is the 404 it always
#: was, refused before it is logged.
PATH_KINDS = {
    "note_id": "notes",
    "creator_id": "creators",
    "item_id": "items",
    "campaign_id": "campaigns",
    "order_id": "orders",
}
#: Path parameters the audit log does not keep: an order is one person's purchase, a link id is its own secret's
#: neighbour (and is checked by the links' own rule, after logging).
UNLOGGED_IDS = ("order_id", "link_id")
UNLOGGED = "<withheld>"


def record_brand_query(state: WebState, principal: Principal, scope: Scope, request: Request) -> None:
    """One audit line for a brand key's query (operators' are not logged), written before the answer, so a log
    that cannot be written fails the request rather than let a query go unrecorded: the key, the route's template,
    the parameters (note, creator, item and campaign ids and the query string, cleaned as every audit line's),
    outcome ``asked``."""
    if principal.operator:
        return
    for name, value in request.path_params.items():
        if name in PATH_KINDS:
            owned(state, scope, PATH_KINDS[name], value)
    ids = {k: UNLOGGED if k in UNLOGGED_IDS else v for k, v in request.path_params.items()}
    audit.record(
        state.data_dir,
        principal={"key_id": principal.key_id, "role": principal.role, "brand": principal.brand},
        endpoint=f"{request.method} {route_template(request.scope) or request.url.path}",
        params={**ids, **dict(request.query_params), "brand": scope.brand},
        outcome="asked",
    )
