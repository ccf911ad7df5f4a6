"""``hongmao demo``: simulate a small world, ingest it, attribute it and print the report."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hongmao.cli.output import console, fmt_number


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
) -> None:
    """Simulate -> ingest -> match -> attribute, and print top notes and creators under two models."""
    from hongmao import api
    from hongmao.engine.funnel import funnel
    from hongmao.sim import simulate

    if data.exists():
        shutil.rmtree(data)
    world, lake_dir = data / "world", data / "lake"
    console.rule("[bold]红猫 Hongmao demo")
    console.print(f"1. simulating {users:,} people over {days} days (seed {seed}) …")
    summary = simulate(world, seed=seed, users=users, days=days, brands=4)
    console.print(f"   {sum(summary.events.values()):,} events written under {world}/events")
    console.print("2. ingesting (validate · de-duplicate · store) …")
    files = sorted(str(p) for p in (world / "events").glob("*.jsonl"))
    report = api.ingest(files, lake_dir)
    console.print(f"   accepted {report.accepted:,} · duplicate {report.duplicate:,} · rejected {report.rejected:,}")
    console.print("3. matching people across the two sides and attributing orders …")
    with api.open_lake(lake_dir) as lake:
        segments = lake.segment_paths()
    f = funnel(segments)
    console.print(
        f"   {f['matched_people']:,} people seen on both sides (of {f['community_people']:,} in the community,"
        f" {f['market_people']:,} on the marketplace)"
    )
    last = api.attribute(lake_dir, "last", "note")
    linear = api.attribute(lake_dir, "linear", "note")
    console.print(
        f"   {last.total_orders:,.0f} of {last.orders:,} orders have a touch inside their window;"
        f" {last.unattributed_orders:,} are unattributed (organic or unseen)"
    )
    console.print(_side_by_side("Top notes · last touch vs linear", last, linear, top))
    c_last = api.attribute(lake_dir, "last", "creator")
    c_linear = api.attribute(lake_dir, "linear", "creator")
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
    console.print(f"\nNext: hongmao attribute --data {lake_dir} --model time_decay --by campaign")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
