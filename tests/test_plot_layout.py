"""Every picture of the course reads well, in English and in Spanish.

Each plotting function is called on small generated data and its figure is
drawn as the notebooks draw it (the course style on, warnings as errors). The
rendered figure is then measured, independently of how the function placed
anything: the bounding boxes of its texts (tick labels, axis labels, titles,
legends, written values) must not overlap and must lie inside the figure;
tick labels must be written by the locale (months by name, thousands grouped,
no ``1e6`` offset); no straight line (a base rate) runs through a written value,
a table's texts stay in their cells; no red-green colour scale; the Spanish picture
draws no English (``test_spanish_render.picture_slips``); and the figure says in
words, in its language, what it shows (the alt text of a report's image).
"""

from __future__ import annotations

import io
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_spanish_render import drawn_texts, picture_slips  # noqa: E402

from crmkit.analytics import (  # noqa: E402
    automation,
    campaigns,
    cohorts,
    concepts,
    evalplots,
    experiments,
    kpis,
    segments,
    tracking,
)
from crmkit.analytics import modelplots as model_plots  # noqa: E402
from crmkit.dataset.extracts import write_extracts  # noqa: E402
from crmkit.dataset.synth import generate  # noqa: E402
from crmkit.i18n import figure_description  # noqa: E402
from crmkit.lessons import dashboard, explorer, lesson04, mining, widgets  # noqa: E402
from crmkit.lessons import lesson03 as m03  # noqa: E402
from crmkit.lessons import plots as lesson_plots  # noqa: E402
from crmkit.lessons.notebook import set_style  # noqa: E402
from crmkit.warehouse import diagrams as warehouse_plots  # noqa: E402
from crmkit.warehouse import query  # noqa: E402
from crmkit.warehouse.build import build_warehouse, load_report  # noqa: E402
from crmkit.warehouse.cube import ALL, cube, rollup  # noqa: E402

LANGS = ("en", "es")
#: Pictures that show the warehouse's own names (its tables and columns, as SQL writes
#: them): code the reader types, not words of a language.
SQL_NAMES = {"star_schema", "snowflake_schema"}
#: Colour scales a red-green colour-blind reader cannot read (red against green).
RED_GREEN = {"RdYlGn", "RdGn", "PiYG", "PRGn", "Spectral", "jet", "hsv", "rainbow",
             "gist_rainbow", "brg", "nipy_spectral", "turbo"}
ISO_MONTH = re.compile(r"\b\d{4}-\d{2}\b")
UNGROUPED = re.compile(r"(?<![\d.,\u00a0\u202f])\d{5,}")
#: a decimal written the other language's way (``0.5`` in Spanish, ``0,5`` in English)
FOREIGN_DECIMAL = {"es": re.compile(r"\d\.\d{1,2}(?!\d)"),
                   "en": re.compile(r"\d,\d{1,2}(?!\d)")}
#: a percentage written the other language's way (``46%`` in Spanish, ``46 %`` in English)
FOREIGN_PERCENT = {"es": re.compile(r"\d%"), "en": re.compile(r"\d\s%")}
#: words that give away the other language in a description
OTHER_WORDS = {"es": {"the", "of", "and", "per", "by", "each", "chart", "with", "shows"},
               "en": {"de", "por", "los", "las", "cada", "gráfico", "con", "muestra", "y"}}


# ----------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def shop():
    data = generate("boutique", n_customers=400, seed=7)
    split = m03.holdout_split(data, holdout_days=180)
    value = mining.value_models(data, split)
    return {"data": data, "split": split, "value": value,
            "repurchase": mining.repurchase_check(data, split),
            "clusters": mining.clusters_at(data, split)[0],
            "forecast": mining.forecast_check(data, split)[1],
            "rules": mining.basket_check(data, split),
            "segmented": mining.segments_at(data, split)}


@pytest.fixture(scope="module")
def web():
    return generate("bendita", n_customers=600, seed=3)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("layout")
    write_extracts(generate("boutique", n_customers=150, seed=2), root / "x", seed=1)
    return build_warehouse(root / "x", root / "shop.duckdb")


def _explore(s):
    table = s["segmented"][["segment", "orders", "total_spend"]].copy()
    return table.join(s["value"].table[["probability_alive", "expected_purchases"]])


def _track():
    ends = pd.date_range("2024-01-07", periods=60, freq="W")
    actual = np.cumsum(np.linspace(50, 900, 60)).round()
    return pd.DataFrame({"period_end": ends, "actual": actual, "predicted": actual * 1.04})


# name -> (fixture, draw(data, lang) -> axes or figure)
CASES = {
    # crmkit.lessons.plots (notebook 01)
    "level_pyramid": ("web", lambda d, lang: lesson_plots.plot_level_pyramid(d, lang=lang)),
    "reach": ("web", lambda d, lang: lesson_plots.plot_reach(d, lang=lang)),
    "workflow": ("web", lambda d, lang: lesson_plots.plot_workflow(d, lang=lang)),
    "time_in_state": ("web", lambda d, lang: lesson_plots.plot_time_in_state(
        d, lang=lang, sla_hours=72)),
    "pipeline": ("web", lambda d, lang: lesson_plots.plot_pipeline(d, lang=lang)),
    "social": ("web", lambda d, lang: lesson_plots.plot_social(d, lang=lang)),
    "orders_by_hour": ("web", lambda d, lang: lesson_plots.plot_orders_by_hour(d, lang=lang)),
    "monthly_revenue": ("web", lambda d, lang: lesson_plots.plot_monthly_revenue(d, lang=lang)),
    "stock": ("web", lambda d, lang: lesson_plots.plot_stock(
        d, int(d.inventory["product_id"].iloc[0]), lang=lang)),
    "spend_by_age_gender": ("web", lambda d, lang: lesson_plots.plot_spend_by_age_gender(
        d, lang=lang)),
    "spend_per_customer": ("web", lambda d, lang: lesson_plots.plot_spend_per_customer(
        _spend_per_customer(d), lang=lang, currency="€")),
    "acquisition": ("web", lambda d, lang: lesson_plots.plot_acquisition(
        concepts.acquisition_report(d), lang=lang, currency="€")),
    # notebook 02
    "load_report": ("warehouse", lambda w, lang: warehouse_plots.plot_load_report(
        load_report(w), lang=lang)),
    "star_schema": ("warehouse", lambda w, lang: warehouse_plots.plot_star_schema(
        w, lang=lang)),
    "snowflake_schema": ("warehouse", lambda w, lang: warehouse_plots.plot_star_schema(
        w, style="snowflake", lang=lang)),
    "cube_view": ("warehouse", lambda w, lang: widgets.plot_cube_view(
        widgets.cube_view(w, rows="department", columns="channel"), lang=lang)),
    "drill_down": ("warehouse", lambda w, lang: lesson_plots.plot_drill_down(
        *_drill(w), lang=lang, currency="€")),
    "segments_over_time": ("warehouse", lambda w, lang: lesson_plots.plot_segments_over_time(
        _segments_on_two_days(w), lang=lang)),
    "query_time": ("warehouse", lambda w, lang: lesson_plots.plot_query_time(
        {"star": 0.0123, "snowflake": 0.0456}, lang=lang)),
    # notebook 03
    "monthly_sales": ("shop", lambda s, lang: m03.plot_monthly_sales(
        s["data"], split=s["split"], lang=lang)),
    "orders_per_customer": ("shop", lambda s, lang: m03.plot_orders_per_customer(
        s["data"], lang=lang)),
    "seasonal_index": ("shop", lambda s, lang: m03.plot_seasonal_index(s["data"], lang=lang)),
    "segments": ("shop", lambda s, lang: model_plots.plot_segments(
        segments.segment_summary(s["segmented"], lang), lang=lang)),
    "cohort_heatmap": ("shop", lambda s, lang: model_plots.plot_cohort_heatmap(
        cohorts.cohort_table(s["data"]), lang=lang)),
    "tracking": ("shop", lambda s, lang: model_plots.plot_tracking(
        _track(), calibration_end="2024-09-01", lang=lang)),
    "segment_outcomes": ("shop", lambda s, lang: mining.plot_segment_outcomes(
        mining.segment_outcomes(s["data"], s["split"], s["segmented"]), base_rate=0.46,
        lang=lang)),
    "cluster_outcomes": ("shop", lambda s, lang: model_plots.plot_cluster_outcomes(
        mining.group_outcomes(s["data"], s["split"], s["clusters"].labels_), base_rate=0.46,
        lang=lang)),
    "cluster_profiles": ("shop", lambda s, lang: evalplots.plot_cluster_profiles(
        s["clusters"].standing_, lang=lang)),
    "roc": ("shop", lambda s, lang: evalplots.plot_roc(
        s["repurchase"].predictions, scores=["logistic", "boosting", "recency_rule"],
        lang=lang)),
    "lift": ("shop", lambda s, lang: evalplots.plot_lift(
        s["repurchase"].predictions, scores=["logistic", "boosting", "recency_rule"],
        lang=lang)),
    "precision_recall": ("shop", lambda s, lang: evalplots.plot_precision_recall(
        s["repurchase"].predictions, scores=["logistic", "boosting"], lang=lang)),
    "calibration": ("shop", lambda s, lang: evalplots.plot_calibration(
        s["repurchase"].predictions, lang=lang)),
    "purchases_by_frequency": ("shop", lambda s, lang: mining.plot_purchases_by_frequency(
        s["value"], lang=lang)),
    "p_alive_matrix": ("shop", lambda s, lang: mining.plot_p_alive_matrix(
        s["value"], lang=lang)),
    "rule_check": ("shop", lambda s, lang: mining.plot_rule_check(s["rules"], lang=lang)),
    "top_rules": ("shop", lambda s, lang: evalplots.plot_top_rules(
        s["rules"].assign(confidence=0.5), lang=lang)),
    "forecast": ("shop", lambda s, lang: evalplots.plot_forecast(
        s["forecast"], history=_history(s), lang=lang)),
    "segment_worth": ("shop", lambda s, lang: explorer.plot_segment_worth(
        _explore(s), lang=lang)),
    # notebook 04
    "footfall": ("web", lambda d, lang: lesson04.plot_footfall(d, lang=lang)),
    "funnel": ("web", lambda d, lang: lesson04.plot_funnel(d, lang=lang)),
    "conversion_heatmap": ("web", lambda d, lang: dashboard.plot_conversion_heatmap(
        experiments.conversion_heatmap(d), lang=lang)),
    "activity_heatmap": ("web", lambda d, lang: experiments.plot_activity_heatmap(
        experiments.activity_heatmap(d), lang=lang)),
    "cps": ("web", lambda d, lang: lesson04.plot_cps(
        kpis.customer_profitability(d), lang=lang)),
    "campaign_plan": ("web", lambda d, lang: campaigns.plot_plan(d.campaigns, lang=lang)),
    "uplift": ("web", lambda d, lang: lesson04.plot_uplift(
        campaigns.incremental_effect(d), truth=d.truth["campaigns"], lang=lang)),
    "flows": ("web", lambda d, lang: lesson04.plot_flows(
        automation.weekly_flows(d), lang=lang)),
    "dashboard": ("web", lambda d, lang: dashboard.dashboard_figure(d, lang=lang)),
}


def _spend_per_customer(d):
    """Notebook 01's spend per customer: the value of each customer's orders, summed."""
    orders = d.orders.dropna(subset=["customer_id"])
    values = tracking.order_value(d).reindex(orders["order_id"])
    return values.groupby(orders.set_index("order_id")["customer_id"]).sum()


def _segments_on_two_days(w):
    """Notebook 02's customers per segment on the snapshot day and a day after it."""
    from crmkit.warehouse import customer_as_of

    first = pd.Timestamp(query(w, "SELECT max(valid_from) AS d FROM marts.dim_customer")["d"][0])
    days = {"snapshot": first, "second_batch": first + pd.Timedelta(days=90)}
    return pd.DataFrame({name: customer_as_of(w, day)["segment"].value_counts()
                         for name, day in days.items()}).fillna(0).astype(int).sort_index()


def _drill(w):
    """Notebook 02's roll-up and drill-down: every year, the quarters of the last year, the
    months of its best quarter."""
    year_quarter = rollup(w, by=["year", "quarter"], measures={"revenue": "sum(net_amount)"})
    year = int(year_quarter.loc[year_quarter["year"] != ALL, "year"].astype(int).max())
    quarters = cube(w, by=["quarter"], kind="rollup", where=f"year = {year}",
                    measures={"revenue": "sum(net_amount)"})
    best = int(quarters[quarters["quarter"] != ALL].sort_values("revenue")["quarter"].iloc[-1])
    months = cube(w, by=["year_month"], kind="rollup",
                  where=f"year = {year} AND quarter = {best}",
                  measures={"revenue": "sum(net_amount)"})
    return year_quarter, quarters, months


def _history(s):
    from crmkit.analytics import forecast

    history = forecast.sales_series(s["data"])
    return history[history.index < s["forecast"].index[0]]


# ----------------------------------------------------------------------------- measuring
def _visible(text) -> bool:
    return text.get_visible() and bool(text.get_text().strip())


def _ticks(axis) -> list:
    """The tick labels the axis really draws (the ones inside its view)."""
    out = []
    for tick in axis._update_ticks():
        for label in (tick.label1, tick.label2):
            if _visible(label):
                out.append(label)
    return out


def _texts(fig) -> list[tuple[str, object, str]]:
    """(kind, artist, text) of every text a reader sees; a legend counts as one box."""
    found = []
    for t in fig.texts:
        if _visible(t) and t is not fig._suptitle:
            found.append(("figure", t, t.get_text()))
    if fig._suptitle is not None and _visible(fig._suptitle):
        found.append(("title", fig._suptitle, fig._suptitle.get_text()))
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if not ax.axison or not axis.get_visible():
                continue
            found += [("tick", lab, lab.get_text()) for lab in _ticks(axis)]
            if _visible(axis.label):
                found.append(("label", axis.label, axis.label.get_text()))
            if _visible(axis.offsetText):
                found.append(("offset", axis.offsetText, axis.offsetText.get_text()))
        for title in (ax.title, ax._left_title, ax._right_title):
            if _visible(title):
                found.append(("title", title, title.get_text()))
        found += [("text", t, t.get_text()) for t in ax.texts if _visible(t)]
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            words = " / ".join(t.get_text() for t in legend.get_texts())
            found.append(("legend", legend, words))
    for legend in fig.legends:
        found.append(("legend", legend, " / ".join(t.get_text() for t in legend.get_texts())))
    return found


def _overlap(a, b, slack: float = 1.0) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack
            and min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def _slanted_apart(artist_a, a, artist_b, b) -> bool:
    """Two tick labels slanted alike are apart when the lines they sit on are a text
    height apart (their upright boxes overlap by nature)."""
    angle = artist_a.get_rotation()
    if angle % 180 == 0 or angle != artist_b.get_rotation():
        return False
    height = artist_a.get_fontsize() * artist_a.figure.dpi / 72
    step = abs((a.x0 + a.x1) - (b.x0 + b.x1)) / 2
    return step * abs(np.sin(np.radians(angle))) >= height


def _render(case, lang, request):
    fixture, draw = CASES[case]
    data = request.getfixturevalue(fixture)
    set_style(lang)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = draw(data, lang)
        fig = out if isinstance(out, matplotlib.figure.Figure) else out.figure
        # as a notebook shows it: drawn, then written as a PNG cut to its content
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
        fig.canvas.draw()
    return fig


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")
    matplotlib.rcdefaults()


def _layout_problems(fig, case: str, lang: str) -> list[str]:
    renderer = fig.canvas.get_renderer()
    area = fig.bbox
    found = _texts(fig)
    boxes = [(kind, text, artist.get_window_extent(renderer)) for kind, artist, text in found]
    problems = []
    for kind, text, box in boxes:
        if (box.x0 < area.x0 - 1 or box.y0 < area.y0 - 1 or box.x1 > area.x1 + 1
                or box.y1 > area.y1 + 1):
            problems.append(f"{kind} {text!r} leaves the figure")
    for i, (kind_a, text_a, a) in enumerate(boxes):
        for j, (kind_b, text_b, b) in enumerate(boxes[i + 1:], i + 1):
            if _overlap(a, b) and not (kind_a == kind_b == "tick" and _slanted_apart(
                    found[i][1], a, found[j][1], b)):
                problems.append(f"{kind_a} {text_a!r} overlaps {kind_b} {text_b!r}")
    for kind, text, _ in boxes:
        if kind in ("tick", "offset", "text", "legend"):
            if ISO_MONTH.search(text):
                problems.append(f"ISO month in {kind} {text!r}")
            if UNGROUPED.search(text) and case not in ("star_schema", "snowflake_schema"):
                problems.append(f"ungrouped number in {kind} {text!r}")
            if FOREIGN_DECIMAL[lang].search(text):
                problems.append(f"decimal written the other language's way: {text!r}")
            if FOREIGN_PERCENT[lang].search(text):
                problems.append(f"percentage written the other language's way: {text!r}")
        if kind == "offset":
            problems.append(f"an offset {text!r} instead of whole numbers on the axis")
    return [f"{lang}: {p}" for p in problems]


def _rules(ax) -> list[tuple[object, str, float, float, float]]:
    """The straight lines drawn on ``ax`` (a base rate, a target, zero, a join), in display
    pixels: ``(line, "h", y, x0, x1)`` for a horizontal one, ``(line, "v", x, y0, y1)``."""
    found = []
    for line in ax.lines:
        if not line.get_visible() or len(line.get_xdata()) < 2:
            continue
        xy = line.get_transform().transform(line.get_xydata())
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        if np.ptp(xy[:, 1]) < 0.5:
            found.append((line, "h", y0, x0, x1))
        elif np.ptp(xy[:, 0]) < 0.5:
            found.append((line, "v", x0, y0, y1))
    return found


def _on_top(text, line) -> bool:
    """A text written on an opaque box above the line: the box hides the line (a join's
    key on a diagram)."""
    patch = text.get_bbox_patch()
    return (patch is not None and patch.get_facecolor()[3] >= 0.8
            and text.get_zorder() > line.get_zorder())


def _crossed_texts(fig, lang: str) -> list[str]:
    """A value written on the axes that a straight line runs through: the line strikes it
    out (a bar's label on the dashed base rate)."""
    renderer = fig.canvas.get_renderer()
    problems = []
    for ax in fig.axes:
        rules = _rules(ax)
        for text in ax.texts:
            if not _visible(text):
                continue
            box = text.get_window_extent(renderer)
            for line, kind, at, lo, hi in rules:
                across = (box.y0 + 1 < at < box.y1 - 1 and lo < box.x1 and box.x0 < hi
                          if kind == "h" else
                          box.x0 + 1 < at < box.x1 - 1 and lo < box.y1 and box.y0 < hi)
                if across and not _on_top(text, line):
                    problems.append(f"{lang}: a line runs through text {text.get_text()!r}")
    return problems


def _table_problems(fig, lang: str) -> list[str]:
    """A table drawn in the picture (the dashboard's campaigns): each text inside its cell."""
    renderer = fig.canvas.get_renderer()
    problems = []
    for ax in fig.axes:
        for table in ax.tables:
            for cell in table.get_celld().values():
                text, room = cell.get_text(), cell.get_window_extent(renderer)
                box = text.get_window_extent(renderer)
                if _visible(text) and (box.x0 < room.x0 or box.x1 > room.x1):
                    problems.append(f"{lang}: {text.get_text()!r} overflows its table cell")
    return problems


def _colour_problems(fig) -> list[str]:
    scales = {m.get_cmap().name for ax in fig.axes for m in [*ax.collections, *ax.images]
              if getattr(m, "get_array", lambda: None)() is not None}
    bad = {s.removesuffix("_r") for s in scales} & RED_GREEN
    return [f"red-green colour scale {b}" for b in sorted(bad)]


def _description_problems(said: dict[str, str | None]) -> list[str]:
    problems = []
    for lang, text in said.items():
        if not text or len(text) < 30:
            problems.append(f"{lang}: no description of the picture ({text!r})")
            continue
        # names from the data (a product, a shop) are quoted and may be in any language
        plain = re.sub(r"“[^”]*”|«[^»]*»", "", text)
        words = set(re.findall(r"[a-záéíóúñü]+", plain.casefold()))
        if words & OTHER_WORDS[lang]:
            problems.append(f"{lang}: description in the other language: {text!r}")
    if said["en"] == said["es"]:
        problems.append(f"the same description in both languages: {said['en']!r}")
    return problems


@pytest.mark.parametrize("case", list(CASES))
def test_the_picture_reads_well_in_both_languages(case, request):
    """(a) no text overlaps another, (b) every text inside the figure, (c) no warning
    (raised as an error while drawing), (d) locale ticks, (e) no red-green scale, (f) a
    description of the picture in its language, (g) no reference line (a base rate, a
    target) runs through a value written on the axes, (h) a table's texts inside their
    cells, (i) no English word, number or month drawn in the Spanish picture."""
    problems, said = [], {}
    for lang in LANGS:
        fig = _render(case, lang, request)
        problems += (_layout_problems(fig, case, lang) + _crossed_texts(fig, lang)
                     + _table_problems(fig, lang) + _colour_problems(fig))
        if lang == "es" and case not in SQL_NAMES:
            problems += [f"es: English drawn: {s}" for s in picture_slips(drawn_texts(fig))]
        said[lang] = figure_description(fig)
        plt.close("all")
    problems += _description_problems(said)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_a_bars_label_never_sits_on_the_base_rate(lang):
    """Shares just under, at and just over the dashed base rate (and far from it): the
    line runs through no label, and each label still stands above its own bar."""
    set_style(lang)
    shares = [0.30, 0.40, 0.43, 0.44, 0.45, 0.46, 0.47, 0.60]
    table = pd.DataFrame({"customers": [100 + 17 * i for i in range(len(shares))],
                          "came_back": shares})
    ax = model_plots.plot_cluster_outcomes(table, base_rate=0.45, lang=lang)
    fig = ax.figure
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    fig.canvas.draw()
    assert _crossed_texts(fig, lang) == []
    assert len(_rules(ax)) == 1  # the base rate is drawn, and is what was checked
    to_data = ax.transData.inverted()
    for text, share in zip(ax.texts, shares, strict=True):
        box = text.get_window_extent()
        bottom, top = to_data.transform([(box.x0, box.y0), (box.x1, box.y1)])[:, 1]
        assert share <= bottom and top <= ax.get_ylim()[1], (text.get_text(), share)
    assert _layout_problems(fig, "cluster_outcomes", lang) == []


@pytest.mark.parametrize("lang", LANGS)
def test_a_segments_size_never_sits_on_the_base_rate(lang):
    """The same for notebook 03's segments: sizes written beside horizontal bars whose
    shares lie just left of, at and just right of the dashed base rate."""
    set_style(lang)
    shares = [0.30, 0.40, 0.42, 0.44, 0.45, 0.46, 0.60]
    table = pd.DataFrame({"customers": [1000 + 170 * i for i in range(len(shares))],
                          "came_back": shares},
                         index=["champions", "loyal", "potential_loyalists", "new",
                                "promising", "need_attention", "at_risk"])
    ax = mining.plot_segment_outcomes(table, base_rate=0.45, lang=lang)
    fig = ax.figure
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    fig.canvas.draw()
    assert _crossed_texts(fig, lang) == []
    assert len(_rules(ax)) == 1
    to_data = ax.transData.inverted()
    for text, share in zip(ax.texts, shares, strict=True):
        box = text.get_window_extent()
        left, right = to_data.transform([(box.x0, box.y0), (box.x1, box.y1)])[:, 0]
        assert share <= left and right <= ax.get_xlim()[1], (text.get_text(), share)
    assert _layout_problems(fig, "segment_outcomes", lang) == []


def test_the_heat_map_of_conversion_fits_its_cells(web):
    """Notebook 04's heat map: every percentage inside its own cell, the cells readable."""
    set_style("es")
    table = experiments.conversion_heatmap(web)
    ax = dashboard.plot_conversion_heatmap(table, lang="es")
    fig = ax.figure
    fig.canvas.draw()
    cells = ax.get_window_extent()
    cell_w, cell_h = cells.width / table.shape[1], cells.height / table.shape[0]
    assert cell_h >= 30 and cell_w >= 60, (cell_w, cell_h)
    for text in ax.texts:
        box = text.get_window_extent()
        col = int((box.x0 + box.width / 2 - cells.x0) // cell_w)
        row = int((cells.y1 - (box.y0 + box.height / 2)) // cell_h)
        assert cells.x0 + col * cell_w <= box.x0 and box.x1 <= cells.x0 + (col + 1) * cell_w
        assert 0 <= row < table.shape[0]
