"""Who clicked: HTTP client libraries are not people; people in apps and browsers stay people."""

from __future__ import annotations

from typing import get_args

import pytest

from hongmao.contract.links import LinkClick
from hongmao.links.useragents import classify

CLIENTS = [
    "okhttp/4.12.0",
    "okhttp/3.14.9",
    "OkHttp",
    "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)",
    "Dalvik/2.1.0 (Linux; U; Android 10; MI 8 MIUI/V12.0.3.0.QEACNXM)",
    "MyShopApp/3.2 CFNetwork/1410.0.3 Darwin/22.6.0",
    "CFNetwork/1410.0.3 Darwin/22.6.0",
    "Alamofire/5.8.1",
    "Dart/3.2 (dart:io)",
    "curl/8.4.0",
    "Wget/1.21.4",
    "HTTPie/3.2.2",
    "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.0",
    "python-requests/2.31.0",
    "Python-urllib/3.11",
    "python-httpx/0.27.0",
    "Python/3.11 aiohttp/3.9.1",
    "urllib3/2.1.0",
    "Go-http-client/1.1",
    "Go-http-client/2.0",
    "go-resty/2.10.0 (https://github.com/go-resty/resty)",
    "Java/17.0.9",
    "Java-http-client/17.0.9",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)",
    "Jakarta Commons-HttpClient/3.1",
    "axios/1.6.2",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "undici",
    "node",
    "got (https://github.com/sindresorhus/got)",
    "node-superagent/3.8.3",
    "libwww-perl/6.72",
    "lwp-trivial/6.72",
    "Ruby",
    "Faraday v2.7.11",
    "rest-client/2.1.0 (linux-gnu x86_64) ruby/3.2.2p53",
    "http.rb/5.1.1",
    "GuzzleHttp/7",
    "reqwest/0.11.22",
    "RestSharp/110.2.0.0",
    "PostmanRuntime/7.36.0",
    "insomnia/2023.5.8",
    "Deno/1.39.1",
    "Bun/1.0.20",
]


@pytest.mark.parametrize("agent", CLIENTS)
def test_http_client_libraries_are_not_people(agent: str) -> None:
    assert classify(agent) == ("bot", True)
    assert classify(agent.encode("latin-1")) == ("bot", True)  # as the redirect hands it over


PEOPLE = [
    # Xiaohongshu's in-app browser, iOS and Android, and its Android app's own requests (Dalvik, labelled)
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 discover/8.19 XiaoHongShu",
        "app",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; 22081212C Build/TKQ1.220829.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XiaoHongShu/8.19.0",
        "app",
    ),
    (
        "Dalvik/2.1.0 (Linux; U; Android 10; MI 8 MIUI/V12.0.3.0.QEACNXM) Resolution/1080*2248 Version/6.80.0 "
        "Build/6800144 Device/(Xiaomi;MI 8) discover/6.80.0 NetType/WiFi",
        "app",
    ),
    (
        "discover/8.19 (iPhone; iOS 17.1; Scale/3.00) Resolution/1170*2532 Version/8.19 Build/8190000 "
        "Device/(Apple Inc.;iPhone14,2) NetType/WiFi",
        "app",
    ),
    # WeChat, Taobao, Tmall, Alipay, Weibo, Douyin, JD, QQ
    (
        "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5061 MMWEBSDK/20230701 MMWEBID/2585 "
        "MicroMessenger/8.0.40.2420(0x28002855) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
        "app",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
        "MicroMessenger/8.0.42(0x18002a2c) NetType/WIFI Language/zh_CN",
        "app",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
        "AliApp(TB/10.30.10) Weex/0.26.0 WindVane/8.5.0 1170x2532",
        "app",
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 12; zh-CN; PEEM00 Build/SKQ1.211019.001) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.59 Mobile Safari/537.36 "
        "AliApp(TM/13.12.0) WindVane/8.7.2",
        "app",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
        "AlipayClient/10.5.30.6000 Language/zh-Hans",
        "app",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
        "Weibo (iPhone14,2__weibo__13.10.1__iphone__os17.0)",
        "app",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-S9080 Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/104.0.5112.97 Mobile Safari/537.36 aweme_270300 JsSdk/1.0 NetType/WIFI "
        "BytedanceWebview/d8a21c6",
        "app",
    ),
    ("jdapp;android;12.1.0;;;M/5.0;appBuild/98787;Mozilla/5.0 (Linux; Android 13; wv) AppleWebKit/537.36", "app"),
    # plain browsers, and the phone whose name ends in "bot"
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.0 Mobile/15E148 Safari/604.1",
        "browser",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        "Mobile Safari/537.36",
        "browser",
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "browser"),
    ("Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 Chrome/90 Mobile Safari/537.36", "browser"),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 "
        "Nodejs-Lover/1",
        "browser",
    ),  # "node" only as a whole agent
]


@pytest.mark.parametrize(("agent", "ua_class"), PEOPLE)
def test_people_in_apps_and_browsers_stay_people(agent: str, ua_class: str) -> None:
    assert classify(agent) == (ua_class, False)


def test_the_classes_given_are_the_contracts() -> None:
    allowed = set(get_args(LinkClick.model_fields["ua_class"].annotation))
    assert {classify(agent)[0] for agent in [*CLIENTS, *(agent for agent, _ in PEOPLE)]} <= allowed
