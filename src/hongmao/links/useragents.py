"""Who is clicking: a person in an app or a browser, a bot, or a link-preview fetcher.

Bots and previews are still logged (the lake keeps every click) but flagged ``bot``, and attribution and rate
metrics leave them out. Classification is by user-agent lists and by the prefetch headers browsers send when
they fetch a page nobody has opened yet (``Sec-Purpose``/``Purpose: prefetch``, ``X-Moz: prefetch``). A
missing user agent is a bot: every browser and app sends one.

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

#: Crawlers, monitors, scripts and headless browsers (regular expressions, matched in the lower-cased agent).
BOT_AGENTS = (
    r"(?<!cu)bot",  # Googlebot, bingbot, AhrefsBot ... but not the CUBOT phone
    "crawl",
    "spider",
    "slurp",
    "scrapy",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "go-http-client",
    "java/",
    "apache-httpclient",
    "libwww-perl",
    "node-fetch",
    "axios/",
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

PREFETCH_HEADERS = (b"purpose", b"sec-purpose", b"x-purpose", b"x-moz")


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(word) for word in words))


_PREVIEW = _pattern(PREVIEW_AGENTS)
_BOT = re.compile("|".join(BOT_AGENTS))
_APP = _pattern(APP_AGENTS)


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
    if text.startswith("mozilla/") or "applewebkit" in text or "gecko" in text:
        return "browser", False
    return "unknown", False


def is_prefetch(value: bytes) -> bool:
    """True for the value of a prefetch header (``prefetch``, ``prefetch;prerender``, ``preview``)."""
    lowered = value.lower()
    return b"prefetch" in lowered or b"preview" in lowered or b"prerender" in lowered
