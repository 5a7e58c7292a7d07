"""Run lesson notebooks with papermill for tests and baselines (not a test module)."""

from __future__ import annotations

import json
import os
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
    figures = run(f"{stem}.ipynb", out, profile=profile, **parameters, **TEST_PARAMETERS)
    _check_baseline(stem, profile, figures)
    return figures


def _check_baseline(stem: str, profile: str, figures: dict) -> None:
    from crmkit.lessons.figures import compare_figures

    problems = compare_figures(figures, load_baseline(stem)[profile], rtol=RTOL, atol=ATOL)
    assert not problems, "\n".join(problems)


def shared_folder(tmp_path_factory) -> Path:
    """A folder every pytest-xdist worker of this session shares (the session's own one
    without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def edition_run(stem: str, profile: str, lang: str, tmp_path_factory) -> Path:
    """The executed ``lang`` edition of notebook ``stem`` for ``profile`` at the test size.

    Run once per test session, whichever test or xdist worker asks first (a file lock
    keeps the others waiting), so the notebook tests and the rendering checks of a page
    read the same run. Notebook 02 keeps its warehouse in ``<run>.wh/`` beside it.
    """
    import filelock

    from crmkit.lessons.edition import write_edition
    from crmkit.report import QUIET_KERNEL

    folder = shared_folder(tmp_path_factory) / "edition-runs"
    folder.mkdir(exist_ok=True)
    out = folder / f"{stem}.{profile}.{lang}.ipynb"
    with filelock.FileLock(str(out) + ".lock"):
        if not out.exists():
            source = folder / f"{stem}.{profile}.{lang}.source.ipynb"
            write_edition(NOTEBOOKS / f"{stem}.ipynb", source, lang)
            extra = ({"warehouse_dir": str(out.with_suffix(".wh"))}
                     if stem.startswith("02") else {})
            partial = out.with_suffix(".partial.ipynb")
            papermill.execute_notebook(
                str(source), str(partial), progress_bar=False, kernel_name="python3",
                cwd=str(NOTEBOOKS), language="python", extra_arguments=list(QUIET_KERNEL),
                parameters={"profile": profile, "lang": lang, **TEST_PARAMETERS, **extra})
            partial.replace(out)
    return out


def edition_against_baseline(stem: str, profile: str, lang: str, tmp_path_factory
                             ) -> tuple[dict, Path]:
    """:func:`edition_run`, its figures checked against the baseline; figures and the run."""
    out = edition_run(stem, profile, lang, tmp_path_factory)
    figures = read_figures(out)
    _check_baseline(stem, profile, figures)
    return figures, out


def baseline_path(stem: str) -> Path:
    return BASELINES / f"{stem}.json"


def load_baseline(stem: str) -> dict:
    return json.loads(baseline_path(stem).read_text(encoding="utf-8"))
