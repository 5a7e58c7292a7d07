"""The dashboard ("cuadro de mando"): the four KPIs against target, segments, top campaigns.

One page a shop owner reads in a minute:

* four tiles, one per KPI (footfall, conversion rate, Customer
  Profitability Score per customer, active customers), each with its value
  over the last three months, its target and a light (blue / yellow / orange, colour-blind
  safe, with its meaning in words);
* the monthly trend of each KPI against its target line;
* segment sizes and the campaigns that paid off best (ROI, uplift).

:func:`dashboard_figure` draws it (matplotlib), :func:`dashboard_html`
writes it as a self-contained HTML page (pictures embedded, no internet
needed) and :func:`show_dashboard` shows it in a notebook, with period,
traffic-source and segment pickers when ipywidgets is available.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from crmkit.dataset.synth import generate
>>> data = generate("bendita", n_customers=300, seed=1)
>>> parts = dashboard_tables(data)
>>> list(parts["board"].index)
['sessions', 'conversion_rate', 'cps_per_customer', 'active_customers']
>>> html = dashboard_html(data, lang="es")
>>> "Cuadro de mando" in html and "data:image/png;base64," in html
True

A shop's own data shows what it has: an order log without web visits or
product costs gets the tiles of the KPIs it can measure, in its own currency.

>>> from crmkit.dataset.crmdata import CRMData
>>> log = CRMData({k: data.tables[k] for k in ("orders", "order_lines")},
...               {"shop_name": "Disco Sur", "currency": "USD"})
>>> list(dashboard_tables(log)["board"].index)
['active_customers']
>>> "Disco Sur" in dashboard_html(log)
True
"""

from __future__ import annotations

import base64
import html as _html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure

from ..analytics.campaigns import (
    campaign_label,
    effectiveness,
    incremental_effect,
    rfm_segments,
)
from ..analytics.kpis import KPI_NAMES, cps_missing, monthly_kpis, product_costs
from ..analytics.segments import SEGMENTS
from ..dataset.crmdata import CRMData
from ..errors import ParameterError
from ..i18n import (
    check_lang,
    date_axis,
    describe_figure,
    figure_description,
    format_currency,
    format_date,
    format_message,
    format_number,
    format_percent,
    number_axis,
    t,
)
from .notebook import shop_title

if TYPE_CHECKING:
    import ipywidgets as w
    from IPython.display import DisplayHandle

    #: The dashboard's controls: their box, the period slider, the months shown and the
    #: source and segment pickers.
    Pickers = tuple[w.HBox, w.SelectionRangeSlider, w.Label, w.Dropdown, w.Dropdown]

__all__ = ["dashboard_tables", "board", "filter_data", "dashboard_figure", "dashboard_html",
           "write_dashboard", "show_dashboard", "view_bundle", "missing_reason", "fmt_kpi",
           "target_text", "basis_text", "kpi_rows", "legend", "heads",
           "plot_conversion_heatmap", "COLOURS", "TABLES"]

#: The lights of the KPIs against target, from seaborn's "colorblind" palette: sky blue at or
#: above target, yellow just below, orange further below (never red against green, which a
#: red-green colour-blind reader cannot tell apart); each light also says its meaning in
#: words with a mark (✔ ≈ ✖), so the colour is never the only sign.
COLOURS = {"green": "#56b4e9", "amber": "#ece133", "red": "#de8f05", "grey": "#adb5bd"}

#: The tables the dashboard reads (its KPIs, segments, campaigns and pickers): a dataset
#: loaded with only these (``CRMData.load(folder, tables=TABLES)``) gives the same page
#: without holding the others in memory.
TABLES = ("orders", "order_lines", "products", "customers", "web_sessions", "campaigns",
          "campaign_contacts", "tickets")


def fmt_kpi(data: CRMData, kpi: str, value: float | None, lang: str = "en", *,
            sign: bool = False) -> str:
    """A KPI's value as ``lang`` writes it: money in the shop's currency, rates as
    percentages, counts as whole numbers; a missing value is a dash.

    >>> from types import SimpleNamespace
    >>> shop = SimpleNamespace(currency="USD")   # a CRMData; only its currency is read
    >>> fmt_kpi(shop, "cps_per_customer", 67.356, "es"), fmt_kpi(shop, "sessions", 1477, "es")
    ('67,36\xa0US$', '1.477')
    >>> fmt_kpi(shop, "conversion_rate", 0.0312, "en"), fmt_kpi(shop, "sessions", float("nan"))
    ('3.12%', '–')
    """
    if value is None or pd.isna(value):
        return "–"
    if kpi == "conversion_rate":
        text = format_percent(value, lang, decimals=2)
    elif kpi == "cps_per_customer":
        text = format_currency(value, lang, currency=data.currency)
    else:
        text = format_number(value, lang, decimals=0 if not sign else 1)
    return ("+" + text) if sign and value > 0 else text


def missing_reason(data: CRMData, kpi: str, lang: str = "en", *,
                   margin: float | None = None) -> str | None:
    """Why the shop's data cannot give ``kpi`` (in ``lang``), or None when it can."""
    if kpi in ("sessions", "conversion_rate"):
        return None if data.has("web_visits") else t("dash.missing_web", lang)
    if kpi == "cps_per_customer":
        why = cps_missing(data, margin=margin)
        if why is None:
            return None
        return format_message(t(f"dash.missing_{why['reason']}", lang), lang,
                              known=why["known"], sold=why["sold"])
    return None


def _margin_note(data: CRMData, margin: float | None, lang: str) -> str:
    """The stated margin beside a CPS that uses it (some product costs unknown)."""
    known, sold = product_costs(data)
    if margin is None or known == sold:
        return ""
    return " (" + format_message(t("dash.with_margin", lang), lang, margin=margin,
                                 known=known, sold=sold) + ")"


def filter_data(data: CRMData, *, start: str | None = None, end: str | None = None,
                source: str | None = None, segment: str | None = None) -> CRMData:
    """A copy of ``data`` restricted to months ``start``..``end`` (``YYYY-MM``), one traffic
    ``source`` (web visits) and one RFM ``segment`` (its customers, their orders, visits,
    contacts and incidents). ``None`` keeps everything."""
    tables = {k: v for k, v in data.tables.items() if data.has(k)}
    if segment is not None:
        if segment not in SEGMENTS:
            raise ParameterError(f"segment={segment!r} is not an RFM segment; choose one of "
                                 f"{', '.join(SEGMENTS)}.")
        seg = rfm_segments(data)
        ids = seg.index[seg == segment]
        for name in ("customers", "orders", "web_sessions", "campaign_contacts", "tickets"):
            if name in tables:
                tables[name] = tables[name][tables[name]["customer_id"].isin(ids)]
    if source is not None:
        data.require("web", analysis="filtering by traffic source")
        s = tables["web_sessions"]  # already the segment's sessions when a segment is chosen
        tables["web_sessions"] = s[s["traffic_source"] == source]
    if start is not None or end is not None:
        lo = pd.Period(start or "1900-01", "M").start_time
        hi = pd.Period(end or "2999-12", "M").end_time
        for name, col in (("orders", "placed_at"), ("web_sessions", "started_at"),
                          ("campaign_contacts", "sent_at"), ("tickets", "opened_at")):
            if name in tables:
                df = tables[name]
                tables[name] = df[(df[col] >= lo) & (df[col] <= hi)]
        if "campaigns" in tables:
            c = tables["campaigns"]
            tables["campaigns"] = c[(c["end_date"] >= lo) & (c["start_date"] <= hi)]
    if "order_lines" in tables:
        keep = set(tables["orders"]["order_id"])
        tables["order_lines"] = data.order_lines[data.order_lines["order_id"].isin(keep)]
    return CRMData(tables, data.manifest, data.truth)


def _months_text(first: pd.Period, last: pd.Period, lang: str) -> str:
    """``Jul – Sep 2025`` style: the months a value or a target averages, in ``lang``."""
    a = format_date(first.to_timestamp(), lang, skeleton="yMMM")
    if first == last:
        return a
    return a + " – " + format_date(last.to_timestamp(), lang, skeleton="yMMM")


def board(monthly: pd.DataFrame, *, start: str | None = None, end: str | None = None,
          targets: dict | None = None, window: int = 3, amber: float = 0.05) -> pd.DataFrame:
    """One row per KPI of ``monthly`` (the whole history, already filtered by source and
    segment): the value over the period ``start``..``end`` shown, its target, trend and light.

    ``value`` is the mean of the last ``n`` whole months of the period shown
    (``n`` = ``window``, fewer when the period or the history is short);
    ``target`` is the mean of the ``n`` whole months just before them (the
    previous period of the same length), or ``targets[kpi]`` when set: never
    derived from the value itself. Without earlier whole months there is no
    target and the light is grey. ``basis`` says which (``previous``, ``set``,
    ``none``); ``value_from``..``value_to`` and ``target_from``..``target_to``
    are the months used. A month marked ``partial`` is never used.

    >>> m = pd.DataFrame({"sessions": [100.0] * 6, "partial": [False] * 6},
    ...                  index=pd.period_range("2025-01", periods=6, freq="M"))
    >>> b = board(m, start="2025-06", end="2025-06")   # one month shown: flat is on target
    >>> r = b.loc["sessions"]
    >>> print(r["value"], r["target"], r["status"], r["basis"])
    100.0 100.0 green previous
    >>> str(b.loc["sessions", "target_from"]), board(m, targets={"sessions": 120}).loc[
    ...     "sessions", "status"]
    ('2025-05', 'red')
    """
    from ..analytics.kpis import status, trend

    if window < 1:
        raise ParameterError(f"window={window!r} must be >= 1.")
    targets = targets or {}
    lo = pd.Period(start, "M") if start else None
    hi = pd.Period(end, "M") if end else None
    index = monthly.index
    shown = ((index >= lo) if lo is not None else True) & ((index <= hi) if hi is not None
                                                           else True)
    whole = ~monthly["partial"].astype(bool).to_numpy() if "partial" in monthly else np.ones(
        len(monthly), dtype=bool)
    view = monthly[np.asarray(shown) & whole] if len(monthly) else monthly
    available = index[whole]
    n = min(window, len(view))
    # the previous period must be the n calendar months just before, all whole
    prev_n = n
    while prev_n > 0:
        months = pd.period_range(end=view.index[-prev_n] - 1, periods=prev_n, freq="M")
        if len(view) >= prev_n and months.isin(available).all():
            break
        prev_n -= 1
    full_view = lo is None and hi is None
    if full_view and prev_n < n:  # the whole history: shrink the window so a target exists
        n = prev_n or n
    rows = []
    for kpi in [k for k in KPI_NAMES if k in monthly] + [
            str(k) for k in monthly if k not in KPI_NAMES and k not in ("visitors", "partial")]:
        col = pd.to_numeric(view[kpi], errors="coerce")
        value_months = view.index[-n:] if n else view.index[:0]
        value = float(col.loc[value_months].mean()) if n else float("nan")
        row: dict[str, Any] = {"kpi": kpi, "value": value, "trend": trend(col), "window": n,
               "value_from": value_months.min() if n else pd.NaT,
               "value_to": value_months.max() if n else pd.NaT,
               "target_from": pd.NaT, "target_to": pd.NaT}
        if kpi in targets:
            row.update(target=float(targets[kpi]), basis="set")
        elif n and prev_n == n:
            months = pd.period_range(end=value_months[0] - 1, periods=n, freq="M")
            row.update(target=float(pd.to_numeric(monthly.loc[months, kpi],
                                                  errors="coerce").mean()),
                       basis="previous", target_from=months[0], target_to=months[-1])
        else:
            row.update(target=float("nan"), basis="none")
        row["status"] = status(row["value"], row["target"], amber=amber)
        rows.append(row)
    cols = ["value", "trend", "target", "status", "window", "basis", "value_from", "value_to",
            "target_from", "target_to"]
    out = pd.DataFrame(rows, columns=["kpi"] + cols).set_index("kpi")
    return out.round({"value": 4, "target": 4, "trend": 4})


def target_text(kpi: str, row: pd.Series, data: CRMData, lang: str = "en") -> str:
    """What a tile says about its target: the number and where it comes from."""
    if row["basis"] == "none" or pd.isna(row["target"]):
        return t("dashboard.target_none", lang)
    target = fmt_kpi(data, kpi, row["target"], lang)
    if row["basis"] == "set":
        return format_message(t("dashboard.target_set", lang), lang, target=target)
    key = "dashboard.target_previous_one" if row["window"] == 1 else "dashboard.target_previous"
    return format_message(t(key, lang), lang, target=target, n=int(row["window"]),
                          months=_months_text(row["target_from"], row["target_to"], lang))


def status_text(row: pd.Series, lang: str = "en") -> str:
    """The light's meaning in ``lang``; a KPI measured but without a target says so."""
    if row["status"] == "grey" and not pd.isna(row["value"]) and pd.isna(row["target"]):
        return t("dashboard.no_target", lang)
    return t(f"dash.{row['status']}", lang)


def _whole_history(data: CRMData, monthly: pd.DataFrame) -> pd.DataFrame:
    """``monthly`` on every month of the shop's history: a month without sessions has 0
    sessions (not "unknown") when the shop records visits; without orders, 0 active
    customers; ``partial`` from the days the data cover."""
    from ..analytics.kpis import period_days

    first, last = period_days(data)
    months = pd.period_range(first, last, freq="M", name="month")
    if len(monthly):
        months = months.union(cast(pd.PeriodIndex, monthly.index))  # one row per month
    out = monthly.reindex(months)
    if data.has("web") and len(data.web_sessions):  # a shop that records visits
        for col in ("sessions", "visitors"):
            out[col] = out[col].fillna(0)
    out["active_customers"] = out["active_customers"].fillna(0).astype(int)
    # pandas-stubs type Series.clip's bounds as numbers; pandas clips days by a Timestamp
    lo = pd.Series(months.start_time.normalize()).clip(lower=first)  # type: ignore[call-overload]
    hi = pd.Series(months.end_time.normalize()).clip(upper=last)  # type: ignore[call-overload]
    days = (hi - lo).dt.days.to_numpy() + 1
    out["partial"] = days < np.asarray(months.days_in_month)
    return out


def dashboard_tables(data: CRMData, *, targets: dict | None = None, top: int = 5,
                     margin: float | None = None, lang: str = "en", start: str | None = None,
                     end: str | None = None, source: str | None = None,
                     segment: str | None = None) -> dict:
    """The numbers behind the dashboard: ``monthly`` KPIs of the period shown, ``board``
    (value, trend, target, status per KPI: :func:`board`), ``segments`` (customers per
    segment), ``campaigns`` (top by ROI) and ``missing`` (each KPI the data cannot give,
    with the reason in ``lang``).

    ``start``/``end`` (``YYYY-MM``), ``source`` and ``segment`` filter as
    :func:`filter_data` does; targets come from the months before the period
    shown, with the same source and segment. The board holds the KPIs the
    shop's data can measure; ``campaigns`` is empty without campaign data. The
    CPS needs every product's cost, or a stated ``margin``."""
    check_lang(lang)
    chosen = filter_data(data, source=source, segment=segment)
    monthly = _whole_history(data, monthly_kpis(chosen, margin=margin))
    lo = pd.Period(start, "M") if start else monthly.index.min()
    hi = pd.Period(end, "M") if end else monthly.index.max()
    shown = monthly[(monthly.index >= lo) & (monthly.index <= hi)]
    if shown.empty or shown["partial"].all():
        raise ParameterError(t("dashboard.no_whole_month", lang))
    measured = [k for k in KPI_NAMES if monthly[k].notna().any()]
    kept = board(monthly[measured + ["partial"]], start=start, end=end, targets=targets)
    missing = {k: missing_reason(data, k, lang, margin=margin) or t("dash.grey", lang)
               for k in KPI_NAMES if k not in measured}
    part = filter_data(chosen, start=str(lo), end=str(hi))
    # each customer's segment as the segment filter knows it (the whole history), for the
    # customers the filters keep: a chosen segment shows that one bar
    everyone = rfm_segments(data)
    kept_ids = chosen.customers["customer_id"] if chosen.has("customers") else everyone.index
    segments = (everyone[everyone.index.isin(kept_ids)].value_counts()
                .reindex(list(SEGMENTS), fill_value=0).rename("customers"))
    segments.index.name = "segment"
    camp = (effectiveness(part) if all(part.has(t) for t in (
        "marketing", "customers", "profitability")) and len(part.campaigns) else pd.DataFrame())
    if len(camp):
        camp = camp[camp["reach"] > 0]
        if len(camp) and len(part.campaign_contacts):
            camp = camp.join(incremental_effect(part)[["uplift", "ci_low", "ci_high"]])
        camp = camp.sort_values("roi", ascending=False).head(top)
    return {"monthly": shown, "board": kept, "segments": segments, "campaigns": camp,
            "missing": missing, "margin": margin,
            "filters": {"start": str(lo), "end": str(hi), "source": source,
                        "segment": segment}}


def _every_source(kpi: str, tables: dict | None, lang: str) -> str:
    """' (all traffic sources)' beside a KPI a traffic source does not filter."""
    chosen = (tables or {}).get("filters", {}).get("source")
    if chosen is None or kpi in ("sessions", "conversion_rate"):
        return ""
    return f" ({t('dashboard.all_sources', lang)})"


def _tile(ax: Axes, kpi: str, row: pd.Series, lang: str, data: CRMData,
          margin: float | None = None, tables: dict | None = None) -> None:
    import textwrap

    ax.set_axis_off()
    ax.add_patch(plt.Rectangle((0, 0), 1, 1, color=COLOURS[row["status"]], alpha=0.9,
                               transform=ax.transAxes))
    arrow = "▲" if row["trend"] > 0 else ("▼" if row["trend"] < 0 else "■")
    ax.text(0.05, 0.8, t(f"kpi.{kpi}", lang), fontsize=10, weight="bold",
            transform=ax.transAxes)
    ax.text(0.05, 0.52, fmt_kpi(data, kpi, row["value"], lang) + f" {arrow}", fontsize=16,
            transform=ax.transAxes)
    # the light in words, beside its colour: a reader who cannot tell the colours apart
    # still reads whether the KPI is above or below its target
    ax.text(0.05, 0.38, status_text(row, lang), fontsize=8.5, weight="bold", va="top",
            transform=ax.transAxes)
    note = _margin_note(data, margin, lang) if kpi == "cps_per_customer" else ""
    text = target_text(kpi, row, data, lang) + note + _every_source(kpi, tables, lang)
    ax.text(0.05, 0.22, textwrap.fill(text, 44), fontsize=7, va="top",
            transform=ax.transAxes)


def _missing_tile(ax: Axes, kpi: str, reason: str, lang: str) -> None:
    import textwrap

    ax.set_axis_off()
    ax.add_patch(plt.Rectangle((0, 0), 1, 1, color=COLOURS["grey"], alpha=0.5,
                               transform=ax.transAxes))
    ax.text(0.05, 0.78, t(f"kpi.{kpi}", lang), fontsize=10, weight="bold",
            transform=ax.transAxes)
    ax.text(0.05, 0.62, textwrap.fill(reason, 44), fontsize=7.5, va="top",
            transform=ax.transAxes)


def _trend(ax, kpi, monthly, board, lang, data, first):
    colour = "#0173b2"  # the KPI's line; its light is on the tile above, in colour and words
    x = monthly.index.to_timestamp()
    part = monthly["partial"].to_numpy(dtype=bool)
    y = monthly[kpi].where(~part)
    ax.plot(x, y, marker="o", ms=3, color=colour)
    if part.any():
        ax.plot(x[part], monthly.loc[part, kpi], ls="none", marker="o", ms=5, mfc="white",
                color=colour, label=t("dash.partial", lang))
    if not pd.isna(board.loc[kpi, "target"]):
        ax.axhline(board.loc[kpi, "target"], ls="--", color="#264653", lw=1,
                   label=t("dash.target", lang))
    ax.set_title(t(f"kpi.{kpi}", lang), fontsize=9)
    kind = {"conversion_rate": "percent", "cps_per_customer": "currency"}.get(kpi, "number")
    number_axis(ax, lang, kind=kind, currency=data.currency,
                decimals=1 if kind == "percent" else 0)
    date_axis(ax, lang)
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, len(monthly) // 8)))
    if kind == "number":  # counts: whole ticks, never "8 8 7 7" on a short period
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelsize=7, rotation=45)
    ax.tick_params(axis="y", labelsize=7)
    if (first or part.any()) and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def dashboard_figure(data: CRMData, *, lang: str = "en", targets: dict | None = None,
                     tables: dict | None = None, margin: float | None = None) -> Figure:
    """The dashboard as one matplotlib figure (returned; the caller shows or saves it).

    A KPI the data cannot give keeps its place as a grey tile saying what is
    missing; months the data cover only in part are drawn hollow and not judged.
    """
    check_lang(lang)
    tables = tables or dashboard_tables(data, targets=targets, margin=margin, lang=lang)
    board, monthly = tables["board"], tables["monthly"]
    fig = plt.figure(figsize=(13, 8.5), layout="constrained")
    grid = fig.add_gridspec(3, 4, height_ratios=[0.55, 1.1, 1.2])
    for i, kpi in enumerate(KPI_NAMES):
        if kpi not in board.index:
            _missing_tile(fig.add_subplot(grid[0, i]), kpi, tables["missing"][kpi], lang)
            continue
        _tile(fig.add_subplot(grid[0, i]), kpi, board.loc[kpi], lang, data,
              tables.get("margin"), tables)
        _trend(fig.add_subplot(grid[1, i]), kpi, monthly, board, lang, data,
               first=i == min(KPI_NAMES.index(k) for k in board.index))
    ax = fig.add_subplot(grid[2, 0])
    seg = tables["segments"]
    ax.barh([t(f"rfm_segment.{s}", lang) for s in seg.index], seg.to_numpy(), color="#264653")
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(t("dash.segments", lang), fontsize=9)
    number_axis(ax, lang, axis="x", decimals=0)
    ax = fig.add_subplot(grid[2, 1:])
    ax.set_axis_off()
    ax.set_title(t("dash.top_campaigns", lang), fontsize=9)
    camp = tables["campaigns"]
    if len(camp):
        cols = ["reach", "conversions", "revenue", "cost", "roi"]
        uplift = camp["uplift"] if "uplift" in camp else pd.Series(np.nan, index=camp.index)
        cur = data.currency
        cells = [[_shortened(campaign_label(str(r["name"]), lang))]
                 + [format_number(r[c], lang, decimals=0) for c in cols[:2]]
                 + [format_currency(r[c], lang, currency=cur, decimals=0) for c in cols[2:4]]
                 + [format_number(r["roi"], lang, decimals=1)]
                 + ["–" if pd.isna(u) else ("+" if u > 0 else "")
                    + format_number(u * 100, lang, decimals=1)]
                 for (_, r), u in zip(camp.iterrows(), uplift, strict=True)]
        table = ax.table(cellText=cells, colLabels=[t("dash.campaign", lang)]
                         + [t(f"dash.{c}", lang) for c in cols] + [t("dash.uplift", lang)],
                         loc="upper center",
                         # the longest Spanish name, "Venta cruzada sept 2024 (Correo
                         # electrónico) [B]", and the longest head fit their columns
                         colWidths=[0.37, 0.09, 0.11, 0.1, 0.08, 0.08, 0.13])
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.3)
        for (row, column), cell in table.get_celld().items():
            if column == 0 and row > 0:  # a name reads from the left, close to its border
                cell.get_text().set_horizontalalignment("left")
                cell.PAD = 0.03
    else:
        none = "dash.no_campaigns" if data.has("marketing") else "dash.no_campaign_data"
        ax.text(0.5, 0.5, t(none, lang), ha="center")
    fig.suptitle(t("dash.title", lang) + f" · {shop_title(data, lang)}", fontsize=14,
                 weight="bold")
    describe_figure(fig.axes[0], format_message(t("plot_alt.dashboard", lang), lang,
                                                shop=shop_title(data, lang)))
    return fig


def _shortened(name: str, width: int = 50) -> str:
    """A campaign's name that fits its column (a generated one has at most 48 characters):
    a longer one, a shop's own, is cut at a word and the cut marked by "…".

    >>> _shortened("Rebajas de enero")
    'Rebajas de enero'
    >>> _shortened("Campaña de primavera para los clientes de la tienda física")
    'Campaña de primavera para los clientes de la…'
    """
    if len(name) <= width:
        return name
    return name[:width - 1].rsplit(" ", 1)[0].rstrip(" ([·,") + "…"


def _value_label(code: object, lang: str) -> str:
    try:
        return t(f"value.{code}", lang)
    except ParameterError:  # a code the catalog does not know is shown as the data has it
        return str(code)


def plot_conversion_heatmap(table: pd.DataFrame, *, lang: str = "en",
                            ax: Axes | None = None) -> Axes:
    """The conversion rate by traffic source (rows) and device (columns) as a heat map:
    a size that fits its cells, a colour-blind-safe scale (cividis, from 0), labels and
    percentages in ``lang``. ``table`` is ``experiments.conversion_heatmap(data)``.

    >>> import pandas as pd
    >>> tab = pd.DataFrame({"desktop": [0.05, 0.02], "mobile": [0.031, 0.0]},
    ...                    index=pd.Index(["email", "organic"], name="traffic_source"))
    >>> ax = plot_conversion_heatmap(tab, lang="es")
    >>> [x.get_text() for x in ax.texts], ax.get_yticklabels()[1].get_text()
    (['5,0\xa0%', '3,1\xa0%', '2,0\xa0%', '0,0\xa0%'], 'Búsqueda orgánica')
    """
    import seaborn as sns

    check_lang(lang)
    shown = table.rename(index=lambda v: _value_label(v, lang),
                         columns=lambda v: _value_label(v, lang)).astype(float)
    if ax is None:
        widest = max((len(str(v)) for v in shown.index), default=8)
        size = (2.6 + 0.09 * widest + 1.25 * shown.shape[1], 1.4 + 0.48 * shown.shape[0])
        ax = plt.figure(figsize=size, layout="constrained").add_subplot()
    labels = shown.map(lambda v: "" if pd.isna(v) else format_percent(v, lang, decimals=1))
    sns.heatmap(shown, annot=labels.to_numpy(), fmt="", cmap="cividis", vmin=0,
                linewidths=0.5, ax=ax, cbar_kws={"label": t("column.conversion_rate", lang)})
    colorbar = cast(Colorbar, ax.collections[0].colorbar)  # the heat map draws one
    number_axis(colorbar.ax, lang, kind="percent", decimals=1)
    ax.set_xlabel(t("column.device", lang))
    ax.set_ylabel(t("column.traffic_source", lang))
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=0)
    ax.set_title(t("case.conversion_title", lang))
    rates = cast(pd.Series, shown.stack())  # one level of columns: a Series by (row, column)
    source, device = cast(tuple[Any, Any], rates.idxmax())
    return describe_figure(ax, format_message(
        t("plot_alt.conversion_heatmap", lang), lang, rows=shown.shape[0],
        columns=shown.shape[1], best=f"{format_percent(rates.max(), lang, decimals=1)}"
        f" ({source}, {device})"))


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def legend(tables: dict, lang: str = "en") -> str:
    """What the lights mean and where value and target come from, with the partial months
    left out, in ``lang``."""
    board, monthly = tables["board"], tables["monthly"]
    window = int(board["window"].max()) if len(board) else 0
    key = "dashboard.legend_one" if window == 1 else "dashboard.legend"
    text = format_message(t(key, lang), lang, n=window)
    partial = [m for m, p in monthly["partial"].items() if p]
    if partial:
        months = ", ".join(format_date(m.to_timestamp(), lang, skeleton="yMMMM") for m in partial)
        text += " " + format_message(t("dash.partial_note", lang), lang, months=months)
    return text


def heads(tables: dict, lang: str = "en") -> list[str]:
    """The column heads of the KPI table; the value's says how many months it averages."""
    board = tables["board"]
    window = int(board["window"].max()) if len(board) else 0
    value = (t("dash.value", lang) if window == 3 else
             format_message(t("dash.value_one" if window == 1 else "dash.value_n", lang), lang,
                            n=window))
    return [t("dash.kpi", lang), value] + [t(k, lang) for k in (
        "dash.target", "dashboard.target_basis", "dash.trend", "dash.status",
        "dash.definition")]


def basis_text(row: pd.Series, lang: str = "en") -> str:
    """Where a KPI's target comes from, in ``lang`` (a cell of the KPI table)."""
    if row["basis"] == "set":
        return t("dashboard.basis_set", lang)
    if row["basis"] != "previous":
        return t("dashboard.basis_none", lang)
    key = "dashboard.basis_previous_one" if row["window"] == 1 else "dashboard.basis_previous"
    return format_message(t(key, lang), lang, n=int(row["window"]),
                          months=_months_text(row["target_from"], row["target_to"], lang))


def kpi_rows(data: CRMData, tables: dict, lang: str = "en") -> str:
    """The KPI table's rows as HTML (value, target, its basis, trend, light, definition)."""
    esc = _html.escape
    margin = tables.get("margin")
    rows = []
    for kpi, r in tables["board"].iterrows():
        note = _margin_note(data, margin, lang) if kpi == "cps_per_customer" else ""
        note += _every_source(kpi, tables, lang)
        rows.append(
            f"<tr><td>{esc(t(f'kpi.{kpi}', lang))}</td>"
            f"<td>{esc(fmt_kpi(data, kpi, r['value'], lang) + note)}</td>"
            f"<td>{esc(fmt_kpi(data, kpi, r['target'], lang))}</td>"
            f"<td>{esc(basis_text(r, lang))}</td>"
            f"<td>{esc(fmt_kpi(data, kpi, r['trend'], lang, sign=True))}</td>"
            f"<td style='background:{COLOURS[r['status']]}'>{esc(status_text(r, lang))}"
            f"</td><td class='def'>{esc(t(f'kpidef.{kpi}', lang))}</td></tr>")
    for kpi, reason in tables["missing"].items():
        rows.append(
            f"<tr><td>{esc(t(f'kpi.{kpi}', lang))}</td><td colspan='5'>{esc(reason)}</td>"
            f"<td class='def'>{esc(t(f'kpidef.{kpi}', lang))}</td></tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in heads(tables, lang))
    return (f"<table class='crmkit-kpis'><thead><tr>{head}</tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table>")


def dashboard_html(data: CRMData, *, lang: str = "en", targets: dict | None = None,
                   margin: float | None = None) -> str:
    """The dashboard as one self-contained HTML page (picture embedded, KPI table with its
    lights, top campaigns, and the definition of each KPI), wholly in ``lang``."""
    check_lang(lang)
    tables = dashboard_tables(data, targets=targets, margin=margin, lang=lang)
    fig = dashboard_figure(data, lang=lang, tables=tables)
    said = figure_description(fig) or t("dash.title", lang)  # the picture in words
    img = _png(fig)
    esc = _html.escape
    ends = [data.manifest.get(k) for k in ("start", "end")]
    period = " – ".join(format_date(d, lang) if d else "–" for d in ends)
    title = f"{t('dash.title', lang)} · {shop_title(data, lang)}"
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{esc(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px;
       color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
td.def {{ font-size: 0.85em; color: #444; max-width: 480px; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{esc(title)}</h1>
<p>{esc(t('dash.subtitle', lang))} {esc(period)}.</p>
<img alt="{esc(said)}" src="data:image/png;base64,{img}">
{kpi_rows(data, tables, lang)}
<p>{esc(legend(tables, lang))}</p>
</body></html>
"""


def write_dashboard(data: CRMData, path: str | Path | None = None, *, lang: str = "en",
                    targets: dict | None = None, margin: float | None = None) -> Path:
    """Write :func:`dashboard_html` to ``path`` (folders created; by default
    ``<shop-slug>-dashboard.html`` in the current folder) and return the path. The page
    is written whole or not at all (a temporary file, then renamed)."""
    import os
    import tempfile
    from pathlib import Path

    path = Path(path) if path is not None else Path(f"{data.slug}-dashboard.html")
    if path.is_dir():
        raise ParameterError(f"out={str(path)!r} is a folder; give a file name such as "
                             "'bendita.html'.")
    path.parent.mkdir(parents=True, exist_ok=True)
    page = dashboard_html(data, lang=lang, targets=targets, margin=margin)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


#: The pickers' value for "no filter" (a Dropdown shows no label for a None value).
EVERYTHING = "(all)"


def _filters_text(data: CRMData, tables: dict, lang: str) -> str:
    f = tables["filters"]
    period = _months_text(pd.Period(f["start"], "M"), pd.Period(f["end"], "M"), lang)
    source = (t(f"value.{f['source']}", lang) if f["source"] else t("dash.all", lang))
    segment = (t(f"rfm_segment.{f['segment']}", lang) if f["segment"] else t("dash.all", lang))
    return format_message(t("dashboard.filters", lang), lang, period=period, source=source,
                          segment=segment)


def view_bundle(data: CRMData, *, lang: str = "en", targets: dict | None = None,
                margin: float | None = None, start: str | None = None, end: str | None = None,
                source: str | None = None, segment: str | None = None) -> tuple[dict, dict]:
    """One whole dashboard view as a display bundle (the filters, the picture, the KPI table
    and its legend, together) and its tables. A choice that cannot be shown (no whole month)
    gives a sentence in ``lang`` instead, and no tables."""
    esc = _html.escape
    try:
        tables = dashboard_tables(data, targets=targets, margin=margin, lang=lang, start=start,
                                  end=end, source=source, segment=segment)
    except ParameterError as exc:
        text = str(exc)
        return {"text/plain": text,
                "text/html": f"<div class='crmkit-dashboard'><p>{esc(text)}</p></div>"}, {}
    fig = dashboard_figure(data, lang=lang, tables=tables)
    said = figure_description(fig)
    img = _png(fig)
    shown = _filters_text(data, tables, lang)
    title = t("dash.title", lang) + f" · {shop_title(data, lang)}"
    f = tables["filters"]
    block = (f"<div class='crmkit-dashboard' data-start='{esc(f['start'])}' "
             f"data-end='{esc(f['end'])}' data-source='{esc(f['source'] or '')}' "
             f"data-segment='{esc(f['segment'] or '')}'><p>{esc(shown)}</p>"
             f"<img alt='{esc(said or title)}' style='max-width:100%' "
             f"src='data:image/png;base64,{img}'/>{kpi_rows(data, tables, lang)}"
             f"<p>{esc(legend(tables, lang))}</p></div>")
    return {"text/plain": shown + "\n" + legend(tables, lang), "text/html": block}, tables


def show_dashboard(data: CRMData, *, lang: str = "en", targets: dict | None = None,
                   interactive: bool | None = None, margin: float | None = None) -> dict:
    """Show the dashboard in a notebook: ONE view (picture, KPI table and legend). With
    ipywidgets, pickers of period, traffic source and segment sit above it and each choice
    replaces that view in place; an HTML report keeps the view as first drawn (widgets
    do not run there). Returns the tables of the first view."""
    from IPython.display import display

    check_lang(lang)
    bundle, tables = view_bundle(data, lang=lang, targets=targets, margin=margin)
    if not tables:
        raise ParameterError(bundle["text/plain"])
    if interactive is None:
        try:
            import ipywidgets  # noqa: F401
            interactive = True
        except ImportError:
            interactive = False
    controls = (_pickers(data, lang, [str(m) for m in tables["monthly"].index])
                if interactive else None)
    if controls is not None:
        display(_controls_bundle(controls[0], lang), raw=True)
    handle = display(bundle, raw=True, display_id=True)
    if controls is not None:
        _connect(controls, handle, data, lang, targets, margin)
    return tables


def _pickers(data: CRMData, lang: str, months: list[str]) -> Pickers:
    import ipywidgets as w

    everything = t("dash.all", lang)
    style = {"description_width": "initial"}
    labels = [format_date(pd.Period(m, "M").to_timestamp(), lang, skeleton="yMMM")
              for m in months]
    period = w.SelectionRangeSlider(options=list(zip(labels, months, strict=True)),
                                    index=(0, len(months) - 1), readout=False,
                                    description=t("dash.period", lang), style=style,
                                    layout=w.Layout(width="340px"))
    shown = w.Label(value=_months_text(pd.Period(months[0], "M"), pd.Period(months[-1], "M"),
                                       lang), layout=w.Layout(width="auto", min_width="160px"))
    sources = sorted(set(data.web_sessions["traffic_source"])) if data.has("web") else []
    source = w.Dropdown(options=[(everything, EVERYTHING)] + [(t(f"value.{s}", lang), s)
                                                              for s in sources],
                        value=EVERYTHING, description=t("dash.source", lang), style=style,
                        disabled=not sources)
    segment = w.Dropdown(options=[(everything, EVERYTHING)]
                         + [(t(f"rfm_segment.{s}", lang), s) for s in SEGMENTS],
                         value=EVERYTHING, description=t("dash.segment", lang), style=style)
    box = w.HBox([period, shown, source, segment])
    box.add_class("crmkit-dashboard-controls")
    return box, period, shown, source, segment


def _controls_bundle(box: w.HBox, lang: str) -> dict:
    bundle = box._repr_mimebundle_() or {}
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    # in a report the widgets cannot run: say so instead of printing the widget's repr
    return {**bundle, "text/plain": t("dashboard.interactive_note", lang)}


def _connect(controls: Pickers, handle: DisplayHandle, data: CRMData, lang: str,
             targets: dict | None, margin: float | None) -> None:
    _, period, shown, source, segment = controls

    def redraw(*_event: object) -> None:
        start, end = period.value
        shown.value = _months_text(pd.Period(start, "M"), pd.Period(end, "M"), lang)
        # the whole new view is built first, then sent as one update of the one output
        try:
            bundle, _ = view_bundle(
                data, lang=lang, targets=targets, margin=margin, start=start, end=end,
                source=None if source.value == EVERYTHING else source.value,
                segment=None if segment.value == EVERYTHING else segment.value)
        except Exception as exc:  # a redraw must never leave a half view behind
            text = format_message(t("dashboard.redraw_failed", lang), lang, error=str(exc))
            bundle = {"text/plain": text,
                      "text/html": f"<p>{_html.escape(text)}</p>"}
        handle.update(bundle, raw=True)

    for control in (period, source, segment):
        control.observe(redraw, names="value")
