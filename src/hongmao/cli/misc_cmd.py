"""``hongmao schema``, ``hongmao stats`` and ``hongmao pseudonymize``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

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
    """Replace raw identifiers with keyed HMAC-SHA256 pseudonyms, before the data leaves its platform."""
    from hongmao.errors import InputError
    from hongmao.identity import Pseudonymizer

    key = settings.match_key(key_file.read_text(encoding="utf-8").splitlines()[0].strip() if key_file else None)
    if kind not in ("phone", "account", "email"):
        raise typer.BadParameter("kind must be phone, account or email", param_hint="--kind")
    hasher = Pseudonymizer(key, kind)  # type: ignore[arg-type]
    names = [c.strip() for c in columns.split(",") if c.strip()]
    src = sys.stdin if path == "-" else open(path, encoding="utf-8", newline="")  # noqa: SIM115
    dst = sys.stdout if out is None else open(out, "w", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        if path.endswith(".csv"):
            reader = csv.DictReader(src)
            missing = [n for n in names if n not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: no column {', '.join(missing)}")
            writer = csv.DictWriter(dst, fieldnames=list(reader.fieldnames or []), lineterminator="\n")
            writer.writeheader()
            for row in reader:
                writer.writerow({k: (hasher(v) if k in names and v else v) for k, v in row.items()})
        else:
            for line_no, line in enumerate(src, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    raise InputError(f"{path}:{line_no}: malformed JSON") from exc
                _hash_keys(obj, names, hasher)
                dst.write(json.dumps(obj, ensure_ascii=False) + "\n")
    finally:
        if src is not sys.stdin:
            src.close()
        if dst is not sys.stdout:
            dst.close()


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
