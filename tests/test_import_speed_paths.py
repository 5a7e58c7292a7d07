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
