"""Does the lifetime-value model fit? The three checks of the BG/NBD paper.

* :func:`calibration_vs_holdout`: customers grouped by how often they bought
  in the calibration period; the purchases the model expected of each group
  in the holdout period next to the ones they made.
* :func:`repeat_purchase_tracking`: cumulative repeat purchases of the whole
  customer base, period by period, actual against the model's expectation
  (each customer counted from their first purchase).
* :func:`probability_alive_matrix`: probability that a customer is still
  active for each number of repeat purchases and time of the last one.

On the CDNOW sample (fitted to 1997-09-30, checked to 1998-06-30):

>>> from crmkit.dataset.cdnow import load_cdnow, CALIBRATION_END, OBSERVATION_END
>>> from crmkit.analytics.rfm import summary_from_transactions, holdout_from_transactions
>>> from crmkit.analytics.clv import BetaGeo
>>> tx = load_cdnow("sample")
>>> cal = summary_from_transactions(tx, as_of=CALIBRATION_END, unit="weeks")
>>> hold = holdout_from_transactions(tx, cal.index, as_of=CALIBRATION_END,
...                                  end=OBSERVATION_END, unit="weeks")
>>> bg = BetaGeo().fit(cal)
>>> table = calibration_vs_holdout(bg, cal, hold)
>>> table.loc[0, ["customers", "actual", "predicted"]].round(2).tolist()
[1411.0, 0.24, 0.23]
>>> track = repeat_purchase_tracking(bg, tx, unit="weeks", end=OBSERVATION_END)
>>> len(track), int(track["actual"].iloc[-1])
(78, 4339)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset.days import DayLike, parse_day
from ..errors import ParameterError
from .clv import BetaGeo, PurchaseModel
from .rfm import UNITS

__all__ = ["calibration_vs_holdout", "repeat_purchase_tracking", "probability_alive_matrix"]


def calibration_vs_holdout(model: PurchaseModel, summary: pd.DataFrame, holdout: pd.DataFrame, *,
                           max_frequency: int = 7) -> pd.DataFrame:
    """Mean holdout purchases, actual and predicted, by calibration frequency.

    ``summary`` is the calibration summary the model was fitted on and
    ``holdout`` the matching :func:`~crmkit.analytics.rfm.holdout_from_transactions`
    (same customers, ``duration_holdout`` in the summary's time unit).
    Frequencies from ``max_frequency`` up are pooled in the last row.
    """
    if not holdout.index.equals(summary.index):
        raise ParameterError("summary and holdout must list the same customers in the same "
                             "order; build the holdout from summary.index.")
    if "duration_holdout" not in holdout.columns or "frequency_holdout" not in holdout.columns:
        raise ParameterError("holdout needs frequency_holdout and duration_holdout; use "
                             "holdout_from_transactions(...).")
    t = float(holdout["duration_holdout"].iloc[0])
    predicted = model.expected_purchases(summary, t).to_numpy()
    group = np.minimum(summary["frequency"].to_numpy(dtype=np.int64), max_frequency)
    df = pd.DataFrame({"frequency": group, "actual": holdout["frequency_holdout"].to_numpy(),
                       "predicted": predicted})
    out = df.groupby("frequency").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                      predicted=("predicted", "mean"))
    out["customers"] = out["customers"].astype("int64")
    return out


def repeat_purchase_tracking(model: BetaGeo, transactions: pd.DataFrame, *, end: DayLike,
                             unit: str = "weeks", customer: str = "customer_id",
                             time: str = "placed_at") -> pd.DataFrame:
    """Cumulative repeat purchases period by period, actual and expected by the model.

    Periods of one ``unit`` run from the first purchase in ``transactions``
    to ``end``. A repeat purchase is a purchase day of a customer after their
    first; each customer adds the model's expectation for a new customer
    from their first purchase on (``expected_purchases_new``). Returns
    ``period_end``, ``actual``, ``predicted`` indexed by period number (1..).
    """
    if unit not in UNITS:
        raise ParameterError(f"unit={unit!r} is not allowed; choose one of: 'days', 'weeks'.")
    step = UNITS[unit]
    stop = parse_day("end", end)
    days = pd.to_datetime(transactions[time]).to_numpy(dtype="datetime64[D]").astype(np.int64)
    cust = transactions[customer].to_numpy()
    occ = pd.DataFrame({"c": cust, "d": days}).drop_duplicates().sort_values(["c", "d"])
    first = occ.groupby("c")["d"].transform("min").to_numpy()
    d = occ["d"].to_numpy()
    start = int(d.min())
    last = int(np.datetime64(stop, "D").astype(np.int64))
    if last < start:
        raise ParameterError(f"end={str(stop.date())!r} is before the first purchase.")
    n_periods = (last - start + 1) // step
    if n_periods < 1:
        raise ParameterError(f"end={str(stop.date())!r} leaves less than one {unit[:-1]} of "
                             "data; choose a later end or unit='days'.")
    period_last = start + np.arange(1, n_periods + 1) * step - 1  # last day of each period
    repeat_days = np.sort(d[d > first])
    actual = np.searchsorted(repeat_days, period_last, side="right")
    firsts, counts = np.unique(occ.groupby("c")["d"].min().to_numpy(), return_counts=True)
    gap = (period_last[:, None] - firsts[None, :]) / step
    expected = np.where(gap > 0, model.expected_purchases_new(np.maximum(gap, 0.0)), 0.0)
    predicted = expected @ counts
    epoch = np.datetime64("1970-01-01", "D")
    return pd.DataFrame({
        "period_end": (epoch + period_last).astype("datetime64[us]"),
        "actual": actual.astype(np.int64),
        "predicted": predicted,
    }, index=pd.RangeIndex(1, n_periods + 1, name="period"))


def probability_alive_matrix(model: PurchaseModel, *, T: float, max_frequency: int = 20,
                             recency_step: float = 1.0) -> pd.DataFrame:
    """P(alive) for frequency 0..``max_frequency`` (rows) and recency 0..``T`` (columns).

    All customers are taken to be observed for ``T`` (time units of the
    model); a customer with no repeat purchase has recency 0, so the other
    cells of row 0 are empty.

    >>> from crmkit.dataset.cdnow import load_cdnow
    >>> from crmkit.analytics.rfm import summary_from_transactions
    >>> bg = BetaGeo().fit(summary_from_transactions(load_cdnow(), as_of="1997-09-30",
    ...                                              unit="weeks"))
    >>> m = probability_alive_matrix(bg, T=39, max_frequency=5, recency_step=13)
    >>> m.round(2)              # x=1 bought at the end: 1 / (1 + a / b) = 0.75
    recency    0.0   13.0  26.0  39.0
    frequency
    0          1.00   NaN   NaN   NaN
    1          0.15  0.50  0.66  0.75
    2          0.03  0.36  0.66  0.81
    3          0.00  0.22  0.64  0.85
    4          0.00  0.12  0.60  0.87
    5          0.00  0.06  0.56  0.89
    """
    if not T > 0:
        raise ParameterError(f"T={T!r} must be positive (the length of observation).")
    if not recency_step > 0:
        raise ParameterError(f"recency_step={recency_step!r} must be positive.")
    rec = np.arange(0, T + 1e-9, recency_step)
    f, r = np.meshgrid(np.arange(max_frequency + 1), rec, indexing="ij")
    grid = pd.DataFrame({"frequency": f.ravel(), "recency": np.where(f.ravel() == 0, 0.0,
                                                                     r.ravel()),
                         "T": float(T)})
    p = model.probability_alive(grid).to_numpy().reshape(f.shape).copy()
    p[0, 1:] = np.nan
    return pd.DataFrame(p, index=pd.Index(range(max_frequency + 1), name="frequency"),
                        columns=pd.Index(rec, name="recency"))
