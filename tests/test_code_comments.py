"""The comments of the notebooks' code read in the edition's language, and nothing else does.

The committed notebooks are written in English; every comment of their code cells is a
text of the catalog (group ``code``), so the Spanish edition, for the instructor and for
students, shows it in Spanish, with the student's placeholder; the English edition shows no
Spanish comment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmkit.i18n import catalog
from crmkit.lessons.comments import (
    comment,
    comment_blocks,
    comment_texts,
    localise_code,
    notebook_lang,
)
from crmkit.lessons.edition import edition, edition_text
from crmkit.lessons.exercises import BEGIN, END, PLACEHOLDER, strip_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: Comments that are markers read by the kit, not text a person reads.
MARKERS = {BEGIN[2:], END[2:]}
OTHER = {"en": "es", "es": "en"}


def _code(nb: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


def _comments(nb: dict) -> list[str]:
    return [" ".join(text.split()) for src in _code(nb) for *_, text, _whole in comment_blocks(src)
            if text not in MARKERS]


def _norm(texts) -> set[str]:
    return {" ".join(x.split()) for x in texts}


def test_the_english_and_spanish_comments_differ():
    en, es = _norm(comment_texts("en")), _norm(comment_texts("es"))
    assert len(en) == len(es) == len([k for k in catalog() if k.startswith("code.")])
    assert not en & es


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_comment_of_the_source_notebooks_is_in_the_catalog(notebook):
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    unknown = sorted(set(_comments(nb)) - _norm(comment_texts("en")))
    assert unknown == [], "add these comments to the catalog's `code` group"


@pytest.mark.parametrize("student", [False, True], ids=["instructor", "student"])
@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_comment_of_an_edition_is_in_its_language(notebook, lang, student):
    text, removed = edition_text(notebook, lang, student=student)
    nb = json.loads(text)
    found = _comments(nb)
    own, other = _norm(comment_texts(lang)), _norm(comment_texts(OTHER[lang]))
    assert found and set(found) <= own, sorted(set(found) - own)
    assert not set(found) & other
    placeholder = comment("placeholder", lang)
    code = "\n".join(_code(nb))
    assert code.count(placeholder) == (removed if student else 0)
    assert comment("placeholder", OTHER[lang]) not in code
    if student:
        assert removed > 0 and BEGIN not in code


@pytest.mark.parametrize("notebook", [p for p in NOTEBOOKS if "# Headline figures" in
                                      p.read_text(encoding="utf-8")], ids=lambda p: p.stem)
def test_the_spanish_student_edition_records_no_headline_figure(notebook):
    nb = json.loads(edition_text(notebook, "es", student=True)[0])
    sources = _code(nb)
    note = [s for s in sources if s.startswith(comment("figures_note", "es"))]
    assert len(note) == 1
    assert [line for line in note[0].splitlines() if "record(" in line] == [
        line for line in note[0].splitlines() if 'record("exercise_status"' in line]
    assert not any(s.lstrip().startswith(("# Headline", "# Cifras principales")) for s in sources)


def test_a_student_book_made_for_the_class_is_in_the_students_language():
    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    mine, _ = strip_notebook(edition(nb, "es"))  # as `crmkit assign` makes it
    code = "\n".join(_code(mine))
    assert comment("placeholder", "es") in code and PLACEHOLDER not in code
    assert notebook_lang(mine) == "es" and notebook_lang(nb) == "en"


def test_the_source_notebook_is_left_as_it_was():
    raw = NOTEBOOKS[0].read_text(encoding="utf-8")
    nb = json.loads(raw)
    edition(nb, "es")
    assert json.dumps(nb, indent=1, ensure_ascii=False) + "\n" == raw


def test_only_comments_change_and_code_keeps_its_hashes():
    src = ('color = "#2a9d8f"  # no empty bands\n'
           's = "# no empty bands"\n'
           "    # a comment nobody wrote in the catalog\n"
           "x = 1  # no empty bands\n")
    out = localise_code(src, "es")
    assert out.splitlines() == ['color = "#2a9d8f"  # sin tramos vacíos',
                                's = "# no empty bands"',
                                "    # a comment nobody wrote in the catalog",
                                "x = 1  # sin tramos vacíos"]
    assert localise_code(out, "en") == src


def test_a_long_comment_is_wrapped_at_its_indentation():
    key = "code.demo_copy"
    en, es = catalog()[key]
    src = f"if True:\n    # {en}\n    pass\n"
    out = localise_code(src, "es").splitlines()
    assert len(out) > 3 and all(len(line) <= 100 for line in out)
    assert all(line.startswith("    # ") for line in out[1:-1])
    assert " ".join(line.strip()[2:] for line in out[1:-1]) == es


def test_code_python_cannot_read_keeps_working():
    src = "# no empty bands\nfor x in (\n"  # a cell cut short
    assert localise_code(src, "es") == "# sin tramos vacíos\nfor x in (\n"
