"""Spark reads a plain extract itself: the same rows, on the same lines, as the line reader.

The reference is :func:`crmkit.sources.lines.read_delimited` on the same file (the
hardened line reader the DuckDB build and the Spark engine fall back on): every row's
fields and true line, every rejected line with its reason, detail and text. The files
are hostile: quoted fields holding the delimiter and doubled quotes, empty fields quoted
and not, spaces kept, a backslash, a leading ``#``, accents and the euro sign, lines ending
in ``\\r\\n`` among lines ending in ``\\n``, lines with too few and too many fields; read
whole and split into blocks of 400 bytes (lines cut across blocks). A file that
is not plain still goes through the line reader. One Spark session serves the module.
"""

from __future__ import annotations

from datetime import datetime

import pytest

pytest.importorskip("pyspark")
pytest.importorskip("sqlglot")

from crmkit.dataset.extracts import FileSpec  # noqa: E402
from crmkit.sources.lines import read_delimited  # noqa: E402
from crmkit.warehouse.build import _check_plain, _raw_ddl  # noqa: E402

spark_mod = pytest.importorskip("crmkit.warehouse.spark")
try:
    spark_mod.check_java()
except Exception as exc:  # noqa: BLE001 - the message says how to install Java
    pytest.skip(f"no Java for Spark: {exc}", allow_module_level=True)

from crmkit.warehouse.spark import extracts  # noqa: E402
from crmkit.warehouse.spark.build import _init  # noqa: E402
from crmkit.warehouse.spark.load import Ledger, run  # noqa: E402
from crmkit.warehouse.spark.runtime import session  # noqa: E402

NOW = datetime(2026, 5, 1, 10, 0, 0)

WEB = FileSpec("web_read.csv", "web", "utf-8", ",", ("id", "name", "city", "note"),
               ("id", "name", "city", "note"), "A plain UTF-8 extract.")
POS = FileSpec("pos_read.csv", "pos", "latin-1", ";", ("codigo", "descripcion", "pvp"),
               ("codigo", "descripcion", "pvp"), "A plain Latin-1 extract.")

#: Lines after the header of the UTF-8 file; the ones marked bad have 3 and 5 fields.
WEB_LINES = [
    '1,"Gran Via, 5",Madrid,"say ""hi"", then go"',
    '2,,"",',
    "3,Zoë,Cádiz,€ 10,50",  # five fields: too many
    '4," spaced ",  two  ,back\\slash',
    "#5,hash,A Coruña,starts with a hash",
    "6,too,few",  # three fields: too few
    '7,"a,b,c",",",""""',
    '8,"""quoted""",Málaga,"€"',
    ",,,",
    "10,Ñandú,Logroño,naïve café",
]
POS_LINES = [
    '100;"Camiseta; algodón";12,50',
    "101;Jersey ñ ¤;",
    "102;falta",  # two fields: too few
    '103;"Bolso ""piel""";89,00',
    "104;Pañuelo;9,99;extra",  # four fields: too many
]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    s = session(tmp_path_factory.mktemp("spark_read"), master="local[2]")
    _init(s)
    for spec in (WEB, POS):
        run(s, _raw_ddl(spec))
    yield s
    s.stop()


def _write(folder, spec: FileSpec, lines: list[str], copies: int = 1) -> object:
    """The file: header, then ``lines`` ``copies`` times; every third line ends in CRLF."""
    body = [line for _ in range(copies) for line in lines]
    ends = ["\r\n" if i % 3 == 2 else "\n" for i in range(len(body) + 1)]
    text = "".join(x + e for x, e in zip([spec.delimiter.join(spec.header), *body], ends,
                                         strict=True))
    path = folder / spec.name
    path.write_bytes(text.encode(spec.encoding))
    return path


def _reference(path, spec: FileSpec):
    got = read_delimited(path, n_fields=len(spec.columns), encoding=spec.encoding,
                         delimiter=spec.delimiter)
    rows = sorted((r.line, tuple(r.fields)) for r in got.records)
    rejects = sorted((r.line, r.reason, r.detail, r.text) for r in got.rejects)
    return rows, rejects, (got.rows_read, got.n_rejects, got.lines_in_file, got.balanced)


def _read(spark, path, spec: FileSpec, batch: str):
    """``extracts._read_raw`` into the session's tables; what it wrote for ``batch``."""
    from pyspark.sql import functions as F

    ledger = Ledger()
    counts = extracts._read_raw(spark, path, spec, batch, NOW, ledger)
    raw = spark.table(f"raw.{spec.name[:-4]}").where(F.col("_batch_id") == batch)
    rows = sorted((r["_line"], tuple(r[c] for c in spec.columns)) for r in raw.collect())
    held = spark.table("quarantine.rows").where(F.col("batch_id") == batch).collect()
    rejects = sorted([(r["line"], r["reason"], r["detail"], r["record"]) for r in held]
                     + [(r[2], r[3], r[4], r[5]) for r in ledger.rows["quarantine.rows"]])
    return rows, rejects, counts


@pytest.fixture
def no_line_reader(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a plain file went to the line reader")

    monkeypatch.setattr(extracts, "read_delimited", refuse)


@pytest.fixture
def small_blocks(spark):
    spark.conf.set("spark.sql.files.maxPartitionBytes", "400")
    yield
    spark.conf.unset("spark.sql.files.maxPartitionBytes")


def _blocks(spark, path) -> int:
    from pyspark.sql import functions as F

    return spark.read.text(str(path)).select(F.input_file_block_start()).distinct().count()


@pytest.mark.parametrize("spec, lines", [(WEB, WEB_LINES), (POS, POS_LINES)],
                         ids=["utf8", "latin1"])
def test_a_plain_file_read_by_spark_gives_the_line_readers_rows_and_rejects(
        spark, tmp_path, no_line_reader, spec, lines):
    path = _write(tmp_path, spec, lines)
    assert _check_plain(path, spec)[0] is None  # the hostile lines are all plain
    want_rows, want_rejects, want_counts = _reference(path, spec)
    rows, rejects, counts = _read(spark, path, spec, f"whole-{spec.encoding}")
    assert rows == want_rows
    assert rejects == want_rejects
    assert counts == want_counts
    # the reference itself: 2 rejects per file, empty fields as NULL, quotes undone
    assert [r[1] for r in want_rejects] == ["malformed_line", "malformed_line"]
    if spec is WEB:
        assert (2, ("1", "Gran Via, 5", "Madrid", 'say "hi", then go')) in want_rows
        assert (3, ("2", None, None, None)) in want_rows
        assert (10, (None, None, None, None)) in want_rows


@pytest.mark.parametrize("spec, lines", [(WEB, WEB_LINES), (POS, POS_LINES)],
                         ids=["utf8", "latin1"])
def test_lines_numbered_right_when_the_file_is_split_into_many_blocks(
        spark, tmp_path, no_line_reader, small_blocks, spec, lines):
    path = _write(tmp_path, spec, lines, copies=12)
    assert _blocks(spark, path) >= 4  # lines cut across blocks of 400 bytes
    want_rows, want_rejects, want_counts = _reference(path, spec)
    rows, rejects, counts = _read(spark, path, spec, f"split-{spec.encoding}")
    assert len(want_rejects) == 24
    assert rows == want_rows
    assert rejects == want_rejects
    assert counts == want_counts


def test_a_file_that_is_not_plain_goes_through_the_line_reader(spark, tmp_path,
                                                               monkeypatch):
    path = tmp_path / WEB.name
    path.write_bytes(("id,name,city,note\n"
                      '1,"two\nlines",Madrid,x\n'  # a quoted field across a line break
                      "\n"  # a blank line
                      "2,Ana,Cádiz,y\n").encode())
    assert _check_plain(path, WEB)[0] is not None
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[0])
        return read_delimited(*args, **kwargs)

    monkeypatch.setattr(extracts, "read_delimited", spy)
    rows, rejects, counts = _read(spark, path, WEB, "not-plain")
    assert calls == [path]
    assert rows == [(2, ("1", "two\nlines", "Madrid", "x")), (5, ("2", "Ana", "Cádiz", "y"))]
    assert rejects == [] and counts == (2, 0, 5, True)
