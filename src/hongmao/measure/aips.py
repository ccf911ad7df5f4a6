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

Every count of people goes out through :mod:`hongmao.measure.threshold`: below k it is withheld and says so.
This module is pure: the engine (:mod:`hongmao.engine.aips`) computes the per-person stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hongmao.errors import InputError
from hongmao.measure.threshold import SUPPRESSED, strictest

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


PRIMARY = "fewer than {k} people"
SECONDARY = "withheld so that a smaller count cannot be worked out from the others"
FLOWS_WITHHELD = "flows withheld: shown, they would give a count under k away"
Cell = tuple[str, ...]  # ("at", X), ("reached", X), ("before", X) or ("flow", X, Y)
_RANK = {"flow": 0, "at": 1, "reached": 2}  # which shown count to give up first


def _equations(pairs: Iterable[tuple[str, str, int]] | None) -> list[tuple[Cell, list[Cell]]]:
    """The sums a reader could use to work a withheld count out of shown ones."""
    eqs: list[tuple[Cell, list[Cell]]] = []
    for i, stage in enumerate(STAGES):
        rest = [("reached", STAGES[i + 1])] if i + 1 < len(STAGES) else []
        eqs.append((("reached", stage), [("at", stage), *rest]))
    eqs.append((("reached", STAGES[0]), [("at", s) for s in STAGES]))
    if pairs is None:  # the flows are not shown
        return eqs
    flows = [("flow", a, b) for a, b, _ in pairs]
    for stage in STAGES:
        eqs.append((("at", stage), [f for f in flows if f[2] == stage]))  # everyone at it now came from somewhere
        eqs.append((("before", stage), [f for f in flows if f[1] == stage]))  # the earlier period's own report
    return eqs


def _leaks(
    cells: Mapping[Cell, int], equations: list[tuple[Cell, list[Cell]]], hidden: Mapping[Cell, str], k: int
) -> list[Cell]:
    """The withheld non-zero counts the shown ones determine through the sums (exact linear algebra: a count
    is determined when its unit vector lies in the row space of the sums over the withheld counts). Known:
    shown counts, absent cells (zero), and the earlier period's counts its own report shows (``before`` >= k)."""
    unknown = [c for c in cells if c in hidden and not (c[0] == "before" and cells[c] >= k)]
    if not unknown:
        return []
    index = {c: i for i, c in enumerate(unknown)}
    rows = []
    for total, parts in equations:
        row = np.zeros(len(unknown))
        if total in index:
            row[index[total]] -= 1.0
        for part in parts:
            if part in index:
                row[index[part]] += 1.0
        if row.any():
            rows.append(row)
    if not rows:
        return []
    m = np.array(rows)
    rank = np.linalg.matrix_rank(m)
    out = []
    for c, i in index.items():
        if 0 < cells[c] < k:  # a count under k (a larger one withheld only as cover may be worked out)
            unit = np.zeros(len(unknown))
            unit[i] = 1.0
            if np.linalg.matrix_rank(np.vstack([m, unit])) == rank:
                out.append(c)
    return out


def protect(cells: Mapping[Cell, int], equations: list[tuple[Cell, list[Cell]]], k: int) -> dict[Cell, str] | None:
    """The counts to withhold and why: each under ``k`` (primary), then, while the shown counts determine a
    withheld one through the sums, one more shown count of a sum it is in: the one that leaves the fewest
    exposed (then a flow before an ``at`` count before a ``reached`` one, the smallest first). None when no
    choice protects every withheld count."""
    hidden = {c: PRIMARY.format(k=k) for c, n in cells.items() if n < k}
    for _ in range(len(cells) + 1):
        leaked = _leaks(cells, equations, hidden, k)
        if not leaked:
            return hidden
        near = {m for total, parts in equations if {total, *parts} & set(leaked) for m in (total, *parts)}
        open_ = [m for m in near if m in cells and m not in hidden and m[0] != "before" and cells[m] > 0]
        if not open_:
            return None

        def cost(m: Cell) -> tuple[int, int, int, Cell]:  # the cover that leaves fewest counts exposed
            return (len(_leaks(cells, equations, {**hidden, m: SECONDARY}, k)), _RANK[m[0]], cells[m], m)

        hidden[min(open_, key=cost)] = SECONDARY
    return None


def tables(
    at_now: Mapping[str, int], at_before: Mapping[str, int], pairs: Iterable[tuple[str, str, int]], k: int
) -> dict[str, Any]:
    """The stage rows (people *at* and *reached*), the flow rows and the people in all, every count under ``k``
    withheld and every count that would give one away withheld too, each saying why."""
    pairs = [(a, b, int(n)) for a, b, n in pairs if not (a == NONE and b == NONE)]
    cells: dict[Cell, int] = {}
    for i, stage in enumerate(STAGES):
        cells[("at", stage)] = int(at_now.get(stage, 0))
        cells[("reached", stage)] = sum(int(at_now.get(s, 0)) for s in STAGES[i:])
        cells[("before", stage)] = int(at_before.get(stage, 0))
    cells.update({("flow", a, b): n for a, b, n in pairs})
    hidden = protect(cells, _equations(pairs), k)
    flows_withheld = hidden is None
    if hidden is None:  # no way to show flows that keeps every small count hidden: withhold the flows
        stage_cells = {c: n for c, n in cells.items() if c[0] != "flow"}
        hidden = protect(stage_cells, _equations(None), k)
        if hidden is None:  # cannot happen with every reached count withheld: the at counts are then no sum
            hidden = {c: SECONDARY for c in stage_cells if c[0] == "reached"}
            hidden |= {c: PRIMARY.format(k=k) for c, n in stage_cells.items() if n < k}
        hidden |= {("flow", a, b): FLOWS_WITHHELD for a, b, _ in pairs}

    def shown(cell: Cell) -> int | str:
        return SUPPRESSED if cell in hidden else cells[cell]

    stages = []
    for stage in STAGES:
        zh, en = NAMES[stage]
        why = hidden.get(("at", stage)) or hidden.get(("reached", stage))
        stages.append(
            {
                "stage": stage,
                "name_zh": zh,
                "name": en,
                "at": shown(("at", stage)),
                "reached": shown(("reached", stage)),
                "suppressed": why,
            }
        )
    order = sorted(pairs, key=lambda p: (depth(p[0]), depth(p[1])))
    flows = [
        {
            "from": a,
            "to": b,
            "move": _move(a, b),
            "people": shown(("flow", a, b)),
            "suppressed": hidden.get(("flow", a, b)),
        }
        for a, b, _ in order
    ]
    people = shown(("reached", STAGES[0]))
    return {"people": people, "stages": stages, "flows": flows, "flows_withheld": flows_withheld}


def _move(a: str, b: str) -> str:
    da, db = depth(a), depth(b)
    return "deeper" if db > da else "shallower" if db < da else "same"


def audience_size_ok(size: int, rules: Rules) -> str | None:
    """Why an audience of ``size`` may not leave (None: it may)."""
    if size < rules.min_audience:
        return f"the audience has fewer than {rules.min_audience} people (the minimum for an export)"
    return None
