"""A simulated class, end to end: assigned, completed by script, collected and graded.

Six students on notebook 01 (a small shop, so the class grades in about a
minute and a half): one right, one partly right, one who copied another
student's answers, one whose notebook kills its kernel, one stuck in an
endless loop, and one who worked in the other language's edition. What each
one earns is known by construction: the right student's exercises are what
the shop's data can answer (the instructor's key, :func:`crmkit.grading.keys.answer`, on the
student's own data), and every other student differs from that in a way the
script chose.
"""

from __future__ import annotations

import csv
import json
import re

import pytest
from notebook_runs import NOTEBOOKS

from crmkit.cli import main
from crmkit.dataset.synth import generate
from crmkit.grading.keys import answer as answer_key
from crmkit.grading.outputs import CANVAS_COLUMNS, MOODLE_COLUMNS
from crmkit.grading.roster import course_secret, student_seed
from crmkit.lessons import lesson01
from crmkit.lessons.exercises import BEGIN, strip_source

STEM = "01_crm_concepts"
N_CUSTOMERS = 150
CELL_LIMIT = 20  # seconds: the endless loop is stopped after this
ROSTER = [("right", "Ana Right", "en"), ("partly", "Pablo Parcial", "es"),
          ("copier", "Carl Copy", "en"), ("crash", "Cora Crash", "en"),
          ("loop", "Lola Loop", "es"), ("lang", "Luis Lengua", "es")]
PARTLY_DONE = ("best_area", "win_rate", "crm_model")  # the partly-right student's solved ones
COPIED = ("win_rate", "selection", "mail_and_phone", "late_incidents", "out_of_hours")


def _solutions() -> dict[str, str]:
    """Exercise name -> the source of its cell in the instructor's notebook (with solution)."""
    nb = json.loads((NOTEBOOKS / f"{STEM}.ipynb").read_text(encoding="utf-8"))
    out = {}
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and BEGIN in src:
            name = src.split('book.check("', 1)[1].split('"', 1)[0]
            out[name] = cell["id"], src
    return out


def _complete(path, edit) -> None:
    """Fill the student's notebook: ``edit(name, instructor_source)`` gives each exercise cell."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    by_id = {cell_id: (name, src) for name, (cell_id, src) in _solutions().items()}
    for cell in nb["cells"]:
        if cell.get("id") in by_id:
            name, src = by_id[cell["id"]]
            cell["source"] = edit(name, src).splitlines(keepends=True)  # as Jupyter saves it
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def _set_lang(path, lang) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "parameters" in cell["metadata"].get("tags", []):
            src = "".join(cell["source"])
            cell["source"] = src.replace('lang = "es"', f'lang = "{lang}"')
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def _set_id(path, sid) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "parameters" in cell["metadata"].get("tags", []):
            src = "".join(cell["source"])
            cell["source"] = re.sub(r'student_id = "[^"]*"', f'student_id = "{sid}"', src)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def _key(seed: int) -> dict:
    """The right answers of notebook 01 for one seed, and which exercises the data can answer."""
    data = generate("sports_shop", n_customers=N_CUSTOMERS, seed=seed)
    book = lesson01.exercise_book(data)
    return {name: (answer_key(book, name) if book.judge(name, 0).status != "skipped" else None)
            for name in book.names}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    roster = root / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "language"])
        w.writerows(ROSTER)
    secret = root / "instructor" / "course_secret.txt"
    # A fixed secret: with a new one each run, two students' data could by chance give
    # answers within each other's "close" band, and the copy case would score half points.
    secret.parent.mkdir(parents=True)
    secret.write_text("crm-workbench class test secret, fixed\n", encoding="utf-8")
    assert main(["assign", STEM, "--roster", str(roster), "--out", str(root / "class"),
                 "--secret", str(secret), "-p", "n_customers", str(N_CUSTOMERS)]) == 0
    seeds = {sid: student_seed(course_secret(secret), sid) for sid, _, _ in ROSTER}
    keys = {sid: _key(seed) for sid, seed in seeds.items()}
    nb = {sid: root / "class" / sid / f"{STEM}.ipynb" for sid, _, _ in ROSTER}

    _complete(nb["right"], lambda name, src: src)
    _complete(nb["partly"], lambda name, src: src if name in PARTLY_DONE else
              "answer = -1\nbook.check('selection', answer)\n" if name == "selection" else
              strip_source(src))
    copied = {name: keys["right"][name] for name in COPIED}
    _complete(nb["copier"], lambda name, src: (
        f"answer = {copied[name]!r}\nbook.check({name!r}, answer)\n" if name in copied
        else src))
    _set_id(nb["copier"], "right")  # started from the other student's notebook
    _complete(nb["crash"], lambda name, src: "import os\nos._exit(1)\n"
              if name == "crm_model" else src)
    _complete(nb["loop"], lambda name, src: "while True:\n    pass\n"
              if name == "selection" else src)
    _complete(nb["lang"], lambda name, src: src)
    _set_lang(nb["lang"], "en")  # worked in the English edition, though the roster says es

    out = root / "grades"
    assert main(["grade", str(root / "class"), "--roster", str(roster), "--out", str(out),
                 "--secret", str(secret), "--timeout", str(CELL_LIMIT),
                 "--total-timeout", "240", "--jobs", "2"]) == 0
    with (out / "gradebook.csv").open(encoding="utf-8") as f:
        book = {row["id"]: row for row in csv.DictReader(f)}
    return {"out": out, "book": book, "keys": keys, "root": root, "secret": secret}


def _answerable(key) -> list[str]:
    return [name for name, value in key.items() if value is not None]


def _points(graded, sid) -> float:
    return float(graded["book"][sid]["points"])


def test_the_right_student_gets_every_point_their_data_allows(graded):
    answerable = _answerable(graded["keys"]["right"])
    assert _points(graded, "right") == len(answerable) > 4
    assert float(graded["book"]["right"]["possible"]) == len(answerable)
    assert graded["book"]["right"]["flags"] == ""  # nothing tampered, nothing copied


def test_the_partly_right_student_gets_the_points_of_what_they_solved(graded):
    solved = [n for n in PARTLY_DONE if graded["keys"]["partly"][n] is not None]
    row = graded["book"]["partly"]
    assert _points(graded, "partly") == len(solved)
    for name in graded["keys"]["partly"]:
        if name not in PARTLY_DONE and graded["keys"]["partly"][name] is not None:
            assert float(row[f"{STEM}: {name}"]) == 0.0


def test_answers_copied_from_another_students_data_score_nothing_and_are_flagged(graded):
    keys = graded["keys"]
    differ = [n for n in COPIED if keys["right"][n] is not None
              and keys["right"][n] != keys["copier"][n]]
    assert len(differ) >= 2, "the two students' data should give different answers"
    row = graded["book"]["copier"]
    for name in differ:
        assert float(row[f"{STEM}: {name}"]) == 0.0
    assert "probably copied" in row["flags"] and "data of right" in row["flags"]
    assert row["flags"].count("probably copied") == 1  # only the data it matches most
    assert "ran with another id" in row["flags"] and "student_id='right'" in row["flags"]
    assert "probably copied" not in graded["book"]["right"]["flags"]


def test_a_notebook_that_kills_its_kernel_keeps_the_points_earned_before(graded):
    names = list(_solutions())  # in the notebook's order: the kernel dies at crm_model
    before = names[:names.index("crm_model")]
    assert _points(graded, "crash") == len([n for n in before
                                            if graded["keys"]["crash"][n] is not None])
    summary = (graded["out"] / "summary.md").read_text(encoding="utf-8")
    assert "crash (" in summary.split("## Submissions that failed to run")[1].split("##")[0]


def test_an_endless_loop_is_stopped_at_the_time_limit_and_the_rest_is_graded(graded):
    key = graded["keys"]["loop"]
    row = graded["book"]["loop"]
    assert "time limit" in row["flags"] and f"({CELL_LIMIT} s)" in row["flags"]
    assert float(row[f"{STEM}: selection"]) == 0.0
    assert _points(graded, "loop") == len(_answerable(key)) - (key["selection"] is not None)


def test_a_student_in_the_other_languages_edition_is_graded_and_answered_in_theirs(graded):
    assert _points(graded, "lang") == len(_answerable(graded["keys"]["lang"]))
    page = (graded["out"] / "feedback" / "lang.html").read_text(encoding="utf-8")
    assert 'lang="es"' in page and "Puntuación" in page


def test_the_graded_run_names_the_student_and_uses_their_seed(graded):
    run = json.loads((graded["out"] / "runs" / "right" / f"{STEM}.ipynb").read_text())
    said = "".join("".join(o.get("text", "")) for c in run["cells"] for o in c.get("outputs", []))
    assert "Exercises of student right:" in said
    seed = student_seed(course_secret(graded["secret"]), "right")
    injected = next(c for c in run["cells"]
                    if "injected-parameters" in c["metadata"].get("tags", []))
    assert f"seed = {seed}" in "".join(injected["source"])


def test_each_students_data_differ_and_feedback_never_shows_an_answer(graded):
    seeds = {student_seed(course_secret(graded["secret"]), sid) for sid, _, _ in ROSTER}
    assert len(seeds) == len(ROSTER)
    for sid, _, _ in ROSTER:
        page = (graded["out"] / "feedback" / f"{sid}.html").read_text(encoding="utf-8")
        for name, value in graded["keys"][sid].items():
            if isinstance(value, float):
                assert f"{value:.4f}"[:-1] not in page, (sid, name)


def test_the_gradebooks_have_the_columns_canvas_and_moodle_import(graded):
    with (graded["out"] / "gradebook_canvas.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:5] == CANVAS_COLUMNS and rows[0][5] == "CRM notebooks"
    assert [r[2] for r in rows[1:]] == [sid for sid, _, _ in ROSTER]  # SIS User ID
    with (graded["out"] / "gradebook_moodle.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [*MOODLE_COLUMNS, "CRM notebooks", "CRM notebooks feedback"]
    points = {r[0]: float(r[3]) for r in rows[1:]}
    assert points == {sid: _points(graded, sid) for sid, _, _ in ROSTER}


def test_no_student_file_holds_the_course_secret(graded):
    secret = graded["secret"].read_text(encoding="utf-8").strip()
    for path in (graded["root"] / "class").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(encoding="utf-8", errors="replace")
