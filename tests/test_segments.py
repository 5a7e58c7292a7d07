"""Named RFM segments: the table covers the grid once, every customer in one segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from crmkit.analytics.rfm import rfm_scores, rfm_summary
from crmkit.analytics.segments import (
    SEGMENTS,
    assign_segments,
    segment_grid,
    segment_rules,
    segment_summary,
    segment_table,
)
from crmkit.errors import ParameterError
from crmkit.i18n import catalog


def test_the_segment_cells_cover_the_grid_exactly_once():
    hits = np.zeros((5, 5), dtype=int)
    for cells in segment_rules().values():
        for r0, r1, f0, f1 in cells:
            assert 1 <= r0 <= r1 <= 5 and 1 <= f0 <= f1 <= 5
            hits[r0 - 1:r1, f0 - 1:f1] += 1
    assert (hits == 1).all()
    assert segment_grid().notna().all().all()


def test_the_table_is_the_well_known_one():
    assert SEGMENTS == ("champions", "loyal", "potential_loyalists", "new", "promising",
                        "need_attention", "about_to_sleep", "at_risk", "cannot_lose",
                        "hibernating", "lost")
    g = segment_grid()
    assert (g.loc[5, 5], g.loc[5, 1], g.loc[1, 5], g.loc[1, 1], g.loc[3, 3]) == (
        "champions", "new", "cannot_lose", "lost", "need_attention")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_segment_has_a_label_and_an_action_in_both_languages(lang):
    table = segment_table(lang)
    assert table.index.tolist() == list(SEGMENTS)
    assert table["label"].str.len().gt(2).all() and table["action"].str.len().gt(20).all()
    cat = catalog()
    for s in SEGMENTS:
        en, es = cat[f"rfm_segment.{s}"]
        assert en != es or s == "new"
        assert cat[f"rfm_action.{s}"][0] != cat[f"rfm_action.{s}"][1]


def test_the_yaml_names_only_segments_with_catalog_entries():
    from importlib import resources
    raw = yaml.safe_load(resources.files("crmkit.analytics").joinpath("segments.yaml")
                         .read_text("utf-8"))
    assert set(raw) == set(SEGMENTS)


def test_every_customer_lands_in_exactly_one_segment(small_data, profile):
    scored = assign_segments(rfm_scores(rfm_summary(small_data(profile))))
    assert scored["segment"].notna().all()
    summary = segment_summary(scored, lang="es")
    assert summary.index.tolist() == list(SEGMENTS)
    assert summary["customers"].sum() == len(scored)
    assert summary["share"].sum() == pytest.approx(1.0)
    assert summary.loc["champions", "label"] == "Campeones"


def test_segments_follow_the_scores():
    s = pd.DataFrame({"r_score": [5, 4, 4, 3, 2, 1, 2, 1], "f_score": [4, 1, 3, 2, 4, 5, 1, 2]})
    assert assign_segments(s)["segment"].tolist() == [
        "champions", "promising", "potential_loyalists", "about_to_sleep", "at_risk",
        "cannot_lose", "hibernating", "hibernating"]


def test_champions_buy_more_and_more_recently_than_the_lost(small_data):
    scored = assign_segments(rfm_scores(rfm_summary(small_data("fashion_chain"))))
    summary = segment_summary(scored)
    assert summary.loc["champions", "orders"] > summary.loc["lost", "orders"]
    assert summary.loc["champions", "recency_days"] < summary.loc["lost", "recency_days"]


def test_scores_outside_the_grid_are_refused():
    with pytest.raises(ParameterError, match="bins=5"):
        assign_segments(pd.DataFrame({"r_score": [1, 7], "f_score": [1, 1]}))
    with pytest.raises(ParameterError, match="'f_score'"):
        assign_segments(pd.DataFrame({"r_score": [1]}))


def test_segment_bars_are_labelled_in_the_language(small_data):
    import matplotlib
    matplotlib.use("Agg")
    from crmkit.analytics.modelplots import plot_segments
    summary = segment_summary(assign_segments(rfm_scores(rfm_summary(small_data("boutique")))))
    ax = plot_segments(summary, lang="es")
    assert ax.get_title() == "Clientes por segmento RFM"
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels[-1] == "Campeones" and labels[0] == "Perdidos"
    heights = [p.get_width() for p in ax.patches]
    assert sum(heights) == summary["customers"].sum()
