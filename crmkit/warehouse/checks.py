"""Data tests on the marts, written in SQL: each query returns the rows that fail.

A warehouse is trusted because it is tested like code. Four kinds of test, as
in dbt: **unique** keys, **not null** keys, **relationships** (every foreign
key finds its dimension row) and **accepted values**; plus two that are
particular to this warehouse: type 2 history without gaps or overlaps, and
load accounting (rows read = rows loaded + rows quarantined).

>>> import duckdb
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 1 AS k UNION ALL SELECT 1")
>>> run_data_tests(con, tests=[unique("marts.t", "k")])[["test", "status", "failing_rows"]]
             test status  failing_rows
0  unique_marts.t_k   fail             1
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from ..dataset.schema import ORDER_STATUSES, TICKET_STATES
from .connection import WarehouseLike, opened
from .sql import MAX_AMOUNT, MAX_QUANTITY, UNKNOWN

__all__ = [
    "DataTest",
    "unique",
    "not_null",
    "relationship",
    "accepted_values",
    "finite",
    "DATA_TESTS",
    "run_data_tests",
]


@dataclass(frozen=True)
class DataTest:
    """A named SQL query that returns the failing rows (none when the test passes)."""

    name: str
    kind: str
    table: str
    sql: str


def unique(table: str, *columns: str, given: bool = False) -> DataTest:
    """Each combination of ``columns`` appears once (with ``given``: among the rows where
    every one of them is filled in, e.g. inferred members without a SKU are left out)."""
    cols = ", ".join(columns)
    where = (" WHERE " + " AND ".join(f"{c} IS NOT NULL" for c in columns)) if given else ""
    return DataTest(f"unique_{table}_{'_'.join(columns)}", "unique", table,
                    f"SELECT {cols}, count(*) AS n FROM {table}{where} GROUP BY {cols} "
                    "HAVING count(*) > 1")


def not_null(table: str, column: str) -> DataTest:
    """``column`` is never empty."""
    return DataTest(f"not_null_{table}_{column}", "not_null", table,
                    f"SELECT * FROM {table} WHERE {column} IS NULL")


def relationship(table: str, column: str, to: str, to_column: str) -> DataTest:
    """Every ``column`` value exists in ``to.to_column`` (no orphans)."""
    return DataTest(f"relationship_{table}_{column}", "relationships", table,
                    f"SELECT f.{column} FROM {table} f LEFT JOIN {to} d "
                    f"ON f.{column} = d.{to_column} WHERE d.{to_column} IS NULL")


def accepted_values(table: str, column: str, values: Iterable[object]) -> DataTest:
    """``column`` holds only ``values`` (empty allowed)."""
    listed = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
    return DataTest(f"accepted_values_{table}_{column}", "accepted_values", table,
                    f"SELECT {column}, count(*) AS n FROM {table} "
                    f"WHERE {column} NOT IN ({listed}) GROUP BY {column}")


def finite(table: str, *columns: str) -> DataTest:
    """Every ``columns`` value is a real number: no NaN, no infinity (empty allowed).

    One NaN makes every total it enters NaN, so a measure must be finite.
    """
    cond = " OR ".join(f"NOT isfinite({c})" for c in columns)
    return DataTest(f"finite_{table}", "finite", table,
                    f"SELECT {', '.join(columns)} FROM {table} WHERE {cond}")


_FACT_KEYS = {
    "marts.fact_order_line": (("date_key", "marts.dim_date"),
                              ("customer_key", "marts.dim_customer"),
                              ("product_key", "marts.dim_product"),
                              ("channel_key", "marts.dim_channel"),
                              ("campaign_key", "marts.dim_campaign")),
    "marts.fact_web_session": (("date_key", "marts.dim_date"),
                               ("customer_key", "marts.dim_customer")),
    "marts.fact_campaign_contact": (("date_key", "marts.dim_date"),
                                    ("customer_key", "marts.dim_customer"),
                                    ("campaign_key", "marts.dim_campaign")),
    "marts.fact_ticket": (("date_key", "marts.dim_date"),
                          ("closed_date_key", "marts.dim_date"),
                          ("customer_key", "marts.dim_customer"),
                          ("product_key", "marts.dim_product")),
    "marts.fact_customer_month": (("date_key", "marts.dim_date"),
                                  ("customer_key", "marts.dim_customer")),
}


def _default_tests() -> list[DataTest]:
    tests = [
        unique("marts.dim_date", "date_key"),
        unique("marts.dim_customer", "customer_key"),
        unique("marts.dim_customer", "customer_id", "valid_from", given=True),
        unique("marts.dim_product", "product_key"),
        unique("marts.dim_product", "sku", given=True),
        unique("marts.dim_channel", "channel_key"),
        unique("marts.dim_campaign", "campaign_key"),
        unique("marts.snow_product", "product_key"),
        unique("marts.snow_category", "category_key"),
        unique("marts.snow_department", "department_key"),
        unique("marts.fact_order_line", "order_id", "line_number"),
        unique("marts.fact_web_session", "session_id"),
        unique("marts.fact_campaign_contact", "campaign_key", "customer_key"),
        unique("marts.fact_ticket", "ticket_id"),
        unique("marts.fact_customer_month", "customer_id", "month"),
    ]
    for dim, key in (("dim_date", "date_key"), ("dim_customer", "customer_key"),
                     ("dim_product", "product_key"), ("dim_channel", "channel_key"),
                     ("dim_campaign", "campaign_key")):
        tests.append(not_null(f"marts.{dim}", key))
    for fact, keys in _FACT_KEYS.items():
        for col, dim in keys:
            tests.append(not_null(fact, col))
            tests.append(relationship(fact, col, dim, col.replace("closed_", "")))
    tests += [
        relationship("marts.snow_product", "category_key", "marts.snow_category",
                     "category_key"),
        relationship("marts.snow_category", "department_key", "marts.snow_department",
                     "department_key"),
        not_null("marts.fact_order_line", "net_amount"),
        finite("marts.fact_order_line", "quantity", "unit_price", "discount", "gross_amount",
               "net_amount", "cost_amount", "shipping_amount"),
        finite("marts.fact_customer_month", "revenue", "revenue_to_date"),
        finite("marts.fact_campaign_contact", "cost"),
        finite("marts.dim_product", "unit_cost", "list_price"),
        finite("marts.dim_campaign", "budget", "cost_per_contact", "target_value"),
        DataTest("order_line_values_in_range", "range", "marts.fact_order_line",
                 "SELECT order_id, line_number, quantity, unit_price, discount "
                 "FROM marts.fact_order_line WHERE quantity < 1 OR quantity > "
                 f"{MAX_QUANTITY} OR unit_price < 0 OR unit_price > {MAX_AMOUNT} "
                 "OR discount < 0 OR discount > 1"),
        accepted_values("marts.fact_order_line", "status", ORDER_STATUSES),
        accepted_values("marts.dim_channel", "channel", ("store", "web", "phone", UNKNOWN)),
        accepted_values("marts.dim_customer", "segment",
                        ("premium", "standard", "budget", UNKNOWN)),
        accepted_values("marts.fact_ticket", "status", TICKET_STATES),
        DataTest("scd2_one_current_version", "history", "marts.dim_customer",
                 "SELECT customer_id, count(*) FILTER (WHERE is_current) AS current_versions "
                 "FROM marts.dim_customer WHERE customer_id IS NOT NULL GROUP BY customer_id "
                 "HAVING count(*) FILTER (WHERE is_current) <> 1"),
        DataTest("scd2_valid_ranges_chain", "history", "marts.dim_customer",
                 "SELECT customer_id, version, valid_from, valid_to FROM ("
                 "SELECT *, lead(valid_from) OVER (PARTITION BY customer_id ORDER BY version) "
                 "AS next_from FROM marts.dim_customer WHERE customer_id IS NOT NULL) "
                 "WHERE valid_from >= valid_to OR (next_from IS NOT NULL "
                 "AND next_from <> valid_to)"),
        DataTest("load_rows_balance", "accounting", "meta.load_report",
                 "SELECT * FROM meta.load_report "
                 "WHERE rows_read <> rows_loaded + rows_quarantined OR NOT balanced"),
        DataTest("snowflake_matches_star", "consistency", "marts.v_sales_snowflake",
                 "SELECT s.department, s.amount, t.amount FROM "
                 "(SELECT department, round(sum(net_amount), 6) AS amount "
                 "FROM marts.v_sales_snowflake GROUP BY department) s FULL JOIN "
                 "(SELECT department, round(sum(net_amount), 6) AS amount "
                 "FROM marts.v_sales GROUP BY department) t USING (department) "
                 "WHERE s.amount IS DISTINCT FROM t.amount"),
    ]
    return tests


#: Every data test run by :func:`run_data_tests` by default.
DATA_TESTS: tuple[DataTest, ...] = tuple(_default_tests())


def run_data_tests(warehouse: WarehouseLike, *,
                   tests: Iterable[DataTest] | None = None) -> pd.DataFrame:
    """Run data tests on a warehouse (path or connection); one row per test.

    Columns: ``test``, ``kind``, ``table``, ``status`` (``pass`` / ``fail``),
    ``failing_rows`` and ``sql`` (run it to see the rows at fault).
    """
    tests = DATA_TESTS if tests is None else tuple(tests)
    rows = []
    with opened(warehouse) as con:
        for t in tests:
            n = con.execute(f"SELECT count(*) FROM ({t.sql})").fetchall()[0][0]
            rows.append({"test": t.name, "kind": t.kind, "table": t.table,
                         "status": "pass" if n == 0 else "fail", "failing_rows": int(n),
                         "sql": t.sql})
    return pd.DataFrame(rows, columns=["test", "kind", "table", "status", "failing_rows",
                                       "sql"])
