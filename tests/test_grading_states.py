"""Fair SQL checks and keys kept out of the student's kernel, each written as the attack first.

Every SQL exercise of notebooks 02 and 03 runs a right-looking answer on a
perturbed copy of the database too. Each case below starts from a database
state in which a plausible wrong query (a missing filter, a wrong join,
grouping or aggregate) happens to give the right answer: a check on that one
state lets it pass; the check on two states fails it, and the reference
query passes on both. The right answers come from the lesson's pandas
solutions, independent of any query.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.synth import generate
from crmkit.grading.keys import answers_on
from crmkit.lessons import lesson02, lesson03
from crmkit.lessons.exercises import ExerciseBook
from crmkit.lessons.submission import LOG_ENV


@pytest.fixture(autouse=True)
def _fast_seals(monkeypatch):
    import crmkit.lessons.sealed as sealed

    monkeypatch.setattr(sealed, "ITERATIONS", 1)  # the same verdicts, without the slow digests


@pytest.fixture(scope="module")
def ws():
    """A warehouse as notebook 02 leaves it (two batches loaded)."""
    return lesson02.built_workshop(generate("fashion_chain", n_customers=200, seed=7), seed=7)


@pytest.fixture(scope="module")
def mining_data():
    data = generate("sports_shop", n_customers=300, seed=3)
    return data, lesson03.choose_split(data)[0]


def _book(on, exercises, name: str, *, perturbed: bool = True) -> ExerciseBook:
    ex = next(e for e in exercises if e.name == name)
    return ExerciseBook(on, [ex if perturbed else replace(ex, perturb=None)], quiet=True)


_GUESTS = "(SELECT customer_key FROM marts.dim_customer WHERE customer_id = -1)"
_ORDER_FILES = "('pos_sales.csv', 'web_orders.csv')"


def _both(pair, group: str = "c.customer_id", guests: bool = False) -> str:
    return (f"SELECT count(*) FROM (SELECT {group} FROM marts.fact_order_line f "
            "JOIN marts.dim_customer c USING (customer_key) JOIN marts.dim_date d "
            f"USING (date_key) WHERE {'' if guests else 'c.customer_id <> -1 AND '}"
            f"{pair.column} IN ({pair.sql_values}) GROUP BY {group} "
            f"HAVING count(DISTINCT {pair.column}) = 2)")


def _category(group: str = "c.category_key", money: str = "f.net_amount",
              rank: str = "revenue") -> str:
    return (f"SELECT sum({money}) AS revenue FROM marts.fact_order_line f "
            "JOIN marts.snow_product p USING (product_key) "
            f"JOIN marts.snow_category c USING (category_key) GROUP BY {group} "
            f"ORDER BY {rank} DESC LIMIT 1")


def _dice(year: int, money: str = "net_amount", op: str = "=") -> str:
    return (f"SELECT sum({money}) FROM marts.v_sales WHERE segment = 'premium' "
            f"AND year {op} {year}")


def _units(measure: str) -> str:
    return ("SELECT p.department FROM marts.fact_order_line f JOIN marts.dim_product p "
            f"USING (product_key) GROUP BY p.department ORDER BY sum({measure}) DESC LIMIT 1")


_GUEST_LINES = ("SELECT count({what}) FROM marts.fact_order_line f JOIN marts.dim_customer c "
                "USING (customer_key) WHERE c.customer_id = -1")

#: exercise, the state in which the wrong query happens to be right (SQL run on a copy of the
#: warehouse; none: the lesson's own), the reference query, the wrong query
CASES_02 = [
    ("quarantined_dates",
     [f"DELETE FROM quarantine.rows WHERE reason = 'unparseable_date' "
      f"AND file NOT IN {_ORDER_FILES}"],
     lambda ws: f"SELECT line FROM quarantine.rows WHERE reason = 'unparseable_date' "
                f"AND file IN {_ORDER_FILES}",
     lambda ws: "SELECT line FROM quarantine.rows WHERE reason = 'unparseable_date'"),
    ("both_channels", [f"DELETE FROM marts.fact_order_line WHERE customer_key IN {_GUESTS}"],
     lambda ws: _both(lesson02.both_pair(ws.crm)),
     lambda ws: _both(lesson02.both_pair(ws.crm), guests=True)),
    ("both_channels", [],
     lambda ws: _both(lesson02.both_pair(ws.crm)),
     lambda ws: _both(lesson02.both_pair(ws.crm), group="f.customer_key")),
    ("top_units_department", ["UPDATE marts.fact_order_line SET net_amount = quantity * 7"],
     lambda ws: _units("f.quantity"), lambda ws: _units("f.net_amount")),
    ("raw_batches", [],
     lambda ws: "SELECT DISTINCT _batch_id FROM raw.legacy_customers",
     lambda ws: "SELECT batch_id FROM meta.batches"),
    ("snowflake_top_category",
     ["UPDATE marts.snow_category SET category = category || ' ' || category_key"],
     lambda ws: _category(), lambda ws: _category(group="c.category")),
    ("snowflake_top_category", ["UPDATE marts.fact_order_line SET gross_amount = net_amount"],
     lambda ws: _category(), lambda ws: _category(money="f.gross_amount")),
    ("dice_premium_last_year", [],
     lambda ws: _dice(lesson02.last_year(ws.crm)),
     lambda ws: _dice(lesson02.last_year(ws.crm), op=">=")),
    ("dice_premium_last_year", ["UPDATE marts.fact_order_line SET gross_amount = net_amount"],
     lambda ws: _dice(lesson02.last_year(ws.crm)),
     lambda ws: _dice(lesson02.last_year(ws.crm), money="gross_amount")),
    ("guest_lines",
     [f"UPDATE marts.fact_order_line SET order_id = -rowid - 10 WHERE customer_key IN {_GUESTS}"],
     lambda ws: _GUEST_LINES.format(what="*"),
     lambda ws: _GUEST_LINES.format(what="DISTINCT f.order_id")),
]


def test_every_sql_exercise_has_a_perturbed_copy_and_a_case_here():
    sql = {e.name for e in lesson02.EXERCISES if e.convert is not None and e.kind == "compute"}
    assert sql == {e.name for e in lesson02.EXERCISES if e.perturb is not None}
    assert sql == {case[0] for case in CASES_02}
    sql03 = {e.name for e in lesson03.EXERCISES if e.convert is lesson03._sql}
    assert sql03 == {e.name for e in lesson03.EXERCISES if e.perturb is not None}
    assert sql03 == {case[0] for case in CASES_03}


@pytest.mark.parametrize(("name", "lucky", "right", "wrong"), CASES_02,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES_02)])
def test_a_plausible_wrong_query_fails_on_notebook_02s_perturbed_copy(ws, name, lucky, right,
                                                                      wrong):
    state = lesson02._perturbed(ws, *((sql, []) for sql in lucky)) if lucky else ws
    exercises = lesson02.exercises("en")
    one = _book(state, exercises, name, perturbed=False)
    assert one.judge(name, right(state)).status == "correct"
    assert one.judge(name, wrong(state)).status == "correct"  # the attack: one state passes it
    both = _book(state, exercises, name)
    verdict = both.judge(name, wrong(state))
    assert verdict.status == "incorrect" and "change a little" in verdict.message
    assert both.judge(name, right(state)).status == "correct"  # right on both states


def _without(data: CRMData, orders: pd.Series, lines: pd.Series | None = None) -> CRMData:
    """``data`` without the orders (and order lines) marked True."""
    keep = data.orders[~orders]
    kept = data.order_lines[data.order_lines["order_id"].isin(keep["order_id"])]
    if lines is not None:
        kept = kept[~lines.loc[kept.index]]
    return CRMData({**data.tables, "orders": keep, "order_lines": kept}, data.manifest,
                   data.truth)


def _no_returned_guests(data: CRMData) -> CRMData:
    o = data.orders
    return _without(data, o["customer_id"].isna() & (o["status"] == "returned"))


def _single_cancel_free(data: CRMData) -> CRMData:
    """No cancelled orders, and each product on one line of an order at most."""
    twice = data.order_lines.duplicated(["order_id", "product_id"])
    return _without(data, data.orders["status"] == "cancelled", twice)


def _pair(ctx, count: str = "count(DISTINCT a.order_id)", cancelled: bool = False) -> str:
    a, b = lesson03.top_pair(ctx.model("rules"), ctx.data)
    return (f"SELECT {count} FROM order_lines a JOIN order_lines b ON a.order_id = b.order_id "
            "JOIN orders o ON o.order_id = a.order_id "
            f"WHERE a.product_id = {a} AND b.product_id = {b}"
            + ("" if cancelled else " AND o.status <> 'cancelled'"))


_GUEST_SUM = ("SELECT sum(l.amount_cents) / 100 FROM order_lines l JOIN orders o "
              "USING (order_id) WHERE o.customer_id IS NULL AND o.status <> 'cancelled'")

CASES_03 = [
    ("guest_revenue", _no_returned_guests,
     lambda ctx: "SELECT sum(value) FROM purchases WHERE customer_id IS NULL",
     lambda ctx: _GUEST_SUM),
    ("pair_baskets", _single_cancel_free, _pair, lambda ctx: _pair(ctx, cancelled=True)),
    ("pair_baskets", _single_cancel_free, _pair, lambda ctx: _pair(ctx, count="count(*)")),
]


@pytest.mark.parametrize(("name", "lucky", "right", "wrong"), CASES_03,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES_03)])
def test_a_plausible_wrong_query_fails_on_notebook_03s_perturbed_copy(mining_data, name, lucky,
                                                                      right, wrong):
    data, split = mining_data
    ctx = lesson03.Lesson(lucky(data), split)
    one = _book(ctx, lesson03.EXERCISES, name, perturbed=False)
    assert one.judge(name, right(ctx)).status == "correct"
    assert one.judge(name, wrong(ctx)).status == "correct"  # the attack: one state passes it
    both = _book(ctx, lesson03.EXERCISES, name)
    assert both.judge(name, wrong(ctx)).status == "incorrect"
    assert both.judge(name, right(ctx)).status == "correct"


# ----------------------------------------------------------------------------- the grading log
def _distinctive(value) -> list[str]:
    """Right answers as the log would spell them, when they could not turn up by chance."""
    items = list(value) if isinstance(value, list | tuple) else [value]
    return [json.dumps(x) for x in items
            if (isinstance(x, str) and len(x) > 3) or (isinstance(x, float) and not x.is_integer())
            or (isinstance(x, int) and not isinstance(x, bool) and abs(x) > 40)]


def test_a_student_who_names_a_grading_log_reads_no_right_answer_in_it(ws, mining_data,
                                                                        tmp_path, monkeypatch):
    data, split = mining_data
    lesson = lesson03.notebook_lesson(data, split, seed=3)
    books, text = [], ""
    for stem in ("02", "03"):  # one notebook's kernel, one book, one log
        log = tmp_path / f"grading_log_{stem}.json"
        monkeypatch.setenv(LOG_ENV, str(log))  # the attack: the variable a graded run sets
        if stem == "02":
            book = lesson02.exercise_book(ws)
        else:
            book = lesson03.exercise_book(data, split)
            book.use(**lesson.models)  # as the notebook hands its models over
        for name in book.names:
            book.judge(name, 0.5)  # every answer is sealed by now
        books.append(book)
        text += log.read_text(encoding="utf-8")
        entries = [c for b in json.loads(log.read_text())["books"] for c in b["checks"].values()]
        assert len(entries) == len(book.names)
        assert not [c for c in entries if "expected" in c]
    wanted = [x for on, exercises in ((ws, lesson02.exercises()), (lesson, lesson03.EXERCISES))
              for v in answers_on(on, exercises).values() for x in _distinctive(v)]
    assert len(wanted) >= 10  # the attack has something to look for
    assert [x for x in wanted if x in text] == []


# ----------------------------------------------------------------------------- graded outside
def test_a_query_wrong_on_the_perturbed_copy_stays_wrong_when_graded(ws, tmp_path, monkeypatch):
    from crmkit.grading.grade import Graded, Submission, _check_outside, _grade_one
    from crmkit.grading.roster import Student
    from crmkit.grading.run import Run
    from crmkit.lessons.exercises import compare
    from crmkit.lessons.submission import decode, read_log

    log = tmp_path / "grading_log.json"
    monkeypatch.setenv(LOG_ENV, str(log))
    book = lesson02.exercise_book(ws)
    wrong = "SELECT batch_id FROM meta.batches"  # every batch, not those with the spreadsheet
    assert book.judge("raw_batches", wrong).status == "incorrect"
    logged = read_log(log)
    right = answers_on(ws, lesson02.exercises())["raw_batches"]
    check = logged["books"][0]["checks"]["raw_batches"]
    # the attack: on the lesson's own warehouse the query's result is the right answer
    assert compare(decode(check["answer"]), right)[0] == "correct"
    assert check["perturbed"] is True
    g = Graded(Submission(tmp_path / "02_warehouse.ipynb", "02_warehouse",
                          Student("s1", "Ana", "en"), "s1"), Run(1.0, log=logged))
    monkeypatch.setattr("crmkit.grading.grade.outside_answers",
                        lambda notebook, params: {"raw_batches": right})
    _check_outside(g, {})
    _grade_one(g, {})
    graded = {e.name: e.status for e in g.exercises}
    assert graded["raw_batches"] == "incorrect"


def test_notebook_02s_answers_are_computed_outside_the_kernel_on_the_notebooks_warehouse(ws):
    from crmkit.grading.grade import outside_answers
    from crmkit.lessons.exercises import compare

    shop = ws.crm.manifest
    outside = outside_answers("02_warehouse", {
        "profile": "fashion_chain", "n_customers": 200, "seed": 7, "lang": "en",
        "start": str(shop.get("start", "2024-01-01"))[:10],
        "end": str(shop.get("end", "2025-12-31"))[:10]})
    assert set(outside) == {e.name for e in lesson02.EXERCISES if not e.needs
                            or ws.crm.has(e.needs)}
    # each SQL answer, as the reference query finds it in the fixture's own warehouse
    for name, _, right, _ in CASES_02:
        found = lesson02.run_sql(ws, right(ws))
        assert compare(found, outside[name])[0] == "correct", name


def test_notebook_03s_answers_are_computed_outside_the_kernel_with_the_notebooks_models(
        mining_data):
    from crmkit.grading.grade import outside_answers
    from crmkit.lessons.exercises import compare

    data, _ = mining_data
    shop = data.manifest
    outside = outside_answers("03_mining", {
        "profile": "sports_shop", "n_customers": 300, "seed": 3, "lang": "es",
        "start": str(shop["start"])[:10], "end": str(shop["end"])[:10]})
    assert set(outside) == {e.name for e in lesson03.EXERCISES}  # every model fits this shop
    found = lesson03.run_sql(data, "SELECT sum(value) FROM purchases WHERE customer_id IS NULL")
    assert compare(found, outside["guest_revenue"])[0] == "correct"
