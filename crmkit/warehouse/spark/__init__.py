"""The same warehouse on Apache Spark: raw, staging and marts as Parquet tables in a folder.

The models are the ones the DuckDB build runs (:mod:`crmkit.warehouse.sql`,
:mod:`crmkit.warehouse.direct`), translated statement by statement by
:func:`crmkit.warehouse.dialect.to_spark`; there is no second copy of any of
them. A build loads a dataset (``--data``) or source extracts (``--from``),
then any later batches (``--batch``), with the DuckDB build's quarantine rules
and load report. Spark runs in local mode by default (``local[2]``), on a
cluster (``--master``) or through Spark Connect (``--remote``); its session
time zone is pinned to UTC, as DuckDB's is. Java 17 or newer must be installed
for a local or cluster session: :func:`check_java` says how when it is not.

* :mod:`.runtime` starts Spark; :mod:`.build` builds and opens a warehouse folder;
* :mod:`.load` holds the steps every batch shares and a dataset's load;
  :mod:`.extracts` a batch of source extracts.
"""

from .build import (
    SCHEMA_FILE,
    build_spark,
    open_session,
    opened,
    run_spark_data_tests,
    spark_cube,
    spark_table,
)
from .runtime import DEFAULT_MASTER, JAVA_HINT, check_java, check_master, check_remote, session

__all__ = ["check_java", "check_master", "check_remote", "session", "open_session", "opened",
           "build_spark", "run_spark_data_tests", "spark_table", "DEFAULT_MASTER", "JAVA_HINT",
           "spark_cube", "SCHEMA_FILE"]
