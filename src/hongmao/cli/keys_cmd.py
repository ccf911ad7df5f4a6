"""``hongmao keys``: API keys of the REST API and console (create prints the key on its last line)."""

from __future__ import annotations

from typing import Annotated

import typer

from hongmao.cli.misc_cmd import DataOpt, JsonOpt
from hongmao.cli.output import console, err_console, print_json, print_table

keys_app = typer.Typer(
    help="API keys: one per brand (sees only its brand) or for platform operators.", no_args_is_help=True
)


@keys_app.command("create")
def create(
    data: DataOpt = None,
    brand: Annotated[str | None, typer.Option("--brand", help="The brand this key may see and act for.")] = None,
    operator: Annotated[bool, typer.Option("--operator", help="A platform operator key (every brand).")] = False,
    label: Annotated[str | None, typer.Option("--label", help="A note to say whose key it is.")] = None,
) -> None:
    """Create a key; it is printed once, on the last line (only its hash is stored)."""
    from hongmao import api
    from hongmao.web import auth

    if operator == bool(brand):
        err_console.print("[bold red]usage error:[/] give --brand BRAND or --operator (one of them)", highlight=False)
        raise typer.Exit(2)
    with api.open_lake(data, create=True) as lake:  # a key may come before the first events
        info, key = auth.create_key(lake, "operator" if operator else "brand", brand, label)
    who = "operator" if operator else f"brand {brand}"
    from hongmao import settings

    base = (settings.get("public_base_url") or "http://127.0.0.1:8000").rstrip("/")
    err_console.print(
        f"sign in at {base}/console/login with it (served by `hongmao serve --data {lake.data_dir}`), "
        f"or send it as `Authorization: Bearer <key>` to {base}/api/v1 (docs at {base}/docs)",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    err_console.print(f"created key {info.key_id} ({who}); store it now, it is not shown again:", highlight=False)
    print(key)


@keys_app.command("list")
def list_keys(
    data: DataOpt = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Only this brand's keys.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List keys (ids, roles, brands; never the keys)."""
    from hongmao import api
    from hongmao.web import auth

    with api.open_lake(data) as lake:
        keys = [k.to_dict() for k in auth.list_keys(lake, brand)]
    if as_json:
        print_json(keys)
    else:
        print_table("API keys", ["key_id", "role", "brand", "label", "created_at", "revoked_at"], keys)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (hm_<id>_...).")], data: DataOpt = None) -> None:
    """Revoke a key: its requests and console sessions stop at once."""
    from hongmao import api
    from hongmao.web import auth

    with api.open_lake(data) as lake:
        changed = auth.revoke_key(lake, key_id)
    console.print(f"key {key_id} revoked" if changed else f"key {key_id} was already revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
