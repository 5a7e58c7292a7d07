"""What ``crmkit grade`` writes: gradebooks, a feedback page per student, the instructor's summary.

``OUT/`` receives

- ``gradebook.csv``: one row per roster student: ``id``, ``name``, ``email``,
  ``language``, then per notebook ``<notebook>: <exercise>`` (points earned),
  ``<notebook>: points`` and ``<notebook>: possible``, then ``points``,
  ``possible``, ``percent``, ``status`` (graded, failed to run, not
  submitted) and ``flags`` (time limit, probably copied, ran with another id, checked by trial);
- ``gradebook_canvas.csv``: Canvas' gradebook import layout: ``Student``,
  ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section`` and one column named
  after the assignment holding the points (Canvas matches students by the
  roster id as *SIS User ID*; ``ID`` is left empty, Canvas' own number being
  unknown here; a new assignment column creates the assignment);
- ``gradebook_moodle.csv``: for Moodle's *Import > CSV file*: ``ID number``,
  ``Email address``, ``Full name``, the assignment's points and
  ``<assignment> feedback`` (map *ID number* to the user's ID number, the
  points to a grade item and the feedback column to its feedback);
- ``feedback/<id>.html``: each student's page, in their language: verdict,
  points and hint per exercise, never an answer;
- ``written_answers.csv``: the written reasons of *decide* and *interpret*
  exercises, for marking by hand: ``id``, ``name``, ``language``,
  ``notebook``, ``exercise``, ``kind``, ``choice`` (the status of the choice),
  ``reason``, ``rubric`` and an empty ``mark`` column;
- ``summary.md``: score distribution, exercises most missed, submissions that
  failed to run and why, and every flag;
- ``runs/<id>/<notebook>.ipynb``: each notebook as the grader executed it
  (outputs included), to see why a cell failed.

Every file is written atomically, under a lock on the folder.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd
from filelock import FileLock

from ..i18n import format_number, t
from ..lessons.submission import CHECKS_FILE
from ..warehouse.export import neutralise
from .grade import PROBING, Graded
from .roster import Student

__all__ = ["gradebook", "write_outputs", "CANVAS_COLUMNS", "MOODLE_COLUMNS"]

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["ID number", "Email address", "Full name"]


def _status(runs: list[Graded]) -> str:
    if not runs:
        return "not submitted"
    if any(g.run is not None and g.run.error for g in runs):
        return "graded (a cell failed)"
    return "graded"


def gradebook(graded: list[Graded], students: list[Student]) -> pd.DataFrame:
    """One row per roster student: points per exercise and notebook, totals and flags."""
    notebooks = sorted({g.submission.notebook for g in graded})
    rows = []
    for s in students:
        mine = [g for g in graded if g.submission.student == s]
        row = {"id": s.id, "name": s.name, "email": s.email, "language": s.lang}
        for nb in notebooks:
            runs = [g for g in mine if g.submission.notebook == nb]
            for g in runs[:1]:
                for e in g.exercises:
                    row[f"{nb}: {e.name}"] = e.points
            row[f"{nb}: points"] = sum(g.points for g in runs[:1])
            row[f"{nb}: possible"] = sum(g.possible for g in runs[:1])
        points = sum(row.get(f"{nb}: points", 0) for nb in notebooks)
        possible = sum(row.get(f"{nb}: possible", 0) for nb in notebooks)
        row.update(points=points, possible=possible,
                   percent=round(100 * points / possible, 1) if possible else 0.0,
                   status=_status(mine), flags="; ".join(f for g in mine for f in g.flags))
        rows.append(row)
    return pd.DataFrame(rows)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    neutralise(frame).to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _canvas(book: pd.DataFrame, title: str) -> pd.DataFrame:
    return pd.DataFrame({"Student": book["name"], "ID": "", "SIS User ID": book["id"],
                         "SIS Login ID": book["email"], "Section": "", title: book["points"]})


def _moodle(book: pd.DataFrame, title: str) -> pd.DataFrame:
    feedback = [f"{p:g}/{q:g} ({s})" for p, q, s in
                zip(book["points"], book["possible"], book["status"], strict=True)]
    return pd.DataFrame({"ID number": book["id"], "Email address": book["email"],
                         "Full name": book["name"], title: book["points"],
                         f"{title} feedback": feedback})


def written_answers(graded: list[Graded]) -> pd.DataFrame:
    """One row per written reason (decide and interpret exercises), with its rubric."""
    rows = [{"id": g.submission.student.id, "name": g.submission.student.name,
             "language": g.submission.student.lang, "notebook": g.submission.notebook,
             "exercise": e.name, "kind": e.kind, "choice": e.status, "reason": e.reason or "",
             "rubric": e.rubric, "mark": ""}
            for g in graded for e in g.exercises if e.kind != "compute"]
    return pd.DataFrame(rows, columns=["id", "name", "language", "notebook", "exercise", "kind",
                                       "choice", "reason", "rubric", "mark"])


def _number(x: float, lang: str) -> str:
    return format_number(x, lang)


def feedback_page(student: Student, runs: list[Graded]) -> str:
    """The feedback page of one student, in their language (verdicts and hints only)."""
    lang = student.lang
    esc = html.escape
    parts = [f"<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
             f"<title>{esc(t('grade.student', lang))} {esc(student.id)}</title></head><body>",
             f"<p>{esc(t('grade.student', lang))}: <b>{esc(student.name)}</b> "
             f"({esc(student.id)})</p>", f"<p>{esc(t('grade.data_note', lang))}</p>"]
    for g in runs:
        heading = t("grade.feedback_title", lang).format(notebook=g.submission.notebook)
        parts.append(f"<h2>{esc(heading)}</h2>")
        parts.append(f"<p>{esc(t('grade.score', lang))}: <b>{_number(g.points, lang)} / "
                     f"{_number(g.possible, lang)}</b></p>")
        if g.run is not None and g.run.error:
            parts.append(f"<p>⚠️ {esc(t('grade.run_failed', lang))}: "
                         f"<code>{esc(g.run.error)}</code></p>")
        if not g.exercises:
            parts.append(f"<p>{esc(t('grade.no_exercises', lang))}</p>")
            continue
        head = "".join(f"<th>{esc(t(f'grade.{k}', lang))}</th>"
                       for k in ("exercise", "verdict", "points", "hint"))
        parts.append(f"<table border=\"1\" cellpadding=\"4\"><tr>{head}</tr>")
        for e in g.exercises:
            parts.append(f"<tr><td>{esc(e.title)}</td><td>{esc(e.message)}</td>"
                         f"<td>{_number(e.points, lang)} / {_number(e.possible, lang)}</td>"
                         f"<td>{esc(e.hint)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def summary(graded: list[Graded], students: list[Student], book: pd.DataFrame) -> str:
    """The instructor's summary (Markdown)."""
    lines = ["# Grading summary", "",
             f"{len(students)} students on the roster, {len(graded)} submissions graded, "
             f"{int((book['status'] == 'not submitted').sum())} students without a submission.",
             "", "## Score distribution (percent of the points possible)", ""]
    bins = pd.cut(book["percent"], [-0.1, 20, 40, 60, 80, 100],
                  labels=["0-20", "20-40", "40-60", "60-80", "80-100"])
    lines += ["| percent | students |", "|---|---|"]
    lines += [f"| {label} | {n} |" for label, n in bins.value_counts(sort=False).items()]
    lines += ["", f"Mean {book['percent'].mean():.1f} %, median {book['percent'].median():.1f} %.",
              "", "## Exercises most missed", "", "| notebook | exercise | not correct | of |",
              "|---|---|---|---|"]
    missed: dict[tuple[str, str], list[int]] = {}
    for g in graded:
        for e in g.exercises:
            if e.status != "skipped":
                m = missed.setdefault((g.submission.notebook, e.name), [0, 0])
                m[0] += e.status != "correct"
                m[1] += 1
    for (nb, name), (n, of) in sorted(missed.items(), key=lambda kv: -kv[1][0] / kv[1][1]):
        lines.append(f"| {nb} | {name} | {n} | {of} |")
    kinds: dict[str, dict[str, str]] = {}
    for g in graded:
        for e in g.exercises:
            kinds.setdefault(g.submission.notebook, {})[e.name] = e.kind
    lines += ["", "## Exercises by kind", "", "| notebook | compute | decide | interpret |",
              "|---|---|---|---|"]
    for nb, by_name in sorted(kinds.items()):
        counts = pd.Series(list(by_name.values())).value_counts()
        lines.append(f"| {nb} | " + " | ".join(str(int(counts.get(k, 0))) for k in
                                               ("compute", "decide", "interpret")) + " |")
    lines += ["", "## Submissions that failed to run, and why", ""]
    failed = [g for g in graded if g.run is None or g.run.error]
    lines += [f"- {_who(g)}: {g.run.error if g.run else 'not run'}" for g in failed] or ["- none"]
    lines += ["", "## Flags", ""]
    lines += [f"- {_who(g)}: {f}" for g in graded for f in g.flags] or ["- none"]
    attempts = [(g, e) for g in graded for e in g.exercises if e.attempts > 5]
    lines += ["", "## Exercises checked more than five times", "",
              "Counted from the checks the student's notebook logged while they worked "
              f"(`{CHECKS_FILE}` next to the notebook) and from the graded run; more than "
              f"{PROBING} different answers to one exercise is flagged above.", ""]
    lines += [f"- {_who(g)}: {e.name} ({e.attempts} checks"
              + (f", {g.checks[e.name][1]} different answers" if e.name in g.checks else "")
              + ")" for g, e in attempts] or ["- none"]
    return "\n".join(lines) + "\n"


def _who(g: Graded) -> str:
    s = g.submission
    return f"{s.student.id if s.student else '?'} ({s.path.name})"


def write_outputs(graded: list[Graded], students: list[Student], out: str | Path, *,
                  title: str = "CRM notebooks") -> dict[str, Path]:
    """Write the gradebooks, feedback pages and summary to ``out``; return their paths."""
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    book = gradebook(graded, students)
    paths = {"gradebook": out / "gradebook.csv", "canvas": out / "gradebook_canvas.csv",
             "moodle": out / "gradebook_moodle.csv", "summary": out / "summary.md",
             "written": out / "written_answers.csv"}
    with FileLock(str(out / ".crmkit-grade.lock")):
        _write_csv(book, paths["gradebook"])
        _write_csv(_canvas(book, title), paths["canvas"])
        _write_csv(_moodle(book, title), paths["moodle"])
        _write_csv(written_answers(graded), paths["written"])
        _write_text(paths["summary"], summary(graded, students, book))
        for s in students:
            runs = [g for g in graded if g.submission.student == s]
            _write_text(out / "feedback" / f"{s.id}.html", feedback_page(s, runs))
            for g in runs:
                if g.run is not None and g.run.notebook is not None:
                    import nbformat

                    path = out / "runs" / s.id / f"{g.submission.notebook}.ipynb"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _write_text(path, nbformat.writes(g.run.notebook))
    return paths
