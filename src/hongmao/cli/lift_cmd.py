"""``hongmao lift``: incrementality against a randomised holdout, in two modes.

* ``--units FILE --group COL --treatment A --holdout B --metric COL`` — an experiment's unit-level table;
* ``--campaign ID [--data DIR]`` — a campaign in the lake, its holdout recomputed with the holdout key.

Mixing the two modes, or giving neither, is a usage error (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hongmao import settings
from hongmao.cli.output import console, print_json, print_table

MODES = "--units / --campaign"


def _usage(message: str, hint: str = MODES) -> typer.BadParameter:
    """A usage error (exit 2) naming the options at fault."""
    return typer.BadParameter(message, param_hint=hint)


def _parse_category_windows(values: list[str]) -> dict[str, float]:
    from hongmao.cli.attribute_cmd import _parse_category_windows as parse

    return parse(values)


def lift(
    units: Annotated[
        Path | None, typer.Option("--units", help="Unit mode: unit-level table (.csv, .csv.gz or .parquet).")
    ] = None,
    group: Annotated[str | None, typer.Option("--group", help="Unit mode: column holding each unit's group.")] = None,
    treatment: Annotated[
        str | None, typer.Option("--treatment", help="Unit mode: group value of the treated units.")
    ] = None,
    holdout: Annotated[
        str | None, typer.Option("--holdout", help="Unit mode: group value of the held-out units.")
    ] = None,
    metric: Annotated[
        str | None, typer.Option("--metric", help="Unit mode: column of the outcome (0/1 or an amount).")
    ] = None,
    interval: Annotated[str, typer.Option("--interval", help="Unit mode: auto, welch or newcombe.")] = "auto",
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Campaign mode: " + settings.SETTINGS["data_dir"].help + " (env HONGMAO_DATA)"),
    ] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="Campaign mode: the campaign id.")] = None,
    holdout_key_file: Annotated[
        Path | None,
        typer.Option(
            "--holdout-key-file",
            help="Campaign mode: file holding the holdout key (else env HONGMAO_HOLDOUT_KEY[_FILE]).",
        ),
    ] = None,
    world: Annotated[
        Path | None,
        typer.Option(
            "--world",
            help="Campaign mode, simulated worlds only: read the holdout key from WORLD/truth/world.json.",
        ),
    ] = None,
    window_days: Annotated[
        float | None,
        typer.Option("--window-days", help="Campaign mode: count orders until this many days after the end."),
    ] = None,
    category_window: Annotated[
        list[str] | None,
        typer.Option("--category-window", help="Campaign mode: CATEGORY=DAYS window of a category (repeat)."),
    ] = None,
    windows_from_cycles: Annotated[
        bool,
        typer.Option("--windows-from-cycles", help="Campaign mode: the category's window is its decision cycle."),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Lift against a randomised holdout, with 95% intervals naming their method.

    Unit mode: the lift of METRIC for TREATMENT over HOLDOUT in a unit table. Campaign mode: a campaign's
    incremental orders, GMV, net GMV and conversion rate among the people seen in the community during it.
    """
    if fmt not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    unit_opts = {
        "--units": units,
        "--group": group,
        "--treatment": treatment,
        "--holdout": holdout,
        "--metric": metric,
    }
    lake_opts = {
        "--data": data,
        "--campaign": campaign,
        "--holdout-key-file": holdout_key_file,
        "--world": world,
        "--window-days": window_days,
        "--category-window": category_window or None,
        "--windows-from-cycles": windows_from_cycles or None,
    }
    used_units = [name for name, value in unit_opts.items() if value is not None]
    used_lake = [name for name, value in lake_opts.items() if value is not None]
    if used_units and used_lake:
        raise _usage(
            f"{', '.join(used_units)} (unit mode) and {', '.join(used_lake)} (campaign mode) cannot be mixed: "
            "use --units with --group/--treatment/--holdout/--metric, or --campaign with --data"
        )
    if not used_units and not used_lake:
        raise _usage(
            "give a unit table (--units FILE --group COL --treatment A --holdout B --metric COL) "
            "or a campaign in the lake (--campaign ID [--data DIR])"
        )
    if used_units:
        missing = [name for name, value in unit_opts.items() if value is None]
        if missing:
            raise _usage(f"unit mode needs {', '.join(missing)}", ", ".join(missing))
        if interval not in ("auto", "welch", "newcombe"):
            raise typer.BadParameter("use auto, welch or newcombe", param_hint="--interval")
        assert units is not None and group is not None and treatment is not None
        assert holdout is not None and metric is not None
        _units(units, group, treatment, holdout, metric, interval, fmt)
        return
    if campaign is None:
        raise _usage(f"campaign mode ({', '.join(used_lake)}) needs --campaign ID", "--campaign")
    if world is not None and holdout_key_file is not None:
        raise _usage("both give the holdout key: use one", "--world / --holdout-key-file")
    if interval != "auto":
        raise _usage("--interval is for unit mode; campaign mode names the interval of each metric", "--interval")
    if window_days is not None and window_days < 0:
        raise typer.BadParameter("must be zero or more days", param_hint="--window-days")
    from hongmao import api

    result = api.campaign_lift(
        data,
        campaign,
        holdout_key_file=holdout_key_file,
        world=world,
        window_days=window_days,
        category_days=_parse_category_windows(category_window or []),
        windows_from_cycles=windows_from_cycles,
    )
    if fmt == "json":
        print_json(result.to_dict())
        return
    _print_campaign(result.to_dict())


def _units(units: Path, group: str, treatment: str, holdout: str, metric: str, interval: str, fmt: str) -> None:
    from hongmao.measure import lift_from_units

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


def _ci(pair: list[float], digits: int) -> str:
    return f"[{pair[0]:+,.{digits}f}, {pair[1]:+,.{digits}f}]"


def _print_campaign(r: dict[str, Any]) -> None:
    c, w, t, h = r["campaign"], r["window"], r["treated"], r["holdout"]
    console.print(
        f"[bold]{c['campaign_id']}[/] · brand {c['brand']} ({r['category'] or 'unknown category'}) · "
        f"{c['start']} → {c['end']} · holdout share {c['holdout_share']:.0%} · spend {c['spend']:,.2f} {c['currency']}"
    )
    console.print(
        f"orders counted {w['start']} → {w['end']} (campaign end + {w['days_after_end']:g} days"
        f"{'' if w['complete'] else ', cut at the end of the lake'})"
    )
    console.print(f"units: {r['units']}: treated {t['n']:,}, held out {h['n']:,}")
    conv = r["conversion_rate"]
    rows = [
        {
            "metric": "incremental orders",
            "treated": t["orders"],
            "holdout": h["orders"],
            "estimate": f"{r['incremental_orders']['estimate']:+,.1f}",
            "95% CI": _ci(r["incremental_orders"]["ci95"], 1),
        },
        {
            "metric": "incremental GMV",
            "treated": t["gmv"],
            "holdout": h["gmv"],
            "estimate": f"{r['incremental_gmv']['estimate']:+,.2f}",
            "95% CI": _ci(r["incremental_gmv"]["ci95"], 2),
        },
        {
            "metric": "incremental net GMV",
            "treated": t["net_gmv"],
            "holdout": h["net_gmv"],
            "estimate": f"{r['incremental_net_gmv']['estimate']:+,.2f}",
            "95% CI": _ci(r["incremental_net_gmv"]["ci95"], 2),
        },
        {
            "metric": "conversion rate (points)",
            "treated": f"{conv['treatment_mean']:.3%}",
            "holdout": f"{conv['holdout_mean']:.3%}",
            "estimate": f"{conv['lift'] * 100:+.3f}",
            "95% CI": _ci([x * 100 for x in conv["ci95"]], 3),
        },
    ]
    if r["incremental_roi"] is not None:
        rows.append(
            {
                "metric": "incremental ROI (net GMV / spend)",
                "treated": "",
                "holdout": "",
                "estimate": f"{r['incremental_roi']:+.3f}",
                "95% CI": _ci(r["incremental_roi_ci95"], 3),
            }
        )
    print_table(
        "Holdout lift, scaled to the treated group", ["metric", "treated", "holdout", "estimate", "95% CI"], rows
    )
    exposed = r["exposed"]
    console.print(
        f"checks: sample ratio p={r['srm_p_value']:.2g} · touched the campaign's notes: treated "
        f"{exposed['treated']:,}, held out {exposed['holdout']:,}"
    )
    console.print(f"method: {r['method']}")
    for warning in r["warnings"]:
        console.print(f"[bold yellow]warning:[/] {warning}")


def register(app: typer.Typer) -> None:
    app.command("lift")(lift)
