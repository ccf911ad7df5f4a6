"""Console sessions: sign-out ends a session on the server, cookies are Secure over https, and sign-in,
sign-out and every other console form refuse cross-site submissions (token, SameSite, Origin)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from webkit import BASE, Client, Site, console_client, form_token, lake_copy, running_site

HTTPS = BASE.replace("http://", "https://")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    lake = lake_copy(tmp_path_factory.mktemp("web-sessions") / "lake")
    with running_site(lake) as s:
        yield s


def _set_cookie(response: httpx.Response, name: str) -> str:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[-1]


def test_a_copied_session_cookie_stops_working_when_its_owner_signs_out(site: Site) -> None:
    owner = console_client(site, site.keys["lumiere"])
    thief = Client(site.server)
    try:
        stolen = owner._client.cookies["hm_session"]
        thief._client.cookies.set("hm_session", stolen)
        assert thief.get("/console/funnel").status_code == 200  # a copied cookie works while the session lives
        token = form_token(owner.get("/console/").text)
        out = owner.post("/console/logout", data={"csrf": token})
        assert out.status_code == 303 and out.headers["location"] == "/console/login"
        assert owner.get("/console/").status_code == 303
        again = thief.get("/console/funnel")
        assert again.status_code == 303 and again.headers["location"].startswith("/console/login")
    finally:
        owner.close()
        thief.close()


def test_signing_in_again_ends_the_session_before(site: Site) -> None:
    c = console_client(site, site.keys["lumiere"])
    try:
        first = c._client.cookies["hm_session"]
        c.post("/console/login", data={"key": site.keys["beibei"], "next": "/console/"})
        second = c._client.cookies["hm_session"]
        assert second != first
        assert site.state.sessions.key_id(first) is None and site.state.sessions.key_id(second) is not None
    finally:
        c.close()


def test_cookies_are_secure_over_https_and_not_over_plain_http(site: Site) -> None:
    c = Client(site.server)
    try:
        form = c.get(f"{HTTPS}/console/login?lang=en")
        assert "secure" in _set_cookie(form, "hm_csrf").lower()
        assert "secure" in _set_cookie(form, "hm_lang").lower()
        signed = c.request("POST", f"{HTTPS}/console/login", data={"key": site.keys["lumiere"],
                                                                    "csrf": form_token(form.text)})  # fmt: skip
        assert signed.status_code == 303
        session = _set_cookie(signed, "hm_session").lower()
        for attribute in ("secure", "httponly", "samesite=lax", "path=/"):
            assert attribute in session, session
    finally:
        c.close()
    plain = Client(site.server)
    try:
        signed = plain.post("/console/login", data={"key": site.keys["lumiere"], "next": "/console/"})
        session = _set_cookie(signed, "hm_session").lower()
        assert "secure" not in session and "httponly" in session
    finally:
        plain.close()


def test_the_demo_stores_cookies_are_secure_over_https(site: Site) -> None:
    c = Client(site.server)
    try:
        feed = c.get(f"{HTTPS}/community?lang=en")
        for name in ("hm_visitor", "hm_u", "hm_lang"):
            assert "secure" in _set_cookie(feed, name).lower(), name
        assert "secure" not in _set_cookie(c.get("/community"), "hm_u").lower()
    finally:
        c.close()


def test_sign_in_needs_the_token_of_a_form_this_browser_loaded(site: Site) -> None:
    key = site.keys["lumiere"]
    attacker, victim = Client(site.server), Client(site.server)
    try:
        bare = victim.request("POST", "/console/login", data={"key": key})
        assert bare.status_code == 403 and "hm_session" not in bare.headers.get("set-cookie", "")
        assert bare.json()["error"]["code"] == "forbidden"
        forged = victim.request("POST", "/console/login", data={"key": key, "csrf": "0" * 32})
        assert forged.status_code == 403
        # A token the attacker got with their own form is bound to their nonce cookie, not the victim's.
        theirs = form_token(attacker.get("/console/login").text)
        victim.get("/console/login")
        assert victim.request("POST", "/console/login", data={"key": key, "csrf": theirs}).status_code == 403
        assert victim.get("/console/").status_code == 303  # still signed out
        mine = form_token(victim.get("/console/login").text)
        ok = victim.request("POST", "/console/login", data={"key": key, "csrf": mine})
        assert ok.status_code == 303 and "hm_session=" in ok.headers.get("set-cookie", "")
    finally:
        attacker.close()
        victim.close()


def test_sign_out_needs_the_sessions_token(site: Site) -> None:
    c = console_client(site, site.keys["lumiere"])
    try:
        assert c.request("POST", "/console/logout").status_code == 403
        assert c.request("POST", "/console/logout", data={"csrf": "0" * 32}).status_code == 403
        assert c.get("/console/").status_code == 200  # still signed in
    finally:
        c.close()
    anonymous = Client(site.server)
    try:  # with no session there is nothing to protect: the browser is told to forget its cookie
        assert anonymous.request("POST", "/console/logout").status_code == 303
    finally:
        anonymous.close()


def test_a_form_posted_from_another_site_is_refused_even_with_a_token(site: Site) -> None:
    c = console_client(site, site.keys["lumiere"])
    try:
        page = c.get("/console/links").text
        token = form_token(page)
        for headers in ({"origin": "https://evil.example"}, {"referer": "https://evil.example/page"},
                        {"origin": "null"}, {"origin": "http://127.0.0.1:8000.evil.example"}):  # fmt: skip
            refused = c.request("POST", "/console/logout", data={"csrf": token}, headers=headers)
            assert refused.status_code == 403, headers
            assert refused.json()["error"]["status"] == 403
            link = c.request("POST", "/console/links/nope/revoke", data={"csrf": token}, headers=headers)
            assert link.status_code == 403, headers
        assert c.get("/console/").status_code == 200  # none of them signed out
        same = c.request("POST", "/console/links/nope/revoke", data={"csrf": token}, headers={"origin": BASE})
        assert same.status_code == 404  # past the origin check, to the handler
        bought = c.request("POST", "/shop/item/x/buy", headers={"origin": "https://evil.example"})
        assert bought.status_code == 403  # the demo store's forms too
    finally:
        c.close()
    with site.client(site.keys["lumiere"]) as api:  # the API takes bearer keys, never cookies: not checked
        assert api.request("GET", "/api/v1/me", headers={"origin": "https://evil.example"}).status_code == 200


def test_sessions_expire_are_revoked_and_stored_only_as_hashes(tmp_path: Path) -> None:
    from hongmao.web.auth import Sessions

    store = tmp_path / "sessions.sqlite3"
    sessions = Sessions(b"s" * 32, store, seconds=100)
    try:
        cookie = sessions.issue("k1", now=1_000)
        assert sessions.key_id(cookie, now=1_050) == "k1"
        assert sessions.key_id(cookie, now=1_101) is None  # expired
        assert sessions.key_id(cookie + "x", now=1_050) is None and sessions.key_id("../etc", now=1_050) is None
        assert sessions.key_id(None) is None and sessions.key_id("") is None
        other = sessions.issue("k2", now=1_000)
        assert sessions.revoke(other) and not sessions.revoke(other)
        assert sessions.key_id(other, now=1_050) is None and sessions.key_id(cookie, now=1_050) == "k1"
        with sqlite3.connect(store) as db:
            stored = [row[0] for row in db.execute("SELECT id_hash FROM sessions")]
        assert stored and cookie not in stored  # a copy of the store signs nobody in
        assert sessions.token(cookie, "form") != sessions.token(other, "form")
    finally:
        sessions.close()
    reopened = Sessions(b"s" * 32, store, seconds=100)
    try:  # sessions outlive a restart of the server, and so does a sign-out
        assert reopened.key_id(cookie, now=1_050) == "k1" and reopened.key_id(other, now=1_050) is None
    finally:
        reopened.close()
