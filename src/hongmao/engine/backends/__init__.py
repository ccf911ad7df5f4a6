"""Where the engine runs: each backend is a small declarative module, chosen by the ``engine`` setting.

=============  =============================================================  ==============
setting        backend                                                        module
=============  =============================================================  ==============
``duckdb``     DuckDB embedded in the process (the default): nothing to start  :mod:`.duckdb`
``spark``      a local Spark (PySpark, ``local[N]``) over the lake's segments  :mod:`.spark`
``sc://H:P``   a remote Spark cluster through Spark Connect, same segments     :mod:`.spark`
=============  =============================================================  ==============

A backend says how to connect, how to read segments as the ``events`` table, what it can do (a table of
capabilities the conformance suite reads to mark what a backend lacks) and which of its exceptions are its
own failures (the session turns them into :class:`~hongmao.errors.EngineError`). Nothing outside this package
imports an engine's driver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibis import BaseBackend
    from ibis.expr.types import Table

#: What a backend may lack. ``json_arrays``: unnesting a JSON array held in a string column;
#: ``single_file_writes``: writing one result as one Parquet file; ``exact_decimal_sums``: fixed-point sums
#: that do not depend on the order of parallel work.
CAPABILITIES = ("json_arrays", "single_file_writes", "exact_decimal_sums")


@dataclass(frozen=True)
class EngineOptions:
    """What the caller may tune; a backend takes what applies to it."""

    threads: int | None = None
    memory_limit: str | None = None
    remote: str | None = None  # sc://host:port for Spark Connect


@dataclass(frozen=True)
class Backend:
    name: str
    connect: Callable[[EngineOptions], BaseBackend]
    read_parquet: Callable[[BaseBackend, Sequence[Path]], Table]
    disconnect: Callable[[BaseBackend], None]
    capabilities: frozenset[str]
    #: Exception types that mean "the engine failed" (translated to EngineError at the session).
    errors: Callable[[], tuple[type[BaseException], ...]] = field(default=lambda: ())


def _duckdb() -> Backend:
    from hongmao.engine.backends import duckdb

    return duckdb.BACKEND


def _spark() -> Backend:
    from hongmao.engine.backends import spark

    return spark.BACKEND


#: setting -> a function giving the backend (imported only when chosen: Spark is an optional extra).
BACKENDS: dict[str, Callable[[], Backend]] = {"duckdb": _duckdb, "spark": _spark}
DEFAULT = "duckdb"


def resolve(engine: str | None) -> tuple[Backend, str | None]:
    """The backend a setting names and, for ``sc://HOST:PORT``, the remote address."""
    from hongmao.errors import ConfigError

    chosen = (engine or DEFAULT).strip()
    if chosen.startswith("sc://"):
        return BACKENDS["spark"](), chosen
    if chosen not in BACKENDS:
        raise ConfigError(f"unknown engine {chosen!r}; use {', '.join(BACKENDS)} or sc://HOST:PORT (Spark Connect)")
    return BACKENDS[chosen](), None
