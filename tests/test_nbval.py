"""nbval runs the notebooks in `make test`, and its sanitizers mask only what is not a result.

The notebook run itself is `pytest --nbval-lax notebooks/` (a second command of `make test`);
these tests are its cheap guards: the Makefile keeps that command, and every rule of
tests/nbval_sanitize.cfg rewrites what differs between two runs (times, paths, memory
addresses) and leaves figures, dates and labels alone.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parents[1]
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def _sanitize(text: str) -> str:
    """Apply the rules in order, as nbval does (``IPyNbCell.sanitize``)."""
    for regex, replacement in get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8")):
        text = re.sub(regex, replacement, text)
    return text


def _make_test_commands() -> list[list[str]]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest: $(STAMP)\n")[1].split("\n\n")[0]
    return [shlex.split(line.strip()) for line in recipe.splitlines() if line.startswith("\t")]


def test_make_test_runs_every_notebook_with_nbval_lax_and_the_sanitizers():
    nbval_runs = [cmd for cmd in _make_test_commands() if "--nbval-lax" in cmd]
    assert len(nbval_runs) == 1, "make test must run `pytest --nbval-lax ... notebooks/` once"
    cmd = nbval_runs[0]
    assert cmd[-1].rstrip("/") == "notebooks"
    assert cmd[cmd.index("--nbval-sanitize-with") + 1] == "tests/nbval_sanitize.cfg"
    # nbval runs a notebook's cells in order in one kernel: they must not be spread over
    # xdist workers, so the notebook run is its own command, without -n.
    assert "-n" not in cmd
    assert sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) == [
        "01_crm_concepts.ipynb", "02_warehouse.ipynb", "03_mining.ipynb",
        "04_case_bendita.ipynb"]


@pytest.mark.parametrize(("first", "second"), [
    # memory addresses in reprs
    ("<Figure at 0x7f3a2b1c9d30>", "<Figure at 0x7f00dd4410a8>"),
    # the workshop's temporary folder (notebook 02 prints it), the checkout, Windows temp
    ("folder /tmp/crmkit-warehouse-z0zplfrt/fashion_chain.duckdb.",
     "folder /var/folders/x1/T/crmkit-warehouse-k2j3ab/fashion_chain.duckdb."),
    ("PosixPath('/home/ana/crm-workbench/notebooks')", "PosixPath('/work/ci/build/notebooks')"),
    (r"C:\Users\ana\AppData\Local\Temp\crmkit-warehouse-1\a.duckdb",
     r"D:\tmp\crmkit-warehouse-2\b.duckdb"),
    # clock times, timestamps, timedeltas and durations in both languages
    ("built 2025-03-04 12:34:56.123456 in 1.23 s", "built 2025-03-04 09:01:02.5 in 0.98 s"),
    ("took 0:00:01.23", "took 0:00:07.01"),
    ("Wall time: 812 ms", "Wall time: 1.4 s"),
    ("Tardó 2,5 segundos", "Tardó 11 segundos"),
])
def test_sanitizers_make_two_runs_that_differ_only_in_times_paths_or_addresses_equal(
        first, second):
    assert first != second
    assert _sanitize(first) == _sanitize(second)


@pytest.mark.parametrize("result", [
    "2024-01-01",                                     # the data's dates
    "5/3/2025; ene 2025; 3/4; 2024/01/05",            # dates and fractions with slashes
    "1.500,25 €; 12,5 %; p = 0,78; 16,614",           # figures in both locales
    "women / men / kids",                             # labels with slashes
    "https://example.com/shop/orders",                # a URL is data, not a local path
    "3 semanas, 2 sessions, 12 segments, 7 min_orders",  # words that start like units
    "customer 0x12 is not an address",                # too short to be a memory address
])
def test_sanitizers_leave_figures_dates_and_labels_alone(result):
    assert _sanitize(result) == result
