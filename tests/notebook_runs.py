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


#: Tolerances when figures are compared to their baseline: the data come from a fixed seed,
#: so counts must match exactly and shares and model scores to within rounding; 0.5 %
#: relative leaves room for floating-point noise across platforms (optimisers, BLAS), not for
#: a change in behaviour.
RTOL, ATOL = 0.005, 1e-6


def run_against_baseline(stem: str, out: Path, profile: str, **parameters) -> dict:
    """Run notebook ``stem`` for ``profile`` at the test size; fail on a figure off its baseline.

    Returns the recorded figures, for the notebook's own further checks.
    """
    from crmkit.lessons.figures import compare_figures

    figures = run(f"{stem}.ipynb", out, profile=profile, **parameters, **TEST_PARAMETERS)
    problems = compare_figures(figures, load_baseline(stem)[profile], rtol=RTOL, atol=ATOL)
    assert not problems, "\n".join(problems)
    return figures


def baseline_path(stem: str) -> Path:
    return BASELINES / f"{stem}.json"


def load_baseline(stem: str) -> dict:
    return json.loads(baseline_path(stem).read_text(encoding="utf-8"))
