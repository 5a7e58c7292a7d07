"""What the browser tests share: JupyterLab on 127.0.0.1 serving a one-cell notebook, and
headless Chromium driving it.

Needs Chromium and its driver (Debian: ``apt-get install chromium
chromium-driver``) and selenium (a test extra); :data:`MISSING` says why a browser
test is skipped without them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
except ImportError:  # pragma: no cover - selenium is a test extra
    selenium = None

#: Why the browser tests cannot run here (``None`` when they can).
MISSING = (None if CHROMIUM and DRIVER and selenium else
           "browser test skipped: needs Chromium, chromedriver (apt-get install chromium "
           "chromium-driver) and selenium (pip install -e '.[test]')")
WAIT = 120  # seconds; the machine may be busy


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(path: Path, source: str, cell_id: str) -> Path:
    """A notebook of one code cell (``source``), without outputs, at ``path``."""
    nb = {"cells": [{"cell_type": "code", "id": cell_id, "metadata": {}, "outputs": [],
                     "execution_count": None, "source": source}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


@contextlib.contextmanager
def jupyter_lab(root: Path, token: str) -> Iterator[str]:
    """A JupyterLab server on 127.0.0.1 serving ``root`` (its settings and log there too),
    once it answers; its URL. Stopped after the ``with`` block."""
    port = free_port()
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
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@contextlib.contextmanager
def chromium(window_size: str) -> Iterator[Any]:
    """Headless Chromium (a selenium driver) with a window of ``window_size`` (``W,H``);
    quit after the ``with`` block."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                f"--window-size={window_size}", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_script_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, condition: Callable[[], Any], what: str, timeout: float = WAIT
             ) -> Any:
    """The first true value of ``condition()``, tried every quarter second; on timeout an
    AssertionError naming ``what`` and a screenshot of the page."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    shot = Path(os.environ.get("TMPDIR", "/tmp")) / "crmkit-browser-failure.png"
    driver.save_screenshot(str(shot))
    raise AssertionError(f"timed out waiting for {what} (screenshot: {shot})")


def command(driver: Any, name: str, args: dict | None = None) -> None:
    """Run one JupyterLab command (``notebook:run-all-cells``...) and wait for it."""
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.jupyterapp.commands.execute(arguments[0], arguments[1])"
        ".then(() => done(true), e => done(String(e)));", name, args or {})


def kernel_idle(driver: Any) -> bool:
    """Whether the open notebook's kernel is started and idle."""
    return bool(driver.execute_script(
        "const w = window.jupyterapp.shell.currentWidget;"
        "if (!w || !w.sessionContext || !w.sessionContext.session) return false;"
        "const k = w.sessionContext.session.kernel;"
        "return k !== null && k.status === 'idle';"))


def open_and_run_all(driver: Any, url: str, token: str, notebook: str) -> None:
    """Open ``notebook`` in JupyterLab, wait for its kernel, then Run All."""
    driver.get(f"{url}/lab/tree/{notebook}?token={token}")
    wait_for(driver, lambda: driver.execute_script(
        "return !!(window.jupyterapp && window.jupyterapp.shell.currentWidget && "
        "window.jupyterapp.shell.currentWidget.sessionContext);"), "the notebook to open")
    wait_for(driver, lambda: kernel_idle(driver), "the kernel to start")
    command(driver, "notebook:run-all-cells")


def choose(driver: Any, selector: str, index: int, label: str) -> None:
    """Pick ``label`` in the ``index``-th drop-down (``<select>``) matching ``selector``."""
    from selenium.webdriver.support.ui import Select

    select = driver.find_elements("css selector", selector)[index]
    Select(select).select_by_visible_text(label)


@contextlib.contextmanager
def notebook_page(root: Path, notebook: str, source: str, *, token: str,
                  window_size: str) -> Iterator[Any]:
    """Headless Chromium on JupyterLab with ``notebook`` (one code cell, ``source``, written
    into ``root``) open and Run All started; the driver. Everything stops afterwards."""
    write_notebook(root / notebook, source, Path(notebook).stem)
    with jupyter_lab(root, token) as url, chromium(window_size) as driver:
        open_and_run_all(driver, url, token, notebook)
        yield driver
