"""An interactive cube explorer, always with a static view that works everywhere.

Widgets need a live Jupyter kernel: in an HTML report they are dead boxes.
So :func:`cube_explorer` first *shows* the default view as a table and a
heat map (that part survives in every report), then, when ipywidgets is
available, adds dropdowns to pick the row dimension, the column dimension and
the measure, redrawing the same kind of view on each choice.

The view itself is plain data: :func:`cube_view` asks the warehouse for a
CUBE of two dimensions and lays it out as a cross table whose last row and
column, ``'(all)'``, are the subtotals (computed by the database, so a
distinct count stays right).

>>> import duckdb
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE TABLE s AS SELECT * FROM (VALUES ('web', 'premium', 2, 10.0), "
...                 "('web', 'budget', 3, 5.0), ('store', 'budget', 4, 1.0)) "
...                 "v(channel, segment, order_id, net_amount)")
>>> cube_view(con, rows="channel", columns="segment", measure="revenue", table="s")
segment  budget  premium  (all)
channel
store       1.0      0.0    1.0
web         5.0     10.0   15.0
(all)       6.0     10.0   16.0
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..errors import ParameterError, check_choice
from ..i18n import check_lang, format_number, number_axis, t
from ..warehouse.cube import ALL, cube

__all__ = ["DIMENSIONS", "MEASURES", "cube_view", "plot_cube_view", "cube_explorer"]

#: Dimensions offered by the explorer (columns of ``marts.v_sales``).
DIMENSIONS = ("year", "quarter", "year_month", "department", "category", "channel",
              "channel_type", "segment", "city", "status", "payment_method")
#: Measures offered by the explorer: name -> SQL aggregate.
MEASURES = {
    "revenue": "sum(net_amount)",
    "orders": "count(DISTINCT order_id)",
    "units": "CAST(sum(quantity) AS BIGINT)",
    "margin": "sum(margin)",
}


def cube_view(warehouse, *, rows: str = "department", columns: str = "channel",
              measure: str = "revenue", table: str = "marts.v_sales",
              where: str | None = None) -> pd.DataFrame:
    """A cross table of ``measure`` by two dimensions, with ``'(all)'`` subtotals last.

    ``measure`` is one of :data:`MEASURES`; cells with no sales are 0.
    """
    check_choice("measure", measure, MEASURES)
    if rows == columns:
        raise ParameterError(f"rows and columns are both {rows!r}; choose two different "
                             "dimensions (e.g. rows='department', columns='channel').")
    c = cube(warehouse, by=[rows, columns], measures={measure: MEASURES[measure]},
             table=table, where=where)
    view = c.pivot(index=rows, columns=columns, values=measure)
    order_r = [v for v in view.index if v != ALL] + [ALL]
    order_c = [v for v in view.columns if v != ALL] + [ALL]
    view = view.reindex(index=order_r, columns=order_c).fillna(0)
    if measure in ("orders", "units"):
        view = view.astype("int64")
    view.index.name, view.columns.name = rows, columns
    return view


def _label(key: str, lang: str) -> str:
    for group in ("column", "label", "value"):
        try:
            return t(f"{group}.{key}", lang)
        except ParameterError:
            continue
    return key


def _lower(text: str) -> str:
    """A label inside a sentence: 'Channel' -> 'channel', but 'SKU' stays."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def plot_cube_view(view: pd.DataFrame, *, measure: str = "revenue", lang: str = "en",
                   ax=None):
    """A heat map of a :func:`cube_view` (subtotals left out), values written in the cells."""
    import seaborn as sns

    check_lang(lang)
    detail = view.drop(index=ALL, columns=ALL, errors="ignore")
    detail = detail.rename(index=lambda v: _label(str(v), lang),
                           columns=lambda v: _label(str(v), lang))
    if ax is None:
        width = min(max(4.5, 1.1 * detail.shape[1] + 3), 12)
        _, ax = plt.subplots(figsize=(width, min(max(2.5, 0.42 * detail.shape[0] + 1.5), 9)))
    values = detail.astype(float)
    # the annotations are written as the language writes numbers (136.000 in Spanish)
    labels = values.map(lambda v: "" if pd.isna(v) else format_number(v, lang, decimals=0))
    # colours from zero, so that 136,000 against 136,500 does not look like the two extremes
    vmin = 0.0 if (values.min().min() >= 0) else None
    annot = labels.to_numpy() if detail.shape[0] * detail.shape[1] <= 80 else False
    sns.heatmap(values, annot=annot, fmt="", vmin=vmin,
                cmap="crest", linewidths=0.5, cbar_kws={"label": _label(measure, lang)},
                ax=ax)
    colorbar = ax.collections[0].colorbar if ax.collections else None
    if colorbar is not None:
        number_axis(colorbar.ax, lang)
    ax.tick_params(axis="y", rotation=0)
    ax.set_xlabel(_label(str(view.columns.name), lang))
    ax.set_ylabel(_label(str(view.index.name), lang))
    ax.set_title(t("chart.cube_view_title", lang).format(
        measure=_label(measure, lang), rows=_lower(_label(str(view.index.name), lang)),
        columns=_lower(_label(str(view.columns.name), lang))))
    ax.tick_params(axis="x", rotation=0 if detail.shape[1] <= 6 else 45)
    return ax


def _show(warehouse, rows, columns, measure, lang, table):
    from IPython.display import display

    from .notebook import localize

    view = cube_view(warehouse, rows=rows, columns=columns, measure=measure, table=table)
    shown = view.round(2) if measure in ("revenue", "margin") else view
    shown = shown.rename(index=lambda v: _label(str(v), lang),
                         columns=lambda v: _label(str(v), lang))
    display(localize(shown, lang))
    plot_cube_view(view, measure=measure, lang=lang)
    plt.show()
    return view


def _widgets_available() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def cube_explorer(warehouse, *, rows: str = "department", columns: str = "channel",
                  measure: str = "revenue", lang: str = "en", table: str = "marts.v_sales",
                  interactive: bool | None = None) -> pd.DataFrame:
    """Show the default view of the sales cube, then (with ipywidgets) an explorer.

    The static view (table and heat map of ``measure`` by ``rows`` and
    ``columns``) is always displayed, so HTML reports show it. With
    ``interactive`` (default: when ipywidgets can be imported) dropdowns let
    the learner choose other dimensions and measures. Returns the static view.
    """
    check_lang(lang)
    check_choice("rows", rows, DIMENSIONS)
    check_choice("columns", columns, DIMENSIONS)
    view = _show(warehouse, rows, columns, measure, lang, table)
    if interactive is None:
        interactive = _widgets_available()
    if interactive:
        _explorer(warehouse, rows, columns, measure, lang, table)
    return view


def _explorer(warehouse, rows, columns, measure, lang, table) -> None:
    import ipywidgets as w
    from IPython.display import display

    dims = [(_label(d, lang), d) for d in DIMENSIONS]
    pick_rows = w.Dropdown(options=dims, value=rows, description=t("label.cube_rows", lang))
    pick_cols = w.Dropdown(options=dims, value=columns,
                           description=t("label.cube_columns", lang))
    pick_measure = w.Dropdown(options=[(_label(m, lang), m) for m in MEASURES], value=measure,
                              description=t("label.measure", lang))
    out = w.Output()

    def redraw(*_):
        out.clear_output(wait=True)
        with out:
            if pick_rows.value == pick_cols.value:
                print(t("msg.cube_same_dimension", lang))
                return
            _show(warehouse, pick_rows.value, pick_cols.value, pick_measure.value, lang,
                  table)

    for control in (pick_rows, pick_cols, pick_measure):
        control.observe(redraw, names="value")
    box = w.VBox([w.HBox([pick_rows, pick_cols, pick_measure]), out])
    bundle = box._repr_mimebundle_() or {}
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    # in a report the widget cannot run: say so instead of printing the widget's repr
    bundle = {**bundle, "text/plain": t("msg.cube_explorer_static", lang)}
    display(bundle, raw=True)
