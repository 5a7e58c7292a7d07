"""Roster, course secret, per-student editions and the grading rules (no kernel needed)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from crmkit.cli import main
from crmkit.grading.assign import parameters_cell, read_assignment
from crmkit.grading.grade import ExerciseGrade, Graded, Submission, _copies, _grade_one, claimed_id
from crmkit.grading.outputs import feedback_page, gradebook
from crmkit.grading.roster import RosterError, Student, course_secret, read_roster, student_seed
from crmkit.grading.run import Run
from crmkit.lessons.edition import _source
from crmkit.lessons.submission import encode


def _roster(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- roster
def test_a_roster_is_read_with_its_columns_in_any_order(tmp_path):
    path = _roster(tmp_path, "Language,Email,Name,ID\nES,a@x.org,Ana,s1\nen,,Bob,s2\n")
    assert read_roster(path) == [Student("s1", "Ana", "es", "a@x.org"),
                                 Student("s2", "Bob", "en", "")]


@pytest.mark.parametrize(("text", "message"), [
    ("id,name\ns1,Ana\n", "line 1: the roster has no language column"),
    ("id,name,language\ns1,Ana,es\ns1,Bob,en\n", "line 3, column id: id 's1' is already on "
     "line 2"),
    ("id,name,language\ns1,Ana,fr\n", "line 2, column language: 'fr' is not a course language"),
    ("id,name,language\n../x,Ana,es\n", "line 2, column id: '../x' is not a usable id"),
    ("id,name,language\ns1,,es\n", "line 2, column name: the name is empty"),
    ("id,name,language\n", "the roster lists no student"),
])
def test_a_bad_roster_line_is_named_with_its_line_column_and_fix(tmp_path, capsys, text,
                                                                  message):
    path = _roster(tmp_path, text)
    with pytest.raises(RosterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_roster(path)
    assert main(["assign", "01", "--roster", str(path), "--out", str(tmp_path / "o"),
                 "--secret", str(tmp_path / "s.txt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err


# ----------------------------------------------------------------------------- secret and seeds
def test_the_course_secret_is_created_once_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "instructor" / "secret.txt"
    with pytest.raises(RosterError, match="does not exist"):
        course_secret(path)
    first = course_secret(path, create=True)
    assert course_secret(path, create=True) == first and len(first) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_seeds_depend_on_the_id_and_the_secret_only():
    a, b = b"x" * 32, b"y" * 32
    seeds = {student_seed(a, f"s{i}") for i in range(200)}
    assert len(seeds) == 200  # no two students of a large class share data
    assert student_seed(a, "s1") == student_seed(a, "s1") != student_seed(b, "s1")


# ----------------------------------------------------------------------------- assign
def test_assign_writes_each_students_edition_with_their_id_seed_and_language(tmp_path, capsys):
    roster = _roster(tmp_path, "id,name,language\ns1,Ana,es\ns2,Bob,en\n")
    secret = tmp_path / "instructor" / "secret.txt"
    args = ["assign", "01", "--roster", str(roster), "--out", str(tmp_path / "class"),
            "--secret", str(secret), "-p", "n_customers", "300"]
    assert main(args) == 0
    key = course_secret(secret)
    for sid, lang in (("s1", "es"), ("s2", "en")):
        path = tmp_path / "class" / sid / "01_crm_concepts.ipynb"
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = _source(parameters_cell(nb))
        assert f'student_id = "{sid}"' in cell and f'lang = "{lang}"' in cell
        assert f"seed = {student_seed(key, sid)}\n" in cell and "n_customers = 300" in cell
        assert claimed_id(nb) == sid
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and key.decode() not in text
    assert read_assignment(secret) == {"01_crm_concepts": {"n_customers": 300}}
    # the same roster again: the same files (same seeds), nothing rewritten
    capsys.readouterr()
    assert main(args) == 0
    assert capsys.readouterr().out.count("(unchanged)") == 2


def test_assign_refuses_a_shared_seed_or_id(tmp_path, capsys):
    roster = _roster(tmp_path, "id,name,language\ns1,Ana,es\n")
    assert main(["assign", "01", "--roster", str(roster), "--out", str(tmp_path / "c"),
                 "--secret", str(tmp_path / "s.txt"), "-p", "seed", "1"]) == 2
    assert "seed cannot be given with -p" in capsys.readouterr().err


def test_grade_of_a_missing_submissions_folder_says_so(tmp_path, capsys):
    roster = _roster(tmp_path, "id,name,language\ns1,Ana,es\n")
    course_secret(tmp_path / "s.txt", create=True)
    assert main(["grade", str(tmp_path / "nothing"), "--roster", str(roster), "--out",
                 str(tmp_path / "g"), "--secret", str(tmp_path / "s.txt")]) == 2
    err = capsys.readouterr().err
    assert "submissions folder" in err and "does not exist" in err and err.count("\n") == 1


def test_grade_without_the_course_secret_says_which_file(tmp_path, capsys):
    roster = _roster(tmp_path, "id,name,language\ns1,Ana,es\n")
    (tmp_path / "subs").mkdir()
    assert main(["grade", str(tmp_path / "subs"), "--roster", str(roster), "--out",
                 str(tmp_path / "g"), "--secret", str(tmp_path / "nope.txt")]) == 2
    assert "nope.txt does not exist" in capsys.readouterr().err


# ----------------------------------------------------------------------------- grading rules
EXERCISES = {n: {"title": n.title(), "points": 1.0, "hint": f"hint of {n}", "rtol": 1e-6,
                 "atol": 1e-9, "ordered": False} for n in ("a", "b", "c", "d")}


def _graded(sid, answers, expected, lang="en", statuses=None):
    checks = {}
    for n in EXERCISES:
        status = (statuses or {}).get(n) or ("missing" if answers.get(n) is None else "incorrect")
        checks[n] = {"status": status, "message": f"{n}: {status}", "attempts": 1,
                     "answer": encode(answers.get(n)), "expected": encode(expected[n])}
    log = {"books": [{"lang": lang, "exercises": EXERCISES, "checks": checks}]}
    sub = Submission(None, "01", Student(sid, sid.upper(), lang), sid)
    return Graded(sub, Run(1.0, log=log))


def test_points_are_judged_again_outside_the_kernel_half_for_close():
    g = _graded("s1", {"a": 10, "b": 10.02, "c": 99, "d": None},
                {"a": 10, "b": 10, "c": 10, "d": 10},
                statuses={"a": "incorrect", "b": "correct"})  # the kernel's word is not taken
    _grade_one(g, {})
    assert [(e.name, e.status, e.points) for e in g.exercises] == [
        ("a", "correct", 1.0), ("b", "close", 0.5), ("c", "incorrect", 0.0),
        ("d", "missing", 0.0)]
    assert g.possible == 4 and [e.hint for e in g.exercises][1:] == [
        "hint of b", "hint of c", "hint of d"]


def test_a_skipped_exercise_counts_for_nothing_either_way():
    g = _graded("s1", {"a": 1}, {n: 1 for n in EXERCISES}, statuses={"b": "skipped"})
    _grade_one(g, {})
    assert g.points == 1 and g.possible == 3


def test_answers_right_for_another_students_data_flag_a_copy():
    own = {"a": 1, "b": 2, "c": 3, "d": 4}
    other = {"a": 11, "b": 12, "c": 13, "d": 14}
    honest = _graded("s1", own, own)
    copier = _graded("s2", {"a": 11, "b": 12, "c": 3, "d": 14}, own)
    unlucky = _graded("s3", {"a": 11, "b": 99, "c": 3}, own)  # one match is not a pattern
    source = _graded("s4", other, other)
    # a fifth student's data happen to give two of the same answers as s4's
    lookalike = _graded("s5", {"a": 11, "b": 12, "c": 0, "d": 0}, {"a": 11, "b": 12, "c": 0,
                                                                    "d": 0})
    graded = [honest, copier, unlucky, source, lookalike]
    for g in graded:
        _grade_one(g, {})
    _copies(graded, copy_min=2)
    assert copier.copied_from == {"s4": ["a", "b", "d"]} and "data of s4" in copier.flags[0]
    assert len(copier.flags) == 1  # s5's data match two answers by chance: not named
    assert not honest.flags and not unlucky.flags and not source.flags
    assert copier.points == 1  # c, its own


def test_feedback_shows_verdicts_and_hints_in_the_students_language_never_answers():
    g = _graded("s1", {"a": 123456, "b": 654321}, {n: 777777 for n in EXERCISES}, lang="es")
    _grade_one(g, {})
    page = feedback_page(g.submission.student, [g])
    assert 'lang="es"' in page and "Puntuación" in page and "hint of a" in page
    assert "777777" not in page and "777.777" not in page


def test_the_gradebook_lists_every_roster_student_even_without_a_submission():
    g = _graded("s1", {"a": 1}, {n: 1 for n in EXERCISES})
    _grade_one(g, {})
    book = gradebook([g], [g.submission.student, Student("s9", "Nadie", "es")])
    assert book["id"].tolist() == ["s1", "s9"]
    assert book["status"].tolist() == ["graded", "not submitted"]
    assert book.loc[0, "01: a"] == 1 and book.loc[0, "points"] == 1 and book.loc[1, "points"] == 0
    assert list(book.columns[:4]) == ["id", "name", "email", "language"]
    assert isinstance(g.exercises[0], ExerciseGrade)


# ----------------------------------------------------------------------------- decide exercises
def _segments(customers):
    import pandas as pd

    return pd.Series(customers, index=["loyal", "new", "at_risk"])


def _fund():
    from crmkit.lessons.judgement import decide, sizes_options

    return decide("fund", lambda d, lang: sizes_options(d), lambda d: d.idxmax(),
                  title="Segment to fund", rubric="names the segment's size")


def test_a_decide_exercise_has_a_right_choice_that_differs_with_the_data():
    from crmkit.lessons.exercises import ExerciseBook

    reason = "it holds more customers than any other segment here"
    one = ExerciseBook(_segments([40, 25, 60]), [_fund()], quiet=True)   # a) at_risk is largest
    two = ExerciseBook(_segments([90, 25, 60]), [_fund()], quiet=True)   # b) loyal is largest
    assert one.judge("fund", ("a", reason)).status == "correct"
    assert two.judge("fund", ("a", reason)).status == "incorrect"
    assert two.judge("fund", ("loyal", reason)).status == "correct"  # its label works too
    short = one.judge("fund", ("a", "biggest"))
    assert short.status == "invalid" and "reason" in short.message
    es = ExerciseBook(_segments([40, 25, 60]), [_fund()], lang="es", quiet=True)
    assert "motivo" in es.judge("fund", "a").message


def test_written_reasons_reach_the_instructor_with_their_rubric(tmp_path, monkeypatch):
    from crmkit.grading.outputs import written_answers
    from crmkit.lessons.exercises import ExerciseBook
    from crmkit.lessons.submission import LOG_ENV, read_log

    log = tmp_path / "log.json"
    monkeypatch.setenv(LOG_ENV, str(log))
    book = ExerciseBook(_segments([40, 25, 60]), [_fund()], quiet=True)
    book.judge("fund", ("b", "loyal customers buy again, so money there returns"))
    sub = Submission(None, "03", Student("s1", "Ana", "es"), "s1")
    g = Graded(sub, Run(1.0, log=read_log(log)))
    _grade_one(g, {})
    table = written_answers([g])
    assert table.to_dict("records") == [{
        "id": "s1", "name": "Ana", "language": "es", "notebook": "03", "exercise": "fund",
        "kind": "decide", "choice": "incorrect",
        "reason": "loyal customers buy again, so money there returns",
        "rubric": "names the segment's size", "mark": ""}]


def test_a_forged_log_is_graded_against_answers_computed_outside_the_kernel():
    from crmkit.dataset.synth import generate
    from crmkit.grading.grade import _check_outside
    from crmkit.grading.keys import answer as answer_key
    from crmkit.lessons import lesson01

    params = {"n_customers": 120, "seed": 5, "lang": "en"}
    truth = answer_key(lesson01.exercise_book(generate("sports_shop", n_customers=120, seed=5)),
                       "selection")
    forged = truth + 7
    exercises = {"selection": {"title": "Selection", "points": 1.0, "hint": "", "rtol": 1e-6,
                               "atol": 1e-9, "ordered": False}}
    checks = {"selection": {"status": "correct", "message": "", "attempts": 1,
                            "answer": encode(forged), "expected": encode(forged)}}
    log = {"books": [{"lang": "en", "exercises": exercises, "checks": checks}]}
    g = Graded(Submission(None, "01_crm_concepts", Student("s1", "Ana", "en"), "s1"),
               Run(1.0, log=log))
    _check_outside(g, params)
    _grade_one(g, {})
    assert [(e.name, e.status) for e in g.exercises] == [("selection", "incorrect")]
    assert "tampered" in g.flags[0] and "selection" in g.flags[0]
