"""Plots that judge the mining models: ROC and lift, precision-recall, calibration, cluster
profiles, the strongest basket rules, and a forecast with its intervals against the holdout.

Each takes its table first (as the model functions return it), the column
names as keywords, ``lang`` for every label, and ``ax=None``; it returns the axes.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> preds = pd.DataFrame({"bought": [1, 0, 1, 0, 0, 1], "logistic": [.9, .2, .7, .4, .1, .3]})
>>> plot_roc(preds, scores=["logistic"], lang="es").get_title()
'Quién vuelve a comprar - curva ROC'
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

from ..errors import ParameterError
from ..i18n import (
    catalog,
    check_lang,
    describe_figure,
    format_date,
    format_message,
    format_percent,
    locale_axes,
    t,
)

__all__ = ["plot_roc", "plot_lift", "plot_precision_recall", "plot_calibration",
           "plot_cluster_profiles", "plot_top_rules", "plot_forecast"]


def _label(key: str, lang: str, group: str = "mining") -> str:
    """The catalog label of a method or feature, or the name itself when it has none."""
    name = f"{group}.{key}"
    return t(name, lang) if name in catalog() else key


def _done(ax, lang: str, key: str, **values):
    """Axes written in ``lang`` and the picture described by ``plot_alt.<key>``."""
    locale_axes(ax, lang)
    return describe_figure(ax, format_message(t(f"plot_alt.{key}", lang), lang, **values))


def _new(figsize):
    return plt.subplots(figsize=figsize, layout="constrained")[1]


def _fill(text: str, ax) -> str:
    """An axis label broken into lines that fit its figure's width."""
    import textwrap

    return textwrap.fill(text, max(int(ax.figure.get_figwidth() * 6), 25))


def _check(data: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ParameterError(f"{what} has no column(s) {', '.join(map(repr, missing))}; "
                             f"it has: {', '.join(map(str, data.columns))}.")


def _setup(data, label, scores, lang, ax, figsize):
    """Checked score columns, the axes to draw on, and the 0/1 labels."""
    check_lang(lang)
    if scores is None:
        scores = [c for c in data.columns if c != label]
    _check(data, [label, *scores], "the predictions table")
    ax = ax or _new(figsize)
    return list(scores), ax, data[label].to_numpy()


def plot_roc(data: pd.DataFrame, *, label: str = "bought", scores=None, lang: str = "en",
             ax=None):
    """ROC curve of each score column against the 0/1 ``label`` (AUC in the legend)."""
    scores, ax, y = _setup(data, label, scores, lang, ax, (5.5, 5))
    for s in scores:
        fpr, tpr, _ = roc_curve(y, data[s])
        auc = roc_auc_score(y, data[s])
        ax.plot(fpr, tpr, label=format_message("{name} ({auc:.2f})", lang, name=_label(s, lang),
                                               auc=auc))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label=t("mining.chance", lang))
    ax.set(xlabel=t("mining.false_positive_rate", lang),
           ylabel=t("mining.true_positive_rate", lang), title=t("mining.roc_title", lang))
    ax.legend(fontsize="small", loc="lower right")
    return _done(ax, lang, "roc", n=len(scores))


def plot_lift(data: pd.DataFrame, *, label: str = "bought", scores=None, lang: str = "en",
              ax=None):
    """Cumulative lift: the buyers' rate among the best-scored share, over the base rate."""
    scores, ax, y = _setup(data, label, scores, lang, ax, (6, 4))
    y = y.astype(float)
    n = len(y)
    share = np.arange(1, n + 1) / n
    for s in scores:
        order = np.argsort(-data[s].to_numpy(dtype=float), kind="stable")
        lift = np.cumsum(y[order]) / np.arange(1, n + 1) / y.mean()
        ax.plot(share, lift, label=_label(s, lang))
    ax.axhline(1, color="grey", linestyle="--", label=t("mining.chance", lang))
    ax.axvline(0.1, color="grey", linewidth=0.6)
    ax.set(xlabel=_fill(t("mining.customers_targeted", lang), ax), ylabel=t("mining.lift", lang),
           title=t("mining.lift_title", lang), xlim=(0, 1))
    ax.legend(fontsize="small")
    _done(ax, lang, "lift", n=len(scores))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: format_percent(v, lang)))
    return ax


def plot_precision_recall(data: pd.DataFrame, *, label: str = "bought", scores=None,
                          lang: str = "en", ax=None):
    """Precision against recall of each score; the base rate is what guessing achieves."""
    scores, ax, y = _setup(data, label, scores, lang, ax, (5.5, 5))
    for s in scores:
        precision, recall, _ = precision_recall_curve(y, data[s])
        ax.plot(recall, precision, label=_label(s, lang))
    ax.axhline(y.mean(), color="grey", linestyle="--", label=t("mining.base_rate", lang))
    ax.set(xlabel=t("mining.recall", lang), ylabel=t("mining.precision", lang),
           title=t("mining.pr_title", lang), xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize="small")
    return _done(ax, lang, "precision_recall", n=len(scores))


def plot_calibration(data: pd.DataFrame, *, label: str = "bought",
                     scores=("logistic", "boosting"), bins: int = 10, lang: str = "en",
                     ax=None):
    """Predicted probability against the share who really bought, by quantile bin."""
    scores, ax, y = _setup(data, label, list(scores), lang, ax, (5.5, 5))
    for s in scores:
        p = data[s].to_numpy(dtype=float)
        if p.min() < 0 or p.max() > 1:
            raise ParameterError(f"column {s!r} is not a probability (values outside 0-1); "
                                 "calibration applies to models that predict probabilities.")
        observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
        ax.plot(predicted, observed, marker="o", label=_label(s, lang))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label=t("mining.perfect", lang))
    ax.set(xlabel=t("mining.predicted_probability", lang),
           ylabel=t("mining.observed_share", lang), title=t("mining.calibration_title", lang),
           xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize="small")
    return _done(ax, lang, "calibration", n=len(scores))


def plot_cluster_profiles(data: pd.DataFrame, *, lang: str = "en", ax=None):
    """Heat map of each cluster's mean scaled feature (0 = the average customer).

    ``data`` is a fitted :class:`~crmkit.analytics.clusters.CustomerClusters`'
    ``standing_`` table (clusters as rows, features as columns).
    """
    check_lang(lang)
    if data.empty:
        raise ParameterError("the cluster table is empty; fit CustomerClusters first and pass "
                             "its standing_.")
    shown = data.rename(columns=lambda c: _label(c, lang, "mining_feature"))
    shown.index = [f"{t('mining.cluster', lang)} {i}" for i in data.index]
    ax = ax or _new((1.1 * shown.shape[1] + 3.5, max(0.6 * len(shown) + 2.5, 4.5)))
    limit = max(float(np.abs(shown.to_numpy()).max()), 1.0)
    # the numbers in the cells as the language writes them
    labels = shown.map(lambda v: format_message("{v:.1f}", lang, v=v))
    # red against blue around the average (symmetric limits put 0 in the middle)
    sns.heatmap(shown, cmap="RdBu_r", vmin=-limit, vmax=limit,
                annot=labels.to_numpy(), fmt="", cbar_kws={"label": t("mining.standing", lang)},
                ax=ax)
    ax.set(title=t("mining.cluster_profiles", lang), xlabel=t("mining.feature", lang),
           ylabel="")
    ax.tick_params(axis="x", rotation=30)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
    ax.tick_params(axis="y", rotation=0)
    return _done(ax, lang, "cluster_profiles", n=len(shown), features=shown.shape[1])


def plot_top_rules(data: pd.DataFrame, *, n: int = 10, metric: str = "lift", lang: str = "en",
                   ax=None):
    """The ``n`` strongest basket rules as bars (``A → B``), with their confidence written."""
    check_lang(lang)
    _check(data, ["antecedent", "consequent", metric, "confidence"], "the rules table")
    top = data.sort_values(metric, ascending=False, kind="stable").head(n)
    if top.empty:
        raise ParameterError("there are no rules to draw; lower min_support or min_lift.")
    names = [f"{a} → {c}" for a, c in zip(top["antecedent"], top["consequent"], strict=True)]
    ax = ax or _new((8, 0.45 * len(top) + 1.5))
    y = np.arange(len(top))[::-1]
    ax.barh(y, top[metric], color="#2a9d8f")
    for yi, v, c in zip(y, top[metric], top["confidence"], strict=True):
        ax.text(v, yi, f"  {t('mining.confidence', lang).lower()} {format_percent(c, lang)}",
                va="center", fontsize="small")
    ax.set_yticks(y, names, fontsize="small")
    ax.axvline(1, color="grey", linestyle="--")
    ax.set(xlabel=_label(metric, lang), title=t("mining.rules_title", lang))
    ax.margins(x=0.25)
    return _done(ax, lang, "top_rules", n=len(top), metric=_label(metric, lang))


def plot_forecast(data: pd.DataFrame, *, history: pd.Series | None = None,
                  forecast: str = "ets", lower: str = "lower", upper: str = "upper",
                  actual: str = "actual", baselines=("naive", "seasonal_naive"),
                  lang: str = "en", ax=None):
    """History, the holdout's actual sales, the forecast with its interval, and the baselines.

    ``data`` is the forecasts table of ``holdout_scores(..., return_forecasts=True)``.
    """
    check_lang(lang)
    _check(data, [forecast, lower, upper], "the forecasts table")
    ax = ax or _new((9, 4))
    if history is not None:
        ax.plot(history.index, history.to_numpy(), color="black", label=t("mining.history", lang))
    if actual in data:
        ax.plot(data.index, data[actual], color="black", marker="o", linestyle=":",
                label=t("mining.actual", lang))
    ax.fill_between(data.index, data[lower], data[upper], color="#8ecae6", alpha=0.5,
                    label=t("mining.interval", lang))
    ax.plot(data.index, data[forecast], color="#1d3557", linewidth=2,
            label=_label(forecast, lang))
    for b in baselines:
        if b in data:
            ax.plot(data.index, data[b], linestyle="--", label=_label(b, lang))
    ax.set(title=t("mining.forecast_title", lang), xlabel=t("mining.period", lang),
           ylabel=t("mining.sales", lang))
    ax.legend(fontsize="small", ncol=2)
    return _done(ax, lang, "forecast", end=format_date(pd.Timestamp(data.index.max()), lang,
                                                       skeleton="yMMM"))
