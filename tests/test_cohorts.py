"""Cohorts: counts known by construction, unobserved months empty, heat map drawn."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

from crmkit.analytics.cohorts import cohort_activity, cohort_table
from crmkit.analytics.modelplots import plot_cohort_heatmap
from crmkit.dataset.crmdata import CRMData
from crmkit.errors import ParameterError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def shop():
    from crmkit.dataset.synth import generate
    like = generate("boutique", n_customers=30, seed=1)
    # A (1): Jan, Feb, Apr.  B (2): Jan only.  C (3): Feb, Mar (one cancelled in Mar).
    rows = [(1, 1, "2024-01-10", "delivered"), (2, 1, "2024-02-03", "delivered"),
            (3, 1, "2024-04-20", "delivered"), (4, 2, "2024-01-15", "delivered"),
            (5, 3, "2024-02-11", "delivered"), (6, 3, "2024-03-01", "cancelled"),
            (7, 3, "2024-03-05", "delivered")]
    o = pd.DataFrame(rows, columns=["order_id", "customer_id", "placed_at", "status"])
    o["customer_id"] = o["customer_id"].astype("Int64")
    o["placed_at"] = pd.to_datetime(o["placed_at"]).astype("datetime64[us]")
    o["returned_at"] = pd.Series(pd.NaT, index=o.index, dtype="datetime64[us]")
    lines = pd.DataFrame({"order_id": o["order_id"], "line_number": 1, "product_id": 1,
                          "quantity": 1, "unit_price": [10.0, 20, 30, 40, 50, 60, 70],
                          "discount": 0.0,
                          "amount_cents": pd.array([1000, 2000, 3000, 4000, 5000, 6000, 7000],
                                                   dtype="Int64")})
    return CRMData({**like.tables, "orders": o, "order_lines": lines}, {"end": "2024-04-30"})


def test_retention_counts_the_cohort_members_who_bought(shop):
    ret = cohort_table(shop, metric="retention")
    assert ret.index.tolist() == ["2024-01", "2024-02"]
    assert ret.loc["2024-01"].tolist() == [1.0, 0.5, 0.0, 0.5]
    assert ret.loc["2024-02", [0, 1, 2]].tolist() == [1.0, 1.0, 0.0]
    assert pd.isna(ret.loc["2024-02", 3])          # May is after the end: not observed


def test_revenue_and_customers(shop):
    rev = cohort_table(shop, metric="revenue")
    assert rev.loc["2024-01"].tolist() == [50.0, 20.0, 0.0, 30.0]
    assert rev.loc["2024-02", 1] == 70.0           # the cancelled 60 does not count
    per = cohort_table(shop, metric="revenue_per_customer")
    assert per.loc["2024-01", 0] == 25.0
    cust = cohort_table(shop, metric="customers")
    assert cust.loc["2024-01", 0] == 2


def test_as_of_cuts_the_table(shop):
    ret = cohort_table(shop, as_of="2024-02-29")
    assert ret.columns.tolist() == [0, 1]
    assert pd.isna(ret.loc["2024-02", 1])


def test_activity_is_one_row_per_customer_and_month(shop):
    act = cohort_activity(shop)
    assert not act.duplicated(["customer_id", "age_months"]).any()
    assert act["revenue_cents"].sum() == (10 + 20 + 30 + 40 + 50 + 70) * 100


def test_a_generated_shop_keeps_month_zero_full(small_data):
    ret = cohort_table(small_data("frozen_foods"))
    assert (ret[0] == 1).all()
    assert ret.notna().sum().is_monotonic_decreasing


def test_heat_map_and_bad_metric(shop):
    ax = plot_cohort_heatmap(cohort_table(shop, metric="revenue"), metric="revenue", lang="en")
    assert ax.get_title() == "Revenue by acquisition cohort"
    with pytest.raises(ParameterError, match="metric='profit'"):
        cohort_table(shop, metric="profit")
