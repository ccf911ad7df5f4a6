"""Marketplace adapters: the allow-list refuses every destination outside it (no open redirect, ever)."""

from __future__ import annotations

import pytest

from hongmao.errors import DestinationError
from hongmao.links.markets import MARKETS, check_destination, generic_market, get_market, item_destination

ALLOWED = [
    ("taobao", "https://item.taobao.com/item.htm?id=600123", "600123"),
    ("taobao", "https://h5.m.taobao.com/awp/core/detail.htm?id=600123", "600123"),
    ("taobao", "https://shop123456.taobao.com/", None),
    ("taobao", "https://shop123456.taobao.com/search.htm?keyword=abc", None),
    ("tmall", "https://detail.tmall.com/item.htm?id=651&skuId=9", "651"),
    ("tmall", "https://detail.m.tmall.com/item.htm?id=651", "651"),
    ("tmall", "https://detail.tmall.hk/item.htm?id=651", "651"),
    ("tmall", "https://chaoshi.detail.tmall.com/item.htm?id=651", "651"),
    ("tmall", "https://nike.tmall.com/", None),
    ("tmall", "https://nike.tmall.com/shop/view_shop.htm", None),
    ("tmall", "https://nike.tmall.com/category-1234.htm", None),
    ("jd", "https://item.jd.com/100012043978.html", "100012043978"),
    ("jd", "https://item.m.jd.com/product/100012043978.html", "100012043978"),
    ("jd", "https://npcitem.jd.hk/100012043978.html", "100012043978"),
    ("jd", "https://mall.jd.com/index-1000000127.html", None),
    ("jd", "https://shop.m.jd.com/shop/home?shopId=1000000127", None),
]


@pytest.mark.parametrize(("market", "url", "item"), ALLOWED)
def test_item_and_store_pages_are_allowed(market: str, url: str, item: str | None) -> None:
    checked = check_destination(MARKETS[market], url, item)
    assert checked.startswith("https://")
    assert MARKETS[market].item_of(checked) == item


REFUSED = [
    ("tmall", "http://detail.tmall.com/item.htm?id=1", "https"),
    ("tmall", "https://evil.example.com/item.htm?id=1", "not an allowed"),
    ("tmall", "https://detail.tmall.com.evil.com/item.htm?id=1", "not an allowed"),
    ("tmall", "https://evil.com/detail.tmall.com/item.htm?id=1", "not an allowed"),
    ("tmall", "https://detail.tmall.com@evil.com/item.htm", "user name"),
    ("tmall", "https://user:pw@detail.tmall.com/item.htm?id=1", "user name"),
    ("tmall", "https://detail.tmall.com\\@evil.com/", "ASCII"),
    ("tmall", "https://detail.tmall.com:8443/item.htm?id=1", "not an allowed"),
    ("tmall", "https://detail.tmall.com/item.htm?id=1&redirect=https://evil.com", "holds a URL"),
    ("tmall", "https://detail.tmall.com/item.htm?id=1&u=%2F%2Fevil.com", "holds a URL"),
    ("tmall", "https://detail.tmall.com/item.htm?id=1&x=https%253A%252F%252Fevil.com", "holds a URL"),
    ("tmall", "https://detail.tmall.com/item.htm?id=1#https://evil.com", "holds a URL"),
    ("tmall", "https://login.tmall.com/?redirectURL=https://evil.com", "not an allowed"),
    ("tmall", "https://login.tmall.com/", "not an allowed"),
    ("tmall", "https://detail.tmall.com/go.htm", "not an allowed"),
    ("tmall", "javascript:alert(1)", "https"),
    ("tmall", "//evil.com/", "https"),
    ("tmall", "https://detail.tmall.com/item.htm?id=1\r\nSet-Cookie: x", "ASCII"),
    ("taobao", "https://s.click.taobao.com/t?e=abc", "not an allowed"),
    ("taobao", "https://login.taobao.com/member/login.jhtml?redirectURL=https%3A%2F%2Fevil.com", "not an allowed"),
    ("taobao", "https://detail.tmall.com/item.htm?id=1", "not an allowed"),  # another market's host
    ("jd", "https://u.jd.com/abcdef", "not an allowed"),
    ("jd", "https://union-click.jd.com/jdc?e=&p=x", "not an allowed"),
    ("jd", "https://item.jd.com/abc.html", "not an allowed"),
    ("jd", "https://item.jd.com/1.html/../../redirect", "not an allowed"),
]


@pytest.mark.parametrize(("market", "url", "reason"), REFUSED)
def test_everything_else_is_refused(market: str, url: str, reason: str) -> None:
    with pytest.raises(DestinationError, match=reason):
        check_destination(MARKETS[market], url)


def test_the_url_must_name_the_item_the_link_is_for() -> None:
    with pytest.raises(DestinationError, match="item 42, not item 43"):
        check_destination(MARKETS["tmall"], "https://detail.tmall.com/item.htm?id=42", "43")
    # a store page names no item: any item may link to it
    check_destination(MARKETS["tmall"], "https://nike.tmall.com/", "43")


def test_normalising_lowercases_the_host_and_drops_a_stale_click_id() -> None:
    url = "https://Detail.Tmall.COM/item.htm?id=1&hm_click=old&spm=a.b"
    assert check_destination(MARKETS["tmall"], url) == "https://detail.tmall.com/item.htm?id=1&spm=a.b"


def test_item_urls_are_built_from_the_adapter_table() -> None:
    assert item_destination(MARKETS["jd"], "100012043978") == "https://item.jd.com/100012043978.html"
    assert item_destination(MARKETS["taobao"], "600123") == "https://item.taobao.com/item.htm?id=600123"
    with pytest.raises(DestinationError, match="not a tmall item id"):
        item_destination(MARKETS["tmall"], "../../evil")
    with pytest.raises(DestinationError, match="pass --url"):
        item_destination(generic_market("shop.example.com"), "1")


def test_deep_links_with_web_fallback() -> None:
    assert (
        MARKETS["taobao"].deep_link("https://item.taobao.com/item.htm?id=6") == "taobao://item.taobao.com/item.htm?id=6"
    )
    assert MARKETS["tmall"].deep_link("https://detail.tmall.com/item.htm?id=6") == "tmall://page.tm/itemDetail?id=6"
    jd = MARKETS["jd"].deep_link("https://item.jd.com/100012043978.html")
    assert jd is not None and jd.startswith("openapp.jdmobile://virtual?params=") and "100012043978" in jd
    assert MARKETS["tmall"].deep_link("https://nike.tmall.com/") is None  # no item: web only
    assert generic_market("shop.example.com").deep_link("https://shop.example.com/x") is None


def test_the_generic_adapter_allows_only_its_configured_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DestinationError, match="HONGMAO_LINK_HOSTS"):
        check_destination(get_market("generic"), "https://shop.example.com/p/1")
    monkeypatch.setenv("HONGMAO_LINK_HOSTS", "shop.example.com, *.brand.example")
    market = get_market("generic")
    assert check_destination(market, "https://shop.example.com/p/1") == "https://shop.example.com/p/1"
    assert check_destination(market, "https://cn.brand.example/a").startswith("https://cn.brand.example/")
    for url in ("https://brand.example/", "https://evil.shop.example.com/", "https://shop.example.com.evil/"):
        with pytest.raises(DestinationError):
            check_destination(market, url)
    monkeypatch.setenv("HONGMAO_LINK_HOSTS", "https://nope/*")
    with pytest.raises(DestinationError, match="not a host name"):
        get_market("generic")


def test_unknown_markets_are_named() -> None:
    with pytest.raises(DestinationError, match="known: taobao, tmall, jd, generic"):
        get_market("pdd")
