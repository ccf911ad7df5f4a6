"""Getting a lake ready for the demo store: links from the community's linked notes to the store's pages.

The simulated world links notes to Tmall, JD and Taobao pages, which a demo on one machine cannot visit.
For each simulated (note, item) link, :func:`link_notes_to_store` creates a real signed link (generic
adapter) to this server's own item page, ``https://<host>/shop/item/<item>`` (see
:mod:`hongmao.web.redirect` for why ``https``), so a click in the community goes through the real redirect.
"""

from __future__ import annotations

import os
from pathlib import Path

from hongmao.engine.session import Session
from hongmao.lake import Lake
from hongmao.links import create_link

DEMO_MARKET = "generic"


def allow_host(host: str) -> None:
    """Add ``host`` (``127.0.0.1:8000``) to the generic adapter's allow-list in this process."""
    current = [h for h in (os.environ.get("HONGMAO_LINK_HOSTS") or "").split(",") if h.strip()]
    if host not in current:
        os.environ["HONGMAO_LINK_HOSTS"] = ",".join([*current, host])


def simulated_links(lake: Lake) -> list[tuple[str, str, str | None, str | None]]:
    """(note, item, creator, campaign) of every link the lake's events created, in creation order."""
    with Session(lake.segment_paths()) as session:
        ev = session.events
        created = ev.filter(ev.type == "link.created").order_by(["time", "link_id"])
        rows = session.rows(created.select("note_id", "item_id", "creator_id", "campaign_id"))
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rows:
        if (r["note_id"], r["item_id"]) not in seen:
            seen.add((r["note_id"], r["item_id"]))
            out.append((r["note_id"], r["item_id"], r["creator_id"], r["campaign_id"]))
    return out


def link_notes_to_store(data_dir: Path, host: str, public_url: str, limit: int | None = None) -> int:
    """Create a store link for each simulated note link; returns how many were made."""
    allow_host(host)
    with Lake.open(data_dir) as lake:
        pairs = simulated_links(lake)
    made = 0
    for note_id, item_id, creator_id, campaign_id in pairs[:limit]:
        create_link(
            note_id,
            item_id,
            DEMO_MARKET,
            f"https://{host}/shop/item/{item_id}",
            creator_id=creator_id,
            campaign_id=campaign_id,
            data_dir=data_dir,
            base_url=public_url,
        )
        made += 1
    return made
