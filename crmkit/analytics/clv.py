"""Customer lifetime value: BG/NBD purchases and Gamma-Gamma spend, fitted by maximum likelihood.

The "buy till you die" models read the summary of
:func:`crmkit.analytics.rfm.rfm_summary` (``frequency``, ``recency``, ``T``,
``monetary_value``):

* :class:`BetaGeo` (Fader, Hardie and Lee 2005, "Counting your customers the
  easy way"): while alive a customer buys at a Poisson rate (Gamma(r, alpha)
  across customers) and after each purchase drops out with a probability p
  (Beta(a, b) across customers). It predicts the purchases of each customer
  over a horizon and the probability that they are still alive.
* :class:`ParetoNBD` (Schmittlein, Morrison and Colombo 1987): the same
  purchases, but customers may leave at any time (even after one purchase);
  slower to fit, and often better at telling who is still active.
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
from collections.abc import Callable, Sequence
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize
from scipy.special import digamma, gammaln, hyp2f1
from sklearn.base import BaseEstimator

from ..errors import ModelError, ParameterError, check_fitted

__all__ = ["BetaGeo", "CappedBetaGeo", "ModifiedBetaGeo", "ParetoNBD", "GammaGamma",
           "customer_lifetime_value", "NotIdentifiedError", "NoRepeatBuyersError",
           "NonConvergenceError", "PurchaseModel"]

Floats = npt.NDArray[np.float64]
#: Parameters as the likelihoods read them: a tuple of floats or the array of the optimiser.
_Params = Sequence[float] | Floats
#: Mean negative log-likelihood over log-parameters, with its gradient (for BFGS).
_NegLL = Callable[[Floats], tuple[Any, Any]]
#: The mean negative log-likelihood alone (for the Nelder-Mead polish).
_Value = Callable[[Floats], Any]
#: Builds an objective from the compressed summary (x, t_x, T, weights, customers).
_Builder = Callable[[Floats, Floats, Floats, Floats, Any], Any]


class NotIdentifiedError(ModelError):
    """The data cannot pin down a parameter: the likelihood keeps rising as it runs off.

    ``parameter`` names it (``"a"``, ``"s"``...) and ``direction`` says where it
    runs (``"infinity"`` or ``"zero"``), so a caller can react to the kind of
    failure without reading the message.
    """

    def __init__(self, message: str, *, model: str, parameter: str, direction: str) -> None:
        super().__init__(message)
        self.model, self.parameter, self.direction = model, parameter, direction


class NoRepeatBuyersError(ModelError):
    """Nobody bought twice (or nobody has any history yet): nothing to learn a model from."""


class NonConvergenceError(ModelError):
    """The optimiser found no parameters at which the likelihood is finite."""


def _column(X: pd.DataFrame, name: str, model: str) -> np.ndarray:
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


def _summary_arrays(X: pd.DataFrame, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


#: Column of a summary holding how many customers each row stands for (optional): a
#: table of counts per distinct (frequency, recency, T) fits as the customers it counts.
WEIGHT = "customers"


def _weights(X: pd.DataFrame, model: str) -> np.ndarray:
    """How many customers each row of ``X`` stands for: its ``customers`` column, or 1.

    >>> import pandas as pd
    >>> _weights(pd.DataFrame({"frequency": [1, 0], "customers": [3, 2]}), "BG/NBD").tolist()
    [3.0, 2.0]
    """
    if not isinstance(X, pd.DataFrame) or WEIGHT not in X.columns:
        return np.ones(len(X), dtype=np.float64)
    w = _column(X, WEIGHT, model)
    if (w < 1).any() or (w != np.round(w)).any():
        raise ParameterError(f"column {WEIGHT!r} must hold whole numbers of customers, 1 or "
                             "more per row.")
    return w


def _compress(*cols: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Distinct rows of the columns and how many customers share each (the weights).

    With ``weights`` (customers per row) a row counts as that many customers, so a table
    of counts compresses to the same arrays as the customers it counts.

    >>> [a.tolist() for a in _compress(np.array([2., 0., 2.]), weights=np.array([1., 4., 2.]))]
    [[0.0, 2.0], [4.0, 3.0]]
    """
    stacked = np.column_stack(cols)
    if weights is None:
        uniq, counts = np.unique(stacked, axis=0, return_counts=True)
        return (*(uniq[:, i] for i in range(uniq.shape[1])), counts.astype(np.float64))
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=weights, minlength=len(uniq))
    return (*(uniq[:, i] for i in range(uniq.shape[1])), counts.astype(np.float64))


def _maximise(negll: _NegLL, start: np.ndarray, model: str, value: _Value | None = None,
              caps: dict[int, float] | None = None,
              names: tuple[str, ...] = ()) -> optimize.OptimizeResult:
    """Minimise ``negll`` (value and gradient) over log-parameters; fail clearly.

    ``value`` (the value alone) is used to polish with Nelder-Mead when BFGS
    stops on precision loss away from a flat gradient.
    """
    value = value if value is not None else (lambda z: negll(z)[0])
    res: Any
    with np.errstate(all="ignore"):
        res = optimize.minimize(negll, start, jac=True, method="BFGS",
                                options={"gtol": 1e-9, "maxiter": 1000})
        flat = np.all(np.abs(res.jac) < 1e-6) if res.jac is not None else False
        capped = any(res.x[i] > cap - 0.05 for i, cap in (caps or {}).items())
        if not res.success and np.isfinite(res.fun) and not flat and not capped:
            polish = optimize.minimize(value, res.x, method="Nelder-Mead",
                                       options={"xatol": 1e-9, "fatol": 1e-13,
                                                "maxiter": 4000, "maxfev": 1500})
            if polish.fun <= res.fun:
                res = polish
    if not np.isfinite(res.fun) or not np.all(np.isfinite(res.x)):
        raise NonConvergenceError(
            f"{model} could not be fitted: the likelihood is not finite at any parameters "
            "tried; check that the summary comes from real purchases.")
    if np.any(np.abs(res.x) > 15):
        i = int(np.argmax(np.abs(res.x)))
        direction = "infinity" if res.x[i] > 0 else "zero"
        name = names[i] if i < len(names) else f"parameter {i + 1}"
        raise NotIdentifiedError(
            f"{model} cannot be identified from these data: {name} runs off to {direction} "
            f"(log-parameters {np.round(res.x, 2)}); the shop needs more customers, more "
            "repeat purchases or a longer history.",
            model=model, parameter=name, direction=direction)
    return res


class _PurchaseModel(BaseEstimator):  # type: ignore[misc]  # scikit-learn has no types
    """What BG/NBD and Pareto/NBD share: the summary they read, the fit, the checks."""

    _NAME = ""
    _PARAMS: tuple[str, ...] = ()
    _LOG_CAPS: dict[int, float] = {}  # parameter index -> largest log-value searched
    _CAP_REASON = ""

    def __init__(self, start: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)):
        self.start = start

    def _arrays(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _summary_arrays(X, self._NAME)

    def _fit_summary(self, X: pd.DataFrame, negll_for: _Builder,
                     value_for: _Builder | None = None) -> Self:
        """Check ``X``, maximise the likelihood and store the estimates; return ``self``."""
        x, tx, T = self._arrays(X)
        n = _weights(X, self._NAME)
        if not (x > 0).any():
            raise NoRepeatBuyersError(
                f"{self._NAME} cannot be fitted: no customer bought more than once, so nothing "
                "tells how often customers buy or when they leave; wait for repeat purchases or "
                "use a longer period (an earlier start or a later as_of)."
            )
        if (T <= 0).all():
            raise NoRepeatBuyersError(
                f"{self._NAME} cannot be fitted: every customer's T is 0 (as_of is the day of "
                "their first purchase); choose a later as_of.")
        ux, utx, uT, w = _compress(x, tx, T, weights=n)
        total = w.sum()
        value = value_for(ux, utx, uT, w, total) if value_for else None
        start = np.log(np.asarray(self.start, dtype=np.float64))
        res = _maximise(negll_for(ux, utx, uT, w, total), start, self._NAME, value,
                        self._LOG_CAPS, self._PARAMS)
        for i, cap in self._LOG_CAPS.items():
            if res.x[i] > cap - 0.05:
                raise NotIdentifiedError(
                    f"{self._NAME} cannot be identified from these data: {self._PARAMS[i]} "
                    f"runs off to infinity (the {self._CAP_REASON}); use BetaGeo instead, or "
                    "a longer history.",
                    model=self._NAME, parameter=self._PARAMS[i], direction="infinity")
        self.params_ = dict(zip(self._PARAMS, map(float, np.exp(res.x)), strict=True))
        self.log_likelihood_ = float(-res.fun * total)
        self.n_customers_ = int(n.sum())
        self.n_repeat_ = int(n[x > 0].sum())
        return self

    def _check(self) -> tuple[float, ...]:
        check_fitted(self, "params_")
        return tuple(self.params_[k] for k in self._PARAMS)

    def log_likelihood(self, X: pd.DataFrame) -> np.ndarray:
        """Log-likelihood of each customer of ``X`` under the fitted parameters."""
        out: np.ndarray = self._loglik(self._check(), *self._arrays(X))
        return out

    def score(self, X: pd.DataFrame, y: object = None) -> float:
        """Mean log-likelihood per customer (higher is better), as scikit-learn expects."""
        return float(self.log_likelihood(X).mean())

    def probability_alive(self, X: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still alive at the end of their ``T``."""
        return pd.Series(self._p_alive(*self._arrays(X)), index=X.index,
                         name="probability_alive")


class BetaGeo(_PurchaseModel):
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
    A ``customers`` column, when present, says how many customers each row stands
    for: a table of counts per distinct (frequency, recency, T), as
    :func:`crmkit.analytics.spark_models.btyd_inputs` computes it, gives the fit
    of the customers it counts.
    A summary without any repeat buyer cannot identify the model:

    >>> import pandas as pd
    >>> once = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [5.0, 9.0]})
    >>> BetaGeo().fit(once)
    Traceback (most recent call last):
    ...
    crmkit.analytics.clv.NoRepeatBuyersError: BG/NBD cannot be fitted: no customer bought more...
    """

    _NAME = "BG/NBD"
    _PARAMS = ("r", "alpha", "a", "b")

    # -- likelihood -----------------------------------------------------------------
    @staticmethod
    def _loglik(params: _Params, x: Floats, tx: Floats, T: Floats) -> Any:
        r, alpha, a, b = params
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + T)
        repeat = x > 0
        a4 = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
                      - (r + x) * np.log(alpha + tx), -np.inf)
        return a1 + a2 + np.logaddexp(a3, a4)

    @staticmethod
    def _loglik_grad(params: _Params, x: Floats, tx: Floats, T: Floats) -> tuple[Any, Any]:
        """Log-likelihood per row and its gradient in (r, alpha, a, b), one row each."""
        r, alpha, a, b = params
        repeat = x > 0
        log_aT, log_atx = np.log(alpha + T), np.log(alpha + tx)
        bx1 = np.where(repeat, b + x - 1, 1.0)
        a3 = -(r + x) * log_aT
        a4 = np.where(repeat, np.log(a) - np.log(bx1) - (r + x) * log_atx, -np.inf)
        lse = np.logaddexp(a3, a4)
        w3, w4 = np.exp(a3 - lse), np.exp(a4 - lse)
        ll = (gammaln(r + x) - gammaln(r) + r * np.log(alpha)
              + gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x) + lse)
        d_ab = digamma(a + b) - digamma(a + b + x)
        grad = np.stack([
            digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_aT - w4 * log_atx,
            r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx)),
            d_ab + w4 / a,
            d_ab + digamma(b + x) - digamma(b) - w4 / bx1,
        ])
        return ll, grad

    def fit(self, X: pd.DataFrame, y: object = None) -> Self:
        """Fit r, alpha, a, b by maximum likelihood on the summary ``X``; return ``self``."""

        def negll_for(ux: Floats, utx: Floats, uT: Floats, w: Floats, total: Any) -> _NegLL:
            def negll(logp: Floats) -> tuple[Any, Any]:
                params = np.exp(logp)
                ll, grad = self._loglik_grad(params, ux, utx, uT)
                value = -(w @ ll) / total
                if not np.isfinite(value):
                    return 1e300, np.zeros_like(logp)
                return value, -(grad @ w) * params / total
            return negll

        return self._fit_summary(X, negll_for)

    # -- predictions (P(alive) is 1 for one-time buyers: the BG/NBD only lets a customer
    # -- drop out right after a repeat purchase)
    def _p_alive(self, x: Floats, tx: Floats, T: Floats) -> Any:
        r, alpha, a, b = self._check()
        repeat = x > 0
        with np.errstate(divide="ignore"):
            log_odds = np.where(
                repeat,
                np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)),
                -np.inf)
        return np.exp(-np.logaddexp(0.0, log_odds))

    def expected_purchases(self, X: pd.DataFrame, t: float) -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units (conditional)."""
        t = _horizon(t)
        x, tx, T = self._arrays(X)
        r, alpha, a, b = self._check()
        z = t / (alpha + T + t)
        log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
        term = 1.0 - np.exp(log_ratio) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        value = (a + b + x - 1) / (a - 1) * term * self._p_alive(x, tx, T)
        return pd.Series(value, index=X.index, name="expected_purchases")

    def expected_purchases_new(self, t: npt.ArrayLike) -> np.ndarray:
        """Expected repeat purchases of a new customer within ``t`` of their first purchase.

        ``t`` may be an array; it is what the tracking plot sums over a cohort.
        """
        r, alpha, a, b = self._check()
        t = np.asarray(t, dtype=np.float64)
        if (t < 0).any():
            raise ParameterError("t must be >= 0 (time since the first purchase).")
        z = t / (alpha + t)
        out: np.ndarray = (a + b - 1) / (a - 1) * (
            1.0 - np.exp(r * (np.log(alpha) - np.log(alpha + t))) * hyp2f1(r, b, a + b - 1, z))
        return out


class ModifiedBetaGeo(_PurchaseModel):
    """The modified BG/NBD (Batislam, Denizel and Filiztekin 2007; Wagner and Hoppe 2008).

    The BG/NBD with one change that matters for real shops: a customer may drop
    out *right after the first purchase* too (with the same probability p as
    after each repeat purchase), so a one-time buyer seen long ago is probably
    gone, where the BG/NBD keeps their P(alive) at 1. Same parameters
    (r, alpha, a, b), same interface as :class:`BetaGeo`.

    The likelihood of a customer with ``x`` repeat purchases, the last at
    ``t_x``, observed for ``T`` (Batislam et al. 2007, appendix A)::

        L = B(a, b + x + 1) / B(a, b) * Gamma(r + x) alpha^r / Gamma(r)
            * [ (alpha + T)^-(r+x) + a / (b + x) * (alpha + t_x)^-(r+x) ]

    >>> from crmkit.dataset.cdnow import load_cdnow, CALIBRATION_END
    >>> from crmkit.analytics.rfm import summary_from_transactions
    >>> cal = summary_from_transactions(load_cdnow("sample"), as_of=CALIBRATION_END,
    ...                                 unit="weeks")
    >>> mbg = ModifiedBetaGeo().fit(cal)
    >>> [round(v, 3) for v in mbg.params_.values()], round(mbg.log_likelihood_, 1)
    ([0.525, 6.183, 0.891, 1.614], -9582.1)
    >>> one_timer = cal[cal["frequency"] == 0].head(1)
    >>> bool(mbg.probability_alive(one_timer).iloc[0] < 1)
    True
    """

    _NAME = "MBG/NBD"
    _PARAMS = ("r", "alpha", "a", "b")

    @staticmethod
    def _loglik_grad(params: _Params, x: Floats, tx: Floats, T: Floats) -> tuple[Any, Any]:
        """Log-likelihood per row and its gradient in (r, alpha, a, b), one row each."""
        r, alpha, a, b = params
        log_aT, log_atx = np.log(alpha + T), np.log(alpha + tx)
        a3 = -(r + x) * log_aT
        a4 = np.log(a) - np.log(b + x) - (r + x) * log_atx
        lse = np.logaddexp(a3, a4)
        w3, w4 = np.exp(a3 - lse), np.exp(a4 - lse)
        ll = (gammaln(r + x) - gammaln(r) + r * np.log(alpha)
              + gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
              + lse)
        d_ab = digamma(a + b) - digamma(a + b + x + 1)
        grad = np.stack([
            digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_aT - w4 * log_atx,
            r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx)),
            d_ab + w4 / a,
            d_ab + digamma(b + x + 1) - digamma(b) - w4 / (b + x),
        ])
        return ll, grad

    @classmethod
    def _loglik(cls, params: _Params, x: Floats, tx: Floats, T: Floats) -> Any:
        return cls._loglik_grad(params, x, tx, T)[0]

    def fit(self, X: pd.DataFrame, y: object = None) -> Self:
        """Fit r, alpha, a, b by maximum likelihood on the summary ``X``; return ``self``."""
        return self._fit_summary(X, lambda ux, utx, uT, w, total: _analytic_negll(
            self._loglik_grad, ux, utx, uT, w, total))

    def _p_alive(self, x: Floats, tx: Floats, T: Floats) -> Any:
        r, alpha, a, b = self._check()
        log_odds = (np.log(a) - np.log(b + x)
                    + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        return np.exp(-np.logaddexp(0.0, log_odds))

    def expected_purchases(self, X: pd.DataFrame, t: float) -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units (conditional)."""
        t = _horizon(t)
        x, tx, T = self._arrays(X)
        r, alpha, a, b = self._check()
        z = t / (alpha + T + t)
        log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
        term = 1.0 - np.exp(log_ratio) * hyp2f1(r + x, b + x + 1, a + b + x, z)
        value = (a + b + x) / (a - 1) * term * self._p_alive(x, tx, T)
        return pd.Series(value, index=X.index, name="expected_purchases")

    def expected_purchases_new(self, t: npt.ArrayLike) -> np.ndarray:
        """Expected repeat purchases of a new customer within ``t`` of their first purchase."""
        r, alpha, a, b = self._check()
        t = np.asarray(t, dtype=np.float64)
        if (t < 0).any():
            raise ParameterError("t must be >= 0 (time since the first purchase).")
        out: np.ndarray = b / (a - 1) * (1.0 - hyp2f1(r, b + 1, a + b, t / (alpha + t))
                                         * np.exp(r * (np.log(alpha) - np.log(alpha + t))))
        return out


def _analytic_negll(loglik_grad: Callable[[Floats, Floats, Floats, Floats], tuple[Any, Any]],
                    ux: Floats, utx: Floats, uT: Floats, w: Floats, total: Any) -> _NegLL:
    """Mean negative log-likelihood over log-parameters and its gradient, for BFGS."""
    def negll(logp: Floats) -> tuple[Any, Any]:
        params = np.exp(logp)
        ll, grad = loglik_grad(params, ux, utx, uT)
        value = -(w @ ll) / total
        if not np.isfinite(value):
            return 1e300, np.zeros_like(logp)
        return value, -(grad @ w) * params / total
    return negll


class CappedBetaGeo(BetaGeo):
    """BG/NBD that still gives an answer when the customers drop out alike.

    :class:`BetaGeo` refuses a fit whose dropout
    parameters ``a`` and ``b`` run off to infinity: the data then say that
    every customer has the *same* chance of leaving after a purchase
    (``a / (a + b)``), with no spread between customers. The limit is a
    perfectly good model, so this adapter fits it instead, by maximum
    likelihood with every log-parameter kept within ``±cap``, and sets
    ``capped_`` so a report can say so. When the plain fit works, it is
    used unchanged (``capped_`` is False).
    """

    def __init__(self, start: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
                 cap: float = 10.0):
        self.start = start
        self.cap = cap

    def fit(self, X: pd.DataFrame, y: object = None) -> Self:
        try:
            super().fit(X)
            self.capped_ = False
            return self
        except NotIdentifiedError as err:
            if err.direction != "infinity":
                raise
        names = ("r", "alpha", "a", "b")
        n = _weights(X, self._NAME)

        def negll(logp: Floats) -> float:
            self.params_ = dict(zip(names, np.exp(logp), strict=True))
            value = -float(n @ self.log_likelihood(X))
            return value if np.isfinite(value) else 1e300

        with np.errstate(all="ignore"):
            res = optimize.minimize(negll, np.log(np.asarray(self.start, dtype=float)),
                                    method="L-BFGS-B", bounds=[(-self.cap, self.cap)] * 4)
        if not np.isfinite(res.fun):
            raise NonConvergenceError("BG/NBD could not be fitted even with capped parameters; "
                                      "the shop needs more customers or repeat purchases.")
        self.params_ = dict(zip(names, map(float, np.exp(res.x)), strict=True))
        self.log_likelihood_ = float(-res.fun)
        self.n_customers_ = int(n.sum())
        self.n_repeat_ = int(n[X["frequency"].to_numpy() > 0].sum())
        self.capped_ = True
        return self


class ParetoNBD(_PurchaseModel):
    """The Pareto/NBD model (Schmittlein, Morrison and Colombo 1987).

    Like :class:`BetaGeo`, but a customer may leave at any moment, not only
    right after a purchase: the lifetime is exponential with a rate that is
    Gamma(s, beta) across customers. It has the same methods as
    :class:`BetaGeo`; its likelihood needs the Gauss hypergeometric function,
    evaluated in log space (Fader and Hardie's 2005 note on the Pareto/NBD
    likelihood). On CDNOW it gives the published r 0.55, alpha 10.58, s 0.61,
    beta 11.67 (Fader, Hardie and Lee 2005).

    Parameters
    ----------
    start : tuple of 4 floats
        Starting values of (r, alpha, s, beta) for the optimiser.
    """

    _NAME = "Pareto/NBD"
    _PARAMS = ("r", "alpha", "s", "beta")
    # s -> infinity with s / beta fixed is the limit where every customer has the same dropout
    # rate: the likelihood goes flat and the hypergeometric terms grow slow, so stop at 50
    _LOG_CAPS = {2: float(np.log(50.0))}
    _CAP_REASON = "dropout rate hardly varies between customers"

    @staticmethod
    def _log_a0(params: _Params, x: Floats, tx: Floats, T: Floats) -> Any:
        r, alpha, s, beta = params
        rsx = r + s + x
        if alpha >= beta:
            top, second, diff = alpha, s + 1, alpha - beta
        else:
            top, second, diff = beta, r + x, beta - alpha
        t1 = np.log(hyp2f1(rsx, second, rsx + 1, diff / (top + tx))) - rsx * np.log(top + tx)
        t2 = np.log(hyp2f1(rsx, second, rsx + 1, diff / (top + T))) - rsx * np.log(top + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = t1 + np.log1p(-np.exp(np.minimum(t2 - t1, 0.0)))
        return np.where(tx >= T, -np.inf, out)

    @classmethod
    def _loglik(cls, params: _Params, x: Floats, tx: Floats, T: Floats) -> Any:
        r, alpha, s, beta = params
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        gone = np.log(s) - np.log(r + s + x) + cls._log_a0(params, x, tx, T)
        return head + np.logaddexp(alive, gone)

    def fit(self, X: pd.DataFrame, y: object = None) -> Self:
        """Fit r, alpha, s, beta by maximum likelihood on the summary ``X``; return ``self``.

        The gradient is taken by central differences (the hypergeometric terms
        have no cheap derivative in their parameters).
        """

        cap = self._LOG_CAPS[2]

        def value_for(ux: Floats, utx: Floats, uT: Floats, w: Floats, total: Any) -> _Value:
            def value(logp: Floats) -> Any:
                if logp[2] > cap or np.abs(logp).max() > 15:
                    return 1e300
                v = -(w @ self._loglik(np.exp(logp), ux, utx, uT)) / total
                return v if np.isfinite(v) else 1e300
            return value

        def negll_for(ux: Floats, utx: Floats, uT: Floats, w: Floats, total: Any) -> _NegLL:
            value = value_for(ux, utx, uT, w, total)

            def negll(logp: Floats) -> tuple[Any, Any]:
                h = 1e-7
                grad = np.array([(value(logp + h * e) - value(logp - h * e)) / (2 * h)
                                 for e in np.eye(len(logp))])
                return value(logp), grad
            return negll

        return self._fit_summary(X, negll_for, value_for)

    def _p_alive(self, x: Floats, tx: Floats, T: Floats) -> Any:
        r, alpha, s, beta = params = self._check()
        log_odds = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T)
                    + s * np.log(beta + T) + self._log_a0(params, x, tx, T))
        return np.exp(-np.logaddexp(0.0, log_odds))

    def expected_purchases(self, X: pd.DataFrame, t: float) -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units (conditional)."""
        t = _horizon(t)
        x, tx, T = self._arrays(X)
        r, alpha, s, beta = self._check()
        value = ((r + x) * (beta + T) / (alpha + T)
                 * _growth(s - 1, np.log(beta + T + t) - np.log(beta + T))
                 * self._p_alive(x, tx, T))
        return pd.Series(value, index=X.index, name="expected_purchases")

    def expected_purchases_new(self, t: npt.ArrayLike) -> np.ndarray:
        """Expected repeat purchases of a new customer within ``t`` of their first purchase."""
        r, alpha, s, beta = self._check()
        t = np.asarray(t, dtype=np.float64)
        if (t < 0).any():
            raise ParameterError("t must be >= 0 (time since the first purchase).")
        out: np.ndarray = r * beta / alpha * _growth(s - 1, np.log(beta + t) - np.log(beta))
        return out


#: Any of the fitted purchase models (what the model choice and the CLV interval accept).
PurchaseModel = BetaGeo | ModifiedBetaGeo | ParetoNBD


def _growth(k: float, log_ratio: Any) -> Any:
    """``(1 - exp(-k * log_ratio)) / k``, and its limit ``log_ratio`` when k is 0."""
    if abs(k) < 1e-9:
        return log_ratio
    return -np.expm1(-k * log_ratio) / k


class GammaGamma(BaseEstimator):  # type: ignore[misc]  # scikit-learn has no types
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
    def _loglik(params: _Params, x: Floats, m: Floats) -> Any:
        p, q, v = params
        px = p * x
        return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
                + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + x * m))

    @staticmethod
    def _loglik_grad(params: _Params, x: Floats, m: Floats) -> tuple[Any, Any]:
        """Log-likelihood per row and its gradient in (p, q, v), one row each."""
        p, q, v = params
        px = p * x
        log_vxm = np.log(v + x * m)
        d_pq = digamma(px + q)
        ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
              + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * log_vxm)
        grad = np.stack([
            x * (d_pq - digamma(px) + np.log(m) + np.log(x) - log_vxm),
            d_pq - digamma(q) + np.log(v) - log_vxm,
            q / v - (px + q) / (v + x * m),
        ])
        return ll, grad

    def _arrays(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x = _column(X, "frequency", "Gamma-Gamma")
        m = _column(X, "monetary_value", "Gamma-Gamma")
        if len(x) == 0:
            raise ModelError("Gamma-Gamma got no customers: the summary is empty; use a shop "
                             "with purchases.")
        if (m < 0).any() or (x < 0).any():
            raise ParameterError("frequency and monetary_value must be >= 0; pass "
                                 "rfm_summary(data).")
        return x, m

    def fit(self, X: pd.DataFrame, y: object = None) -> Self:
        """Fit p, q and v (called gamma in the papers) by maximum likelihood; return ``self``."""
        x, m = self._arrays(X)
        n = _weights(X, "Gamma-Gamma")
        use = (x > 0) & (m > 0)
        if n[use].sum() < 2:
            raise ModelError(
                "Gamma-Gamma cannot be fitted: no customer has a repeat purchase of positive "
                f"value (found {int(n[use].sum())}; at least 2 are needed); wait for repeat "
                "purchases or use a longer period.")
        ux, um, w = _compress(x[use], m[use], weights=n[use])
        if len(np.unique(um)) < 2:
            raise ModelError("Gamma-Gamma cannot be fitted: every repeat buyer has the same "
                             "mean spend, so spend does not vary; there is nothing to model.")
        total = w.sum()

        def negll(logp: Floats) -> tuple[Any, Any]:
            params = np.exp(logp)
            ll, grad = self._loglik_grad(params, ux, um)
            value = -(w @ ll) / total
            if not np.isfinite(value):
                return 1e300, np.zeros_like(logp)
            return value, -(grad @ w) * params / total

        res = _maximise(negll, np.log(np.asarray(self.start, dtype=np.float64)), "Gamma-Gamma",
                        names=("p", "q", "v"))
        p, q, v = np.exp(res.x)
        if q <= 1:
            warnings.warn(f"Gamma-Gamma q={q:.3f} <= 1: the mean spend across customers is "
                          "infinite under this fit; expected spend is unreliable.",
                          stacklevel=2)
        self.params_ = {"p": float(p), "q": float(q), "v": float(v)}
        self.log_likelihood_ = float(-res.fun * total)
        self.n_customers_ = int(n[use].sum())
        self.n_left_out_ = int(n.sum() - n[use].sum())
        cov = np.cov(x[use], m[use], fweights=n[use].astype(np.int64))
        self.spend_frequency_corr_ = float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]))
        return self

    def expected_spend(self, X: pd.DataFrame) -> pd.Series:
        """Expected mean value of each customer's future purchases (currency of the summary).

        A weighted average of the customer's own mean and the shop's mean
        ``p v / (q - 1)``, weighted by how many purchases the customer made.
        """
        check_fitted(self, "params_")
        x, m = self._arrays(X)
        p, q, v = self.params_["p"], self.params_["q"], self.params_["v"]
        value = p * (v + x * m) / (p * x + q - 1)
        return pd.Series(value, index=X.index, name="expected_spend")

    def mean_spend(self) -> float:
        """Mean spend per purchase across customers, ``p v / (q - 1)``."""
        check_fitted(self, "params_")
        p, q, v = self.params_["p"], self.params_["q"], self.params_["v"]
        return float(p * v / (q - 1)) if q > 1 else float("inf")


def _horizon(t: float) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        t = float("nan")
    if not np.isfinite(t) or t <= 0:
        raise ParameterError(f"t={t!r} must be a positive number of time units (the "
                             "summary's unit: days or weeks).")
    return t



def customer_lifetime_value(
    purchases_model: PurchaseModel,
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
