"""Hand-written attribution queries that `bench/attribution.py` holds the engine against.

Each one credits the same orders as ``hongmao attribute --model last|linear --by note`` on the bench's data set
(note impressions inside 1 day, reads, likes and collects inside 15 days, the touch's note's brand equal to the
order's item's brand, ties in time broken by the larger touch id, as the engine orders them) and returns
``(rows, attributed_orders)`` with rows ``(key, orders, gmv)``. They leave out what the bench's data set does
not hold (link clicks and their click chain, community searches, refunds, category windows, a note or item
registered twice), so they are the least work a correct answer on this data needs.

Formulations (``FORMULATIONS``: name -> the models it answers):

- ``duckdb-range``: the floor of the stop before: one join whose condition holds each touch's own window, then
  a row number over every journey row;
- ``duckdb-eq``: an equality join on (person, brand) with the window applied after; last touch by an
  ``arg_max`` aggregate per order, linear by a count per order;
- ``duckdb-int``: the same with people and brands encoded as integers first (a dictionary of the buyers, so
  touches of people who never bought drop out before the join);
- ``polars-eq`` / ``polars-int``: the same two in Polars' lazy API;
- ``spark-eq``: the equality join in Spark SQL (local[2]); only when PySpark and Java are installed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Rows = list[tuple[str, float, float]]
IMPRESSION_S = 86_400
OTHER_S = 15 * 86_400
TOUCH_TYPES = ("note.impression", "note.read", "note.like", "note.collect")

FORMULATIONS: dict[str, tuple[str, ...]] = {
    "duckdb-range": ("last",),
    "duckdb-eq": ("last", "linear"),
    "duckdb-int": ("last", "linear"),
    "polars-eq": ("last", "linear"),
    "polars-int": ("last", "linear"),
    "spark-eq": ("last", "linear"),
}

_TYPES_SQL = ", ".join(f"'{t}'" for t in TOUCH_TYPES)

_BASE_SQL = """
CREATE TEMP VIEW ev AS SELECT * FROM read_parquet({files});
CREATE TEMP VIEW notes AS SELECT note_id, max(brand) AS brand FROM ev WHERE type = 'note.published' GROUP BY note_id;
CREATE TEMP VIEW items AS SELECT item_id, max(brand) AS brand FROM ev WHERE type = 'item.listed' GROUP BY item_id;
"""

_RANGE_SQL = f"""
WITH o AS (SELECT e.order_id, e."user", epoch(e.time) AS ct, e.amount, i.brand
           FROM ev e JOIN items i USING (item_id) WHERE e.type = 'market.order'),
t AS (SELECT e.id, e."user", epoch(e.time) AS tt, e.note_id, n.brand,
             CASE WHEN e.type = 'note.impression' THEN {IMPRESSION_S} ELSE {OTHER_S} END AS win
      FROM ev e JOIN notes n USING (note_id) WHERE e.type IN ({_TYPES_SQL})),
j AS (SELECT o.order_id, o.amount, t.note_id,
             row_number() OVER (PARTITION BY o.order_id ORDER BY t.tt DESC, t.id DESC) AS r
      FROM o JOIN t ON o."user" = t."user" AND o.brand = t.brand AND t.tt <= o.ct AND t.tt >= o.ct - t.win)
SELECT note_id, count(*)::DOUBLE, sum(amount) FROM j WHERE r = 1 GROUP BY note_id
"""

# The journeys: every (order, touch) pair of the same person and brand inside the touch's window.
_EQ_JOURNEYS = f"""
o AS (SELECT e.order_id, e."user" AS person, epoch(e.time) AS ct, e.amount, i.brand
      FROM ev e JOIN items i USING (item_id) WHERE e.type = 'market.order'),
t AS (SELECT e.id, e."user" AS person, epoch(e.time) AS tt, e.note_id, n.brand, e.type = 'note.impression' AS imp
      FROM ev e JOIN notes n USING (note_id) WHERE e.type IN ({_TYPES_SQL})),
j AS (SELECT o.order_id, o.amount, t.note_id, t.id, t.tt
      FROM o JOIN t ON o.person = t.person AND o.brand = t.brand
      WHERE t.tt <= o.ct AND o.ct - t.tt <= CASE WHEN t.imp THEN {IMPRESSION_S} ELSE {OTHER_S} END)
"""

# People and brands as integers: a dictionary of the buyers (touches of people who never bought cannot be
# credited, so the dictionary join drops them) and one of the brands.
_INT_JOURNEYS = f"""
people AS (SELECT "user", row_number() OVER () AS pid
           FROM (SELECT DISTINCT "user" FROM ev WHERE type = 'market.order' AND "user" IS NOT NULL)),
brands AS (SELECT brand, row_number() OVER () AS bid FROM (SELECT DISTINCT brand FROM items WHERE brand IS NOT NULL)),
o AS (SELECT e.order_id, p.pid, epoch(e.time) AS ct, e.amount, b.bid
      FROM ev e JOIN people p USING ("user") JOIN items i USING (item_id) JOIN brands b ON b.brand = i.brand
      WHERE e.type = 'market.order'),
t AS (SELECT e.id, p.pid, epoch(e.time) AS tt, e.note_id, b.bid, e.type = 'note.impression' AS imp
      FROM ev e JOIN people p USING ("user") JOIN notes n USING (note_id) JOIN brands b ON b.brand = n.brand
      WHERE e.type IN ({_TYPES_SQL})),
j AS (SELECT o.order_id, o.amount, t.note_id, t.id, t.tt
      FROM o JOIN t ON o.pid = t.pid AND o.bid = t.bid
      WHERE t.tt <= o.ct AND o.ct - t.tt <= CASE WHEN t.imp THEN {IMPRESSION_S} ELSE {OTHER_S} END)
"""

_LAST = """
w AS (SELECT order_id, any_value(amount) AS amount, arg_max(note_id, (tt, id)) AS note_id FROM j GROUP BY order_id)
SELECT note_id, count(*)::DOUBLE, sum(amount) FROM w GROUP BY note_id
"""

_LINEAR = """
w AS (SELECT note_id, amount, count(*) OVER (PARTITION BY order_id) AS n FROM j)
SELECT note_id, sum(1.0 / n), sum(amount / n) FROM w GROUP BY note_id
"""


def duckdb_sql(formulation: str, model: str) -> str:
    if formulation == "duckdb-range":
        return _RANGE_SQL
    journeys = _EQ_JOURNEYS if formulation == "duckdb-eq" else _INT_JOURNEYS
    return "WITH " + journeys + ", " + (_LAST if model == "last" else _LINEAR)


def run_duckdb(formulation: str, model: str, files: Sequence[str], threads: int, memory: str) -> Rows:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}; SET memory_limit = '{memory}'; SET preserve_insertion_order = false")
    con.execute(_BASE_SQL.format(files=json.dumps(list(files)).replace('"', "'")))
    rows: Rows = con.execute(duckdb_sql(formulation, model)).fetchall()
    return rows


def run_polars(formulation: str, model: str, files: Sequence[str]) -> Rows:
    import polars as pl

    ev = pl.scan_parquet(list(files))
    notes = ev.filter(pl.col("type") == "note.published").group_by("note_id").agg(pl.col("brand").max())
    items = ev.filter(pl.col("type") == "item.listed").group_by("item_id").agg(pl.col("brand").max())
    o = (
        ev.filter(pl.col("type") == "market.order")
        .select("order_id", "user", "item_id", "amount", ct=pl.col("time").dt.epoch("s"))
        .join(items, on="item_id")
        .drop("item_id")
    )
    t = (
        ev.filter(pl.col("type").is_in(TOUCH_TYPES))
        .select(
            "id",
            "user",
            "note_id",
            tt=pl.col("time").dt.epoch("s"),
            win=pl.when(pl.col("type") == "note.impression").then(IMPRESSION_S).otherwise(OTHER_S),
        )
        .join(notes, on="note_id")
    )
    if formulation == "polars-int":
        # One integer key per (person, brand); brand ids stay under 2**20.
        people = o.select("user").unique().with_row_index("pid")
        brands = items.select("brand").unique().with_row_index("bid")
        key = (pl.col("pid").cast(pl.Int64) * 2**20 + pl.col("bid")).alias("k")
        o = o.join(people, on="user").join(brands, on="brand").select(pl.exclude("user", "brand", "pid", "bid"), key)
        t = t.join(people, on="user").join(brands, on="brand").select(pl.exclude("user", "brand", "pid", "bid"), key)
        j = o.join(t, on="k")
    else:
        # Polars 2.1 ran out of memory on a join on (user, brand) together; the brand check follows the join.
        j = o.join(t, on="user").filter(pl.col("brand") == pl.col("brand_right"))
    age = pl.col("ct") - pl.col("tt")
    j = j.filter((age >= 0) & (age <= pl.col("win"))).select("order_id", "amount", "note_id", "id", "tt")
    if model == "last":
        per_order = j.group_by("order_id").agg(pl.col("amount").first(), pl.col("note_id").sort_by(["tt", "id"]).last())
        out = per_order.group_by("note_id").agg(pl.len().cast(pl.Float64).alias("orders"), pl.col("amount").sum())
    else:
        j = j.with_columns(n=pl.len().over("order_id").cast(pl.Float64))
        share = 1.0 / pl.col("n")
        out = j.group_by("note_id").agg(share.sum().alias("orders"), (pl.col("amount") * share).sum())
    frame = out.collect(engine="streaming")
    return [(k, float(a), float(g)) for k, a, g in frame.iter_rows()]


def spark_session(threads: int) -> Any:
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(f"local[{threads}]")
        .appName("hongmao-bench")
        .config("spark.driver.memory", "3g")
        .config("spark.sql.shuffle.partitions", str(threads * 4))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def run_spark(spark: Any, model: str, files: Sequence[str]) -> Rows:
    spark.read.parquet(*files).createOrReplaceTempView("ev")
    spark.sql(
        "SELECT note_id, max(brand) AS brand FROM ev WHERE type = 'note.published' GROUP BY note_id"
    ).createOrReplaceTempView("notes")
    spark.sql(
        "SELECT item_id, max(brand) AS brand FROM ev WHERE type = 'item.listed' GROUP BY item_id"
    ).createOrReplaceTempView("items")
    journeys = _EQ_JOURNEYS.replace("epoch(", "unix_timestamp(").replace('"user"', "`user`")
    if model == "last":
        tail = """
w AS (SELECT order_id, first(amount) AS amount, max_by(note_id, struct(tt, id)) AS note_id FROM j GROUP BY order_id)
SELECT note_id, CAST(count(*) AS DOUBLE), sum(amount) FROM w GROUP BY note_id
"""
    else:
        tail = _LINEAR
    result = spark.sql("WITH " + journeys + ", " + tail).collect()
    return [(r[0], float(r[1]), float(r[2])) for r in result]
