"""Shared fixtures: event builders, a fresh data directory, the shared real data."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Fixtures shared by several test modules live in their own files and load as plugins.
pytest_plugins = ["lakekit"]

SHARED_DATA = Path(os.environ.get("HONGMAO_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TEST_KEY = "test-match-key-0123456789abcdef"

_ids = itertools.count(1)


def source_of(kind: str) -> str:
    """The source an event of ``kind`` comes from (its contract side; the market side as Tmall)."""
    from hongmao.contract.envelope import event_side

    side = event_side(kind)
    return "market:tmall" if side == "market" else side


def shared(path: str) -> Path:
    full = SHARED_DATA / path
    if not full.exists():
        pytest.skip(f"shared data {full} is absent (CI has it at ../shared/data beside the clone)")
    return full


def user(n: int) -> str:
    from hongmao.identity import pseudonymize

    return pseudonymize(f"user-{n}", TEST_KEY)


def event(kind: str, time: str, event_id: str | None = None, **data: Any) -> dict[str, Any]:
    return {
        "id": event_id or f"t-{next(_ids)}",
        "type": kind,
        "source": source_of(kind),
        "time": time,
        "data": data,
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture(autouse=True)
def _engine_sessions() -> Iterator[None]:
    """Close the engine sessions a test opened with ``enginekit.on``."""
    yield
    from enginekit import close_sessions

    close_sessions()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HONGMAO_MATCH_KEY", TEST_KEY)
    monkeypatch.delenv("HONGMAO_CATALOG_URL", raising=False)
    monkeypatch.setenv("HONGMAO_DATA", str(tmp_path / "default-lake"))
