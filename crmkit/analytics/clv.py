"""Customer lifetime value: BG/NBD purchases and Gamma-Gamma spend, fitted by maximum likelihood.

The "buy till you die" models read the summary of
:func:`crmkit.analytics.rfm.rfm_summary` (``frequency``, ``recency``, ``T``,
``monetary_value``):

* :class:`BetaGeo` (Fader, Hardie and Lee 2005, "Counting your customers the
  easy way"): while alive a customer buys at a Poisson rate (Gamma(r, alpha)
  across customers) and after each purchase drops out with a probability p
  (Beta(a, b) across customers). It predicts the purchases of each customer
  over a horizon and the probability that they are still alive.
* :class:`GammaGamma` (Fader, Hardie and Lee 2005; Fader and Hardie 2013): the
  value of each purchase varies around a customer's mean spend, itself Gamma
  distributed across customers; it predicts each customer's mean spend,
  shrunk towards the shop's mean when the customer has few purchases.
* :func:`customer_lifetime_value` multiplies the two, month by month, and
  discounts the result.

Both are scikit-learn estimators (``fit`` returns ``self``; learned values end
in ``_``), fitted with scipy on the log of the parameters, with a vectorised
log-likelihood written in log space (``scipy.special.gammaln``, ``logaddexp``)
so that long purchase histories never overflow. On the CDNOW sample they give
the published estimates (the tests check them to the published digits):

>>> from crmkit.dataset.cdnow import load_cdnow, CALIBRATION_END
>>> from crmkit.analytics.rfm import summary_from_transactions
>>> cal = summary_from_transactions(load_cdnow("sample"), as_of=CALIBRATION_END,
...                                 unit="weeks")
>>> bg = BetaGeo().fit(cal)
>>> [round(v, 3) for v in bg.params_.values()], round(bg.log_likelihood_, 1)
([0.243, 4.414, 0.793, 2.426], -9582.4)
>>> gg = GammaGamma().fit(cal)
>>> [round(v, 2) for v in gg.params_.values()]
[6.25, 3.74, 15.44]
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import gammaln, hyp2f1
from sklearn.base import BaseEstimator

from ..errors import ModelError, ParameterError

__all__ = ["BetaGeo", "GammaGamma", "customer_lifetime_value"]


def _column(X, name: str, model: str) -> np.ndarray:
    if not isinstance(X, pd.DataFrame) or name not in X.columns:
        raise ParameterError(
            f"{model} needs a table with a {name!r} column; pass rfm_summary(data) "
            "(or summary_from_transactions(...))."
        )
    v = X[name].to_numpy(dtype=np.float64)
    if np.isnan(v).any():
        raise ParameterError(f"column {name!r} has missing values; {model} needs a value for "
                             "every customer.")
    return v


def _summary_arrays(X, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = _column(X, "frequency", model)
    tx = _column(X, "recency", model)
    T = _column(X, "T", model)
    if len(x) == 0:
        raise ModelError(f"{model} got no customers: the summary is empty (an empty shop, or "
                         "an as_of before the first purchase); use a shop with purchases.")
    bad = (x < 0) | (x != np.round(x)) | (tx < 0) | (tx > T + 1e-9) | (T < 0) | \
        ((x == 0) & (tx != 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError(
            f"row {X.index[i]!r} of the summary is impossible (frequency={x[i]}, "
            f"recency={tx[i]}, T={T[i]}): frequency must be a whole number >= 0, "
            "0 <= recency <= T, and recency 0 when frequency is 0."
        )
    return x, tx, T


def _compress(*cols: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct rows of the columns and how many customers share each (the weights)."""
    stacked = np.column_stack(cols)
    uniq, counts = np.unique(stacked, axis=0, return_counts=True)
    return (*(uniq[:, i] for i in range(uniq.shape[1])), counts.astype(np.float64))


def _maximise(negll, start: np.ndarray, model: str) -> optimize.OptimizeResult:
    """Minimise ``negll`` over log-parameters; polish with Nelder-Mead; fail clearly."""
    with np.errstate(all="ignore"):
        res = optimize.minimize(negll, start, method="BFGS", options={"gtol": 1e-10,
                                                                       "maxiter": 2000})
        res2 = optimize.minimize(negll, res.x, method="Nelder-Mead",
                                 options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
    best = res2 if res2.fun <= res.fun else res
    if not np.isfinite(best.fun) or not np.all(np.isfinite(best.x)):
        raise ModelError(f"{model} could not be fitted: the likelihood is not finite at any "
                         "parameters tried; check that the summary comes from real purchases.")
    if np.any(np.abs(best.x) > 15):
        raise ModelError(
            f"{model} cannot be identified from these data: a parameter runs off to "
            f"{'infinity' if best.x.max() > 15 else 'zero'} (log-parameters {np.round(best.x, 2)})"
            "; the shop needs more customers, more repeat purchases or a longer history."
        )
    return best


class BetaGeo(BaseEstimator):
    """The BG/NBD model of repeat purchases (Fader, Hardie and Lee 2005).

    Parameters
    ----------
    start : tuple of 4 floats
        Starting values of (r, alpha, a, b) for the optimiser.

    Attributes (after ``fit``)
    --------------------------
    params_ : dict
        Maximum-likelihood ``r``, ``alpha``, ``a``, ``b``.
    log_likelihood_ : float
        Log-likelihood at the estimates (summed over customers).
    n_customers_, n_repeat_ : int
        Customers fitted, and how many of them bought more than once.

    ``fit`` reads ``frequency``, ``recency`` and ``T`` (one time unit for both).
    A summary without any repeat buyer cannot identify the model:

    >>> import pandas as pd
    >>> once = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [5.0, 9.0]})
    >>> BetaGeo().fit(once)
    Traceback (most recent call last):
    ...
    crmkit.errors.ModelError: BG/NBD cannot be fitted: no customer bought more than once...
    """

    def __init__(self, start: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)):
        self.start = start

    # -- likelihood -----------------------------------------------------------------
    @staticmethod
    def _loglik(params, x, tx, T):
        r, alpha, a, b = params
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + T)
        repeat = x > 0
        a4 = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
                      - (r + x) * np.log(alpha + tx), -np.inf)
        return a1 + a2 + np.logaddexp(a3, a4)

    def fit(self, X, y=None):
        """Fit r, alpha, a, b by maximum likelihood on the summary ``X``; return ``self``."""
        x, tx, T = _summary_arrays(X, "BG/NBD")
        if not (x > 0).any():
            raise ModelError(
                "BG/NBD cannot be fitted: no customer bought more than once, so nothing tells "
                "how often customers buy or when they leave; wait for repeat purchases or use "
                "a longer period (an earlier start or a later as_of)."
            )
        if (T <= 0).all():
            raise ModelError("BG/NBD cannot be fitted: every customer's T is 0 (as_of is the "
                             "day of their first purchase); choose a later as_of.")
        ux, utx, uT, w = _compress(x, tx, T)
        total = w.sum()

        def negll(logp):
            ll = self._loglik(np.exp(logp), ux, utx, uT)
            value = -(w @ ll) / total
            return value if np.isfinite(value) else 1e300

        start = np.log(np.asarray(self.start, dtype=np.float64))
        res = _maximise(negll, start, "BG/NBD")
        r, alpha, a, b = np.exp(res.x)
        self.params_ = {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b)}
        self.log_likelihood_ = float(-res.fun * total)
        self.n_customers_ = int(len(x))
        self.n_repeat_ = int((x > 0).sum())
        return self

    def _check(self):
        if not hasattr(self, "params_"):
            raise ModelError("this BetaGeo model is not fitted yet; call .fit(summary) first.")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    # -- predictions -----------------------------------------------------------------
    def log_likelihood(self, X) -> np.ndarray:
        """Log-likelihood of each customer of ``X`` under the fitted parameters."""
        x, tx, T = _summary_arrays(X, "BG/NBD")
        return self._loglik(self._check(), x, tx, T)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per customer (higher is better), as scikit-learn expects."""
        return float(self.log_likelihood(X).mean())

    def probability_alive(self, X) -> pd.Series:
        """Probability that each customer is still alive at the end of their ``T``.

        1 for one-time buyers (the BG/NBD only lets a customer drop out right
        after a purchase); lower the longer a frequent buyer has been silent.
        """
        x, tx, T = _summary_arrays(X, "BG/NBD")
        p = self._p_alive(x, tx, T)
        return pd.Series(p, index=X.index, name="probability_alive")

    def _p_alive(self, x, tx, T):
        r, alpha, a, b = self._check()
        repeat = x > 0
        with np.errstate(divide="ignore"):
            log_odds = np.where(
                repeat,
                np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)),
                -np.inf)
        return np.exp(-np.logaddexp(0.0, log_odds))

    def expected_purchases(self, X, t: float) -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units (conditional)."""
        t = _horizon(t)
        x, tx, T = _summary_arrays(X, "BG/NBD")
        r, alpha, a, b = self._check()
        z = t / (alpha + T + t)
        log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
        term = 1.0 - np.exp(log_ratio) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        value = (a + b + x - 1) / (a - 1) * term * self._p_alive(x, tx, T)
        return pd.Series(value, index=X.index, name="expected_purchases")

    def expected_purchases_new(self, t) -> np.ndarray:
        """Expected repeat purchases of a new customer within ``t`` of their first purchase.

        ``t`` may be an array; it is what the tracking plot sums over a cohort.
        """
        r, alpha, a, b = self._check()
        t = np.asarray(t, dtype=np.float64)
        if (t < 0).any():
            raise ParameterError("t must be >= 0 (time since the first purchase).")
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (
            1.0 - np.exp(r * (np.log(alpha) - np.log(alpha + t))) * hyp2f1(r, b, a + b - 1, z))


class GammaGamma(BaseEstimator):
    """The Gamma-Gamma model of the value of purchases (Fader and Hardie 2013).

    Fitted on the customers with repeat purchases (``frequency > 0``) and a
    positive ``monetary_value`` (the mean value of those repeat purchases);
    ``n_customers_`` says how many, ``n_left_out_`` how many others the summary had.
    It assumes spend and frequency are independent: ``spend_frequency_corr_``
    reports their correlation among the fitted customers so it can be checked.

    Parameters
    ----------
    start : tuple of 3 floats
        Starting values of (p, q, v) for the optimiser.

    >>> import pandas as pd
    >>> GammaGamma().fit(pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]}))
    Traceback (most recent call last):
    ...
    crmkit.errors.ModelError: Gamma-Gamma cannot be fitted: no customer has a repeat ...
    """

    def __init__(self, start: tuple[float, float, float] = (1.0, 1.0, 1.0)):
        self.start = start

    @staticmethod
    def _loglik(params, x, m):
        p, q, v = params
        px = p * x
        return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
                + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + x * m))

    def _arrays(self, X):
        x = _column(X, "frequency", "Gamma-Gamma")
        m = _column(X, "monetary_value", "Gamma-Gamma")
        if len(x) == 0:
            raise ModelError("Gamma-Gamma got no customers: the summary is empty; use a shop "
                             "with purchases.")
        if (m < 0).any() or (x < 0).any():
            raise ParameterError("frequency and monetary_value must be >= 0; pass "
                                 "rfm_summary(data).")
        return x, m

    def fit(self, X, y=None):
        """Fit p, q and v (called gamma in the papers) by maximum likelihood; return ``self``."""
        x, m = self._arrays(X)
        use = (x > 0) & (m > 0)
        if use.sum() < 2:
            raise ModelError(
                "Gamma-Gamma cannot be fitted: no customer has a repeat purchase of positive "
                f"value (found {int(use.sum())}; at least 2 are needed); wait for repeat "
                "purchases or use a longer period.")
        ux, um, w = _compress(x[use], m[use])
        if len(np.unique(um)) < 2:
            raise ModelError("Gamma-Gamma cannot be fitted: every repeat buyer has the same "
                             "mean spend, so spend does not vary; there is nothing to model.")
        total = w.sum()

        def negll(logp):
            value = -(w @ self._loglik(np.exp(logp), ux, um)) / total
            return value if np.isfinite(value) else 1e300

        res = _maximise(negll, np.log(np.asarray(self.start, dtype=np.float64)), "Gamma-Gamma")
        p, q, v = np.exp(res.x)
        if q <= 1:
            warnings.warn(f"Gamma-Gamma q={q:.3f} <= 1: the mean spend across customers is "
                          "infinite under this fit; expected spend is unreliable.",
                          stacklevel=2)
        self.params_ = {"p": float(p), "q": float(q), "v": float(v)}
        self.log_likelihood_ = float(-res.fun * total)
        self.n_customers_ = int(use.sum())
        self.n_left_out_ = int(len(x) - use.sum())
        self.spend_frequency_corr_ = float(np.corrcoef(x[use], m[use])[0, 1])
        return self

    def expected_spend(self, X) -> pd.Series:
        """Expected mean value of each customer's future purchases (currency of the summary).

        A weighted average of the customer's own mean and the shop's mean
        ``p v / (q - 1)``, weighted by how many purchases the customer made.
        """
        if not hasattr(self, "params_"):
            raise ModelError("this GammaGamma model is not fitted yet; call .fit(summary) "
                             "first.")
        x, m = self._arrays(X)
        p, q, v = self.params_["p"], self.params_["q"], self.params_["v"]
        value = p * (v + x * m) / (p * x + q - 1)
        return pd.Series(value, index=X.index, name="expected_spend")

    def mean_spend(self) -> float:
        """Mean spend per purchase across customers, ``p v / (q - 1)``."""
        p, q, v = self.params_["p"], self.params_["q"], self.params_["v"]
        return p * v / (q - 1) if q > 1 else float("inf")


def _horizon(t) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        t = float("nan")
    if not np.isfinite(t) or t <= 0:
        raise ParameterError(f"t={t!r} must be a positive number of time units (the "
                             "summary's unit: days or weeks).")
    return t


def customer_lifetime_value(
    purchases_model: BetaGeo,
    spend_model: GammaGamma,
    X: pd.DataFrame,
    *,
    months: int = 12,
    unit_days: float = 1.0,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
) -> pd.Series:
    """Discounted value of each customer's purchases over the next ``months`` months.

    For each month i, the purchases the BG/NBD expects in that month times the
    spend the Gamma-Gamma expects, times ``margin``, divided by
    ``(1 + annual_discount_rate) ** (i / 12)``, summed over the months.
    ``unit_days`` is the summary's time unit in days (1 for ``unit="days"``,
    7 for ``"weeks"``).

    >>> from crmkit.dataset.cdnow import load_cdnow, CALIBRATION_END
    >>> from crmkit.analytics.rfm import summary_from_transactions
    >>> cal = summary_from_transactions(load_cdnow("sample"), as_of=CALIBRATION_END,
    ...                                 unit="weeks")
    >>> bg, gg = BetaGeo().fit(cal), GammaGamma().fit(cal)
    >>> clv = customer_lifetime_value(bg, gg, cal, months=12, unit_days=7)
    >>> bool((clv >= 0).all()), bool(clv.idxmax() in cal.index)
    (True, True)
    """
    if not isinstance(months, int | np.integer) or isinstance(months, bool) or months < 1:
        raise ParameterError(f"months={months!r} must be a whole number of 1 or more.")
    if not (0 <= annual_discount_rate < 10):
        raise ParameterError(f"annual_discount_rate={annual_discount_rate!r} must be a yearly "
                             "rate such as 0.10 for 10%.")
    if not (0 < margin <= 1):
        raise ParameterError(f"margin={margin!r} must be a share of the spend in (0, 1].")
    if not unit_days > 0:
        raise ParameterError(f"unit_days={unit_days!r} must be the summary's unit in days.")
    spend = spend_model.expected_spend(X).to_numpy()
    month = 365.25 / 12 / unit_days
    total = np.zeros(len(X))
    previous = np.zeros(len(X))
    for i in range(1, months + 1):
        cumulative = purchases_model.expected_purchases(X, i * month).to_numpy()
        total += (cumulative - previous) * spend * margin / (1 + annual_discount_rate) ** (i / 12)
        previous = cumulative
    return pd.Series(total, index=X.index, name="clv")
