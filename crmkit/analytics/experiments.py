"""A/B experiments and heat maps: what each can tell a shop.

An **A/B experiment** splits customers at random between two versions and
compares a proportion (who converted). :func:`two_proportion_test` gives the
difference with its confidence interval and p-value (statsmodels);
:func:`sample_size` says how many customers each version needs to detect a
minimum effect with a given power; :func:`peeking_simulation` shows why
stopping at the first "significant" look inflates false positives.

A **heat map** of web activity (hour x weekday, conversion by source x
device) shows *where* and *when* things happen, not *why*: it describes,
an experiment tests a cause.

>>> r = two_proportion_test(40, 1000, 60, 1000)
>>> float(round(r["difference"], 3)), bool(r["ci_low"] > 0), float(round(r["p_value"], 3))
(0.02, True, 0.04)
>>> sample_size(0.04, 0.01)      # from 4 % to 5 %: customers in each group
6726
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from statsmodels.stats import proportion as smp
from statsmodels.stats.power import NormalIndPower

from ..errors import ParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..dataset.crmdata import CRMData


__all__ = [
    "plot_activity_heatmap",
    "two_proportion_test",
    "sample_size",
    "peeking_simulation",
    "activity_heatmap",
    "conversion_heatmap",
    "plot_heatmap",
]


def _check_counts(k: int, n: int, name: str) -> None:
    if not (isinstance(n, int | np.integer) and n > 0 and 0 <= k <= n):
        raise ParameterError(f"{name}: successes={k!r} and trials={n!r} must be whole numbers "
                             "with 0 <= successes <= trials and trials > 0.")


def two_proportion_test(successes_a: int, n_a: int, successes_b: int, n_b: int, *,
                        alpha: float = 0.05) -> pd.Series:
    """Compare the conversion of B with that of A: difference, CI and p-value.

    ``difference = rate_b - rate_a``; the interval is the Wald interval of
    the difference (statsmodels ``confint_proportions_2indep``) and the
    p-value that of the two-sided z-test with pooled variance
    (``test_proportions_2indep(..., method="score")``).
    """
    _check_counts(successes_a, n_a, "A")
    _check_counts(successes_b, n_b, "B")
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha={alpha!r} must be between 0 and 1, e.g. 0.05.")
    with warnings.catch_warnings():  # statsmodels also computes ratios, undefined at 0
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = smp.confint_proportions_2indep(successes_b, n_b, successes_a, n_a,
                                               method="wald", compare="diff", alpha=alpha)
        test = smp.test_proportions_2indep(successes_b, n_b, successes_a, n_a, method="score",
                                       compare="diff")
    ra, rb = successes_a / n_a, successes_b / n_b
    return pd.Series({"rate_a": ra, "rate_b": rb, "difference": rb - ra,
                      "ci_low": float(low), "ci_high": float(high),
                      "z": float(test.statistic), "p_value": float(test.pvalue)})


def sample_size(baseline: float, min_effect: float, *, alpha: float = 0.05,
                power: float = 0.8) -> int:
    """Customers needed in *each* group to detect ``baseline -> baseline + min_effect``.

    Uses Cohen's h (``proportion_effectsize``) and the normal power equation
    (``NormalIndPower().solve_power``), two-sided, rounded up.
    """
    if not (0 < baseline < 1 and 0 < baseline + min_effect < 1 and min_effect != 0):
        raise ParameterError(f"baseline={baseline!r} and min_effect={min_effect!r}: both rates "
                             "must be between 0 and 1 and the effect not zero.")
    h = abs(smp.proportion_effectsize(baseline + min_effect, baseline))
    n = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0)
    return int(math.ceil(n))


def peeking_simulation(*, rate: float = 0.05, n_per_group: int = 2000, looks: int = 10,
                       n_experiments: int = 2000, alpha: float = 0.05,
                       seed: int = 0) -> pd.Series:
    """False-positive rate of A/A experiments (no true difference) with and without peeking.

    Each simulated experiment grows to ``n_per_group`` customers per group
    and is looked at ``looks`` times at equal steps. *Fixed*: one z-test at
    the end. *Peeking*: stop and declare a winner at the first look with
    p < ``alpha``. Fixed stays near ``alpha``; peeking is several times higher.

    >>> r = peeking_simulation(n_experiments=500, seed=1)
    >>> bool(r["fixed"] < 0.08 < r["peeking"])
    True
    """
    if looks < 1 or n_per_group < looks or n_experiments < 1:
        raise ParameterError("looks >= 1, n_per_group >= looks and n_experiments >= 1, please.")
    rng = np.random.default_rng(seed)
    at = np.linspace(n_per_group / looks, n_per_group, looks).round().astype(int)
    steps = np.diff(np.concatenate([[0], at]))
    a = rng.binomial(steps, rate, size=(n_experiments, looks)).cumsum(axis=1)
    b = rng.binomial(steps, rate, size=(n_experiments, looks)).cumsum(axis=1)
    pooled = (a + b) / (2 * at)
    se = np.sqrt(pooled * (1 - pooled) * 2 / at)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (b - a) / at / se, 0.0)
    crit = _z(alpha)
    significant = np.abs(z) > crit
    return pd.Series({"fixed": float(significant[:, -1].mean()),
                      "peeking": float(significant.any(axis=1).mean()),
                      "looks": looks, "alpha": alpha})


def _z(alpha: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - alpha / 2))


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def activity_heatmap(data: CRMData, *, what: str = "sessions") -> pd.DataFrame:
    """Web activity by weekday (rows, Monday first) and hour (columns 0-23).

    ``what`` is ``"sessions"`` (visits started) or ``"orders"`` (web orders placed).
    """
    if what == "sessions":
        ts = data.require("web", analysis="the activity heat map").web_sessions["started_at"]
    elif what == "orders":
        o = data.require("order_times", analysis="the activity heat map").orders
        ts = o.loc[o["channel"] == "web", "placed_at"]
    else:
        raise ParameterError(f"what={what!r} is not allowed; choose 'sessions' or 'orders'.")
    table = pd.crosstab(ts.dt.day_of_week, ts.dt.hour).reindex(index=range(7), columns=range(24),
                                                             fill_value=0)
    table.index, table.columns.name = pd.Index(_WEEKDAYS, name="weekday"), "hour"
    return table


def conversion_heatmap(data: CRMData) -> pd.DataFrame:
    """Conversion rate (orders per session) by traffic source (rows) and device (columns)."""
    s = data.require("web", analysis="the conversion heat map").web_sessions
    return (s["converted_order_id"].notna().groupby([s["traffic_source"], s["device"]])
            .mean().unstack("device"))


def plot_activity_heatmap(table: pd.DataFrame, *, what: str = "sessions", lang: str = "en",
                          ax: Axes | None = None) -> Axes:
    """:func:`activity_heatmap` drawn for a reader: weekdays and axes in ``lang``, the counts
    written as the language writes numbers, a colour-blind-safe scale from zero.

    >>> import pandas as pd
    >>> tab = pd.DataFrame([[1200, 3]] * 7, columns=pd.Index([9, 10], name="hour"),
    ...                    index=pd.Index(_WEEKDAYS, name="weekday"))
    >>> ax = plot_activity_heatmap(tab, lang="es")
    >>> ax.get_yticklabels()[0].get_text(), ax.get_xlabel(), ax.texts[0].get_text()
    ('lun', 'Hora del día', '1.200')
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    from ..i18n import (
        check_lang,
        describe_figure,
        format_message,
        format_number,
        locale_axes,
        t,
        weekday_names,
    )

    check_lang(lang)
    shown = table.copy()
    shown.index = weekday_names(lang, "abbreviated")[: len(shown)]
    if ax is None:
        ax = plt.subplots(figsize=(min(14, 2.5 + 0.5 * shown.shape[1]),
                                   1.5 + 0.45 * shown.shape[0]), layout="constrained")[1]
    annot = shown.size <= 60
    labels = shown.map(lambda v: format_number(v, lang, decimals=0)).to_numpy()
    sns.heatmap(shown, annot=labels if annot else False, fmt="", cmap="viridis", ax=ax,
                vmin=0, cbar_kws={"label": t(f"plot_label.{what}", lang).capitalize()})
    ax.set_title(t("case.activity_title", lang))
    ax.set_xlabel(t("plot_label.hour", lang))
    ax.set_ylabel(t("plot_label.weekday", lang))
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=0)
    locale_axes(ax, lang)
    described: Axes = describe_figure(ax, format_message(t("plot_alt.activity_heatmap", lang),
                                                         lang, what=t(f"plot_label.{what}", lang)))
    return described


def plot_heatmap(table: pd.DataFrame, *, title: str = "", fmt: str = "d", ax: Axes | None = None,
                 cmap: str = "rocket_r") -> Axes:
    """A heat map of a cross table (seaborn), annotated when it is small enough to read."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        ax = plt.subplots(figsize=(min(12, 1 + 0.45 * table.shape[1]),
                                   1 + 0.45 * table.shape[0]))[1]
    annot = table.size <= 60
    sns.heatmap(table, annot=annot, fmt=fmt if annot else "", cmap=cmap, ax=ax, cbar=True,
                vmin=0)
    ax.set_title(title)
    return ax
