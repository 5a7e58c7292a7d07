"""Single-language editions of the bilingual notebooks, for students, reports and the lab.

A committed notebook is the one source of both languages: every Markdown cell
is a *pair* of adjacent cells, the English one tagged ``lang-en`` and, right
after it, the Spanish one tagged ``lang-es``, with the same content. Code
cells are shared (their labels go through :func:`crmkit.i18n.t`, their
comments through :mod:`crmkit.lessons.comments`). An *edition* keeps the
Markdown cells of one language, drops the other's, writes ``lang = "<lang>"``
into the cell tagged ``parameters``, writes the code's comments in that
language and clears outputs.

>>> md = lambda text, lang: {"cell_type": "markdown", "id": f"m-{lang}",
...                          "metadata": {"tags": [f"lang-{lang}"]}, "source": text}
>>> params = {"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]},
...           "source": 'profile = "boutique"\\nlang = "en"', "outputs": [],
...           "execution_count": None}
>>> nb = {"cells": [md("# Hello", "en"), md("# Hola", "es"), params],
...       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
>>> pairing_problems(nb)
[]
>>> es = edition(nb, "es")
>>> [c["source"] for c in es["cells"]]
['# Hola', 'profile = "boutique"\\nlang = "es"']
>>> len(nb["cells"])  # the source notebook is left as it was
3
>>> pairing_problems({"cells": [md("# Hello", "en")]})
["cell 0 (id 'm-en') is English (lang-en) but is not followed by its Spanish twin (lang-es)"]

Editions are written where students then work, so a file is only replaced
when it is still exactly what was written last time (its SHA-256 is kept in
``.crmkit-edition.json`` next to it). A file the student has changed is
refused (:class:`ProtectedWorkError`, naming it), kept (``keep=True``, what
``make lab`` does) or overwritten only when asked (``force=True``):

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
crmkit.lessons.edition.ProtectedWorkError: .../lesson.ipynb was changed after it was written ...
>>> write_protected(out, "third", keep=True), out.read_text()
('kept', 'my answers')
>>> write_protected(out, "third", force=True), out.read_text()
('overwritten', 'third')
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import CRMKitError, ParameterError
from ..i18n import LANGS, check_lang
from .comments import localise_code
from .exercises import strip_notebook

__all__ = [
    "LANG_TAGS",
    "EditionError",
    "cell_lang",
    "pairing_problems",
    "edition",
    "set_parameter",
    "read_notebook",
    "write_notebook",
    "edition_text",
    "write_edition",
    "write_editions",
    "MANIFEST",
    "ProtectedWorkError",
    "write_protected",
]

#: File, in an edition's folder, holding the SHA-256 of every file as last written.
MANIFEST = ".crmkit-edition.json"

#: The cell tag of each language's Markdown cells.
LANG_TAGS = {lang: f"lang-{lang}" for lang in LANGS}
_NAMES = {"en": "English", "es": "Spanish"}


class EditionError(CRMKitError, ValueError):
    """A notebook breaks the bilingual convention (a Markdown cell without its twin)."""


class ProtectedWorkError(ParameterError):
    """An output file holds changes made after it was written (a student's work)."""


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def cell_lang(cell: dict) -> str | None:
    """The language a cell is tagged with (``"en"``, ``"es"``), or None for shared cells."""
    tags = cell.get("metadata", {}).get("tags", [])
    found = [lang for lang, tag in LANG_TAGS.items() if tag in tags]
    if len(found) > 1:
        raise EditionError(f"cell id {cell.get('id')!r} is tagged with several languages "
                           f"({', '.join(LANG_TAGS[x] for x in found)}); keep one.")
    return found[0] if found else None


def pairing_problems(nb: dict) -> list[str]:
    """Every way ``nb`` breaks the twin-cell convention, one sentence each (empty: it is fine).

    Each Markdown cell must be tagged ``lang-en`` and be followed at once by a
    non-empty ``lang-es`` cell; code cells carry no language tag.
    """
    problems = []
    cells = nb.get("cells", [])
    i = 0
    while i < len(cells):
        cell = cells[i]
        where = f"cell {i} (id {cell.get('id')!r})"
        try:
            lang = cell_lang(cell)
        except EditionError as exc:
            problems.append(f"{where}: {exc}")
            i += 1
            continue
        if cell["cell_type"] != "markdown":
            if lang is not None:
                problems.append(f"{where} is a code cell tagged {LANG_TAGS[lang]}; code cells "
                                "are shared by both languages (labels go through t()).")
            i += 1
            continue
        if lang is None:
            problems.append(f"{where} is a Markdown cell without a language tag; tag it "
                            "lang-en and add its Spanish twin (lang-es) right after it.")
            i += 1
            continue
        if lang != "en":
            problems.append(f"{where} is {_NAMES[lang]} ({LANG_TAGS[lang]}) but does not "
                            "follow an English cell (lang-en); put it right after its twin.")
            i += 1
            continue
        twin = cells[i + 1] if i + 1 < len(cells) else None
        try:
            twin_lang = cell_lang(twin) if twin is not None else None
        except EditionError:
            twin_lang = None
        if twin is None or twin["cell_type"] != "markdown" or twin_lang != "es":
            problems.append(f"{where} is English (lang-en) but is not followed by its "
                            "Spanish twin (lang-es)")
            i += 1
            continue
        for c, j in ((cell, i), (twin, i + 1)):
            if not _source(c).strip():
                problems.append(f"cell {j} (id {c.get('id')!r}) is empty; write its text.")
        i += 2
    return problems


_PARAM = r"^(?P<name>{name})[ \t]*=[ \t]*(?P<value>.*)$"


def set_parameter(source: str, name: str, value: object) -> str:
    """``source`` with the literal of parameter ``name`` replaced by ``value``.

    >>> set_parameter('seed = 42\\nlang = "en"  # or "es"', "lang", "es")
    'seed = 42\\nlang = "es"  # or "es"'
    """
    pattern = re.compile(_PARAM.format(name=re.escape(name)), re.M)
    match = pattern.search(source)
    if match is None:
        raise EditionError(f"the parameters cell has no line `{name} = ...`; add it with its "
                           "default value.")
    literal = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    comment_at = match.group("value").find("  #")
    comment = match.group("value")[comment_at:] if comment_at >= 0 else ""
    return source[:match.start()] + f"{name} = {literal}{comment}" + source[match.end():]


def edition(nb: dict, lang: str) -> dict:
    """A copy of notebook ``nb`` in one language: its Markdown cells, ``lang`` set, no outputs.

    A notebook without any language tag (a user's own notebook) keeps all its
    cells; one that is only partly paired raises :class:`EditionError` naming
    the cells to fix.
    """
    check_lang(lang)
    out = copy.deepcopy(nb)
    tagged = any(cell_lang(c) for c in out.get("cells", []))
    if tagged:
        problems = pairing_problems(out)
        if problems:
            raise EditionError("the notebook breaks the bilingual convention: "
                               + "; ".join(problems))
    cells = []
    for cell in out.get("cells", []):
        own = cell_lang(cell)
        if own is not None and own != lang:
            continue
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                src = _source(cell)
                if re.search(_PARAM.format(name="lang"), src, re.M):
                    cell["source"] = set_parameter(src, "lang", lang)
            _localise_comments(cell, lang)
        cells.append(cell)
    out["cells"] = cells
    return out


def _localise_comments(cell: dict, lang: str) -> None:
    """Write the comments of a code cell in ``lang`` (its source keeps its list or text form)."""
    src = _source(cell)
    written = localise_code(src, lang)
    if written != src:
        as_list = isinstance(cell.get("source"), list)
        cell["source"] = written.splitlines(keepends=True) if as_list else written


def read_notebook(path: str | Path) -> dict:
    """A notebook file as a dict (clear error if it is not a notebook)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EditionError(f"notebook {path} does not exist.") from None
    except json.JSONDecodeError as exc:
        raise EditionError(f"{path} is not a notebook (invalid JSON at line {exc.lineno}, "
                           f"column {exc.colno}).") from None


def _text(nb: dict) -> str:
    """A notebook as the committed notebooks are written (indent 1, UTF-8, final newline)."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def write_notebook(nb: dict, path: str | Path) -> Path:
    """Write ``nb`` as the committed notebooks are written (indent 1, UTF-8, final newline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_text(nb), encoding="utf-8")
    return path


def edition_text(notebook: str | Path, lang: str, *, student: bool = False) -> tuple[str, int]:
    """The ``lang`` edition of ``notebook`` as JSON text, and the solutions removed.

    With ``student=True`` it is also the student edition
    (:func:`crmkit.lessons.exercises.strip_notebook`): one language, no solutions.
    """
    nb, removed = edition(read_notebook(notebook), lang), 0
    if student:
        nb, removed = strip_notebook(nb)
    return _text(nb), removed


def write_edition(notebook: str | Path, out: str | Path, lang: str, *,
                  student: bool = False) -> tuple[Path, int]:
    """Write the ``lang`` edition of ``notebook`` to ``out``; return the path and solutions removed.

    It replaces ``out`` whatever it holds: for folders where people work, use
    :func:`write_editions`, which never overwrites their changes.
    """
    text, removed = edition_text(notebook, lang, student=student)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out, removed


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


def write_editions(notebooks: Sequence[str | Path], out_dir: str | Path,
                   langs: Iterable[str] = LANGS, *, student: bool = False,
                   force: bool = False, keep: bool = False) -> list[tuple[Path, int, str]]:
    """Every notebook in every language, as ``out_dir/<lang>/<notebook>.ipynb``.

    A file changed since it was written there is never replaced silently (see
    :func:`write_protected`); every file is checked before any is written, so
    a refusal changes nothing. Returns ``(path, solutions removed, action)``
    per notebook and language.
    """
    plan = []
    for lang in langs:
        check_lang(lang)
        for nb in notebooks:
            text, removed = edition_text(nb, lang, student=student)
            plan.append((Path(out_dir) / lang / Path(nb).name, text, removed))
    if not (force or keep):
        for path, text, _ in plan:
            if path.exists():
                current = _sha(path.read_text(encoding="utf-8", errors="replace"))
                if current not in (_sha(text), _read_manifest(path.parent).get(path.name)):
                    write_protected(path, text)  # raises, naming the file
    return [(path, removed, write_protected(path, text, force=force, keep=keep))
            for path, text, removed in plan]
