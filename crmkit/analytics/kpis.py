"""The KPIs of an e-commerce CRM: footfall, conversion rate and customer profitability.

"What is not measured does not exist." A web shop such as Bendita watches a
few indicators every month, each with its definition written down once:

* **Footfall** (*afluencia*): visits to the shop. ``sessions`` counts visits,
  ``visitors`` counts distinct browsers (``visitor_id``) in the period.
* **Conversion rate** (*tasa de conversión*): orders per visit, i.e. the
  share of sessions that ended in an order. Per traffic source or device it
  says which doors bring buyers; along the funnel visit -> cart -> order it
  says where visitors are lost.
* **Customer Profitability Score** (CPS): what a customer leaves to the
  shop: net revenue (list price minus discounts, plus shipping charged)
  minus the cost of the goods, the carrier's cost, the money refunded for
  returns and the **cost to serve** (the campaign contacts sent to them and
  the incidents they raised).

Each KPI is computed per month by :func:`monthly_kpis`; :func:`kpi_board`
adds the trend (least-squares slope per month), a target and a traffic-light
status (green / amber / red).

>>> import pandas as pd
>>> s = pd.DataFrame({"session_id": [1, 2, 3, 4], "visitor_id": ["a", "a", "b", "c"],
...     "started_at": pd.to_datetime(["2024-01-02", "2024-01-09", "2024-01-20", "2024-02-01"]),
...     "traffic_source": ["email", "organic", "email", "organic"],
...     "device": ["mobile"] * 4, "added_to_cart": [True, False, True, False],
...     "converted_order_id": pd.array([10, None, None, None], dtype="Int64")})
>>> footfall(s)
         sessions  visitors
month
2024-01         3         2
2024-02         1         1
>>> conversion_rate(s, by="traffic_source")["conversion_rate"].to_dict()
{'email': 0.5, 'organic': 0.0}
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ..dataset.schema import empty_table
from ..errors import ParameterError

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData


__all__ = [
    "footfall",
    "conversion_rate",
    "funnel",
    "line_revenue",
    "product_costs",
    "cps_missing",
    "period_days",
    "order_profit",
    "customer_profitability",
    "monthly_kpis",
    "trend",
    "status",
    "kpi_board",
    "CARRIER_COST",
    "TICKET_COST",
    "KPI_NAMES",
]

#: What the carrier charges the shop per parcel (a return travels back at the same price).
CARRIER_COST = 4.0
#: What one incident costs to handle (staff time), in the shop's currency.
TICKET_COST = 12.0
#: The four KPIs of the dashboard, in the order shown.
KPI_NAMES = ("sessions", "conversion_rate", "cps_per_customer", "active_customers")
_SESSION_COLUMNS = ("session_id", "visitor_id", "started_at", "converted_order_id")


def _sessions(data: CRMData) -> pd.DataFrame:
    s = data if isinstance(data, pd.DataFrame) else data.require(
        "web", analysis="footfall and conversion").web_sessions
    missing = [c for c in _SESSION_COLUMNS if c not in s.columns]
    if missing:
        raise ParameterError(
            "web sessions need the column(s) " + ", ".join(repr(m) for m in missing)
            + "; give data.web_sessions or a CRMData whose web_sessions table has them."
        )
    return s


def _month(ts: pd.Series) -> pd.Series:
    month: pd.Series = ts.dt.to_period("M").rename("month")
    return month


def footfall(data: CRMData, *, by: str | None = None) -> pd.DataFrame:
    """Visits per month: ``sessions`` (every visit) and ``visitors`` (distinct browsers).

    ``data`` is a CRMData or its ``web_sessions`` table; ``by`` adds a column
    to split on (e.g. ``"traffic_source"``), as an outer index level.
    """
    s = _sessions(data)
    months = _month_numbers(s["started_at"]) if by is None else None
    if months is not None:  # per month only: counted without a groupby's index arrays
        code, index = months
        visits = np.bincount(code[code >= 0], minlength=len(index))
        visitors = [s["visitor_id"][code == k].nunique() for k in range(len(index))]
        out = pd.DataFrame({"sessions": visits.astype(np.int64),
                            "visitors": np.asarray(visitors, dtype=np.int64)}, index=index)
        return out[out["sessions"] > 0]
    keys = [_month(s["started_at"])] if by is None else [s[by], _month(s["started_at"])]
    g = s.groupby(keys, observed=True)
    sessions = g["session_id"].size()
    return pd.DataFrame({"sessions": sessions,
                         "visitors": _distinct(s["visitor_id"], g.indices, sessions.index)})


def _month_numbers(started: pd.Series) -> tuple[np.ndarray, pd.PeriodIndex] | None:
    """Each visit's month as a position (int32; -1 where the time is unknown) in the
    months from the first to the last visit, and those months (index ``month``): what
    ``groupby(_month(started))`` keys on, in 4 bytes a visit instead of 8 and the groupby's
    own arrays. None for times that are not plain (time-zone-free) datetimes."""
    if not (started.dtype.kind == "M" and getattr(started.dtype, "tz", None) is None):
        return None
    ordinal = started.to_numpy().astype("datetime64[M]")
    known = ~np.isnat(ordinal)
    number = ordinal.view(np.int64)
    lo, hi = (int(number[known].min()), int(number[known].max())) if known.any() else (0, -1)
    code = np.where(known, number - lo, -1).astype(np.int32)
    index = pd.period_range(pd.Period("1970-01", freq="M") + lo, periods=hi - lo + 1,
                            freq="M", name="month")
    return code, index


def _distinct(values: pd.Series, rows: Mapping[Hashable, Any], groups: pd.Index) -> np.ndarray:
    """How many distinct values each group holds (missing ones not counted), group by group:
    ``groupby(...).nunique()`` without a copy of every text value as a Python string (tens
    of millions of visits would need several GB)."""
    counts = [values.take(rows[key]).nunique() for key in groups]
    return np.asarray(counts, dtype=np.int64)


def conversion_rate(data: CRMData, *, by: str | list[str] | None = None,
                    monthly: bool = False) -> pd.DataFrame:
    """Orders per visit: ``orders / sessions``, overall or per ``by`` (source, device...).

    A session converts when an order was placed during it
    (``converted_order_id`` is filled in). ``monthly=True`` adds the month as
    the innermost index level.
    """
    s = _sessions(data)
    months = _month_numbers(s["started_at"]) if monthly and by is None else None
    if months is not None:  # per month only: counted without a groupby's index arrays
        code, index = months
        known = code >= 0
        sessions = np.bincount(code[known], minlength=len(index)).astype(np.int64)
        orders = np.bincount(code[known], minlength=len(index),
                             weights=s["converted_order_id"].notna().to_numpy()[known])
        out = pd.DataFrame({"sessions": sessions, "orders": orders.astype(int)}, index=index)
        out = out[out["sessions"] > 0]
        out["conversion_rate"] = out["orders"] / out["sessions"]
        return out
    keys = [] if by is None else [s[b] for b in ([by] if isinstance(by, str) else by)]
    if monthly:
        keys.append(_month(s["started_at"]))
    conv = s["converted_order_id"].notna()
    if not keys:
        n = len(s)
        return pd.DataFrame({"sessions": [n], "orders": [int(conv.sum())],
                             "conversion_rate": [conv.mean() if n else np.nan]},
                            index=pd.Index(["all"], name="scope"))
    g = conv.groupby(keys, observed=True)
    out = pd.DataFrame({"sessions": g.size(), "orders": g.sum().astype(int)})
    out["conversion_rate"] = out["orders"] / out["sessions"]
    return out


def funnel(data: CRMData, *, by: str | None = None) -> pd.DataFrame:
    """The funnel visit -> cart -> order: how many sessions reach each step, and the step rate.

    ``step_rate`` is the share of the previous step that reached this one;
    ``overall_rate`` the share of all visits.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"session_id": [1, 2, 3, 4], "visitor_id": list("abcd"),
    ...     "started_at": pd.to_datetime(["2024-01-01"] * 4),
    ...     "added_to_cart": [True, True, False, False],
    ...     "converted_order_id": pd.array([7, None, None, None], dtype="Int64")})
    >>> funnel(s)[["sessions", "step_rate"]]
             sessions  step_rate
    step
    visit           4        1.0
    cart            2        0.5
    order           1        0.5
    """
    s = _sessions(data)
    cart = s["added_to_cart"].astype(bool) | s["converted_order_id"].notna()
    steps = pd.DataFrame({"visit": np.ones(len(s), bool), "cart": cart.to_numpy(),
                          "order": s["converted_order_id"].notna().to_numpy()})
    if by is None:
        counts = steps.sum().rename("sessions").to_frame()
        counts.index.name = "step"
        prev = counts["sessions"].shift(1).fillna(counts["sessions"].iloc[0])
        counts["step_rate"] = counts["sessions"] / prev.where(prev > 0)
        counts["overall_rate"] = counts["sessions"] / max(len(s), 1)
        return counts.astype({"sessions": int})
    counts = steps.groupby(s[by].to_numpy()).sum()
    counts.index.name = by
    out = counts.rename(columns=lambda c: f"{c}_sessions")
    out["cart_rate"] = counts["cart"] / counts["visit"]
    out["order_rate_from_cart"] = counts["order"] / counts["cart"].where(counts["cart"] > 0)
    out["conversion_rate"] = counts["order"] / counts["visit"]
    return out


def _minor(data: CRMData) -> int:
    from ..dataset.money import minor_digits

    return minor_digits(getattr(data, "currency", None) or "EUR")


def line_revenue(data: CRMData) -> pd.Series:
    """What each order line cost the customer, in the shop's currency (index of the lines).

    The dataset's own amount (``amount_cents``, exact as the source says it)
    where it has one; otherwise quantity × unit price less the line discount.
    """
    lines = data.order_lines
    if "amount_cents" in lines:
        amount: pd.Series = lines["amount_cents"].astype("float64") / 10 ** _minor(data)
        return amount
    return lines["quantity"] * lines["unit_price"] * (1 - lines["discount"])


def product_costs(data: CRMData) -> tuple[int, int]:
    """How many of the products the shop sold have a known unit cost: ``(known, sold)``.

    >>> from crmkit.dataset.synth import generate
    >>> known, sold = product_costs(generate("bendita", n_customers=100, seed=1))
    >>> known == sold > 0
    True
    """
    if not data.has("sales"):
        return 0, 0
    sold = pd.Index(data.order_lines["product_id"].dropna().unique())
    if not data.has("products"):
        return 0, len(sold)
    cost = data.products.drop_duplicates("product_id").set_index("product_id")["unit_cost"]
    return int(cost.reindex(sold).notna().sum()), len(sold)


def cps_missing(data: CRMData, *, margin: float | None = None) -> dict[str, str | int] | None:
    """Why the CPS cannot be computed on ``data``, or None when it can.

    The CPS needs what it is made of: the orders, their lines and the cost of
    every product sold. Where some costs are unknown a stated ``margin`` (the
    share of a line's revenue left after the cost of its goods) stands in for
    them, and the figure must be shown with it. The answer is ``{"reason":
    "no_lines" | "no_products" | "costs_unknown", "known": k, "sold": n}``.
    """
    if not data.has("sales"):
        return {"reason": "no_lines", "known": 0, "sold": 0}
    known, sold = product_costs(data)
    if not data.has("products"):
        return {"reason": "no_products", "known": known, "sold": sold}
    if known == sold or margin is not None:
        return None
    return {"reason": "costs_unknown", "known": known, "sold": sold}


def _check_margin(margin: object) -> None:
    if margin is not None and not (isinstance(margin, (int, float)) and 0 <= margin < 1):
        raise ParameterError(f"margin={margin!r} must be a share from 0 to below 1 (e.g. 0.4: "
                             "40 % of revenue is left after the cost of goods), or None.")


def _order_lines(data: CRMData, margin: float | None = None) -> pd.DataFrame:
    _check_margin(margin)
    missing = cps_missing(data, margin=margin)
    if missing is not None:
        if missing["reason"] != "costs_unknown":
            data.require("profitability", analysis="the profit of an order (cost of goods)")
        raise ParameterError(
            f"the cost of goods needs every product's unit cost: {missing['known']} of the "
            f"{missing['sold']} products sold have one. Add the costs to the products file, "
            "or give margin= (the share of revenue left after the cost of goods, e.g. 0.4).")
    lines = data.order_lines.merge(
        data.products[["product_id", "unit_cost"]].drop_duplicates("product_id"),
        on="product_id", how="left")
    amount = line_revenue(data).to_numpy()
    gross = (lines["quantity"] * lines["unit_price"]).to_numpy(dtype=float)
    if "amount_cents" in data.order_lines:  # the amount is exact; the discount is the rest
        gross = np.where(np.isnan(gross), amount, gross)
    cogs = (lines["quantity"] * lines["unit_cost"]).to_numpy(dtype=float)
    if margin is not None:
        cogs = np.where(np.isnan(cogs), amount * (1 - margin), cogs)
    return pd.DataFrame({"order_id": lines["order_id"], "gross": gross,
                         "discounts": gross - amount, "cogs": cogs}).groupby("order_id").sum()


def _refunded(data: CRMData, o: pd.DataFrame) -> np.ndarray | None:
    if "refunded_cents" not in o:
        return None
    refunded: np.ndarray = (o["refunded_cents"].fillna(0).astype("float64").to_numpy()
                            / 10 ** _minor(data))
    return refunded


def order_profit(data: CRMData, *, carrier_cost: float = CARRIER_COST,
                 margin: float | None = None) -> pd.DataFrame:
    """Each order's contribution: the parts of the CPS that come from orders.

    Cancelled orders contribute nothing. A returned order gives back its net
    revenue (``returns``) and its goods return to stock (no cost of goods),
    but the carrier was paid both ways. Store orders have no carrier cost.
    Where the dataset records refunds (``refunded_cents``: money given back for
    goods), an order gives back what was refunded, partly or wholly, and keeps
    its shipping charge; revenue is then ``sum(amount_cents) - refunded_cents``
    as the dataset's money rules say. ``margin`` stands in for unknown product
    costs (:func:`cps_missing`).
    """
    o = data.orders.set_index("order_id")
    parts = _order_lines(data, margin).reindex(o.index, fill_value=0.0)
    live = (o["status"] != "cancelled").to_numpy()
    returned = (o["status"] == "returned").to_numpy()
    remote = (o["channel"] != "store").to_numpy()
    out = pd.DataFrame(index=o.index)
    out["customer_id"] = o["customer_id"]
    out["month"] = _month(o["placed_at"])
    out["gross"] = np.where(live, parts["gross"], 0.0)
    out["discounts"] = np.where(live, parts["discounts"], 0.0)
    out["shipping_charged"] = np.where(live, o["shipping_cost"].fillna(0.0), 0.0)
    refunded = _refunded(data, o)
    if refunded is None:  # a dataset without refunds: a return gives everything back
        out["returns"] = np.where(returned, out["gross"] - out["discounts"]
                                  + out["shipping_charged"], 0.0)
    else:  # what the source says was refunded (goods; the shipping charge is kept);
        # a returned order whose refund the source does not give gives back its goods
        goods = out["gross"] - out["discounts"]
        out["returns"] = np.where(live, np.where(returned & (refunded == 0), goods, refunded),
                                  0.0)
    out["cogs"] = np.where(live & ~returned, parts["cogs"], 0.0)
    out["carrier"] = np.where(live & remote, carrier_cost * (1 + returned), 0.0)
    out["order_profit"] = (out["gross"] - out["discounts"] + out["shipping_charged"]
                           - out["returns"] - out["cogs"] - out["carrier"])
    return out


def customer_profitability(data: CRMData, *, carrier_cost: float = CARRIER_COST,
                           ticket_cost: float = TICKET_COST,
                           margin: float | None = None) -> pd.DataFrame:
    """Customer Profitability Score (CPS) of every known customer, with its parts.

    ``cps = gross - discounts + shipping_charged - returns - cogs - carrier
    - contact_cost - incident_cost``, where ``contact_cost`` is the cost of the
    campaign contacts sent to the customer and ``incident_cost`` is
    ``ticket_cost`` per incident they raised. Customers who never bought
    appear with their (negative) cost to serve.

    It needs the orders, their lines and the products' unit costs (topic
    ``profitability``). Without a customer file the customers are those who
    ordered; without campaign contacts or incidents those costs to serve are
    not recorded and count as 0 (``cost_to_serve`` covers what the data holds).

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("bendita", n_customers=150, seed=2)
    >>> cps = customer_profitability(data)
    >>> len(cps) == len(data.customers)
    True
    >>> bool((cps["cps"] == cps["revenue"] - cps["cost_of_sales"] - cps["cost_to_serve"]).all())
    True
    """
    if carrier_cost < 0 or ticket_cost < 0:
        raise ParameterError("carrier_cost and ticket_cost must be >= 0 (money the shop pays).")
    per_order = order_profit(data, carrier_cost=carrier_cost, margin=margin)
    known = per_order.dropna(subset=["customer_id"])
    cols = ["gross", "discounts", "shipping_charged", "returns", "cogs", "carrier"]
    if data.has("customers"):
        ids = data.customers["customer_id"]
    else:
        ids = pd.Index(np.sort(known["customer_id"].astype("int64").unique()), name="customer_id")
    out = known.groupby("customer_id")[cols].sum().reindex(ids, fill_value=0.0)
    out["orders"] = known.groupby("customer_id").size().reindex(ids, fill_value=0)
    contacts = (data.campaign_contacts if data.has("campaign_contacts")
                else empty_table("campaign_contacts"))
    out["contact_cost"] = (contacts.groupby("customer_id")["cost"].sum()
                           .reindex(ids, fill_value=0.0))
    tk = data.tickets if data.has("tickets") else empty_table("tickets")
    tickets = tk.dropna(subset=["customer_id"]).groupby("customer_id").size()
    out["incidents"] = tickets.reindex(ids, fill_value=0).astype(int)
    out["incident_cost"] = out["incidents"] * ticket_cost
    out["revenue"] = out["gross"] - out["discounts"] + out["shipping_charged"] - out["returns"]
    out["cost_of_sales"] = out["cogs"] + out["carrier"]
    out["cost_to_serve"] = out["contact_cost"] + out["incident_cost"]
    out["cps"] = out["revenue"] - out["cost_of_sales"] - out["cost_to_serve"]
    out.index.name = "customer_id"
    return out


def period_days(data: CRMData) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day the shop's data cover: the manifest's ``start`` and ``end``
    where given, else the first and last order's days."""
    placed = data.orders["placed_at"]
    first = data.manifest.get("start") or placed.min()
    last = data.manifest.get("end") or placed.max()
    return pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()


def _partial(months: pd.PeriodIndex, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    """Whether each month has fewer days of data than the month has."""
    # pandas-stubs: Series.clip of datetimes lists no Timestamp bound (pandas takes one)
    lo = pd.Series(months.start_time.normalize()).clip(lower=first)  # type: ignore[call-overload]
    hi = pd.Series(months.end_time.normalize()).clip(upper=last)  # type: ignore[call-overload]
    days = (hi - lo).dt.days.to_numpy() + 1
    return pd.Series(days < np.asarray(months.days_in_month), index=months)


def monthly_kpis(data: CRMData, *, carrier_cost: float = CARRIER_COST,
                 ticket_cost: float = TICKET_COST, margin: float | None = None) -> pd.DataFrame:
    """The four KPIs of the dashboard, one row per month.

    * ``sessions`` and ``visitors``: footfall;
    * ``conversion_rate``: orders per session;
    * ``cps_per_customer``: the month's CPS (order profit of known customers
      minus the contacts sent and incidents opened that month) divided by
      ``active_customers``;
    * ``active_customers``: known customers who ordered that month (the
      frequency side of RFM; the RFM segments are in ``crmkit.analytics.rfm``).

    A KPI whose data the shop lacks is NaN in every month: footfall and
    conversion without web visits, the CPS without the products' costs.
    Active customers need only the orders (and their lines when known).
    The CPS needs every product's cost, or a stated ``margin``
    (:func:`cps_missing`). ``partial`` marks a month the data cover only in
    part (a first or last month cut short): it is no month to judge.
    """
    months = pd.period_range(data.orders["placed_at"].min(), data.orders["placed_at"].max(),
                             freq="M", name="month") if len(data.orders) else pd.PeriodIndex(
        [], freq="M", name="month")
    out = pd.DataFrame(index=months)
    if data.has("web") and len(data.web_sessions):
        out = out.join(footfall(data), how="outer")
        conv = conversion_rate(data, monthly=True)
        out["conversion_rate"] = conv["conversion_rate"]
    else:
        out["sessions"] = out["visitors"] = out["conversion_rate"] = np.nan
    if data.has("profitability") and cps_missing(data, margin=margin) is None:
        per_order = order_profit(data, carrier_cost=carrier_cost,
                                 margin=margin).dropna(subset=["customer_id"])
        profit = per_order.groupby("month")["order_profit"].sum()
    else:
        per_order = _live_gross(data)
        profit = pd.Series(np.nan, index=out.index)
    c = data.campaign_contacts if data.has("campaign_contacts") else empty_table(
        "campaign_contacts")
    contacts = c.groupby(_month(c["sent_at"]))["cost"].sum() if len(c) else pd.Series(
        dtype=float)
    tk = (data.tickets if data.has("tickets") else empty_table("tickets")).dropna(
        subset=["customer_id"])
    incidents = tk.groupby(_month(tk["opened_at"])).size() * ticket_cost if len(tk) else \
        pd.Series(dtype=float)
    active = per_order.loc[per_order["gross"] > 0].groupby("month")["customer_id"].nunique()
    out["active_customers"] = active.reindex(out.index, fill_value=0).astype(int)
    cps = (profit.reindex(out.index, fill_value=0.0)
           - contacts.reindex(out.index, fill_value=0.0)
           - incidents.reindex(out.index, fill_value=0.0))
    out["cps_per_customer"] = cps / out["active_customers"].where(out["active_customers"] > 0)
    out.index.name = "month"
    months = cast(pd.PeriodIndex, out.index)  # grouped by month: the index holds periods
    out["partial"] = (_partial(months, *period_days(data)) if len(out)
                      else pd.Series(dtype=bool))
    return out[["sessions", "visitors", "conversion_rate", "cps_per_customer",
                "active_customers", "partial"]]


def _live_gross(data: CRMData) -> pd.DataFrame:
    """Known customers' orders with their month and gross (0 if cancelled), without costs."""
    o = data.orders.dropna(subset=["customer_id"]).set_index("order_id")
    if data.has("sales"):
        gross = line_revenue(data).groupby(data.order_lines["order_id"]).sum()
        gross = gross.reindex(o.index, fill_value=0.0)
    else:
        gross = pd.Series(1.0, index=o.index)
    live = (o["status"] != "cancelled").to_numpy()
    return pd.DataFrame({"customer_id": o["customer_id"], "month": _month(o["placed_at"]),
                         "gross": np.where(live, gross, 0.0)}, index=o.index)


def trend(series: pd.Series) -> float:
    """Least-squares slope of a monthly series, in units per month (NaN months skipped).

    >>> import pandas as pd
    >>> trend(pd.Series([10.0, 12.0, 14.0, None]))
    2.0
    """
    y = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    x = np.arange(len(y), dtype=float)
    ok = ~np.isnan(y)
    if ok.sum() < 2:
        return float("nan")
    return round(float(np.polyfit(x[ok], y[ok], 1)[0]), 10)


def status(value: float, target: float, *, amber: float = 0.05) -> str:
    """Traffic light of a KPI where more is better.

    ``green`` at or above target, ``amber`` within ``amber`` (a share) below
    it, ``red`` further below; ``grey`` when either number is missing.

    >>> status(100, 100), status(96, 100), status(80, 100), status(float("nan"), 1)
    ('green', 'amber', 'red', 'grey')
    """
    if value is None or target is None or np.isnan(value) or np.isnan(target):
        return "grey"
    if value >= target:
        return "green"
    gap = (target - value) / abs(target) if target else np.inf
    return "amber" if gap <= amber else "red"


def kpi_board(monthly: pd.DataFrame, *, targets: dict[str, float] | None = None,
              growth: float = 0.1, window: int = 3, amber: float = 0.05) -> pd.DataFrame:
    """One row per KPI: current value, trend, target and traffic light.

    ``value`` is the mean of the last ``window`` months; unless ``targets``
    gives one, a KPI's target is its mean over the first ``window`` months
    raised by ``growth`` (the plan: grow 10 % on where we started).

    Only whole months count: a month marked ``partial`` (a column of
    ``monthly``) is left out of value, target and trend. A short history gets
    a shorter window (half its whole months, so value and target never share a
    month; the ``window`` column says which was used); with fewer than two
    whole months there is no target and the light is grey.

    >>> import pandas as pd
    >>> m = pd.DataFrame({"sessions": [100, 100, 100, 120, 115, 110],
    ...                   "conversion_rate": [0.02] * 6})
    >>> kpi_board(m)[["value", "target", "status"]].to_dict("index")["sessions"]
    {'value': 115.0, 'target': 110.0, 'status': 'green'}
    >>> kpi_board(m).loc["conversion_rate", "status"]   # flat at 0.02, target 0.022
    'red'

    """
    if window < 1 or len(monthly) < 1:
        raise ParameterError(f"window={window!r} must be >= 1 and the monthly table not empty.")
    targets = targets or {}
    whole = (monthly[~monthly["partial"].astype(bool)] if "partial" in monthly else monthly)
    used = min(window, len(whole) // 2) or min(window, len(whole))
    rows = []
    for kpi in [k for k in KPI_NAMES if k in whole] + [k for k in whole
                                                         if k not in KPI_NAMES]:
        if kpi in ("visitors", "partial"):
            continue
        col = pd.to_numeric(whole[kpi], errors="coerce")
        value = float(col.tail(used).mean()) if used else float("nan")
        own = col.head(used).mean() * (1 + growth) if len(whole) >= 2 else float("nan")
        target = float(targets.get(cast(str, kpi), own))  # the monthly table's columns are names

        rows.append({"kpi": kpi, "value": value, "trend": trend(col), "target": target,
                     "status": status(value, target, amber=amber), "window": used})
    return pd.DataFrame(rows).set_index("kpi").round({"value": 4, "target": 4, "trend": 4})
