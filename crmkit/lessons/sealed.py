"""Sealed answers: what a student's exercise book keeps to judge an answer, never the answer.

A :class:`Seal` is made once from the right answer while the book is built,
and the answer is then dropped. It keeps only *keyed digests*
(PBKDF2 with a random salt per seal, so trying values offline costs time) of

- for a number, the *cell* it falls in on a grid as fine as the tolerance
  ("correct") and the cells of two grids as fine as the "close" band. Grids
  are drawn on ``u(x) = asinh(x·rtol / 2·atol) / rtol`` (relative steps for
  large values, absolute ones near zero). For "correct", of :data:`GRIDS`
  grids, each offset by a fraction of a cell, the seal keeps the one in which
  the answer sits furthest from a cell's edge, so every value within the
  tolerance falls in the kept cell (and nothing further than 9/7 of the
  tolerance does). For "close", both cells of two grids half a cell apart
  are kept (every value within the close tolerance falls in one). A verdict
  therefore depends only on the cells an answer falls in: trying values one
  after another can find the "close" cells, never where the answer lies in
  them (only to about half the close band);
- for a number, the value as a table rounds it to 1 to 4 decimals (typed
  like that, it is "close"), and for a share the same at 2 to 8 decimals (a
  percentage typed for a share);
- for a text, its folded forms (case and accents ignored) and those of its
  accepted synonyms; for True/False, the value; for a list, its items.

:func:`seal` with ``iterations=1`` is also how :func:`~crmkit.lessons.exercises.compare`
judges, so the verdict in the notebook and the grade agree by construction.

>>> s = seal(0.3995, rtol=1e-4)
>>> s.judge(0.3995)[0], s.judge(0.39951)[0], s.judge(0.401)[0], s.judge(0.5)[0]
('correct', 'correct', 'close', 'incorrect')
>>> s.judge("0,4", lang="es")[0], s.judge(39.95)[0]  # as the table shows it; a percentage
('close', 'wrong_shape')
>>> s.judge("0.3995")[1]
'expected a number, got a text: write the number without quotes'
>>> t = seal(AnyOf(["sábado", "domingo"]), synonyms={"sábado": ("saturday",)})
>>> [t.judge(x)[0] for x in ("SABADO", "Saturday", "lunes", 6)]
['correct', 'correct', 'incorrect', 'wrong_shape']
>>> "0.3995" in repr(vars(s)) or 0.3995 in vars(s).values()
False
"""

from __future__ import annotations

import hashlib
import math
import numbers
import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import format_message, parse_locale_number, t

__all__ = ["AnyOf", "Seal", "seal", "fold", "kind_of", "GRIDS", "ITERATIONS", "say"]

#: Offset grids a number's cell is chosen from (more: a tighter "correct" cell).
GRIDS = 8
#: PBKDF2 rounds of a digest in a student's book (about 4 ms each).
ITERATIONS = 5000

def say(key: str, lang: str, **kw: object) -> str:
    """A detail of a verdict in ``lang``: the catalog's ``verdict.<key>``, filled in."""
    return format_message(t(f"verdict.{key}", lang), lang, **kw)


class AnyOf(tuple):
    """Several answers are right (e.g. fields tied for last place): any one is correct.

    >>> seal(AnyOf(["address", "city"])).judge("city")
    ('correct', '')
    """


def fold(text: str) -> str:
    """``text`` without case, accents or surrounding spaces, for comparing words.

    >>> fold("  Sábado "), fold("ANALÍTICO") == fold("analitico")
    ('sabado', True)
    """
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def kind_of(x: Any) -> str:
    """What sort of value ``x`` is: number, text, bool, table, series, collection or other."""
    if isinstance(x, bool | np.bool_):
        return "bool"
    if isinstance(x, numbers.Number | np.number):
        return "number"
    if isinstance(x, str):
        return "text"
    if isinstance(x, pd.DataFrame):
        return "table"
    if isinstance(x, pd.Series):
        return "series"
    if isinstance(x, list | tuple | set | frozenset | np.ndarray | pd.Index):
        return "collection"
    return "other"


# ----------------------------------------------------------------------------- the grid
def _u(x: float, rtol: float, atol: float) -> float:
    """The grid coordinate of ``x``: one unit is the tolerance at ``x``."""
    atol = max(atol, 1e-300)
    return math.asinh(x * rtol / (2 * atol)) / rtol if rtol > 0 else x / (2 * atol)


_STEP = 2 * GRIDS / (GRIDS - 1)  # cell width in tolerance units: the kept cell spans ±1


def _cell(x: float, grid: int, rtol: float, atol: float, *, grids: int = GRIDS,
          step: float = _STEP) -> int:
    return math.floor(_u(x, rtol, atol) / step + grid / grids)


def _best_grid(x: float, rtol: float, atol: float) -> int:
    """The grid in which ``x`` sits furthest from its cell's edges."""
    def margin(grid: int) -> float:
        frac = _u(x, rtol, atol) / _STEP + grid / GRIDS
        frac -= math.floor(frac)
        return min(frac, 1 - frac)
    return max(range(GRIDS), key=margin)


def _near_cells(x: float, rtol: float, atol: float) -> set[str]:
    """The "close" cells of ``x``: on two grids, half a cell apart, two tolerances wide. Both
    are kept, so where the right answer lies inside them stays unknown (a grid chosen to
    centre it would tell)."""
    tol = _close_tol(rtol)
    return {f"n{g}:{_cell(x, g, tol, atol, grids=2, step=2.0)}" for g in (0, 1)}


def _close_tol(rtol: float) -> float:
    return max(rtol * 10, 0.005)


def _decimals(typed: Any) -> int:
    """How many decimals the learner typed (0 for a whole number or anything else)."""
    if isinstance(typed, bool | np.bool_ | numbers.Integral) or not isinstance(
            typed, str | numbers.Real):
        return 0
    text = typed if isinstance(typed, str) else repr(float(typed))
    text = text.strip().replace(",", ".").split(".")[-1] if ("." in text or "," in text) else ""
    return len(text) if text.isdigit() else 0


def _is_number(text: str) -> bool:
    try:
        float(text.strip().replace(",", "."))
    except ValueError:
        return False
    return True


def _decimal_comma(answer: Any, got: str, lang: str) -> tuple[Any, str]:
    """A number the learner wrote with the language's decimal comma, read as a number.

    ``"1.500,25"`` (a text) and ``(0, 25)`` (what Python makes of ``0,25``)
    become 1500.25 and 0.25; anything else is returned unchanged.
    """
    if got == "text" and "," in answer:
        try:
            return parse_locale_number(answer, lang), "number"
        except ValueError:
            return answer, got
    if (got == "collection" and isinstance(answer, tuple) and len(answer) == 2
            and all(isinstance(x, numbers.Integral) and not isinstance(x, bool | np.bool_)
                    for x in answer) and answer[1] >= 0):
        whole, frac = answer
        return float(f"{whole}.{frac}"), "number"
    return answer, got


# ----------------------------------------------------------------------------- tokens
def _number_tokens(v: float, rtol: float, atol: float) -> tuple[set[str], dict[str, int]]:
    """The tokens of a right number, and the grids its cells were drawn on."""
    if not math.isfinite(v):
        return {f"x:{v!r}"}, {}
    grids = {"c": _best_grid(v, rtol, atol)}
    tokens = {f"c{grids['c']}:{_cell(v, grids['c'], rtol, atol)}", *_near_cells(v, rtol, atol)}
    for d in range(1, 5):  # as a table rounds it, not so coarse that it hides the value
        r = round(v, d)
        if math.isclose(r, v, rel_tol=0.05):
            tokens.add(f"d{d}:{r:.{d}f}")
    if 0 < abs(v) <= 1:  # a percentage typed for this share
        tokens.update(f"p{d}:{round(v, d):.{d}f}" for d in range(2, 9))
    return tokens, grids


def _item_token(x: Any) -> str:
    if isinstance(x, str):
        return fold(x)
    if isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_):
        return str(int(float(x))) if float(x).is_integer() else f"{float(x):.9g}"
    return str(x)


def _collection_token(items: Sequence[Any], ordered: bool) -> str:
    tokens = [_item_token(x) for x in items]
    return "l:" + "\x1f".join(tokens if ordered else sorted(tokens))


def _frame_token(frame: pd.DataFrame, ordered: bool) -> str:
    if not ordered:
        try:
            frame = frame.sort_index()
        except TypeError:
            pass
    cells = [_item_token(x) for x in frame.to_numpy().ravel()]
    return "f:" + "\x1f".join([*map(_item_token, frame.index), *cells])


# ----------------------------------------------------------------------------- the seal
@dataclass(frozen=True, eq=False, repr=False)
class Seal:
    """What is kept of a right answer: its kind, its digests, and how to judge."""

    kind: str
    salt: bytes
    iterations: int
    digests: frozenset
    rtol: float = 1e-6
    atol: float = 1e-9
    ordered: bool = False
    grids: tuple = ()          # (token family, grid) of a number's cells
    size: Any = None           # items of a list, shape of a table: said when they differ
    share: bool = False        # a number between 0 and 1: a percentage is explained

    def __repr__(self) -> str:
        return f"Seal({self.kind}, {len(self.digests)} digests)"

    def _digest(self, token: str) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", token.encode("utf-8"), self.salt,
                                   self.iterations)[:16]

    def _has(self, token: str) -> bool:
        return self._digest(token) in self.digests

    def _in_cell(self, family: str, x: float) -> bool:
        grids = dict(self.grids)
        if not math.isfinite(x):
            return self._has(f"x:{x!r}")
        if family == "n":
            return any(self._has(token) for token in _near_cells(x, self.rtol, self.atol))
        if family not in grids:
            return False
        return self._has(f"c{grids['c']}:{_cell(x, grids['c'], self.rtol, self.atol)}")

    def judge(self, answer: Any, *, lang: str = "en", query: bool = False) -> tuple[str, str]:
        """``(status, detail)`` of ``answer``: correct, close, incorrect or wrong_shape."""
        got = kind_of(answer)
        step = {"number": self._judge_number, "text": self._judge_text,
                "bool": self._judge_bool, "collection": self._judge_collection,
                "series": self._judge_frame, "table": self._judge_frame}.get(self.kind)
        if step is None:
            return ("correct" if self._has(f"o:{answer!r}") else "incorrect"), ""
        return step(answer, got, lang, query)

    def _shape(self, got: str, lang: str) -> tuple[str, str]:
        return "wrong_shape", say("expected_kind", lang, want=t(f"answer_kind.{self.kind}", lang),
                                  got=t(f"answer_kind.{got}", lang))

    def _judge_number(self, answer: Any, got: str, lang: str, query: bool) -> tuple[str, str]:
        typed = answer
        if lang != "en":
            answer, got = _decimal_comma(answer, got, lang)
        if got in ("collection", "series", "table"):
            return "wrong_shape", say("expected_one_query" if query else "expected_one", lang,
                                      n=len(answer))
        if got == "text" and _is_number(answer):
            return "wrong_shape", say("quoted_number", lang)
        if got != "number":
            return self._shape(got, lang)
        a = float(answer)
        if self._in_cell("c", a):
            return "correct", ""
        if self.share and 1 < abs(a) <= 100 and (
                self._in_cell("n", a / 100)
                or self._has(f"p{_decimals(typed) + 2}:{a / 100:.{_decimals(typed) + 2}f}")):
            return "wrong_shape", say("percent", lang)
        d = _decimals(typed)
        near = self._in_cell("n", a) or (1 <= d <= 4 and self._has(f"d{d}:{a:.{d}f}"))
        return ("close" if near else "incorrect"), ""

    def _judge_text(self, answer: Any, got: str, lang: str, query: bool) -> tuple[str, str]:
        if got in ("collection", "series", "table"):
            return "wrong_shape", say("expected_one_query" if query else "expected_one", lang,
                                      n=len(answer))
        if got == "number":
            return "wrong_shape", say("unquoted_text", lang)
        if got != "text":
            return self._shape(got, lang)
        return ("correct" if self._has(f"t:{fold(answer)}") else "incorrect"), ""

    def _judge_bool(self, answer: Any, got: str, lang: str, query: bool) -> tuple[str, str]:
        if got != "bool":
            return self._shape(got, lang)
        return ("correct" if self._has(f"b:{bool(answer)}") else "incorrect"), ""

    def _judge_collection(self, answer: Any, got: str, lang: str, query: bool
                          ) -> tuple[str, str]:
        if got not in ("collection", "series"):
            return self._shape(got, lang)
        items = list(answer)
        if len(items) not in self.size:
            return "wrong_shape", say("expected_items", lang, want=self.size[0], got=len(items))
        token = _collection_token(items, self.ordered)
        return ("correct" if self._has(token) else "incorrect"), ""

    def _judge_frame(self, answer: Any, got: str, lang: str, query: bool) -> tuple[str, str]:
        if self.kind == "series" and got == "table" and answer.shape[1] == 1:
            answer, got = answer.iloc[:, 0], "series"
        if got != self.kind:
            return self._shape(got, lang)
        frame = answer.to_frame("v") if got == "series" else answer
        if frame.shape != self.size:
            return "wrong_shape", say("expected_shape", lang, rows=self.size[0],
                                      cols=self.size[1], got_rows=frame.shape[0],
                                      got_cols=frame.shape[1])
        return ("correct" if self._has(_frame_token(frame, self.ordered)) else "incorrect"), ""


def _tokens(value: Any, rtol: float, atol: float, ordered: bool,
            synonyms: Mapping[str, Sequence[str]]) -> tuple[str, set[str], dict]:
    """The kind of a right answer, its tokens and what else its seal keeps."""
    kind = kind_of(value)
    if kind == "number":
        tokens, grids = _number_tokens(float(value), rtol, atol)
        return kind, tokens, {"grids": grids, "share": 0 < abs(float(value)) <= 1}
    if kind == "text":
        forms = [value, *synonyms.get(value, ())]
        return kind, {f"t:{fold(w)}" for w in forms}, {}
    if kind == "bool":
        return kind, {f"b:{bool(value)}"}, {}
    if kind == "collection":
        items = list(value)
        return kind, {_collection_token(items, ordered)}, {"size": len(items)}
    if kind in ("series", "table"):
        frame = value.to_frame("v") if kind == "series" else value
        return kind, {_frame_token(frame, ordered)}, {"size": frame.shape}
    return kind, {f"o:{value!r}"}, {}


def seal(expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9, ordered: bool = False,
         synonyms: Mapping[str, Sequence[str]] | None = None,
         iterations: int | None = None) -> Seal:
    """The :class:`Seal` of a right answer (an :class:`AnyOf` seals every one of its answers).

    ``iterations=1`` makes a cheap seal for judging outside a student's notebook (by
    default :data:`ITERATIONS`).
    """
    iterations = ITERATIONS if iterations is None else iterations
    alternatives = list(expected) if isinstance(expected, AnyOf) else [expected]
    kind, tokens, sizes, share = None, set(), [], False
    grids: dict[str, Any] = {}
    for value in alternatives:
        k, more, extra = _tokens(value, rtol, atol, ordered, synonyms or {})
        kind = kind or k
        tokens |= more
        for family, grid in extra.get("grids", {}).items():  # AnyOf numbers: one grid per family
            grids.setdefault(family, grid)
            if grids[family] != grid:
                tokens.add(f"c{grids['c']}:{_cell(float(value), grids['c'], rtol, atol)}")
        share = share or extra.get("share", False)
        if "size" in extra:
            sizes.append(extra["size"])
    salt = os.urandom(16) if iterations > 1 else b"crmkit"
    s = Seal(kind or "other", salt, iterations, frozenset(), rtol, atol, ordered,
             tuple(sorted(grids.items())),
             (tuple(sizes) if kind == "collection" else sizes[0]) if sizes else None, share)
    object.__setattr__(s, "digests", frozenset(s._digest(tok) for tok in tokens))
    return s
