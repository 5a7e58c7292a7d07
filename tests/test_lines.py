"""The robust line reader (crmkit.sources.lines) on hand-made files whose answer is known."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from crmkit.dataset.extracts import FILES
from crmkit.errors import DatasetError
from crmkit.sources.lines import plain_text, read_delimited, read_header
from crmkit.warehouse import build

GOOD = Path(__file__).resolve().parents[1] / "data" / "extracts" / "boutique"


def _read(tmp_path, data: bytes, **kw):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    kw.setdefault("n_fields", 2)
    return read_delimited(path, **kw)


def _seen(got):
    return ([(r.line, r.fields) for r in got.records],
            [(r.line, r.reason) for r in got.rejects])


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_every_line_end_gives_the_same_rows_and_lines(tmp_path, end):
    got = _read(tmp_path, end.join([b"a,b", b"1,x", b"2,y", b"3"]) + end)
    assert _seen(got) == ([(2, ["1", "x"]), (3, ["2", "y"])], [(4, "malformed_line")])
    assert got.lines_in_file == 4 and got.balanced


def test_blank_lines_keep_the_numbers_of_later_lines_and_make_no_rows(tmp_path):
    got = _read(tmp_path, b"a,b\n\n1,x\n \t\n2,y,z\n")
    assert _seen(got) == ([(3, ["1", "x"])], [(5, "malformed_line")])
    assert got.blank_lines == 2 and got.rows_read == 2 and got.balanced


def test_a_quoted_line_break_is_one_row_at_its_first_line(tmp_path):
    got = _read(tmp_path, b'a,b\n1,"two\r\nlines"\n2,y\n')
    assert _seen(got) == ([(2, ["1", "two\r\nlines"]), (4, ["2", "y"])], [])
    assert got.records[0].n_lines == 2 and got.balanced


def test_an_unbalanced_quote_costs_its_own_line_only(tmp_path):
    body = b"a,b\n1,\"oops\n" + b"".join(b"%d,ok\n" % i for i in range(2, 200))
    got = _read(tmp_path, body)
    assert got.rejects[0].line == 2 and got.rejects[0].reason == "malformed_line"
    assert len(got.records) == 198 and got.records[0].line == 3 and got.balanced


def test_an_unbalanced_quote_on_the_last_line(tmp_path):
    got = _read(tmp_path, b'a,b\n1,x\n2,"y')
    assert _seen(got) == ([(2, ["1", "x"])], [(3, "malformed_line")])


def test_bom_is_skipped_and_utf16_refused(tmp_path):
    got = _read(tmp_path, b"\xef\xbb\xbfa,b\n1,x\n")
    assert got.header == ["a", "b"] and got.bom and len(got.records) == 1
    with pytest.raises(DatasetError, match="UTF-16"):
        _read(tmp_path, "a,b\n1,x\n".encode("utf-16"))


@pytest.mark.parametrize("raw, encoding, word", [
    ("1;Cádiz".encode("cp1252"), "utf-8", "not valid utf-8"),
    ("1;10€".encode("cp1252"), "latin-1", "Windows-1252"),
    ("1;Cádiz".encode(), "latin-1", "UTF-8 text"),
    (b"1;\x00\x01", "utf-8", "binary"),
])
def test_bad_bytes_quarantine_their_line_only(tmp_path, raw, encoding, word):
    got = _read(tmp_path, b"a;b\n" + raw + b"\n2;ok\n", encoding=encoding, delimiter=";")
    assert _seen(got) == ([(3, ["2", "ok"])], [(2, "invalid_encoding")])
    assert word in got.rejects[0].detail


def test_latin1_text_in_a_latin1_file_is_read_as_latin1(tmp_path):
    got = _read(tmp_path, "a;b\n1;Cádiz\n".encode("latin-1"), encoding="latin-1",
                delimiter=";")
    assert got.records[0].fields == ["1", "Cádiz"] and not got.rejects


def test_chunks_hand_over_every_record_once_with_the_same_counts(tmp_path):
    body = b"a,b\n" + b"".join(b"%d,x\n" % i if i % 7 else b"%d\n" % i for i in range(1, 1000))
    whole = _read(tmp_path, body)
    seen = []
    chunked = _read(tmp_path, body, chunk=100,
                    on_chunk=lambda rec, rej: seen.append((list(rec), list(rej))))
    assert [r for rec, _ in seen for r in rec] == whole.records
    assert [r for _, rej in seen for r in rej] == whole.rejects
    assert (chunked.rows_read, chunked.n_rejects, chunked.balanced) == (999, 142, True)
    assert chunked.records == [] and len(seen) >= 9


def test_header_errors_name_the_file(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DatasetError, match="h.csv"):
        read_header(path)
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match="empty"):
        read_header(path)


@pytest.mark.parametrize("name", list(FILES))
def test_both_readers_give_the_same_raw_rows_on_the_good_extract(name):
    """The fast reader (plain files) and the line reader agree row for row, line for line."""
    spec = FILES[name]
    if plain_text((GOOD / name).read_bytes(), encoding=spec.encoding,
                  delimiter=spec.delimiter) is not None:
        pytest.skip("not a plain file: only the line reader reads it")
    now = datetime(2026, 1, 1)
    tables = []
    for fast in (True, False):
        con = duckdb.connect()
        build._init(con)
        cols = ", ".join(f'"{c}" VARCHAR' for c in spec.columns)  # as build._load creates it
        con.execute(f'CREATE TABLE raw."{name.removesuffix(".csv")}" ({cols}, _batch_id VARCHAR, '
                    "_file VARCHAR, _line BIGINT, _loaded_at TIMESTAMP)")
        if fast:
            build._read_plain(con, GOOD / name, spec, "b", now)
        else:
            got = read_delimited(GOOD / name, n_fields=len(spec.columns),
                                 encoding=spec.encoding, delimiter=spec.delimiter)
            build._insert_records(con, got.records, got.rejects, spec, "b", now)
        stem = name.removesuffix(".csv")
        tables.append((con.execute(f"SELECT * FROM raw.{stem} ORDER BY _line").fetchall(),
                       con.execute("SELECT line, reason, record FROM quarantine.rows "
                                   "ORDER BY line").fetchall()))
        con.close()
    assert tables[0][0] == tables[1][0]
    assert [r[:2] for r in tables[0][1]] == [r[:2] for r in tables[1][1]]
