"""The redirect, in process through httpx.ASGITransport: 302s with a logged click, and every refusal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from hongmao.errors import ConfigError
from hongmao.links.clicklog import decode
from hongmao.links.redirect import ClickIds, RedirectApp
from hongmao.links.tokens import Claims, KeyRing

RING = KeyRing([("k1", b"test-link-secret-0123")])
URL = "https://detail.tmall.com/item.htm?id=651"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
VISITOR = "0123456789abcdef0123456789abcdef"


class ListSink:
    """Records click lines; ``fail`` makes writes raise as a full disk would."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.fail = False

    def write(self, line: bytes) -> None:
        if self.fail:
            raise OSError(28, "No space left on device")
        self.lines.append(line)

    def rows(self) -> list[dict[str, Any]]:
        return [row for row in map(decode, (line.rstrip(b"\n") for line in self.lines)) if row is not None]


def token(link_id: str = "lk1", url: str = URL, market: str = "tmall", expires: int | None = None) -> str:
    return RING.sign(Claims(link_id, market, url, expires))


def request(app: RedirectApp, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://links.test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(run())


def make_app(**kwargs: Any) -> tuple[RedirectApp, ListSink]:
    sink = ListSink()
    return RedirectApp(RING, sink, **kwargs), sink


def test_a_click_is_logged_then_redirected_with_its_click_id() -> None:
    app, sink = make_app()
    before = time.time()
    response = request(app, "GET", f"/l/{token()}", headers={"user-agent": BROWSER})
    after = time.time()
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(URL + "&hm_click=")
    assert response.headers["cache-control"] == "private, no-store"
    [row] = sink.rows()
    assert location.endswith("hm_click=" + row["click_id"])
    assert row["link_id"] == "lk1" and row["id"] == "link.click/" + row["click_id"]
    assert (row["bot"], row["user"]) == (False, None)
    # stamped while the request ran, however slowly the machine runs it
    assert before - 0.001 <= row["time"].timestamp() <= after + 0.001


def test_every_click_gets_its_own_click_id() -> None:
    app, sink = make_app()
    ids = {request(app, "GET", f"/l/{token()}").headers["location"] for _ in range(20)}
    assert len(ids) == 20 == len({row["click_id"] for row in sink.rows()})


def test_the_click_id_goes_before_a_fragment_and_starts_a_query_if_needed() -> None:
    app, _ = make_app()
    with_fragment = token(url="https://nike.tmall.com/#tab")
    assert (
        request(app, "GET", f"/l/{with_fragment}").headers["location"].startswith("https://nike.tmall.com/?hm_click=")
    )
    assert request(app, "GET", f"/l/{with_fragment}").headers["location"].endswith("#tab")


def test_head_is_answered_without_counting_a_click() -> None:
    app, sink = make_app()
    response = request(app, "HEAD", f"/l/{token()}")
    assert response.status_code == 302 and response.headers["location"] == URL
    assert sink.lines == []


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_are_not_allowed_and_not_counted(method: str) -> None:
    app, sink = make_app()
    response = request(app, method, f"/l/{token()}")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert sink.lines == []


def test_a_tampered_token_is_a_404_page_never_a_redirect() -> None:
    app, sink = make_app()
    good = token()
    payload, kid, mac = good.split(".")
    forged = KeyRing([("k1", b"someone-elses-secret-01")]).sign(Claims("lk1", "tmall", "https://evil.example/", None))
    for bad in (good[:-1] + ("A" if good[-1] != "A" else "B"), f"{payload}x.{kid}.{mac}", forged, "nonsense", ""):
        response = request(app, "GET", f"/l/{bad}")
        assert response.status_code == 404 and "location" not in response.headers
        assert "链接无效" in response.text
    assert sink.lines == []


def test_unknown_paths_are_404_and_health_is_200() -> None:
    app, sink = make_app()
    assert request(app, "GET", "/").status_code == 404
    assert request(app, "GET", f"/x/{token()}").status_code == 404
    assert request(app, "GET", "/healthz").text == "ok\n"
    assert sink.lines == []


def test_an_expired_link_is_gone() -> None:
    app, sink = make_app()
    past = token(expires=int(time.time()) - 1)
    future = token(expires=int(time.time()) + 3600)
    assert request(app, "GET", f"/l/{past}").status_code == 410
    assert request(app, "HEAD", f"/l/{past}").status_code == 410
    assert request(app, "GET", f"/l/{future}").status_code == 302
    assert len(sink.lines) == 1


def test_the_clock_decides_expiry_on_every_request() -> None:
    now = [1_000_000_000_000_000]
    app, _ = make_app(clock_ns=lambda: now[0] * 1000)
    link = token(expires=1_000_000_100)
    assert request(app, "GET", f"/l/{link}").status_code == 302
    now[0] = 1_000_000_100_000_000
    assert request(app, "GET", f"/l/{link}").status_code == 410  # the cached token is still checked


def test_a_revoked_link_is_gone_as_soon_as_the_set_has_it() -> None:
    revoked: set[str] = set()
    app, sink = make_app(revoked=revoked)
    link = token("lk-revoke-me")
    assert request(app, "GET", f"/l/{link}").status_code == 302
    revoked.add("lk-revoke-me")
    response = request(app, "GET", f"/l/{link}")
    assert response.status_code == 410 and "location" not in response.headers
    assert request(app, "GET", f"/l/{token('lk-other')}").status_code == 302
    assert len(sink.lines) == 2


def test_tokens_from_a_rotated_out_key_or_a_removed_host_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = make_app()
    monkeypatch.setenv("HONGMAO_LINK_HOSTS", "shop.example.com")
    generic = token(market="generic", url="https://shop.example.com/p/1")
    assert request(app, "GET", f"/l/{generic}").status_code == 302
    monkeypatch.setenv("HONGMAO_LINK_HOSTS", "other.example.com")
    fresh, _ = make_app()  # a new process: the allow-list is checked again at first use
    assert request(fresh, "GET", f"/l/{generic}").status_code == 410


def test_a_key_added_after_start_is_picked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    rotated = KeyRing([("k2", b"rotated-secret-0123456"), ("k1", b"test-link-secret-0123")])
    loads: list[int] = []

    def reload() -> KeyRing:
        loads.append(1)
        return rotated

    app, _ = make_app(reload_keys=reload)
    app._keys_loaded -= 60  # as if started a minute ago
    new_token = rotated.sign(Claims("lk-new", "tmall", URL, None))
    assert request(app, "GET", f"/l/{new_token}").status_code == 302
    assert request(app, "GET", f"/l/{token()}").status_code == 302  # old key still verifies
    for _ in range(5):
        assert request(app, "GET", "/l/garbage").status_code == 404
    assert len(loads) == 1  # made-up tokens do not make it re-read keys on every request

    def broken() -> KeyRing:
        raise ConfigError("unreadable")

    app2, _ = make_app(reload_keys=broken)
    app2._keys_loaded -= 60
    assert request(app2, "GET", f"/l/{new_token}").status_code == 404


BOTS = [
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"),
    ("Mozilla/5.0 (compatible; bingbot/2.0)", "bot"),
    ("Mozilla/5.0 (compatible; Baiduspider/2.0)", "bot"),
    ("curl/8.4.0", "bot"),
    ("python-requests/2.31", "bot"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36", "bot"),
    ("", "bot"),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "preview"),
    ("Mozilla/5.0 (compatible; Discordbot/2.0)", "preview"),
    ("TelegramBot (like TwitterBot)", "preview"),
    ("WhatsApp/2.23.20.0", "preview"),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "preview"),
]


@pytest.mark.parametrize(("agent", "ua_class"), BOTS)
def test_bots_and_previews_are_redirected_and_recorded_but_flagged(agent: str, ua_class: str) -> None:
    app, sink = make_app()
    assert request(app, "GET", f"/l/{token()}", headers={"user-agent": agent}).status_code == 302
    [row] = sink.rows()
    assert row["bot"] is True and f'"ua_class":"{ua_class}"' in row["data"]


PEOPLE = [
    (BROWSER, "browser"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "browser"),
    ("Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 discover/8.19 XiaoHongShu", "app"),
    ("Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/116 Mobile MicroMessenger/8.0.44", "app"),
    ("Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 Chrome/90 Mobile Safari/537.36", "browser"),
    ("SomeNewThing/1.0", "unknown"),
]


@pytest.mark.parametrize(("agent", "ua_class"), PEOPLE)
def test_people_are_not_flagged(agent: str, ua_class: str) -> None:
    app, sink = make_app()
    request(app, "GET", f"/l/{token()}", headers={"user-agent": agent})
    [row] = sink.rows()
    assert row["bot"] is False and f'"ua_class":"{ua_class}"' in row["data"]


@pytest.mark.parametrize(
    ("header", "value"),
    [("sec-purpose", "prefetch;prerender"), ("purpose", "prefetch"), ("x-moz", "prefetch"), ("x-purpose", "preview")],
)
def test_prefetches_of_a_real_browser_are_flagged_as_previews(header: str, value: str) -> None:
    app, sink = make_app()
    request(app, "GET", f"/l/{token()}", headers={"user-agent": BROWSER, header: value})
    [row] = sink.rows()
    assert row["bot"] is True and '"ua_class":"preview"' in row["data"]


def test_the_visitor_comes_from_the_query_or_cookie_and_only_as_a_pseudonym() -> None:
    app, sink = make_app()
    link = token()
    request(app, "GET", f"/l/{link}?u={VISITOR}")
    request(app, "GET", f"/l/{link}", headers={"cookie": f"a=1; hm_u={VISITOR}; b=2"})
    request(app, "GET", f"/l/{link}?u=13800138000")  # a raw phone number is never stored
    request(app, "GET", f"/l/{link}?u={VISITOR.upper()}")
    request(app, "GET", f"/l/{link}", headers={"cookie": f"hm_u={VISITOR}x"})
    assert [row["user"] for row in sink.rows()] == [VISITOR, VISITOR, None, None, None]
    assert all(b"13800138000" not in line for line in sink.lines)


def test_the_visitor_parameter_is_not_passed_on_to_the_marketplace() -> None:
    app, _ = make_app()
    location = request(app, "GET", f"/l/{token()}?u={VISITOR}&x=1").headers["location"]
    assert VISITOR not in location and "x=1" not in location


def test_no_redirect_without_its_click_on_record() -> None:
    app, sink = make_app()
    sink.fail = True
    response = request(app, "GET", f"/l/{token()}")
    assert response.status_code == 503 and "location" not in response.headers


def test_a_link_verified_before_answers_every_page_its_first_use_does() -> None:
    """The hot path (a GET of a cached link) sends its own messages: 503, the app page and 302 go through it too."""
    app, sink = make_app()
    link = token()
    assert request(app, "GET", f"/l/{link}").status_code == 302  # verified and cached
    sink.fail = True
    response = request(app, "GET", f"/l/{link}")
    assert response.status_code == 503 and "location" not in response.headers
    sink.fail = False
    page = request(app, "GET", f"/l/{link}?to=app")
    assert page.status_code == 200 and "tmall://page.tm/itemDetail?id=651" in page.text
    again = request(app, "GET", f"/l/{link}")
    assert again.status_code == 302 and again.headers["cache-control"] == "private, no-store"
    assert len(sink.rows()) == 3  # the first 302, the app page, the last 302; the refused click is not kept


def test_the_app_page_opens_the_app_and_falls_back_to_the_web() -> None:
    app, sink = make_app()
    response = request(app, "GET", f"/l/{token()}?to=app")
    assert response.status_code == 200
    [row] = sink.rows()
    assert "tmall://page.tm/itemDetail?id=651" in response.text
    assert f"{URL}&hm_click={row['click_id']}" in response.text  # the fallback carries the click id
    store = token(url="https://nike.tmall.com/")  # no deep link for a store page: a plain 302
    assert request(app, "GET", f"/l/{store}?to=app").status_code == 302


def codes_of(table: dict[str, str]) -> Callable[[str], Awaitable[str | None]]:
    async def lookup(text: str) -> str | None:
        return table.get(text.upper().replace("-", ""))

    return lookup


def test_a_share_code_follows_the_same_link_and_click_chain() -> None:
    link = token("lk-coded")
    app, sink = make_app(codes=codes_of({"7K3QX9PD": link}))
    response = request(app, "GET", "/c/7k3q-x9pd", headers={"user-agent": BROWSER})
    assert response.status_code == 302
    [row] = sink.rows()
    assert row["link_id"] == "lk-coded" and response.headers["location"].endswith(row["click_id"])
    assert request(app, "GET", "/c/ZZZZZZZZ").status_code == 404
    assert request(app, "HEAD", "/c/7K3QX9PD").status_code == 302
    assert len(sink.lines) == 1


def test_lifespan_runs_the_hooks() -> None:
    events: list[str] = []
    app, _ = make_app(startup=[lambda: events.append("up")], shutdown=[lambda: events.append("down")])
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert events == ["up", "down"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_link_id_that_cannot_be_one_log_line_is_refused() -> None:
    app, sink = make_app()
    for bad in ("lk\t1", "lk\n1", ""):
        assert request(app, "GET", f"/l/{token(bad)}").status_code == 404
    assert sink.lines == []


def test_click_ids_are_unique_hex_across_buffer_refills_and_sort_by_time() -> None:
    ids = ClickIds()
    start = 1_750_000_000_000_000  # microseconds
    drawn = [ids.new(start + 1000 * k) for k in range(3 * ClickIds.BATCH + 7)]  # one a millisecond
    assert len(set(drawn)) == len(drawn)
    assert all(len(i) == 28 and all(c in b"0123456789abcdef" for c in i) for i in drawn)
    assert drawn == sorted(drawn)  # later clicks, larger ids: appended at the end of the lake's id index
    assert int(drawn[0][:12], 16) == start // 1000
    same_ms = [ids.new(start) for _ in range(100)]
    assert len(set(same_ms)) == 100  # 64 random bits tell clicks of one millisecond apart
