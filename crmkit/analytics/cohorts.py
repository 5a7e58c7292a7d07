"""Acquisition cohorts: how each month's new customers keep buying, month after month.

A customer's cohort is the month of their first purchase (the purchases that
count are those of :func:`crmkit.analytics.rfm.customer_purchases`: no cancelled,
returned or guest orders). :func:`cohort_table` counts, for every cohort and
every month since acquisition (0 = the first month), how many of the cohort's
customers bought (``customers``), which share of the cohort that is
(``retention``) and what they spent (``revenue``, and ``revenue_per_customer``
of the cohort). Months after the as-of day have not been observed yet: they
are empty (NaN), never zero.

>>> from crmkit.dataset.synth import generate
>>> data = generate("frozen_foods", n_customers=300, seed=4)
>>> ret = cohort_table(data, metric="retention", as_of="2025-12-31")
>>> bool((ret[0].dropna() == 1).all())          # month 0: everyone bought
True
>>> ret.index[0], ret.columns[:3].tolist()
('2024-01', [0, 1, 2])
>>> bool(ret.loc["2025-12", 1:].isna().all())   # the last cohort has no future yet
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import ModelError, check_choice
from .rfm import _as_of, customer_purchases

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData
    from ..dataset.days import DayLike


__all__ = ["METRICS", "cohort_activity", "cohort_table"]

METRICS = ("retention", "customers", "revenue", "revenue_per_customer")


def _month(ts: pd.Series) -> np.ndarray:
    months: np.ndarray = (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(dtype=np.int64)
    return months


def cohort_activity(data: CRMData, *, as_of: DayLike | None = None) -> pd.DataFrame:
    """One row per customer and active month: cohort, months since acquisition, spend.

    Columns: ``customer_id``, ``cohort`` (``YYYY-MM``), ``age_months``,
    ``revenue_cents``. The long form behind :func:`cohort_table`.
    """
    day = _as_of(data, as_of)
    p = customer_purchases(data, as_of=day)
    if p.empty:
        raise ModelError(f"no customer bought anything by as_of={str(day.date())!r}; "
                         "cohorts need purchases.")
    month = _month(p["placed_at"])
    first = pd.Series(month).groupby(p["customer_id"].to_numpy()).transform("min").to_numpy()
    long = pd.DataFrame({"customer_id": p["customer_id"].to_numpy(), "first": first,
                         "age_months": month - first,
                         "revenue_cents": p["value_cents"].to_numpy()})
    out = long.groupby(["customer_id", "first", "age_months"], as_index=False)[
        "revenue_cents"].sum()
    out.insert(1, "cohort", [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in out["first"]])
    # pandas-stubs types groupby(as_index=False)[column].sum() as a Series; it is a DataFrame
    return out.drop(columns="first")  # type: ignore[return-value]


def cohort_table(data: CRMData, *, metric: str = "retention",
                 as_of: DayLike | None = None) -> pd.DataFrame:
    """Cohorts (rows, ``YYYY-MM``) by months since acquisition (columns 0, 1, ...).

    ``metric`` is one of :data:`METRICS`; revenue is in the shop's currency.
    Cells that lie after ``as_of`` are NaN.
    """
    check_choice("metric", metric, METRICS)
    day = _as_of(data, as_of)
    act = cohort_activity(data, as_of=day)
    size = act[act["age_months"] == 0].groupby("cohort")["customer_id"].nunique()
    if metric in ("retention", "customers"):
        table = act.groupby(["cohort", "age_months"])["customer_id"].nunique().unstack(
            fill_value=0).astype("float64")
    else:
        table = (act.groupby(["cohort", "age_months"])["revenue_cents"].sum().unstack(
            fill_value=0) / 100).astype("float64")
    last_month = day.year * 12 + day.month - 1
    n_cols = int(last_month - min(int(c[:4]) * 12 + int(c[5:]) - 1 for c in size.index)) + 1
    table = table.reindex(index=size.index, columns=range(n_cols), fill_value=0.0)
    starts = np.array([int(c[:4]) * 12 + int(c[5:]) - 1 for c in table.index])
    observed = (starts[:, None] + np.arange(n_cols)[None, :]) <= last_month
    table = table.where(observed)
    if metric == "retention" or metric == "revenue_per_customer":
        table = table.div(size.reindex(table.index), axis=0)
    table.index.name = "cohort"
    table.columns.name = "age_months"
    return table
