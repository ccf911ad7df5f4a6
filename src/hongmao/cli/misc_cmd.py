"""``hongmao schema``, ``hongmao stats`` and ``hongmao pseudonymize``."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Annotated

import typer

from hongmao import settings
from hongmao.cli.output import console, print_json, print_table

DataOpt = Annotated[
    Path | None, typer.Option("--data", help=settings.SETTINGS["data_dir"].help + " [env: HONGMAO_DATA]")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def schema() -> None:
    """Print the event contract as JSON Schema."""
    from hongmao.contract import json_schema

    print_json(json_schema())


def stats(data: DataOpt = None, as_json: JsonOpt = False) -> None:
    """What the lake holds: events per type, first and last time, rejected records."""
    from hongmao import api

    result = api.stats(data)
    if as_json:
        print_json(result)
        return
    rows = [{"type": k, "events": v} for k, v in sorted(result["events"].items())]
    print_table("Events in the lake", ["type", "events"], rows)
    console.print(f"first: {result['first']}  last: {result['last']}  rejected: {result['rejected']}")


def pseudonymize(
    path: Annotated[str, typer.Argument(help="CSV or JSON-lines file of raw records, or - for standard input.")],
    columns: Annotated[
        str, typer.Option("--columns", help="Comma-separated columns (CSV) or keys (JSONL) to replace.")
    ],
    kind: Annotated[
        str, typer.Option("--kind", help="phone, account or email: how values are normalised.")
    ] = "account",
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default: standard output).")] = None,
    key_file: Annotated[Path | None, typer.Option("--key-file", help="File holding the match key.")] = None,
) -> None:
    """Replace raw identifiers with keyed HMAC-SHA256 pseudonyms, before the data leaves its platform.

    A line that cannot be read stops the command with its line number (and never its content); --out is
    written whole or not at all.
    """
    from hongmao.identity import Pseudonymizer

    key = settings.match_key(key_file.read_text(encoding="utf-8").splitlines()[0].strip() if key_file else None)
    if kind not in ("phone", "account", "email"):
        raise typer.BadParameter("kind must be phone, account or email", param_hint="--kind")
    hasher = Pseudonymizer(key, kind)  # type: ignore[arg-type]
    names = [c.strip() for c in columns.split(",") if c.strip()]
    convert = _pseudonymize_csv if path.endswith(".csv") else _pseudonymize_jsonl
    if out is None:
        convert(path, sys.stdout, names, hasher)
        return
    # Written beside the target and renamed into place once complete: a bad line leaves no partial file.
    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "w", encoding="utf-8", newline="") as dst:
            convert(path, dst, names, hasher)
        os.replace(temp, out)
    finally:
        temp.unlink(missing_ok=True)


def _pseudonymize_csv(path: str, dst: IO[str], names: list[str], hasher: Callable[[str], str]) -> None:
    from hongmao.errors import InputError
    from hongmao.ingestion.csvrows import rows
    from hongmao.textfiles import numbered_lines

    with numbered_lines(path) as lines:
        records = rows(lines)
        header = next(records, None)
        if header is None or header.cells is None:
            raise InputError(f"{path}:{header.line if header else 1}: no readable header ({_why(header)})")
        fields = header.cells
        missing = [n for n in names if n not in fields]
        if missing:
            raise InputError(f"{path}: no column {', '.join(missing)}")
        hashed = [i for i, name in enumerate(fields) if name in names]
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(fields)
        for row in records:
            if row.cells is None:
                raise InputError(f"{path}:{row.line}: {row.error}")
            if len(row.cells) != len(fields):
                raise InputError(f"{path}:{row.line}: {len(row.cells)} cells for {len(fields)} columns")
            cells = list(row.cells)
            for i in hashed:
                if cells[i]:
                    cells[i] = hasher(cells[i])
            writer.writerow(cells)


def _why(row: object) -> str:
    return getattr(row, "error", None) or "the file is empty"


def _pseudonymize_jsonl(path: str, dst: IO[str], names: list[str], hasher: Callable[[str], str]) -> None:
    from hongmao.contract.jsontext import loads
    from hongmao.errors import InputError, NestingError
    from hongmao.textfiles import numbered_lines

    with numbered_lines(path) as lines:
        for line in lines:
            try:
                text = line.text()
                if not text.strip():
                    continue
                obj = loads(text)
            except NestingError as exc:
                raise InputError(f"{path}:{line.number}: {exc}") from None
            except InputError as exc:
                # The parser's own message may quote the line; the line may hold a raw identifier.
                reason = str(exc) if str(exc).startswith(("not UTF-8", "line longer")) else "malformed JSON"
                raise InputError(f"{path}:{line.number}: {reason}") from None
            _hash_keys(obj, names, hasher)
            out = json.dumps(obj, ensure_ascii=False)
            if not out.isascii():
                try:
                    out.encode("utf-8")
                except UnicodeEncodeError:  # a lone surrogate from a \\u escape: keep it escaped
                    out = json.dumps(obj)
            dst.write(out + "\n")


def _hash_keys(obj: object, names: list[str], hasher: object) -> None:
    # Identifiers may sit in the envelope or inside ``data``: replace them at any depth.
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in names and isinstance(value, str | int) and value != "":
                obj[key] = hasher(str(value))  # type: ignore[operator]
            else:
                _hash_keys(value, names, hasher)
    elif isinstance(obj, list):
        for value in obj:
            _hash_keys(value, names, hasher)


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
    app.command("stats")(stats)
    app.command("pseudonymize")(pseudonymize)
