"""An interactive cube explorer, always with a static view that works everywhere.

Widgets need a live Jupyter kernel: in an HTML report they are dead boxes.
So :func:`cube_explorer` shows the view (a table and a heat map) as an
ordinary output, which every report keeps; when ipywidgets is available, the
dropdowns that choose the row dimension, the column dimension and the
measure sit above it, and each choice *replaces* that one output.

A redraw is atomic: the heat map is drawn on a figure that pyplot does not
track, turned into an image, and sent together with the table as one
display update. However quickly the learner changes the dropdowns, the cell
ends with exactly one view, the one the controls show, under the controls.

The view itself is plain data: :func:`cube_view` asks the warehouse for a
CUBE of two dimensions and lays it out as a cross table whose last row and
column, ``'(all)'``, are the subtotals (computed by the database, so a
distinct count stays right; money is summed exactly, in decimals, so the
grand total is the same cent in every view).

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

import base64
import html
import io
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import ParameterError, check_choice
from ..i18n import check_lang, describe_figure, format_number, number_axis, t
from ..warehouse.connection import WarehouseLike
from ..warehouse.cube import ALL, cube
from .exercises import problem

if TYPE_CHECKING:
    import ipywidgets as w
    from IPython.display import DisplayHandle

    #: The explorer's controls: their box and the rows, columns and measure pickers.
    Controls = tuple[w.HBox, w.Dropdown, w.Dropdown, w.Dropdown]

__all__ = ["DIMENSIONS", "MEASURES", "cube_view", "plot_cube_view", "default_columns",
           "view_bundle", "cube_explorer"]

#: Dimensions offered by the explorer (columns of ``marts.v_sales``).
DIMENSIONS = ("year", "quarter", "year_month", "department", "category", "channel",
              "channel_type", "segment", "city", "status", "payment_method")
#: Measures offered by the explorer: name -> SQL aggregate. Money is summed as decimals
#: (exact), so every view of the same cube has the same grand total to the cent.
MEASURES = {
    "revenue": "CAST(sum(CAST(net_amount AS DECIMAL(18, 4))) AS DOUBLE)",
    "orders": "count(DISTINCT order_id)",
    "units": "CAST(sum(quantity) AS BIGINT)",
    "margin": "CAST(sum(CAST(margin AS DECIMAL(18, 4))) AS DOUBLE)",
}
#: Labels of "no value": a NULL attribute and the dimension's unknown member (guests).
_MISSING = ("(none)", "(unknown)")
#: Column dimensions tried, in order, when the explorer chooses one for a shop.
_COLUMN_CHOICES = ("channel", "segment", "quarter", "year")


def _sort_key(label: object) -> tuple[int, float, str]:
    """Numbers in numeric order, then texts in dictionary order (accents ignored)."""
    text = str(label)
    try:
        return (0, float(text), "")
    except ValueError:
        pass
    folded = "".join(c for c in unicodedata.normalize("NFKD", text)
                     if not unicodedata.combining(c)).casefold()
    return (2 if text in _MISSING else 1, 0.0, folded)


def _ordered(labels: Iterable[object]) -> list:
    return sorted((v for v in labels if v != ALL), key=_sort_key) + [ALL]


def _fold_missing(view: pd.DataFrame, axis: int) -> pd.DataFrame:
    """One '(unknown)' row (or column) for both kinds of missing value.

    Each row of the fact has one value per dimension, so the two groups are
    disjoint and adding them up is exact, distinct counts included.
    """
    labels = view.index if axis == 0 else view.columns
    if not all(m in labels for m in _MISSING):
        return view
    merged = view.rename(index={"(none)": "(unknown)"}) if axis == 0 else \
        view.rename(columns={"(none)": "(unknown)"})
    return merged.T.groupby(level=0, sort=False).sum().T if axis == 1 else \
        merged.groupby(level=0, sort=False).sum()


def cube_view(warehouse: WarehouseLike, *, rows: str = "department", columns: str = "channel",
              measure: str = "revenue", table: str = "marts.v_sales",
              where: str | None = None) -> pd.DataFrame:
    """A cross table of ``measure`` by two dimensions, with ``'(all)'`` subtotals last.

    ``measure`` is one of :data:`MEASURES`; cells with no sales are 0. Row and
    column labels are in dictionary order (``Ávila`` before ``Burgos``); a
    missing value and the unknown member are one ``'(unknown)'``, shown last.
    """
    check_choice("measure", measure, MEASURES)
    if rows == columns:
        raise ParameterError(f"rows and columns are both {rows!r}; choose two different "
                             "dimensions (e.g. rows='department', columns='channel').")
    c = cube(warehouse, by=[rows, columns], measures={measure: MEASURES[measure]},
             table=table, where=where)
    view = c.pivot(index=rows, columns=columns, values=measure).fillna(0)
    view = _fold_missing(_fold_missing(view, 0), 1)
    view = view.reindex(index=_ordered(view.index), columns=_ordered(view.columns)).fillna(0)
    if measure in ("orders", "units"):
        view = view.astype("int64")
    view.index.name, view.columns.name = rows, columns
    return view


def default_columns(warehouse: WarehouseLike, *, rows: str = "department",
                    table: str = "marts.v_sales") -> str:
    """The first of channel, segment, quarter, year with two values or more in this shop.

    A web-only shop has one channel: a view by channel would be a single column.
    """
    for dim in _COLUMN_CHOICES:
        if dim == rows:
            continue
        values = cube(warehouse, by=[dim], measures={"n": "count(*)"}, table=table)
        if (values[dim] != ALL).sum() >= 2:
            return dim
    return next(d for d in _COLUMN_CHOICES if d != rows)


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


def _title(view: pd.DataFrame, measure: str, lang: str) -> str:
    return t("chart.cube_view_title", lang).format(
        measure=_label(measure, lang), rows=_lower(_label(str(view.index.name), lang)),
        columns=_lower(_label(str(view.columns.name), lang)))


def plot_cube_view(view: pd.DataFrame, *, measure: str = "revenue", lang: str = "en",
                   ax: Axes | None = None) -> Axes:
    """A heat map of a :func:`cube_view` (subtotals left out), values written in the cells."""
    import seaborn as sns

    check_lang(lang)
    detail = view.drop(index=ALL, columns=ALL, errors="ignore")
    detail = detail.rename(index=lambda v: _label(str(v), lang),
                           columns=lambda v: _label(str(v), lang))
    if ax is None:
        _, ax = plt.subplots(figsize=_figsize(detail), layout="constrained")
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
    ax.set_title(_title(view, measure, lang))
    ax.tick_params(axis="x", rotation=0 if detail.shape[1] <= 6 else 45)
    return describe_figure(ax, t("plot_alt.cube_view", lang).format(
        measure=_label(measure, lang), rows=_lower(_label(str(view.index.name), lang)),
        columns=_lower(_label(str(view.columns.name), lang))))


def _figsize(detail: pd.DataFrame) -> tuple[float, float]:
    width = min(max(4.5, 1.1 * detail.shape[1] + 3), 12)
    return width, min(max(2.5, 0.42 * detail.shape[0] + 1.5), 9)


def _png(view: pd.DataFrame, measure: str, lang: str) -> bytes:
    """The heat map as PNG bytes, drawn on a figure pyplot never sees."""
    detail = view.drop(index=ALL, columns=ALL, errors="ignore")
    fig = Figure(figsize=_figsize(detail), dpi=100, layout="constrained")
    plot_cube_view(view, measure=measure, lang=lang, ax=fig.subplots())
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def view_bundle(warehouse: WarehouseLike, *, rows: str, columns: str, measure: str = "revenue",
                lang: str = "en", table: str = "marts.v_sales"
                ) -> tuple[dict, pd.DataFrame | None]:
    """One complete view as a display bundle (table and heat map together), and its data.

    The HTML part is one block tagged with the choice it shows
    (``data-rows``, ``data-columns``, ``data-measure``); the plain-text part is
    the table. Two equal dimensions give a sentence instead, and no data.
    """
    from .notebook import localize

    check_lang(lang)
    if rows == columns:
        text = t("msg.cube_same_dimension", lang)
        return ({"text/plain": text,
                 "text/html": f'<div class="crmkit-cube-view" data-rows="{html.escape(rows)}" '
                              f'data-columns="{html.escape(columns)}" '
                              f'data-measure="{html.escape(measure)}"><p>{html.escape(text)}'
                              "</p></div>"}, None)
    view = cube_view(warehouse, rows=rows, columns=columns, measure=measure, table=table)
    shown = view.round(2) if measure in ("revenue", "margin") else view
    shown = localize(shown.rename(index=lambda v: _label(str(v), lang),
                                  columns=lambda v: _label(str(v), lang)), lang)
    title = _title(view, measure, lang)
    image = base64.b64encode(_png(view, measure, lang)).decode("ascii")
    block = (f'<div class="crmkit-cube-view" data-rows="{html.escape(rows)}" '
             f'data-columns="{html.escape(columns)}" data-measure="{html.escape(measure)}" '
             f'data-total="{float(view[ALL].loc[ALL]):.2f}">'
             f"{shown.to_html(float_format=lambda v: format_number(v, lang, decimals=2))}"
             f'<img class="crmkit-cube-heatmap" alt="{html.escape(title)}" '
             f'src="data:image/png;base64,{image}"/></div>')
    return {"text/plain": f"{title}\n{shown.to_string()}", "text/html": block}, view


def _widgets_available() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def cube_explorer(warehouse: WarehouseLike, *, rows: str = "department", columns: str | None = None,
                  measure: str = "revenue", lang: str = "en", table: str = "marts.v_sales",
                  interactive: bool | None = None) -> pd.DataFrame | None:
    """Show a view of the sales cube; with ipywidgets, dropdowns above it change it.

    The view (table and heat map of ``measure`` by ``rows`` and ``columns``)
    is an ordinary output, so HTML reports show it. ``columns=None`` picks
    :func:`default_columns` for the shop. With ``interactive`` (default: when
    ipywidgets can be imported) the dropdowns are displayed first and each
    choice replaces the view in place. Returns the first view's data (None when ``rows``
    and ``columns`` are the same dimension: the view is then a sentence).
    """
    from IPython.display import display

    check_lang(lang)
    check_choice("rows", rows, DIMENSIONS)
    if columns is None:
        columns = default_columns(warehouse, rows=rows, table=table)
    check_choice("columns", columns, DIMENSIONS)
    check_choice("measure", measure, MEASURES)
    if interactive is None:
        interactive = _widgets_available()
    controls = _controls(rows, columns, measure, lang) if interactive else None
    if controls is not None:
        display(_controls_bundle(controls[0], lang), raw=True)
    bundle, view = view_bundle(warehouse, rows=rows, columns=columns, measure=measure,
                               lang=lang, table=table)
    handle = display(bundle, raw=True, display_id=True)
    if controls is not None:
        _connect(controls, handle, warehouse, lang, table)
    return view


def _controls(rows: str, columns: str, measure: str, lang: str) -> Controls:
    import ipywidgets as w

    dims = [(_label(d, lang), d) for d in DIMENSIONS]
    pick_rows = w.Dropdown(options=dims, value=rows, description=t("label.cube_rows", lang))
    pick_cols = w.Dropdown(options=dims, value=columns,
                           description=t("label.cube_columns", lang))
    pick_measure = w.Dropdown(options=[(_label(m, lang), m) for m in MEASURES], value=measure,
                              description=t("label.measure", lang))
    box = w.HBox([pick_rows, pick_cols, pick_measure])
    box.add_class("crmkit-cube-controls")
    return box, pick_rows, pick_cols, pick_measure


def _controls_bundle(box: w.HBox, lang: str) -> dict:
    bundle = box._repr_mimebundle_() or {}
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    # in a report the widget cannot run: say so instead of printing the widget's repr
    return {**bundle, "text/plain": t("msg.cube_explorer_static", lang)}


def _connect(controls: Controls, handle: DisplayHandle, warehouse: WarehouseLike, lang: str,
             table: str) -> None:
    _, pick_rows, pick_cols, pick_measure = controls

    def redraw(*_event: object) -> None:
        # the whole new view is built first, then sent as one update of the one output
        try:
            bundle, _ = view_bundle(warehouse, rows=pick_rows.value, columns=pick_cols.value,
                                    measure=pick_measure.value, lang=lang, table=table)
        except Exception as exc:  # a redraw must never leave a half view behind
            text = problem(exc, lang)
            bundle = {"text/plain": text, "text/html": f"<pre>{html.escape(text)}</pre>"}
        handle.update(bundle, raw=True)

    for control in (pick_rows, pick_cols, pick_measure):
        control.observe(redraw, names="value")
