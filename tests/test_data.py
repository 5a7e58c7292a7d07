"""CRMData: save and load dataset folders, and the errors of a broken one."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from crmkit.dataset.crmdata import CRMData
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
    (tmp_path / "tickets.csv").unlink()
    with pytest.raises(DatasetError, match="has no table 'tickets': expected tickets.csv"):
        CRMData.load(tmp_path)


def test_missing_column_is_named(data, tmp_path):
    data.save(tmp_path)
    f = tmp_path / "orders.csv"
    pd.read_csv(f).drop(columns=["channel"]).to_csv(f, index=False)
    with pytest.raises(DatasetError, match=r"orders.csv: table 'orders' is missing column\(s\) "
                                           r"'channel'"):
        CRMData.load(tmp_path)


def test_broken_reference_is_named(data, tmp_path):
    data.save(tmp_path)
    f = tmp_path / "order_lines.csv"
    lines = pd.read_csv(f)
    lines.loc[3, "product_id"] = 99999
    lines.to_csv(f, index=False)
    with pytest.raises(DatasetError, match="table 'order_lines', column 'product_id': 1 value"):
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
    (tmp_path / "p" / "order_lines.csv").unlink()  # listed in the manifest: data lost
    with pytest.raises(DatasetError, match="no table 'order_lines'"):
        CRMData.load(tmp_path / "p")


def test_complete_fills_absent_tables_but_keeps_them_absent(data):
    full = CRMData({"orders": data.orders}).complete()
    assert len(full.tables) == 11 and len(full.tickets) == 0
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
    with pytest.raises(DatasetError) as info:
        CRMData.load(folder)
    assert "order_lines.csv" in str(info.value) and expected in str(info.value)


def test_a_corrupt_parquet_file_is_a_dataset_error_naming_it(data, tmp_path):
    folder = CRMData({"orders": data.orders}).save(tmp_path / "shop", format="parquet")
    (folder / "orders.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DatasetError, match="orders.parquet: not a readable Parquet file"):
        CRMData.load(folder)
