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

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ...errors import DatasetError
from ...sources.lines import read_delimited, read_header
from .load import Ledger, run, stage_rows

__all__ = ["load_extracts"]


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0]


def _raw_ddl(spec) -> str:
    from ..sql import ident

    cols = ", ".join(f"{ident(c)} VARCHAR" for c in spec.columns)
    return (f"CREATE TABLE IF NOT EXISTS raw.{ident(_stem(spec.name))} ({cols}, "
            "_batch_id VARCHAR, _file VARCHAR, _line BIGINT, _loaded_at TIMESTAMP)")


def load_extracts(spark, folder: Path, years: int, ledger: Ledger, *,
                  first_build: bool = False) -> bool:
    """Load one folder of extracts as a batch (its bookkeeping rows kept in ``ledger``;
    marts are rebuilt by the caller). Returns ``False`` when the same batch was loaded
    already."""
    from ...dataset.extracts import FILES
    from ..build import MASTER_FILES, _batch_info, _check_header, _window

    batch_id, extracted, digests, present = _batch_info(folder)
    if first_build:
        missing = [m for m in MASTER_FILES if m not in present]
        if missing:
            raise DatasetError(
                f"extracts folder {str(folder)!r} lacks {', '.join(missing)}: a first build "
                "needs the customer sheet, the web catalogue and the till's article codes, "
                "or every sale and contact would be quarantined. Add the file(s) and run "
                "again.")
    if ledger.already_loaded(batch_id, digests, folder):
        return False
    for spec in FILES.values():
        run(spark, _raw_ddl(spec))
    for name in present:  # every header first: a wrong file stops the batch before it starts
        spec = FILES[name]
        _check_header(folder / name, read_header(folder / name, encoding=spec.encoding,
                                                 delimiter=spec.delimiter), spec)
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


def _stage(spark, name: str, batch_id: str, seq: int, lo, hi, anchor):
    from ..sql import STAGING, STAGING_TABLE

    return stage_rows(spark, STAGING_TABLE[name], _stem(name), STAGING[name], batch_id, seq,
                      lo=lo, hi=hi, anchor=anchor)


def _read_raw(spark, path: Path, spec, batch_id: str, now, ledger: Ledger
              ) -> tuple[int, int, int, bool]:
    """Read one file into ``raw.<file>`` (chunks of records through Parquet); rejected lines
    into quarantine. Returns rows read, rows rejected, lines in the file and whether every
    line was accounted for."""
    from pyspark.sql import functions as F

    scratch = Path(tempfile.mkdtemp(prefix="crmkit-raw-"))
    parts: list[str] = []

    def on_chunk(records, bad) -> None:
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
        shutil.rmtree(scratch, ignore_errors=True)
    return got.rows_read, got.n_rejects, got.lines_in_file, got.balanced
