"""The instructor's answer key: right answers computed from an exercise book's own lesson.

A student's :class:`~crmkit.lessons.exercises.ExerciseBook` keeps no answer
and no way to compute one (only seals, see :mod:`crmkit.lessons.sealed`).
``crmkit grade`` and the instructor's tools compute answers here, from the
exercise definitions of a lesson module and the lesson the book was built on.

>>> from crmkit.dataset.synth import generate
>>> from crmkit.lessons import lesson01
>>> book = lesson01.exercise_book(generate("sports_shop", n_customers=120, seed=1))
>>> book.judge("win_rate", answer(book, "win_rate")).status
'correct'
>>> sorted(answers_for(book, lesson01))[:3]
['agenda_help', 'best_area', 'collect_first']
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from ..errors import ParameterError
from ..lessons.exercises import Exercise, ExerciseBook

__all__ = ["answer", "answers_for", "answers_on", "definitions", "LESSONS"]

#: The lesson modules whose exercise definitions the key knows.
LESSONS = ("crmkit.lessons.lesson01", "crmkit.lessons.lesson02", "crmkit.lessons.lesson03",
           "crmkit.lessons.lesson04")

Lesson = ModuleType | Sequence[Exercise] | None


def definitions(lesson: Lesson, book: ExerciseBook | None = None) -> dict[str, Exercise]:
    """The exercise definitions of a lesson module (its ``EXERCISES``), or of a list, by name;
    with ``lesson`` None, those of the lesson module (:data:`LESSONS`) that defines the
    exercises of ``book``."""
    import importlib

    if lesson is None:
        for module in LESSONS:
            found = definitions(importlib.import_module(module))
            if book is not None and set(book.names) <= set(found):
                return found
        return {}
    exercises: Sequence[Exercise] = (lesson.EXERCISES if isinstance(lesson, ModuleType)
                                     else lesson)
    return {e.name: e for e in exercises}


def answer(book: ExerciseBook, name: str, lesson: Lesson = None) -> Any:
    """The right answer to exercise ``name`` of ``book``, computed from the book's lesson
    (``lesson``: the module or list defining the exercises; found by itself if None)."""
    found = definitions(lesson, book).get(name)
    if found is None or name not in book.names:
        raise ParameterError(f"there is no exercise called {name!r}; the exercises are: "
                             f"{', '.join(book.names) or '-'}.")
    return found.solve(book.lesson)


def answers_for(book: ExerciseBook, lesson: Lesson = None) -> dict[str, Any]:
    """Every right answer the book's lesson can give, by exercise name: exercises the shop's
    data cannot answer (skipped) and answers that cannot be computed are left out."""
    found = definitions(lesson, book)
    return answers_on(book.lesson, [found[n] for n in book.names if n in found])


def answers_on(on: Any, exercises: Sequence[Exercise]) -> dict[str, Any]:
    """The right answers of ``exercises`` computed from ``on`` (what a book of them would be
    built on: the data, a workshop, a lesson with its models), by name; those the data
    cannot answer (skipped) or that cannot be computed are left out.

    >>> answers_on([1, 2, 3], [Exercise("n", len), Exercise("broken", lambda d: 1 / 0)])
    {'n': 3}
    """
    has = getattr(on, "has", None)
    out = {}
    for ex in exercises:
        if ex.needs and has is not None and not has(ex.needs):
            continue
        try:
            out[ex.name] = ex.solve(on)
        except Exception:  # the book's own verdict says why
            continue
    return out
