"""Forecasts: net sales recounted, models chosen by the shape of the series, honest baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.analytics.forecast import (
    FactorForecaster,
    SalesForecaster,
    factor_comparison,
    holdout_scores,
    marketing_plan,
    mase,
    naive_forecast,
    sales_series,
    seasonal_naive_forecast,
)
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError

MONTHS = pd.date_range("2021-01-01", periods=48, freq="MS")


@pytest.fixture(scope="module")
def ice():
    return generate("ice_cream", n_customers=500, start="2022-01-01", seed=8)


def test_sales_series_is_net_sales_recounted_by_hand(ice):
    y = sales_series(ice)
    o, lines = ice.orders, ice.order_lines
    # the lines' amounts (what each cost the customer), less any partial refund, in cents
    per_order = lines["amount_cents"].astype("int64").groupby(lines["order_id"]).sum()
    kept = o[~o["status"].isin(["cancelled", "returned"])]
    net = per_order.reindex(kept["order_id"]).fillna(0).to_numpy() - kept["refunded_cents"]
    month = kept["placed_at"].dt.to_period("M").dt.start_time
    expected = pd.Series(net.to_numpy()).groupby(month.to_numpy()).sum() / 100
    assert len(y) == 48 and y.index.freqstr == "MS"
    np.testing.assert_array_equal(y.to_numpy(), expected.reindex(y.index).to_numpy())
    assert y["2025-07-01"] > 3 * y["2025-01-01"]  # the parlour's summer


def test_weekly_series_keeps_only_whole_weeks(ice):
    w = sales_series(ice, freq="W-MON")
    assert (w.index.day_of_week == 0).all()
    assert w.index[0] >= pd.Timestamp("2022-01-01")
    assert w.index[-1] + pd.Timedelta(days=6) <= pd.Timestamp("2025-12-31")


def test_seasonal_series_gets_a_season_and_a_trend_series_gets_a_trend():
    rng = np.random.default_rng(2)
    season = 1 + 0.5 * np.sin(2 * np.pi * np.arange(48) / 12)
    seasonal = pd.Series(1000 * season + rng.normal(0, 20, 48), MONTHS)
    f = SalesForecaster().fit(seasonal)
    assert f.spec_["seasonal"] in ("add", "mul")
    trend = pd.Series(100 + 5 * np.arange(48) + rng.normal(0, 3, 48), MONTHS)
    g = SalesForecaster().fit(trend)
    assert g.spec_["trend"] == "add" and g.spec_["seasonal"] is None
    fc = g.predict(12)
    # a straight line is continued: 100 + 5 t at t = 48..59
    np.testing.assert_allclose(fc["mean"], 100 + 5 * np.arange(48, 60), rtol=0.03)
    assert (fc["lower"] < fc["mean"]).all() and (fc["mean"] < fc["upper"]).all()
    assert fc["upper"].iloc[-1] - fc["lower"].iloc[-1] > fc["upper"].iloc[0] - fc["lower"].iloc[0]


def test_short_series_are_not_given_a_season():
    y = pd.Series(1000 + 400 * np.sin(2 * np.pi * np.arange(20) / 12), MONTHS[:20])
    f = SalesForecaster().fit(y)
    assert f.spec_["seasonal"] is None
    assert (f.candidates_["seasonal"].isna()).all()
    with pytest.raises(ParameterError, match=r"seasonal='add' needs two full cycles \(24"):
        SalesForecaster(seasonal="add").fit(y)


def test_simple_smoothing_intervals_follow_the_textbook_formula():
    rng = np.random.default_rng(5)
    y = pd.Series(np.cumsum(rng.normal(0, 1, 48)) - 50, MONTHS)  # negative: additive errors
    f = SalesForecaster(trend="none", seasonal="none").fit(y)
    alpha = dict(zip(f.model_.param_names, f.model_.params, strict=True))["smoothing_level"]
    sigma2 = f.model_.mse
    h = np.arange(1, 7)
    half = 1.959964 * np.sqrt(sigma2 * (1 + (h - 1) * alpha**2))
    fc = f.predict(6)
    np.testing.assert_allclose(fc["upper"] - fc["mean"], half, rtol=0.02)


def test_holdout_beats_naive_on_a_seasonal_shop_and_scores_are_recomputable(ice):
    y = sales_series(ice)
    scores, fc = holdout_scores(y, holdout=12, return_forecasts=True)
    assert list(scores.index) == ["ets", "naive", "seasonal_naive"]
    assert scores.loc["ets", "mase"] < scores.loc["naive", "mase"]
    assert scores.loc["seasonal_naive", "mase"] < scores.loc["naive", "mase"]
    train = y.iloc[:-12]
    assert scores.loc["naive", "mae"] == pytest.approx(
        np.mean(np.abs(y.iloc[-12:].to_numpy() - train.iloc[-1])))
    assert scores.loc["ets", "mase"] == pytest.approx(mase(fc["actual"], fc["ets"], train))
    np.testing.assert_allclose(fc["seasonal_naive"], train.iloc[-12:].to_numpy())
    assert scores.attrs["spec"]["seasonal"] in ("add", "mul")


def test_baselines_by_hand():
    y = pd.Series([1.0, 2, 3, 4, 5, 6], MONTHS[:6])
    assert naive_forecast(y, 2).tolist() == [6.0, 6.0]
    assert seasonal_naive_forecast(y, 4, seasonal_periods=3).tolist() == [4.0, 5.0, 6.0, 4.0]
    assert mase([7, 8], [6, 6], y) == pytest.approx(1.5)


def test_a_factor_that_drives_sales_is_found_and_helps():
    rng = np.random.default_rng(3)
    budget = pd.Series(rng.choice([0.0, 500.0, 1500.0], 48), MONTHS)
    y = pd.Series(20_000 + 50 * np.arange(48) + 4.0 * budget + rng.normal(0, 300, 48), MONTHS)
    scores = factor_comparison(y, budget, holdout=12)
    assert scores.loc["with_factor", "coef"] == pytest.approx(4.0, rel=0.1)
    assert scores.loc["with_factor", "pvalue"] < 0.001
    assert scores.loc["with_factor", "mae"] < 0.5 * scores.loc["without_factor", "mae"]
    assert np.isnan(scores.loc["without_factor", "coef"])


def test_marketing_plan_spreads_each_budget_over_its_days():
    data = generate("bendita", n_customers=300, seed=2)
    # a hand-made plan: 2,100 over 20 Jan - 9 Feb 2024 (21 days: 12 in January, 9 in
    # February, 100 a day) and 280 over February (29 days in 2024) -> Jan 1,200, Feb 1,180
    camps = data.campaigns.iloc[:2].copy()
    camps["start_date"] = pd.to_datetime(["2024-01-20", "2024-02-01"]).astype(
        camps["start_date"].dtype)
    camps["end_date"] = pd.to_datetime(["2024-02-09 18:00", "2024-02-29 00:00"]).astype(
        camps["end_date"].dtype)
    camps["budget"] = [2100.0, 280.0]
    hand = CRMData({**data.tables, "campaigns": camps}, dict(data.manifest))
    by_hand = marketing_plan(hand)
    assert by_hand["2024-01-01"] == pytest.approx(1200.0)
    assert by_hand["2024-02-01"] == pytest.approx(900.0 + 280.0)
    assert by_hand.drop(pd.to_datetime(["2024-01-01", "2024-02-01"])).eq(0).all()
    plan = marketing_plan(data)
    assert plan.sum() == pytest.approx(data.campaigns["budget"].sum())
    with pytest.raises(ParameterError, match="factor has no value for 12 period"):
        FactorForecaster().fit(sales_series(data), plan.iloc[:-12])


@pytest.mark.parametrize(("call", "message"), [
    (lambda y: holdout_scores(y, holdout=45), r"holdout=45 leaves 3 of the 48 periods"),
    (lambda y: holdout_scores(y, holdout=0), r"holdout=0 must be a whole number"),
    (lambda y: holdout_scores(y.reset_index(drop=True)), "indexed by date"),
    (lambda y: SalesForecaster(trend="up").fit(y), "trend='up' is not allowed"),
    (lambda y: SalesForecaster().fit(y.iloc[:5]), "y has 5 periods"),
    (lambda y: SalesForecaster().fit(y.iloc[:12]).predict(13),
     r"horizon=13 is longer than the 12 periods the model learned from"),
])
def test_bad_parameters_name_themselves(call, message):
    y = pd.Series(np.arange(48.0) + 10, MONTHS)
    with pytest.raises(ParameterError, match=message):
        call(y)


def test_empty_shop_and_too_short_a_period(ice):
    empty = CRMData({**ice.tables, "orders": ice.orders.iloc[:0],
                     "order_lines": ice.order_lines.iloc[:0]}, dict(ice.manifest))
    with pytest.raises(ParameterError, match="no orders"):
        sales_series(empty)
    short = generate("boutique", n_customers=50, start="2024-03-05", end="2024-03-30", seed=1)
    with pytest.raises(ParameterError, match="not one whole period of freq='MS'"):
        sales_series(short)


def test_the_model_chosen_is_the_one_statsmodels_aicc_prefers():
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(5)
    season = 1 + 0.4 * np.sin(2 * np.pi * np.arange(30) / 12)
    y = pd.Series(5000 * season * (1 + 0.01 * np.arange(30)) + rng.normal(0, 150, 30),
                  MONTHS[:30])
    f = SalesForecaster().fit(y)
    aicc = {}
    for error in ("add", "mul"):
        for trend in (None, "add", "damped"):
            for seasonal in (None, "add", "mul"):
                if error == "add" and seasonal == "mul":
                    continue
                res = ETSModel(y, error=error, trend=trend and "add",
                               damped_trend=trend == "damped", seasonal=seasonal,
                               seasonal_periods=12 if seasonal else None,
                               initialization_method="heuristic").fit(disp=False, maxiter=2000)
                aicc[(error, trend, seasonal)] = res.aicc
    best = min(aicc, key=aicc.get)
    trend = "damped" if f.spec_["damped"] else f.spec_["trend"]
    assert (f.spec_["error"], trend, f.spec_["seasonal"]) == best
    assert f.candidates_["aicc"].iloc[0] == pytest.approx(aicc[best])


def test_sales_as_known_at_a_day_keep_the_orders_returned_later():
    shop = generate("boutique", n_customers=300, seed=3)
    o, lines = shop.orders, shop.order_lines
    # the end of the first month with an order returned in a later month
    late = o[o["returned_at"].dt.to_period("M") > o["placed_at"].dt.to_period("M")]
    day = late["placed_at"].min().to_period("M").end_time.normalize()
    per_order = lines["amount_cents"].astype("int64").groupby(lines["order_id"]).sum() / 100
    end = day + pd.Timedelta(days=1)
    lost_then = ((o["cancelled_at"] < end) | (o["returned_at"] < end)).to_numpy()
    kept = o[~lost_then]
    month = kept["placed_at"].dt.to_period("M").dt.start_time
    expected = per_order.reindex(kept["order_id"]).groupby(month.to_numpy()).sum()
    known = sales_series(shop, as_of=day)
    np.testing.assert_allclose(known.to_numpy(), expected.reindex(known.index).fillna(0),
                               atol=0.05)
    # the order returned after that day still counted as a sale in its month, as it did then
    first = day.to_period("M").start_time
    assert known[first] > sales_series(shop)[first]
