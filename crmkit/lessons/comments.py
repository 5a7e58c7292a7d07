"""The comments of the notebooks' code, written in the language of each edition.

A notebook's code cells are shared by both languages and their comments are
written in English; each comment is a text of the catalog's ``code`` group
(``crmkit/catalog_exercises.yaml``), found there by its whole text. An edition
(:func:`crmkit.lessons.edition.edition`) writes every such comment in its own
language, so the English notebook stays the one source. A run of comment
lines at one indentation is one comment (its lines joined), written again
wrapped to the line length:

>>> src = ("student_id = None  # crmkit assign writes each student's id here\\n"
...        "# Checks every parameter above (a clear error names the wrong one),\\n"
...        "# then builds the data.\\n"
...        "x = '# not a comment'  # a comment nobody translated\\n")
>>> print(localise_code(src, "es"), end="")
student_id = None  # crmkit assign escribe aquí el id de cada estudiante
# Comprueba cada parámetro de arriba (un error claro nombra el que está mal) y después construye los
# datos.
x = '# not a comment'  # a comment nobody translated
>>> localise_code(src, "en") == src
True
>>> comment("placeholder", "es")
'# tu código aquí: da a `answer` su valor'
"""

from __future__ import annotations

import io
import re
import textwrap
import tokenize
from functools import cache

from ..i18n import LANGS, catalog, check_lang, t

__all__ = ["GROUP", "LINE_LENGTH", "comment", "comment_texts", "code_comments",
           "comment_blocks", "localise_code", "notebook_lang"]

#: The catalog group of the code comments.
GROUP = "code"
#: Longest line a comment written again is wrapped to.
LINE_LENGTH = 100
_PARAM_LANG = re.compile(r"""^lang[ \t]*=[ \t]*["'](?P<lang>\w+)["']""", re.M)


def comment(key: str, lang: str) -> str:
    """The comment ``code.<key>`` of the catalog in ``lang``, as a line of code (``# ...``)."""
    return "# " + t(f"{GROUP}.{key}", lang)


@cache
def _keys() -> dict[str, str]:
    """Every comment text of the catalog, in either language, to its key."""
    out = {}
    for name, labels in catalog().items():
        if name.startswith(GROUP + "."):
            for text in labels:
                out[_norm(text)] = name
    return out


def comment_texts(lang: str) -> list[str]:
    """Every comment text the catalog holds in ``lang``."""
    idx = LANGS.index(check_lang(lang))
    return [labels[idx] for name, labels in catalog().items() if name.startswith(GROUP + ".")]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _translate(text: str, lang: str) -> str | None:
    key = _keys().get(_norm(text))
    return t(key, lang) if key is not None else None


def code_comments(source: str) -> list[tuple[int, int, str]]:
    """The comments of ``source``: ``(line, column, text after the #)``, lines from 0.

    Code Python cannot read (a cell cut short, a shell escape) keeps its
    whole-line comments only.

    >>> code_comments("x = '#1'  # one\\n    # two\\n")
    [(0, 10, 'one'), (1, 4, 'two')]
    """
    try:
        return [(tok.start[0] - 1, tok.start[1], tok.string[1:].strip())
                for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return [(i, len(line) - len(line.lstrip()), line.strip()[1:].strip())
                for i, line in enumerate(source.splitlines()) if line.lstrip().startswith("#")]


def comment_blocks(source: str) -> list[tuple[int, int, int, str, bool]]:
    """Comments as ``(first line, last line, column, text, whole line)``; a run of whole-line
    comments at one column is one comment, unless its first line is a catalog text itself.

    >>> comment_blocks("# one\\n# two\\nx = 1  # three\\n")
    [(0, 1, 0, 'one two', True), (2, 2, 7, 'three', False)]
    """
    lines = source.splitlines()
    out: list[tuple[int, int, int, str, bool]] = []
    for row, col, text in code_comments(source):
        whole = not lines[row][:col].strip()
        last = out[-1] if out else None
        if (whole and last is not None and last[4] and last[1] == row - 1 and last[2] == col
                and _translate(last[3], "en") is None):
            out[-1] = (last[0], row, col, f"{last[3]} {text}", True)
        else:
            out.append((row, row, col, text, whole))
    return out


def localise_code(source: str, lang: str) -> str:
    """``source`` with every comment of the catalog written in ``lang``; other comments as
    they are."""
    check_lang(lang)
    lines = source.splitlines(keepends=True)
    for first, last, col, text, whole in reversed(comment_blocks(source)):
        written = _translate(text, lang)
        if written is None:
            if first != last:  # not one comment: its lines may be comments of their own
                for row in range(last, first - 1, -1):
                    lines[row] = localise_code(lines[row], lang)
            continue
        if _norm(written) == _norm(text):  # already in ``lang``: its lines stay as they are
            continue
        end = lines[last][len(lines[last].rstrip("\r\n")):]
        if whole:
            width = max(LINE_LENGTH - col - 2, 40)
            wrapped = textwrap.wrap(written, width, break_long_words=False,
                                    break_on_hyphens=False)
            new = "\n".join(f"{lines[first][:col]}# {part}" for part in wrapped) + end
        else:
            new = f"{lines[first][:col]}# {written}{end}"
        lines[first:last + 1] = [new]
    return "".join(lines)


def notebook_lang(nb: dict) -> str:
    """The language set in a notebook's ``parameters`` cell (``lang = "es"``), English if none.

    >>> notebook_lang({"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
    ...                           "source": ['seed = 1\\n', 'lang = "es"']}]})
    'es'
    """
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src = cell.get("source", "")
            found = _PARAM_LANG.search("".join(src) if isinstance(src, list) else src)
            if found and found.group("lang") in LANGS:
                return found.group("lang")
    return "en"
