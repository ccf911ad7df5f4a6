"""``hongmao audiences``: AIPS stage counts and flows for one brand, and audience exports for the marketplace.

The same service as ``/api/v1/audiences`` (:mod:`hongmao.cleanroom.audiences`), with the same thresholds from
settings; each run is a line in the deployment's audit log with the principal ``cli:<os user>``.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hongmao.cli.misc_cmd import DataOpt, JsonOpt
from hongmao.cli.output import console, print_json, print_table

audiences_app = typer.Typer(
    help="AIPS audiences: people per stage, flows between periods, exports.", no_args_is_help=True
)

BrandOpt = Annotated[str, typer.Option("--brand", help="The brand whose audiences these are.")]
RangeOpt = Annotated[str | None, typer.Option("--range", help="yesterday, 7d or 30d (default 30d), or custom.")]
FromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (business time zone).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day (inclusive), YYYY-MM-DD.")]


def _run(data: Path | None, endpoint: str, params: dict[str, Any], work: Any) -> Any:
    from hongmao import settings
    from hongmao.cleanroom import audit
    from hongmao.cleanroom.audiences import Audiences
    from hongmao.lake import Lake

    directory = settings.data_dir(data)
    lake = Lake.open(directory, settings.get("catalog_url"))
    principal = {"key_id": f"cli:{getpass.getuser()}", "role": "operator", "brand": params.get("brand")}
    try:
        svc = Audiences.from_settings(lake)
        try:
            out = work(svc)
        except ValueError as exc:
            audit.record(directory, principal=principal, endpoint=endpoint, params=params, outcome=f"refused: {exc}")
            raise
        audit.record(directory, principal=principal, endpoint=endpoint, params=params)
        return out
    finally:
        lake.close()


def _period(svc: Any, range_: str | None, start: str | None, end: str | None) -> Any:
    return svc.period_of({"range": range_ or "", "from": start or "", "to": end or ""})


@audiences_app.command("aips")
def aips_cmd(
    brand: BrandOpt,
    data: DataOpt = None,
    range_: RangeOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """People at each stage (A exposed, I interested, TI 种草值, P bought, S shared) and the flows from the
    previous period of the same length; counts under k are withheld."""
    from hongmao.reports.scope import Scope

    params = {"brand": brand, "range": range_, "from": start, "to": end}
    out = _run(
        data,
        "cli audiences aips",
        params,
        lambda svc: svc.report(Scope(brand), _period(svc, range_, start, end)),
    )
    if as_json:
        print_json(out)
        return
    p = out["period"]
    console.print(f"{brand}: {p['from']} .. {p['to']} (k = {out['rules']['k']}; TI: {out['rules']['ti']})")
    print_table("AIPS stages", ["stage", "name_zh", "name", "at", "reached"], out["stages"])
    print_table(
        f"Flows from {out['previous']['from']} .. {out['previous']['to']}",
        ["from", "to", "move", "people"],
        out["flows"],
    )


@audiences_app.command("export")
def export_cmd(
    brand: BrandOpt,
    stage: Annotated[str, typer.Option("--stage", help="A, I, TI, P or S.")],
    out: Annotated[Path, typer.Option("--out", help="The export file (JSON) for the marketplace.")],
    reached: Annotated[bool, typer.Option("--reached", help="The stage or deeper (default: at the stage).")] = False,
    data: DataOpt = None,
    range_: RangeOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
) -> None:
    """Write one stage's people as values only the marketplace can map back; refused below the minimum size."""
    from hongmao.reports.scope import Scope

    params = {"brand": brand, "stage": stage, "reached": reached, "range": range_, "from": start, "to": end}
    doc = _run(
        data,
        "cli audiences export",
        params,
        lambda svc: svc.export(Scope(brand), _period(svc, range_, start, end), stage, reached=reached),
    )
    out.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    print_json({k: v for k, v in doc.items() if k not in ("ids", "salt")} | {"out": str(out)})


def register(app: typer.Typer) -> None:
    app.add_typer(audiences_app, name="audiences")
