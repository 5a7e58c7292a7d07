"""Notebook 02 runs for every shop in both languages, and its figures match the baseline."""

from __future__ import annotations

import json

import pytest
from notebook_runs import NOTEBOOKS, TEST_PARAMETERS, load_baseline, run

from crmkit.exercises import strip_solutions
from crmkit.figures import compare_figures
from crmkit.i18n import LANGS
from crmkit.profiles import PROFILE_NAMES

STEM = "02_warehouse"
# Counts must match exactly and amounts to within rounding; 0.5 % relative leaves room for
# floating-point noise across platforms, not for a change in behaviour.
RTOL, ATOL = 0.005, 1e-6


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_notebook_runs_and_figures_match_baseline(profile, lang, tmp_path):
    figures = run(f"{STEM}.ipynb", tmp_path / "out.ipynb", profile=profile, lang=lang,
                  warehouse_dir=str(tmp_path / "wh"), **TEST_PARAMETERS)
    problems = compare_figures(figures, load_baseline(STEM)[profile], rtol=RTOL, atol=ATOL)
    assert not problems, "\n".join(problems)
    status = figures["exercise_status"]["status"]
    assert (status == "correct").all(), status[status != "correct"].to_dict()
    assert len(status) >= 5
    # the lesson's own claims, whatever the shop
    assert figures["rows_read"] == figures["rows_loaded"] + figures["rows_quarantined"]
    assert figures["rows_quarantined"] == figures["planted_bad_rows"]
    assert figures["reload_changed_tables"] == 0
    assert figures["data_tests_passed"] == figures["data_tests_total"]
    assert figures["customer_versions"] == (figures["customers_integrated"]
                                            + figures["customers_changed"])
    assert (tmp_path / "wh" / "shop.duckdb").exists()


def test_student_edition_runs_to_the_end_with_every_exercise_not_done(tmp_path):
    student = tmp_path / f"{STEM}.ipynb"
    removed = strip_solutions(NOTEBOOKS / f"{STEM}.ipynb", student)
    assert removed >= 5
    assert "BEGIN SOLUTION" not in student.read_text()
    out = tmp_path / "executed.ipynb"
    figures = run(student, out, profile="boutique", lang="es",
                  warehouse_dir=str(tmp_path / "wh"), **TEST_PARAMETERS)
    status = figures["exercise_status"]["status"]
    assert (status == "missing").all(), status.to_dict()
    text = "".join("".join(o.get("text", "")) for c in json.loads(out.read_text())["cells"]
                   for o in c.get("outputs", []))
    assert text.count("todavía sin hacer") == removed


def test_notebook_is_committed_clean():
    nb = json.loads((NOTEBOOKS / f"{STEM}.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    ids = [c["id"] for c in nb["cells"]]
    assert len(set(ids)) == len(ids)
    tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    src = "".join(tagged[0]["source"])
    for name in ("profile", "n_customers", "seed", "start", "end", "lang", "data_dir",
                 "warehouse_dir"):
        assert f"{name} =" in src
    assert "warehouse_dir = None" in src, "by default nothing is written into the project"
    assert "(" not in src, "the parameters cell holds literal defaults only"


def test_bad_warehouse_dir_stops_in_the_validation_cell(tmp_path):
    import papermill

    a_file = tmp_path / "not_a_folder.txt"
    a_file.write_text("x")
    with pytest.raises(papermill.PapermillExecutionError) as err:
        run(f"{STEM}.ipynb", tmp_path / "out.ipynb", warehouse_dir=str(a_file),
            **TEST_PARAMETERS)
    assert "warehouse_dir=" in str(err.value) and "is a file" in str(err.value)
