"""One batch of source extracts (``crmkit extracts``) into the Spark warehouse.

Every file is read by the hardened line reader
(:func:`crmkit.sources.lines.read_delimited`): each record keeps its true
1-based line, and a line it cannot use (wrong number of fields, an unclosed
quote, bytes that are not the file's encoding) goes to ``quarantine.rows`` as
``malformed_line`` or ``invalid_encoding``, as in the DuckDB build. The records
stream to Parquet in chunks (little memory however large the file), Spark
appends them to ``raw``; from there the same model statements as DuckDB's
(:data:`crmkit.warehouse.sql.STAGING`) type, check and stage them. The header
of every file is checked before anything is loaded.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from ...dataset.scratch import scratch_folder
from ...sources.lines import read_delimited
from .load import Ledger, run, stage_rows

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ...dataset.extracts import FileSpec
    from ...sources.lines import Record, Reject

__all__ = ["load_extracts"]


def load_extracts(spark: SparkSession, folder: Path, years: int, ledger: Ledger, *,
                  first_build: bool = False) -> bool:
    """Load one folder of extracts as a batch (its bookkeeping rows kept in ``ledger``;
    marts are rebuilt by the caller). Returns ``False`` when the same batch was loaded
    already."""
    from ...dataset.extracts import FILES
    from ..build import _batch_to_load, _check_headers, _raw_ddl, _window

    batch_id, extracted, digests, present = _batch_to_load(folder, first_build=first_build)
    if ledger.already_loaded(batch_id, digests, folder):
        return False
    for spec in FILES.values():
        run(spark, _raw_ddl(spec))
    _check_headers(folder, present)
    seq = ledger.next_seq()
    now = datetime.now().replace(microsecond=0)
    ledger.add("meta.batches", (batch_id, seq, extracted, now, str(folder)))
    if ledger.currency() is None:
        ledger.add("meta.shop", ("EUR",))  # the extracts' money is in euros
    lo, hi, anchor = _window(extracted, years)
    for name in present:
        spec = FILES[name]
        read, rejected, lines_in_file, whole = _read_raw(spark, folder / name, spec,
                                                         batch_id, now, ledger)
        ledger.add("meta.files", (batch_id, name, digests[name], lines_in_file))
        loaded, held, inferred = _stage(spark, name, batch_id, seq, lo, hi, anchor)
        held += rejected
        ledger.add("meta.load_report", (batch_id, name, spec.system, read, loaded, held,
                                        lines_in_file, read == loaded + held and whole,
                                        inferred))
    return True


def _stage(spark: SparkSession, name: str, batch_id: str, seq: int, lo: date, hi: date,
           anchor: date) -> tuple[int, int, int]:
    from ..build import _stem
    from ..sql import STAGING, STAGING_TABLE

    return stage_rows(spark, STAGING_TABLE[name], _stem(name), STAGING[name], batch_id, seq,
                      lo=lo, hi=hi, anchor=anchor)


def _read_raw(spark: SparkSession, path: Path, spec: FileSpec, batch_id: str, now: datetime,
              ledger: Ledger) -> tuple[int, int, int, bool]:
    """Read one file into ``raw.<file>`` (chunks of records through Parquet); rejected lines
    into quarantine. Returns rows read, rows rejected, lines in the file and whether every
    line was accounted for."""
    from pyspark.sql import functions as F

    from ..build import _stem

    held = scratch_folder("raw")  # a killed load's is removed by the next one or crmkit clean
    scratch = held.path
    parts: list[str] = []

    def on_chunk(records: list[Record], bad: list[Reject]) -> None:
        if records:
            columns = list(zip(*[r.fields for r in records], strict=True))
            arrays = [pa.array(v, pa.string()) for v in columns]
            arrays.append(pa.array([r.line for r in records], pa.int64()))
            names = [f"c{i}" for i in range(len(spec.columns))] + ["_line"]
            part = scratch / f"part-{len(parts):05d}.parquet"
            pq.write_table(pa.table(arrays, names=names), part)
            parts.append(str(part))
        ledger.add("quarantine.rows",
                   *[(batch_id, spec.name, r.line, r.reason, r.detail, r.text) for r in bad])

    try:
        got = read_delimited(path, n_fields=len(spec.columns), encoding=spec.encoding,
                             delimiter=spec.delimiter, on_chunk=on_chunk)
        if parts:
            table = f"raw.`{_stem(spec.name)}`"
            spark.read.parquet(*parts).select(
                *[F.col(f"c{i}").alias(c) for i, c in enumerate(spec.columns)],
                F.lit(batch_id).alias("_batch_id"), F.lit(spec.name).alias("_file"),
                F.col("_line"), F.lit(now).cast("timestamp").alias("_loaded_at"),
            ).write.insertInto(table)
    finally:
        held.remove()
    return got.rows_read, got.n_rejects, got.lines_in_file, got.balanced
