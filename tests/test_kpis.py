"""KPIs on a hand-made shop whose right values are known by construction."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from tiny_shop import tiny_shop

from crmkit.analytics import kpis
from crmkit.errors import ParameterError


@pytest.fixture(scope="module")
def shop():
    return tiny_shop()


def test_footfall_counts_visits_and_distinct_visitors_per_month(shop):
    f = kpis.footfall(shop)
    assert f.loc[pd.Period("2024-01"), "sessions"] == 4
    assert f.loc[pd.Period("2024-01"), "visitors"] == 3
    assert f.loc[pd.Period("2024-02")].tolist() == [2, 2]
    by = kpis.footfall(shop, by="traffic_source")
    assert by.loc[("organic", pd.Period("2024-01")), "sessions"] == 2


def test_conversion_rate_is_orders_per_session_overall_and_by_source(shop):
    assert kpis.conversion_rate(shop)["conversion_rate"].iloc[0] == pytest.approx(2 / 6)
    by = kpis.conversion_rate(shop, by="traffic_source")["conversion_rate"]
    assert by.to_dict() == pytest.approx({"email": 0.5, "organic": 1 / 3, "social": 0.0})
    dev = kpis.conversion_rate(shop, by="device", monthly=True)
    assert dev.loc[("desktop", pd.Period("2024-02")), "orders"] == 1


def test_funnel_steps_visit_cart_order(shop):
    f = kpis.funnel(shop)
    assert f["sessions"].tolist() == [6, 3, 2]
    assert f["step_rate"].tolist() == pytest.approx([1.0, 0.5, 2 / 3])
    by = kpis.funnel(shop, by="device")
    assert by.loc["mobile", "cart_sessions"] == 2 and by.loc["mobile", "order_sessions"] == 1


def test_customer_profitability_score_by_hand(shop):
    cps = kpis.customer_profitability(shop)
    # customer 1: 20 - 2 discount + 3.5 shipping + (10 returned - 10 refunded) = 21.5;
    # goods 8; carrier 4 + 2 x 4 for the return; one contact 0.5
    assert cps.loc[1, "revenue"] == pytest.approx(21.5)
    assert cps.loc[1, "cost_of_sales"] == pytest.approx(8 + 12)
    assert cps.loc[1, "cps"] == pytest.approx(21.5 - 20 - 0.5)
    # customer 2: cancelled order ignored; store order 30 - goods 12; one incident (12)
    assert cps.loc[2, "cps"] == pytest.approx(30 - 12 - kpis.TICKET_COST)
    assert cps.loc[2, "incidents"] == 1
    # customer 3 never bought: only the cost of the contact; customer 4: nothing
    assert cps.loc[3, "cps"] == pytest.approx(-0.5)
    assert cps.loc[4, "cps"] == 0
    other = kpis.customer_profitability(shop, carrier_cost=0, ticket_cost=0)
    assert other.loc[2, "cps"] == pytest.approx(18)
    with pytest.raises(ParameterError, match="carrier_cost"):
        kpis.customer_profitability(shop, carrier_cost=-1)


def test_monthly_kpis_by_hand(shop):
    m = kpis.monthly_kpis(shop)
    jan, feb = m.loc[pd.Period("2024-01")], m.loc[pd.Period("2024-02")]
    assert jan["sessions"] == 4 and jan["conversion_rate"] == pytest.approx(0.25)
    assert jan["active_customers"] == 1 and feb["active_customers"] == 1
    # January: order profit 21.5 - 20 = 1.5... per order: o1 = 18 + 3.5 - 8 - 4 = 9.5,
    # o2 = 10 - 10 - 8 = -8; contacts 2 x 0.5
    assert jan["cps_per_customer"] == pytest.approx(9.5 - 8 - 1.0)
    assert feb["cps_per_customer"] == pytest.approx(18 - kpis.TICKET_COST)


def test_trend_and_traffic_light():
    assert kpis.trend(pd.Series([1.0, 3.0, 5.0])) == pytest.approx(2.0)
    assert math.isnan(kpis.trend(pd.Series([1.0])))
    assert [kpis.status(v, 100) for v in (120, 100, 95, 94.9)] == ["green", "green", "amber",
                                                                   "red"]
    board = kpis.kpi_board(pd.DataFrame({"sessions": [10, 10, 10, 20, 20, 20]}),
                           targets={"sessions": 25})
    assert board.loc["sessions"].to_dict() == {"value": 20.0, "trend": pytest.approx(2.5714),
                                               "target": 25.0, "status": "red", "window": 3}


def test_kpis_on_generated_bendita_follow_the_profile(small_data):
    data = small_data("bendita")
    overall = kpis.conversion_rate(data)["conversion_rate"].iloc[0]
    assert overall == pytest.approx(0.03, rel=0.05)  # the profile's orders per web session
    m = kpis.monthly_kpis(data)
    assert m["sessions"].sum() == len(data.web_sessions)
    cps = kpis.customer_profitability(data)
    assert cps["cps"].sum() == pytest.approx(
        kpis.order_profit(data).dropna(subset=["customer_id"])["order_profit"].sum()
        - data.campaign_contacts["cost"].sum()
        - data.tickets["customer_id"].notna().sum() * kpis.TICKET_COST)


def test_revenue_is_the_lines_amounts_less_what_was_refunded(shop):
    """With the dataset's money columns: a line's revenue is its amount (29.99 where price x
    quantity says 30), a refund (partial or whole) gives back goods, and the shipping charge
    is kept."""
    from crmkit.dataset.crmdata import CRMData

    lines = shop.order_lines.assign(amount_cents=pd.array([1800, 1000, 5000, 2999],
                                                          dtype="Int64"))
    orders = shop.orders.assign(refunded_cents=pd.array([500, 1000, 0, 0], dtype="Int64"))
    money = CRMData({**shop.tables, "orders": orders, "order_lines": lines}, shop.manifest)
    cps = kpis.customer_profitability(money, carrier_cost=0, ticket_cost=0)
    # customer 1: 18.00 + 10.00 of goods + 3.50 shipping - 5.00 and 10.00 refunded
    assert cps.loc[1, "revenue"] == pytest.approx(16.50)
    # customer 2: order 3 cancelled, order 4 at the amount the source gives
    assert cps.loc[2, "revenue"] == pytest.approx(29.99)
