"""The generator: conformance, integrity, determinism and believable behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.dataset.backoffice import STATE_ROLES
from crmkit.dataset.schema import SCHEMA, TICKET_STATES
from crmkit.dataset.social import OUTSIDE_TABLES
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError


def revenue_by_order(data) -> pd.Series:
    lines = data.order_lines
    value = lines["quantity"] * lines["unit_price"] * (1 - lines["discount"])
    return value.groupby(lines["order_id"]).sum()


def test_every_table_conforms_and_every_reference_resolves(small_data, profile):
    data = small_data(profile)
    data.validate()  # schema + referential integrity, raises on the first problem
    # every table of the schema, but for tables of the outside world (search terms, social
    # media...) that a small or store-only shop leaves empty
    assert set(data.tables) <= set(SCHEMA)
    assert set(SCHEMA) - set(data.tables) <= set(OUTSIDE_TABLES)
    for name in ("customers", "products", "orders", "order_lines", "inventory"):
        assert len(data.tables[name]) > 0, name


@pytest.mark.parametrize(
    ("child", "column", "parent", "key"),
    [
        ("orders", "customer_id", "customers", "customer_id"),
        ("order_lines", "order_id", "orders", "order_id"),
        ("order_lines", "product_id", "products", "product_id"),
        ("web_sessions", "converted_order_id", "orders", "order_id"),
        ("campaign_contacts", "campaign_id", "campaigns", "campaign_id"),
        ("campaign_contacts", "customer_id", "customers", "customer_id"),
        ("ticket_events", "ticket_id", "tickets", "ticket_id"),
    ],
)
def test_referential_integrity(small_data, profile, child, column, parent, key):
    data = small_data(profile)
    values = data.tables[child][column].dropna()
    assert values.isin(data.tables[parent][key]).all()


def test_every_order_has_lines(small_data, profile):
    data = small_data(profile)
    assert set(data.orders["order_id"]) == set(data.order_lines["order_id"])


def test_same_seed_same_tables_other_seed_other_data():
    a = generate("sports_shop", n_customers=300, seed=5)
    b = generate("sports_shop", n_customers=300, seed=5)
    c = generate("sports_shop", n_customers=300, seed=6)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert not a.orders.equals(c.orders)
    assert not a.customers["first_name"].equals(c.customers["first_name"])


def test_ice_cream_july_revenue_at_least_three_times_january(small_data):
    data = small_data("ice_cream")
    rev = revenue_by_order(data)
    month = data.orders.set_index("order_id")["placed_at"].dt.month
    by_month = rev.groupby(month.reindex(rev.index)).sum()
    assert by_month[7] >= 3 * by_month[1]


def test_fashion_has_two_seasons_with_sales_peaks(small_data):
    data = small_data("fashion_chain")
    rev = revenue_by_order(data)
    month = data.orders.set_index("order_id")["placed_at"].dt.month.reindex(rev.index)
    by_month = rev.groupby(month).sum()
    assert by_month[12] > by_month[2] and by_month[7] > by_month[8]


def test_guest_share_differs_by_profile(small_data):
    share = {p: small_data(p).orders["customer_id"].isna().mean()
             for p in ("ice_cream", "boutique", "bendita", "fashion_chain")}
    assert share["ice_cream"] > 0.7
    assert share["boutique"] < 0.15
    assert 0.25 < share["fashion_chain"] < 0.45
    assert share["ice_cream"] > share["fashion_chain"] > share["bendita"]


def test_campaign_conversion_higher_inside_target_segment():
    data = generate("fashion_chain", n_customers=6000, seed=3)
    c = data.campaign_contacts.merge(data.campaigns[["campaign_id", "target_segment"]])
    c = c.merge(data.customers[["customer_id", "segment"]])
    c = c[c["target_segment"] != "all"]
    inside = c["segment"] == c["target_segment"]
    conv = c["converted_order_id"].notna()
    assert conv[inside].mean() > 2 * conv[~inside].mean()


def test_campaign_orders_point_back_to_their_contact(small_data):
    data = small_data("bendita")
    c = data.campaign_contacts.dropna(subset=["converted_order_id"])
    assert len(c) > 0
    orders = data.orders.set_index("order_id")
    o = orders.loc[c["converted_order_id"].astype(int)]
    assert (o["customer_id"].to_numpy() == c["customer_id"].to_numpy()).all()
    assert (o["campaign_id"].to_numpy() == c["campaign_id"].to_numpy()).all()
    assert (o["placed_at"].to_numpy() >= c["sent_at"].to_numpy() - np.timedelta64(1, "D")).all()
    assert o["discount_code"].notna().all()


def test_every_ticket_follows_the_workflow_in_order(small_data, profile):
    data = small_data(profile)
    ev = data.ticket_events.sort_values(["ticket_id", "occurred_at", "event_id"])
    rank = ev["state"].map({s: i for i, s in enumerate(TICKET_STATES)})
    step = rank.groupby(ev["ticket_id"]).cumcount()
    assert (rank == step).all(), "states skip or repeat"
    assert (ev.groupby("ticket_id")["occurred_at"].diff().dropna() > pd.Timedelta(0)).all()
    roles = dict(zip(TICKET_STATES, STATE_ROLES, strict=True))
    assert (ev["actor_role"] == ev["state"].map(roles)).all()
    last = ev.groupby("ticket_id")["state"].last()
    tickets = data.tickets.set_index("ticket_id")
    assert (tickets.loc[last.index, "status"] == last).all()
    assert tickets["closed_at"].notna().eq(tickets["status"] == "closed").all()


def test_some_tickets_are_stuck_past_a_service_level(small_data):
    data = small_data("fashion_chain")
    ev = data.ticket_events.sort_values(["ticket_id", "occurred_at"])
    gaps = ev.groupby("ticket_id")["occurred_at"].diff().dropna()
    assert (gaps > pd.Timedelta(days=7)).mean() > 0.005


def test_web_funnel_visit_cart_order(small_data):
    data = small_data("bendita")
    s = data.web_sessions
    converted = s["converted_order_id"].notna()
    assert s.loc[converted, "added_to_cart"].all()
    assert s["added_to_cart"].mean() > converted.mean()
    web_orders = data.orders.loc[data.orders["channel"] == "web", "order_id"]
    assert set(s.loc[converted, "converted_order_id"].astype(int)) == set(web_orders)
    assert 0.015 < converted.mean() < 0.06


def test_store_only_shop_has_no_web_sessions(small_data):
    assert len(small_data("ice_cream").web_sessions) == 0


def test_order_life_cycle_timestamps_are_ordered(small_data, profile):
    o = small_data(profile).orders
    for a, b in [("placed_at", "shipped_at"), ("shipped_at", "delivered_at"),
                 ("delivered_at", "returned_at"), ("placed_at", "cancelled_at")]:
        both = o[a].notna() & o[b].notna()
        assert (o.loc[both, a] <= o.loc[both, b]).all(), (a, b)
    store = o["channel"] == "store"
    assert o.loc[store, "shipped_at"].isna().all()
    assert (o.loc[store, "shipping_cost"] == 0).all()
    cancelled = o["status"] == "cancelled"
    assert o.loc[cancelled, "delivered_at"].isna().all()


def test_inventory_balances_every_day(small_data, profile):
    inv = small_data(profile).inventory.sort_values(["product_id", "date"])
    prev = inv.groupby("product_id")["on_hand"].shift()
    ok = prev.notna()
    expected = prev[ok] + inv.loc[ok, "units_received"] - inv.loc[ok, "units_sold"]
    assert (inv.loc[ok, "on_hand"] == expected).all()
    assert (inv["on_hand"] >= 0).all()


def test_inventory_sales_match_order_lines(small_data):
    data = small_data("frozen_foods")
    valid = data.orders.loc[data.orders["status"] != "cancelled", "order_id"]
    sold = data.order_lines[data.order_lines["order_id"].isin(valid)]["quantity"].sum()
    assert data.inventory["units_sold"].sum() == sold


def test_data_level_fill_rates_differ_by_profile(small_data):
    ice = small_data("ice_cream").customers
    bendita = small_data("bendita").customers
    assert bendita["email"].notna().all()
    assert ice["phone"].notna().mean() < 0.25
    assert ice["address"].notna().mean() < bendita["address"].notna().mean()


def test_higher_levels_are_mostly_known_where_lower_ones_are(small_data):
    c = small_data("fashion_chain").customers
    level3 = c["birth_date"].notna()
    assert c.loc[level3, "first_name"].notna().mean() > c["first_name"].notna().mean()


def test_ground_truth_is_consistent_with_orders(small_data):
    data = small_data("sports_shop")
    truth = data.truth["customers"]
    assert len(truth) == len(data.customers)
    dead = truth.dropna(subset=["dropout_date"]).set_index("customer_id")["dropout_date"]
    o = data.orders[data.orders["campaign_id"].isna()].dropna(subset=["customer_id"])
    o = o[o["customer_id"].isin(dead.index)]
    after = o["placed_at"].dt.normalize() > dead.reindex(o["customer_id"]).to_numpy()
    assert not after.any(), "a customer bought after dropping out"
    assert 0.2 < truth["alive_at_end"].mean() < 0.9
    alive_orders = o.groupby("customer_id").size()
    assert alive_orders.mean() > 0


def test_heavy_tailed_spend(small_data):
    rev = revenue_by_order(small_data("fashion_chain"))
    assert rev.quantile(0.99) > 4 * rev.median()


def test_opportunities_are_won_lost_or_open(small_data):
    opp = small_data("sports_shop").opportunities
    closed = opp["stage"].isin(["won", "lost"])
    assert opp.loc[closed, "closed_at"].notna().all()
    assert opp.loc[~closed, "closed_at"].isna().all()
    assert {"won", "lost"} <= set(opp["stage"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "bakery"}, "profile='bakery' is not allowed; choose one of: 'fashion_chain'"),
        ({"n_customers": 0}, "n_customers=0 must be a whole number greater than 0"),
        ({"n_customers": -5}, "n_customers=-5"),
        ({"n_customers": 2.5}, "n_customers=2.5"),
        ({"start": "2025-01-01", "end": "2024-01-01"}, "end='2024-01-01' is before start"),
        ({"start": "01/02/2024"}, "start='01/02/2024' is not a date; write it as YYYY-MM-DD"),
        ({"seed": -1}, "seed=-1"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs, message):
    args = {"profile": "boutique", "n_customers": 20, **kwargs}
    with pytest.raises(ParameterError) as err:
        generate(args.pop("profile"), **args)
    assert message in str(err.value)


@pytest.mark.parametrize("n_customers", [1, 3])
@pytest.mark.parametrize(("start", "end"), [("2024-01-01", "2024-01-01"),
                                            ("2024-06-01", "2024-07-15")])
def test_tiny_shops_and_short_periods_still_conform(profile, n_customers, start, end):
    data = generate(profile, n_customers=n_customers, start=start, end=end, seed=1)
    data.validate()
    assert len(data.inventory) == len(data.products) * len(pd.date_range(start, end))
