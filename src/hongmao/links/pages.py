"""The few pages the redirect answers with besides a 302: error pages and the app-opening page.

Pages are built once as bytes (headers included), so the error paths cost no more than the hot path.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


COMMON_HEADERS: list[tuple[bytes, bytes]] = [
    (b"cache-control", b"private, no-store"),
    (b"x-robots-tag", b"noindex, nofollow"),
    (b"referrer-policy", b"no-referrer"),
]


def _html(status: int, title: str, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> Page:
    body = (
        "<!doctype html><html lang=zh><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></html>\n"
    ).encode()
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *COMMON_HEADERS,
        *(extra or []),
    ]
    return Page(status, headers, body)


NOT_FOUND = _html(404, "链接无效 · Link not found", "This link is not valid. Please check that it was copied in full.")
GONE = _html(410, "链接已失效 · Link expired", "This link has expired or was withdrawn by its creator.")
NOT_ALLOWED = _html(405, "Method not allowed", "Links answer GET and HEAD only.", [(b"allow", b"GET, HEAD")])
UNAVAILABLE = _html(
    503, "请稍后再试 · Try again", "The link service cannot record clicks right now.", [(b"retry-after", b"1")]
)
HEALTHY = Page(200, [(b"content-type", b"text/plain"), (b"content-length", b"3"), *COMMON_HEADERS], b"ok\n")


def app_page(deep_link: str, web_url: str) -> Page:
    """A page that opens the marketplace app by its deep link and falls back to the web page.

    For in-app browsers that block universal links (the reason a community app asks for ``?to=app``).
    """
    # JSON-encoded for the script, with '<' escaped so the URL cannot close the script element.
    deep_js = json.dumps(deep_link).replace("<", "\\u003c")
    web_js = json.dumps(web_url).replace("<", "\\u003c")
    web_attr = html.escape(web_url, quote=True)
    body = (
        "<!doctype html><html lang=zh><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1"><title>正在打开 · Opening</title>'
        f'<noscript><meta http-equiv=refresh content="0;url={web_attr}"></noscript>'
        f'<p>正在打开应用… <a href="{web_attr}">继续 · Continue</a></p>'
        f"<script>var w={web_js};setTimeout(function(){{location.replace(w)}},1500);location.href={deep_js};</script>"
        "</html>\n"
    ).encode()
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *COMMON_HEADERS,
    ]
    return Page(200, headers, body)
