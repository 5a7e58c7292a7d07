"""The scoreboard's arithmetic against scikit-learn and numpy, and the model choice never
looking past the cutoff."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from crmkit.analytics.btyd import choose_purchase_model
from crmkit.analytics.scoreboard import bootstrap_auc, compare
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError


def test_bootstrap_auc_equals_sklearn_on_every_resample_with_ties():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    score = rng.integers(0, 5, 300).astype(float) + y      # many ties
    idx = rng.integers(0, 300, (20, 300))
    got = bootstrap_auc(y, score, idx)
    want = [roc_auc_score(y[i], score[i]) for i in idx]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_compare_scores_and_verdicts_by_hand():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    preds = pd.DataFrame({"strong": y + rng.normal(0, 0.5, 500),
                          "coin": rng.normal(0, 1, 500),
                          "rule": y + rng.normal(0, 2.0, 500)})
    board = compare(y, preds, baselines=["rule"], measure="auc", chosen="strong")
    for col in preds:
        assert board.loc[col, "score"] == pytest.approx(roc_auc_score(y, preds[col]))
    assert board.loc["strong", "verdict"] == "beats"
    assert board.loc["coin", "verdict"] == "chance"          # AUC within noise of 0.5
    assert board.loc["strong", "chosen"] and not board.loc["coin", "chosen"]
    assert board.loc["strong", "difference"] == pytest.approx(
        roc_auc_score(y, preds["strong"]) - roc_auc_score(y, preds["rule"]))
    # errors: lower wins; the same predictions as the baseline are no better than it
    actual = np.arange(100.0)
    errs = pd.DataFrame({"copy": actual + 3, "base": actual + 3, "bad": actual + 10})
    board = compare(actual, errs, baselines=["base"], measure="mae")
    assert board.loc["copy", "verdict"] == "no_better"
    assert board.loc["bad", "verdict"] == "worse"
    assert board.loc["bad", "score"] == 10
    with pytest.raises(ParameterError, match="baseline"):
        compare(actual, errs, baselines=["nothing"], measure="mae")


def test_the_purchase_model_is_chosen_without_looking_past_the_cutoff():
    data = generate("frozen_foods", n_customers=500, seed=3)
    cutoff = pd.Timestamp("2025-06-30")
    a = choose_purchase_model(data, cutoff=cutoff, validation_days=120)
    # everything after the cutoff rewritten: half the later orders gone, the rest doubled
    o = data.orders
    later = o["placed_at"] > cutoff + pd.Timedelta(days=1)
    keep = ~later | (np.arange(len(o)) % 2 == 0)
    orders = pd.concat([o[keep], o[later & keep].assign(order_id=lambda f: f["order_id"] + 10**7)])
    extra = data.order_lines[data.order_lines["order_id"].isin(o.loc[later & keep, "order_id"])]
    lines = pd.concat([data.order_lines[data.order_lines["order_id"].isin(orders["order_id"])],
                       extra.assign(order_id=extra["order_id"] + 10**7)])
    tampered = CRMData({**data.tables, "orders": orders, "order_lines": lines},
                       dict(data.manifest), data.truth)
    assert later.sum() > 100 and len(tampered.orders) != len(data.orders)
    b = choose_purchase_model(tampered, cutoff=cutoff, validation_days=120)
    assert a.chosen == b.chosen and a.why == b.why
    pd.testing.assert_frame_equal(a.table, b.table)
