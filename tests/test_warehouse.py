"""The DuckDB warehouse: round trip, quarantine, idempotence, history, data tests, cubes."""

from __future__ import annotations

import hashlib
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.extracts import FILES, write_customer_changes, write_extracts
from crmkit.dataset.profiles import PROFILE_NAMES
from crmkit.dataset.schema import SCHEMA
from crmkit.dataset.synth import generate
from crmkit.errors import DatasetError, ParameterError
from crmkit.warehouse.build import (
    build_warehouse,
    customer_as_of,
    load_batch,
    load_report,
    quarantine,
    query,
    read_tables,
)
from crmkit.warehouse.checks import run_data_tests
from crmkit.warehouse.cube import ALL, cube, grouping_sets, pivot, rollup

ROUND_TRIP_TABLES = ("customers", "products", "orders", "order_lines", "campaigns",
                     "campaign_contacts", "web_sessions", "tickets")


#: Planted rows a warehouse no longer quarantines: a sale of a product (or by a customer) it
#: has no row for loads against an inferred member of that dimension (late-arriving).
INFERRED = ("unknown_product", "unknown_customer")


def _held(bad_rows: pd.DataFrame) -> pd.DataFrame:
    """The planted bad rows the warehouse must quarantine."""
    return bad_rows[~bad_rows["reason"].isin(INFERRED)]


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One small shop per profile: its data, extracts and warehouse, built once."""
    cache = {}

    def get(profile: str):
        if profile not in cache:
            root = tmp_path_factory.mktemp(profile)
            data = generate(profile, n_customers=220, seed=4)
            ex = write_extracts(data, root / "batch1", seed=6)
            db = build_warehouse(root / "batch1", root / "shop.duckdb")
            cache[profile] = (data, ex, db)
        return cache[profile]

    return get


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_round_trip_gives_back_the_original_tables(built, profile):
    data, _, db = built(profile)
    got = read_tables(db)
    # the planted sales of unknown products load (against an inferred product) on order
    # numbers nobody else uses: set them aside, and the rest is the original data
    inferred = query(db, "SELECT DISTINCT order_id FROM staging.order_lines "
                         "WHERE product_ref IS NOT NULL")["order_id"]
    assert len(inferred) == (ex_planted := (built(profile)[1]["bad_rows"]["reason"]
                                            == "unknown_product").sum())
    assert not inferred.isin(data.orders["order_id"]).any() and ex_planted > 0
    for name in ("orders", "order_lines"):
        got[name] = got[name][~got[name]["order_id"].isin(inferred)].reset_index(drop=True)
    for name in ROUND_TRIP_TABLES:
        want = data.tables[name].sort_values(list(SCHEMA[name].key), kind="stable")
        if name == "orders":  # the extracts record no refunds: a return's refund is not in them
            want = want.assign(refunded_cents=pd.array([0] * len(want), dtype="Int64"))
        pd.testing.assert_frame_equal(got[name], want.reset_index(drop=True), obj=name)
    lines = data.order_lines
    fact = query(db, "SELECT sum(f.amount_cents) AS c, CAST(sum(f.net_amount) * 100 AS BIGINT) "
                     "AS r, count(*) AS n FROM marts.fact_order_line f "
                     "JOIN marts.dim_product p USING (product_key) WHERE NOT p.is_inferred")
    # money to the cent: the facts' exact decimals add up to the dataset's integer cents
    assert int(fact["c"][0]) == int(fact["r"][0]) == int(lines["amount_cents"].sum())
    assert int(fact["n"][0]) == len(lines)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_planted_bad_row_is_quarantined_with_its_reason(built, profile):
    _, ex, db = built(profile)
    got = quarantine(db)[["file", "line", "reason"]]
    want = _held(ex["bad_rows"])[["file", "line", "reason"]]
    both = want.merge(got, on=["file", "line"], how="outer", suffixes=("_want", "_got"))
    assert len(want) > 0
    pd.testing.assert_series_equal(both["reason_got"], both["reason_want"], check_names=False)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_load_report_balances_rows_read_loaded_and_quarantined(built, profile):
    _, ex, db = built(profile)
    report = load_report(db)
    assert set(report["file"]) == set(FILES)
    assert (report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"]).all()
    assert (report["rows_read"] == report["lines_in_file"] - 1).all()
    assert report["balanced"].all()
    assert report["rows_quarantined"].sum() == len(_held(ex["bad_rows"]))
    planted = ex["bad_rows"]
    for file, n in planted[planted["reason"] == "unknown_product"].groupby("file").size().items():
        assert int(report.set_index("file").loc[file, "rows_inferred"]) == n


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_data_test_passes_on_a_clean_build(built, profile):
    _, _, db = built(profile)
    result = run_data_tests(db)
    assert len(result) > 40
    assert result["status"].eq("pass").all(), result[result["status"] != "pass"]


def test_every_dimension_has_an_unknown_member_and_hash_keys(built):
    _, _, db = built("fashion_chain")
    for dim, key in (("dim_customer", "customer_key"), ("dim_product", "product_key"),
                     ("dim_channel", "channel_key"), ("dim_campaign", "campaign_key")):
        keys = query(db, f"SELECT {key} AS k FROM marts.{dim}")["k"]
        assert keys.str.fullmatch(r"[0-9a-f]{32}").all(), dim
        assert keys.isin([hashlib.md5(f"{dim[4:]}|unknown".encode()).hexdigest()]).sum() == 1
    guests = query(db, "SELECT count(*) AS n FROM marts.fact_order_line f JOIN "
                       "marts.dim_customer c USING (customer_key) JOIN marts.dim_product p "
                       "USING (product_key) WHERE c.customer_id = -1 AND NOT p.is_inferred")
    data = built("fashion_chain")[0]
    guest_lines = data.order_lines["order_id"].isin(
        data.orders.loc[data.orders["customer_id"].isna(), "order_id"]).sum()
    assert int(guests["n"][0]) == guest_lines > 0


def test_reloading_the_same_batch_changes_nothing(built, tmp_path):
    _, ex, db = built("boutique")
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(db, copy)
    before = _sha(copy)
    report = load_batch(copy, ex["directory"])
    assert _sha(copy) == before
    assert report["batch_id"].eq(ex["batch_id"]).all()
    # building twice from the same extracts gives the same marts
    again = build_warehouse(ex["directory"], tmp_path / "again.duckdb", batches=[
        ex["directory"]])
    a = query(db, "SELECT * FROM marts.fact_order_line ORDER BY order_id, line_number")
    b = query(again, "SELECT * FROM marts.fact_order_line ORDER BY order_id, line_number")
    pd.testing.assert_frame_equal(a, b)


def test_the_same_batch_id_with_other_content_is_refused(built, tmp_path):
    data, ex, db = built("boutique")
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(db, copy)
    other = write_extracts(data, tmp_path / "other", seed=99, batch_id=ex["batch_id"])
    with pytest.raises(DatasetError, match="already loaded with different files"):
        load_batch(copy, other["directory"])


@pytest.fixture(scope="module")
def history(built, tmp_path_factory):
    """A second legacy batch where customers moved or changed segment, and one e-mail changed."""
    data, _, db = built("sports_shop")
    root = tmp_path_factory.mktemp("history")
    customers = data.customers.copy()
    target = int(customers.loc[customers["email"].notna(), "customer_id"].iloc[0])
    customers.loc[customers["customer_id"] == target, "email"] = "new.address@example.com"
    changed = CRMData({**data.tables, "customers": customers}, data.manifest)
    second = write_customer_changes(changed, root / "batch2", as_of="2026-06-30", share=0.15,
                                    seed=8, card_seed=6)
    db2 = root / "shop.duckdb"
    shutil.copyfile(db, db2)
    report = load_batch(db2, second["directory"])
    return data, second, db2, report, target


def test_a_new_batch_appends_and_changed_customers_get_a_new_version(history):
    data, second, db, report, _ = history
    assert report["balanced"].all() and report["rows_quarantined"].sum() == 0
    dim = query(db, "SELECT * FROM marts.dim_customer WHERE customer_id <> -1")
    versions = dim.groupby("customer_id")["version"].max()
    moved = set(second["changes"]["customer_id"])
    assert set(versions[versions == 2].index) == moved
    assert versions.max() == 2
    assert int(dim["is_current"].sum()) == len(data.customers)
    batches = query(db, "SELECT count(DISTINCT _batch_id) AS n FROM raw.legacy_customers")
    assert int(batches["n"][0]) == 2  # raw keeps both batches: non-volatile
    assert run_data_tests(db)["status"].eq("pass").all()


def test_as_of_query_returns_the_attributes_of_that_day(history):
    data, second, db, _, _ = history
    ch = second["changes"]
    row = ch[ch["field"].isin(["city", "segment"])].iloc[0]
    cid, field, day = int(row["customer_id"]), row["field"], pd.Timestamp(row["changed_on"])
    before = customer_as_of(db, day - pd.Timedelta(days=1), customer_id=cid)
    after = customer_as_of(db, day, customer_id=cid)
    assert before[field].tolist() == [row["old"]]
    assert after[field].tolist() == [row["new"]]
    everyone = customer_as_of(db, "2025-06-30")
    signed = int((data.customers["signup_date"] <= "2025-06-30").sum())
    assert len(everyone) == signed and everyone["customer_id"].is_unique


def test_email_is_type_1_it_overwrites_every_version(history):
    _, _, db, _, target = history
    dim = query(db, f"SELECT version, email FROM marts.dim_customer WHERE customer_id = {target}")
    assert dim["email"].eq("new.address@example.com").all()


def test_facts_point_to_the_version_valid_when_they_happened(history):
    _, second, db, _, _ = history
    lines = query(db, """
        SELECT CAST(f.placed_at AS DATE) AS day, c.valid_from, c.valid_to, c.version
        FROM marts.fact_order_line f JOIN marts.dim_customer c USING (customer_key)
        WHERE c.customer_id <> -1""")
    assert (lines["day"] < lines["valid_to"]).all()
    assert ((lines["version"] == 1) | (lines["day"] >= lines["valid_from"])).all()
    months = query(db, """
        SELECT m.month, c.valid_from, c.valid_to, c.version FROM marts.fact_customer_month m
        JOIN marts.dim_customer c USING (customer_key) WHERE c.customer_id <> -1""")
    end = months["month"] + pd.offsets.MonthEnd(0)
    first = months["version"] == 1
    assert ((end < months["valid_to"]) & (first | (end >= months["valid_from"]))).all()


@pytest.mark.parametrize("fault, failing", [
    ("INSERT INTO marts.dim_product SELECT * FROM marts.dim_product LIMIT 1",
     "unique_marts.dim_product_product_key"),
    ("UPDATE marts.fact_order_line SET product_key = 'nope' WHERE line_number = 1",
     "relationship_marts.fact_order_line_product_key"),
    ("UPDATE marts.fact_ticket SET status = 'lost' WHERE ticket_id = 1",
     "accepted_values_marts.fact_ticket_status"),
    ("UPDATE marts.fact_order_line SET customer_key = NULL WHERE line_number = 2",
     "not_null_marts.fact_order_line_customer_key"),
    ("UPDATE marts.dim_customer SET is_current = TRUE WHERE customer_id IN "
     "(SELECT customer_id FROM marts.dim_customer WHERE version = 2)",
     "scd2_one_current_version"),
    ("UPDATE meta.load_report SET rows_loaded = rows_loaded + 1 WHERE file = 'pos_sales.csv'",
     "load_rows_balance"),
    ("UPDATE marts.fact_order_line SET gross_amount = 'NaN'::DOUBLE WHERE line_number = 3",
     "finite_marts.fact_order_line"),
    ("UPDATE marts.fact_order_line SET unit_price = 'inf'::DOUBLE WHERE line_number = 3",
     "finite_marts.fact_order_line"),
    ("UPDATE marts.fact_order_line SET discount = 5 WHERE line_number = 2",
     "order_line_values_in_range"),
    ("UPDATE marts.fact_order_line SET quantity = 1000000000000000 WHERE line_number = 2",
     "order_line_values_in_range"),
])
def test_each_data_test_fails_on_a_planted_fault(history, tmp_path, fault, failing):
    _, _, db, _, _ = history
    copy = tmp_path / "faulty.duckdb"
    shutil.copyfile(db, copy)
    con = duckdb.connect(str(copy))
    con.execute(fault)
    result = run_data_tests(con).set_index("test")
    con.close()
    assert result.loc[failing, "status"] == "fail"
    assert result.loc[failing, "failing_rows"] >= 1
    assert (result["status"] == "fail").sum() <= 3


def test_a_failed_build_leaves_the_old_warehouse_and_no_temp_file(built, tmp_path):
    _, ex, db = built("ice_cream")
    target = tmp_path / "shop.duckdb"
    shutil.copyfile(db, target)
    before = _sha(target)
    broken = tmp_path / "broken"
    shutil.copytree(ex["directory"], broken)
    text = (broken / "web_products.csv").read_text(encoding="utf-8").split("\n", 1)
    (broken / "web_products.csv").write_text("id,code\n" + text[1], encoding="utf-8")
    with pytest.raises(DatasetError, match="web_products.csv, line 1"):
        build_warehouse(broken, target)
    assert _sha(target) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_build_from_crmdata_loads_its_own_tables(tmp_path):
    data = generate("frozen_foods", n_customers=120, seed=2)
    db = build_warehouse(data, tmp_path / "w.duckdb")
    got = read_tables(db)
    for name in ROUND_TRIP_TABLES:
        want = data.tables[name].sort_values(list(SCHEMA[name].key), kind="stable")
        pd.testing.assert_frame_equal(got[name], want.reset_index(drop=True), obj=name)
    assert quarantine(db).empty
    assert set(load_report(db)["file"]) == {n for n in data.tables if n not in data.absent}
    assert run_data_tests(db)["status"].eq("pass").all()


def test_rollup_labels_subtotals_and_adds_up(built):
    _, _, db = built("fashion_chain")
    r = rollup(db, by=["year", "channel"])
    assert not r[["year", "channel"]].isna().any().any()
    total = r[(r["year"] == ALL) & (r["channel"] == ALL)]
    assert len(total) == 1 and total["level"].iloc[0] == 3
    detail = r[r["level"] == 0]
    assert detail["revenue"].sum() == pytest.approx(total["revenue"].iloc[0])
    fact = query(db, "SELECT sum(net_amount) AS r FROM marts.fact_order_line")["r"][0]
    assert total["revenue"].iloc[0] == pytest.approx(fact)


def test_cube_has_every_combination_of_subtotals(built):
    _, _, db = built("fashion_chain")
    c = cube(db, by=["department", "channel"], measures={"units": "sum(quantity)"})
    assert sorted(c["level"].unique()) == [0, 1, 2, 3]
    by_channel = c[c["department"] == ALL].set_index("channel")["units"]
    detail = c[c["level"] == 0].groupby("channel")["units"].sum()
    pd.testing.assert_series_equal(by_channel.drop(ALL).sort_index(), detail.sort_index(),
                                   check_names=False)


def test_grouping_sets_and_pivot_agree(built):
    _, _, db = built("sports_shop")
    g = grouping_sets(db, sets=[["department"], ["year"], []])
    assert set(g["level"]) == {1, 2, 3}
    p = pivot(db, rows="department", columns="year")
    by_dept = g[g["level"] == 1].set_index("department")["revenue"].sort_index()
    np.testing.assert_allclose(p.set_index("department")[ALL].sort_index(), by_dept)
    years = [c for c in p.columns if c not in ("department", ALL)]
    np.testing.assert_allclose(p[years].sum(axis=1), p[ALL])


def test_pivot_counts_distinct_orders_per_cell(built):
    _, _, db = built("sports_shop")
    p = pivot(db, rows="channel", columns="year", measure="count(DISTINCT order_id)")
    direct = query(db, "SELECT channel, count(DISTINCT order_id) AS n FROM marts.v_sales "
                       "GROUP BY 1").set_index("channel")["n"]
    np.testing.assert_array_equal(p.set_index("channel")[ALL].sort_index(),
                                  direct.sort_index())
    years = [c for c in p.columns if c not in ("channel", ALL)]
    assert (p[years].sum(axis=1) >= p[ALL]).all()  # an order is counted once per year


def test_snowflake_gives_the_same_answer_as_the_star(built):
    _, _, db = built("fashion_chain")
    star = query(db, "SELECT department, sum(net_amount) AS r FROM marts.v_sales "
                     "GROUP BY 1 ORDER BY 1")
    snow = query(db, "SELECT department, sum(net_amount) AS r FROM marts.v_sales_snowflake "
                     "GROUP BY 1 ORDER BY 1")
    pd.testing.assert_frame_equal(star, snow)


@pytest.mark.parametrize("call, word", [
    (lambda db: rollup(db, by=["colour"]), "colour"),
    (lambda db: cube(db, by=["year"], kind="pyramid"), "kind"),
    (lambda db: pivot(db, rows="year", columns="channel", measure="net_amount"), "measure"),
    (lambda db: customer_as_of(db, "yesterday-ish"), "day"),
])
def test_mistakes_get_errors_that_name_the_parameter(built, call, word):
    _, _, db = built("boutique")
    with pytest.raises(ParameterError, match=word):
        call(db)


def test_a_missing_warehouse_or_folder_is_named(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_report(tmp_path / "nope.duckdb")
    with pytest.raises(DatasetError, match="none of the expected files"):
        build_warehouse(tmp_path, tmp_path / "w.duckdb")


def test_money_in_the_facts_is_exact_decimal_never_double(built):
    _, _, db = built("boutique")
    types = query(db, "SELECT table_name, column_name, data_type FROM duckdb_columns() "
                      "WHERE schema_name = 'marts' AND column_name IN ('net_amount', "
                      "'shipping_amount', 'refunded_amount', 'revenue', 'revenue_to_date', "
                      "'amount_cents')")
    assert set(types["table_name"]) >= {"fact_order_line", "fact_customer_month", "v_sales"}
    for row in types.itertuples():  # a DECIMAL holds no NaN and adds up exactly
        assert row.data_type.startswith(("DECIMAL", "BIGINT")), row
