"""``hongmao programs``, ``hongmao settle``, ``hongmao statements`` and ``hongmao holds``: creator commissions
settled from the lake into an append-only ledger (a thin layer over :mod:`hongmao.settle.api`).

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
        when = None
        if at is not None:
            try:
                when = datetime.fromisoformat(at)
            except ValueError:
                raise typer.BadParameter(f"{at!r}: expected ISO 8601", param_hint="--at") from None
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
        decision = api.decide(creator, "release" if release else "void", reason, operator, data, brand=brand, at=when)
        typer.echo(f"recorded {decision.action} {decision.decision_id} for {creator}; the next settle applies it")
        return
    rows = api.held(data, brand=brand)
    _emit(fmt, "Held commissions (yuan)", ["brand", "creator_id", "held", "evidence"], rows)


def register(app: typer.Typer) -> None:
    app.command()(programs)
    app.command()(settle)
    app.command()(statements)
    app.command()(holds)
