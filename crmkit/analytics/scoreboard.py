"""One honest scoreboard: every candidate and every baseline, scored on the same held-out data.

:func:`compare` takes the held-out truth of one predictive question and one
column of predictions per method (the candidates and *all* their baselines)
and returns one row per method with its score, a bootstrap interval of the
score, and, for each candidate, the difference from the **best baseline** with
its bootstrap interval (the same resampled customers, or months, for every
method: a paired bootstrap). The verdict of a candidate is

* ``beats``: the whole interval of the difference is on the better side;
* ``no_better``: the interval contains 0, the candidate is "no better than"
  the best baseline;
* ``worse``: the whole interval is on the worse side;
* ``chance``: an AUC whose own interval contains 0.5, flagged whatever the
  baselines did.

Which candidate goes forward is decided elsewhere, on validation data inside
the calibration period (``chosen``); the test scores only report.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, 400)
>>> preds = pd.DataFrame({"good": y + rng.normal(0, 0.6, 400),
...                       "coin": rng.normal(0, 1, 400),
...                       "rule": y + rng.normal(0, 1.5, 400)})
>>> board = compare(y, preds, baselines=["rule"], measure="auc", chosen="good")
>>> board.loc["good", "verdict"], board.loc["coin", "verdict"], board.loc["rule", "verdict"]
('beats', 'chance', 'best_baseline')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..errors import ParameterError, check_choice

__all__ = ["MEASURES", "compare", "bootstrap_auc", "verdict_of"]

#: Measures and whether higher is better.
MEASURES = {"auc": True, "mae": False, "share": True}


def bootstrap_auc(y: np.ndarray, score: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """AUC of ``score`` for labels ``y`` on each row of resampled positions ``idx``.

    Mann-Whitney with mid-ranks for ties (what :func:`sklearn.metrics.roc_auc_score`
    gives); NaN for a resample with a single class.
    """
    yy = y[idx].astype(bool)
    ranks = rankdata(score[idx], axis=1)
    n1 = yy.sum(axis=1)
    n0 = yy.shape[1] - n1
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = ((ranks * yy).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)
    return np.where((n1 > 0) & (n0 > 0), auc, np.nan)


def _scores(measure: str, y: np.ndarray, pred: np.ndarray, idx: np.ndarray) -> np.ndarray:
    if measure == "auc":
        return bootstrap_auc(y, pred, idx)
    scores: np.ndarray
    if measure == "mae":
        scores = np.abs(pred - y)[idx].mean(axis=1)
    else:
        scores = pred[idx].mean(axis=1)  # share: pred holds 0/1 outcomes
    return scores


def verdict_of(low: float, high: float, *, higher_is_better: bool) -> str:
    """``beats``, ``no_better`` or ``worse`` from an interval of (candidate - baseline).

    >>> verdict_of(0.01, 0.05, higher_is_better=True), verdict_of(-0.2, 0.1, higher_is_better=True)
    ('beats', 'no_better')
    >>> verdict_of(0.1, 0.3, higher_is_better=False)
    'worse'
    """
    if not higher_is_better:
        low, high = -high, -low
    if low > 0:
        return "beats"
    if high < 0:
        return "worse"
    return "no_better"


def compare(y: pd.Series | np.ndarray, predictions: pd.DataFrame, *,
            baselines: Sequence[str], measure: str = "auc",
            chosen: str | None = None, n_boot: int = 400, level: float = 0.95,
            seed: int = 0) -> pd.DataFrame:
    """Every method of ``predictions`` scored on ``y``, candidates against the best baseline.

    Parameters
    ----------
    y : array
        The held-out truth (0/1 for ``auc``, a number for ``mae``; ignored for ``share``,
        where each column holds the 0/1 outcomes of its own method).
    predictions : DataFrame
        One column per method, one row per customer (or month), aligned with ``y``.
    baselines : list of str
        The columns that are baselines; the others are candidates.
    measure : {"auc", "mae", "share"}
    chosen : str, optional
        The candidate chosen on validation data (marked ``chosen``).

    Returns one row per method: ``kind`` (model / baseline), ``score``,
    ``score_low``/``score_high``, ``chosen``, ``versus`` (the best baseline),
    ``difference`` and ``diff_low``/``diff_high`` (candidate minus best baseline)
    and ``verdict``. ``attrs`` hold the measure, the level and the number of rows.
    """
    check_choice("measure", measure, MEASURES)
    higher = MEASURES[measure]
    baselines = [b for b in baselines if b in predictions.columns]
    if not baselines:
        raise ParameterError("compare needs at least one baseline column in predictions.")
    if chosen is not None and chosen not in predictions.columns:
        raise ParameterError(f"chosen={chosen!r} is not a column of predictions.")
    y = np.asarray(y, dtype=float)
    n = len(predictions)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, (n_boot, n))
    full = np.arange(n)[None, :]
    boot, point = {}, {}
    for col in predictions.columns:
        pred = predictions[col].to_numpy(dtype=float)
        point[col] = float(_scores(measure, y, pred, full)[0])
        boot[col] = _scores(measure, y, pred, idx)
    tail = (1 - level) / 2
    best = max(baselines, key=lambda b: point[b] if higher else -point[b])
    rows = {}
    for col in predictions.columns:
        lo, hi = np.nanquantile(boot[col], [tail, 1 - tail])
        row = {"kind": "baseline" if col in baselines else "model", "score": point[col],
               "score_low": float(lo), "score_high": float(hi), "chosen": col == chosen,
               "versus": best, "difference": np.nan, "diff_low": np.nan, "diff_high": np.nan}
        if col in baselines:
            row["versus"] = ""
            row["verdict"] = "best_baseline" if col == best else "baseline"
        else:
            d = boot[col] - boot[best]
            d_lo, d_hi = np.nanquantile(d, [tail, 1 - tail])
            row.update(difference=point[col] - point[best], diff_low=float(d_lo),
                       diff_high=float(d_hi))
            row["verdict"] = verdict_of(d_lo, d_hi, higher_is_better=higher)
            if measure == "auc" and lo <= 0.5 <= hi:
                row["verdict"] = "chance"
        rows[col] = row
    out = pd.DataFrame(rows).T
    for c in ("score", "score_low", "score_high", "difference", "diff_low", "diff_high"):
        out[c] = out[c].astype(float)
    out["chosen"] = out["chosen"].astype(bool)
    out.index.name = "method"
    out.attrs.update(measure=measure, level=level, n=n, n_boot=n_boot)
    return out
