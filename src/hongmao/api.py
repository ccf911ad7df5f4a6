"""The library a user imports: ``hongmao.attribute(...)`` does what ``hongmao attribute`` does.

The CLI and the web layer are thin over these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hongmao import settings

if TYPE_CHECKING:
    from hongmao.engine import AttributionResult, Windows
    from hongmao.ingestion import IngestReport
    from hongmao.lake import Lake


def open_lake(data_dir: str | Path | None = None, catalog_url: str | None = None) -> Lake:
    from hongmao.lake import Lake

    return Lake.open(settings.data_dir(data_dir), catalog_url or settings.get("catalog_url"))


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
) -> IngestReport:
    """Validate and store event files; bad records go to the lake's rejects file with their reasons."""
    from hongmao.ingestion import ingest_paths
    from hongmao.ingestion.adapters import get_adapter

    reader = get_adapter(adapter, settings.match_key(match_key)) if adapter else None
    size = batch_size or int(settings.get("batch_size") or 50_000)
    # One writer for the whole run: no other process slips batches in between ours.
    with open_lake(data_dir, catalog_url) as lake, lake.writer():
        return ingest_paths(
            lake,
            [str(p) for p in paths],
            fmt=fmt,
            adapter=reader,
            batch_size=size,  # type: ignore[arg-type]
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
) -> AttributionResult:
    """Credit every order in the lake to its buyer's touches inside the windows, under ``model``."""
    from hongmao.engine import Windows, attribute_segments

    if category_days:
        windows = Windows.with_category_days(category_days, windows)
    with open_lake(data_dir, catalog_url) as lake:
        segments = lake.segment_paths()
    return attribute_segments(
        segments,
        model=model,
        by=by,
        touches=touches,
        windows=windows,
        half_life_days=half_life_days,
        markov_order=markov_order,
    )


def attribute_paths(path: str | Path, model: str, **params: Any) -> list[Any]:
    """Attribution over a journey file (``path;total_conversions;total_conversion_value;total_null``)."""
    from hongmao.attribution import attribute_paths as run
    from hongmao.attribution import read_paths

    return list(run(read_paths(path), model, **params))


def pseudonymize(value: str, key: str | None = None, kind: str = "account") -> str:
    from hongmao.identity import pseudonymize as keyed

    return keyed(value, settings.match_key(key), kind)  # type: ignore[arg-type]
