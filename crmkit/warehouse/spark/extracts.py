"""One batch of source extracts (``crmkit extracts``) into the Spark warehouse.

A *plain* file (:func:`crmkit.sources.lines.plain_text`, the check the DuckDB
build makes: it decodes, has no byte-order mark, no control bytes and no blank
lines, and every quote closes on its own line, so that each physical line is one
row) is read by Spark itself, split over the executors: its lines by Spark's text
reader, each numbered in the JVM with its true 1-based line (:func:`_numbered`),
its fields by Spark SQL's ``from_csv``. A line with the wrong number of fields
goes to ``quarantine.rows`` as ``malformed_line`` with its line and text, as in
the DuckDB build. Any other file, or one in an encoding Spark's text reader does
not read exactly (:data:`SPARK_CHARSETS`), is read by the hardened line reader
(:func:`crmkit.sources.lines.read_delimited`) on the driver: each record keeps
its true line, and a line it cannot use (wrong number of fields, an unclosed
quote, bytes that are not the file's encoding) goes to quarantine as
``malformed_line`` or ``invalid_encoding``; its records stream to Parquet in
chunks and Spark appends them to ``raw``. Both ways give the same rows on the
same lines. From ``raw`` the same model statements as DuckDB's
(:data:`crmkit.warehouse.sql.STAGING`) type, check and stage the rows. The header
of every file is checked before anything is loaded.
"""

from __future__ import annotations

import codecs
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from ...dataset.scratch import scratch_folder
from ...sources.lines import read_delimited
from ..connection import load_clock
from .load import Ledger, run, stage_rows

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from ...dataset.extracts import FileSpec
    from ...sources.lines import Record, Reject

__all__ = ["load_extracts", "SPARK_CHARSETS"]

#: The encodings (by their :mod:`codecs` name) whose plain files Spark reads exactly, and
#: the charset that decodes the bytes its text reader keeps of each line (``None``: the
#: line is UTF-8 text as read). Spark's text reader splits lines on the bytes ``\n`` and
#: ``\r\n`` and keeps each line's bytes as they are, so a Latin-1 line decodes exactly.
SPARK_CHARSETS: dict[str, str | None] = {"utf-8": None, "ascii": None,
                                         "iso8859-1": "ISO-8859-1"}


def load_extracts(spark: SparkSession, folder: Path, years: int, ledger: Ledger, *,
                  first_build: bool = False) -> bool:
    """Load one folder of extracts as a batch (its bookkeeping rows kept in ``ledger``;
    marts are rebuilt by the caller). Returns ``False`` when the same batch was loaded
    already."""
    from ...dataset.extracts import FILES
    from ..build import _batch_to_load, _check_headers, _check_plain, _raw_ddl, _window

    batch_id, extracted, digests, present = _batch_to_load(folder, first_build=first_build)
    if ledger.already_loaded(batch_id, digests, folder):
        return False
    for spec in FILES.values():
        run(spark, _raw_ddl(spec))
    _check_headers(folder, present)
    seq = ledger.next_seq()
    now = load_clock().replace(tzinfo=UTC)  # PySpark reads a naive one as local time
    ledger.add("meta.batches", (batch_id, seq, extracted, now, str(folder)))
    if ledger.currency() is None:
        ledger.add("meta.shop", ("EUR",))  # the extracts' money is in euros
    lo, hi, anchor = _window(extracted, years)
    # each file's plain-text check runs in a thread while Spark reads and stages the files
    # before it (the driver waits on the JVM meanwhile)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        checks = {name: pool.submit(_check_plain, folder / name, FILES[name])
                  for name in present}
        for name in present:
            spec = FILES[name]
            read, rejected, lines_in_file, whole = _read_raw(
                spark, folder / name, spec, batch_id, now, ledger, checks[name].result())
            ledger.add("meta.files", (batch_id, name, digests[name], lines_in_file))
            loaded, held, inferred = _stage(spark, name, batch_id, seq, lo, hi, anchor)
            held += rejected
            ledger.add("meta.load_report", (batch_id, name, spec.system, read, loaded, held,
                                            lines_in_file, read == loaded + held and whole,
                                            inferred))
    finally:
        pool.shutdown(cancel_futures=True)
    return True


def _stage(spark: SparkSession, name: str, batch_id: str, seq: int, lo: date, hi: date,
           anchor: date) -> tuple[int, int, int]:
    from ..build import _stem
    from ..sql import STAGING, STAGING_TABLE

    return stage_rows(spark, STAGING_TABLE[name], _stem(name), STAGING[name], batch_id, seq,
                      lo=lo, hi=hi, anchor=anchor)


def _read_raw(spark: SparkSession, path: Path, spec: FileSpec, batch_id: str, now: datetime,
              ledger: Ledger, check: tuple[str | None, int] | None = None
              ) -> tuple[int, int, int, bool]:
    """Read one file into ``raw.<file>``; rejected lines into quarantine. A plain file in an
    encoding of :data:`SPARK_CHARSETS` is read by Spark (:func:`_read_plain`), any other
    line by line on the driver. ``check`` is the file's
    :func:`crmkit.warehouse.build._check_plain` when made already. Returns rows read, rows
    rejected, lines in the file and whether every line was accounted for."""
    from ..build import _check_plain

    why, lines_in_file = _check_plain(path, spec) if check is None else check
    name = codecs.lookup(spec.encoding).name
    if why is None and name in SPARK_CHARSETS and not _GLOB.search(str(path)):
        read, rejected = _read_plain(spark, path, spec, batch_id, now, SPARK_CHARSETS[name])
        return read, rejected, lines_in_file, read == lines_in_file - 1
    return _read_lines(spark, path, spec, batch_id, now, ledger)


# ----------------------------------------------------------------------------- plain files
#: ``from_csv`` options of an extract: RFC 4180 quoting (a quote inside a quoted field is
#: doubled), nothing trimmed; FAILFAST because only lines of the right number of fields
#: reach it (a line it would still find malformed stops the build instead of losing it).
_CSV = {"quote": '"', "escape": '"', "ignoreLeadingWhiteSpace": "false",
        "ignoreTrailingWhiteSpace": "false", "mode": "FAILFAST"}
#: A quoted field as a plain file writes it (opened at the start of its field, closed on
#: its line, quotes inside doubled); possessive, it ends at the field's closing quote.
_QUOTED = '"(?:[^"]|"")*+"'
#: Characters Spark's readers take as a pattern of file names in a path (such a path is
#: read line by line instead).
_GLOB = re.compile(r"[*?\[\]{}\\]")


def _read_plain(spark: SparkSession, path: Path, spec: FileSpec, batch_id: str,
                now: datetime, charset: str | None) -> tuple[int, int]:
    """Spark's own reading of a plain file into ``raw.<file>`` (every row on its true line),
    lines with the wrong number of fields into ``quarantine.rows``. Returns rows read and
    rows rejected."""
    from pyspark.sql import functions as F

    from ..build import _stem

    n = len(spec.columns)
    lines, n_lines, n_bad = _numbered(spark, path, charset, spec.delimiter, n)
    body = lines.where(F.col("_line") > 1)
    fields = F.from_csv(F.col("value"), ", ".join(f"c{i} STRING" for i in range(n)),
                        {**_CSV, "sep": spec.delimiter}).alias("_r")
    parsed = body.where(F.col("_found") == n).select(fields, "_line")
    # an empty field, quoted or not, is NULL, as the line reader and DuckDB give it
    parsed.select(
        *[F.when(F.col(f"_r.c{i}") != "", F.col(f"_r.c{i}")).alias(c)
          for i, c in enumerate(spec.columns)],
        F.lit(batch_id).alias("_batch_id"), F.lit(spec.name).alias("_file"), F.col("_line"),
        F.lit(now).cast("timestamp").alias("_loaded_at"),
    ).write.insertInto(f"raw.`{_stem(spec.name)}`")
    if n_bad:
        body.where(F.col("_found") != n).select(
            F.lit(batch_id).alias("batch_id"), F.lit(spec.name).alias("file"),
            F.col("_line").alias("line"), F.lit("malformed_line").alias("reason"),
            F.concat(F.lit(f"expected {n} fields, found "), F.col("_found").cast("string"),
                     F.lit(" fields")).alias("detail"),
            F.col("value").alias("record"),
        ).write.insertInto("quarantine.rows")
    return n_lines - 1, n_bad


def _numbered(spark: SparkSession, path: Path, charset: str | None, delimiter: str,
              n_fields: int) -> tuple[DataFrame, int, int]:
    """The lines of a plain file read by Spark (``value``), each with its true 1-based
    ``_line`` and its number of fields (``_found``); how many lines the file has, and how
    many after the header have not ``n_fields`` fields.

    Spark's text reader splits the file into blocks of bytes read in parallel; each line is
    read once, in the block where it starts, and a block's lines come in file order. One
    job counts each block's lines and their smallest
    ``monotonically_increasing_id`` (ids within one partition run on one by one); then a
    line is numbered by the lines of the blocks before its own plus its place in its
    block. The ids of the second reading are those of the first (the same file split the
    same way: the count-then-number that ``RDD.zipWithIndex`` makes too).
    """
    from pyspark.sql import functions as F

    value = F.col("value")
    if charset is not None:  # the bytes the reader kept, decoded
        value = F.decode(value.cast("binary"), charset)
    lines = spark.read.text(str(path.resolve())).select(
        value.alias("value"), F.input_file_block_start().alias("_block"),
        F.monotonically_increasing_id().alias("_id"))
    lines = lines.withColumn("_found", _field_count(F.col("value"), delimiter))
    blocks = sorted(lines.groupBy("_block").agg(
        F.count(F.lit(1)).alias("n"), F.min("_id").alias("first"),
        F.sum((F.col("_found") != n_fields).cast("int")).alias("bad"),
        F.min_by("_found", "_id").alias("first_found")).collect(), key=lambda r: r["_block"])
    shifts, before = [], 0
    for b in blocks:
        shifts.append((int(b["_block"]), before + 1 - int(b["first"])))
        before += int(b["n"])
    shift = spark.createDataFrame(shifts, "_block BIGINT, _shift BIGINT")
    numbered = lines.join(F.broadcast(shift), "_block").select(
        "value", "_found", (F.col("_id") + F.col("_shift")).alias("_line"))
    bad = sum(int(b["bad"]) for b in blocks)
    if blocks and blocks[0]["first_found"] != n_fields:  # the header (line 1) is no row
        bad -= 1
    return numbered, before, bad


def _field_count(line: Column, delimiter: str) -> Column:
    """How many fields a line of a plain file holds: its delimiters once its quoted fields
    (which may hold the delimiter) are taken out, plus one."""
    from pyspark.sql import functions as F

    bare = F.when(F.instr(line, '"') > 0, F.regexp_replace(line, _QUOTED, "")
                  ).otherwise(line)
    return (F.length(bare) - F.length(F.replace(bare, F.lit(delimiter), F.lit(""))) + 1
            ).cast("int")


# ----------------------------------------------------------------------------- line by line
def _read_lines(spark: SparkSession, path: Path, spec: FileSpec, batch_id: str, now: datetime,
                ledger: Ledger) -> tuple[int, int, int, bool]:
    """The hardened line reader on the driver (chunks of records through Parquet into
    ``raw.<file>``); rejected lines into quarantine (kept in ``ledger``)."""
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
