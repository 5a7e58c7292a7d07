"""The notebook dashboard in a real browser: headless Chromium driving JupyterLab on 127.0.0.1.

What a learner does: run the cell, choose a traffic source and a segment, then "(all)"
again, then a short period. After each, the cell holds exactly ONE dashboard (the one
the pickers show), every picker shows its choice, and the period readout is not cut.
Skipped, saying why, without Chromium, chromedriver or selenium (see jupyter_lab.py).
"""

from __future__ import annotations

import pytest
from jupyter_lab import MISSING, choose, kernel_idle, notebook_page, wait_for

pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

STATE = """
const out = document.querySelector('.jp-Notebook .jp-Cell .jp-OutputArea');
if (!out) return {views: []};
const views = [...out.querySelectorAll('.crmkit-dashboard')].map(v => ({
    source: v.dataset.source, segment: v.dataset.segment, start: v.dataset.start,
    end: v.dataset.end, images: v.querySelectorAll('img').length,
    top: v.getBoundingClientRect().top}));
const box = out.querySelector('.crmkit-dashboard-controls');
const selects = box ? [...box.querySelectorAll('select')].map(
    s => s.selectedIndex >= 0 ? s.options[s.selectedIndex].text.replace(/\u00a0/g, ' ')
         : '') : [];
const labels = box ? [...box.querySelectorAll('.widget-label')].map(
    l => ({text: l.innerText, cut: l.scrollWidth > l.clientWidth})) : [];
return {views: views, selects: selects, labels: labels,
        below: box ? box.getBoundingClientRect().bottom : null,
        figures: out.querySelectorAll('img').length};
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    source = ("from crmkit.dataset.synth import generate\n"
              "from crmkit.lessons.dashboard import show_dashboard\n"
              "tables = show_dashboard(generate('bendita', n_customers=150, seed=5), lang='es')")
    with notebook_page(tmp_path_factory.mktemp("dash"), "dash.ipynb", source,
                       token="crmkit-dashboard-test", window_size="1500,1200") as driver:
        yield driver


def _one_view(driver, **want):
    def check():
        if not kernel_idle(driver):
            return None
        s = driver.execute_script(STATE)
        views = s["views"]
        if len(views) == 1 and all(views[0][k] == v for k, v in want.items()):
            return s
        return None

    return wait_for(driver, check, f"one dashboard showing {want}")


def _choose(driver, index, label):
    choose(driver, ".crmkit-dashboard-controls select", index, label)


def test_one_dashboard_that_follows_the_pickers_and_shows_their_values(page):
    first = _one_view(page, source="", segment="")
    assert first["selects"] == ["(todos)", "(todos)"]
    assert first["views"][0]["images"] == 1 and first["figures"] == 1  # no static copy above
    assert first["views"][0]["top"] >= first["below"]  # the view sits under the pickers
    assert {"text": "ene 2024 – dic 2025", "cut": False} in first["labels"]
    _choose(page, 0, "Correo electrónico")
    _one_view(page, source="email", segment="")
    _choose(page, 1, "Campeones")
    both = _one_view(page, source="email", segment="champions")
    assert both["selects"] == ["Correo electrónico", "Campeones"]
    _choose(page, 0, "(todos)")
    again = _one_view(page, source="", segment="champions")
    assert again["selects"] == ["(todos)", "Campeones"]  # "(all)" again is shown, not blank
    assert not any(label["cut"] for label in again["labels"])
