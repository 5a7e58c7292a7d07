"""Notebook 04 runs for every shop in both languages, and its figures match the baseline."""

from __future__ import annotations

import json

import pytest
from notebook_runs import NOTEBOOKS, TEST_PARAMETERS, edition_against_baseline, run

from crmkit.dataset.profiles import PROFILE_NAMES
from crmkit.i18n import LANGS

STEM = "04_case_bendita"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_notebook_runs_and_figures_match_baseline(profile, lang, tmp_path_factory):
    figures, out = edition_against_baseline(STEM, profile, lang, tmp_path_factory)
    status = figures["exercise_status"]["status"]
    assert (status[status != "skipped"] == "correct").all(), status.to_dict()
    # a shop that sells in store only has no web visits: its web exercises say "skipped"
    web = {"busiest_month", "email_conversion", "abandoned_carts", "sample_size",
           "kpi_behind_change", "test_in_a_month"}
    # and no search terms; a web shop without a store has no door to count visitors at
    store = {"store_busiest_month", "till_conversion", "store_kpi_change", "staff_month"}
    expected = {"boutique": web | {"seo_best_term"}, "ice_cream": web | {"seo_best_term"},
                "bendita": store}
    assert set(status[status == "skipped"].index) == expected.get(profile, set())
    assert len(status) >= 8
    # the lesson's own claims, whatever the shop
    board = figures["kpi_board"]  # KPIs the shop has data for (no visits: no footfall)
    kpis = ["sessions", "conversion_rate", "cps_per_customer", "active_customers"]
    assert list(board.index) == (kpis if figures["sessions"] else kpis[2:])
    assert set(board["status"]) <= {"green", "amber", "red", "grey"}
    assert figures["rfm_segments"]["email"].le(figures["rfm_segments"]["customers"]).all()
    assert figures["peeking_false_positives"] > 0.1  # far above alpha = 0.05


def test_every_markdown_cell_comes_in_english_then_spanish():
    nb = json.loads((NOTEBOOKS / f"{STEM}.ipynb").read_text(encoding="utf-8"))
    cells = nb["cells"]
    tags = [c["metadata"].get("tags", []) for c in cells]
    for i, c in enumerate(cells):
        if c["cell_type"] != "markdown":
            continue
        if "lang-en" in tags[i]:
            assert cells[i + 1]["cell_type"] == "markdown" and "lang-es" in tags[i + 1]
        else:
            assert "lang-es" in tags[i] and "lang-en" in tags[i - 1], c["id"]


def test_bad_parameter_stops_in_the_validation_cell(tmp_path):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as err:
        run(f"{STEM}.ipynb", tmp_path / "out.ipynb", win_back_days=-3, **TEST_PARAMETERS)
    assert "win_back_days=-3" in str(err.value)
