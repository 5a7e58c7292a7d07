"""Exercises with self-checks: friendly verdicts, hints on request, answers never shown.

A notebook builds an :class:`ExerciseBook` from its data and a list of
:class:`Exercise` definitions (each knows how to compute the right answer
from the same data). The learner writes an answer between the solution
markers and calls :meth:`ExerciseBook.check`:

.. code-block:: python

    answer = None
    # BEGIN SOLUTION
    answer = data.customers["phone"].notna().sum()
    # END SOLUTION
    book.check("phones", answer)

``check`` never raises and never prints the expected value; it prints a
verdict in the notebook's language and returns it. ``book.hint(name)`` shows
the next hint. :func:`strip_solutions` turns a notebook into the student
edition, whose checks then say the exercise is not done yet.

>>> import pandas as pd
>>> ex = Exercise("rows", lambda d: len(d), hints=("Use len().", "len(data)"))
>>> book = ExerciseBook(pd.DataFrame({"x": [1, 2, 3]}), [ex], lang="en")
>>> book.check("rows", None)
⏳ rows: not done yet. Write your answer in `answer` (ask for a hint: book.hint('rows')).
>>> book.check("rows", 4)
❌ rows: not yet. Check your steps and try again (ask for a hint: book.hint('rows')).
>>> book.hint("rows")
Hint 1/2: Use len().
>>> book.check("rows", 3)
✅ rows: correct, well done!
>>> book.results["rows"].status
'correct'
"""

from __future__ import annotations

import copy
import json
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..i18n import catalog, check_lang, format_message, parse_locale_number, t
from .comments import comment, notebook_lang
from .submission import encode, log_path, read_log, write_log

__all__ = [
    "AnyOf",
    "Exercise",
    "Unusable",
    "fold",
    "answer_reason",
    "ExerciseBook",
    "Verdict",
    "answer_key",
    "compare",
    "strip_solutions",
    "student_source",
    "strip_notebook",
    "BEGIN",
    "END",
]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
#: The line that stands for a solution in the student edition (English; see :func:`strip_source`).
PLACEHOLDER = comment("placeholder", "en")


def _say(key: str, lang: str, **kw) -> str:
    """The verdict sentence ``verdict.<key>`` of the catalog in ``lang``, filled in."""
    return format_message(t(f"verdict.{key}", lang), lang, **kw)


def _text(value: str, lang: str) -> str:
    """``value`` in ``lang`` when it is a catalog key; else ``value`` itself (a plain text)."""
    return t(value, lang) if value in catalog() else value


class AnyOf(tuple):
    """Several answers are right (e.g. fields tied for last place): any one is correct.

    >>> compare("city", AnyOf(["address", "city"]))
    ('correct', '')
    """


class _Invalid(Exception):
    """The learner's answer could not be converted (e.g. SQL that does not run)."""


class Unusable(ValueError):
    """Raised by an exercise's ``convert``: ``Unusable(key, **values)`` says what is needed.

    ``key`` names a sentence of the catalog (``verdict.<key>``), filled in with ``values``.

    >>> print(Unusable("need_reason", n=5).text("es"))
    da tu elección y un motivo: answer = ('b', 'porque ...'), con al menos 5 palabras de motivo
    """

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def text(self, lang: str) -> str:
        """What the answer needs, in ``lang``."""
        return _say(self.key, lang, **self.values)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: ``status`` is one of correct, incorrect, close,
    wrong_shape, invalid, missing or error; ``message`` is what the learner saw."""

    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "correct"


@dataclass(frozen=True)
class Exercise:
    """One exercise: how to compute the right answer from the data, and hints.

    Parameters
    ----------
    name : str
        Identifier used in ``book.check(name, answer)``.
    solve : callable
        ``solve(data) -> expected answer``.
    title : str
        Title shown in verdicts: a catalog key, by default ``exercise.<name>.title``
        (a text that is not a key is shown as it is, in every language).
    hints : sequence of str
        Shown one at a time by :meth:`ExerciseBook.hint`: catalog keys, by default
        every ``exercise.<name>.hint.1``, ``.hint.2``, ... the catalog holds.
    rtol, atol : float
        Tolerance for numbers (relative and absolute).
    ordered : bool
        Whether the order of a list/Series/table matters.
    convert : callable, optional
        ``convert(data, answer) -> value`` turns the learner's answer into the
        value to compare, e.g. runs a SQL query; if it raises, the learner is
        told why (status ``invalid``).
    needs : str, optional
        The analysis topic the exercise needs (``crmkit.dataset.schema.NEEDS``);
        on a shop whose data lacks it the check says so (status ``skipped``).
    points : float
        What the exercise is worth in the gradebook (half for "close").
    synonyms : mapping of str to sequence of str
        For text answers: other words accepted for a right answer (``{"saturday":
        ("sábado",)}``); case and accents never matter.
    perturb : callable, optional
        ``perturb(data) -> data``: a copy of the data changed so that a wrong
        ordering or filter gives a different answer. A converted answer (a
        query) that is right is run again on that copy, and must be right there
        too.
    kind : str
        ``compute`` (a value), ``decide`` (choose one of the options computed
        from the data, with a written reason) or ``interpret``; see
        :mod:`crmkit.lessons.judgement`.
    options : callable, optional
        For ``decide``: ``options(data, lang) -> {letter: text}``, shown by
        :meth:`ExerciseBook.options`.
    rubric : str
        What the instructor looks for in the written reason (exported by
        ``crmkit grade`` for manual grading): a catalog key, by default
        ``exercise.<name>.rubric``.

    Every text a person reads lives in the catalog (``crmkit/catalog_exercises.yaml``)
    in both languages; an exercise only names its keys:

    >>> ex = Exercise("win_rate", len)
    >>> ex.title, ex.hints[0]
    ('exercise.win_rate.title', 'exercise.win_rate.hint.1')
    >>> print(ex.label("es"), ex.hint_text(0, "en"), sep="\\n")
    Tasa de éxito del embudo de ventas
    Only closed negotiations count: stages 'won' and 'lost'.
    >>> Exercise("x", len, title=("X", "X"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: Exercise 'x': title must be a catalog key (or one plain ...
    """

    name: str
    solve: Callable[[Any], Any]
    title: str = ""
    hints: Sequence[str] = ()
    rtol: float = 1e-6
    atol: float = 1e-9
    ordered: bool = False
    convert: Callable[[Any, Any], Any] | None = None
    needs: str | None = None
    points: float = 1.0
    synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    perturb: Callable[[Any], Any] | None = None
    kind: str = "compute"
    options: Callable[[Any, str], Mapping[str, str]] | None = None
    rubric: str = ""

    def __post_init__(self) -> None:
        for attr, value in (("title", self.title), ("rubric", self.rubric),
                            *(("hints", h) for h in self.hints)):
            if not isinstance(value, str):
                raise ParameterError(
                    f"Exercise {self.name!r}: {attr} must be a catalog key (or one plain "
                    f"text), not {value!r}; put both languages in the catalog.")
        own, known = f"exercise.{self.name}", catalog()
        if not self.title and f"{own}.title" in known:
            object.__setattr__(self, "title", f"{own}.title")
        if not self.hints:
            keys = (f"{own}.hint.{i}" for i in range(1, len(known)))
            object.__setattr__(self, "hints", tuple(takewhile(known.__contains__, keys)))
        if not self.rubric and f"{own}.rubric" in known:
            object.__setattr__(self, "rubric", f"{own}.rubric")

    def label(self, lang: str) -> str:
        """The title in ``lang`` (the exercise's name when it has none)."""
        return _text(self.title, lang) or self.name

    def hint_text(self, i: int, lang: str) -> str:
        """Hint number ``i`` (from 0) in ``lang``."""
        return _text(self.hints[i], lang)

    def rubric_text(self, lang: str) -> str:
        """The rubric in ``lang`` (empty when there is none)."""
        return _text(self.rubric, lang)


class ExerciseBook:
    """The exercises of one notebook, checked against the notebook's own data.

    A student's book can check answers and give hints, but offers no way to
    see an answer: the exercise definitions stay private, and nothing is kept
    on the book but the verdicts. Instructors and tests get the right answer
    with :func:`answer_key`.
    """

    #: Checks of one exercise that are judged; later ones are refused (no trial-and-error oracle).
    MAX_CHECKS = 30

    def __init__(self, data: Any, exercises: Sequence[Exercise], lang: str = "en",
                 quiet: bool = False, student_id: str | None = None) -> None:
        self.data = data
        self.lang = check_lang(lang)
        self.quiet = quiet
        self.results: dict[str, Verdict] = {}
        self.attempts: dict[str, int] = {}
        self._by_name = {e.name: e for e in exercises}
        self._hints_shown: dict[str, int] = {}
        self.student_id = student_id if student_id is not None else _notebook_student_id()
        if self.student_id:
            self._show(_say("student", self.lang, id=self.student_id))
        self._log = _GradingLog.start(self) if log_path() else None

    def __repr__(self) -> str:
        return f"ExerciseBook({', '.join(self._by_name)}; lang={self.lang!r})"

    @property
    def names(self) -> list[str]:
        """The names of the exercises, in the order of the notebook."""
        return list(self._by_name)

    def _show(self, text: str) -> None:
        if not self.quiet:
            print(text)

    def _lookup(self, name: str) -> Exercise | None:
        ex = self._by_name.get(name)
        if ex is None:
            self._show(_say("unknown", self.lang, name=name,
                            names=", ".join(self._by_name) or "-"))
        return ex

    def judge(self, name: str, answer: Any) -> Verdict:
        """Judge ``answer`` to exercise ``name`` without printing; the verdict is kept.

        Each exercise is judged at most :attr:`MAX_CHECKS` times; the number of
        checks is kept in :attr:`attempts` (and, in a graded run, shown to the
        instructor).
        """
        ex = self._by_name.get(name)
        if ex is None:
            msg = _say("unknown", self.lang, name=name, names=", ".join(self._by_name) or "-")
            return Verdict(name, "error", msg)
        title = ex.label(self.lang)
        self.attempts[name] = self.attempts.get(name, 0) + 1
        if self.attempts[name] > self.MAX_CHECKS:
            if self._log is not None:
                self._log.attempt(name, self.attempts[name])
            return Verdict(name, "limit", _say("limit", self.lang, title=title,
                                               n=self.attempts[name] - 1))
        offer = _say("hint_offer", self.lang, name=name) if ex.hints else ""
        has = getattr(self.data, "has", None)
        if ex.needs and has is not None and not has(ex.needs):
            verdict = Verdict(name, "skipped", _say("skipped", self.lang, title=title,
                                                    detail=t(f"topic.{ex.needs}", self.lang)))
            self.results[name] = verdict
            if self._log is not None:
                self._log.check(ex, verdict, None, None, self.attempts[name])
            return verdict
        expected = given = raw = None
        try:
            if answer is None or answer is Ellipsis:
                status, detail = "missing", ""
                if self._log is not None:  # the grader looks for copies of this data's answers
                    try:
                        expected = ex.solve(self.data)
                    except Exception:  # no answer to compare with: it stays "missing"
                        expected = None
            else:
                raw = given = answer
                query = _looks_like_query(answer)
                if ex.convert is not None:
                    answer = given = self._convert(ex, answer)
                expected = ex.solve(self.data)
                answer = given = _synonym(answer, expected, ex.synonyms)
                status, detail = compare(answer, expected, rtol=ex.rtol, atol=ex.atol,
                                         ordered=ex.ordered, lang=self.lang, query=query)
                if status == "correct" and ex.perturb is not None and ex.convert is not None:
                    status = self._perturbed(ex, raw)
        except _Invalid as exc:
            status, detail = "invalid", str(exc)
        except Exception as exc:  # a check must never crash the learner's notebook
            status, detail = "error", f"{type(exc).__name__}: {exc}"
        offered = status in ("incorrect", "close", "missing", "invalid", "perturbed")
        message = _say(status, self.lang, title=title, detail=detail,
                       hint=offer if offered else "")
        status = "incorrect" if status == "perturbed" else status
        verdict = Verdict(name, status, message)
        self.results[name] = verdict
        if self._log is not None:
            reason = answer_reason(raw) if ex.kind != "compute" else None
            self._log.check(ex, verdict, given, expected, self.attempts[name], reason)
        return verdict

    def _perturbed(self, ex: Exercise, raw: Any) -> str:
        """``correct`` if the answer is also right on the exercise's perturbed copy of the data."""
        other = ex.perturb(self.data)
        try:
            again = ex.convert(other, raw)
        except Exception:
            return "perturbed"
        status, _ = compare(again, ex.solve(other), rtol=ex.rtol, atol=ex.atol,
                            ordered=ex.ordered, lang=self.lang)
        return "correct" if status == "correct" else "perturbed"

    def check(self, name: str, answer: Any) -> None:
        """Judge ``answer`` to exercise ``name`` and print the verdict (never the answer)."""
        self._show(self.judge(name, answer).message)

    def _convert(self, ex: Exercise, answer: Any) -> Any:
        try:
            return ex.convert(self.data, answer)
        except Unusable as exc:  # the convert says, in both languages, what it needs
            raise _Invalid(exc.text(self.lang)) from None
        except Exception as exc:  # e.g. a SQL syntax error: tell the learner, never crash
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise _Invalid(f"{type(exc).__name__}: {first}") from None

    def options(self, name: str) -> None:
        """Show the options of a *decide* exercise (computed from this notebook's data)."""
        ex = self._lookup(name)
        if ex is None or ex.options is None:
            return
        for letter, text in ex.options(self.data, self.lang).items():
            self._show(f"  {letter}) {text}")

    def hint(self, name: str) -> None:
        """Show the next hint of exercise ``name`` (one more on each call)."""
        ex = self._lookup(name)
        if ex is None:
            return
        i = self._hints_shown.get(name, 0)
        if i >= len(ex.hints):
            text = _say("no_hints", self.lang, title=ex.label(self.lang))
        else:
            text = _say("hint", self.lang, i=i + 1, n=len(ex.hints),
                        text=ex.hint_text(i, self.lang))
            self._hints_shown[name] = i + 1
        self._show(text)

    def summary(self) -> pd.DataFrame:
        """One row per exercise: its title and the status of its last check."""
        return pd.DataFrame({
            "exercise": [e.name for e in self._by_name.values()],
            "title": [e.label(self.lang) for e in self._by_name.values()],
            "status": [self.results[e.name].status if e.name in self.results else "unchecked"
                       for e in self._by_name.values()],
        })


def _notebook_student_id() -> str | None:
    """The ``student_id`` parameter of the running notebook, if it has one."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return None
    shell = get_ipython()
    value = shell.user_ns.get("student_id") if shell is not None else None
    return str(value) if value not in (None, "") else None


_QUERY = re.compile(r"^\s*(select|with|from)\b", re.I)


def _looks_like_query(answer: Any) -> bool:
    return isinstance(answer, str) and bool(_QUERY.match(answer))


def fold(text: str) -> str:
    """``text`` without case, accents or surrounding spaces, for comparing words.

    >>> fold("  Sábado "), fold("ANALÍTICO") == fold("analitico")
    ('sabado', True)
    """
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _synonym(answer: Any, expected: Any, synonyms: Mapping[str, Sequence[str]]) -> Any:
    """The expected word when ``answer`` is one of its accepted synonyms; else ``answer``."""
    if not (isinstance(answer, str) and synonyms):
        return answer
    wanted = list(expected) if isinstance(expected, AnyOf) else [expected]
    for word in wanted:
        if isinstance(word, str) and fold(answer) in {fold(w) for w in synonyms.get(word, ())}:
            return word
    return answer


class _GradingLog:
    """Writes a book's exercises and checks into the grading log of a graded run."""

    def __init__(self, path: Path, index: int, log: dict) -> None:
        self.path, self.index, self.log = path, index, log

    @classmethod
    def start(cls, book: ExerciseBook) -> _GradingLog:
        path = log_path()
        log = read_log(path)
        log.setdefault("books", []).append({
            "lang": book.lang, "student_id": book.student_id,
            "seed": _data_seed(book.data),
            "exercises": {e.name: {"title": e.label(book.lang), "points": e.points,
                                   "hint": e.hint_text(0, book.lang) if e.hints else "",
                                   "rtol": e.rtol, "atol": e.atol, "ordered": e.ordered,
                                   "kind": e.kind, "rubric": e.rubric_text(book.lang)}
                          for e in book._by_name.values()},
            "checks": {}})
        out = cls(path, len(log["books"]) - 1, log)
        write_log(path, log)
        return out

    def attempt(self, name: str, n: int) -> None:
        self.log["books"][self.index]["checks"].setdefault(name, {})["attempts"] = n
        write_log(self.path, self.log)

    def check(self, ex: Exercise, verdict: Verdict, answer: Any, expected: Any,
              n: int, reason: str | None = None) -> None:
        self.log["books"][self.index]["checks"][ex.name] = {
            "status": verdict.status, "message": verdict.message, "attempts": n,
            "answer": encode(answer), "expected": encode(expected), "reason": reason}
        write_log(self.path, self.log)


def _data_seed(data: Any) -> int | None:
    manifest = getattr(data, "manifest", None)
    seed = manifest.get("seed") if isinstance(manifest, dict) else None
    return int(seed) if isinstance(seed, numbers.Integral) else None


def answer_reason(answer: Any) -> str | None:
    """The written reason of a *decide* or *interpret* answer ``(choice, reason)``, if any."""
    if isinstance(answer, tuple | list) and len(answer) == 2 and isinstance(answer[1], str):
        return answer[1].strip()
    return answer.strip() if isinstance(answer, str) else None


def answer_key(book: ExerciseBook, name: str) -> Any:
    """The right answer to exercise ``name`` of ``book``: for instructors and tests.

    A student's notebook never calls it; checks and hints never show it.

    >>> book = ExerciseBook([1, 2, 3], [Exercise("total", sum)])
    >>> answer_key(book, "total")
    6
    """
    ex = book._by_name.get(name)
    if ex is None:
        raise ParameterError(f"there is no exercise called {name!r}; the exercises are: "
                             f"{', '.join(book.names) or '-'}.")
    return ex.solve(book.data)


# ----------------------------------------------------------------------------- comparison
def _kind(x: Any) -> str:
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


def _shape_error(want: str, got: str, lang: str) -> tuple[str, str]:
    return "wrong_shape", _say("expected_kind", lang, want=t(f"answer_kind.{want}", lang),
                               got=t(f"answer_kind.{got}", lang))


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=atol)


def compare(answer: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9,
            ordered: bool = False, lang: str = "en", query: bool = False) -> tuple[str, str]:
    """Compare an answer with the expected value: ``(status, detail)``.

    Numbers within tolerance are equal; a number typed as a table shows it
    (the right value rounded to the decimals typed) is close; texts ignore
    case, accents and surrounding spaces; collections ignore order unless
    ``ordered``; Series and tables compare values by label. ``query`` says the
    learner answered with a query (messages about rows then mention it).

    >>> compare(3.0000001, 3)
    ('correct', '')
    >>> compare(3.01, 3)
    ('close', '')
    >>> compare("Telemarketing ", "telemarketing"), compare("sabado", "sábado")
    (('correct', ''), ('correct', ''))
    >>> compare(0.02, 0.0198)  # as a table rounded to two decimals shows it
    ('close', '')
    >>> compare([1, 2], 3)[1], compare([1, 2], 3, query=True)[1]
    ('expected one value, got 2 values', 'expected one value, got 2 (a query that returns 2 rows?)')
    >>> compare([2, 1], [1, 2])
    ('correct', '')
    >>> compare("three", 3)
    ('wrong_shape', 'expected a number, got a text')
    >>> compare("0.566", 0.566)[1]
    'expected a number, got a text: write the number without quotes'

    In Spanish a decimal comma is accepted where a number is expected, typed
    as a text (``"0,25"``) or as Python reads ``answer = 0,25`` (the pair ``(0, 25)``):

    >>> compare("0,25", 0.25, lang="es"), compare((0, 25), 0.25, lang="es")
    (('correct', ''), ('correct', ''))
    >>> compare("1.500,5", 1500.5, lang="es")
    ('correct', '')
    """
    if isinstance(expected, AnyOf):
        results = [compare(answer, e, rtol=rtol, atol=atol, ordered=ordered, lang=lang,
                           query=query) for e in expected]
        return next((r for r in results if r[0] == "correct"), results[0])
    want, got = _kind(expected), _kind(answer)
    typed = answer
    if want == "number" and lang != "en":
        answer, got = _decimal_comma(answer, got, lang)
    if want == "number" and got == "bool":
        return _shape_error(want, got, lang)
    if want in ("number", "text") and got in ("collection", "series", "table"):
        n = len(answer)
        return "wrong_shape", _say("expected_one_query" if query else "expected_one", lang, n=n)
    if want == "number":
        if got == "text" and _is_number(answer):
            return "wrong_shape", _say("quoted_number", lang)
        if got != "number":
            return _shape_error(want, got, lang)
        if _close(answer, expected, rtol, atol):
            return "correct", ""
        if 0 < abs(expected) <= 1 and 1 < abs(answer) <= 100 and (
                _close(answer / 100, expected, max(rtol * 10, 0.005), atol)
                or _close(answer / 100, round(float(expected), _decimals(typed) + 2), 1e-9, 1e-12)):
            return "wrong_shape", _say("percent", lang)
        near = (_close(answer, expected, max(rtol * 10, 0.005), atol)
                or _as_displayed(typed, answer, expected))
        return ("close" if near else "incorrect"), ""
    if want == "bool":
        if got != "bool":
            return _shape_error(want, got, lang)
        return ("correct" if bool(answer) == bool(expected) else "incorrect"), ""
    if want == "text":
        if got == "number":
            return "wrong_shape", _say("unquoted_text", lang)
        if got != "text":
            return _shape_error(want, got, lang)
        return ("correct" if fold(answer) == fold(expected) else "incorrect"), ""
    if want == "collection":
        if got not in ("collection", "series"):
            return _shape_error(want, got, lang)
        a, e = list(answer), list(expected)
        if len(a) != len(e):
            return "wrong_shape", _say("expected_items", lang, want=len(e), got=len(a))
        if not ordered:
            a, e = sorted(a, key=_sort_key), sorted(e, key=_sort_key)
        ok = all(compare(x, y, rtol=rtol, atol=atol, lang=lang)[0] == "correct"
                 for x, y in zip(a, e, strict=True))
        return ("correct" if ok else "incorrect"), ""
    if want == "series":
        if got == "table" and answer.shape[1] == 1:
            answer = answer.iloc[:, 0]
        elif got != "series":
            return _shape_error(want, got, lang)
        return _compare_frames(answer.to_frame("v"), expected.to_frame("v"), rtol, atol,
                               ordered, lang)
    if want == "table":
        if got != "table":
            return _shape_error(want, got, lang)
        return _compare_frames(answer, expected, rtol, atol, ordered, lang)
    same = answer == expected
    return ("correct" if bool(same) else "incorrect"), ""


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


def _as_displayed(typed: Any, answer: float, expected: float) -> bool:
    """Whether ``answer`` is ``expected`` rounded to the decimals the learner typed (1 to 4),
    within 5 % of it (``0,2`` for 0.25 is too coarse to be close).

    >>> _as_displayed("0,02", 0.02, 0.0198), _as_displayed(0.4, 0.4, 0.0198)
    (True, False)
    >>> _as_displayed("0,2", 0.2, 0.25)
    False
    """
    decimals = _decimals(typed)
    if not 1 <= decimals <= 4 or not math.isfinite(float(expected)):
        return False
    # the table's rounding, and not so coarse that it hides most of the value
    return (math.isclose(round(float(expected), decimals), float(answer), abs_tol=1e-12)
            and math.isclose(float(answer), float(expected), rel_tol=0.05))


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


def _sort_key(x):
    return (str(type(x)), str(x))


def _compare_frames(a: pd.DataFrame, e: pd.DataFrame, rtol, atol, ordered, lang):
    if a.shape != e.shape:
        return "wrong_shape", _say("expected_shape", lang, rows=e.shape[0], cols=e.shape[1],
                                   got_rows=a.shape[0], got_cols=a.shape[1])
    if not ordered:
        try:
            a, e = a.sort_index(), e.sort_index()
        except TypeError:
            pass
    a = a.set_axis(e.columns, axis=1) if list(a.columns) != list(e.columns) else a
    if not a.index.equals(e.index):
        a_idx = [str(x) for x in a.index]
        e_idx = [str(x) for x in e.index]
        if sorted(a_idx) != sorted(e_idx):
            return "incorrect", ""
        a = a.set_axis(e.index, axis=0)
    for col in e.columns:
        x, y = a[col], e[col]
        if pd.api.types.is_numeric_dtype(y) and pd.api.types.is_numeric_dtype(x):
            if not np.allclose(x.to_numpy(float), y.to_numpy(float), rtol=rtol, atol=atol,
                               equal_nan=True):
                return "incorrect", ""
        elif not (x.astype(str).to_numpy() == y.astype(str).to_numpy()).all():
            return "incorrect", ""
    return "correct", ""


# ----------------------------------------------------------------------------- student edition
_BLOCK = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*$",
                    re.M | re.S)


def strip_source(source: str, lang: str = "en") -> str:
    """Replace every solution block of a cell's source by a placeholder line in ``lang``.

    >>> print(strip_source("answer = None\\n# BEGIN SOLUTION\\nanswer = 42\\n# END SOLUTION\\n"))
    answer = None
    # your code here: give `answer` its value
    <BLANKLINE>
    >>> print(strip_source("# BEGIN SOLUTION\\nanswer = 42\\n# END SOLUTION", "es"))
    # tu código aquí: da a `answer` su valor
    """
    placeholder = comment("placeholder", lang)
    return _BLOCK.sub(lambda m: m.group(1) + placeholder, source)


def strip_figures(source: str, lang: str = "en") -> str:
    """A headline-figures cell without its figures: only the exercise status is recorded.

    A figure a notebook records for its tests (``base_rate``) may be an
    exercise's answer, and the recorded value (and the code computing it)
    would land in the student's saved notebook.

    >>> print(strip_figures('# Headline figures\\nrecord("base_rate", 0.4)\\n'
    ...                     'record("exercise_status", book.summary())\\n'), end="")
    # Headline figures are recorded in the instructor's edition only (some are exercise answers).
    record("exercise_status", book.summary())
    """
    import ast

    headings = tuple(comment("figures_heading", x) for x in ("en", "es"))
    if not source.lstrip().startswith(headings):
        return source
    note = comment("figures_note", lang) + "\n"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return note
    kept = [ast.get_source_segment(source, node) for node in tree.body]
    kept = [seg for seg in kept if seg and ("record(" not in seg
                                            or 'record("exercise_status"' in seg)]
    return note + "".join(f"{seg}\n" for seg in kept)


def strip_notebook(nb: dict, lang: str | None = None) -> tuple[dict, int]:
    """A copy of notebook ``nb`` with every solution block replaced, and the number removed.

    Cells keep their ids and tags; outputs are cleared; ``nb`` is not changed. The
    headline-figures cell records only the exercise status (:func:`strip_figures`).
    The lines put in their place are written in ``lang``, by default the language
    of the notebook's ``parameters`` cell (an edition's own).
    """
    lang = lang or notebook_lang(nb)
    nb = copy.deepcopy(nb)
    removed = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        removed += len(_BLOCK.findall(src))
        cell["source"] = strip_figures(strip_source(src, lang), lang)
        cell["outputs"], cell["execution_count"] = [], None
    return nb, removed


def student_source(notebook: str | Path) -> tuple[str, int]:
    """The student edition of ``notebook`` as JSON text, and the number of blocks removed."""
    nb, removed = strip_notebook(json.loads(Path(notebook).read_text(encoding="utf-8")))
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n", removed


def strip_solutions(notebook: str | Path, out: str | Path) -> int:
    """Write the student edition of ``notebook`` to ``out``; return blocks removed.

    Cells keep their ids and tags; outputs are cleared. (``crmkit student``
    writes through :mod:`crmkit.lessons.edition`, which never overwrites a
    student's changes.)
    """
    text, removed = student_source(notebook)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text, encoding="utf-8")
    return removed
