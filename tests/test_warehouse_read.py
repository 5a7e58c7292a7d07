"""The warehouse's fast read of a plain file (DuckDB's CSV reader straight into raw) against
the line reader, on hand-made files whose every line is known.

The line reader (:func:`crmkit.sources.lines.read_delimited`) is the independent truth:
both must give the same rows at the same line numbers and quarantine the same lines, however
the rejects fall (first line, consecutive, last line, many) and however large the file (more
rows than DuckDB reads in one chunk, on more than one thread).
"""

from __future__ import annotations

import random
from datetime import datetime

import duckdb
import pytest

from crmkit.dataset.extracts import FileSpec
from crmkit.sources.lines import plain_text, read_delimited
from crmkit.warehouse import build

NOW = datetime(2026, 1, 1)
SPEC = FileSpec("t.csv", "web", "utf-8", ",", ("id", "name", "city"), ("id", "name", "city"),
                "a test file")


def _file(tmp_path, n: int, bad: dict[int, bytes], *, quoted_every: int = 0) -> bytes:
    """``n`` good rows (line k holds id k), with the lines in ``bad`` replaced."""
    lines = [b"id,name,city"]
    for line in range(2, n + 2):
        if line in bad:
            lines.append(bad[line])
        elif quoted_every and line % quoted_every == 0:
            lines.append(b'%d,"Ana, ""la"" %d","Madrid"' % (line, line))
        else:
            lines.append(b"%d,name %d,Sevilla" % (line, line))
    data = b"\n".join(lines) + b"\n"
    (tmp_path / SPEC.name).write_bytes(data)
    return data


def _raw(fast: bool, path) -> tuple[list, list, tuple]:
    con = duckdb.connect()
    build._init(con)
    con.execute("CREATE TABLE raw.t (id VARCHAR, name VARCHAR, city VARCHAR, _batch_id VARCHAR,"
                " _file VARCHAR, _line BIGINT, _loaded_at TIMESTAMP)")
    if fast:
        counts = build._read_plain(con, path, SPEC, "b", NOW)
    else:
        got = read_delimited(path, n_fields=3, encoding="utf-8", delimiter=",")
        build._insert_records(con, got.records, got.rejects, SPEC, "b", NOW)
        counts = (got.rows_read, got.n_rejects)
    rows = con.execute("SELECT * FROM raw.t ORDER BY _line").fetchall()
    held = con.execute("SELECT line, reason FROM quarantine.rows ORDER BY line").fetchall()
    con.close()
    return rows, held, counts


CASES = {
    "no rejects": (50, {}),
    "first line": (50, {2: b"2,only two"}),
    "last line": (50, {51: b"51"}),
    "consecutive": (50, {10: b"a", 11: b"b,c", 12: b"1,2,3,4"}),
    "spread": (50, {3: b"x", 20: b"y", 21: b"z", 40: b"w,w,w,w,w"}),
    "every other": (40, {k: b"bad" for k in range(2, 42, 2)}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fast_read_matches_the_line_reader(case, tmp_path):
    n, bad = CASES[case]
    data = _file(tmp_path, n, bad, quoted_every=7)
    assert plain_text(data, encoding="utf-8", delimiter=",") is None
    fast, slow = _raw(True, tmp_path / SPEC.name), _raw(False, tmp_path / SPEC.name)
    assert fast == slow
    rows, held, (read, rejected) = fast
    # against the file as written: good line k holds id k, every bad line is held
    assert [int(r[0]) for r in rows] == [r[5] for r in rows]
    assert [line for line, _ in held] == sorted(bad)
    assert (read, rejected) == (n, len(bad))


def test_quoted_fields_come_back_unquoted(tmp_path):
    _file(tmp_path, 20, {}, quoted_every=2)
    rows, _, _ = _raw(True, tmp_path / SPEC.name)
    assert rows[0][:3] == ("2", 'Ana, "la" 2', "Madrid")
    assert rows[1][:3] == ("3", "name 3", "Sevilla")


def test_a_large_file_keeps_every_line_in_order(tmp_path):
    """Far more rows than one chunk of DuckDB's reader, rejects scattered through it."""
    n = 300_000
    bad = {k: b"broken" for k in (2, 5_000, 5_001, 123_457, 250_000, n + 1)}
    _file(tmp_path, n, bad, quoted_every=1_000)
    rows, held, (read, rejected) = _raw(True, tmp_path / SPEC.name)
    assert (read, rejected) == (n, len(bad))
    assert [line for line, _ in held] == sorted(bad)
    assert all(int(r[0]) == r[5] for r in rows)
    assert len(rows) == n - len(bad)


@pytest.mark.parametrize("body", [
    b'2,"Ana\n3",Madrid\n',        # a quoted line break: one row over two lines
    b'2,"Ana,Madrid\n3,Eva,Lugo\n',  # an unclosed quote
    b'2,A"na",Madrid\n',            # a quote inside an unquoted field
    b'2, "Ana",Madrid\n',           # a space before the opening quote
])
def test_a_quote_that_does_not_close_on_its_line_is_not_plain(body):
    assert plain_text(b"id,name,city\n" + body, encoding="utf-8",
                      delimiter=",") == "quote characters"


@pytest.mark.parametrize("few_runs", [0, 1_000])
def test_both_ways_of_placing_rows_below_rejects_agree_with_the_file(few_runs, tmp_path,
                                                                     monkeypatch):
    """One ASOF join (many runs of rejects) and one INSERT per run (few): each row on its line."""
    monkeypatch.setattr(build, "_FEW_RUNS", few_runs)
    n = 3_000
    bad = {k: b"bad" for k in (2, 3, 4, 700, 1_500, 1_502, 2_999, n + 1)}
    _file(tmp_path, n, bad)
    rows, held, (read, rejected) = _raw(True, tmp_path / SPEC.name)
    assert [r[5] for r in rows] == [k for k in range(2, n + 2) if k not in bad]
    assert all(int(r[0]) == r[5] for r in rows)
    assert [line for line, _ in held] == sorted(bad) and (read, rejected) == (n, len(bad))


def test_line_offsets_against_counting_the_lines_by_hand():
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 60)
        bad = set(rng.sample(range(2, n + 2), rng.randint(0, n)))
        kept = [line for line in range(2, n + 2) if line not in bad]
        offsets = build.line_offsets(bad)
        for p, line in enumerate(kept, start=2):  # the p-th row read, numbered from 2
            k = max([k for f, k in offsets if f <= p], default=0)
            assert p + k == line
