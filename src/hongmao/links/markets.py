"""Marketplace adapters as data: where a link may point, how the click id travels, how the app opens.

Each adapter is one :class:`Market` in :data:`MARKETS` (differences in a table, not in branches):

- ``hosts``: the allow-list, as (host regex, path regex) rules, both matched in full. Only item and store
  pages are listed; the marketplaces' own redirectors and login pages (which take a return URL) are not.
- ``click_param``: the query parameter that carries Hongmao's click id to the marketplace, which sends it
  back on the visit and order events (the click -> visit -> order chain).
- ``item_url`` / ``item_query`` / ``item_path``: how an item id becomes a URL and is read back from one.
- ``app_link``: the app's deep-link scheme (``{item}``, ``{rest}`` = the URL without ``https://``), used by
  the redirect's app page with the web URL as fallback.

The generic adapter takes its hosts from the ``link_hosts`` setting (HONGMAO_LINK_HOSTS). Whatever the
adapter, :func:`check_destination` refuses anything but a plain ``https`` URL on an allowed host and path
with no URL hidden in its query, path or fragment (any scheme, however encoded: ``https:evil.com``,
``HTTPS%3Aevil.com``, ``%20javascript:``) and no query parameter named twice (``?id=1&id=2``: the check would
read one and the marketplace perhaps the other): there is no open redirect to configure by mistake.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

from hongmao import settings
from hongmao.errors import DestinationError

MAX_URL = 4096


@dataclass(frozen=True)
class HostRule:
    """An allowed host (regex, matched in full, lower case) and the paths allowed on it (regex, in full)."""

    host: str
    path: str = r"/.*"


@dataclass(frozen=True)
class Market:
    name: str
    title: str
    hosts: tuple[HostRule, ...]
    click_param: str = "hm_click"
    item_url: str | None = None
    item_query: str | None = None
    item_path: str | None = None
    item_pattern: str = r".+"
    app_link: str | None = None
    _compiled: list[tuple[re.Pattern[str], re.Pattern[str]]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def rules(self) -> list[tuple[re.Pattern[str], re.Pattern[str]]]:
        if not self._compiled and self.hosts:
            self._compiled.extend((re.compile(r.host), re.compile(r.path)) for r in self.hosts)
        return self._compiled

    def allows(self, host: str, path: str) -> bool:
        return any(h.fullmatch(host) and p.fullmatch(path or "/") for h, p in self.rules())

    def item_of(self, url: str) -> str | None:
        """The item id a destination URL names, if it is an item page."""
        parts = urlsplit(url)
        if self.item_query:
            for key, value in parse_qsl(parts.query):
                if key == self.item_query and value:
                    return value
        if self.item_path:
            found = re.search(self.item_path, parts.path)
            if found:
                return found.group("item")
        return None

    def deep_link(self, url: str) -> str | None:
        """The app's deep link for a destination, or None when the adapter has no scheme for it."""
        if self.app_link is None:
            return None
        item = self.item_of(url)
        if "{item}" in self.app_link and item is None:
            return None
        rest = url.split("://", 1)[1]
        return self.app_link.replace("{rest}", rest).replace("{item}", quote(item or "", safe=""))


# The store hosts of Tmall are <shop>.tmall.com; these names are Alibaba services (login, cart, redirects).
_TMALL_SERVICES = r"(?!(login|passport|buy|cart|s|go|redirect|pages|www)\.)"
_JD_OPEN_APP = (
    "openapp.jdmobile://virtual?params="
    + quote('{"category":"jump","des":"productDetail","skuId":"', safe="")
    + "{item}"
    + quote('","sourceType":"hongmao","sourceValue":"link"}', safe="")
)

MARKETS: dict[str, Market] = {
    m.name: m
    for m in [
        Market(
            name="taobao",
            title="Taobao 淘宝",
            hosts=(
                HostRule(r"item\.taobao\.com", r"/item\.htm"),
                HostRule(r"h5\.m\.taobao\.com", r"/awp/core/detail\.htm"),
                HostRule(r"shop\d+\.taobao\.com", r"/(index\.htm|search\.htm|category(-\d+)?\.htm)?"),
                HostRule(r"shop\d+\.m\.taobao\.com", r"/(index\.htm)?"),
            ),
            item_url="https://item.taobao.com/item.htm?id={item}",
            item_query="id",
            item_pattern=r"\d{1,20}",
            app_link="taobao://{rest}",
        ),
        Market(
            name="tmall",
            title="Tmall 天猫",
            hosts=(
                HostRule(r"(chaoshi\.)?detail\.(m\.)?tmall\.(com|hk)", r"/item\.htm"),
                HostRule(_TMALL_SERVICES + r"[a-z0-9-]+\.(m\.)?tmall\.(com|hk)", r"/(index\.htm|shop/view_shop\.htm)?"),
                HostRule(_TMALL_SERVICES + r"[a-z0-9-]+\.tmall\.(com|hk)", r"/(search\.htm|category(-\d+)?\.htm)"),
            ),
            item_url="https://detail.tmall.com/item.htm?id={item}",
            item_query="id",
            item_pattern=r"\d{1,20}",
            app_link="tmall://page.tm/itemDetail?id={item}",
        ),
        Market(
            name="jd",
            title="JD 京东",
            hosts=(
                HostRule(r"(item|npcitem)\.jd\.(com|hk)", r"/\d{1,20}\.html"),
                HostRule(r"item\.m\.jd\.com", r"/product/\d{1,20}\.html"),
                HostRule(r"mall\.jd\.com", r"/index-\d{1,20}\.html"),
                HostRule(r"shop\.m\.jd\.com", r"/(shop/home(\.html)?|index\.action)?"),
            ),
            item_url="https://item.jd.com/{item}.html",
            item_path=r"/(product/)?(?P<item>\d{1,20})\.html$",
            item_pattern=r"\d{1,20}",
            app_link=_JD_OPEN_APP,
        ),
    ]
}

GENERIC = "generic"


def _glob_to_rule(entry: str) -> HostRule:
    host = entry.strip().lower()
    if not re.fullmatch(r"(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+(:\d{1,5})?", host):
        raise DestinationError(f"HONGMAO_LINK_HOSTS entry {entry!r} is not a host name (or *.host)")
    if host.startswith("*."):
        return HostRule(r"([a-z0-9-]+\.)+" + re.escape(host[2:]))
    return HostRule(re.escape(host))


def generic_market(hosts: str | None = None) -> Market:
    """The generic adapter over an explicit allow-list (default: the ``link_hosts`` setting)."""
    text = settings.get("link_hosts") if hosts is None else hosts
    rules = tuple(_glob_to_rule(entry) for entry in (text or "").split(",") if entry.strip())
    return Market(name=GENERIC, title="Any allowed host (HONGMAO_LINK_HOSTS)", hosts=rules)


def get_market(name: str) -> Market:
    if name == GENERIC:
        return generic_market()
    try:
        return MARKETS[name]
    except KeyError:
        known = ", ".join([*MARKETS, GENERIC])
        raise DestinationError(f"unknown marketplace {name!r}; known: {known}") from None


# How deep percent-encoding (and HTML entities) are peeled off a value before it is judged; a value still
# changing after that many rounds is refused as it is: nothing legitimate is encoded eight times over.
_UNWRAP_ROUNDS = 8
# A scheme as browsers read one (RFC 3986: a letter, then letters, digits, "+", "-", "."), then its colon.
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*:")
# Schemes that open something wherever they appear after a separator (``1|javascript:``, ``a,https:``): the web,
# scripts, files, and the app schemes marketplaces and chat apps answer to.
_SCHEME_ANYWHERE = re.compile(
    r"(?<![a-z0-9+.\-])(https?|ftp|file|javascript|vbscript|livescript|data|blob|intent|android-app|ios-app|"
    r"itms-apps|itms-services|market|weixin|alipays?|taobao|tmall|openapp\.jdmobile|snssdk\d*|xhsdiscover):"
)
_BROWSER_DROPS = re.compile(r"[\x00-\x20\x7f]")  # browsers drop tabs and newlines anywhere, strip the rest


def _unwrap(text: str, *, plus: bool = False) -> str | None:
    """``text`` as a browser or a server might finally read it: percent-encoding and HTML entities peeled off
    until nothing changes (``plus``: ``+`` is a space, as in a query), compatibility forms folded (fullwidth
    letters), control characters and spaces dropped, lower case. None when it is encoded too deep to tell."""
    for _ in range(_UNWRAP_ROUNDS):
        peeled = html.unescape(unquote_plus(text) if plus else unquote(text))
        if peeled == text:
            return _BROWSER_DROPS.sub("", unicodedata.normalize("NFKC", text)).lower()
        text, plus = peeled, False
    return None


def _hides_url(text: str, *, plus: bool = False) -> bool:
    """True when ``text`` (however encoded) reads as a URL: the shape every redirect parameter takes."""
    decoded = _unwrap(text, plus=plus)
    if decoded is None:
        return True
    return (
        "://" in decoded
        or decoded.startswith(("//", "\\\\", "/\\", "\\/"))
        or _SCHEME.match(decoded) is not None
        or _SCHEME_ANYWHERE.search(decoded) is not None
    )


def _pairs(query: str, separators: str) -> list[tuple[str, str]]:
    """The raw (still encoded) ``name=value`` pairs of a query split on any of ``separators``."""
    return [(part.partition("=")[0], part.partition("=")[2]) for part in re.split(f"[{separators}]", query) if part]


def _check_query(query: str, click_param: str) -> None:
    """Refuse a query that hides a URL in a name or value, or names a parameter twice (after decoding, in any
    case: ``id``, ``ID``, ``%69d``). Split on ``&`` and, as some servers also split, on ``;``. The click-id
    parameter may repeat: it is dropped, whatever its case, and the redirect appends its own."""
    pairs = _pairs(query, "&;")
    for key, value in [*pairs, *_pairs(query, "&")]:
        if _hides_url(key, plus=True) or _hides_url(value, plus=True):
            raise DestinationError(f"the destination's query parameter {unquote_plus(key)!r} holds a URL (a redirect)")
    seen: set[str | None] = {click_param}
    for key, _ in pairs:
        name = _unwrap(key, plus=True)
        if name in seen and name != click_param:
            raise DestinationError(
                f"the destination's query parameter {unquote_plus(key)!r} appears more than once "
                "(the check could read one value and the marketplace another)"
            )
        seen.add(name)


def check_destination(market: Market, url: str, item: str | None = None) -> str:
    """The normalised destination if ``market`` allows it (and it names ``item`` when it is an item page).

    Raises :class:`DestinationError` with the reason otherwise. Normalising: host lower-cased, the click-id
    parameter removed (the redirect appends its own), the URL rebuilt from its parsed parts so what was
    checked is exactly what the redirect will send.
    """
    if len(url) > MAX_URL:
        raise DestinationError(f"the destination URL is longer than {MAX_URL} characters")
    if not url.isascii() or any(c in url for c in ' \t\r\n\\"<>`') or any(ord(c) < 32 for c in url):
        raise DestinationError("the destination URL must be plain ASCII without spaces, quotes or backslashes")
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise DestinationError("the destination must be an https:// URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise DestinationError("the destination URL must not carry a user name or password")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        raise DestinationError("the destination URL has an invalid port") from None
    netloc = host if port in (None, 443) else f"{host}:{port}"
    if not host or not market.allows(netloc, parts.path):
        raise DestinationError(
            f"{netloc or '(no host)'}{parts.path} is not an allowed {market.name} item or store page"
            + (" (set HONGMAO_LINK_HOSTS for the generic adapter)" if market.name == GENERIC else "")
        )
    _check_query(parts.query, market.click_param)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if _unwrap(k) != market.click_param]
    if _hides_url(parts.path) or _hides_url(parts.fragment):
        raise DestinationError("the destination's path or fragment holds a URL (a redirect)")
    normalised = urlunsplit(("https", netloc, parts.path or "/", urlencode(query, safe=":/,"), parts.fragment))
    if item is not None:
        named = market.item_of(normalised)
        if named is not None and named != item:
            raise DestinationError(f"the destination is item {named}, not item {item}")
    return normalised


def item_destination(market: Market, item: str) -> str:
    """The web URL of ``item`` on ``market`` (when the adapter knows its item pages)."""
    if market.item_url is None:
        raise DestinationError(f"the {market.name} adapter cannot build an item URL: pass --url")
    if not re.fullmatch(market.item_pattern, item):
        raise DestinationError(f"{item!r} is not a {market.name} item id")
    return check_destination(market, market.item_url.replace("{item}", quote(item, safe="")), item)
