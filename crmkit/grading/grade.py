"""``crmkit grade``: re-run every submission on its student's data and grade each exercise.

A submission is a notebook under ``SUBMISSIONS/<student id>/`` (the folders
``crmkit assign`` wrote); its owner is the folder's student (or, for a
notebook outside such a folder, the ``student_id`` of its parameters cell).
Each one is executed afresh (:func:`crmkit.grading.run.execute`) with its
owner's seed, so every answer is judged against the answer computed for that
student's own data, whatever seed or id the notebook was run with before.

Points: an exercise is worth its ``points`` (1 by default) when correct, half
when close and nothing otherwise; an exercise the shop's data cannot answer
(skipped) counts for nothing either way. An answer that is wrong for the
student's own data but right for *another* student's data, on at least
``copy_min`` exercises of one notebook, flags the submission as probably
copied from that data.

Checks: a student's notebook logs every check it makes
(:data:`~crmkit.lessons.submission.CHECKS_FILE`, next to the notebook); the
grade counts them per exercise (``attempts``) and flags an exercise checked
with more than :data:`PROBING` different answers, a sign of answers found by
trial rather than by the lesson.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lessons.edition import _source
from ..lessons.exercises import _say, compare
from ..lessons.submission import CHECKS_FILE, decode, read_history
from .assign import STUDENT_PARAMETERS, parameters_cell, read_assignment
from .keys import answers_on
from .roster import SECRET_FILE, Student, course_secret, read_roster, student_seed
from .run import Run, execute

__all__ = ["Submission", "ExerciseGrade", "Graded", "find_submissions", "grade_class",
           "claimed_id", "POINTS", "PROBING", "check_counts", "probing_flags", "OUTSIDE",
           "outside_answers"]

#: Different answers checked for one exercise beyond which the submission is flagged.
PROBING = 20
#: Share of an exercise's points each status earns.
POINTS = {"correct": 1.0, "close": 0.5}
_JUDGED = ("correct", "close", "incorrect", "wrong_shape")


@dataclass(frozen=True)
class Submission:
    """One submitted notebook and whose it is."""

    path: Path
    notebook: str
    student: Student | None
    claimed: str | None  # the student_id written in its parameters cell


@dataclass
class ExerciseGrade:
    name: str
    title: str
    status: str
    points: float
    possible: float
    message: str
    hint: str = ""
    attempts: int = 0
    kind: str = "compute"
    reason: str | None = None  # the written reason of a decide/interpret answer
    rubric: str = ""


@dataclass
class Graded:
    """A graded submission: its run, its exercises and anything the instructor should see."""

    submission: Submission
    run: Run | None
    exercises: list[ExerciseGrade] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    copied_from: dict[str, list[str]] = field(default_factory=dict)
    checks: dict[str, tuple[int, int]] = field(default_factory=dict)  # the student's own checks

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def possible(self) -> float:
        return sum(e.possible for e in self.exercises)


def _ran(g: Graded) -> tuple[Student, Run]:
    """The student and run of a graded submission that was run (only roster students' are)."""
    if g.submission.student is None or g.run is None:
        raise RuntimeError(f"{g.submission.path} was not run (its student is not on the "
                           "roster), so it has no answers to grade.")
    return g.submission.student, g.run


def claimed_id(nb: dict) -> str | None:
    """The literal ``student_id`` of a notebook's parameters cell (None if absent)."""
    cell = parameters_cell(nb)
    if cell is None:
        return None
    try:
        tree = ast.parse(_source(cell))
    except SyntaxError:
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "student_id"
                                                 for t in node.targets)
                and isinstance(node.value, ast.Constant) and node.value.value is not None):
            return str(node.value.value)
    return None


def find_submissions(root: str | Path, students: list[Student]) -> list[Submission]:
    """Every notebook under ``root`` (checkpoints and hidden files left out), with its owner."""
    from ..errors import ParameterError

    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"submissions folder {root} does not exist; give the folder that "
                             "holds one folder per student id (as crmkit assign wrote them).")
    by_id = {s.id: s for s in students}
    found = []
    for path in sorted(root.rglob("*.ipynb")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            nb = {}
        claimed = claimed_id(nb)
        owner = by_id.get(rel.parts[0]) if len(rel.parts) > 1 else None
        if owner is None and claimed is not None:
            owner = by_id.get(claimed)
        found.append(Submission(path, path.stem, owner, claimed))
    return found


#: The lesson module of each notebook: every right answer is computed again outside the
#: student's kernel (:func:`outside_answers`), never taken from the notebook's run.
OUTSIDE = {"01_crm_concepts": "crmkit.lessons.lesson01",
           "02_warehouse": "crmkit.lessons.lesson02",
           "03_mining": "crmkit.lessons.lesson03",
           "04_case_bendita": "crmkit.lessons.lesson04"}


def _lesson_of(notebook: str, values: dict[str, Any], workdir: Path) -> tuple[Any, Any]:
    """What ``notebook``'s book is built on for ``values`` (its parameters), and the exercises
    as that book checks them: the data (01, 04), the workshop the notebook leaves (02),
    the lesson with the models the notebook fits (03)."""
    import importlib

    from ..lessons.notebook import is_own_data, setup

    module = importlib.import_module(OUTSIDE[notebook])
    data = setup(**values)
    lang = values["lang"]
    if notebook == "02_warehouse":
        if is_own_data(data):  # the lesson runs on a demo copy of the shop's profile
            data = setup(**{**values, "data_dir": None})
        ws = module.built_workshop(data, seed=values["seed"], warehouse_dir=workdir)
        return ws, module.exercises(lang)
    if notebook == "03_mining":
        split, _ = module.choose_split(data, values.get("holdout_days"))
        return module.notebook_lesson(data, split, lang, seed=values["seed"]), module.EXERCISES
    return data, module.EXERCISES


def outside_answers(notebook: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The right answers of ``notebook`` for ``params``, computed here from the lesson module's
    definitions, as the notebook would build its book (None for a notebook of no lesson)."""
    import tempfile

    from ..report import find_notebooks, notebook_parameters

    if notebook not in OUTSIDE:
        return None
    values = {**notebook_parameters(find_notebooks([notebook])[0]), **params}
    values.pop("student_id", None)
    with tempfile.TemporaryDirectory(prefix="crmkit-key-") as tmp:
        on, exercises = _lesson_of(notebook, values, Path(tmp))
        return answers_on(on, exercises)


def check_counts(history: list[dict], student_id: str | None = None) -> dict[str, tuple[int, int]]:
    """Per exercise, ``(checks, different answers)`` in a notebook's check log
    (:func:`~crmkit.lessons.submission.read_history`); with ``student_id``, only that student's.

    >>> check_counts([{"exercise": "a", "answer": "x"}, {"exercise": "a", "answer": "x"},
    ...               {"exercise": "a", "answer": "y"}, {"exercise": "b", "answer": "x"}])
    {'a': (3, 2), 'b': (1, 1)}
    """
    seen: dict[str, list[str]] = {}
    for item in history:
        if student_id is None or item.get("student_id") in (None, student_id):
            seen.setdefault(item["exercise"], []).append(str(item.get("answer")))
    return {name: (len(marks), len(set(marks))) for name, marks in seen.items()}


def probing_flags(counts: dict[str, tuple[int, int]], limit: int = PROBING) -> list[str]:
    """A flag per exercise checked with more than ``limit`` different answers.

    >>> probing_flags({"a": (40, 25), "b": (30, 3)})
    ['checked by trial? a was checked 40 times with 25 different answers']
    """
    return [f"checked by trial? {name} was checked {n} times with {distinct} different answers"
            for name, (n, distinct) in counts.items() if distinct > limit]


def _check_outside(g: Graded, params: dict[str, Any]) -> None:
    """Put the answers computed here in the run's log (a student's kernel never writes one:
    a right answer found in the log was put there by the notebook's code, and is flagged
    when it differs); flag checks judged in the kernel that no answer here can grade."""
    from ..lessons.submission import encode

    books = _ran(g)[1].log.get("books", [])
    if not books:
        return
    book = books[-1]
    checks = book.setdefault("checks", {})
    logged = {name: check.pop("expected") for name, check in checks.items()
              if check.get("expected", {"k": "none"}).get("k") != "none"}
    try:
        outside = outside_answers(g.submission.notebook, params)
    except Exception as exc:  # e.g. parameters the lesson refuses: the run said so too
        outside, why = None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    else:
        why = "" if outside is not None else "a notebook of no lesson"
    outside = outside or {}
    differ = []
    for name, value in outside.items():
        ex = book.get("exercises", {}).get(name, {})
        check = checks.setdefault(name, {"status": "missing", "answer": {"k": "none"}})
        if name in logged:
            same, _ = compare(decode(logged[name]), value, rtol=ex.get("rtol", 1e-6),
                              atol=ex.get("atol", 1e-9), ordered=ex.get("ordered", False))
            if same != "correct":
                differ.append(name)
        check["expected"] = encode(value)
    if differ:
        g.flags.append(f"checks tampered with or run on other data: the notebook's own right "
                       f"answers for {', '.join(differ)} differ from those computed for this "
                       "student's data; graded against the latter")
    unkeyed = [n for n, c in checks.items() if c.get("status") in _JUDGED and n not in outside]
    if unkeyed:
        g.flags.append(f"no answer could be computed outside the notebook for "
                       f"{', '.join(unkeyed)}{f' ({why})' if why else ''}; graded as the "
                       "notebook judged them")


def _exercise_info(graded: list[Graded]) -> dict[tuple[str, str], dict]:
    """Per (notebook, language): the exercises as the books described them."""
    info: dict[tuple[str, str], dict] = {}
    for g in graded:
        for book in (g.run.log.get("books", []) if g.run else [])[-1:]:
            key = (g.submission.notebook, book.get("lang", "en"))
            info.setdefault(key, {}).update(book.get("exercises", {}))
    return info


def _grade_one(g: Graded, info: dict) -> None:
    sub, lang = g.submission, _ran(g)[0].lang
    books = g.run.log.get("books", []) if g.run else []
    book = books[-1] if books else {"exercises": {}, "checks": {}}
    known = (info.get((sub.notebook, lang)) or info.get((sub.notebook, "en"))
             or info.get((sub.notebook, "es")) or {})
    exercises = {**known, **book.get("exercises", {})}
    for name, ex in exercises.items():
        check = book.get("checks", {}).get(name, {})
        status = check.get("status", "missing")
        if status in _JUDGED and "expected" in check:  # judged again, outside the kernel
            status, _ = compare(decode(check["answer"]), decode(check["expected"]),
                                rtol=ex["rtol"], atol=ex["atol"], ordered=ex["ordered"],
                                lang=book.get("lang", lang))
            if status == "correct" and check.get("perturbed"):
                status = "incorrect"  # the query was wrong on the exercise's perturbed copy
        worth = float(ex.get("points", 1.0))
        possible = 0.0 if status == "skipped" else worth
        message = (check.get("message") if status == check.get("status") and check.get("message")
                   else _say(status if status != "limit" else "missing", lang,
                             title=ex.get("title", name), detail="", hint="", n=0))
        g.exercises.append(ExerciseGrade(
            name, ex.get("title", name), status, worth * POINTS.get(status, 0.0), possible,
            message, ex.get("hint", "") if status not in ("correct", "skipped") else "",
            max(int(check.get("attempts", 0)), g.checks.get(name, (0, 0))[0]),
            ex.get("kind", "compute"), check.get("reason"),
            ex.get("rubric", "")))


def _copies(graded: list[Graded], copy_min: int) -> None:
    """Flag answers that are right for another student's data and wrong for one's own."""
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for g in graded:
        if g.run is None or g.submission.student is None:
            continue
        for book in g.run.log.get("books", [])[-1:]:
            for name, check in book.get("checks", {}).items():
                if check.get("expected", {}).get("k", "none") != "none":
                    expected.setdefault((g.submission.notebook, name), {})[
                        g.submission.student.id] = decode(check["expected"])
    for g in graded:
        if g.run is None or not g.run.log.get("books") or g.submission.student is None:
            continue
        book = g.run.log["books"][-1]
        own = g.submission.student.id
        matches: dict[str, list[str]] = {}
        for e in g.exercises:
            check = book.get("checks", {}).get(e.name, {})
            if e.status == "correct" or check.get("answer", {}).get("k", "none") == "none":
                continue
            answer = decode(check["answer"])
            ex = book["exercises"].get(e.name, {})
            for other, value in expected.get((g.submission.notebook, e.name), {}).items():
                if other == own:
                    continue
                status, _ = compare(answer, value, rtol=ex.get("rtol", 1e-6),
                                    atol=ex.get("atol", 1e-9), ordered=ex.get("ordered", False),
                                    lang=book.get("lang", "en"))
                if status == "correct":
                    matches.setdefault(other, []).append(e.name)
        most = max((len(names) for names in matches.values()), default=0)
        for other, names in matches.items():
            # small whole-number answers coincide by chance: only the data matched most count
            if len(names) >= copy_min and len(names) == most:
                g.copied_from[other] = names
                g.flags.append(f"probably copied: {len(names)} answers ({', '.join(names)}) are "
                               f"right for the data of {other}, not for this student's")


def _merged(log: dict) -> dict:
    """One book from all the books a notebook made (a later check of an exercise wins).

    >>> _merged({"books": [{"lang": "en", "exercises": {"a": {}}, "checks": {"a": 1}},
    ...                    {"lang": "en", "exercises": {"b": {}}, "checks": {"b": 2}}]})
    {'books': [{'lang': 'en', 'exercises': {'a': {}, 'b': {}}, 'checks': {'a': 1, 'b': 2}}]}
    """
    books = log.get("books", [])
    if len(books) < 2:
        return log
    merged = {**books[-1], "exercises": {}, "checks": {}}
    for book in books:
        merged["exercises"].update(book.get("exercises", {}))
        merged["checks"].update(book.get("checks", {}))
    return {**log, "books": [merged]}


def _run_one(sub: Submission, params: dict[str, Any], cell_timeout: float,
             total_timeout: float | None) -> Graded:
    if sub.student is None:
        raise RuntimeError(f"{sub.path} names no student of the roster; it cannot be run.")
    student = sub.student
    try:
        nb = json.loads(sub.path.read_text(encoding="utf-8"))
        run = execute(nb, params, cell_timeout=cell_timeout, total_timeout=total_timeout)
    except (ValueError, UnicodeDecodeError, KeyError, AttributeError, TypeError) as exc:
        run = Run(0.0, f"not a notebook that can run: {type(exc).__name__}: {exc}")
    g = Graded(sub, run)
    if sub.path.parent.name == student.id:  # the student's folder: their checks are there
        g.checks = check_counts(read_history(sub.path.parent / CHECKS_FILE), student.id)
        g.flags += probing_flags(g.checks)
    if sub.claimed is not None and sub.claimed != student.id:
        g.flags.append(f"ran with another id: its parameters cell says student_id="
                       f"{sub.claimed!r}; graded on the data of {student.id}")
    seeds = {b.get("seed") for b in run.log.get("books", [])} - {None}
    if seeds - {params["seed"]}:
        g.flags.append("ran on other data: its exercise book was built from seed "
                       f"{sorted(seeds)}, not this student's seed; its answers were judged "
                       "against that data")
    if run.timed_out:
        g.flags.append(f"time limit: {run.error}")
    run.log = _merged(run.log)

    _check_outside(g, {k: v for k, v in params.items() if k != "student_id"})
    return g


def grade_class(submissions: str | Path, roster: str | Path, *, secret: str | Path = SECRET_FILE,
                cell_timeout: float = 60, total_timeout: float | None = None,
                copy_min: int = 2, jobs: int = 1,
                progress: Callable[[Submission, Graded], object] | None = None
                ) -> tuple[list[Graded], list[Student]]:
    """Grade every submission under ``submissions``; return them and the roster.

    ``jobs`` notebooks run at a time (each in its own kernel); ``progress(submission,
    graded)`` is called after each run (e.g. to print a line).
    """
    from concurrent.futures import ThreadPoolExecutor

    students = read_roster(roster)
    key = course_secret(secret)
    assigned = read_assignment(secret)
    graded: list[Graded] = []
    tasks = []
    for sub in find_submissions(submissions, students):
        if sub.student is None:
            graded.append(Graded(sub, None, flags=[
                "not on the roster: the folder and the notebook's student_id name no "
                "student of the roster"]))
            continue
        params = {k: v for k, v in assigned.get(sub.notebook, {}).items()
                  if k not in STUDENT_PARAMETERS}
        params.update(student_id=sub.student.id, seed=student_seed(key, sub.student.id),
                      lang=sub.student.lang)
        tasks.append((sub, params))

    def one(task: tuple[Submission, dict[str, Any]]) -> Graded:
        g = _run_one(*task, cell_timeout, total_timeout)
        if progress is not None:
            progress(task[0], g)
        return g

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        graded += list(pool.map(one, tasks))
    info = _exercise_info(graded)
    for g in graded:
        if g.run is not None:
            _grade_one(g, info)
    _copies([g for g in graded if g.run is not None], copy_min)
    return graded, students
