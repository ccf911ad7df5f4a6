"""The library a user imports: ``hongmao.attribute(...)`` does what ``hongmao attribute`` does.

The CLI and the web layer are thin over these functions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hongmao import settings

if TYPE_CHECKING:
    from hongmao.engine import AttributionResult, Windows
    from hongmao.engine.campaign import CampaignLift
    from hongmao.engine.cycles import CycleReport
    from hongmao.engine.session import Session
    from hongmao.ingestion import IngestReport
    from hongmao.lake import Lake
    from hongmao.trust import TrustInputs, TrustParams


#: Seconds a write waits for another writer before :class:`~hongmao.errors.LakeBusyError` (the lake's default).
LOCK_TIMEOUT = 10.0


def open_lake(
    data_dir: str | Path | None = None,
    catalog_url: str | None = None,
    *,
    create: bool = False,
    lock_timeout: float | None = LOCK_TIMEOUT,
) -> Lake:
    """The lake in ``data_dir``. Unless ``create``, a directory holding no lake raises
    :class:`~hongmao.errors.NoLakeError`: a mistyped ``--data`` must not become a new, empty lake whose zeros
    read like an answer."""
    from hongmao.lake import Lake, require

    directory = settings.data_dir(data_dir)
    if not create:
        require(directory)
    return Lake.open(directory, catalog_url or settings.get("catalog_url"), lock_timeout=lock_timeout)


@contextlib.contextmanager
def engine_session(data_dir: str | Path | None = None, catalog_url: str | None = None) -> Iterator[Session]:
    """An engine session over the lake's committed segments (the ``engine`` setting picks the backend).

    The lake is open only while its segment list is read: the session reads files the catalog has committed,
    which the lake never rewrites.
    """
    from hongmao.engine.session import Session

    with open_lake(data_dir, catalog_url) as lake:
        segments = lake.segment_paths()
    with Session(segments) as session:
        yield session


def ingest(
    paths: Sequence[str | Path],
    data_dir: str | Path | None = None,
    *,
    adapter: str | None = None,
    fmt: str | None = None,
    match_key: str | None = None,
    batch_size: int | None = None,
    catalog_url: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    lock_timeout: float | None = LOCK_TIMEOUT,
) -> IngestReport:
    """Validate and store event files; bad records go to the lake's rejects file with their reasons.

    Creates the lake if needed. Files that cannot be read as their format are listed in the report's
    ``errors`` while the others are ingested; another writer holding the lake past ``lock_timeout`` seconds
    raises :class:`~hongmao.errors.LakeBusyError`.
    """
    from hongmao.ingestion import ingest_paths
    from hongmao.ingestion.adapters import get_adapter

    reader = get_adapter(adapter, settings.match_key(match_key)) if adapter else None
    size = batch_size or int(settings.get("batch_size") or 50_000)
    # One writer for the whole run: no other process slips batches in between ours.
    with open_lake(data_dir, catalog_url, create=True, lock_timeout=lock_timeout) as lake, lake.writer():
        return ingest_paths(
            lake,
            [str(p) for p in paths],
            fmt=fmt,  # type: ignore[arg-type]
            adapter=reader,
            batch_size=size,
            on_progress=on_progress,
        )


def stats(data_dir: str | Path | None = None, catalog_url: str | None = None) -> dict[str, Any]:
    with open_lake(data_dir, catalog_url) as lake:
        return lake.stats()


def attribute(
    data_dir: str | Path | None = None,
    model: str = "last",
    by: str = "note",
    *,
    touches: Iterable[str] | None = None,
    windows: Windows | None = None,
    category_days: dict[str, float] | None = None,
    half_life_days: float = 7.0,
    markov_order: int = 1,
    catalog_url: str | None = None,
    windows_from_cycles: bool = False,
    cycle_quantile: float = 0.9,
    null_window: str = "all",
    hazard: dict[str, Any] | None = None,
    datadriven: dict[str, Any] | None = None,
    exclude_flagged: bool = True,
    exclude_users: Iterable[str] | None = None,
) -> AttributionResult:
    """Credit every order in the lake to its buyer's touches inside the windows, under ``model``.

    ``windows_from_cycles`` sets each category's window to its estimated decision cycle (the span holding
    ``cycle_quantile`` of the seeding-to-purchase lags, see :func:`decision_cycles`); ``category_days`` still
    overrides the categories it names. Markov and Shapley build one chain per brand; ``null_window`` chooses
    the touches of a non-buyer's path (``all`` or ``windowed``). ``model="hazard"`` fits the additive-hazard
    model per brand (parameters in ``hazard``: horizon_days, strata, prior_sd_creator, prior_sd_note,
    utc_offset_hours; windows do not apply) and reports the baseline's share as the ``(baseline)`` row.
    ``model="datadriven"`` fits a daily purchase probability per brand and credits each order by its notes'
    Shapley values (parameters in ``datadriven``, see :data:`hongmao.engine.datadriven.DEFAULTS`; rows carry
    ``orders_low``/``orders_high`` bootstrap intervals; a ``holdout_key`` among them checks every campaign with a
    holdout against its measured lift, in ``lift_checks``).

    The touches of accounts the trust guard flags for fake engagement are left out (``exclude_flagged``; see
    :func:`flagged_accounts`), and those of ``exclude_users`` too.
    """
    from hongmao.engine import Windows
    from hongmao.engine import attribute as run
    from hongmao.engine.trust import flagged_accounts as flagged

    with engine_session(data_dir, catalog_url) as session:
        if windows_from_cycles:
            category_days = {**_cycle_days(session, cycle_quantile), **(category_days or {})}
        if category_days:
            windows = Windows.with_category_days(category_days, windows)
        excluded = set(exclude_users or ())
        if exclude_flagged:
            excluded.update(flagged(session))
        return run(
            session,
            model=model,
            by=by,
            touches=touches,
            windows=windows,
            half_life_days=half_life_days,
            markov_order=markov_order,
            null_window=null_window,
            hazard=hazard,
            datadriven=datadriven,
            exclude_users=sorted(excluded) or None,
        )


def attribute_paths(path: str | Path, model: str, **params: Any) -> list[Any]:
    """Attribution over a journey file (``path;total_conversions;total_conversion_value;total_null``)."""
    from hongmao.attribution import attribute_paths as run
    from hongmao.attribution import read_paths

    return list(run(read_paths(path), model, **params))


def pseudonymize(value: str, key: str | None = None, kind: str = "account") -> str:
    from hongmao.identity import pseudonymize as keyed

    return keyed(value, settings.match_key(key), kind)  # type: ignore[arg-type]


def holdout_key_from_world(world: str | Path) -> str:
    """The holdout key of a *simulated* world (``WORLD/truth/world.json``), for demos and benchmarks only."""
    import json

    from hongmao.errors import ConfigError

    path = Path(world) / "truth" / "world.json"
    try:
        key = json.loads(path.read_text(encoding="utf-8"))["config"]["holdout_key"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the holdout key of the simulated world {path}: {exc}") from exc
    if not isinstance(key, str) or not key:
        raise ConfigError(f"{path} has no holdout key")
    return key


def _cycle_days(session: Session, quantile: float) -> dict[str, float]:
    """Estimated decision cycle (whole days) of every category the lake supports an estimate for."""
    from hongmao.engine.cycles import decision_cycles

    return decision_cycles(session, quantile=quantile).category_days()


def campaign_lift(
    data_dir: str | Path | None = None,
    campaign_id: str = "",
    *,
    holdout_key: str | None = None,
    holdout_key_file: str | Path | None = None,
    world: str | Path | None = None,
    window_days: float | None = None,
    category_days: dict[str, float] | None = None,
    windows_from_cycles: bool = False,
    cycle_quantile: float = 0.9,
    alpha: float = 0.05,
    catalog_url: str | None = None,
) -> CampaignLift:
    """Holdout lift of a campaign in the lake: incremental orders, GMV, net GMV and conversion rate.

    The holdout key comes from ``holdout_key``, ``holdout_key_file``, a simulated ``world`` directory, or the
    settings (``HONGMAO_HOLDOUT_KEY`` / ``HONGMAO_HOLDOUT_KEY_FILE``), in that order. Orders count from the
    campaign's start until ``window_days`` after its end (default: its category's attribution window).
    """
    from hongmao.engine.campaign import campaign_lift as run

    key = holdout_key or (
        holdout_key_from_world(world)
        if world is not None and holdout_key_file is None
        else settings.holdout_key(None, holdout_key_file)
    )
    from hongmao.engine import Windows

    with engine_session(data_dir, catalog_url) as session:
        days = {**(_cycle_days(session, cycle_quantile) if windows_from_cycles else {}), **(category_days or {})}
        windows = Windows.with_category_days(days) if days else Windows()
        return run(session, campaign_id, key, windows=windows, window_days=window_days, alpha=alpha)


def decision_cycles(
    data_dir: str | Path | None = None,
    *,
    quantile: float = 0.9,
    method: str = "excess-lag",
    touches: Iterable[str] | None = None,
    lookback_days: int = 90,
    catalog_url: str | None = None,
) -> CycleReport:
    """Each item category's decision cycle: the span of days holding ``quantile`` of seeding-to-purchase lags."""
    from hongmao.engine.cycles import SEEDING_KINDS
    from hongmao.engine.cycles import decision_cycles as run

    with engine_session(data_dir, catalog_url) as session:
        return run(
            session,
            quantile=quantile,
            method=method,
            touches=touches if touches is not None else SEEDING_KINDS,
            lookback_days=lookback_days,
        )


def roi(
    data_dir: str | Path | None = None,
    *,
    quantile: float = 0.9,
    method: str = "excess-lag",
    model: str = "linear",
    half_life_days: float = 7.0,
    catalog_url: str | None = None,
) -> dict[str, Any]:
    """Decision cycles per category and ROI(T+x) per campaign (x = its category's cycle)."""
    from hongmao.engine.cycles import roi_at_cycles

    cycles = decision_cycles(data_dir, quantile=quantile, method=method, catalog_url=catalog_url)
    with engine_session(data_dir, catalog_url) as session:
        campaigns = roi_at_cycles(session, cycles, model=model, half_life_days=half_life_days)
    return {**cycles.to_dict(), "campaigns": campaigns}


def trust_inputs(
    data_dir: str | Path | None = None, params: TrustParams | None = None, catalog_url: str | None = None
) -> TrustInputs:
    """The trust guard's judged findings over the lake (for callers that want more than the report)."""
    from hongmao.engine.trust import trust_inputs as run

    with engine_session(data_dir, catalog_url) as session:
        return run(session, params)


def trust_report(
    data_dir: str | Path | None = None,
    params: TrustParams | None = None,
    *,
    flags: Iterable[str] | None = None,
    include_accounts: bool = False,
    catalog_url: str | None = None,
) -> dict[str, Any]:
    """The trust report of the lake: every note and creator with flags, score and evidence, ranked.

    ``{"notes": [{"note_id", "creator_id", "brand", "flags", "score", "evidence"}], "creators": [...],
    "accounts": {...}, "summary": {...}}``. ``flags`` keeps only entries carrying one of them;
    ``include_accounts`` lists the flagged accounts' pseudonyms and evidence.
    """
    from hongmao.trust import TrustParams, assemble, filter_flags

    params = params or TrustParams()
    out = assemble(trust_inputs(data_dir, params, catalog_url), params, include_accounts=include_accounts)
    return filter_flags(out, flags) if flags is not None else out


def flagged_accounts(
    data_dir: str | Path | None = None, params: TrustParams | None = None, catalog_url: str | None = None
) -> list[str]:
    """Pseudonyms of the accounts flagged for fake engagement (pass them as ``exclude_users``)."""
    from hongmao.engine.trust import flagged_accounts as run

    with engine_session(data_dir, catalog_url) as session:
        return run(session, params)


# The clean room (``hongmao match``): each twin runs the step in hongmao.cleanroom.steps, files in, files out.


def match_blind(
    key: str | Path,
    out_dir: str | Path,
    kind: Literal["phone", "account", "email"] = "account",
    *,
    ids_file: str | Path | None = None,
    events: Sequence[str | Path] = (),
    workers: int = 1,
) -> dict[str, Any]:
    """A side's first step: PARTY.blinded for the other side, PARTY.index for the measurer."""
    from hongmao.cleanroom import steps

    return steps.blind(key, out_dir, kind, ids_file=ids_file, events=events, workers=workers)


def match_reblind(key: str | Path, blinded: str | Path, out_dir: str | Path, *, workers: int = 1) -> dict[str, Any]:
    """A side raises the other side's blinded values to its own key: ORIGIN.double for the measurer."""
    from hongmao.cleanroom import steps

    return steps.reblind(key, blinded, out_dir, workers=workers)


def match_join(
    inbox: str | Path, out_dir: str | Path, *, previous: str | Path | None = None, k: int = 50
) -> dict[str, Any]:
    """The measurer's join over an inbox of both sides' .index and .double files; the match report."""
    from hongmao.cleanroom import steps

    inbox = Path(inbox)
    pair = {side: (inbox / f"{side}.index", inbox / f"{side}.double") for side in ("community", "market")}
    return steps.join(pair["community"], pair["market"], out_dir, previous=previous, k=k)


def match_coverage(events: Sequence[str | Path], identity: str | Path | None = None) -> dict[str, Any]:
    """How complete the join is: orders with a matched person or a click id, days a side sent too little."""
    from hongmao.cleanroom import steps

    return steps.coverage(events, identity)
