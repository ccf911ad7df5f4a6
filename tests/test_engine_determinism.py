"""The same lake gives the same bytes: every model's report is identical at any thread count and whatever the
order of the lake's segments and of the rows inside them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hongmao.engine import Session, attribute
from hongmao.engine.attribute import MODELS
from hongmao.lake import Lake
from simkit import small_world


@pytest.fixture(scope="module")
def shuffled(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[Path]]:
    """The small world's lake as it is, and the same rows shuffled into three segments in another order."""
    _world, lake_dir = small_world(tmp_path_factory)
    with Lake.open(lake_dir) as lake:
        original = lake.segment_paths()
    table = pa.concat_tables([pq.read_table(p) for p in original])
    order = np.random.default_rng(11).permutation(table.num_rows)
    rows = table.take(pa.array(order))
    out = tmp_path_factory.mktemp("shuffled")
    parts = []
    for i, chunk in enumerate(np.array_split(np.arange(rows.num_rows), 3)):
        path = out / f"part-{i}.parquet"
        pq.write_table(rows.take(pa.array(chunk)), path, row_group_size=997)
        parts.append(path)
    return original, parts[::-1]


def report(segments: list[Path], model: str, threads: int) -> bytes:
    with Session(segments, threads=threads) as session:
        result = attribute(session, model=model, by="note")
    body: dict[str, Any] = {
        "rows": result.rows,
        "total": result.total_orders,
        "unattributed": result.unattributed_orders,
        "orders": result.orders,
    }
    return json.dumps(body, sort_keys=True, default=str).encode()


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_the_same_lake_gives_the_same_bytes(shuffled: tuple[list[Path], list[Path]], model: str) -> None:
    original, reordered = shuffled
    first = report(original, model, threads=1)
    assert json.loads(first)["rows"], "the world credits something"
    assert report(original, model, threads=4) == first
    assert report(reordered, model, threads=2) == first


def every_report(lake_dir: Path, threads: int, mp: pytest.MonkeyPatch) -> bytes:
    """Every report the console and the API show, for the platform and for each brand, as JSON bytes."""
    from hongmao.reports.scope import Scope
    from hongmao.reports.service import Reports

    mp.setenv("HONGMAO_ENGINE_THREADS", str(threads))
    out: dict[str, Any] = {}
    with Lake.open(lake_dir) as lake:
        reports = Reports(lake, privacy_k=1)
        out["platform"] = reports.platform()
        for brand in [None, *reports.brands()]:
            scope = Scope(brand)
            out[str(brand)] = {
                "overview": reports.overview(scope),
                "funnel": reports.funnel(scope),
                "timeseries": reports.timeseries(scope),
                "notes": reports.notes(scope),
                "creators": reports.creators(scope),
                "campaigns": reports.campaigns(scope),
                "items": reports.items(scope),
                "orders": reports.orders(scope, limit=20),
            }
    return json.dumps(out, sort_keys=True, default=str).encode()


@pytest.mark.slow
def test_every_report_gives_the_same_bytes_at_any_thread_count(tmp_path_factory: pytest.TempPathFactory) -> None:
    _world, lake_dir = small_world(tmp_path_factory)
    with pytest.MonkeyPatch.context() as mp:
        one = every_report(lake_dir, 1, mp)
        four = every_report(lake_dir, 4, mp)
    assert b'"notes"' in one
    assert one == four
