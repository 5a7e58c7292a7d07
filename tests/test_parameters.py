"""Notebook parameter values are checked by one set of rules, before any kernel starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmkit.cli import main
from crmkit.errors import ParameterError
from crmkit.lessons.notebook import setup
from crmkit.lessons.parameters import MAX_CUSTOMERS, RULES, check_parameters
from crmkit.report import NOTEBOOK_DIR, notebook_parameters

BAD = [  # notebook, -p name value, words the one-line message must hold
    ("01", ["n_customers", "abc"], ["n_customers='abc'", "whole number"]),
    ("01", ["n_customers", "-5"], ["n_customers=-5"]),
    ("01", ["n_customers", str(MAX_CUSTOMERS * 100)], ["n_customers=10000000", "100,000"]),
    ("01", ["n_customers", "2.5"], ["n_customers=2.5"]),
    ("01", ["seed", "-1"], ["seed=-1"]),
    ("01", ["start", "2025-13-45"], ["start='2025-13-45'", "YYYY-MM-DD"]),
    ("01", ["end", "2023-06-30"], ["end='2023-06-30'", "before start"]),
    ("01", ["end", "2049-01-01"], ["longer than 10 years"]),
    ("01", ["sla_hours", "soon"], ["sla_hours='soon'", "hours"]),
    ("01", ["sla_hours", "0"], ["sla_hours=0"]),
    ("01", ["sla_hours", "inf"], ["sla_hours=inf"]),
    ("01", ["data_dir", "no/such/shop"], ["data_dir=", "does not exist"]),
    ("01", ["lang", "fr"], ["lang='fr'"]),
    ("01", ["profile", "bakery"], ["profile='bakery'"]),
    # a folder parameter is read from where the command runs (here: an absolute path)
    ("02", ["warehouse_dir", str(NOTEBOOK_DIR.parent / "README.md")],
     ["warehouse_dir=", "is a file"]),
]


@pytest.mark.parametrize("notebook, param, words", BAD, ids=[b[1][0] + " " + Path(b[1][1]).name
                                                             for b in BAD])
def test_report_refuses_bad_values_before_a_kernel_starts(tmp_path, capsys, notebook, param,
                                                          words):
    code = main(["report", notebook, "--no-progress", "--out", str(tmp_path / "out"),
                 "-p", *param])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was written


def test_report_refuses_an_out_that_is_a_file(tmp_path, capsys):
    taken = tmp_path / "reports"
    taken.write_text("not a folder")
    assert main(["report", "01", "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file" in err


def test_every_notebook_default_passes_its_rule():
    for nb in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        declared = notebook_parameters(nb)
        assert {"profile", "n_customers", "seed", "lang"} <= set(declared) & set(RULES)
        check_parameters({k: v for k, v in declared.items()
                          if k not in ("data_dir", "warehouse_dir") or v is None})


@pytest.mark.parametrize("kwargs, word", [
    ({"n_customers": "abc"}, "n_customers"),
    ({"start": "2025-13-45"}, "start"),
    ({"start": "2025-06-01", "end": "2025-01-01"}, "before start"),
    ({"sla_hours": "soon"}, "sla_hours"),
    ({"n_customers": MAX_CUSTOMERS + 1}, "100,000"),
])
def test_the_notebooks_validation_cell_applies_the_same_rules(kwargs, word):
    with pytest.raises(ParameterError, match=word):
        setup(profile="boutique", **kwargs)


def test_good_values_pass_unchanged():
    good = {"profile": "boutique", "n_customers": 2000, "seed": 0, "start": "2024-02-29",
            "end": "2025-12-31", "lang": "es", "data_dir": None, "sla_hours": 48.5}
    assert check_parameters(good) == good


@pytest.mark.parametrize("args", [["warehouse", "load"], ["generate", "--customers", "x"],
                                  ["nope"], ["report", "01", "-p", "seed"]])
def test_command_line_mistakes_are_one_line_with_exit_2(capsys, args):
    with pytest.raises(SystemExit) as stop:
        main(args)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and "--help" in err


def test_every_parameter_of_every_notebook_has_a_rule():
    for nb in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        missing = set(notebook_parameters(nb)) - set(RULES)
        assert not missing, f"{nb.name}: add a rule for {sorted(missing)} to RULES"


@pytest.mark.parametrize("name, bad", [("win_back_days", 0), ("win_back_days", 1.5),
                                       ("min_effect", 0.7), ("alpha", "5%"), ("alpha", 0)])
def test_lesson_parameters_outside_their_range_are_refused(name, bad):
    with pytest.raises(ParameterError, match=name):
        check_parameters({name: bad})
