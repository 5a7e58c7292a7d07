"""A Shopify export keeps its shop's local time: ``Created at`` is written in the shop's zone
with its offset, so without ``--timezone`` the import takes the zone the offsets show (never
Europe/Madrid for a shop at -05:00) and the report says which zone it used.

The exports are written by hand with Python's ``csv`` module; the expected local times are
the times as written, read with ``datetime.strptime`` (not with crmkit's date reader).
"""

from __future__ import annotations

import csv
from datetime import datetime

import pandas as pd
import pytest

from crmkit.cli import main
from crmkit.dataset.crmdata import CRMData
from crmkit.errors import SourceError
from crmkit.sources.shopify import import_shopify

HEAD = ["Name", "Email", "Financial Status", "Fulfillment Status", "Currency", "Subtotal",
        "Shipping", "Taxes", "Total", "Created at", "Lineitem quantity", "Lineitem name",
        "Lineitem price", "Lineitem sku", "Source"]


def export(path, times: list[str]):
    """One order of one 10.00 line per time, as Shopify writes them."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEAD)
        for i, when in enumerate(times, 1):
            w.writerow([f"#{1000 + i}", f"c{i}@example.com", "paid", "fulfilled", "USD",
                        "10.00", "0.00", "0.00", "10.00", when, "1", "Coffee", "10.00",
                        "SKU-1", "web"])
    return path


def as_written(text: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S"))


QUITO = ["2024-03-01 12:05:00 -0500", "2024-03-31 22:30:00 -0500",
         "2024-12-31 23:10:00 -0500"]


def test_a_shop_at_minus_five_keeps_its_local_times_without_timezone(tmp_path):
    result = import_shopify(export(tmp_path / "orders_export.csv", QUITO), shop_name="Quito")
    placed = result.data.orders.sort_values("order_id")["placed_at"].tolist()
    assert placed == [as_written(t) for t in QUITO]  # the last day of March stays in March
    assert result.data.manifest["timezone"] == "Etc/GMT+5"  # IANA's fixed -05:00 zone
    assert result.data.manifest["end"] == "2024-12-31"  # no sliver of next January
    assert "-05:00" in result.notes["timezone"]


def test_the_cli_without_timezone_says_which_zone_it_used(tmp_path, capsys):
    orders = export(tmp_path / "orders_export.csv", QUITO)
    assert main(["import", "shopify", str(orders), "--out", str(tmp_path / "quito")]) == 0
    assert "timezone: Etc/GMT+5" in capsys.readouterr().out
    assert CRMData.load(tmp_path / "quito").orders["placed_at"].dt.month.tolist() == [3, 3, 12]


def test_a_given_zone_is_used_and_said(tmp_path):
    result = import_shopify(export(tmp_path / "o.csv", QUITO), timezone="America/Guayaquil")
    assert result.data.orders.sort_values("order_id")["placed_at"].tolist() == [
        as_written(t) for t in QUITO]
    assert result.notes["timezone"] == "America/Guayaquil (given)"


def test_a_madrid_shop_stays_in_europe_madrid(tmp_path):
    times = ["2024-01-03 17:06:26 +0100", "2024-07-03 09:00:00 +0200"]
    result = import_shopify(export(tmp_path / "o.csv", times))
    assert result.data.manifest["timezone"] == "Europe/Madrid"
    assert result.data.orders.sort_values("order_id")["placed_at"].tolist() == [
        as_written(t) for t in times]


def test_offsets_of_a_zone_with_summer_time_ask_for_the_zone(tmp_path):
    times = ["2024-01-10 10:00:00 -0500", "2024-07-10 10:00:00 -0400"]  # New York, say
    with pytest.raises(SourceError, match=r"-05:00, -04:00.*--timezone"):
        import_shopify(export(tmp_path / "o.csv", times))
    given = import_shopify(export(tmp_path / "o.csv", times), timezone="America/New_York")
    assert given.data.orders.sort_values("order_id")["placed_at"].tolist() == [
        as_written(t) for t in times]
