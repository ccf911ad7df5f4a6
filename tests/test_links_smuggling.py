"""Smuggled destinations: a URL (any scheme) or a repeated parameter hidden in a link's query is refused.

A marketplace page that reads a query value as a place to go (a return URL, a deep link) turns a link into an
open redirect; a repeated name (``?id=1&id=2``) lets the check read one value while the marketplace reads the
other. Both are refused when a link is made, and again when the redirect first meets an old token, so neither
the 302 nor the app page's deep link ever carries one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from hongmao.errors import DestinationError
from hongmao.links.markets import MARKETS, check_destination, generic_market
from hongmao.links.redirect import RedirectApp
from hongmao.links.tokens import Claims, KeyRing

ITEM = "https://detail.tmall.com/item.htm?id=651"

# Query values that name a place to go, however they are spelled.
SCHEMED = [
    "https:evil.com",
    "http:evil.com",
    "HTTPS:evil.com",
    "HtTpS:evil.com",
    "https:/evil.com",
    "https:%5C%5Cevil.com",
    "https%3Aevil.com",
    "HTTPS%3Aevil.com",
    "https%253Aevil.com",  # encoded twice
    "https%25253Aevil.com",  # three times
    "%20https:evil.com",
    "%09https:evil.com",
    "+https:evil.com",
    "https%0A:evil.com",
    "ht%09tps:evil.com",  # browsers drop tabs and newlines anywhere in a URL
    "vbscript:msgbox(1)",
    "VBScript%3Amsgbox(1)",
    "javascript:alert(1)",
    "%20javascript:alert(1)",
    "%00javascript:alert(1)",
    "java%0Ascript:alert(1)",
    "JaVaScRiPt%3Aalert(1)",
    "javascript%253Aalert(1)",
    "javascript&#58;alert(1)".replace("&", "%26").replace("#", "%23"),  # an HTML entity for the colon
    "data:text/html,x",
    "data%3Atext%2Fhtml%3Bbase64%2CPHNjcmlwdD4%3D",
    "file:///etc/passwd",
    "intent:evil#Intent;scheme=https;end",
    "tmall:page.tm/x",
    "taobao:%2F%2Fevil.com",
    "openapp.jdmobile:virtual",
    "weixin:dl/business",
    "itms-apps:evil",
    "%EF%BD%88%EF%BD%94%EF%BD%94%EF%BD%90%EF%BD%93%EF%BC%9Aevil.com",  # fullwidth letters and colon
    "1|javascript:alert(1)",  # a scheme after a separator
    "a,https:evil.com",
    "go+https:evil.com",
    "go%20https:evil.com",
]


@pytest.mark.parametrize("value", SCHEMED)
def test_a_query_value_holding_a_url_with_a_scheme_is_refused(value: str) -> None:
    with pytest.raises(DestinationError, match="holds a URL"):
        check_destination(MARKETS["tmall"], f"{ITEM}&x={value}")


@pytest.mark.parametrize("value", ["https:evil.com", "JAVASCRIPT%3Aalert(1)", "%20vbscript:x"])
def test_a_parameter_name_or_a_fragment_holding_a_url_is_refused(value: str) -> None:
    with pytest.raises(DestinationError, match="holds a URL"):
        check_destination(MARKETS["tmall"], f"{ITEM}&{value}=1")
    with pytest.raises(DestinationError, match="holds a URL"):
        check_destination(MARKETS["tmall"], f"https://nike.tmall.com/#{value}")


REPEATED = [
    ("tmall", "https://detail.tmall.com/item.htm?id=651&id=652"),
    ("tmall", "https://detail.tmall.com/item.htm?id=651&id=651"),  # the same value twice is no better
    ("tmall", "https://detail.tmall.com/item.htm?id=651&ID=652"),
    ("tmall", "https://detail.tmall.com/item.htm?id=651&%69d=652"),  # the name percent-encoded
    ("tmall", "https://detail.tmall.com/item.htm?id=651&%2569d=652"),  # twice
    ("tmall", "https://detail.tmall.com/item.htm?id=651;id=652"),  # some servers split on ';' too
    ("tmall", "https://detail.tmall.com/item.htm?id=651&spm=a&spm=b"),
    ("tmall", "https://detail.tmall.com/item.htm?id=651&id="),
    ("taobao", "https://item.taobao.com/item.htm?id=600123&id=1"),
    ("jd", "https://shop.m.jd.com/shop/home?shopId=1&shopId=2"),
]


@pytest.mark.parametrize(("market", "url"), REPEATED)
def test_a_repeated_parameter_is_refused(market: str, url: str) -> None:
    with pytest.raises(DestinationError, match="more than once"):
        check_destination(MARKETS[market], url)


def test_a_repeated_item_id_cannot_send_the_app_elsewhere_than_the_check_read() -> None:
    # The check read the first id and the app link would too; a marketplace reading the last would not.
    with pytest.raises(DestinationError, match="more than once"):
        check_destination(MARKETS["tmall"], "https://detail.tmall.com/item.htm?id=651&id=999", "651")


def test_stale_click_ids_are_dropped_whatever_their_case_so_the_redirect_adds_the_only_one() -> None:
    url = "https://detail.tmall.com/item.htm?id=1&hm_click=a&HM_CLICK=b&Hm_Click=c"
    assert check_destination(MARKETS["tmall"], url) == "https://detail.tmall.com/item.htm?id=1"


ALLOWED = [
    ("tmall", "https://detail.tmall.com/item.htm?id=651&skuId=9&spm=a1z10.1-c.w4004-1.2"),
    ("tmall", "https://detail.tmall.com/item.htm?id=651&spm=a220o.1000855.0.0.5af9&sku_properties=1627207:28341"),
    ("tmall", "https://detail.tmall.com/item.htm?id=651&ali_refid=a3_430582_1006:1109983157:N:abc"),
    ("tmall", "https://detail.tmall.com/item.htm?id=651&ali_trackid=2:mm_26632258_3504122_32538762:1600000000_111"),
    ("tmall", "https://detail.tmall.com/item.htm?id=651&abbucket=1&ns=1&priceTId=2150419a17000000"),
    ("tmall", "https://detail.tmall.com/item.htm?id=651&time=12:30"),
    ("tmall", "https://nike.tmall.com/#tab-reviews"),
    ("taobao", "https://item.taobao.com/item.htm?id=600123&spm=a21bo.jianhua.201876.1&scm=1007.40986.420852.0"),
    ("taobao", "https://item.taobao.com/item.htm?id=600123&utparam=%7B%22x%22%3A%221%22%7D"),
    ("taobao", "https://shop123456.taobao.com/search.htm?keyword=abc&orderType=hotsell_desc"),
    ("jd", "https://item.jd.com/100012043978.html?cu=true&utm_source=kong&utm_medium=tuiguang"),
    ("jd", "https://shop.m.jd.com/shop/home?shopId=1000000127"),
]


@pytest.mark.parametrize(("market", "url"), ALLOWED)
def test_real_marketplace_urls_still_pass(market: str, url: str) -> None:
    checked = check_destination(MARKETS[market], url)
    assert checked.startswith("https://")


def test_the_app_deep_links_of_allowed_destinations_still_open_the_app() -> None:
    taobao = check_destination(MARKETS["taobao"], "https://item.taobao.com/item.htm?id=600123&spm=a.b.c")
    assert MARKETS["taobao"].deep_link(taobao) == "taobao://item.taobao.com/item.htm?id=600123&spm=a.b.c"
    tmall = check_destination(MARKETS["tmall"], "https://detail.tmall.com/item.htm?id=651&skuId=9")
    assert MARKETS["tmall"].deep_link(tmall) == "tmall://page.tm/itemDetail?id=651"
    jd = check_destination(MARKETS["jd"], "https://item.jd.com/100012043978.html")
    assert (MARKETS["jd"].deep_link(jd) or "").startswith("openapp.jdmobile://virtual?params=")


def test_the_generic_adapter_refuses_them_too() -> None:
    market = generic_market("shop.example.com")
    assert (
        check_destination(market, "https://shop.example.com/p/1?color=red") == "https://shop.example.com/p/1?color=red"
    )
    for url in (
        "https://shop.example.com/p/1?next=https:evil.com",
        "https://shop.example.com/p/1?next=%20JavaScript%3Ax",
        "https://shop.example.com/p/1?a=1&a=2",
        "https://shop.example.com/go/https:evil.com",
    ):
        with pytest.raises(DestinationError):
            check_destination(market, url)


# --- old tokens: signed before the check was tightened, they meet it again at the redirect ---------------------

RING = KeyRing([("k1", b"test-link-secret-0123")])


class ListSink:
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def write(self, line: bytes) -> None:
        self.lines.append(line)


def request(app: RedirectApp, path: str, **kwargs: Any) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://links.test") as client:
            return await client.get(path, **kwargs)

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("market", "url"),
    [
        ("tmall", "https://detail.tmall.com/item.htm?id=651&x=https:evil.com"),
        ("tmall", "https://detail.tmall.com/item.htm?id=651&id=999"),
        ("taobao", "https://item.taobao.com/item.htm?id=600123&x=vbscript:msgbox(1)"),
        ("taobao", "https://item.taobao.com/item.htm?id=600123&x=HTTPS%3Aevil.com"),
        ("jd", "https://item.jd.com/100012043978.html?x=%20javascript:alert(1)"),
    ],
)
def test_a_token_made_before_the_check_answers_410_with_no_redirect_and_no_deep_link(market: str, url: str) -> None:
    sink = ListSink()
    app = RedirectApp(RING, sink)
    token = RING.sign(Claims("lk1", market, url, None))
    for path in (f"/l/{token}", f"/l/{token}?to=app"):
        response = request(app, path)
        assert response.status_code == 410
        assert "location" not in response.headers
        assert "evil" not in response.text and "999" not in response.text and "script" not in response.text.lower()
    assert sink.lines == []
