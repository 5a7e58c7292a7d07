"""Basket rules: counts checked by hand, the generator's complementary pairs recovered."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.analytics.baskets import basket_rules, baskets, cross_sell
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.schema import TABLE_NAMES, conform, empty_table
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError


def hand_made_shop(baskets_by_order: dict[int, list[int]], cancelled=()) -> CRMData:
    """A shop whose baskets are written out, so every support and lift is known."""
    products = pd.DataFrame({
        "product_id": [1, 2, 3, 4], "sku": ["A-1", "B-2", "C-3", "D-4"],
        "name": ["shampoo", "conditioner", "mask", "comb"], "department": "hair",
        "category": ["wash", "wash", "care", "tools"],
        "subcategory": ["shampoo", "conditioner", "mask", "comb"], "brand": "B",
        "unit_cost": 1.0, "list_price": 2.0,
    })
    ids = list(baskets_by_order)
    orders = pd.DataFrame({
        "order_id": ids, "customer_id": pd.array([None] * len(ids), dtype="Int64"),
        "placed_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(ids, unit="h"),
        "channel": "store", "status": ["cancelled" if i in cancelled else "delivered"
                                       for i in ids],
        "payment_method": "card", "shipping_cost": 0.0,
    })
    done = orders["status"] == "cancelled"
    for col in ("paid_at", "shipped_at", "delivered_at"):
        orders[col] = orders["placed_at"].where(~done)
    orders["cancelled_at"] = orders["placed_at"].where(done)
    orders["returned_at"] = pd.NaT
    orders["discount_code"] = None
    orders["campaign_id"] = pd.array([None] * len(ids), dtype="Int64")
    rows = [(o, n + 1, p) for o, items in baskets_by_order.items() for n, p in enumerate(items)]
    lines = pd.DataFrame(rows, columns=["order_id", "line_number", "product_id"])
    lines = lines.assign(quantity=1, unit_price=2.0, discount=0.0)
    tables = {t: empty_table(t) for t in TABLE_NAMES}
    tables.update(products=conform("products", products), orders=conform("orders", orders),
                  order_lines=conform("order_lines", lines))
    return CRMData(tables, {"profile": "hand"}, {})


# 10 baskets: shampoo+conditioner in 4, shampoo alone in 2, conditioner alone in 1,
# mask+comb in 2, comb alone in 1; one more shampoo+conditioner basket is cancelled.
HAND = {1: [1, 2], 2: [1, 2], 3: [2, 1], 4: [1, 2, 1], 5: [1], 6: [1], 7: [2],
        8: [3, 4], 9: [4, 3], 10: [4], 11: [1, 2]}


def test_basket_matrix_one_row_per_kept_order_one_column_per_item():
    data = hand_made_shop(HAND, cancelled=[11])
    b = baskets(data)
    assert list(b.index) == list(range(1, 11))
    assert list(b.columns) == ["comb", "conditioner", "mask", "shampoo"]
    assert int(b.loc[4].sum()) == 2  # a product twice in a basket counts once
    assert b.loc[5].tolist() == [False, False, False, True]


def test_support_confidence_and_lift_match_the_hand_count():
    rules = basket_rules(hand_made_shop(HAND, cancelled=[11]), min_support=0.1)
    r = rules.set_index(["antecedent", "consequent"])
    # shampoo in 6 of 10 baskets, conditioner in 5, together in 4
    row = r.loc[("shampoo", "conditioner")]
    assert row["support"] == pytest.approx(0.4)
    assert row["confidence"] == pytest.approx(4 / 6)
    assert row["lift"] == pytest.approx((4 / 6) / 0.5)
    assert row["baskets"] == 4
    # mask in 2, comb in 3, together in 2: mask -> comb is certain
    row = r.loc[("mask", "comb")]
    assert row["confidence"] == pytest.approx(1.0)
    assert row["lift"] == pytest.approx(1.0 / 0.3)
    assert rules["lift"].is_monotonic_decreasing


def test_category_level_merges_products_of_one_category():
    rules = basket_rules(hand_made_shop(HAND), level="category", min_support=0.1)
    # shampoo and conditioner are both "wash": no rule links wash to itself
    assert not ((rules["antecedent"] == "wash") & (rules["consequent"] == "wash")).any()
    assert set(rules["antecedent"]) == {"care", "tools"}


def test_cross_sell_suggests_the_partner_and_never_what_is_in_the_basket():
    rules = basket_rules(hand_made_shop(HAND), min_support=0.1)
    s = cross_sell(rules, ["mask"])
    assert s["suggestion"].tolist() == ["comb"]
    assert cross_sell(rules, ["shampoo", "conditioner"]).empty


@pytest.mark.parametrize("profile", ["bendita", "frozen_foods", "sports_shop"])
def test_strongest_product_rules_are_the_generators_complementary_pairs(profile):
    n = {"bendita": 2000, "frozen_foods": 500, "sports_shop": 1500}[profile]
    data = generate(profile, n_customers=n, seed=11)
    rules = basket_rules(data, level="product")
    names = data.products.set_index("product_id")["name"]
    pairs = data.truth["complements"]
    truth = {frozenset({names[a], names[b]})
             for a, b in zip(pairs["product_id"], pairs["complement_id"], strict=True)}
    found = [a | c for a, c in zip(rules["antecedents"], rules["consequents"], strict=True)]
    top = list(dict.fromkeys(found))[:10]  # the ten strongest distinct pairs
    assert len(top) == 10
    assert all(p in truth for p in top), [sorted(p) for p in top if p not in truth]


def test_truth_pairs_point_at_real_products_in_the_next_category():
    data = generate("bendita", n_customers=100, seed=2)
    pairs = data.truth["complements"]
    products = data.products.set_index("product_id")
    assert len(pairs) == len(products)
    assert pairs["complement_id"].isin(products.index).all()
    cats = list(dict.fromkeys(products["category"]))
    for a, b in zip(pairs["product_id"], pairs["complement_id"], strict=True):
        ca, cb = products.loc[a, "category"], products.loc[b, "category"]
        assert cats.index(cb) == (cats.index(ca) + 1) % len(cats)


@pytest.mark.parametrize(("kwargs", "names"), [
    ({"level": "brand"}, "level='brand'"),
    ({"min_support": 0}, "min_support=0"),
    ({"min_support": 0.95}, "min_support=0.95"),
    ({"min_confidence": 2}, "min_confidence=2"),
    ({"max_len": 1}, "max_len=1"),
])
def test_bad_parameters_name_themselves(kwargs, names):
    with pytest.raises(ParameterError, match=names.replace("(", r"\(")):
        basket_rules(hand_made_shop(HAND), **kwargs)


def test_empty_shop_and_single_item_baskets_say_what_would_work():
    with pytest.raises(ParameterError, match="no orders"):
        basket_rules(hand_made_shop({1: [1]}, cancelled=[1]))
    with pytest.raises(ParameterError, match="two different items"):
        basket_rules(hand_made_shop({1: [1], 2: [2], 3: [1, 1]}))
