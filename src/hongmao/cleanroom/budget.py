"""A differential-privacy budget per brand: counts of people released to a brand key carry noise, and each
query spends epsilon from the brand's budget until it is gone.

Off by default. With a total epsilon per brand (``dp_epsilon``) and an epsilon per query (``dp_query_epsilon``,
default :data:`DEFAULT_QUERY_EPSILON`), a report answered to a brand key releases each of its counts of people
(sensitivity 1: one person changes a count of people by at most one) through OpenDP's discrete Laplace
mechanism (``make_laplace`` over integers). The query's epsilon is split evenly over the counts it releases
(sequential composition), and what is spent is OpenDP's own privacy map of each mechanism at distance 1, summed.

* A query the brand's remaining budget cannot pay for is refused (:class:`BudgetExhausted`) before anything
  is computed from the data's noise: the API answers 403 with the figures.
* The same query (brand, report, parameters) over the same lake version is answered from the ledger with the
  release it got the first time, at no cost: asking again cannot average the noise away.
* The ledger, ``dp-ledger.jsonl`` in the data directory, holds one JSON line per release: time (UTC), brand,
  report, the query's parameters, its key, the epsilon spent and the noisy values released (already public to
  the brand; never an identifier). It is opened append-only (mode 0600) under an exclusive ``flock``, so two
  processes cannot both spend the last of a budget.

Sums (GMV, orders, attribution rows' credit) are released through OpenDP too (:class:`Sums`): each person's
contribution is clamped to a stated bound (:attr:`Budget.gmv_bound` yuan, :attr:`Budget.orders_bound` orders per
person and query; settings ``dp_gmv_bound`` and ``dp_orders_bound``, defaults :data:`GMV_BOUND` and
:data:`ORDERS_BOUND`), so one person moves a sum by at most the bound. A scalar sum is OpenDP's bounded sum
(``make_clamp >> then_sum >> then_laplace``); the rows of one figure (each note's credited GMV, say) are one
vector whose L1 sensitivity is the bound, each person's credit across the rows scaled down to the bound in total
before summing, then OpenDP's vector Laplace. The query's epsilon is split evenly over its counts and its sum
figures; the answer states each figure's bound and noise scale.

Not covered: the budget never refills (a new period of budget is an operator's decision: a new ledger).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE = "dp-ledger.jsonl"
DEFAULT_QUERY_EPSILON = 0.5
#: The default of the most GMV (yuan) one person's orders may add to one released sum figure of one query
#: (setting ``dp_gmv_bound``); beyond it, clamped.
GMV_BOUND = 2000.0
#: The default of the most orders one person may add to one released order figure of one query (setting
#: ``dp_orders_bound``); beyond it, clamped.
ORDERS_BOUND = 5.0
#: The default of the most events of one kind (impressions, reads, clicks, engagements, carts) one person may add to
#: one released event figure of one query; beyond it, clamped (setting ``dp_events_bound``).
EVENTS_BOUND = 20.0
_lock = threading.Lock()


class BudgetExhausted(Exception):
    """A query the brand's remaining budget cannot pay for."""

    def __init__(self, brand: str, spent: float, total: float, asked: float) -> None:
        self.brand, self.spent, self.total, self.asked = brand, spent, total, asked
        super().__init__(
            f"the differential-privacy budget of brand {brand!r} is spent: epsilon {spent:g} of {total:g} used, "
            f"this query needs {asked:g} (差分隐私预算已用完)"
        )


@dataclass(frozen=True)
class Sums:
    """One figure summed over people: ``people`` maps each person (an opaque key, never written anywhere) to
    their contributions under the released ``names`` (one name: a scalar sum; several: the rows of one figure).
    Each person's contributions are clamped to ``bound`` in total (L1), so one person moves the figure by at
    most ``bound``. A name nobody contributes to is released too (noise around 0)."""

    figure: str
    bound: float
    names: tuple[str, ...]
    people: Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class Budget:
    """``total`` epsilon per brand, ``per_query`` epsilon per query; the ledger in ``data_dir``. ``gmv_bound`` and
    ``orders_bound``: what one person may add to one released GMV or order figure (clamped beyond)."""

    data_dir: Path
    total: float
    per_query: float = DEFAULT_QUERY_EPSILON
    gmv_bound: float = GMV_BOUND
    orders_bound: float = ORDERS_BOUND
    events_bound: float = EVENTS_BOUND

    def __post_init__(self) -> None:
        if not self.total > 0 or not self.per_query > 0:
            raise ValueError(f"dp budget: epsilons must be above 0, got total {self.total}, per query {self.per_query}")
        if not all(0 < b < float("inf") for b in (self.gmv_bound, self.orders_bound, self.events_bound)):
            raise ValueError(
                f"dp budget: clamp bounds must be finite and above 0, got GMV {self.gmv_bound}, "
                f"orders {self.orders_bound}, events {self.events_bound}"
            )

    @classmethod
    def from_settings(cls, data_dir: str | Path) -> Budget | None:
        """The budget the settings turn on (``dp_epsilon``, ``dp_query_epsilon``, ``dp_gmv_bound``,
        ``dp_orders_bound``, ``dp_events_bound``), or None (off, the default)."""
        from hongmao import settings
        from hongmao.errors import ConfigError

        if not settings.get("dp_epsilon"):
            return None
        per = settings.get("dp_query_epsilon")
        try:
            found = cls(
                Path(data_dir),
                float(settings.get("dp_epsilon") or 0),
                float(per or DEFAULT_QUERY_EPSILON),
                float(settings.get("dp_gmv_bound") or GMV_BOUND),
                float(settings.get("dp_orders_bound") or ORDERS_BOUND),
                float(settings.get("dp_events_bound") or EVENTS_BOUND),
            )
        except ValueError as error:
            names = "dp_epsilon / dp_query_epsilon / dp_gmv_bound / dp_orders_bound / dp_events_bound"
            raise ConfigError(f"{names}: {error}") from None
        try:
            import opendp.prelude  # noqa: F401
        except ImportError:
            raise ConfigError("dp_epsilon is set but OpenDP is not installed: pip install 'hongmao[dp]'") from None
        return found

    @property
    def path(self) -> Path:
        return self.data_dir / FILE

    def spent(self, brand: str) -> float:
        """The epsilon the brand has spent so far."""
        return sum(float(x["epsilon"]) for x in read(self.data_dir) if x["brand"] == brand)

    def release(
        self,
        brand: str,
        report: str,
        params: Mapping[str, Any],
        counts: Mapping[str, int | None],
        *,
        version: Any = None,
        sums: Sequence[Sums] = (),
    ) -> dict[str, Any]:
        """``counts`` (counts of people; ``None`` ones are left out) and ``sums`` with noise, and what it cost:
        ``{"values": {name: noisy}, "epsilon": spent by this query, "spent": the brand's total, "total",
        "repeated": bool, "mechanisms": {figure: {"bound", "scale", "epsilon"}}}`` (``mechanisms``: what this
        query's release used; a repeat answers the first release's). Raises :class:`BudgetExhausted` when the
        budget cannot pay for the query."""
        query = {"brand": brand, "report": report, "params": _plain(params), "version": _plain(version)}
        key = hashlib.sha256(json.dumps(query, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
        names = sorted([*(n for n, v in counts.items() if v is not None), *(n for f in sums for n in f.names)])
        with _lock, _locked(self.path) as fd:
            lines = _lines(fd)
            spent = sum(float(x["epsilon"]) for x in lines if x["brand"] == brand)
            free = {"epsilon": 0.0, "spent": spent, "total": self.total}
            for x in reversed(lines):
                if x["key"] == key and sorted(x["values"]) == names:
                    return {"values": x["values"], **free, "repeated": True, "mechanisms": x.get("mechanisms", {})}
            if not names:
                return {"values": {}, **free, "repeated": False, "mechanisms": {}}
            if spent + self.per_query > self.total + 1e-12:
                raise BudgetExhausted(brand, spent, self.total, self.per_query)
            plain = {n: int(v) for n, v in counts.items() if v is not None}
            share = self.per_query / (len(plain) + len(sums))
            values: dict[str, Any] = {}
            mechanisms: dict[str, dict[str, float]] = {}
            cost = 0.0
            if plain:
                values, cost = noisy(plain, share * len(plain))
                mechanisms["counts"] = {"bound": 1.0, "scale": 1.0 / share, "epsilon": cost}
            for family in sums:
                got, spent_here, scale = noisy_sum(family, share)
                values |= got
                cost += spent_here
                mechanisms[family.figure] = {"bound": family.bound, "scale": scale, "epsilon": spent_here}
            line = {
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "brand": brand,
                "report": report,
                "params": query["params"],
                "key": key,
                "epsilon": cost,
                "values": values,
                "mechanisms": mechanisms,
            }
            os.write(fd, (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
        return {
            "values": values,
            "epsilon": cost,
            "spent": spent + cost,
            "total": self.total,
            "repeated": False,
            "mechanisms": mechanisms,
        }


def noisy(counts: Mapping[str, int], epsilon: float) -> tuple[dict[str, int], float]:
    """Each count with discrete Laplace noise from OpenDP, ``epsilon`` split evenly over them; the noisy counts
    (at least 0: post-processing) and the epsilon OpenDP's privacy maps give for the lot (at most ``epsilon``)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    share = epsilon / len(counts)
    mechanism = dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=1.0 / share)
    cost = float(mechanism.map(1)) * len(counts)  # type: ignore[no-untyped-call]
    return {name: max(0, int(mechanism(int(n)))) for name, n in counts.items()}, cost


def noisy_sum(family: Sums, epsilon: float) -> tuple[dict[str, float], float, float]:
    """``family``'s sums with OpenDP's Laplace noise at ``epsilon``: the noisy sums (at least 0: post-processing),
    the epsilon OpenDP's privacy map gives at a distance of one person, and the noise scale (bound / epsilon).

    One name: OpenDP's bounded sum over the people's contributions (clamped to [0, bound] by ``make_clamp``).
    Several: each person's contributions (negatives as 0) scaled down to ``bound`` in total, summed per name
    (one person then moves the vector by at most ``bound`` in L1), then OpenDP's vector Laplace at that
    sensitivity."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    floats = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    if len(family.names) == 1:
        (name,) = family.names

        def bounded_sum(scale: float) -> Any:
            return (
                dp.t.make_clamp(floats, dp.symmetric_distance(), bounds=(0.0, float(family.bound)))
                >> dp.t.then_sum()  # type: ignore[no-untyped-call]
                >> dp.m.then_laplace(scale=scale)
            )

        chain, scale = _within(bounded_sum, family.bound / epsilon, epsilon, 1)
        data = [float(v.get(name, 0.0)) for v in family.people.values()]
        return {name: max(0.0, float(chain(data)))}, float(chain.map(1)), scale
    index = {name: i for i, name in enumerate(family.names)}
    totals = [0.0] * len(family.names)
    for contributions in family.people.values():
        mine = {n: max(0.0, float(v)) for n, v in contributions.items() if n in index}
        size = sum(mine.values())
        ratio = 1.0 if size <= family.bound else family.bound / size
        for n, v in mine.items():
            totals[index[n]] += v * ratio

    def vector_laplace(scale: float) -> Any:
        return dp.m.make_laplace(floats, dp.l1_distance(T=float), scale=scale)

    laplace, scale = _within(vector_laplace, family.bound / epsilon, epsilon, float(family.bound))
    released = laplace(totals)
    cost = float(laplace.map(float(family.bound)))
    return {n: max(0.0, float(released[i])) for n, i in index.items()}, cost, scale


def _within(build: Callable[[float], Any], scale: float, epsilon: float, distance: float) -> tuple[Any, float]:
    """The mechanism ``build(scale)`` widened until OpenDP's privacy map at ``distance`` is at most ``epsilon``
    (a float sum's map adds a margin for rounding, so ``bound / epsilon`` alone costs a hair more than
    ``epsilon`` and a budget of n queries' epsilon would pay for n - 1), with the scale used."""
    mechanism = build(scale)
    for _ in range(8):
        cost = float(mechanism.map(distance))
        if cost <= epsilon:
            return mechanism, scale
        scale *= (cost / epsilon) * (1 + 1e-12)
        mechanism = build(scale)
    raise ValueError(f"dp: no noise scale keeps the cost within epsilon {epsilon} (last {cost})")


def read(data_dir: str | Path) -> list[dict[str, Any]]:
    """Every ledger line, oldest first (an absent ledger is empty)."""
    path = Path(data_dir) / FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


class _locked:
    """The ledger opened for reading and appending under an exclusive ``flock`` (across processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> int:
        self.fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self.fd

    def __exit__(self, *_exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _lines(fd: int) -> list[dict[str, Any]]:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    text = b"".join(chunks).decode("utf-8")
    return [json.loads(line) for line in text.split("\n") if line.strip()]  # not splitlines: see audit.read


def _plain(value: Any) -> Any:
    """JSON-ready: mappings sorted, anything else not JSON as its text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
