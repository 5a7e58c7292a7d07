"""Notebook 03 runs for every shop in both languages, and its figures match the baseline."""

from __future__ import annotations

import pytest
from notebook_runs import TEST_PARAMETERS, load_baseline, run

from crmkit.dataset.profiles import PROFILE_NAMES
from crmkit.i18n import LANGS
from crmkit.lessons.figures import compare_figures

STEM = "03_mining"
# The data come from a fixed seed, so counts must match exactly and shares and model scores
# to within rounding; 0.5 % relative leaves room for floating-point noise across platforms
# (optimisers, BLAS), not for a change in behaviour.
RTOL, ATOL = 0.005, 1e-6


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_notebook_runs_and_figures_match_baseline(profile, lang, tmp_path):
    figures = run(f"{STEM}.ipynb", tmp_path / "out.ipynb", profile=profile, lang=lang,
                  **TEST_PARAMETERS)
    problems = compare_figures(figures, load_baseline(STEM)[profile], rtol=RTOL, atol=ATOL)
    assert not problems, "\n".join(problems)
    status = figures["exercise_status"]["status"]
    # a section the shop's data cannot support (a model that cannot be identified) is skipped
    # with its reason; its exercises say "skipped", every other one must be correct
    ok = status.isin(["correct", "skipped"])
    assert ok.all(), status[~ok].to_dict()
    assert (status == "skipped").any() == bool(figures["skipped_sections"])
    assert len(status) >= 8


def test_bad_holdout_stops_in_the_validation_cell(tmp_path):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as err:
        run(f"{STEM}.ipynb", tmp_path / "out.ipynb", profile="boutique", holdout_days=700,
            **TEST_PARAMETERS)
    assert "holdout_days=700 leaves only" in str(err.value)
