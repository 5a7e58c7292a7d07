"""Notebook 02 (the data warehouse): its workshop folder, small helpers and exercises.

The lesson writes a shop's data as three messy source extracts, builds a
DuckDB warehouse from them, loads a second batch and asks questions in SQL.
A :class:`Workshop` keeps the paths together; :func:`exercise_book` checks
the learner's answers, and an answer to a SQL exercise is the query itself
(a text), which :func:`run_sql` runs read-only against the warehouse.

>>> from crmkit.dataset.synth import generate
>>> from crmkit.dataset.extracts import write_extracts
>>> from crmkit.warehouse.build import build_warehouse
>>> ws = workshop(generate("boutique", n_customers=80, seed=1), seed=3)
>>> _ = write_extracts(ws.crm, ws.batch1, seed=ws.seed)
>>> _ = build_warehouse(ws.batch1, ws.warehouse)
>>> book = exercise_book(ws, lang="en")
>>> book.check("guest_lines", "SELECT count(*) FROM marts.fact_order_line f JOIN "
...            "marts.dim_customer c USING (customer_key) WHERE c.customer_id = -1")
✅ Order lines of guests: correct, well done!
>>> book.check("guest_lines", "SELEC nothing")  # doctest: +ELLIPSIS
🔶 Order lines of guests: your answer could not be used: The database could not run this \
query (a syntax error): "Parser Error: syntax error at or near "SELEC"...
>>> count_joins("SELECT * FROM a JOIN b USING (k) LEFT JOIN c ON c.x = b.x")
2
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import statistics
import time
import weakref
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, SupportsInt

import duckdb
import pandas as pd

from ..dataset.crmdata import CRMData
from ..dataset.extracts import BAD_ROWS_NAME, FILES, MANIFEST_NAME
from ..dataset.scratch import scratch_folder
from ..errors import ParameterError
from ..i18n import catalog, check_lang, format_message, t
from ..warehouse.connection import InvalidSQLError, NotOneSelectError, connect, one_statement
from ..warehouse.sql import ident
from .concept_lessons import EXERCISES as CONCEPT_EXERCISES
from .exercises import AnyOf, Exercise, ExerciseBook
from .judgement import decide, labelled, letters

__all__ = [
    "detail_text",
    "load_table",
    "member_names",
    "NotAQueryError",
    "sql_error_text",
    "Workshop",
    "workshop",
    "peek",
    "lines_at",
    "run_sql",
    "sql_answer",
    "count_joins",
    "timed_query",
    "table_counts",
    "last_year",
    "history_city",
    "Pair",
    "both_pair",
    "ORDER_FILES",
    "EXERCISES",
    "exercise_book",
    "exercises",
    "built_workshop",
    "revenue_against_units",
    "stray_quarantine",
    "split_customer",
    "batch_without_customers",
    "shared_category_name",
    "premium_next_year",
    "guests_in_one_order",
    "planted_split",
    "INFERRED_REASONS",
    "CUBE_OPERATIONS",
    "cube_question",
    "model_need",
]


@dataclass(frozen=True)
class Workshop:
    """Where the lesson keeps its files: two extract batches and the warehouse.

    ``crm`` is the shop's :class:`~crmkit.dataset.crmdata.CRMData`; ``seed`` seeds the
    extracts (the loyalty cards of both batches are drawn with it).
    """

    crm: CRMData
    root: Path
    seed: int = 0

    @property
    def batch1(self) -> Path:
        """Folder of the first, full extraction of the three systems."""
        return self.root / "batch1"

    @property
    def batch2(self) -> Path:
        """Folder of the later batch: the customer spreadsheet after some changes."""
        return self.root / "batch2"

    @property
    def warehouse(self) -> Path:
        """The DuckDB warehouse file."""
        return self.root / "shop.duckdb"

    def extracted_at(self, batch: int = 1) -> pd.Timestamp:
        """Day a batch was extracted (from its manifest)."""
        folder = self.batch1 if batch == 1 else self.batch2
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        return pd.Timestamp(manifest["extracted_at"])

    @property
    def snapshot_day(self) -> pd.Timestamp:
        """The last day before the first extraction: the past the exercises ask about."""
        return self.extracted_at(1) - pd.Timedelta(days=1)


def workshop(data: CRMData, *, warehouse_dir: str | Path | None = None,
             seed: int = 0) -> Workshop:
    """Check ``warehouse_dir`` and return the lesson's :class:`Workshop`.

    ``None`` uses a new temporary folder, removed when the kernel ends, so
    running the lesson never writes into the project (a killed kernel's is removed by
    the next workshop, or by ``crmkit clean``: :mod:`crmkit.dataset.scratch`); a given
    folder is created if missing and kept.

    >>> workshop(None, warehouse_dir=__file__)
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: warehouse_dir=... is a file; give a folder ...
    """
    if warehouse_dir is None:
        scratch = scratch_folder("warehouse")
        ws = Workshop(data, scratch.path, int(seed))
        # the temporary folder goes when the lesson's kernel ends (or the workshop is dropped)
        weakref.finalize(ws, scratch.remove)
        return ws
    else:
        root = Path(warehouse_dir).expanduser()
        if root.exists() and not root.is_dir():
            raise ParameterError(
                f"warehouse_dir={str(warehouse_dir)!r} is a file; give a folder for the "
                "extracts and the warehouse (it is created if missing), or None for a "
                "temporary one.")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ParameterError(
                f"warehouse_dir={str(warehouse_dir)!r} cannot be created ({exc.strerror}); "
                "give a folder you can write to, or None for a temporary one.") from None
    return Workshop(data, root, int(seed))


def peek(path: str | Path, n: int = 3) -> list[str]:
    """The first ``n`` lines after the header of an extract, exactly as written.

    The file is decoded with the encoding its system uses (see
    :data:`crmkit.dataset.extracts.FILES`); the header is the first item.
    """
    path = Path(path)
    encoding = FILES[path.name].encoding if path.name in FILES else "utf-8"
    out = []
    with open(path, encoding=encoding, newline="") as f:
        for i, line in enumerate(f):
            if i > n:
                break
            out.append(line.rstrip("\r\n"))
    return out


def lines_at(path: str | Path, numbers: Iterable[int]) -> pd.DataFrame:
    """Given line numbers of a file (the header is line 1), as they are written."""
    path = Path(path)
    encoding = FILES[path.name].encoding if path.name in FILES else "utf-8"
    wanted = {int(n) for n in numbers}
    rows = []
    with open(path, encoding=encoding, newline="") as f:
        for i, line in enumerate(f, start=1):
            if i in wanted:
                rows.append((path.name, i, line.rstrip("\r\n")))
    return pd.DataFrame(rows, columns=["file", "line", "text"])


def sample_row(path: str | Path, *, skip: Iterable[int] = ()) -> dict | None:
    """The first well-formed row of an extract, as written, leaving out the lines in ``skip``.

    Returns ``None`` when the file has no such row (e.g. a web shop's till file).
    """
    path = Path(path)
    spec = FILES[path.name]
    skip = {int(n) for n in skip}
    with open(path, encoding=spec.encoding, newline="") as f:
        reader = csv.reader(f, delimiter=spec.delimiter)
        header = next(reader, None)
        for number, row in enumerate(reader, start=2):
            if number not in skip and header and len(row) == len(header):
                return dict(zip(header, row, strict=True))
    return None


def run_sql(ws: Workshop, sql: str, lang: str = "en") -> Any:
    """Run a learner's query read-only; one value comes back as a number or text.

    A result of one row and one column is that value; one column is a list;
    anything else is the table.
    """
    # read-only, no access to other files, one SELECT: an answer can only read the warehouse
    _sql_text(sql, lang)
    con = connect(ws.warehouse, external_access=False)
    try:
        return sql_answer(con, sql, lang)
    finally:
        con.close()


class NotAQueryError(ParameterError, TypeError):
    """An answer that should be a query is not one (a number, a single word)."""


def _sql_text(sql: object, lang: str, key: str = "msg.sql_expected") -> None:
    if not isinstance(sql, str) or not re.search(r"\s", sql.strip()):  # 'women', '12'...
        raise NotAQueryError(t(key, lang))


_SQL_KINDS = (("CatalogException", "catalog"), ("ParserException", "parser"),
              ("BinderException", "binder"), ("ConversionException", "conversion"))


def sql_error_text(exc: Exception, lang: str = "en") -> str:
    """A database error said in ``lang``: what kind of error, then DuckDB's own message.

    >>> con = duckdb.connect()
    >>> try:
    ...     con.execute("SELECT * FROM nowhere")
    ... except duckdb.Error as exc:
    ...     said = sql_error_text(exc, "es")
    >>> said.startswith("La base de datos no ha podido ejecutar esta consulta (una tabla o")
    True
    >>> "nowhere" in said
    True
    """
    kind = next((k for name, k in _SQL_KINDS if isinstance(exc, getattr(duckdb, name))),
                "other")
    message = " ".join(str(exc).split())
    return format_message(t("sql_error.said", lang), lang, kind=t(f"sql_error.{kind}", lang),
                          message=f"«{message}»" if lang == "es" else f'"{message}"')


_DETAILS = (
    (re.compile(r"^an older copy of customer (?P<customer>\S+) \(the newest row wins\)$"),
     "quarantine.duplicate_customer"),
    (re.compile(r"^expected (?P<want>\d+) fields, found (?P<got>\d+)(?: fields)?$"),
     "quarantine.malformed_line"),
    # DuckDB's own words for a line with too few or too many fields
    (re.compile(r"^(?:MISSING|TOO MANY) COLUMNS: Expected Number of Columns: (?P<want>\d+) "
                r"Found: (?P<got>\d+)", re.S), "quarantine.malformed_line"),
)


def detail_text(details: pd.Series, lang: str = "en") -> pd.Series:
    """The quarantine's details (written by the loader in English) in ``lang``; a detail
    that is the data itself (a date as written, an unknown code) is left as it is.

    >>> detail_text(pd.Series(["an older copy of customer 732 (the newest row wins)",
    ...                        "expected 21 fields, found 10 fields", "31/02/2024"]), "es").tolist()
    ['una copia más antigua del cliente 732 (gana la fila más reciente)', \
'se esperaban 21 campos y hay 10', '31/02/2024']
    """
    def one(text: object) -> object:
        if not isinstance(text, str):
            return text
        for pattern, key in _DETAILS:
            m = pattern.match(text.strip())
            if m:
                return format_message(t(key, lang), lang, **m.groupdict())
        return text

    return details.map(one)


#: The name the warehouse gives a product it had to infer (``crmkit.warehouse.sql``).
_INFERRED = re.compile(r"^unknown product (?P<ref>.+)$")


#: The load report's columns notebook 02 shows for the shop's own warehouse.
LOAD_COLUMNS = ["file", "rows_read", "rows_loaded", "rows_quarantined", "rows_inferred",
                "balanced"]


def load_table(report: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The load report of the shop's own warehouse as notebook 02 shows it, in ``lang``.

    A dataset handed over as data names its tables (``orders``): they read by their
    catalog names (``Pedidos``) under the heading ``table``; a folder's files
    (``orders.csv``) keep their file names.

    >>> report = pd.DataFrame({"file": ["orders", "order_lines"], "rows_read": [3, 5],
    ...                        "rows_loaded": [3, 5], "rows_quarantined": [0, 0],
    ...                        "rows_inferred": [0, 5], "balanced": [True, True]})
    >>> load_table(report, "es")["table"].tolist()
    ['Pedidos', 'Líneas de pedido']
    >>> load_table(report.assign(file=["orders.csv", "order_lines.csv"]), "es")["file"].tolist()
    ['orders.csv', 'order_lines.csv']
    """
    check_lang(lang)
    out = report[[c for c in LOAD_COLUMNS if c in report.columns]].copy()
    known = catalog()
    tables = out["file"].map(lambda name: f"table.{name}" in known)
    if len(out) and bool(tables.all()):
        out["file"] = out["file"].map(lambda name: t(f"table.{name}", lang))
        out = out.rename(columns={"file": "table"})
    return out.reset_index(drop=True)


def member_names(names: Iterable[str], lang: str = "en") -> list[str]:
    """The names of dimension members as a reader of ``lang`` reads them: the warehouse
    names an inferred product in English (``unknown product 9999999``) and keeps that
    name; any other name is the shop's own and is left as it is.

    >>> member_names(["unknown product 9999999", "Urban boots Kelme 026"], "es")
    ['producto desconocido 9999999', 'Urban boots Kelme 026']
    """
    def one(name: str) -> str:
        m = _INFERRED.match(name) if isinstance(name, str) else None
        if m is None:
            return name
        return format_message(t("label.inferred_product", lang), lang, **m.groupdict())

    return [one(n) for n in names]


def sql_answer(con: duckdb.DuckDBPyConnection, sql: str, lang: str = "en", *,
               expected: str = "msg.sql_expected") -> Any:
    """A learner's query run as one SELECT on ``con``, its result shaped as an answer.

    ``con`` should be read-only and without access to files (as the exercise
    checkers open it); anything but exactly one SELECT is refused. A result of
    one row and one column is that value, one column a list, anything else the
    table; an empty result or a NULL value is refused with a sentence that says so.
    ``expected`` is the catalog key of the sentence for an answer that is not a
    query (it names an example query on the lesson's own tables).

    >>> import duckdb
    >>> con = duckdb.connect(config={"enable_external_access": False})
    >>> sql_answer(con, "SELECT 6 * 7")
    42
    >>> sql_answer(con, "SELECT 1; COPY (SELECT 1) TO 'x.csv'")
    Traceback (most recent call last):
    ...
    crmkit.warehouse.connection.NotOneSelectError: run one query at a time: a single SELECT, ...
    """
    _sql_text(sql, lang, expected)
    try:
        one_statement(con, sql)
    except NotOneSelectError:
        raise NotOneSelectError(t("msg.sql_one_select", lang)) from None
    except InvalidSQLError:
        pass  # executing it below tells the learner where the syntax error is
    try:
        df = con.execute(sql).df()
    except duckdb.Error as exc:  # said in the report's language, the database's words quoted
        raise ParameterError(sql_error_text(exc, lang)) from None
    if df.empty:
        raise ParameterError(t("msg.sql_empty", lang))
    if df.shape == (1, 1):
        value: Any = df.iat[0, 0]  # a scalar of any SQL type
        if pd.isna(value):
            raise ParameterError(t("msg.sql_null", lang))
        return value.item() if hasattr(value, "item") else value
    if df.shape[1] == 1:
        return df.iloc[:, 0].tolist()
    return df


#: The extracts that hold order lines (till receipts and web orders).
ORDER_FILES = ("pos_sales.csv", "web_orders.csv")

_JOIN = re.compile(r"\bJOIN\b", re.I)


def count_joins(sql: str) -> int:
    """How many joins a query makes (each costs the database a match of two tables)."""
    return len(_JOIN.findall(sql))


def timed_query(warehouse: str | Path, sql: str, *, repeat: int = 5
                ) -> tuple[pd.DataFrame, float]:
    """Run ``sql`` ``repeat`` times; return its result and the median seconds per run.

    ``sql`` must be one SELECT; it runs read-only, without access to other files.
    """
    con = connect(warehouse, external_access=False)
    try:
        one_statement(con, sql)
        con.execute(sql).df()  # warm-up: the first run also reads the file from disk
        times = []
        for _ in range(max(int(repeat), 1)):
            t0 = time.perf_counter()
            df = con.execute(sql).df()
            times.append(time.perf_counter() - t0)
    finally:
        con.close()
    return df, statistics.median(times)


def table_counts(warehouse: str | Path,
                 schemas: Collection[str] = ("raw", "staging", "quarantine", "meta", "marts")
                 ) -> pd.DataFrame:
    """Rows in every base table of the given schemas (views are left out)."""
    con = connect(warehouse)
    try:
        names = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
            "current_database() AND NOT temporary ORDER BY 1, 2").fetchall()
        rows = [(s, n, con.execute(f"SELECT count(*) FROM {ident(s)}.{ident(n)}").fetchall()[0][0])
                for s, n in names if s in schemas]
    finally:
        con.close()
    return pd.DataFrame(rows, columns=["schema", "table", "rows"])


def last_year(data: CRMData) -> int:
    """The last calendar year with orders (the year the cube exercise slices)."""
    return int(data.orders["placed_at"].dt.year.max())


# ----------------------------------------------------------------------------- exercises
def _premium_rows(ws: Workshop) -> int:
    legacy = pd.read_csv(ws.batch1 / "legacy_customers.csv", dtype=str)
    return int((legacy["Segment"].str.strip().str.casefold() == "premium").sum())


def _quarantined_dates(ws: Workshop) -> list[int]:
    bad = pd.read_csv(ws.batch1 / BAD_ROWS_NAME)
    keep = bad["file"].isin(ORDER_FILES) & (bad["reason"] == "unparseable_date")
    return sorted(int(n) for n in bad.loc[keep, "line"])


def _line_frame(data: CRMData) -> pd.DataFrame:
    lines = data.order_lines.merge(data.orders, on="order_id", how="left")
    lines["net"] = lines["amount_cents"].astype("int64")  # exact: the line's cents
    return lines


def _money(cents: SupportsInt, data: CRMData) -> float:
    """A sum of cents in currency units (exact as a Decimal, then a float to compare)."""
    from ..dataset.money import to_decimal

    return float(to_decimal(int(cents), data.currency))


@dataclass(frozen=True)
class Pair:
    """What exercise 3 compares for this shop: a column and two of its values.

    ``column`` is written as in the exercise's query (``f.source_system`` of
    the fact, or ``d.year`` of the date dimension); ``first`` and ``second``
    are the two values.
    """

    column: str
    first: str | int
    second: str | int

    @property
    def sql_values(self) -> str:
        """The two values as SQL literals, e.g. ``'pos', 'web'`` or ``2024, 2025``."""
        return ", ".join(f"'{v}'" if isinstance(v, str) else str(v)
                         for v in (self.first, self.second))


def both_pair(data: CRMData) -> Pair:
    """The till and the web shop; for a shop that sells through one of them, two years.

    A shop with one source system has no customer in both, so the exercise
    asks instead about customers who bought in its first and its last year.
    """
    channels = set(data.orders["channel"])
    if "store" in channels and channels - {"store"}:
        return Pair("f.source_system", "pos", "web")
    years = data.orders["placed_at"].dt.year
    return Pair("d.year", int(years.min()), int(years.max()))


def _both_channels(ws: Workshop) -> int:
    o = ws.crm.orders.dropna(subset=["customer_id"])
    pair = both_pair(ws.crm)
    if pair.column == "f.source_system":
        first = o["channel"] == "store"
        second = ~first
    else:
        year = o["placed_at"].dt.year
        first, second = year == pair.first, year == pair.second
    return len(set(o.loc[first, "customer_id"]) & set(o.loc[second, "customer_id"]))


def _top_units(ws: Workshop) -> AnyOf:
    lines = ws.crm.order_lines.merge(ws.crm.products[["product_id", "department"]],
                                     on="product_id")
    units = lines.groupby("department")["quantity"].sum()
    return AnyOf(sorted(units.index[units == units.max()]))


def _copy_workshop(ws: Workshop) -> Workshop:
    """A workshop whose warehouse and extract batches are copies of ``ws``'s (removed when
    it is dropped): the same shop, so the exercise's right answer is computed there too."""
    scratch = scratch_folder("perturbed")
    root = scratch.path
    try:
        shutil.copy2(ws.warehouse, root / ws.warehouse.name)
        for batch in (ws.batch1, ws.batch2):
            if batch.is_dir():
                shutil.copytree(batch, root / batch.name)
    except BaseException:
        scratch.remove()
        raise
    other = Workshop(ws.crm, root, ws.seed)
    weakref.finalize(other, scratch.remove)
    return other


def _perturbed(ws: Workshop, *statements: tuple[str, list]) -> Workshop:
    """A copy of ``ws`` whose warehouse was changed by ``statements`` (SQL, parameters)."""
    other = _copy_workshop(ws)
    con = connect(other.warehouse, read_only=False)
    try:
        for sql, params in statements:
            con.execute(sql, params)
    finally:
        con.close()
    return other


def revenue_against_units(ws: Workshop) -> Workshop:
    """A copy of the warehouse where the department that sold most units sold least money.

    Units are untouched, so the right answer stays; a query that ranks the departments
    by revenue (or by any money column) instead of by units now names another one.
    """
    return _perturbed(ws, (
        "UPDATE marts.fact_order_line SET unit_price = v, gross_amount = v, "
        "net_amount = v, amount_cents = CAST(v * 100 AS BIGINT) FROM ("
        "  SELECT p.product_key AS k, CASE WHEN list_contains(?, p.department) "
        "  THEN 0 ELSE 1000 END AS v FROM marts.dim_product p) AS m "
        "WHERE marts.fact_order_line.product_key = m.k", [list(_top_units(ws))]))


#: Line numbers of the rows a perturbed copy adds to the quarantine (no extract is that long).
_STRAY_LINE = 9_000_001


def stray_quarantine(ws: Workshop) -> Workshop:
    """A copy of the warehouse whose quarantine also holds an unreadable date of the customer
    spreadsheet and an order line held back for another reason.

    The order lines quarantined for a date stay the same; a query that forgets either
    condition (the reason, or the order files) now lists one line more.
    """
    return _perturbed(ws, (
        "INSERT INTO quarantine.rows SELECT batch_id, file, line, reason, "
        "'added to check the query', '' FROM (SELECT (SELECT min(batch_id) FROM meta.batches) "
        "AS batch_id, unnest(?) AS file, unnest(?) AS line, unnest(?) AS reason)",
        [["legacy_customers.csv", ORDER_FILES[0]], [_STRAY_LINE, _STRAY_LINE + 1],
         ["unparseable_date", "negative_price"]]))


def _side(pair: Pair) -> str:
    """The expression of a fact row's value of ``pair``'s column (its system, or its year)."""
    return "f.source_system" if pair.column == "f.source_system" else "f.date_key // 10000"


def split_customer(ws: Workshop) -> Workshop:
    """A copy of the warehouse where guests bought in both (channels or years) and one
    customer who did bought the second under a new version of their row.

    Customers are counted as before; a query that counts guests, or counts customer
    versions (``customer_key``) instead of customers, now gives another number.
    """
    pair, side = both_pair(ws.crm), _side(both_pair(ws.crm))
    both = (f"SELECT c.customer_id FROM marts.fact_order_line f JOIN marts.dim_customer c "
            f"USING (customer_key) WHERE c.customer_id > 0 AND {side} IN (?, ?) "
            f"GROUP BY 1 HAVING count(DISTINCT {side}) = 2 ORDER BY 1 LIMIT 1")
    values = [pair.first, pair.second]
    return _perturbed(
        ws,
        ("INSERT INTO marts.fact_order_line SELECT f.* REPLACE ((SELECT customer_key FROM "
         "marts.dim_customer WHERE customer_id = -1) AS customer_key, -f.order_id AS order_id) "
         f"FROM marts.fact_order_line f WHERE {side} IN (?, ?) "
         f"QUALIFY row_number() OVER (PARTITION BY {side} ORDER BY order_id, line_number) = 1",
         values),
        ("CREATE TEMP TABLE moved AS SELECT customer_key AS old_key, md5('perturbed|' || "
         f"customer_key) AS new_key FROM marts.dim_customer WHERE customer_id = ({both}) "
         "AND version = 1", values),
        ("INSERT INTO marts.dim_customer SELECT c.* REPLACE (m.new_key AS customer_key, "
         "c.version + 100 AS version) FROM marts.dim_customer c JOIN moved m "
         "ON c.customer_key = m.old_key", []),
        (f"UPDATE marts.fact_order_line AS f SET customer_key = m.new_key FROM moved m "
         f"WHERE f.customer_key = m.old_key AND {side} = ?", [pair.second]),
    )


def batch_without_customers(ws: Workshop) -> Workshop:
    """A copy of the warehouse that also loaded a batch without the customer spreadsheet.

    The raw customer table keeps the same batches; a query that lists every batch
    loaded (``meta.batches`` or ``meta.files``) now names one more.
    """
    return _perturbed(
        ws,
        ("INSERT INTO meta.batches SELECT 'orders-only', max(seq) + 1, max(extracted_at), "
         "max(loaded_at), 'extracts' FROM meta.batches", []),
        ("INSERT INTO meta.files VALUES ('orders-only', ?, '', 1)", [ORDER_FILES[0]]))


def shared_category_name(ws: Workshop) -> Workshop:
    """A copy of the warehouse where the runner-up category carries the best one's name (as
    two departments' "Accessories" do), every gross amount is one more than its net, and the
    best category also sold a line for nothing.

    Revenue per category (by its key) stays; a query that groups by the category's name,
    sums another money column or picks the category with most lines now answers otherwise.
    """
    ranked = ("SELECT p.category_key, sum(f.net_amount) AS revenue, count(*) AS n "
              "FROM marts.fact_order_line f JOIN marts.snow_product p USING (product_key) "
              "GROUP BY 1 ORDER BY revenue DESC, 1")
    return _perturbed(
        ws,
        (f"CREATE TEMP TABLE ranked AS SELECT *, row_number() OVER () AS r FROM ({ranked})",
         []),
        ("UPDATE marts.snow_category SET category = (SELECT category FROM marts.snow_category "
         "WHERE category_key = (SELECT category_key FROM ranked WHERE r = 1)) "
         "WHERE category_key = (SELECT category_key FROM ranked WHERE r = 2)", []),
        ("UPDATE marts.fact_order_line SET gross_amount = net_amount + 1", []),
        # lines for nothing in the runner-up until it holds the most lines of all
        ("INSERT INTO marts.fact_order_line SELECT f.* REPLACE (-f.order_id AS order_id, "
         "0 AS net_amount, 0 AS amount_cents, 1 AS gross_amount) FROM ("
         "  SELECT f.* FROM marts.fact_order_line f JOIN marts.snow_product p "
         "  USING (product_key) WHERE p.category_key = (SELECT category_key FROM ranked "
         "  WHERE r = 2) ORDER BY f.order_id, f.line_number LIMIT 1) AS f, "
         "range((SELECT max(n) FROM ranked) + 1)", []),
    )


def premium_next_year(ws: Workshop) -> Workshop:
    """A copy of the warehouse with a premium sale in the year after the last one (and its
    days in the date dimension), and every gross amount one more than its net.

    The last year's premium revenue stays; a query that takes every year from the last
    on (``>=``), or sums another money column, now gives another amount.
    """
    year = last_year(ws.crm)
    return _perturbed(
        ws,
        ("INSERT INTO marts.dim_date BY NAME SELECT date_key + 10000 AS date_key, d AS date, "
         "year + 1 AS year, quarter, month, strftime(d, '%Y-%m') AS year_month, month_name, "
         "isodow(d) AS day_of_week, strftime(d, '%A') AS day_name, isodow(d) >= 6 "
         "AS is_weekend FROM (SELECT *, CAST(date + INTERVAL 1 YEAR AS DATE) AS d "
         "FROM marts.dim_date WHERE year = ?)", [year]),
        ("INSERT INTO marts.fact_order_line SELECT f.* REPLACE (-f.order_id AS order_id, "
         "f.date_key + 10000 AS date_key, f.placed_at + INTERVAL 1 YEAR AS placed_at) "
         "FROM marts.fact_order_line f JOIN marts.v_sales v USING (order_id, line_number) "
         "WHERE v.segment = 'premium' AND v.year = ? "
         "ORDER BY f.order_id, f.line_number LIMIT 1", [year]),
        ("UPDATE marts.fact_order_line SET gross_amount = net_amount + 1", []),
    )


def guests_in_one_order(ws: Workshop) -> Workshop:
    """A copy of the warehouse where every guest line belongs to one order.

    The guests' lines are as many as before; a query that counts their orders
    (``count(DISTINCT order_id)``) instead of their lines now gives another number.
    """
    return _perturbed(ws, (
        "UPDATE marts.fact_order_line SET order_id = -1 WHERE customer_key IN ("
        "SELECT customer_key FROM marts.dim_customer WHERE customer_id = -1)", []))


def history_city(data: CRMData) -> str:
    """The city where most customers live (the time-travel exercise asks about it)."""
    counts = data.customers["city"].value_counts()
    return str(sorted(counts.index[counts == counts.max()])[0])


def _city_then(ws: Workshop) -> int:
    c = ws.crm.customers
    return int(((c["city"] == history_city(ws.crm))
                & (c["signup_date"] <= ws.snapshot_day)).sum())


def _raw_batches(ws: Workshop) -> list[str]:
    found = []
    for folder in (ws.batch1, ws.batch2):
        if (folder / "legacy_customers.csv").exists():
            manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
            found.append(manifest["batch_id"])
    return found


def _top_category_revenue(ws: Workshop) -> float:
    lines = _line_frame(ws.crm).merge(
        ws.crm.products[["product_id", "department", "category"]], on="product_id")
    return _money(lines.groupby(["department", "category"])["net"].sum().max(), ws.crm)


def _premium_last_year(ws: Workshop) -> float:
    lines = _line_frame(ws.crm)
    premium = ws.crm.customers.loc[ws.crm.customers["segment"] == "premium", "customer_id"]
    keep = lines["customer_id"].isin(premium) & (lines["placed_at"].dt.year
                                                 == last_year(ws.crm))
    return _money(lines.loc[keep, "net"].sum(), ws.crm)



#: Planted bad rows the warehouse loads against an inferred member instead of quarantining.
INFERRED_REASONS = ("unknown_product", "unknown_customer")


def planted_split(bad_rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The planted bad rows the warehouse quarantines, and those it loads against an
    inferred member (a sale of a product nobody knows is still a sale).

    >>> bad = pd.DataFrame({"file": ["a", "b"], "line": [2, 3],
    ...                     "reason": ["negative_price", "unknown_product"]})
    >>> [len(x) for x in planted_split(bad)]
    [1, 1]
    """
    inferred = bad_rows["reason"].isin(INFERRED_REASONS)
    return bad_rows[~inferred], bad_rows[inferred]


def _guest_lines(ws: Workshop) -> int:
    guests = ws.crm.orders.loc[ws.crm.orders["customer_id"].isna(), "order_id"]
    n = int(ws.crm.order_lines["order_id"].isin(guests).sum())
    planted = ws.batch1 / BAD_ROWS_NAME
    if planted.exists():  # the planted sales of unknown products name no customer either
        n += int((pd.read_csv(planted)["reason"] == "unknown_product").sum())
    return n


# ----------------------------------------------------------------------------- judgement
#: The cube operations a question may call for (the options of ``cube_operation``).
CUBE_OPERATIONS = ("roll_up", "drill_down", "slice", "dice", "pivot")
#: Query needs and the model that serves each (``star_or_snowflake``).
_NEEDS = (("speed", "star"), ("rename", "snowflake"), ("simple", "star"), ("shared", "snowflake"))


def _cube_case(ws: Workshop) -> str:
    return CUBE_OPERATIONS[len(ws.crm.orders) % len(CUBE_OPERATIONS)]


def cube_question(ws: Workshop, lang: str = "en") -> str:
    """This shop's question for the cube-operation exercise (classmates get other questions)."""
    lines = _line_frame(ws.crm)
    segments = sorted(ws.crm.customers["segment"].dropna().unique())
    return t(f"judge.cube_q_{_cube_case(ws)}", lang).format(
        year=last_year(ws.crm), first=int(lines["placed_at"].dt.year.min()),
        segment=segments[0] if segments else "-")


def _need_case(ws: Workshop) -> tuple[str, str]:
    return _NEEDS[len(ws.crm.order_lines) % len(_NEEDS)]


def model_need(ws: Workshop, lang: str = "en") -> str:
    """This shop's query need for the star-or-snowflake exercise."""
    products = ws.crm.products
    return t(f"judge.need_{_need_case(ws)[0]}", lang).format(
        departments=products["department"].nunique(),
        categories=products[["department", "category"]].drop_duplicates().shape[0],
        lines=len(ws.crm.order_lines))


def _warehouse_rows(ws: Workshop, sql: str, params: Iterable[object] = ()) -> pd.DataFrame:
    con = connect(ws.warehouse, external_access=False)
    try:
        return con.execute(sql, list(params)).df()
    finally:
        con.close()


def _department_years(ws: Workshop) -> pd.DataFrame:
    """Revenue of each department in the first and the last year with sales (as the pivot)."""
    rows = _warehouse_rows(ws, "SELECT department, year, sum(net_amount) AS revenue "
                               "FROM marts.v_sales GROUP BY ALL")
    table = rows.pivot(index="department", columns="year", values="revenue").astype(float)
    table = table[[table.columns.min(), table.columns.max()]].dropna()
    return table[table.index.notna()].sort_index()


def _department_growth(ws: Workshop) -> pd.Series:
    table = _department_years(ws)
    return table.iloc[:, 1] / table.iloc[:, 0]


def _department_change(ws: Workshop) -> pd.Series:
    table = _department_years(ws)
    return (table.iloc[:, 1] - table.iloc[:, 0]).abs()


def _best_quarter_months(ws: Workshop) -> pd.Series:
    rows = _warehouse_rows(ws, "SELECT quarter, year_month, sum(net_amount) AS revenue "
                               "FROM marts.v_sales WHERE year = ? GROUP BY ALL",
                           [last_year(ws.crm)])
    best = rows.groupby("quarter")["revenue"].sum().idxmax()
    return rows[rows["quarter"] == best].set_index("year_month")["revenue"].sort_index()


def _month_name(year_month: str, lang: str) -> str:
    from ..i18n import format_date

    return format_date(f"{year_month}-01", lang, skeleton="yMMMM")


def _choice(labels: Iterable[object], right: object) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[list(labels).index(right)]


JUDGEMENT = (
    decide(
        "star_or_snowflake",
        lambda ws, lang: letters([t("label.star", lang), t("label.snowflake", lang)]),
        lambda ws: "a" if _need_case(ws)[1] == "star" else "b"),
    decide(
        "best_quarter_month",
        lambda ws, lang: letters([_month_name(m, lang) for m in _best_quarter_months(ws).index]),
        lambda ws: _choice(_best_quarter_months(ws).index, _best_quarter_months(ws).idxmax())),
    decide(
        "fund_department",
        lambda ws, lang: labelled(list(_department_growth(ws).index), lang),
        lambda ws: _choice(_department_growth(ws).index, _department_growth(ws).idxmax())),
    decide(
        "department_behind_change",
        lambda ws, lang: labelled(list(_department_change(ws).index), lang),
        lambda ws: _choice(_department_change(ws).index, _department_change(ws).idxmax())),
    decide(
        "cube_operation",
        lambda ws, lang: letters([t(f"judge.op_{op}", lang) for op in CUBE_OPERATIONS]),
        lambda ws: _choice(CUBE_OPERATIONS, _cube_case(ws))),
)


_COMPUTE = (
    Exercise(
        "premium_rows", _premium_rows,
    ),
    Exercise(
        "quarantined_dates", _quarantined_dates, convert=run_sql, perturb=stray_quarantine),
    Exercise(
        "both_channels", _both_channels, convert=run_sql, perturb=split_customer),
    Exercise(
        "top_units_department", _top_units, convert=run_sql, perturb=revenue_against_units),
    Exercise(
        "city_back_then", _city_then),
    Exercise(
        "raw_batches", _raw_batches, convert=run_sql, perturb=batch_without_customers),
    Exercise(
        "snowflake_top_category", _top_category_revenue, convert=run_sql, rtol=1e-6,
        perturb=shared_category_name),
    Exercise(
        "dice_premium_last_year", _premium_last_year, convert=run_sql, rtol=1e-6,
        perturb=premium_next_year),
    Exercise(
        "guest_lines", _guest_lines, convert=run_sql, perturb=guests_in_one_order),
)


_ORDER = ("premium_rows", "quarantined_dates", "both_channels",
          "top_units_department", "city_back_then", "raw_batches", "snowflake_top_category",
          "star_or_snowflake", "best_quarter_month", "fund_department",
          "department_behind_change", "dice_premium_last_year", "cube_operation", "guest_lines")
#: The exercises of notebook 02, in the notebook's order (a third of them ask for a decision).
EXERCISES = tuple(sorted(_COMPUTE + JUDGEMENT, key=lambda e: _ORDER.index(e.name)))
EXERCISES += CONCEPT_EXERCISES["02"]  # the concepts of crmkit.lessons.concept_lessons


def exercises(lang: str = "en") -> list[Exercise]:
    """The exercises of notebook 02 as a book in ``lang`` checks them (a query answers in
    the reader's language)."""
    return [replace(e, convert=partial(run_sql, lang=lang))
            if e.convert and e.kind == "compute" else e for e in EXERCISES]


def exercise_book(ws: Workshop, lang: str = "en") -> ExerciseBook:
    """The exercise book of notebook 02 for this workshop's shop and warehouse."""
    check_lang(lang)
    # the notebook writes the extracts and builds the warehouse as it goes: each answer is
    # sealed when it is first checked, from the definitions found again then
    return ExerciseBook(ws, exercises(lang), lang=lang, settled=False,
                        source=f"{__name__}:exercises")


def built_workshop(data: CRMData, *, seed: int = 0,
                   warehouse_dir: str | Path | None = None) -> Workshop:
    """The workshop as notebook 02 leaves it: both extract batches written, the warehouse
    built from the first and the second loaded (the same calls, with the same seeds).

    ``crmkit grade`` computes the exercises' answers on it, outside the student's kernel.
    """
    from ..dataset.extracts import write_customer_changes, write_extracts
    from ..warehouse.build import build_warehouse, load_batch

    ws = workshop(data, warehouse_dir=warehouse_dir, seed=seed)
    write_extracts(data, ws.batch1, seed=seed)
    build_warehouse(ws.batch1, ws.warehouse)
    write_customer_changes(data, ws.batch2, as_of=ws.extracted_at(1) + pd.Timedelta(days=90),
                           share=0.1, seed=seed, card_seed=seed)
    load_batch(ws.warehouse, ws.batch2)
    return ws
