"""One shop from source extracts, built by DuckDB and by Spark local[2]: the same warehouse.

Two batches: the first with the extracts' planted bad rows (malformed lines, bad values,
unknown products and cards), the second a later customer sheet where customers moved
city or changed segment (type 2 history), with two web order lines re-sent (one returned
since, one moved to another customer) and the sheet row of a customer the first batch
lacked. Both warehouses are built at UTC+14. Every raw, staging and mart table, the load
report, the quarantine, the cubes and the data tests must be equal; so must the RFM
summary, scores, segments, cohort tables and the BTYD inputs Spark computes against the
pandas path run on the DuckDB warehouse's tables. The warehouses are built once per test
run (tests/once.py); one Spark session serves the module in each worker.
"""

from __future__ import annotations

import csv
import json
import os
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")
pytest.importorskip("sqlglot")

from once import built_once  # noqa: E402
from test_warehouse_orders_current import drop_customer_row, write_resent  # noqa: E402
from test_warehouse_spark import _rows  # noqa: E402

from crmkit.analytics import spark_models as sm  # noqa: E402
from crmkit.analytics.clv import (  # noqa: E402
    BetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
)
from crmkit.analytics.cohorts import METRICS, cohort_table  # noqa: E402
from crmkit.analytics.rfm import rfm_scores, rfm_summary  # noqa: E402
from crmkit.analytics.segments import assign_segments, segment_summary  # noqa: E402
from crmkit.analytics.warehouse_models import warehouse_purchases  # noqa: E402
from crmkit.dataset.crmdata import CRMData  # noqa: E402
from crmkit.dataset.extracts import write_customer_changes, write_extracts  # noqa: E402
from crmkit.dataset.synth import generate  # noqa: E402
from crmkit.warehouse.build import build_warehouse, connect, read_tables  # noqa: E402
from crmkit.warehouse.checks import run_data_tests  # noqa: E402
from crmkit.warehouse.cube import cube, grouping_sets, rollup  # noqa: E402

spark_mod = pytest.importorskip("crmkit.warehouse.spark")
try:
    spark_mod.check_java()
except Exception as exc:  # noqa: BLE001 - the message says how to install Java
    pytest.skip(f"no Java for Spark: {exc}", allow_module_level=True)


def _build(root) -> None:
    """Both warehouses of the shop, and the truth of its batches (``truth.json`` and the
    customer changes as Parquet). Built on a machine at UTC+14 (the process's zone and the
    JVM's): both engines are pinned to UTC, so nothing may depend on it."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Kiritimati"
    time.tzset()
    try:
        _build_both(root)
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def _build_both(root) -> None:
    started = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    data = generate("boutique", n_customers=70, seed=4)
    write_extracts(data, root / "b1", seed=6)
    second = write_customer_changes(data, root / "b2", as_of="2026-06-30", share=0.2,
                                    seed=8, card_seed=6)
    resent = write_resent(root / "b1", root / "b2")  # a returned line, a moved line
    _arrive_late(root / "b1", root / "b2")
    second["changes"].to_parquet(root / "changes.parquet")
    (root / "truth.json").write_text(json.dumps(sorted(resent)), encoding="utf-8")
    build_warehouse(root / "b1", root / "w.duckdb", batches=[root / "b2"])
    spark_mod.build_spark(root / "b1", root / "wh", batches=[root / "b2"],
                          master="local[2]")
    finished = datetime.now(UTC).replace(tzinfo=None)
    (root / "clock.json").write_text(json.dumps([started.isoformat(), finished.isoformat()]),
                                     encoding="utf-8")


def _arrive_late(first, second) -> None:
    """Drop from the first batch's customer sheet the row of a customer with web orders
    (not one of the re-sent orders'): their row arrives with the second batch's sheet."""
    with open(second / "web_orders.csv", newline="", encoding="utf-8") as f:
        resent = {r["order_number"] for r in csv.DictReader(f)}
    with open(first / "web_orders.csv", newline="", encoding="utf-8") as f:
        web = list(csv.DictReader(f))
    avoid = {r["customer_email"].lower() for r in web if r["order_number"] in resent}
    with open(second / "web_orders.csv", newline="", encoding="utf-8") as f:
        avoid |= {r["customer_email"].lower() for r in csv.DictReader(f)}
    email = next(r["customer_email"].lower() for r in reversed(web)
                 if r["customer_email"] and r["customer_email"].lower() not in avoid)
    drop_customer_row(first, email)


@pytest.fixture(scope="module")
def shop(tmp_path_factory, worker_id):
    """DuckDB file, Spark session on the Spark folder, and the batches' truth."""
    root = built_once(tmp_path_factory, worker_id, "spark_extracts", _build)
    spark = spark_mod.open_session(root / "wh", master="local[2]")
    yield {"db": root / "w.duckdb", "spark": spark,
           "changes": pd.read_parquet(root / "changes.parquet"),
           "resent": json.loads((root / "truth.json").read_text(encoding="utf-8")),
           "clock": [datetime.fromisoformat(t) for t in json.loads(
               (root / "clock.json").read_text(encoding="utf-8"))]}
    spark.stop()


def test_both_engines_stamp_the_loads_in_utc(shop):
    """The builds ran at UTC+14: every load time is still between the UTC clock's start and
    end of the builds, in both engines (meta.batches and each raw table's rows)."""
    start, end = shop["clock"]
    con = connect(shop["db"])
    duck = [r[0] for r in con.execute("SELECT loaded_at FROM meta.batches").fetchall()]
    duck += [r[1] for r in con.execute(  # one stamp per batch
        "SELECT DISTINCT _batch_id, _loaded_at FROM raw.legacy_customers").fetchall()]
    con.close()
    spark = shop["spark"]
    spk = [r[0] for r in spark.sql(
        "SELECT date_format(loaded_at, 'yyyy-MM-dd HH:mm:ss') FROM meta.batches "
        "UNION ALL SELECT date_format(_loaded_at, 'yyyy-MM-dd HH:mm:ss') FROM "
        "(SELECT DISTINCT _batch_id, _loaded_at FROM raw.legacy_customers)").collect()]
    assert len(duck) == len(spk) == 4
    for stamp in duck + [datetime.fromisoformat(s) for s in spk]:
        assert start <= stamp <= end, (stamp, start, end)


def _names(db, schemas) -> list[str]:
    con = connect(db)
    names = [f"{s}.{t}" for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_schema IN ({', '.join('?' for _ in schemas)}) ORDER BY 1, 2",
        list(schemas)).fetchall()]
    con.close()
    return names


def test_the_shop_has_bad_rows_history_and_a_customer_who_moved(shop):
    con = connect(shop["db"])
    reasons = {r[0] for r in con.execute("SELECT DISTINCT reason FROM quarantine.rows")
               .fetchall()}
    moved = con.execute("SELECT count(DISTINCT customer_id) FROM marts.dim_customer "
                        "WHERE version = 2").fetchall()[0][0]
    cities = con.execute("SELECT count(*) FROM (SELECT customer_id FROM marts.dim_customer "
                         "WHERE customer_id <> -1 GROUP BY customer_id "
                         "HAVING count(DISTINCT city) > 1)").fetchall()[0][0]
    batches = con.execute("SELECT count(*) FROM meta.batches").fetchall()[0][0]
    con.close()
    assert {"malformed_line", "unparseable_date", "negative_price"} <= reasons
    assert batches == 2 and moved >= 1 and cities >= 1
    changed = shop["changes"]
    assert (changed["field"] == "city").any()
    # the re-sent lines: each of those orders now has lines that disagree
    con = connect(shop["db"])
    mixed = {r[0] for r in con.execute(
        "SELECT order_id FROM staging.order_lines GROUP BY order_id "
        "HAVING count(DISTINCT status) > 1 OR count(DISTINCT customer_id) > 1").fetchall()}
    # the customer whose sheet row came only with the second batch owns their orders
    late = con.execute(
        "SELECT count(DISTINCT o.order_id) FROM staging.orders_current o "
        "JOIN staging.order_lines l USING (order_id) "
        "WHERE l.customer_id IS NULL AND o.customer_id IS NOT NULL").fetchall()[0][0]
    con.close()
    assert mixed == set(shop["resent"])
    assert late >= 1


def test_every_raw_staging_and_mart_table_is_equal_row_for_row(shop):
    db, spark = shop["db"], shop["spark"]
    names = _names(db, ("raw", "staging", "marts", "meta"))
    assert {"raw.legacy_customers", "staging.customer_rows", "marts.dim_customer",
            "marts.fact_order_line", "meta.load_report", "meta.files"} <= set(names)
    con = connect(db)
    for name in names:
        if name == "meta.batches":  # loaded_at is each build's clock
            continue
        drop = ["_loaded_at"] if name.startswith("raw.") else []
        duck = con.execute(f"SELECT * FROM {name}").df()
        spk = spark.table(name).toPandas()
        assert list(spk.columns) == list(duck.columns), name
        assert len(spk) == len(duck), name
        assert _rows(spk, drop) == _rows(duck, drop), name
    con.close()


def _record(text: str) -> dict:
    """A quarantined record: JSON of the raw row (the load clock left out: each build has
    its own), or the line as read."""
    try:
        rec = json.loads(text)
    except (TypeError, ValueError):
        return {"line": text}
    return {k: v for k, v in rec.items() if k != "_loaded_at"}


def test_quarantine_and_load_report_are_the_same(shop):
    db, spark = shop["db"], shop["spark"]
    con = connect(db)
    duck = con.execute("SELECT * FROM quarantine.rows").df()
    report = con.execute("SELECT * FROM meta.load_report").df()
    con.close()
    spk = spark.table("quarantine.rows").toPandas()

    def keyed(df):
        return sorted((r.batch_id, r.file, int(r.line), r.reason, _record(r.record))
                      for r in df.itertuples(index=False)) if len(df) else []

    assert len(duck) >= 5 and keyed(spk) == keyed(duck)
    malformed = duck[duck["reason"] == "malformed_line"]
    assert len(malformed) >= 1
    spark_report = spark.table("meta.load_report").toPandas()
    assert _rows(spark_report) == _rows(report)
    assert (spark_report["rows_read"] == spark_report["rows_loaded"]
            + spark_report["rows_quarantined"]).all()


def test_the_same_data_tests_pass_on_both(shop):
    duck = run_data_tests(shop["db"])
    spk = spark_mod.run_spark_data_tests(shop["spark"])
    assert spk[["test", "status", "failing_rows"]].values.tolist() == \
        duck[["test", "status", "failing_rows"]].values.tolist()
    assert (spk["status"] == "pass").all()


@pytest.mark.parametrize("kind,args", [
    ("cube", {"by": ["channel", "year"]}),
    ("rollup", {"by": ["department", "category"]}),
    ("grouping_sets", {"sets": [["channel"], ["department"], []]}),
])
def test_every_cube_is_equal(shop, kind, args):
    duck = {"cube": cube, "rollup": rollup, "grouping_sets": grouping_sets}[kind](
        shop["db"], **args)
    spk = spark_mod.spark_cube(shop["spark"], kind=kind, **args)
    assert len(duck) > 3 and list(spk.columns) == list(duck.columns)
    assert _rows(spk) == _rows(duck)
    # the grand total is the facts' revenue, to the cent
    con = connect(shop["db"])
    total = con.execute("SELECT sum(net_amount) FROM marts.v_sales").fetchall()[0][0]
    con.close()
    top = spk[spk["level"] == spk["level"].max()]
    assert top["revenue"].iloc[0] == total


# ----------------------------------------------------------------------------- models
@pytest.fixture(scope="module")
def pandas_path(shop):
    """The pandas path on the DuckDB warehouse's integrated tables."""
    data = CRMData(read_tables(shop["db"]), {"shop_name": "extracts", "currency": "EUR"})
    summary = rfm_summary(data)
    return data, summary


def test_rfm_summary_is_equal_to_the_cent(shop, pandas_path):
    _, want = pandas_path
    got = sm.to_summary_frame(sm.spark_rfm_summary(shop["spark"]))
    assert list(got.columns) == list(want.columns)
    assert got.index.tolist() == want.index.tolist() and len(got) > 20
    for col in ("frequency", "orders", "recency_days", "total_spend_cents",
                "repeat_spend_cents"):
        assert got[col].astype(np.int64).tolist() == want[col].astype(np.int64).tolist(), col
    for col in ("recency", "T", "monetary_value", "total_spend"):
        assert np.array_equal(got[col].to_numpy(float), want[col].to_numpy(float)), col
    for col in ("first_purchase", "last_purchase"):
        assert (got[col].to_numpy() == want[col].to_numpy()).all(), col
    # independent truth: total spend is the facts' net amount of the orders that count
    assert int(want["total_spend_cents"].sum()) > 0


def test_the_purchases_do_not_depend_on_this_machines_time_zone(shop, monkeypatch):
    """Spark is pinned to UTC, but a Python datetime handed to it (or collected from it) is
    read in the machine's local time: far east of UTC, the as-of day's last hours would be
    cut off. The as-of day here has an order that counts placed after noon UTC."""
    con = connect(shop["db"])
    day, order = con.execute(
        "SELECT CAST(placed_at AS DATE), order_id FROM staging.orders_current "
        "WHERE hour(placed_at) >= 12 AND status = 'delivered' AND customer_id IS NOT NULL "
        "ORDER BY placed_at DESC LIMIT 1").fetchone()
    con.close()
    want = warehouse_purchases(shop["db"], as_of=day)
    assert order in set(want["order_id"])
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    try:
        got = sm.spark_customer_purchases(shop["spark"], as_of=day).toPandas()
    finally:
        monkeypatch.undo()
        time.tzset()
    got = got.sort_values("order_id", ignore_index=True)
    assert got["order_id"].tolist() == want["order_id"].tolist()
    assert got["value_cents"].tolist() == want["value_cents"].tolist()
    assert got["customer_id"].tolist() == want["customer_id"].tolist()


def test_scores_segments_and_their_summary_are_equal(shop, pandas_path):
    spark = shop["spark"]
    _, summary = pandas_path
    want = assign_segments(rfm_scores(summary))
    scored = sm.spark_segments(spark, sm.spark_rfm_scores(spark, sm.spark_rfm_summary(spark)))
    got = scored.toPandas().set_index("customer_id").sort_index()
    for col in ("r_score", "f_score", "m_score", "rfm_code"):
        assert got[col].tolist() == want[col].tolist(), col
    assert got["segment"].tolist() == want["segment"].astype(str).tolist()
    s_want = segment_summary(want)
    s_got = sm.spark_segment_summary(scored)
    assert s_got["customers"].tolist() == s_want["customers"].tolist()
    assert s_got["label"].tolist() == s_want["label"].tolist()
    pd.testing.assert_frame_equal(s_got.drop(columns=["customers"]),
                                  s_want.drop(columns=["customers"]), rtol=1e-12)


@pytest.mark.parametrize("metric", METRICS)
def test_cohort_tables_are_equal(shop, pandas_path, metric):
    data, _ = pandas_path
    want = cohort_table(data, metric=metric)
    got = sm.spark_cohort_table(shop["spark"], metric=metric)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def _outcome(model, X):
    """The fitted model, or the error that says the data cannot identify it."""
    from crmkit.errors import ModelError

    try:
        return model().fit(X)
    except ModelError as err:
        return f"{type(err).__name__}: {err}"


def test_btyd_inputs_fit_as_the_customers_they_count(shop, pandas_path):
    _, summary = pandas_path
    spark_summary = sm.spark_rfm_summary(shop["spark"])
    counts = sm.btyd_inputs(spark_summary)
    assert int(counts["customers"].sum()) == len(summary)
    assert len(counts) <= len(summary)  # never more rows than customers
    # independent truth: the counts are those of the pandas summary's distinct triples
    want = summary.groupby(["frequency", "recency", "T"]).size()
    got = counts.set_index(["frequency", "recency", "T"])["customers"]
    assert got.to_dict() == want.to_dict()
    fitted = 0
    for model in (BetaGeo, ModifiedBetaGeo, ParetoNBD):
        one, many = _outcome(model, summary), _outcome(model, counts)
        if isinstance(one, str):  # the data cannot identify it: the counts say the same
            assert many == one, model.__name__
            continue
        fitted += 1
        for k, v in one.params_.items():
            assert many.params_[k] == pytest.approx(v, rel=1e-6, abs=1e-6), k
        assert many.log_likelihood_ == pytest.approx(one.log_likelihood_, rel=1e-9)
        assert many.n_customers_ == one.n_customers_ == len(summary)
    assert fitted >= 1
    spend = sm.spend_inputs(spark_summary)
    gg, gg_w = GammaGamma().fit(summary), GammaGamma().fit(spend)
    for k, v in gg.params_.items():
        assert gg_w.params_[k] == pytest.approx(v, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("text", ["JOSÉ MARÍA", "o'brien", "ángel  de la  fuente",
                                  " ñ ", "VILLANUEVA DE LA SERENA", "x"])
def test_title_case_is_the_same_on_both_engines(shop, text):
    """The models' title case (DuckDB list functions) runs on Spark as INITCAP."""
    import duckdb

    from crmkit.warehouse.dialect import to_spark
    from crmkit.warehouse.sql import _TITLE, _f

    sql = f"SELECT {_f(_TITLE, '$t')} AS t"
    want = duckdb.connect().execute(sql.replace("$t", "$1"), [text]).fetchall()[0][0]
    (spark_sql,) = to_spark(sql)
    got = shop["spark"].sql(spark_sql, args={"t": text}).collect()[0][0]
    assert got == want
