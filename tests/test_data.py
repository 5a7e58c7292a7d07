"""CRMData: save and load dataset folders, and the errors of a broken one."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from hand_edit import unseal

from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.schema import TABLE_NAMES
from crmkit.errors import DatasetError, MissingTableError, SchemaError


@pytest.fixture(scope="module")
def data():
    from crmkit.dataset.synth import generate

    return generate("boutique", n_customers=120, seed=4)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_gives_identical_tables(data, tmp_path, fmt):
    data.save(tmp_path, format=fmt)
    back = CRMData.load(tmp_path)
    for name, df in data.tables.items():
        pd.testing.assert_frame_equal(df, back.tables[name], check_dtype=True)
    pd.testing.assert_frame_equal(data.truth["customers"], back.truth["customers"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["profile"] == "boutique" and manifest["seed"] == 4
    assert manifest["n_customers"] == 120 and manifest["format"] == fmt
    assert manifest["tables"]["customers"] == 120 and "crmkit_version" in manifest


def test_saving_twice_gives_the_same_bytes(data, tmp_path):
    data.save(tmp_path / "a")
    data.save(tmp_path / "b")
    for f in (tmp_path / "a").glob("*.csv"):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(DatasetError, match="is not a folder"):
        CRMData.load(tmp_path / "nowhere")


def test_missing_table_is_named(data, tmp_path):
    data.save(tmp_path)
    (unseal(tmp_path) / "tickets.csv").unlink()
    with pytest.raises(DatasetError, match="has no table 'tickets': expected tickets.csv"):
        CRMData.load(tmp_path)


def test_missing_column_is_named(data, tmp_path):
    data.save(tmp_path)
    f = tmp_path / "orders.csv"
    pd.read_csv(f).drop(columns=["channel"]).to_csv(f, index=False)
    unseal(tmp_path)
    with pytest.raises(DatasetError, match=r"orders.csv: table 'orders' is missing column\(s\) "
                                           r"'channel'"):
        CRMData.load(tmp_path)


def test_broken_reference_is_named(data, tmp_path):
    data.save(tmp_path)
    f = tmp_path / "order_lines.csv"
    lines = pd.read_csv(f)
    lines.loc[3, "product_id"] = 99999
    lines.to_csv(f, index=False)
    unseal(tmp_path)
    # row 3 is line 5 of the file (the header is line 1)
    with pytest.raises(DatasetError, match=r"order_lines\.csv: column 'product_id', line 5: "
                                           r"1 value\(s\) not found in products\.product_id"):
        CRMData.load(tmp_path)


def test_constructor_requires_the_orders_and_accepts_a_partial_dataset(data):
    tables = dict(data.tables)
    tables.pop("orders")
    with pytest.raises(SchemaError, match="missing table\\(s\\) 'orders'"):
        CRMData(tables)
    partial = CRMData({k: data.tables[k] for k in ("orders", "order_lines", "products")})
    assert partial.validate() is partial  # references to absent customers are not checked
    assert partial.has("sales") and not partial.has("incidents")
    with pytest.raises(MissingTableError, match="no table 'tickets'; 'incidents' needs "
                                                "tickets, ticket_events"):
        partial.require("incidents")
    with pytest.raises(MissingTableError, match="no table 'inventory'"):
        _ = partial.inventory


def test_partial_dataset_saves_and_loads_with_only_its_tables(data, tmp_path):
    partial = CRMData({k: data.tables[k] for k in ("orders", "order_lines")},
                      {"shop_name": "Tienda Ñ", "currency": "GBP"})
    partial.save(tmp_path / "p")
    back = CRMData.load(tmp_path / "p")
    assert sorted(back.tables) == ["order_lines", "orders"]
    assert (back.shop_name, back.slug, back.currency) == ("Tienda Ñ", "tienda-n", "GBP")
    (unseal(tmp_path / "p") / "order_lines.csv").unlink()  # listed in the manifest: data lost
    with pytest.raises(DatasetError, match="no table 'order_lines'"):
        CRMData.load(tmp_path / "p")


def test_complete_fills_absent_tables_but_keeps_them_absent(data):
    full = CRMData({"orders": data.orders}).complete()
    assert len(full.tables) == len(TABLE_NAMES) and len(full.tickets) == 0
    assert full.manifest["absent_tables"][0] == "campaign_contacts"
    assert not full.has("incidents") and full.has("orders")


def test_copy_of_sample_loads(tmp_path):
    shutil.copytree("data/samples/ice_cream", tmp_path / "ice")
    d = CRMData.load(tmp_path / "ice")
    assert d.manifest["profile"] == "ice_cream"


@pytest.mark.parametrize("column, value, expected", [
    ("unit_price", "12,5", "column 'unit_price', line 3: '12,5' is not a number"),
    ("quantity", "99999999999999999999999", "column 'quantity', line 3: "),
    ("quantity", "2.5", "column 'quantity', line 3: '2.5' is not a whole number"),
])
def test_unreadable_values_name_the_file_column_and_line(data, tmp_path, column, value,
                                                         expected):
    partial = CRMData({k: data.tables[k] for k in ("orders", "order_lines")})
    folder = partial.save(tmp_path / "shop")
    lines = pd.read_csv(folder / "order_lines.csv", dtype=str, keep_default_na=False)
    lines.loc[1, column] = value
    lines.to_csv(folder / "order_lines.csv", index=False)
    unseal(folder)
    with pytest.raises(DatasetError) as info:
        CRMData.load(folder)
    assert "order_lines.csv" in str(info.value) and expected in str(info.value)


def test_a_corrupt_parquet_file_is_a_dataset_error_naming_it(data, tmp_path):
    folder = CRMData({"orders": data.orders}).save(tmp_path / "shop", format="parquet")
    (unseal(folder) / "orders.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DatasetError, match="orders.parquet: not a readable Parquet file"):
        CRMData.load(folder)


# ----------------------------------------------------------------------------- hostile values
def _edit(folder, table, row, column, value):
    """Set one value of a saved CSV table through Python's csv module; return the 1-based
    line of the file that holds it, counted independently from the file's own text."""
    import csv

    path = folder / f"{table}.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        records = list(csv.reader(fh))
    records[row + 1][records[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(records)
    unseal(folder)
    with open(path, newline="", encoding="utf-8") as fh:
        reader, line = csv.reader(fh), 0
        for i, _ in enumerate(reader):
            if i == row + 1:
                return line + 1
            line = reader.line_num
    raise AssertionError("row not found")


@pytest.mark.parametrize("table, column, value", [
    ("products", "list_price", "inf"), ("products", "list_price", "Infinity"),
    ("products", "list_price", "1e400"), ("products", "unit_cost", "-inf"),
    ("products", "list_price", "NaN"), ("campaigns", "budget", "nan"),
    ("order_lines", "quantity", "inf"), ("order_lines", "amount_cents", "1e400"),
])
def test_non_finite_numbers_are_refused_naming_file_line_and_column(data, tmp_path, table,
                                                                    column, value):
    folder = data.save(tmp_path / "shop")
    # a product name over two lines first: the row is no longer line row + 2
    _edit(folder, "products", 0, "name", "Two\nlines")
    line = _edit(folder, table, 4, column, value)
    assert table != "products" or line == 7
    with pytest.raises(DatasetError) as info:
        CRMData.load(folder)
    message = str(info.value)
    assert f"{table}.csv: column {column!r}, line {line}: {value!r}" in message
    assert "not a finite number" in message


def test_an_infinite_value_in_parquet_names_the_file_row_and_column(data, tmp_path):
    lines = data.order_lines.copy()
    lines["unit_price"] = lines["unit_price"].astype(float)
    lines.loc[2, "unit_price"] = float("inf")
    folder = CRMData({"orders": data.orders, "order_lines": lines}).save(
        tmp_path / "shop", format="parquet")
    with pytest.raises(DatasetError, match=r"order_lines\.parquet: column 'unit_price', row 3: "
                                           r"is not a finite number"):
        CRMData.load(folder)


def test_a_bad_date_in_a_truth_file_is_one_line_naming_file_line_and_column(data, tmp_path):
    import subprocess
    import sys

    folder = data.save(tmp_path / "shop")
    truth = folder / "truth" / "customers.csv"
    text = truth.read_text(encoding="utf-8").splitlines()
    head = text[0].split(",")
    row = text[3].split(",")
    row[head.index("dropout_date")] = "2024-13-45"
    text[3] = ",".join(row)
    truth.write_text("\n".join(text) + "\n", encoding="utf-8")
    unseal(folder)
    with pytest.raises(DatasetError, match=r"truth/customers\.csv: column 'dropout_date', "
                                           r"line 4: '2024-13-45' is not a date"):
        CRMData.load(folder)
    done = subprocess.run([sys.executable, "-m", "crmkit.cli", "dashboard", "--data",
                           str(folder), "--out", str(tmp_path / "d.html")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "line 4" in done.stderr


@pytest.mark.parametrize("damage, expected", [
    (lambda line: line.split(",")[0] + ",2", r"has 2 field\(s\), the header has 18"),
    (lambda line: line + ",x,y", r"has 20 field\(s\), the header has 18"),
])
def test_a_line_with_too_few_or_too_many_fields_is_named(data, tmp_path, damage, expected):
    folder = CRMData({"orders": data.orders}).save(tmp_path / "shop")
    text = (folder / "orders.csv").read_text(encoding="utf-8").splitlines()
    text[6] = damage(text[6])  # the file's line 7
    (unseal(folder) / "orders.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=rf"orders\.csv: line 7 {expected}"):
        CRMData.load(folder)


def test_a_byte_that_is_not_utf8_is_named_with_its_line(data, tmp_path):
    folder = data.save(tmp_path / "shop")
    raw = (folder / "customers.csv").read_bytes().split(b"\n")
    raw[8] = raw[8] + b"\xed"  # latin-1 i acute, as a spreadsheet might save it
    (unseal(folder) / "customers.csv").write_bytes(b"\n".join(raw))
    with pytest.raises(DatasetError, match=r"customers\.csv: line 9, byte \d+ of the line: "
                                           r"b'\\xed' is not UTF-8"):
        CRMData.load(folder)


def test_nan_where_a_parquet_column_must_not_be_empty_names_the_file_row_and_column(data,
                                                                                    tmp_path):
    campaigns = data.campaigns.copy()
    campaigns.loc[1, "budget"] = float("nan")
    folder = CRMData({"orders": data.orders, "campaigns": campaigns}).save(
        tmp_path / "shop", format="parquet")
    with pytest.raises(DatasetError, match=r"campaigns\.parquet: column 'budget', row 2: must "
                                           r"not be empty but is empty \(or NaN\)"):
        CRMData.load(folder)
