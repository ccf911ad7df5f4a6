"""AIPS audiences: the stages a brand's people reach, and how the counts leave the clean room.

Five stages, each deeper than the last; a person is *at* the deepest stage their events in a period reach:

=====  ==========================  ==============================================================================
stage  name                        a person is here when, in the period, about the brand's notes or orders, they
=====  ==========================  ==============================================================================
A      exposed (认知)               saw one of its notes (``note.impression``)
I      interested (兴趣)            read or engaged with one (``note.read``, like, collect, comment, share)
TI     deeply interested (深度种草)  reached the 种草值 bar: read one for at least ``deep_read_seconds``, or
                                   collected (saved) or commented on one
P      bought (购买)                ordered one of its items (``market.order``)
S      shared (分享)                shared one of its notes or reviewed one of its orders
=====  ==========================  ==============================================================================

*Reached* counts are cumulative (everyone at TI or deeper "reached I"); *at* counts partition the people. A
flow is a pair of stages: at X in the first period, at Y in the second (``none``: no contact in that period).

Every count of people goes out through :mod:`hongmao.cleanroom.threshold`: below k it is withheld and says so.
This module is pure: the engine (:mod:`hongmao.engine.aips`) computes the per-person stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hongmao.cleanroom.threshold import SUPPRESSED, strictest
from hongmao.errors import InputError

STAGES = ("A", "I", "TI", "P", "S")
NONE = "none"  # no contact with the brand in a period
NAMES = {
    "A": ("认知", "exposed"),
    "I": ("兴趣", "interested"),
    "TI": ("深度种草", "deeply interested"),
    "P": ("购买", "bought"),
    "S": ("分享", "shared or reviewed"),
    NONE: ("无接触", "no contact"),
}
DEFAULT_DEEP_READ_SECONDS = 30
DEFAULT_MIN_AUDIENCE = 2000
EXPOSURE = ("note.impression",)
INTEREST = ("note.read", "note.like", "note.collect", "note.comment", "note.share")
DEEP_ACTIONS = ("note.collect", "note.comment")
PURCHASE = ("market.order",)
ADVOCACY = ("note.share", "market.review")


class AipsError(InputError):
    """A bad stage, rule or size: the message names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class Rules:
    """The 种草值 bar and the thresholds in force (per deployment, from settings)."""

    deep_read_seconds: float = DEFAULT_DEEP_READ_SECONDS
    k: int = 50
    min_audience: int = DEFAULT_MIN_AUDIENCE

    def __post_init__(self) -> None:
        if not self.deep_read_seconds > 0:
            raise AipsError("deep_read_seconds", f"must be above 0, got {self.deep_read_seconds}")
        if self.k < 1:
            raise AipsError("k", f"must be at least 1, got {self.k}")
        if self.min_audience < self.k:
            raise AipsError("min_audience", f"must be at least k ({self.k}), got {self.min_audience}")

    @classmethod
    def of_parties(
        cls, *ks: int | None, deep_read_seconds: float = DEFAULT_DEEP_READ_SECONDS, min_audience: int | None = None
    ) -> Rules:
        """The rules when each party sets its own k: the strictest (largest) wins, as for every report."""
        k = strictest(*ks)
        return cls(deep_read_seconds, k, max(min_audience or DEFAULT_MIN_AUDIENCE, k))


def check_stage(value: str, field: str = "stage") -> str:
    stage = value.strip().upper()
    if stage not in STAGES:
        raise AipsError(field, f"{value!r} is not one of {', '.join(STAGES)}")
    return stage


def depth(stage: str) -> int:
    """0 for ``none``, 1 for A ... 5 for S."""
    return 0 if stage == NONE else STAGES.index(stage) + 1


def stage_of(depth_value: int) -> str:
    return NONE if depth_value <= 0 else STAGES[min(depth_value, len(STAGES)) - 1]


def _cell(people: int, k: int) -> dict[str, Any]:
    if people < k:
        return {"people": SUPPRESSED, "suppressed": f"fewer than {k} people"}
    return {"people": people, "suppressed": None}


def suppress_count(people: int, k: int) -> int | str:
    """A count of people, or the marker when it is below ``k``."""
    return people if people >= k else SUPPRESSED


def stage_counts(at: Mapping[str, int], k: int) -> list[dict[str, Any]]:
    """One row per stage: the people *at* it and the people who *reached* it, each withheld below ``k``."""
    rows = []
    for stage in STAGES:
        here = int(at.get(stage, 0))
        reached = sum(int(at.get(s, 0)) for s in STAGES[STAGES.index(stage) :])
        zh, en = NAMES[stage]
        at_cell, reached_cell = _cell(here, k), _cell(reached, k)
        rows.append(
            {
                "stage": stage,
                "name_zh": zh,
                "name": en,
                "at": at_cell["people"],
                "reached": reached_cell["people"],
                "suppressed": at_cell["suppressed"] or reached_cell["suppressed"],
            }
        )
    return rows


def flow_rows(pairs: Iterable[tuple[str, str, int]], k: int) -> list[dict[str, Any]]:
    """(from stage, to stage, people) as rows in stage order, every count below ``k`` withheld.

    Pairs that never occur are absent, not zero rows: a zero would say nothing a brand could not infer."""
    cells = sorted(((depth(a), depth(b), a, b, n) for a, b, n in pairs if a != NONE or b != NONE))
    out = []
    for _da, _db, a, b, people in cells:
        row = {"from": a, "to": b, "move": _move(a, b), **_cell(int(people), k)}
        out.append(row)
    return out


def _move(a: str, b: str) -> str:
    da, db = depth(a), depth(b)
    return "deeper" if db > da else "shallower" if db < da else "same"


def audience_size_ok(size: int, rules: Rules) -> str | None:
    """Why an audience of ``size`` may not leave (None: it may)."""
    if size < rules.min_audience:
        return f"the audience has fewer than {rules.min_audience} people (the minimum for an export)"
    return None
