"""The exercise checker: right, wrong, wrongly-shaped and missing answers."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.lessons.exercises import Exercise, ExerciseBook, compare, strip_source

DATA = pd.DataFrame({"city": ["A", "B", "A"], "amount": [10.0, 20.0, 30.0]})
EXERCISES = [
    Exercise("total", lambda d: d["amount"].sum(), title="Total",
             hints=("Sum the column.", "Use .sum().")),
    Exercise("cities", lambda d: sorted(d["city"].unique())),
    Exercise("by_city", lambda d: d.groupby("city")["amount"].sum()),
    Exercise("table", lambda d: d.groupby("city").agg(n=("amount", "size"))),
    Exercise("top_city", lambda d: "A"),
    Exercise("broken", lambda d: d["missing_column"].sum()),
]


@pytest.fixture
def book():
    return ExerciseBook(DATA, EXERCISES, lang="en", quiet=True)


@pytest.mark.parametrize(
    ("name", "answer", "status"),
    [
        ("total", 60.0, "correct"),
        ("total", 60, "correct"),
        ("total", 59.9, "close"),
        ("total", 59.0, "incorrect"),
        ("total", 6.0, "incorrect"),
        ("total", "60", "wrong_shape"),
        ("total", True, "wrong_shape"),
        ("total", None, "missing"),
        ("total", ..., "missing"),
        ("cities", ["B", "A"], "correct"),
        ("cities", ["A"], "wrong_shape"),
        ("cities", ["A", "C"], "incorrect"),
        ("by_city", pd.Series({"B": 20.0, "A": 40.0}), "correct"),
        ("by_city", pd.Series({"A": 40.0, "B": 21.0}), "incorrect"),
        ("by_city", pd.DataFrame({"x": [40.0, 20.0]}, index=["A", "B"]), "correct"),
        ("by_city", 60.0, "wrong_shape"),
        ("table", pd.DataFrame({"n": [2, 1]}, index=pd.Index(["A", "B"], name="city")),
         "correct"),
        ("table", pd.DataFrame({"n": [2, 1, 0]}), "wrong_shape"),
        ("top_city", " a ", "correct"),
        ("top_city", "B", "incorrect"),
        ("top_city", 3, "wrong_shape"),
    ],
)
def test_verdicts(book, name, answer, status):
    assert book.judge(name, answer).status == status


def test_check_never_raises_even_when_the_exercise_is_broken(book):
    book.check("broken", 3)  # prints, never raises
    assert book.results["broken"].status == "error"
    assert book.judge("nonexistent", 1).status == "error"


def test_messages_never_reveal_the_expected_value(capsys):
    book = ExerciseBook(DATA, EXERCISES, lang="es")
    for answer in (None, 6.0, 59.9, "x", 60.0):
        book.check("total", answer)
    out = capsys.readouterr().out
    assert "60" not in out.replace("(ask", "")
    assert "todavía sin hacer" in out and "¡correcto" in out and "muy cerca" in out


def test_hints_come_one_at_a_time_then_run_out(capsys):
    book = ExerciseBook(DATA, EXERCISES, lang="en")
    book.hint("total")
    book.hint("total")
    book.hint("total")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["Hint 1/2: Sum the column.", "Hint 2/2: Use .sum().",
                     "No more hints for Total: compare with the lesson above."]


def test_summary_tracks_the_last_verdict(book):
    book.check("total", 60.0)
    book.check("cities", None)
    s = book.summary().set_index("exercise")["status"]
    assert s["total"] == "correct" and s["cities"] == "missing" and s["table"] == "unchecked"


def test_unknown_language_is_rejected():
    from crmkit.errors import ParameterError

    with pytest.raises(ParameterError, match="lang='it'"):
        ExerciseBook(DATA, EXERCISES, lang="it")


def test_compare_texts_and_tolerances():
    assert compare(0.5004, 0.5, rtol=1e-3)[0] == "correct"
    assert compare(0.502, 0.5, rtol=1e-3)[0] == "close"
    assert compare(0.545, 0.566, rtol=1e-3)[0] == "incorrect"


def test_a_percentage_given_for_a_share_is_explained():
    status, detail = compare(56.6, 0.566, rtol=1e-3)
    assert status == "wrong_shape" and "share between 0 and 1" in detail


def test_any_of_several_right_answers():
    from crmkit.lessons.exercises import AnyOf

    assert compare("City", AnyOf(["address", "city"]))[0] == "correct"
    assert compare("email", AnyOf(["address", "city"]))[0] == "incorrect"


def test_strip_source_keeps_indentation_and_several_blocks():
    src = ("answer = None\n# BEGIN SOLUTION\nanswer = 1\n# END SOLUTION\n"
           "if True:\n    # BEGIN SOLUTION\n    x = 2\n    # END SOLUTION\n    pass\n")
    out = strip_source(src)
    assert "answer = 1" not in out and "x = 2" not in out
    assert "    # your code here" in out and out.count("# your code here") == 2


def test_converted_answers_such_as_sql_are_run_then_compared(capsys):
    import duckdb

    def run_sql(data, sql):
        return duckdb.sql(sql).df().iloc[0, 0]

    ex = Exercise("sql_total", lambda d: 60.0, convert=run_sql)
    book = ExerciseBook(DATA, [ex], lang="en")
    assert book.judge("sql_total", "SELECT 60.0").status == "correct"
    assert book.judge("sql_total", "SELECT 99").status == "incorrect"
    verdict = book.judge("sql_total", "SELEC 60")
    assert verdict.status == "invalid"
    assert "could not be used: ParserException" in verdict.message
    assert book.judge("sql_total", None).status == "missing"
