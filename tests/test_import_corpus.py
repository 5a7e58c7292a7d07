"""Hostile-import corpus: damaged copies of the committed examples, each with its known outcome.

Every case is built from a committed example (Online Retail II, CDNOW, the
Shopify export) with one kind of damage, and asserts what the command does
with it: the exit status and the one-line message when the file is refused;
otherwise the exact quarantine (reason and true 1-based line), rows read =
imported + quarantined with the rows counted here by Python's ``csv`` module,
and the imported money equal to the total of the good rows computed here with
:class:`decimal.Decimal` from the file's text.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from crmkit.cli import main
from crmkit.sources.orders import OrderLogMapping, import_orders

ROOT = Path(__file__).resolve().parents[1]
RETAIL = ROOT / "data" / "examples" / "online_retail" / "online_retail_ii.csv"
CDNOW = ROOT / "data" / "real" / "cdnow" / "CDNOW_sample.txt"
SHOPIFY = ROOT / "data" / "examples" / "shopify" / "orders_export.csv"
RETAIL_MAP = dict(order="Invoice", product="StockCode", product_name="Description",
                  quantity="Quantity", date="InvoiceDate", price="Price",
                  customer="Customer ID", cancel_prefix="C")
#: the example's own bad rows: negative price, month 13, empty quantity
RETAIL_BAD = {(15, "must be >= 0"), (17, "not_a_date"), (21, "empty")}


def retail_rows() -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(RETAIL.read_text(encoding="utf-8"), newline="")))
    return rows[0], rows[1:]


def write_rows(path: Path, header, rows, *, delimiter=",", encoding="utf-8") -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def csv_records(path: Path, *, delimiter=",", encoding="utf-8") -> dict[int, list[str]]:
    """Independent count: each non-blank data record by its first line, read by ``csv``."""
    text = path.read_bytes().decode(encoding, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out, prev = {}, 0
    for i, rec in enumerate(reader):
        start, prev = prev + 1, reader.line_num
        if i and any(f.strip() for f in rec):
            out[start] = rec
    return out


def retail_money(records: dict[int, list[str]], bad_lines: set[int], *, decimal=".") -> Decimal:
    """Sales revenue of the good rows: price x quantity, not cancelled, quantity > 0."""
    total = Decimal(0)
    for line, rec in records.items():
        if line in bad_lines or rec[0].upper().startswith("C"):
            continue
        qty = int(rec[3])
        if qty > 0:
            total += Decimal(rec[5].replace(decimal, ".")) * qty
    return total


@dataclass
class Case:
    build: object                   # (tmp_path) -> Path
    mapping: dict
    bad: set = field(default_factory=set)       # expected {(line, reason)}
    refused: str | None = None      # expected message (regex) when the file is refused
    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8"


def _retail(edit, *, delimiter=",", encoding="utf-8"):
    def build(tmp_path):
        header, rows = retail_rows()
        rows = [list(r) for r in rows]
        edit(rows)
        return write_rows(tmp_path / "retail.csv", header, rows, delimiter=delimiter,
                          encoding=encoding)
    return build


def _set(cells):
    """Edit: set {(file line, column index): text}."""
    def edit(rows):
        for (line, col), text in cells.items():
            rows[line - 2][col] = text
    return edit


def _comma_decimals(rows, keep_dot_at=()):
    for i, r in enumerate(rows):
        if i + 2 not in keep_dot_at:
            r[5] = r[5].replace(".", ",")


def _dates(fmt, overrides=None):
    def edit(rows):
        for r in rows:
            try:
                r[4] = pd.Timestamp(r[4]).strftime(fmt)
            except ValueError:
                pass
        for line, text in (overrides or {}).items():
            rows[line - 2][4] = text
    return edit


CASES = {
    # ---- 1. numbers
    "non_finite_prices": Case(_retail(_set({(2, 5): "inf", (3, 5): "Infinity", (5, 5): "1e400",
                                            (7, 5): "NaN"})), RETAIL_MAP,
                              RETAIL_BAD | {(2, "non_finite"), (3, "non_finite"),
                                            (5, "non_finite"), (7, "non_finite")}),
    "lone_dot_among_decimal_commas": Case(
        _retail(lambda rows: _comma_decimals(rows, keep_dot_at=(3,)), delimiter=";"),
        RETAIL_MAP, RETAIL_BAD | {(3, "ambiguous_decimal")}, delimiter=";", decimal=","),
    "decimal_comma_flag_on_a_dot_file": Case(
        _retail(lambda rows: None), RETAIL_MAP | {"decimal": ","},
        refused=r"retail.csv, column 'Price': decimal=',' contradicts the data: .* "
                r"decimal point \(e.g. 6.95, 6.75, 2.1\)"),
    # ---- 2. dates
    "day_first_column_with_a_month_first_value": Case(
        _retail(_dates("%d/%m/%Y %H:%M", {3: "12/13/2009 07:45", 17: "13/12/2009 11:02"})),
        RETAIL_MAP, (RETAIL_BAD - {(17, "not_a_date")}) | {(3, "contradicts_day_month")}),
    "every_date_ambiguous": Case(
        _retail(_dates("%d/%m/%Y %H:%M")), RETAIL_MAP,
        refused=r"retail.csv, column 'InvoiceDate': every date could be day/month or "
                r"month/day \(e.g. 01/12/2009 07:45, 01/12/2009 07:45, 01/12/2009 07:45\); "
                r"say which with --dayfirst"),
    "every_date_ambiguous_with_dayfirst": Case(
        _retail(_dates("%d/%m/%Y %H:%M")), RETAIL_MAP | {"dayfirst": True}, RETAIL_BAD),
    "dayfirst_given_and_a_month_first_value": Case(
        _retail(_dates("%d/%m/%Y %H:%M", {4: "01/13/2009 07:45"})),
        RETAIL_MAP | {"dayfirst": True}, RETAIL_BAD | {(4, "contradicts_day_month")}),
    "format_not_matched_exactly": Case(
        _retail(_dates("%Y%m%d%H%M", {5: "2009120107"})),
        RETAIL_MAP | {"date_format": "%Y%m%d%H%M"},
        (RETAIL_BAD - {(17, "not_a_date")})
        | {(5, "does_not_match_format"), (17, "does_not_match_format")}),
}


def _run(case, tmp_path):
    path = case.build(tmp_path)
    mapping = OrderLogMapping(**case.mapping)
    return path, import_orders(path, mapping, shop_name="corpus", currency="GBP",
                               timezone="Europe/London")


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_order_log(name, tmp_path, capsys):
    case = CASES[name]
    path = case.build(tmp_path)
    args = ["import", "orders", str(path), "--out", str(tmp_path / "out"), "--currency", "GBP",
            "--timezone", "Europe/London"]
    for role, col in case.mapping.items():
        if role == "dayfirst":
            args.append("--dayfirst")
        else:
            args += [f"--{role.replace('_', '-')}", col]
    rc = main(args)
    err = capsys.readouterr().err
    if case.refused:
        assert rc == 2
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert pd.Series([err]).str.contains(case.refused).all(), err
        return
    assert rc == 0, err
    _, r = _run(case, tmp_path)
    got = set(zip(r.quarantine["line"], r.quarantine["reason"], strict=True))
    assert got == case.bad
    records = csv_records(path, delimiter=case.delimiter, encoding=case.encoding)
    bad_lines = {line for line, _ in case.bad}
    assert int(r.report["rows_read"].iloc[0]) == len(records)
    assert int(r.report["rows_quarantined"].iloc[0]) == len(bad_lines)
    assert int(r.report["rows_imported"].iloc[0]) == len(records) - len(bad_lines)
    money = retail_money(records, bad_lines, decimal=case.decimal)
    assert Decimal(str(r.notes["revenue"])) == money
    ln, o = r.data.order_lines, r.data.orders
    live = ln["order_id"].isin(o.loc[o["status"] == "placed", "order_id"])
    kept = (ln.loc[live, "quantity"] * ln.loc[live, "unit_price"]).sum()
    assert round(Decimal(float(kept)), 2) == money


def test_offsets_keep_their_sign_in_every_form(tmp_path):
    """The same instant written six ways is the same local time."""
    forms = ["2024-01-03 17:06:26 +0100", "2024-01-03 17:06:26 +01:00",
             "2024-01-03 17:06:26 +01", "2024-01-03 17:06:26 GMT+0100",
             "2024-01-03 16:06:26 UTC", "2024-01-03T16:06:26Z", "2024-01-03 11:06:26 -0500"]
    rows = [[str(i), f, "1"] for i, f in enumerate(forms, 1)]
    path = write_rows(tmp_path / "log.csv", ["c", "d", "a"], rows)
    r = import_orders(path, OrderLogMapping(customer="c", date="d", amount="a"),
                      timezone="Europe/Madrid")
    assert r.quarantine.empty
    assert set(r.data.orders["placed_at"].astype(str)) == {"2024-01-03 17:06:26"}


def test_a_local_time_in_the_spring_gap_moves_forward_and_is_counted(tmp_path):
    rows = [["1", "2010-03-28 00:30", "1"], ["2", "2010-03-28 01:30", "1"],
            ["3", "2010-10-31 01:30", "1"]]
    path = write_rows(tmp_path / "log.csv", ["c", "d", "a"], rows)
    r = import_orders(path, OrderLogMapping(customer="c", date="d", amount="a"),
                      timezone="Europe/London")
    assert r.data.orders["placed_at"].astype(str).tolist() == [
        "2010-03-28 00:30:00", "2010-03-28 02:30:00", "2010-10-31 01:30:00"]
    assert r.notes["dst_gap_moved_forward"] == 1 and r.notes["dst_fold_kept_as_written"] == 1


def test_cdnow_day_under_its_format_is_exact(tmp_path):
    lines = CDNOW.read_text(encoding="ascii").splitlines()
    lines[4] = lines[4].replace("19970101", "1997011 ").replace("19970118", "1997011 ")
    path = tmp_path / "cdnow.txt"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    mapping = OrderLogMapping(customer="1", date="3", quantity="4", amount="5", header=False,
                              delimiter="whitespace", date_format="%Y%m%d")
    r = import_orders(path, mapping, currency="USD", timezone="America/New_York")
    assert r.quarantine[["line", "reason", "value"]].values.tolist() == [
        [5, "does_not_match_format", "1997011"]]
    assert int(r.report["rows_read"].iloc[0]) == len(lines)
