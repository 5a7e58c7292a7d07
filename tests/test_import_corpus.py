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
from crmkit.sources.shopify import import_shopify

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
    """Independent count: each non-blank data line by its 1-based number, split by ``csv``.

    The examples hold no quoted line breaks, so each physical line is one record; a
    damaged line is still counted once (a stray quote cannot swallow the next line here).
    """
    text = path.read_bytes().decode(encoding, errors="replace").lstrip("\ufeff")
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        if n > 1 and line.strip():
            out[n] = (line.split() if delimiter == "whitespace" else
                      next(csv.reader([line], delimiter=delimiter)))
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


def _retail(edit, *, delimiter=",", encoding="utf-8", raw=None):
    """Build a damaged copy of Online Retail: ``edit`` the rows, then ``raw`` the bytes."""
    def build(tmp_path):
        header, rows = retail_rows()
        rows = [list(r) for r in rows]
        edit(rows)
        path = write_rows(tmp_path / "retail.csv", header, rows, delimiter=delimiter,
                          encoding=encoding)
        if raw is not None:
            path.write_bytes(raw(path.read_bytes()))
        return path
    return build


def _line(n, change):
    """Raw edit: apply ``change`` (bytes -> bytes) to the file's line ``n``."""
    def edit(data: bytes) -> bytes:
        lines = data.split(b"\n")
        lines[n - 1] = change(lines[n - 1])
        return b"\n".join(lines)
    return edit


def _accents(rows):
    rows[0][2] = "CAFÉ ROCÍO MUG"
    rows[4][2] = "PIÑATA AÑO"


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
        refused=r"retail.csv, line 2, column 'Price': decimal=',' contradicts the data: .* "
                r"decimal point \(e.g. 6.95, 6.75, 2.1\)"),
    "prices_in_tenths_of_a_penny": Case(_retail(_set({(2, 5): "0.065", (3, 5): "0.125"})),
                                        RETAIL_MAP, RETAIL_BAD),
    "line_in_tenths_of_a_penny": Case(_retail(_set({(5, 5): "0.1255"})), RETAIL_MAP,
                                      RETAIL_BAD | {(5, "too_many_decimals")}),
    # ---- 2. dates
    "day_first_column_with_a_month_first_value": Case(
        _retail(_dates("%d/%m/%Y %H:%M", {3: "12/13/2009 07:45", 17: "13/12/2009 11:02"})),
        RETAIL_MAP, (RETAIL_BAD - {(17, "not_a_date")}) | {(3, "contradicts_day_month")}),
    "every_date_ambiguous": Case(
        _retail(_dates("%d/%m/%Y %H:%M")), RETAIL_MAP,
        refused=r"retail.csv, line 2, column 'InvoiceDate': every date could be day/month or "
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
    # ---- 3. structure
    "too_few_fields": Case(_retail(lambda rows: None, raw=_line(5, lambda b: b.rsplit(b",", 1)[0])),
                           RETAIL_MAP, RETAIL_BAD | {(5, "wrong_field_count")}),
    "too_many_fields": Case(_retail(lambda rows: None, raw=_line(7, lambda b: b + b",x")),
                            RETAIL_MAP, RETAIL_BAD | {(7, "wrong_field_count")}),
    "unclosed_quote": Case(_retail(lambda rows: None,
                                   raw=_line(5, lambda b: b.replace(b"CAT BOWL", b'"CAT BOWL'))),
                           RETAIL_MAP, RETAIL_BAD | {(5, "unclosed_quote")}),
    # ---- 5. identity
    "invoice_number_reused_later": Case(_retail(_set({(14, 0): "489434"})), RETAIL_MAP,
                                        RETAIL_BAD | {(14, "conflicting_order")}),
    "one_invoice_two_customers": Case(_retail(_set({(8, 6): "12682.0"})), RETAIL_MAP,
                                      RETAIL_BAD | {(8, "conflicting_order")}),
    # ---- 4. encodings
    "one_line_not_utf8": Case(_retail(_accents, raw=_line(
        9, lambda b: b.replace(b"LOVE", "LOVÉ".encode("cp1252")))),
        RETAIL_MAP, RETAIL_BAD | {(9, "invalid_encoding")}),
    "latin1_flag_on_utf8": Case(
        _retail(_accents), RETAIL_MAP | {"encoding": "latin-1"},
        refused=r"retail.csv, line 2: the file is UTF-8 .*CAFÉ ROCÍO.* --encoding latin-1 "
                r"would read it as .*CAFÃ.*; leave --encoding out or give utf-8"),
    "utf16_with_bom": Case(_retail(_accents, encoding="utf-16"), RETAIL_MAP, RETAIL_BAD,
                           encoding="utf-16"),
    "utf16_without_bom": Case(_retail(_accents, encoding="utf-16-le"), RETAIL_MAP, RETAIL_BAD,
                              encoding="utf-16-le"),
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
    assert r.notes["unclosed_quote_lines"] == sum(1 for _, why in case.bad
                                                  if why == "unclosed_quote")
    if "encoding" not in case.mapping and name.startswith(("utf16", "one_line")):
        assert "CAFÉ ROCÍO MUG" in set(r.data.products["name"])
    money = retail_money(records, bad_lines, decimal=case.decimal)
    assert Decimal(str(r.notes["revenue"])) == money
    ln, o = r.data.order_lines, r.data.orders
    live = ln["order_id"].isin(o.loc[o["status"] == "placed", "order_id"])
    assert Decimal(int(ln.loc[live, "amount_cents"].sum())) / 100 == money


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


# ----------------------------------------------------------------------------- Shopify
CUSTOMERS = SHOPIFY.with_name("customers_export.csv")


def _shopify_lines(edits: dict):
    """A copy of the Shopify example with physical lines edited: {line: bytes -> bytes}."""
    def build(tmp_path):
        lines = SHOPIFY.read_bytes().split(b"\n")
        for n, change in edits.items():
            lines[n - 1] = change(lines[n - 1])
        path = tmp_path / "orders_export.csv"
        path.write_bytes(b"\n".join(lines))
        return path
    return build


def _field(n: int, value: bytes):
    """Edit: set the line's n-th (0-based) comma field (the example's first fields are plain)."""
    def change(b):
        parts = b.split(b",")
        parts[n] = value
        return b",".join(parts)
    return change


SHOPIFY_CASES = {
    # the first row of #12 (line 22) lost its last fields: it and line 23 (#12) go, not padded
    "short_first_row": (_shopify_lines({22: lambda b: b.rsplit(b",", 12)[0]}),
                        {(22, "wrong_field_count"), (23, "order_first_row_missing")}),
    # the first row of #12 has an impossible date: #12 goes whole, the rest imports
    "bad_date_on_first_row": (_shopify_lines({22: lambda b: b.replace(b"2024-01-", b"2024-02-3")}),
                              {(22, "not_a_date"), (23, "order_first_row_quarantined")}),
    # two different orders under one number: #13 renamed #12 (adjacent)
    "two_orders_one_number": (_shopify_lines({24: _field(0, b"#12")}),
                              {(24, "conflicting_order")}),
    # a bad value on the first row of #15 (line 26) costs the whole order; on its second
    # row (line 27), that row, and, because #15 is partially refunded (a refund of the
    # order's goods, which cannot be checked against goods with a line missing), its first row
    "infinite_price_first_row": (_shopify_lines({26: _field(18, b"Infinity")}),
                                 {(26, "non_finite"), (27, "order_first_row_quarantined")}),
    "infinite_price_second_row": (_shopify_lines({27: _field(18, b"inf")}),
                                  {(27, "non_finite"), (26, "order_line_quarantined")}),
}


def shopify_money(records, bad_lines) -> Decimal:
    """What the good lines cost: price x quantity - the line's discount, as written, less the
    order-level discount of each order kept (its Discount Amount - its lines' discounts)."""
    head = next(csv.reader([SHOPIFY.read_text(encoding="utf-8").splitlines()[0]]))
    q, p = head.index("Lineitem quantity"), head.index("Lineitem price")
    d, name = head.index("Lineitem discount"), head.index("Name")
    total, order_level = Decimal(0), Decimal(0)
    for n, r in records.items():
        if n in bad_lines:
            continue
        total += Decimal(r[p]) * int(r[q]) - Decimal(r[d] or "0")
        if r[head.index("Discount Amount")]:  # the order's first row
            lines = [x for x in records.values() if x[name] == r[name]]
            order_level += Decimal(r[head.index("Discount Amount")]) - sum(
                Decimal(x[d] or "0") for x in lines)
    return total - order_level


@pytest.mark.parametrize("name", sorted(SHOPIFY_CASES))
def test_hostile_shopify_export(name, tmp_path, capsys):
    build, bad = SHOPIFY_CASES[name]
    path = build(tmp_path)
    assert main(["import", "shopify", str(path), "--customers", str(CUSTOMERS), "--out",
                 str(tmp_path / "out")]) == 0, capsys.readouterr().err
    r = import_shopify(path, customers=CUSTOMERS)
    q = r.quarantine[r.quarantine["file"] == path.name]
    assert set(zip(q["line"], q["reason"], strict=True)) == bad
    records = csv_records(path)
    bad_lines = {line for line, _ in bad}
    rep = r.report.set_index("file").loc[path.name]
    assert rep["rows_read"] == len(records)
    assert rep["rows_quarantined"] == len(bad_lines)
    assert rep["rows_imported"] == len(records) - len(bad_lines)
    cents = int(r.data.order_lines["amount_cents"].sum())
    assert Decimal(cents) / 100 == shopify_money(records, bad_lines)


def test_shopify_email_shared_by_two_customer_ids_moves_no_order(tmp_path):
    """Customer 2's e-mail written again under a new Customer ID 999: reported, orders stay."""
    lines = CUSTOMERS.read_text(encoding="utf-8").splitlines()
    lines.append(lines[2].replace("2,Óscar", "999,Óscar", 1))
    customers = tmp_path / "customers_export.csv"
    customers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = import_shopify(SHOPIFY, customers=CUSTOMERS)
    after = import_shopify(SHOPIFY, customers=customers)
    pd.testing.assert_series_equal(after.data.orders["customer_id"],
                                   before.data.orders["customer_id"])
    assert after.notes["emails_shared_by_customer_ids"] == {"oscar.lozano2@gmail.com": [2, 999]}


def test_cdnow_whitespace_line_with_an_extra_token_is_quarantined_not_shifted(tmp_path):
    """CDNOW, aligned with spaces: one line with a stray token loses that line only."""
    lines = CDNOW.read_text(encoding="ascii").splitlines()
    lines[2] = lines[2].replace(" 1   14.96", " 1  3  14.96")
    path = tmp_path / "cdnow.txt"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    mapping = OrderLogMapping(customer="1", date="3", quantity="4", amount="5", header=False,
                              delimiter="whitespace", date_format="%Y%m%d")
    r = import_orders(path, mapping, currency="USD", timezone="America/New_York")
    assert r.quarantine[["line", "reason"]].values.tolist() == [[3, "wrong_field_count"]]
    rows = {n: ln.split() for n, ln in enumerate(lines, 1) if ln.strip()}
    assert int(r.report["rows_read"].iloc[0]) == len(rows)
    money = sum((Decimal(f[4]) for n, f in rows.items() if n != 3), Decimal(0))
    assert Decimal(str(r.notes["revenue"])) == money
    assert Decimal(int(r.data.order_lines["amount_cents"].sum())) / 100 == money
    assert r.data.order_lines["unit_price"].isna().all()  # never amount / quantity
