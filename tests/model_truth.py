"""Plain numpy/scikit-learn yardsticks the model tests compare against (no crmkit code)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


def auc_difference_interval(y, a, b, *, n_boot=400, seed=0):
    """95 % bootstrap interval (over customers) of AUC(a) - AUC(b) for the labels ``y``."""
    y, a, b = (np.asarray(v, dtype=float) for v in (y, a, b))
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            diffs.append(roc_auc_score(y[i], a[i]) - roc_auc_score(y[i], b[i]))
    return tuple(float(q) for q in np.quantile(diffs, [0.025, 0.975]))
