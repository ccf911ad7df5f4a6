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

Not covered: sums (GMV) need each person's contribution bounded and are released exactly (under the k-threshold
only); the budget never refills (a new period of budget is an operator's decision: a new ledger).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE = "dp-ledger.jsonl"
DEFAULT_QUERY_EPSILON = 0.5
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
class Budget:
    """``total`` epsilon per brand, ``per_query`` epsilon per query; the ledger in ``data_dir``."""

    data_dir: Path
    total: float
    per_query: float = DEFAULT_QUERY_EPSILON

    def __post_init__(self) -> None:
        if not self.total > 0 or not self.per_query > 0:
            raise ValueError(f"dp budget: epsilons must be above 0, got total {self.total}, per query {self.per_query}")

    @classmethod
    def from_settings(cls, data_dir: str | Path) -> Budget | None:
        """The budget the settings turn on (``dp_epsilon``, ``dp_query_epsilon``), or None (off, the default)."""
        from hongmao import settings
        from hongmao.errors import ConfigError

        if not settings.get("dp_epsilon"):
            return None
        per = settings.get("dp_query_epsilon")
        try:
            found = cls(Path(data_dir), float(settings.get("dp_epsilon") or 0), float(per or DEFAULT_QUERY_EPSILON))
        except ValueError as error:
            raise ConfigError(f"dp_epsilon / dp_query_epsilon: {error}") from None
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
        self, brand: str, report: str, params: Mapping[str, Any], counts: Mapping[str, int], *, version: Any = None
    ) -> dict[str, Any]:
        """``counts`` (counts of people; ``None`` ones are left out) with noise, and what it cost: ``{"values":
        {name: noisy}, "epsilon": spent by this query, "spent": the brand's total, "total", "repeated": bool}``.
        Raises :class:`BudgetExhausted` when the budget cannot pay for the query."""
        query = {"brand": brand, "report": report, "params": _plain(params), "version": _plain(version)}
        key = hashlib.sha256(json.dumps(query, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
        names = sorted(n for n, v in counts.items() if v is not None)
        with _lock, _locked(self.path) as fd:
            lines = _lines(fd)
            spent = sum(float(x["epsilon"]) for x in lines if x["brand"] == brand)
            free = {"epsilon": 0.0, "spent": spent, "total": self.total}
            for x in reversed(lines):
                if x["key"] == key and sorted(x["values"]) == names:
                    return {"values": x["values"], **free, "repeated": True}
            if not names:
                return {"values": {}, **free, "repeated": False}
            if spent + self.per_query > self.total + 1e-12:
                raise BudgetExhausted(brand, spent, self.total, self.per_query)
            values, cost = noisy({n: int(counts[n]) for n in names}, self.per_query)
            line = {
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "brand": brand,
                "report": report,
                "params": query["params"],
                "key": key,
                "epsilon": cost,
                "values": values,
            }
            os.write(fd, (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
        return {"values": values, "epsilon": cost, "spent": spent + cost, "total": self.total, "repeated": False}


def noisy(counts: Mapping[str, int], epsilon: float) -> tuple[dict[str, int], float]:
    """Each count with discrete Laplace noise from OpenDP, ``epsilon`` split evenly over them; the noisy counts
    (at least 0: post-processing) and the epsilon OpenDP's privacy maps give for the lot (at most ``epsilon``)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    share = epsilon / len(counts)
    mechanism = dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=1.0 / share)
    cost = float(mechanism.map(1)) * len(counts)  # type: ignore[no-untyped-call]
    return {name: max(0, int(mechanism(int(n)))) for name, n in counts.items()}, cost


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
