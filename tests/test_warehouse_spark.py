"""The warehouse built by Spark (local[2]) equals the one built by DuckDB, row for row.

Both engines run the same model statements (crmkit.warehouse.dialect translates them for
Spark); the shop has bad rows on purpose: a customer row with a value the schema does not
allow (quarantined; that customer's sales load against an inferred member) and a product
row removed (its sales load against an inferred product).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")
pytest.importorskip("sqlglot")

from hand_edit import unseal  # noqa: E402
from once import built_once  # noqa: E402

from crmkit.dataset.synth import generate  # noqa: E402
from crmkit.warehouse.build import build_warehouse, connect  # noqa: E402
from crmkit.warehouse.checks import run_data_tests  # noqa: E402

spark_mod = pytest.importorskip("crmkit.warehouse.spark")
try:
    spark_mod.check_java()
except Exception as exc:  # noqa: BLE001 - the message says how to install Java
    pytest.skip(f"no Java for Spark: {exc}", allow_module_level=True)


def _damaged_shop(folder: Path) -> Path:
    data = generate("boutique", n_customers=60, seed=8)
    shop = data.save(folder)
    text = (shop / "customers.csv").read_text(encoding="utf-8").split("\n")
    header = text[0].split(",")
    fields = next(csv.reader([text[5]]))
    fields[header.index("segment")] = "gold"  # not allowed: the row is quarantined
    text[5] = ",".join(f'"{f}"' if "," in f else f for f in fields)
    (shop / "customers.csv").write_text("\n".join(text), encoding="utf-8")
    with open(shop / "products.csv", newline="", encoding="utf-8") as f:
        products = list(csv.DictReader(f))
    with open(shop / "order_lines.csv", newline="", encoding="utf-8") as f:
        sold = {r["product_id"] for r in csv.DictReader(f)}
    gone = sorted(sold)[0]
    with open(shop / "products.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(products[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(r for r in products if r["product_id"] != gone)
    return unseal(shop)


def _build(root: Path) -> None:
    shop = _damaged_shop(root / "shop")
    build_warehouse(shop, root / "w.duckdb")
    spark_mod.build_spark(shop, root / "wh", master="local[2]")


@pytest.fixture(scope="module")
def built(tmp_path_factory, worker_id):
    root = built_once(tmp_path_factory, worker_id, "spark", _build)
    spark = spark_mod.open_session(root / "wh")
    yield root / "w.duckdb", spark
    spark.stop()


def _value(v):
    """One cell, the same whichever engine produced it (exact for decimals and integers)."""
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):  # Spark hands a nullable integer over as a float
        return Decimal(int(v)).quantize(Decimal("1e-6"))
    if isinstance(v, Decimal):
        return v.quantize(Decimal("1e-6"))
    if isinstance(v, (float, np.floating)):
        return v if math.isinf(v) else Decimal(repr(float(v))).quantize(Decimal("1e-6"))
    if isinstance(v, (dt.date, dt.datetime, pd.Timestamp, np.datetime64)):
        return pd.Timestamp(v).isoformat()
    return str(v)


def _rows(df: pd.DataFrame, drop=()) -> list[tuple]:
    df = df.drop(columns=list(drop))
    rows = [tuple(_value(v) for v in r) for r in df.astype(object).itertuples(index=False)]
    return sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))


def _tables(db) -> list[str]:
    con = connect(db)
    names = [f"{s}.{t}" for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('staging', 'marts', 'meta') ORDER BY 1, 2").fetchall()]
    con.close()
    return names


def test_every_staging_and_mart_table_is_equal_row_for_row(built):
    db, spark = built
    names = _tables(db)
    assert {"marts.fact_order_line", "marts.dim_customer", "staging.customer_rows",
            "staging.orders_current", "marts.v_sales", "meta.load_report"} <= set(names)
    con = connect(db)
    for name in names:
        if name in ("meta.batches",):  # loaded_at is the clock of each build
            continue
        duck = con.execute(f"SELECT * FROM {name}").df()
        spk = spark.table(name).toPandas()
        assert list(spk.columns) == list(duck.columns), name
        assert len(spk) == len(duck), name
        assert _rows(spk) == _rows(duck), name
    con.close()


def test_the_shop_has_the_bad_rows_the_comparison_is_about(built):
    db, spark = built
    con = connect(db)
    reasons = con.execute("SELECT file, reason FROM quarantine.rows").fetchall()
    inferred = con.execute("SELECT count(*) FROM marts.dim_product WHERE is_inferred"
                           ).fetchall()[0][0]
    con.close()
    assert ("customers.csv", "invalid_value") in reasons
    assert inferred == 1
    spk = spark.table("quarantine.rows").toPandas()
    assert sorted(map(tuple, spk[["file", "line", "reason"]].values.tolist())) == sorted(
        map(tuple, connect(db).execute("SELECT file, line, reason FROM quarantine.rows")
            .df().values.tolist()))


def test_the_same_data_tests_pass_on_both(built):
    db, spark = built
    duck = run_data_tests(db)
    spk = spark_mod.run_spark_data_tests(spark)
    assert spk[["test", "status", "failing_rows"]].values.tolist() == \
        duck[["test", "status", "failing_rows"]].values.tolist()
    assert (spk["status"] == "pass").all()


def test_spark_dialect_translations_hold_when_run(built):
    """The corrected translations give Spark the values Python gives (independent truth)."""
    _, spark = built
    from crmkit.warehouse.dialect import to_spark

    sunday, monday = dt.date(2024, 12, 1), dt.date(2024, 12, 2)
    (sql,) = to_spark("SELECT isodow($d) AS w, isodow($m) AS m, "
                      "try_strptime(trim($t), '%d/%m/%Y %H:%M:%S') AS ts, "
                      "try_strptime($bad, '%d/%m/%Y') AS bad, ltrim('##12', '#') AS o")
    row = spark.sql(sql, args={"d": sunday, "m": monday, "t": " 01/02/2020 10:11:12 ",
                               "bad": "31/02/2020"}).collect()[0]
    assert (row.w, row.m) == (sunday.isoweekday(), monday.isoweekday()) == (7, 1)
    assert row.ts == dt.datetime(2020, 2, 1, 10, 11, 12)
    assert row.bad is None and row.o == "12"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_java_missing_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    with pytest.raises(Exception, match="openjdk-17-jre-headless"):
        spark_mod.check_java()


def test_folder_layout_is_parquet_per_table(built, tmp_path):
    db, spark = built
    del db
    path = Path(spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:"))
    assert any((path / "marts.db" / "fact_order_line").glob("*.parquet"))
