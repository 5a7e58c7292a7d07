"""Campaign planning and effectiveness, and control groups whose truth is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tiny_shop import tiny_shop

from crmkit.analytics import campaigns as cp
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError


def _objective(**kw):
    base = dict(specific="Reactivate premium customers by e-mail", metric="conversion_rate",
                target=0.05, baseline=0.03, segment="premium", start="2025-03-01",
                end="2025-03-31")
    return cp.SmartObjective(**{**base, **kw})


@pytest.mark.parametrize(("change", "letters"), [
    ({}, []),
    ({"specific": "More sales"}, ["S"]),
    ({"metric": "likes"}, ["M"]),
    ({"target": 0.2}, ["A"]),              # more than double the baseline
    ({"target": 0.02}, ["A"]),             # below where we already are
    ({"segment": "vip"}, ["R"]),
    ({"end": "2025-02-01"}, ["T"]),        # ends before it starts
    ({"end": "2026-03-01"}, ["T"]),        # a year is not a campaign
    ({"start": "someday"}, ["T"]),
    ({"specific": "x", "segment": "vip", "end": "2025-01-01"}, ["S", "R", "T"]),
])
def test_smart_objective_names_the_failing_letters(change, letters):
    obj = _objective(**change)
    assert obj.failing() == letters
    if letters:
        with pytest.raises(cp.SmartError) as err:
            obj.check()
        for k in letters:
            assert f"{k} (" in str(err.value)
    else:
        assert obj.check() is obj


def test_effectiveness_by_hand():
    e = cp.effectiveness(tiny_shop()).loc[1]
    assert (e["reach"], e["opens"], e["clicks"], e["conversions"]) == (2, 1, 1, 1)
    assert e["revenue"] == pytest.approx(20 - 2 + 3.5)
    assert e["cost"] == pytest.approx(1.0)
    assert e["cost_per_impact"] == pytest.approx(0.5)
    assert e["cost_per_conversion"] == pytest.approx(1.0)
    assert e["roi"] == pytest.approx((21.5 - 1) / 1)
    assert e["result"] == pytest.approx(0.5) and not e["met"]  # target 0.6


def test_acquisition_campaign_is_worth_what_its_customers_bought():
    shop = tiny_shop()
    tables = dict(shop.tables)
    acq = tables["campaigns"].iloc[[0]].assign(campaign_id=2, goal="acquisition",
                                               kpi="new_customers", target_value=1.0,
                                               budget=100.0, name="Acquisition Jan 2024 (email)")
    tables["campaigns"] = pd.concat([tables["campaigns"], acq], ignore_index=True)
    c = tables["customers"].copy()
    c["acquisition_campaign_id"] = pd.array([None, 2, None, None], dtype="Int64")
    tables["customers"] = c
    e = cp.effectiveness(type(shop)(tables, shop.manifest)).loc[2]
    # customer 2: the store order (30); the cancelled one is worth nothing
    assert (e["reach"], e["revenue"], e["cost"]) == (0, 30.0, 100.0)
    assert e["roi"] == pytest.approx(-0.7) and e["result"] == 1 and e["met"]


def test_audience_and_control_group_by_hand():
    a = cp.audience(tiny_shop(), 1).set_index("customer_id")
    # premium + e-mail + consent: customers 1 and 2 (3 is budget, 4 has no e-mail)
    assert a["group"].to_dict() == {1: "treated", 2: "control"}
    # customer 2 ordered on 3 Feb, after the campaign's last day (21 Jan)
    assert a["converted"].to_dict() == {1: True, 2: False}


def test_buyer_persona_of_a_hand_made_group():
    p = cp.buyer_persona(tiny_shop(), [1, 2])
    assert p["customers"] == 2 and p["top_category"] == "shampoo"
    assert p["orders_per_customer"] == 1.5  # the cancelled order does not count
    assert p["email_reachable"] == 1.0


def test_generated_audience_matches_the_generator_truth(small_data):
    data = small_data("bendita")
    truth = data.truth["campaigns"].set_index("campaign_id")
    assert len(truth) > 5 and (truth["true_uplift"] > 0).all()
    # every campaign keeps about a fifth of its audience as a control group
    single = truth[truth["variant"].isna()]
    assert single["control"].sum() / single["audience"].sum() == pytest.approx(0.2, abs=0.04)
    for cid, row in truth.iterrows():
        a = cp.audience(data, cid)
        assert len(a) == row["audience"]
        assert (a["group"] == "control").sum() == row["control"]
        assert (a["group"] == "treated").sum() == row["treated"]


def test_audience_matches_the_truth_in_the_committed_sample():
    """The Bendita sample runs two A/B tests with the same name in one month: each pair is
    told apart by its dates."""
    from pathlib import Path

    from crmkit.dataset.crmdata import CRMData

    data = CRMData.load(Path(__file__).resolve().parents[1] / "data/samples/bendita")
    truth = data.truth["campaigns"].set_index("campaign_id")
    names = data.campaigns.set_index("campaign_id")["name"]
    assert names.loc[2] == names.loc[4] == "Retention Apr 2024 (social) [A]"
    for cid, row in truth.iterrows():
        groups = cp.audience(data, cid)["group"].value_counts()
        assert (groups.get("treated", 0), groups.get("control", 0)) == (row["treated"],
                                                                         row["control"]), cid
    assert len(cp.ab_tests(data)) == (truth["variant"] == "A").sum()


def test_ab_tests_pair_the_two_variants(small_data):
    data = small_data("bendita")
    ab = cp.ab_tests(data)
    assert len(ab) >= 1
    names = data.campaigns.set_index("campaign_id")["name"]
    assert names.loc[ab["campaign_a"]].str.endswith("[A]").all()
    assert names.loc[ab["campaign_b"]].str.endswith("[B]").all()
    variants = data.truth["campaigns"].set_index("campaign_id")["variant"]
    assert (variants.loc[ab["campaign_b"]] == "B").all()


def test_confidence_intervals_cover_the_true_uplift_at_the_stated_rate():
    """95 % intervals of the uplift (and of B - A) contain the generator's truth about 95 %
    of the time over many shops; 50 % intervals, about half the time."""
    hits, hits_ab, narrow = [], [], []
    for seed in range(20):
        data = generate("bendita", n_customers=600, seed=seed)
        table = data.truth["campaigns"].set_index("campaign_id")
        truth = table["true_uplift"]
        every = cp.incremental_effect(data)
        assert every[["treated", "control"]].equals(table.loc[every.index, ["treated",
                                                                           "control"]])
        e = every.dropna(subset=["ci_low"])
        t = truth.loc[e.index]
        hits += ((e["ci_low"] <= t) & (t <= e["ci_high"])).tolist()
        if seed < 5:
            e50 = cp.incremental_effect(data, alpha=0.5).dropna(subset=["ci_low"])
            t50 = truth.loc[e50.index]
            narrow += ((e50["ci_low"] <= t50) & (t50 <= e50["ci_high"])).tolist()
        ab = cp.ab_tests(data).dropna(subset=["ci_low"])
        diff = truth.loc[ab["campaign_b"]].to_numpy() - truth.loc[ab["campaign_a"]].to_numpy()
        hits_ab += ((ab["ci_low"] <= diff) & (diff <= ab["ci_high"])).tolist()
    assert len(hits) > 300 and len(hits_ab) > 60
    # binomial standard error at 95 % with 400 intervals is about 1.1 points
    assert 0.925 <= np.mean(hits) <= 0.985
    assert 0.9 <= np.mean(hits_ab) <= 1.0
    assert 0.35 <= np.mean(narrow) <= 0.7


def test_acquisition_campaign_has_no_audience(small_data):
    data = small_data("bendita")
    acq = data.campaigns.loc[data.campaigns["goal"] == "acquisition", "campaign_id"]
    with pytest.raises(ParameterError, match="acquisition"):
        cp.audience(data, int(acq.iloc[0]))
    with pytest.raises(ParameterError, match="not in data.campaigns"):
        cp.audience(data, 10_000)


def test_plan_timeline_draws_one_bar_per_campaign(small_data):
    import matplotlib

    matplotlib.use("Agg")
    data = small_data("bendita")
    ax = cp.plot_plan(data.campaigns, lang="es")
    assert len(ax.patches) == len(data.campaigns)
    assert isinstance(ax.get_title(), str) and ax.get_title()
    pd.testing.assert_frame_equal(data.campaigns, small_data("bendita").campaigns)


def test_segment_actions_count_who_each_action_can_reach(small_data):
    data = small_data("bendita")
    table = cp.segment_actions(data, lang="es")
    seg = cp.rfm_segments(data)
    assert table["customers"].sum() == len(seg) and len(table) == 11
    c = data.customers.set_index("customer_id").loc[seg.index]
    champions = c[(seg == "champions").to_numpy()]
    assert table.loc["champions", "email"] == int(
        (champions["email"].notna() & champions["email_consent"]).sum())
    assert (table["reachable"] <= table["customers"]).all()
    assert table.loc["champions", "label"] == "Campeones"
    assert table["action"].str.len().gt(10).all()


def test_no_conversion_on_either_side_is_no_evidence_of_a_difference():
    low, high, p = cp._compare(0, 16, 0, 9, 0.05)
    assert p == 1.0 and low < 0 < high
