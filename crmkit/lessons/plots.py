"""Plots of the CRM lessons, seaborn-style: ``data`` first, ``ax=None``, the axes returned.

Every title, axis label and category name comes from the catalog in the
chosen ``lang``.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from crmkit.dataset.synth import generate
>>> data = generate("boutique", n_customers=120, seed=1)
>>> ax = plot_level_pyramid(data, lang="es")
>>> ax.get_title()
'Niveles de datos de clientes'

Numbers, percentages and month names on the axes follow ``lang`` too:

>>> ax = plot_monthly_revenue(data, lang="es")
>>> ax.figure.canvas.draw()
>>> [x.get_text() for x in ax.get_xticklabels()][:2]
['ene 2024', 'may 2024']
>>> [x.get_text() for x in ax.get_yticklabels() if "." in x.get_text()][:1]
['2.500']
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import cast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from babel.lists import format_list
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..analytics.concepts import sales_pipeline, social_activity, spend_by_age_and_gender
from ..analytics.levels import level_completeness, reachable_by_action
from ..analytics.service import state_durations, tickets_by_state, transition_counts
from ..analytics.tracking import order_value, orders_by_hour
from ..dataset.backoffice import STATE_ROLES
from ..dataset.crmdata import CRMData
from ..dataset.schema import TICKET_STATES
from ..errors import ParameterError
from ..i18n import (
    LOCALES,
    catalog,
    date_axis,
    describe_figure,
    format_currency,
    format_date,
    format_message,
    format_number,
    format_percent,
    locale_axes,
    number_axis,
    t,
)
from .notebook import money

__all__ = [
    "plot_level_pyramid",
    "plot_reach",
    "plot_workflow",
    "plot_time_in_state",
    "plot_pipeline",
    "plot_social",
    "plot_orders_by_hour",
    "plot_monthly_revenue",
    "plot_stock",
    "plot_spend_by_age_gender",
    "plot_drill_down",
    "plot_spend_per_customer",
    "plot_acquisition",
    "plot_segments_over_time",
    "plot_query_time",
]

#: seaborn's "colorblind" palette: its colours stay apart for red-green colour-blind readers
PALETTE = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161")


def _ax(ax: Axes | None, size: tuple[float, float] = (8, 4)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _say(ax: Axes, key: str, lang: str, **values: object) -> Axes:
    """Describe the picture on ``ax`` with the catalog's sentence ``plot_alt.<key>``."""
    return describe_figure(ax, format_message(t(f"plot_alt.{key}", lang), lang, **values))


def _month(day: str | date, lang: str) -> str:
    return format_date(day, lang, skeleton="yMMM")


def _label(code: object, lang: str, group: str = "value") -> str:
    """The catalog's label of a data code (``group.code``); a code it lacks, as it is."""
    key = f"{group}.{code}"
    return t(key, lang) if key in catalog() else str(code)


def _unit(currency: str | None) -> str:
    return f" ({currency})" if currency else ""


def plot_level_pyramid(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Share of customers covered at each data level, alone and together with the lower ones."""
    table = level_completeness(data)
    ax = _ax(ax)
    labels = [f"{k}. {t(f'level.{k}', lang)}" for k in table.index]
    y = np.arange(len(labels))[::-1]
    ax.barh(y, table["share"], color=PALETTE[0], alpha=0.35,
            label=t("chart.level_alone", lang))
    ax.barh(y, table["share_cumulative"], color=PALETTE[0],
            label=t("chart.level_cumulative", lang))
    for yi, v in zip(y, table["share_cumulative"], strict=True):
        ax.text(v + 0.01, yi, format_percent(v, lang), va="center")
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1.1)
    number_axis(ax, lang, axis="x", kind="percent")
    ax.set_xlabel(t("chart.share_customers", lang))
    ax.set_title(t("chart.levels_title", lang))
    ax.legend(loc="lower right")
    return _say(ax, "level_pyramid", lang, n=len(table),
                first=format_percent(table["share_cumulative"].iloc[0], lang))


def plot_reach(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Customers each marketing action can reach."""
    reach = reachable_by_action(data)
    ax = _ax(ax)
    labels = [f"{t(f'action.{a}', lang)} ({'L1–L5' if a == 'one_to_one' else f'L{lv}'})"
              for a, lv in reach["level"].items()]
    y = np.arange(len(reach))[::-1]
    ax.barh(y, reach["customers"], color=[PALETTE[(lv - 1) % 6] for lv in reach["level"]])
    for yi, n, s in zip(y, reach["customers"], reach["share"], strict=True):
        ax.text(n, yi, f" {format_number(n, lang)} ({format_percent(s, lang)})", va="center")
    ax.set_yticks(y, labels)
    ax.set_xlabel(t("chart.customers", lang))
    number_axis(ax, lang, axis="x")
    ax.set_title(t("chart.reach_title", lang))
    ax.set_xlim(0, max(reach["customers"].max(), 1) * 1.3)
    return _say(ax, "reach", lang, n=len(reach),
                best=format_number(int(reach["customers"].max()), lang))


def plot_workflow(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """The incident workflow as a state machine: backlog in each state, moves between them."""
    backlog = tickets_by_state(data)["tickets"]
    moves = transition_counts(data).set_index(["from", "to"])["incidents"]
    ax = _ax(ax, (11, 3.2))
    n = len(TICKET_STATES)
    xs = np.linspace(0.1, 0.9, n)
    for i, (state, role) in enumerate(zip(TICKET_STATES, STATE_ROLES, strict=True)):
        box = FancyBboxPatch((xs[i] - 0.07, 0.35), 0.14, 0.36,
                             boxstyle="round,pad=0.01", fc=PALETTE[i % 6], alpha=0.85,
                             transform=ax.transAxes)
        ax.add_patch(box)
        ax.text(xs[i], 0.6, t(f"value.{state}", lang), ha="center", va="center",
                fontsize=9, weight="bold", transform=ax.transAxes, wrap=True)
        ax.text(xs[i], 0.44, f"{t('chart.now_here', lang)}: {format_number(backlog[state], lang)}",
                ha="center", va="center", fontsize=8, transform=ax.transAxes)
        ax.text(xs[i], 0.22, t(f"value.{role}", lang), ha="center", va="center",
                fontsize=8, style="italic", transform=ax.transAxes)
        if i < n - 1:
            ax.add_patch(FancyArrowPatch((xs[i] + 0.073, 0.53), (xs[i + 1] - 0.073, 0.53),
                                         arrowstyle="-|>", mutation_scale=14,
                                         transform=ax.transAxes, color="#333"))
            count = moves.get((state, TICKET_STATES[i + 1]), 0)
            ax.text((xs[i] + xs[i + 1]) / 2, 0.8, format_number(count, lang), ha="center",
                    fontsize=8, transform=ax.transAxes)
    ax.text(0.5, 0.02, t("chart.moves", lang), ha="center", fontsize=8, color="#555",
            transform=ax.transAxes)
    ax.set_xlim(0, 1)
    ax.set_axis_off()
    ax.set_title(t("chart.workflow_title", lang))
    return _say(ax, "workflow", lang, n=n)


def plot_time_in_state(data: CRMData, *, lang: str = "en", sla_hours: float | None = None,
                       ax: Axes | None = None) -> Axes:
    """Hours incidents spend in each state (log scale), with an optional service level."""
    d = state_durations(data).dropna(subset=["hours"])
    ax = _ax(ax)
    states = list(TICKET_STATES[:-1])
    groups = [d.loc[d["state"] == s, "hours"].clip(lower=0.1).to_numpy() for s in states]
    ax.boxplot(groups, orientation="horizontal", showfliers=True,
               flierprops={"markersize": 2})
    ax.set_yticks(range(1, len(states) + 1), [t(f"value.{s}", lang) for s in states])
    ax.set_xscale("log")
    number_axis(ax, lang, axis="x")
    if sla_hours:
        ax.axvline(sla_hours, color=PALETTE[3], ls="--",
                   label=f"{t('chart.service_level', lang)}: {format_number(sla_hours, lang)} h")
        # below the axes: inside, it would hide the boxes of the last state
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    ax.set_xlabel(t("chart.hours", lang))
    ax.set_title(t("chart.time_in_state_title", lang))
    if sla_hours:
        return _say(ax, "time_in_state_sla", lang, n=len(states),
                    sla=format_number(sla_hours, lang))
    return _say(ax, "time_in_state", lang, n=len(states))


def plot_pipeline(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """The sales pipeline: negotiations per stage and their value."""
    pipe = sales_pipeline(data)
    ax = _ax(ax, (8, 3.5))
    colors = [PALETTE[0] if s == "won" else PALETTE[3] if s == "lost" else PALETTE[4]
              for s in pipe.index]
    y = np.arange(len(pipe))[::-1]
    ax.barh(y, pipe["amount"], color=colors)
    for yi, n, v in zip(y, pipe["negotiations"], pipe["amount"], strict=True):
        amount = format_currency(v, lang, currency=data.currency, decimals=0)
        ax.text(v, yi, f" {n} · {amount}", va="center", fontsize=9)
    ax.set_yticks(y, [t(f"value.{s}", lang) for s in pipe.index])
    ax.set_xlabel(t("column.amount", lang) + f" ({money(data, lang)})")
    number_axis(ax, lang, axis="x")
    ax.set_xlim(0, max(pipe["amount"].max(), 1) * 1.35)
    ax.set_title(t("chart.pipeline_title", lang))
    return _say(ax, "pipeline", lang, n=len(pipe))


def plot_social(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Visits that came from social networks, per month, and the orders they brought."""
    social = social_activity(data)
    months = cast(pd.PeriodIndex, social.index).to_timestamp()  # one row per month
    ax = _ax(ax, (8, 3.5))
    ax.plot(months, social["visits"], marker="o", color=PALETTE[3],
            label=t("label.visits", lang))
    ax.plot(months, social["orders"], marker="s", color=PALETTE[4],
            label=t("label.orders", lang))
    ax.set_xlabel(t("chart.month", lang))
    date_axis(ax, lang)
    number_axis(ax, lang)
    ax.set_title(t("chart.social_visits_title", lang))
    ax.legend()
    return _say(ax, "social", lang, start=_month(months.min(), lang),
                end=_month(months.max(), lang))


def plot_orders_by_hour(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Orders by hour of the day and channel: when customers reach the shop."""
    table = orders_by_hour(data)
    ax = _ax(ax)
    bottom = np.zeros(len(table))
    for i, ch in enumerate(table.columns):
        ax.bar(table.index, table[ch], bottom=bottom, color=PALETTE[i % 6],
               label=t(f"value.{ch}", lang))
        bottom += table[ch].to_numpy()
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel(t("chart.hour", lang))
    ax.set_ylabel(t("table.orders", lang))
    number_axis(ax, lang)
    ax.set_title(t("chart.hour_title", lang))
    ax.legend()
    return _say(ax, "orders_by_hour", lang, hour=int(cast(int, table.sum(axis=1).idxmax())))


def plot_monthly_revenue(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Revenue per month, by channel."""
    o = data.orders[data.orders["status"] != "cancelled"]
    value = order_value(data).reindex(o["order_id"]).to_numpy()
    table = pd.DataFrame({"month": o["placed_at"].dt.to_period("M").dt.to_timestamp(),
                          "channel": o["channel"].fillna("unknown"), "value": value})
    pivot = table.pivot_table(index="month", columns="channel", values="value",
                              aggfunc="sum", fill_value=0)
    ax = _ax(ax)
    pivot.rename(columns=lambda c: t(f"value.{c}", lang)).plot.area(
        ax=ax, color=list(PALETTE[: pivot.shape[1]]), alpha=0.8, x_compat=True)
    ax.set_xlabel("")
    date_axis(ax, lang)
    number_axis(ax, lang)
    ax.legend(title=t("column.channel", lang))
    ax.set_ylabel(t("value.revenue", lang) + f" ({money(data, lang)})")
    ax.set_title(t("chart.monthly_revenue_title", lang))
    return _say(ax, "monthly_revenue", lang, start=_month(pivot.index.min(), lang),
                end=_month(pivot.index.max(), lang))


def plot_stock(data: CRMData, product_id: int, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Stock on hand of one product over time, with the deliveries that refilled it."""
    inv = data.inventory[data.inventory["product_id"] == product_id]
    ax = _ax(ax, (9, 3.5))
    ax.plot(inv["date"], inv["on_hand"], color=PALETTE[4], lw=1.2,
            label=t("column.on_hand", lang))
    rec = inv[inv["units_received"] > 0]
    ax.scatter(rec["date"], rec["on_hand"], s=10, color=PALETTE[2], zorder=3,
               label=t("column.units_received", lang))
    name = cast(str, data.products.set_index("product_id").loc[product_id, "name"])
    ax.set_title(f"{t('chart.stock_title', lang)}: {name}")
    ax.set_ylabel(t("chart.units", lang))
    date_axis(ax, lang)
    number_axis(ax, lang)
    # below the axes, side by side: inside, it would hide the line
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    return _say(ax, "stock", lang, product=name)



def plot_spend_by_age_gender(data: CRMData, *, lang: str = "en", min_customers: int = 5,
                             ax: Axes | None = None) -> Axes:
    """Heat map of the average spend per customer by age band and gender (analytical CRM).

    The numbers are :func:`crmkit.analytics.concepts.spend_by_age_and_gender`'s: a
    cell of fewer than ``min_customers`` customers stays empty, and age bands or
    genders without any cell are left out. Raises :class:`~crmkit.errors.ParameterError`
    when no cell is left (too few customers with a known birth date and gender).
    """
    import seaborn as sns

    table = spend_by_age_and_gender(data, min_customers=min_customers)
    table = table.dropna(how="all").dropna(axis=1, how="all")  # no empty bands
    if table.empty:
        raise ParameterError(t("msg.few_profiles", lang))
    ax = _ax(ax, (7, 0.45 * len(table) + 2))
    values = table.to_numpy(dtype=float)
    written = [["" if np.isnan(v) else format_number(v, lang, decimals=0) for v in row]
               for row in values]
    shown = pd.DataFrame(values, index=[str(b) for b in table.index],
                         columns=[t(f"value.{g}", lang) for g in table.columns])
    sns.heatmap(shown, annot=np.array(written, dtype=object), fmt="", cmap="crest", ax=ax,
                cbar_kws={"label": f"{t('label.revenue_per_customer', lang)} "
                                   f"({money(data, lang)})"})
    ax.set_title(t("chart.spend_title", lang))
    ax.set_ylabel(t("chart.age_band", lang))
    ax.set_xlabel(t("column.gender", lang))
    ax.tick_params(axis="y", rotation=0)
    ax.grid(False)  # the course style's grid would cross the cells
    colorbar = ax.collections[0].colorbar
    if colorbar is not None:
        number_axis(colorbar.ax, lang, decimals=0)
    return _say(ax, "spend_by_age", lang)


def _drilled(months: pd.DataFrame) -> tuple[int, int]:
    """The year and quarter of the months a drill-down shows (``YYYY-MM`` texts)."""
    from ..warehouse.cube import ALL

    shown = pd.PeriodIndex(months.loc[months["year_month"] != ALL, "year_month"], freq="M")
    if shown.empty or len({(p.year, p.quarter) for p in shown}) != 1:
        raise ParameterError("pass the months of one quarter (cube(..., by=['year_month'], "
                             "where='year = ... AND quarter = ...')).")
    return int(shown[0].year), int(shown[0].quarter)


def plot_drill_down(year_quarter: pd.DataFrame, quarters: pd.DataFrame, months: pd.DataFrame,
                    *, lang: str = "en", currency: str | None = None) -> Figure:
    """Roll-up and drill-down side by side: revenue per year, per quarter of one year, per
    month of one quarter (the figure, with three axes).

    ``year_quarter`` is a ``rollup(by=["year", "quarter"])`` of the warehouse, ``quarters``
    the quarters of one year and ``months`` the months of one quarter (``cube`` results
    with a ``revenue`` column; their ``(all)`` subtotal rows are not drawn). ``currency``
    is the symbol written on the revenue axis.
    """
    from ..warehouse.cube import ALL

    year, quarter = _drilled(months)
    years = year_quarter[(year_quarter["year"] != ALL) & (year_quarter["quarter"] == ALL)]
    q = quarters[quarters["quarter"] != ALL]
    m = months[months["year_month"] != ALL]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
    parts = [
        ([str(y) for y in years["year"]], years["revenue"], t("chart.drill_year_title", lang)),
        ([t("label.quarter_prefix", lang) + str(k) for k in q["quarter"]], q["revenue"],
         t("chart.drill_quarter_title", lang).format(year=year)),
        ([format_date(f"{ym}-01", lang, skeleton="yMMM") for ym in m["year_month"]],
         m["revenue"], t("chart.drill_month_title", lang).format(year=year, quarter=quarter)),
    ]
    for i, (ax, (labels, revenue, title)) in enumerate(zip(axes, parts, strict=True)):
        ax.bar(labels, pd.to_numeric(revenue).to_numpy(dtype=float), color=PALETTE[i])
        ax.set_title(title, fontsize="medium")
        number_axis(ax, lang)
    unit = f" ({currency})" if currency else ""
    axes[0].set_ylabel(t("value.revenue", lang) + unit)
    for ax in axes:
        locale_axes(ax, lang)
    _say(axes[0], "drill_down", lang, year=year, quarter=quarter)
    return fig


def plot_spend_per_customer(spend: pd.Series, *, lang: str = "en", currency: str | None = None,
                            bins: int = 40, ax: Axes | None = None) -> Axes:
    """Histogram of what each customer spent (one value per customer), counts on a log scale.

    Spend is skewed: a few customers spend many times the rest, so the counts are drawn
    on a logarithmic scale to keep the few big spenders visible. ``currency`` is the
    symbol written on the amount axis.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_spend_per_customer(pd.Series([12.5, 40.0, 40.0, 2500.0]), lang="es")
    >>> int(sum(p.get_height() for p in ax.patches))
    4
    >>> plt.close(ax.figure)
    """
    values = pd.to_numeric(pd.Series(spend), errors="coerce").dropna().to_numpy(dtype=float)
    if not len(values):
        raise ParameterError("pass what each customer spent (a series of numbers); it is empty.")
    ax = _ax(ax, (8, 3.6))
    ax.hist(values, bins=bins, color=PALETTE[4], log=True)
    ax.set_xlabel(t("label.revenue_per_customer", lang) + _unit(currency))
    ax.set_ylabel(t("chart.customers", lang))
    ax.set_title(t("chart.spend_per_customer_title", lang))
    ax.minorticks_off()  # the log scale's minor labels (2×10¹) would crowd the axis
    number_axis(ax, lang, axis="x")
    number_axis(ax, lang, decimals=0)
    return _say(ax, "spend_per_customer", lang, n=format_number(len(values), lang),
                low=_amount(values.min(), lang, currency),
                high=_amount(values.max(), lang, currency),
                median=_amount(float(np.median(values)), lang, currency))


def _amount(value: float, lang: str, symbol: str | None) -> str:
    """A whole amount with the currency's symbol where ``lang`` writes it (``12 €``, ``$12``).

    >>> _amount(1234.4, "es", "€"), _amount(1234.4, "en", "$"), _amount(5, "en", None)
    ('1.234\xa0€', '$1,234', '5')
    """
    number = format_number(value, lang, decimals=0)
    if not symbol:
        return number
    return f"{number}\u00a0{symbol}" if lang == "es" else f"{symbol}{number}"


def plot_acquisition(report: pd.DataFrame, *, lang: str = "en", currency: str | None = None,
                     ax: Axes | None = None) -> Axes:
    """Horizontal bars: the revenue of the customers each acquisition channel brought.

    ``report`` is :func:`crmkit.analytics.concepts.acquisition_report`'s table (one row
    per channel code, a ``revenue`` column); the channels are named by the catalog.
    """
    if "revenue" not in report.columns or report.empty:
        raise ParameterError("pass the table of acquisition_report(...) (it has a 'revenue' "
                             "column and a row per channel).")
    revenue = pd.to_numeric(report["revenue"]).sort_values()
    ax = _ax(ax, (8, 0.4 * len(revenue) + 1.6))
    ax.barh([_label(c, lang) for c in revenue.index], revenue.to_numpy(dtype=float),
            color=PALETTE[1])
    ax.set_xlabel(t("value.revenue", lang) + _unit(currency))
    ax.set_title(t("chart.acquisition_title", lang))
    number_axis(ax, lang, axis="x")
    return _say(ax, "acquisition", lang, n=len(revenue), best=_label(revenue.idxmax(), lang))


def plot_segments_over_time(counts: pd.DataFrame, *, lang: str = "en",
                            ax: Axes | None = None) -> Axes:
    """Grouped bars: customers per segment on a few days, each count written on its bar.

    ``counts`` has one row per segment code and one column per day; a column named by a
    catalog label (``snapshot``, ``second_batch``) is written in ``lang``, a date by the
    locale, anything else as it is.
    """
    if counts.empty:
        raise ParameterError("pass a table of customers per segment (rows) and day (columns).")
    days = [format_date(c, lang) if isinstance(c, pd.Timestamp | date) else
            _label(c, lang, "label") for c in counts.columns]
    x = np.arange(len(counts))
    width = 0.8 / counts.shape[1]
    ax = _ax(ax, (max(6.0, 1.3 * len(counts) * counts.shape[1] / 2 + 3), 4))
    for i, (day, column) in enumerate(zip(days, counts.columns, strict=True)):
        values = counts[column].to_numpy(dtype=float)
        bars = ax.bar(x + (i - (counts.shape[1] - 1) / 2) * width, values, width,
                      color=PALETTE[(2 * i) % 6], label=day)
        ax.bar_label(bars, labels=[format_number(v, lang, decimals=0) for v in values],
                     fontsize=8, padding=2)
    ax.set_xticks(x, [_label(s, lang) for s in counts.index])
    ax.set_ylim(0, max(float(np.nanmax(counts.to_numpy(dtype=float))), 1.0) * 1.15)
    ax.set_ylabel(t("chart.customers", lang))
    ax.set_title(t("chart.segments_over_time_title", lang))
    number_axis(ax, lang, decimals=0)
    # below the axes, side by side: inside, it would cover the written counts
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(days), frameon=False)
    return _say(ax, "segments_over_time", lang, n=len(counts),
                days=format_list([f"«{d}»" if lang == "es" else f"“{d}”" for d in days],
                                 locale=LOCALES[lang]))


def plot_query_time(seconds: Mapping[str, float], *, lang: str = "en",
                    ax: Axes | None = None) -> Axes:
    """Horizontal bars: how long the same question takes on each model, in milliseconds.

    ``seconds`` maps each model's code (``star``, ``snowflake``; named by the catalog)
    to the time of its query in seconds; each bar has its time written beside it.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_query_time({"star": 0.0012, "snowflake": 0.0031}, lang="es")
    >>> [x.get_text() for x in ax.texts]
    [' 1,2 ms', ' 3,1 ms']
    >>> plt.close(ax.figure)
    """
    times = pd.Series(seconds, dtype=float) * 1000
    if times.empty:
        raise ParameterError("pass the seconds of each model's query, e.g. "
                             "{'star': 0.0012, 'snowflake': 0.0031}.")
    y = np.arange(len(times))[::-1]
    ax = _ax(ax, (8, 0.45 * len(times) + 1.6))
    ax.barh(y, times.to_numpy(), color=[PALETTE[i % 6] for i in range(len(times))])
    for yi, ms in zip(y, times, strict=True):
        ax.text(ms, yi, f" {format_number(ms, lang, decimals=1)} ms", va="center")
    ax.set_yticks(y, [_label(m, lang, "label") for m in times.index])
    ax.set_xlim(0, max(float(times.max()), 1e-3) * 1.25)  # room for the written times
    ax.set_xlabel(t("column.milliseconds", lang))
    ax.set_title(t("chart.query_time_title", lang))
    number_axis(ax, lang, axis="x")
    return _say(ax, "query_time", lang, n=len(times),
                best=_label(times.idxmin(), lang, "label").lower())
