"""Notebook 03 runs for every shop in both languages, and its figures match the baseline."""

from __future__ import annotations

import pytest
from notebook_runs import TEST_PARAMETERS, run, run_against_baseline

from crmkit.dataset.profiles import PROFILE_NAMES
from crmkit.i18n import LANGS

STEM = "03_mining"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_notebook_runs_and_figures_match_baseline(profile, lang, tmp_path):
    figures = run_against_baseline(STEM, tmp_path / "out.ipynb", profile, lang=lang)
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


def test_notebook_runs_on_cdnow_with_orders_only(tmp_path):
    """CDNOW (an order log: no customer file, products or campaigns): the sections that need
    other tables say so and move on; everything else runs and every other check passes."""
    from pathlib import Path

    from crmkit.cli import main

    root = Path(__file__).resolve().parents[1]
    log = root / "data" / "real" / "cdnow" / "CDNOW_master.txt"
    shop = tmp_path / "cdnow"
    assert main(["import", "orders", str(log), "--customer", "customer_id", "--date", "date",
                 "--quantity", "number_of_cds", "--amount", "dollar_value", "--date-format",
                 "%Y%m%d", "--currency", "USD", "--timezone", "America/New_York",
                 "--shop-name", "CDNOW", "--out", str(shop)]) == 0
    figures = run(f"{STEM}.ipynb", tmp_path / "out.ipynb", data_dir=str(shop), lang="es")
    # the whole first-quarter 1997 cohort and its 69,659 purchases (Fader and Hardie's data)
    assert figures["customers"] == 23_570 and figures["purchases"] == 69_659
    assert figures["guest_share"] == 0
    assert figures["skipped_sections"] == ["guests", "baskets"]
    status = figures["exercise_status"]["status"]
    assert set(status[status == "skipped"].index) == {"guest_revenue", "pair_baskets"}
    assert (status[status != "skipped"] == "correct").all(), status.to_dict()
    # the customer models still beat their baselines on the holdout
    assert figures["bg_nbd_mae"] < figures["baseline_mae"]
