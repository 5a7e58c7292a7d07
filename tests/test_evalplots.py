"""The model plots draw what the tables say, in the learner's language."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from crmkit.analytics.churn import lift_at  # noqa: E402
from crmkit.analytics.evalplots import (  # noqa: E402
    plot_calibration,
    plot_cluster_profiles,
    plot_forecast,
    plot_lift,
    plot_precision_recall,
    plot_roc,
    plot_top_rules,
)
from crmkit.errors import ParameterError  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def preds():
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.3
    return pd.DataFrame({"bought": y.astype(int),
                         "logistic": np.clip(0.3 + 0.3 * y + rng.normal(0, 0.15, 400), 0, 1),
                         "recency_rule": -rng.integers(0, 300, 400) - 200 * y})


def test_roc_legend_gives_each_auc(preds):
    ax = plot_roc(preds, scores=["logistic", "recency_rule"], lang="es")
    texts = [x.get_text() for x in ax.get_legend().get_texts()]
    auc = roc_auc_score(preds["bought"], preds["logistic"])
    assert texts[0] == f"Regresión logística ({auc:.2f})".replace(".", ",")  # as Spanish writes it
    assert texts[1].startswith("Regla de recencia") and texts[2] == "Azar"


def test_lift_curve_at_the_top_decile_matches_lift_at(preds):
    ax = plot_lift(preds, scores=["logistic"])
    x, y = ax.get_lines()[0].get_data()
    at = np.searchsorted(x, 0.1)
    assert y[at] == pytest.approx(lift_at(preds["bought"], preds["logistic"], 0.1), rel=1e-6)


def test_precision_recall_and_calibration(preds):
    ax = plot_precision_recall(preds, scores=["logistic"])
    assert ax.get_lines()[-1].get_ydata()[0] == pytest.approx(preds["bought"].mean())
    ax = plot_calibration(preds, scores=["logistic"], bins=5)
    assert len(ax.get_lines()[0].get_xdata()) == 5
    with pytest.raises(ParameterError, match="'recency_rule' is not a probability"):
        plot_calibration(preds, scores=["recency_rule"])
    with pytest.raises(ParameterError, match="no column"):
        plot_roc(preds, scores=["boosting"])


def test_cluster_profiles_label_features_in_spanish():
    standing = pd.DataFrame({"recency_days": [-1.0, 1.2], "orders": [0.8, -0.7]},
                            index=pd.Index([1, 2], name="cluster"))
    ax = plot_cluster_profiles(standing, lang="es")
    assert [x.get_text() for x in ax.get_xticklabels()] == ["Días desde la última compra",
                                                           "Pedidos"]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["Clúster 1", "Clúster 2"]


def test_top_rules_bars_are_the_lifts_strongest_first():
    rules = pd.DataFrame({"antecedent": ["a", "b", "c"], "consequent": ["x", "y", "z"],
                          "lift": [2.0, 5.0, 3.0], "confidence": [0.2, 0.5, 0.3]})
    ax = plot_top_rules(rules, n=2)
    heights = sorted((p.get_y(), p.get_width()) for p in ax.patches)
    assert [w for _, w in heights] == [3.0, 5.0]  # bottom bar is the second strongest
    labels = {round(pos): x.get_text() for pos, x in zip(ax.get_yticks(), ax.get_yticklabels(),
                                                          strict=True)}
    assert labels == {1: "b → y", 0: "c → z"}  # strongest on top


def test_forecast_plot_shows_interval_forecast_and_actual():
    idx = pd.date_range("2025-01-01", periods=6, freq="MS")
    fc = pd.DataFrame({"actual": [5.0, 6, 7, 6, 5, 4], "ets": [5.5, 6, 6.5, 6, 5, 4.5],
                       "lower": [4.0] * 6, "upper": [8.0] * 6, "naive": [5.0] * 6}, idx)
    history = pd.Series([3.0, 4, 5], pd.date_range("2024-10-01", periods=3, freq="MS"))
    ax = plot_forecast(fc, history=history, lang="es")
    labels = [x.get_text() for x in ax.get_legend().get_texts()]
    assert labels[:2] == ["Histórico", "Real (reserva)"]
    assert "Suavizado exponencial" in labels and "Ingenuo (último periodo)" in labels
    assert ax.get_title() == "Previsión de ventas"


def test_every_method_feature_and_trait_has_both_labels():
    from crmkit.analytics.churn import BASELINES, FEATURES, MODELS
    from crmkit.i18n import catalog

    c = catalog()
    methods = [*MODELS, *BASELINES, "ets", "naive", "seasonal_naive", "without_factor",
               "with_factor"]
    missing = [m for m in methods if f"mining.{m}" not in c]
    missing += [f for f in FEATURES if f"mining_feature.{f}" not in c]
    missing += [f"{f}.{side}" for f in FEATURES for side in ("high", "low")
                if f"cluster.{f}.{side}" not in c]
    assert missing == []
