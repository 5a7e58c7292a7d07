"""RFM summary and scores: values known by construction, ties, engines, errors."""

from __future__ import annotations

import collections

import duckdb
import numpy as np
import pandas as pd
import pytest

from crmkit.analytics.rfm import (
    SUMMARY_COLUMNS,
    customer_purchases,
    even_scores,
    holdout_purchases,
    line_cents,
    rfm_scores,
    rfm_summary,
    summary_from_transactions,
)
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.schema import conform
from crmkit.errors import CRMKitError, ModelError, ParameterError, SchemaError


def _shop(orders: list[tuple], lines: list[tuple], *, end="2024-03-31", like=None):
    """A shop whose orders and lines are given by hand; other tables come from ``like``."""
    o = pd.DataFrame(orders, columns=["order_id", "customer_id", "placed_at", "status",
                                      "returned_at"])
    o["customer_id"] = o["customer_id"].astype("Int64")
    o["placed_at"] = pd.to_datetime(o["placed_at"]).astype("datetime64[us]")
    o["returned_at"] = pd.to_datetime(o["returned_at"]).astype("datetime64[us]")
    lines = pd.DataFrame(lines, columns=["order_id", "line_number", "product_id", "quantity",
                                         "unit_price", "discount"])
    # the amount each line cost, as a source would say it (here: the product, rounded once)
    lines = conform("order_lines", lines)
    return CRMData({**like.tables, "orders": o, "order_lines": lines},
                   {"end": end, "profile": "hand"})


@pytest.fixture(scope="module")
def hand(small_data_module):
    # customer 1: two orders on Jan 1 (one day = one purchase occasion), Jan 11, a cancelled
    # order on Jan 21, and an order on Jan 31 returned on Feb 10.
    # customer 2: one order on Jan 5 with a 25 % discount; customer 3: only a cancelled order;
    # a guest order (no customer) on Jan 2.
    orders = [
        (1, 1, "2024-01-01 10:00", "delivered", None),
        (2, 1, "2024-01-01 19:00", "delivered", None),
        (3, 1, "2024-01-11 12:00", "delivered", None),
        (4, 1, "2024-01-21 12:00", "cancelled", None),
        (5, 1, "2024-01-31 12:00", "returned", "2024-02-10 09:00"),
        (6, 2, "2024-01-05 12:00", "delivered", None),
        (7, 3, "2024-01-06 12:00", "cancelled", None),
        (8, None, "2024-01-02 12:00", "delivered", None),
    ]
    lines = [
        (1, 1, 1, 2, 10.00, 0.0), (1, 2, 1, 1, 5.55, 0.0),   # 25.55
        (2, 1, 1, 1, 4.45, 0.0),                              # 4.45 -> Jan 1 = 30.00
        (3, 1, 1, 3, 20.00, 0.0),                             # 60.00
        (4, 1, 1, 1, 999.00, 0.0),                            # cancelled
        (5, 1, 1, 1, 40.00, 0.0),                             # returned later
        (6, 1, 1, 1, 19.99, 0.25),                            # 14.9925 -> 14.99
        (7, 1, 1, 1, 50.00, 0.0),
        (8, 1, 1, 1, 70.00, 0.0),
    ]
    return _shop(orders, lines, like=small_data_module)


@pytest.fixture(scope="module")
def small_data_module():
    from crmkit.dataset.synth import generate
    return generate("boutique", n_customers=40, seed=1)


def test_summary_matches_the_hand_made_shop(hand):
    s = rfm_summary(hand, as_of="2024-02-05")
    assert list(s.columns) == SUMMARY_COLUMNS
    assert s.index.tolist() == [1, 2]                       # 3 only cancelled: not a buyer
    c1, c2 = s.loc[1], s.loc[2]
    # Jan 31 counts as of Feb 5: it was returned only on Feb 10
    assert (c1["frequency"], c1["recency"], c1["T"]) == (2, 30, 35)
    assert c1["orders"] == 4 and c1["total_spend_cents"] == 3000 + 6000 + 4000
    assert c1["monetary_value"] == pytest.approx((60 + 40) / 2)
    assert c1["recency_days"] == 5
    assert (c2["frequency"], c2["recency"], c2["T"], c2["monetary_value"]) == (0, 0, 31, 0)
    assert c2["total_spend_cents"] == 1499


def test_returns_are_netted_once_returned(hand):
    s = rfm_summary(hand, as_of="2024-02-15")
    assert s.loc[1, "orders"] == 3 and s.loc[1, "total_spend_cents"] == 9000
    assert s.loc[1, "frequency"] == 1 and s.loc[1, "recency"] == 10


def test_weeks_divide_the_days(hand):
    d = rfm_summary(hand, as_of="2024-02-05")
    w = rfm_summary(hand, as_of="2024-02-05", unit="weeks")
    assert np.allclose(w["T"] * 7, d["T"]) and np.allclose(w["recency"] * 7, d["recency"])
    assert w["frequency"].equals(d["frequency"])


def test_the_input_is_not_changed(hand):
    before = {k: v.copy() for k, v in hand.tables.items()}
    rfm_scores(rfm_summary(hand, as_of="2024-02-05"))
    for k, v in before.items():
        pd.testing.assert_frame_equal(hand.tables[k], v)


def test_line_cents_is_the_amount_the_source_gives():
    # the second line carries its share of an order-level discount: 10.01 - 1.00, which no
    # product of quantity, price and line discount gives; nothing is recomputed from them
    lines = pd.DataFrame({"quantity": [1, 1, 3], "unit_price": [0.05, 10.01, 0.35],
                          "discount": [0.5, 0.0, 0.5],
                          "amount_cents": pd.array([3, 901, 53], dtype="Int64")})
    assert line_cents(lines).tolist() == [3, 901, 53]
    with pytest.raises(SchemaError, match="amount_cents"):
        line_cents(lines.drop(columns="amount_cents"))


def test_summary_equals_a_duckdb_query_on_the_same_rules(small_data):
    data = small_data("frozen_foods")
    s = rfm_summary(data, as_of="2025-06-30")
    con = duckdb.connect()
    con.register("o", data.orders)
    con.register("l", data.order_lines)
    q = """
    WITH v AS (SELECT order_id, sum(amount_cents) AS c FROM l GROUP BY order_id),
         p AS (SELECT o.customer_id AS cid, CAST(o.placed_at AS DATE) AS d,
                      coalesce(v.c, 0) - CASE WHEN o.status = 'returned' THEN 0
                                              ELSE coalesce(o.refunded_cents, 0) END AS c
               FROM o LEFT JOIN v USING (order_id)
               WHERE o.customer_id IS NOT NULL AND o.status <> 'cancelled'
                 AND o.placed_at < DATE '2025-07-01'
                 AND NOT (o.status = 'returned' AND coalesce(o.returned_at < DATE '2025-07-01',
                                                             TRUE))),
         occ AS (SELECT cid, d, sum(c) AS c, count(*) AS n FROM p GROUP BY cid, d)
    SELECT cid, count(*) - 1 AS frequency, sum(n) AS orders, sum(c) AS total,
           date_diff('day', min(d), max(d)) AS recency,
           date_diff('day', min(d), DATE '2025-06-30') AS t
    FROM occ GROUP BY cid ORDER BY cid"""
    ref = con.execute(q).df().set_index("cid")
    assert ref.index.tolist() == s.index.tolist()
    assert (ref["frequency"].to_numpy() == s["frequency"].to_numpy()).all()
    assert (ref["orders"].to_numpy() == s["orders"].to_numpy()).all()
    assert (ref["total"].to_numpy() == s["total_spend_cents"].to_numpy()).all()
    assert (ref["recency"].to_numpy() == s["recency"].to_numpy()).all()
    assert (ref["t"].to_numpy() == s["T"].to_numpy()).all()


def test_summary_is_identical_whatever_the_row_order(small_data):
    data = small_data("sports_shop")
    shuffled = CRMData({**data.tables,
                        "orders": data.orders.sample(frac=1, random_state=3),
                        "order_lines": data.order_lines.sample(frac=1, random_state=4)},
                       data.manifest)
    pd.testing.assert_frame_equal(rfm_summary(data), rfm_summary(shuffled))


def test_summary_holds_the_btyd_invariants_on_every_profile(small_data, profile):
    data = small_data(profile)
    s = rfm_summary(data)
    assert (s["recency"] <= s["T"]).all() and (s["frequency"] >= 0).all()
    assert (s["frequency"] <= s["orders"] - 1).all()
    assert ((s["frequency"] == 0) == (s["recency"] == 0)).all()
    assert (s["recency_days"] == s["T"] - s["recency"]).all()
    p = customer_purchases(data)
    assert s["total_spend_cents"].sum() == p["value_cents"].sum()
    assert s["orders"].sum() == len(p)


# ----------------------------------------------------------------------------- scores
TIE_HEAVY = [
    ("half buy once", np.r_[np.ones(500), np.repeat([2, 3, 4, 5, 6, 8, 12], [150, 100, 80, 60,
                                                                           50, 40, 20])]),
    ("two thirds tie", np.r_[np.zeros(667), np.arange(333)]),
    ("one big tie in the middle", np.r_[np.arange(200), np.full(600, 500), np.arange(600, 800)]),
    ("geometric counts", np.random.default_rng(0).geometric(0.45, 3000).astype(float)),
]


@pytest.mark.parametrize(("name", "values"), TIE_HEAVY, ids=[n for n, _ in TIE_HEAVY])
def test_scores_keep_every_class_on_tie_heavy_data(name, values):
    scores = even_scores(values)
    assert set(scores.tolist()) == {1, 2, 3, 4, 5}
    # equal values share a score, and a larger value never scores lower
    by_value = pd.Series(scores).groupby(values).agg(["min", "max"])
    assert (by_value["min"] == by_value["max"]).all()
    assert by_value["min"].is_monotonic_increasing
    # and the class sizes are the ones the documented rule gives, worked out by a plain loop
    assert np.bincount(scores)[1:].tolist() == _documented_rule_sizes(values), name


def _documented_rule_sizes(values, bins=5):
    """The class sizes of even_scores' docstring rule, in plain Python (enough distinct values).

    Each class aims at (customers left / classes left) and ends at the boundary between two
    distinct values nearest that target (the nearer-below boundary on a tie), keeping one
    distinct value for every class still to come.
    """
    counts = [c for _, c in sorted(collections.Counter(values.tolist()).items())]
    sizes, left = [], len(values)
    for classes_left in range(bins, 1, -1):
        target = left / classes_left
        best, total = None, 0
        for k in range(1, len(counts) - (classes_left - 1) + 1):
            total += counts[k - 1]
            if best is None or abs(total - target) < abs(best[1] - target):
                best = (k, total)
        sizes.append(best[1])
        counts, left = counts[best[0]:], left - best[1]
    return sizes + [left]


def test_the_documented_rule_by_hand_on_two_tie_heavy_shops():
    # 667 zeros plus 0..332: the 668 zeros are one class; 332 left for 4 classes of 83
    assert np.bincount(even_scores(np.r_[np.zeros(667), np.arange(333)]))[1:].tolist() == [
        668, 83, 83, 83, 83]
    # 0..199, 600 x 500, 600..799: 200 hits the target; the tie of 600 is one class; 200 left
    # for 3 (66.7 -> 67), then 133 for 2 (66.5: 66 and 67 are as near; the lower one is taken)
    values = np.r_[np.arange(200), np.full(600, 500), np.arange(600, 800)]
    assert np.bincount(even_scores(values))[1:].tolist() == [200, 600, 67, 66, 67]


def test_scores_are_even_when_nothing_ties():
    scores = even_scores(np.arange(1000)[::-1])
    assert np.bincount(scores)[1:].tolist() == [200] * 5
    assert scores[0] == 5


def test_each_class_ends_at_the_tie_boundary_nearest_its_target():
    values = np.r_[np.ones(500), np.repeat([2, 3, 4, 5, 6, 8, 12], [150, 100, 80, 60, 50, 40,
                                                                     20])]
    sizes = np.bincount(even_scores(values))[1:].tolist()
    # 1000 customers: 500 ones take class 1; 500 left for 4 classes (target 125):
    # 150 (2s) beats 250; then 350 left for 3 (target 116.7): 100 beats 180; 250 for 2 (125):
    # 80+60=140 beats 80 (distance 15 < 45); the rest, 110, is the top class
    assert sizes == [500, 150, 100, 140, 110]


def test_scores_with_fewer_values_than_classes_keep_their_meaning():
    # ranks 1-6 (middle at 30 %) and 7-10 (middle at 80 %): scores 2 and 4
    assert even_scores([0] * 6 + [1] * 4).tolist() == [2] * 6 + [4] * 4
    assert even_scores([7, 7, 7]).tolist() == [3, 3, 3]


def test_rfm_scores_on_a_shop_fill_every_recency_class(small_data):
    scored = rfm_scores(rfm_summary(small_data("fashion_chain")))
    for col in ("r_score", "f_score", "m_score"):
        assert set(scored[col].unique()) == {1, 2, 3, 4, 5}
    assert scored["rfm_code"].str.fullmatch(r"[1-5]{3}").all()


# ----------------------------------------------------------------------------- errors
def test_an_empty_shop_is_a_clear_error(hand):
    empty = CRMData({**hand.tables, "orders": hand.orders.iloc[:0],
                     "order_lines": hand.order_lines.iloc[:0]}, {"end": "2024-03-31"})
    with pytest.raises(ModelError, match="no customer bought anything by as_of"):
        rfm_summary(empty)


@pytest.mark.parametrize(("as_of", "match"), [
    ("2030-01-01", r"as_of='2030-01-01' is after the end of the data \(2024-03-31\)"),
    ("2023-12-01", r"no customer bought anything by as_of='2023-12-01'"),
    ("31/01/2024", r"as_of='31/01/2024' is not a date"),
])
def test_an_as_of_outside_the_period_names_the_parameter(hand, as_of, match):
    with pytest.raises(CRMKitError, match=match):
        rfm_summary(hand, as_of=as_of)


@pytest.mark.parametrize(("column", "blank"), [("placed_at", pd.NaT), ("value_cents", None),
                                               ("customer_id", None)])
def test_transactions_with_blanks_are_refused_not_dropped(column, blank):
    tx = pd.DataFrame({"customer_id": [1, 2, 3],
                       "placed_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                       "value_cents": [100, 200, 300]})
    tx[column] = tx[column].astype(object)
    tx.loc[1, column] = blank
    with pytest.raises(ParameterError, match=rf"column '{column}' is empty in 1 row\(s\) "
                                             r"\(first rows: 1\)"):
        summary_from_transactions(tx, as_of="2024-01-03")


def test_bad_unit_and_bins_are_named(hand):
    with pytest.raises(ParameterError, match="unit='months'"):
        rfm_summary(hand, unit="months")
    with pytest.raises(ParameterError, match="bins=1"):
        even_scores([1, 2, 3], bins=1)


def test_holdout_counts_purchase_days_after_the_cut(hand):
    h = holdout_purchases(hand, as_of="2024-01-20", end="2024-02-05")
    assert h.loc[1, "frequency_holdout"] == 1 and h.loc[1, "spend_holdout"] == 40.0
    assert h.loc[2, "frequency_holdout"] == 0
    assert (h["duration_holdout"] == 16).all()
    with pytest.raises(ParameterError, match="must be after as_of"):
        holdout_purchases(hand, as_of="2024-02-05", end="2024-01-20")


def test_the_r_rfm_package_rules_on_a_hand_made_table():
    from crmkit.analytics.rfm import RFM_PACKAGE_RULES, rule_segments

    # each row's segment worked out by hand from the package's table, first match winning
    hand = pd.DataFrame([
        (5, 5, 5, "champions"),           # R 4-5, F 4-5, M 4-5
        (2, 4, 3, "loyal_customers"),     # R 2-5, F 3-5, M 3-5 (not champions: R 2)
        (4, 2, 2, "potential_loyalist"),  # R 3-5, F 1-3, M 1-3
        (4, 1, 1, "potential_loyalist"),  # also fits new_customers, but comes earlier
        (3, 1, 2, "potential_loyalist"),  # R 3, F 1, M 2: not promising (M must be 1)
        (2, 2, 3, "need_attention"),      # R 2-3, F 2-3, M 2-3
        (2, 1, 1, "about_to_sleep"),      # R 2-3, F 1-2, M 1-2
        (1, 3, 4, "at_risk"),             # R 1-2, F 2-5, M 2-5
        (1, 1, 2, "lost"),                # R 1-2, F 1-2, M 1-2
        (5, 5, 1, "others"),              # high R and F with M 1: no rule holds it
        (2, 5, 1, "others"),
    ], columns=["r_score", "f_score", "m_score", "want"])
    assert rule_segments(hand).tolist() == hand["want"].tolist()
    # the M score decides: same R and F, different segment
    twins = pd.DataFrame({"r_score": [5, 5], "f_score": [5, 5], "m_score": [5, 1]})
    assert rule_segments(twins).tolist() == ["champions", "others"]
    assert list(RFM_PACKAGE_RULES.index[:2]) == ["champions", "loyal_customers"]
    with pytest.raises(ParameterError, match="m_score"):
        rule_segments(hand.drop(columns="m_score"))
