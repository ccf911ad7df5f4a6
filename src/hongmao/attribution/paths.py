"""Aggregated journey paths: the :class:`PathRow` record and the journey file format.

A journey file is the common aggregated-path exchange format, one header line then one path per line::

    path;total_conversions;total_conversion_value;total_null
    note:A > search > note:B;3;297.0;12

``path`` is the ordered touchpoints separated by ``' > '``; ``total_conversions`` is how many journeys on that
path converted, ``total_conversion_value`` what they were worth, ``total_null`` how many did not convert.
Counts may be fractional (weighted journeys) but never negative; value may be negative (net of refunds).

The reader never guesses: a bad line raises :class:`hongmao.errors.InputError` naming the source, the line
number and the reason. Blank lines are skipped. The same path may appear on several lines; every model treats
two such lines exactly like one line carrying their sums.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hongmao.errors import AttributionError, InputError

HEADER: tuple[str, ...] = ("path", "total_conversions", "total_conversion_value", "total_null")
FIELD_SEPARATOR = ";"
STEP_SEPARATOR = " > "


@dataclass(frozen=True, slots=True)
class PathRow:
    """One distinct ordered path and the journeys that followed it."""

    steps: tuple[str, ...]
    conversions: float
    value: float
    nulls: float

    def __post_init__(self) -> None:
        problem = _row_problem(self.steps, self.conversions, self.value, self.nulls)
        if problem:
            raise AttributionError(problem)

    @property
    def journeys(self) -> float:
        """Journeys on this path, converted or not."""
        return self.conversions + self.nulls

    @property
    def channels(self) -> frozenset[str]:
        """The distinct channels of the path (order and repeats dropped)."""
        return frozenset(self.steps)


def _row_problem(steps: tuple[str, ...], conversions: float, value: float, nulls: float) -> str | None:
    if not isinstance(steps, tuple) or not steps:
        return "a path needs at least one step (steps must be a non-empty tuple)"
    for step in steps:
        if not isinstance(step, str) or not step:
            return f"step {step!r} must be a non-empty string"
    for name, number in (("conversions", conversions), ("value", value), ("nulls", nulls)):
        if not isinstance(number, int | float) or isinstance(number, bool) or not math.isfinite(number):
            return f"{name} must be a finite number, got {number!r}"
    if conversions < 0:
        return f"conversions must not be negative, got {conversions!r}"
    if nulls < 0:
        return f"nulls must not be negative, got {nulls!r}"
    return None


def parse_steps(text: str) -> tuple[str, ...]:
    """Split ``'a > b > c'`` into ``('a', 'b', 'c')``; raise ``ValueError`` with a reason if malformed."""
    if not text.strip():
        raise ValueError("empty path")
    steps = tuple(part.strip() for part in text.split(STEP_SEPARATOR))
    for position, step in enumerate(steps, start=1):
        if not step:
            raise ValueError(f"step {position} of the path is empty")
        if ">" in step:
            raise ValueError(f"step {position} contains '>' not written as the separator ' > '")
    return steps


def _number(text: str, field: str, *, negative_ok: bool) -> float:
    stripped = text.strip()
    try:
        number = float(stripped)
    except ValueError:
        raise ValueError(f"{field} is not a number: {stripped[:40]!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{field} must be finite, got {stripped[:40]!r}")
    if number < 0 and not negative_ok:
        raise ValueError(f"{field} must not be negative, got {stripped[:40]!r}")
    return number


def parse_line(line: str) -> PathRow:
    """One data line to a :class:`PathRow`; raise ``ValueError`` with the reason if malformed."""
    fields = line.split(FIELD_SEPARATOR)
    if len(fields) != len(HEADER):
        raise ValueError(f"expected {len(HEADER)} fields separated by ';', found {len(fields)}")
    steps = parse_steps(fields[0])
    conversions = _number(fields[1], "total_conversions", negative_ok=False)
    value = _number(fields[2], "total_conversion_value", negative_ok=True)
    nulls = _number(fields[3], "total_null", negative_ok=False)
    return PathRow(steps, conversions, value, nulls)


def parse_paths(lines: Iterable[str], source: str = "<paths>") -> list[PathRow]:
    """Parse journey-file lines (header first). Errors name ``source`` and the 1-based line number."""
    rows: list[PathRow] = []
    header_seen = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        if not header_seen:
            found = tuple(field.strip() for field in line.split(FIELD_SEPARATOR))
            if found != HEADER:
                raise InputError(f"{source}: line {number}: expected the header {FIELD_SEPARATOR.join(HEADER)!r}")
            header_seen = True
            continue
        try:
            rows.append(parse_line(line))
        except (ValueError, AttributionError) as exc:
            raise InputError(f"{source}: line {number}: {exc}") from exc
    if not header_seen:
        raise InputError(f"{source}: empty file: no header {FIELD_SEPARATOR.join(HEADER)!r}")
    return rows


def read_paths(path: str | os.PathLike[str]) -> list[PathRow]:
    """Read a journey file (UTF-8, a BOM tolerated)."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8", newline="") as handle:
            return parse_paths(handle, source=name)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InputError(f"{name}: cannot be read: {exc.strerror or exc}") from exc


def _format_number(number: float) -> str:
    return repr(float(number))


def _writable(step: str) -> bool:
    return step == step.strip() and ">" not in step and FIELD_SEPARATOR not in step and "\n" not in step


def format_paths(rows: Sequence[PathRow]) -> str:
    """The journey-file text of ``rows``; ``parse_paths(text.splitlines())`` gives them back exactly.

    A step with ``>``, ``;``, a line break or surrounding spaces cannot be written (the format reserves them):
    :class:`~hongmao.errors.AttributionError` names it.
    """
    lines = [FIELD_SEPARATOR.join(HEADER)]
    for row in rows:
        for step in row.steps:
            if not _writable(step):
                raise AttributionError(
                    f"step {step!r} cannot be written: the journey format reserves '>', ';', "
                    "line breaks and surrounding spaces"
                )
        fields = (
            STEP_SEPARATOR.join(row.steps),
            _format_number(row.conversions),
            _format_number(row.value),
            _format_number(row.nulls),
        )
        lines.append(FIELD_SEPARATOR.join(fields))
    return "\n".join(lines) + "\n"


def write_paths(rows: Sequence[PathRow], path: str | os.PathLike[str]) -> None:
    """Write ``rows`` as a journey file."""
    with open(os.fspath(path), "w", encoding="utf-8", newline="\n") as handle:
        handle.write(format_paths(rows))
