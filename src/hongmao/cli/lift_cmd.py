"""``hongmao lift``: incrementality of a randomised experiment against its holdout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hongmao.cli.output import console, print_json


def lift(
    units: Annotated[Path, typer.Option("--units", help="Unit-level table (.csv, .csv.gz or .parquet).")],
    group: Annotated[str, typer.Option("--group", help="Column holding each unit's group.")],
    treatment: Annotated[str, typer.Option("--treatment", help="Group value of the treated units.")],
    holdout: Annotated[str, typer.Option("--holdout", help="Group value of the held-out units.")],
    metric: Annotated[str, typer.Option("--metric", help="Column of the outcome (0/1 or an amount).")],
    interval: Annotated[str, typer.Option("--interval", help="auto, welch or newcombe.")] = "auto",
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Lift of METRIC for TREATMENT over HOLDOUT with a 95% interval, naming the method."""
    from hongmao.measure import lift_from_units

    if fmt not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    if interval not in ("auto", "welch", "newcombe"):
        raise typer.BadParameter("use auto, welch or newcombe", param_hint="--interval")
    result = lift_from_units(str(units), group, treatment, holdout, metric, interval=interval)  # type: ignore[arg-type]
    if fmt == "json":
        print_json(result.to_dict())
        return
    lo, hi = result.ci95
    console.print(
        f"[bold]{metric}[/]: {treatment} {result.treatment_mean:.6g} (n={result.n_treatment:,})"
        f" vs {holdout} {result.holdout_mean:.6g} (n={result.n_holdout:,})"
    )
    console.print(f"lift {result.lift:+.6g}  95% CI [{lo:+.6g}, {hi:+.6g}]  p={result.p_value:.2g}")
    console.print(f"method: {result.method}")


def register(app: typer.Typer) -> None:
    app.command("lift")(lift)
