"""Lifetime value: published CDNOW estimates, diagnostics, synthetic truth, clear errors."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from model_truth import auc_difference_interval
from sklearn.base import clone

from crmkit.analytics.clv import BetaGeo, GammaGamma, ParetoNBD, customer_lifetime_value
from crmkit.analytics.diagnostics import (
    calibration_vs_holdout,
    probability_alive_matrix,
    repeat_purchase_tracking,
)
from crmkit.analytics.modelplots import (
    plot_calibration_holdout,
    plot_probability_alive,
    plot_tracking,
)
from crmkit.analytics.rfm import (
    holdout_from_transactions,
    holdout_purchases,
    rfm_summary,
    summary_from_transactions,
)
from crmkit.dataset.cdnow import CALIBRATION_END, OBSERVATION_END, load_cdnow
from crmkit.errors import CRMKitError, DatasetError, ModelError, ParameterError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def cdnow():
    tx = load_cdnow("sample")
    cal = summary_from_transactions(tx, as_of=CALIBRATION_END, unit="weeks")
    hold = holdout_from_transactions(tx, cal.index, as_of=CALIBRATION_END,
                                     end=OBSERVATION_END, unit="weeks")
    return tx, cal, hold


@pytest.fixture(scope="module")
def bg(cdnow):
    return BetaGeo().fit(cdnow[1])


# ------------------------------------------------------------------ CDNOW, published values
def test_cdnow_summary_is_the_papers(cdnow):
    _, cal, hold = cdnow
    assert len(cal) == 2357
    assert (cal["frequency"] == 0).sum() == 1411          # FHL 2005: 1,411 made no repeat
    assert (cal["frequency"] > 0).sum() == 946            # Fader & Hardie 2013: 946 customers
    assert cal["T"].max() == pytest.approx(272 / 7)       # first buyers of 1997-01-01: 38.86
    assert (hold["duration_holdout"] == 39).all()


def test_bgnbd_matches_the_published_estimates(bg):
    # Fader, Hardie and Lee (2005), "Counting your customers the easy way", CDNOW sample
    p = bg.params_
    assert round(p["r"], 3) == 0.243 and round(p["alpha"], 3) == 4.414
    assert round(p["a"], 3) == 0.793 and round(p["b"], 3) == 2.426
    assert round(bg.log_likelihood_, 1) == -9582.4
    assert bg.n_customers_ == 2357 and bg.n_repeat_ == 946


def test_bgnbd_conditional_expectation_of_the_papers_customer(bg, cdnow):
    # FHL 2005 section 5: customer 1 (x=2, t_x=30.43, T=38.86) expects 1.226 purchases in 39 weeks
    one = cdnow[1].loc[[1]]
    assert (one["frequency"].item(), round(one["recency"].item(), 2)) == (2, 30.43)
    assert round(bg.expected_purchases(one, 39).item(), 3) == 1.226


def test_pareto_nbd_matches_the_published_estimates(cdnow):
    # Fader, Hardie and Lee (2005), Pareto/NBD on the same CDNOW sample:
    # r 0.55, alpha 10.58, s 0.61, beta 11.67, log-likelihood -9595.0
    m = ParetoNBD().fit(cdnow[1])
    p = m.params_
    assert (round(p["r"], 2), round(p["alpha"], 2), round(p["s"], 2), round(p["beta"], 2)) == (
        0.55, 10.58, 0.61, 11.67)
    assert round(m.log_likelihood_, 1) == -9595.0
    # the BG/NBD fits CDNOW slightly better, as the paper reports
    assert m.log_likelihood_ < BetaGeo().fit(cdnow[1]).log_likelihood_
    track = repeat_purchase_tracking(m, cdnow[0], end=OBSERVATION_END)
    assert track.loc[78, "predicted"] == pytest.approx(track.loc[78, "actual"], rel=0.06)
    pa = m.probability_alive(cdnow[1])
    assert pa.between(0, 1).all() and (pa[cdnow[1]["frequency"] == 0] < 1).all()


def test_gamma_gamma_matches_the_published_estimates(cdnow):
    # Fader and Hardie (2013), "The Gamma-Gamma model of monetary value": p 6.25, q 3.74,
    # gamma 15.44, log-likelihood -4055.9177 (the value CLVTools checks against)
    gg = GammaGamma().fit(cdnow[1])
    p = gg.params_
    assert (round(p["p"], 2), round(p["q"], 2), round(p["v"], 2)) == (6.25, 3.74, 15.44)
    assert round(gg.log_likelihood_, 2) == -4055.92
    assert (gg.n_customers_, gg.n_left_out_) == (946, 1411)
    # mean spend across customers p v / (q - 1) and shrinkage towards it
    assert gg.mean_spend() == pytest.approx(6.25 * 15.44 / 2.74, rel=2e-3)
    spend = gg.expected_spend(cdnow[1])
    once = cdnow[1]["frequency"] == 0
    assert np.allclose(spend[once], gg.params_["p"] * gg.params_["v"] / (gg.params_["q"] - 1))


def test_holdout_by_frequency_tracks_the_actual(bg, cdnow):
    _, cal, hold = cdnow
    table = calibration_vs_holdout(bg, cal, hold)
    assert table["customers"].sum() == 2357 and table.index.tolist() == list(range(8))
    assert table["predicted"].is_monotonic_increasing
    assert np.corrcoef(table["actual"], table["predicted"])[0, 1] > 0.98
    # total holdout purchases: actual 1,882 purchase days; BG/NBD expects 1,653 (-12 %)
    assert hold["frequency_holdout"].sum() == 1882
    assert bg.expected_purchases(cal, 39).sum() == pytest.approx(1882, rel=0.15)


def test_cumulative_tracking_follows_the_actual_to_week_78(bg, cdnow):
    track = repeat_purchase_tracking(bg, cdnow[0], unit="weeks", end=OBSERVATION_END)
    assert len(track) == 78
    # at the end of calibration the actual count is the sum of the summary's frequencies
    assert track.loc[39, "actual"] == cdnow[1]["frequency"].sum() == 2457
    assert track.loc[39, "predicted"] == pytest.approx(2457, rel=0.03)
    assert track.loc[78, "predicted"] == pytest.approx(track.loc[78, "actual"], rel=0.06)
    assert track["predicted"].is_monotonic_increasing


def test_probability_alive_matrix_behaves(bg):
    m = probability_alive_matrix(bg, T=39, max_frequency=10)
    assert m.shape == (11, 40)
    rows = m.iloc[1:].to_numpy()
    assert (np.diff(rows, axis=1) >= -1e-12).all()        # later last purchase: more alive
    assert m.loc[1, 39.0] == pytest.approx(1 / (1 + bg.params_["a"] / bg.params_["b"]))
    assert m.loc[0, 0.0] == 1.0 and m.loc[0, 1:].isna().all()


def test_predictions_are_sane(bg, cdnow):
    cal = cdnow[1]
    pa = bg.probability_alive(cal)
    assert pa.between(0, 1).all()
    e13, e52 = bg.expected_purchases(cal, 13), bg.expected_purchases(cal, 52)
    assert (e52 >= e13).all() and (e13 >= 0).all()
    assert bg.expected_purchases_new(0.0) == pytest.approx(0.0)
    assert np.isfinite(bg.score(cal)) and bg.score(cal) == pytest.approx(-9582.43 / 2357, 1e-4)


def test_long_histories_do_not_overflow(bg):
    heavy = pd.DataFrame({"frequency": [400, 2000], "recency": [300.0, 500.0],
                          "T": [310.0, 520.0]})
    assert np.isfinite(bg.log_likelihood(heavy)).all()
    assert bg.probability_alive(heavy).between(0, 1).all()


def test_clv_is_discounted_and_grows_with_the_horizon(bg, cdnow):
    cal = cdnow[1]
    gg = GammaGamma().fit(cal)
    c6 = customer_lifetime_value(bg, gg, cal, months=6, unit_days=7)
    c12 = customer_lifetime_value(bg, gg, cal, months=12, unit_days=7)
    flat = customer_lifetime_value(bg, gg, cal, months=12, unit_days=7, annual_discount_rate=0)
    assert (c12 >= c6).all() and (flat >= c12).all()
    # no discount, full margin: purchases in a year x expected spend
    yearly = bg.expected_purchases(cal, 365.25 / 7) * gg.expected_spend(cal)
    assert np.allclose(flat, yearly)
    half = customer_lifetime_value(bg, gg, cal, months=12, unit_days=7, margin=0.5)
    assert np.allclose(half, c12 / 2)


def test_estimators_follow_scikit_learn(bg):
    fresh = clone(bg)
    assert fresh.get_params() == {"start": (1.0, 1.0, 1.0, 1.0)}
    assert not hasattr(fresh, "params_")
    with pytest.raises(ModelError, match="not fitted yet"):
        fresh.probability_alive(pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]}))


def test_diagnostic_plots_draw(bg, cdnow):
    tx, cal, hold = cdnow
    ax = plot_calibration_holdout(calibration_vs_holdout(bg, cal, hold), lang="es")
    assert ax.get_xticklabels()[-1].get_text() == "7+"
    ax = plot_tracking(repeat_purchase_tracking(bg, tx, end=OBSERVATION_END),
                       calibration_end=CALIBRATION_END)
    assert len(ax.get_lines()) == 3
    ax = plot_probability_alive(probability_alive_matrix(bg, T=39), lang="en")
    assert ax.get_title() == "Probability that the customer is still active"


# ------------------------------------------------------------------ synthetic truth
@pytest.fixture(scope="module")
def synthetic():
    from crmkit.dataset.synth import generate
    return generate("frozen_foods", n_customers=1500, seed=11)


def test_probability_alive_separates_the_customers_the_generator_kept(synthetic):
    s = rfm_summary(synthetic)
    bg = BetaGeo().fit(s)
    truth = synthetic.truth["customers"].set_index("customer_id").loc[s.index, "alive_at_end"]
    # the naive rule every P(alive) must beat: fewer days since the last purchase = alive
    recency = -s["recency_days"]
    # BG/NBD loses to it (AUC 0.86 against 0.94): it cannot let a one-time buyer drop out,
    # and the generator loses many customers right after their first purchase
    low, high = auc_difference_interval(truth, bg.probability_alive(s), recency)
    assert high < 0, (low, high)
    # the Pareto/NBD lets one-time buyers leave too, as the generator does: it beats the rule
    # (0.953 against 0.938), by more than the bootstrap noise
    pn = ParetoNBD().fit(s)
    low, high = auc_difference_interval(truth, pn.probability_alive(s), recency)
    assert low > 0, (low, high)


def test_predicted_holdout_purchases_track_the_actual(synthetic):
    cal = rfm_summary(synthetic, as_of="2024-12-31")
    hold = holdout_purchases(synthetic, as_of="2024-12-31")
    bg = BetaGeo().fit(cal)
    pred = bg.expected_purchases(cal, hold["duration_holdout"].iloc[0])
    actual = hold["frequency_holdout"]
    assert pred.sum() == pytest.approx(actual.sum(), rel=0.25)   # +15 % on this shop
    assert np.corrcoef(pred, actual)[0, 1] > 0.6
    table = calibration_vs_holdout(bg, cal, hold)
    assert table["actual"].iloc[-1] > 3 * table["actual"].iloc[0]


# ------------------------------------------------------------------ errors
def test_a_shop_with_no_repeat_buyers_is_a_clear_error():
    once = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0] * 3, "T": [3.0, 5.0, 9.0],
                         "monetary_value": [0.0] * 3})
    with pytest.raises(ModelError, match="no customer bought more than once"):
        BetaGeo().fit(once)
    with pytest.raises(ModelError, match="no customer has a repeat purchase"):
        GammaGamma().fit(once)
    with pytest.raises(ModelError, match="no customer bought more than once"):
        ParetoNBD().fit(once)


def test_an_empty_summary_is_a_clear_error():
    empty = pd.DataFrame({"frequency": [], "recency": [], "T": [], "monetary_value": []})
    with pytest.raises(ModelError, match="summary is empty"):
        BetaGeo().fit(empty)
    with pytest.raises(ModelError, match="summary is empty"):
        GammaGamma().fit(empty)


@pytest.mark.parametrize(("frame", "match"), [
    ({"frequency": [1], "recency": [5.0], "T": [3.0]}, "0 <= recency <= T"),
    ({"frequency": [1.5], "recency": [1.0], "T": [3.0]}, "whole number"),
    ({"frequency": [1], "T": [3.0]}, "'recency' column"),
])
def test_impossible_summaries_are_named(frame, match):
    with pytest.raises(ParameterError, match=match):
        BetaGeo().fit(pd.DataFrame(frame))


@pytest.mark.parametrize("t", [0, -3, float("nan"), "a year"])
def test_a_bad_horizon_is_named(bg, cdnow, t):
    with pytest.raises(ParameterError, match="t=.* must be a positive number"):
        bg.expected_purchases(cdnow[1], t)


def test_unidentifiable_data_is_a_clear_error():
    # every repeat buyer bought at the very end, nobody has gone quiet: dropout is not identified
    s = pd.DataFrame({"frequency": [3, 4, 2, 5], "recency": [10.0, 10.0, 10.0, 10.0],
                      "T": [10.0] * 4})
    with pytest.raises(CRMKitError, match="cannot be identified"):
        BetaGeo().fit(s)


def test_a_holdout_longer_than_the_data_is_named(synthetic):
    with pytest.raises(ParameterError, match="end='2027-01-01' is after the end of the data"):
        holdout_purchases(synthetic, as_of="2025-06-30", end="2027-01-01")


def test_missing_cdnow_files_are_named(tmp_path):
    with pytest.raises(DatasetError, match="CDNOW_sample.txt not found"):
        load_cdnow(path=tmp_path)


def test_pareto_nbd_says_when_dropout_does_not_vary(small_data):
    # on this small sports shop every customer leaves at about the same rate: s runs off to
    # infinity; the fit stops at its cap with a clear error instead of crawling on
    s = rfm_summary(small_data("sports_shop"))
    with pytest.raises(ModelError, match="s runs off to infinity .* use BetaGeo"):
        ParetoNBD().fit(s)
    assert BetaGeo().fit(s).n_repeat_ == int((s["frequency"] > 0).sum())


def test_the_master_file_holds_the_whole_cohort():
    master = load_cdnow("master")
    assert len(master) == 69_659 and master["customer_id"].nunique() == 23_570
    assert master["placed_at"].min() == pd.Timestamp("1997-01-01")
    assert master["placed_at"].max() == pd.Timestamp("1998-06-30")
    # every first purchase falls in the first quarter of 1997, as the README says
    first = master.groupby("customer_id")["placed_at"].min()
    assert first.max() < pd.Timestamp("1997-04-01")
    # the 1/10th sample: 2,357 of the 23,570 customers
    assert load_cdnow("sample")["customer_id"].nunique() * 10 == pytest.approx(23_570, abs=10)


# ------------------------------------------------------------------ MBG/NBD, choice, interval
def test_modified_bgnbd_equals_lifetimes_and_the_published_likelihood():
    import math

    from crmkit.analytics.clv import ModifiedBetaGeo

    cal = summary_from_transactions(load_cdnow("sample"), as_of=CALIBRATION_END, unit="weeks")
    mbg = ModifiedBetaGeo().fit(cal)
    # lifetimes 0.11.3 ModifiedBetaGeoFitter on the same summary (benchmarks/README.md)
    want = {"r": 0.524843, "alpha": 6.183082, "a": 0.891360, "b": 1.614003}
    for k, v in want.items():
        assert mbg.params_[k] == pytest.approx(v, rel=1e-5), k
    # the likelihood of one customer, written out from Batislam et al. (2007), appendix A
    r, alpha, a, b = (mbg.params_[k] for k in ("r", "alpha", "a", "b"))
    x, tx, T = 3, 20.0, 35.0
    lbeta = math.lgamma(a) + math.lgamma(b + x + 1) - math.lgamma(a + b + x + 1) - (
        math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    lik = math.exp(lbeta + math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)) * (
        (alpha + T) ** -(r + x) + a / (b + x) * (alpha + tx) ** -(r + x))
    one = pd.DataFrame({"frequency": [x], "recency": [tx], "T": [T]})
    assert mbg.log_likelihood(one)[0] == pytest.approx(math.log(lik), rel=1e-12)
    # P(alive) of a one-time buyer falls with time: the BG/NBD would keep it at 1
    once = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [5.0, 60.0]})
    alive = mbg.probability_alive(once).to_numpy()
    assert 1 > alive[0] > alive[1] > 0
    assert (BetaGeo().fit(cal).probability_alive(once) == 1).all()


def test_clv_interval_width_agrees_with_a_bootstrap_over_customers():
    from crmkit.analytics.btyd import clv_interval
    from crmkit.analytics.clv import ModifiedBetaGeo

    cal = summary_from_transactions(load_cdnow("sample"), as_of=CALIBRATION_END, unit="weeks")
    out = clv_interval(ModifiedBetaGeo().fit(cal), GammaGamma().fit(cal), cal, unit_days=7)
    # the spread of the shop's total CLV when the customers are resampled and both models
    # refitted: an independent measure of the same parameter uncertainty (0.057 on the log
    # scale for 60 resamples, against 0.048 from the likelihood's curvature)
    rng = np.random.default_rng(0)
    totals = []
    for _ in range(60):
        s = cal.iloc[rng.integers(0, len(cal), len(cal))]
        totals.append(customer_lifetime_value(ModifiedBetaGeo().fit(s), GammaGamma().fit(s),
                                              cal, unit_days=7).sum())
    curvature = np.log(out.attrs["total_high"] / out.attrs["total"]) / 1.645
    assert 0.6 < curvature / np.std(np.log(totals)) < 1.5


def test_fit_failures_are_classes_not_messages(small_data):
    from crmkit.analytics.btyd import DoesNotFitError, check_fit
    from crmkit.analytics.clv import NoRepeatBuyersError, NotIdentifiedError

    once = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [5.0, 9.0]})
    with pytest.raises(NoRepeatBuyersError):
        BetaGeo().fit(once)
    # the small sports shop: every customer leaves at about the same rate
    with pytest.raises(NotIdentifiedError) as err:
        ParetoNBD().fit(rfm_summary(small_data("sports_shop")))
    assert (err.value.parameter, err.value.direction) == ("s", "infinity")
    # a fit with P(alive) 1 for everyone is refused as not fitting the shop
    bg = BetaGeo()
    bg.params_ = {"r": 0.5, "alpha": 20.0, "a": 1.4e-05, "b": 86745.0}
    with pytest.raises(DoesNotFitError) as err:
        check_fit(bg, rfm_summary(generate_small()))
    assert any("P(alive) is the same" in r for r in err.value.reasons)


def generate_small():
    from crmkit.dataset.synth import generate
    return generate("boutique", n_customers=200, seed=3)
