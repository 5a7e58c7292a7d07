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

from datetime import date
from typing import cast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
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
