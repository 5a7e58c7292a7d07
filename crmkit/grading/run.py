"""Re-execute one submitted notebook in a fresh kernel, with a time limit and given parameters.

The run uses nbclient (what papermill and nbgrader's autograder use) with
papermill's parameter injection: the submission's own parameters cell is
kept, and a cell after it sets the student's ``student_id``, ``seed`` and
``lang`` (and whatever the instructor assigned to everyone). A cell that
raises does not stop the run (the exercises after it are still graded); a
cell that runs past the time limit is interrupted; once the whole notebook's
budget is spent, the run stops there. The kernel's environment names the
grading log (:mod:`crmkit.lessons.submission`) the exercise book writes.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lessons.submission import LOG_ENV, read_log

__all__ = ["Run", "execute"]


@dataclass
class Run:
    """What happened when a submission was executed."""

    seconds: float
    error: str | None = None        # the first failure, in one line (None: it ran cleanly)
    timed_out: bool = False
    log: dict = field(default_factory=lambda: {"books": []})
    notebook: Any = None            # the executed notebook (nbformat node)


class _OutOfTime(Exception):
    pass


def _first_error(nb: Any, cell_timeout: float) -> tuple[str | None, bool]:
    """The first failing cell, numbered as in the student's notebook (the injected
    parameters cell left out), and whether it was stopped at the time limit."""
    cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                # the grader is what interrupts a cell: an interrupted cell ran out of time
                if out.get("ename") in ("CellTimeoutError", "KeyboardInterrupt"):
                    return (f"cell {i + 1}: ran longer than the time limit ({cell_timeout:g} s) "
                            "and was stopped", True)
                value = " ".join(str(out.get("evalue", "")).split())[:200]
                return f"cell {i + 1}: {out.get('ename')}: {value}", False
    return None, False


def execute(nb: dict, parameters: dict[str, Any], *, cell_timeout: float = 60,
            total_timeout: float | None = None, workdir: str | Path | None = None) -> Run:
    """Run notebook ``nb`` with ``parameters`` in a fresh kernel; never raises for the
    student's code (errors, endless loops, a dying kernel end up in :class:`Run`)."""
    import nbformat
    from nbclient import NotebookClient
    from papermill.parameterize import parameterize_notebook

    # as Jupyter saves it (sources as lists of lines), read as nbformat reads a file
    node = nbformat.reads(json.dumps(nb), as_version=4)
    for cell in node.cells:
        cell.metadata.setdefault("tags", [])
    node.metadata.setdefault("kernelspec", {"name": "python3", "language": "python",
                                            "display_name": "Python 3"})
    node.metadata["papermill"] = {}
    node = parameterize_notebook(node, parameters)
    total = total_timeout or cell_timeout * 4
    t0 = time.perf_counter()

    def timeout_for(cell: object) -> float:
        left = total - (time.perf_counter() - t0)
        if left <= 0:
            raise _OutOfTime
        return max(1, min(cell_timeout, left))

    with tempfile.TemporaryDirectory(prefix="crmkit-grade-") as tmp:
        log_file = Path(tmp) / "grading_log.json"
        run_dir = Path(workdir) if workdir else Path(tmp)
        client = NotebookClient(
            node, timeout_func=timeout_for, interrupt_on_timeout=True, allow_errors=True,
            error_on_timeout={"ename": "CellTimeoutError",
                              "evalue": "stopped at the time limit",
                              "traceback": []},
            kernel_name=node.metadata.kernelspec.get("name", "python3"),
            resources={"metadata": {"path": str(run_dir)}})
        error, timed_out = None, False
        try:
            client.execute(env={**os.environ, LOG_ENV: str(log_file)})
        except _OutOfTime:
            error, timed_out = (f"the notebook ran longer than its time limit ({total:g} s) "
                                "and was stopped"), True
        except Exception as exc:  # a dead kernel, a kernel that never started
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        seconds = time.perf_counter() - t0
        first, cell_timed_out = _first_error(node, cell_timeout)
        run = Run(seconds, first or error, timed_out or cell_timed_out, read_log(log_file),
                  node)
    return run
