"""Field types shared by every event kind: identifiers, pseudonyms, numbers, money and RFC 3339 times.

Text that cannot be stored is refused here, where the reason can name the field: a lone surrogate (JSON allows
``"\\ud800"``, but it is not Unicode and no UTF-8 file, Parquet segment or response can hold it), and a NUL in
an identifier (catalogs treat it as a terminator, so two ids would collide). A boolean is not a number, though
Python counts ``True`` as 1.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StringConstraints

#: Every data model forbids unknown fields: a typo must be a reject with a reason, not a silent drop.
STRICT_MODEL = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

#: A pseudonym is the first 128 bits of an HMAC-SHA256, as 32 lowercase hex digits (see hongmao.identity).
PSEUDONYM_PATTERN = r"^[0-9a-f]{32}$"


def _unicode(value: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(f"not Unicode text: a lone surrogate at character {error.start + 1}") from None
    return value


def _identifier(value: str) -> str:
    if "\x00" in value:
        raise ValueError("an id must not contain a NUL character")
    return _unicode(value)


def _not_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


#: Text of any kind: refuses lone surrogates.
Str = Annotated[str, AfterValidator(_unicode)]
#: Whole numbers and decimals that refuse booleans (numeric text, as CSV cells bring, is still accepted).
Int = Annotated[int, BeforeValidator(_not_boolean)]
Float = Annotated[float, BeforeValidator(_not_boolean)]

Id = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_identifier)]
Pseudonym = Annotated[
    str,
    StringConstraints(pattern=PSEUDONYM_PATTERN),
    Field(description="A keyed pseudonym (32 lowercase hex digits); raw phone numbers or account ids are refused."),
]
#: The largest amount of one record (a trillion yuan: far above any order, fee or budget). Bounded so that the
#: engine's exact fixed-point sums (``hongmao.engine.exact``: 26 integer digits) hold any realistic total.
MAX_MONEY = 1e12
Money = Annotated[
    float,
    BeforeValidator(_not_boolean),
    Field(ge=0, le=MAX_MONEY, allow_inf_nan=False, description="A non-negative amount, at most 10^12."),
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code, e.g. CNY.")]
Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_unicode)]

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def _require_rfc3339_text(value: Any) -> Any:
    # Only text with an explicit offset is a valid time: a bare number or a naive timestamp is ambiguous
    # across the two platforms' time zones, so it is rejected rather than guessed.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("timestamp has no UTC offset")
        return value
    if not isinstance(value, str):
        raise ValueError("time must be an RFC 3339 string with an offset, e.g. 2025-06-01T12:00:00+08:00")
    if not _RFC3339.match(value):
        raise ValueError(
            "time must be RFC 3339 with an offset (Z or ±hh:mm), e.g. 2025-06-01T12:00:00+08:00; got no offset"
            if re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?$", value)
            else "time is not an RFC 3339 timestamp"
        )
    return value


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp has no UTC offset")
    try:
        value.astimezone(UTC)  # events are stored in UTC: 0001-01-01T00:00+08:00 has no UTC time
    except OverflowError:
        raise ValueError("time out of range: in UTC it falls outside the years 1 to 9999") from None
    return value


Timestamp = Annotated[
    datetime,
    BeforeValidator(_require_rfc3339_text),
    AfterValidator(_require_aware),
    Field(description="RFC 3339 time with an offset, e.g. 2025-06-01T12:00:00+08:00."),
]
