"""The RFM summary and the BTYD inputs from a DuckDB warehouse, without loading its tables.

Against two independent answers on the same warehouse: the pandas path
(``rfm_summary`` on the CRMData of ``read_tables``) and a plain recomputation that walks
the orders one by one with the rules written out again. Shops of every profile, built
from extracts (bad rows, a second batch where customers moved), and a shop twisted by
hand so that every rule has a case: partial refunds, returns that come back after the
as-of day or on it, guests and cancellations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.analytics.clv import BetaGeo, ParetoNBD
from crmkit.analytics.rfm import SUMMARY_COLUMNS, rfm_summary
from crmkit.analytics.warehouse_models import (
    btyd_counts,
    warehouse_as_of,
    warehouse_purchases,
    warehouse_rfm_summary,
)
from crmkit.dataset import PROFILE_NAMES
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.extracts import write_customer_changes, write_extracts
from crmkit.dataset.synth import generate
from crmkit.errors import ModelError, ParameterError
from crmkit.warehouse.build import build_warehouse, read_tables


def _pandas_path(db, as_of=None, unit="days") -> pd.DataFrame:
    return rfm_summary(CRMData(read_tables(db), {"currency": "EUR"}), as_of=as_of, unit=unit)


def _plain(db, as_of: pd.Timestamp, unit: str = "days") -> dict[int, dict]:
    """Each customer's summary, order by order, from the warehouse's cleansed tables."""
    t = read_tables(db)
    end = as_of + pd.Timedelta(days=1)
    cents: dict[int, int] = {}
    for order_id, amount in zip(t["order_lines"]["order_id"], t["order_lines"]["amount_cents"],
                                strict=True):
        cents[int(order_id)] = cents.get(int(order_id), 0) + int(amount)
    days: dict[int, dict] = {}
    orders: dict[int, int] = {}
    for o in t["orders"].itertuples(index=False):
        back = o.status == "returned" and not (pd.notna(o.returned_at) and o.returned_at >= end)
        if o.status == "cancelled" or back or pd.isna(o.customer_id) or not o.placed_at < end:
            continue
        refund = 0 if o.status == "returned" or pd.isna(o.refunded_cents) else o.refunded_cents
        value = cents.get(int(o.order_id), 0) - int(refund)
        day = o.placed_at.normalize()
        per = days.setdefault(int(o.customer_id), {})
        per[day] = per.get(day, 0) + value
        orders[int(o.customer_id)] = orders.get(int(o.customer_id), 0) + 1
    div = {"days": 1, "weeks": 7}[unit]
    out = {}
    for cid, per in days.items():
        first, last = min(per), max(per)
        total = sum(per.values())
        repeat = total - per[first]
        freq = len(per) - 1
        out[cid] = {"frequency": freq, "recency": (last - first).days / div,
                    "T": (as_of - first).days / div, "recency_days": (as_of - last).days,
                    "orders": orders[cid], "total_spend_cents": total,
                    "repeat_spend_cents": repeat,
                    "monetary_value": repeat / freq / 100 if freq else 0.0}
    return out


def _agrees_with_plain(summary: pd.DataFrame, plain: dict[int, dict]) -> None:
    assert sorted(summary.index) == sorted(plain)
    for cid, want in plain.items():
        got = summary.loc[cid]
        for col in ("frequency", "orders", "recency_days", "total_spend_cents",
                    "repeat_spend_cents"):
            assert int(got[col]) == want[col], (cid, col)
        for col in ("recency", "T", "monetary_value"):
            assert got[col] == pytest.approx(want[col], abs=1e-12), (cid, col)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A warehouse per profile, from extracts with bad rows and a second batch."""
    cache = {}

    def get(profile: str):
        if profile not in cache:
            root = tmp_path_factory.mktemp(profile)
            data = generate(profile, n_customers=150, seed=4)
            write_extracts(data, root / "b1", seed=6)
            write_customer_changes(data, root / "b2", as_of="2026-06-30", share=0.2, seed=8,
                                   card_seed=6)
            cache[profile] = build_warehouse(root / "b1", root / "w.duckdb",
                                             batches=[root / "b2"])
        return cache[profile]

    return get


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("as_of", [None, "2025-03-15"])
def test_summary_equals_the_pandas_path_and_a_plain_recomputation(built, profile, as_of):
    db = built(profile)
    got = warehouse_rfm_summary(db, as_of=as_of, unit="weeks")
    assert got.columns.tolist() == SUMMARY_COLUMNS and got.index.name == "customer_id"
    pd.testing.assert_frame_equal(got, _pandas_path(db, as_of, "weeks"), check_exact=True)
    _agrees_with_plain(got, _plain(db, warehouse_as_of(db, as_of), "weeks"))


def test_purchases_equal_the_pandas_path(built):
    from crmkit.analytics.rfm import customer_purchases

    db = built("fashion_chain")
    want = customer_purchases(CRMData(read_tables(db), {"currency": "EUR"}),
                              as_of="2025-06-30")
    got = warehouse_purchases(db, as_of="2025-06-30")
    pd.testing.assert_frame_equal(got, want.sort_values("order_id", ignore_index=True),
                                  check_exact=True)


@pytest.fixture(scope="module")
def twisted(tmp_path_factory):
    """A shop where every rule of what counts has a case, built from the dataset."""
    data = generate("boutique", n_customers=120, seed=9)
    o = data.orders.copy()
    as_of = pd.Timestamp("2025-06-30")
    live = o.index[(o["status"] == "delivered") & o["customer_id"].notna()
                   & (o["placed_at"] < as_of)]
    o.loc[live[:6], "refunded_cents"] = [1, 250, 999, 1200, 5, 77]  # partial refunds
    late = o.index[(o["status"] == "returned") & (o["placed_at"] < as_of - pd.Timedelta(days=3))]
    o.loc[late[:3], "returned_at"] = as_of + pd.Timedelta(days=2)  # back after the as-of day
    o.loc[late[3:5], "returned_at"] = as_of + pd.Timedelta(hours=23)  # back on the day
    o.loc[live[10:13], "status"] = "cancelled"
    o.loc[live[10:13], "cancelled_at"] = o.loc[live[10:13], "placed_at"]
    o.loc[live[10:13], ["shipped_at", "delivered_at"]] = pd.NaT
    db = build_warehouse(CRMData(dict(data.tables, orders=o), data.manifest),
                         tmp_path_factory.mktemp("tw") / "w.db")
    return db, as_of, o[o["order_id"].isin(o.loc[live[10:13], "order_id"])]


def test_every_rule_has_its_case_in_the_twisted_shop(twisted):
    db, as_of, cancelled = twisted
    t = read_tables(db)["orders"]
    assert (t["refunded_cents"].fillna(0).gt(0) & (t["status"] != "returned")).sum() == 6
    assert ((t["status"] == "returned") & (t["returned_at"] > as_of)).sum() >= 5
    assert t["customer_id"].isna().any()
    assert set(t.loc[t["status"] == "cancelled", "order_id"]) == set(cancelled["order_id"])


@pytest.mark.parametrize("unit", ["days", "weeks"])
def test_twisted_shop_to_the_cent(twisted, unit):
    db, as_of, cancelled = twisted
    got = warehouse_rfm_summary(db, as_of=as_of, unit=unit)
    pd.testing.assert_frame_equal(got, _pandas_path(db, as_of, unit), check_exact=True)
    _agrees_with_plain(got, _plain(db, as_of, unit))
    p = warehouse_purchases(db, as_of=as_of)
    assert not p["order_id"].isin(cancelled["order_id"]).any()


def test_btyd_fit_on_counts_equals_the_fit_on_customers(built):
    # three months of a shop: many customers share a (frequency, recency, T)
    s = warehouse_rfm_summary(built("frozen_foods"), as_of="2024-03-31", unit="weeks")
    counts = btyd_counts(s)
    assert len(counts) < len(s) and int(counts["customers"].sum()) == len(s)
    assert not counts.duplicated(["frequency", "recency", "T"]).any()
    for model in (BetaGeo, ParetoNBD):
        a, b = model().fit(s).params_, model().fit(counts).params_
        assert a.keys() == b.keys()
        np.testing.assert_allclose(list(a.values()), list(b.values()), rtol=1e-9)


def test_as_of_after_the_data_or_before_any_purchase_is_refused(built):
    db = built("bendita")
    with pytest.raises(ParameterError, match="after the end of the data"):
        warehouse_rfm_summary(db, as_of="2031-01-01")
    with pytest.raises(ModelError, match="no customer bought anything"):
        warehouse_rfm_summary(db, as_of="2020-01-01")
    with pytest.raises(ParameterError):
        warehouse_rfm_summary(db, unit="months")
