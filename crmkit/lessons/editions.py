"""The student edition, written without ever overwriting a student's work.

``crmkit student --out student`` writes each notebook with its solutions
replaced by a stub (:func:`crmkit.lessons.exercises.strip_solutions`). The
folder is where students then work, so a file is only replaced when it is
still exactly what was written last time (its SHA-256 is kept in
``.crmkit-edition.json`` next to it). A file the student has changed is
refused (:class:`ProtectedWorkError`, naming it), kept (``keep=True``, what
``make lab`` does) or overwritten only when asked (``force=True``).

>>> import pathlib, tempfile
>>> out = pathlib.Path(tempfile.mkdtemp()) / "lesson.ipynb"
>>> write_protected(out, "first")
'written'
>>> write_protected(out, "second")      # unchanged since written: updated
'updated'
>>> _ = out.write_text("my answers")      # the student works on it
>>> write_protected(out, "third")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
crmkit.lessons.editions.ProtectedWorkError: .../lesson.ipynb was changed after it was written ...
>>> write_protected(out, "third", keep=True), out.read_text()
('kept', 'my answers')
>>> write_protected(out, "third", force=True), out.read_text()
('overwritten', 'third')
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..errors import ParameterError
from .exercises import student_source

__all__ = ["MANIFEST", "ProtectedWorkError", "write_protected", "write_student_edition"]

#: File, in the edition's folder, holding the SHA-256 of every file as last written.
MANIFEST = ".crmkit-edition.json"


class ProtectedWorkError(ParameterError):
    """An output file holds changes made after it was written (a student's work)."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_protected(path: str | Path, text: str, *, force: bool = False,
                    keep: bool = False) -> str:
    """Write ``text`` to ``path`` unless that would overwrite changes made there.

    Returns ``'written'`` (new file), ``'updated'`` (replaced a file nobody
    had changed), ``'unchanged'``, ``'kept'`` (changed file left alone, with
    ``keep``) or ``'overwritten'`` (changed file replaced, with ``force``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(path.parent)
    action = "written"
    if path.exists():
        current = _sha(path.read_text(encoding="utf-8", errors="replace"))
        if current == _sha(text):
            action = "unchanged"
        elif current == manifest.get(path.name):
            action = "updated"
        elif keep:
            return "kept"
        elif force:
            action = "overwritten"
        else:
            raise ProtectedWorkError(
                f"{path} was changed after it was written (a student's work?), so it is "
                "not replaced. Keep it and write the other files with --keep, write the "
                "edition to another folder with --out, or replace it with --force.")
    if action != "unchanged":
        _atomic_write(path, text)
    manifest[path.name] = _sha(text)
    _atomic_write(path.parent / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return action


def write_student_edition(notebooks, out: str | Path, *, force: bool = False,
                          keep: bool = False) -> list[tuple[Path, int, str]]:
    """Write the student edition of each notebook to ``out``.

    Every file is checked before any is written, so a refusal changes
    nothing. Returns ``(path, solutions removed, action)`` per notebook.
    """
    out = Path(out)
    plan = []
    for nb in notebooks:
        text, removed = student_source(nb)
        plan.append((out / Path(nb).name, text, removed))
    if not (force or keep):
        manifest = _read_manifest(out)
        for path, text, _ in plan:
            if path.exists():
                current = _sha(path.read_text(encoding="utf-8", errors="replace"))
                if current not in (_sha(text), manifest.get(path.name)):
                    write_protected(path, text)  # raises, naming the file
    return [(path, removed, write_protected(path, text, force=force, keep=keep))
            for path, text, removed in plan]
