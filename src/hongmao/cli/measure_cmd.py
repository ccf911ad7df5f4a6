"""``hongmao roi``: each category's decision cycle and every campaign's ROI(T+x)."""

from __future__ import annotations

from typing import Annotated

import typer

from hongmao.cli.misc_cmd import DataOpt
from hongmao.cli.output import console, print_json, print_table


def roi(
    data: DataOpt = None,
    quantile: Annotated[
        float, typer.Option("--quantile", min=0.5, max=1.0, help="Share of purchases the cycle holds.")
    ] = 0.9,
    method: Annotated[str, typer.Option("--method", help="excess-lag or first-exposure.")] = "excess-lag",
    model: Annotated[
        str, typer.Option("--model", help="Rule model crediting campaigns: first, last, linear, time_decay, position.")
    ] = "linear",
    half_life: Annotated[float, typer.Option("--half-life", help="time_decay half-life in days.")] = 7.0,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Decision cycle x per item category, and ROI(T+x) = attributed net GMV / spend per campaign.

    The cycle is the span of days holding QUANTILE of the lags from seeding touches to purchases; a campaign's
    ROI(T+x) counts its orders until x days after its end, credited inside windows of x days.
    """
    from hongmao import api

    if fmt not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    if method not in ("excess-lag", "first-exposure"):
        raise typer.BadParameter("use excess-lag or first-exposure", param_hint="--method")
    if model not in ("first", "last", "linear", "time_decay", "position"):
        raise typer.BadParameter("use first, last, linear, time_decay or position", param_hint="--model")
    result = api.roi(data, quantile=quantile, method=method, model=model, half_life_days=half_life)
    if fmt == "json":
        print_json(result)
        return
    cycles = [
        {
            "key": c["category"],
            "purchases": c["purchases"],
            f"cycle (q{quantile:g}, days)": "—" if c["days"] is None else c["days"],
            "median (days)": "—" if c["median_days"] is None else c["median_days"],
            "note": c["reason"] or ("lower bound: reaches half the data span" if c["truncated"] else ""),
        }
        for c in result["cycles"]
    ]
    print_table(
        f"Decision cycles · {method} · seeding touches {','.join(result['touches'])} · "
        f"data span {result['span_days']:.1f} days",
        ["key", "purchases", f"cycle (q{quantile:g}, days)", "median (days)", "note"],
        cycles,
    )
    rows = [
        {
            "key": r["campaign_id"],
            "category": r["category"] or "—",
            "spend": r["spend"],
            "x (days)": f"{r['x_days']:g}" + ("" if r["x_from"] == "cycle" else " (default)"),
            "net GMV": r["net_gmv"],
            "ROI(T+x)": "—" if r["roi"] is None else f"{r['roi']:.3f}" + ("" if r["complete"] else " *"),
            f"ROI(T+{r['default_days']:g})": "—" if r["roi_default"] is None else f"{r['roi_default']:.3f}",
        }
        for r in result["campaigns"]
    ]
    if rows:
        default_col = next(c for c in rows[0] if c.startswith("ROI(T+") and c != "ROI(T+x)")
        print_table(
            f"ROI(T+x) per campaign · model {model}",
            ["key", "category", "spend", "x (days)", "net GMV", "ROI(T+x)", default_col],
            rows,
        )
        if any(not r["complete"] for r in result["campaigns"]):
            console.print("* the lake ends before T+x: the ROI so far")
    else:
        console.print("no campaigns in the lake")


def register(app: typer.Typer) -> None:
    app.command("roi")(roi)
