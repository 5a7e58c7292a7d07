"""The analyses behind the concept sections, against hand-made tables with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.analytics import organisation, outreach
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.synth import generate
from crmkit.errors import MissingTableError
from crmkit.lessons import concept_lessons


def _shop(**tables):
    tables.setdefault("orders", pd.DataFrame({"order_id": [1], "customer_id": pd.array([1]),
                                              "placed_at": pd.to_datetime(["2025-01-01"]),
                                              "channel": ["store"], "status": ["delivered"]}))
    return CRMData(tables)


def test_keyword_alert_fires_only_in_the_week_far_above_the_usual():
    days = (["2025-01-06"] * 2 + ["2025-01-13"] * 2 + ["2025-01-20"] * 9 + ["2025-01-27"] * 2
            + ["2025-02-03"] * 2)
    m = pd.DataFrame({"posted_at": pd.to_datetime(days), "sentiment": "negative",
                      "keyword": "brand"})
    m.loc[0, "keyword"] = "other"
    alerts = outreach.keyword_alerts(_shop(social_mentions=m))
    assert list(alerts.index.strftime("%Y-%m-%d")) == ["2025-01-20"]
    assert int(alerts["negative"].sum()) == 9


def test_store_conversion_is_receipts_over_door_visits_per_month():
    orders = pd.DataFrame({"order_id": [1, 2, 3, 4], "customer_id": pd.array([1, 2, None, 3]),
                           "channel": ["store", "store", "web", "store"],
                           "status": "delivered", "placed_at": pd.to_datetime(
                               ["2025-01-05", "2025-01-09", "2025-01-09", "2025-02-02"])})
    door = pd.DataFrame({"date": pd.to_datetime(["2025-01-05", "2025-01-09", "2025-02-02"]),
                         "visits": [5, 5, 4]})
    f = outreach.store_footfall(_shop(orders=orders, store_visits=door))
    assert f["receipts"].tolist() == [2, 1]  # the web order is not a receipt of the till
    assert f["conversion_rate"].tolist() == [0.2, 0.25]
    assert outreach.walk_outs(_shop(orders=orders, store_visits=door)).tolist() == [8, 3]


def test_net_promoter_score_counts_the_three_groups():
    sv = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5], "score": [10, 9, 8, 6, 0]})
    t = outreach.net_promoter(_shop(surveys=sv))
    assert t.loc["total"].tolist() == [5, 2, 1, 2, 0.0]


def test_a_shop_without_the_tables_gets_one_clear_error():
    with pytest.raises(MissingTableError):
        outreach.search_terms(_shop())
    with pytest.raises(MissingTableError):
        organisation.shared_agenda(_shop())


def test_the_agenda_marks_late_what_was_done_after_its_due_moment():
    ev = pd.DataFrame({"ticket_id": [1, 1, 1], "state": ["registered", "technical_report",
                                                         "report_validated"],
                       "actor_role": ["operator", "technician", "validator"],
                       "occurred_at": pd.to_datetime(["2025-01-01", "2025-01-02",
                                                      "2025-01-09"])})
    agenda = organisation.shared_agenda(_shop(tickets=pd.DataFrame({"ticket_id": [1]}),
                                              ticket_events=ev), as_of="2025-01-10")
    # report in 1 day (on time), validation after 7 days (late), response still open (not due)
    assert agenda["late"].tolist() == [False, True, False]
    assert organisation.handoffs(_shop(tickets=pd.DataFrame({"ticket_id": [1]}),
                                       ticket_events=ev)).sum() == 2


def test_one_to_one_offers_with_nobody_ready_is_an_empty_table():
    data = generate("boutique", n_customers=60, seed=2)
    cust = data.customers.assign(email_consent=False)
    empty = CRMData({**data.tables, "customers": cust})
    assert len(organisation.one_to_one_offers(empty)) == 0


def test_next_plan_moves_the_budget_of_the_weaker_half_and_keeps_the_total():
    eff = pd.DataFrame({"reach": [5, 5, 5, 5], "cost": [10.0, 20.0, 30.0, 40.0],
                        "roi": [3.0, 1.0, 0.5, -1.0]})
    plan = organisation.next_plan(eff)
    assert plan["decision"].tolist() == ["repeat", "repeat", "stop", "stop"]
    assert plan["new_budget"].sum() == pytest.approx(eff["cost"].sum())
    assert plan["new_budget"].tolist() == [62.5, 37.5, 0.0, 0.0]  # 70 shared 3:1


def test_generated_outside_tables_are_deterministic_and_leave_the_others_unchanged():
    a = generate("bendita", n_customers=150, seed=5)
    b = generate("bendita", n_customers=150, seed=5)
    for name in ("newsletter", "social_mentions", "web_referrals", "surveys"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert a.web_referrals["session_id"].isin(a.web_sessions["session_id"]).all()
    assert a.influencer_orders["order_id"].isin(a.orders["order_id"]).all()
    assert "store_visits" not in a.tables  # a web shop has no door to count
    a.validate()


def test_five_shops_name_the_businesses_of_the_activity():
    shops = concept_lessons.five_shops(seed=3, n_customers=60)
    assert shops["business"].to_dict() == {
        "fashion_chain": "Inditex", "sports_shop": "Tienda de Deportes Zeus",
        "frozen_foods": "Fripisa", "boutique": "Mabenka", "ice_cream": "Helados Romero"}
    assert shops.loc["ice_cream", "channels"] == 1
