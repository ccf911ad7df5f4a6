"""Every setting declared once: name, environment variable, default and help.

The CLI derives its options' help from this table and ``docs/configuration.md`` lists it; code reads a
setting with :func:`get`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str | None
    help: str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting(
            "data_dir", "HONGMAO_DATA", "./hongmao-data", "Directory of the embedded lake (segments, catalog, rejects)."
        ),
        Setting(
            "catalog_url",
            "HONGMAO_CATALOG_URL",
            None,
            "SQLAlchemy URL of the catalog; default: SQLite inside the data directory. "
            "PostgreSQL: postgresql+psycopg://user@host/db",
        ),
        Setting(
            "match_key",
            "HONGMAO_MATCH_KEY",
            None,
            "Secret key for keyed pseudonyms (HMAC-SHA256), at least 16 bytes; both platforms use the same one.",
        ),
        Setting("match_key_file", "HONGMAO_MATCH_KEY_FILE", None, "A file holding the match key (first line)."),
        Setting(
            "engine_memory",
            "HONGMAO_ENGINE_MEMORY",
            "3GB",
            "Memory the embedded engine (DuckDB) may use before spilling to disk.",
        ),
        Setting("engine_threads", "HONGMAO_ENGINE_THREADS", None, "Engine threads (default: one per core)."),
        Setting("batch_size", "HONGMAO_BATCH_SIZE", "50000", "Events per committed ingest batch (one segment)."),
    ]
}


def get(name: str) -> str | None:
    setting = SETTINGS[name]
    return os.environ.get(setting.env, setting.default)


def data_dir(explicit: str | Path | None = None) -> Path:
    return Path(explicit if explicit is not None else (get("data_dir") or "./hongmao-data"))


def match_key(explicit: str | None = None) -> str:
    from hongmao.errors import ConfigError

    if explicit:
        return explicit
    key = get("match_key")
    if key:
        return key
    path = get("match_key_file")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as exc:
            raise ConfigError(f"cannot read the match key file {path}: {exc}") from exc
    raise ConfigError("no match key: set HONGMAO_MATCH_KEY, HONGMAO_MATCH_KEY_FILE or pass --key-file")
