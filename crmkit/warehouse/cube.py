"""Relational cubes over the star: ROLLUP, CUBE, GROUPING SETS and pivots.

A cube is one GROUP BY that also returns the subtotals. Subtotal rows are
labelled ``'(all)'`` instead of being left as NULL (which would mix them up
with missing values), and ``level`` (``grouping_id`` of the dimensions) says
which dimensions were rolled up: 0 is the finest detail.

>>> import duckdb
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE TABLE s AS SELECT * FROM (VALUES ('web', 2024, 10.0), "
...                 "('web', 2025, 5.0), ('store', 2024, 1.0)) v(channel, year, net_amount)")
>>> rollup(con, by=["channel", "year"], measures={"revenue": "sum(net_amount)"}, table="s")
  channel   year  revenue  level
0   store   2024      1.0      0
1   store  (all)      1.0      1
2     web   2024     10.0      0
3     web   2025      5.0      0
4     web  (all)     15.0      1
5   (all)  (all)     16.0      3
>>> pivot(con, rows="channel", columns="year", measure="sum(net_amount)", table="s")
  channel  2024  2025  (all)
0   store   1.0   0.0    1.0
1     web  10.0   5.0   15.0
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import duckdb
import pandas as pd

from ..errors import ParameterError, check_choice
from .connection import WarehouseLike, one_statement, opened
from .sql import ident

__all__ = ["ALL", "DEFAULT_MEASURES", "cube", "rollup", "grouping_sets", "pivot"]

#: Label of a subtotal ("all members of this dimension").
ALL = "(all)"
DEFAULT_MEASURES = {
    "revenue": "sum(net_amount)",
    "orders": "count(DISTINCT order_id)",
    "units": "CAST(sum(quantity) AS BIGINT)",
}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    if not _TABLE.match(table):
        raise ParameterError(f"table={table!r} is not a table name like 'marts.v_sales'.")
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _check_by(by: str | Iterable[str], available: list[str], name: str = "by") -> list[str]:
    by = [by] if isinstance(by, str) else list(by)
    if not by:
        raise ParameterError(f"{name} is empty; give at least one column to group by.")
    for col in by:
        if col not in available:
            raise ParameterError(
                f"{name}: column {col!r} is not in the table; choose from: "
                + ", ".join(available) + "."
            )
    return by


def _check_measures(measures: Mapping[str, str] | None) -> dict[str, str]:
    measures = dict(DEFAULT_MEASURES if measures is None else measures)
    for name in measures:
        if not _IDENT.match(name):
            raise ParameterError(f"measures: name {name!r} must be a plain identifier.")
    return measures


def _label(col: str) -> str:
    c = ident(col)
    return (f"CASE WHEN grouping_id({c}) = 1 THEN '{ALL}' "
            f"ELSE coalesce(CAST({c} AS VARCHAR), '(none)') END AS {c}")


def _where(where: str | None) -> str:
    """The ``where`` filter as a clause; its text must stay one condition (checked later)."""
    if where is None or not str(where).strip():
        return ""
    if not isinstance(where, str):
        raise ParameterError(f"where={where!r} must be SQL text such as \"year = 2025\".")
    # on its own line and in brackets: a trailing comment or a ')' cannot escape the clause
    return f" WHERE (\n{where}\n)"


def cube(warehouse: WarehouseLike, *, by: str | Iterable[str],
         measures: Mapping[str, str] | None = None, kind: str = "cube",
         sets: Sequence[str | Sequence[str]] | None = None,
         table: str = "marts.v_sales", where: str | None = None) -> pd.DataFrame:
    """Aggregate ``measures`` by ``by`` with subtotals: ``kind`` cube, rollup or grouping_sets.

    ``measures`` maps output names to SQL aggregates (default: revenue,
    orders, units). ``sets`` (for ``grouping_sets``) is a list of column
    lists; ``[]`` is the grand total. ``where`` filters rows first.

    The query runs as one SELECT on a read-only connection that cannot touch
    other files, so ``where`` and ``measures`` can only read the warehouse.
    """
    check_choice("kind", kind, ("cube", "rollup", "grouping_sets"))
    measures = _check_measures(measures)
    with opened(warehouse, external_access=False) as con:
        available = _columns(con, table)
        by = _check_by(by, available)
        if kind == "grouping_sets":
            if not sets:
                raise ParameterError("sets is empty; give grouping sets such as "
                                     "[['channel'], ['year'], []].")
            for s in sets:
                if s:
                    _check_by(s, by, "sets")
            group = "GROUPING SETS (" + ", ".join(
                "(" + ", ".join(ident(c) for c in ([s] if isinstance(s, str) else s)) + ")"
                for s in sets) + ")"
        else:
            group = f"{kind.upper()} ({', '.join(ident(c) for c in by)})"
        select = ", ".join([_label(c) for c in by]
                           + [f"{expr} AS {ident(name)}" for name, expr in measures.items()]
                           + [f"grouping_id({', '.join(ident(c) for c in by)}) AS level"])
        sql = f"SELECT {select} FROM {table}{_where(where)} GROUP BY {group}"
        sql = f"SELECT * FROM ({sql}) ORDER BY {_order(by)}"
        one_statement(con, sql, what="where (with the measures)")
        df = con.execute(sql).df()
    return df.reset_index(drop=True)


def _order(by: list[str]) -> str:
    # detail rows first within each parent, subtotal after; '(all)' sorts last
    return ", ".join(f"({ident(c)} = '{ALL}'), {ident(c)}" for c in by)


def rollup(warehouse: WarehouseLike, *, by: str | Iterable[str],
           measures: Mapping[str, str] | None = None, table: str = "marts.v_sales",
           where: str | None = None) -> pd.DataFrame:
    """Subtotals along a hierarchy: ``by=['year', 'month']`` adds year totals and a grand total."""
    return cube(warehouse, by=by, measures=measures, kind="rollup", table=table, where=where)


def grouping_sets(warehouse: WarehouseLike, *, sets: Sequence[str | Sequence[str]],
                  measures: Mapping[str, str] | None = None, table: str = "marts.v_sales",
                  where: str | None = None) -> pd.DataFrame:
    """Only the groupings asked for, e.g. ``[['channel'], ['department'], []]``."""
    by = list(dict.fromkeys(c for s in sets for c in ([s] if isinstance(s, str) else s)))
    return cube(warehouse, by=by, sets=sets, measures=measures, kind="grouping_sets",
                table=table, where=where)


def pivot(warehouse: WarehouseLike, *, rows: str, columns: str,
          measure: str = "sum(net_amount)",
          table: str = "marts.v_sales", where: str | None = None,
          fill: float = 0.0) -> pd.DataFrame:
    """A cross table: one row per ``rows`` value, one column per ``columns`` value, plus totals.

    Written with portable conditional aggregation (``sum(CASE WHEN ...)``), so
    it runs on any SQL engine; the ``'(all)'`` column is the row total. Values
    from the data become quoted column names and bound parameters, never SQL.
    """
    with opened(warehouse, external_access=False) as con:
        available = _columns(con, table)
        (rows,) = _check_by([rows], available, "rows")
        (columns,) = _check_by([columns], available, "columns")
        filt = _where(where)
        sql = f"SELECT DISTINCT {ident(columns)} FROM {table}{filt} ORDER BY 1"
        one_statement(con, sql, what="where")
        values = [r[0] for r in con.execute(sql).fetchall()]
        inner = measure.strip()
        m = re.match(r"^(\w+)\s*\((.*)\)$", inner, re.S)
        if not m:
            raise ParameterError(f"measure={measure!r} must be an aggregate like "
                                 "'sum(net_amount)'.")
        func, arg = m.group(1), m.group(2).strip()
        # count(DISTINCT x) -> count(DISTINCT CASE WHEN ... THEN x END): keep the keyword outside
        distinct = re.match(r"^distinct\s+(.*)$", arg, re.I | re.S)
        prefix, arg = ("DISTINCT ", distinct.group(1)) if distinct else ("", arg)
        parts, params = [], []
        col = ident(columns)
        for v in values:
            if v is None:
                cond = f"{col} IS NULL"
            else:
                cond = f"CAST({col} AS VARCHAR) = ?"
                params.append(str(v))
            label = "(none)" if v is None else str(v)
            parts.append(f"{func}({prefix}CASE WHEN {cond} THEN {arg} END) AS {ident(label)}")
        parts.append(f"{inner} AS {ident(ALL)}")
        sql = (f"SELECT {ident(rows)}, {', '.join(parts)} FROM {table}{filt} "
               f"GROUP BY {ident(rows)} ORDER BY {ident(rows)}")
        one_statement(con, sql, what="measure")
        df = con.execute(sql, params).df()
    value_cols = [c for c in df.columns if c != rows]
    df[value_cols] = df[value_cols].fillna(fill)
    return df
