"""``crmkit assign``: one student edition per student, on the student's own data.

Each student gets ``OUT/<id>/<notebook>.ipynb``: the student edition (no
solutions) in the student's language, whose parameters cell holds their
``student_id`` and the ``seed`` of their data (derived from the id and the
course secret, :func:`crmkit.grading.roster.student_seed`). The secret stays
in the instructor's file; the parameters every student shares (e.g. a smaller
shop, ``-p n_customers 800``) are kept beside it in
``course_assignment.json``, so that ``crmkit grade`` re-runs each notebook as
it was handed out. A notebook a student has already changed is never
replaced (see :func:`crmkit.lessons.edition.write_protected`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..lessons.edition import _source, edition, set_parameter, write_protected
from ..lessons.exercises import strip_notebook
from ..lessons.parameters import check_parameters
from ..report import find_notebooks
from .roster import SECRET_FILE, Student, course_secret, read_roster, student_seed

__all__ = ["Assigned", "assign", "assignment_file", "read_assignment", "personalize",
           "parameters_cell", "STUDENT_PARAMETERS"]

#: The parameters ``crmkit assign`` and ``crmkit grade`` set per student.
STUDENT_PARAMETERS = ("student_id", "seed", "lang")


@dataclass(frozen=True)
class Assigned:
    """One notebook written for one student."""

    student: Student
    notebook: str
    path: Path
    action: str


def assignment_file(secret: str | Path) -> Path:
    """The instructor-side file, beside the secret, that records what was assigned."""
    return Path(secret).with_name("course_assignment.json")


def read_assignment(secret: str | Path) -> dict[str, dict[str, Any]]:
    """``{notebook stem: {parameter: value}}`` as assigned (empty if never written)."""
    try:
        return json.loads(assignment_file(secret).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def parameters_cell(nb: dict) -> dict | None:
    """The cell tagged ``parameters`` of notebook ``nb`` (None if it has none)."""
    return next((c for c in nb.get("cells", []) if c.get("cell_type") == "code"
                 and "parameters" in c.get("metadata", {}).get("tags", [])), None)


def _set(source: str, name: str, value: Any) -> str:
    if re.search(rf"^{re.escape(name)}[ \t]*=", source, re.M):
        return set_parameter(source, name, value)
    literal = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return source.rstrip("\n") + f"\n{name} = {literal}\n"


def personalize(nb: dict, student: Student, seed: int, shared: dict[str, Any]) -> dict:
    """Notebook ``nb`` (already an edition) with the student's parameters written in."""
    cell = parameters_cell(nb)
    if cell is None:
        from ..lessons.edition import EditionError

        raise EditionError("the notebook has no cell tagged `parameters`; tag the cell that "
                           "holds its literal defaults.")
    src = _source(cell)
    for name, value in {**shared, "student_id": student.id, "seed": seed,
                        "lang": student.lang}.items():
        src = _set(src, name, value)
    cell["source"] = src
    return nb


def _atomic_json(path: Path, value: object) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


def assign(roster: str | Path, out: str | Path, *, notebooks: list[str] | None = None,
           secret: str | Path = SECRET_FILE, parameters: dict[str, Any] | None = None,
           force: bool = False, keep: bool = False) -> list[Assigned]:
    """Write every notebook for every student of ``roster`` to ``out/<id>/``.

    The course secret is read from ``secret``, or created there on the first
    assignment. ``parameters`` are shared by every student (never
    ``student_id``, ``seed`` or ``lang``, which are each student's own).
    """
    from ..errors import ParameterError

    students = read_roster(roster)
    shared = dict(parameters or {})
    clash = sorted(set(shared) & set(STUDENT_PARAMETERS))
    if clash:
        raise ParameterError(f"{', '.join(clash)} cannot be given with -p: each student gets "
                             "their own (from the roster and the course secret).")
    check_parameters(shared)
    key = course_secret(secret, create=True)
    paths = find_notebooks(notebooks)
    sources = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in paths}
    record = read_assignment(secret)
    for stem in sources:
        record[stem] = shared
    _atomic_json(assignment_file(secret), record)
    done = []
    for student in students:
        seed = student_seed(key, student.id)
        for stem, nb in sources.items():
            text_nb, _ = strip_notebook(edition(nb, student.lang))
            text_nb = personalize(text_nb, student, seed, shared)
            text = json.dumps(text_nb, indent=1, ensure_ascii=False) + "\n"
            path = Path(out) / student.id / f"{stem}.ipynb"
            done.append(Assigned(student, stem, path,
                                 write_protected(path, text, force=force, keep=keep)))
    return done
