"""The importers' fast paths give exactly what the careful paths give.

* Reading: a delimited file is split by Arrow where each line is one well-quoted record
  and by the careful line-by-line reader elsewhere; on hostile mixes (quotes opened and
  never closed, quoted line breaks, wrong field counts, blank lines, control bytes, stray
  quotes) the rows, their true lines, the blank lines and the set-aside lines with their
  reasons equal the careful reader's reading of the whole file.
* Parsing: numbers and dates are read once per distinct value; every decision and count
  still weighs every row (a value repeated on three rows counts three times).
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

import crmkit.sources.table as table
from crmkit.sources.dates import parse_times
from crmkit.sources.numbers import parse_numbers

PIECES = ["a", "b c", '"x,y"', '"q""q"', "", '"multi\nline"', '"open', 'z"z', '"a"b',
          ' "s"', "é", "\x01", '"', '""', "   "]


def _careful(path):
    """The careful reader on the whole file (the fast path switched off)."""
    fast = table._quoted_frame
    table._quoted_frame = lambda *a, **k: None
    try:
        return table.read_text_table(path)
    finally:
        table._quoted_frame = fast


def _hostile(rnd: random.Random) -> bytes:
    rows = ["h1,h2,h3"]
    for _ in range(rnd.randint(1, 150)):
        k = rnd.choice([3, 3, 3, 3, 3, 2, 4])
        rows.append(",".join(rnd.choice(PIECES[:5]) if rnd.random() < 0.93 else
                             rnd.choice(PIECES) for _ in range(k)))
        if rnd.random() < 0.03:
            rows.append(rnd.choice(["", "  "]))
    text = ("\r\n" if rnd.random() < 0.5 else "\n").join(rows)
    return (text + ("\n" if rnd.random() < 0.5 else "")).encode("utf-8")


@pytest.mark.parametrize("seed", range(60))
def test_the_fast_split_reads_a_hostile_file_as_the_careful_reader_does(seed, tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(_hostile(random.Random(seed)))
    got, want = table.read_text_table(path), _careful(path)
    assert got.frame.astype(object).values.tolist() == want.frame.astype(object).values.tolist()
    assert got.broken == want.broken
    assert got.blank_lines == want.blank_lines
    assert got.rows_read == want.rows_read


def test_the_fast_split_is_taken_and_sets_aside_what_the_careful_reader_would(tmp_path):
    path = tmp_path / "f.csv"
    lines = ["a,b,c"] + [f'{i},"x, {i}",z' for i in range(200)]
    lines[50] = '50,"never closed,z'     # costs its own line only
    lines[120] = "120,only two"           # wrong field count
    lines[150] = '150,"two\nlines",z'     # a quoted line break: one record at line 151
    path.write_bytes("\n".join(lines).encode("utf-8") + b"\n")
    used = []
    fast = table._quoted_frame
    table._quoted_frame = lambda *a, **k: used.append(1) or fast(*a, **k)
    try:
        got = table.read_text_table(path)
    finally:
        table._quoted_frame = fast
    assert used and got.broken == [(51, "unclosed_quote", '50,"never closed,z'),
                                   (121, "wrong_field_count", "120,only two")]
    assert got.frame.loc[got.frame["_line"] == 151, "b"].tolist() == ["two\nlines"]
    assert got.frame.loc[got.frame["_line"] == 153, "b"].tolist() == ["x, 150"]
    assert got.rows_read == 200 and len(got.frame) == 198


def test_the_day_month_order_weighs_every_row_not_every_distinct_value():
    # three rows prove month-first with one value; two distinct values prove day-first
    col = parse_times(pd.Series(["01/13/2010"] * 3 + ["13/01/2010", "14/01/2010"]),
                      timezone="UTC")
    assert col.dayfirst is False
    assert col.problem.tolist() == [pd.NA] * 3 + ["contradicts_day_month"] * 2


def test_summer_time_counts_weigh_every_row():
    col = parse_times(pd.Series(["2010-03-28 02:30"] * 3 + ["2010-10-31 02:30"] * 2
                                + ["2010-01-02 10:00"]), timezone="Europe/Madrid")
    assert (col.dst_gap, col.dst_fold) == (3, 2)
    assert [str(v) for v in col.value[:3]] == ["2010-03-28 03:30:00"] * 3


def test_the_decimal_mark_weighs_every_row_and_values_keep_their_rows():
    col = parse_numbers(pd.Series(["1.50", "1.50", "1.50", "7,95", "8,95", "", "1.50"],
                                  index=[10, 11, 12, 13, 14, 15, 16]))
    assert col.decimal == "."
    assert col.problem.tolist() == [None, None, None, "ambiguous_decimal",
                                    "ambiguous_decimal", "empty", None]
    assert col.text.index.tolist() == [10, 11, 12, 13, 14, 15, 16]
    assert col.text.tolist()[:3] == ["1.50"] * 3


def test_shared_keys_match_a_plain_python_count():
    from crmkit.sources.shopify import _shared_keys

    rng = np.random.default_rng(7)
    keys = [f"k{i}@x.es" for i in rng.integers(0, 300, 2_000)]
    ids = rng.integers(1, 40, 2_000).tolist()
    plain: dict = {}
    for k, i in zip(keys, ids, strict=True):
        plain.setdefault(k, set()).add(i)
    expected = {k: sorted(v) for k, v in sorted(plain.items()) if len(v) > 1}
    got = _shared_keys(pd.DataFrame({"key": pd.array(keys, dtype="str"), "id": ids}))
    assert list(got.items()) == list(expected.items())
    assert any(len(v) == 1 for v in plain.values())  # keys with one id are left out


# ------------------------------------------------------------ plain files, read at C speed
def _plain_by_its_regexes(data: bytes, encoding: str) -> str | None:
    """:func:`plain_text`'s definition written as regular expressions over the whole file."""
    import codecs
    import re

    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "a byte-order mark"
    if b'"' in data:
        return "quote characters"
    if data.count(b"\r") != data.count(b"\r\n"):
        return "bare carriage returns"
    if re.search(rb"\n[ \t]*\r?\n|\n[ \t]+\Z", data):
        return "a blank line"
    if re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data):
        return "control bytes"
    if not data.isascii():
        if codecs.lookup(encoding).name == "iso8859-1":
            if re.search(rb"[\x80-\x9f]", data):
                return "bytes that are control codes in latin-1"
            if re.search(rb"[\xc2-\xf4][\x80-\xbf]", data):
                return f"UTF-8 text in a {encoding} file"
        else:
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                return f"bytes that are not {encoding}"
    return None


BYTES = [b"a", b"7", b",", b" ", b"\t", b"\n", b"\r\n"] * 6 + [
    b"\r", b'"', b"\x00", b"\x0b", b"\x1f", b"\x7f", "é".encode(), b"\xe9", b"\x85", b"\xc3",
    b"\n  \n", b"\n\t\r\n", b"\n \t"]


@pytest.mark.parametrize("seed", range(300))
def test_plain_text_gives_the_verdict_of_its_regex_definition(seed):
    from crmkit.sources.lines import plain_text

    rnd = random.Random(seed)
    data = b"".join(rnd.choice(BYTES[:42] if rnd.random() < 0.5 else BYTES)
                    for _ in range(rnd.randint(0, 60)))
    for encoding in ("utf-8", "latin-1"):
        assert plain_text(data, encoding=encoding) == _plain_by_its_regexes(data, encoding)


@pytest.mark.parametrize("seed", range(100))
def test_a_file_of_many_padded_lines_gets_the_same_verdict(seed, monkeypatch):
    """Past ``_MANY_PADDED`` lines that start and end with a space or tab, blank lines are
    looked for in the whole file at once: the verdict is still the regex definition's."""
    from crmkit.sources import lines

    monkeypatch.setattr(lines, "_MANY_PADDED", 0)
    rnd = random.Random(seed)
    data = b"".join(rnd.choice(BYTES[:42]) for _ in range(rnd.randint(0, 60)))
    assert lines.plain_text(data, encoding="utf-8") == _plain_by_its_regexes(data, "utf-8")


@pytest.mark.parametrize("blank", [b"\n\n", b"\n \n", b"\n\t \r\n", b"\n  "])
@pytest.mark.parametrize("shift", range(-4, 2))
def test_a_blank_line_across_the_pieces_of_a_large_file_is_seen(blank, shift):
    from crmkit.sources.lines import plain_text

    data = b"a," * ((1 << 19) + shift) + blank + (b"" if blank == b"\n  " else b"b\n")
    assert plain_text(data, encoding="utf-8") == "a blank line"
    assert _plain_by_its_regexes(data, "utf-8") == "a blank line"
    assert plain_text(data.replace(blank, b"\n"), encoding="utf-8") is None


TOKENS = ["a", "12", "3.50", "é", "ü9", "19970101", "0000007", "x\u00a0y", "z\u3000"]
SEPS = [" ", "  ", "\t", " \t ", "   "]


def _aligned_log(rnd: random.Random, header: bool) -> bytes:
    """A log aligned with spaces and tabs: leading and trailing runs, lines with a field
    too few or too many, spaces beyond ASCII now and then."""
    def line(k):
        pool = TOKENS if rnd.random() < 0.1 else TOKENS[:7]
        lead = rnd.choice(["", "", " ", "\t", "  "])
        tail = rnd.choice(["", "", " ", "\t "])
        return lead + "".join(rnd.choice(pool) + rnd.choice(SEPS)
                              for _ in range(k - 1)) + rnd.choice(pool) + tail
    rows = [line(3) if not header else rnd.choice(["", " "]) + "c1  c2\tc3"]
    for _ in range(rnd.randint(1, 120)):
        rows.append(line(rnd.choice([3, 3, 3, 3, 3, 3, 2, 4])))
        if rnd.random() < 0.005:
            rows.append(rnd.choice(["", "  "]))
    text = ("\r\n" if rnd.random() < 0.5 else "\n").join(rows)
    return (text + rnd.choice(["", "\n"])).encode("utf-8")


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("seed", range(40))
def test_the_whitespace_split_reads_a_hostile_log_as_the_careful_reader_does(seed, header,
                                                                             tmp_path):
    path = tmp_path / "log.txt"
    path.write_bytes(_aligned_log(random.Random(seed), header))
    taken, fast = [], table._plain_frame
    table._plain_frame = lambda *a, **k: taken.append(fast(*a, **k)) or taken[-1]
    try:
        got = table.read_text_table(path, delimiter="whitespace", header=header)
    finally:
        table._plain_frame = fast
    table._plain_frame = lambda *a, **k: None
    try:
        want = table.read_text_table(path, delimiter="whitespace", header=header)
    finally:
        table._plain_frame = fast
    assert list(got.frame.columns) == list(want.frame.columns)
    assert got.frame.astype(object).values.tolist() == want.frame.astype(object).values.tolist()
    assert (got.broken, got.blank_lines, got.rows_read) == (want.broken, want.blank_lines,
                                                            want.rows_read)
    if path.read_bytes().isascii() and not want.blank_lines:
        assert taken and taken[-1] is not None  # the fast split was the one compared


def test_every_space_beyond_ascii_sends_a_log_to_the_careful_reader():
    import sys

    assert not [c for c in range(0x3001, sys.maxunicode + 1) if chr(c).isspace()]
    for c in (0x85, 0xA0, 0x2007, 0x3000):
        assert table._UNICODE_SPACE.search(f"a{chr(c)}b".encode())


def test_the_whitespace_split_sees_the_fields_a_person_sees(tmp_path):
    path = tmp_path / "log.txt"
    path.write_bytes(b"  id  day\tamount \r\n 7 2024-01-05  1.50\r\n\t8  2024-01-06 2\r\n"
                     b"9 2024-01-07 3 extra\r\n10 2024-01-08 4.25")
    got = table.read_text_table(path, delimiter="whitespace")
    assert got.frame.astype(object).values.tolist() == [
        ["7", "2024-01-05", "1.50", 2], ["8", "2024-01-06", "2", 3],
        ["10", "2024-01-08", "4.25", 5]]
    assert got.broken == [(4, "wrong_field_count", "9 2024-01-07 3 extra")]


# ------------------------------------------------------------------- only the columns used
def _readings(path, columns, **kw):
    """The file read by each path that applies: the fast paths, and the careful reader."""
    out = {"fast": table.read_text_table(path, columns=columns, **kw)}
    saved = table._plain_frame, table._quoted_frame
    table._plain_frame = table._quoted_frame = lambda *a, **k: None
    try:
        out["careful"] = table.read_text_table(path, columns=columns, **kw)
    finally:
        table._plain_frame, table._quoted_frame = saved
    return out


@pytest.mark.parametrize("seed", range(30))
def test_kept_columns_are_those_of_the_whole_reading(seed, tmp_path):
    rnd = random.Random(seed)
    path = tmp_path / "f.csv"
    data = _hostile(rnd)
    path.write_bytes(data if rnd.random() < 0.7 else data.replace(b'"', b""))
    keep = rnd.choice([{"h1"}, {"h2", "h3"}, {"h3", "not there"}])
    whole = _readings(path, None)
    for how, got in _readings(path, keep).items():
        want = whole[how]
        cols = [c for c in want.frame.columns if c in keep or c == "_line"]
        assert list(got.frame.columns) == cols
        assert (got.frame.astype(object).values.tolist()
                == want.frame[cols].astype(object).values.tolist())
        assert (got.broken, got.blank_lines) == (want.broken, want.blank_lines)


def test_the_shopify_importer_reads_every_orders_column_it_names():
    import ast

    import crmkit.sources.shopify as shopify
    from crmkit.dataset.shopify import ORDER_COLUMNS

    source = open(shopify.__file__, encoding="utf-8").read()
    named = {n.value for n in ast.walk(ast.parse(source))
             if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert named & set(ORDER_COLUMNS) <= shopify._ORDER_READ
    assert "Shipping Name" not in shopify._ORDER_READ  # a column it never reads is not built


def _damaged_shopify(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "data" / "examples" / "shopify"
    lines = (example / "orders_export.csv").read_bytes().split(b"\n")

    def field(line, n, value):
        parts = lines[line - 1].split(b",")
        parts[n] = value
        lines[line - 1] = b",".join(parts)

    lines[21] = lines[21].rsplit(b",", 12)[0]          # line 22: a first row cut short
    field(27, 18, b"inf")                               # line 27: a price that is no number
    field(30, 16, b"2.5")                               # line 30: half a unit
    lines[42] = lines[42].replace(b'"', b"", 1)         # line 43: a quote never closed
    field(51, 0, b"#26")                                # line 51: another order under #26
    path = tmp_path / "orders_export.csv"
    path.write_bytes(b"\n".join(lines))
    return path, example / "customers_export.csv", example / "products_export.csv"


@pytest.mark.parametrize("careful", [False, True])
def test_shopify_built_from_its_columns_only_imports_what_the_whole_export_does(careful,
                                                                                tmp_path):
    import crmkit.sources.shopify as shopify

    orders, customers, products = _damaged_shopify(tmp_path)
    saved = table._quoted_frame, shopify._ORDER_READ
    if careful:
        table._quoted_frame = lambda *a, **k: None
    try:
        got = shopify.import_shopify(orders, customers=customers, products=products)
        shopify._ORDER_READ = None
        want = shopify.import_shopify(orders, customers=customers, products=products)
    finally:
        table._quoted_frame, shopify._ORDER_READ = saved
    assert {22, 27, 30, 43, 51} <= set(got.quarantine["line"])
    assert sorted(got.data.tables) == sorted(want.data.tables)
    for name in want.data.tables:
        pd.testing.assert_frame_equal(got.data.tables[name], want.data.tables[name])
    pd.testing.assert_frame_equal(got.quarantine, want.quarantine)
    pd.testing.assert_frame_equal(got.report, want.report)
    assert got.notes == want.notes


# ------------------------------------------------------------- orders from their first rows
def test_orders_scattered_over_the_log_are_assembled_by_hand_known_answer(tmp_path):
    from crmkit.sources.orders import OrderLogMapping, import_orders

    path = tmp_path / "sales.csv"
    path.write_text(
        "Invoice,Customer,Date,Qty,Price\n"
        "B2,8,2024-01-02 10:00,1,5.00\n"       # line 2: order 2, its line 1
        "A1,7,2024-01-01 09:00,2,3.50\n"       # line 3: order 1, its line 1
        "B2,8,2024-01-02 10:00,3,1.00\n"       # line 4: order 2, its line 2
        "C3,,2024-01-03 11:00,1,2.00\n"        # line 5: order 3, a guest
        "A1,9,2024-01-01 09:00,1,1.00\n"       # line 6: another customer: conflicting_order
        "A1,7,2024-01-01 09:00,1,10.00\n"      # line 7: order 1, its line 2
        "D4,9,2024-01-04 12:00,-1,4.00\n"      # line 8: order 4, all returned
        "X5,9,2024-01-05 12:00,1,4.00\n"       # line 9: order 5, cancelled
        "D4,9,2024-01-04 12:00,-2,4.00\n",     # line 10: order 4, its line 2
        encoding="utf-8")
    mapping = OrderLogMapping(customer="Customer", date="Date", order="Invoice", quantity="Qty",
                              price="Price", cancel_prefix="X")
    r = import_orders(path, mapping)
    assert r.quarantine[["line", "reason"]].values.tolist() == [[6, "conflicting_order"]]
    o = r.data.orders
    assert o["order_id"].tolist() == [1, 2, 3, 4, 5]
    assert o["customer_id"].astype(object).where(o["customer_id"].notna(), None).tolist() == [
        7, 8, None, 9, 9]
    assert o["status"].tolist() == ["placed", "placed", "placed", "returned", "cancelled"]
    assert [str(t) for t in o["placed_at"]] == [
        "2024-01-01 09:00:00", "2024-01-02 10:00:00", "2024-01-03 11:00:00",
        "2024-01-04 12:00:00", "2024-01-05 12:00:00"]
    assert o["returned_at"].notna().tolist() == [False, False, False, True, False]
    assert o["cancelled_at"].notna().tolist() == [False, False, False, False, True]
    assert o["refunded_cents"].tolist() == [0, 0, 0, 1200, 0]
    lines = r.data.order_lines
    assert lines[["order_id", "line_number", "quantity", "amount_cents"]].values.tolist() == [
        [1, 1, 2, 700], [1, 2, 1, 1000], [2, 1, 1, 500], [2, 2, 3, 300], [3, 1, 1, 200],
        [4, 1, 1, 400], [4, 2, 2, 800], [5, 1, 1, 400]]


def test_long_customer_and_order_numbers_stay_exact_beside_a_guest(tmp_path):
    """Ids read as whole numbers never pass through floats (a guest's empty customer made
    123456789012345678 come out as 123456789012345680)."""
    from crmkit.sources.orders import OrderLogMapping, import_orders

    path = tmp_path / "sales.csv"
    path.write_text("order,customer,date,amount\n"
                    "900000000000000001,123456789012345678,2024-01-02,5.00\n"
                    "900000000000000003,,2024-01-03,2.00\n"
                    "900000000000000005,999999999999999999,2024-01-04,1.00\n",
                    encoding="utf-8")
    r = import_orders(path, OrderLogMapping(customer="customer", date="date", order="order",
                                            amount="amount"))
    o = r.data.orders
    assert o["order_id"].tolist() == [900000000000000001, 900000000000000003,
                                      900000000000000005]
    assert [None if pd.isna(c) else int(c) for c in o["customer_id"]] == [
        123456789012345678, None, 999999999999999999]


# ----------------------------------------------------------- money read per distinct value
MONEY = ["1.50", "+1,50", "0.125", "-0.07", "12", "", "inf", "doce", "1.234,50", "7,95",
         "99999999999999999999.99", "0.065", "3"]


@pytest.mark.parametrize("seed", range(20))
def test_money_of_a_categorical_column_is_the_money_of_its_text(seed):
    from crmkit.sources.steps import exact_total, line_cents, money_cents

    rnd = random.Random(seed)
    n = rnd.randint(1, 80)
    raw = pd.Series([rnd.choice(MONEY) for _ in range(n)], index=rnd.sample(range(1000), n))
    col = parse_numbers(raw)
    cats = col.categories()
    assert cats.astype(object).tolist() == col.text.astype(object).tolist()
    ok = col.text.notna() & pd.Series([rnd.random() < 0.8 for _ in raw], index=raw.index)
    for currency in ("EUR", "JPY", "BHD"):
        got, want = (money_cents(t[ok], currency=currency) for t in (cats, col.text))
        pd.testing.assert_series_equal(got[0], want[0])
        assert got[1].tolist() == want[1].tolist()
        qty = pd.Series([rnd.randint(1, 200) for _ in raw], index=raw.index)[ok]
        got, want = (line_cents(t[ok], qty, currency=currency) for t in (cats, col.text))
        pd.testing.assert_series_equal(got[0], want[0])
        assert got[1].tolist() == want[1].tolist()
    assert exact_total(cats[ok]) == exact_total(col.text[ok])
    qty = pd.Series([rnd.randint(1, 9) for _ in raw], index=raw.index)
    assert exact_total(cats, qty) == exact_total(col.text, qty)


def test_sub_cent_prices_after_a_quarantined_row_cost_what_they_say(tmp_path):
    """Price x quantity of a sub-cent price is set by position among the usable rows (by
    label it named a row that was not there, and the import stopped with a traceback)."""
    from crmkit.sources.orders import OrderLogMapping, import_orders

    path = tmp_path / "sales.csv"
    path.write_text("order,customer,date,qty,price\nA,1,2024-01-01,1,bad\n"
                    "B,1,2024-01-02,100,0.065\nC,1,2024-01-03,3,2.00\nD,1,2024-01-04,2,0.065\n"
                    "E,1,2024-01-05,3,0.065\n", encoding="utf-8")
    r = import_orders(path, OrderLogMapping(customer="customer", date="date", order="order",
                                            quantity="qty", price="price"))
    assert r.quarantine[["line", "reason"]].values.tolist() == [
        [2, "not_a_number"], [6, "too_many_decimals"]]
    assert r.data.order_lines["amount_cents"].tolist() == [650, 600, 13]
