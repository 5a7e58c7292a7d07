"""What the exercise book and notebook 02 say to a reader, in the reader's language.

- a SQL answer that fails is told with the lesson's own sentence, never a Python class name;
- an error nobody expected is named by its kind inside a sentence of the book's language;
- the book's overview lists exercises by title (not by the names the code uses) with their
  status in the book's language;
- the warehouse's inferred products keep their names, and a reader reads them translated.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from crmkit.i18n import t
from crmkit.lessons import lesson02
from crmkit.lessons.exercises import Exercise, ExerciseBook


def _sql_book(lang: str) -> ExerciseBook:
    con = duckdb.connect()
    con.execute("CREATE TABLE sales AS SELECT * FROM (VALUES (1, 10), (2, 32)) t(id, amount)")

    def convert(_data, sql):
        return lesson02.sql_answer(con, sql, lang)

    return ExerciseBook(None, [Exercise("total", lambda _d: 42, convert=convert)],
                        lang=lang, quiet=True)


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("sql", ["SELEC sum(amount) FROM sales", "SELECT * FROM nowhere x",
                                 "SELECT amount FROM sales WHERE id > 5", "42"])
def test_a_failing_query_is_told_without_a_python_class_name(lang, sql):
    verdict = _sql_book(lang).judge("total", sql)
    assert verdict.status == "invalid"
    for name in ("ValueError", "ParameterError", "TypeError", "NotAQueryError", "Exception"):
        assert name not in verdict.message, verdict.message
    said = verdict.message.split(": ", 1)[1]  # after the exercise's title
    if lang == "es":
        assert said.startswith("no se ha podido usar tu respuesta: ")
        assert "could not" not in said and "query" not in said.split("«")[0]


def test_the_databases_own_words_stay_quoted_in_a_spanish_sentence():
    message = _sql_book("es").judge("total", "SELECT * FROM nowhere x").message
    assert "La base de datos no ha podido" in message
    assert "«" in message and "nowhere" in message


def test_an_unexpected_error_is_named_in_the_readers_language():
    def convert(_data, answer):
        return {"a": 1}[answer]  # a KeyError no lesson raises on purpose

    book = ExerciseBook(None, [Exercise("pick", lambda _d: 1, convert=convert)],
                        lang="es", quiet=True)
    message = book.judge("pick", "zz").message
    assert "un error inesperado (KeyError): 'zz'" in message
    english = ExerciseBook(None, [Exercise("pick", lambda _d: 1, convert=convert)],
                           lang="en", quiet=True).judge("pick", "zz").message
    assert "an unexpected error (KeyError): 'zz'" in english


def test_an_answer_that_cannot_be_computed_is_said_in_the_readers_language():
    def broken(_data):
        raise ZeroDivisionError("division by zero")

    book = ExerciseBook(None, [Exercise("ratio", broken)], lang="es", quiet=True)
    message = book.judge("ratio", 3).message
    assert message.startswith("⚠️ ratio: no se pudo comprobar (un error inesperado "
                              "(ZeroDivisionError): division by zero)")


def test_the_overview_names_exercises_by_title_with_their_status_in_spanish():
    exercises = [Exercise("win_rate", len), Exercise("selection", len),
                 Exercise("mail_and_phone", len)]
    book = ExerciseBook([1, 2, 3], exercises, lang="es", quiet=True)
    book.check("win_rate", 3)
    book.check("selection", 4)
    shown = book.overview()
    titles = [t(f"exercise.{e.name}.title", "es") for e in exercises]
    assert list(shown.index) == titles
    assert shown.index.name == "Ejercicio" and list(shown.columns) == ["Estado"]
    assert list(shown["Estado"]) == ["Correcto", "Todavía no", "Sin comprobar"]
    assert not {e.name for e in exercises} & set(shown.to_html().split())
    # the summary keeps the names and codes the notebook's code and figures use
    assert list(book.summary()["exercise"]) == ["win_rate", "selection", "mail_and_phone"]
    assert list(book.summary()["status"]) == ["correct", "incorrect", "unchecked"]


def test_inferred_products_keep_their_names_and_read_translated():
    names = pd.Series(["unknown product 9999999", "unknown product ZZZ-99999",
                       "Urban football boots Kelme 026"])
    assert lesson02.member_names(names, "es") == [
        "producto desconocido 9999999", "producto desconocido ZZZ-99999",
        "Urban football boots Kelme 026"]
    assert lesson02.member_names(names, "en") == list(names)


def test_the_inferred_name_is_the_one_the_warehouse_writes():
    """The pattern :func:`lesson02.member_names` reads is the warehouse's own naming."""
    from crmkit.warehouse.sql import _INFERRED_NAME

    con = duckdb.connect()
    written = con.execute(f"SELECT {_INFERRED_NAME} FROM (VALUES (9999999, NULL), "
                          "(NULL, 'sku:ZZZ-99999')) t(product_id, product_ref)").fetchall()
    shown = lesson02.member_names([w for (w,) in written], "es")
    assert shown == ["producto desconocido 9999999", "producto desconocido ZZZ-99999"]
