"""Hongmao (红猫): the open bridge from content seeding (种草) to marketplace orders (拔草).

The library is the product; the CLI and web layers are thin over it.
"""

from typing import TYPE_CHECKING

from hongmao.errors import HongmaoError

if TYPE_CHECKING:  # type checkers see the real signatures; at run time they load lazily (below)
    from hongmao.api import attribute, attribute_paths, ingest, open_lake, pseudonymize, stats
    from hongmao.sim import simulate

__version__ = "0.1.0"

__all__ = [
    "HongmaoError",
    "__version__",
    "attribute",
    "attribute_paths",
    "ingest",
    "open_lake",
    "pseudonymize",
    "simulate",
    "stats",
]

_LAZY = {"attribute", "attribute_paths", "ingest", "pseudonymize", "stats", "open_lake"}


def __getattr__(name: str) -> object:
    # Heavy dependencies (DuckDB, Ibis, SQLAlchemy) load on first use, not on ``import hongmao``.
    if name in _LAZY:
        from hongmao import api

        return getattr(api, name)
    if name == "simulate":
        from hongmao.sim import simulate

        return simulate
    raise AttributeError(f"module 'hongmao' has no attribute {name!r}")
