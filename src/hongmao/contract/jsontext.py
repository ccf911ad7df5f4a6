"""JSON text to Python values with a bound on nesting, for every place outside text enters as JSON.

No event nests deeper than a handful of levels (``data.lines[0].price`` is four), but ``json.loads`` recurses
once per level and gives up at the interpreter's recursion limit with a :class:`RecursionError`, which would
escape as a crash or a 500. :func:`loads` refuses anything deeper than :data:`MAX_DEPTH` levels instead, with
a reason a person can act on.
"""

from __future__ import annotations

import json
from typing import Any

from hongmao.errors import InputError, NestingError

#: Deepest nesting of arrays and objects accepted; far above any event's, far below the interpreter's limit.
MAX_DEPTH = 64
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels (no event is)"


def loads(text: str | bytes) -> Any:
    """``json.loads`` that raises :class:`NestingError` past :data:`MAX_DEPTH` levels and :class:`InputError`
    (reason ``malformed JSON: ...``) for text that is not JSON."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise NestingError(TOO_DEEP) from None
    except ValueError as error:  # JSONDecodeError, and UnicodeDecodeError for bytes
        raise InputError(f"malformed JSON: {getattr(error, 'msg', error)}") from None
    # Counting brackets is cheap and bounds the depth from above: only text with many of them is walked.
    opened = text.count("[") + text.count("{") if isinstance(text, str) else text.count(b"[") + text.count(b"{")
    if opened > MAX_DEPTH:
        check_depth(value)
    return value


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`NestingError` if ``value`` (parsed JSON) nests lists and dicts deeper than ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            raise NestingError(TOO_DEEP)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
