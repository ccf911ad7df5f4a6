"""``hongmao match``: the clean room's steps (see :mod:`hongmao.cleanroom.steps`); each prints a JSON summary.

Each side runs keygen, localize, blind and reblind with only its own key file; the measurer runs join,
translate and coverage with no key at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from hongmao.cli.output import print_json

match_app = typer.Typer(
    help="Match people across the two platforms without a shared key (commutative blinding, ECDH-PSI).",
    no_args_is_help=True,
)

KeyOpt = Annotated[Path, typer.Option("--key", help="This side's key file (never leaves it).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Directory the step writes its files to.")]
KindOpt = Annotated[
    str, typer.Option("--kind", help="Identifier kind: phone, account or email (both sides must agree).")
]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, help="Processes that blind in parallel.")]
IdKind = Literal["phone", "account", "email"]
KINDS: dict[str, IdKind] = {"phone": "phone", "account": "account", "email": "email"}


def _kind(kind: str) -> IdKind:
    if kind not in KINDS:
        raise typer.BadParameter(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return KINDS[kind]


@match_app.command("keygen")
def keygen(
    key: KeyOpt,
    party: Annotated[str, typer.Option("--party", help="community or market.")],
    key_id: Annotated[str | None, typer.Option("--key-id", help="Id of the first key (default PARTY-1).")] = None,
) -> None:
    """Make this side's key file (mode 0600): a secret blinding key with an id, and its own ref key."""
    from hongmao.cleanroom import steps

    print_json({"party": party, "key": steps.keygen(key, party, key_id)})


@match_app.command("rotate")
def rotate(
    key: KeyOpt,
    key_id: Annotated[str | None, typer.Option("--key-id", help="Id of the new key (default PARTY-N).")] = None,
) -> None:
    """Start a new blinding key and retire the old one (its secret is deleted); then blind and re-blind again."""
    from hongmao.cleanroom import steps

    print_json({"key": steps.rotate(key, key_id)})


@match_app.command("localize")
def localize(
    events: Annotated[list[Path], typer.Argument(help="This side's event files with raw ids in data.user.")],
    key: KeyOpt,
    out: Annotated[Path, typer.Option("--out", help="The JSONL file to write.")],
    kind: KindOpt = "account",
) -> None:
    """Rewrite this side's own events with its refs (its own keyed pseudonyms) for the measurer."""
    from hongmao.cleanroom import steps

    print_json({"events": steps.localize(key, events, out, _kind(kind)), "out": str(out)})


@match_app.command("blind")
def blind(
    key: KeyOpt,
    out: OutOpt,
    ids: Annotated[Path | None, typer.Option("--ids", help="Raw identifiers, one a line.")] = None,
    events: Annotated[
        list[Path] | None, typer.Option("--events", help="Or: this side's raw event files (their data.user).")
    ] = None,
    kind: KindOpt = "account",
    workers: WorkersOpt = 1,
) -> None:
    """Write PARTY.blinded (H(id)^own, for the other side) and PARTY.index (row → ref, for the measurer)."""
    from hongmao.cleanroom import steps

    print_json(steps.blind(key, out, _kind(kind), ids_file=ids, events=events or (), workers=workers))


@match_app.command("reblind")
def reblind(
    blinded: Annotated[Path, typer.Argument(help="The other side's .blinded file.")],
    key: KeyOpt,
    out: OutOpt,
    workers: WorkersOpt = 1,
) -> None:
    """Raise the other side's blinded values to this side's key: ORIGIN.double, for the measurer."""
    from hongmao.cleanroom import steps

    print_json(steps.reblind(key, blinded, out, workers=workers))


@match_app.command("join")
def join(
    inbox: Annotated[
        Path, typer.Argument(help="Directory with community.index, community.double, market.index, market.double.")
    ],
    out: OutOpt,
    previous: Annotated[
        Path | None, typer.Option("--previous", help="The last identity.json: keeps lake pseudonyms across rotation.")
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Withhold counts of fewer people than this.")] = 50,
) -> None:
    """Join doubly blinded values: identity.json (kept here) and match_report.json (for both sides)."""
    from hongmao.cleanroom import steps

    pair = {side: (inbox / f"{side}.index", inbox / f"{side}.double") for side in ("community", "market")}
    print_json(steps.join(pair["community"], pair["market"], out, previous=previous, k=k))


@match_app.command("translate")
def translate(
    events: Annotated[list[Path], typer.Argument(help="The sides' event files (refs in data.user).")],
    identity: Annotated[Path, typer.Option("--identity", help="identity.json from join.")],
    out: OutOpt,
) -> None:
    """Rewrite the sides' events to lake pseudonyms, ready for `hongmao ingest`."""
    from hongmao.cleanroom import steps

    print_json({"files": [str(p) for p in steps.translate_events(identity, events, out)]})


@match_app.command("coverage")
def coverage(
    events: Annotated[list[Path], typer.Argument(help="Event files as ingested (lake pseudonyms).")],
    identity: Annotated[
        Path | None, typer.Option("--identity", help="identity.json: adds the share of orders with a matched person.")
    ] = None,
) -> None:
    """How complete the join is: orders with a matched person or a click id, days a side sent too little."""
    from hongmao.cleanroom import steps

    print_json(steps.coverage(events, identity))


def register(app: typer.Typer) -> None:
    app.add_typer(match_app, name="match")
