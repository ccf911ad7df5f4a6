"""``hongmao ingest``: validate and store event files.

Exit codes: 0 every record stored (or already there), 1 some records rejected (reasons in the rejects file),
2 usage error, 3 a file could not be read as its format (the other files were still ingested), 4 the lake is
busy (another writer kept it past ``--wait``). The worst that happened wins: 4, then 3, then 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hongmao.cli.misc_cmd import DataOpt, JsonOpt
from hongmao.cli.output import console, err_console, print_json, print_table, progress

EXIT_REJECTED, EXIT_USAGE, EXIT_FILE, EXIT_BUSY = 1, 2, 3, 4


def _usage_error(message: str) -> typer.Exit:
    err_console.print(f"[bold red]usage error:[/] {message}", highlight=False)
    return typer.Exit(EXIT_USAGE)


def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files (.jsonl/.ndjson, .csv, .parquet) or - for standard input.")],
    data: DataOpt = None,
    source_format: Annotated[
        str | None, typer.Option("--from", help="Read an outside format instead: taobao-userbehavior.")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Force the format: jsonl, csv or parquet.")] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="Match key file (adapters pseudonymise ids).")
    ] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Events per committed batch.")] = None,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for another writer of the lake before exit 4.")
    ] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Validate and store events; bad records go to the rejects file with file, line, field and reason.

    Exit 0: all stored; 1: some records rejected; 2: usage error; 3: a file unreadable as its format (the
    others are still ingested); 4: the lake is busy with another writer.
    """
    from hongmao import api
    from hongmao.errors import InputError, LakeBusyError
    from hongmao.ingestion.adapters import ADAPTERS
    from hongmao.ingestion.readers import detect_format

    if fmt is not None and fmt not in ("jsonl", "csv", "parquet"):
        raise _usage_error(f"--format must be jsonl, csv or parquet, not {fmt!r}")
    if source_format is not None and source_format not in ADAPTERS:
        raise _usage_error(f"--from {source_format!r} is not known; known: {', '.join(ADAPTERS)}")
    if paths.count("-") > 1:
        raise _usage_error("standard input (-) can be read only once")
    for path in paths:
        if path != "-" and not Path(path).is_file():
            raise _usage_error(f"{path}: no such file")
        if source_format is None and fmt is None:
            try:
                detect_format(path)
            except InputError as exc:
                raise _usage_error(str(exc)) from exc
    key = key_file.read_text(encoding="utf-8").splitlines()[0].strip() if key_file else None
    try:
        with progress("ingesting") as advance:
            report = api.ingest(
                paths,
                data,
                adapter=source_format,
                fmt=fmt,
                match_key=key,
                batch_size=batch_size,
                on_progress=advance,
                lock_timeout=wait,
            )
    except LakeBusyError as exc:
        err_console.print(f"[bold red]lake busy:[/] {exc}; nothing was ingested, run it again later", highlight=False)
        raise typer.Exit(EXIT_BUSY) from None
    if as_json:
        print_json(report.to_dict())
    else:
        rows = [vars(f) for f in report.files]
        print_table("Ingest", ["file", "read", "accepted", "duplicate", "rejected"], rows)
        console.print(
            f"accepted {report.accepted:,}  duplicate {report.duplicate:,}  rejected {report.rejected:,}"
            + (f"  (reasons in {report.rejects})" if report.rejected else "")
        )
    for failed in report.errors:
        err_console.print(f"[bold red]file not ingested to its end:[/] {failed.error}", highlight=False)
    raise typer.Exit(EXIT_FILE if report.errors else EXIT_REJECTED if report.rejected else 0)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
