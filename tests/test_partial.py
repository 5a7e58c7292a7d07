"""Analyses on a partial dataset: what they need is declared, and absence is one clear error."""

from __future__ import annotations

import pytest

from crmkit.analytics import concepts, levels, service, tracking
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.schema import NEEDS
from crmkit.dataset.synth import generate
from crmkit.errors import MissingTableError


@pytest.fixture(scope="module")
def shop():
    return generate("sports_shop", n_customers=200, seed=4)


@pytest.fixture(scope="module")
def log(shop):
    return CRMData({k: shop.tables[k] for k in ("orders", "order_lines")},
                   {"shop_name": "Log", "currency": "USD"})


@pytest.mark.parametrize("analysis, table", [
    (levels.field_completeness, "customers"),
    (concepts.win_rate, "opportunities"),
    (service.tickets_by_state, "tickets"),
    (tracking.stock_cover, "products"),
    (concepts.social_activity, "web_sessions"),
])
def test_an_analysis_asked_for_a_missing_table_names_it(log, analysis, table):
    with pytest.raises(MissingTableError, match=f"no table '{table}'") as info:
        analysis(log)
    assert info.value.table == table
    assert analysis.__name__ in str(info.value)


def test_crm_areas_show_only_the_areas_a_shop_has_data_for(shop, log):
    assert list(concepts.crm_areas(log).index) == ["commercial"]
    full = concepts.crm_areas(shop)
    assert list(full.index) == ["commercial", "marketing", "after_sales"]
    assert concepts.crm_areas(log).loc["commercial", "value"] == full.loc["commercial", "value"]


def test_every_topic_names_canonical_tables_and_orders_alone_is_enough_for_orders(log):
    from crmkit.dataset.schema import SCHEMA

    assert all(set(tables) <= set(SCHEMA) for tables in NEEDS.values())
    assert log.has("orders") and log.has("sales") and not log.has("customers")
    assert tracking.out_of_hours_share(log) == tracking.out_of_hours_share(
        CRMData({k: log.tables[k] for k in ("orders", "order_lines")}))


def test_orders_with_dates_only_have_no_times_of_day(log):
    days = log.orders.assign(placed_at=log.orders["placed_at"].dt.normalize())
    dated = CRMData({"orders": days, "order_lines": log.order_lines})
    assert log.has("order_times") and not dated.has("order_times")
    with pytest.raises(MissingTableError, match="orders.placed_at holds no times of day"):
        tracking.out_of_hours_share(dated)
