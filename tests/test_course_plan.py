"""The course plan (docs/course.md, docs/curso.md) cites only sections and exercises that exist.

Read against the notebooks themselves: every exercise a notebook checks appears in the plan
once, under its notebook and with its number there, and every section title the plan quotes
is a heading of that notebook in the plan's language.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {p.stem[:2]: p for p in (ROOT / "notebooks").glob("*.ipynb")}
PLANS = {  # file: (language tag, notebook label, exercises label, quote marks)
    "course.md": ("lang-en", "Notebook", "Exercises", ('"', '"')),
    "curso.md": ("lang-es", "Cuaderno", "Ejercicios", ("«", "»")),
}
#: the word of a run of numbers in the weeks-at-a-glance table ("03: 1 to 5")
RUN_WORD = {"course.md": "to", "curso.md": "a"}


def _cells(nn: str) -> list[dict]:
    return json.loads(NOTEBOOKS[nn].read_text(encoding="utf-8"))["cells"]


def _checks(nn: str) -> list[str]:
    """The exercise names a notebook checks, in the notebook's order."""
    code = "".join("".join(c["source"]) for c in _cells(nn) if c["cell_type"] == "code")
    return re.findall(r'book\.check\("([a-z0-9_]+)"', code)


def _headings(nn: str, tag: str) -> set[str]:
    out = set()
    for c in _cells(nn):
        if c["cell_type"] == "markdown" and tag in c["metadata"].get("tags", []):
            for line in "".join(c["source"]).splitlines():
                if line.startswith("#"):
                    title = re.sub(r"<[^>]+>", "", line.lstrip("#").strip())
                    out.add(re.sub(r"^\d+(\.\d+)*\.? ", "", title))  # without its number
    return out


def _weeks(plan: str):
    """(notebook, its line, exercises line) for every week of the plan."""
    tag, nb_label, ex_label, _ = PLANS[plan]
    text = (ROOT / "docs" / plan).read_text(encoding="utf-8")
    by_week = next(part for part in text.split("\n## ") if "\n### " in part)
    weeks = by_week.split("\n### ")[1:]
    assert len(weeks) == 12, plan
    for week in weeks:
        nb = re.search(rf"^- \*\*{nb_label} (\d\d)\*\*:(.*?)(?=^- \*\*)", week, re.M | re.S)
        ex = re.search(rf"^- \*\*{ex_label}\*\*:(.*?)(?=^- \*\*)", week, re.M | re.S)
        assert nb and ex, week[:60]
        yield nb.group(1), " ".join(nb.group(2).split()), " ".join(ex.group(1).split())


@pytest.mark.parametrize("plan", PLANS)
def test_every_exercise_is_planned_once_under_its_notebook_and_number(plan):
    planned = []
    for nn, _, exercises in _weeks(plan):
        for number, name in re.findall(r"(\d+) `([a-z0-9_]+)`", exercises):
            planned.append(name)
            checks = _checks(nn)
            assert name in checks, f"{plan}: {name} is not an exercise of notebook {nn}"
            assert checks.index(name) + 1 == int(number), f"{plan}: {name} is not number {number}"
    every = [name for nn in sorted(NOTEBOOKS) for name in _checks(nn)]
    missing = [name for name in every if name not in planned]
    assert not missing, (f"docs/{plan} does not plan the exercises {missing}: add each to the "
                         "week of its notebook section (number and name), in both plans")
    assert sorted(planned) == sorted(every), f"docs/{plan} plans an exercise twice"
    said = re.search(r"(?:These are the|Son los) (\d+) (?:exercises|ejercicios)",
                     (ROOT / "docs" / plan).read_text(encoding="utf-8"))
    assert said and int(said.group(1)) == len(every), f"docs/{plan}: the kit has {len(every)}"


@pytest.mark.parametrize("plan", PLANS)
def test_every_quoted_section_is_a_heading_of_its_notebook(plan):
    tag, _, _, (left, right) = PLANS[plan]
    quoted = 0
    for nn, sections, _ in _weeks(plan):
        headings = _headings(nn, tag)
        for title in re.findall(rf"{left}(.+?){right}", sections):
            quoted += 1
            assert title in headings, f"{plan}: notebook {nn} has no section {title!r}"
    assert quoted >= 30, plan


def _numbers_text(numbers: list[int], word: str) -> str:
    """``[1, 2, 3, 4, 7]`` -> ``"1 to 4, 7"``: runs of three or more numbers as a range.

    >>> _numbers_text([1, 2, 3, 4, 7, 8], "to")
    '1 to 4, 7, 8'
    """
    parts, run = [], []
    for n in sorted(numbers) + [None]:
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if len(run) >= 3:
            parts.append(f"{run[0]} {word} {run[-1]}")
        else:
            parts += [str(r) for r in run]
        run = [n] if n is not None else []
    return ", ".join(parts)


def _glance_exercises(plan: str) -> list[str]:
    """The exercises column of the weeks-at-a-glance table as the week-by-week plan (itself
    checked against the notebooks above) says it: ``NN: numbers`` for each week."""
    out = []
    for nn, _, exercises in _weeks(plan):
        numbers = [int(n) for n in re.findall(r"(\d+) `", exercises)]
        out.append(f"{nn}: {_numbers_text(numbers, RUN_WORD[plan])}")
    return out


def _glance_lines(lines: list[str]) -> list[int]:
    """The indices of the week rows of the weeks-at-a-glance table (``| week | ...``)."""
    head = next(i for i, line in enumerate(lines) if re.match(r"^\| (week|semana) \|", line))
    out = []
    for i in range(head + 2, len(lines)):  # after the head and its |---| line
        if not lines[i].startswith("|"):
            break
        out.append(i)
    return out


def _glance_rows(text: str) -> list[list[str]]:
    """The week rows of the weeks-at-a-glance table, cell by cell."""
    lines = text.splitlines()
    return [[cell.strip() for cell in lines[i].strip("|").split("|")]
            for i in _glance_lines(lines)]


@pytest.mark.parametrize("plan", PLANS)
def test_the_weeks_at_a_glance_count_the_exercises_of_each_week(plan):
    """The summary table lists each week's exercises exactly as the week-by-week plan
    does (a new exercise planned in a week and not in the table fails here)."""
    text = (ROOT / "docs" / plan).read_text(encoding="utf-8")
    shown = [row[3] for row in _glance_rows(text)]
    assert len(shown) == 12, plan
    expected = _glance_exercises(plan)
    stale = [f"week {i}: {a!r}, should be {b!r}"
             for i, (a, b) in enumerate(zip(shown, expected, strict=True), 1) if a != b]
    assert not stale, (f"docs/{plan}: the weeks at a glance are stale (python "
                       "tests/test_course_plan.py rewrites them):\n" + "\n".join(stale))


def write_glance(plan: str) -> None:
    """Rewrite the exercises column of ``docs/<plan>``'s weeks-at-a-glance table."""
    path = ROOT / "docs" / plan
    lines = path.read_text(encoding="utf-8").split("\n")
    expected = iter(_glance_exercises(plan))
    for i in _glance_lines(lines):
        cells = lines[i].strip("|").split("|")
        cells[3] = f" {next(expected)} "
        lines[i] = "|" + "|".join(cells) + "|"
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    for name in PLANS:
        write_glance(name)
