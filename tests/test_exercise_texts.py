"""One mechanism for every exercise text: titles, hints, rubrics and verdicts live in the catalog.

No lesson module carries an ``(english, spanish)`` pair of user text; an exercise names
catalog keys (by default those of its own name), and every key it names exists in both
languages.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from crmkit.errors import ParameterError
from crmkit.i18n import catalog
from crmkit.lessons import exercises, lesson01, lesson02, lesson03, lesson04
from crmkit.lessons.exercises import Exercise, ExerciseBook, Unusable

LESSONS = Path(exercises.__file__).parent
ALL = [e for m in (lesson01, lesson02, lesson03, lesson04) for e in m.EXERCISES]
TEXT_ARGS = {"title", "hints", "rubric"}


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)]


def _pairs_of_text(source: str) -> list[tuple[int, str]]:
    """Where ``source`` gives an exercise user text instead of catalog keys."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name in {"format", "format_message"}:  # filling a catalog text, not giving one
            continue
        if name == "Unusable":  # Unusable(key, **values): never two texts
            text = _strings(ast.Tuple(elts=node.args))[1:]
        else:
            text = [s for k in node.keywords if k.arg in TEXT_ARGS for s in _strings(k.value)
                    if s not in catalog()]
        if text:
            found.append((node.lineno, text[0]))
    return found


def test_the_scan_finds_a_pair_of_texts():
    hostile = ('Exercise("x", len, title=("Total", "Total"))\n'
               'decide("y", f, g, hints=(("Look.", "Mira."),))\n'
               'raise Unusable("give a reason", "da un motivo")\n'
               'Exercise("z", len, hints=("exercise.trust.hint.1",))\n'
               'Exercise("w", len, title="Total")\n'
               'raise Unusable("need_reason", n=5)\n')
    assert [line for line, _ in _pairs_of_text(hostile)] == [1, 2, 3, 5]


@pytest.mark.parametrize("module", sorted(p.name for p in LESSONS.glob("*.py")))
def test_no_lesson_module_holds_english_spanish_pairs_of_exercise_text(module):
    assert _pairs_of_text((LESSONS / module).read_text(encoding="utf-8")) == []


def test_exercises_py_keeps_no_table_of_texts():
    tree = ast.parse((LESSONS / "exercises.py").read_text(encoding="utf-8"))
    names = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
             for t in n.targets if isinstance(t, ast.Name)}
    assert not names & {"_TEXT", "_KINDS"}


def test_a_pair_of_texts_is_refused_at_once():
    with pytest.raises(ParameterError, match="catalog key"):
        Exercise("x", len, title=("Total", "Total"))
    with pytest.raises(ParameterError, match="catalog key"):
        Exercise("x", len, hints=(("Sum it.", "Súmalo."),))


def test_every_exercise_names_keys_of_the_catalog_in_both_languages():
    cat = catalog()
    for e in ALL:
        assert e.title == f"exercise.{e.name}.title", e.name
        assert len(e.hints) >= 2 and all(h in cat for h in e.hints), e.name
        if e.kind != "compute":
            assert e.rubric in cat, e.name
        for key in (e.title, *e.hints, *([e.rubric] if e.rubric else [])):
            en, es = cat[key]
            assert en.strip() and es.strip() and en != es, key


def test_every_exercise_text_of_the_catalog_belongs_to_an_exercise():
    used = {k for e in ALL for k in (e.title, *e.hints, e.rubric)}
    orphans = [k for k in catalog() if k.startswith("exercise.") and k not in used]
    assert orphans == []


def test_titles_and_hints_switch_language_with_the_book():
    ex = next(e for e in ALL if e.name == "win_rate")
    for lang, title in (("en", "Win rate"), ("es", "Tasa de éxito")):
        book = ExerciseBook(None, [ex], lang=lang, quiet=True, student_id="")
        assert book.judge("win_rate", None).message.startswith(f"⏳ {title}")
        assert ex.hint_text(0, lang) == catalog()["exercise.win_rate.hint.1"][lang == "es"]
    printed = []
    book = ExerciseBook(None, [ex], lang="es", quiet=True, student_id="")
    book._show = printed.append
    book.hint("win_rate")
    assert printed[0].startswith("Pista 1/2: Solo cuentan las negociaciones cerradas")


def test_a_reason_too_short_is_explained_in_the_books_language():
    # The choice's own answer is beside the point here: the reason is refused before it.
    ex = dataclasses.replace(next(e for e in ALL if e.kind == "decide"), solve=lambda d: "a")
    assert Unusable("need_reason", n=5).text("en").startswith("give your choice and a reason")
    for lang, start in (("en", "give your choice"), ("es", "da tu elección")):
        book = ExerciseBook(object(), [ex], lang=lang, quiet=True, student_id="")
        verdict = book.judge(ex.name, "a")
        assert verdict.status == "invalid" and start in verdict.message, verdict.message


@pytest.mark.parametrize("answer, expected", [("sabado", "sábado"), ("SÁBADO", "sabado"),
                                               (" Sábado ", "sábado"), ("analitico", "Analítico")])
def test_text_answers_ignore_accents_and_case(answer, expected):
    assert exercises.compare(answer, expected, lang="es") == ("correct", "")
    assert exercises.compare(answer, expected, lang="en") == ("correct", "")
    assert exercises.compare("domingo", expected, lang="es")[0] == "incorrect"
