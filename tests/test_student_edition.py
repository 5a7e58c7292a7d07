"""Editions without leaks: the student's book, hints, reports and the student's own files."""

from __future__ import annotations

import json
import re
from html import unescape

import nbformat
import pytest
from notebook_runs import NOTEBOOKS

from crmkit.cli import main
from crmkit.dataset.synth import generate
from crmkit.lessons import lesson01, lesson02, lesson03
from crmkit.lessons.edition import MANIFEST, ProtectedWorkError, write_editions
from crmkit.lessons.exercises import BEGIN, END, compare
from crmkit.report import WIDGET_VIEW, render, to_html

LESSONS = {"01_crm_concepts": lesson01.EXERCISES, "02_warehouse": lesson02.EXERCISES,
           "03_mining": lesson03.EXERCISES}


# ----------------------------------------------------------------------------- the book
def test_the_students_book_offers_no_way_to_the_answer():
    book = lesson01.exercise_book(generate("boutique", n_customers=120, seed=1))
    public = {n for n in dir(book) if not n.startswith("_")}
    assert public == {"check", "data", "hint", "judge", "lang", "lesson", "names", "quiet",
                      "results", "summary", "overview", "attempts", "student_id", "MAX_CHECKS",
                      "options", "use"}
    book.check("win_rate", 0.123)
    book.hint("win_rate")
    assert set(vars(book)) == {"lesson", "lang", "quiet", "results", "_by_name", "_hints_shown",
                               "attempts", "student_id", "_log", "_history", "_keys",
                               "_perturbed_data", "_pending", "_source", "_tried"}
    assert book.attempts == {"win_rate": 1} and book.student_id is None
    assert "0.123" not in repr(book) and "solve" not in repr(book)


def test_no_answer_key_can_be_imported_from_the_students_modules():
    import crmkit.lessons.exercises as exercises

    assert not hasattr(exercises, "answer_key")  # it was the first leak: one import, every answer
    assert not any("answer" in name and "key" in name for name in exercises.__all__)


def _reachable(root):
    """Everything reachable from ``root`` through attributes, containers, closures, bound
    methods and partials (not a function's module globals: those are the package's source,
    which any student can read); data tables are not entered."""
    import functools
    import types

    import numpy as np
    import pandas as pd

    seen, stack, found = set(), [root], []
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, types.ModuleType | type):
            continue
        seen.add(id(obj))
        found.append(obj)
        if isinstance(obj, pd.DataFrame | pd.Series | pd.Index | np.ndarray):
            continue
        if isinstance(obj, dict):
            stack += [*obj.keys(), *obj.values()]
        elif isinstance(obj, list | tuple | set | frozenset):
            stack += list(obj)
        elif isinstance(obj, types.MethodType):
            stack += [obj.__self__, obj.__func__]
        elif isinstance(obj, types.FunctionType):
            stack += [c.cell_contents for c in obj.__closure__ or () if _filled(c)]
            stack += [*(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values()]
        elif isinstance(obj, functools.partial):
            stack += [obj.func, *obj.args, *obj.keywords.values()]
        if hasattr(obj, "__dict__") and not isinstance(obj, types.FunctionType):
            stack += list(vars(obj).values())
        for slot in getattr(type(obj), "__slots__", ()):
            if hasattr(obj, slot):
                stack.append(getattr(obj, slot))
    return found


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _distinctive(value) -> list:
    """The parts of a right answer that could not turn up by chance (small whole numbers
    and one-letter choices can: a count of checks, an option letter)."""
    from crmkit.lessons.exercises import AnyOf

    items = list(value) if isinstance(value, AnyOf | list | tuple) else [value]
    return [x for x in items if (isinstance(x, str) and len(x) > 3)
            or (isinstance(x, float) and not x.is_integer())
            or (isinstance(x, int) and not isinstance(x, bool) and abs(x) > 40)]


@pytest.mark.parametrize("stem", ["01", "04"])
def test_nothing_reachable_from_a_book_holds_an_answer_or_computes_one(stem):
    from crmkit.grading.keys import answers_for
    from crmkit.lessons import lesson04

    module = {"01": lesson01, "04": lesson04}[stem]
    data = generate("sports_shop" if stem == "01" else "bendita", n_customers=300, seed=3)
    book = module.exercise_book(data)
    answers = answers_for(book, module)
    book.check(book.names[1], 0.5)
    # the attack: walk the book for any right answer, or any function that computes one
    solvers = {id(e.solve) for e in module.EXERCISES}
    wanted = [x for v in answers.values() for x in _distinctive(v)]
    assert len(wanted) >= 5  # the attack has something to look for
    reached = _reachable(book)
    assert not [o for o in reached if id(o) in solvers]
    _holds_none(reached, wanted)
    with pytest.raises(Exception, match="keeps no answers"):
        book._by_name[book.names[1]].solve(book.lesson)


def _holds_none(reached, wanted) -> None:
    """No text or number among the ``reached`` objects is one of the ``wanted`` answers."""
    texts = {o.casefold() for o in reached if isinstance(o, str)}
    numbers = [o for o in reached if isinstance(o, int | float) and not isinstance(o, bool)]
    for right in wanted:
        if isinstance(right, str):
            assert right.casefold() not in texts, right
        else:
            assert not any(abs(float(n) - right) <= 1e-9 * max(1, abs(right)) for n in numbers)


@pytest.fixture(scope="module")
def waiting_books():
    """Books of notebooks 02 and 03 as their notebooks first build them: every answer of 02
    waits for the warehouse, 03's for the models handed over later."""
    data = generate("fashion_chain", n_customers=200, seed=7)
    ws = lesson02.built_workshop(data, seed=7)
    shop = generate("sports_shop", n_customers=300, seed=3)
    split = lesson03.choose_split(shop)[0]
    return {"02": (lesson02.exercise_book(ws), ws, lesson02.exercises()),
            "03": (lesson03.exercise_book(shop, split), lesson03.notebook_lesson(shop, split),
                   lesson03.EXERCISES)}


@pytest.mark.parametrize("stem", ["02", "03"])
def test_nothing_reachable_from_a_waiting_book_holds_an_answer_or_computes_one(
        stem, waiting_books, monkeypatch):
    import crmkit.lessons.sealed as sealed
    from crmkit.grading.keys import answers_on

    monkeypatch.setattr(sealed, "ITERATIONS", 1)  # the same seals, without the slow digests
    book, lesson, exercises = waiting_books[stem]
    solvers = {id(e.solve) for e in (*exercises, *LESSONS[f"{stem}_" + {
        "02": "warehouse", "03": "mining"}[stem]])}
    # the attack: walk the book for any function that computes an answer, while answers wait
    assert len(book._pending) >= 3  # the attack has waiting answers to look for
    assert not [o for o in _reachable(book) if id(o) in solvers]
    if stem == "03":
        book.use(holdout=lesson.models["holdout"])  # one model handed over: the rest still wait
        assert book._pending
        assert not [o for o in _reachable(book) if id(o) in solvers]
        book.use(**lesson.models)
    book.check(book.names[1], 0.5)
    answers = answers_on(lesson, exercises)
    wanted = [x for v in answers.values() for x in _distinctive(v)]
    assert len(wanted) >= 5
    # the lesson itself (the shop's data, the models the notebook made) is the student's own
    own = {id(o) for o in _reachable(book.lesson)}
    reached = [o for o in _reachable(book) if id(o) not in own]
    assert not [o for o in reached if id(o) in solvers]
    _holds_none(reached, wanted)


def _solution_lines(stem: str) -> dict[str, list[str]]:
    """The lines between the solution markers of each exercise cell, by exercise name.

    A line that the notebook also shows outside every solution (a guard such as
    ``if data.has("sales"):``) gives nothing away and is left out.
    """
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    found, shown = {}, set()
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] != "code":
            continue
        outside = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), "", src, flags=re.S)
        shown.update(line.strip() for line in outside.splitlines())
        if BEGIN not in src:
            continue
        name = re.search(r'book\.check\("(\w+)"', src).group(1)
        block = src.split(BEGIN, 1)[1].split(END, 1)[0]
        found[name] = [line for line in block.splitlines() if line.strip()]
    return {name: [line for line in lines if line.strip() not in shown]
            for name, lines in found.items()}


def _plain(text: str) -> str:
    text = re.sub(r"^\s*answer\s*=\s*", "", text)
    return re.sub(r"[\s`'\"]", "", text).casefold()


@pytest.mark.parametrize("stem", sorted(LESSONS))
def test_no_hint_is_the_solution(stem):
    solutions = _solution_lines(stem)
    assert set(solutions) == {e.name for e in LESSONS[stem]}
    for ex in LESSONS[stem]:
        for lang in ("en", "es"):
            hints = [_plain(ex.hint_text(i, lang)) for i in range(len(ex.hints))]
            for line in solutions[ex.name]:
                code = _plain(line)
                if len(code) < 12:  # too short to be a solution by itself (e.g. "SELECT")
                    continue
                for h in hints:
                    if code in h and re.fullmatch(r'\s*answer\s*=\s*"\w+"\s*', line):
                        # a one-word answer may appear only as one of the choices offered
                        assert h.count(",") >= 3, (ex.name, lang, line)
                    else:
                        assert code not in h, (ex.name, lang, line)


def test_a_number_in_quotes_gets_advice_for_numbers():
    status, detail = compare("0.566", 0.566)
    assert status == "wrong_shape"
    assert detail == "expected a number, got a text: write the number without quotes"
    assert "int()" not in detail
    assert compare(3, "web")[1].startswith("expected a text, got a number: write the name")


# ----------------------------------------------------------------------------- crmkit student
def test_student_out_never_overwrites_a_students_work(tmp_path, capsys):
    root = tmp_path / "student"
    out = root / "en"
    assert main(["student", "01", "02", "--out", str(root)]) == 0
    assert (out / MANIFEST).exists() and (root / "es" / MANIFEST).exists()
    mine = out / "01_crm_concepts.ipynb"
    worked = mine.read_text(encoding="utf-8").replace("# your code here", "answer = 42  # me")
    mine.write_text(worked, encoding="utf-8")
    other = out / "02_warehouse.ipynb"
    other.unlink()  # a missing notebook is written again

    capsys.readouterr()
    assert main(["student", "01", "02", "--out", str(root)]) == 2
    err = capsys.readouterr().err
    assert "01_crm_concepts.ipynb was changed after it was written" in err and "--force" in err
    assert mine.read_text(encoding="utf-8") == worked
    assert not other.exists(), "a refusal writes nothing"

    assert main(["student", "01", "02", "--out", str(root), "--keep"]) == 0
    said = capsys.readouterr().out
    assert "01_crm_concepts.ipynb (en): kept as you changed it" in said and "(written)" in said
    assert mine.read_text(encoding="utf-8") == worked and other.exists()

    assert main(["student", "01", "02", "--out", str(root)]) == 2  # still protected
    assert main(["student", "01", "02", "--out", str(root), "--force"]) == 0
    assert "answer = 42" not in mine.read_text(encoding="utf-8")
    assert main(["student", "--out", str(root)]) == 0  # nothing changed since: no refusal
    assert "(unchanged)" in capsys.readouterr().out


def test_an_unknown_file_in_the_folder_counts_as_work(tmp_path):
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "01_crm_concepts.ipynb").write_text("{}", encoding="utf-8")
    with pytest.raises(ProtectedWorkError, match="01_crm_concepts.ipynb"):
        write_editions([NOTEBOOKS / "01_crm_concepts.ipynb"], tmp_path, student=True)
    assert not (tmp_path / "en" / "01_crm_concepts.ipynb").exists(), "a refusal writes nothing"


# ----------------------------------------------------------------------------- reports
def test_offline_html_shows_the_widgets_static_text(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("explorer()")
    note = "[Interactive cube explorer: open this notebook in Jupyter]"
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={WIDGET_VIEW: {"model_id": "abc", "version_major": 2,
                                            "version_minor": 0}, "text/plain": note})]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nbformat.write(nb, str(tmp_path / "w.ipynb"))
    html = to_html(tmp_path / "w.ipynb", tmp_path / "w.html").read_text(encoding="utf-8")
    assert note in html
    assert "widget-view+json" not in html and "widget-state+json" not in html


def test_student_report_shows_exercises_as_the_student_sees_them(tmp_path, capfd):
    rep = render(NOTEBOOKS / "01_crm_concepts.ipynb", out_dir=tmp_path, progress=False,
                 parameters={"profile": "boutique", "n_customers": 150, "lang": "en"},
                 edition="student")
    assert rep.html.name == "01_crm_concepts.student.html"
    html = rep.html.read_text(encoding="utf-8")
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert "BEGIN SOLUTION" not in text
    for name, lines in _solution_lines("01_crm_concepts").items():
        for line in lines:
            assert line.strip() not in text, (name, line)  # no line of any solution
    assert html.count("your code here") == len(_solution_lines("01_crm_concepts"))  # stubs
    assert "areas = concepts.crm_areas(data)" in text  # the rest of the code stays visible
    assert "not done yet" in text and "correct, well done" not in text
    assert "without encryption" not in capfd.readouterr().err  # no kernel noise
