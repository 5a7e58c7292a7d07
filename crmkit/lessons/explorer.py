"""Who is in a segment and what are they worth: an explorer with a static view first.

:func:`segment_members` is the plain answer (the customers of one segment
above a probability-alive threshold, most valuable first, and their total),
:func:`segment_worth` the overview of every segment. :func:`value_explorer`
*shows* both as tables and a chart, which survive in every HTML report, and
then, with ipywidgets in a live kernel, adds a segment picker and a threshold
slider that redraw the list.

>>> import pandas as pd
>>> table = pd.DataFrame({"segment": ["champions", "champions", "lost"],
...                       "probability_alive": [0.9, 0.4, 0.2], "clv_12m": [100.0, 50.0, 5.0],
...                       "total_spend": [300.0, 80.0, 20.0]},
...                      index=pd.Index([1, 2, 3], name="customer_id"))
>>> segment_members(table, segment="champions", min_alive=0.5).index.tolist()
[1]
>>> segment_worth(table).loc["champions", ["customers", "value"]].tolist()
[2.0, 150.0]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from ..analytics.segments import SEGMENTS
from ..errors import ParameterError, check_choice
from ..i18n import check_lang, describe_figure, format_message, format_number, locale_axes, t

__all__ = ["value_column", "segment_members", "segment_worth", "plot_segment_worth",
           "value_explorer"]

_SHOWN = ("segment", "orders", "total_spend", "probability_alive", "expected_purchases",
          "clv_12m")


def value_column(table: pd.DataFrame) -> str:
    """The column that says what a customer is worth: ``clv_12m`` if present, else spend."""
    return "clv_12m" if "clv_12m" in table.columns else "total_spend"


def _check(table: pd.DataFrame) -> None:
    for col in ("segment", "probability_alive"):
        if col not in table.columns:
            raise ParameterError(f"the customer table has no column {col!r}; join the "
                                 "segments and the value models first (notebook 03, "
                                 "section 4).")


def segment_members(table: pd.DataFrame, *, segment: str, min_alive: float = 0.0,
                    top: int | None = None) -> pd.DataFrame:
    """The customers of ``segment`` whose probability alive is at least ``min_alive``.

    Sorted by value (see :func:`value_column`), most valuable first; ``top``
    keeps only the first rows.
    """
    _check(table)
    check_choice("segment", segment, [str(s) for s in SEGMENTS])
    if not 0 <= min_alive <= 1:
        raise ParameterError(f"min_alive={min_alive!r} must be a probability between 0 and 1.")
    keep = (table["segment"].astype(str) == segment) & (table["probability_alive"] >= min_alive)
    out = table.loc[keep, [c for c in _SHOWN if c in table.columns]]
    out = out.sort_values(value_column(table), ascending=False)
    return out.head(top) if top is not None else out


def segment_worth(table: pd.DataFrame, *, min_alive: float = 0.0) -> pd.DataFrame:
    """Per segment: customers, their summed value and their mean probability alive."""
    _check(table)
    kept = table[table["probability_alive"] >= min_alive]
    g = kept.groupby(kept["segment"].astype(str))
    out = pd.DataFrame({"customers": g.size().astype(float),
                        "value": g[value_column(table)].sum(),
                        "probability_alive": g["probability_alive"].mean()})
    order = [s for s in SEGMENTS if s in out.index]
    return out.loc[order]


def plot_segment_worth(table: pd.DataFrame, *, min_alive: float = 0.0, lang: str = "en",
                       ax: Axes | None = None) -> Axes:
    """What each segment is worth in total (bars), with its size written beside."""
    check_lang(lang)
    worth = segment_worth(table, min_alive=min_alive)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(worth) + 1.5), layout="constrained")
    labels = [t(f"rfm_segment.{s}", lang) for s in worth.index][::-1]
    ax.barh(labels, worth["value"].to_numpy()[::-1], color="#55a868")
    for y, (n, v) in enumerate(zip(worth["customers"].to_numpy()[::-1],
                                   worth["value"].to_numpy()[::-1], strict=True)):
        ax.text(v, y, f"  n={format_number(int(n), lang)}", va="center", fontsize="small")
    key = "m03_chart.worth_clv" if value_column(table) == "clv_12m" else "m03_chart.worth_spend"
    ax.set_xlabel(t(key, lang))
    ax.set_title(t("m03_chart.segment_worth", lang))
    ax.margins(x=0.15)  # room for the counts written after the longest bar
    locale_axes(ax, lang)
    return describe_figure(ax, format_message(t("plot_alt.segment_worth", lang), lang,
                                              n=len(worth)))


def _labels(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = frame.copy()
    if out.index.name == "segment":
        out.index = [t(f"rfm_segment.{s}", lang) for s in out.index]
        out.index.name = t("m03_explorer.segment", lang)
    elif out.index.name == "customer_id":
        out.index.name = t("column.customer_id", lang)
    if "segment" in out:
        out["segment"] = out["segment"].astype(str).map(lambda s: t(f"rfm_segment.{s}", lang))
    out.columns = [t(f"m03_explorer.{c}", lang) for c in out.columns]
    return out


def _show(table: pd.DataFrame, segment: str, min_alive: float, top: int, lang: str
          ) -> pd.DataFrame:
    from IPython.display import display

    members = segment_members(table, segment=segment, min_alive=min_alive)
    value = members[value_column(table)].sum()
    print(format_message(t("msg.m03_members", lang), lang, n=len(members),
                         segment=t(f"rfm_segment.{segment}", lang), p=min_alive, value=value))
    display(_labels(members.head(top).round(2), lang))
    return members


def value_explorer(table: pd.DataFrame, *, segment: str | None = None, min_alive: float = 0.0,
                   top: int = 10, lang: str = "en", interactive: bool | None = None
                   ) -> pd.DataFrame:
    """Show what every segment is worth and who is in one; then, with ipywidgets, explore.

    The static part (the overview table and chart, and the ``top`` members of
    ``segment``, by default the most valuable segment) is always displayed.
    With ``interactive`` (default: when ipywidgets can be imported) a segment
    picker and a probability-alive slider redraw the list. Returns the members
    shown statically.
    """
    from IPython.display import display

    check_lang(lang)
    _check(table)
    worth = segment_worth(table)
    if segment is None:
        segment = str(worth["value"].idxmax())
    display(_labels(worth.round(2), lang))
    plot_segment_worth(table, lang=lang)
    plt.show()
    members = _show(table, segment, min_alive, top, lang)
    if interactive is None:
        try:
            import ipywidgets  # noqa: F401
            interactive = True
        except ImportError:
            interactive = False
    if interactive:
        _widget(table, worth, segment, min_alive, top, lang)
    return members


def _widget(table: pd.DataFrame, worth: pd.DataFrame, segment: str, min_alive: float, top: int,
            lang: str) -> None:
    import ipywidgets as w
    from IPython.display import display

    pick = w.Dropdown(options=[(t(f"rfm_segment.{s}", lang), s) for s in worth.index],
                      value=segment, description=t("m03_explorer.segment", lang))
    # a long label (Spanish) beside the dropdown would squeeze the slider to its handle:
    # the slider has its own row and a width of its own
    slider = w.FloatSlider(value=min_alive, min=0, max=1, step=0.05,
                           description=t("m03_explorer.min_alive", lang),
                           style={"description_width": "initial"},
                           layout=w.Layout(width="36em", min_width="24em"))
    out = w.Output()

    def redraw(*_: object) -> None:
        out.clear_output(wait=True)
        with out:
            _show(table, pick.value, slider.value, top, lang)

    pick.observe(redraw, names="value")
    slider.observe(redraw, names="value")
    box = w.VBox([pick, slider, out])
    bundle = box._repr_mimebundle_() or {}
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    # in a report the widget cannot run: say so instead of printing the widget's repr
    bundle = {**bundle, "text/plain": t("msg.m03_explorer_static", lang)}
    display(bundle, raw=True)
