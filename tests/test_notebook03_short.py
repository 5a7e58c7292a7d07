"""Notebook 03 on shops whose history is too short for its default holdout.

A three-month shop (a shop's own data, named "Tres Meses") and a ten-month synthetic
shop render notebook 03 to the end in both languages: the holdout is chosen from the
history and the report says which, the sections that need more history say why in the
report's language, and the page shows no ``None``/``nan``/``NaT`` nor, in Spanish, an
English-written number (``tests/page_checks.py``). Small shops keep the runs short.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from page_checks import page, slips

from crmkit.cli import main
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.synth import generate
from crmkit.report import NOTEBOOK_DIR, render

SMALL = {"n_customers": 400, "seed": 7}


@pytest.fixture(scope="module")
def three_months(tmp_path_factory):
    """Ninety days of a shop's own data (no generator's truth), with its own name."""
    shop = generate("ice_cream", start="2025-01-01", end="2025-03-31", **SMALL)
    own = CRMData(dict(shop.tables), {**shop.manifest, "origin": "orders",
                                      "shop_name": "Tres Meses"})
    return own.save(tmp_path_factory.mktemp("short") / "tres_meses")


def _printed(notebook) -> str:
    nb = nbformat.read(str(notebook), as_version=4)
    return "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                     for out in cell.get("outputs", []) if out.get("output_type") == "stream")


#: What each page must say: the window chosen from the history (days of history, days of
#: the holdout, counted by hand from the shop's dates) and, for the three-month shop, why the
#: models that learn one holdout before the cutoff are skipped.
SAYS = {
    ("three", "en"): ["The shop's history (89 days) is too short",
                      "learn from 44 days and are verified on the last 45",
                      "This section is skipped for this shop: the models are trained at a "
                      "cutoff 45 days earlier (as long as the holdout), and the history before "
                      "the cutoff has only 44 days."],
    ("three", "es"): ["El histórico de la tienda (89 días) es demasiado corto",
                      "aprenden de 44 días y se comprueban en los últimos 45",
                      "Esta sección se omite en esta tienda: los modelos se entrenan en una "
                      "fecha de corte 45 días anterior (lo que dura la reserva), y la historia "
                      "antes del corte tiene solo 44 días.",
                      "Esta sección se omite en esta tienda: la previsión necesita al menos 8 "
                      "meses de ventas antes de los meses de la reserva, y esta tienda tiene 2."],
    ("ten", "en"): ["The holdout was chosen from the shop's history (303 days): 123 days"],
    ("ten", "es"): ["La reserva se ha elegido según el histórico de la tienda (303 días): "
                    "123 días"],
}


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("shop", ["three", "ten"])
def test_a_short_history_renders_to_the_end_and_says_what_it_chose(three_months, tmp_path,
                                                                   shop, lang):
    if shop == "three":
        params, name = {"data_dir": str(three_months)}, "Tres Meses"
    else:
        params = {"profile": "ice_cream", "start": "2025-01-01", "end": "2025-10-31", **SMALL}
        name = "Ice-cream parlour" if lang == "en" else "Heladería"
    # holdout_days is left at its default (None): a failing cell would raise ReportError
    rep = render(NOTEBOOK_DIR / "03_mining.ipynb", parameters={**params, "lang": lang},
                 out_dir=tmp_path, progress=False)
    printed = _printed(rep.ipynb)
    first = printed.splitlines()[0]
    assert first.startswith(f"{name} · "), first  # the shop's own name, not a profile's
    for sentence in SAYS[(shop, lang)]:
        assert sentence in printed, sentence
    html = rep.html.read_text(encoding="utf-8")
    assert page(html)[0] == lang
    assert name in re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert slips(html) == [], slips(html)[:5]


def test_holdout_days_given_to_several_notebooks_reaches_notebook_03_only(monkeypatch,
                                                                        tmp_path):
    """`crmkit report 01 03 -p holdout_days 90`: the value goes to 03, 01 runs without it."""
    import crmkit.report as report

    given = {}

    def fake_render(notebook, *, parameters=None, **kwargs):  # records, runs no kernel
        given[notebook.stem] = dict(parameters)
        return report.Report(notebook.stem, "ice_cream", parameters["lang"],
                             tmp_path / "x.ipynb", tmp_path / "x.html", 0.0)

    monkeypatch.setattr(report, "render", fake_render)
    argv = ["report", "01", "03", "--profile", "ice_cream", "-p", "holdout_days", "90",
            "--lang", "es", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert "holdout_days" not in given["01_crm_concepts"]
    assert given["03_mining"]["holdout_days"] == 90
    assert given["03_mining"]["lang"] == given["01_crm_concepts"]["lang"] == "es"
