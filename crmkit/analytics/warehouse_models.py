"""The customer models' inputs computed from a DuckDB warehouse, without loading its tables.

:func:`crmkit.analytics.rfm.rfm_summary` reads a whole :class:`CRMData`; at ten
million order lines that is every cleansed table of the warehouse in memory (web
sessions included) for a summary that needs three numbers per order. Here DuckDB
does the reading and the sums inside the warehouse file:

* :func:`warehouse_purchases`: :func:`crmkit.analytics.rfm.customer_purchases` as one
  SQL statement on ``staging.orders_current`` and ``staging.order_lines_current`` (the
  tables :func:`crmkit.warehouse.build.read_tables` gives): the orders that count (not
  cancelled, not back by the as-of day, not a guest's), each worth the sum of its lines'
  ``amount_cents`` less a partial refund, in integer cents;
* :func:`warehouse_rfm_summary`: one row per customer, the columns of
  :data:`crmkit.analytics.rfm.SUMMARY_COLUMNS`, summed by the same code as
  :func:`~crmkit.analytics.rfm.rfm_summary`, so equal to it to the cent;
* :func:`btyd_counts`: how many customers share each (frequency, recency, T), the table
  a purchase model fits as the customers it counts (the ``customers`` column, see
  :class:`crmkit.analytics.clv.BetaGeo`), as :func:`crmkit.analytics.spark_models.btyd_inputs`
  gives it from Spark.

The as-of day defaults to the day of the warehouse's last order (a warehouse keeps no
period end), as :func:`crmkit.analytics.spark_models.spark_as_of` does.

>>> import tempfile
>>> from pathlib import Path
>>> from crmkit.analytics.rfm import SUMMARY_COLUMNS, rfm_summary
>>> from crmkit.dataset.crmdata import CRMData
>>> from crmkit.dataset.synth import generate
>>> from crmkit.warehouse.build import build_warehouse, read_tables
>>> db = build_warehouse(generate("boutique", n_customers=60, seed=1),
...                      Path(tempfile.mkdtemp()) / "w.duckdb")
>>> s = warehouse_rfm_summary(db, unit="weeks")
>>> s.columns.tolist() == SUMMARY_COLUMNS
True
>>> pandas_path = rfm_summary(CRMData(read_tables(db), {"currency": "EUR"}), unit="weeks")
>>> s.equals(pandas_path)
True
>>> int(btyd_counts(s)["customers"].sum()) == len(s)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..dataset.days import parse_day
from ..errors import ModelError, ParameterError, check_choice
from ..warehouse.connection import opened
from .rfm import UNITS, _summarise

if TYPE_CHECKING:
    from ..dataset.days import DayLike
    from ..warehouse.connection import WarehouseLike

__all__ = ["warehouse_as_of", "warehouse_purchases", "warehouse_rfm_summary", "btyd_counts",
           "PURCHASES_SQL"]

#: The orders that count before ``$end`` (the day after the as-of day), one row each, with
#: their value in cents: the rules of :func:`crmkit.analytics.rfm.customer_purchases`. A
#: returned order counts until it is back (``returned_at`` on or after ``$end``; an unknown
#: return day means it is back); a partial refund (of an order not returned whole) is
#: netted whenever the order counts; an order without lines is worth 0.
PURCHASES_SQL = """
WITH lines AS (
    SELECT order_id, CAST(sum(amount_cents) AS BIGINT) AS cents
    FROM staging.order_lines_current
    GROUP BY order_id
)
SELECT o.order_id,
       o.customer_id,
       o.placed_at,
       CAST(coalesce(l.cents, 0)
            - CASE WHEN o.status = 'returned' THEN 0 ELSE coalesce(o.refunded_cents, 0) END
            AS BIGINT) AS value_cents
FROM staging.orders_current AS o
LEFT JOIN lines AS l ON l.order_id = o.order_id
WHERE o.status IS DISTINCT FROM 'cancelled'
  AND NOT (coalesce(o.status = 'returned', false)
           AND NOT coalesce(o.returned_at >= CAST($end AS TIMESTAMP), false))
  AND o.placed_at < CAST($end AS TIMESTAMP)
  AND o.customer_id IS NOT NULL
"""

_LAST_ORDER = "SELECT max(placed_at) FROM staging.orders_current"


def warehouse_as_of(warehouse: WarehouseLike, as_of: DayLike | None = None) -> pd.Timestamp:
    """The as-of day: ``as_of`` checked against the data, or the day of the last order.

    The rule of :func:`crmkit.analytics.rfm.period_end` for a shop without a stated
    period end; a day after the last order is refused with a :class:`ParameterError`.
    """
    with opened(warehouse) as con:
        row = con.execute(_LAST_ORDER).fetchone()
    last = row[0] if row else None
    if last is None:
        raise ModelError("the shop has no orders, so it has no period; load orders first.")
    end = pd.Timestamp(last).normalize()
    if as_of is None:
        return end
    day = parse_day("as_of", as_of)
    if day > end:
        raise ParameterError(
            f"as_of={str(day.date())!r} is after the end of the data ({end.date()}); "
            f"choose a day up to {end.date()}.")
    return day


def warehouse_purchases(warehouse: WarehouseLike, *, as_of: DayLike | None = None
                        ) -> pd.DataFrame:
    """The orders that count as purchases up to the end of ``as_of``, read by DuckDB.

    One row per order, in ``order_id`` order: ``order_id``, ``customer_id``,
    ``placed_at`` and ``value_cents`` (int64), as
    :func:`crmkit.analytics.rfm.customer_purchases` gives them from the warehouse's tables.
    """
    day = warehouse_as_of(warehouse, as_of)
    end = f"{(day + pd.Timedelta(days=1)):%Y-%m-%d %H:%M:%S}"
    with opened(warehouse) as con:
        out: pd.DataFrame = con.execute(PURCHASES_SQL + "ORDER BY o.order_id",
                                        {"end": end}).df()
    out = out.astype({"order_id": np.int64, "customer_id": np.int64, "value_cents": np.int64})
    out["placed_at"] = out["placed_at"].astype("datetime64[us]")
    return out


def warehouse_rfm_summary(warehouse: WarehouseLike, *, as_of: DayLike | None = None,
                          unit: str = "days") -> pd.DataFrame:
    """:func:`crmkit.analytics.rfm.rfm_summary` of a warehouse's shop, with DuckDB reading
    only the orders and the sums of their lines.

    Returns a DataFrame indexed by ``customer_id`` with the columns of
    :data:`SUMMARY_COLUMNS`; it equals ``rfm_summary`` on the warehouse's cleansed tables
    (:func:`crmkit.warehouse.build.read_tables`) for the same as-of day and unit. Memory
    grows with the orders that count, not with the shop's other tables.
    """
    check_choice("unit", unit, UNITS)
    day = warehouse_as_of(warehouse, as_of)
    p = warehouse_purchases(warehouse, as_of=day)
    if p.empty:
        raise ModelError(
            f"no customer bought anything by as_of={str(day.date())!r} (cancelled, returned "
            "and guest orders do not count); choose a later as_of or a shop with orders.")
    days = p["placed_at"].to_numpy().astype("datetime64[D]").astype(np.int64)
    return _summarise(p["customer_id"].to_numpy(), days, p["value_cents"].to_numpy(),
                      int(np.datetime64(day, "D").astype(np.int64)), UNITS[unit])


def btyd_counts(summary: pd.DataFrame) -> pd.DataFrame:
    """How many customers of ``summary`` share each (``frequency``, ``recency``, ``T``).

    The table a purchase model (:class:`crmkit.analytics.clv.BetaGeo`, ``ParetoNBD``...)
    fits as the customers it counts (column ``customers``): the same estimates as a fit on
    the summary itself, from as many rows as distinct triples. Sorted by the triple, as
    :func:`crmkit.analytics.spark_models.btyd_inputs` gives it.

    >>> s = pd.DataFrame({"frequency": [0, 2, 0, 2], "recency": [0.0, 5.0, 0.0, 5.0],
    ...                   "T": [9.0, 9.0, 9.0, 7.0]})
    >>> btyd_counts(s)
       frequency  recency    T  customers
    0          0      0.0  9.0          2
    1          2      5.0  7.0          1
    2          2      5.0  9.0          1
    """
    keys = ["frequency", "recency", "T"]
    out = summary.groupby(keys, sort=True).size().rename("customers").reset_index()
    return out.astype({"customers": np.int64})
