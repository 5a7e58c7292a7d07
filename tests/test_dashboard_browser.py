"""The notebook dashboard in a real browser: headless Chromium driving JupyterLab on 127.0.0.1.

What a learner does: run the cell, choose a traffic source and a segment, then "(all)"
again, then a short period. After each, the cell holds exactly ONE dashboard (the one
the pickers show), every picker shows its choice, and the period readout is not cut.
Skipped, saying why, without Chromium, chromedriver or selenium (see test_browser.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from test_browser import CHROMIUM, DRIVER, WAIT, _command, _free_port, _kernel_idle, selenium

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER and selenium),
    reason="browser test skipped: needs Chromium, chromedriver and selenium")

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
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    root = tmp_path_factory.mktemp("dash")
    source = ("from crmkit.dataset.synth import generate\n"
              "from crmkit.lessons.dashboard import show_dashboard\n"
              "tables = show_dashboard(generate('bendita', n_customers=150, seed=5), lang='es')")
    nb = {"cells": [{"cell_type": "code", "id": "dash", "metadata": {}, "outputs": [],
                     "execution_count": None, "source": source}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (root / "dash.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    port, token = _free_port(), "crmkit-dashboard-test"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
           "JUPYTER_CONFIG_DIR": str(root / "config")}
    log = open(root / "lab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         f"--LabApp.workspaces_dir={root / 'workspaces'}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    url, driver = f"http://127.0.0.1:{port}", None
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start") from None
                time.sleep(0.5)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--window-size=1500,1200", "--disable-gpu"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        driver.set_script_timeout(WAIT)
        driver.get(f"{url}/lab/tree/dash.ipynb?token={token}")
        _settle(driver, lambda: driver.execute_script(
            "return !!(window.jupyterapp && window.jupyterapp.shell.currentWidget && "
            "window.jupyterapp.shell.currentWidget.sessionContext);"), "the notebook")
        _settle(driver, lambda: _kernel_idle(driver), "the kernel")
        _command(driver, "notebook:run-all-cells")
        yield driver
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _settle(driver, condition, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _one_view(driver, **want):
    def check():
        if not _kernel_idle(driver):
            return None
        s = driver.execute_script(STATE)
        views = s["views"]
        if len(views) == 1 and all(views[0][k] == v for k, v in want.items()):
            return s
        return None

    return _settle(driver, check, f"one dashboard showing {want}")


def _choose(driver, index, label):
    from selenium.webdriver.support.ui import Select

    select = driver.find_elements("css selector", ".crmkit-dashboard-controls select")[index]
    Select(select).select_by_visible_text(label)


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
