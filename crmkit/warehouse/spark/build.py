"""Build and open a Spark warehouse folder: raw, staging and marts as Parquet tables.

Layout of the warehouse folder: ``<schema>.db/<table>/`` (Parquet, one folder per
table: raw, staging, quarantine, meta and marts), as Spark's own catalog writes
it; :func:`open_session` registers them again in a new session, with the views.
A build runs in a temporary folder next to ``out`` and replaces it only when
complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ...errors import DatasetError, ParameterError
from ..dialect import statements, target
from ..sql import MARTS, META_DDL, SCHEMAS, STAGING_DDL, STAGING_UPGRADE, STAGING_VIEWS
from .load import Ledger, insert, load_dataset, run
from .runtime import DEFAULT_MASTER, session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ...dataset.crmdata import CRMData
    from ..checks import DataTest

    #: What a build loads: a dataset (or its folder) or a folder of source extracts.
    Source = CRMData | str | Path

__all__ = ["build_spark", "open_session", "opened", "spark_table", "run_spark_data_tests",
           "spark_cube", "SCHEMA_FILE"]

#: Each table folder keeps its schema here (Spark skips files starting with "_"), so an
#: empty table (no Parquet file) opens with its columns.
SCHEMA_FILE = "_schema.json"


def build_spark(data: Source, out: str | Path, *, batches: Iterable[Source] = (),
                master: str = DEFAULT_MASTER, remote: str | None = None,
                plausible_years: int | None = None) -> Path:
    """Build the warehouse of a dataset (a :class:`CRMData` or its folder) or a folder of
    source extracts with Spark into the folder ``out``, then load each of ``batches``
    (later extracts or dataset folders) in order, as the DuckDB build does. ``out`` is
    replaced only when the build is complete. Returns ``out``."""
    from ..build import PLAUSIBLE_YEARS, _check_years

    out = Path(out)
    years = _check_years(PLAUSIBLE_YEARS if plausible_years is None else plausible_years)
    if out.exists() and not (out / "meta.db").is_dir():
        raise DatasetError(f"{str(out)!r} exists and is not a Spark warehouse folder; give "
                           "a new folder.")
    for source in (data, *batches):  # a folder that is neither stops before Spark starts
        _check_source(source)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    spark = session(tmp, master=master, remote=remote)
    try:
        _init(spark)
        ledger = Ledger()
        _load_any(spark, data, years, ledger, first_build=True)
        for b in batches:
            _load_any(spark, b, years, ledger)
        ledger.write(spark)
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


def _init(spark: SparkSession) -> None:
    from ..build import reference_cities

    for s in SCHEMAS:
        spark.sql(f"DROP DATABASE IF EXISTS {s} CASCADE")
        spark.sql(f"CREATE DATABASE {s}")
    for ddl in statements(META_DDL) + statements(STAGING_DDL) + [
            u for u in statements(STAGING_UPGRADE) if target(u)]:  # new tables only
        run(spark, ddl)
    insert(spark, "staging.ref_city", [(c,) for c in reference_cities()])


def _check_source(source: Source) -> None:
    """A dataset (or its folder) or a folder of extracts; anything else is a clear error."""
    from ...dataset.crmdata import CRMData
    from ..build import _batch_info
    from ..direct import is_dataset_folder

    if not (isinstance(source, CRMData) or is_dataset_folder(source)):
        _batch_info(Path(source))


def _load_any(spark: SparkSession, source: Source, years: int, ledger: Ledger, *,
              first_build: bool = False) -> bool:
    """Load a dataset (a CRMData or its folder) or a folder of source extracts."""
    from ...dataset.crmdata import CRMData
    from ..direct import is_dataset_folder, read_dataset
    from .extracts import load_extracts

    if isinstance(source, CRMData) or is_dataset_folder(source):
        return load_dataset(spark, read_dataset(source), ledger)
    return load_extracts(spark, Path(source), years, ledger, first_build=first_build)


def _write_schemas(spark: SparkSession, out: Path) -> None:
    for s in SCHEMAS:
        for t in spark.catalog.listTables(s):
            if t.tableType != "VIEW" and not t.isTemporary:
                folder = out / f"{s}.db" / t.name
                folder.mkdir(parents=True, exist_ok=True)
                (folder / SCHEMA_FILE).write_text(spark.table(f"{s}.{t.name}").schema.json())


def _rebuild_marts(spark: SparkSession) -> None:
    from ..build import money_unit

    _views(spark)
    unit = money_unit(spark.table("meta.shop").collect()[0][0])
    for sql in MARTS.values():
        run(spark, sql, money_unit=unit)


def _views(spark: SparkSession) -> None:
    for sql in statements(STAGING_VIEWS):
        run(spark, sql)


def open_session(out: str | Path, *, master: str = DEFAULT_MASTER, remote: str | None = None
                 ) -> SparkSession:
    """A Spark session on a warehouse folder written by :func:`build_spark`: every table
    registered again (from its Parquet folder) and the views defined."""
    out = Path(out)
    if not (out / "meta.db").is_dir():
        raise DatasetError(f"{str(out)!r} is not a Spark warehouse folder; build one with "
                           "`crmkit warehouse build OUT --engine spark --data DIR`.")
    from pyspark.sql.types import StructType

    spark = session(out, master=master, remote=remote)
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
            run(spark, sql)
    return spark


@contextlib.contextmanager
def opened(out: str | Path, *, master: str = DEFAULT_MASTER, remote: str | None = None
           ) -> Iterator[SparkSession]:
    """:func:`open_session` for a ``with`` block (the session is stopped afterwards)."""
    spark = open_session(out, master=master, remote=remote)
    try:
        yield spark
    finally:
        spark.stop()


def spark_table(spark: SparkSession, name: str) -> pd.DataFrame:
    """A table or view of the Spark warehouse as a pandas DataFrame."""
    return spark.table(name).toPandas()


def run_spark_data_tests(spark: SparkSession, *, tests: Iterable[DataTest] | None = None
                         ) -> pd.DataFrame:
    """The warehouse's data tests (:data:`crmkit.warehouse.checks.DATA_TESTS`) on Spark."""
    from ..checks import DATA_TESTS

    rows = []
    for t in DATA_TESTS if tests is None else tuple(tests):
        n = run(spark, f"SELECT count(*) FROM ({t.sql})").collect()[0][0]
        rows.append({"test": t.name, "kind": t.kind, "table": t.table,
                     "status": "pass" if n == 0 else "fail", "failing_rows": int(n),
                     "sql": t.sql})
    return pd.DataFrame(rows, columns=["test", "kind", "table", "status", "failing_rows",
                                       "sql"])


def spark_cube(spark: SparkSession, *, by: str | Iterable[str] | None = None,
               measures: Mapping[str, str] | None = None, kind: str = "cube",
               sets: Sequence[str | Sequence[str]] | None = None,
               table: str = "marts.v_sales", where: str | None = None) -> pd.DataFrame:
    """:func:`crmkit.warehouse.cube.cube` on the Spark warehouse: the same SELECT
    (:func:`crmkit.warehouse.cube.cube_sql`), translated; ``sets`` as there."""
    from ..cube import _columns_ok, cube_sql

    _columns_ok(table)
    if kind == "grouping_sets" and sets:
        by = list(dict.fromkeys(c for s in sets for c in ([s] if isinstance(s, str) else s)))
    if by is None:
        raise ParameterError("by is empty; give at least one column to group by.")
    sql = cube_sql(spark.table(table).columns, by=by, measures=measures, kind=kind, sets=sets,
                   table=table, where=where)
    return run(spark, sql).toPandas()
