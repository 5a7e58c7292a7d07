"""A shop's own dataset in the warehouse: its own rows, its own customers, nothing invented.

Every figure is checked against a count made independently from the source file
(Python's ``csv`` module or a plain split of the text), never against the
warehouse's own report.
"""

from __future__ import annotations

import csv
import re
import shlex
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hand_edit import unseal

from crmkit.cli import main
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.extracts import write_extracts
from crmkit.dataset.schema import TABLE_NAMES
from crmkit.dataset.synth import generate
from crmkit.errors import DatasetError
from crmkit.warehouse.build import (
    build_warehouse,
    connect,
    load_batch,
    load_report,
    quarantine,
    query,
)
from crmkit.warehouse.checks import run_data_tests

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "data" / "real" / "cdnow" / "CDNOW_master.txt"
SHOPIFY = ROOT / "data" / "examples" / "shopify"
RETAIL = ROOT / "data" / "examples" / "online_retail"
EXTRACT = ROOT / "data" / "extracts" / "boutique"

CDNOW_IMPORT = ["import", "orders", str(CDNOW), "--customer", "customer_id", "--date", "date",
                "--date-format", "%Y%m%d", "--quantity", "number_of_cds", "--amount",
                "dollar_value", "--currency", "USD", "--shop-name", "CDNOW"]


def _ok(args, capsys) -> str:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    root = tmp_path_factory.mktemp("cdnow")
    assert main([*CDNOW_IMPORT, "--out", str(root / "cdnow")]) == 0
    assert main(["warehouse", "build", str(root / "cdnow.duckdb"), "--data",
                 str(root / "cdnow")]) == 0
    return root


def test_cdnow_facts_link_to_every_customer_of_the_file(cdnow, capsys):
    with open(CDNOW, newline="") as f:
        rows = [line.split() for line in f.read().splitlines()[1:] if line.strip()]
    buyers = Counter(int(r[0]) for r in rows)
    assert len(buyers) == 23_570  # the published count, and the file's
    got = query(cdnow / "cdnow.duckdb", """
        SELECT c.customer_id, count(*) AS n FROM marts.fact_order_line f
        JOIN marts.dim_customer c USING (customer_key) GROUP BY 1""")
    assert dict(zip(got["customer_id"], got["n"], strict=True)) == dict(buyers)
    assert _ok(["warehouse", "test", str(cdnow / "cdnow.duckdb")], capsys).rstrip().endswith(
        " 0 failed")


def test_cdnow_per_customer_totals_equal_the_files_to_the_cent(cdnow):
    want: dict[int, Decimal] = {}
    with open(CDNOW, newline="") as f:  # whitespace-aligned columns: csv with a space delimiter
        reader = csv.reader(f, delimiter=" ", skipinitialspace=True)
        next(reader)
        for fields in reader:
            fields = [x for x in fields if x]
            if fields:
                who = int(fields[0])
                want[who] = want.get(who, Decimal(0)) + Decimal(fields[3])
    con = connect(cdnow / "cdnow.duckdb")
    try:
        got = dict(con.execute(
            "SELECT c.customer_id, sum(f.net_amount) FROM marts.fact_order_line f "
            "JOIN marts.dim_customer c USING (customer_key) GROUP BY 1").fetchall())
        total = con.execute("SELECT sum(net_amount), typeof(sum(net_amount)) "
                            "FROM marts.fact_order_line").fetchall()[0]
    finally:
        con.close()
    assert got == want  # Decimal == Decimal: every customer, to the cent
    assert total[0] == sum(want.values()) == Decimal("2500315.63")
    assert total[1].startswith("DECIMAL")


def test_cdnow_warehouse_invents_nothing(cdnow):
    db = cdnow / "cdnow.duckdb"
    report = load_report(db)
    assert sorted(report["file"]) == ["order_lines.csv", "orders.csv"]
    assert report["balanced"].all() and quarantine(db).empty
    tables = query(db, "SELECT schema_name || '.' || table_name AS t FROM duckdb_tables() "
                       "WHERE schema_name = 'raw'")["t"]
    assert sorted(tables) == ["raw.order_lines", "raw.orders"]  # no cards, partners, sheets
    dim = query(db, "SELECT * FROM marts.dim_customer WHERE customer_id <> -1")
    assert len(dim) == 23_570 and dim["is_inferred"].all()
    told = ["first_name", "last_name", "email", "phone", "loyalty_card", "city", "segment",
            "address", "signup_date", "birth_date"]
    assert dim[told].isna().all().all()
    for empty in ("fact_web_session", "fact_campaign_contact", "fact_ticket"):
        assert query(db, f"SELECT count(*) AS n FROM marts.{empty}")["n"][0] == 0


def test_the_build_says_which_tables_the_dataset_lacks(tmp_path, capsys):
    data = generate("boutique", n_customers=30, seed=1)
    folder = CRMData({"orders": data.orders, "order_lines": data.order_lines},
                     {"shop_name": "Lean"}).save(tmp_path / "lean")
    out = _ok(["warehouse", "build", str(tmp_path / "w.duckdb"), "--data", str(folder)],
              capsys)
    assert "the dataset has no customers, products" in out
    assert _ok(["warehouse", "test", str(tmp_path / "w.duckdb")], capsys).rstrip().endswith(
        " 0 failed")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_orders_without_an_order_lines_table_are_refused_in_one_line(tmp_path, capsys, fmt):
    """The facts are order lines: a folder with orders but no order_lines table would load
    no sale at all. It is refused before anything is written, naming the folder and the
    file it lacks."""
    data = generate("boutique", n_customers=30, seed=1)
    folder = CRMData({"customers": data.customers, "orders": data.orders},
                     {"shop_name": "No lines"}).save(tmp_path / "no_lines", format=fmt)
    assert not any(folder.glob("order_lines.*"))
    db = tmp_path / "w.duckdb"
    with pytest.raises(DatasetError) as err:
        build_warehouse(folder, db)
    text = str(err.value)
    assert str(folder) in text and f"order_lines.{fmt}" in text and "\n" not in text
    assert not db.exists()
    assert main(["warehouse", "build", str(db), "--data", str(folder)]) != 0
    printed = capsys.readouterr()
    assert "order_lines" in printed.err and "Traceback" not in printed.err + printed.out
    assert not db.exists()


@pytest.mark.parametrize("source", ["shopify", "online_retail", "generated"])
def test_imported_and_generated_datasets_pass_every_data_test(source, tmp_path, capsys):
    out = tmp_path / "shop"
    if source == "shopify":
        _ok(["import", "shopify", str(SHOPIFY / "orders_export.csv"), "--customers",
             str(SHOPIFY / "customers_export.csv"), "--products",
             str(SHOPIFY / "products_export.csv"), "--shop-name", "Bendita", "--out", str(out)],
            capsys)
    elif source == "online_retail":
        _ok(["import", "orders", str(RETAIL / "online_retail_ii.csv"), "--mapping",
             str(RETAIL / "mapping.yaml"), "--currency", "GBP", "--out", str(out)], capsys)
    else:
        _ok(["generate", "--profile", "sports_shop", "--customers", "80", "--out", str(out)],
            capsys)
    db = tmp_path / "shop.duckdb"
    _ok(["warehouse", "build", str(db), "--data", str(out)], capsys)
    tests = run_data_tests(db)
    assert tests["status"].eq("pass").all(), tests[tests["status"] != "pass"]
    files = {p.name for p in out.iterdir() if p.suffix == ".csv" and p.stem in TABLE_NAMES}
    assert set(load_report(db)["file"]) == files
    # every order keeps its customer (guests the guest member), checked against the file
    orders = pd.read_csv(out / "orders.csv", dtype={"customer_id": "Int64"})
    lines = pd.read_csv(out / "order_lines.csv")
    want = lines.merge(orders[["order_id", "customer_id"]], on="order_id")
    got = query(db, "SELECT f.order_id, f.line_number, c.customer_id FROM "
                    "marts.fact_order_line f JOIN marts.dim_customer c USING (customer_key)")
    both = want.merge(got, on=["order_id", "line_number"], suffixes=("", "_wh"))
    assert len(both) == len(lines)
    assert (both["customer_id"].fillna(-1).astype(int) == both["customer_id_wh"]).all()


def test_product_names_with_typographic_quotes_and_euro_load_intact(tmp_path, capsys):
    data = generate("boutique", n_customers=30, seed=5)
    names = data.products["name"].copy()
    names.iloc[0], names.iloc[1] = "Vestido “Luna” 20 €", "Falda ‘Sol’ — 30 €"
    data.products["name"] = names
    folder = data.save(tmp_path / "shop")
    _ok(["warehouse", "build", str(tmp_path / "w.duckdb"), "--data", str(folder)], capsys)
    got = query(tmp_path / "w.duckdb", "SELECT name FROM marts.dim_product WHERE product_id "
                "IN (?, ?) ORDER BY product_id", [int(data.products["product_id"].iloc[0]),
                                                  int(data.products["product_id"].iloc[1])])
    assert got["name"].tolist() == ["Vestido “Luna” 20 €", "Falda ‘Sol’ — 30 €"]


# ----------------------------------------------------------------------------- item 2
def _csv_rows(path: Path, **kw) -> list[dict]:
    with open(path, newline="", encoding=kw.pop("encoding", "utf-8")) as f:
        return list(csv.DictReader(f, **kw))


def test_a_missing_product_row_costs_no_sale_and_is_filled_in_later(tmp_path):
    data = generate("boutique", n_customers=60, seed=7)
    full = data.save(tmp_path / "full")
    lean = tmp_path / "lean"
    shutil.copytree(full, lean)
    products = _csv_rows(full / "products.csv")
    counts = Counter(r["product_id"] for r in _csv_rows(full / "order_lines.csv"))
    gone = max(counts, key=counts.get)
    with open(lean / "products.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(products[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(r for r in products if r["product_id"] != gone)
    unseal(lean)  # edited by hand: its manifest no longer vouches for the files
    db = build_warehouse(lean, tmp_path / "w.duckdb")
    assert quarantine(db).empty
    report = load_report(db).set_index("file")
    assert int(report.loc["order_lines.csv", "rows_inferred"]) == counts[gone]
    inferred = query(db, "SELECT p.name, p.is_inferred, count(*) AS n FROM "
                         "marts.fact_order_line f JOIN marts.dim_product p USING (product_key) "
                         "WHERE p.product_id = ? GROUP BY ALL", [int(gone)])
    assert inferred.to_dict("records") == [
        {"name": f"unknown product {gone}", "is_inferred": True, "n": counts[gone]}]
    assert run_data_tests(db)["status"].eq("pass").all()
    # the real row arrives in a later batch: the member is filled in, no sale moves
    load_batch(db, full)
    filled = query(db, "SELECT p.name, p.is_inferred, count(*) AS n FROM "
                       "marts.fact_order_line f JOIN marts.dim_product p USING (product_key) "
                       "WHERE p.product_id = ? GROUP BY ALL", [int(gone)])
    name = next(r["name"] for r in products if r["product_id"] == gone)
    assert filled.to_dict("records") == [{"name": name, "is_inferred": False,
                                          "n": counts[gone]}]
    assert query(db, "SELECT count(*) AS n FROM marts.dim_product WHERE is_inferred")["n"][0] == 0


def test_a_damaged_customer_row_costs_that_row_only(tmp_path):
    data = generate("boutique", n_customers=60, seed=8)
    folder = data.save(tmp_path / "shop")
    orders = _csv_rows(folder / "orders.csv")
    per_customer = Counter(o["customer_id"] for o in orders if o["customer_id"])
    who = max(per_customer, key=per_customer.get)
    text = (folder / "customers.csv").read_text(encoding="utf-8").split("\n")
    header = text[0].split(",")
    at = next(i for i, line in enumerate(text) if line.startswith(f"{who},"))
    fields = next(csv.reader([text[at]]))
    fields[header.index("segment")] = "gold"  # a value the schema does not allow
    buf = pd.io.common.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    text[at] = buf.getvalue()
    (unseal(folder) / "customers.csv").write_text("\n".join(text), encoding="utf-8")
    db = build_warehouse(folder, tmp_path / "w.duckdb")
    q = quarantine(db)
    assert q[["file", "line", "reason"]].values.tolist() == [["customers.csv", at + 1,
                                                              "invalid_value"]]
    lines_of_who = sum(1 for line in _csv_rows(folder / "order_lines.csv")
                       if line["order_id"] in {o["order_id"] for o in orders
                                               if o["customer_id"] == who})
    got = query(db, "SELECT c.is_inferred, count(*) AS n FROM marts.fact_order_line f "
                    "JOIN marts.dim_customer c USING (customer_key) WHERE c.customer_id = ? "
                    "GROUP BY ALL", [int(who)])
    assert got.to_dict("records") == [{"is_inferred": True, "n": lines_of_who}]
    assert run_data_tests(db)["status"].eq("pass").all()


def _damage_line(path: Path, line: int, column: str, value: str, *, encoding: str,
                 delimiter: str) -> None:
    lines = path.read_bytes().decode(encoding).split("\n")
    header = lines[0].split(delimiter)
    fields = lines[line - 1].split(delimiter)
    fields[header.index(column)] = value
    lines[line - 1] = delimiter.join(fields)
    path.write_bytes("\n".join(lines).encode(encoding))


def test_a_damaged_till_article_costs_that_line_only_and_is_filled_in_later(tmp_path):
    batch = tmp_path / "batch"
    shutil.copytree(EXTRACT, batch)
    arts = _csv_rows(EXTRACT / "pos_articles.csv", encoding="latin-1", delimiter=";")
    sales = _csv_rows(EXTRACT / "pos_sales.csv", encoding="latin-1", delimiter=";")
    held = {int(x.split(",")[1]) for x in (EXTRACT / "bad_rows.csv").read_text().split("\n")[1:]
            if x.startswith("pos_sales.csv,") and not x.endswith(",unknown_product")}
    good_sales = Counter(s["articulo"] for i, s in enumerate(sales, start=2) if i not in held)
    code = max(good_sales, key=good_sales.get)
    line = next(i for i, a in enumerate(arts, start=2) if a["codigo"] == code)
    _damage_line(batch / "pos_articles.csv", line, "pvp", "12,3,4", encoding="latin-1",
                 delimiter=";")
    db = build_warehouse(batch, tmp_path / "w.duckdb")
    q = quarantine(db)
    mine = q[q["file"] == "pos_articles.csv"][["line", "reason"]].values.tolist()
    assert mine == [[line, "invalid_number"]]
    assert sorted(q.loc[q["file"] == "pos_sales.csv", "line"]) == sorted(held)
    sku = next(a["sku"] for a in arts if a["codigo"] == code)
    got = query(db, "SELECT p.name, count(*) AS n FROM marts.fact_order_line f JOIN "
                    "marts.dim_product p USING (product_key) WHERE p.is_inferred "
                    "AND f.source_system = 'pos' GROUP BY ALL ORDER BY n DESC")
    # the till code names the product (its article line, and so its SKU, is lost), and the
    # extract's own planted sale of an unknown article is the other inferred member
    assert got.to_dict("records") == [{"name": f"unknown product {code}",
                                       "n": good_sales[code]},
                                      {"name": "unknown product 9999999", "n": 1}]
    report = load_report(db).set_index("file")
    planted_inferred = 1  # the extract's own sale of an article nobody knows
    assert int(report.loc["pos_sales.csv", "rows_inferred"]) == good_sales[code] + \
        planted_inferred
    assert run_data_tests(db)["status"].eq("pass").all()
    # the till sends its catalogue again, whole: the article and its sales find the product
    later = tmp_path / "later"
    later.mkdir()
    shutil.copy(EXTRACT / "pos_articles.csv", later / "pos_articles.csv")
    (later / "extracts_manifest.json").write_text('{"batch_id": "articles-again"}')
    load_batch(db, later)
    got = query(db, "SELECT p.sku, p.is_inferred, count(*) AS n FROM marts.fact_order_line f "
                    "JOIN marts.dim_product p USING (product_key) WHERE p.sku = ? "
                    "AND f.source_system = 'pos' GROUP BY ALL", [sku])
    assert got.to_dict("records") == [{"sku": sku, "is_inferred": False,
                                       "n": good_sales[code]}]


def test_damaged_legacy_customer_lines_cost_those_lines_only(tmp_path):
    data = generate("sports_shop", n_customers=150, seed=3)
    ex = write_extracts(data, tmp_path / "clean", seed=2, bad_rows=False)
    batch = ex["directory"]
    sheet = _csv_rows(batch / "legacy_customers.csv")
    numbers = Counter(r["Cust No"] for r in sheet)
    damaged = [i for i, r in enumerate(sheet, start=2) if numbers[r["Cust No"]] == 1][:5]
    text = (batch / "legacy_customers.csv").read_text(encoding="utf-8").split("\n")
    for i in damaged:  # the customer number is the first field: no quoting before it
        text[i - 1] = "X" + text[i - 1]
    (batch / "legacy_customers.csv").write_text("\n".join(text), encoding="utf-8")
    db = build_warehouse(batch, tmp_path / "w.duckdb")
    q = quarantine(db)
    assert sorted(q["line"]) == damaged and set(q["file"]) == {"legacy_customers.csv"}
    report = load_report(db).set_index("file")
    for name in ("pos_sales.csv", "web_orders.csv", "web_sessions.csv"):
        rows = len(_csv_rows(batch / name, encoding="latin-1" if name.startswith("pos")
                             else "utf-8", delimiter=";" if name.startswith("pos") else ","))
        assert int(report.loc[name, "rows_loaded"]) == rows, name
    assert int(report[["rows_inferred"]].sum().iloc[0]) > 0
    assert run_data_tests(db)["status"].eq("pass").all()


def _readme_commands() -> list[list[str]]:
    """The analyst guide's Shopify-example import and its warehouse commands, as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = text[text.index("## Guide for analysts"):]
    guide = guide[:guide.index("\n## ", 10)]
    flat = " ".join(guide.split())
    found = re.search(r"`(crmkit import shopify data/examples/shopify/[^`]*--out bendita)`",
                      flat)
    assert found, "the guide's import of the committed Shopify example"
    commands = [shlex.split(found.group(1))[1:]]
    for line in guide.splitlines():
        if line.startswith(".venv/bin/crmkit warehouse") and "bendita" in line:
            commands.append(shlex.split(line.split("#")[0])[1:])
    return commands


def test_the_analyst_guides_warehouse_commands_run_as_written(tmp_path, monkeypatch, capsys):
    commands = _readme_commands()
    assert [c[:2] for c in commands] == [["import", "shopify"], ["warehouse", "build"],
                                         ["warehouse", "test"]]
    (tmp_path / "data").symlink_to(ROOT / "data")  # the repository root, without writing in it
    monkeypatch.chdir(tmp_path)
    for args in commands:
        _ok(args, capsys)
    db = tmp_path / "bendita.duckdb"
    orders = pd.read_csv(tmp_path / "bendita" / "orders.csv")
    got = query(db, "SELECT count(DISTINCT order_id) AS n FROM marts.fact_order_line")
    assert int(got["n"][0]) == len(orders)
