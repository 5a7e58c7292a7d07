"""The warehouse's models are written once; crmkit.warehouse.dialect is the only place that
knows another engine. These tests hold the pinned sqlglot to the translations it gets wrong
(and to the ones the Spark build relies on it getting right)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from crmkit.warehouse import dialect, direct, sql
from crmkit.warehouse.build import money_unit

sqlglot = pytest.importorskip("sqlglot")
ROOT = Path(__file__).resolve().parents[1]


def test_sqlglot_is_the_pinned_release():
    spark = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["spark"]
    assert f"sqlglot=={dialect.SQLGLOT_VERSION}" in spark
    assert sqlglot.__version__ == dialect.SQLGLOT_VERSION


def _all_models() -> dict[str, str]:
    models = {f"staging {k}": v for k, v in sql.STAGING.items()}
    models.update({f"marts {k}": v for k, v in sql.MARTS.items()})
    models.update({f"direct {k}": v for k, (_, v) in direct.STAGE.items()})
    return models


def test_no_model_is_filled_in_by_string_replacement():
    for name, text in _all_models().items():
        assert not re.search(r"\{[a-z_]+\}", text), name  # no leftover placeholder
        assert "'$" not in text, name  # a parameter is never inside quotes


def test_every_model_is_one_statement_that_duckdb_parses():
    con = duckdb.connect()
    for name, text in _all_models().items():
        assert len(con.extract_statements(text)) == 1, name
        assert len(dialect.statements(text)) == 1, name


def test_marts_are_named_by_what_they_create():
    assert list(sql.MARTS)[:1] == ["_ident"]
    for name, text in sql.MARTS.items():
        assert dialect.target(text) == name
    assert "marts.fact_order_line" in sql.MARTS and "marts.dim_customer" in sql.MARTS


def test_bind_gives_each_statement_only_its_parameters_and_refuses_a_missing_one():
    text = sql.STAGING["legacy_customers.csv"]
    got = dialect.bind(text, batch="b1", lo=dt.date(2000, 1, 1), hi=dt.date(2030, 12, 31),
                       anchor=dt.date(2024, 1, 1), unused=1)
    assert set(got) == {"batch", "lo", "hi", "anchor"}
    with pytest.raises(KeyError, match="anchor"):
        dialect.bind(text, batch="b1", lo=None, hi=None)


def test_a_hostile_batch_id_is_data_not_sql():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (b VARCHAR)")
    con.execute("INSERT INTO t VALUES ('x''; DROP TABLE t; --')")
    text = "SELECT count(*) FROM t WHERE b = $batch"
    assert con.execute(text, dialect.bind(text, batch="x'; DROP TABLE t; --")).fetchone() == (1,)


def test_money_unit_follows_the_currency():
    assert money_unit("EUR") == Decimal("0.01")
    assert money_unit("JPY") == Decimal("1")


# ---------------------------------------------------------------- translations to Spark
def _select(expr: str) -> str:
    out = dialect.to_spark(f"SELECT {expr} AS v FROM t")
    assert len(out) == 1
    return out[0]


def test_iso_weekday_is_monday_one_sunday_seven():
    # sqlglot alone writes ((DAYOFWEEK(d) % 7) + 1): Sunday (DAYOFWEEK 1) would be 2
    raw = sqlglot.transpile("SELECT isodow(d) FROM t", read="duckdb", write="spark")[0]
    assert "% 7" in raw  # the wrong translation is still there; we correct it
    assert _select("isodow(d)") == "SELECT (WEEKDAY(d) + 1) AS v FROM t"


def test_ltrim_keeps_its_argument_order():
    # DuckDB ltrim(x, chars); Spark's two-argument LTRIM takes the characters FIRST
    assert _select("ltrim(trim(x), '#')") == "SELECT TRIM(LEADING '#' FROM TRIM(x)) AS v FROM t"


def test_try_strptime_becomes_try_to_timestamp_with_a_java_pattern():
    raw = sqlglot.transpile("SELECT try_strptime(x, '%d/%m/%Y') FROM t", read="duckdb",
                            write="spark")[0]
    assert "TRY_STRPTIME" in raw  # not a Spark function
    assert _select("try_strptime(trim(x), '%d/%m/%Y %H:%M:%S')") == (
        "SELECT TRY_TO_TIMESTAMP(TRIM(x), 'dd/MM/yyyy HH:mm:ss') AS v FROM t")
    with pytest.raises(ValueError, match="%j"):
        _select("try_strptime(x, '%j')")


def test_month_and_day_names_and_month_keys():
    assert _select("strftime(d, '%B')") == "SELECT DATE_FORMAT(d, 'MMMM') AS v FROM t"
    assert _select("strftime(d, '%A')") == "SELECT DATE_FORMAT(d, 'EEEE') AS v FROM t"
    assert _select("strftime(d, '%Y-%m')") == "SELECT DATE_FORMAT(d, 'yyyy-MM') AS v FROM t"


def test_isfinite_and_a_whole_row_as_json():
    assert _select("NOT isfinite(x)") == (
        "SELECT NOT NOT (ISNAN(x) OR ABS(x) = CAST('Infinity' AS DOUBLE)) AS v FROM t")
    assert dialect.to_spark("SELECT to_json(r) FROM t AS r") == [
        "SELECT TO_JSON(STRUCT(r.*)) FROM t AS r"]


def test_qualify_is_kept_so_no_row_number_leaks_into_select_star():
    out = dialect.to_spark("CREATE OR REPLACE VIEW s.v AS SELECT * EXCLUDE (a) FROM t "
                           "QUALIFY row_number() OVER (PARTITION BY k ORDER BY a) = 1")
    assert out == ["CREATE OR REPLACE VIEW s.v AS SELECT * EXCEPT (a) FROM t QUALIFY "
                   "ROW_NUMBER() OVER (PARTITION BY k ORDER BY a NULLS LAST) = 1"]


def test_create_or_replace_and_temporary_tables():
    assert dialect.to_spark("CREATE OR REPLACE TABLE marts.x AS SELECT 1 AS a") == [
        "DROP TABLE IF EXISTS marts.x", "CREATE TABLE marts.x USING parquet AS SELECT 1 AS a"]
    assert dialect.to_spark("CREATE OR REPLACE TEMP TABLE _x AS SELECT 1 AS a") == [
        "CREATE OR REPLACE TEMPORARY VIEW _x AS SELECT 1 AS a", "CACHE LAZY TABLE _x"]


def test_named_parameters_stay_named():
    assert _select("$batch") == "SELECT :batch AS v FROM t"


def test_every_model_translates():
    for name, text in _all_models().items():
        assert dialect.to_spark(text), name


def test_spark_engine_names_a_folder_without_extracts_and_exits_2(tmp_path, capsys):
    from crmkit.cli import main

    code = main(["warehouse", "build", str(tmp_path / "wh"), "--engine", "spark",
                 "--from", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "holds none of the expected files" in err and "Traceback" not in err
    assert not (tmp_path / "wh").exists()
