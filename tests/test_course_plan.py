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
