"""The same warehouse on Apache Spark: raw, staging and marts as Parquet tables in a folder.

The models are the ones the DuckDB build runs (:mod:`crmkit.warehouse.sql`,
:mod:`crmkit.warehouse.direct`), translated statement by statement by
:func:`crmkit.warehouse.dialect.to_spark`; there is no second copy of any of
them. Spark runs in local mode by default (``local[2]``); its session time zone
is pinned to UTC, as DuckDB's is. Java 17 or newer must be installed:
:func:`check_java` says how when it is not.

Layout of the warehouse folder: ``<schema>.db/<table>/`` (Parquet, one folder per
table: raw, staging, quarantine, meta and marts), as Spark's own catalog writes
it; :func:`open_session` registers them again in a new session, with the views.

This first version loads datasets (``--data``); source extracts (``--from``)
still need the DuckDB engine.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ..errors import DatasetError, ParameterError
from .dialect import statements, target, to_spark
from .sql import MARTS, META_DDL, SCHEMAS, STAGING_DDL, STAGING_UPGRADE, STAGING_VIEWS

__all__ = ["check_java", "session", "open_session", "opened", "build_spark", "run_spark_data_tests",
           "spark_table", "DEFAULT_MASTER", "JAVA_HINT"]

#: Where Spark runs when no --master is given: this machine, two worker threads.
DEFAULT_MASTER = "local[2]"
#: How to install the Java runtime Spark needs.
JAVA_HINT = ("install a Java 17 runtime, e.g. `sudo apt-get install -y "
             "openjdk-17-jre-headless` (Debian/Ubuntu), `brew install openjdk@17` (macOS) "
             "or `conda install -c conda-forge openjdk=17`, and make sure `java` is on "
             "PATH or JAVA_HOME points at it")
_MASTER_RE = re.compile(r"^(local(\[(\d+|\*)\])?|spark://[A-Za-z0-9.\-]+(:\d+)?"
                        r"|yarn|k8s://\S+)$")


def check_java() -> int:
    """The major version of the Java that Spark would use; a clear error when there is
    none or it is older than 17."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else (shutil.which("java") or "")
    if not java or not Path(java).exists():
        raise DatasetError(f"the Spark engine needs Java 17 or newer and none was found; "
                           f"{JAVA_HINT}.")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True,
                             timeout=60).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatasetError(f"{java} -version failed ({exc}); {JAVA_HINT}.") from None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(m.group(1)) if m else 0
    if major == 1 and m.group(2):  # "1.8.0" is Java 8
        major = int(m.group(2))
    if major < 17:
        raise DatasetError(f"the Spark engine needs Java 17 or newer; {java} is Java "
                           f"{major or 'of an unknown version'}; {JAVA_HINT}.")
    return major


def session(warehouse_dir, *, master: str = DEFAULT_MASTER):
    """A Spark session writing tables under ``warehouse_dir`` (time zone UTC)."""
    if not isinstance(master, str) or not _MASTER_RE.match(master):
        raise ParameterError(f"master={master!r} is not a Spark master; write local[2], "
                             "local[*], spark://host:7077, yarn or k8s://...")
    check_java()
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DatasetError("the Spark engine needs PySpark; install it with "
                           "`pip install crmkit[spark]`.") from None
    return (SparkSession.builder.master(master).appName("crmkit-warehouse")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.warehouse.dir", str(Path(warehouse_dir).resolve()))
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.ansi.enabled", "false")
            .getOrCreate())


def _run(spark, sql: str, **values):
    """Run one model statement (DuckDB text) on Spark; return the last result."""
    result = None
    for stmt in to_spark(sql):
        args = {k: v for k, v in values.items() if re.search(rf":{k}\b", stmt)}
        result = spark.sql(stmt, args=args or None)
    return result


def _reset(spark) -> None:
    for s in SCHEMAS:
        spark.sql(f"DROP DATABASE IF EXISTS {s} CASCADE")
        spark.sql(f"CREATE DATABASE {s}")


def _arrow_type(sql_type: str):
    return {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "VARCHAR": pa.string(),
            "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us"), "DATE": pa.date32(),
            "INTEGER": pa.int32()}[sql_type]


def _raw_frame(spark, ds, name: str, batch_id: str, now):
    """One dataset table with the raw columns (``_batch_id``, ``_file``, ``_line``,
    ``_loaded_at``) as a Spark DataFrame, typed as DuckDB's raw table."""
    from ..dataset.schema import SCHEMA
    from .direct import _SQL_TYPE

    cols = SCHEMA[name].columns
    df = ds.data.tables[name][[c.name for c in cols]].copy()
    df["_batch_id"], df["_file"] = batch_id, ds.files[name]
    df["_line"], df["_loaded_at"] = ds.lines[name], pd.Timestamp(now)
    schema = pa.schema([(c.name, _arrow_type(_SQL_TYPE[c.dtype])) for c in cols]
                       + [("_batch_id", pa.string()), ("_file", pa.string()),
                          ("_line", pa.int64()), ("_loaded_at", pa.timestamp("us"))])
    arrays = []
    for field in schema:
        s = df[field.name]
        if pa.types.is_date32(field.type):
            s = pd.to_datetime(s).dt.date
        arrays.append(pa.array(s.astype(object).where(s.notna(), None).tolist(),
                               type=field.type))
    return spark.createDataFrame(pa.Table.from_arrays(arrays, schema=schema).to_pandas(
        types_mapper=None, date_as_object=True), schema=_spark_schema(schema))


def _spark_schema(schema: pa.Schema):
    from pyspark.sql import types as T

    m = {pa.int64(): T.LongType(), pa.float64(): T.DoubleType(), pa.string(): T.StringType(),
         pa.bool_(): T.BooleanType(), pa.timestamp("us"): T.TimestampType(),
         pa.date32(): T.DateType(), pa.int32(): T.IntegerType()}
    return T.StructType([T.StructField(f.name, m[f.type], True) for f in schema])


def build_spark(data, out, *, master: str = DEFAULT_MASTER) -> Path:
    """Build the warehouse of a dataset (a :class:`CRMData` or its folder) with Spark into the
    folder ``out`` (replaced only when the build is complete). Returns ``out``."""
    from ..dataset.crmdata import CRMData
    from .direct import is_dataset_folder, read_dataset

    out = Path(out)
    if not (isinstance(data, CRMData) or is_dataset_folder(data)):
        raise DatasetError(f"{str(data)!r} is not a dataset folder; the Spark engine loads "
                           "datasets (--data DIR). Build from source extracts with the "
                           "DuckDB engine.")
    if out.exists() and not (out / "meta.db").is_dir():
        raise DatasetError(f"{str(out)!r} exists and is not a Spark warehouse folder; give "
                           "a new folder.")
    ds = read_dataset(data)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    spark = session(tmp, master=master)
    try:
        _reset(spark)
        for ddl in statements(META_DDL) + statements(STAGING_DDL) + [
                u for u in statements(STAGING_UPGRADE) if target(u)]:  # new tables only
            _run(spark, ddl)
        _load(spark, ds)
        _rebuild_marts(spark)
        _write_schemas(spark, tmp)
    except BaseException:
        spark.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    spark.stop()  # its catalog knows the temporary folder; open_session starts afresh
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


#: Each table folder keeps its schema here (Spark skips files starting with "_"), so an
#: empty table (no Parquet file) opens with its columns.
SCHEMA_FILE = "_schema.json"


def _write_schemas(spark, out: Path) -> None:
    for s in SCHEMAS:
        for t in spark.catalog.listTables(s):
            if t.tableType != "VIEW" and not t.isTemporary:
                folder = out / f"{s}.db" / t.name
                folder.mkdir(parents=True, exist_ok=True)
                (folder / SCHEMA_FILE).write_text(spark.table(f"{s}.{t.name}").schema.json())


def _insert(spark, table: str, rows: list[tuple]) -> None:
    target = spark.table(table)
    spark.createDataFrame(rows, schema=target.schema).write.insertInto(table)


def _load(spark, ds) -> None:
    """Raw, staging, quarantine and the load report of one dataset (the first batch)."""
    from pyspark.sql import functions as F

    from .build import inferred_sql, reference_cities
    from .direct import ORDERS_CHECK, RAW_ONLY, STAGE

    batch_id, seq = ds.batch_id, 1
    now = datetime.now().replace(microsecond=0)
    system = str(ds.data.manifest.get("origin") or "dataset")
    _insert(spark, "staging.ref_city", [(c,) for c in reference_cities()])
    _insert(spark, "meta.shop", [(ds.data.currency,)])
    _insert(spark, "meta.batches", [(batch_id, seq, None, now, f"dataset {ds.data.shop_name}")])
    for name in ds.tables:
        _raw_frame(spark, ds, name, batch_id, now).write.mode("overwrite") \
            .format("parquet").saveAsTable(f"raw.{name}")
        file = ds.files[name]
        _insert(spark, "meta.files", [(batch_id, file, ds.digests.get(file)
                                       or ds.digests.get(name), ds.lines_in_file.get(name))])
    counts = {}
    for name in ds.tables:
        if name == "orders":
            continue
        if name in RAW_ONLY or name not in STAGE:
            counts[name] = (len(ds.data.tables[name]), 0, 0)
            continue
        if name == "order_lines" and "orders" not in ds.tables:
            continue
        table, sql = STAGE[name]
        typed = _run(spark, sql, batch=batch_id, seq=seq, system=system)
        if "_detail" not in typed.columns:
            typed = typed.withColumn("_detail", F.lit(None).cast("string"))
        typed.cache().createOrReplaceTempView("_typed")
        cols = spark.table(f"staging.{table}").columns
        ok = typed.where(F.col("_final_reason").isNull()).select(*[
            F.lit(batch_id).alias(c) if c == "batch_id" else
            F.lit(seq).cast("int").alias(c) if c == "batch_seq" else F.col(c) for c in cols])
        ok.write.insertInto(f"staging.{table}")
        _quarantine(spark, typed.where(F.col("_final_reason").isNotNull()), name, batch_id,
                    reason="_final_reason", detail="_detail", file_col="file")
        n_ok = typed.where(F.col("_final_reason").isNull()).count()
        n_bad = typed.where(F.col("_final_reason").isNotNull()).count()
        isql = inferred_sql(table, cols)
        inferred = int(_run(spark, isql, batch=batch_id).collect()[0][0]) if isql else 0
        counts[name] = (n_ok, n_bad, inferred)
        spark.catalog.uncacheTable("_typed")
    if "orders" in ds.tables:
        orders = _run(spark, ORDERS_CHECK, batch=batch_id).cache()
        bad = orders.where(F.col("reason").isNotNull()).withColumn(
            "file", F.lit(ds.files["orders"])).withColumn("_detail", F.lit(None).cast("string"))
        _quarantine(spark, bad, "orders", batch_id, reason="reason", detail="_detail",
                    file_col="file")
        counts["orders"] = (orders.where(F.col("reason").isNull()).count(),
                            orders.where(F.col("reason").isNotNull()).count(), 0)
    rows = []
    for name in ds.tables:
        read = len(ds.data.tables[name])
        loaded, held, inferred = counts.get(name, (read, 0, 0))
        rows.append((batch_id, ds.files[name], system, read, loaded, held,
                     ds.lines_in_file.get(name), read == loaded + held, inferred))
    _insert(spark, "meta.load_report", rows)


def _quarantine(spark, bad, raw: str, batch_id: str, *, reason: str, detail: str,
                file_col: str) -> None:
    """Rows that cannot be used, with the raw record as JSON, into quarantine.rows."""
    from pyspark.sql import functions as F

    r = spark.table(f"raw.{raw}").where(F.col("_batch_id") == batch_id)
    record = F.to_json(F.struct(*[F.col(f"r.`{c}`").alias(c) for c in r.columns]))
    joined = bad.alias("t").join(r.alias("r"), F.col("r._line") == F.col("t.line"), "inner")
    joined.select(F.lit(batch_id).alias("batch_id"), F.col(f"t.{file_col}").alias("file"),
                  F.col("t.line").cast("bigint").alias("line"),
                  F.col(f"t.{reason}").alias("reason"), F.col(f"t.{detail}").alias("detail"),
                  record.alias("record")).write.insertInto("quarantine.rows")


def _rebuild_marts(spark) -> None:
    from .build import money_unit

    _views(spark)
    unit = money_unit(spark.table("meta.shop").collect()[0][0])
    for sql in MARTS.values():
        _run(spark, sql, money_unit=unit)


def _views(spark) -> None:
    for sql in statements(STAGING_VIEWS):
        _run(spark, sql)


def open_session(out, *, master: str = DEFAULT_MASTER):
    """A Spark session on a warehouse folder written by :func:`build_spark`: every table
    registered again (from its Parquet folder) and the views defined."""
    out = Path(out)
    if not (out / "meta.db").is_dir():
        raise DatasetError(f"{str(out)!r} is not a Spark warehouse folder; build one with "
                           "`crmkit warehouse build OUT --engine spark --data DIR`.")
    from pyspark.sql.types import StructType

    spark = session(out, master=master)
    for s in SCHEMAS:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {s}")
        folder = out / f"{s}.db"
        for t in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
            if not spark.catalog.tableExists(f"{s}.{t.name}"):
                schema = StructType.fromJson(json.loads((t / SCHEMA_FILE).read_text()))
                spark.catalog.createTable(f"{s}.{t.name}", path=str(t.resolve()),
                                          source="parquet", schema=schema)
    _views(spark)
    for name, sql in MARTS.items():
        if name.startswith("marts.v_"):
            _run(spark, sql)
    return spark


def spark_table(spark, name: str) -> pd.DataFrame:
    """A table or view of the Spark warehouse as a pandas DataFrame."""
    return spark.table(name).toPandas()


def run_spark_data_tests(spark, *, tests=None) -> pd.DataFrame:
    """The warehouse's data tests (:data:`crmkit.warehouse.checks.DATA_TESTS`) on Spark."""
    from .checks import DATA_TESTS

    rows = []
    for t in DATA_TESTS if tests is None else tuple(tests):
        n = _run(spark, f"SELECT count(*) FROM ({t.sql})").collect()[0][0]
        rows.append({"test": t.name, "kind": t.kind, "table": t.table,
                     "status": "pass" if n == 0 else "fail", "failing_rows": int(n),
                     "sql": t.sql})
    return pd.DataFrame(rows, columns=["test", "kind", "table", "status", "failing_rows",
                                       "sql"])


@contextlib.contextmanager
def opened(out, *, master: str = DEFAULT_MASTER):
    """:func:`open_session` for a ``with`` block (the session is stopped afterwards)."""
    spark = open_session(out, master=master)
    try:
        yield spark
    finally:
        spark.stop()
