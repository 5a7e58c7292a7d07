"""The dashboard ("cuadro de mando"): the four KPIs against target, segments, top campaigns.

One page a shop owner reads in a minute:

* four tiles, one per KPI (footfall, conversion rate, Customer
  Profitability Score per customer, active customers), each with its value
  over the last three months, its target and a green / amber / red light;
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

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..analytics.campaigns import effectiveness, incremental_effect, rfm_segments
from ..analytics.kpis import KPI_NAMES, cps_missing, kpi_board, monthly_kpis, product_costs
from ..analytics.segments import SEGMENTS
from ..dataset.crmdata import CRMData
from ..errors import ParameterError
from ..i18n import (
    check_lang,
    date_axis,
    format_currency,
    format_date,
    format_message,
    format_number,
    format_percent,
    number_axis,
    t,
)
from .notebook import shop_title

__all__ = ["dashboard_tables", "filter_data", "dashboard_figure", "dashboard_html",
           "write_dashboard", "show_dashboard", "missing_reason", "fmt_kpi", "COLOURS"]

COLOURS = {"green": "#2a9d8f", "amber": "#e9c46a", "red": "#e76f51", "grey": "#adb5bd"}


def fmt_kpi(data: CRMData, kpi: str, value, lang: str = "en", *, sign: bool = False) -> str:
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


def _margin_note(data: CRMData, margin, lang: str) -> str:
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
        s = data.require("web", analysis="filtering by traffic source").web_sessions
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


def dashboard_tables(data: CRMData, *, targets: dict | None = None, top: int = 5,
                     margin: float | None = None, lang: str = "en") -> dict:
    """The numbers behind the dashboard: ``monthly`` KPIs, ``board`` (value, trend, target,
    status per KPI), ``segments`` (customers per segment), ``campaigns`` (top by ROI) and
    ``missing`` (each KPI the data cannot give, with the reason in ``lang``).

    The board holds the KPIs the shop's data can measure (a KPI NaN in every
    month is left out); ``campaigns`` is empty without campaign data. The CPS
    needs every product's cost, or a stated ``margin``."""
    monthly = monthly_kpis(data, margin=margin)
    if monthly.empty:
        raise ParameterError("no orders in the chosen period: widen the period or the segment.")
    measured = [k for k in KPI_NAMES if monthly[k].notna().any()]
    board = kpi_board(monthly[measured + ["partial"]], targets=targets)
    missing = {k: missing_reason(data, k, lang, margin=margin) or t("dash.grey", lang)
               for k in KPI_NAMES if k not in measured}
    segments = (rfm_segments(data).value_counts().reindex(list(SEGMENTS), fill_value=0)
                .rename("customers"))
    segments.index.name = "segment"
    camp = (effectiveness(data) if all(data.has(t) for t in (
        "marketing", "customers", "profitability")) and len(data.campaigns) else pd.DataFrame())
    if len(camp):
        camp = camp[camp["reach"] > 0]
        if len(camp) and len(data.campaign_contacts):
            camp = camp.join(incremental_effect(data)[["uplift", "ci_low", "ci_high"]])
        camp = camp.sort_values("roi", ascending=False).head(top)
    return {"monthly": monthly, "board": board, "segments": segments, "campaigns": camp,
            "missing": missing, "margin": margin}


def _tile(ax, kpi, row, lang, data, margin=None):
    ax.set_axis_off()
    ax.add_patch(plt.Rectangle((0, 0), 1, 1, color=COLOURS[row["status"]], alpha=0.9,
                               transform=ax.transAxes))
    arrow = "▲" if row["trend"] > 0 else ("▼" if row["trend"] < 0 else "■")
    ax.text(0.05, 0.78, t(f"kpi.{kpi}", lang), fontsize=10, weight="bold",
            transform=ax.transAxes)
    ax.text(0.05, 0.42, fmt_kpi(data, kpi, row["value"], lang) + f" {arrow}", fontsize=16,
            transform=ax.transAxes)
    note = _margin_note(data, margin, lang) if kpi == "cps_per_customer" else ""
    ax.text(0.05, 0.12, t("dash.target", lang) + ": " + fmt_kpi(data, kpi, row["target"], lang)
            + " · " + t(f"dash.{row['status']}", lang) + note, fontsize=8,
            transform=ax.transAxes)


def _missing_tile(ax, kpi, reason, lang):
    import textwrap

    ax.set_axis_off()
    ax.add_patch(plt.Rectangle((0, 0), 1, 1, color=COLOURS["grey"], alpha=0.5,
                               transform=ax.transAxes))
    ax.text(0.05, 0.78, t(f"kpi.{kpi}", lang), fontsize=10, weight="bold",
            transform=ax.transAxes)
    ax.text(0.05, 0.62, textwrap.fill(reason, 44), fontsize=7.5, va="top",
            transform=ax.transAxes)


def _trend(ax, kpi, monthly, board, lang, data, first):
    colour = COLOURS[board.loc[kpi, "status"]]
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
    ax.tick_params(axis="x", labelsize=7, rotation=45)
    ax.tick_params(axis="y", labelsize=7)
    if first or part.any():
        ax.legend(fontsize=7)


def dashboard_figure(data: CRMData, *, lang: str = "en", targets: dict | None = None,
                     tables: dict | None = None, margin: float | None = None):
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
              tables.get("margin"))
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
        cells = [[str(r["name"])[:38]] + [format_number(r[c], lang, decimals=0)
                                          for c in cols[:2]]
                 + [format_currency(r[c], lang, currency=cur, decimals=0) for c in cols[2:4]]
                 + [format_number(r["roi"], lang, decimals=1)]
                 + ["–" if pd.isna(u) else ("+" if u > 0 else "")
                    + format_number(u * 100, lang, decimals=1)]
                 for (_, r), u in zip(camp.iterrows(), uplift, strict=True)]
        table = ax.table(cellText=cells, colLabels=[t("dash.campaign", lang)]
                         + [t(f"dash.{c}", lang) for c in cols] + [t("dash.uplift", lang)],
                         loc="upper center", colWidths=[0.34] + [0.11] * 6)
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.3)
    else:
        none = "dash.no_campaigns" if data.has("marketing") else "dash.no_campaign_data"
        ax.text(0.5, 0.5, t(none, lang), ha="center")
    fig.suptitle(t("dash.title", lang) + f" · {shop_title(data, lang)}", fontsize=14,
                 weight="bold")
    return fig


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def legend(tables: dict, lang: str = "en") -> str:
    """What the lights mean, with the window the shop's history allowed and the partial
    months left out, in ``lang``."""
    board, monthly = tables["board"], tables["monthly"]
    window = int(board["window"].max()) if len(board) else 0
    key = "dash.legend_window_one" if window == 1 else "dash.legend_window"
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
        "dash.target", "dash.trend", "dash.status", "dash.definition")]


def dashboard_html(data: CRMData, *, lang: str = "en", targets: dict | None = None,
                   margin: float | None = None) -> str:
    """The dashboard as one self-contained HTML page (picture embedded, KPI table with its
    lights, top campaigns, and the definition of each KPI), wholly in ``lang``."""
    check_lang(lang)
    tables = dashboard_tables(data, targets=targets, margin=margin, lang=lang)
    img = _png(dashboard_figure(data, lang=lang, tables=tables))
    esc = _html.escape
    rows = []
    for kpi, r in tables["board"].iterrows():
        note = _margin_note(data, margin, lang) if kpi == "cps_per_customer" else ""
        rows.append(
            f"<tr><td>{esc(t(f'kpi.{kpi}', lang))}</td>"
            f"<td>{esc(fmt_kpi(data, kpi, r['value'], lang) + note)}</td>"
            f"<td>{esc(fmt_kpi(data, kpi, r['target'], lang))}</td>"
            f"<td>{esc(fmt_kpi(data, kpi, r['trend'], lang, sign=True))}</td>"
            f"<td style='background:{COLOURS[r['status']]}'>{esc(t(f'dash.{r.status}', lang))}"
            f"</td><td class='def'>{esc(t(f'kpidef.{kpi}', lang))}</td></tr>")
    for kpi, reason in tables["missing"].items():
        rows.append(
            f"<tr><td>{esc(t(f'kpi.{kpi}', lang))}</td><td colspan='4'>{esc(reason)}</td>"
            f"<td class='def'>{esc(t(f'kpidef.{kpi}', lang))}</td></tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in heads(tables, lang))
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
<img alt="{esc(t('dash.title', lang))}" src="data:image/png;base64,{img}">
<table><thead><tr>{head}</tr></thead><tbody>
{''.join(rows)}
</tbody></table>
<p>{esc(legend(tables, lang))}</p>
</body></html>
"""


def write_dashboard(data: CRMData, path=None, *, lang: str = "en",
                    targets: dict | None = None, margin: float | None = None):
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


def show_dashboard(data: CRMData, *, lang: str = "en", targets: dict | None = None,
                   interactive: bool | None = None, margin: float | None = None) -> dict:
    """Show the dashboard in a notebook: the static figure first (it survives in HTML
    reports), then, with ipywidgets, pickers of period, traffic source and segment that
    redraw it. Returns the tables of the static view."""
    from IPython.display import display

    check_lang(lang)
    tables = dashboard_tables(data, targets=targets, margin=margin, lang=lang)
    fig = dashboard_figure(data, lang=lang, tables=tables)
    display(fig)
    plt.close(fig)
    if interactive is None:
        try:
            import ipywidgets  # noqa: F401
            interactive = True
        except ImportError:
            interactive = False
    if interactive:
        _pickers(data, lang, targets, [str(m) for m in tables["monthly"].index], margin)
    return tables


def _pickers(data, lang, targets, months, margin=None) -> None:
    import ipywidgets as w
    from IPython.display import display

    everything = t("dash.all", lang)
    period = w.SelectionRangeSlider(options=months, index=(0, len(months) - 1),
                                    description=t("dash.period", lang))
    sources = sorted(set(data.web_sessions["traffic_source"])) if data.has("web") else []
    source = w.Dropdown(options=[(everything, None)] + [(t(f"value.{s}", lang), s)
                                                        for s in sources],
                        description=t("dash.source", lang))
    segment = w.Dropdown(options=[(everything, None)] + [(t(f"rfm_segment.{s}", lang), s)
                                                         for s in SEGMENTS],
                         description=t("dash.segment", lang))
    out = w.Output()

    def redraw(*_):
        out.clear_output(wait=True)
        with out:
            try:
                part = filter_data(data, start=period.value[0], end=period.value[1],
                                   source=source.value, segment=segment.value)
                fig = dashboard_figure(part, lang=lang, targets=targets, margin=margin)
                display(fig)
                plt.close(fig)
            except ParameterError as exc:
                print(exc)

    for control in (period, source, segment):
        control.observe(redraw, names="value")
    box = w.VBox([w.HBox([period, source, segment]), out])
    bundle = box._repr_mimebundle_() or {}
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    bundle = {**bundle, "text/plain": t("dash.static_note", lang)}
    display(bundle, raw=True)
