"""Hongmao's one error root and its tree.

    HongmaoError
    ├── ConfigError (also ValueError)       a setting is missing or malformed (e.g. no match key)
    ├── ContractError (also ValueError)     an event or entity does not satisfy the contract
    ├── InputError (also ValueError)        an input file cannot be read as the format it claims
    │   └── NestingError                    JSON nested deeper than any event (a record-level reject)
    ├── LakeError                           the lake cannot be opened, written or read
    │   ├── LakeBusyError                   another writer holds the lake's write lock (CLI exit code 4)
    │   └── NoLakeError                     a command that reads a lake was pointed at a directory without one
    ├── CatalogError                        the catalog database failed (driver errors are translated to this)
    ├── EngineError                         the analytic engine failed to run a query
    ├── AttributionError (also ValueError)  a model or its parameters are invalid
    └── LinkError                           a shoppable link cannot be created, found or followed
        ├── DestinationError (also ValueError)  the destination is outside its marketplace's allow-list
        ├── TokenError                      a link token is malformed, tampered with or signed by an unknown key
        └── LinkGoneError                   the link expired or was revoked

Errors raised by libraries at the edges (SQLAlchemy, DuckDB, PyArrow) are translated into this tree where they
cross into Hongmao, so callers catch one root.
"""

from __future__ import annotations


class HongmaoError(Exception):
    """Root of every error Hongmao raises on purpose."""


class ConfigError(HongmaoError, ValueError):
    """A setting is missing or malformed."""


class ContractError(HongmaoError, ValueError):
    """An event or entity does not satisfy the contract."""


class InputError(HongmaoError, ValueError):
    """An input cannot be read as the format it claims to be."""


class NestingError(InputError):
    """JSON text nests arrays and objects deeper than any event does; refused before it can exhaust the stack."""


class LakeError(HongmaoError):
    """The lake cannot be opened, written or read."""


class LakeBusyError(LakeError):
    """Another process holds the lake's write lock."""

    #: What the ``hongmao`` command exits with: a busy lake is neither bad input (1) nor a usage error (2).
    exit_code = 4


class NoLakeError(LakeError):
    """A command that only reads was pointed at a directory holding no lake (a typo in ``--data``, say)."""


class CatalogError(HongmaoError):
    """The catalog database failed; the driver's error is chained as __cause__."""


class DuplicateIdError(CatalogError):
    """An event id inserted into the catalog's id index was already there (its primary key refused it)."""


class EngineError(HongmaoError):
    """The analytic engine failed to run a query."""


class AttributionError(HongmaoError, ValueError):
    """An attribution model or its parameters are invalid."""


class LinkError(HongmaoError):
    """A shoppable link cannot be created, found or followed."""


class DestinationError(LinkError, ValueError):
    """A link's destination is outside its marketplace's allow-list (no open redirect)."""


class TokenError(LinkError):
    """A link token is malformed, was tampered with, or was signed by a key the key ring does not hold."""


class LinkGoneError(LinkError):
    """The link expired or was revoked (HTTP 410)."""
