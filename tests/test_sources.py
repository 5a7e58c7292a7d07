"""Importers of a shop's own files: round trips, real totals and a bad-row corpus.

Every import must account for every row: rows read = rows imported + rows
quarantined, per file, and each quarantined row names its file, 1-based line,
column and reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmkit.analytics.tracking import order_value
from crmkit.cli import main
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.samples import build_shopify_example, shopify_example
from crmkit.dataset.shopify import write_shopify
from crmkit.errors import SourceError
from crmkit.sources.orders import OrderLogMapping, import_orders
from crmkit.sources.shopify import import_shopify

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "examples" / "shopify"
RETAIL = ROOT / "data" / "examples" / "online_retail"
CDNOW = ROOT / "data" / "real" / "cdnow" / "CDNOW_master.txt"


def balanced(result) -> bool:
    r = result.report
    return bool((r["rows_read"] == r["rows_imported"] + r["rows_quarantined"]).all())


def cents(data: CRMData) -> list[int]:
    """What each line cost, in cents, in (order, line) order: the dataset's amount_cents."""
    ln = data.order_lines.sort_values(["order_id", "line_number"])
    return [int(v) for v in ln["amount_cents"]]


# ----------------------------------------------------------------------------- Shopify
def test_shopify_example_regenerates_byte_for_byte(tmp_path):
    build_shopify_example(tmp_path)
    for f in sorted(EXAMPLE.glob("*.csv")):
        assert (tmp_path / f.name).read_bytes() == f.read_bytes(), (
            f"data/examples/shopify/{f.name} is stale: run `make data` and commit it")


@pytest.fixture(scope="module")
def shop_and_import():
    shop = shopify_example()
    result = import_shopify(EXAMPLE / "orders_export.csv",
                            customers=EXAMPLE / "customers_export.csv",
                            products=EXAMPLE / "products_export.csv", shop_name="Bendita")
    return shop, result


def test_shopify_round_trip_gives_back_orders_lines_customers_and_revenue(shop_and_import):
    shop, result = shop_and_import
    assert balanced(result) and result.quarantine.empty
    got, want = result.data.orders.set_index("order_id"), shop.orders.set_index("order_id")
    assert got.index.equals(want.index)
    for col in ("customer_id", "placed_at", "paid_at", "shipped_at", "cancelled_at",
                "payment_method", "shipping_cost", "discount_code", "channel"):
        pd.testing.assert_series_equal(got[col], want[col], check_dtype=False, obj=col)
    # Shopify has no delivery date: a delivered order comes back as shipped
    expected_status = want["status"].replace({"delivered": "shipped"})
    assert (got["status"] == expected_status).all()
    lines = ["order_id", "line_number", "product_id", "quantity"]
    pd.testing.assert_frame_equal(result.data.order_lines[lines].astype("int64"),
                                  shop.order_lines[lines].astype("int64"))
    assert np.allclose(result.data.order_lines["unit_price"], shop.order_lines["unit_price"])
    assert cents(result.data) == cents(shop)
    assert abs(order_value(result.data).sum() - order_value(shop).sum()) < 0.01 * len(
        shop.order_lines)
    cols = ["customer_id", "first_name", "last_name", "address", "city", "postal_code",
            "country", "email", "phone", "email_consent"]
    pd.testing.assert_frame_equal(result.data.customers[cols].reset_index(drop=True),
                                  shop.customers[cols].reset_index(drop=True),
                                  check_dtype=False)
    prod = ["product_id", "sku", "name", "department", "category", "subcategory", "brand",
            "unit_cost", "list_price"]
    pd.testing.assert_frame_equal(result.data.products[prod], shop.products[prod],
                                  check_dtype=False)
    m = result.data.manifest
    assert (m["shop_name"], m["currency"], m["origin"]) == ("Bendita", "EUR", "shopify")


def test_shopify_without_customers_export_builds_customers_from_billing(shop_and_import):
    shop, _ = shop_and_import
    result = import_shopify(EXAMPLE / "orders_export.csv")
    # without the customers export nothing tells a guest's checkout e-mail from a customer's:
    # every e-mail (or phone) the orders carry is one buyer; orders with neither are guests
    import csv

    with open(EXAMPLE / "orders_export.csv", newline="", encoding="utf-8") as fh:
        firsts = [r for r in csv.DictReader(fh) if r["Financial Status"]]
    keys = [r["Email"].casefold() or (r["Phone"] or r["Billing Phone"]) for r in firsts]
    assert len(result.data.customers) == len({k for k in keys if k})
    assert result.data.customers["signup_date"].isna().all()  # never invented
    assert not result.data.customers["phone_consent"].any()
    assert result.notes["guest_orders"] == sum(1 for k in keys if not k)
    assert cents(result.data) == cents(shop)


SHOPIFY_HEAD = ("Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,"
                "Currency,Shipping,Discount Code,Created at,Lineitem quantity,Lineitem name,"
                "Lineitem price,Lineitem sku,Billing Name,Billing City,Billing Country,"
                "Cancelled at,Payment Method,Refunded Amount,Source,Lineitem discount")


def shopify_file(tmp_path, rows, *, head=SHOPIFY_HEAD, encoding="utf-8", newline="\n",
                 name="orders_export.csv"):
    f = tmp_path / name
    f.write_bytes((newline.join([head, *rows]) + newline).encode(encoding))
    return f


GOOD = [
    "#1001,ana@x.es,paid,2024-03-30 10:00:00 +0100,fulfilled,2024-03-31 12:00:00 +0200,EUR,"
    "4.95,,2024-03-30 09:59:00 +0100,2,Champú Rizos,12.50,SHA-1,Ana Pérez,Málaga,ES,,"
    "Shopify Payments,0.00,web,0.00",
    "#1001,ana@x.es,,,,,,,,2024-03-30 09:59:00 +0100,1,Mascarilla,20.00,MAS-1,,,,,,,,2.00",
    "#1002,,pending,,unfulfilled,,EUR,0.00,,2024-10-27 02:30:00 +0100,1,Champú Rizos,12.50,"
    "SHA-1,,,,,Klarna,0.00,web,0.00",
]


def test_shopify_times_become_local_with_summer_time_and_unknowns_are_other(tmp_path):
    r = import_shopify(shopify_file(tmp_path, GOOD), shop_name="Rizos")
    o = r.data.orders.set_index("order_id")
    assert str(o.loc[1001, "placed_at"]) == "2024-03-30 09:59:00"
    assert str(o.loc[1001, "shipped_at"]) == "2024-03-31 12:00:00"   # +0200 after the change
    assert str(o.loc[1002, "placed_at"]) == "2024-10-27 02:30:00"    # +0100: second 02:30
    assert o.loc[1001, "status"] == "shipped" and o.loc[1002, "status"] == "placed"
    assert o.loc[1002, "payment_method"] == "other" and r.notes["payment_other"] == 1
    assert r.notes["payment_other_values"] == ["Klarna"]
    assert pd.isna(o.loc[1002, "customer_id"]) and r.notes["guest_orders"] == 1
    ln = r.data.order_lines
    assert ln["discount"].round(4).tolist() == [0.0, 0.1, 0.0]
    assert r.data.customers.loc[0, ["first_name", "last_name", "city"]].tolist() == [
        "Ana", "Pérez", "Málaga"]


def _bad_line(line):
    return f"#2001,b@x.es,paid,,,,EUR,0.00,,2024-05-01 10:00:00 +0200,{line},web,0.00"


SHOPIFY_CORPUS = {
    # name: (rows, encoding, newline, expected quarantined (line, column) pairs)
    "bom_and_crlf": (GOOD, "utf-8-sig", "\r\n", []),
    "windows_1252": (GOOD, "cp1252", "\n", []),
    "comma_decimal": ([GOOD[0], GOOD[1].replace("20.00", '"20,00"')], "utf-8", "\n",
                      [(3, "Lineitem price")]),
    "impossible_date": ([GOOD[0], GOOD[2].replace("2024-10-27", "2024-02-30")], "utf-8", "\n",
                        [(3, "Created at")]),
    "zero_and_huge_quantity": ([GOOD[0], GOOD[1].replace(",1,Mascarilla", ",0,Mascarilla"),
                                GOOD[2].replace(",1,Champú", ",99999999999,Champú")],
                               "utf-8", "\n", [(3, "Lineitem quantity"),
                                               (4, "Lineitem quantity")]),
    "extra_field": ([GOOD[0], GOOD[2] + ",surplus"], "utf-8", "\n", [(3, "(whole line)")]),
    "order_number_reused": ([*GOOD, GOOD[1]], "utf-8", "\n", [(5, "Name")]),
    "mixed_offsets": ([GOOD[0], GOOD[1].replace("09:59:00 +0100", "08:59:00 +0000")],
                      "utf-8", "\n", []),
    "another_time_under_one_number": ([GOOD[0], GOOD[1].replace("+0100", "+0000")], "utf-8",
                                      "\n", [(3, "Created at")]),
}


@pytest.mark.parametrize("case", sorted(SHOPIFY_CORPUS))
def test_shopify_bad_row_corpus_accounts_for_every_row(case, tmp_path):
    rows, enc, nl, expected = SHOPIFY_CORPUS[case]
    r = import_shopify(shopify_file(tmp_path, rows, encoding=enc, newline=nl))
    assert balanced(r)
    assert int(r.report["rows_read"].sum()) == len(rows)
    got = sorted(zip(r.quarantine["line"], r.quarantine["column"], strict=True))
    assert got == sorted(expected)
    assert int(r.report["rows_imported"].sum()) == len(rows) - len({x for x, _ in expected})
    if case == "windows_1252":
        assert r.source["encoding"] == "cp1252"
        assert "Pérez" in r.data.customers["last_name"].tolist()


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"Name,Email\n#1,a@b.c\n", r"no column\(s\) 'Created at'"),
])
def test_shopify_unusable_files_raise_a_crmkit_error_naming_the_file(tmp_path, content,
                                                                     message):
    f = tmp_path / "orders_export.csv"
    f.write_bytes(content)
    with pytest.raises(SourceError, match=message) as info:
        import_shopify(f)
    assert "orders_export.csv" in str(info.value)


def test_header_only_file_imports_nothing_and_the_command_exits_1(tmp_path, capsys):
    f = shopify_file(tmp_path, [])
    r = import_shopify(f)
    assert not r.usable and balanced(r)
    assert main(["import", "shopify", str(f), "--out", str(tmp_path / "shop")]) == 1
    assert not (tmp_path / "shop").exists()


# ----------------------------------------------------------------------------- order logs
def test_cdnow_imports_to_the_published_totals():
    mapping = OrderLogMapping(customer="customer_id", date="date", quantity="number_of_cds",
                              amount="dollar_value", date_format="%Y%m%d")
    r = import_orders(CDNOW, mapping, shop_name="CDNOW", currency="USD",
                      timezone="America/New_York")
    assert balanced(r) and r.quarantine.empty
    assert len(r.data.orders) == 69_659
    assert r.data.orders["customer_id"].nunique() == 23_570
    # the file's own total, to the cent (integer cents, never amount / quantity rounded back)
    assert int(r.data.order_lines["amount_cents"].sum()) == 250_031_563
    assert r.data.order_lines["unit_price"].isna().all()
    assert r.notes["revenue"] == 2_500_315.63
    assert sorted(r.data.tables) == ["order_lines", "orders"]
    assert r.data.orders["placed_at"].min() == pd.Timestamp("1997-01-01")
    assert r.data.orders["placed_at"].max() == pd.Timestamp("1998-06-30")


def test_online_retail_example_counts_cancellations_returns_guests_and_bad_rows():
    mapping = OrderLogMapping.from_yaml(RETAIL / "mapping.yaml")
    r = import_orders(RETAIL / "online_retail_ii.csv", mapping, shop_name="Online Retail",
                      currency="GBP", timezone="Europe/London")
    assert balanced(r)
    assert r.report[["rows_read", "rows_imported", "rows_quarantined"]].values.tolist() == [
        [20, 17, 3]]
    q = r.quarantine[["line", "column", "reason", "value"]].values.tolist()
    assert q == [[15, "Price", "must be >= 0", "-11062.06"],
                 [17, "InvoiceDate", "not_a_date", "2009-13-01 11:02:00"],
                 [21, "Quantity", "empty", ""]]
    o = r.data.orders.set_index("order_id")
    assert o.loc[489449, "status"] == "cancelled"      # invoice C489449
    assert o.loc[489454, "status"] == "returned"       # negative quantity, no C
    assert r.notes["guest_orders"] == 2 and r.notes["buyers"] == 5
    assert o.loc[489434, "customer_id"] == 13085       # "13085.0" as the spreadsheet wrote it
    assert r.notes["revenue"] == 743.2                  # sum of the sales lines, by hand
    assert len(r.data.products) == 16
    assert r.data.products.set_index("sku").loc["22041", "name"] == 'RECORD FRAME 7" SINGLE SIZE'


LOG_HEAD = "cliente;fecha;importe"


@pytest.mark.parametrize("body, encoding, quarantined", [
    ("7;2024-01-05;12,50\n8;2024-01-06;3,10\n", "utf-8", []),                 # comma decimals
    ("7;2024-01-05;12,50\r\n8;2024-01-06;3,10\r\n", "utf-8-sig", []),         # BOM + CRLF
    ("7;2024-01-05;12,50\n\n8;2024-02-30;3,10\n", "utf-8", [(4, "fecha")]),   # impossible date
    ("7;2024-01-05;12,50\n8;2024-01-06;doce\n", "utf-8", [(3, "importe")]),   # unreadable
    ("7;2024-01-05;12,50\n8;2024-01-06;3,10;x\n", "utf-8", [(3, "(whole line)")]),  # extra
    ("7;2024-01-05;12,50\n7;2024-01-05;12,50\n", "utf-8", []),                # duplicates kept
    ("Pérez;2024-01-05;12,50\nNúñez;2024-01-06;3,10\n", "cp1252", []),       # Windows text
])
def test_order_log_bad_row_corpus_accounts_for_every_row(tmp_path, body, encoding,
                                                         quarantined):
    f = tmp_path / "log.csv"
    f.write_bytes((LOG_HEAD + "\n" + body).encode(encoding).replace(b"\n", b"\n"))
    r = import_orders(f, OrderLogMapping(customer="cliente", date="fecha", amount="importe"))
    assert balanced(r)
    n = len([x for x in body.splitlines() if x.strip()])
    assert int(r.report["rows_read"].iloc[0]) == n
    assert sorted(zip(r.quarantine["line"], r.quarantine["column"], strict=True)) == quarantined
    assert len(r.data.orders) == n - len(quarantined)


def test_order_log_missing_column_names_it_and_lists_the_file_columns(tmp_path):
    f = tmp_path / "log.csv"
    f.write_text("customer,day,total\n1,2024-01-01,3.5\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"date='fecha' not in the file; its columns are: "
                                          r"'customer', 'day', 'total'"):
        import_orders(f, OrderLogMapping(customer="customer", date="fecha", amount="total"))


def test_order_log_line_not_in_the_given_encoding_is_quarantined_with_its_line(tmp_path):
    f = tmp_path / "log.csv"
    f.write_bytes("c,d,a\n1,2024-01-01,3.5\n2,2024-01-02,4\nÑ,2024-01-03,1\n".encode("cp1252"))
    r = import_orders(f, OrderLogMapping(customer="c", date="d", amount="a", encoding="utf-8"))
    assert r.quarantine[["line", "column", "reason"]].values.tolist() == [
        [4, "(whole line)", "invalid_encoding"]]
    assert len(r.data.orders) == 2 and balanced(r)


def test_import_orders_command_writes_a_dataset_report_and_mapping(tmp_path, capsys):
    out = tmp_path / "retail"
    rc = main(["import", "orders", str(RETAIL / "online_retail_ii.csv"), "--mapping",
               str(RETAIL / "mapping.yaml"), "--out", str(out), "--currency", "GBP",
               "--save-mapping", str(tmp_path / "kept.yaml")])
    assert rc == 0
    report = json.loads((out / "import_report.json").read_text())
    assert report["balanced"] and report["files"][0]["rows_quarantined"] == 3
    assert len(pd.read_csv(out / "quarantine.csv")) == 3
    data = CRMData.load(out)
    assert data.shop_name == "retail" and data.currency == "GBP" and not data.has("customers")
    assert OrderLogMapping.from_yaml(tmp_path / "kept.yaml") == OrderLogMapping.from_yaml(
        RETAIL / "mapping.yaml")
    assert "rows_quarantined" in capsys.readouterr().out


def test_import_shopify_command_round_trips_through_the_folder(tmp_path):
    shop = shopify_example()
    files = write_shopify(shop, tmp_path / "exports")
    out = tmp_path / "Bendita Shop"
    assert main(["import", "shopify", str(files["orders"]), "--customers",
                 str(files["customers"]), "--out", str(out)]) == 0
    data = CRMData.load(out)
    assert data.slug == "bendita-shop" and len(data.orders) == len(shop.orders)
    assert cents(data) == cents(shop)


@pytest.mark.parametrize("content, usable", [(b"", None), (b"cliente;fecha;importe\n", False),
                                             (b"cliente;fecha;importe\r\n\r\n", False)])
def test_order_log_empty_or_header_only(tmp_path, content, usable):
    f = tmp_path / "log.csv"
    f.write_bytes(content)
    mapping = OrderLogMapping(customer="cliente", date="fecha", amount="importe")
    if usable is None:
        with pytest.raises(SourceError, match="log.csv: the file is empty"):
            import_orders(f, mapping)
        return
    r = import_orders(f, mapping)
    assert r.usable is usable and balanced(r) and int(r.report["rows_read"].iloc[0]) == 0


def test_warehouse_build_from_imported_datasets_keeps_every_order_customer_and_cent(tmp_path):
    from crmkit.warehouse import load_report, query

    retail, cdnow = tmp_path / "retail", tmp_path / "cdnow"
    assert main(["import", "orders", str(RETAIL / "online_retail_ii.csv"), "--mapping",
                 str(RETAIL / "mapping.yaml"), "--out", str(retail)]) == 0
    assert main(["import", "orders", str(CDNOW), "--customer", "customer_id", "--date",
                 "date", "--quantity", "number_of_cds", "--amount", "dollar_value",
                 "--date-format", "%Y%m%d", "--out", str(cdnow)]) == 0
    for folder, orders, lines, customers, revenue in (
            (retail, 10, 17, 5, 794.40),  # the warehouse's net amount includes cancellations
            (cdnow, 69_659, 69_659, 23_570, 2_500_315.63)):
        db = tmp_path / f"{folder.name}.duckdb"
        assert main(["warehouse", "build", str(db), "--data", str(folder)]) == 0
        assert load_report(db)["balanced"].all()
        got = query(db, "SELECT count(DISTINCT order_id) AS o, count(*) AS l, "
                        "round(sum(net_amount), 2) AS r FROM marts.fact_order_line")
        assert got.values.tolist()[0] == [orders, lines, revenue]
        known = query(db, "SELECT count(*) AS n FROM marts.dim_customer WHERE customer_id <> -1")
        assert int(known["n"][0]) == customers


def test_warehouse_build_from_a_dataset_folder_with_from_points_to_data(tmp_path, capsys):
    out = tmp_path / "retail"
    main(["import", "orders", str(RETAIL / "online_retail_ii.csv"), "--mapping",
          str(RETAIL / "mapping.yaml"), "--out", str(out)])
    assert main(["warehouse", "build", str(tmp_path / "x.duckdb"), "--from", str(out)]) == 2
    assert "--data" in capsys.readouterr().err


def test_a_log_without_header_is_mapped_by_column_position(tmp_path):
    """CDNOW's 1/10 sample: no header, columns aligned with spaces, mapped by position."""
    out = tmp_path / "sample"
    assert main(["import", "orders", str(CDNOW.with_name("CDNOW_sample.txt")), "--no-header",
                 "--customer", "2", "--date", "3", "--date-format", "%Y%m%d", "--quantity", "4",
                 "--amount", "5", "--currency", "USD", "--out", str(out)]) == 0
    data = CRMData.load(out)
    assert len(data.orders) == 6_919 and data.orders["customer_id"].nunique() == 2_357
    assert data.orders["customer_id"].between(1, 2_357).all()


def test_shopify_older_customers_export_and_products_with_variants(tmp_path):
    orders = shopify_file(tmp_path, GOOD[:2])
    customers = tmp_path / "customers_export.csv"
    customers.write_text(
        "First Name,Last Name,Email,Accepts Email Marketing,Company,Address1,Address2,City,"
        "Province,Province Code,Country,Country Code,Zip,Phone,Accepts SMS Marketing,"
        "Total Spent,Total Orders,Tags,Note,Tax Exempt\n"
        "Ana,Pérez,ana@x.es,yes,,Calle Sol 1,,Málaga,,,Spain,ES,29001,,no,45.00,1,,,no\n",
        encoding="utf-8")
    products = tmp_path / "products_export.csv"
    products.write_text(
        "Handle,Title,Vendor,Product Category,Type,Option1 Name,Option1 Value,Variant SKU,"
        "Variant Price,Cost per item,Image Src\n"
        "champu,Champú Rizos,Rizos,hair care > shampoo,curly,Size,250 ml,SHA-1,12.50,4.00,a.jpg\n"
        "champu,,,,,,500 ml,SHA-2,20.00,6.00,\n"
        "champu,,,,,,,,,,b.jpg\n"
        "mascarilla,Mascarilla,Rizos,hair care > mask,curly,Title,Default Title,MAS-1,20.00,,\n",
        encoding="utf-8")
    r = import_shopify(orders, customers=customers, products=products)
    assert balanced(r)
    c = r.data.customers.iloc[0]
    assert (c["customer_id"], c["city"], c["postal_code"], c["email_consent"]) == (
        1, "Málaga", "29001", True)
    p = r.data.products.set_index("sku")
    assert p.loc["SHA-2", ["name", "brand", "department", "category"]].tolist() == [
        "Champú Rizos", "Rizos", "hair care", "shampoo"]
    q = r.quarantine
    assert q[["file", "line", "column"]].values.tolist() == [
        ["products_export.csv", 4, "Variant SKU"]]
    assert "image-only" in q["reason"].iloc[0]


def test_text_codes_replaced_by_ids_are_kept_beside_the_dataset(tmp_path):
    f = tmp_path / "log.csv"
    f.write_text("pedido,cliente,fecha,importe\nINV-7,ana@x.es,2024-01-05,12.50\n"
                 "INV-9,bea@x.es,2024-01-06,3.10\nC-INV-7,ana@x.es,2024-01-07,12.50\n",
                 encoding="utf-8")
    r = import_orders(f, OrderLogMapping(customer="cliente", date="fecha", amount="importe",
                                         order="pedido"))
    r.save(tmp_path / "shop")
    customers = pd.read_csv(tmp_path / "shop" / "customer_codes.csv")
    assert customers.values.tolist() == [["ana@x.es", 1], ["bea@x.es", 2]]
    orders = pd.read_csv(tmp_path / "shop" / "order_codes.csv")
    assert orders["code"].tolist() == ["INV-7", "INV-9", "C-INV-7"]
    assert CRMData.load(tmp_path / "shop").orders["order_id"].tolist() == [1, 2, 3]


def test_shopify_order_names_that_are_not_numbers_are_kept_beside_the_dataset(tmp_path):
    rows = [GOOD[0].replace("#1001", "EU-1001"), GOOD[1].replace("#1001", "EU-1001"),
            GOOD[2].replace("#1002", "EU-1002")]
    r = import_shopify(shopify_file(tmp_path, rows))
    assert r.codes["order_codes"].values.tolist() == [["EU-1001", 1], ["EU-1002", 2]]
    assert r.data.orders["order_id"].tolist() == [1, 2]
