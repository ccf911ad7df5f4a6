"""Who is clicking: a person in an app or a browser, a bot, or a link-preview fetcher.

Bots and previews are still logged (the lake keeps every click) but flagged ``bot``, and attribution and rate
metrics leave them out. Classification is by user-agent lists and by the prefetch headers browsers send when
they fetch a page nobody has opened yet (``Sec-Purpose``/``Purpose: prefetch``, ``X-Moz: prefetch``). A
missing user agent is a bot: every browser and app sends one.

The lists are tried in order: previews, crawlers and monitors, the in-app browsers of apps people click from,
then HTTP client libraries (``okhttp``, ``Dalvik``, ``curl``, ``python-requests``, ...), then browsers. A
library's own user agent means no browser is showing the page to anyone: a person's tap opens a browser or an
app's web view, which say ``Mozilla/5.0 ...``. Those are ``bot`` (the contract has no class of their own). An
app that labels its native requests with its name (Xiaohongshu's Android app sends ``Dalvik/2.1.0 (...)
discover/8.x``) is that app, a person: its marker is tried before the libraries.

``classify`` keeps no cache of its own: the redirect caches the click-line fields it makes from the result, per
user-agent string (``redirect._ua``; a few thousand distinct strings cover nearly all traffic).
"""

from __future__ import annotations

import re
from typing import Literal

UaClass = Literal["app", "browser", "bot", "preview", "unknown"]

#: Link-preview fetchers of chat apps and social networks: they fetch a link when it is pasted, not clicked.
PREVIEW_AGENTS = (
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "telegrambot",
    "whatsapp",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "pinterestbot",
    "redditbot",
    "embedly",
    "iframely",
    "vkshare",
    "mastodon",
    "bitlybot",
    "google-pagerenderer",
    "googleother",
    "snapchat",
    "viber",
    "line-poker",
    "kakaotalk-scrap",
    "qqbrowser-preview",
)

#: Crawlers, monitors and headless browsers (regular expressions, matched in the lower-cased agent).
BOT_AGENTS = (
    r"(?<!cu)bot",  # Googlebot, bingbot, AhrefsBot ... but not the CUBOT phone
    "crawl",
    "spider",
    "slurp",
    "scrapy",
    "headlesschrome",
    "phantomjs",
    "lighthouse",
    "pingdom",
    "uptimerobot",
    "statuscake",
    "monitor",
    "yisouspider",
    "bytespider",
    "petalbot",
    "360spider",
    "sogou",
)

#: In-app browsers of apps people click from (a real person, inside the app).
APP_AGENTS = (
    "xiaohongshu",
    "discover/",  # Xiaohongshu's in-app browser
    "micromessenger",  # WeChat
    "weibo",
    "dingtalk",
    "alipayclient",
    "aliapp",
    "taobao",
    "tmall",
    "jdapp",
    "aweme",  # Douyin
    "bytedancewebview",
    "qq/",
)

#: HTTP client libraries, by their default user agents (regular expressions, matched in the lower-cased agent):
#: scripts, and apps' native code fetching a link itself (resolving, prefetching), never a page shown to a person.
#: Dalvik is Android's HttpURLConnection, which apps' web views do not use (they send ``Mozilla/5.0 ... wv``).
CLIENT_AGENTS = (
    "okhttp",  # Android and JVM apps
    "dalvik/",  # Android's HttpURLConnection
    "cfnetwork/",  # iOS and macOS URLSession: "<app>/1 CFNetwork/1410 Darwin/22"
    "alamofire",
    r"(^|[\s(])dart[/:]",  # Flutter, "Dart/3.2 (dart:io)"
    "curl/",
    "libcurl",
    "wget/",
    "httpie/",
    "powershell",
    "winhttp",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "urllib3",
    "httplib2",
    "go-http-client",
    "go-resty",
    "java/",
    "java-http-client",
    "apache-httpclient",
    "commons-httpclient",
    "axios/",
    "node-fetch",
    "undici",
    "sindresorhus/got",
    "superagent",
    "needle/",
    "^node$",
    "libwww-perl",
    "lwp-trivial",
    "^ruby$",
    "faraday",
    "rest-client",
    r"http\.rb/",
    "guzzlehttp",
    "reqwest/",
    "restsharp",
    "postmanruntime/",
    "insomnia/",
    "deno/",
    "^bun/",
)

PREFETCH_HEADERS = (b"purpose", b"sec-purpose", b"x-purpose", b"x-moz")


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(word) for word in words))


_PREVIEW = _pattern(PREVIEW_AGENTS)
_BOT = re.compile("|".join(BOT_AGENTS))
_APP = _pattern(APP_AGENTS)
_CLIENT = re.compile("|".join(CLIENT_AGENTS))


def classify(agent: str | bytes) -> tuple[UaClass, bool]:
    """``(ua_class, bot)`` for a user agent (text, or the header's raw bytes as ASGI hands them over)."""
    text = (agent.decode("latin-1") if isinstance(agent, bytes) else agent).lower()
    if not text.strip():
        return "bot", True
    if _PREVIEW.search(text):
        return "preview", True
    if _BOT.search(text):
        return "bot", True
    if _APP.search(text):
        return "app", False
    if _CLIENT.search(text):
        return "bot", True
    if text.startswith("mozilla/") or "applewebkit" in text or "gecko" in text:
        return "browser", False
    return "unknown", False


def is_prefetch(value: bytes) -> bool:
    """True for the value of a prefetch header (``prefetch``, ``prefetch;prerender``, ``preview``)."""
    lowered = value.lower()
    return b"prefetch" in lowered or b"preview" in lowered or b"prerender" in lowered
