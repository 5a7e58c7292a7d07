"""Sales forecasting: exponential smoothing chosen per shop, scored against naive rules.

The steps of an honest forecast:

1. :func:`sales_series` sums the shop's net sales per month (or week): orders
   that were cancelled or returned do not count, and a first or last period
   the data only partly covers is left out rather than shown as a slump.
2. :class:`SalesForecaster` fits every exponential-smoothing (ETS) model that
   the series can support (error, trend with or without damping, season) with
   statsmodels and keeps the one with the lowest AICc: trend and season are
   chosen per shop, not assumed. A season is tried only when the training data
   hold at least two full years (or cycles). It forecasts with prediction
   intervals. Monthly series are the natural case: a weekly series' yearly
   season has 52 states, which the AICc rarely judges worth their cost, so
   compare it with the seasonal naive rule.
3. :func:`holdout_scores` keeps the last periods aside, fits on the rest and
   scores the forecast against the two baselines every forecast must beat:
   *naive* (next month = this month) and *seasonal naive* (next July = last
   July), with MAE and MASE (MAE divided by the in-sample error of the naive
   rule: below 1 beats it).
4. :func:`factor_comparison` adds one factor of the marketing plan (the
   campaign budget per month, known in advance because it is planned) to a
   structural time-series model and compares it with the same model without
   the factor, on the same holdout.

>>> from crmkit.dataset.synth import generate
>>> data = generate("ice_cream", n_customers=400, start="2022-01-01", seed=5)
>>> y = sales_series(data)
>>> len(y), y.index.freqstr
(48, 'MS')
>>> scores = holdout_scores(y, holdout=12)
>>> list(scores.index)
['ets', 'naive', 'seasonal_naive']
>>> bool(scores.loc["ets", "mase"] < scores.loc["naive", "mase"])
True
"""

from __future__ import annotations

import numbers
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.statespace.structural import UnobservedComponents

from ..dataset.money import line_amounts
from ..errors import ParameterError, check_choice, check_fitted
from .rfm import partial_refunds

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData
    from ..dataset.days import DayLike


__all__ = [
    "FREQUENCIES",
    "MIN_TRAIN_PERIODS",
    "sales_series",
    "marketing_plan",
    "SalesForecaster",
    "FactorForecaster",
    "naive_forecast",
    "seasonal_naive_forecast",
    "mae",
    "mase",
    "mape",
    "holdout_scores",
    "factor_comparison",
]

#: Period lengths a series can have, with the length of their yearly cycle.
FREQUENCIES = {"MS": 12, "W-MON": 52}
_MIN_TRAIN = 8
#: The fewest periods a forecast learns from (fewer: the fit is refused).
MIN_TRAIN_PERIODS = _MIN_TRAIN


# ----------------------------------------------------------------------------- series
def _lost_by(orders: pd.DataFrame, as_of) -> np.ndarray:
    """Orders cancelled or returned as known on ``as_of`` (final statuses when None).

    An order cancelled or returned after ``as_of`` still counted as a sale on
    that day. A cancelled or returned order without the day it happened is
    taken as lost whatever the day (it cannot be dated, so it is never counted
    as a sale it may not have been).
    """
    final = orders["status"].isin(["cancelled", "returned"]).to_numpy()
    if as_of is None:
        return final
    day = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    lost = np.zeros(len(orders), dtype=bool)
    for column, status in (("cancelled_at", "cancelled"), ("returned_at", "returned")):
        when = orders[column] if column in orders else pd.Series(pd.NaT, index=orders.index)
        lost |= (when < day).to_numpy() | (
            (orders["status"] == status).to_numpy() & when.isna().to_numpy())
    return lost


def _net_orders(data: CRMData, as_of: DayLike | None = None) -> pd.DataFrame:
    orders = data.orders
    if len(orders) == 0:
        raise ParameterError(
            "data has no orders: there are no sales to forecast; give a shop with orders."
        )
    lines = data.order_lines
    cents = line_amounts(lines).astype(np.int64).groupby(lines["order_id"].to_numpy()).sum()
    lost = _lost_by(orders, as_of)
    kept = orders[~lost]
    # a partial refund (an order not returned whole) is not dated: netted whenever it counts
    refund = partial_refunds(kept)
    return pd.DataFrame({"placed_at": kept["placed_at"].to_numpy(),
                         "cents": cents.reindex(kept["order_id"].to_numpy(),
                                                fill_value=0).to_numpy() - refund})


def _period_bounds(data: CRMData, freq: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last period the data cover completely."""
    placed = data.orders["placed_at"]
    first = pd.Timestamp(data.manifest.get("start") or placed.min()).normalize()
    last = pd.Timestamp(data.manifest.get("end") or placed.max()).normalize()
    periods = pd.period_range(first, last, freq="M" if freq == "MS" else "W-SUN")
    full = [p for p in periods if p.start_time >= first and p.end_time.normalize() <= last]
    if not full:
        raise ParameterError(
            f"the data cover {first.date()} to {last.date()}, not one whole period of "
            f"freq={freq!r}; give a longer period of data or a shorter freq ('W-MON')."
        )
    return full[0].start_time, full[-1].start_time


def sales_series(data: CRMData, *, freq: str = "MS", as_of: DayLike | None = None) -> pd.Series:
    """Net sales per period: the lines' ``amount_cents`` (goods after every discount) less
    partial refunds; cancelled and returned orders left out.

    Only whole periods are kept: the first and last month (or week, ``freq="W-MON"``)
    of the data count only if the data cover all of their days. ``as_of``
    (a day) gives the series *as it was known that day*: an order cancelled or
    returned later still counts, as it did then; the series is the same length
    (later periods hold what had been sold by then). A forecast trained up to a
    cutoff must learn from the series as of that cutoff, or orders returned after
    it would vanish from its training months.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("boutique", n_customers=150, start="2024-01-10", end="2024-12-31")
    >>> y = sales_series(data)
    >>> str(y.index[0].date()), str(y.index[-1].date()), len(y)   # January is only partly covered
    ('2024-02-01', '2024-12-01', 11)
    """
    check_choice("freq", freq, FREQUENCIES)
    net = _net_orders(data, as_of)
    first, last = _period_bounds(data, freq)
    index = pd.date_range(first, last, freq=freq)
    period = net["placed_at"].dt.to_period("M" if freq == "MS" else "W-SUN").dt.start_time
    sums = net["cents"].groupby(period.to_numpy()).sum()
    y = sums.reindex(index, fill_value=0).astype(np.int64) / 100
    y.index.freq = freq
    y.index.name = "period"
    return y.rename("sales")


def marketing_plan(data: CRMData, *, freq: str = "MS", measure: str = "budget",
                   index: pd.DatetimeIndex | None = None) -> pd.Series:
    """The marketing plan per period: campaign budget (or contacts planned) spread over its days.

    A campaign's budget is shared equally among the days it runs, then summed
    per period, so a campaign over two months counts in both.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("bendita", n_customers=300, seed=2)
    >>> plan = marketing_plan(data)
    >>> bool(abs(plan.sum() - data.campaigns["budget"].sum()) < 0.01)
    True
    """
    check_choice("freq", freq, FREQUENCIES)
    check_choice("measure", measure, ["budget", "contacts"])
    camps = data.campaigns
    if index is None:
        first, last = _period_bounds(data, freq)
        index = pd.date_range(first, last, freq=freq)
    if measure == "budget":
        amount = camps["budget"].fillna(0).to_numpy(dtype=float)
    else:
        reach = data.campaign_contacts.groupby("campaign_id").size()
        amount = reach.reindex(camps["campaign_id"], fill_value=0).to_numpy(dtype=float)
    starts = camps["start_date"].dt.normalize()
    ends = camps["end_date"].dt.normalize()
    days, shares = [], []
    for s, e, a in zip(starts, ends, amount, strict=True):
        run = pd.date_range(s, e, freq="D")
        days.append(run)
        shares.append(np.full(len(run), a / max(len(run), 1)))
    if days:
        daily = pd.Series(np.concatenate(shares), index=days[0].append(days[1:]))
        period = daily.index.to_period("M" if freq == "MS" else "W-SUN").start_time
        plan = daily.groupby(period).sum()
    else:
        plan = pd.Series(dtype=float)
    out = plan.reindex(index, fill_value=0.0).astype(float)
    out.index.name = "period"
    return out.rename(measure)


# ----------------------------------------------------------------------------- checks
def _check_series(y, name: str = "y") -> pd.Series:
    if not isinstance(y, pd.Series) or not isinstance(y.index, pd.DatetimeIndex):
        raise ParameterError(f"{name} must be a pandas Series indexed by date, such as "
                             "crmkit.analytics.forecast.sales_series(data).")
    if y.isna().any():
        raise ParameterError(f"{name} has missing values at "
                             f"{', '.join(str(d.date()) for d in y.index[y.isna()][:3])}; "
                             "fill them (0 for periods without sales) before forecasting.")
    freq = y.index.freqstr or pd.infer_freq(y.index)
    if freq not in FREQUENCIES:
        raise ParameterError(f"{name} must be monthly ('MS') or weekly ('W-MON') with no gaps; "
                             "build it with sales_series(data, freq=...).")
    y = y.astype(float).copy()
    y.index.freq = freq
    return y


def _check_horizon(name: str, value, n: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ParameterError(f"{name}={value!r} must be a whole number of periods >= 1.")
    most = n - _MIN_TRAIN
    if value > most:
        raise ParameterError(
            f"{name}={value} leaves {n - value} of the {n} periods of data to learn from; a "
            f"forecast needs at least {_MIN_TRAIN}, so choose {name} <= {max(most, 0)} or give "
            "a longer period of data."
        )
    return int(value)


def _season(y: pd.Series, seasonal_periods) -> int:
    m = FREQUENCIES[y.index.freqstr] if seasonal_periods is None else seasonal_periods
    if not isinstance(m, numbers.Integral) or m < 2:
        raise ParameterError(f"seasonal_periods={m!r} must be a whole number >= 2 "
                             "(12 for months in a year).")
    return int(m)


# ----------------------------------------------------------------------------- ETS
class SalesForecaster(BaseEstimator):
    """Exponential smoothing (ETS) with the trend and season the data support, by AICc.

    Parameters
    ----------
    trend : {"auto", "none", "add", "damped"}
        ``"auto"`` tries all three and keeps the best.
    seasonal : {"auto", "none", "add", "mul"}
        ``"auto"`` tries a season only when the series holds two full cycles.
    seasonal_periods : int, optional
        Length of the cycle; 12 for monthly and 52 for weekly series by default.
    alpha : float
        1 - coverage of the prediction intervals (0.05: 95 % intervals).

    Attributes
    ----------
    model_ : statsmodels ETSResults of the chosen model
    spec_ : dict with the chosen ``error``, ``trend``, ``damped`` and ``seasonal``
    candidates_ : DataFrame of every model tried with its AICc, best first
    train_ : the series it was fitted on

    >>> idx = pd.date_range("2020-01-01", periods=36, freq="MS")
    >>> y = pd.Series(100 + 10 * np.sin(np.arange(36) * np.pi / 6) + np.arange(36), idx)
    >>> f = SalesForecaster().fit(y)
    >>> f.spec_["seasonal"] in ("add", "mul"), len(f.predict(6))
    (True, 6)
    """

    def __init__(self, *, trend: str = "auto", seasonal: str = "auto",
                 seasonal_periods: int | None = None, alpha: float = 0.05):
        self.trend = trend
        self.seasonal = seasonal
        self.seasonal_periods = seasonal_periods
        self.alpha = alpha

    def _specs(self, y: pd.Series, m: int) -> list[dict]:
        trends = {"auto": [None, "add", "damped"], "none": [None], "add": ["add"],
                  "damped": ["damped"]}[check_choice("trend", self.trend,
                                                     ["auto", "none", "add", "damped"])]
        positive = bool((y > 0).all())
        seasons = {"auto": [None, "add"] + (["mul"] if positive else []), "none": [None],
                   "add": ["add"], "mul": ["mul"]}[check_choice(
                       "seasonal", self.seasonal, ["auto", "none", "add", "mul"])]
        if len(y) < 2 * m:
            if self.seasonal in ("add", "mul"):
                raise ParameterError(
                    f"seasonal={self.seasonal!r} needs two full cycles ({2 * m} periods) to "
                    f"learn from; the series has {len(y)}. Use seasonal='auto' or 'none', or "
                    "a longer period of data."
                )
            seasons = [None]
        if "mul" in seasons and not positive:
            raise ParameterError("seasonal='mul' needs sales above 0 in every period; "
                                 "use seasonal='add'.")
        errors = ["add", "mul"] if positive else ["add"]
        # additive errors with a multiplicative season have infinite forecast variance
        # (Hyndman and Athanasopoulos, "Forecasting: principles and practice", 8.7): left out
        return [{"error": e, "trend": t, "seasonal": s}
                for e in errors for t in trends for s in seasons
                if not (e == "add" and s == "mul")]

    def fit(self, y: pd.Series) -> SalesForecaster:
        y = _check_series(y)
        if len(y) < _MIN_TRAIN:
            raise ParameterError(f"y has {len(y)} periods; a forecast needs at least "
                                 f"{_MIN_TRAIN}. Give a longer period of data.")
        if not 0 < self.alpha < 1:
            raise ParameterError(f"alpha={self.alpha!r} must be between 0 and 1 (0.05 gives "
                                 "95 % intervals).")
        m = _season(y, self.seasonal_periods)
        rows, best = [], None
        for spec in self._specs(y, m):
            fitted = _fit_ets(y, spec, m)
            if fitted is None:
                continue
            res, aicc = fitted
            rows.append({**spec, "aicc": aicc})
            if best is None or aicc < best[2]:
                best = (spec, res, aicc)
        if best is None:
            raise ParameterError("no exponential-smoothing model could be fitted to y; "
                                 "check that the series is not constant zero.")
        self.spec_ = {"error": best[0]["error"], "trend": best[0]["trend"] and "add",
                      "damped": best[0]["trend"] == "damped", "seasonal": best[0]["seasonal"]}
        self.model_ = best[1]
        self.candidates_ = (pd.DataFrame(rows).sort_values("aicc", kind="stable")
                            .reset_index(drop=True))
        self.seasonal_periods_ = m
        self.train_ = y
        return self

    def predict(self, horizon: int) -> pd.DataFrame:
        """Forecast ``horizon`` periods ahead: ``mean``, ``lower`` and ``upper`` bounds."""
        check_fitted(self, ("model_", "train_"))
        _check_ahead(horizon, len(self.train_))
        n = len(self.train_)
        pred = self.model_.get_prediction(start=n, end=n + int(horizon) - 1)
        frame = pred.summary_frame(alpha=self.alpha)
        out = pd.DataFrame({"mean": frame["mean"].to_numpy(),
                            "lower": frame["pi_lower"].to_numpy(),
                            "upper": frame["pi_upper"].to_numpy()},
                           index=_future_index(self.train_, int(horizon)))
        return out


def _check_ahead(horizon, n: int) -> None:
    if not isinstance(horizon, numbers.Integral) or isinstance(horizon, bool) or horizon < 1:
        raise ParameterError(f"horizon={horizon!r} must be a whole number of periods >= 1.")
    if horizon > n:
        raise ParameterError(
            f"horizon={horizon} is longer than the {n} periods the model learned from; so far "
            f"ahead a forecast is a guess. Choose horizon <= {n}, or fit on a longer history."
        )


def _future_index(y: pd.Series, horizon: int) -> pd.DatetimeIndex:
    idx = pd.date_range(y.index[-1], periods=horizon + 1, freq=y.index.freqstr)[1:]
    idx.name = "period"
    return idx


def _fit_ets(y: pd.Series, spec: dict, m: int):
    """Fit one ETS model; ``(results, AICc)``, or None when it cannot be fitted.

    The initial states come from statsmodels' heuristic decomposition when the
    series is long enough (fast), else they are estimated. The AICc is
    statsmodels' own (``ETSResults.aicc``), so the model chosen is the one
    statsmodels would choose among the same candidates.
    """
    heuristic = len(y) >= 10
    model = ETSModel(y, error=spec["error"], trend=spec["trend"] and "add",
                     damped_trend=spec["trend"] == "damped", seasonal=spec["seasonal"],
                     seasonal_periods=m if spec["seasonal"] else None,
                     initialization_method="heuristic" if heuristic else "estimated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = model.fit(disp=False, maxiter=2000)
        except (ValueError, np.linalg.LinAlgError):
            return None
    aicc = float(res.aicc)
    if not np.isfinite(res.llf) or not np.isfinite(aicc):
        return None
    return res, aicc


# ----------------------------------------------------------------------------- factor
class FactorForecaster(BaseEstimator):
    """A structural time-series model (trend, optional season) with or without one factor.

    statsmodels' ``UnobservedComponents`` with a local linear trend is the
    state-space form of Holt's exponential smoothing; a known factor (the
    planned campaign budget) enters as a regression term. With ``use_factor=False``
    the same model ignores the factor, so the two differ only in it.

    Attributes
    ----------
    model_ : statsmodels results; ``coef_`` : sales per unit of factor (NaN without it);
    pvalue_ : its p-value; ``seasonal_`` : whether a season was modelled.

    >>> idx = pd.date_range("2020-01-01", periods=30, freq="MS")
    >>> x = pd.Series(np.random.default_rng(0).choice([0.0, 50.0], 30), idx)
    >>> y = pd.Series(200 + np.arange(30) * 2.0 + 3 * x + np.tile([1.0, -1.0], 15), idx)
    >>> f = FactorForecaster().fit(y, x)
    >>> round(f.coef_, 1)
    3.0
    """

    def __init__(self, *, use_factor: bool = True, seasonal: str = "auto",
                 seasonal_periods: int | None = None, alpha: float = 0.05):
        self.use_factor = use_factor
        self.seasonal = seasonal
        self.seasonal_periods = seasonal_periods
        self.alpha = alpha

    def fit(self, y: pd.Series, factor: pd.Series | None = None) -> FactorForecaster:
        y = _check_series(y)
        check_choice("seasonal", self.seasonal, ["auto", "none", "add"])
        m = _season(y, self.seasonal_periods)
        seasonal = self.seasonal == "add" or (self.seasonal == "auto" and len(y) >= 2 * m)
        if seasonal and len(y) < 2 * m:
            raise ParameterError(f"seasonal='add' needs two full cycles ({2 * m} periods); "
                                 f"y has {len(y)}. Use seasonal='auto' or 'none'.")
        exog = None
        if self.use_factor:
            exog = _align_factor(factor, y.index, "factor")
            if float(exog.std()) == 0:
                raise ParameterError("factor does not vary over the training periods, so "
                                     "its effect cannot be learned; use a longer period or "
                                     "another factor.")
        model = UnobservedComponents(y, level="local linear trend",
                                     seasonal=m if seasonal else None,
                                     exog=None if exog is None else exog.to_frame("factor"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            self.model_ = model.fit(disp=False, maxiter=500)
        names = list(self.model_.model.param_names)
        if exog is not None:
            i = names.index("beta.factor")
            self.coef_ = float(self.model_.params.iloc[i])
            self.pvalue_ = float(self.model_.pvalues.iloc[i])
        else:
            self.coef_, self.pvalue_ = float("nan"), float("nan")
        self.seasonal_ = seasonal
        self.train_ = y
        return self

    def predict(self, horizon: int, factor: pd.Series | None = None) -> pd.DataFrame:
        """Forecast ``horizon`` periods, given the factor's planned values for them."""
        check_fitted(self, ("model_", "train_"))
        _check_ahead(horizon, len(self.train_))
        index = _future_index(self.train_, int(horizon))
        exog = None
        if self.use_factor:
            exog = _align_factor(factor, index, "factor").to_frame("factor")
        fc = self.model_.get_forecast(steps=int(horizon), exog=exog)
        frame = fc.summary_frame(alpha=self.alpha)
        return pd.DataFrame({"mean": frame["mean"].to_numpy(),
                             "lower": frame["mean_ci_lower"].to_numpy(),
                             "upper": frame["mean_ci_upper"].to_numpy()}, index=index)


def _align_factor(factor, index: pd.DatetimeIndex, name: str) -> pd.Series:
    if not isinstance(factor, pd.Series):
        raise ParameterError(f"{name} must be a pandas Series by period (e.g. "
                             "marketing_plan(data)); it is needed when use_factor=True.")
    missing = index.difference(factor.index)
    if len(missing):
        raise ParameterError(f"{name} has no value for {len(missing)} period(s), first "
                             f"{missing[0].date()}; give the planned value of every period "
                             f"from {index[0].date()} to {index[-1].date()}.")
    return factor.reindex(index).astype(float)


# ----------------------------------------------------------------------------- baselines
def naive_forecast(y: pd.Series, horizon: int) -> pd.Series:
    """Every future period equals the last one observed.

    >>> y = pd.Series([5.0, 7.0], pd.date_range("2024-01-01", periods=2, freq="MS"))
    >>> naive_forecast(y, 2).tolist()
    [7.0, 7.0]
    """
    y = _check_series(y)
    return pd.Series(float(y.iloc[-1]), index=_future_index(y, horizon), name="naive")


def seasonal_naive_forecast(y: pd.Series, horizon: int, *, seasonal_periods=None) -> pd.Series:
    """Every future period equals the same period one cycle earlier.

    >>> y = pd.Series(np.arange(24.0), pd.date_range("2024-01-01", periods=24, freq="MS"))
    >>> seasonal_naive_forecast(y, 3).tolist()
    [12.0, 13.0, 14.0]
    """
    y = _check_series(y)
    m = _season(y, seasonal_periods)
    if len(y) < m:
        raise ParameterError(f"a seasonal naive forecast needs one full cycle ({m} periods) "
                             f"of history; y has {len(y)}.")
    last = y.to_numpy()[-m:]
    values = last[np.arange(horizon) % m]
    return pd.Series(values, index=_future_index(y, horizon), name="seasonal_naive")


def mae(actual, predicted) -> float:
    """Mean absolute error.

    >>> mae([1, 2, 3], [2, 2, 5])
    1.0
    """
    return float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(predicted, float))))


def mape(actual, predicted) -> float:
    """Mean absolute percentage error (periods with zero sales left out), as a share.

    >>> mape([100, 200, 0], [110, 180, 5])
    0.1
    """
    a, p = np.asarray(actual, float), np.asarray(predicted, float)
    ok = a != 0
    return float(np.mean(np.abs(a[ok] - p[ok]) / np.abs(a[ok]))) if ok.any() else float("nan")


def mase(actual, predicted, train, *, m: int = 1) -> float:
    """Mean absolute scaled error: MAE divided by the in-sample MAE of the (seasonal) naive rule.

    Below 1 the forecast beats what the naive rule achieved on the training data.

    >>> mase([10, 12], [11, 12], [8, 10, 9, 11])   # 0.5 / mean(2, 1, 2)
    0.3
    """
    tr = np.asarray(train, float)
    if len(tr) <= m:
        raise ParameterError(f"MASE with m={m} needs more than {m} training periods.")
    scale = float(np.mean(np.abs(tr[m:] - tr[:-m])))
    if scale == 0:
        return float("nan")
    return mae(actual, predicted) / scale


def _score(name, actual, predicted, train) -> dict:
    return {"method": name, "mae": mae(actual, predicted), "mase": mase(actual, predicted, train),
            "mape": mape(actual, predicted)}


def holdout_scores(y: pd.Series, *, holdout: int = 6, seasonal_periods: int | None = None,
                   return_forecasts: bool = False, known: pd.Series | None = None):
    """Fit on all but the last ``holdout`` periods; score ETS, naive and seasonal naive on them.

    MASE is scaled by the one-step naive error of the training data for all
    three methods, so the numbers compare directly. With ``return_forecasts``
    it also returns the forecasts (with ETS intervals) next to the actual values.
    ``known`` is the series as known at the end of the training periods
    (``sales_series(data, as_of=...)``): when given, every method learns from it,
    and is scored against ``y`` (the final figures).
    """
    y = _check_series(y)
    holdout = _check_horizon("holdout", holdout, len(y))
    train, test = _split_known(y, holdout, known)
    model = SalesForecaster(seasonal_periods=seasonal_periods).fit(train)
    fc = model.predict(holdout)
    forecasts = pd.DataFrame({"actual": test.to_numpy(), "ets": fc["mean"].to_numpy(),
                              "lower": fc["lower"].to_numpy(), "upper": fc["upper"].to_numpy(),
                              "naive": naive_forecast(train, holdout).to_numpy()},
                             index=test.index)
    m = model.seasonal_periods_
    rows = [_score("ets", test, forecasts["ets"], train),
            _score("naive", test, forecasts["naive"], train)]
    if len(train) >= m:
        forecasts["seasonal_naive"] = seasonal_naive_forecast(
            train, holdout, seasonal_periods=m).to_numpy()
        rows.append(_score("seasonal_naive", test, forecasts["seasonal_naive"], train))
    scores = pd.DataFrame(rows).set_index("method")
    scores.attrs["spec"] = dict(model.spec_)
    if return_forecasts:
        return scores, forecasts
    return scores


def _split_known(y: pd.Series, holdout: int, known: pd.Series | None):
    """Training and test periods; the training periods from ``known`` when given."""
    train, test = y.iloc[:-holdout], y.iloc[-holdout:]
    if known is not None:
        known = _check_series(known)
        if not known.index[:len(train)].equals(train.index):
            raise ParameterError("known must cover the same periods as y (the series as "
                                 "known at the cutoff, from sales_series(..., as_of=...)).")
        train = known.iloc[:len(train)]
    return train, test


def factor_comparison(y: pd.Series, factor: pd.Series, *, holdout: int = 6,
                      seasonal_periods: int | None = None, return_forecasts: bool = False,
                      known: pd.Series | None = None):
    """One structural model with and without ``factor``, scored on the last ``holdout`` periods.

    Returns one row per model: MAE, MASE, MAPE, AIC (on the training data), and
    the factor's coefficient and p-value. ``known``: as in :func:`holdout_scores`.
    """
    y = _check_series(y)
    holdout = _check_horizon("holdout", holdout, len(y))
    train, test = _split_known(y, holdout, known)
    rows, forecasts = [], pd.DataFrame({"actual": test.to_numpy()}, index=test.index)
    for name, use in (("without_factor", False), ("with_factor", True)):
        f = FactorForecaster(use_factor=use, seasonal_periods=seasonal_periods).fit(
            train, factor if use else None)
        fc = f.predict(holdout, factor if use else None)
        forecasts[name] = fc["mean"].to_numpy()
        forecasts[f"{name}_lower"] = fc["lower"].to_numpy()
        forecasts[f"{name}_upper"] = fc["upper"].to_numpy()
        rows.append({**_score(name, test, fc["mean"], train), "aic": float(f.model_.aic),
                     "coef": f.coef_, "pvalue": f.pvalue_})
    scores = pd.DataFrame(rows).set_index("method")
    if return_forecasts:
        return scores, forecasts
    return scores
