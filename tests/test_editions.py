"""One source, two editions: every Markdown cell paired, editions in one language only,
Spanish reports in Spanish formats, the same figures in both languages."""

from __future__ import annotations

import io
import json
import re
import tokenize

import pytest
from notebook_runs import NOTEBOOKS, TEST_PARAMETERS

from crmkit.cli import main
from crmkit.lessons.edition import (
    EditionError,
    edition,
    pairing_problems,
    read_notebook,
    write_edition,
)
from crmkit.lessons.figures import compare_figures, read_figures
from crmkit.report import run_reports

STEMS = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
OTHER = {"en": "es", "es": "en"}

# Words that appear in almost every paragraph of one language and never in the other's prose.
STOP_WORDS = {
    "en": {"the", "and", "of", "is", "are", "with", "which", "this", "that", "what", "from",
           "each", "every", "how", "its", "their", "for", "not"},
    "es": {"el", "los", "las", "del", "que", "una", "por", "para", "con", "cada", "es", "se",
           "su", "sus", "como", "más", "qué", "cómo", "y", "de", "la", "al", "lo"},
}


def prose(markdown: str) -> str:
    """The running text of a Markdown cell: no code spans, code blocks, links, nor terms
    marked as another language's (``<i lang="es">cuadro de mando</i>``)."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"<(\w+) lang=\"\w+\">.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    return re.sub(r"https?://\S+", " ", text)


def foreign_words(markdown: str, lang: str) -> list[str]:
    """Stop words of the other language found in the prose of a ``lang`` cell."""
    words = re.findall(r"[^\W\d_]+", prose(markdown).casefold())
    return sorted({w for w in words if w in STOP_WORDS[OTHER[lang]]})


def markdown_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "markdown"]


def code_tokens(source: str) -> list[tuple[int, str]]:
    """The tokens of ``source`` but its comments (which an edition writes in its language)."""
    return [(tok.type, tok.string) for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type not in (tokenize.COMMENT, tokenize.NL)]


def text_of(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


# ----------------------------------------------------------------------------- the source
@pytest.mark.parametrize("stem", STEMS)
def test_every_markdown_cell_has_its_english_and_spanish_twin(stem):
    nb = read_notebook(NOTEBOOKS / f"{stem}.ipynb")
    assert pairing_problems(nb) == []
    cells = markdown_cells(nb)
    assert len(cells) >= 2 and len(cells) % 2 == 0


@pytest.mark.parametrize("stem", STEMS)
def test_each_twin_is_written_in_its_own_language(stem):
    nb = read_notebook(NOTEBOOKS / f"{stem}.ipynb")
    for cell in markdown_cells(nb):
        lang = "en" if "lang-en" in cell["metadata"]["tags"] else "es"
        assert foreign_words(text_of(cell), lang) == [], (cell["id"], lang, text_of(cell))


def test_the_stop_word_check_catches_a_forgotten_translation():
    # an author copied the English cell into the Spanish slot and forgot to translate it
    english = ("The marketing module *selects*: here, customers of the premium segment who "
               "bought at least twice and whose phone we know.")
    assert foreign_words(english, "es") == ["and", "of", "the"]
    spanish = "El módulo de marketing *selecciona* a los clientes."
    assert foreign_words(spanish, "en") == ["de", "el", "los"]
    # code and identifiers are not prose: `lang = "es"` in an English cell is fine
    assert foreign_words('Set `lang = "es"` and run `SELECT * FROM the_table`.', "en") == []


# ----------------------------------------------------------------------------- editions
def _md(cid, text, tag):
    return {"cell_type": "markdown", "id": cid, "metadata": {"tags": [tag]}, "source": text}


def _params(lang="en"):
    return {"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]},
            "source": f'seed = 1\nlang = "{lang}"', "outputs": [{"output_type": "stream"}],
            "execution_count": 3}


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([_md("a", "Hello", "lang-en")], "cell 0 (id 'a') is English (lang-en) but is not "
                                         "followed by its Spanish twin"),
        ([_md("b", "Hola", "lang-es")], "cell 0 (id 'b') is Spanish (lang-es) but does not "
                                        "follow an English cell"),
        ([_md("a", "Hello", "lang-en"), _params(), _md("b", "Hola", "lang-es")],
         "is not followed by its Spanish twin"),
        ([{"cell_type": "markdown", "id": "c", "metadata": {}, "source": "Hi"},
          _md("d", "Hola", "lang-es")], "cell 0 (id 'c') is a Markdown cell without a "
                                        "language tag"),
        ([_md("a", "Hello", "lang-en"), _md("b", " ", "lang-es")], "cell 1 (id 'b') is empty"),
        ([{**_params(), "metadata": {"tags": ["lang-es"]}}], "is a code cell tagged lang-es"),
    ],
)
def test_broken_pairs_are_named_cell_by_cell(cells, message):
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    problems = pairing_problems(nb)
    assert any(message in p for p in problems), problems
    with pytest.raises(EditionError, match="breaks the bilingual convention"):
        edition(nb, "es")


def test_a_notebook_without_language_tags_keeps_every_cell():
    nb = {"cells": [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": "Hi"},
                    _params()], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out = edition(nb, "es")
    assert [c["id"] for c in out["cells"]] == ["m", "p"]
    assert out["cells"][1]["source"] == 'seed = 1\nlang = "es"'


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_edition_holds_one_language_the_shared_code_and_its_lang(stem, lang):
    source = read_notebook(NOTEBOOKS / f"{stem}.ipynb")
    ed = edition(source, lang)
    md = markdown_cells(ed)
    assert md and all(c["metadata"]["tags"] == [f"lang-{lang}"] for c in md)
    assert len(md) == len(markdown_cells(source)) // 2
    for cell in md:
        assert foreign_words(text_of(cell), lang) == [], (cell["id"], text_of(cell))
    code = [c for c in ed["cells"] if c["cell_type"] == "code"]
    src_code = [c for c in source["cells"] if c["cell_type"] == "code"]
    assert [c["id"] for c in code] == [c["id"] for c in src_code]
    params = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert f'lang = "{lang}"' in text_of(params[0])
    for a, b in zip(code, src_code, strict=True):
        if a is not params[0]:  # the same code; only the comments are in the edition's language
            assert code_tokens(text_of(a)) == code_tokens(text_of(b))
            assert lang == "es" or text_of(a) == text_of(b)
    # the order of the source is kept: each kept cell is where its twin pair was
    kept = [c["id"] for c in ed["cells"]]
    order = [c["id"] for c in source["cells"]]
    assert kept == [i for i in order if i in set(kept)]


def test_edition_command_writes_clean_single_language_notebooks(tmp_path, capsys):
    assert main(["edition", "01", "02", "--lang", "es", "--out", str(tmp_path)]) == 0
    for stem in ("01_crm_concepts", "02_warehouse"):
        nb = json.loads((tmp_path / f"{stem}.ipynb").read_text(encoding="utf-8"))
        assert all("lang-es" in c["metadata"]["tags"] for c in markdown_cells(nb))
        assert "**Objetivo:**" in text_of(nb["cells"][0])
        assert "BEGIN SOLUTION" in json.dumps(nb)  # an edition keeps the solutions
        assert all(c.get("outputs") == [] for c in nb["cells"] if c["cell_type"] == "code")
    assert "es edition" in capsys.readouterr().out


def test_student_edition_composes_language_and_stripped_solutions(tmp_path):
    path, removed = write_edition(NOTEBOOKS / "01_crm_concepts.ipynb",
                                  tmp_path / "01.ipynb", "es", student=True)
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    assert removed >= 4 and "BEGIN SOLUTION" not in text
    assert 'lang = \\"es\\"' in text
    assert all("lang-es" in c["metadata"]["tags"] for c in markdown_cells(nb))
    # the file is written like the committed notebooks: indent 1, cell ids, final newline
    assert text.startswith('{\n "cells": [\n  {\n') and text.endswith("}\n")


def test_make_lab_and_student_use_the_editions():
    makefile = (NOTEBOOKS.parent / "Makefile").read_text()
    lab = makefile.split("\nlab: $(STAMP)\n")[1].split("\n\n")[0]
    assert "crmkit student --out student --lang $(EDITION_LANG) --keep" in lab  # students
    assert "jupyter lab student/$(EDITION_LANG)/" in lab
    solutions = makefile.split("\nlab-solutions: $(STAMP)\n")[1].split("\n\n")[0]
    assert "crmkit edition --lang $(EDITION_LANG)" in solutions  # instructors
    assert "EDITION_LANG := $(if $(filter es%,$(LANG)),es,en)" in makefile
    assert "crmkit student --out student --lang en --lang es" in makefile


# ----------------------------------------------------------------------------- reports
@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Every notebook rendered in both languages for one shop (what `crmkit report` does)."""
    out = tmp_path_factory.mktemp("reports")
    run_reports(None, profiles=["ice_cream"], langs=["en", "es"], parameters=TEST_PARAMETERS,
                out_dir=out, progress=False, log=lambda *_: None)
    return out / "ice_cream"


def _outputs_text(nb: dict) -> str:
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                parts.append("".join(out["text"]))
            elif "text/plain" in out.get("data", {}):
                parts.append("".join(out["data"]["text/plain"]))
    return "\n".join(parts)


@pytest.mark.parametrize("stem", STEMS)
def test_recorded_figures_of_both_editions_are_equal(reports, stem):
    en = read_figures(reports / "en" / f"{stem}.ipynb")
    es = read_figures(reports / "es" / f"{stem}.ipynb")
    assert en and set(en) == set(es)
    assert compare_figures(es, en, rtol=0, atol=0) == []


@pytest.mark.parametrize("stem", STEMS)
def test_a_spanish_report_has_no_english_prose(reports, stem):
    nb = json.loads((reports / "es" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    md = markdown_cells(nb)
    assert md and all("lang-es" in c["metadata"]["tags"] for c in md)
    for cell in md:
        assert foreign_words(text_of(cell), "es") == [], cell["id"]
    html = (reports / "es" / f"{stem}.html").read_text(encoding="utf-8")
    assert "Objetivo" in html and "**Goal:**" not in html and "Goal:" not in html


def test_spanish_report_writes_numbers_and_dates_the_spanish_way(reports):
    es = _outputs_text(json.loads((reports / "es" / "01_crm_concepts.ipynb").read_text()))
    en = _outputs_text(json.loads((reports / "en" / "01_crm_concepts.ipynb").read_text()))
    # the same sentence, with thousands grouped by a point in Spanish and a comma in English
    es_orders = re.search(r"Gestión comercial: ([\d.]+) pedidos, ([\d.]+)\s€ de ingresos", es)
    en_orders = re.search(r"Commercial management: ([\d,]+) orders, €([\d,]+) of revenue", en)
    assert es_orders and en_orders
    assert es_orders.group(1).replace(".", "") == en_orders.group(1).replace(",", "")
    assert int(es_orders.group(2).replace(".", "")) >= 1000 and "." in es_orders.group(2)
    # percentages with a space before the sign; dates as day/month/year
    assert re.search(r"aporta el \d+\xa0% de los ingresos", es)
    assert re.search(r"· 1/1/2024 → 31/12/2025", es) and "· 2024-01-01 → 2025-12-31" in en
    assert re.search(r"\d{4}-\d{2}-\d{2}", es) is None  # no ISO date left in Spanish
    # tables: decimals with a comma, never an English decimal point
    english_decimal = r"(?<![\d.,])\d+\.\d{1,2}(?![\d.,])"
    assert re.findall(english_decimal, en) and not re.findall(english_decimal, es)
    assert re.search(r"(?<![\d.,])\d+,\d{1,2}(?![\d.,])", es)
    assert "True" not in es and "False" not in es


def test_spanish_warehouse_report_writes_dates_and_money_the_spanish_way(reports):
    es = _outputs_text(json.loads((reports / "es" / "02_warehouse.ipynb").read_text()))
    assert re.search(r"extraído el \d{1,2}/\d{1,2}/\d{4}\.", es)
    assert re.search(r"A fecha \d{1,2}/\d{1,2}/\d{4}: ", es)
    assert re.search(r"\d{1,3}\.\d{3},\d{1,2}\b", es)  # 219.253,5: revenue in a cube table
    assert "cuadran: filas leídas = cargadas + en cuarentena: sí." in es


# ----------------------------------------------------------------------------- typed answers
@pytest.mark.parametrize(
    ("typed", "expected", "status"),
    [
        ("0,25", 0.25, "correct"),
        (" 0,25 ", 0.25, "correct"),
        ((0, 25), 0.25, "correct"),  # what Python makes of `answer = 0,25`
        ("1.500,25", 1500.25, "correct"),
        ("0,2", 0.25, "incorrect"),  # read as a number, and judged as one
        ("0,25 clientes", 0.25, "wrong_shape"),
        ((0, 25, 1), 0.25, "wrong_shape"),
    ],
)
def test_a_spanish_decimal_comma_is_read_as_a_number(typed, expected, status):
    from crmkit.lessons.exercises import Exercise, ExerciseBook

    book = ExerciseBook(None, [Exercise("share", lambda d: expected)], lang="es", quiet=True)
    assert book.judge("share", typed).status == status


def test_an_english_book_does_not_read_a_comma_as_a_decimal_point():
    from crmkit.lessons.exercises import Exercise, ExerciseBook

    book = ExerciseBook(None, [Exercise("share", lambda d: 0.25)], lang="en", quiet=True)
    assert book.judge("share", "0,25").status == "wrong_shape"
    assert book.judge("share", (0, 25)).status == "wrong_shape"


# ----------------------------------------------------------------------------- plots
def test_cube_heat_map_and_load_report_write_numbers_in_the_plot_language():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from crmkit.lessons.widgets import plot_cube_view
    from crmkit.warehouse.diagrams import plot_load_report

    view = pd.DataFrame({"store": [136000.4, 1500.5]},
                        index=pd.Index(["premium", "standard"], name="segment"))
    view.columns.name = "channel"
    ax = plot_cube_view(view, lang="es")
    assert sorted(x.get_text() for x in ax.texts) == ["1.500", "136.000"]
    colorbar = ax.collections[0].colorbar.ax
    ax.figure.canvas.draw()
    assert any("." in x.get_text() for x in colorbar.get_yticklabels())
    assert sorted(x.get_text() for x in plot_cube_view(view, lang="en").texts) == [
        "1,500", "136,000"]
    report = pd.DataFrame({"file": ["pos_sales.csv"], "rows_read": [47331],
                           "rows_loaded": [47329], "rows_quarantined": [2]})
    texts = [x.get_text() for x in plot_load_report(report, lang="es").texts]
    assert "47.329" in texts and "2" in texts


def test_spanish_tables_show_decimal_commas_and_english_comes_back():
    import pandas as pd

    from crmkit.i18n import display_numbers

    table = pd.DataFrame({"revenue": [1234.5, 0.25]})
    try:
        display_numbers("es")
        shown = table.to_string()
        assert "1.234,5" in shown and "0,25" in shown
    finally:
        display_numbers("en")
    assert "1,234.5" in table.to_string()  # English through the locale formatter too


@pytest.mark.parametrize("stem", ["01_crm_concepts", "02_warehouse", "03_mining",
                                  "04_case_bendita"])
def test_a_reader_sees_no_missing_values_nor_english_numbers_in_spanish(reports, stem):
    """What a person reads (outputs and narrative, not code) shows no None/nan/NaT, and the
    Spanish page no number or date written the English way; each page says its language."""
    from page_checks import page, slips

    for lang in ("en", "es"):
        html = (reports / lang / f"{stem}.html").read_text(encoding="utf-8")
        assert page(html)[0] == lang
        assert slips(html) == [], (lang, slips(html)[:5])
