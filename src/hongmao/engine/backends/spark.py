"""Spark: a local Spark (``engine=spark``, ``local[*]``) or a remote cluster through Spark Connect
(``engine=sc://HOST:PORT``), reading the same Parquet segments the catalog lists.

PySpark is an optional extra (``pip install 'hongmao[spark]'``) and needs Java 17. The Spark session is the
JVM's own singleton: a :class:`~hongmao.engine.session.Session` wraps it and leaves it running for the next.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis

from hongmao.engine.backends import Backend, EngineOptions


def _spark_session(options: EngineOptions) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        from hongmao.errors import ConfigError

        raise ConfigError("the spark engine needs PySpark: pip install 'hongmao[spark]' (and Java 17)") from error
    if options.remote:
        return SparkSession.builder.remote(options.remote).getOrCreate()
    cores = options.threads or os.cpu_count() or 2
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("hongmao")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.ui.enabled", "false")
    )
    if options.memory_limit:
        builder = builder.config("spark.driver.memory", options.memory_limit.replace("B", "").lower())
    return builder.getOrCreate()


def connect(options: EngineOptions) -> Any:
    return ibis.pyspark.connect(session=_spark_session(options))


def read_parquet(con: Any, paths: Sequence[Path]) -> Any:
    return con.read_parquet([str(p) for p in paths])


def disconnect(con: Any) -> None:
    """The Spark session is shared by the process; nothing to close per engine session."""


def errors() -> tuple[type[BaseException], ...]:
    try:
        from pyspark.errors import PySparkException
    except ImportError:
        return ()
    return (PySparkException,)


BACKEND = Backend(
    name="spark",
    connect=connect,
    read_parquet=read_parquet,
    disconnect=disconnect,
    capabilities=frozenset({"exact_decimal_sums"}),
    errors=errors,
)
