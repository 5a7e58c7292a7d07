"""Notebook 02's helpers and exercises: reference answers pass, wrong ones do not, SQL is safe."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.dataset.extracts import write_customer_changes, write_extracts
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError
from crmkit.grading.keys import answer as answer_key
from crmkit.lessons.concept_lessons import FIVE_SHOPS_CUSTOMERS
from crmkit.lessons.lesson02 import (
    EXERCISES,
    count_joins,
    exercise_book,
    history_city,
    last_year,
    lines_at,
    peek,
    run_sql,
    table_counts,
    timed_query,
    workshop,
)
from crmkit.warehouse.build import build_warehouse, customer_as_of, load_batch, query


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A small shop taken through the lesson: two batches loaded into the warehouse."""
    w = workshop(generate("sports_shop", n_customers=200, seed=5),
                 warehouse_dir=tmp_path_factory.mktemp("lesson02"), seed=9)
    write_extracts(w.crm, w.batch1, seed=w.seed)
    build_warehouse(w.batch1, w.warehouse)
    write_customer_changes(w.crm, w.batch2, as_of=w.extracted_at(1) + pd.Timedelta(days=90),
                           share=0.1, seed=w.seed, card_seed=w.seed)
    load_batch(w.warehouse, w.batch2)
    return w


def _city_answer(w):
    then = customer_as_of(w.warehouse, w.snapshot_day)
    return int((then["city"] == history_city(w.crm)).sum())


def _dice_sql(w):
    return (f"SELECT sum(net_amount) FROM marts.v_sales WHERE segment = 'premium' "
            f"AND year = {last_year(w.crm)}")


def _romero_orders(w):
    """Helados Romero's orders as Actividad 6.5 compares them: the ice-cream profile, 400
    customers, the workshop's seed and period."""
    return generate("ice_cream", n_customers=FIVE_SHOPS_CUSTOMERS, seed=w.seed,
                    start=w.crm.manifest.get("start", "2024-01-01"),
                    end=w.crm.manifest.get("end", "2025-12-31")).orders


# The notebook's own solutions, written independently of the expected values.
SOLUTIONS = {
    "romero_guest_share": lambda w: float(_romero_orders(w)["customer_id"].isna().sum()
                                          / len(_romero_orders(w))),
    "premium_rows": lambda w: int(pd.read_csv(w.batch1 / "legacy_customers.csv", dtype=str)[
        "Segment"].str.strip().str.casefold().eq("premium").sum()),
    "quarantined_dates": lambda w: "SELECT line FROM quarantine.rows WHERE reason = "
    "'unparseable_date' AND file IN ('pos_sales.csv', 'web_orders.csv')",
    "both_channels": lambda w: "SELECT count(*) FROM (SELECT c.customer_id FROM "
    "marts.fact_order_line f JOIN marts.dim_customer c USING (customer_key) WHERE "
    "c.customer_id <> -1 GROUP BY 1 HAVING count(DISTINCT f.source_system) = 2)",
    "top_units_department": lambda w: "SELECT p.department FROM marts.fact_order_line f "
    "JOIN marts.dim_product p USING (product_key) GROUP BY 1 ORDER BY sum(f.quantity) DESC "
    "LIMIT 1",
    "city_back_then": _city_answer,
    "raw_batches": lambda w: "SELECT DISTINCT _batch_id FROM raw.legacy_customers",
    "snowflake_top_category": lambda w: "SELECT sum(f.net_amount) AS r FROM "
    "marts.fact_order_line f JOIN marts.snow_product p USING (product_key) JOIN "
    "marts.snow_category c USING (category_key) GROUP BY c.category_key "
    "ORDER BY r DESC LIMIT 1",
    "dice_premium_last_year": _dice_sql,
    "guest_lines": lambda w: "SELECT count(*) FROM marts.fact_order_line f JOIN "
    "marts.dim_customer c USING (customer_key) WHERE c.customer_id = -1",
}

WRONG = {
    "romero_guest_share": lambda w: float(_romero_orders(w)["customer_id"].isna().sum()
                                          / _romero_orders(w)["customer_id"].notna().sum()),
    # guests over known customers' orders, not over all orders
    "premium_rows": lambda w: int(pd.read_csv(w.batch1 / "legacy_customers.csv", dtype=str)[
        "Segment"].eq("premium").sum()),  # forgot the capitals
    "quarantined_dates": lambda w: "SELECT line FROM quarantine.rows "
    "WHERE reason = 'unparseable_date'",  # the spreadsheet's line too
    "both_channels": lambda w: "SELECT count(DISTINCT customer_key) FROM marts.fact_order_line",
    "top_units_department": lambda w: "SELECT p.department FROM marts.fact_order_line f "
    "JOIN marts.dim_product p USING (product_key) GROUP BY 1 ORDER BY sum(f.quantity) LIMIT 1",
    "city_back_then": lambda w: int((w.crm.customers["city"] == history_city(w.crm)).sum()
                                    + 1000),
    "raw_batches": lambda w: "SELECT DISTINCT _batch_id FROM raw.pos_sales",
    "snowflake_top_category": lambda w: "SELECT sum(f.net_amount) AS r FROM "
    "marts.fact_order_line f JOIN marts.snow_product p USING (product_key) JOIN "
    "marts.snow_category c USING (category_key) JOIN marts.snow_department d "
    "USING (department_key) GROUP BY d.department ORDER BY r DESC LIMIT 1",  # departments
    "dice_premium_last_year": lambda w: "SELECT sum(net_amount) FROM marts.v_sales "
    "WHERE segment = 'premium'",
    "guest_lines": lambda w: "SELECT count(*) FROM marts.fact_order_line",
}


def test_every_exercise_has_a_solution_and_a_wrong_answer():
    names = [e.name for e in EXERCISES if e.kind == "compute"]  # decide: test_judgement_*
    assert set(names) == set(SOLUTIONS) == set(WRONG)
    assert len(names) >= 5
    assert sum(e.convert is not None for e in EXERCISES) >= 2


@pytest.mark.parametrize("name", list(SOLUTIONS))
def test_reference_solution_is_judged_correct(ws, name):
    book = exercise_book(ws, "en")
    assert book.judge(name, SOLUTIONS[name](ws)).status == "correct"


@pytest.mark.parametrize("name", list(WRONG))
def test_a_wrong_answer_is_not_judged_correct(ws, name):
    book = exercise_book(ws, "en")
    assert book.judge(name, WRONG[name](ws)).status in ("incorrect", "close", "wrong_shape")


def test_expected_values_agree_with_the_original_data(ws):
    book = exercise_book(ws, "en")
    premium = int((ws.crm.customers["segment"] == "premium").sum())
    # the file also holds a few planted copies and fakes of real rows (at most five)
    assert premium <= answer_key(book, "premium_rows") <= premium + 5
    guests = query(ws.warehouse, SOLUTIONS["guest_lines"](ws)).iat[0, 0]
    assert answer_key(book, "guest_lines") == guests > 0
    assert len(answer_key(book, "quarantined_dates")) == 4  # two per order file, as planted


@pytest.mark.parametrize("answer, detail", [
    ("SELEC count(*) FROM marts.dim_date", "Parser"),
    ("SELECT count(*) FROM marts.no_such_table", "no_such_table"),
    (42, "as a text"),
    ("women", "answers are run as SQL"),
    ("SELECT count(*) FROM marts.dim_customer WHERE 1 = 0 GROUP BY segment", "no rows"),
    ("SELECT max(net_amount) FROM marts.v_sales WHERE segment = 'Premium'", "returned NULL"),
])
def test_sql_that_cannot_run_gets_a_friendly_invalid_verdict(ws, answer, detail):
    verdict = exercise_book(ws, "en").judge("guest_lines", answer)
    assert verdict.status == "invalid"
    assert detail in verdict.message
    assert "book.hint('guest_lines')" in verdict.message


def test_sql_answers_cannot_change_the_warehouse(ws):
    before = table_counts(ws.warehouse)
    verdict = exercise_book(ws, "es").judge("guest_lines", "DELETE FROM marts.dim_date")
    assert verdict.status == "invalid" and "no se ha podido usar" in verdict.message
    pd.testing.assert_frame_equal(table_counts(ws.warehouse), before)


def test_run_sql_returns_a_value_a_list_or_a_table(ws):
    assert run_sql(ws, "SELECT 2 + 3") == 5
    assert run_sql(ws, "SELECT * FROM (VALUES (1), (2)) v(x) ORDER BY x") == [1, 2]
    assert run_sql(ws, "SELECT 1 AS a, 2 AS b").shape == (1, 2)


def test_workshop_uses_a_temporary_folder_by_default_and_checks_the_parameter(tmp_path):
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    w = workshop(None)
    assert w.root.is_dir() and repo not in w.root.parents
    nested = workshop(None, warehouse_dir=tmp_path / "a" / "b")
    assert nested.root.is_dir() and nested.warehouse == tmp_path / "a" / "b" / "shop.duckdb"
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    with pytest.raises(ParameterError, match="warehouse_dir=.* is a file"):
        workshop(None, warehouse_dir=a_file)


def test_peek_and_lines_at_show_the_file_as_written(ws):
    lines = peek(ws.batch1 / "pos_sales.csv", n=2)
    assert len(lines) == 3 and lines[0].startswith("ticket;linea;fecha")
    assert ";" in lines[1] and "," in lines[1]  # separator and decimal comma
    at = lines_at(ws.batch1 / "pos_sales.csv", [1, 2])
    assert at["text"].tolist() == lines[:2] and at["line"].tolist() == [1, 2]


@pytest.mark.parametrize("sql, joins", [
    ("SELECT 1", 0),
    ("SELECT * FROM a JOIN b USING (k)", 1),
    ("SELECT * FROM a LEFT JOIN b ON a.k = b.k\njoin c USING (j) -- joined", 2),
])
def test_count_joins(sql, joins):
    assert count_joins(sql) == joins


def test_timed_query_and_table_counts(ws):
    df, seconds = timed_query(ws.warehouse, "SELECT count(*) AS n FROM marts.dim_date", repeat=2)
    assert df["n"][0] > 365 and 0 < seconds < 5
    counts = table_counts(ws.warehouse).set_index(["schema", "table"])["rows"]
    assert counts[("raw", "legacy_customers")] > len(ws.crm.customers)  # two batches kept
    assert ("marts", "v_sales") not in counts.index  # views are not tables


def test_every_quarantine_reason_and_source_file_has_catalog_labels():
    from crmkit.dataset.extracts import FILES, REASONS
    from crmkit.i18n import catalog

    cat = catalog()
    for reason in REASONS:
        assert f"value.{reason}" in cat and f"reason_help.{reason}" in cat, reason
    for name in FILES:
        assert f"source.{name.removesuffix('.csv')}" in cat, name


def test_a_query_returning_many_rows_for_one_number_is_explained(ws):
    verdict = exercise_book(ws, "en").judge(
        "guest_lines", "SELECT customer_key FROM marts.fact_order_line LIMIT 3")
    assert verdict.status == "wrong_shape" and "expected one value, got 3" in verdict.message


def test_sample_row_skips_planted_lines(ws):
    from crmkit.dataset.extracts import BAD_ROWS_NAME
    from crmkit.lessons.lesson02 import sample_row

    bad = pd.read_csv(ws.batch1 / BAD_ROWS_NAME)
    for name in ("pos_sales.csv", "web_orders.csv"):
        skip = bad.loc[bad["file"] == name, "line"]
        row = sample_row(ws.batch1 / name, skip=skip)
        if row is not None:
            price = "precio" if name.startswith("pos") else "unit_price"
            assert float(row[price].replace(",", ".")) >= 0  # a planted negative is skipped
    assert sample_row(ws.batch1 / "pos_sales.csv", skip=range(2, 10**6)) is None


UNITS_RIGHT = ("SELECT p.department FROM marts.fact_order_line f JOIN marts.dim_product p "
               "USING (product_key) GROUP BY p.department ORDER BY sum(f.quantity) DESC LIMIT 1")


@pytest.mark.parametrize("money", ["net_amount", "gross_amount", "amount_cents"])
def test_the_most_units_exercise_refuses_a_query_ordered_by_money(ws, money):
    wrong = UNITS_RIGHT.replace("sum(f.quantity)", f"sum(f.{money})")
    book = exercise_book(ws, "en")
    # the attack: on this shop's warehouse, units and revenue may name the same department
    verdict = book.judge("top_units_department", wrong)
    assert verdict.status == "incorrect", verdict
    assert book.judge("top_units_department", UNITS_RIGHT).status == "correct"


def test_the_perturbed_warehouse_keeps_units_and_turns_revenue_around(ws):
    from crmkit.lessons.lesson02 import revenue_against_units, run_sql

    other = revenue_against_units(ws)
    assert other.warehouse != ws.warehouse
    by = ("SELECT p.department, sum(f.quantity) AS units, sum(f.net_amount) AS revenue "
          "FROM marts.fact_order_line f JOIN marts.dim_product p USING (product_key) "
          "GROUP BY 1 ORDER BY 1")
    before, after = run_sql(ws, by), run_sql(other, by)
    assert before["units"].tolist() == after["units"].tolist()
    top = after.loc[after["units"].idxmax(), "department"]
    assert after.set_index("department")["revenue"].idxmax() != top
    assert run_sql(ws, by)["revenue"].tolist() == before["revenue"].tolist()  # original kept
