"""``hongmao simulate``: write a simulated community-plus-marketplace world with its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hongmao.cli.output import console, print_table, progress
from hongmao.sim.worlds import WORLDS


def simulate(
    out: Annotated[Path, typer.Option("--out", help="Directory for events/ and truth/.")],
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same world.")] = 7,
    users: Annotated[int, typer.Option("--users", min=10, help="People in the world.")] = 10_000,
    days: Annotated[int, typer.Option("--days", min=1, help="Days simulated.")] = 30,
    brands: Annotated[int, typer.Option("--brands", min=1, help="Brands selling on the marketplace.")] = 6,
    world: Annotated[str, typer.Option("--world", help=f"Causal structure, one of: {', '.join(WORLDS)}.")] = "additive",
) -> None:
    """Simulate seeding, search-back, orders, refunds and campaigns, with ground truth under OUT/truth/."""
    from hongmao.sim import simulate as run

    if world not in WORLDS:
        known = ", ".join(WORLDS)
        raise typer.BadParameter(f"unknown world kind {world!r}; known kinds: {known}", param_hint="--world")
    with progress("simulating days", total=days) as advance:
        summary = run(
            out, seed=seed, users=users, days=days, brands=brands, world=world, progress=lambda _d, _n: advance()
        )
    rows = [{"type": k, "events": v} for k, v in sorted(summary.events.items())]
    print_table(f"Simulated world in {out}", ["type", "events"], rows)
    console.print(f"{sum(summary.events.values()):,} events · truth in {out / 'truth'}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
