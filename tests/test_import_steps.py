"""Each step of the importers' pipelines on hand-made input whose answer is known by construction.

read/decode (encoding.py), split (table.py), parse columns (numbers.py, dates.py),
validate (steps.Batch, quarantine.problem_rows) and the sources' own rules
(a Shopify order's rows, an order log's order-level fields).
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest

from crmkit.errors import CRMKitError, SourceError
from crmkit.sources.dates import format_pattern, parse_times
from crmkit.sources.encoding import decide_encoding
from crmkit.sources.numbers import parse_numbers
from crmkit.sources.orders import OrderLogMapping, _conflicting_rows, import_orders
from crmkit.sources.shopify import _order_rows, import_shopify
from crmkit.sources.steps import Batch, exact_total
from crmkit.sources.table import read_text_table

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- read, decode
@pytest.mark.parametrize("data, given, expected", [
    ("Ana;1\n".encode("ascii"), None, "utf-8"),
    ("Rocío;1\n".encode(), None, "utf-8"),
    (b"\xef\xbb\xbf" + "Rocío;1\n".encode(), None, "utf-8-sig"),
    ("Rocío;1\nNúñez;2\n".encode("cp1252"), None, "cp1252"),
    # two UTF-8 lines and one Windows line: a UTF-8 file with one bad line, never re-decoded
    ("Rocío;1\nNúñez;2\n".encode() + "Peña;3\n".encode("cp1252"), None, "utf-8"),
    ("Rocío;1\n".encode("utf-16"), None, "utf-16"),
    ("Rocío;1\n".encode("utf-16-le"), None, "utf-16-le"),
    ("Rocío;1\n".encode("utf-16-be"), None, "utf-16-be"),
    ("Rocío;1\n".encode("cp1252"), "latin-1", "latin-1"),
])
def test_decide_encoding_names_the_files_encoding(data, given, expected):
    assert decide_encoding(data, given=given, path="f.csv")[2] == expected


def test_an_encoding_that_makes_mojibake_is_refused_with_the_likely_one():
    with pytest.raises(SourceError, match=r"f.csv, line 2: the file is UTF-8 .*Peña.*"
                                          r"--encoding cp1252 would read it as 'PeÃ±a"):
        decide_encoding("x;y\nPeña;1\n".encode(), given="cp1252", path="f.csv")


def test_a_utf16_encoding_given_for_a_utf8_file_is_refused():
    with pytest.raises(SourceError, match=r"f.csv: --encoding utf-16 does not fit the file .* "
                                          r"most likely utf-8"):
        decide_encoding(b"a;b\n1;2\n", given="utf-16", path="f.csv")


# ---------------------------------------------------------------- split
def _table(tmp_path, data: bytes, **kw):
    f = tmp_path / "f.csv"
    f.write_bytes(data)
    return read_text_table(f, **kw)


def test_split_keeps_every_record_with_its_line_and_sets_aside_the_rest(tmp_path):
    data = (b'a,b,c\n1,2,3\n\n4,"x\ny",6\n7,8\n9,10,11,12\n13,"open,14\n15,16,17\n'
            + "18,Peña,20\n".encode("cp1252") + "21,Núñez,23\n".encode())
    t = _table(tmp_path, data)
    assert t.frame[["a", "b", "_line"]].values.tolist() == [
        ["1", "2", 2], ["4", "x\ny", 4], ["15", "16", 9], ["21", "Núñez", 11]]
    assert [(ln, why) for ln, why, _ in t.broken] == [
        (6, "wrong_field_count"), (7, "wrong_field_count"), (8, "unclosed_quote"),
        (10, "invalid_encoding")]
    assert t.blank_lines == [3] and t.unclosed_quotes == 1 and t.rows_read == 8


def test_split_whitespace_aligned_lines_never_shifts_a_column(tmp_path):
    t = _table(tmp_path, b" 1 19970101  1   11.77\r\n 2 19970102  1 2 24.99\r\n"
                         b" 3 19970103  2   9.00\r\n", delimiter="whitespace", header=False)
    assert t.frame[["1", "4", "_line"]].values.tolist() == [["1", "11.77", 1],
                                                            ["3", "9.00", 3]]
    assert [(ln, why) for ln, why, _ in t.broken] == [(2, "wrong_field_count")]


# ---------------------------------------------------------------- parse columns
@pytest.mark.parametrize("values, given, mark, texts, problems", [
    (["7,95", "12.50", "3,10"], None, ",", ["7.95", None, "3.10"], [None, "ambiguous_decimal",
                                                                    None]),
    (["1,234.50", "2.10", "1,000"], None, ".", ["1234.50", "2.10", "1000"], [None] * 3),
    (["1.234,50", "1.000", "2"], None, ",", ["1234.50", "1000", "2"], [None] * 3),
    (["1.000", "2"], ",", ",", ["1000", "2"], [None] * 2),
    (["-0.5", "+3", "€ 4.20"], None, ".", ["-0.5", "3", "4.20"], [None] * 3),
    (["nan", "-inf", "Infinity", "1e400", "99999999999999999"], None, ".",
     [None] * 5, ["non_finite"] * 5),
])
def test_parse_numbers_reads_the_exact_text_by_the_columns_mark(values, given, mark, texts,
                                                                problems):
    col = parse_numbers(pd.Series(values), decimal=given)
    assert col.decimal == mark
    assert [None if pd.isna(t) else t for t in col.text] == texts
    assert [None if pd.isna(p) else p for p in col.problem] == problems


def test_a_contradicting_decimal_is_refused_with_a_sample():
    with pytest.raises(SourceError, match=r"f.csv, column 'Price': decimal=',' contradicts the "
                                          r"data: 2 value\(s\) .* point \(e.g. 794.40, 3.10\)"):
        parse_numbers(pd.Series(["794.40", "3.10", "5"]), decimal=",",
                      where="f.csv, column 'Price'")


def test_parse_times_decides_the_order_for_the_column():
    month_first = parse_times(pd.Series(["01/13/2009", "05/01/2009"]), timezone="UTC")
    assert month_first.dayfirst is False
    assert [str(v.date()) for v in month_first.value] == ["2009-01-13", "2009-05-01"]
    with pytest.raises(SourceError, match=r"c: every date could be .* \(e.g. 05/01/2010, "
                                          r"06/02/2010, 07/03/2010\)"):
        parse_times(pd.Series(["05/01/2010", "06/02/2010", "07/03/2010", "08/04/2010"]),
                    timezone="UTC", where="c")


def test_a_format_that_is_not_one_is_refused_in_one_line():
    with pytest.raises(SourceError, match=r"c: --date-format '%Q' is not a date format"):
        parse_times(pd.Series(["2024-01-01"]), timezone="UTC", fmt="%Q", where="c")


def test_a_given_format_is_exact():
    assert format_pattern("%d/%m/%Y %H:%M") == r"^\d{2}/\d{2}/\d{4}\s+\d{2}:\d{2}$"
    col = parse_times(pd.Series(["19970101", "1997011", "19970132"]), timezone="UTC",
                      fmt="%Y%m%d")
    assert col.problem.tolist()[1:] == ["does_not_match_format", "not_a_date"]


# ---------------------------------------------------------------- validate
def test_batch_rows_leave_only_through_quarantine(tmp_path):
    t = _table(tmp_path, b"n,a\n1,2\n2,-1\n3,x\n4,5\n")
    amount = parse_numbers(t.frame["a"])
    batch = Batch.start(t, pd.DataFrame({"a": amount.value}))
    batch.check({"a": amount.problem},
                pa.DataFrameSchema({"a": pa.Column(float, pa.Check.ge(0))}), sources={})
    batch.reject(t.frame["n"] == "4", column="n", reason="test")
    q = batch.quarantine()
    assert q[["line", "reason"]].values.tolist() == [[3, "must be >= 0"],
                                                    [4, "not_a_number"], [5, "test"]]
    assert batch.ok.tolist() == [True, False, False, False]
    assert exact_total(amount.text[batch.ok]) == 2


# ---------------------------------------------------------------- sources' rules
def test_shopify_rows_belong_to_their_orders_first_row():
    raw = pd.DataFrame({
        "Name": ["#1", "#1", "#2", "#2", "#2", "#3"],
        "Financial Status": ["paid", "", "paid", "paid", "", ""],
        "Email": ["a@x", "a@x", "b@x", "c@x", "c@x", "d@x"],
        "Created at": ["2024-01-01 10:00 +0100"] * 2 + ["2024-01-02 10:00 +0100"] * 4,
        "_line": [2, 3, 4, 5, 6, 7]})
    owner, ok, bad = _order_rows(raw, raw["Name"], "o.csv")
    assert owner.tolist()[:3] == [0, 0, 2] and ok.tolist() == [True, True, True, False,
                                                               False, False]
    assert sorted(zip(bad["line"], bad["reason"], strict=True)) == [
        (5, "conflicting_order"), (6, "conflicting_order"), (7, "order_first_row_missing")]
    assert "line 4 of order #2 says 'b@x'" in bad.loc[bad["line"] == 5, "value"].iloc[0]


def test_order_log_rows_that_disagree_with_their_orders_first_row_conflict():
    parsed = pd.DataFrame({"_line": [2, 3, 4], "t": ["d1", "d1", "d9"]})
    raw = pd.DataFrame({"when": ["d1", "d1", "d9"]})
    bad = _conflicting_rows(parsed, pd.Series(True, index=parsed.index),
                            pd.Series(["A", "A", "A"]), {"when": parsed["t"]}, file="f",
                            raw=raw)
    assert bad[["line", "reason", "value"]].values.tolist() == [
        [4, "conflicting_order", "'d9' where line 2 of order A says 'd1'"]]


# ---------------------------------------------------------------- no traceback, any input
def _mutate(data: bytes, rng: random.Random) -> bytes:
    junk = [b",", b'"', b"\n", b"\r", b"\x00", b"\xff", b"\xe9", b";", b"inf", b"1e999",
            b"\xef\xbb\xbf", b"GMT+01", b"-", b"/", b":"]
    b = bytearray(data)
    for _ in range(rng.randint(1, 30)):
        i = rng.randrange(len(b))
        op = rng.random()
        if op < 0.4:
            b[i:i + 1] = rng.choice(junk)
        elif op < 0.7:
            del b[i:i + rng.randint(1, 20)]
        else:
            b[i:i] = rng.choice(junk)
    return bytes(b)


@pytest.mark.parametrize("seed", range(40))
def test_no_damage_gives_a_traceback(seed, tmp_path):
    rng = random.Random(seed)
    f = tmp_path / "f.csv"
    try:
        if seed % 2:
            f.write_bytes(_mutate((ROOT / "data/examples/shopify/orders_export.csv")
                                  .read_bytes()[:20000], rng))
            r = import_shopify(f)
        else:
            f.write_bytes(_mutate((ROOT / "data/examples/online_retail/online_retail_ii.csv")
                                  .read_bytes(), rng))
            r = import_orders(f, OrderLogMapping.from_yaml(
                ROOT / "data/examples/online_retail/mapping.yaml"))
    except CRMKitError as exc:
        assert "\n" not in str(exc) and "f.csv" in str(exc)
        return
    assert r.balanced
