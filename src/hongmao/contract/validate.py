"""Validation of raw records against the contract, with reasons a person can act on.

``validate(record)`` returns the typed event or a list of :class:`Problem` (field and reason). Reasons never
repeat the offending value: a rejected record may hold a raw identifier, and rejects are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hongmao.contract import jsontext
from hongmao.contract.envelope import EVENT_TYPES, Event, EventBase
from hongmao.errors import InputError, NestingError

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in EVENT_TYPES:  # the discriminated union puts the tag first
        parts = parts[1:]
    return ".".join(parts) if parts else "(record)"


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag", "")
        return f"unknown event type {tag!r}; known types: {', '.join(EVENT_TYPES)}"
    if kind == "union_tag_not_found":
        return "missing field 'type'"
    if kind == "string_unicode":
        return "not Unicode text: a lone surrogate"
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field (not in the contract)"
    if kind == "string_pattern_mismatch" and error["loc"] and error["loc"][-1] == "user":
        return "not a pseudonym (32 lowercase hex digits): hash raw identifiers with `hongmao pseudonymize` first"
    if kind in ("float_parsing", "int_parsing", "decimal_parsing"):
        return "unparseable number"
    if (
        kind in ("greater_than_equal", "greater_than")
        and error["loc"]
        and error["loc"][-1]
        in (
            "amount",
            "price",
            "spend",
        )
    ):
        return f"negative amount: {error['msg'].lower()}"
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ")


def problems_of(exc: ValidationError) -> list[Problem]:
    out: list[Problem] = []
    for error in exc.errors(include_url=False, include_input=False):
        if error["type"] == "union_tag_invalid" or error["type"] == "union_tag_not_found":
            out.append(Problem("type", _reason(dict(error))))
        else:
            out.append(Problem(_field_path(error["loc"]), _reason(dict(error))))
    return out


def validate(record: Any) -> EventBase | list[Problem]:
    """The typed event for ``record`` (a dict), or the problems that make it invalid."""
    if not isinstance(record, dict):
        return [Problem("(record)", f"expected a JSON object, got {type(record).__name__}")]
    kind = record.get("type")
    if isinstance(kind, str) and not _is_unicode(kind):
        # Checked here: the union reports an unknown tag with the surrogate already replaced.
        return [Problem("type", "not Unicode text: a lone surrogate")]
    try:
        event: EventBase = _ADAPTER.validate_python(record)
    except ValidationError as exc:
        return problems_of(exc)
    return event


def validate_json(text: str | bytes) -> EventBase | list[Problem]:
    """Parse and validate one JSON document in a single pass (the fast path for JSON lines)."""
    try:
        event: EventBase = _ADAPTER.validate_json(text)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if errors and errors[0]["type"] == "json_invalid":
            # The fast parser refuses more than the contract does (lone surrogates, which validation names
            # field by field) and words nesting past its limit as malformed; the standard parser says which.
            try:
                value = jsontext.loads(text)
            except NestingError as nested:
                return [Problem("(record)", str(nested))]
            except InputError:
                return [Problem("(record)", "malformed JSON: " + str(errors[0].get("ctx", {}).get("error", "")))]
            return validate(value)
        if (errors and errors[0]["type"] == "model_attributes_type") or (
            errors and not errors[0]["loc"] and errors[0]["type"] not in ("union_tag_invalid", "union_tag_not_found")
        ):
            return [Problem("(record)", "expected a JSON object")]
        return problems_of(exc)
    return event


def parse_event(record: Any) -> EventBase:
    """Like :func:`validate`, raising :class:`~hongmao.errors.ContractError` with every problem."""
    from hongmao.errors import ContractError

    result = validate(record)
    if isinstance(result, list):
        raise ContractError("; ".join(f"{p.field}: {p.reason}" for p in result))
    return result
