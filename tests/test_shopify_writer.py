"""The Shopify writer's full export: order-level discounts, partial and full refunds, draft
and POS orders, guest checkouts. Every figure is re-read with Python's csv module and
recomputed with exact fractions, independently of crmkit's money code."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pytest

from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.shopify import ORDER_COLUMNS, shopify_cases, write_shopify
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError


def cents(text: str) -> int:
    return int(Decimal(text).scaleb(2)) if text else 0


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    shop = shopify_cases(generate("frozen_foods", n_customers=400, seed=3), seed=1)
    out = tmp_path_factory.mktemp("shopify")
    files = write_shopify(shop, out, full=True)
    with open(files["orders"], newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(files["customers"], newline="", encoding="utf-8") as fh:
        emails = {r["Email"] for r in csv.DictReader(fh)}
    orders = defaultdict(list)
    for r in rows:
        orders[int(r["Name"].lstrip("#"))].append(r)
    return shop, orders, emails, files


def test_the_header_is_shopifys(written):
    *_, files = written
    with open(files["orders"], newline="", encoding="utf-8") as fh:
        assert tuple(next(csv.reader(fh))) == ORDER_COLUMNS


def _shared(total: int, weights: list[int]) -> list[int]:
    """Proportional floor shares, the cents left over to the largest line (first of equals)."""
    whole = sum(weights)
    shares = [int(Fraction(total * w, whole)) if whole else 0 for w in weights]
    big = max(range(len(weights)), key=lambda i: (weights[i], -i))
    shares[big] += total - sum(shares)
    return shares


def test_order_level_discounts_share_out_to_the_datasets_line_amounts(written):
    shop, orders, _, _ = written
    amount = shop.order_lines.set_index(["order_id", "line_number"])["amount_cents"]
    with_order_discount = 0
    for oid, rows in orders.items():
        nets = [int(r["Lineitem quantity"]) * cents(r["Lineitem price"])
                - cents(r["Lineitem discount"]) for r in rows]
        order_level = cents(rows[0]["Discount Amount"]) - sum(
            cents(r["Lineitem discount"]) for r in rows)
        assert order_level >= 0
        with_order_discount += order_level > 0
        got = [n - s for n, s in zip(nets, _shared(order_level, nets), strict=True)]
        assert got == [int(amount[(oid, i + 1)]) for i in range(len(rows))], oid
        assert sum(got) == cents(rows[0]["Subtotal"])  # line nets add up to Subtotal
        assert cents(rows[0]["Subtotal"]) + cents(rows[0]["Shipping"]) == cents(
            rows[0]["Total"])
    assert with_order_discount == int((shop.orders["discount_cents"] > 0).sum()) > 0


def test_refunds_full_and_partial(written):
    shop, orders, _, _ = written
    o = shop.orders.set_index("order_id")
    seen = defaultdict(int)
    for oid, rows in orders.items():
        status, refunded = rows[0]["Financial Status"], cents(rows[0]["Refunded Amount"])
        seen[status] += 1
        goods = cents(rows[0]["Subtotal"])
        if o.loc[oid, "status"] == "returned":
            assert status == "refunded" and refunded == cents(rows[0]["Total"])
        elif int(o.loc[oid, "refunded_cents"]) > 0:
            assert status == "partially_refunded"
            assert 0 < refunded == int(o.loc[oid, "refunded_cents"]) < goods
        else:
            assert refunded == 0 and status in ("paid", "pending", "voided")
    assert seen["refunded"] > 0 and seen["partially_refunded"] > 0


def test_draft_pos_and_guest_orders(written):
    shop, orders, emails, _ = written
    o = shop.orders.set_index("order_id")
    source = {oid: rows[0]["Source"] for oid, rows in orders.items()}
    want = {"store": "pos", "web": "web", "phone": "shopify_draft_order"}
    assert all(source[oid] == want[o.loc[oid, "channel"]] for oid in orders)
    assert {"pos", "web", "shopify_draft_order"} <= set(source.values())
    pos = [rows[0] for oid, rows in orders.items() if source[oid] == "pos"]
    assert all(r["Location"] == shop.shop_name and r["Shipping Method"] == "" for r in pos)
    guest = o["customer_id"].isna()
    web_guests = o.index[guest & (o["channel"] == "web")]
    assert len(web_guests) > 0
    for oid in web_guests:
        for r in orders[oid]:
            assert r["Email"] and r["Email"] not in emails  # typed at checkout, no account
    for oid in o.index[guest & (o["channel"] != "web")]:
        assert all(r["Email"] == "" for r in orders[oid])  # a walk-in or a phone call
    for oid in o.index[~guest]:
        assert all(r["Email"] in emails for r in orders[oid])


def test_a_discount_that_does_not_share_out_is_refused(written, tmp_path):
    shop, *_ = written
    broken = shop.orders.copy()
    broken.loc[broken["discount_cents"] > 0, "discount_cents"] += 1
    with pytest.raises(ParameterError, match="discount_cents"):
        write_shopify(CRMData({**shop.tables, "orders": broken}, shop.manifest), tmp_path,
                      full=True)


def test_the_default_export_keeps_every_discount_on_its_line(written, tmp_path):
    shop, *_ = written
    files = write_shopify(shop, tmp_path, files=("orders",))
    with open(files["orders"], newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    firsts = {r["Name"]: r for r in rows if r["Subtotal"]}
    by_order = defaultdict(int)
    for r in rows:
        by_order[r["Name"]] += cents(r["Lineitem discount"])
    assert all(cents(f["Discount Amount"]) == by_order[n] for n, f in firsts.items())
    assert {f["Source"] for f in firsts.values()} <= {"pos", "web", "phone"}
