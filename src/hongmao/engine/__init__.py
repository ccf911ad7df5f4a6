"""The engine: heavy row work as portable Ibis expressions (DuckDB embedded; Spark over the same segments)."""

from hongmao.engine.attribute import GROUPINGS, AttributionResult, attribute, attribute_segments
from hongmao.engine.session import Session
from hongmao.engine.windows import DEFAULT_DAYS, TOUCH_KINDS, Windows

__all__ = [
    "DEFAULT_DAYS",
    "GROUPINGS",
    "TOUCH_KINDS",
    "AttributionResult",
    "Session",
    "Windows",
    "attribute",
    "attribute_segments",
]
