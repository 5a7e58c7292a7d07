"""Exercises with self-checks: friendly verdicts, hints on request, answers never shown.

A notebook builds an :class:`ExerciseBook` from its data and a list of
:class:`Exercise` definitions (each knows how to compute the right answer
from the same data). The book computes each right answer once and keeps only
a seal of it (:mod:`crmkit.lessons.sealed`): nothing in a student's book holds
an answer or a way to compute one. The learner writes an answer between the
solution markers and calls :meth:`ExerciseBook.check`:

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
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import takewhile
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import CRMKitError, ParameterError
from ..i18n import catalog, check_lang, format_message, t
from .comments import comment, notebook_lang
from .sealed import AnyOf, Seal, fold, seal
from .submission import (
    append_history,
    encode,
    fingerprint,
    history_path,
    log_path,
    read_log,
    write_log,
)

__all__ = [
    "AnyOf",
    "Exercise",
    "Unusable",
    "fold",
    "answer_reason",
    "ExerciseBook",
    "NotReady",
    "Verdict",
    "compare",
    "strip_solutions",
    "student_source",
    "strip_notebook",
    "problem",
    "BEGIN",
    "END",
]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
#: The line that stands for a solution in the student edition (English; see :func:`strip_source`).
PLACEHOLDER = comment("placeholder", "en")


def _say(key: str, lang: str, **kw: object) -> str:
    """The verdict sentence ``verdict.<key>`` of the catalog in ``lang``, filled in."""
    return format_message(t(f"verdict.{key}", lang), lang, **kw)


def _text(value: str, lang: str) -> str:
    """``value`` in ``lang`` when it is a catalog key; else ``value`` itself (a plain text)."""
    return t(value, lang) if value in catalog() else value


def problem(exc: BaseException, lang: str) -> str:
    """What went wrong, said to a reader of ``lang``.

    An error crmkit raises on purpose (:class:`~crmkit.errors.CRMKitError`) carries a
    sentence in the reader's language: it is said as it is. Anything else was not
    expected: its kind (the Python class) is named, in a sentence of ``lang``, with the
    first line of its message.

    >>> problem(ParameterError("la consulta no devuelve ninguna fila"), "es")
    'la consulta no devuelve ninguna fila'
    >>> problem(KeyError("store"), "es")
    "un error inesperado (KeyError): 'store'"
    >>> problem(ZeroDivisionError(), "en")
    'an unexpected error (ZeroDivisionError)'
    """
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, CRMKitError) and first:
        return first
    return _say("unexpected", lang, kind=type(exc).__name__,
                message=f": {first}" if first else "")


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


class NotReady(LookupError):
    """Raised while a book is built when an answer needs what the notebook has not made yet
    (a model it fits further down): the exercise is sealed once :meth:`ExerciseBook.use`
    hands it over, or at its first check."""


def _no_answer(data: Any) -> Any:
    raise ParameterError("a student's exercise book keeps no answers; the instructor's "
                         "answers come from crmkit.grading.keys.")


@dataclass(frozen=True)
class _Key:
    """What a book keeps of an exercise's right answer: seals, never the answer."""

    seal: Seal | None = None
    perturbed: Seal | None = None   # the answer on the exercise's perturbed data
    error: str = ""                 # the answer could not be computed: why


class ExerciseBook:
    """The exercises of one notebook, checked against the notebook's own lesson.

    ``lesson`` is what the exercises are computed from (the shop's data, or a
    lesson object holding data, warehouse and fitted models). Each right
    answer is computed once, sealed (:mod:`crmkit.lessons.sealed`) and
    dropped: the book keeps no answer and no way to compute one, and a
    verdict says in which band an answer lies, never how far it is from the
    right one. Instructors get answers from :mod:`crmkit.grading.keys`.
    """

    #: Different answers to one exercise that are judged; later ones are refused.
    MAX_CHECKS = 30

    def __init__(self, lesson: Any, exercises: Sequence[Exercise], lang: str = "en",
                 quiet: bool = False, student_id: str | None = None,
                 settled: bool = True, source: str | None = None) -> None:
        self.lesson = lesson
        self.lang = check_lang(lang)
        self.quiet = quiet
        self.results: dict[str, Verdict] = {}
        self.attempts: dict[str, int] = {}
        self._by_name = {e.name: replace(e, solve=_no_answer) for e in exercises}
        self._tried: dict[str, set[str]] = {}
        self._hints_shown: dict[str, int] = {}
        in_notebook = _notebook_student_id()
        self.student_id = student_id if student_id is not None else in_notebook
        if self.student_id:
            self._show(_say("student", self.lang, id=self.student_id))
        graded = log_path()
        self._log = _GradingLog.start(self, graded) if graded else None
        self._history = history_path(in_notebook is not None and self._log is None)
        self._keys: dict[str, _Key] = {}
        self._perturbed_data: dict[str, Any] = {}
        # the book never keeps an exercise's definition (its solve): answers are sealed now if
        # the lesson's answers are settled; those that wait (files the notebook writes later, a
        # model it fits further down) are sealed later from definitions found again by name
        # in ``source`` ("module:attribute"), the package's own source
        if not settled and source is None:
            raise ParameterError("a book whose answers are sealed later needs the source of "
                                 "its definitions: source='module:attribute'.")
        self._source = source
        self._pending = [e.name for e in exercises]
        defined = {e.name: e for e in exercises}
        if settled:
            self._seal_ready(defined, final=False)
        if source is None:  # nothing could find the definitions later: seal (or fail) now
            self._seal_ready(defined, final=True)

    @property
    def data(self) -> Any:
        """Deprecated name of :attr:`lesson` (editions handed out before the rename use it)."""
        import warnings

        warnings.warn("book.data is now book.lesson; hand fitted models over with book.use()",
                      DeprecationWarning, stacklevel=2)
        return self.lesson

    def __repr__(self) -> str:
        return f"ExerciseBook({', '.join(self._by_name)}; lang={self.lang!r})"

    @property
    def names(self) -> list[str]:
        """The names of the exercises, in the order of the notebook."""
        return list(self._by_name)

    def use(self, **made: Any) -> None:
        """Hand the book what the notebook has made, e.g. ``book.use(holdout=holdout)``.

        The exercises checked against it are judged on the notebook's own
        objects (a model is never fitted twice).
        """
        wire = getattr(self.lesson, "use", None)
        if wire is None:
            raise ParameterError("this notebook's exercises need nothing handed over: "
                                 "book.use() is for notebooks that fit models (03).")
        wire(**made)
        if self._pending:
            self._seal_ready(self._definitions(), final=False)

    # ------------------------------------------------------------------ sealing
    def _solve(self, step: Callable[[Any], Any], on: Any, final: bool) -> Any:
        """``step(on)`` (an exercise's solve or perturb); before the first check (not
        ``final``) a model the notebook has not handed over is not fitted here."""
        fit = getattr(on, "fit_missing", None)
        if fit is not None:
            on.fit_missing = final
        try:
            return step(on)
        finally:
            if fit is not None:
                on.fit_missing = fit

    def _definitions(self) -> dict[str, Exercise]:
        """The definitions of the book's exercises, found again in :attr:`_source` (they are
        never kept on the book: only while an answer is sealed)."""
        import importlib

        module, _, attribute = (self._source or "").partition(":")
        found = getattr(importlib.import_module(module), attribute)
        exercises = found(self.lang) if callable(found) else found
        return {e.name: e for e in exercises if e.name in self._by_name}

    def _seal_ready(self, defined: Mapping[str, Exercise], final: bool) -> None:
        """Seal every pending exercise whose answer can be computed now."""
        for name in list(self._pending):
            ex = defined[name]
            has = getattr(self.lesson, "has", None)
            if ex.needs and has is not None and not has(ex.needs):
                self._pending.remove(name)  # skipped at every check: nothing to seal
                continue
            try:
                self._keys[name] = self._seal(ex, final)
            except Exception:  # NotReady, or what the notebook has not made yet
                continue
            self._pending.remove(name)

    def _seal(self, ex: Exercise, final: bool) -> _Key:
        """The key of ``ex``; before the first check (not ``final``) anything that fails
        raises, and the exercise waits."""
        try:
            expected = self._solve(ex.solve, self.lesson, final)
            perturbed = None
            if ex.perturb is not None and ex.convert is not None:
                other = self._solve(ex.perturb, self.lesson, final)
                perturbed = self._solve(ex.solve, other, final)
                self._perturbed_data[ex.name] = other
        except Exception as exc:  # a check must never crash the learner's notebook
            if not final:
                raise
            return _Key(error=problem(exc, self.lang))
        def sealed(value: Any) -> Seal:
            return seal(value, rtol=ex.rtol, atol=ex.atol, ordered=ex.ordered,
                        synonyms=ex.synonyms)

        # the right answer is never written anywhere (not even in a graded run's log: the
        # grader computes its own, outside the student's kernel)
        return _Key(sealed(expected), None if perturbed is None else sealed(perturbed))

    def _key(self, name: str) -> _Key:
        if name in self._pending:
            self._keys[name] = self._seal(self._definitions()[name], final=True)
            self._pending.remove(name)
        return self._keys[name]

    # ------------------------------------------------------------------ checking
    def _show(self, text: str) -> None:
        if not self.quiet:
            print(text)

    def _lookup(self, name: str) -> Exercise | None:
        ex = self._by_name.get(name)
        if ex is None:
            self._show(_say("unknown", self.lang, name=name,
                            names=", ".join(self._by_name) or "-"))
        return ex

    def _count(self, name: str, answer: Any) -> bool:
        """Count a check of ``name``; False once too many different answers were tried."""
        self.attempts[name] = self.attempts.get(name, 0) + 1
        tried = self._tried.setdefault(name, set())
        mark = fingerprint(answer)
        if mark not in tried and len(tried) >= self.MAX_CHECKS:
            return False
        tried.add(mark)
        return True

    def judge(self, name: str, answer: Any) -> Verdict:
        """Judge ``answer`` to exercise ``name`` without printing; the verdict is kept.

        At most :attr:`MAX_CHECKS` different answers to one exercise are
        judged; every check is counted in :attr:`attempts` and logged for the
        instructor (in a graded run, and in a student's notebook).
        """
        ex = self._by_name.get(name)
        if ex is None:
            msg = _say("unknown", self.lang, name=name, names=", ".join(self._by_name) or "-")
            return Verdict(name, "error", msg)
        title = ex.label(self.lang)
        if not self._count(name, answer):
            verdict = Verdict(name, "limit", _say("limit", self.lang, title=title,
                                                  n=self.attempts[name] - 1))
            self._record(ex, verdict, answer, None)
            return verdict
        offer = _say("hint_offer", self.lang, name=name) if ex.hints else ""
        has = getattr(self.lesson, "has", None)
        if ex.needs and has is not None and not has(ex.needs):
            verdict = Verdict(name, "skipped", _say("skipped", self.lang, title=title,
                                                    detail=t(f"topic.{ex.needs}", self.lang)))
            self.results[name] = verdict
            self._record(ex, verdict, None, None)
            return verdict
        status, detail, given = self._verdict(ex, answer)
        offered = status in ("incorrect", "close", "missing", "invalid", "perturbed")
        message = _say(status, self.lang, title=title, detail=detail,
                       hint=offer if offered else "")
        perturbed = status == "perturbed"  # right on the lesson's data, wrong on its copy
        verdict = Verdict(name, "incorrect" if perturbed else status, message)
        self.results[name] = verdict
        self._record(ex, verdict, given, answer_reason(answer) if ex.kind != "compute" else None,
                     perturbed)
        return verdict

    def _verdict(self, ex: Exercise, answer: Any) -> tuple[str, str, Any]:
        """``(status, detail, answer as judged)``; never raises."""
        try:
            key = self._key(ex.name)
            if answer is None or answer is Ellipsis:
                return "missing", "", None
            if key.error or key.seal is None:
                return "error", key.error, answer
            raw = given = answer
            query = _looks_like_query(answer)
            if ex.convert is not None:
                given = self._convert(ex, self.lesson, answer)
            status, detail = key.seal.judge(given, lang=self.lang, query=query)
            if status == "correct" and key.perturbed is not None and ex.convert is not None:
                status = self._perturbed(ex, raw, key.perturbed)
            return status, detail, given
        except _Invalid as exc:
            return "invalid", str(exc), answer
        except Exception as exc:  # a check must never crash the learner's notebook
            return "error", problem(exc, self.lang), answer

    def _record(self, ex: Exercise, verdict: Verdict, given: Any, reason: str | None,
                perturbed: bool = False) -> None:
        n = self.attempts.get(ex.name, 0)
        if self._log is not None:
            self._log.check(ex, verdict, given, n, reason, perturbed)
        if self._history is not None:
            append_history(self._history, self.student_id, ex.name, verdict.status,
                           fingerprint(given))

    def _perturbed(self, ex: Exercise, raw: Any, right: Seal) -> str:
        """``correct`` if the answer is also right on the exercise's perturbed copy of the data."""
        if ex.convert is None:  # only exercises with a convert have a perturbed copy
            return "perturbed"
        try:
            again = ex.convert(self._perturbed_data[ex.name], raw)
        except Exception:
            return "perturbed"
        status, _ = right.judge(again, lang=self.lang)
        return "correct" if status == "correct" else "perturbed"

    def check(self, name: str, answer: Any) -> None:
        """Judge ``answer`` to exercise ``name`` and print the verdict (never the answer)."""
        self._show(self.judge(name, answer).message)

    def _convert(self, ex: Exercise, on: Any, answer: Any) -> Any:
        if ex.convert is None:
            return answer
        try:
            return ex.convert(on, answer)
        except Unusable as exc:  # the convert says, in both languages, what it needs
            raise _Invalid(exc.text(self.lang)) from None
        except Exception as exc:  # e.g. a SQL syntax error: tell the learner, never crash
            raise _Invalid(problem(exc, self.lang)) from None

    def options(self, name: str) -> None:
        """Show the options of a *decide* exercise (computed from this notebook's data)."""
        ex = self._lookup(name)
        if ex is None or ex.options is None:
            return
        for letter, text in ex.options(self.lesson, self.lang).items():
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
        """One row per exercise: its name (as the notebook's code calls it), its title and
        the status of its last check (a code: ``correct``, ``unchecked``...)."""
        return pd.DataFrame({
            "exercise": [e.name for e in self._by_name.values()],
            "title": [e.label(self.lang) for e in self._by_name.values()],
            "status": [self.results[e.name].status if e.name in self.results else "unchecked"
                       for e in self._by_name.values()],
        })

    def overview(self) -> pd.DataFrame:
        """The book as its reader sees it: one row per exercise, headed by its title, and the
        status of its last check, all in the book's language (:meth:`summary` keeps the
        names and codes).

        >>> book = ExerciseBook([1, 2], [Exercise("win_rate", len)], lang="es", quiet=True)
        >>> book.check("win_rate", 2)
        >>> book.overview()
                                           Estado
        Ejercicio
        Tasa de éxito del embudo de ventas  Correcto
        """
        rows = self.summary()
        statuses = [t(f"value.{s}", self.lang) if f"value.{s}" in catalog() else s
                    for s in rows["status"]]
        return pd.DataFrame({t("column.status", self.lang): statuses},
                            index=pd.Index(rows["title"], name=t("label.exercise", self.lang)))


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


class _GradingLog:
    """Writes a book's exercises and checks into the grading log of a graded run (never in a
    student's own notebook: the log is the grader's). It holds no right answer: the grader
    computes those itself, outside the student's kernel (:mod:`crmkit.grading.grade`)."""

    def __init__(self, path: Path, index: int, log: dict) -> None:
        self.path, self.index, self.log = path, index, log

    @classmethod
    def start(cls, book: ExerciseBook, path: Path) -> _GradingLog:
        log = read_log(path)
        log.setdefault("books", []).append({
            "lang": book.lang, "student_id": book.student_id,
            "seed": _data_seed(book.lesson),
            "exercises": {e.name: {"title": e.label(book.lang), "points": e.points,
                                   "hint": e.hint_text(0, book.lang) if e.hints else "",
                                   "rtol": e.rtol, "atol": e.atol, "ordered": e.ordered,
                                   "kind": e.kind, "rubric": e.rubric_text(book.lang)}
                          for e in book._by_name.values()},
            "checks": {}})
        out = cls(path, len(log["books"]) - 1, log)
        write_log(path, log)
        return out

    def _entry(self, name: str) -> dict:
        return self.log["books"][self.index]["checks"].setdefault(name, {})

    def check(self, ex: Exercise, verdict: Verdict, answer: Any, n: int,
              reason: str | None = None, perturbed: bool = False) -> None:
        """Log a check; ``perturbed``: the answer (a query) was right on the lesson's data
        and wrong on the exercise's perturbed copy (the grader keeps it wrong)."""
        entry = self._entry(ex.name)
        if verdict.status == "limit":
            entry["attempts"] = n
        else:
            entry.update(status=verdict.status, message=verdict.message, attempts=n,
                         answer=encode(answer), reason=reason, perturbed=perturbed)
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


# ----------------------------------------------------------------------------- comparison
def compare(answer: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9,
            ordered: bool = False, lang: str = "en", query: bool = False,
            synonyms: Mapping[str, Sequence[str]] | None = None) -> tuple[str, str]:
    """Compare an answer with the expected value: ``(status, detail)``.

    Judged exactly as a student's book judges it (:meth:`Seal.judge
    <crmkit.lessons.sealed.Seal.judge>`): numbers within tolerance are
    equal, a number within the wider "close" band or typed as a table shows
    it (the right value rounded to the decimals typed) is close; texts ignore
    case, accents and surrounding spaces; collections ignore order unless
    ``ordered``; Series and tables compare values by label. ``query`` says
    the learner answered with a query (messages about rows then mention it).

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
    sealed = seal(expected, rtol=rtol, atol=atol, ordered=ordered, synonyms=synonyms,
                  iterations=1)
    return sealed.judge(answer, lang=lang, query=query)


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
