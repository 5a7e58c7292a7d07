"""The cube explorer in a real browser: headless Chromium driving JupyterLab on 127.0.0.1.

What a student does: Run All, then change the dropdowns, once, then quickly
several times, then pick the same dimension for rows and columns. After each,
the cell must end with exactly one view, the one the controls show, with its
heat map, under the controls; the grand total must be the same cent in every
view of revenue.

Needs Chromium and its driver (Debian: ``apt-get install chromium
chromium-driver``) and selenium (a test extra). Without them the test is
skipped, and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
except ImportError:  # pragma: no cover - selenium is a test extra
    selenium = None

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER and selenium),
    reason="browser test skipped: needs Chromium, chromedriver (apt-get install chromium "
    "chromium-driver) and selenium (pip install -e '.[test]')")

TRIALS = 5  # fresh kernels, each: Run All then a first change (the old bug: 9 in 28)
WAIT = 120  # seconds; the machine may be busy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving one notebook that opens the explorer."""
    from crmkit.dataset.synth import generate
    from crmkit.warehouse.build import build_warehouse

    root = tmp_path_factory.mktemp("lab")
    db = build_warehouse(generate("sports_shop", n_customers=150, seed=3), root / "shop.duckdb")
    source = ("from crmkit.lessons import widgets\n"
              f"view = widgets.cube_explorer({str(db)!r}, lang='en')")
    nb = {"cells": [{"cell_type": "code", "id": "explorer", "metadata": {}, "outputs": [],
                     "execution_count": None, "source": source}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (root / "explorer.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    port, token = _free_port(), "crmkit-browser-test"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
           "JUPYTER_CONFIG_DIR": str(root / "config")}
    log = open(root / "lab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         f"--LabApp.workspaces_dir={root / 'workspaces'}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        + (["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start: "
                                       + (root / "lab.log").read_text()[-2000:]) from None
                time.sleep(0.5)
        yield {"url": url, "token": token, "root": root, "db": db}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1100", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_script_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


# ----------------------------------------------------------------------------- helpers
def _wait(driver, condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    shot = Path(os.environ.get("TMPDIR", "/tmp")) / "crmkit-browser-failure.png"
    driver.save_screenshot(str(shot))
    raise AssertionError(f"timed out waiting for {what} (screenshot: {shot})")


def _command(driver, name: str, args: dict | None = None) -> None:
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.jupyterapp.commands.execute(arguments[0], arguments[1])"
        ".then(() => done(true), e => done(String(e)));", name, args or {})


def _kernel_idle(driver) -> bool:
    return bool(driver.execute_script(
        "const w = window.jupyterapp.shell.currentWidget;"
        "if (!w || !w.sessionContext || !w.sessionContext.session) return false;"
        "const k = w.sessionContext.session.kernel;"
        "return k !== null && k.status === 'idle';"))


def _state(driver) -> dict:
    """The explorer cell as the student sees it: controls, views and where they sit."""
    return driver.execute_script("""
        const out = document.querySelector('.jp-Notebook .jp-Cell .jp-OutputArea');
        if (!out) return {controls: 0, views: []};
        const controls = out.querySelectorAll('.crmkit-cube-controls');
        const selects = controls.length ? [...controls[0].querySelectorAll('select')] : [];
        const top = controls.length ? controls[0].getBoundingClientRect().bottom : null;
        const views = [...out.querySelectorAll('.crmkit-cube-view')].map(v => ({
            rows: v.dataset.rows, columns: v.dataset.columns, measure: v.dataset.measure,
            total: v.dataset.total || null, images: v.querySelectorAll('img').length,
            loaded: [...v.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0),
            top: v.getBoundingClientRect().top, text: v.innerText.slice(0, 200)}));
        return {controls: controls.length, top: top,
                chosen: selects.map(s => s.options[s.selectedIndex].text), views: views};
    """)


def _choose(driver, index: int, label: str) -> None:
    from selenium.webdriver.support.ui import Select

    select = driver.find_elements("css selector", ".crmkit-cube-controls select")[index]
    Select(select).select_by_visible_text(label)


def _settled(driver, rows: str, columns: str, measure: str):
    """The state once the kernel is idle and the one view shows this choice."""
    def check():
        if not _kernel_idle(driver):
            return None
        s = _state(driver)
        views = s["views"]
        if len(views) == 1 and (views[0]["rows"], views[0]["columns"],
                                views[0]["measure"]) == (rows, columns, measure):
            return s
        return None

    return _wait(driver, check, f"one view of {measure} by {rows} and {columns}")


def _labels():
    from crmkit.lessons.widgets import _label

    return lambda key: _label(key, "en")


def _open_and_run_all(driver, lab) -> None:
    driver.get(f"{lab['url']}/lab/tree/explorer.ipynb?token={lab['token']}")
    _wait(driver, lambda: driver.execute_script(
        "return !!(window.jupyterapp && window.jupyterapp.shell.currentWidget && "
        "window.jupyterapp.shell.currentWidget.sessionContext);"), "the notebook to open")
    _wait(driver, lambda: _kernel_idle(driver), "the kernel to start")
    _command(driver, "notebook:run-all-cells")


def _restart_and_run_all(driver) -> None:
    """A fresh kernel (restarted without the confirmation dialog), then Run All."""
    _command(driver, "notebook:clear-all-cell-outputs")
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()"
        ".then(() => done(true), e => done(String(e)));")
    _wait(driver, lambda: _kernel_idle(driver), "the restarted kernel")
    _command(driver, "notebook:run-all-cells")


# ----------------------------------------------------------------------------- the test
def test_explorer_redraws_one_view_under_its_controls(lab, browser):
    label = _labels()
    totals = set()
    for trial in range(TRIALS):
        if trial == 0:
            _open_and_run_all(browser, lab)
        else:
            _restart_and_run_all(browser)
        first = _settled(browser, "department", "channel", "revenue")
        assert first["controls"] == 1 and first["views"][0]["images"] == 1
        assert first["views"][0]["top"] >= first["top"], "the view sits under the controls"
        totals.add(first["views"][0]["total"])
        # the first change after Run All: a new view with its heat map, in place
        _choose(browser, 2, label("margin"))
        after = _settled(browser, "department", "channel", "margin")
        view = after["views"][0]
        assert view["images"] == 1 and view["top"] >= after["top"], f"trial {trial}"
        _wait(browser, lambda: _state(browser)["views"][0]["loaded"], "the heat map image")
        _choose(browser, 2, label("revenue"))
        totals.add(_settled(browser, "department", "channel", "revenue")["views"][0]["total"])

    # quick successive changes: the cell ends with one view, the last choice
    _choose(browser, 0, label("segment"))
    _choose(browser, 1, label("year"))
    _choose(browser, 2, label("units"))
    _choose(browser, 2, label("revenue"))
    _choose(browser, 0, label("city"))
    end = _settled(browser, "city", "year", "revenue")
    assert end["chosen"] == [label("city"), label("year"), label("revenue")]
    assert end["views"][0]["images"] == 1 and end["views"][0]["top"] >= end["top"]
    totals.add(end["views"][0]["total"])
    assert len(totals) == 1, f"grand totals differ between views: {sorted(totals)}"

    # the same dimension twice: a sentence in place of the view, then a view again
    _choose(browser, 0, label("year"))
    same = _settled(browser, "year", "year", "revenue")
    assert same["views"][0]["images"] == 0
    assert "two different dimensions" in same["views"][0]["text"]
    _choose(browser, 0, label("department"))
    back = _settled(browser, "department", "year", "revenue")
    assert back["views"][0]["images"] == 1
