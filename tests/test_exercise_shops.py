"""Every exercise means something for every shop: no degenerate answer, no trivial pass.

For the six shop profiles and several seeds, at the size the notebooks use,
each exercise's expected answer must not be empty, zero, NaN or a share of
exactly 0 or 1, must differ between shops (a question whose answer never
changes tests nothing about the data), and none of the answers a student
could give without doing the work (0, 1, an empty list, ``SELECT 0``...)
may pass. The notebooks' own reference queries are judged correct on every
shop, including the shops that sell through one system only.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from notebook_runs import NOTEBOOKS

from crmkit.dataset.extracts import write_customer_changes, write_extracts
from crmkit.dataset.profiles import PROFILE_NAMES
from crmkit.dataset.synth import generate
from crmkit.grading.keys import answer as answer_key
from crmkit.lessons import lesson01, lesson02, lesson04
from crmkit.lessons.exercises import AnyOf
from crmkit.report import notebook_parameters
from crmkit.warehouse.build import build_warehouse, load_batch

SEEDS_01 = (42, 1, 2)
SEEDS_02 = (42, 1)
SEEDS_04 = (42, 1)
#: Questions about a concept, not the data: the same answer for every shop by design (the
#: failing letter of a fixed example objective).
CONCEPTUAL = {"crm_model", "smart_letter"}
#: Answers that need no work; none may be judged correct.
TRIVIAL = (0, 1, 0.0, 1.0, -1, "", [], [0], True, False, "0", "none", "all")
TRIVIAL_SQL = ("SELECT 0", "SELECT 1", "SELECT 0.5", "SELECT NULL AS x",
               "SELECT count(*) FROM marts.fact_order_line",
               "SELECT count(*) FROM marts.dim_customer",
               "SELECT count(*) FROM quarantine.rows")


def _size(stem: str) -> int:
    return int(notebook_parameters(NOTEBOOKS / f"{stem}.ipynb")["n_customers"])


@pytest.fixture(scope="module")
def books01():
    n = _size("01_crm_concepts")
    return {(p, s): lesson01.exercise_book(generate(p, n_customers=n, seed=s))
            for p in PROFILE_NAMES for s in SEEDS_01}


@pytest.fixture(scope="module")
def books02(tmp_path_factory):
    """The lesson's workshop for every shop and seed: two batches in the warehouse."""
    n = _size("02_warehouse")
    books = {}
    for p in PROFILE_NAMES:
        for s in SEEDS_02:
            ws = lesson02.workshop(generate(p, n_customers=n, seed=s),
                                   warehouse_dir=tmp_path_factory.mktemp(f"{p}{s}"), seed=s)
            write_extracts(ws.crm, ws.batch1, seed=s)
            build_warehouse(ws.batch1, ws.warehouse)
            write_customer_changes(ws.crm, ws.batch2,
                                   as_of=ws.extracted_at(1) + pd.Timedelta(days=90),
                                   share=0.1, seed=s, card_seed=s)
            load_batch(ws.warehouse, ws.batch2)
            books[(p, s)] = lesson02.exercise_book(ws)
    return books


@pytest.fixture(scope="module")
def books04():
    n = _size("04_case_bendita")
    return {(p, s): lesson04.exercise_book(generate(p, n_customers=n, seed=s))
            for p in PROFILE_NAMES for s in SEEDS_04}


def degenerate(value) -> str | None:
    """Why an expected answer tells nothing about the data, or None."""
    if isinstance(value, AnyOf):
        return degenerate(list(value)) or (None if len(value) < 4 else "most choices are right")
    if value is None:
        return "no answer"
    if isinstance(value, str):
        return "empty text" if not value.strip() else None
    if isinstance(value, list | tuple | set):
        return "empty list" if not value else None
    if isinstance(value, pd.DataFrame | pd.Series):
        return "empty table" if value.empty else None
    if isinstance(value, int | float):
        if math.isnan(value):
            return "NaN"
        if value == 0:
            return "zero"
        if value == 1 and isinstance(value, float):
            return "a share of exactly 1"
    return None


def _key(value):
    return tuple(sorted(map(str, value))) if isinstance(value, list | tuple) else str(value)


def _check_all(books: dict, name: str, trivial) -> None:
    found = {}
    for shop, book in books.items():
        if book.judge(name, object()).status == "skipped":  # the shop lacks what it needs
            continue
        expected = answer_key(book, name)
        why = degenerate(expected)
        assert why is None, f"{name} on {shop}: the expected answer is degenerate ({why})"
        for answer in trivial:
            verdict = book.judge(name, answer)
            assert verdict.status != "correct", f"{name} on {shop}: {answer!r} passes"
        found[shop] = _key(expected)
    if name not in CONCEPTUAL:
        assert len(set(found.values())) > 1, f"{name}: the same answer for every shop"


@pytest.mark.parametrize("name", [e.name for e in lesson01.EXERCISES])
def test_notebook01_exercises_mean_something_for_every_shop(books01, name):
    _check_all(books01, name, TRIVIAL)


@pytest.mark.parametrize("name", [e.name for e in lesson02.EXERCISES])
def test_notebook02_exercises_mean_something_for_every_shop(books02, name):
    sql = next(e for e in lesson02.EXERCISES if e.name == name).convert is not None
    _check_all(books02, name, TRIVIAL_SQL if sql else TRIVIAL)


def test_the_reference_queries_pass_on_every_shop(books02):
    for shop, book in books02.items():
        pair = lesson02.both_pair(book.lesson.crm)
        both = ("SELECT count(*) FROM (SELECT c.customer_id FROM marts.fact_order_line f "
                "JOIN marts.dim_customer c USING (customer_key) "
                "JOIN marts.dim_date d USING (date_key) "
                f"WHERE c.customer_id <> -1 AND {pair.column} IN ({pair.sql_values}) "
                f"GROUP BY c.customer_id HAVING count(DISTINCT {pair.column}) = 2)")
        assert book.judge("both_channels", both).status == "correct", shop
        dates = ("SELECT line FROM quarantine.rows WHERE reason = 'unparseable_date' "
                 "AND file IN ('pos_sales.csv', 'web_orders.csv')")
        assert book.judge("quarantined_dates", dates).status == "correct", shop


def test_single_system_shops_compare_two_years_and_the_others_till_and_web(books02):
    for (profile, _), book in books02.items():
        pair = lesson02.both_pair(book.lesson.crm)
        channels = set(book.lesson.crm.orders["channel"])
        if profile in ("ice_cream", "bendita"):
            assert channels in ({"store"}, {"web"})
            assert pair.column == "d.year" and pair.first < pair.second
        else:
            assert pair == lesson02.Pair("f.source_system", "pos", "web")


def test_opening_hours_move_only_for_a_shop_that_sells_within_them(books01):
    for (profile, _), book in books01.items():
        hours = lesson01.exercise_hours(book.lesson)
        assert (hours != lesson01.OPENING_HOURS) == (profile == "boutique"), profile


@pytest.mark.parametrize("name", [e.name for e in lesson04.EXERCISES])
def test_notebook04_exercises_mean_something_for_every_shop(books04, name):
    _check_all(books04, name, TRIVIAL)


BY_NAME_04 = {e.name: e for e in lesson04.EXERCISES}


def test_notebook04_web_exercises_skip_only_the_shops_without_web_visits(books04):
    web = {e.name for e in lesson04.EXERCISES if e.needs == "web_visits"}
    assert web == {"busiest_month", "email_conversion", "abandoned_carts", "sample_size",
                   "kpi_behind_change", "test_in_a_month"}
    for (profile, _), book in books04.items():
        no_visits = len(book.lesson.web_sessions) == 0
        assert no_visits == (profile in ("boutique", "ice_cream")), profile
        for name in book.names:
            if BY_NAME_04[name].needs not in ("web_visits", None, "marketing",
                                                     "profitability", "customers"):
                continue  # tables outside the till: see the test below
            skipped = book.judge(name, 1).status == "skipped"
            assert skipped == (no_visits and name in web), (profile, name)


def test_a_shop_without_web_visits_gets_store_exercises_of_equal_weight(books04):
    store = {e.name for e in lesson04.EXERCISES if e.needs == "store_visits"}
    assert len(store) >= 4 and any(BY_NAME_04[n].kind == "decide" for n in store)
    for (profile, _), book in books04.items():
        sells_in_store = bool((book.lesson.orders["channel"] == "store").any())
        for name in store:
            assert (book.judge(name, 1).status == "skipped") == (not sells_in_store), (
                profile, name)
