"""Attacks on the self-checks, each written as the attack first, and fair checks.

A student who loops over ``book.judge`` to find an exact value, a notebook
whose saved figures carry an answer, a query that is right only by the luck
of one database state, and answers a person would call right (no accent, a
number as the table rounds it) that a strict comparison would call wrong.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from notebook_runs import NOTEBOOKS

from crmkit.lessons.exercises import Exercise, ExerciseBook, compare, strip_notebook


def _book(ex: Exercise, data=None, lang="en") -> ExerciseBook:
    return ExerciseBook(data, [ex], lang=lang, quiet=True)


# ----------------------------------------------------------------------------- no oracle
def test_a_judge_loop_cannot_find_the_exact_value_by_trial():
    truth = 0.3995
    book = _book(Exercise("rate", lambda d: truth, rtol=1e-4))
    # the attack: sweep candidates through judge() until one is "correct"
    candidates = np.round(np.arange(0.3900, 0.4100, 0.00001), 5)
    assert truth in candidates[candidates > 0.3994]  # the sweep would reach it...
    found = [c for c in candidates if book.judge("rate", float(c)).status == "correct"]
    assert found == []  # ...but checks beyond the limit are not judged
    assert book.attempts["rate"] == len(candidates) > ExerciseBook.MAX_CHECKS
    limited = book.judge("rate", truth)
    assert limited.status == "limit" and "checked" in limited.message


def _bisect(judge, inside: float, outside: float, calls: int) -> float:
    """The edge between answers judged close (or correct) and answers judged wrong."""
    for _ in range(calls):
        mid = (inside + outside) / 2
        if judge(mid) in ("close", "correct"):
            inside = mid
        else:
            outside = mid
    return inside


def test_a_bisection_over_check_cannot_pin_the_value_below_the_close_band(monkeypatch):
    import crmkit.lessons.sealed as sealed

    monkeypatch.setattr(sealed, "ITERATIONS", 1)  # the same verdicts, without the slow digests
    rng = np.random.default_rng(7)
    truths = rng.uniform(0.2, 0.8, 24)
    errors, hits = [], 0
    for truth in truths:
        book = _book(Exercise("rate", lambda d, v=float(truth): v, rtol=1e-4))
        book.MAX_CHECKS = 10**6  # no limit on checks: the verdicts alone must not tell

        def judge(x, book=book):
            return book.judge("rate", float(x)).status
        # the attack: 1,200 checks bisecting both edges of the close band
        assert judge(truth * 1.001) in ("close", "correct")
        low = _bisect(judge, truth * 1.001, truth * 0.9, 600)
        high = _bisect(judge, truth * 0.999, truth * 1.1, 600)
        assert book.attempts["rate"] == 1 + 1200
        guess = (low + high) / 2
        errors.append(abs(guess - truth) / truth)
        hits += judge(guess) == "correct"
    # the close band is 0.5 % either side: its middle says no more than that
    assert np.mean(errors) > 5e-4 and hits <= len(truths) // 4, (np.mean(errors), hits)


def test_close_and_correct_depend_only_on_the_cell_not_the_distance():
    book = _book(Exercise("rate", lambda d: 0.4, rtol=1e-4))
    book.MAX_CHECKS = 10**6
    for x in np.linspace(0.4 * (1 - 1e-4), 0.4 * (1 + 1e-4), 9):
        assert book.judge("rate", float(x)).status == "correct"  # within tolerance: always
    far = [float(x) for x in np.linspace(0.39, 0.41, 200)]
    statuses = [book.judge("rate", x).status for x in far]
    # the verdict changes only a few times along the line: cells, not distances
    changes = sum(a != b for a, b in zip(statuses, statuses[1:], strict=False))
    assert changes <= 4 and "close" in statuses


def test_a_student_checking_one_exercise_by_trial_is_flagged(tmp_path, monkeypatch):
    from crmkit.grading.grade import PROBING, check_counts, probing_flags
    from crmkit.lessons.submission import CHECKS_ENV, read_history

    log = tmp_path / "crmkit-checks.jsonl"
    monkeypatch.setenv(CHECKS_ENV, str(log))
    book = ExerciseBook(None, [Exercise("rate", lambda d: 0.3995, rtol=1e-4),
                               Exercise("n", lambda d: 12)], quiet=True, student_id="ana")
    for x in np.linspace(0.3, 0.5, 60):
        book.check("rate", float(x))
    for _ in range(5):  # re-running a cell checks the same answer again: not trial
        book.check("n", 12)
    counts = check_counts(read_history(log), "ana")
    assert counts == {"rate": (60, 60), "n": (5, 1)}
    assert 60 > PROBING
    flags = probing_flags(counts)
    assert len(flags) == 1 and "rate" in flags[0] and "60" in flags[0]
    assert "0.3995" not in log.read_text()  # the log holds marks of answers, never the key


def test_close_says_the_same_at_any_distance_inside_the_band():
    book = _book(Exercise("rate", lambda d: 0.4, rtol=1e-4))
    near, nearer = book.judge("rate", 0.4016), book.judge("rate", 0.4001)
    assert near.status == nearer.status == "close"
    assert near.message == nearer.message  # nothing narrows the value down
    assert "0.4" not in near.message


# ----------------------------------------------------------------------------- saved figures
@pytest.mark.parametrize(("stem", "leak"), [
    ("03_mining", 'record("base_rate"'),
    ("04_case_bendita", '(cps["orders"] > 0) & (cps["cps"] < 0)'),
    ("04_case_bendita", 'record("negative_cps_customers"'),
])
def test_the_student_edition_records_no_figure_that_answers_an_exercise(stem, leak):
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    assert any(leak in "".join(c["source"]) for c in nb["cells"])  # the instructor's has it
    student, _ = strip_notebook(nb)
    text = "".join("".join(c["source"]) for c in student["cells"])
    assert leak not in text
    assert 'record("exercise_status"' in text  # the status still reaches tests and reports


# ----------------------------------------------------------------------------- fair checks
def test_text_answers_ignore_accents_and_case_in_both_languages():
    for typed in ("sabado", "SÁBADO", " Sábado "):
        assert compare(typed, "sábado")[0] == "correct"
        assert compare(typed, "sábado", lang="es")[0] == "correct"
    assert compare("analitico", "analítico")[0] == "correct"
    assert compare("domingo", "sábado")[0] == "incorrect"


def test_accepted_synonyms_are_right_in_either_language():
    ex = Exercise("model", lambda d: "collaborative",
                  synonyms={"collaborative": ("colaborativo", "colaborativa")})
    book = _book(ex)
    assert book.judge("model", "Colaborativo").status == "correct"
    assert book.judge("model", "colaboratívo").status == "correct"
    assert book.judge("model", "social").status == "incorrect"


@pytest.mark.parametrize(("typed", "lang", "status"), [
    ("0,02", "es", "close"), (0.02, "en", "close"), (0.0198, "en", "correct"),
    (0.03, "en", "incorrect"), ("0,0198", "es", "correct"), (2, "en", "wrong_shape"),
])
def test_a_number_typed_as_the_table_rounds_it_is_close(typed, lang, status):
    assert compare(typed, 0.0198, lang=lang)[0] == status


def test_a_wrong_type_message_mentions_a_query_only_when_there_is_one():
    book = _book(Exercise("n", lambda d: 3))
    table = book.judge("n", pd.DataFrame({"x": [1, 2]}))
    assert table.status == "wrong_shape"
    assert "quer" not in table.message.casefold() and "rows" not in table.message
    listed = book.judge("n", [1, 2])
    assert "quer" not in listed.message.casefold()
    sql = Exercise("n", lambda d: 3, convert=lambda d, q: [1, 2])
    assert "query" in _book(sql).judge("n", "SELECT x FROM t").message
    es = _book(Exercise("n", lambda d: 3), lang="es").judge("n", [1, 2, 3]).message
    assert "consulta" not in es and "3 valores" in es


# ----------------------------------------------------------------------------- SQL on two states
def _units_data(units, revenue):
    return {"sales": pd.DataFrame({"department": ["shoes", "coats", "hats"],
                                   "units": units, "revenue": revenue})}


def _run(data, sql):
    con = duckdb.connect()
    con.register("sales", data["sales"])
    return con.execute(sql).fetchone()[0]


def _most_units(data):
    return str(data["sales"].sort_values("units", ascending=False)["department"].iloc[0])


def _swap_revenue(data):
    """The same departments with revenue ranked the opposite way to units."""
    sales = data["sales"].copy()
    sales["revenue"] = sales["units"].rank().to_numpy() * -1 + 10
    return {"sales": sales}


WRONG = "SELECT department FROM sales ORDER BY revenue DESC LIMIT 1"
RIGHT = "SELECT department FROM sales ORDER BY units DESC LIMIT 1"


def test_a_query_ordered_by_the_wrong_column_passes_on_one_state_only():
    data = _units_data([50, 20, 10], [900.0, 300.0, 100.0])  # units and revenue agree
    one_state = Exercise("top", _most_units, convert=_run)
    assert _book(one_state, data).judge("top", WRONG).status == "correct"  # the attack
    both = Exercise("top", _most_units, convert=_run, perturb=_swap_revenue)
    verdict = _book(both, data).judge("top", WRONG)
    assert verdict.status == "incorrect" and "change a little" in verdict.message
    assert _book(both, data).judge("top", RIGHT).status == "correct"
