"""Notebook 01 runs for every shop in both languages, and its figures match the baseline."""

from __future__ import annotations

import pytest
from notebook_runs import edition_against_baseline, run

from crmkit.dataset.profiles import PROFILE_NAMES
from crmkit.i18n import LANGS

STEM = "01_crm_concepts"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_notebook_runs_and_figures_match_baseline(profile, lang, tmp_path_factory):
    figures, out = edition_against_baseline(STEM, profile, lang, tmp_path_factory)
    status = figures["exercise_status"]["status"]
    assert (status == "correct").all(), status[status != "correct"].to_dict()
    assert len(status) >= 4


def test_notebook_reads_a_dataset_folder(tmp_path):
    figures = run(f"{STEM}.ipynb", tmp_path / "out.ipynb",
                  data_dir="../data/samples/ice_cream")
    assert figures["customers"] == 400  # the ice-cream sample's size
    assert figures["tickets_by_state"]["tickets"].sum() > 0


def test_bad_parameter_stops_in_the_validation_cell(tmp_path):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as err:
        run(f"{STEM}.ipynb", tmp_path / "out.ipynb", profile="bakery")
    assert "profile='bakery' is not allowed" in str(err.value)
