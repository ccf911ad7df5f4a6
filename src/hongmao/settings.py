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
            "Secret key for keyed pseudonyms (HMAC-SHA256), at least 16 bytes: the single-party mode, for one owner "
            "of both sides (two platforms match without a shared key through `hongmao match`).",
        ),
        Setting("match_key_file", "HONGMAO_MATCH_KEY_FILE", None, "A file holding the match key (first line)."),
        Setting(
            "engine",
            "HONGMAO_ENGINE",
            "duckdb",
            "Where the engine runs: duckdb (embedded), spark (a local Spark) or sc://HOST:PORT (Spark Connect).",
        ),
        Setting(
            "engine_memory",
            "HONGMAO_ENGINE_MEMORY",
            "3GB",
            "Memory the embedded engine (DuckDB) may use before spilling to disk.",
        ),
        Setting("engine_threads", "HONGMAO_ENGINE_THREADS", None, "Engine threads (default: one per core)."),
        Setting("batch_size", "HONGMAO_BATCH_SIZE", "50000", "Events per committed ingest batch (one segment)."),
        Setting(
            "link_keys",
            "HONGMAO_LINK_KEYS",
            None,
            "Link signing keys as comma-separated kid:secret (secret >= 16 bytes); the first signs, all verify. "
            "Default: a key file generated in the data directory (link-keys, mode 0600).",
        ),
        Setting(
            "public_base_url",
            "HONGMAO_PUBLIC_URL",
            "http://127.0.0.1:8000",
            "Public base URL of the redirect server, used to print a link's full URL.",
        ),
        Setting(
            "link_hosts",
            "HONGMAO_LINK_HOSTS",
            None,
            "Allow-list of the generic marketplace adapter: comma-separated hosts, *.example.com for subdomains.",
        ),
        Setting(
            "holdout_key",
            "HONGMAO_HOLDOUT_KEY",
            None,
            "Secret key of campaign holdouts (HMAC-SHA256 of 'campaign|pseudonym'), at least 16 bytes; the "
            "community, the marketplace and the measuring side use the same one.",
        ),
        Setting("holdout_key_file", "HONGMAO_HOLDOUT_KEY_FILE", None, "A file holding the holdout key (first line)."),
        Setting(
            "web_secret",
            "HONGMAO_WEB_SECRET",
            None,
            "Secret behind the console's sign-in CSRF tokens (>= 16 characters); sessions themselves are random ids "
            "kept on the server. Default: a file generated in the data directory (web-secret, mode 0600).",
        ),
        Setting(
            "business_tz",
            "HONGMAO_BUSINESS_TZ",
            "Asia/Shanghai",
            "Time zone of the business day: report date ranges (yesterday, 7 or 30 days, from/to) run midnight to "
            "midnight here.",
        ),
        Setting(
            "privacy_k",
            "HONGMAO_PRIVACY_K",
            "50",
            "Reports never show a count of people smaller than this (the value is suppressed and marked).",
        ),
        Setting(
            "privacy_k_parties",
            "HONGMAO_PRIVACY_K_PARTIES",
            None,
            "The other parties' thresholds as party:k pairs (community:50,market:100): audiences use the strictest.",
        ),
        Setting(
            "dp_epsilon",
            "HONGMAO_DP_EPSILON",
            None,
            "A differential-privacy budget per brand: the total epsilon a brand key may spend on noisy counts of "
            "people (funnel, overview) and clamped sums (GMV, orders, attribution rows); refused with a 403 once "
            "spent. Unset: off (exact figures, k-threshold and difference check only). Needs the dp extra (OpenDP).",
        ),
        Setting(
            "dp_query_epsilon",
            "HONGMAO_DP_QUERY_EPSILON",
            "0.5",
            "The epsilon one brand-key query spends from the budget (dp_epsilon), split over the figures it releases.",
        ),
        Setting(
            "dp_gmv_bound",
            "HONGMAO_DP_GMV_BOUND",
            "2000",
            "Under the DP budget: the most GMV (yuan) one person may add to one released sum figure of one query "
            "(overview, attribution rows, daily series, ...); beyond it, clamped. The GMV noise scale is this over "
            "the figure's epsilon.",
        ),
        Setting(
            "dp_orders_bound",
            "HONGMAO_DP_ORDERS_BOUND",
            "5",
            "Under the DP budget: the most orders one person may add to one released order figure of one query; "
            "beyond it, clamped.",
        ),
        Setting(
            "dp_events_bound",
            "HONGMAO_DP_EVENTS_BOUND",
            "20",
            "Under the DP budget: the most events of one kind (impressions, reads, clicks, engagements, carts) one "
            "person may add to one released event figure of one query; beyond it, clamped.",
        ),
        Setting(
            "audience_min_size",
            "HONGMAO_AUDIENCE_MIN_SIZE",
            "2000",
            "The fewest people an exported audience may hold; a smaller one is refused.",
        ),
        Setting(
            "deep_read_seconds",
            "HONGMAO_DEEP_READ_SECONDS",
            "30",
            "The 种草值 bar of the AIPS TI stage: a read this many seconds long, or a collect or comment.",
        ),
        Setting(
            "cleanroom_identity",
            "HONGMAO_CLEANROOM_IDENTITY",
            None,
            "The measurer's identity.json from `hongmao match join`: audience exports name marketplace refs.",
        ),
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


def _first_line(path: str | Path, what: str) -> str:
    from hongmao.errors import ConfigError

    try:
        line = Path(path).read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, IndexError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the {what} file {path}: {exc}") from exc
    if not line:
        raise ConfigError(f"the {what} file {path} is empty")
    return line


def holdout_key(explicit: str | None = None, key_file: str | Path | None = None) -> str:
    """The holdout key: ``explicit``, else the first line of ``key_file``, else the environment.

    Order: the argument, the key file argument, ``HONGMAO_HOLDOUT_KEY``, ``HONGMAO_HOLDOUT_KEY_FILE``.
    """
    from hongmao.errors import ConfigError

    key = explicit or (_first_line(key_file, "holdout key") if key_file is not None else None)
    key = key or get("holdout_key")
    if not key:
        path = get("holdout_key_file")
        key = _first_line(path, "holdout key") if path else None
    if not key:
        raise ConfigError(
            "no holdout key: set HONGMAO_HOLDOUT_KEY or HONGMAO_HOLDOUT_KEY_FILE, or pass --holdout-key-file "
            "(for a simulated world, --world DIR reads it from DIR/truth/world.json)"
        )
    if len(key.encode("utf-8")) < 16:
        raise ConfigError("the holdout key must be at least 16 bytes")
    return key
