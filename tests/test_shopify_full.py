"""Shopify imported whole: order-level discounts, refunds, taxes, draft/POS channels and guest
checkouts. The round trip compares the import with the generator's own data; the hostile cases
are hand-made exports whose quarantine and money are worked out by hand or with Python's csv
module and Decimal, never with crmkit's money code."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from crmkit.dataset.shopify import shopify_cases, write_shopify
from crmkit.dataset.synth import generate
from crmkit.sources.shopify import import_shopify


def cents(text: str) -> int:
    return int(Decimal(text).scaleb(2)) if text else 0


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    shop = shopify_cases(generate("frozen_foods", n_customers=400, seed=3), seed=1)
    files = write_shopify(shop, tmp_path_factory.mktemp("shopify"), full=True)
    result = import_shopify(files["orders"], customers=files["customers"],
                            products=files["products"], shop_name="Frozen")
    return shop, files, result


def test_full_export_imports_every_row(full):
    shop, files, result = full
    with open(files["orders"], newline="", encoding="utf-8") as fh:
        n_rows = sum(1 for _ in csv.DictReader(fh))
    assert result.quarantine.empty
    assert int(result.report.loc[0, "rows_imported"]) == n_rows == len(shop.order_lines)


def test_every_line_amount_comes_back_to_the_cent(full):
    shop, _, result = full
    key = ["order_id", "line_number"]
    got = result.data.order_lines.set_index(key)["amount_cents"].astype("int64")
    want = shop.order_lines.set_index(key)["amount_cents"].astype("int64")
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index())


def reachable(shop) -> pd.Series:
    """The generator's customer of each order, NA where the export cannot name one: a guest,
    or a customer whose record has neither e-mail nor phone (the orders export carries no
    customer id, only the e-mail and phone typed with the order)."""
    c = shop.customers.set_index("customer_id")
    contact = c["email"].notna() | c["phone"].notna()
    cid = shop.orders.set_index("order_id")["customer_id"]
    return cid.where(cid.map(contact).fillna(False).astype(bool))


@pytest.mark.parametrize("column", ["discount_cents", "refunded_cents", "shipping_cents",
                                    "channel", "customer_id"])
def test_every_order_field_comes_back_exactly(full, column):
    shop, _, result = full
    got = result.data.orders.set_index("order_id")[column].sort_index()
    want = (reachable(shop) if column == "customer_id"
            else shop.orders.set_index("order_id")[column]).sort_index()
    assert got.index.equals(want.index)
    assert got.isna().tolist() == want.isna().tolist()
    assert got.dropna().astype(str).tolist() == want.dropna().astype(str).tolist()


def test_the_cases_are_there_and_counted(full):
    shop, files, result = full
    o = shop.orders
    notes = result.notes
    assert notes["orders_with_order_discount"] == int((o["discount_cents"] > 0).sum()) > 0
    assert notes["order_discount_cents"] == int(o["discount_cents"].sum())
    assert notes["refunded_orders"] == int((o["status"] == "returned").sum()) > 0
    partial = (o["status"] != "returned") & (o["refunded_cents"] > 0)
    assert notes["partially_refunded_orders"] == int(partial.sum()) > 0
    assert notes["refunded_goods_cents"] == int(o["refunded_cents"].sum())
    guests = o["customer_id"].isna()
    web_guests = int((guests & (o["channel"] == "web")).sum())
    assert notes["guest_orders"] == int(reachable(shop).isna().sum())
    assert notes["guest_checkout_orders"] == web_guests > 0  # an e-mail typed at checkout
    assert notes["customers_not_in_customers_export"] == web_guests  # one e-mail per order
    assert notes["orders_without_email_or_phone"] == notes["guest_orders"] - web_guests
    assert notes["orders_by_channel"]["phone"] == int((o["channel"] == "phone").sum()) > 0
    assert notes["orders_by_channel"]["store"] == int((o["channel"] == "store").sum()) > 0
    assert notes["subtotal_differs_orders"] == 0
    # the writer includes taxes in its prices (Total = Subtotal + Shipping)
    assert result.data.manifest["taxes_included"] is True
    with open(files["orders"], newline="", encoding="utf-8") as fh:
        taxed = sum(1 for r in csv.DictReader(fh) if r["Subtotal"] and cents(r["Taxes"]) > 0)
    assert notes["orders_taxes_included"] == taxed and notes["orders_taxes_added"] == 0
    assert len(result.data.customers) == len(shop.customers)  # no guest became a customer


def test_line_nets_add_up_to_subtotal_for_every_order(full):
    _, files, result = full
    with open(files["orders"], newline="", encoding="utf-8") as fh:
        subtotal = {int(r["Name"][1:]): cents(r["Subtotal"])
                    for r in csv.DictReader(fh) if r["Subtotal"]}
    lines = result.data.order_lines
    got = lines["amount_cents"].astype("int64").groupby(lines["order_id"]).sum()
    assert got.to_dict() == subtotal


# ------------------------------------------------------------------ hand-made hostile exports
HEAD = ("Name,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount,"
        "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,"
        "Refunded Amount,Source,Lineitem discount")


def export(tmp_path, rows, name="orders_export.csv"):
    f = tmp_path / name
    f.write_text("\n".join([HEAD, *rows]) + "\n", encoding="utf-8")
    return f


T = "2024-03-30 10:00:00 +0100"


def test_an_order_level_discount_is_shared_in_proportion_remainder_to_the_largest(tmp_path):
    # lines 10.00 x 1 and 20.00 x 1 - 1.00 own discount: nets 1000, 1900; Discount Amount 2.00
    # -> order level 1.00 = 100 cents: floor(100*1000/2900)=34, floor(100*1900/2900)=65,
    # the leftover cent to the larger line: 34, 66 -> amounts 966, 1834 (= Subtotal 28.00)
    f = export(tmp_path, [
        f"#1,a@x.es,paid,EUR,28.00,4.00,0.00,32.00,2.00,{T},1,A,10.00,A,0.00,web,0.00",
        f"#1,a@x.es,,,,,,,,{T},1,B,20.00,B,,,1.00",
    ])
    r = import_shopify(f)
    assert r.data.order_lines["amount_cents"].tolist() == [966, 1834]
    o = r.data.orders.iloc[0]
    assert (o["discount_cents"], o["refunded_cents"], o["shipping_cents"]) == (100, 0, 400)
    assert r.notes["subtotal_differs_orders"] == 0


def test_hostile_order_money_is_quarantined_with_its_whole_order(tmp_path):
    f = export(tmp_path, [
        # 2: fine, partially refunded 5.00 of 30.00
        f"#1,a@x.es,partially_refunded,EUR,30.00,0.00,0.00,30.00,0.00,{T},3,A,10.00,A,"
        "5.00,web,0.00",
        # 3-4: Discount Amount larger than the goods (30.00 of 20.00)
        f"#2,b@x.es,paid,EUR,0.00,0.00,0.00,0.00,30.00,{T},1,A,10.00,A,0.00,web,0.00",
        f"#2,b@x.es,,,,,,,,{T},1,B,10.00,B,,,0.00",
        # 5: Discount Amount smaller than the line's own discount
        f"#3,c@x.es,paid,EUR,9.00,0.00,0.00,9.00,0.50,{T},1,A,10.00,A,0.00,web,1.00",
        # 6-7: partial refund larger than the goods (25.00 of 20.00)
        f"#4,d@x.es,partially_refunded,EUR,20.00,0.00,0.00,20.00,0.00,{T},1,A,10.00,A,"
        "25.00,web,0.00",
        f"#4,d@x.es,,,,,,,,{T},1,B,10.00,B,,,0.00",
        # 8-9: an order-level discount while one of its lines is bad (price 'abc')
        f"#5,e@x.es,paid,EUR,18.00,0.00,0.00,18.00,2.00,{T},1,A,10.00,A,0.00,web,0.00",
        f"#5,e@x.es,,,,,,,,{T},1,B,abc,B,,,0.00",
        # 10: Discount Amount not a number
        f"#6,f@x.es,paid,EUR,10.00,0.00,0.00,10.00,x1,{T},1,A,10.00,A,0.00,web,0.00",
        # 11: refunded in full: goods 12.50 x 2 = 25.00, shipping 3.00 kept out
        f"#7,g@x.es,refunded,EUR,25.00,3.00,0.00,28.00,0.00,{T},2,A,12.50,A,28.00,web,0.00",
        # 12: a draft order with a bad line (price 'abc') but no order-level money: the
        # order keeps its other line (13)
        f"#8,h@x.es,paid,EUR,10.00,0.00,0.00,10.00,0.00,{T},1,A,abc,A,0.00,"
        "shopify_draft_order,0.00",
    ])
    r = import_shopify(f)
    q = r.quarantine[["line", "column", "reason"]].values.tolist()
    assert q == [
        [3, "Discount Amount", "discount larger than the order"],
        [4, "Name", "order_first_row_quarantined"],
        [5, "Discount Amount", "Discount Amount smaller than the lines' discounts"],
        [6, "Refunded Amount", "refund larger than the goods"],
        [7, "Name", "order_first_row_quarantined"],
        [8, "Name", "order_line_quarantined"],
        [9, "Lineitem price", "not_a_number"],
        [10, "Discount Amount", "not_a_number"],
        [12, "Lineitem price", "not_a_number"],
    ]
    with open(f, newline="", encoding="utf-8") as fh:
        n = sum(1 for _ in csv.DictReader(fh))
    rep = r.report.iloc[0]
    assert (rep["rows_read"], rep["rows_imported"], rep["rows_quarantined"]) == (n, 2, 9)
    o = r.data.orders.set_index("order_id")
    assert sorted(o.index) == [1, 7]
    assert int(o.loc[1, "refunded_cents"]) == 500 and int(o.loc[7, "refunded_cents"]) == 2500
    assert o.loc[7, "status"] == "returned"
    assert r.data.order_lines["amount_cents"].astype("int64").sum() == 3000 + 2500
    assert r.notes["refunded_goods_cents"] == 3000


def test_guest_checkouts_stay_guests_and_unknown_sources_stay_unknown(tmp_path):
    orders = export(tmp_path, [
        f"#1,ana@x.es,paid,EUR,10.00,0.00,0.00,10.00,0.00,{T},1,A,10.00,A,0.00,web,0.00",
        f"#2,guest@x.es,paid,EUR,10.00,0.00,0.00,10.00,0.00,{T},1,A,10.00,A,0.00,web,0.00",
        f"#3,,paid,EUR,10.00,0.00,0.00,10.00,0.00,{T},1,A,10.00,A,0.00,pos,0.00",
        f"#4,ana@x.es,paid,EUR,10.00,0.00,0.00,10.00,0.00,{T},1,A,10.00,A,0.00,"
        "shopify_draft_order,0.00",
        f"#5,ana@x.es,paid,EUR,10.00,0.00,2.10,12.10,0.00,{T},1,A,10.00,A,0.00,"
        "instagram,0.00",
    ])
    customers = tmp_path / "customers_export.csv"
    customers.write_text("Customer ID,First Name,Email\n77,Ana,ana@x.es\n", encoding="utf-8")
    r = import_shopify(orders, customers=customers)
    o = r.data.orders.set_index("order_id")
    assert o.loc[1, "customer_id"] == 77 and pd.isna(o.loc[2, "customer_id"])
    assert pd.isna(o.loc[3, "customer_id"])
    assert r.data.customers["customer_id"].tolist() == [77]
    assert o["channel"].tolist()[:4] == ["web", "web", "store", "phone"]
    assert pd.isna(o.loc[5, "channel"])
    assert r.notes["channel_unknown_values"] == ["instagram"]
    assert r.notes["guest_checkout_orders"] == 1  # order 2
    assert r.notes["orders_without_email_or_phone"] == 1  # order 3, a walk-in
    assert r.notes["customers_not_in_customers_export"] == 1
    # order 5 adds its taxes to the Total: the export does not say one way for all orders
    assert r.data.manifest["taxes_included"] is False
    assert int(o.loc[5, "tax_cents"]) == 210 and int(o.loc[1, "tax_cents"]) == 0



def test_an_order_whose_lines_do_not_add_up_to_its_subtotal_is_counted(tmp_path):
    # lines 10.00 + 20.00 - 1.00 = 29.00, order level 0; the export's Subtotal says 30.00
    f = export(tmp_path, [
        f"#1,a@x.es,paid,EUR,30.00,0.00,0.00,30.00,1.00,{T},1,A,10.00,A,0.00,web,0.00",
        f"#1,a@x.es,,,,,,,,{T},1,B,20.00,B,,,1.00",
        f"#2,a@x.es,paid,EUR,10.00,0.00,0.00,10.00,0.00,{T},1,A,10.00,A,0.00,web,0.00",
    ])
    r = import_shopify(f)
    assert r.quarantine.empty
    assert r.data.order_lines["amount_cents"].tolist() == [1000, 1900, 1000]  # as written
    assert (r.notes["subtotal_differs_orders"], r.notes["subtotal_differs_examples"]) == (
        1, ["#1"])


EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "shopify"


def net_revenue_by_hand(orders_export: Path) -> Decimal:
    """From the export's text: the Subtotal of every order not voided less its refund of
    goods (refunded: the whole Subtotal; partially_refunded: Refunded Amount)."""
    with open(orders_export, newline="", encoding="utf-8") as fh:
        firsts = [r for r in csv.DictReader(fh) if r["Financial Status"]]
    assert {"refunded", "partially_refunded", "voided"} <= {r["Financial Status"]
                                                            for r in firsts}
    want = Decimal(0)
    for r in firsts:
        status, goods = r["Financial Status"], Decimal(r["Subtotal"])
        if status == "voided":
            continue
        back = (goods if status == "refunded" else
                Decimal(r["Refunded Amount"]) if status == "partially_refunded" else 0)
        want += goods - back
    return want


@pytest.fixture(scope="module")
def example():
    return import_shopify(EXAMPLE / "orders_export.csv",
                          customers=EXAMPLE / "customers_export.csv",
                          products=EXAMPLE / "products_export.csv")


def test_revenue_of_the_committed_example_nets_refunds_and_leaves_voided_out(example):
    """kpis.order_profit's revenue (gross - discounts - returns) is the net by hand."""
    from crmkit.analytics.kpis import order_profit

    op = order_profit(example.data)
    got = Decimal(str(round(float((op["gross"] - op["discounts"] - op["returns"]).sum()), 2)))
    assert got == net_revenue_by_hand(EXAMPLE / "orders_export.csv")


def test_the_import_reports_revenue_net_of_refunds(example):
    """The import report's revenue is the same net figure (refunds netted, as an order log's
    revenue leaves returned orders out), not the goods before refunds."""
    assert Decimal(str(example.notes["revenue"])) == net_revenue_by_hand(
        EXAMPLE / "orders_export.csv")


def test_first_rows_read_from_the_listed_fields_only_give_the_whole_rows_result(full,
                                                                              monkeypatch):
    # the orders' first rows are kept with the fields in _HEAD_READ only; a field read from
    # them but missing there would come back empty: importing with every field kept must
    # give the same tables and notes
    import crmkit.sources.shopify as shopify

    shop, files, result = full
    with open(files["orders"], newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    monkeypatch.setattr(shopify, "_HEAD_READ", tuple(header))
    whole = import_shopify(files["orders"], customers=files["customers"],
                           products=files["products"], shop_name="Frozen")
    for name in ("orders", "order_lines", "customers", "products"):
        pd.testing.assert_frame_equal(getattr(whole.data, name), getattr(result.data, name))
    assert whole.notes == result.notes


def test_the_committed_example_carries_every_case_a_real_export_holds(example):
    """Bendita sells on the web only, so its committed export had no draft or POS order
    although the writer writes both; it now carries each case the importer decides on,
    counted from the export's own text (Source, Financial Status, Discount Amount less the
    lines' own discounts, e-mails in no customer record)."""
    with open(EXAMPLE / "orders_export.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    firsts = [r for r in rows if r["Financial Status"]]
    sources = {s: sum(r["Source"] == s for r in firsts)
               for s in ("web", "pos", "shopify_draft_order")}
    assert sources["pos"] > 0 and sources["shopify_draft_order"] > 0
    assert example.notes["orders_by_channel"] == {
        "phone": sources["shopify_draft_order"], "store": sources["pos"], "web": sources["web"]}
    assert example.notes["partially_refunded_orders"] == sum(
        r["Financial Status"] == "partially_refunded" for r in firsts) > 0
    guests = sum(r["Email"].startswith("guest-") for r in firsts)
    assert example.notes["guest_checkout_orders"] == guests > 0
    own = {}
    for r in rows:
        own[r["Name"]] = own.get(r["Name"], Decimal(0)) + Decimal(r["Lineitem discount"] or "0")
    order_level = sum(Decimal(r["Discount Amount"]) > own[r["Name"]] for r in firsts)
    assert example.notes["orders_with_order_discount"] == order_level > 0
