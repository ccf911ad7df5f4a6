"""``hongmao programs``, ``hongmao settle``, ``hongmao statements`` and ``hongmao holds``: creator commissions
settled from the lake into an append-only ledger (a thin layer over :mod:`hongmao.settle.api`); and
``hongmao guarantees create/list/settle/pay``: ROI guarantees (:mod:`hongmao.settle.guarantee_api`).

``--brand`` is the tenant scope (a brand sees only its own programs and entries); without it the command
acts as the operator, over every brand.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from hongmao.cli.misc_cmd import DataOpt
from hongmao.cli.output import print_json, print_table

BrandOpt = Annotated[str | None, typer.Option("--brand", help="Tenant scope: only this brand (default: operator).")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, json or csv.")]


def _format(fmt: str, allowed: tuple[str, ...] = ("table", "json", "csv")) -> str:
    if fmt not in allowed:
        raise typer.BadParameter(f"use one of {', '.join(allowed)}", param_hint="--format")
    return fmt


def _day_end(text: str, hint: str) -> datetime:
    """The end of a UTC day (the next midnight): facts before it count."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected YYYY-MM-DD", param_hint=hint) from None
    return day + timedelta(days=1)


def _moment(text: str | None, hint: str) -> datetime | None:
    """An ISO 8601 time (UTC when it names no zone), or None when not given."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected ISO 8601", param_hint=hint) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _emit(fmt: str, title: str, columns: list[str], rows: list[dict[str, str]]) -> None:
    if fmt == "json":
        print_json(rows)
    elif fmt == "csv":
        from hongmao.settle.statements import to_csv

        sys.stdout.write(to_csv(columns, rows))
    else:
        print_table(title, columns, rows)


def programs(
    data: DataOpt = None,
    file: Annotated[Path | None, typer.Option("--file", help="Programs to create (JSON or TOML).")] = None,
    program_id: Annotated[str | None, typer.Option("--id", help="Create one program with this id.")] = None,
    brand: BrandOpt = None,
    rate: Annotated[float | None, typer.Option("--rate", help="Commission as a fraction (0.1 = 10%).")] = None,
    flat: Annotated[float | None, typer.Option("--flat", help="Flat commission per order, yuan.")] = None,
    credit: Annotated[str, typer.Option("--credit", help="click, or a rule model (last, linear, ...).")] = "click",
    hold_days: Annotated[int | None, typer.Option("--hold-days", help="Holding period (default: derived).")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Create commission programs (from --file, or --id/--brand/--rate|--flat) and list the brand's programs."""
    from hongmao.settle import api
    from hongmao.settle.programs import parse_program

    _format(fmt, ("table", "json"))
    if file is not None:
        api.add_programs(file, data, brand=brand)
    if program_id is not None:
        if brand is None:
            raise typer.BadParameter("a program belongs to a brand", param_hint="--brand")
        term: dict[str, object] = {"rate": str(rate)} if rate is not None else {}
        if flat is not None:
            term["flat"] = str(flat)
        spec: dict[str, object] = {"program_id": program_id, "brand": brand, "credit": credit, "terms": [term]}
        if hold_days is not None:
            spec["hold_days"] = hold_days
        api.add_programs([parse_program(spec)], data, brand=brand)
    found = api.list_programs(data, brand=brand)
    if fmt == "json":
        print_json([p.spec for p in found])
        return
    rows = [
        {
            "key": p.program_id,
            "brand": p.brand,
            "credit": p.credit,
            "terms": str(len(p.terms)),
            "hold": str(p.hold_days) if p.hold_days is not None else "derived",
        }
        for p in found
    ]
    print_table("Commission programs", ["key", "brand", "credit", "terms", "hold"], rows)


def settle(
    through: Annotated[str, typer.Option("--through", help="Settle facts up to the end of this UTC day.")],
    data: DataOpt = None,
    brand: BrandOpt = None,
    holds_file: Annotated[
        Path | None, typer.Option("--holds", help="JSON {creator: evidence} replacing the trust guard's flags.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Settle commissions up to a date: append exactly the ledger entries the lake's facts call for."""
    from hongmao.settle import api

    _format(fmt, ("table", "json"))
    holds = None
    if holds_file is not None:
        try:
            holds = {str(k): str(v) for k, v in json.loads(holds_file.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, AttributeError) as error:
            raise typer.BadParameter(f"{holds_file}: expected a JSON object: {error}", param_hint="--holds") from None
    report = api.settle(_day_end(through, "--through"), data, brand=brand, holds=holds)
    if fmt == "json":
        print_json(report.to_dict())
        return
    rows = [{"key": kind, "entries": str(n)} for kind, n in sorted(report.by_kind.items())]
    print_table(
        f"Settled through {through}: {report.programs} programs, {report.commissions} commissions, "
        f"{report.added} new entries",
        ["key", "entries"],
        rows,
    )


def statements(
    data: DataOpt = None,
    brand: BrandOpt = None,
    creator: Annotated[str | None, typer.Option("--creator", help="Only this creator's statement.")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Calendar month YYYY-MM (default: all).")] = None,
    payout: Annotated[
        Path | None, typer.Option("--payout", help="Pay what is payable at the period's end; write the file here.")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Statements per creator and period: earned, reversed, clawed back, voided, paid; pending, locked, held
    (with the reason) and payable at the period's end. --payout marks the period's payable entries paid."""
    from hongmao.settle import api
    from hongmao.settle.statements import COLUMNS, to_csv

    _format(fmt)
    if payout is not None:
        if period is None:
            raise typer.BadParameter("a payout is for one period", param_hint="--period")
        rows = api.pay(period, data, brand=brand)
        payout.write_text(to_csv(api.PAYOUT_COLUMNS, rows), encoding="utf-8")
    found = api.statements(data, period=period, brand=brand, creator=creator)
    _emit(fmt, "Statements (yuan)", list(COLUMNS), found)


def holds(
    data: DataOpt = None,
    brand: BrandOpt = None,
    creator: Annotated[str | None, typer.Option("--creator", help="The creator decided on.")] = None,
    release: Annotated[bool, typer.Option("--release", help="Release the creator's held commissions.")] = False,
    void: Annotated[bool, typer.Option("--void", help="Void the creator's held commissions.")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with the decision).")] = "",
    operator: Annotated[str, typer.Option("--operator", help="Who decides (recorded).")] = "operator",
    at: Annotated[str | None, typer.Option("--at", help="Decision time, ISO 8601 UTC (default: now).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List held commissions with their evidence, or record an operator's decision (--release/--void)."""
    from hongmao.settle import api

    _format(fmt, ("table", "json"))
    if release or void:
        if release and void:
            raise typer.BadParameter("choose one of --release and --void")
        if creator is None:
            raise typer.BadParameter("a decision names the creator", param_hint="--creator")
        when = _moment(at, "--at")
        decision = api.decide(creator, "release" if release else "void", reason, operator, data, brand=brand, at=when)
        typer.echo(f"recorded {decision.action} {decision.decision_id} for {creator}; the next settle applies it")
        return
    rows = api.held(data, brand=brand)
    _emit(fmt, "Held commissions (yuan)", ["brand", "creator_id", "held", "evidence"], rows)


guarantees_app = typer.Typer(
    help="ROI guarantees (对赌): create contracts, list them, settle them at T+x, pay what they owe.",
    no_args_is_help=True,
)


@guarantees_app.command("create")
def guarantees_create(
    data: DataOpt = None,
    brand: BrandOpt = None,
    file: Annotated[Path | None, typer.Option("--file", help="Contracts to create (JSON or TOML).")] = None,
    guarantee_id: Annotated[str | None, typer.Option("--id", help="Create one contract with this id.")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="The campaign guaranteed.")] = None,
    target_roi: Annotated[float | None, typer.Option("--target-roi", help="Target net GMV / spend at T+x.")] = None,
    share: Annotated[float, typer.Option("--share", help="Fraction of the shortfall returned.")] = 0.5,
    spend: Annotated[float | None, typer.Option("--spend", help="Yuan (default: the campaign's spend).")] = None,
    x_days: Annotated[int | None, typer.Option("--x-days", help="Days after the end (default: cycle).")] = None,
    measure: Annotated[str, typer.Option("--measure", help="incremental or attributed.")] = "incremental",
    model: Annotated[str, typer.Option("--model", help="Rule model of an attributed contract.")] = "linear",
    cap: Annotated[float | None, typer.Option("--cap", help="Most returned, yuan (default: the spend).")] = None,
    straddle: Annotated[
        str, typer.Option("--straddle", help="An interval across the target settles on: point, lower or upper.")
    ] = "point",
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Create ROI guarantee contracts (from --file, or --id/--brand/--campaign/--target-roi)."""
    from hongmao.settle import guarantee_api
    from hongmao.settle.guarantees import parse_guarantee

    _format(fmt, ("table", "json"))
    made = []
    if file is not None:
        made.extend(guarantee_api.create(file, data, brand=brand))
    if guarantee_id is not None:
        if brand is None or campaign is None or target_roi is None:
            raise typer.BadParameter("a contract names --brand, --campaign and --target-roi", param_hint="--id")
        spec: dict[str, object] = {
            "guarantee_id": guarantee_id,
            "brand": brand,
            "campaign_id": campaign,
            "target_roi": str(target_roi),
            "share": str(share),
            "measure": measure,
            "model": model,
            "straddle": straddle,
        }
        for key, value in (("spend", spend), ("cap", cap)):
            if value is not None:
                spec[key] = str(value)
        if x_days is not None:
            spec["x_days"] = x_days
        made.extend(guarantee_api.create([parse_guarantee(spec)], data, brand=brand))
    if not made:
        raise typer.BadParameter("give --file or --id", param_hint="--file")
    if fmt == "json":
        print_json([g.spec for g in made])
        return
    for g in made:
        typer.echo(f"{g.guarantee_id}: {g.campaign_id}, target ROI {g.target_roi} at T+{g.x_days} ({g.x_from})")


@guarantees_app.command("list")
def guarantees_list(
    data: DataOpt = None,
    brand: BrandOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Contracts in scope with their due dates and what each settlement found owed."""
    from hongmao.settle import guarantee_api

    _format(fmt)
    rows = guarantee_api.listing(data, brand=brand)
    if fmt == "json":
        print_json(rows)
        return
    columns = [*guarantee_api.LIST_COLUMNS, *guarantee_api.PAID_COLUMNS]
    flat = [{k: "" if r.get(k) is None else str(r[k]) for k in columns} for r in rows]
    _emit(fmt, "ROI guarantees (yuan)", columns, flat)


@guarantees_app.command("settle")
def guarantees_settle(
    guarantee_id: Annotated[str, typer.Argument(help="The contract to settle.")],
    data: DataOpt = None,
    brand: BrandOpt = None,
    holdout_key_file: Annotated[
        Path | None, typer.Option("--holdout-key-file", help="The campaign's holdout key (incremental contracts).")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="Settle as at this ISO 8601 time (default: now).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Settle a contract at T+x: the measured ROI, its interval, what is owed and why. Settling again restates it
    by an adjusting entry when late-arriving data changed what is owed, else adds nothing and shows it."""
    from hongmao import settings
    from hongmao.settle import guarantee_api

    _format(fmt, ("table", "json"))
    when = _moment(at, "--at")
    key = settings.holdout_key(None, holdout_key_file) if holdout_key_file is not None else None
    statement, new = guarantee_api.settle(guarantee_id, data, brand=brand, at=when, holdout_key=key)
    if fmt == "json":
        print_json({**statement, "new": new})
        return
    shown = {**statement, "interval": " to ".join(statement["interval"] or ["-", "-"])}
    rows = [
        {"key": k, "value": str(shown[k])}
        for k in ("due", "measure", "measured_roi", "interval", "target_roi", "straddles", "settled_on", "owed")
    ]
    rows += [
        {"key": f"entry {e['seq']}", "value": f"{e['kind']} {e['amount']} (owed {e['owed']}, {e['recorded_at']})"}
        for e in statement.get("entries", [])
    ]
    title = f"Guarantee {guarantee_id}" + ("" if new else " (settled before; nothing to restate)")
    print_table(title, ["key", "value"], rows)
    typer.echo(statement["why"])


@guarantees_app.command("pay")
def guarantees_pay(
    period: Annotated[str, typer.Option("--period", help="Calendar month YYYY-MM: pay what is owed at its end.")],
    payout: Annotated[Path, typer.Option("--payout", help="Write the period's payout file (CSV) here.")],
    data: DataOpt = None,
    brand: BrandOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Pay what settled contracts owe their brands at the period's end (an append-only payment per contract, as
    ``statements --payout`` pays commissions), write the payout file and show it. Paying a period again adds
    nothing and writes the same file; an adjustment recorded after the period's end waits for a later period."""
    from hongmao.settle import guarantee_api
    from hongmao.settle.statements import to_csv

    _format(fmt)
    rows = guarantee_api.pay(period, data, brand=brand)
    payout.write_text(to_csv(guarantee_api.PAYOUT_COLUMNS, rows), encoding="utf-8")
    _emit(fmt, f"Guarantee payout {period} (yuan)", list(guarantee_api.PAYOUT_COLUMNS), rows)


def register(app: typer.Typer) -> None:
    app.command()(programs)
    app.command()(settle)
    app.command()(statements)
    app.command()(holds)
    app.add_typer(guarantees_app, name="guarantees")
