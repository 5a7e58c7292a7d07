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
from ..analytics.kpis import KPI_NAMES, kpi_board, monthly_kpis
from ..analytics.segments import SEGMENTS
from ..dataset.crmdata import CRMData
from ..errors import ParameterError
from ..i18n import check_lang, t
from .notebook import money, shop_title

__all__ = ["dashboard_tables", "filter_data", "dashboard_figure", "dashboard_html",
           "write_dashboard", "show_dashboard", "COLOURS"]

COLOURS = {"green": "#2a9d8f", "amber": "#e9c46a", "red": "#e76f51", "grey": "#adb5bd"}
_FORMAT = {"sessions": "{:,.0f}", "conversion_rate": "{:.2%}", "cps_per_customer": "{:,.2f} {}",
           "active_customers": "{:,.0f}"}


def _fmt(data: CRMData, kpi: str, value: float, lang: str) -> str:
    return _FORMAT[kpi].format(value, money(data, lang))


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


def dashboard_tables(data: CRMData, *, targets: dict | None = None, top: int = 5) -> dict:
    """The numbers behind the dashboard: ``monthly`` KPIs, ``board`` (value, trend, target,
    status per KPI), ``segments`` (customers per segment) and ``campaigns`` (top by ROI).

    The board holds the KPIs the shop's data can measure (a KPI NaN in every
    month is left out); ``campaigns`` is empty without campaign data."""
    monthly = monthly_kpis(data)
    if monthly.empty:
        raise ParameterError("no orders in the chosen period: widen the period or the segment.")
    measured = [k for k in KPI_NAMES if monthly[k].notna().any()]
    board = kpi_board(monthly[measured], targets=targets)
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
    return {"monthly": monthly, "board": board, "segments": segments, "campaigns": camp}


def _tile(ax, kpi, row, lang, data):
    ax.set_axis_off()
    ax.add_patch(plt.Rectangle((0, 0), 1, 1, color=COLOURS[row["status"]], alpha=0.9,
                               transform=ax.transAxes))
    arrow = "▲" if row["trend"] > 0 else ("▼" if row["trend"] < 0 else "■")
    ax.text(0.05, 0.78, t(f"kpi.{kpi}", lang), fontsize=10, weight="bold",
            transform=ax.transAxes)
    ax.text(0.05, 0.42, _fmt(data, kpi, row["value"], lang) + f" {arrow}", fontsize=16,
            transform=ax.transAxes)
    ax.text(0.05, 0.12, t("dash.target", lang) + ": " + _fmt(data, kpi, row["target"], lang)
            + " · "
            + t(f"dash.{row['status']}", lang), fontsize=8, transform=ax.transAxes)


def dashboard_figure(data: CRMData, *, lang: str = "en", targets: dict | None = None,
                     tables: dict | None = None):
    """The dashboard as one matplotlib figure (returned; the caller shows or saves it)."""
    check_lang(lang)
    tables = tables or dashboard_tables(data, targets=targets)
    board, monthly = tables["board"], tables["monthly"]
    fig = plt.figure(figsize=(13, 8.5), layout="constrained")
    grid = fig.add_gridspec(3, 4, height_ratios=[0.55, 1.1, 1.2])
    x = monthly.index.to_timestamp()
    for i, kpi in enumerate(board.index):
        _tile(fig.add_subplot(grid[0, i]), kpi, board.loc[kpi], lang, data)
        ax = fig.add_subplot(grid[1, i])
        colour = COLOURS[board.loc[kpi, "status"]]
        ax.plot(x, monthly[kpi], marker="o", ms=3, color=colour)
        ax.axhline(board.loc[kpi, "target"], ls="--", color="#264653", lw=1,
                   label=t("dash.target", lang))
        ax.set_title(t(f"kpi.{kpi}", lang), fontsize=9)
        ax.tick_params(axis="x", labelsize=7, rotation=45)
        ax.tick_params(axis="y", labelsize=7)
        if i == 0:
            ax.legend(fontsize=7)
    ax = fig.add_subplot(grid[2, 0])
    seg = tables["segments"]
    ax.barh([t(f"rfm_segment.{s}", lang) for s in seg.index], seg.to_numpy(), color="#264653")
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(t("dash.segments", lang), fontsize=9)
    ax = fig.add_subplot(grid[2, 1:])
    ax.set_axis_off()
    ax.set_title(t("dash.top_campaigns", lang), fontsize=9)
    camp = tables["campaigns"]
    if len(camp):
        cols = ["reach", "conversions", "revenue", "cost", "roi"]
        uplift = camp["uplift"] if "uplift" in camp else pd.Series(np.nan, index=camp.index)
        cells = [[str(r["name"])[:38]] + [f"{r[c]:,.0f}" for c in cols[:2]]
                 + [f"{r[c]:,.0f} {money(data, lang)}" for c in cols[2:4]]
                 + [f"{r['roi']:.1f}"]
                 + ["–" if pd.isna(u) else f"{u * 100:+.1f}"]
                 for (_, r), u in zip(camp.iterrows(), uplift, strict=True)]
        table = ax.table(cellText=cells, colLabels=[t("dash.campaign", lang)]
                         + [t(f"dash.{c}", lang) for c in cols] + [t("dash.uplift", lang)],
                         loc="upper center", colWidths=[0.34] + [0.11] * 6)
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.3)
    else:
        ax.text(0.5, 0.5, t("dash.no_campaigns", lang), ha="center")
    fig.suptitle(t("dash.title", lang) + f" · {shop_title(data, lang)}", fontsize=14,
                 weight="bold")
    return fig


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def dashboard_html(data: CRMData, *, lang: str = "en", targets: dict | None = None) -> str:
    """The dashboard as one self-contained HTML page (picture embedded, KPI table with its
    lights, top campaigns, and the definition of each KPI)."""
    check_lang(lang)
    tables = dashboard_tables(data, targets=targets)
    img = _png(dashboard_figure(data, lang=lang, tables=tables))
    esc = _html.escape
    rows = []
    for kpi, r in tables["board"].iterrows():
        rows.append(
            f"<tr><td>{esc(t(f'kpi.{kpi}', lang))}</td>"
            f"<td>{esc(_fmt(data, kpi, r['value'], lang))}</td>"
            f"<td>{esc(_fmt(data, kpi, r['target'], lang))}</td><td>{r['trend']:+.4g}</td>"
            f"<td style='background:{COLOURS[r['status']]}'>{esc(t(f'dash.{r.status}', lang))}"
            f"</td><td class='def'>{esc(t(f'kpidef.{kpi}', lang))}</td></tr>")
    head = "".join(f"<th>{esc(t(k, lang))}</th>" for k in (
        "dash.kpi", "dash.value", "dash.target", "dash.trend", "dash.status", "dash.definition"))
    period = f"{data.manifest.get('start', '')} – {data.manifest.get('end', '')}"
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{esc(t('dash.title', lang))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px;
       color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
td.def {{ font-size: 0.85em; color: #444; max-width: 480px; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{esc(t('dash.title', lang))} · {esc(shop_title(data, lang))}</h1>
<p>{esc(t('dash.subtitle', lang))} {esc(period)}.</p>
<img alt="{esc(t('dash.title', lang))}" src="data:image/png;base64,{img}">
<table><thead><tr>{head}</tr></thead><tbody>
{''.join(rows)}
</tbody></table>
<p>{esc(t('dash.legend', lang))}</p>
</body></html>
"""


def write_dashboard(data: CRMData, path, *, lang: str = "en", targets: dict | None = None):
    """Write :func:`dashboard_html` to ``path`` (folders created) and return the path."""
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"out={str(path)!r} is a folder; give a file name such as "
                             "'bendita.html'.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dashboard_html(data, lang=lang, targets=targets), encoding="utf-8")
    return path


def show_dashboard(data: CRMData, *, lang: str = "en", targets: dict | None = None,
                   interactive: bool | None = None) -> dict:
    """Show the dashboard in a notebook: the static figure first (it survives in HTML
    reports), then, with ipywidgets, pickers of period, traffic source and segment that
    redraw it. Returns the tables of the static view."""
    from IPython.display import display

    check_lang(lang)
    tables = dashboard_tables(data, targets=targets)
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
        _pickers(data, lang, targets, [str(m) for m in tables["monthly"].index])
    return tables


def _pickers(data, lang, targets, months) -> None:
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
                fig = dashboard_figure(part, lang=lang, targets=targets)
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
