"""``hongmao demo``: simulate a small world, ingest it, attribute it, print the report, then serve it.

Served at http://127.0.0.1:8000 (``--port``): the demo community (notes with their 种草直达 cards), a small
store (item pages with buy and refund), the real link redirect in between, and the brand console. The keys
to sign in are printed before serving. ``--no-serve`` stops after the report.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hongmao.cli.output import console, err_console, fmt_number


class _ForcedExitFilter(logging.Filter):
    """Drops uvicorn's report of the app's lifespan task cancelled by a second Ctrl-C: the user asked for that forced
    exit (uvicorn skips the lifespan's shutdown and cancels the waiting task), so its traceback says nothing wrong.
    Starlette hands uvicorn the cancelled task's traceback as text (``lifespan.shutdown.failed``), which uvicorn logs
    as the message; a traceback of anything else still shows, and so does a cancellation chained to another error."""

    CANCELLED = f"{asyncio.CancelledError.__module__}.{asyncio.CancelledError.__qualname__}"
    CHAINED = ("During handling of the above exception", "The above exception was the direct cause")

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        if isinstance(failure, asyncio.CancelledError):
            return failure.__context__ is not None or failure.__cause__ is not None
        text = str(record.msg) if not record.args else record.getMessage()
        alone = not any(marker in text for marker in self.CHAINED)
        return not (alone and text.rstrip().endswith(self.CANCELLED))


def _side_by_side(title: str, a: Any, b: Any, top: int) -> Table:
    rows_b = {r["key"]: r for r in b.rows}
    table = Table(title=title, title_justify="left")
    table.add_column("key")
    for model in (a.model, b.model):
        table.add_column(f"orders · {model}", justify="right")
        table.add_column(f"net GMV · {model}", justify="right")
    for row in a.rows[:top]:
        other = rows_b.get(row["key"], {"orders": 0.0, "net_gmv": 0.0})
        table.add_row(
            row["key"],
            fmt_number(row["orders"]),
            fmt_number(row["net_gmv"]),
            fmt_number(other["orders"]),
            fmt_number(other["net_gmv"]),
        )
    return table


def demo(
    data: Annotated[Path, typer.Option("--data", help="Where the demo world and its lake go (replaced).")] = Path(
        "hongmao-demo"
    ),
    users: Annotated[int, typer.Option("--users", min=10)] = 3_000,
    days: Annotated[int, typer.Option("--days", min=1)] = 21,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    top: Annotated[int, typer.Option("--top", min=1)] = 8,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="After the report, serve the community, store and console.")
    ] = True,
    host: Annotated[str, typer.Option("--host", help="Address to serve on (loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to serve on.")] = 8000,
) -> None:
    """Simulate -> ingest -> match -> attribute, print top notes and creators, then serve the whole loop."""
    from datetime import UTC, datetime, timedelta

    from hongmao import api
    from hongmao.engine.funnel import funnel
    from hongmao.sim import WorldConfig, simulate

    if serve:
        _check_port(host, port)  # before minutes of simulating, not after
    if data.exists():
        shutil.rmtree(data)
    world, lake_dir = data / "world", data / "lake"
    console.rule("[bold]红猫 Hongmao demo")
    console.print(f"1. simulating {users:,} people over {days} days (seed {seed}) …")
    # The world ends yesterday (China time), so what a visitor does today continues it.
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    config = WorldConfig(start=today - timedelta(days=days))
    summary = simulate(world, seed=seed, users=users, days=days, brands=4, config=config)
    console.print(f"   {sum(summary.events.values()):,} events written under {world}/events")
    console.print("2. ingesting (validate · de-duplicate · store) …")
    files = sorted(str(p) for p in (world / "events").glob("*.jsonl"))
    report = api.ingest(files, lake_dir)
    console.print(f"   accepted {report.accepted:,} · duplicate {report.duplicate:,} · rejected {report.rejected:,}")
    console.print("3. matching people across the two sides and attributing orders …")
    from hongmao.engine.trust import flagged_accounts

    with api.engine_session(lake_dir) as session:
        flagged = flagged_accounts(session)  # fake-engagement accounts: their touches count for nothing
        f = funnel(session, exclude_users=flagged or None)
    console.print(f"   {len(flagged):,} accounts flagged for fake engagement: their touches are left out")
    console.print(
        f"   {f['matched_people']:,} people seen on both sides (of {f['community_people']:,} in the community,"
        f" {f['market_people']:,} on the marketplace)"
    )
    last = api.attribute(lake_dir, "last", "note", exclude_flagged=False, exclude_users=flagged)
    linear = api.attribute(lake_dir, "linear", "note", exclude_flagged=False, exclude_users=flagged)
    console.print(
        f"   {last.total_orders:,.0f} of {last.orders:,} orders have a touch inside their window;"
        f" {last.unattributed_orders:,} are unattributed (organic or unseen)"
    )
    console.print(_side_by_side("Top notes · last touch vs linear", last, linear, top))
    c_last = api.attribute(lake_dir, "last", "creator", exclude_flagged=False, exclude_users=flagged)
    c_linear = api.attribute(lake_dir, "linear", "creator", exclude_flagged=False, exclude_users=flagged)
    console.print(_side_by_side("Top creators · last touch vs linear", c_last, c_linear, top))
    steps = [
        ("impressions 曝光", "impressions"),
        ("reads 阅读", "reads"),
        ("clicks 点击", "clicks"),
        ("store visits 进店", "store_visits"),
        ("search-back 回搜", "search_back_users"),
        ("carts 加购", "carts"),
        ("orders 成交", "orders"),
        ("refunds 退款", "refunds"),
    ]
    table = Table(title="Funnel", title_justify="left")
    table.add_column("step")
    table.add_column("count", justify="right")
    for label, key in steps:
        table.add_row(label, fmt_number(f[key]))
    console.print(table)
    rates = [
        ("read rate", "read_rate"),
        ("engagement rate", "engagement_rate"),
        ("CTR", "ctr"),
        ("store-visit rate", "store_visit_rate"),
        ("search-back rate", "search_back_rate"),
    ]
    console.print("   " + " · ".join(f"{name} {f[key]:.2%}" for name, key in rates if f[key] is not None))
    # One unwrapped, unstyled line, so it pastes into a shell as printed.
    next_step = f"hongmao attribute --data {shlex.quote(str(lake_dir))} --model time_decay --by campaign"
    console.print(f"\nNext: {next_step}", soft_wrap=True, highlight=False, markup=False)
    if serve:
        by_brand = api.attribute(lake_dir, "last", "brand")
        brand = by_brand.rows[0]["key"] if by_brand.rows else None
        _serve(lake_dir, world, host, port, brand)


def _check_port(host: str, port: int) -> None:
    """Exit with a clear message (code 2) when ``host:port`` cannot be listened on, naming the flag to use."""
    import errno
    import socket

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, port))
    except OSError as failure:
        why = "is taken" if failure.errno == errno.EADDRINUSE else f"cannot be used ({failure.strerror})"
        err_console.print(
            f"error: port {port} on {host} {why}; serve on another with --port (e.g. --port {port + 1}), "
            "or run with --no-serve",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
        raise typer.Exit(2) from None


def _serve(lake_dir: Path, world: Path, host: str, port: int, brand: str | None) -> None:
    """Link the community's notes to the store, make sign-in keys, and serve until Ctrl-C."""
    import json

    import uvicorn

    from hongmao import api
    from hongmao.web import DemoSettings, create_server
    from hongmao.web.auth import create_key
    from hongmao.web.demo_shop.setup import link_notes_to_store

    base = f"http://{host}:{port}"
    match_key = json.loads((world / "truth" / "world.json").read_text(encoding="utf-8"))["config"]["match_key"]
    console.print("4. linking the community's notes to the demo store (signed links through the redirect) …")
    made = link_notes_to_store(lake_dir.absolute(), f"{host}:{port}", base)
    console.print(f"   {made:,} links")
    with api.open_lake(lake_dir) as lake:
        _, operator_key = create_key(lake, "operator", label="demo operator")
        brand_key = create_key(lake, "brand", brand, label="demo brand")[1] if brand else None
    server = create_server(lake_dir.absolute(), public_url=base, demo=DemoSettings(match_key=match_key))
    console.rule("[bold]serving")
    console.print(f"community  {base}/community   (read a note, tap its 种草直达 card, buy)")
    console.print(f"store      {base}/shop")
    console.print(f"console    {base}/console/     API docs {base}/docs")
    if brand_key:
        console.print(f"brand key ({brand}):  {brand_key}", soft_wrap=True)
    console.print(f"operator key:        {operator_key}", soft_wrap=True)
    console.print("Ctrl-C to stop")
    forced_exit = _ForcedExitFilter()
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addFilter(forced_exit)  # kept by uvicorn's logging set-up (it replaces handlers, not filters)
    try:
        uvicorn.run(server, host=host, port=port, log_level="warning", lifespan="on")
    finally:
        uvicorn_log.removeFilter(forced_exit)
        server.close()


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
