"""Opening a warehouse file and checking the SQL run on it: every module of the warehouse,
and the lessons, open and check here.

* :func:`connect` opens a warehouse file (read-only by default) with the settings it needs;
  the caller closes it.
* :func:`opened` is the same as a ``with`` block, and lets a caller pass its own open
  connection instead of a path (that one is left open).
* :func:`load_clock` is the moment a batch is loaded: UTC, as every timestamp of the
  warehouse, whatever the machine's time zone.
* :func:`one_statement` refuses SQL text that is not exactly one SELECT, with a
  :class:`NotOneSelectError`, or that does not parse, with an :class:`InvalidSQLError`.

>>> with opened(duckdb.connect()) as con:
...     one_statement(con, "SELECT 42")
'SELECT 42'
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..errors import DatasetError, ParameterError

__all__ = ["connect", "opened", "one_statement", "load_clock", "NotOneSelectError",
           "InvalidSQLError", "WarehouseLike"]

#: A warehouse as callers name it: the path of its DuckDB file, or an open connection.
WarehouseLike = str | Path | duckdb.DuckDBPyConnection


def load_clock() -> datetime:
    """Now in UTC, to the second, without a zone (as a ``TIMESTAMP`` column holds it): the
    ``loaded_at`` of a batch and the ``_loaded_at`` of its raw rows.

    >>> abs((load_clock() - datetime.now(UTC).replace(tzinfo=None)).total_seconds()) < 2
    True
    """
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class NotOneSelectError(ParameterError):
    """SQL text holds no statement, several, or one that is not a SELECT."""


class InvalidSQLError(ParameterError):
    """SQL text that DuckDB cannot parse."""


def connect(warehouse: str | Path, *, read_only: bool = True,
            external_access: bool = True) -> duckdb.DuckDBPyConnection:
    """Open a warehouse file (read-only by default) with the session settings it needs.

    With ``external_access=False`` the connection cannot read or write any
    other file (no ``COPY ... TO``, ``read_csv`` or ``ATTACH``): the setting
    used for queries whose text comes from a learner or a caller.

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
    if path.is_dir():
        raise DatasetError(f"warehouse={str(warehouse)!r} is a folder; give the path of a "
                           ".duckdb file.")
    config: dict[str, str | bool | int | float | list[str]] = (
        {} if external_access else {"enable_external_access": False})
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "lock" in first.lower():  # DuckDB has no class of its own for a held lock
            raise DatasetError(
                f"warehouse {str(path)!r} is open for writing in another process; close that "
                f"program (or notebook kernel) and try again. DuckDB says: {first}") from None
        raise DatasetError(
            f"{str(path)!r} cannot be opened as a DuckDB warehouse ({first}); build one with "
            "crmkit warehouse build.") from None
    con.execute("SET TimeZone = 'UTC'")
    return con


@contextlib.contextmanager
def opened(warehouse: WarehouseLike, *, external_access: bool = True
           ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a warehouse path, closed after the ``with`` block; or the
    caller's own connection, passed through and left open.

    >>> con = duckdb.connect()
    >>> with opened(con) as same:
    ...     same is con
    True
    >>> con.execute("SELECT 1").fetchall()  # still open
    [(1,)]
    """
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        yield warehouse
        return
    con = connect(warehouse, external_access=external_access)
    try:
        yield con
    finally:
        con.close()


def one_statement(con: duckdb.DuckDBPyConnection, sql: str, *, what: str = "sql") -> str:
    """Return ``sql`` if it is exactly one SELECT statement, else raise a clear error.

    >>> one_statement(duckdb.connect(), "SELECT 1; COPY (SELECT 1) TO 'x.csv'")
    Traceback (most recent call last):
    ...
    crmkit.warehouse.connection.NotOneSelectError: sql holds 2 statements; run one query (a single SELECT) at a time.
    >>> one_statement(duckdb.connect(), "SELEC 1")
    Traceback (most recent call last):
    ...
    crmkit.warehouse.connection.InvalidSQLError: sql is not valid SQL: Parser Error: ...
    """  # noqa: E501
    if not isinstance(sql, str) or not sql.strip():
        raise NotOneSelectError(f"{what} is empty; write one query such as 'SELECT 1'.")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise InvalidSQLError(f"{what} is not valid SQL: {first}") from None
    if len(statements) != 1:
        raise NotOneSelectError(f"{what} holds {len(statements)} statements; run one query "
                                "(a single SELECT) at a time.")
    if statements[0].type != duckdb.StatementType.SELECT:
        kind = str(statements[0].type).rsplit(".", 1)[-1]
        raise NotOneSelectError(f"{what} is a {kind} statement; only a SELECT query can run "
                                "here (the warehouse is read-only).")
    return sql
