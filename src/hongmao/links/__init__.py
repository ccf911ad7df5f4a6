"""Shoppable links (种草直达): signed tokens, marketplace adapters, the redirect and its click log.

    from hongmao.links import create_link, revoke_link, resolve_share_code

    link = create_link("note-1", "6512345678", "tmall", creator_id="c-9", expires=timedelta(days=30))
    link.url          # http://127.0.0.1:8000/l/<token>  (HONGMAO_PUBLIC_URL)
    link.share_code   # 7K3QX9PD: GET /c/7K3QX9PD follows the same link

Modules, from the outside in: :mod:`~hongmao.links.manage` (create, revoke, look up), :mod:`~.server`
(``hongmao serve``: Granian workers plus the folding loop), :mod:`~.redirect` (the plain ASGI hot path),
:mod:`~.clicklog` (append-only log, fsync timer, folding into the lake exactly once), :mod:`~.live`
(revocations and share codes in memory), :mod:`~.useragents` (bots and previews), :mod:`~.markets`
(declarative adapters and the allow-list), :mod:`~.tokens` (signing with a key ring), :mod:`~.keys` (where
keys come from), :mod:`~.registry` (link records in the catalog), :mod:`~.pages` (error and app pages).
"""

from hongmao.links.clicklog import FoldResult, fold_data_dir
from hongmao.links.manage import CreatedLink, create_link, get_link, link_url, resolve_share_code, revoke_link
from hongmao.links.markets import MARKETS, Market, check_destination, get_market
from hongmao.links.registry import LinkRecord
from hongmao.links.tokens import Claims, KeyRing

fold_clicks = fold_data_dir

__all__ = [
    "MARKETS",
    "Claims",
    "CreatedLink",
    "FoldResult",
    "KeyRing",
    "LinkRecord",
    "Market",
    "check_destination",
    "create_link",
    "fold_clicks",
    "get_link",
    "get_market",
    "link_url",
    "resolve_share_code",
    "revoke_link",
]
