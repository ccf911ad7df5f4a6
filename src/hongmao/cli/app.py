"""The ``hongmao`` command: a thin Typer layer over the library (see ``hongmao.api``).

Each command module has ``register(app)``; one import and one registration line per module below.
"""

from __future__ import annotations

import sys

import typer

from hongmao.cli import attribute_cmd as attribute_cmd
from hongmao.cli import audiences_cmd as audiences_cmd
from hongmao.cli import demo_cmd as demo_cmd
from hongmao.cli import ingest_cmd as ingest_cmd
from hongmao.cli import keys_cmd as keys_cmd
from hongmao.cli import lift_cmd as lift_cmd
from hongmao.cli import link_cmd as link_cmd
from hongmao.cli import match_cmd as match_cmd
from hongmao.cli import measure_cmd as measure_cmd
from hongmao.cli import misc_cmd as misc_cmd
from hongmao.cli import serve_cmd as serve_cmd
from hongmao.cli import settle_cmd as settle_cmd
from hongmao.cli import simulate_cmd as simulate_cmd
from hongmao.cli import trust_cmd as trust_cmd
from hongmao.errors import HongmaoError

app = typer.Typer(
    name="hongmao",
    help="Hongmao (红猫): from seeding (种草) to orders (拔草) — ingest, match, attribute, measure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
misc_cmd.register(app)
ingest_cmd.register(app)
attribute_cmd.register(app)
lift_cmd.register(app)
measure_cmd.register(app)
simulate_cmd.register(app)
demo_cmd.register(app)
keys_cmd.register(app)
link_cmd.register(app)
serve_cmd.register(app)
trust_cmd.register(app)
match_cmd.register(app)
settle_cmd.register(app)
audiences_cmd.register(app)


def main() -> None:
    try:
        app()
    except HongmaoError as exc:
        from hongmao.cli.output import err_console

        err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        sys.exit(getattr(exc, "exit_code", 1))
