"""One small simulated world, ingested into a lake once per test session and shared by the measurement tests."""

from __future__ import annotations

from pathlib import Path

import pytest

_BUILT: dict[str, tuple[Path, Path]] = {}

USERS, DAYS, BRANDS, SEED = 1_500, 16, 3, 5


def small_world(factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(world directory with truth/, lake directory): 1,500 people x 16 days, 3 brands, seed 5."""
    if "small" not in _BUILT:
        import hongmao

        root = factory.mktemp("simkit")
        summary = hongmao.simulate(root / "world", seed=SEED, users=USERS, days=DAYS, brands=BRANDS)
        report = hongmao.ingest(summary.files, root / "lake")
        assert report.rejected == 0
        _BUILT["small"] = (root / "world", root / "lake")
    return _BUILT["small"]
