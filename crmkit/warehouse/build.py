"""A real warehouse in one DuckDB file: raw -> staging -> marts, built atomically.

Inmon's four properties, each visible in the file:

* **integrated**: the till, the web shop and the legacy spreadsheet are read
  into ``raw`` as they are, then ``staging`` types, renames and cleanses them
  and matches customers across sources (e-mail, loyalty card) into one
  identity;
* **subject-oriented**: ``marts`` is a star schema about sales, visits,
  campaigns and service (facts) by date, customer, product, channel and
  campaign (dimensions), plus a snowflaked product -> category -> department;
* **time-variant**: the customer dimension keeps a new *version* when the city,
  address or segment changes (type 2), so :func:`customer_as_of` answers what
  a customer looked like on any day;
* **non-volatile**: ``raw``, ``staging`` and ``quarantine`` only grow, batch by
  batch; loading the same batch again changes nothing.

Rows that cannot be used are never dropped: structural errors (DuckDB's CSV
rejects) and business-rule failures land in ``quarantine.rows`` with file,
line and reason, and :func:`load_report` shows, per batch and file, that
rows read = rows loaded + rows quarantined.

>>> import tempfile, pathlib
>>> from crmkit.dataset.synth import generate
>>> data = generate("boutique", n_customers=60, seed=2)
>>> db = build_warehouse(data, pathlib.Path(tempfile.mkdtemp()) / "shop.duckdb")
>>> report = load_report(db)
>>> bool((report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"]).all())
True
>>> int(query(db, "SELECT count(*) AS n FROM marts.dim_customer WHERE is_current")["n"][0])
61
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, cast

import duckdb
import filelock
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from ..dataset.crmdata import CRMData, read_json
from ..dataset.days import parse_day
from ..dataset.extracts import FILES, MANIFEST_NAME, FileSpec
from ..dataset.folder import file_digest
from ..dataset.names import LOCAL_CITIES, NATIONAL_CITIES
from ..dataset.schema import SCHEMA, conform
from ..errors import DatasetError, ParameterError
from ..sources.lines import Record, Reject, plain_text, read_delimited, read_header
from .connection import WarehouseLike, connect, load_clock, one_statement, opened
from .dialect import bind, statements
from .sql import (
    MARTS,
    META_DDL,
    SCHEMAS,
    STAGING,
    STAGING_DDL,
    STAGING_TABLE,
    STAGING_UPGRADE,
    STAGING_VIEWS,
    ident,
    literal,
)

if TYPE_CHECKING:
    from .direct import Dataset

__all__ = [
    "build_warehouse",
    "load_batch",
    "load_report",
    "quarantine",
    "customer_as_of",
    "read_tables",
    "query",
    "connect",
    "one_statement",
    "LOCK_TIMEOUT",
    "PLAUSIBLE_YEARS",
    "MASTER_FILES",
    "BUILD_MEMORY_SHARE",
    "build_memory_limit",
]

_BATCH_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


# ----------------------------------------------------------------------------- settings
#: Seconds a build or load waits for another one on the same file before giving up.
LOCK_TIMEOUT = 60.0
#: Years either side of a batch's extraction day in which its dates are believed.
PLAUSIBLE_YEARS = 10
#: The files a first build cannot do without: the customers, the catalogue, the till's codes.
MASTER_FILES = ("legacy_customers.csv", "web_products.csv", "pos_articles.csv")


def query(warehouse: WarehouseLike, sql: str,
          params: Sequence[object] | dict[str, object] | None = None) -> pd.DataFrame:
    """Run one SELECT on a warehouse (path or connection) and return a DataFrame.

    A path is opened read-only with access to other files disabled, and ``sql``
    must be a single SELECT, so a query can read the warehouse and nothing else.

    >>> query(duckdb.connect(), "SELECT 1 + 1 AS two")["two"].tolist()
    [2]
    >>> query(duckdb.connect(), "SELECT 1; DROP TABLE t")
    Traceback (most recent call last):
    ...
    crmkit.warehouse.connection.NotOneSelectError: sql holds 2 statements; ...
    """
    with opened(warehouse, external_access=False) as con:
        one_statement(con, sql)
        try:
            return con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise ParameterError(f"the query failed: {first}") from None


# ----------------------------------------------------------------------------- safety
def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def _exclusive(path: Path, timeout: float) -> Iterator[None]:
    """Hold the warehouse's lock file: one build or load at a time per file.

    The lock is an OS lock on ``<file>.lock`` (released by the system even if
    the process is killed). While it is held, leftovers of killed runs (temporary
    copies, their WAL files, extract folders) are removed.
    """
    lock = filelock.FileLock(str(_lock_path(path)), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise DatasetError(
            f"another load or build of {str(path)!r} is running (it holds "
            f"{str(_lock_path(path))!r}); waited {timeout:g} s. Try again when it has "
            "finished.") from None
    try:
        _clean_leftovers(path)
        yield
    finally:
        lock.release()


def _leftovers(path: Path) -> list[Path]:
    """Temporary files and folders of earlier runs on ``path`` (e.g. killed ones)."""
    prefix = f".{path.name}."
    found = []
    for p in path.parent.glob(f".{_glob_escape(path.name)}.*"):
        rest = p.name[len(prefix):]
        if re.fullmatch(r"\d+\.(tmp|tmp\.wal|extracts|spill)", rest):
            found.append(p)
    return sorted(found)


def _glob_escape(name: str) -> str:
    """``name`` with glob's special characters made literal."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _clean_leftovers(path: Path) -> None:
    for p in _leftovers(path):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _check_target(path: Path) -> None:
    """Before anything is replaced: the file opens, no one else writes it, no stale WAL.

    A WAL (``<file>.wal``) left by a killed writer holds changes not yet in the
    file: DuckDB replays it when the file is opened for writing, so it is folded
    in first. A WAL that cannot be replayed, or one without its file, stops the
    run with a message, before anything is touched.
    """
    wal = path.with_name(path.name + ".wal")
    if not path.exists():
        if wal.exists():
            raise DatasetError(
                f"{str(wal)!r} is a write-ahead log left without its warehouse "
                f"{str(path)!r}; it would be replayed into the new file. Move it aside or "
                "delete it, then run again.")
        return
    if wal.exists():
        try:
            con = duckdb.connect(str(path), read_only=False)
            con.execute("CHECKPOINT")
            con.close()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            if "lock" in first.lower():
                raise DatasetError(
                    f"warehouse {str(path)!r} is open in another process, and its write-ahead "
                    f"log {str(wal)!r} must be folded in first; close that program (or "
                    "notebook kernel) and try again.") from None
            raise DatasetError(
                f"{str(wal)!r} is a write-ahead log that does not fit {str(path)!r} "
                f"(DuckDB says: {first}). Nothing was changed; move the .wal file aside and "
                "run again.") from None
    # a read-only open fails if another process holds the file for writing
    connect(path).close()


# ----------------------------------------------------------------------------- building
def build_warehouse(data: CRMData | str | Path, path: str | Path, *,
                    batches: Iterable[CRMData | str | Path] = (), seed: int = 0,
                    plausible_years: int = PLAUSIBLE_YEARS,
                    lock_timeout: float = LOCK_TIMEOUT,
                    memory_limit: str | None = None) -> Path:
    """Build a warehouse file from a dataset or an extracts folder, atomically.

    Parameters
    ----------
    data : CRMData or str or Path
        A dataset (a :class:`CRMData` or its folder: its own tables go straight
        into ``raw`` and ``staging``, see :mod:`crmkit.warehouse.direct`) or a
        folder of source extracts written by
        :func:`crmkit.dataset.extracts.write_extracts`.
    path : str or Path
        The DuckDB file to create. It is built in a temporary file next to it
        and renamed into place only when complete, so a failed (or killed)
        build never leaves a half-built warehouse behind.
    batches : sequence of folders
        Later batches (extracts or dataset folders) to load after the first, in order.
    seed : int
        Kept for callers of earlier versions; a dataset is no longer written as extracts.
    plausible_years : int
        Dates more than this many years before or after a batch's extraction
        day are quarantined as ``implausible_date``.
    lock_timeout : float
        Seconds to wait for another build or load of the same file.
    memory_limit : str, optional
        The most memory DuckDB may hold, e.g. ``"8GB"`` (default
        :func:`build_memory_limit`); it spills the rest to a folder next to ``path``.

    Returns the path of the warehouse.
    """
    path = Path(path)
    years = _check_years(plausible_years)
    memory_limit = _check_memory_limit(memory_limit)
    if path.exists() and path.is_dir():
        raise DatasetError(f"warehouse={str(path)!r} is a folder; give the path of a "
                           ".duckdb file.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create the folder of {str(path)!r}: "
                           f"{exc.strerror or exc}.") from None
    with _exclusive(path, lock_timeout):
        _check_target(path)
        with _replacing(path, copy=False, memory_limit=memory_limit) as con:
            _init(con)
            _load_any(con, data, years, first_build=True)
            for b in batches:
                _load_any(con, b, years)
    return path


def _load_any(con: duckdb.DuckDBPyConnection, source: CRMData | str | Path, years: int, *,
              first_build: bool = False) -> None:
    """Load a dataset (a CRMData or its folder) or a folder of source extracts."""
    from .direct import is_dataset_folder, load_dataset, read_dataset

    if isinstance(source, CRMData) or is_dataset_folder(source):
        if load_dataset(con, read_dataset(source)):
            _rebuild_marts(con)
    else:
        _load(con, Path(source), years, first_build=first_build)


def _rebuild_marts(con: duckdb.DuckDBPyConnection) -> None:
    """The staging views and every mart, from staging (money in the shop's currency)."""
    for sql in statements(STAGING_VIEWS):
        con.execute(sql)
    unit = _money_unit(con)
    for sql in MARTS.values():
        con.execute(sql, bind(sql, money_unit=unit))


def _money_unit(con: duckdb.DuckDBPyConnection) -> Decimal:
    """One minor unit of the warehouse's currency, as an exact decimal (0.01 for EUR)."""
    row = con.execute("SELECT currency FROM meta.shop").fetchall()
    return money_unit(row[0][0] if row else "EUR")


def money_unit(currency: str) -> Decimal:
    """One minor unit of ``currency`` as an exact decimal.

    >>> money_unit("EUR"), money_unit("JPY")
    (Decimal('0.01'), Decimal('1'))
    """
    from ..dataset.money import minor_digits

    return Decimal(1).scaleb(-int(minor_digits(currency)))


def load_batch(warehouse: str | Path, extracts_dir: CRMData | str | Path, *,
               plausible_years: int = PLAUSIBLE_YEARS,
               lock_timeout: float = LOCK_TIMEOUT,
               memory_limit: str | None = None) -> pd.DataFrame:
    """Append one batch (extracts, or a dataset) to an existing warehouse; return its load
    report.

    The load works on a copy that replaces the file only when complete. A
    batch already loaded with the same files changes nothing (the file is not
    even rewritten); the same batch id with different files is refused. Loads
    of one file are serialised by its lock file, so two at once both land.
    ``memory_limit`` is as in :func:`build_warehouse`.
    """
    path = Path(warehouse)
    years = _check_years(plausible_years)
    memory_limit = _check_memory_limit(memory_limit)
    if not path.exists():
        raise DatasetError(
            f"warehouse={str(warehouse)!r} does not exist; build it first with "
            "build_warehouse(data, path)."
        )
    from .direct import is_dataset_folder, read_dataset

    source: Dataset | Path
    if isinstance(extracts_dir, CRMData) or is_dataset_folder(extracts_dir):
        ds = read_dataset(extracts_dir)
        batch_id, digests, source = ds.batch_id, ds.digests, ds
    else:
        batch_id, _, digests, _ = _batch_info(Path(extracts_dir))
        source = Path(extracts_dir)
    with _exclusive(path, lock_timeout):
        _check_target(path)
        with opened(path) as con:
            if _already_loaded(con, batch_id, digests, Path(str(extracts_dir))):
                return load_report(con, batch_id=batch_id)
        with _replacing(path, copy=True, memory_limit=memory_limit) as con:
            _init(con)
            if isinstance(source, Path):
                _load(con, source, years)
            else:
                from .direct import load_dataset

                load_dataset(con, source)
                _rebuild_marts(con)
    return load_report(path, batch_id=batch_id)


def _check_years(years: object) -> int:
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or not (
            1 <= years <= 200):
        raise ParameterError(f"plausible_years={years!r} must be a whole number of years "
                             "from 1 to 200.")
    return int(years)


@contextlib.contextmanager
def _replacing(path: Path, *, copy: bool, memory_limit: str | None = None
               ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable connection to a temporary file that replaces ``path`` only on success.

    With ``copy`` the temporary file starts as a copy of ``path``; on any error
    it (and its WAL) is removed and ``path`` is left as it was. DuckDB holds at most
    ``memory_limit`` (default :func:`build_memory_limit`) and spills the rest to a
    folder next to the file, removed at the end.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp_wal = tmp.with_name(tmp.name + ".wal")
    spill = path.with_name(f".{path.name}.{os.getpid()}.spill")
    tmp.unlink(missing_ok=True)
    tmp_wal.unlink(missing_ok=True)
    try:
        if copy:
            shutil.copyfile(path, tmp)
        con = connect(tmp, read_only=False)
        limit = memory_limit or build_memory_limit()
        try:
            con.execute(f"SET memory_limit = {literal(limit)}")
            con.execute(f"SET temp_directory = {literal(spill)}")
            yield con
            con.execute("CHECKPOINT")
        except duckdb.OutOfMemoryException as exc:
            raise DatasetError(
                f"building {str(path)!r} needs more memory than DuckDB may hold "
                f"(memory_limit={limit!r}; it spills what it can to disk, but this step "
                f"cannot: {str(exc).strip().splitlines()[0]}). Nothing was changed; give "
                "a larger memory limit (--memory-limit) and run again.") from None
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp_wal.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)


#: Share of the machine's memory (or of the process's address-space limit, when that is
#: lower) DuckDB may hold while it builds or loads a warehouse; it spills the rest to disk.
BUILD_MEMORY_SHARE = 0.4

_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def build_memory_limit(share: float = BUILD_MEMORY_SHARE) -> str:
    """The memory a build lets DuckDB hold, as DuckDB's ``memory_limit`` text: ``share`` of
    the machine's memory, or of the address-space limit (``ulimit -v``) when that is lower,
    and at least 1 GiB. DuckDB's own default (80 % of the memory) ignores that limit, and a
    build then fails where it could spill.

    >>> build_memory_limit().endswith("MiB")
    True
    """
    total = _machine_memory()
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            total = min(total, soft)
    except (ImportError, OSError, ValueError):  # no address-space limit on this system
        pass
    return f"{max(int(total * share), 2**30) // 2**20}MiB"


def _machine_memory() -> int:
    """Bytes of memory of this machine (DuckDB's own reading of it where the system has no
    ``sysconf``)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        default = duckdb.connect().execute(
            "SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'").fetchall()
        return int(_parse_size(default[0][0]) / 0.8)


def _parse_size(text: str) -> float:
    """Bytes in a size as DuckDB writes it.

    >>> _parse_size("19.1 GiB"), _parse_size("512MB")
    (20508468838.4, 512000000.0)
    """
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?i?B)\s*", text, re.IGNORECASE)
    if not m:
        raise ParameterError(f"{text!r} is not a size such as '8GB' or '512MiB'.")
    unit = m.group(2).upper()
    base = 1024 if "I" in unit else 1000
    return float(m.group(1)) * float(base ** "BKMGT".index(unit[0]))


def _check_memory_limit(limit: str | None) -> str | None:
    """``limit`` if it is a size DuckDB reads (``8GB``, ``512MiB``), else a clear error.

    >>> _check_memory_limit("8GB"), _check_memory_limit(None)
    ('8GB', None)
    >>> _check_memory_limit("lots")
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: memory_limit='lots' is not a size; give a number and a unit ...
    """
    if limit is None or (isinstance(limit, str) and _SIZE.match(limit)):
        return limit
    raise ParameterError(f"memory_limit={limit!r} is not a size; give a number and a unit "
                         "such as '8GB' or '512MiB' (or leave it out for "
                         f"{BUILD_MEMORY_SHARE:.0%} of this machine's memory).")


def _init(con: duckdb.DuckDBPyConnection) -> None:
    for s in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
    con.execute(META_DDL)
    con.execute(STAGING_DDL)
    con.execute(STAGING_UPGRADE)
    con.execute("DELETE FROM staging.ref_city")
    con.executemany("INSERT INTO staging.ref_city VALUES (?)", [[c] for c in reference_cities()])
    con.execute(STAGING_VIEWS)


def reference_cities() -> list[str]:
    """The city names a source's spelling is matched against (``staging.ref_city``)."""
    return sorted({c[0] for c in LOCAL_CITIES + NATIONAL_CITIES})


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0]


def _raw_ddl(spec: FileSpec) -> str:
    """The ``raw`` table of one extract file: its columns as text, and where each row came
    from (batch, file, line, when loaded)."""
    cols = ", ".join(f"{ident(c)} VARCHAR" for c in spec.columns)
    return (f"CREATE TABLE IF NOT EXISTS raw.{ident(_stem(spec.name))} ({cols}, "
            "_batch_id VARCHAR, _file VARCHAR, _line BIGINT, _loaded_at TIMESTAMP)")


def _batch_to_load(folder: Path, *, first_build: bool = False
                   ) -> tuple[str, date | None, dict[str, str], list[str]]:
    """:func:`_batch_info` of a folder of extracts, which a first build refuses when a
    master file (:data:`MASTER_FILES`) is missing."""
    batch_id, extracted, digests, present = _batch_info(folder)
    if first_build:
        missing = [m for m in MASTER_FILES if m not in present]
        if missing:
            raise DatasetError(
                f"extracts folder {str(folder)!r} lacks {', '.join(missing)}: a first build "
                "needs the customer sheet, the web catalogue and the till's article codes, "
                "or every sale and contact would be quarantined. Add the file(s) and run "
                "again.")
    return batch_id, extracted, digests, present


def _batch_info(folder: Path) -> tuple[str, date | None, dict[str, str], list[str]]:
    if not folder.is_dir():
        raise DatasetError(
            f"extracts folder {str(folder)!r} does not exist; write one with "
            "crmkit.dataset.extracts.write_extracts(data, folder)."
        )
    present = [name for name in FILES if (folder / name).is_file()]
    if not present and (folder / "manifest.json").exists():
        raise DatasetError(
            f"{str(folder)!r} is a dataset folder (one file per table and manifest.json), "
            "not source extracts: build from it with `crmkit warehouse build shop.duckdb "
            f"--data {folder}` (in Python: build_warehouse(CRMData.load(folder), path))."
        )
    if not present:
        raise DatasetError(
            f"extracts folder {str(folder)!r} holds none of the expected files: "
            + ", ".join(FILES) + "."
        )
    digests = {name: file_digest(folder / name) for name in present}
    manifest = read_json(folder / MANIFEST_NAME)
    if not isinstance(manifest, dict):
        raise DatasetError(f"{folder / MANIFEST_NAME}: expected a JSON object with batch_id "
                           "and extracted_at.")
    batch_id = manifest.get("batch_id")
    if batch_id is None:
        joined = "".join(f"{k}:{v};" for k, v in sorted(digests.items()))
        batch_id = "b-" + hashlib.sha256(joined.encode()).hexdigest()[:12]
    if not _BATCH_RE.match(str(batch_id)):
        raise DatasetError(
            f"{folder / MANIFEST_NAME}: batch_id={batch_id!r} may only hold letters, digits, "
            "'_', '-' and '.' (at most 64 characters)."
        )
    extracted = manifest.get("extracted_at")
    if extracted is not None:
        try:
            extracted = date.fromisoformat(str(extracted)[:10])
        except ValueError:
            raise DatasetError(
                f"{folder / MANIFEST_NAME}: extracted_at={extracted!r} is not a date; write "
                "it as YYYY-MM-DD (or leave it out).") from None
    return str(batch_id), extracted, digests, present


def _already_loaded(con: duckdb.DuckDBPyConnection, batch_id: str, digests: dict[str, str],
                    folder: Path) -> bool:
    known = con.execute("SELECT file, sha256 FROM meta.files WHERE batch_id = ?",
                        [batch_id]).fetchall()
    if not known:
        return False
    if dict(known) != digests:
        raise DatasetError(
            f"batch {batch_id!r} (from {str(folder)!r}) was already loaded with different "
            "files; a warehouse never rewrites a batch. Give the new files a new batch_id "
            f"in {MANIFEST_NAME}."
        )
    return True


def _check_header(path: Path, header: list[str], spec: FileSpec) -> None:
    header = [h.strip() for h in header]
    if header != list(spec.header):
        missing = [h for h in spec.header if h not in header]
        raise DatasetError(
            f"{path}, line 1: the header does not match the {spec.system} export "
            f"{spec.name!r}; expected {spec.delimiter!r}-separated columns "
            f"{', '.join(spec.header)}"
            + (f" (missing: {', '.join(missing)})" if missing else " (in that order)") + "."
        )


def _check_headers(folder: Path, present: Iterable[str]) -> None:
    """Every present file's header, before anything is loaded: a wrong file stops the batch
    before it starts."""
    for name in present:
        spec = FILES[name]
        _check_header(folder / name, read_header(folder / name, encoding=spec.encoding,
                                                 delimiter=spec.delimiter), spec)


def _window(extracted: date | None, years: int) -> tuple[date, date, date]:
    """The days a batch's dates are believed in: (first, last, extraction day)."""
    anchor = extracted or date.today()
    lo = date(max(anchor.year - years, 1), 1, 1)
    hi = date(min(anchor.year + years, 9998), 12, 31)
    return lo, hi, date(anchor.year, anchor.month, anchor.day)


def _load(con: duckdb.DuckDBPyConnection, folder: Path, years: int = PLAUSIBLE_YEARS, *,
          first_build: bool = False) -> None:
    """Load one batch of extracts into raw, staging and quarantine, then rebuild marts."""
    batch_id, extracted, digests, present = _batch_to_load(folder, first_build=first_build)
    if _already_loaded(con, batch_id, digests, folder):
        return
    for spec in FILES.values():
        con.execute(_raw_ddl(spec))
    _check_headers(folder, present)
    seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM meta.batches").fetchall()[0][0]
    now = load_clock()
    con.execute("INSERT INTO meta.batches VALUES (?, ?, ?, ?, ?)",
                [batch_id, seq, extracted, now, str(folder)])
    if not con.execute("SELECT count(*) FROM meta.shop").fetchall()[0][0]:
        con.execute("INSERT INTO meta.shop VALUES ('EUR')")  # the extracts' money is in euros
    lo, hi, anchor = _window(extracted, years)
    # each file's check runs in a thread while DuckDB (which leaves Python's lock free) reads
    # and stages the files before it
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        checks = {name: pool.submit(_check_plain, folder / name, FILES[name])
                  for name in present}
        for name in present:
            _load_file(con, folder, name, checks[name].result(), batch_id, seq, now,
                       digests[name], (lo, hi, anchor))
    finally:
        pool.shutdown(cancel_futures=True)
    _rebuild_marts(con)


def _load_file(con: duckdb.DuckDBPyConnection, folder: Path, name: str,
               check: tuple[str | None, int], batch_id: str, seq: int, now: datetime,
               digest: str, window: tuple[date, date, date]) -> None:
    """Read one extract into raw, stage it, and write its line of the load report."""
    spec = FILES[name]
    lo, hi, anchor = window
    rows_read, rejected, lines_in_file, whole = _read_raw(con, folder / name, spec,
                                                          batch_id, now, check)
    con.execute("INSERT INTO meta.files VALUES (?, ?, ?, ?)",
                [batch_id, name, digest, lines_in_file])
    loaded, quarantined, inferred = _stage(con, name, batch_id, seq, lo, hi, anchor,
                                           rejected)
    con.execute(
        "INSERT INTO meta.load_report VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [batch_id, name, spec.system, rows_read, loaded, quarantined, lines_in_file,
         rows_read == loaded + quarantined and whole, inferred])


def _check_plain(path: Path, spec: FileSpec) -> tuple[str | None, int]:
    """Why ``path`` must be read line by line (None when DuckDB's reader reads it right,
    see :func:`crmkit.sources.lines.plain_text`), and how many lines it has."""
    data = path.read_bytes()
    why = plain_text(data, encoding=spec.encoding, delimiter=spec.delimiter)
    return why, data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _read_raw(con: duckdb.DuckDBPyConnection, path: Path, spec: FileSpec, batch_id: str,
              now: datetime, check: tuple[str | None, int] | None = None
              ) -> tuple[int, int, int, bool]:
    """Read one file into raw.<file>; lines it cannot use go to quarantine.

    A plain file (see :func:`crmkit.sources.lines.plain_text`: quoted fields are
    allowed when each closes on its own line) is read by DuckDB's CSV reader,
    where every physical line is one row; any other file by
    :func:`crmkit.sources.lines.read_delimited`, line by line. Both give the same
    rows with the same line numbers; the first is many times faster on large
    files. Returns rows read, rows rejected, lines in the file and whether every
    line was accounted for.
    """
    why, lines_in_file = _check_plain(path, spec) if check is None else check
    if why is None:
        read, rejected = _read_plain(con, path, spec, batch_id, now)
        return read, rejected, lines_in_file, read == lines_in_file - 1
    got = read_delimited(path, n_fields=len(spec.columns), encoding=spec.encoding,
                         delimiter=spec.delimiter,
                         on_chunk=lambda records, rejects: _insert_records(
                             con, records, rejects, spec, batch_id, now))
    return got.rows_read, got.n_rejects, got.lines_in_file, got.balanced


def _read_plain(con: duckdb.DuckDBPyConnection, path: Path, spec: FileSpec, batch_id: str,
                now: datetime) -> tuple[int, int]:
    """DuckDB's CSV reader on a plain file, straight into raw.<file>, in one pass.

    The rows land first in a new temporary table, in the file's order (the reader
    runs on every core, and insertion order is kept), so the n-th row read has
    ``rowid`` n - 1 there and lies on line n + 1 plus the rejected lines above it
    (:func:`line_offsets`). Numbering the rows this way costs nothing, where a
    ``row_number() OVER ()`` on the read would run on one core. Structural
    rejects go to quarantine with their line and text.
    """
    table = f"raw.{ident(_stem(spec.name))}"
    columns = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in spec.columns) + "}"
    cols = ", ".join(ident(c) for c in spec.columns)
    con.execute("DROP TABLE IF EXISTS _rejects; DROP TABLE IF EXISTS _reject_scans; "
                "SET preserve_insertion_order = true")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _read AS SELECT *
        FROM read_csv({literal(path)}, delim={literal(spec.delimiter)},
            header=true, columns={columns}, encoding={literal(spec.encoding)},
            quote='"', escape='"', auto_detect=false, store_rejects=true,
            rejects_table='_rejects', rejects_scan='_reject_scans')""")
    rejects = con.execute(
        "SELECT line, string_agg(error_type || ': ' || error_message, '; ') AS detail, "
        "any_value(csv_line) AS record FROM _rejects GROUP BY line ORDER BY line").df()
    n_ok = _insert_read(con, table, cols, rejects["line"].tolist(),
                        {"batch": batch_id, "file": spec.name, "now": now})
    con.execute("DROP TABLE _read")
    if len(rejects):
        rejects.insert(0, "file", spec.name)
        rejects.insert(0, "batch_id", batch_id)
        con.register("_rej", rejects)
        con.execute("INSERT INTO quarantine.rows SELECT batch_id, file, line, "
                    "'malformed_line', detail, record FROM _rej")
        con.unregister("_rej")
    con.execute("DROP TABLE IF EXISTS _rejects; DROP TABLE IF EXISTS _reject_scans")
    return int(n_ok + len(rejects)), len(rejects)


#: Up to this many runs of rejected lines, the rows between two runs go in by one INSERT
#: each (a range of rowids, one offset); past it, one ASOF join gives every row its offset.
_FEW_RUNS = 16


def _insert_read(con: duckdb.DuckDBPyConnection, table: str, cols: str, bad_lines: list[int],
                 params: dict[str, object]) -> int:
    """The rows of the temporary table ``_read`` into ``table``, each on its true line;
    returns how many."""
    insert = (f"INSERT INTO {table} SELECT {cols}, $batch, $file, r.rowid + 2 + {{offset}}, "
              "$now FROM _read r")
    offsets = line_offsets(bad_lines)
    if not offsets:
        return int(con.execute(insert.format(offset=0), params).fetchall()[0][0])
    if len(offsets) > _FEW_RUNS:
        con.register("_offsets", pa.table({"_from": [f for f, _ in offsets],
                                           "_k": [k for _, k in offsets]}))
        try:
            return int(con.execute(
                insert.format(offset="coalesce(o._k, 0)")
                + " ASOF LEFT JOIN _offsets o ON r.rowid + 2 >= o._from", params
            ).fetchall()[0][0])
        finally:
            con.unregister("_offsets")
    n = 0
    # a row numbered p (rowid + 2) with from_i <= p < from_(i+1) lies k_i lines lower
    for (lo, k), hi in zip([(2, 0), *offsets], [f for f, _ in offsets] + [None], strict=True):
        where = " WHERE r.rowid >= $lo" + ("" if hi is None else " AND r.rowid < $hi")
        n += int(con.execute(insert.format(offset=k) + where,
                             {**params, "lo": lo - 2, **({} if hi is None else {"hi": hi - 2})}
                             ).fetchall()[0][0])
    return n


def line_offsets(bad_lines: Iterable[int]) -> list[tuple[int, int]]:
    """How far down the rows read lie when the lines ``bad_lines`` were rejected.

    A row numbered p (its place among the rows read, plus one) lies below every
    rejected line b_j (sorted, j from 0) with b_j - j <= p, so its line is p plus
    how many such rejects there are. Returns ``(from, k)`` pairs, ``from``
    increasing: rows numbered ``from`` or more (up to the next ``from``) move down ``k``
    lines.

    >>> line_offsets([3, 4, 8])  # rows 2 | 3 4 5 | 6 ... -> lines 2 | 5 6 7 | 9 ...
    [(3, 2), (6, 3)]
    >>> line_offsets([])
    []
    """
    out: dict[int, int] = {}
    for j, b in enumerate(sorted(set(bad_lines))):
        out[b - j] = j + 1
    return list(out.items())


def _insert_records(con: duckdb.DuckDBPyConnection, records: list[Record],
                    rejects: list[Reject], spec: FileSpec, batch_id: str,
                    now: datetime) -> None:
    """Put records read line by line into raw.<file>, and rejected lines into quarantine."""
    stem = _stem(spec.name)
    if records:
        columns = list(zip(*[r.fields for r in records], strict=True))
        arrays = {c: pa.array(v, pa.string()) for c, v in zip(spec.columns, columns,
                                                              strict=True)}
        arrays["_line"] = pa.array([r.line for r in records], pa.int64())
        con.register("_rows", pa.table(arrays))
        cols = ", ".join(ident(c) for c in spec.columns)
        con.execute(f"INSERT INTO raw.{ident(stem)} SELECT {cols}, ?, ?, _line, ? FROM _rows",
                    [batch_id, spec.name, now])
        con.unregister("_rows")
    if rejects:
        con.register("_rej", pa.table({
            "line": pa.array([r.line for r in rejects], pa.int64()),
            "reason": pa.array([r.reason for r in rejects], pa.string()),
            "detail": pa.array([r.detail for r in rejects], pa.string()),
            "record": pa.array([r.text for r in rejects], pa.string())}))
        con.execute("INSERT INTO quarantine.rows SELECT ?, ?, line, reason, detail, record "
                    "FROM _rej", [batch_id, spec.name])
        con.unregister("_rej")


def _stage(con: duckdb.DuckDBPyConnection, name: str, batch_id: str, seq: int, lo: date,
           hi: date, anchor: date,
           rejected: int) -> tuple[int, int, int]:
    """Type and check one file's rows of this batch; split them into staging and quarantine."""
    sql = STAGING[name]
    params = bind(sql, batch=batch_id, lo=lo, hi=hi, anchor=anchor)
    loaded, held, inferred = _stage_rows(con, STAGING_TABLE[name], _stem(name), sql, params,
                                         batch_id, seq)
    return loaded, held + rejected, inferred


def _stage_rows(con: duckdb.DuckDBPyConnection, table: str, raw: str, sql: str,
                params: dict[str, object], batch_id: str, seq: int) -> tuple[int, int, int]:
    """Rows of ``sql`` (typed, with ``_final_reason``) into ``staging.<table>`` when usable,
    into quarantine (with the raw record) when not. Returns rows loaded, rows quarantined
    and rows loaded against an inferred member of a dimension (a product or customer the
    warehouse does not know yet)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS {sql}", params)
    if "_detail" not in [r[0] for r in con.execute("DESCRIBE _typed").fetchall()]:
        con.execute("ALTER TABLE _typed ADD COLUMN _detail VARCHAR")
    cols = [r[0] for r in con.execute(f"DESCRIBE staging.{table}").fetchall()]
    select = ", ".join("?" if c == "batch_id" else "?::INTEGER" if c == "batch_seq" else c
                       for c in cols)
    con.execute(f"INSERT INTO staging.{table} SELECT {select} FROM _typed "
                "WHERE _final_reason IS NULL", [batch_id, seq])
    con.execute(f"""
        INSERT INTO quarantine.rows
        SELECT ?, t.file, t.line, t._final_reason, t._detail, to_json(r)
        FROM _typed t JOIN raw.{ident(raw)} r ON r._batch_id = ? AND r._line = t.line
        WHERE t._final_reason IS NOT NULL""", [batch_id, batch_id])
    loaded = con.execute("SELECT count(*) FILTER (WHERE _final_reason IS NULL), "
                         "count(*) FILTER (WHERE _final_reason IS NOT NULL) "
                         "FROM _typed").fetchall()[0]
    inferred = _inferred(con, table, cols, batch_id)
    con.execute("DROP TABLE _typed")
    return int(loaded[0]), int(loaded[1]), inferred


def _inferred(con: duckdb.DuckDBPyConnection, table: str, cols: list[str],
              batch_id: str) -> int:
    """Rows of this batch in ``staging.<table>`` whose product or customer is not known."""
    sql = inferred_sql(table, cols)
    if sql is None:
        return 0
    return int(con.execute(sql, bind(sql, batch=batch_id)).fetchall()[0][0])


def inferred_sql(table: str, cols: Iterable[str]) -> str | None:
    """SELECT counting this batch's usable rows for ``staging.<table>`` (the rows of
    ``_typed`` without a ``_final_reason``, just staged) that name a product or customer
    the warehouse does not know; ``None`` when the table names neither.

    It reads ``_typed`` (in memory, this file's rows only) rather than the staging table.
    """
    if "customer_ref" not in cols:
        return None
    cond = ["customer_ref IS NOT NULL",
            "(customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM staging.customer_rows c "
            "WHERE c.customer_id = s.customer_id))"]
    if "product_ref" in cols:
        cond += ["product_ref IS NOT NULL",
                 "(product_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM staging.products p "
                 "WHERE p.product_id = s.product_id))"]
    return (f"SELECT count(*) FROM _typed s WHERE _final_reason IS NULL AND "
            f"({' OR '.join(cond)})")


# ----------------------------------------------------------------------------- reading
def load_report(warehouse: WarehouseLike, *, batch_id: str | None = None) -> pd.DataFrame:
    """Per batch and file: rows read, loaded and quarantined, and whether they balance.

    ``balanced`` is true when rows read = rows loaded + rows quarantined and
    every line of the file (but the header) was read.
    """
    sql = "SELECT r.* FROM meta.load_report r JOIN meta.batches b USING (batch_id)"
    params: list[object] = []
    if batch_id is not None:
        sql += " WHERE r.batch_id = ?"
        params = [batch_id]
    sql += " ORDER BY b.seq, r.file"
    return query(warehouse, sql, params)


def quarantine(warehouse: WarehouseLike, *, batch_id: str | None = None) -> pd.DataFrame:
    """Every quarantined row: batch, file, line, reason, detail and the record as read."""
    sql = "SELECT * FROM quarantine.rows"
    params: list[object] = []
    if batch_id is not None:
        sql += " WHERE batch_id = ?"
        params = [batch_id]
    return query(warehouse, sql + " ORDER BY batch_id, file, line", params)


def customer_as_of(warehouse: WarehouseLike, day: str | date | pd.Timestamp, *,
                   customer_id: npt.ArrayLike | None = None) -> pd.DataFrame:
    """The customer dimension as it stood on ``day``: one row per customer then known.

    Type 2 attributes (address, city, postal code, country, segment) are the
    ones valid that day; type 1 attributes (name, e-mail, ...) are the latest.
    """
    ts = parse_day("day", day)
    sql = ("SELECT * FROM marts.dim_customer WHERE customer_id <> -1 "
           "AND valid_from <= CAST(? AS DATE) AND CAST(? AS DATE) < valid_to")
    params: list[object] = [ts.date(), ts.date()]
    if customer_id is not None:
        ids = ([int(cast(int, customer_id))] if np.ndim(customer_id) == 0
               else [int(c) for c in cast("Iterable[int]", customer_id)])
        sql += " AND customer_id IN (SELECT unnest(?::BIGINT[]))"
        params.append(ids)
    return query(warehouse, sql + " ORDER BY customer_id", params)


def _linked(view: str) -> str:
    """The rows of a ``staging`` view with the customer the marts link them to (who a row
    names is matched against every customer row loaded so far, as ``orders_current``
    does)."""
    return (f"SELECT v.* EXCLUDE (customer_id), coalesce(v.customer_id, ci.customer_id) AS "
            f"customer_id FROM staging.{view} v "
            "LEFT JOIN staging.customer_ident ci ON ci.ref = v.customer_ref")


_READ = {
    "customers": "SELECT * EXCLUDE (card, updated) FROM staging.customers_current",
    "products": "SELECT * FROM staging.products_current",
    "orders": "SELECT * FROM staging.orders_current",
    "order_lines": "SELECT order_id, line_number, product_id, quantity, unit_price, discount, "
                   "amount_cents FROM staging.order_lines_current",
    "campaigns": "SELECT * FROM staging.campaigns_current",
    "campaign_contacts": _linked("campaign_contacts_current"),
    "web_sessions": _linked("web_sessions_current"),
    "tickets": _linked("tickets_current"),
}


def read_tables(warehouse: WarehouseLike) -> dict[str, pd.DataFrame]:
    """The integrated, cleansed sources as canonical tables (see :mod:`crmkit.dataset.schema`).

    Rows are sorted by key and cast with :func:`crmkit.dataset.schema.conform`, so they
    compare directly with the :class:`CRMData` the extracts were written from.
    """
    out: dict[str, pd.DataFrame] = {}
    with opened(warehouse) as con:
        for name, sql in _READ.items():
            df = con.execute(sql).df()
            # money columns the sources lack are filled by conform's documented rules
            df = df[[c for c in SCHEMA[name].column_names if c in df.columns]]
            df = df.sort_values(list(SCHEMA[name].key), kind="stable").reset_index(drop=True)
            out[name] = conform(name, df)
    return out
