"""Benchmark: what the catalog's per-event-id index costs, in bytes and insert time per id, as it grows.

    python bench/catalog_ids.py                      # 2,000,000 ids each way, SQLite (+ PostgreSQL if reachable)
    python bench/catalog_ids.py --ids 500000 --batch 50000

The lake de-duplicates every event against the catalog's ``event_ids`` table (one primary-key row per event id
ever stored). This inserts ids in batches the size of an ingest batch through ``catalog.insert_ids``, the code
``Lake.append`` runs, into a fresh catalog: time-ordered ids (a millisecond then 64 random bits, as click ids
are) and random ones (as many upstream event ids are), and reports the index's size per id and the insert
time per id for the first and last tenth of the ids. SQLite lives in a temporary directory; PostgreSQL
(``HONGMAO_TEST_POSTGRES_URL``) in a schema of its own, dropped after. docs/scale.md scales these figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from hongmao.lake import catalog

PG_URL = os.environ.get("HONGMAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def make_ids(kind: str, n: int) -> list[str]:
    start_ms = 1_750_000_000_000
    if kind == "ordered":
        return [f"{start_ms + k // 30:012x}{os.urandom(8).hex()}" for k in range(n)]
    return [os.urandom(14).hex() for _ in range(n)]


def fill(engine: sa.Engine, ids: list[str], batch: int) -> list[float]:
    """Insert ``ids`` batch by batch, one transaction each; the seconds of each batch."""
    took = []
    for seq, start in enumerate(range(0, len(ids), batch), 1):
        chunk = ids[start : start + batch]
        t0 = time.perf_counter()
        with engine.begin() as conn:
            catalog.insert_ids(conn, chunk, seq)
        took.append(time.perf_counter() - t0)
    return took


def report(name: str, kind: str, took: list[float], batch: int, n: int, size: int) -> None:
    tenth = max(1, len(took) // 10)
    first = sum(took[:tenth]) / (tenth * batch) * 1e6
    last = sum(took[-tenth:]) / (tenth * batch) * 1e6
    print(
        f"{name:<10} {kind:<8} {n:>11,} ids {size / n:7.1f} bytes/id  first tenth {first:6.2f} µs/id  "
        f"last tenth {last:6.2f} µs/id  total {sum(took):6.1f} s",
        flush=True,
    )


def sqlite_run(kind: str, ids: list[str], batch: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="hongmao-catalog-ids-"))
    try:
        engine = catalog.create_engine(f"sqlite:///{tmp / 'catalog.sqlite'}")
        catalog.metadata.create_all(engine, tables=[catalog.event_ids])
        took = fill(engine, ids, batch)
        engine.dispose()
        size = sum(p.stat().st_size for p in tmp.iterdir())
        report("sqlite", kind, took, batch, len(ids), size)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def postgres_run(kind: str, ids: list[str], batch: int) -> None:
    schema = f"bench_ids_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        engine = sa.create_engine(PG_URL, connect_args={"options": f"-c search_path={schema}"})
        catalog.metadata.create_all(engine, tables=[catalog.event_ids])
        took = fill(engine, ids, batch)
        with engine.connect() as conn:
            size = conn.execute(sa.text("SELECT pg_total_relation_size('event_ids')")).scalar_one()
        engine.dispose()
        report("postgresql", kind, took, batch, len(ids), int(size))
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ids", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=50_000, help="ids per transaction (the ingest batch size)")
    args = parser.parse_args()
    try:
        with sa.create_engine(PG_URL).connect():
            postgres = True
    except sa.exc.SQLAlchemyError as error:
        print(f"PostgreSQL not reachable ({type(error).__name__}): SQLite only")
        postgres = False
    for kind in ("ordered", "random"):
        ids = make_ids(kind, args.ids)
        sqlite_run(kind, ids, args.batch)
        if postgres:
            postgres_run(kind, ids, args.batch)


if __name__ == "__main__":
    main()
