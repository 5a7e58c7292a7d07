"""Order tracking: placement, processing and inventory, and the 24/7 relationship.

The course text (seed 002) follows an order from its placement (the customer
orders, sales confirms), through processing (the warehouse invoices, picks,
packs and ships) to inventory management (stock watched as demand moves it).

>>> from crmkit.dataset.synth import generate
>>> data = generate("frozen_foods", n_customers=150, seed=3)
>>> list(orders_by_status(data).index)
['placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned']
>>> processing_times(data).columns.tolist()
['orders', 'to_payment_hours', 'to_shipping_hours', 'to_delivery_hours']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..dataset.schema import ORDER_STATUSES
from ..errors import ParameterError

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData
    from ..dataset.days import DayLike


__all__ = [
    "orders_by_status",
    "processing_times",
    "orders_by_hour",
    "out_of_hours_share",
    "stock_cover",
    "order_value",
]


def order_value(data: CRMData) -> pd.Series:
    """Value of the goods of each order, by order_id: the sum of what its lines cost the
    customer (the dataset's exact amounts where it has them, else quantity × price ×
    (1 − discount))."""
    from .kpis import line_revenue

    data.require("sales", analysis="tracking.order_value")
    lines = data.order_lines
    return line_revenue(data).groupby(lines["order_id"]).sum().rename("value")


def orders_by_status(data: CRMData) -> pd.DataFrame:
    """Orders in each status of the life cycle, by channel."""
    o = data.orders
    table = pd.crosstab(o["status"], o["channel"].fillna("unknown")).reindex(
        ORDER_STATUSES, fill_value=0)
    if not table.loc["other"].any():  # "other": a status an import could not map
        table = table.drop(index="other")
    table["total"] = table.sum(axis=1)
    return table


def processing_times(data: CRMData) -> pd.DataFrame:
    """Median hours from placement to payment, shipping and delivery, by channel (an
    order without a channel counts under ``unknown``)."""
    o = data.orders.assign(channel=data.orders["channel"].fillna("unknown"))

    def hours(col: str) -> pd.Series:
        return (o[col] - o["placed_at"]).dt.total_seconds() / 3600

    t = pd.DataFrame({"channel": o["channel"], "to_payment_hours": hours("paid_at"),
                      "to_shipping_hours": hours("shipped_at"),
                      "to_delivery_hours": hours("delivered_at")})
    out = t.groupby("channel").median()
    out.insert(0, "orders", o.groupby("channel").size())
    return out


def orders_by_hour(data: CRMData) -> pd.DataFrame:
    """Orders by hour of the day (rows 0-23) and channel (columns)."""
    data.require("order_times", analysis="tracking.orders_by_hour")
    o = data.orders
    table = pd.crosstab(o["placed_at"].dt.hour, o["channel"])
    return table.reindex(range(24), fill_value=0).rename_axis("hour")


def out_of_hours_share(data: CRMData, *, opening: tuple[int, int] = (9, 21)) -> float:
    """Share of orders placed while a shop with these opening hours is closed.

    >>> from crmkit.dataset.synth import generate
    >>> 0 <= out_of_hours_share(generate("bendita", n_customers=200, seed=1)) <= 1
    True
    """
    data.require("order_times", analysis="tracking.out_of_hours_share")
    lo, hi = opening
    if not (0 <= lo < hi <= 24):
        raise ParameterError(f"opening={opening!r} must be (open_hour, close_hour) with "
                             "0 <= open < close <= 24.")
    hour = data.orders["placed_at"].dt.hour
    return float(((hour < lo) | (hour >= hi)).mean()) if len(hour) else 0.0


def stock_cover(data: CRMData, *, as_of: DayLike | None = None,
                window_days: int = 28) -> pd.DataFrame:
    """Stock on hand per product on a day, and how many days of sales it covers.

    Days of cover = on hand ÷ average daily units sold over the previous
    ``window_days``. Inventory is semi-additive: it is summed over products,
    never over days.
    """
    data.require("stock", analysis="tracking.stock_cover")
    inv = data.inventory
    if inv.empty:
        return pd.DataFrame(columns=["product_id", "on_hand", "daily_sales", "days_cover"])
    day = pd.Timestamp(as_of) if as_of is not None else inv["date"].max()
    recent = inv[(inv["date"] > day - pd.Timedelta(days=window_days)) & (inv["date"] <= day)]
    daily = recent.groupby("product_id")["units_sold"].sum() / window_days
    today = inv[inv["date"] == day].set_index("product_id")["on_hand"]
    out = pd.DataFrame({"on_hand": today, "daily_sales": daily.reindex(today.index,
                                                                      fill_value=0)})
    out["days_cover"] = np.where(out["daily_sales"] > 0,
                                 out["on_hand"] / out["daily_sales"].replace(0, np.nan), np.inf)
    names = data.products.set_index("product_id")[["name", "category"]]
    return out.join(names).sort_values("days_cover").reset_index()
