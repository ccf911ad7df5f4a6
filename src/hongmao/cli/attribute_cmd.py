"""``hongmao attribute`` (the lake's orders) and ``hongmao attribute-paths`` (a journey file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hongmao.cli.misc_cmd import DataOpt
from hongmao.cli.output import console, print_csv, print_json, print_table, progress

FormatOpt = Annotated[str, typer.Option("--format", help="table, json or csv.")]


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("use table, json or csv", param_hint="--format")


def _parse_category_windows(values: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for value in values:
        category, sep, days = value.partition("=")
        try:
            out[category.strip()] = float(days)
        except ValueError:
            sep = ""
        if not sep or not category.strip() or out.get(category.strip(), 0) <= 0:
            raise typer.BadParameter(f"{value!r}: expected CATEGORY=DAYS with DAYS > 0", param_hint="--category-window")
    return out


def attribute(
    data: DataOpt = None,
    model: Annotated[
        str,
        typer.Option(
            "--model", help="first, last, linear, time_decay, position, markov, shapley, hazard or datadriven."
        ),
    ] = "last",
    by: Annotated[str, typer.Option("--by", help="note, creator, brand, campaign or item.")] = "note",
    touches: Annotated[
        str | None, typer.Option("--touches", help="Touch kinds to count: impression,read,engagement,click,search.")
    ] = None,
    category_window: Annotated[
        list[str] | None, typer.Option("--category-window", help="CATEGORY=DAYS lookback for a category (repeat).")
    ] = None,
    half_life: Annotated[float, typer.Option("--half-life", help="time_decay half-life in days.")] = 7.0,
    order: Annotated[int, typer.Option("--order", min=1, help="Markov chain order.")] = 1,
    windows_from_cycles: Annotated[
        bool,
        typer.Option(
            "--windows-from-cycles",
            help="Each category looks back its estimated decision cycle (see hongmao roi); "
            "--category-window still wins for the categories it names.",
        ),
    ] = False,
    cycle_quantile: Annotated[
        float, typer.Option("--cycle-quantile", min=0.5, max=1.0, help="Share of purchases a cycle holds.")
    ] = 0.9,
    null_window: Annotated[
        str,
        typer.Option(
            "--null-window", help="markov: a non-buyer's path holds 'all' their touches or the 'windowed' ones."
        ),
    ] = "all",
    horizon: Annotated[int, typer.Option("--horizon", min=0, help="hazard, datadriven: days a touch can act.")] = 60,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="datadriven: refits on resampled people for the intervals.")
    ] = 5,
    world: Annotated[
        Path | None,
        typer.Option("--world", help="datadriven: a simulated world whose holdout key checks campaigns' lift."),
    ] = None,
    strata: Annotated[int, typer.Option("--strata", min=1, help="hazard: baseline strata (by feed share).")] = 8,
    utc_offset: Annotated[
        float,
        typer.Option("--utc-offset", min=-12, max=14, help="hazard, datadriven: calendar days at this UTC offset."),
    ] = 8.0,
    include_flagged: Annotated[
        bool,
        typer.Option(
            "--include-flagged", help="Keep the touches of accounts flagged for fake engagement (left out by default)."
        ),
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown in the table (json/csv print all).")] = 20,
    fmt: FormatOpt = "table",
) -> None:
    """Credit every order to its buyer's touchpoints inside the lookback windows."""
    from hongmao import api

    _check_format(fmt)
    with progress(f"attributing orders · {model} by {by}"):  # a spinner on a terminal, silent otherwise
        result = api.attribute(
            data,
            model,
            by,
            touches=touches.split(",") if touches else None,
            category_days=_parse_category_windows(category_window or []),
            half_life_days=half_life,
            markov_order=order,
            windows_from_cycles=windows_from_cycles,
            cycle_quantile=cycle_quantile,
            null_window=null_window,
            exclude_flagged=not include_flagged,
            hazard={"horizon_days": horizon, "strata": strata, "utc_offset_hours": utc_offset}
            if model == "hazard"
            else None,
            datadriven=_datadriven_params(horizon, bootstrap, utc_offset, world) if model == "datadriven" else None,
        )
    columns = ["key", "orders", "gmv", "net_gmv"]
    if result.rows and "orders_low" in result.rows[0]:
        columns[2:2] = ["orders_low", "orders_high"]
    if fmt == "json":
        print_json(result.to_dict())
    elif fmt == "csv":
        print_csv(columns, result.rows)
    else:
        print_table(f"Attribution by {by} · model {model}", columns, result.rows[:limit])
        baseline = ""
        if result.baseline_orders is not None:
            share = result.baseline_orders / result.orders if result.orders else 0.0
            baseline = f" · baseline {result.baseline_orders:,.0f} ({share:.0%})"
        console.print(
            f"attributed orders {result.total_orders:,.0f}{baseline} · unattributed {result.unattributed_orders:,}"
            + (
                f" · {len(result.rows) - limit:,} more rows (use --format json or csv)"
                if len(result.rows) > limit
                else ""
            )
        )
        if result.lift_checks:
            _print_lift_checks(result.lift_checks)


def _print_lift_checks(checks: list[dict[str, Any]]) -> None:
    for c in checks:
        verdict = "agrees" if c["agrees"] else f"calibration x{c['calibration'] or 0:.2f}"
        lo, hi = c["lift_ci95"]
        console.print(
            f"campaign {c['campaign_id']}: model {c['model_orders']:,.1f} orders · holdout lift "
            f"{c['lift_orders']:,.1f} [{lo:,.1f}, {hi:,.1f}] · {verdict}"
        )


def _datadriven_params(horizon: int, bootstrap: int, utc_offset: float, world: Path | None) -> dict[str, object]:
    from hongmao import api

    params: dict[str, object] = {"horizon_days": horizon, "bootstrap": bootstrap, "utc_offset_hours": utc_offset}
    if world is not None:
        params["holdout_key"] = api.holdout_key_from_world(world)
    return params


def attribute_paths(
    file: Annotated[
        Path, typer.Argument(help="Journey file: path;total_conversions;total_conversion_value;total_null")
    ],
    model: Annotated[str, typer.Option("--model", help="first, last, linear, position, time_decay, markov, shapley.")],
    fmt: FormatOpt = "table",
    order: Annotated[int, typer.Option("--order", min=1, help="Markov chain order.")] = 1,
) -> None:
    """Attribute aggregated journeys (the widely used path format) to channels."""
    from hongmao import api

    _check_format(fmt)
    params = {"order": order} if model == "markov" else {}
    credits = api.attribute_paths(file, model, **params)
    rows = [{"channel": c.channel, "conversions": c.conversions, "value": c.value} for c in credits]
    if fmt == "json":
        print_json({"model": model, "channels": rows})
    elif fmt == "csv":
        print_csv(["channel", "conversions", "value"], rows)
    else:
        print_table(f"Attribution of {file.name} · model {model}", ["channel", "conversions", "value"], rows, digits=4)


def register(app: typer.Typer) -> None:
    app.command("attribute")(attribute)
    app.command("attribute-paths")(attribute_paths)
