"""Automation flows on a hand-made shop: who each flow triggers, when, and what followed."""

from __future__ import annotations

import pandas as pd
import pytest
from tiny_shop import tiny_shop

from crmkit.analytics import automation as au
from crmkit.errors import ParameterError


@pytest.fixture(scope="module")
def shop():
    return tiny_shop()


def _rows(t):
    return [(r.customer_id, str(r.triggered_at), r.reachable, r.converted)
            for r in t.itertuples()]


def test_welcome_after_the_first_order_that_was_not_cancelled(shop):
    t = au.flow_triggers(shop, "welcome")
    assert _rows(t) == [(1, "2024-01-10 10:00:00", True, True),    # ordered again on 20 Jan
                        (2, "2024-02-14 18:00:00", True, False)]   # order 3 was cancelled


def test_abandoned_cart_a_day_after_the_visit(shop):
    t = au.flow_triggers(shop, "abandoned_cart")
    assert _rows(t) == [(1, "2024-01-16 22:00:00", True, True)]
    # a reminder 5 days later would come after the customer's order of 20 Jan: none
    assert au.flow_triggers(shop, "abandoned_cart", cart_hours=24 * 5).empty


def test_win_back_only_when_the_day_has_come(shop):
    assert au.flow_triggers(shop, "win_back").empty              # 90 days: not yet
    t = au.flow_triggers(shop, "win_back", win_back_days=20)
    assert _rows(t) == [(1, "2024-02-09 21:00:00", True, False)]
    with pytest.raises(ParameterError, match="win_back_days"):
        au.flow_triggers(shop, "win_back", win_back_days=0)


def test_birthday_needs_a_birth_date(shop):
    t = au.flow_triggers(shop, "birthday")
    # customer 3's birthday (20 Feb) is after the last order; 2 and 4 have no birth date
    assert _rows(t) == [(1, "2024-01-10 09:00:00", True, True)]


def test_weekly_and_summary_add_up(shop):
    w = au.weekly_flows(shop)
    s = au.flow_summary(shop)
    assert w.groupby("flow")["triggered"].sum().to_dict() == {
        "abandoned_cart": 1, "birthday": 1, "welcome": 2}
    assert s.loc["welcome", "next_order_rate"] == 0.5
    assert s.loc["win_back", "triggered"] == 0
    assert (w["week"].dt.day_of_week == 0).all()
    with pytest.raises(ParameterError, match="flow="):
        au.flow_triggers(shop, "newsletter")


def test_flows_on_generated_data_follow_the_rules(small_data):
    data = small_data("bendita")
    welcome = au.flow_triggers(data, "welcome")
    buyers = data.orders.loc[data.orders["status"] != "cancelled", "customer_id"].dropna()
    assert len(welcome) == buyers.nunique()
    birthday = au.flow_triggers(data, "birthday")
    known = data.customers.loc[data.customers["birth_date"].notna(), "customer_id"]
    assert birthday["customer_id"].isin(known).all()
    assert pd.Series(birthday["triggered_at"].dt.hour == 9).all()
