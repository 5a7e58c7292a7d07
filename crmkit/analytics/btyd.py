"""Which buy-till-you-die model fits this shop, chosen on purchases it did not see.

* :func:`fit_problems` / :func:`check_fit`: a fitted model whose parameter sits
  at the edge of the range searched, or whose P(alive) is the same for the most
  and the least recent customers, describes no real shop: it is reported as
  "this model does not fit this shop" (:class:`DoesNotFitError`), never shown
  as a result.
* :func:`choose_model`: fits every candidate (:class:`~crmkit.analytics.clv.BetaGeo`,
  :class:`~crmkit.analytics.clv.ModifiedBetaGeo`,
  :class:`~crmkit.analytics.clv.ParetoNBD`) on the first part of the
  calibration period and scores each on the purchases of the last part (the
  *validation* window: mean absolute error of the predicted against the actual
  repeat purchases per customer). The lowest error wins; candidates whose error
  is within the bootstrap noise of the best (the 95 % interval of the paired
  difference contains 0) are a tie, broken by the higher log-likelihood. The
  chosen model is then refitted on the whole calibration period. The test
  period after the cutoff is never looked at.
* :func:`clv_interval`: customer lifetime value with an interval from the
  likelihood's curvature: the covariance of the maximum-likelihood estimates
  (the inverse Hessian of the log-likelihood, on the log-parameters) of both the
  purchase and the spend model, carried to each customer's CLV by the delta
  method.

>>> from crmkit.dataset.synth import generate
>>> data = generate("frozen_foods", n_customers=600, seed=11)
>>> choice = choose_purchase_model(data, cutoff="2025-06-30", validation_days=180)
>>> choice.chosen in choice.table.index
True
>>> sorted(choice.table.columns)[:3]
['actual_total', 'log_likelihood', 'mae']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import norm
from sklearn.base import clone

from ..errors import CRMKitError, ModelError, ParameterError
from .clv import (
    BetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    PurchaseModel,
    customer_lifetime_value,
)
from .rfm import even_scores, holdout_purchases, rfm_summary

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData
    from ..dataset.days import DayLike


__all__ = [
    "CANDIDATES",
    "LOG_BOUND",
    "DoesNotFitError",
    "fit_problems",
    "check_fit",
    "ModelChoice",
    "choose_model",
    "choose_purchase_model",
    "mae_difference_interval",
    "clv_interval",
]

#: The purchase models tried, by key (the keys the scoreboard and the catalog use).
CANDIDATES = {"bg_nbd": BetaGeo, "mbg_nbd": ModifiedBetaGeo, "pareto_nbd": ParetoNBD}

#: A log-parameter this far from 0 (a value above e^9.9 ~ 20,000 or below 5e-5) is at the
#: edge of what the optimiser searches: the data do not pin it down.
LOG_BOUND = 9.9

#: Smallest spread of mean P(alive) between the least and the most recent fifth of the
#: customers for P(alive) to tell them apart.
MIN_ALIVE_SPREAD = 0.02

_Model = TypeVar("_Model", bound=PurchaseModel)
_Fitted = TypeVar("_Fitted", bound=PurchaseModel | GammaGamma)


class DoesNotFitError(ModelError):
    """The fit finished but describes no real shop (``reasons`` says why, one line each)."""

    def __init__(self, message: str, *, model: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.model, self.reasons = model, list(reasons)


def fit_problems(model: PurchaseModel, X: pd.DataFrame) -> list[str]:
    """Why a fitted purchase model does not fit the shop of summary ``X`` (empty: it fits).

    Two signs, each one line: a parameter at the edge of the range searched
    (``|log parameter| >= LOG_BOUND``), and P(alive) that hardly differs
    between recency classes (customers scored 1 to 5 on time since their last
    purchase; the spread of the class means is below ``MIN_ALIVE_SPREAD``).

    >>> import pandas as pd
    >>> from crmkit.analytics.clv import BetaGeo
    >>> bg = BetaGeo()
    >>> bg.params_ = {"r": 0.5, "alpha": 20.0, "a": 1.4e-05, "b": 86745.0}
    >>> X = pd.DataFrame({"frequency": [0, 1, 3, 0, 2], "recency": [0.0, 50, 300, 0, 20],
    ...                   "T": [400.0, 350, 320, 30, 500]})
    >>> for line in fit_problems(bg, X):
    ...     print(line)
    a = 1.4e-05 is at the edge of the range searched: the data do not pin it down
    b = 8.67e+04 is at the edge of the range searched: the data do not pin it down
    P(alive) is the same for the most and the least recent customers (1 against 1)
    """
    problems = []
    for name, value in model.params_.items():
        if abs(np.log(value)) >= LOG_BOUND:
            problems.append(f"{name} = {value:.3g} is at the edge of the range searched: the "
                            "data do not pin it down")
    alive = model.probability_alive(X).to_numpy()
    since = (X["T"] - X["recency"]).to_numpy(dtype=float)
    classes = even_scores(since, higher_is_better=False)
    means = pd.Series(alive).groupby(classes).mean()
    if means.max() - means.min() < MIN_ALIVE_SPREAD:
        problems.append(f"P(alive) is the same for the most and the least recent customers "
                        f"({means.get(means.index.max(), np.nan):.3g} against "
                        f"{means.get(means.index.min(), np.nan):.3g})")
    return problems


def check_fit(model: _Model, X: pd.DataFrame) -> _Model:
    """``model`` if it fits the shop of ``X``; :class:`DoesNotFitError` saying why if not."""
    problems = fit_problems(model, X)
    if problems:
        name = type(model)._NAME
        raise DoesNotFitError(f"{name} does not fit this shop: " + "; ".join(problems) + ".",
                              model=name, reasons=problems)
    return model


def mae_difference_interval(err_a: npt.ArrayLike, err_b: npt.ArrayLike, *, n_boot: int = 400,
                            seed: int = 0,
                            level: float = 0.95) -> tuple[float, float]:
    """Bootstrap interval (over customers) of mean(err_a) - mean(err_b), paired.

    >>> lo, hi = mae_difference_interval([1.0, 2, 3, 4] * 50, [1.0, 2, 3, 4] * 50)
    >>> (lo, hi)
    (0.0, 0.0)
    """
    d = np.asarray(err_a, dtype=float) - np.asarray(err_b, dtype=float)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), (n_boot, len(d)))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


@dataclass
class ModelChoice:
    """The candidates, how each did on the validation window, and the one that goes forward.

    ``table`` (one row per candidate): ``status`` (``chosen``, ``fits``,
    ``does_not_fit`` or ``failed``), ``reason`` (why it does not fit or failed),
    ``log_likelihood`` (on the fitting part), ``mae`` (validation, per
    customer), ``mae_diff_low``/``mae_diff_high`` (95 % bootstrap interval of
    its error minus the chosen one's), ``predicted_total``, ``actual_total``.
    ``chosen`` is the key of the model that goes forward (``None`` when no
    candidate fits), ``model`` that model refitted on the whole calibration
    period, ``why`` the rule that chose it: ``"lowest_error"`` or
    ``"tie_likelihood"`` (tied within noise, higher likelihood).
    """

    table: pd.DataFrame
    chosen: str | None
    model: PurchaseModel | None
    why: str | None
    validation_days: float


def _try_fit(key: str, X: pd.DataFrame) -> tuple[PurchaseModel | None, str, str]:
    try:
        model = clone(CANDIDATES[key]()).fit(X)
    except CRMKitError as err:
        return None, "failed", str(err)
    problems = fit_problems(model, X)
    if problems:
        return model, "does_not_fit", "; ".join(problems)
    return model, "fits", ""


def choose_model(fit_summary: pd.DataFrame, validation: pd.DataFrame,
                 calibration: pd.DataFrame, *, candidates: Iterable[str] = tuple(CANDIDATES),
                 seed: int = 0) -> ModelChoice:
    """Fit ``candidates`` on ``fit_summary``, score them on ``validation``, refit the winner.

    ``validation`` holds ``frequency_holdout`` and ``duration_holdout`` of the
    customers of ``fit_summary`` (same index, same time unit);
    ``calibration`` is the summary of the whole calibration period, on which
    the chosen model is refitted (and checked again).
    """
    for key in candidates:
        if key not in CANDIDATES:
            raise ParameterError(f"candidate {key!r} is not one of {sorted(CANDIDATES)}.")
    actual = validation["frequency_holdout"].reindex(fit_summary.index).fillna(0).to_numpy()
    duration = float(validation["duration_holdout"].iloc[0])
    rows, errors = {}, {}
    for key in candidates:
        model, status, reason = _try_fit(key, fit_summary)
        row = {"status": status, "reason": reason, "log_likelihood": np.nan, "mae": np.nan,
               "predicted_total": np.nan, "actual_total": float(actual.sum())}
        if status == "fits" and model is not None:  # a fitting model is never None
            pred = model.expected_purchases(fit_summary, duration).to_numpy()
            errors[key] = np.abs(pred - actual)
            row.update(log_likelihood=model.log_likelihood_, mae=float(errors[key].mean()),
                       predicted_total=float(pred.sum()))
        rows[key] = row
    table = pd.DataFrame(rows).T
    table[["log_likelihood", "mae", "predicted_total", "actual_total"]] = table[
        ["log_likelihood", "mae", "predicted_total", "actual_total"]].astype(float)
    chosen, model, why = None, None, None
    for _ in range(len(errors)):
        best = min(errors, key=lambda k: errors[k].mean())
        tied = [k for k in errors
                if k == best or mae_difference_interval(errors[k], errors[best], seed=seed)[0] <= 0]
        pick = max(tied, key=lambda k: table["log_likelihood"][k])
        model, status, reason = _try_fit(pick, calibration)
        if status == "fits":
            chosen, why = pick, ("lowest_error" if pick == best else "tie_likelihood")
            break
        table.loc[pick, ["status", "reason"]] = [status, f"on the whole calibration: {reason}"]
        errors.pop(pick)
        model = None
    table["mae_diff_low"] = np.nan
    table["mae_diff_high"] = np.nan
    if chosen is not None:
        table.loc[chosen, "status"] = "chosen"
        for k, err in errors.items():
            if k == chosen:
                continue
            table.loc[k, ["mae_diff_low", "mae_diff_high"]] = mae_difference_interval(
                err, errors[chosen], seed=seed)
    return ModelChoice(table, chosen, model, why, duration)


def choose_purchase_model(data: CRMData, *, cutoff: DayLike, validation_days: int = 180,
                          candidates: Iterable[str] = tuple(CANDIDATES),
                          seed: int = 0) -> ModelChoice:
    """:func:`choose_model` on a shop: fit up to ``cutoff - validation_days``, validate up to
    ``cutoff``, refit on everything up to ``cutoff`` (time in days)."""
    if not isinstance(validation_days, int | np.integer) or validation_days < 1:
        raise ParameterError(f"validation_days={validation_days!r} must be a whole number "
                             "of days, 1 or more.")
    cutoff = pd.Timestamp(cutoff)
    fit_end = cutoff - pd.Timedelta(days=int(validation_days))
    fit_summary = rfm_summary(data, as_of=fit_end)
    validation = holdout_purchases(data, as_of=fit_end, end=cutoff)
    return choose_model(fit_summary, validation, rfm_summary(data, as_of=cutoff),
                        candidates=candidates, seed=seed)


# ----------------------------------------------------------------------------- CLV interval
def _hessian(f: Callable[[np.ndarray], float], x0: np.ndarray, h: float = 1e-4) -> np.ndarray:
    n = len(x0)
    H = np.empty((n, n))
    E = np.eye(n) * h
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (f(x0 + E[i] + E[j]) - f(x0 + E[i] - E[j])
                                 - f(x0 - E[i] + E[j]) + f(x0 - E[i] - E[j])) / (4 * h * h)
    return H


def _covariance(negll: Callable[[np.ndarray], float], params: dict[str, float]) -> np.ndarray:
    """Covariance of the log-parameters: the inverse Hessian of the negative log-likelihood."""
    x0 = np.log(np.array(list(params.values()), dtype=float))
    H = _hessian(negll, x0)
    try:
        cov = np.linalg.inv(H)
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ModelError("the likelihood is flat around the estimates, so their uncertainty "
                         "cannot be measured; the shop needs more customers or a longer "
                         "history.") from None
    return cov


def _with_params(model: _Fitted, params: dict[str, float], log_values: np.ndarray) -> _Fitted:
    out: _Fitted = clone(model)

    out.params_ = dict(zip(params, map(float, np.exp(log_values)), strict=True))
    return out


def clv_interval(purchases_model: PurchaseModel, spend_model: GammaGamma, X: pd.DataFrame, *,
                 level: float = 0.9, step: float = 1e-5, **clv_options: Any) -> pd.DataFrame:
    """CLV of each customer of ``X`` with a ``level`` interval from the parameters' uncertainty.

    Method: the likelihood's curvature (the delta method). The covariance of
    both models' log-parameters is the inverse Hessian of their summed
    log-likelihood on ``X`` (the summary both were fitted on; the two models'
    likelihoods are separate, so their parameters are independent); the
    gradient of each customer's log-CLV in those parameters (by finite
    differences) turns it into a standard error, and the interval is
    ``clv * exp(± z * se)`` (on the log scale, so it stays positive). The same
    for the shop's total. Columns ``clv`` (at the estimates,
    :func:`~crmkit.analytics.clv.customer_lifetime_value` with ``clv_options``),
    ``clv_low``, ``clv_high``; ``attrs`` hold the total, its interval and the method.

    >>> from crmkit.dataset.cdnow import load_cdnow, CALIBRATION_END
    >>> from crmkit.analytics.rfm import summary_from_transactions
    >>> from crmkit.analytics.clv import ModifiedBetaGeo
    >>> cal = summary_from_transactions(load_cdnow("sample"), as_of=CALIBRATION_END,
    ...                                 unit="weeks")
    >>> out = clv_interval(ModifiedBetaGeo().fit(cal), GammaGamma().fit(cal), cal, unit_days=7)
    >>> bool((out["clv_low"] < out["clv"]).all() and (out["clv"] < out["clv_high"]).all())
    True
    >>> bool(out.attrs["total_low"] < out.attrs["total"] < out.attrs["total_high"])
    True
    """
    if not (0 < level < 1):
        raise ParameterError(f"level={level!r} must be a share such as 0.9.")
    x = X["frequency"].to_numpy(dtype=float)
    tx, T = X["recency"].to_numpy(dtype=float), X["T"].to_numpy(dtype=float)
    m = X["monetary_value"].to_numpy(dtype=float)
    use = (x > 0) & (m > 0)
    pm_cls = type(purchases_model)

    def negll_purchases(logp: np.ndarray) -> float:
        return -float(np.sum(pm_cls._loglik(np.exp(logp), x, tx, T)))

    def negll_spend(logp: np.ndarray) -> float:
        return -float(np.sum(GammaGamma._loglik(np.exp(logp), x[use], m[use])))

    pp, sp = purchases_model.params_, spend_model.params_
    cov = np.zeros((len(pp) + len(sp),) * 2)
    cov[:len(pp), :len(pp)] = _covariance(negll_purchases, pp)
    cov[len(pp):, len(pp):] = _covariance(negll_spend, sp)
    theta = np.log(np.r_[list(pp.values()), list(sp.values())])

    def clv_at(z: np.ndarray) -> np.ndarray:

        pm = _with_params(purchases_model, pp, z[:len(pp)])
        sm = _with_params(spend_model, sp, z[len(pp):])
        return customer_lifetime_value(pm, sm, X, **clv_options).to_numpy()

    base = clv_at(theta)
    shifted = [clv_at(theta + step * e) for e in np.eye(len(theta))]
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.stack([(np.log(c) - np.log(base)) / step for c in shifted])  # (k, n)
        se = np.sqrt(np.einsum("in,ij,jn->n", grad, cov, grad))
        total_grad = np.array([(np.log(c.sum()) - np.log(base.sum())) / step for c in shifted])
    total_se = float(np.sqrt(total_grad @ cov @ total_grad))
    z = float(norm.ppf(0.5 + level / 2))
    out = pd.DataFrame({"clv": base, "clv_low": base * np.exp(-z * se),
                        "clv_high": base * np.exp(z * se)}, index=X.index)
    out.attrs.update(total=float(base.sum()), total_low=float(base.sum() * np.exp(-z * total_se)),
                     total_high=float(base.sum() * np.exp(z * total_se)), level=level,
                     method="likelihood curvature (delta method on the log scale)")
    return out
