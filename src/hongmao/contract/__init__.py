"""The event contract both sides speak: typed models for every kind, validation and JSON Schema.

Every other module imports this one; it imports nothing of Hongmao's but ``errors``.
"""

from hongmao.contract.columns import COLUMN_NAMES, COLUMNS, to_row
from hongmao.contract.envelope import ENGAGEMENT_TYPES, EVENT_MODELS, EVENT_TYPES, Event, EventBase
from hongmao.contract.schema import json_schema
from hongmao.contract.validate import Problem, parse_event, validate, validate_json

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "ENGAGEMENT_TYPES",
    "EVENT_MODELS",
    "EVENT_TYPES",
    "Event",
    "EventBase",
    "Problem",
    "json_schema",
    "parse_event",
    "to_row",
    "validate",
    "validate_json",
]
