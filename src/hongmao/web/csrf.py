"""Cross-site request forgery: what stops another site from making a signed-in browser submit a console form.

Three layers; each alone stops a plain cross-site form.

1. **Form tokens.** Every console form that changes something (sign-in, sign-out, links, keys) carries a
   ``csrf`` field checked on POST: an HMAC under the server secret of the session id, or, on the sign-in form
   where there is no session yet, of a random nonce kept in the ``hm_csrf`` cookie (a signed double submit).
   Sign-in needs one too: forging it would sign the victim in as the attacker, whose console then sees what
   the victim types.
2. **SameSite cookies.** The session cookie is ``SameSite=Lax`` (a browser sends it on another site's links,
   never on its forms or scripts), the sign-in nonce ``SameSite=Strict``.
3. **Origin check.** A POST (or any unsafe method) to a page outside the API whose ``Origin``, or without one
   ``Referer``, names another host is refused before any handler runs (:func:`foreign_origin`). The API is
   left out: it authenticates with a bearer key a browser never attaches by itself, so there is nothing to
   forge.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from fastapi.responses import Response

from hongmao.web.auth import Sessions

LOGIN_COOKIE = "hm_csrf"
LOGIN_SECONDS = 2 * 3600  # how long a sign-in form stays usable
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXEMPT = ("/api/",)  # bearer keys, no cookies


def secure(request: Request) -> bool:
    """Whether cookies set on this request must be ``Secure``: the page was asked for over https.

    Behind a TLS-terminating proxy the server turns ``X-Forwarded-Proto`` into the request's scheme for
    proxies it trusts (uvicorn: ``--forwarded-allow-ips``, loopback by default); the app itself trusts no
    forwarded header a client could send.
    """
    return request.url.scheme == "https"


def foreign_origin(request: Request) -> bool:
    """True when an unsafe request to a page says it comes from another host (or hides it as ``null``).

    Compares hosts (with port) rather than whole origins, so a proxy that terminates TLS without telling the
    server does not lock everyone out; a page on another host cannot claim this one's (browsers set Origin).
    Without Origin or Referer (some privacy tools strip both) the form token alone decides.
    """
    if request.method in SAFE_METHODS or request.url.path.startswith(EXEMPT):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        origin = request.headers.get("referer")
        if origin is None:
            return False
    if origin == "null":  # a sandboxed frame, a file, or a redirect across origins
        return True
    try:
        claimed = urlsplit(origin).netloc.lower()
    except ValueError:
        return True
    return not claimed or claimed != request.headers.get("host", "").lower()


def check(expected: str, given: str | None) -> None:
    """403 unless the form's token is the expected one (compared in constant time)."""
    if not given or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "the form expired; reload the page and try again")


def login_nonce(request: Request) -> str:
    """The sign-in form's nonce: the browser's own when it has a well-formed one, else a new one."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if 20 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum() and nonce.isascii():
        return nonce
    return secrets.token_urlsafe(24)


def login_token(sessions: Sessions, nonce: str) -> str:
    return sessions.token(nonce, "login")


def keep_login_nonce(response: Response, request: Request, nonce: str) -> Response:
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        path="/console/",
    )
    return response


def check_login(request: Request, sessions: Sessions, given: str | None) -> None:
    """403 unless the sign-in form's token matches the nonce cookie the same browser got with the form."""
    nonce = request.cookies.get(LOGIN_COOKIE)
    check(login_token(sessions, nonce) if nonce else "", given)
