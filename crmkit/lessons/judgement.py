"""Exercises that ask for judgement: choose an option computed from the data, and say why.

A *decide* exercise offers options built from the notebook's own data (the
segments of this shop, the campaigns it ran, the models it fitted), so the
right choice differs between students; the learner answers with the letter of
their choice and a short written reason:

.. code-block:: python

    book.options("fund_segment")
    answer = ("b", "Most customers who came back are in this segment...")
    book.check("fund_segment", answer)

The choice is checked at once; the reason is required (at least a few words)
and, under ``crmkit grade``, exported with the exercise's rubric for the
instructor to mark.

>>> import pandas as pd
>>> sizes = pd.Series({"loyal": 40, "new": 25, "at_risk": 60})
>>> ex = decide("biggest", lambda d, lang: sizes_options(d), lambda d: d.idxmax(),
...             title="Largest segment", rubric="names the size")
>>> book = ExerciseBook(sizes, [ex], lang="en")
>>> book.options("biggest")
  a) at_risk: 60
  b) loyal: 40
  c) new: 25
>>> book.check("biggest", ("a", "It has the most customers of the three."))
✅ Largest segment: correct, well done!
>>> book.check("biggest", ("b)", "The loyal ones are the ones I trust."))
❌ Largest segment: not yet. Check your steps and try again.
>>> book.check("biggest", "a")  # doctest: +ELLIPSIS
🔶 Largest segment: your answer could not be used: give your choice and a reason...
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..i18n import catalog, t
from .exercises import Exercise, ExerciseBook, Unusable, fold

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["decide", "letters", "labelled", "Option", "value_option", "sizes_options",
           "MIN_REASON_WORDS", "ExerciseBook"]

#: Words a written reason needs at least.
MIN_REASON_WORDS = 5

def letters(labels: Sequence[Any]) -> dict[str, Any]:
    """``{"a": first, "b": second, ...}``: options as the learner answers them.

    >>> letters(["web", "store"])
    {'a': 'web', 'b': 'store'}
    """
    return dict(zip(string.ascii_lowercase, labels, strict=False))


class Option(str):
    """An option's text as a reader of one language reads it, keeping the data's ``code``
    it shows: the option is printed as its text, and a learner may answer with the letter,
    the text (in either language) or the code.

    >>> o = Option("Mujer", "women")
    >>> o, o.code, o == "Mujer"
    ('Mujer', 'women', True)
    """

    code: str

    def __new__(cls, text: str, code: Any) -> Option:
        out = super().__new__(cls, text)
        out.code = str(code)
        return out


def value_option(code: Any, lang: str, group: str = "value") -> Option:
    """The category value ``code`` as an option: its catalog label (``<group>.<code>``) in
    ``lang``, or the code itself when the catalog has none (a shop's own name).

    >>> value_option("kids", "es"), value_option("kids", "en"), value_option("Lola 7", "es")
    ('Infantil', 'Kids', 'Lola 7')
    """
    key = f"{group}.{code}"
    return Option(t(key, lang) if key in catalog() else str(code), code)


def labelled(codes: Sequence[Any], lang: str, group: str = "value") -> dict[str, Option]:
    """:func:`letters` of data codes shown through the catalog; the letters follow the
    codes' order, the same in every language.

    >>> labelled(["accessories", "women"], "es")
    {'a': 'Complementos', 'b': 'Mujer'}
    """
    return letters([value_option(c, lang, group) for c in codes])


def _names(text: Any) -> set[str]:
    """What an option may be answered with: its text, the label before ``:``, its code."""
    names = {fold(str(text)), fold(str(text).split(":")[0]), fold(getattr(text, "code", ""))}
    return names - {""}


def sizes_options(values: pd.Series) -> dict[str, str]:
    """Options ``label: value`` for a Series, in the order of its labels (not of its values,
    which would give the answer away)."""
    ordered = values.sort_index()
    return {k: f"{label}: {value}" for k, (label, value) in
            zip(string.ascii_lowercase, ordered.items(), strict=False)}


def _chooser(options: Callable[[Any, str], Mapping[str, Any]]) -> Callable[[Any, Any], str]:
    def convert(data: Any, answer: Any) -> str:
        if not (isinstance(answer, tuple | list) and len(answer) == 2
                and isinstance(answer[0], str) and isinstance(answer[1], str)
                and len(answer[1].split()) >= MIN_REASON_WORDS):
            raise Unusable("need_reason", n=MIN_REASON_WORDS)
        choice = fold(answer[0])
        letter = choice[:-1] if len(choice) == 2 and choice.endswith(")") else choice  # "b)"
        if letter in options(data, "en"):
            return letter
        # the option's own text (or its label before ':') in either language, or the code
        for lang in ("en", "es"):
            for letter, text in options(data, lang).items():
                if choice in _names(text):
                    return letter
        return choice
    return convert


def decide(name: str, options: Callable[[Any, str], Mapping[str, str]],
           best: Callable[[Any], Any], *, title: str = "", hints: Sequence[str] = (),
           rubric: str = "", needs: str | None = None, points: float = 1.0) -> Exercise:
    """A *decide* exercise: ``options(data, lang) -> {letter: text}`` (the same letters in
    both languages); ``best(data)`` is the letter or the English label (the text before
    ``:``) of the right option. ``title``, ``hints`` and ``rubric`` are catalog keys, by
    default those of the exercise's name (see :class:`~crmkit.lessons.exercises.Exercise`)."""
    def solve(data: Any) -> str:
        right = best(data)
        for letter, text in options(data, "en").items():
            if letter == right or fold(str(right)) in _names(text):
                return letter
        return str(right)

    return Exercise(name, solve, title=title, hints=hints, needs=needs, points=points,
                    convert=_chooser(options), kind="decide",
                    options=options, rubric=rubric)
