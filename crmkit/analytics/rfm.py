"""Recency, frequency and monetary value: one row per customer, as of a day.

Two readings of the same purchases live side by side in :func:`rfm_summary`:

* the **classic marketing RFM**: days since the last purchase
  (``recency_days``), number of orders (``orders``) and total spend
  (``total_spend``), which :func:`rfm_scores` turns into scores 1-5;
* the **BTYD summary** of the "buy till you die" literature (Fader, Hardie and
  Lee 2005), which the lifetime-value models of :mod:`crmkit.analytics.clv`
  read: ``frequency`` = repeat purchase days (days with a purchase, minus the
  first), ``recency`` = time from the first to the last purchase, ``T`` = time
  from the first purchase to the as-of day, ``monetary_value`` = mean value of
  the repeat purchase days (0 for one-time buyers), in ``unit`` days or weeks.

Which orders count: cancelled orders never count; a returned order is netted
(its goods came back, so it adds nothing) once it has been returned by the
as-of day, and counts as the purchase it was until then; guest orders (no
customer) cannot be followed and are left out. Money is summed in integer cents:
an order is worth the sum of its lines' ``amount_cents`` less a partial refund
(``refunded_cents`` of an order not returned whole; the data do not date it, so it
is netted whenever the order counts), so the result is exact and identical run to
run and engine to engine.

>>> from crmkit.dataset.synth import generate
>>> data = generate("boutique", n_customers=300, seed=5)
>>> s = rfm_summary(data, as_of="2025-06-30")
>>> s.columns.tolist()[:6]
['first_purchase', 'last_purchase', 'frequency', 'recency', 'T', 'monetary_value']
>>> bool((s["recency"] <= s["T"]).all() and (s["frequency"] < s["orders"] + 1).all())
True
>>> scores = rfm_scores(s)
>>> sorted(scores["r_score"].unique().tolist())
[1, 2, 3, 4, 5]

Time runs in days by default; ``unit="weeks"`` divides recency and T by 7, as
in the CDNOW papers. Asking for a day outside the data gives a clear error:

>>> rfm_summary(data, as_of="2030-01-01")
Traceback (most recent call last):
...
crmkit.errors.ParameterError: as_of='2030-01-01' is after the end of the data (2025-12-31); ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..dataset.days import parse_day
from ..dataset.money import line_amounts
from ..errors import ModelError, ParameterError, check_choice

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData
    from ..dataset.days import DayLike


__all__ = [
    "UNITS",
    "SUMMARY_COLUMNS",
    "line_cents",
    "partial_refunds",
    "customer_purchases",
    "period_end",
    "summary_from_transactions",
    "rfm_summary",
    "holdout_from_transactions",
    "holdout_purchases",
    "even_scores",
    "rfm_scores",
    "RFM_PACKAGE_RULES",
    "rule_segments",
]

#: Time units of the BTYD columns, in days.
UNITS = {"days": 1, "weeks": 7}

#: Columns of :func:`rfm_summary` (index: ``customer_id``).
SUMMARY_COLUMNS = [
    "first_purchase", "last_purchase", "frequency", "recency", "T", "monetary_value",
    "recency_days", "orders", "total_spend", "total_spend_cents", "repeat_spend_cents",
]

_DAY = np.timedelta64(1, "D")


def line_cents(order_lines: pd.DataFrame) -> np.ndarray:
    """Revenue of each order line in whole cents (int64): its ``amount_cents``.

    What the line cost the customer after all its discounts, exactly as the
    source says it (:func:`crmkit.dataset.money.line_amounts`); nothing is
    recomputed from ``unit_price`` and ``discount``.

    >>> import pandas as pd
    >>> lines = pd.DataFrame({"quantity": [2, 1], "unit_price": [43.95, 0.1],
    ...                       "discount": [0.3, 0.0],
    ...                       "amount_cents": pd.array([6153, 10], dtype="Int64")})
    >>> line_cents(lines).tolist()
    [6153, 10]
    """
    return line_amounts(order_lines).to_numpy(dtype=np.int64)


def partial_refunds(orders: pd.DataFrame) -> np.ndarray:
    """Cents refunded on orders that were not returned whole (0 where none).

    A returned order leaves the purchases once it is back (its refund is its
    whole value); any other refund is a partial one, which the data do not
    date, so it is netted from its order whenever the order counts.
    """
    if "refunded_cents" not in orders.columns:
        return np.zeros(len(orders), dtype=np.int64)
    refunded = orders["refunded_cents"].fillna(0).to_numpy(dtype=np.int64)
    return np.where((orders["status"] == "returned").to_numpy(), 0, refunded)


def period_end(data: CRMData) -> pd.Timestamp:
    """Last day the data covers: the manifest's ``end``, else the day of the last order."""
    end = (data.manifest or {}).get("end")
    if end:
        return parse_day("end", end)
    placed = data.orders["placed_at"]
    if placed.isna().all():
        raise ModelError("the shop has no orders, so it has no period; load orders first.")
    last: pd.Timestamp = placed.max().normalize()
    return last


def customer_purchases(data: CRMData, *, as_of: DayLike | None = None) -> pd.DataFrame:
    """The orders that count as purchases up to the end of ``as_of``, with their value.

    One row per order: ``order_id``, ``customer_id``, ``placed_at``,
    ``value_cents``. Cancelled orders, guest orders, orders placed after
    ``as_of`` and orders returned by then are left out (see the module text).

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("sports_shop", n_customers=100, seed=2)
    >>> p = customer_purchases(data)
    >>> bool(p["order_id"].isin(data.orders.loc[data.orders.status == "cancelled",
    ...                                          "order_id"]).any())
    False
    """
    keep, cents = _counted(data, _as_of(data, as_of) + _DAY)
    out = data.orders.loc[keep, ["order_id", "customer_id", "placed_at"]].reset_index(drop=True)
    out["customer_id"] = out["customer_id"].astype("int64")
    out["value_cents"] = cents
    return out


def _counted(data: CRMData, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Mask of the orders that count before ``end``, and their values in cents."""
    orders, lines = data.orders, data.order_lines
    status = orders["status"]
    returned = (status == "returned").to_numpy() & ~(
        orders["returned_at"] >= end).to_numpy(dtype=bool, na_value=False)  # not yet back
    keep = ((status != "cancelled").to_numpy() & ~returned
            & (orders["placed_at"] < end).to_numpy(dtype=bool, na_value=False)
            & orders["customer_id"].notna().to_numpy())
    cents = _order_cents(lines, orders["order_id"].to_numpy()[keep])
    return keep, cents - partial_refunds(orders)[keep]


def _order_cents(lines: pd.DataFrame, order_ids: np.ndarray) -> np.ndarray:
    """Sum of the line values (cents) of each order of ``order_ids`` (0 for no lines)."""
    line_ids = lines["order_id"].to_numpy(dtype=np.int64)
    cents = line_cents(lines)
    if len(order_ids) == 0:
        return np.zeros(0, dtype=np.int64)
    lo = min(int(line_ids.min()) if len(line_ids) else 0, int(order_ids.min()))
    hi = max(int(line_ids.max()) if len(line_ids) else 0, int(order_ids.max()))
    if lo >= 0 and hi < 4 * (len(line_ids) + len(order_ids)) + 1024:
        # dense ids: one pass of bincount (sums of int64 cents are exact below 2**53)
        by_id = np.bincount(line_ids, weights=cents, minlength=hi + 1)
        dense: np.ndarray = np.rint(by_id[order_ids]).astype(np.int64)
        return dense
    value = pd.Series(cents).groupby(line_ids).sum()
    per_order: np.ndarray = value.reindex(order_ids, fill_value=0).to_numpy(dtype=np.int64)
    return per_order


def _as_of(data: CRMData, as_of: DayLike | None, name: str = "as_of") -> pd.Timestamp:
    end = period_end(data)
    if as_of is None:
        return end
    day = parse_day(name, as_of)
    if day > end:
        raise ParameterError(
            f"{name}={str(day.date())!r} is after the end of the data ({end.date()}); "
            f"choose a day up to {end.date()}."
        )
    return day


def summary_from_transactions(
    transactions: pd.DataFrame,
    *,
    as_of: DayLike,
    customer: str = "customer_id",
    time: str = "placed_at",
    value: str = "value_cents",
    unit: str = "days",
    end: DayLike | None = None,
) -> pd.DataFrame:
    """The RFM/BTYD summary of any table of purchases (one row per purchase).

    Parameters
    ----------
    transactions : DataFrame
        One row per purchase, with a customer id, a timestamp and a value in
        integer cents (names given by ``customer``, ``time`` and ``value``).
    as_of : day
        Last day observed; purchases after it are ignored.
    unit : {"days", "weeks"}
        Time unit of ``recency`` and ``T``.
    end : day, optional
        Last day the data covers (default: the day of the last purchase);
        ``as_of`` may not be later.

    Purchases on the same day are one purchase occasion (their values add up).

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...     "placed_at": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00",
    ...                                  "2024-01-15 12:00", "2024-01-10 10:30"]),
    ...     "value_cents": [1000, 500, 2000, 700]})
    >>> s = summary_from_transactions(tx, as_of="2024-01-29", unit="weeks",
    ...                               end="2024-01-31")
    >>> s[["frequency", "recency", "T", "monetary_value", "orders", "total_spend"]].round(2)
                 frequency  recency     T  monetary_value  orders  total_spend
    customer_id
    1                    1      2.0  4.00            20.0       3         35.0
    2                    0      0.0  2.71             0.0       1          7.0
    """
    check_choice("unit", unit, UNITS)
    for col in (customer, time, value):
        if col not in transactions.columns:
            raise ParameterError(
                f"the transactions have no column {col!r}; name the right one with "
                f"{'customer' if col == customer else 'time' if col == time else 'value'}=."
            )
    times = pd.to_datetime(transactions[time]).to_numpy(dtype="datetime64[us]")
    if len(times) == 0:
        raise ModelError("there are no purchases to summarise: the shop is empty "
                         "(no orders that count before as_of); load a shop with orders.")
    for col, bad in ((time, np.isnat(times)), (value, transactions[value].isna().to_numpy()),
                     (customer, transactions[customer].isna().to_numpy())):
        if bad.any():
            rows = ", ".join(str(r) for r in transactions.index[bad][:5])
            raise ParameterError(
                f"column {col!r} is empty in {int(bad.sum())} row(s) (first rows: {rows}); "
                "every purchase needs a customer, a time and a value: fix or drop those rows "
                "first (guest orders cannot be followed).")
    first_day = times.min().astype("datetime64[D]")
    last_day = pd.Timestamp(end) if end is not None else pd.Timestamp(times.max()).normalize()
    as_of_day = parse_day("as_of", as_of)
    if as_of_day > last_day.normalize():
        raise ParameterError(
            f"as_of={str(as_of_day.date())!r} is after the end of the data "
            f"({last_day.date()}); choose a day up to {last_day.date()}."
        )
    if as_of_day < pd.Timestamp(first_day):
        raise ParameterError(
            f"as_of={str(as_of_day.date())!r} is before the first purchase "
            f"({pd.Timestamp(first_day).date()}); choose a day from "
            f"{pd.Timestamp(first_day).date()} to {last_day.date()}."
        )
    keep = times < np.datetime64(as_of_day + pd.Timedelta(days=1), "us")
    cust = transactions[customer].to_numpy()[keep].astype(np.int64)
    day = times[keep].astype("datetime64[D]").astype(np.int64)
    cents = transactions[value].to_numpy()[keep].astype(np.int64)
    return _summarise(cust, day, cents, int(np.datetime64(as_of_day, "D").astype(np.int64)),
                      UNITS[unit])


def _summarise(cust: np.ndarray, day: np.ndarray, cents: np.ndarray, as_of: int,
               div: int) -> pd.DataFrame:
    # one sort of (customer, day) keys gives customers, purchase days and their order
    cmin, dmin = cust.min(), day.min()
    span = np.int64(day.max() - dmin + 1)
    key = (cust - cmin) * span + (day - dmin)
    order = np.argsort(key)  # the order within a customer-day does not matter: sums
    key, cents = key[order], cents[order]
    new_occ = np.r_[True, key[1:] != key[:-1]]
    occ_start = np.flatnonzero(new_occ)
    occ_key = key[occ_start]
    occ_cents = np.add.reduceat(cents, occ_start) if len(cents) else cents
    occ_cust = occ_key // span
    occ_day = occ_key % span + dmin
    starts = np.flatnonzero(np.r_[True, occ_cust[1:] != occ_cust[:-1]])
    counts = np.diff(np.r_[starts, len(occ_key)])
    cust_row_start = occ_start[starts]
    orders = np.diff(np.r_[cust_row_start, len(key)])
    ids = occ_cust[starts] + cmin
    first = occ_day[starts]
    last = occ_day[starts + counts - 1]
    total = np.add.reduceat(occ_cents, starts)
    repeat = total - occ_cents[starts]
    frequency = counts - 1
    monetary = np.where(frequency > 0, repeat / np.maximum(frequency, 1) / 100, 0.0)
    epoch = np.datetime64("1970-01-01", "D")
    out = pd.DataFrame({
        "first_purchase": (epoch + first).astype("datetime64[us]"),
        "last_purchase": (epoch + last).astype("datetime64[us]"),
        "frequency": frequency.astype(np.int64),
        "recency": (last - first) / div,
        "T": (as_of - first) / div,
        "monetary_value": monetary,
        "recency_days": (as_of - last).astype(np.int64),
        "orders": orders.astype(np.int64),
        "total_spend": total / 100,
        "total_spend_cents": total,
        "repeat_spend_cents": repeat,
    }, index=pd.Index(ids.astype(np.int64), name="customer_id"))
    return out


def rfm_summary(data: CRMData, *, as_of: DayLike | None = None, unit: str = "days") -> pd.DataFrame:
    """One row per customer who bought by ``as_of``: classic RFM and the BTYD summary.

    Parameters
    ----------
    data : CRMData
        The shop.
    as_of : day, optional
        Last day observed (``YYYY-MM-DD``); default the end of the data's period.
    unit : {"days", "weeks"}
        Time unit of ``recency`` and ``T``.

    Returns a DataFrame indexed by ``customer_id`` with the columns of
    :data:`SUMMARY_COLUMNS`; customers without a purchase by ``as_of`` are not
    in it. The input is never changed.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("frozen_foods", n_customers=200, seed=1)
    >>> s = rfm_summary(data)
    >>> int(s["total_spend_cents"].sum()) == int(customer_purchases(data)["value_cents"].sum())
    True
    """
    check_choice("unit", unit, UNITS)
    day = _as_of(data, as_of)
    keep, cents = _counted(data, day + _DAY)
    if not keep.any():
        raise ModelError(
            f"no customer bought anything by as_of={str(day.date())!r} (cancelled, returned "
            "and guest orders do not count); choose a later as_of or a shop with orders."
        )
    orders = data.orders
    cust = orders["customer_id"].to_numpy(dtype=np.int64, na_value=-1)[keep]
    days = orders["placed_at"].to_numpy()[keep].astype("datetime64[D]").astype(np.int64)
    return _summarise(cust, days, cents, int(np.datetime64(day, "D").astype(np.int64)),
                      UNITS[unit])


def holdout_from_transactions(
    transactions: pd.DataFrame,
    customers: npt.ArrayLike,
    *,
    as_of: DayLike,
    end: DayLike,
    customer: str = "customer_id",
    time: str = "placed_at",
    value: str = "value_cents",
    unit: str = "days",
) -> pd.DataFrame:
    """Purchase days and spend of ``customers`` after ``as_of`` up to ``end`` (the holdout).

    Returns ``frequency_holdout`` (days with a purchase), ``spend_holdout``
    (currency) and ``duration_holdout`` (length of the holdout in ``unit``),
    indexed by customer, zeros for those who did not come back. Used to check
    models fitted on the summary up to ``as_of``.

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...     "placed_at": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-20",
    ...                                  "2024-01-25"]),
    ...     "value_cents": [100, 250, 50, 700]})
    >>> holdout_from_transactions(tx, [1, 2, 3], as_of="2024-01-10", end="2024-01-31")
                 frequency_holdout  spend_holdout  duration_holdout
    customer_id
    1                            1            3.0              21.0
    2                            1            7.0              21.0
    3                            0            0.0              21.0
    """
    check_choice("unit", unit, UNITS)
    cut, stop = parse_day("as_of", as_of), parse_day("end", end)
    if stop <= cut:
        raise ParameterError(
            f"end={str(stop.date())!r} must be after as_of={str(cut.date())!r}: the holdout "
            "is the time between them."
        )
    index = pd.Index(np.asarray(customers, dtype=np.int64), name="customer_id")
    times = pd.to_datetime(transactions[time])
    inside = ((times >= cut + _DAY) & (times < stop + _DAY)
              & transactions[customer].isin(index)).to_numpy()
    later = pd.DataFrame({"customer_id": transactions[customer].to_numpy()[inside],
                          "day": times[inside].dt.normalize().to_numpy(),
                          "cents": transactions[value].to_numpy()[inside]})
    per_day = later.groupby(["customer_id", "day"])["cents"].sum()
    grouped = per_day.groupby(level=0)
    out = pd.DataFrame(index=index)
    out["frequency_holdout"] = grouped.size().reindex(index, fill_value=0).astype("int64")
    out["spend_holdout"] = grouped.sum().reindex(index, fill_value=0) / 100
    out["duration_holdout"] = (stop - cut).days / UNITS[unit]
    return out


def holdout_purchases(data: CRMData, *, as_of: DayLike, end: DayLike | None = None,
                      unit: str = "days") -> pd.DataFrame:
    """The holdout of every customer of ``rfm_summary(data, as_of=as_of)``, up to ``end``.

    See :func:`holdout_from_transactions`; ``end`` defaults to the end of the data.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("frozen_foods", n_customers=200, seed=1)
    >>> h = holdout_purchases(data, as_of="2025-06-30")
    >>> int(h["duration_holdout"].iloc[0])
    184
    """
    cut = _as_of(data, as_of)
    stop = _as_of(data, end, "end")
    if stop <= cut:
        raise ParameterError(
            f"end={str(stop.date())!r} must be after as_of={str(cut.date())!r}: the holdout "
            "is the time between them."
        )
    calib = rfm_summary(data, as_of=cut)
    return holdout_from_transactions(customer_purchases(data, as_of=stop), calib.index,
                                     as_of=cut, end=stop, unit=unit)


# ------------------------------------------------------------------------- scores
def even_scores(values: npt.ArrayLike, *, bins: int = 5,
                higher_is_better: bool = True) -> np.ndarray:
    """Scores 1..``bins`` of ``values`` that stay as even as ties allow.

    The rule. Sort the distinct values (worst first). Equal values always get
    the same score. Build the classes one after another: each aims at an equal
    share of the customers still to place (remaining / classes left) and ends
    at the boundary between two distinct values nearest that target (a class
    is never empty, and enough distinct values are left for the classes still
    to come). When there are fewer distinct values than ``bins``, each value
    gets the score of the middle of its rank range, so scores keep their
    meaning (a value above the median never scores below 3 of 5).

    Plain quintiles of raw values collapse when half the customers share one
    value; this rule keeps every score in use instead:

    >>> import numpy as np
    >>> once = np.r_[np.zeros(50), np.arange(1, 51)]        # half bought only once
    >>> np.bincount(even_scores(once))[1:].tolist()
    [50, 12, 13, 12, 13]
    >>> even_scores([3, 1, 2, 5, 4, 6, 8, 7, 10, 9]).tolist()
    [2, 1, 1, 3, 2, 3, 4, 4, 5, 5]
    >>> even_scores([0, 0, 0, 1], bins=5).tolist()           # two values: mid-rank scores
    [2, 2, 2, 5]
    >>> even_scores([10, 20, 30, 40, 50], higher_is_better=False).tolist()
    [5, 4, 3, 2, 1]
    """
    if not isinstance(bins, int | np.integer) or isinstance(bins, bool) or bins < 2:
        raise ParameterError(f"bins={bins!r} must be a whole number of 2 or more.")
    x = np.asarray(values, dtype=np.float64)
    if np.isnan(x).any():
        raise ParameterError("the values to score contain missing values; fill or drop them "
                             "first.")
    if not higher_is_better:
        x = -x
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    distinct, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    m = len(distinct)
    cum = np.cumsum(counts)  # cum[i] = customers with value <= distinct[i]
    if m == bins:
        return np.arange(1, bins + 1, dtype=np.int64)[inverse]
    if m < bins:
        mid = (cum - counts / 2) / n  # middle of each value's rank range, in (0, 1)
        group_score = np.clip(np.ceil(mid * bins), 1, bins).astype(np.int64)
        group_score = np.maximum.accumulate(group_score)
        # strictly increasing: shift collisions upwards, keeping within 1..bins
        for i in range(1, m):
            if group_score[i] <= group_score[i - 1]:
                group_score[i] = group_score[i - 1] + 1
        over = group_score[-1] - bins
        if over > 0:
            group_score = group_score - over
        return group_score[inverse]
    group_score = np.empty(m, dtype=np.int64)
    start_group, placed = 0, 0
    for b in range(bins):
        left = bins - b
        if left == 1:
            group_score[start_group:] = b + 1
            break
        target = placed + (n - placed) / left
        # the class ends after group j (cum[j]); j in [start_group, m - left]
        lo, hi = start_group, m - left
        j = int(np.searchsorted(cum, target, side="left"))
        candidates = {min(max(j, lo), hi), min(max(j - 1, lo), hi)}
        j = min(candidates, key=lambda g: (abs(cum[g] - target), g))
        group_score[start_group:j + 1] = b + 1
        placed = int(cum[j])
        start_group = j + 1
    return group_score[inverse]


def rfm_scores(summary: pd.DataFrame, *, bins: int = 5) -> pd.DataFrame:
    """Scores 1-``bins`` for recency, frequency and monetary value, and their code.

    ``r_score`` comes from ``recency_days`` (fewer days since the last
    purchase is better), ``f_score`` from ``orders`` and ``m_score`` from
    ``total_spend_cents``, each with the tie-robust rule of :func:`even_scores`;
    ``rfm_code`` is the three digits (``"545"``). Returns a new DataFrame: the
    summary's columns plus the scores.

    The named segments of :mod:`crmkit.analytics.segments` are cells of the
    **R x F grid** (recency score by frequency score): ``m_score`` does not
    decide a segment there. :func:`rule_segments` with :data:`RFM_PACKAGE_RULES`
    is the named alternative that uses M too: the rule table of the R ``rfm``
    package.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"recency_days": [1, 50, 300, 10, 90],
    ...                   "orders": [9, 1, 1, 4, 2],
    ...                   "total_spend_cents": [90000, 1500, 2000, 30000, 5000]})
    >>> rfm_scores(s)[["r_score", "f_score", "m_score", "rfm_code"]]
       r_score  f_score  m_score rfm_code
    0        5        5        5      555
    1        3        1        1      311
    2        1        1        2      112
    3        4        4        4      444
    4        2        3        3      233
    """
    needed = ["recency_days", "orders", "total_spend_cents"]
    missing = [c for c in needed if c not in summary.columns]
    if missing:
        raise ParameterError(
            f"the summary lacks column(s) {', '.join(map(repr, missing))}; "
            "pass the result of rfm_summary(data)."
        )
    if summary.empty:
        raise ModelError("there are no customers to score; the summary is empty.")
    out = summary.copy()
    out["r_score"] = even_scores(summary["recency_days"], bins=bins, higher_is_better=False)
    out["f_score"] = even_scores(summary["orders"], bins=bins)
    out["m_score"] = even_scores(summary["total_spend_cents"], bins=bins)
    out["rfm_code"] = (out["r_score"].astype(str) + out["f_score"].astype(str)
                       + out["m_score"].astype(str))
    return out


#: The segment rules of the R ``rfm`` package (Hebbali, ``rfm_segment``'s documented
#: example): each segment is a range of recency, frequency and monetary scores (1-5, both
#: ends included); a customer takes the first segment whose three ranges hold their scores,
#: and "others" when none does.
RFM_PACKAGE_RULES = pd.DataFrame(
    [("champions", 4, 5, 4, 5, 4, 5),
     ("loyal_customers", 2, 5, 3, 5, 3, 5),
     ("potential_loyalist", 3, 5, 1, 3, 1, 3),
     ("new_customers", 4, 5, 1, 1, 1, 1),
     ("promising", 3, 4, 1, 1, 1, 1),
     ("need_attention", 2, 3, 2, 3, 2, 3),
     ("about_to_sleep", 2, 3, 1, 2, 1, 2),
     ("at_risk", 1, 2, 2, 5, 2, 5),
     ("cant_lose_them", 1, 1, 4, 5, 4, 5),
     ("lost", 1, 2, 1, 2, 1, 2)],
    columns=["segment", "r_low", "r_high", "f_low", "f_high", "m_low", "m_high"],
).set_index("segment")


def rule_segments(scores: pd.DataFrame, rules: pd.DataFrame = RFM_PACKAGE_RULES, *,
                  other: str = "others") -> pd.Series:
    """The segment of each customer under a rule table of R, F and M score ranges.

    ``scores`` has ``r_score``, ``f_score`` and ``m_score`` (:func:`rfm_scores`);
    ``rules`` one row per segment, in priority order, with ``r_low`` ... ``m_high``
    (both ends included). The first matching rule wins; a customer no rule
    matches is ``other``. The default is the R ``rfm`` package's table, where M
    counts (unlike the R x F grid of the named segments). In that table's
    order some segments are reached only by scores no earlier rule holds
    (every "can't lose them" customer, R 1 with F and M 4-5, is already "at risk").

    >>> import pandas as pd
    >>> s = pd.DataFrame({"r_score": [5, 5, 1, 3, 3], "f_score": [5, 1, 5, 3, 4],
    ...                   "m_score": [4, 1, 5, 2, 1]})
    >>> rule_segments(s).tolist()   # order matters: potential loyalists before new customers
    ['champions', 'potential_loyalist', 'at_risk', 'potential_loyalist', 'others']
    """
    needed = ["r_score", "f_score", "m_score"]
    missing = [c for c in needed if c not in scores.columns]
    if missing:
        raise ParameterError(f"scores lacks column(s) {', '.join(map(repr, missing))}; pass "
                             "rfm_scores(summary).")
    out = pd.Series(other, index=scores.index, name="segment", dtype=object)
    free = np.ones(len(scores), dtype=bool)
    for name, r in rules.iterrows():
        hit = free.copy()
        for col, key in (("r_score", "r"), ("f_score", "f"), ("m_score", "m")):
            v = scores[col].to_numpy()
            hit &= (v >= r[f"{key}_low"]) & (v <= r[f"{key}_high"])
        out[hit] = cast(str, name)  # the rules are indexed by segment name
        free &= ~hit
    return out
