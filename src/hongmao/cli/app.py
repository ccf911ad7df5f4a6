"""The ``hongmao`` command: a thin Typer layer over the library (see ``hongmao.api``)."""

from __future__ import annotations

import sys

import typer

from hongmao.cli import attribute_cmd, demo_cmd, ingest_cmd, lift_cmd, misc_cmd, simulate_cmd
from hongmao.errors import HongmaoError

app = typer.Typer(
    name="hongmao",
    help="Hongmao (红猫): from seeding (种草) to orders (拔草) — ingest, match, attribute, measure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for module in (misc_cmd, ingest_cmd, attribute_cmd, lift_cmd, simulate_cmd, demo_cmd):
    module.register(app)


def main() -> None:
    try:
        app()
    except HongmaoError as exc:
        from hongmao.cli.output import err_console

        err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        sys.exit(getattr(exc, "exit_code", 1))
