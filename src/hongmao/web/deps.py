"""FastAPI dependencies: the shared state, who is calling, and the tenant scope of the request.

The scope is decided here and only here: a brand key always gets its own brand (asking for another is 403),
an operator gets the brand it names or the whole platform. Handlers receive a
:class:`~hongmao.reports.scope.Scope` and pass it on; they never filter by brand themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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
