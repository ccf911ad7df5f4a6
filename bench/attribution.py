"""Benchmark: attribute 50 million touchpoints and 1 million orders, against a bare DuckDB window join.

    python bench/attribution.py [--touches 50000000] [--orders 1000000] [--out bench/out/attribution]

The data is generated here by DuckDB straight into lake-format Parquet segments (nothing is committed).
Each measured step runs in its own subprocess so its peak memory (max RSS) is its own:
  - hongmao attribute, model last and linear (the engine's Ibis expressions on DuckDB);
  - the floor: one hand-written DuckDB SQL window join of the same rows (orders x touches of the same person
    and brand inside 15 days, rank touches per order, credit the last one per note) — the least work any
    correct last-touch attribution must do.
Figures go to docs/benchmarks.md by hand, with the command.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

GEN_SQL = """
COPY (
  WITH base AS (SELECT range AS i FROM range({touches}))
  SELECT
    'tp' || i AS id,
    CASE WHEN i % 10 < 5 THEN 'note.impression' WHEN i % 10 < 8 THEN 'note.read'
         WHEN i % 10 < 9 THEN 'note.like' ELSE 'note.collect' END AS type,
    'community' AS source,
    TIMESTAMPTZ '2025-06-01 00:00:00+00' + to_seconds(hash(i, 1) % (60 * 86400)) AS time,
    lpad(printf('%x', (i % {users})), 32, '0') AS "user",
    -- each person mostly reads notes of the brand they will buy (brand = person % brands)
    'n' || (((i % {users}) % {brands}) + {brands} * (hash(i, 2) % ({notes} // {brands}))) AS note_id,
    NULL::VARCHAR AS creator_id, NULL::VARCHAR AS brand, NULL::VARCHAR AS item_id, NULL::VARCHAR AS store_id,
    NULL::VARCHAR AS category, NULL::VARCHAR AS link_id, NULL::VARCHAR AS click_id, NULL::VARCHAR AS order_id,
    NULL::VARCHAR AS campaign_id, NULL::VARCHAR AS query, NULL::DOUBLE AS amount, NULL::BIGINT AS quantity,
    CASE WHEN i % 10 BETWEEN 5 AND 7 THEN (hash(i, 3) % 60000)::BIGINT END AS dwell_ms,
    NULL::BIGINT AS rating, NULL::BOOLEAN AS bot, '{{}}' AS data
  FROM base
) TO '{out}/seg-touches.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000);

COPY (
  WITH o AS (SELECT range AS i FROM range({orders}))
  SELECT 'ord' || i AS id, 'market.order' AS type, 'market:tmall' AS source,
    TIMESTAMPTZ '2025-06-15 00:00:00+00' + to_seconds(hash(i, 4) % (46 * 86400)) AS time,
    lpad(printf('%x', (i % {users})), 32, '0') AS "user",
    NULL::VARCHAR AS note_id, NULL::VARCHAR AS creator_id, NULL::VARCHAR AS brand,
    'item' || ((i % {users}) % {brands}) AS item_id, NULL::VARCHAR AS store_id, NULL::VARCHAR AS category,
    NULL::VARCHAR AS link_id, NULL::VARCHAR AS click_id, 'o' || i AS order_id, NULL::VARCHAR AS campaign_id,
    NULL::VARCHAR AS query, (10 + hash(i, 5) % 500)::DOUBLE AS amount, 1::BIGINT AS quantity,
    NULL::BIGINT AS dwell_ms, NULL::BIGINT AS rating, NULL::BOOLEAN AS bot, '{{}}' AS data
  FROM o
  UNION ALL
  SELECT 'note' || i, 'note.published', 'community', TIMESTAMPTZ '2025-05-01 00:00:00+00', NULL,
    'n' || i, 'c' || (i % 5000), 'brand' || (i % {brands}), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, '{{}}'
  FROM range({notes}) t(i)
  UNION ALL
  SELECT 'it' || i, 'item.listed', 'market:tmall', TIMESTAMPTZ '2025-05-01 00:00:00+00', NULL, NULL, NULL,
    'brand' || i, 'item' || i, 's' || i, 'cat' || (i % 5), NULL, NULL, NULL, NULL, NULL, 100.0, NULL, NULL,
    NULL, NULL, '{{}}'
  FROM range({brands}) t(i)
) TO '{out}/seg-market.parquet' (FORMAT parquet, COMPRESSION zstd);
"""

FLOOR_SQL = """
WITH ev AS (SELECT * FROM read_parquet({files})),
notes AS (SELECT note_id, max(brand) AS brand FROM ev WHERE type = 'note.published' GROUP BY note_id),
items AS (SELECT item_id, max(brand) AS brand FROM ev WHERE type = 'item.listed' GROUP BY item_id),
o AS (SELECT e.order_id, e."user", epoch(e.time) AS ct, e.amount, i.brand
      FROM ev e JOIN items i USING (item_id) WHERE e.type = 'market.order'),
t AS (SELECT e.id, e."user", epoch(e.time) AS tt, e.note_id, n.brand,
             CASE WHEN e.type = 'note.impression' THEN 86400 ELSE 15 * 86400 END AS win
      FROM ev e JOIN notes n USING (note_id)
      WHERE e.type IN ('note.impression', 'note.read', 'note.like', 'note.collect')),
j AS (SELECT o.order_id, o.amount, t.note_id, t.id, t.tt,
             row_number() OVER (PARTITION BY o.order_id ORDER BY t.tt DESC, t.id DESC) AS r
      FROM o JOIN t ON o."user" = t."user" AND o.brand = t.brand AND t.tt <= o.ct AND t.tt >= o.ct - t.win)
SELECT note_id AS key, count(*) AS orders, sum(amount) AS gmv FROM j WHERE r = 1 GROUP BY note_id
"""


def child(argv: list[str]) -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"step {argv} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = elapsed
    return result


def run_step(step: str, out: Path) -> None:
    files = sorted(str(p) for p in out.glob("seg-*.parquet"))
    start = time.perf_counter()
    if step == "floor":
        import duckdb

        con = duckdb.connect()
        con.execute("SET memory_limit = '3GB'")
        con.execute("SET preserve_insertion_order = false")
        rows = con.execute(FLOOR_SQL.format(files=json.dumps(files).replace('"', "'"))).fetchall()
        total = sum(r[1] for r in rows)
    else:
        from hongmao.engine import attribute_segments

        res = attribute_segments([Path(f) for f in files], model=step, by="note")
        total = res.total_orders
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "attributed_orders": total}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--touches", type=int, default=50_000_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out/attribution"))
    parser.add_argument("--reuse", action="store_true", help="Keep segments already generated in --out.")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        run_step(args.step, args.out)
        return
    import duckdb

    args.out.mkdir(parents=True, exist_ok=True)
    users, brands, notes = args.orders, 20, 100_000
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    if args.reuse and (args.out / "seg-touches.parquet").exists():
        print(f"reusing the segments in {args.out}")
    else:
        sql = GEN_SQL.format(
            touches=args.touches, orders=args.orders, users=users, brands=brands, notes=notes, out=args.out
        )
        con.execute(sql)
        took = time.perf_counter() - start
        print(f"generated {args.touches:,} touchpoints and {args.orders:,} orders in {took:.1f} s")
    results = {step: child(["--out", str(args.out), "--step", step]) for step in ("floor", "last", "linear")}
    floor = results["floor"]["seconds"]
    print(f"{'step':<8} {'seconds':>9} {'x floor':>8} {'peak MB':>9} {'attributed':>11}")
    for step, r in results.items():
        print(
            f"{step:<8} {r['seconds']:>9.1f} {r['seconds'] / floor:>8.2f} {r['peak_mb']:>9.0f} "
            f"{r['attributed_orders']:>11,.0f}"
        )


if __name__ == "__main__":
    main()
