"""``hongmao link``: create, revoke and show shoppable links; fold the click log; rotate the signing key."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

import typer

from hongmao.cli.misc_cmd import DataOpt, JsonOpt
from hongmao.cli.output import console, print_json

link_app = typer.Typer(help="Signed shoppable links (种草直达): create, revoke, show, fold clicks, rotate keys.")

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str) -> datetime | timedelta:
    """``30d``, ``12h``, ``90m``, ``2w`` (from now) or an RFC 3339 time with an offset."""
    found = _DURATION.match(text.strip())
    if found:
        return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            "use a duration (30d, 12h, 90m, 2w) or a time like 2025-07-01T00:00:00+08:00"
        ) from None
    if when.tzinfo is None:
        raise typer.BadParameter("the time needs a UTC offset, e.g. 2025-07-01T00:00:00+08:00")
    return when


@link_app.command("create")
def create(
    note: Annotated[str, typer.Option("--note", help="The note the link hangs under (挂链).")],
    item: Annotated[str, typer.Option("--item", help="The marketplace item id.")],
    market: Annotated[str, typer.Option("--market", help="Marketplace adapter: taobao, tmall, jd or generic.")],
    url: Annotated[
        str | None, typer.Option("--url", help="Destination (https, on the adapter's allow-list); default: the item.")
    ] = None,
    creator: Annotated[str | None, typer.Option("--creator", help="The note's creator (博主).")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="The brand campaign.")] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="30d, 12h, ... or an RFC 3339 time.")] = None,
    data: DataOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a signed link from a note to a marketplace item or store; prints its URL and share code."""
    from hongmao.links import create_link

    link = create_link(
        note,
        item,
        market,
        url,
        creator_id=creator,
        campaign_id=campaign,
        expires=parse_expiry(expires) if expires else None,
        data_dir=data,
    )
    if as_json:
        print_json(link.to_dict())
        return
    console.print(f"link {link.link_id} -> {link.record.url}", highlight=False)
    console.print(f"url: {link.url}", highlight=False, soft_wrap=True)
    console.print(f"share code (口令): {link.share_code}", highlight=False)


@link_app.command("revoke")
def revoke(
    link_id: Annotated[str, typer.Argument(help="The link to revoke.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the catalog).")] = None,
    data: DataOpt = None,
) -> None:
    """Revoke a link: its URL and share code answer 410 within about a second on every server."""
    from hongmao.links import revoke_link

    changed = revoke_link(link_id, reason, data_dir=data)
    console.print(f"revoked {link_id}" if changed else f"{link_id} was already revoked", highlight=False)


@link_app.command("show")
def show(
    link: Annotated[str, typer.Argument(help="A link id or a share code (口令).")],
    data: DataOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a link, found by its id or its share code."""
    from hongmao.links import get_link, link_url

    record = get_link(link, data_dir=data)
    out = {**record.to_dict(), "redirect_url": link_url(record.token)}
    if as_json:
        print_json(out)
        return
    for key, value in out.items():
        console.print(f"{key}: {value}", highlight=False, soft_wrap=True)


@link_app.command("fold")
def fold(data: DataOpt = None, as_json: JsonOpt = False) -> None:
    """Fold the click log into the lake now (the server does this every second and at start-up)."""
    from hongmao.links import fold_clicks

    result = fold_clicks(data)
    if as_json:
        print_json(result.to_dict())
        return
    console.print(f"folded {result.clicks} clicks: {result.stored} new, {result.duplicate} already in the lake")


@link_app.command("rotate-key")
def rotate_key(data: DataOpt = None) -> None:
    """Put a new signing key first in the data directory's key file; old keys keep verifying.

    New links are signed with it; running servers re-read the file when they meet a key id they do not know.
    With HONGMAO_LINK_KEYS, rotate there instead (new kid:secret first) and restart the servers.
    """
    from hongmao import settings
    from hongmao.links import keys

    kid = keys.rotate(data)
    console.print(f"new signing key {kid} in {keys.key_file(settings.data_dir(data).absolute())}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(link_app, name="link")
