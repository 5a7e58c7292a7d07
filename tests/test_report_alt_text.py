"""A report's pictures carry their description as alt text, and nbconvert has nothing to warn of.

nbconvert's "lab" HTML template writes no ``alt`` on a PNG output and logs "Alternative text
is missing on N image(s)" for every figure of a report; the kit's template writes the
description the kernel put in the output's metadata. Checked on a hand-made notebook and on
one a real kernel runs with the course style.
"""

from __future__ import annotations

import base64
import io
import logging

import nbformat
from bs4 import BeautifulSoup

from crmkit.report import QUIET_KERNEL, to_html

MISSING = "Alternative text is missing"


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _picture(alt: str | None):
    return nbformat.v4.new_output(
        "display_data", data={"image/png": _png(), "text/plain": "<Figure>"},
        metadata={"image/png": {"alt": alt}} if alt else {})


def _render(nb, tmp_path, caplog) -> tuple[list[str | None], list[str]]:
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    with caplog.at_level(logging.WARNING):
        html = to_html(path, tmp_path / "nb.html", lang="es", no_input=True)
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), features="html.parser")
    alts = [img.get("alt") for img in soup.select('img[src^="data:image/png"]')]
    return alts, [r.getMessage() for r in caplog.records if MISSING in r.getMessage()]


def test_a_described_picture_gets_its_words_and_no_warning(tmp_path, caplog):
    said = 'Barras: ingresos por mes, de «enero» a "marzo" & más.'
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "plt.show()", outputs=[_picture(said)])])
    alts, warned = _render(nb, tmp_path, caplog)
    assert alts == [said]
    assert warned == []


def test_a_picture_without_words_is_still_reported(tmp_path, caplog):
    """The attack case: an output without a description is not hidden; nbconvert warns."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "plt.show()", outputs=[_picture(None)])])
    _, warned = _render(nb, tmp_path, caplog)
    assert warned


def test_a_kernel_run_figure_reaches_the_page_described(tmp_path, caplog):
    """Run by a kernel with the course style (as a report is): each figure, described by
    its plot function or only titled, reaches the HTML with its words, and nothing is
    logged."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "from crmkit.lessons.notebook import set_style\n"
            "from crmkit.i18n import describe_figure\n"
            "set_style('es')"),
        nbformat.v4.new_code_cell(
            "fig, ax = plt.subplots()\n"
            "ax.plot([1, 3, 2])\n"
            "describe_figure(ax, 'Línea: tres puntos que suben y bajan.')\n"
            "plt.show()"),
        nbformat.v4.new_code_cell(
            "fig, ax = plt.subplots()\n"
            "ax.bar(['a', 'b'], [1, 2])\n"
            "ax.set_title('Ventas por tienda')\n"
            "plt.show()"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   extra_arguments=list(QUIET_KERNEL)).execute()
    alts, warned = _render(nb, tmp_path, caplog)
    assert alts == ["Línea: tres puntos que suben y bajan.", "Gráfico: Ventas por tienda."]
    assert warned == []
