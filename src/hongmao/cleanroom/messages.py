"""The protocol's messages as files: a JSON header line, then one value per line (row i is line i + 2).

=========  ====================  ===========================================  =====================
kind       written by            rows                                         sent to
=========  ====================  ===========================================  =====================
blinded    a side (``blind``)    ``H(x)^own`` as hex, sorted by value          the other side
double     the other side        ``H(x)^{ab}`` as hex, same rows               the measurer
index      a side (``blind``)    the side's own ref of row i                  the measurer
=========  ====================  ===========================================  =====================

The header names the kind, the side whose people the rows are (``origin``), the key ids applied, the identifier
kind and the row count; a reader checks all of them, so a file sent to the wrong step fails with its reason.
Rows sorted by blinded value carry no order from the sender's customer list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from hongmao.errors import InputError

FORMAT = "hongmao-psi/1"
KINDS = ("blinded", "double", "index")


@dataclass(frozen=True)
class Header:
    kind: str
    origin: str  # whose people the rows are: community or market
    keys: tuple[str, ...]  # key ids applied, in order
    id_kind: str
    count: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        doc: dict[str, object] = {"format": FORMAT, "kind": self.kind, "origin": self.origin, "keys": list(self.keys)}
        doc |= {"id_kind": self.id_kind, "count": self.count, **self.extra}
        return json.dumps(doc, sort_keys=True)


def write(path: str | Path, header: Header, rows: list[str]) -> None:
    head = Header(header.kind, header.origin, header.keys, header.id_kind, len(rows), header.extra)
    with Path(path).open("w", encoding="utf-8", newline="\n") as f:
        f.write(head.to_json() + "\n")
        f.write("".join(r + "\n" for r in rows))


def read(path: str | Path, kind: str) -> tuple[Header, list[str]]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    try:
        doc = json.loads(lines[0])
        header = Header(
            str(doc["kind"]), str(doc["origin"]), tuple(doc["keys"]), str(doc["id_kind"]), int(doc["count"])
        )
        if doc["format"] != FORMAT:
            raise InputError(f"{path}: line 1: format {doc['format']!r}, expected {FORMAT!r}")
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputError(f"{path}: line 1: not a {FORMAT} header ({exc.__class__.__name__}: {exc})") from None
    if header.kind != kind:
        raise InputError(f"{path}: line 1: field kind is {header.kind!r}; this step reads a {kind!r} file")
    rows = lines[1:]
    if rows and rows[-1] == "":
        rows.pop()
    if len(rows) != header.count:
        raise InputError(f"{path}: header says {header.count} rows, the file has {len(rows)}")
    return header, rows


def points(path: str | Path, rows: list[str]) -> list[bytes]:
    """Hex rows as 32-byte values, naming the first bad line."""
    buf = points_buffer(path, rows)
    return [buf[i : i + 32] for i in range(0, len(buf), 32)]


def points_buffer(path: str | Path, rows: list[str]) -> bytes:
    """Hex rows as one buffer of concatenated 32-byte values (one ``fromhex`` for the whole file), naming the
    first bad line when there is one."""
    if all(len(r) == 64 for r in rows):
        try:
            buf = bytes.fromhex("".join(rows))
        except ValueError:
            buf = b""
        if len(buf) == 32 * len(rows):  # fromhex skips whitespace: a row with spaces comes up short
            return buf
    for i, r in enumerate(rows):  # the slow path, only to name the line
        try:
            value = bytes.fromhex(r)
        except ValueError:
            value = b""
        if len(value) != 32:
            raise InputError(f"{path}: line {i + 2}: not a 32-byte hex value")
    raise AssertionError("unreachable: every row parsed")  # pragma: no cover


def hex_rows(buffer: bytes) -> list[str]:
    """A buffer of concatenated 32-byte values as hex rows (one ``hex`` for the whole buffer)."""
    text = buffer.hex()
    return [text[i : i + 64] for i in range(0, len(text), 64)]
