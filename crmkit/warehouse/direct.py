"""Load a dataset's own tables (a :class:`CRMData` or its folder) into the warehouse.

A dataset (``crmkit import`` or ``crmkit generate`` output) is already in the
canonical tables, so it goes straight into ``raw`` (one table per dataset file,
``raw.orders``, ``raw.order_lines``...) and from there into the same staging
tables the source extracts feed. Nothing is invented on the way: a shop
without a customer file has no names, cards or addresses in the warehouse;
its buyers are *inferred members* of the customer dimension, known by their
number only (see :mod:`crmkit.warehouse.sql`). The load report lists the
dataset's own files, one row each; ``raw`` keeps every row with its file and
1-based line (the header is line 1), and a row that cannot be used lands in
``quarantine.rows`` with its reason. The tables go in one at a time, each a slice of
rows at a time (:class:`crmkit.dataset.chunked.ShopTables`), so a folder of tens of
millions of rows never sits whole in memory.

>>> import tempfile, pathlib
>>> from crmkit.dataset.synth import generate
>>> from crmkit.warehouse.build import build_warehouse, load_report
>>> data = generate("boutique", n_customers=40, seed=3)
>>> db = build_warehouse(data, pathlib.Path(tempfile.mkdtemp()) / "shop.duckdb")
>>> sorted(load_report(db)["file"])[:3]
['campaign_contacts', 'campaigns', 'customers']
"""

from __future__ import annotations

import csv
import hashlib
from array import array
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..dataset.chunked import CHUNK_ROWS, ShopTables
from ..dataset.crmdata import FORMATS, MANIFEST, CRMData, give_back_memory
from ..dataset.folder import file_digest
from ..dataset.schema import ORDER_STATUSES, REQUIRED_TABLES, SCHEMA, TABLE_NAMES
from ..errors import DatasetError
from .connection import load_clock
from .dialect import bind
from .sql import MAX_AMOUNT, MAX_QUANTITY, ident, literal

__all__ = ["Dataset", "is_dataset_folder", "read_dataset", "load_dataset", "absent_tables",
           "raw_slices", "DATASET_FILES", "RAW_ONLY", "SLICE_ROWS"]

_SQL_TYPE = {"int": "BIGINT", "Int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR",
             "bool": "BOOLEAN", "datetime": "TIMESTAMP", "date": "DATE"}

#: Tables kept in ``raw`` only: no mart reads them (yet).
RAW_ONLY = ("ticket_events", "opportunities", "inventory")


#: Where a table's rows are in its file: consecutive lines from this one (``int``), or the
#: line of each row (a CSV file with records over several lines).
Lines = int | np.ndarray


class Dataset:
    """A dataset on its way into the warehouse: where each table comes from, its rows and
    their lines; the rows themselves are read a slice at a time (:func:`raw_slices`).

    >>> from crmkit.dataset.synth import generate
    >>> ds = read_dataset(generate("boutique", n_customers=40, seed=3))
    >>> ds.rows["orders"] == len(ds.shop.table("orders")), ds.files["orders"]
    (True, 'orders')
    """

    def __init__(self, shop: ShopTables, files: dict[str, str], rows: dict[str, int],
                 lines: dict[str, Lines], digests: dict[str, str],
                 lines_in_file: dict[str, int | None]):
        self.shop = shop              # the tables, read a slice at a time
        self.files = files            # table -> file name as the load report shows it
        self.rows = rows              # table -> its rows
        self.lines = lines            # table -> 1-based line (or row) of each row
        self.digests = digests        # file -> sha256
        self.lines_in_file = lines_in_file

    @property
    def manifest(self) -> dict[str, Any]:
        """Where the data came from (the dataset's manifest)."""
        return self.shop.manifest

    @property
    def shop_name(self) -> str:
        """The shop's name, as :attr:`CRMData.shop_name
        <crmkit.dataset.crmdata.CRMData.shop_name>`."""
        return str(self.manifest.get("shop_name") or self.manifest.get("profile") or "shop")

    @property
    def currency(self) -> str:
        """ISO 4217 code of the money columns, as :attr:`CRMData.currency
        <crmkit.dataset.crmdata.CRMData.currency>`."""
        return str(self.manifest.get("currency") or "EUR")

    @property
    def tables(self) -> list[str]:
        """The tables the dataset has (absent ones left out), in canonical order."""
        return [t for t in TABLE_NAMES if t in self.files]

    @property
    def batch_id(self) -> str:
        given = self.manifest.get("batch_id")
        if given:
            return str(given)
        joined = "".join(f"{k}:{v};" for k, v in sorted(self.digests.items()))
        return "d-" + hashlib.sha256(joined.encode()).hexdigest()[:12]


#: File names a dataset folder may hold (one per table).
DATASET_FILES = tuple(f"{t}.{ext}" for t in TABLE_NAMES for ext in ("csv", "parquet"))


def absent_tables(files: Iterable[str | Path]) -> list[str]:
    """The canonical tables (those a mart reads) that none of ``files`` holds.

    >>> absent_tables(["orders.csv", "order_lines.csv"])[:2]
    ['customers', 'products']
    """
    have = {str(f).rsplit(".", 1)[0] for f in files}
    return [t for t in STAGE if t not in have and t != "order_lines"] + (
        ["order_lines"] if "order_lines" not in have else [])


def is_dataset_folder(folder: str | Path) -> bool:
    """Whether ``folder`` is a dataset folder (``manifest.json`` and ``orders.csv`` or
    ``orders.parquet``), not source extracts."""
    folder = Path(folder)
    return folder.is_dir() and (folder / MANIFEST).is_file() and any(
        (folder / f"orders.{ext}").is_file() for ext in ("csv", "parquet"))


def read_dataset(source: CRMData | str | Path) -> Dataset:
    """A :class:`Dataset` from a :class:`CRMData` or a dataset folder.

    A folder is read without the cross-table checks of :meth:`CRMData.validate`:
    a sale whose product or customer row is missing is loaded against an inferred
    member instead of stopping the load. Nothing of its tables is held: they are read a
    slice at a time while they load (:func:`raw_slices`). The digest of a file is its
    SHA-256, as the manifest records it (:func:`crmkit.dataset.folder.file_digest`); a
    table in memory is digested from its rows.
    """
    shop = ShopTables.of(source)
    _need_lines(source, shop)
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    lines: dict[str, Lines] = {}
    digests: dict[str, str] = {}
    counts: dict[str, int | None] = {}
    if isinstance(source, CRMData):
        for name in TABLE_NAMES:
            if not shop.has(name):
                continue
            df = source.tables[name]
            files[name], rows[name], lines[name], counts[name] = name, len(df), 1, None
            h = pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()
            digests[name] = hashlib.sha256(h).hexdigest()
        return Dataset(shop, files, rows, lines, digests, counts)
    folder = Path(source)
    recorded = _recorded_files(shop.manifest)
    for name in _dataset_tables(folder, shop):
        path = next(folder / f"{name}.{ext}" for ext in FORMATS
                    if (folder / f"{name}.{ext}").is_file())
        files[name] = path.name
        digests[path.name] = recorded.get(path.name, {}).get("sha256") or file_digest(path)
        if path.suffix == ".csv":
            rows[name] = _csv_rows(shop, name, recorded.get(path.name))
            lines[name], counts[name] = _csv_lines(path, rows[name])
        else:
            rows[name], lines[name], counts[name] = _parquet_rows(path), 1, None
    return Dataset(shop, files, rows, lines, digests, counts)


def _need_lines(source: CRMData | str | Path, shop: ShopTables) -> None:
    """Refuse orders without an ``order_lines`` table: the facts are order lines, so not
    one of those orders could load (each would be quarantined as having no line)."""
    if not shop.has("orders") or shop.has("order_lines"):
        return
    folder = None if isinstance(source, CRMData) else Path(source)
    where = (f"dataset {str(folder)!r}" if folder is not None
             else f"the dataset of {str(shop.manifest.get('shop_name', 'the shop'))!r}")
    fmt = "parquet" if folder is not None and (folder / "orders.parquet").is_file() else "csv"
    raise DatasetError(
        f"{where} has orders but no order lines (order_lines.{fmt}); the warehouse's facts "
        "are order lines, so not one order could load. Add the table (one row per product "
        "sold; its columns are in the data dictionary, data/README.md), or import the "
        "shop's export with `crmkit import shopify` or `crmkit import orders`, which write "
        "it.")


def _dataset_tables(folder: Path, shop: ShopTables) -> list[str]:
    """The tables of a dataset folder to load (those it has and does not mark absent); a
    table its manifest lists (or ``orders``) without a file is refused, as
    :meth:`CRMData.load <crmkit.dataset.crmdata.CRMData.load>` refuses it."""
    listed = set(shop.manifest.get("tables", ()))
    absent = set(shop.manifest.get("absent_tables", ()))
    names = []
    for name in TABLE_NAMES:
        there = any((folder / f"{name}.{ext}").is_file() for ext in FORMATS)
        if not there and (name in listed or name in REQUIRED_TABLES):
            raise DatasetError(f"dataset {str(folder)!r} has no table {name!r}: expected "
                               f"{name}.csv or {name}.parquet in that folder.")
        if there and name not in absent:
            names.append(name)
    return names


def _recorded_files(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The files whose SHA-256 the manifest records (checked by
    :func:`crmkit.dataset.crmdata.check_files` when the folder was opened)."""
    files = manifest.get("files")
    if not isinstance(files, dict):
        return {}
    return {f: info for f, info in files.items()
            if isinstance(info, dict) and info.get("sha256")}


def _parquet_rows(path: Path) -> int:
    """Rows of a Parquet table, from its footer; a file pyarrow cannot read is refused as
    :meth:`CRMData.load <crmkit.dataset.crmdata.CRMData.load>` refuses it."""
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DatasetError(
            f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc}); "
            "write it again or give the table as CSV.") from exc


def _csv_rows(shop: ShopTables, name: str, recorded: dict[str, Any] | None) -> int:
    """Rows of a CSV table: as its manifest records them when it vouches for the file's
    digest, else counted a slice at a time (a folder edited by hand)."""
    if recorded is not None and isinstance(recorded.get("rows"), int):
        return int(recorded["rows"])
    first = SCHEMA[name].column_names[:1]
    return sum(len(part) for part in shop.chunks(name, rows=SLICE_ROWS, columns=first))


def _csv_lines(path: Path, n_rows: int) -> tuple[Lines, int]:
    """The 1-based line where each record of a CSV table starts, and the file's lines."""
    n_lines, last = 0, b""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            n_lines += block.count(b"\n")
            last = block
    if last and not last.endswith(b"\n"):
        n_lines += 1
    if n_lines == n_rows + 1:  # one line per record: the common, fast case
        return 2, n_lines
    starts = array("q")
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        end = reader.line_num
        for _ in reader:
            starts.append(end + 1)
            end = reader.line_num
    if len(starts) != n_rows:
        raise DatasetError(f"{path}: {len(starts)} records by the CSV rules but {n_rows} rows "
                           "read; write the table again (crmkit import or CRMData.save).")
    return np.frombuffer(starts, dtype=np.int64).copy(), n_lines


#: Rows of a table read (and loaded) at a time.
SLICE_ROWS = CHUNK_ROWS


def raw_slices(ds: Dataset, name: str, batch_id: str, now: datetime,
               rows: int | None = None) -> Iterator[pd.DataFrame]:
    """Table ``name`` of the dataset as its ``raw`` rows, ``rows`` (default
    :data:`SLICE_ROWS`) at a time: the table's columns, then where each row came from
    (``_batch_id``, ``_file``, ``_line``, ``_loaded_at``). An empty table gives one empty
    slice; a table whose rows differ from those counted is refused (it changed)."""
    columns = SCHEMA[name].column_names
    lines = ds.lines[name]
    done = 0
    for part in ds.shop.chunks(name, rows=rows or SLICE_ROWS, columns=columns):
        yield _with_origin(part, ds.files[name], batch_id, now, _numbers(lines, done, len(part)))
        done += len(part)
    if done == 0:
        yield _with_origin(ds.shop.table(name, columns).iloc[:0], ds.files[name], batch_id, now,
                           np.zeros(0, dtype=np.int64))
    if done != ds.rows[name]:
        raise DatasetError(f"{ds.files[name]}: {done} rows read but {ds.rows[name]} counted "
                           "when the load began; the file changed during the load. Load it "
                           "again.")


def _numbers(lines: Lines, start: int, n: int) -> np.ndarray:
    """Lines of rows ``start`` to ``start + n - 1`` of a table."""
    if isinstance(lines, np.ndarray):
        return lines[start:start + n]
    return np.arange(lines + start, lines + start + n, dtype=np.int64)


def _with_origin(part: pd.DataFrame, file: str, batch_id: str, now: datetime,
                 lines: np.ndarray) -> pd.DataFrame:
    df = part.copy(deep=False)
    df["_batch_id"], df["_file"] = batch_id, file
    df["_line"], df["_loaded_at"] = lines, pd.Timestamp(now)
    return df


# ----------------------------------------------------------------------------- SQL
def _raw_ddl(table: str) -> str:
    cols = ", ".join(f"{ident(c.name)} {_SQL_TYPE[c.dtype]}" for c in SCHEMA[table].columns)
    return (f"CREATE TABLE IF NOT EXISTS raw.{ident(table)} ({cols}, _batch_id VARCHAR, "
            "_file VARCHAR, _line BIGINT, _loaded_at TIMESTAMP)")


def _reason(*cases: tuple[str, str]) -> str:
    return "CASE " + " ".join(f"WHEN {cond} THEN '{why}'" for cond, why in cases) + " END"


def _bad_money(*cols: str) -> list[tuple[str, str]]:
    return [(" OR ".join(f"NOT isfinite({c})" for c in cols), "non_finite_number"),
            (" OR ".join(f"{c} < 0" for c in cols), "negative_price"),
            (" OR ".join(f"{c} > {MAX_AMOUNT}" for c in cols), "out_of_range")]


def _dedupe(key: str) -> str:
    return (f"CASE WHEN _reason IS NULL AND row_number() OVER (PARTITION BY {key}, "
            "_reason IS NULL ORDER BY line) > 1 THEN 'duplicate_row' ELSE _reason END")


_STATUSES = ", ".join(literal(s) for s in ORDER_STATUSES)

#: table -> (staging table, SELECT of this batch's rows with _reason). Named parameters:
#: ``$batch`` (batch id), ``$seq`` (its number), ``$system`` (where it came from).
STAGE: dict[str, tuple[str, str]] = {
    "customers": ("customer_rows", f"""
        WITH t AS (
            SELECT _line AS line, _file AS file, customer_id, NULL::VARCHAR AS card,
                first_name, last_name, address, city, postal_code, country, email, phone,
                CAST(birth_date AS DATE) AS birth_date, gender, education, acquisition_channel,
                acquisition_campaign_id, preferred_payment_method, segment, email_consent,
                phone_consent, CAST(signup_date AS DATE) AS signup_date,
                CASE WHEN $seq > 1 THEN CAST(_loaded_at AS DATE)
                     ELSE CAST(signup_date AS DATE) END AS updated,
                {_reason(("customer_id IS NULL", "missing_customer_id"),
                         ("segment NOT IN ('premium', 'standard', 'budget')",
                          "invalid_value"))} AS _reason
            FROM raw.customers WHERE _batch_id = $batch)
        SELECT *, CASE WHEN _reason IS NULL AND row_number() OVER (PARTITION BY customer_id,
                _reason IS NULL ORDER BY line) > 1 THEN 'duplicate_customer'
                ELSE _reason END AS _final_reason FROM t"""),
    "products": ("products", f"""
        WITH t AS (
            SELECT _line AS line, _file AS file, product_id, sku, name, department, category,
                subcategory, brand, unit_cost, list_price,
                {_reason(("product_id IS NULL OR sku IS NULL OR name IS NULL", "missing_value"),
                         *_bad_money("unit_cost", "list_price"))} AS _reason
            FROM raw.products WHERE _batch_id = $batch)
        SELECT *, CASE WHEN _reason IS NULL AND row_number() OVER (PARTITION BY sku,
                _reason IS NULL ORDER BY line) > 1 THEN 'duplicate_row'
                ELSE {_dedupe("product_id")} END AS _final_reason FROM t"""),
    "campaigns": ("campaigns", f"""
        WITH t AS (
            SELECT _line AS line, _file AS file, campaign_id, name, channel, goal,
                target_segment, objective, kpi, target_value, CAST(start_date AS DATE)
                AS start_date, CAST(end_date AS DATE) AS end_date, budget, cost_per_contact,
                {_reason(("campaign_id IS NULL OR name IS NULL", "missing_value"),
                         ("start_date IS NULL OR end_date IS NULL", "unparseable_date"),
                         ("budget IS NULL OR cost_per_contact IS NULL", "invalid_number"),
                         ("NOT isfinite(target_value)", "non_finite_number"),
                         *_bad_money("budget", "cost_per_contact"))} AS _reason
            FROM raw.campaigns WHERE _batch_id = $batch)
        SELECT *, {_dedupe("campaign_id")} AS _final_reason FROM t"""),
    "order_lines": ("order_lines", f"""
        WITH o AS (
            SELECT *, row_number() OVER (PARTITION BY order_id ORDER BY _line) AS _copy
            FROM raw.orders WHERE _batch_id = $batch),
        t AS (
            SELECT l._line AS line, l._file AS file, $system AS source_system, l.order_id,
                l.line_number, l.product_id, l.quantity, l.unit_price, l.discount,
                o.customer_id, o.placed_at, o.channel, o.status, o.paid_at, o.shipped_at,
                o.delivered_at, o.cancelled_at, o.returned_at, o.payment_method,
                o.shipping_cost, o.discount_code, o.campaign_id,
                NULL::VARCHAR AS product_ref, NULL::VARCHAR AS customer_ref,
                l.amount_cents, o.shipping_cents, o.discount_cents, o.tax_cents,
                o.refunded_cents,
                o._reason AS _order_reason, o._line AS _order_line,
                {_reason(("l.order_id IS NULL OR l.line_number IS NULL", "missing_value"),
                         ("o._line IS NULL", "unknown_order"),
                         ("o._reason IS NOT NULL", "order_quarantined"),
                         ("l.quantity IS NULL OR l.amount_cents IS NULL", "invalid_number"),
                         *_bad_money("l.unit_price"),
                         ("NOT isfinite(l.discount)", "non_finite_number"),
                         ("l.amount_cents < 0", "negative_price"),
                         ("l.discount < 0 OR l.discount > 1 OR l.amount_cents > "
                          f"{MAX_AMOUNT * MAX_QUANTITY * 100}", "out_of_range"),
                         ("l.quantity < 1", "invalid_quantity"),
                         (f"l.quantity > {MAX_QUANTITY}", "out_of_range"))} AS _reason
            FROM raw.order_lines l
            LEFT JOIN (SELECT *, {_reason(
                    ("placed_at IS NULL", "unparseable_date"),
                    (f"status IS NULL OR status NOT IN ({_STATUSES})", "invalid_value"),
                    ("channel NOT IN ('store', 'web', 'phone')", "invalid_value"),
                    *_bad_money("shipping_cost"))} AS _reason FROM o) o
              ON o.order_id = l.order_id AND o._copy = 1
            WHERE l._batch_id = $batch)
        SELECT *, {_dedupe("order_id, line_number")} AS _final_reason FROM t"""),
    "web_sessions": ("web_sessions", f"""
        WITH t AS (
            SELECT _line AS line, _file AS file, session_id, visitor_id, customer_id,
                started_at, traffic_source, device, pages, added_to_cart, converted_order_id,
                NULL::VARCHAR AS customer_ref,
                {_reason(("session_id IS NULL OR visitor_id IS NULL", "missing_value"),
                         ("started_at IS NULL", "unparseable_date"),
                         ("pages IS NULL", "invalid_number"))} AS _reason
            FROM raw.web_sessions WHERE _batch_id = $batch)
        SELECT *, {_dedupe("session_id")} AS _final_reason FROM t"""),
    "campaign_contacts": ("campaign_contacts", f"""
        WITH t AS (
            SELECT _line AS line, _file AS file, campaign_id, customer_id, sent_at, opened,
                clicked, converted_order_id, cost, NULL::VARCHAR AS customer_ref,
                {_reason(("campaign_id IS NULL OR customer_id IS NULL", "missing_value"),
                         ("sent_at IS NULL", "unparseable_date"),
                         ("cost IS NULL", "invalid_number"),
                         *_bad_money("cost"))} AS _reason
            FROM raw.campaign_contacts WHERE _batch_id = $batch)
        SELECT *, {_dedupe("campaign_id, customer_id")} AS _final_reason FROM t"""),
    "tickets": ("tickets", f"""
        WITH t AS (
            SELECT _line AS line, _file AS file, ticket_id, customer_id, order_id, product_id,
                category, channel, priority, opened_at, status, closed_at,
                NULL::VARCHAR AS product_ref, NULL::VARCHAR AS customer_ref,
                {_reason(("ticket_id IS NULL", "missing_value"),
                         ("opened_at IS NULL", "unparseable_date"),
                         ("status IS NULL OR status NOT IN ('registered', 'technical_report', "
                          "'report_validated', 'response_issued', 'closed')",
                          "invalid_value"))} AS _reason
            FROM raw.tickets WHERE _batch_id = $batch)
        SELECT *, {_dedupe("ticket_id")} AS _final_reason FROM t"""),
}


#: This batch's orders with the reason each cannot be used (NULL when usable).
ORDERS_CHECK = f"""
SELECT o._line AS line, o.order_id,
    CASE WHEN o.order_id IS NULL THEN 'missing_value'
         WHEN row_number() OVER (PARTITION BY o.order_id ORDER BY o._line) > 1
             THEN 'duplicate_row'
         WHEN o.placed_at IS NULL THEN 'unparseable_date'
         WHEN o.status IS NULL OR o.status NOT IN ({_STATUSES})
             OR o.channel NOT IN ('store', 'web', 'phone') THEN 'invalid_value'
         WHEN NOT isfinite(o.shipping_cost) THEN 'non_finite_number'
         WHEN o.shipping_cost < 0 THEN 'negative_price'
         WHEN o.shipping_cost > {MAX_AMOUNT} THEN 'out_of_range'
         WHEN NOT EXISTS (SELECT 1 FROM raw.order_lines l WHERE l._batch_id = $batch
             AND l.order_id = o.order_id) THEN 'order_without_lines' END AS reason
FROM raw.orders o WHERE o._batch_id = $batch"""


# ----------------------------------------------------------------------------- loading
def load_dataset(con: duckdb.DuckDBPyConnection, ds: Dataset, *,
                 origin: str | None = None) -> bool:
    """Load one dataset as a batch into raw, staging and quarantine (marts are rebuilt by
    the caller). Returns ``False`` when the same batch was already loaded."""
    from .build import _already_loaded, _stage_rows

    batch_id = ds.batch_id
    if _already_loaded(con, batch_id, ds.digests, Path(str(ds.manifest.get(
            "shop_name", "dataset")))):
        return False
    seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM meta.batches").fetchall()[0][0]
    now = load_clock()
    system = str(origin or ds.manifest.get("origin") or "dataset")
    _same_currency(con, ds.currency, ds.shop_name)
    con.execute("INSERT INTO meta.batches VALUES (?, ?, ?, ?, ?)",
                [batch_id, seq, None, now, f"dataset {ds.shop_name}"])
    for name in ds.tables:
        con.execute(_raw_ddl(name))
        for part in raw_slices(ds, name, batch_id, now):
            con.register("_ds", part)
            con.execute(f"INSERT INTO raw.{ident(name)} BY NAME SELECT * FROM _ds")
            con.unregister("_ds")
            del part
        give_back_memory()
        file = ds.files[name]
        digest = ds.digests.get(file) or ds.digests.get(name)
        con.execute("INSERT INTO meta.files VALUES (?, ?, ?, ?)",
                    [batch_id, file, digest, ds.lines_in_file.get(name)])
    counts, steps = _staging_steps(ds)
    for name, table, sql in steps:
        params = bind(sql, batch=batch_id, seq=seq, system=system)
        counts[name] = _stage_rows(con, table, name, sql, params, batch_id, seq)
    if "orders" in ds.tables:
        counts["orders"] = _orders_count(con, batch_id, ds.files["orders"])
    for row in _report_rows(ds, batch_id, system, counts):
        con.execute("INSERT INTO meta.load_report VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    list(row))
    return True


#: A batch's counts of one table: rows loaded, rows quarantined, rows loaded against an
#: inferred member of a dimension.
Counts = tuple[int, int, int]


def _staging_steps(ds: Dataset) -> tuple[dict[str, Counts], list[tuple[str, str, str]]]:
    """What staging does with the dataset's tables other than ``orders`` (those are checked
    on their own, :data:`ORDERS_CHECK`): the counts of the tables kept in ``raw`` only (every
    row loaded), and ``(table, staging table, model SQL)`` of the others, in the dataset's
    order (order lines only with their orders)."""
    counts: dict[str, Counts] = {}
    steps: list[tuple[str, str, str]] = []
    for name in ds.tables:
        if name == "orders":
            continue
        if name in RAW_ONLY or name not in STAGE:
            counts[name] = (ds.rows[name], 0, 0)
        elif name != "order_lines" or "orders" in ds.tables:
            steps.append((name, *STAGE[name]))
    return counts, steps


def _report_rows(ds: Dataset, batch_id: str, system: str, counts: dict[str, Counts]
                 ) -> list[tuple[object, ...]]:
    """The batch's rows of ``meta.load_report``, one per table (file) of the dataset; a
    table without counts had every row loaded."""
    rows: list[tuple[object, ...]] = []
    for name in ds.tables:
        read = ds.rows[name]
        loaded, held, inferred = counts.get(name, (read, 0, 0))
        rows.append((batch_id, ds.files[name], system, read, loaded, held,
                     ds.lines_in_file.get(name), read == loaded + held, inferred))
    return rows


def _same_currency(con: duckdb.DuckDBPyConnection, currency: str, shop: str) -> None:
    """Record the warehouse's currency, or refuse a dataset in another one."""
    have = con.execute("SELECT currency FROM meta.shop").fetchall()
    if not have:
        con.execute("INSERT INTO meta.shop VALUES (?)", [currency])
    elif have[0][0] != currency:
        raise DatasetError(f"the dataset of {shop!r} is in {currency}, but this warehouse holds "
                           f"{have[0][0]}; build a separate warehouse for it.")


def _orders_count(con: duckdb.DuckDBPyConnection, batch_id: str,
                  file: str) -> tuple[int, int, int]:
    """Orders of this batch: quarantine the unusable ones (and those without a line)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _orders AS {ORDERS_CHECK}",
                bind(ORDERS_CHECK, batch=batch_id))
    con.execute("""
        INSERT INTO quarantine.rows
        SELECT ?, ?, q.line, q.reason, NULL, to_json(r) FROM _orders q
        JOIN raw.orders r ON r._batch_id = ? AND r._line = q.line
        WHERE q.reason IS NOT NULL""", [batch_id, file, batch_id])
    ok, held = con.execute("SELECT count(*) FILTER (WHERE reason IS NULL), "
                           "count(*) FILTER (WHERE reason IS NOT NULL) FROM _orders"
                           ).fetchall()[0]
    con.execute("DROP TABLE _orders")
    return int(ok), int(held), 0
