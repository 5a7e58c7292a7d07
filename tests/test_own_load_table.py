"""Notebook 02's load table of the shop's own warehouse speaks the reader's language.

A dataset handed over as data names its tables (``customers``, ``orders``) where a folder
names its files (``orders.csv``): a Spanish page showed the tables' code names. The table
now shows a table by its catalog name and keeps a file name as it is.
"""

from __future__ import annotations

import pytest
from test_analyst_reports import _few_repeat_buyers

from crmkit.lessons.lesson02 import load_table
from crmkit.warehouse import build_warehouse, load_report


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    data = _few_repeat_buyers()
    folder = data.save(tmp_path_factory.mktemp("own") / "pocos")
    return data, folder, tmp_path_factory.mktemp("wh")


@pytest.mark.parametrize("lang, names", [("es", ["Líneas de pedido", "Pedidos"]),
                                         ("en", ["Order lines", "Orders"])])
def test_a_datasets_tables_are_shown_by_their_names_in_the_readers_language(shop, lang, names):
    data, _, where = shop
    table = load_table(load_report(build_warehouse(data, where / f"data-{lang}.duckdb")), lang)
    assert sorted(table["table"]) == names
    assert list(table.columns) == ["table", "rows_read", "rows_loaded", "rows_quarantined",
                                   "rows_inferred", "balanced"]
    assert table["rows_read"].sum() == len(data.orders) + len(data.order_lines)


def test_a_folders_files_keep_their_file_names(shop):
    _, folder, where = shop
    table = load_table(load_report(build_warehouse(folder, where / "folder.duckdb")), "es")
    assert sorted(table["file"]) == ["order_lines.csv", "orders.csv"]
