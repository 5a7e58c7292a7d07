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
import csv
import hashlib
import io
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..dataset.crmdata import CRMData, read_json
from ..dataset.extracts import FILES, MANIFEST_NAME, write_extracts
from ..dataset.names import LOCAL_CITIES, NATIONAL_CITIES
from ..dataset.schema import SCHEMA, conform
from ..errors import DatasetError, ParameterError
from .sql import (
    MARTS,
    META_DDL,
    SCHEMAS,
    STAGING,
    STAGING_DDL,
    STAGING_TABLE,
    STAGING_VIEWS,
)

__all__ = [
    "build_warehouse",
    "load_batch",
    "load_report",
    "quarantine",
    "customer_as_of",
    "read_tables",
    "query",
    "connect",
]

_BATCH_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


# ----------------------------------------------------------------------------- connections
def connect(warehouse, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open a warehouse file (read-only by default) with the session settings it needs.

    >>> connect("no/such/file.duckdb")
    Traceback (most recent call last):
    ...
    crmkit.errors.DatasetError: warehouse='no/such/file.duckdb' does not exist; ...
    """
    path = Path(warehouse)
    if read_only and not path.exists():
        raise DatasetError(
            f"warehouse={str(warehouse)!r} does not exist; build it first with "
            "crmkit.warehouse.build.build_warehouse(data, path)."
        )
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    return con


@contextlib.contextmanager
def _open(warehouse):
    """A connection for a path (closed afterwards) or the caller's own connection."""
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        yield warehouse
    else:
        con = connect(warehouse)
        try:
            yield con
        finally:
            con.close()


def query(warehouse, sql: str, params=None) -> pd.DataFrame:
    """Run one SQL query on a warehouse (path or connection) and return a DataFrame.

    >>> query(duckdb.connect(), "SELECT 1 + 1 AS two")["two"].tolist()
    [2]
    """
    with _open(warehouse) as con:
        return con.execute(sql, params or []).df()


# ----------------------------------------------------------------------------- building
def build_warehouse(data, path, *, batches=(), seed: int = 0) -> Path:
    """Build a warehouse file from a :class:`CRMData` or an extracts folder, atomically.

    Parameters
    ----------
    data : CRMData or str or Path
        A dataset (written as clean extracts first, so every source takes the
        same path) or a folder written by :func:`crmkit.dataset.extracts.write_extracts`.
    path : str or Path
        The DuckDB file to create. It is built in a temporary file next to it
        and renamed into place only when complete, so a failed build never
        leaves a half-built warehouse behind.
    batches : sequence of folders
        Later extract batches to load after the first, in order.
    seed : int
        Seed for writing extracts from a :class:`CRMData`.

    Returns the path of the warehouse.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crmkit-extracts-") as work:
        if isinstance(data, CRMData):
            write_extracts(_full(data), work, seed=seed, bad_rows=False)
            first = Path(work)
        else:
            first = Path(data)
        with _replacing(path, copy=False) as con:
            _init(con)
            _load(con, first)
            for b in batches:
                _load(con, Path(b))
    return path


def _full(data: CRMData) -> CRMData:
    """Every table, for the extracts writer: a shop's absent tables are empty, and when it
    has no customer file its buyers are customers known only by number (every other field
    empty), so the warehouse keeps who bought what."""
    if not data.absent:
        return data
    full = data.complete()
    if not data.has("customers"):
        ids = np.sort(data.orders["customer_id"].dropna().unique().astype("int64"))
        stub = {c.name: pd.Series([None] * len(ids), dtype="object")
                for c in SCHEMA["customers"].columns}
        stub.update(customer_id=ids, email_consent=False, phone_consent=False,
                    signup_date=pd.Series(pd.NaT, index=range(len(ids))))
        full.tables["customers"] = conform("customers", pd.DataFrame(stub))
    return full


def load_batch(warehouse, extracts_dir) -> pd.DataFrame:
    """Append one batch of extracts to an existing warehouse; return its load report.

    The load works on a copy that replaces the file only when complete. A
    batch already loaded with the same files changes nothing (the file is not
    even rewritten); the same batch id with different files is refused.
    """
    path = Path(warehouse)
    if not path.exists():
        raise DatasetError(
            f"warehouse={str(warehouse)!r} does not exist; build it first with "
            "build_warehouse(data, path)."
        )
    batch_id, _, digests, _ = _batch_info(Path(extracts_dir))
    with _open(path) as con:
        if _already_loaded(con, batch_id, digests, Path(extracts_dir)):
            return load_report(con, batch_id=batch_id)
    with _replacing(path, copy=True) as con:
        _load(con, Path(extracts_dir))
    return load_report(path, batch_id=batch_id)


@contextlib.contextmanager
def _replacing(path: Path, *, copy: bool):
    """A writable connection to a temporary file that replaces ``path`` only on success.

    With ``copy`` the temporary file starts as a copy of ``path``; on any error
    it is removed and ``path`` is left as it was.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        if copy:
            shutil.copyfile(path, tmp)
        con = connect(tmp, read_only=False)
        try:
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _init(con) -> None:
    for s in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
    con.execute(META_DDL)
    con.execute(STAGING_DDL)
    for spec in FILES.values():
        cols = ", ".join(f"{c} VARCHAR" for c in spec.columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{_stem(spec.name)} ({cols}, "
                    "_batch_id VARCHAR, _file VARCHAR, _line BIGINT, _loaded_at TIMESTAMP)")
    cities = sorted({c[0] for c in LOCAL_CITIES + NATIONAL_CITIES})
    con.execute("DELETE FROM staging.ref_city")
    con.executemany("INSERT INTO staging.ref_city VALUES (?)", [[c] for c in cities])
    con.execute(STAGING_VIEWS)


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0]


def _digest(path: Path) -> tuple[str, int]:
    h, lines = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
            lines += chunk.count(b"\n")
    return h.hexdigest(), lines


def _batch_info(folder: Path):
    if not folder.is_dir():
        raise DatasetError(
            f"extracts folder {str(folder)!r} does not exist; write one with "
            "crmkit.dataset.extracts.write_extracts(data, folder)."
        )
    present = [name for name in FILES if (folder / name).exists()]
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
    digests = {name: _digest(folder / name) for name in present}
    manifest = read_json(folder / MANIFEST_NAME)
    batch_id = manifest.get("batch_id")
    if batch_id is None:
        joined = "".join(f"{k}:{v[0]};" for k, v in sorted(digests.items()))
        batch_id = "b-" + hashlib.sha256(joined.encode()).hexdigest()[:12]
    if not _BATCH_RE.match(str(batch_id)):
        raise DatasetError(
            f"{folder / MANIFEST_NAME}: batch_id={batch_id!r} may only hold letters, digits, "
            "'_', '-' and '.' (at most 64 characters)."
        )
    extracted = manifest.get("extracted_at")
    return str(batch_id), extracted, digests, present


def _already_loaded(con, batch_id: str, digests: dict, folder: Path) -> bool:
    known = con.execute("SELECT file, sha256 FROM meta.files WHERE batch_id = ?",
                        [batch_id]).fetchall()
    if not known:
        return False
    if dict(known) != {k: v[0] for k, v in digests.items()}:
        raise DatasetError(
            f"batch {batch_id!r} (from {str(folder)!r}) was already loaded with different "
            "files; a warehouse never rewrites a batch. Give the new files a new batch_id "
            f"in {MANIFEST_NAME}."
        )
    return True


def _check_header(path: Path, spec) -> None:
    with open(path, encoding=spec.encoding, newline="") as f:
        first = f.readline()
    header = next(csv.reader(io.StringIO(first), delimiter=spec.delimiter), [])
    header = [h.strip() for h in header]
    if header != list(spec.header):
        missing = [h for h in spec.header if h not in header]
        raise DatasetError(
            f"{path}, line 1: the header does not match the {spec.system} export "
            f"{spec.name!r}; expected {spec.delimiter!r}-separated columns "
            f"{', '.join(spec.header)}"
            + (f" (missing: {', '.join(missing)})" if missing else " (in that order)") + "."
        )


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _load(con, folder: Path) -> None:
    """Load one batch of extracts into raw, staging and quarantine, then rebuild marts."""
    batch_id, extracted, digests, present = _batch_info(folder)
    if _already_loaded(con, batch_id, digests, folder):
        return
    for name in present:
        _check_header(folder / name, FILES[name])
    seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM meta.batches").fetchall()[0][0]
    now = datetime.now().replace(microsecond=0)
    con.execute("INSERT INTO meta.batches VALUES (?, ?, ?, ?, ?)",
                [batch_id, seq, extracted, now, str(folder)])
    for name in present:
        spec = FILES[name]
        file_path = folder / name
        sha, newlines = digests[name]
        size = file_path.stat().st_size
        lines_in_file = newlines + (1 if size and not _ends_with_newline(file_path) else 0)
        con.execute("INSERT INTO meta.files VALUES (?, ?, ?, ?)",
                    [batch_id, name, sha, lines_in_file])
        read = _read_raw(con, file_path, spec, batch_id, now)
        loaded, quarantined = _stage(con, name, batch_id, seq)
        con.execute(
            "INSERT INTO meta.load_report VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [batch_id, name, spec.system, read, loaded, quarantined, lines_in_file,
             read == loaded + quarantined and read == lines_in_file - 1])
    con.execute(STAGING_VIEWS)
    con.execute(MARTS)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _read_raw(con, path: Path, spec, batch_id: str, now) -> int:
    """Read a file as text into raw.<file>; structural rejects go to quarantine."""
    stem = _stem(spec.name)
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in spec.columns) + "}"
    con.execute("DROP TABLE IF EXISTS _rejects; DROP TABLE IF EXISTS _reject_scans")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _read AS
        SELECT * FROM read_csv({_sql_text(path)}, delim={_sql_text(spec.delimiter)},
            header=true, columns={columns}, encoding={_sql_text(spec.encoding)},
            quote='"', escape='"', auto_detect=false, store_rejects=true,
            rejects_table='_rejects', rejects_scan='_reject_scans')""")
    rejects = con.execute(
        "SELECT line, string_agg(error_type || ': ' || error_message, '; ') AS detail, "
        "any_value(csv_line) AS record FROM _rejects GROUP BY line ORDER BY line").df()
    n_ok = con.execute("SELECT count(*) FROM _read").fetchall()[0][0]
    bad_lines = rejects["line"].to_numpy(dtype=np.int64)
    # accepted rows keep the file's order: they fill the lines the rejects left free
    all_lines = np.arange(2, n_ok + len(bad_lines) + 2, dtype=np.int64)
    lines = pd.DataFrame({"_line": np.setdiff1d(all_lines, bad_lines, assume_unique=True)})
    cols = ", ".join(f"r.{c}" for c in spec.columns)
    con.register("_lines", lines)
    con.execute(f"""
        INSERT INTO raw.{stem}
        SELECT {cols}, ?, ?, l._line, ? FROM _read r POSITIONAL JOIN _lines l""",
                [batch_id, spec.name, now])
    con.unregister("_lines")
    if len(rejects):
        rejects.insert(0, "file", spec.name)
        rejects.insert(0, "batch_id", batch_id)
        con.register("_rej", rejects)
        con.execute("INSERT INTO quarantine.rows SELECT batch_id, file, line, "
                    "'malformed_line', detail, record FROM _rej")
        con.unregister("_rej")
    con.execute("DROP TABLE _read")
    return int(n_ok + len(bad_lines))


def _stage(con, name: str, batch_id: str, seq: int) -> tuple[int, int]:
    """Type and check one file's rows of this batch; split them into staging and quarantine."""
    table = STAGING_TABLE[name]
    sql = STAGING[name].replace("{batch}", batch_id)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS {sql}")
    cols = [r[0] for r in con.execute(f"DESCRIBE staging.{table}").fetchall()]
    select = ", ".join("?" if c == "batch_id" else "?::INTEGER" if c == "batch_seq" else c
                       for c in cols)
    con.execute(f"INSERT INTO staging.{table} SELECT {select} FROM _typed "
                "WHERE _final_reason IS NULL", [batch_id, seq])
    stem = _stem(name)
    con.execute(f"""
        INSERT INTO quarantine.rows
        SELECT ?, t.file, t.line, t._final_reason, t._detail, to_json(r)
        FROM _typed t JOIN raw.{stem} r ON r._batch_id = ? AND r._line = t.line
        WHERE t._final_reason IS NOT NULL""", [batch_id, batch_id])
    loaded = con.execute("SELECT count(*) FILTER (WHERE _final_reason IS NULL), "
                         "count(*) FILTER (WHERE _final_reason IS NOT NULL) "
                         "FROM _typed").fetchall()[0]
    structural = con.execute("SELECT count(*) FROM quarantine.rows WHERE batch_id = ? "
                             "AND file = ? AND reason = 'malformed_line'",
                             [batch_id, name]).fetchall()[0][0]
    con.execute("DROP TABLE _typed")
    return int(loaded[0]), int(loaded[1] + structural)


# ----------------------------------------------------------------------------- reading
def load_report(warehouse, *, batch_id: str | None = None) -> pd.DataFrame:
    """Per batch and file: rows read, loaded and quarantined, and whether they balance.

    ``balanced`` is true when rows read = rows loaded + rows quarantined and
    every line of the file (but the header) was read.
    """
    sql = "SELECT r.* FROM meta.load_report r JOIN meta.batches b USING (batch_id)"
    params = []
    if batch_id is not None:
        sql += " WHERE r.batch_id = ?"
        params = [batch_id]
    sql += " ORDER BY b.seq, r.file"
    return query(warehouse, sql, params)


def quarantine(warehouse, *, batch_id: str | None = None) -> pd.DataFrame:
    """Every quarantined row: batch, file, line, reason, detail and the record as read."""
    sql = "SELECT * FROM quarantine.rows"
    params = []
    if batch_id is not None:
        sql += " WHERE batch_id = ?"
        params = [batch_id]
    return query(warehouse, sql + " ORDER BY batch_id, file, line", params)


def customer_as_of(warehouse, day, *, customer_id=None) -> pd.DataFrame:
    """The customer dimension as it stood on ``day``: one row per customer then known.

    Type 2 attributes (address, city, postal code, country, segment) are the
    ones valid that day; type 1 attributes (name, e-mail, ...) are the latest.
    """
    try:
        ts = pd.Timestamp(day)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"day={day!r} is not a date; write it as YYYY-MM-DD.") from exc
    if pd.isna(ts):
        raise ParameterError(f"day={day!r} is not a date; write it as YYYY-MM-DD.")
    sql = ("SELECT * FROM marts.dim_customer WHERE customer_id <> -1 "
           "AND valid_from <= CAST(? AS DATE) AND CAST(? AS DATE) < valid_to")
    params: list = [ts.date(), ts.date()]
    if customer_id is not None:
        ids = [int(customer_id)] if np.ndim(customer_id) == 0 else [int(c) for c in customer_id]
        sql += " AND customer_id IN (SELECT unnest(?::BIGINT[]))"
        params.append(ids)
    return query(warehouse, sql + " ORDER BY customer_id", params)


_READ = {
    "customers": "SELECT * EXCLUDE (card, updated) FROM staging.customers_current",
    "products": "SELECT * FROM staging.products_current",
    "orders": "SELECT * FROM staging.orders_current",
    "order_lines": "SELECT order_id, line_number, product_id, quantity, unit_price, discount "
                   "FROM staging.order_lines_current",
    "campaigns": "SELECT * FROM staging.campaigns_current",
    "campaign_contacts": "SELECT * FROM staging.campaign_contacts_current",
    "web_sessions": "SELECT * FROM staging.web_sessions_current",
    "tickets": "SELECT * FROM staging.tickets_current",
}


def read_tables(warehouse) -> dict[str, pd.DataFrame]:
    """The integrated, cleansed sources as canonical tables (see :mod:`crmkit.dataset.schema`).

    Rows are sorted by key and cast with :func:`crmkit.dataset.schema.conform`, so they
    compare directly with the :class:`CRMData` the extracts were written from.
    """
    out = {}
    with _open(warehouse) as con:
        for name, sql in _READ.items():
            df = con.execute(sql).df()
            df = df[SCHEMA[name].column_names]
            df = df.sort_values(list(SCHEMA[name].key), kind="stable").reset_index(drop=True)
            out[name] = conform(name, df)
    return out
