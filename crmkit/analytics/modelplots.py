"""Plots of the customer models: segments, cohorts and the lifetime-value diagnostics.

Every function takes the table the model computed (so the picture shows
exactly the numbers a test checks), a ``lang`` for its labels and an optional
matplotlib ``ax``, and returns the axes.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from crmkit.dataset.synth import generate
>>> from crmkit.analytics.cohorts import cohort_table
>>> data = generate("frozen_foods", n_customers=200, seed=2)
>>> ax = plot_cohort_heatmap(cohort_table(data), lang="es")
>>> ax.get_title()
'Retención por cohorte de adquisición (mes de la primera compra)'

A small table has each cell's value written in it, as the language writes it:

>>> ax = plot_cohort_heatmap(cohort_table(data).iloc[:3, :3], lang="es")
>>> ax.texts[0].get_text()
'100\\xa0%'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..errors import ParameterError
from ..i18n import (
    check_lang,
    describe_figure,
    format_date,
    format_message,
    format_number,
    format_percent,
    locale_axes,
    number_axis,
    t,
)
from .cohorts import METRICS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.text import Text

    from ..dataset.days import DayLike


__all__ = [
    "plot_segments",
    "plot_cohort_heatmap",
    "plot_calibration_holdout",
    "plot_tracking",
    "plot_probability_alive",
    "plot_cluster_outcomes",
    "clear_of_line",
]


def _axes(ax: Axes | None, size: tuple[float, float] = (8, 4.5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _done(ax: Axes, lang: str, key: str, **values: object) -> Axes:
    """Axes written in ``lang`` and the picture described by ``plot_alt.<key>``."""
    locale_axes(ax, lang)
    return describe_figure(ax, format_message(t(f"plot_alt.{key}", lang), lang, **values))


def _wrapped(text: str, ax: Axes, size: float = 1.0) -> str:
    """A title broken into lines that fit the width of its axes' figure."""
    import textwrap

    width = ax.figure.get_figure(root=True).get_figwidth() * 9 * size
    return textwrap.fill(text, max(int(width), 30))


def plot_segments(summary: pd.DataFrame, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Horizontal bars: customers in each named segment (from ``segment_summary``)."""
    check_lang(lang)
    if "customers" not in summary.columns:
        raise ParameterError("pass the table of segment_summary(...) (it has a 'customers' "
                             "column).")
    ax = _axes(ax)
    labels = [t(f"rfm_segment.{s}", lang) for s in summary.index]
    ax.barh(labels[::-1], summary["customers"].to_numpy()[::-1], color="#2a9d8f")
    ax.set_xlabel(t("rfm_column.customers", lang))
    ax.set_title(t("model_chart.segments_title", lang))
    return _done(ax, lang, "segments", n=len(summary),
                 best=t(f"rfm_segment.{summary['customers'].idxmax()}", lang))


def plot_cohort_heatmap(table: pd.DataFrame, *, metric: str = "retention", lang: str = "en",
                        ax: Axes | None = None) -> Axes:
    """Heat map of a :func:`~crmkit.analytics.cohorts.cohort_table` (cohorts x months)."""
    check_lang(lang)
    if metric not in METRICS:
        raise ParameterError(f"metric={metric!r} is not allowed; choose one of: "
                             + ", ".join(repr(m) for m in METRICS) + ".")
    if table.empty:
        raise ParameterError("the cohort table is empty; there is nothing to draw.")
    ax = _axes(ax, (11, 0.3 * len(table) + 2.5))
    share = metric == "retention"
    values = table.to_numpy(dtype=np.float64)
    table = table.rename(index=lambda c: format_date(pd.Period(c, "M").start_time, lang,
                                                       skeleton="yMMM"))
    # each cell's value written by the locale ("46 %", "1.234"); an empty cell stays empty
    written = np.array([["" if not np.isfinite(v) else format_percent(v, lang) if share
                         else format_number(v, lang, decimals=0) for v in row]
                        for row in values], dtype=object)
    sns.heatmap(table, ax=ax, cmap="YlGnBu", vmin=0,
                vmax=1 if share else np.nanmax(values) if np.isfinite(values).any() else 1,
                annot=written if table.size <= 150 else False, fmt="", cbar=True,
                annot_kws={"fontsize": 7})
    ax.set_xlabel(t("model_label.months_since_first", lang))
    ax.set_ylabel(t("model_label.cohort", lang))
    ax.set_title(t(f"model_chart.cohort_{metric}_title", lang))
    ax.tick_params(axis="y", rotation=0)
    return _done(ax, lang, "cohort_heatmap", n=len(table),
                 metric=t(f"plot_label.{metric}", lang))


def plot_calibration_holdout(table: pd.DataFrame, *, lang: str = "en",
                             ax: Axes | None = None) -> Axes:
    """Actual and predicted mean holdout purchases by calibration frequency."""
    check_lang(lang)
    ax = _axes(ax)
    x = np.arange(len(table))
    ax.plot(x, table["actual"], "o-", color="#264653", label=t("model_label.actual", lang))
    ax.plot(x, table["predicted"], "s--", color="#e76f51",
            label=t("model_label.predicted", lang))
    ticks = [str(i) for i in table.index]
    ticks[-1] = ticks[-1] + "+"
    ax.set_xticks(x, ticks)
    ax.set_xlabel(t("model_label.calibration_purchases", lang))
    ax.set_ylabel(t("model_label.holdout_purchases", lang))
    ax.set_title(_wrapped(t("model_chart.calibration_holdout_title", lang), ax))
    ax.legend()
    return _done(ax, lang, "calibration_holdout")


def plot_tracking(track: pd.DataFrame, *, calibration_end: DayLike | None = None,
                  lang: str = "en", ax: Axes | None = None) -> Axes:
    """Cumulative repeat purchases, actual against expected, with the calibration end marked."""
    check_lang(lang)
    ax = _axes(ax)
    ax.plot(track["period_end"], track["actual"], color="#264653",
            label=t("model_label.actual", lang))
    ax.plot(track["period_end"], track["predicted"], "--", color="#e76f51",
            label=t("model_label.predicted", lang))
    if calibration_end is not None:
        # matplotlib's stubs: axvline lists a float; a date goes through the axis's units
        ax.axvline(pd.Timestamp(calibration_end), color="grey", linestyle=":",  # type: ignore[arg-type]
                   label=t("model_label.calibration_end", lang))
    ax.set_ylabel(t("model_label.cumulative_repeat", lang))
    ax.set_title(t("model_chart.tracking_title", lang))
    ax.legend()
    return _done(ax, lang, "tracking")


def plot_probability_alive(matrix: pd.DataFrame, *, lang: str = "en",
                           ax: Axes | None = None) -> Axes:
    """Heat map of a probability-alive matrix (frequency x recency)."""
    check_lang(lang)
    ax = _axes(ax)
    # cividis: dark (gone) to light (alive), readable without telling red from green
    sns.heatmap(matrix, ax=ax, cmap="cividis", vmin=0, vmax=1, cbar=True)
    ax.grid(False)  # the course style's grid would cross the cells
    ax.invert_yaxis()
    ax.set_xlabel(t("model_label.recency", lang))
    ax.set_ylabel(t("model_label.frequency", lang))
    ax.set_title(_wrapped(t("model_chart.probability_alive_title", lang), ax))
    return _done(ax, lang, "probability_alive", max_f=int(max(matrix.index)))


def plot_cluster_outcomes(outcomes: pd.DataFrame, *, base_rate: float | None = None,
                          lang: str = "en", ax: Axes | None = None) -> Axes:
    """Bars: the share of each cluster that came back in the holdout, with its size.

    ``outcomes`` has one row per cluster (its index) with ``came_back`` (a share)
    and ``customers`` columns, as :func:`crmkit.lessons.mining.group_outcomes`
    gives; ``base_rate`` (the share of all customers who came back) is drawn as a
    dashed line, the bar a cluster must beat.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> table = pd.DataFrame({"customers": [120, 80], "came_back": [0.25, 0.5]})
    >>> ax = plot_cluster_outcomes(table, base_rate=0.35, lang="es")
    >>> [x.get_text() for x in ax.texts]
    ['25\\xa0%\\nn = 120', '50\\xa0%\\nn = 80']
    >>> plt.close(ax.figure)
    """
    check_lang(lang)
    if not {"came_back", "customers"} <= set(outcomes.columns):
        raise ParameterError("pass the table of group_outcomes(...) (it has 'came_back' and "
                             "'customers' columns).")
    ax = _axes(ax, (max(5.0, 0.9 * len(outcomes) + 3), 4))
    x = np.arange(len(outcomes))
    shares = outcomes["came_back"].to_numpy(dtype=float)
    ax.bar(x, shares, color="#0173b2", label=t("m03_chart.came_back", lang))
    labels = [ax.text(float(xi), share + 0.02,
                      f"{format_percent(share, lang)}\nn = {format_number(n, lang)}",
                      ha="center", va="bottom", fontsize="small")
              for xi, share, n in zip(x, shares, outcomes["customers"], strict=True)]
    if base_rate is not None:
        ax.axhline(base_rate, color="black", ls="--", lw=1,
                   label=t("m03_chart.base_rate", lang))
    ax.set_xticks(x, [str(c) for c in outcomes.index])
    top = max([*shares[np.isfinite(shares)], base_rate or 0.0, 0.1]) + 0.2  # room for labels
    ax.set_ylim(0, top)
    ax.set_yticks([v for v in np.linspace(0, 1, 6) if v <= top])  # shares: never above 100 %
    number_axis(ax, lang, kind="percent")
    ax.set_xlabel(t("mining.cluster", lang))
    ax.set_ylabel(t("model_label.share_came_back", lang))
    ax.set_title(_wrapped(t("model_chart.cluster_outcomes_title", lang), ax))
    # below the axes: inside, it would cover the tallest bar's label
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False,
              fontsize="small")
    if base_rate is not None:
        clear_of_line(ax, labels, base_rate)
    return _done(ax, lang, "group_outcomes", n=len(outcomes))


def clear_of_line(ax: Axes, labels: list[Text], level: float, *, axis: str = "y",
                  gap: float = 0.01) -> Axes:
    """Move each label a reference line would run through to just past it.

    The line is horizontal at ``y = level`` (``axis="y"``: a label moves up, above the
    line) or vertical at ``x = level`` (``axis="x"``: it moves right). A label's size in
    data units is known once the figure is laid out, so the figure is laid out (not
    rendered) first; the axes grow when a moved label needs room.
    """
    fig = ax.get_figure(root=True)
    if fig is None:
        return ax
    fig.draw_without_rendering()
    i = 1 if axis == "y" else 0
    to_data = ax.transData.inverted()
    ends = []
    for label in labels:
        box = label.get_window_extent()
        corners = to_data.transform([(box.x0, box.y0), (box.x1, box.y1)])
        start, end = float(corners[0, i]), float(corners[1, i])
        if start - gap <= level <= end + gap:  # the line would strike the label out
            shift = level + gap - start
            position = list(label.get_position())
            position[i] += shift
            label.set_position((position[0], position[1]))
            end += shift
        ends.append(end)
    low, high = ax.get_ylim() if i else ax.get_xlim()
    needed = max([v for v in ends if np.isfinite(v)], default=high) + 2 * gap
    if needed > high:
        (ax.set_ylim if i else ax.set_xlim)(low, needed)
    return ax
