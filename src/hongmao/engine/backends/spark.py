"""Spark: a local Spark (``engine=spark``, ``local[N]``) or a remote cluster through Spark Connect
(``engine=sc://HOST:PORT``), reading the same Parquet segments the catalog lists.

PySpark is an optional extra (``pip install 'hongmao[spark]'``) and needs Java 17. The local Spark session is
the JVM's own singleton: the first :class:`~hongmao.engine.session.Session` starts it (its static settings —
cores, driver memory — are fixed from then on) and later sessions share it; nothing stops it but the process's
end. Every session runs in UTC: Spark renders and parses timestamps in the session time zone, and the lake's
timestamps are UTC instants.

Results come back as Arrow (``DataFrame.toArrow``), not through pandas as Ibis's own PySpark backend does:
decimals and UTC timestamps arrive exactly as typed, and nothing depends on the pandas version's conversions.
Queries compile with Ibis's PySpark compiler plus the rules it lacks for the engine's expressions (JSON as
VARIANT, ordered ``collect``, ``mode``, epoch seconds with their fraction; :func:`_compiler_class`), so the
engine's code is the same on every backend.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hongmao.engine.backends import Backend, EngineOptions

if TYPE_CHECKING:
    from ibis import BaseBackend
    from ibis.expr.types import Table

#: Settings of a local Spark: one machine, so few shuffle partitions (Spark's default of 200 makes every
#: small group-by 200 tasks), no web UI or console progress bar, the driver bound to loopback (a local engine
#: listens on no outside interface), and UTC.
LOCAL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.adaptive.enabled": "true",
    # The JVM's own default time zone too, so nothing in the JVM renders a local time.
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}
#: Runtime settings of every session, local or remote (Spark Connect accepts only runtime settings).
SESSION_CONF = {"spark.sql.session.timeZone": "UTC"}
LOG_LEVEL = "ERROR"


def _spark_session(options: EngineOptions) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        from hongmao.errors import ConfigError

        raise ConfigError("the spark engine needs PySpark: pip install 'hongmao[spark]' (and Java 17)") from error
    if options.remote:
        # A session of its own (getOrCreate would hand back the process's first remote session, whatever its
        # address); disconnect releases it on the server.
        session = SparkSession.builder.remote(options.remote).create()
        for key, value in SESSION_CONF.items():
            session.conf.set(key, value)
        return session
    cores = options.threads or os.cpu_count() or 2
    builder = SparkSession.builder.master(f"local[{cores}]").appName("hongmao")
    conf = {**LOCAL_CONF, "spark.sql.shuffle.partitions": str(max(2, cores * 2))}
    if options.memory_limit:
        conf["spark.driver.memory"] = _jvm_size(options.memory_limit)
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(LOG_LEVEL)
    for key, value in SESSION_CONF.items():
        session.conf.set(key, value)
    return session


def _jvm_size(limit: str) -> str:
    """``3GB`` / ``512MB`` / ``1.5GiB`` as the JVM's ``3072m`` / ``512m`` / ``1536m``."""
    from hongmao.errors import ConfigError

    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT])i?B", limit.strip(), flags=re.IGNORECASE)
    if not found:
        raise ConfigError(f"engine memory limit {limit!r} is not a size like 3GB or 512MB")
    number, unit = float(found.group(1)), found.group(2).upper()
    kib = number * 1024 ** "KMGT".index(unit)
    return f"{max(1, round(kib / 1024))}m"


#: JSON as Spark's own VARIANT: (Ibis unwrap operation, the value types schema_of_variant names, the Spark type).
JSON_UNWRAPS = {
    "UnwrapJSONString": (("STRING",), "string"),
    "UnwrapJSONBoolean": (("BOOLEAN",), "boolean"),
    "UnwrapJSONInt64": (("BIGINT", "INT", "SMALLINT", "TINYINT"), "bigint"),
    "UnwrapJSONFloat64": (("DOUBLE", "FLOAT", "BIGINT", "INT", "SMALLINT", "TINYINT"), "double"),
}


@functools.cache
def _compiler_class() -> type:
    """Ibis's PySpark compiler with JSON done natively, as Spark 4's VARIANT, and ordered ``collect`` and ``mode``
    (for which Ibis 12 has no Spark rule).

    Ibis 12 reads a JSON field with ``get_json_object`` (which unquotes strings) and then unwraps it with a
    pandas UDF that parses the value again as JSON: ``data["reason"].str`` fails on every string, needs Python
    workers with Ibis installed, and has no rule at all for a JSON array (``.array``). Here a string cast to
    JSON is parsed once (``try_parse_json``: text that is not JSON is null, as in DuckDB), a field is
    ``variant_get``, an unwrap checks the value's type as DuckDB's does (a number is not a string), and an array
    is an array of variants that ``unnest`` explodes: every JSON expression of the engine runs in the JVM.
    """
    import ibis.expr.datatypes as dt
    import ibis.expr.operations as ops
    import sqlglot as sg
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.base import NULL
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    def unwrap(kinds: tuple[str, ...], spark_type: str) -> Any:
        def visit(self: Any, op: Any, *, arg: Any) -> Any:
            kind = self.f.schema_of_variant(arg)
            matches = sge.In(this=kind, expressions=[sge.convert(k) for k in kinds])
            return self.if_(matches, self.f.variant_get(arg, sge.convert("$"), sge.convert(spark_type)), NULL)

        return visit

    class HongmaoSparkCompiler(PySparkCompiler):  # type: ignore[misc]
        # Ibis's table sends the unwraps to its UDFs; without them here, the visit methods set below apply.
        SIMPLE_OPS: ClassVar[dict[Any, str]] = {
            op: fn for op, fn in PySparkCompiler.SIMPLE_OPS.items() if op.__name__ not in JSON_UNWRAPS
        }

        def visit_Cast(self, op: Any, *, arg: Any, to: Any) -> Any:
            if to.is_json() and op.arg.dtype.is_string():
                return self.f.try_parse_json(arg)
            return super().visit_Cast(op, arg=arg, to=to)

        def visit_JSONGetItem(self, op: Any, *, arg: Any, index: Any) -> Any:
            if not isinstance(op.index, ops.Literal):
                raise NotImplementedError("a JSON field named by an expression, not a constant")
            key = op.index.value
            path = f"$[{int(key)}]" if op.index.dtype.is_integer() else "$." + str(key)
            return self.f.variant_get(arg, sge.convert(path), sge.convert("variant"))

        def visit_ToJSONArray(self, op: Any, *, arg: Any) -> Any:
            return self.f.try_variant_get(arg, sge.convert("$"), sge.convert("array<variant>"))

        def visit_ArrayCollect(
            self, op: Any, *, arg: Any, where: Any, order_by: Any, include_null: bool, distinct: bool
        ) -> Any:
            """``collect(order_by=...)``, which Spark SQL has no syntax for: the values collected as structs
            led by their sort keys, sorted, and the values taken back out (Ibis raises on it)."""
            if not order_by or include_null:
                return super().visit_ArrayCollect(
                    op, arg=arg, where=where, order_by=order_by, include_null=include_null, distinct=distinct
                )
            if any(key.args.get("desc") for key in order_by):
                raise NotImplementedError("collect ordered descending")
            keep = arg.is_(sge.not_(NULL)) if where is None else sg.and_(where, arg.is_(sge.not_(NULL)))
            if distinct:  # ordered by the collected column itself (Ibis allows nothing else)
                return self.f.array_sort(self.f.collect_set(self.if_(keep, arg, NULL)))
            fields: list[Any] = []
            for i, key in enumerate(order_by):
                fields += [sge.convert(f"k{i}"), key.this]
            row = self.f.named_struct(*fields, sge.convert("v"), arg)
            ordered = self.f.array_sort(self.f.collect_list(self.if_(keep, row, NULL)))
            value = sge.Lambda(this=sg.column("v", table="s"), expressions=[sg.to_identifier("s")])
            return self.f.transform(ordered, value)

        def visit_ExtractEpochSeconds(self, op: Any, *, arg: Any) -> Any:
            # Seconds since 1970-01-01 UTC with their fraction, as the DuckDB backend's ``epoch`` gives them
            # (Ibis's ``unix_timestamp`` drops the fraction, so touches within one second would tie).
            return self.f.unix_micros(self.cast(arg, dt.timestamp)) / sge.convert(1_000_000.0)

        def visit_Mode(self, op: Any, *, arg: Any, where: Any) -> Any:
            # Spark 4's deterministic mode: of values tied for most frequent, the least.
            if where is not None:
                arg = self.if_(where, arg, NULL)
            return self.f.mode(arg, sge.true())

    for name, (kinds, spark_type) in JSON_UNWRAPS.items():
        setattr(HongmaoSparkCompiler, f"visit_{name}", unwrap(kinds, spark_type))
    return HongmaoSparkCompiler


@functools.cache
def _backend_class() -> type:
    """Ibis's PySpark backend, reading results as Arrow and registering in-memory tables from Arrow.

    Built on first use: importing Ibis's PySpark backend imports PySpark, an optional extra.
    """
    import ibis
    import pyarrow as pa
    from ibis.backends.pyspark import Backend as IbisPySpark
    from ibis.formats.pyarrow import PyArrowData

    # Loading the backend by name registers its options (``ibis.options.pyspark``), which its compiler reads.
    ibis.load_backend("pyspark")

    class HongmaoSpark(IbisPySpark):  # type: ignore[misc]
        compiler = _compiler_class()()

        def to_pyarrow(
            self,
            expr: Any,
            /,
            *,
            params: Mapping[Any, Any] | None = None,
            limit: int | str | None = None,
            **kwargs: Any,
        ) -> Any:
            self._run_pre_execute_hooks(expr)
            table_expr = expr.as_table()
            sql = self.compile(table_expr, params=params, limit=limit, **kwargs)
            arrow: pa.Table = self._session.sql(sql).toArrow()
            table = PyArrowData.convert_table(arrow, table_expr.schema())
            return expr.__pyarrow_result__(table)

        def _register_in_memory_table(self, op: Any) -> None:
            from ibis.backends.pyspark.datatypes import PySparkSchema

            data = op.data.to_pyarrow(op.schema)
            frame = self._session.createDataFrame(data, schema=PySparkSchema.from_ibis(op.schema))
            frame.createOrReplaceTempView(op.name)

    return HongmaoSpark


def connect(options: EngineOptions) -> BaseBackend:
    return _backend_class()().connect(session=_spark_session(options))


def read_parquet(con: BaseBackend, paths: Sequence[Path]) -> Table:
    """The segments as one ``events`` table, typed and ordered as the session's ``EVENTS_SCHEMA``."""
    from ibis import util

    from hongmao.engine.schema import EVENTS_SCHEMA

    name = util.gen_name("events")
    _spark_of(con).read.parquet(*(str(p) for p in paths)).createOrReplaceTempView(name)
    table = con.table(name)
    # Segments written without a time zone on ``time`` read as TIMESTAMP_NTZ, and a column that is null in
    # every row of every segment may come back as another type: both are cast to the contract's types.
    return table.select(
        [
            table[column] if table.schema()[column] == dtype else table[column].cast(dtype).name(column)
            for column, dtype in EVENTS_SCHEMA.items()
        ]
    )


def disconnect(con: BaseBackend) -> None:
    """A Spark Connect session is released; the local Spark session is shared by the process and stays."""
    spark = _spark_of(con)
    if _is_remote(spark):
        spark.stop()


def _spark_of(con: BaseBackend) -> Any:
    """The Spark session an Ibis PySpark backend holds (its ``_session``, set when it connects)."""
    return vars(con)["_session"]


def _is_remote(spark: Any) -> bool:
    return type(spark).__module__.startswith("pyspark.sql.connect")


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
    # JSON arrays: as VARIANT (above). Single-file writes: Spark writes a directory of part files; the
    # session writes the Arrow result itself.
    capabilities=frozenset({"json_arrays", "exact_decimal_sums"}),
    errors=errors,
)
