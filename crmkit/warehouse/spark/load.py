"""One batch into the Spark warehouse: the steps every load shares, and a dataset's load.

The rules are those of the DuckDB build (:mod:`crmkit.warehouse.build`,
:mod:`crmkit.warehouse.direct`): each source's rows land in ``raw`` as read, the
same model statements type and check them, usable rows go to ``staging`` and
the others to ``quarantine.rows`` with their reason and raw record, and the load
report counts, per file, rows read = rows loaded + rows quarantined.
"""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from ...errors import DatasetError
from ..connection import load_clock
from ..dialect import to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from ..direct import Dataset

#: One row of a table, its values in the table's column order.
Row = tuple[Any, ...]

__all__ = ["run", "insert", "Ledger", "stage_rows", "quarantine_rows", "load_dataset"]


def run(spark: SparkSession, sql: str, **values: object) -> DataFrame:
    """Run one model statement (DuckDB text) on Spark; return the last result."""
    result = None
    for stmt in to_spark(sql):
        args = {k: v for k, v in values.items() if re.search(rf":{k}\b", stmt)}
        result = spark.sql(stmt, args=args or None)
    if result is None:
        raise ValueError(f"no statement to run in {sql!r}")
    return result


def insert(spark: SparkSession, table: str, rows: list[Row]) -> None:
    """Append ``rows`` (tuples in the table's column order) to ``table``."""
    if rows:
        target = spark.table(table)
        spark.createDataFrame(rows, schema=target.schema).write.insertInto(table)


class Ledger:
    """The bookkeeping rows of one build (``meta.batches``, ``meta.files``,
    ``meta.load_report``, ``meta.shop``) and the lines the reader rejected
    (``quarantine.rows``), kept until :meth:`write` appends each table once: one
    small Spark write per table instead of one per file and batch.

    >>> led = Ledger()
    >>> led.next_seq()
    1
    >>> led.add("meta.batches", ("b1", 1, None, None, "x"))
    >>> led.next_seq(), led.already_loaded("b2", {}, "folder")
    (2, False)
    """

    TABLES = ("meta.shop", "meta.batches", "meta.files", "meta.load_report", "quarantine.rows")

    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {t: [] for t in self.TABLES}

    def add(self, table: str, *rows: Row) -> None:
        """Rows (tuples in the table's column order) to append to ``table``."""
        self.rows[table].extend(rows)

    def next_seq(self) -> int:
        """The number the next batch gets (1 for the first)."""
        return 1 + max((int(r[1]) for r in self.rows["meta.batches"]), default=0)

    def currency(self) -> str | None:
        """The warehouse's currency, once a batch has set it."""
        shop = self.rows["meta.shop"]
        return str(shop[0][0]) if shop else None

    def already_loaded(self, batch_id: str, digests: dict[str, str], where: str | Path
                       ) -> bool:
        """Whether this batch is loaded already (with the same files); a batch id seen with
        other files is refused, as the DuckDB build does."""
        from ...dataset.extracts import MANIFEST_NAME

        known = {r[1]: r[2] for r in self.rows["meta.files"] if r[0] == batch_id}
        if not known:
            return False
        if known != digests:
            raise DatasetError(
                f"batch {batch_id!r} (from {str(where)!r}) was already loaded with different "
                "files; a warehouse never rewrites a batch. Give the new files a new batch_id "
                f"in {MANIFEST_NAME}.")
        return True

    def write(self, spark: SparkSession) -> None:
        """Append every kept row to its table (and forget them)."""
        for table, rows in self.rows.items():
            insert(spark, table, rows)
            rows.clear()


def stage_rows(spark: SparkSession, table: str, raw: str, sql: str, batch_id: str, seq: int,
               **params: object) -> tuple[int, int, int]:
    """Rows of ``sql`` (typed, with ``_final_reason``) into ``staging.<table>`` when usable,
    into quarantine (with the raw record) when not. Returns rows loaded, rows quarantined
    and rows loaded against an inferred member of a dimension."""
    from pyspark.sql import functions as F

    from ..build import inferred_sql

    typed = run(spark, sql, batch=batch_id, seq=seq, **params)
    if "_detail" not in typed.columns:
        typed = typed.withColumn("_detail", F.lit(None).cast("string"))
    typed.cache().createOrReplaceTempView("_typed")
    cols = spark.table(f"staging.{table}").columns
    usable = F.col("_final_reason").isNull()
    n_ok, n_bad = (int(x or 0) for x in typed.select(
        F.sum(usable.cast("int")), F.sum((~usable).cast("int"))).collect()[0])
    if n_ok:
        typed.where(usable).select(*[
            F.lit(batch_id).alias(c) if c == "batch_id" else
            F.lit(seq).cast("int").alias(c) if c == "batch_seq" else F.col(c)
            for c in cols]).write.insertInto(f"staging.{table}")
    if n_bad:
        quarantine_rows(spark, typed.where(~usable), raw, batch_id, reason="_final_reason",
                        detail="_detail")
    isql = inferred_sql(table, cols)
    inferred = int(run(spark, isql, batch=batch_id).collect()[0][0]) if isql else 0
    spark.catalog.dropTempView("_typed")
    typed.unpersist()
    return n_ok, n_bad, inferred


#: The raw record as DuckDB's ``to_json`` writes it: every column (nulls too), timestamps
#: as ``2024-05-01 10:00:00``.
_JSON = {"ignoreNullFields": "false", "timestampFormat": "yyyy-MM-dd HH:mm:ss",
         "dateFormat": "yyyy-MM-dd"}


def quarantine_rows(spark: SparkSession, bad: DataFrame, raw: str, batch_id: str, *,
                    reason: str, detail: str, file: str | None = None) -> None:
    """Rows that cannot be used, with the raw record as JSON, into ``quarantine.rows``
    (``bad`` has ``line``, the reason and detail columns, and ``file`` unless given)."""
    from pyspark.sql import functions as F

    r = spark.table(f"raw.`{raw}`").where(F.col("_batch_id") == batch_id)
    record = F.to_json(F.struct(*[F.col(f"r.`{c}`").alias(c) for c in r.columns]),
                       _JSON)
    joined = bad.alias("t").join(r.alias("r"), F.col("r._line") == F.col("t.line"), "inner")
    joined.select(F.lit(batch_id).alias("batch_id"),
                  (F.lit(file) if file is not None else F.col("t.file")).alias("file"),
                  F.col("t.line").cast("bigint").alias("line"),
                  F.col(f"t.{reason}").alias("reason"),
                  F.col(f"t.{detail}").cast("string").alias("detail"),
                  record.alias("record")).write.insertInto("quarantine.rows")


# ----------------------------------------------------------------------------- datasets
def _arrow_type(sql_type: str) -> pa.DataType:
    return {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "VARCHAR": pa.string(),
            "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us"), "DATE": pa.date32(),
            "INTEGER": pa.int32()}[sql_type]


def _spark_schema(schema: pa.Schema) -> StructType:
    from pyspark.sql import types as T

    m = {pa.int64(): T.LongType(), pa.float64(): T.DoubleType(), pa.string(): T.StringType(),
         pa.bool_(): T.BooleanType(), pa.timestamp("us"): T.TimestampType(),
         pa.date32(): T.DateType(), pa.int32(): T.IntegerType()}
    return T.StructType([T.StructField(f.name, m[f.type], True) for f in schema])


def _raw_frame(spark: SparkSession, name: str, df: pd.DataFrame) -> DataFrame:
    """A slice of a dataset table with the raw columns (``_batch_id``, ``_file``, ``_line``,
    ``_loaded_at``; see :func:`crmkit.warehouse.direct.raw_slices`) as a Spark DataFrame,
    typed as DuckDB's raw table."""
    from ...dataset.schema import SCHEMA
    from ..direct import _SQL_TYPE

    cols = SCHEMA[name].columns
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


def _write_raw(spark: SparkSession, frame: DataFrame, name: str) -> None:
    if spark.catalog.tableExists(f"raw.{name}"):
        frame.write.insertInto(f"raw.{name}")
    else:
        frame.write.format("parquet").saveAsTable(f"raw.{name}")


def _same_currency(ledger: Ledger, currency: str, shop: str) -> None:
    have = ledger.currency()
    if have is None:
        ledger.add("meta.shop", (currency,))
    elif have != currency:
        raise DatasetError(f"the dataset of {shop!r} is in {currency}, but this warehouse holds "
                           f"{have}; build a separate warehouse for it.")


def load_dataset(spark: SparkSession, ds: Dataset, ledger: Ledger) -> bool:
    """Raw, staging and quarantine of one dataset, as a batch, and its load report (kept in
    ``ledger``). Returns ``False`` when the same batch was loaded already."""
    from pyspark.sql import functions as F

    from ..direct import ORDERS_CHECK, _report_rows, _staging_steps, raw_slices

    batch_id = ds.batch_id
    if ledger.already_loaded(batch_id, ds.digests,
                             Path(str(ds.manifest.get("shop_name", "dataset")))):
        return False
    seq = ledger.next_seq()
    now = load_clock().replace(tzinfo=UTC)  # PySpark reads a naive one as local time
    system = str(ds.manifest.get("origin") or "dataset")
    _same_currency(ledger, ds.currency, ds.shop_name)
    ledger.add("meta.batches", (batch_id, seq, None, now, f"dataset {ds.shop_name}"))
    for name in ds.tables:
        for part in raw_slices(ds, name, batch_id, now):
            _write_raw(spark, _raw_frame(spark, name, part), name)
        file = ds.files[name]
        ledger.add("meta.files", (batch_id, file, ds.digests.get(file) or ds.digests.get(name),
                                  ds.lines_in_file.get(name)))
    counts, steps = _staging_steps(ds)
    for name, table, sql in steps:
        counts[name] = stage_rows(spark, table, name, sql, batch_id, seq, system=system)
    if "orders" in ds.tables:
        orders = run(spark, ORDERS_CHECK, batch=batch_id).cache()
        n_all, n_bad = (int(x or 0) for x in orders.select(
            F.count(F.lit(1)), F.sum(F.col("reason").isNotNull().cast("int"))).collect()[0])
        if n_bad:
            bad = orders.where(F.col("reason").isNotNull()).withColumn(
                "_detail", F.lit(None).cast("string"))
            quarantine_rows(spark, bad, "orders", batch_id, reason="reason", detail="_detail",
                            file=ds.files["orders"])
        counts["orders"] = (n_all - n_bad, n_bad, 0)
        orders.unpersist()
    ledger.add("meta.load_report", *_report_rows(ds, batch_id, system, counts))
    return True
