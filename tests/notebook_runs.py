"""Run lesson notebooks with papermill for tests and baselines (not a test module)."""

from __future__ import annotations

import json
from pathlib import Path

import papermill

from crmkit.lessons.figures import read_figures

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BASELINES = Path(__file__).resolve().parent / "baselines"
#: The small size every notebook test and baseline uses.
TEST_PARAMETERS = {"n_customers": 400, "seed": 7}


def run(notebook: str | Path, out: Path, **parameters) -> dict:
    """Execute a notebook into ``out`` and return its recorded figures."""
    notebook = Path(notebook)
    if not notebook.is_absolute():
        notebook = NOTEBOOKS / notebook
    papermill.execute_notebook(str(notebook), str(out), parameters=parameters,
                               progress_bar=False, kernel_name="python3",
                               cwd=str(notebook.parent))
    return read_figures(out)


def baseline_path(stem: str) -> Path:
    return BASELINES / f"{stem}.json"


def load_baseline(stem: str) -> dict:
    return json.loads(baseline_path(stem).read_text(encoding="utf-8"))
