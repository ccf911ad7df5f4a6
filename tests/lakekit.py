"""The catalog fixture the lake tests share: the default SQLite catalog, then a fresh PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from hongmao.lake.testing import postgres_available, postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (the default SQLite catalog in the data directory) or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    reason = postgres_available()
    if reason:
        pytest.skip(f"PostgreSQL catalog tests need a server (HONGMAO_TEST_POSTGRES_URL): {reason}")
    with ExitStack() as stack:
        yield stack.enter_context(postgres_schema())
