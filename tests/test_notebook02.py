"""Notebook 02 runs for every shop in both languages, and its figures match the baseline."""

from __future__ import annotations

import json

import pytest
from notebook_runs import NOTEBOOKS, TEST_PARAMETERS, edition_against_baseline, run

from crmkit.dataset.profiles import PROFILE_NAMES
from crmkit.i18n import LANGS

STEM = "02_warehouse"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_notebook_runs_and_figures_match_baseline(profile, lang, tmp_path_factory):
    figures, out = edition_against_baseline(STEM, profile, lang, tmp_path_factory)
    status = figures["exercise_status"]["status"]
    assert (status == "correct").all(), status[status != "correct"].to_dict()
    assert len(status) >= 5
    # the lesson's own claims, whatever the shop
    assert figures["rows_read"] == figures["rows_loaded"] + figures["rows_quarantined"]
    assert figures["rows_quarantined"] == figures["planted_bad_rows"]
    assert figures["rows_inferred"] == figures["planted_inferred"]  # loaded, not quarantined
    assert figures["reload_changed_tables"] == 0
    assert figures["data_tests_passed"] == figures["data_tests_total"]
    assert figures["customer_versions"] == (figures["customers_integrated"]
                                            + figures["customers_changed"])
    assert (out.with_suffix(".wh") / "shop.duckdb").exists()


def test_bad_warehouse_dir_stops_in_the_validation_cell(tmp_path):
    import papermill

    a_file = tmp_path / "not_a_folder.txt"
    a_file.write_text("x")
    with pytest.raises(papermill.PapermillExecutionError) as err:
        run(f"{STEM}.ipynb", tmp_path / "out.ipynb", warehouse_dir=str(a_file),
            **TEST_PARAMETERS)
    assert "warehouse_dir=" in str(err.value) and "is a file" in str(err.value)


def test_by_default_nothing_is_written_into_the_project():
    nb = json.loads((NOTEBOOKS / f"{STEM}.ipynb").read_text())
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert "warehouse_dir = None" in "".join(params["source"])
