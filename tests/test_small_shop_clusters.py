"""Notebook 03's clusters on a small order log: who is clustered, and what each cluster spent.

An order log carries no cancellation time, so an order cancelled later still counts as a
purchase in what was known at the cutoff (the clusters' features), while the holdout table
(the customers of the calibration period, final statuses) leaves its customer out. The
exercise ``best_cluster_spend`` then judged the notebook's own solution wrong: its answer
counted that customer's holdout spend as 0 (he spent 50 after the cutoff) and the
notebook's solution dropped him. The clusters now describe the customers the holdout table
holds, so both read the same customers; the answer is checked against a hand computation.
"""

from __future__ import annotations

import pandas as pd

from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.schema import conform
from crmkit.lessons import lesson03, mining
from crmkit.lessons.lesson03 import Split

CUTOFF, END = pd.Timestamp("2024-06-30"), pd.Timestamp("2024-10-31")
SPLIT = Split(pd.Timestamp("2024-01-01"), CUTOFF, END)


def _shop() -> CRMData:
    """Twelve customers; customer 3's only order before the cutoff was cancelled (no
    cancellation time, as in an order log) and he spends 50 after it."""
    rows: list[tuple[int, str, str, int]] = []  # customer, day, status, cents
    for c in range(1, 13):
        for k in range(1 + c % 4):
            rows.append((c, f"2024-0{1 + (c + k) % 5}-{10 + c}", "delivered", 1000 * (1 + c % 3)))
        if c % 2:
            rows.append((c, f"2024-0{7 + c % 3}-0{1 + c % 9}", "delivered", 500 * c))
    rows = [r for r in rows if r[0] != 3]
    rows += [(3, "2024-06-20", "cancelled", 2000), (3, "2024-08-15", "delivered", 5000)]
    o = pd.DataFrame({"order_id": range(1, len(rows) + 1),
                      "customer_id": [r[0] for r in rows],
                      "placed_at": pd.to_datetime([r[1] for r in rows]),
                      "status": [r[2] for r in rows]}).assign(
        channel=None, paid_at=pd.NaT, shipped_at=pd.NaT, delivered_at=pd.NaT,
        cancelled_at=pd.NaT, returned_at=pd.NaT, payment_method=None, shipping_cost=0.0,
        discount_code=None, campaign_id=pd.NA)
    lines = pd.DataFrame({"order_id": o["order_id"], "line_number": 1, "product_id": 1,
                          "quantity": 1, "unit_price": [r[3] / 100 for r in rows],
                          "discount": 0.0, "amount_cents": [r[3] for r in rows]})
    return CRMData({"orders": conform("orders", o, currency="EUR"),
                    "order_lines": conform("order_lines", lines, currency="EUR")},
                   {"shop_name": "Sur", "start": "2024-01-01", "end": "2024-10-31",
                    "currency": "EUR", "origin": "orders"}).validate()


def _spent_after_cutoff_by_hand(shop: CRMData) -> pd.Series:
    """Cents each customer spent after the cutoff, delivered orders only (plain pandas)."""
    o = shop.orders.merge(shop.order_lines, on="order_id")
    later = o[(o["placed_at"] > CUTOFF + pd.Timedelta(days=1) - pd.Timedelta(seconds=1))
              & (o["status"] != "cancelled")]
    return later.groupby("customer_id")["amount_cents"].sum()


def test_clusters_describe_the_customers_of_the_holdout_table():
    shop = _shop()
    clusters, features = mining.clusters_at(shop, SPLIT)
    holdout = mining.holdout_purchases(shop, as_of=CUTOFF, end=END)
    assert 3 not in holdout.index  # his only purchase before the cutoff was cancelled
    assert set(clusters.labels_.index) == set(holdout.index) == set(features.index)


def test_best_cluster_spend_accepts_the_notebooks_solution_and_agrees_with_a_hand_count():
    shop = _shop()
    clusters, _ = mining.clusters_at(shop, SPLIT)
    holdout = mining.holdout_purchases(shop, as_of=CUTOFF, end=END)
    book = lesson03.exercise_book(shop, SPLIT, "en")
    book.quiet = True
    book.use(clusters=clusters, holdout=holdout)
    # the notebook's solution, as notebook 03 writes it
    spend = holdout["spend_holdout"].reindex(clusters.labels_.index)
    answer = int(spend.groupby(clusters.labels_).mean().idxmax())
    # by hand: every clustered customer's spend after the cutoff (0 if none), per cluster
    cents = _spent_after_cutoff_by_hand(shop).reindex(clusters.labels_.index, fill_value=0)
    by_hand = cents.groupby(clusters.labels_).mean()
    assert answer == int(by_hand.idxmax())
    assert book.judge("best_cluster_spend", answer).status == "correct"
