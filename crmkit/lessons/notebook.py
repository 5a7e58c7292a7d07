"""Helpers every lesson notebook calls: check the parameters, get the data, show tables.

>>> data = setup(profile="boutique", n_customers=80, seed=1, lang="es")
>>> data.manifest["profile"]
'boutique'
>>> setup(profile="boutique", lang="fr")
Traceback (most recent call last):
...
crmkit.errors.ParameterError: lang='fr' is not allowed; choose one of: 'en', 'es'.
>>> import pandas as pd
>>> localize(pd.DataFrame({"channel": ["web"], "share": [0.5]}), "es").columns.tolist()
['Canal', 'Proporción']
>>> when = pd.DataFrame({"placed_at": pd.to_datetime(["2025-03-05 21:13"])})
>>> localize(when, "es").iloc[0, 0], localize(when, "en").iloc[0, 0]
('5/3/2025, 21:13', Timestamp('2025-03-05 21:13:00'))
>>> localize(pd.DataFrame({"ok": [True], "detail": ["store · delivered"]}), "es").iloc[0].tolist()
['Sí', 'Tienda · Entregado']
>>> say("top_share", "es", share=0.4567)
El 10 % de los compradores que más gastan aporta el 46...% de los ingresos.

A shop's own data may lack tables; a section asks first and says why it skips:

>>> from crmkit.dataset.crmdata import CRMData
>>> log = CRMData({"orders": data.orders}, {"shop_name": "Disco Sur", "currency": "USD"})
>>> section(log, "incidents", "es", 5)
Los datos de esta tienda no tienen incidencias: se omite la sección 5.
False
>>> shop_title(log, "en"), shop_title(data, "es"), money(log, "en"), money(data, "es")
('Disco Sur', 'Tienda de ropa local', '$', '€')
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from ..analytics.campaigns import CAMPAIGN_NAME, campaign_label
from ..dataset.crmdata import CRMData
from ..dataset.profiles import get_profile
from ..dataset.synth import generate
from ..i18n import (
    catalog,
    check_lang,
    display_numbers,
    figure_description,
    format_date,
    format_datetime,
    t,
)
from .parameters import check_parameters

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: A lesson table: what :func:`localize` and :func:`readable` take, and give back.
Table = TypeVar("Table", pd.DataFrame, pd.Series)

__all__ = ["setup", "localize", "readable", "for_reader", "say", "set_style", "alt_text",
           "shorten", "section", "shop_title", "money", "is_own_data", "campaign_label", "raw",
           "RawData", "Table"]


def set_style(lang: str = "en") -> None:
    """One look for every chart of the course, and images that say what they show.

    Figures are laid out by matplotlib's constrained layout (room for every
    label, legend and colour bar, no "tight layout not applied" warning). In a
    notebook, each figure's image carries its description in ``lang``
    (:func:`alt_text`) as the ``alt`` of its output, which a report's HTML uses.
    """
    import matplotlib as mpl
    import seaborn as sns

    check_lang(lang)
    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams.update({"figure.dpi": 100, "axes.titleweight": "bold",
                         "figure.autolayout": False, "figure.constrained_layout.use": True})
    # tables: a sentence or a raw line of 100 characters is shown whole, not cut mid-word
    pd.set_option("display.max_colwidth", 100)
    if _in_notebook():
        _describe_images(lang)


def alt_text(fig: Figure, lang: str = "en") -> str:
    """What a figure shows in words: its description, else its titles.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("Pedidos por hora")
    >>> alt_text(fig, "es")
    'Gráfico: Pedidos por hora.'
    >>> plt.close(fig)
    """
    said = figure_description(fig)
    if said:
        return said
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    if fig.get_suptitle():
        titles.insert(0, fig.get_suptitle())
    return t("plot_alt.titled", lang).format(title="; ".join(titles) or t(
        "plot_alt.untitled", lang))


_IMAGES: dict[str, Any] = {"lang": "en", "hooked": False}


def _describe_images(lang: str) -> None:
    """Make the kernel's PNG of a figure carry ``{"alt": alt_text(fig)}`` as its metadata."""
    from IPython import get_ipython

    ip = get_ipython()
    _IMAGES["lang"] = lang
    import matplotlib
    import matplotlib.pyplot as plt

    if "inline" in str(matplotlib.rcParams._get("backend")):
        plt.switch_backend(matplotlib.rcParams._get("backend"))  # it sets its PNG printer now
    _wrap_png_printer(ip)
    if not _IMAGES["hooked"]:  # a later ``%matplotlib inline`` replaces the printer again
        ip.events.register("pre_run_cell", lambda *_: _wrap_png_printer(ip))
        _IMAGES["hooked"] = True


def _wrap_png_printer(ip: Any) -> None:  # IPython's shell
    from matplotlib.figure import Figure

    formatter = ip.display_formatter.formatters["image/png"]
    try:
        inner = formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if getattr(inner, "crmkit_alt", False):
        return

    def png(fig: Figure) -> tuple[bytes, dict[str, str]] | None:
        data = inner(fig)
        return None if data is None else (data, {"alt": alt_text(fig, _IMAGES["lang"])})

    png.crmkit_alt = True  # type: ignore[attr-defined]  # a marker on the function object
    formatter.for_type(Figure, png)


def setup(*, profile: str = "sports_shop", n_customers: int | None = None, seed: int = 0,
          start: str = "2024-01-01", end: str = "2025-12-31", lang: str = "en",
          data_dir: str | None = None, **more: object) -> CRMData:
    """Check a notebook's parameters and return its data (a clear error names the bad one).

    The rules are those of :mod:`crmkit.lessons.parameters` (the same ones
    ``crmkit report`` applies before a notebook runs); ``more`` takes the
    notebook's other parameters (e.g. ``sla_hours``) to check them too. With
    ``data_dir`` the dataset folder is loaded (and validated) instead of
    generating the shop ``profile``.
    """
    check_parameters({"profile": profile, "n_customers": n_customers, "seed": seed,
                      "start": start, "end": end, "lang": lang, "data_dir": data_dir, **more})
    if data_dir:
        data = CRMData.load(Path(data_dir).expanduser())
    else:
        get_profile(profile)
        data = generate(profile, n_customers=n_customers, start=start, end=end, seed=seed)
    set_style(lang)
    if _in_notebook():  # pandas' display options are global: change them only in a kernel
        display_numbers(lang)
    return data


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def _label(name: object, lang: str) -> object:
    if not isinstance(name, str):
        return name
    cat = catalog()
    i = 0 if lang == "en" else 1
    for group in ("column", "label", "value", "table", "action"):
        key = f"{group}.{name}"
        if key in cat:
            return cat[key][i]
    return name


def localize(table: Table, lang: str = "en") -> Table:
    """A copy of ``table`` whose column names, index names and labels speak ``lang``.

    In Spanish, dates and times are written as Spanish readers write them
    (``5/3/2025, 21:13``); decimals follow the language through pandas'
    display options (:func:`crmkit.i18n.display_numbers`, set by :func:`setup`).
    """
    check_lang(lang)
    out = table.copy()
    if isinstance(out, pd.DataFrame):
        out.columns = [_label(c, lang) for c in out.columns]
    else:
        out.name = _label(out.name, lang)
    if isinstance(out, pd.DataFrame):
        for col, values in table.items():
            if values.dtype == object or pd.api.types.is_string_dtype(values):
                out[_label(col, lang)] = values.map(lambda v: _value(v, lang))
            elif lang != "en" and pd.api.types.is_bool_dtype(values):
                out[_label(col, lang)] = values.map(lambda v: _value(v, lang)).astype(object)
    elif out.dtype == object or pd.api.types.is_string_dtype(out):
        out = out.map(lambda v: _value(v, lang))
    if lang != "en":
        if isinstance(out, pd.DataFrame):
            for col in out.columns[[pd.api.types.is_datetime64_any_dtype(d) for d in out.dtypes]]:
                out[col] = _dates(out[col], lang)
        elif pd.api.types.is_datetime64_any_dtype(out.dtype):
            out = _dates(out, lang)
    # row labels are mostly category values (a segment, a state); fall back to names
    def row(v: object) -> object:
        return _label(_value(v, lang), lang)

    names = [_label(n, lang) for n in out.index.names]
    if isinstance(out.index, pd.MultiIndex):  # every level: a level of data, a field name...
        out.index = pd.MultiIndex.from_tuples([tuple(map(row, k)) for k in out.index])
    else:
        out.index = out.index.map(row)
    out.index.names = names
    return out


def _dates(values: pd.Series, lang: str) -> pd.Series:
    """Dates (and times, when there are any) as text in ``lang``; missing stay missing."""
    has_time = bool((values.dropna() != values.dropna().dt.normalize()).any())
    write = format_datetime if has_time else format_date
    kw = {} if has_time else {"skeleton": "yMd"}
    written = {v: write(v, lang, **kw) for v in values.dropna().unique()}  # once per value
    return values.map(lambda v: written[v] if pd.notna(v) else v).astype(object)


def _value(v: Any, lang: str) -> Any:  # a table's cell: any value
    """A category value (a state, channel, role...) in ``lang``; other text unchanged.

    A value made of several joined by `` · `` (``"store · delivered"``) is
    translated part by part; True/False read ``Sí``/``No`` in Spanish, and a
    lone date in a column of mixed values (a table of facts) is written the
    Spanish way too.

    >>> _value(datetime.date(2025, 3, 5), "es"), _value(True, "es")
    ('5/3/2025', 'Sí')
    """
    if isinstance(v, bool | np.bool_) and lang != "en":
        return t(f"bool.{str(bool(v)).lower()}", lang)
    if isinstance(v, datetime.date) and lang != "en" and not pd.isna(v):
        has_time = isinstance(v, datetime.datetime) and v != pd.Timestamp(v).normalize()
        return format_datetime(v, lang) if has_time else format_date(v, lang, skeleton="yMd")
    if not isinstance(v, str):
        return v
    key = f"value.{v}"
    cat = catalog()
    if key in cat:
        return cat[key][0 if lang == "en" else 1]
    if lang != "en" and CAMPAIGN_NAME.match(v):
        return campaign_label(v, lang)
    if " · " in v:
        return " · ".join(_value(part, lang) for part in v.split(" · "))
    return v


class RawData:
    """Lines or a table shown exactly as a source system wrote them: data, not prose.

    Its HTML says so (``lang="zxx"``, no linguistic content), so a check of a page's
    language leaves it out; its headers may still be translated.

    >>> print(raw(["a;b", "1;2,5"]))
    a;b
    1;2,5
    >>> raw(pd.DataFrame({"x": ["37.95"]}))._repr_html_().startswith('<div lang="zxx">')
    True
    """

    def __init__(self, content: pd.DataFrame | pd.Series | list[str]) -> None:
        self.content = content

    def __repr__(self) -> str:
        if isinstance(self.content, pd.DataFrame | pd.Series):
            return repr(self.content)
        return "\n".join(map(str, self.content))

    def _repr_html_(self) -> str:
        import html

        if isinstance(self.content, pd.DataFrame | pd.Series):
            inner = self.content.to_frame().to_html() if isinstance(
                self.content, pd.Series) else self.content.to_html()
        else:
            inner = f"<pre>{html.escape(repr(self))}</pre>"
        return f'<div lang="zxx">{inner}</div>'


def raw(content: pd.DataFrame | pd.Series | Iterable[str]) -> RawData:
    """``content`` (a table, or lines of a file) to be shown as data, not prose."""
    return RawData(content if isinstance(content, pd.DataFrame | pd.Series) else list(content))


def shorten(values: pd.Series, width: int = 70) -> pd.Series:
    """Texts longer than ``width`` cut at the last word or field boundary, with an ellipsis.

    For display only: a cut never splits a word (``'Zaragoza'``), and the
    ellipsis says that something was left out.

    >>> shorten(pd.Series(["short", "2025-01-31;Zaragoza;7,95;delivered"]), width=25).tolist()
    ['short', '2025-01-31;Zaragoza;7,95…']
    """
    def cut(text: object) -> object:
        if not isinstance(text, str) or len(text) <= width:
            return text
        head = text[:width]
        at = max(head.rfind(ch) for ch in " ;,|\t")
        return (head[:at] if at > width // 2 else head).rstrip() + "…"

    return values.map(cut)


#: What a table shows where a value is missing or does not apply.
MISSING = "—"


def readable(table: Table, lang: str = "en", *, missing: str = MISSING) -> Table:
    """A copy of ``table`` a person can read in ``lang``: whole numbers written through the
    locale formatter (``69.659`` in Spanish), and no ``None``, ``nan`` or ``NaT``: a missing
    value reads ``missing``. Decimal columns without a gap are left to pandas' display
    options (:func:`crmkit.i18n.display_numbers`).

    >>> t = pd.DataFrame({"orders": [69659, 3], "lift": [1.5, None], "city": ["Vigo", None]})
    >>> readable(t, "es").to_dict("list")
    {'orders': ['69.659', '3'], 'lift': ['1,5', '—'], 'city': ['Vigo', '—']}
    >>> readable(t["orders"], "en").tolist()
    ['69,659', '3']
    """
    from ..i18n import format_number

    def column(values: pd.Series) -> pd.Series:
        if pd.api.types.is_bool_dtype(values):
            return values
        if pd.api.types.is_integer_dtype(values) or (
                pd.api.types.is_float_dtype(values) and values.isna().any()):
            whole = pd.api.types.is_integer_dtype(values)
            return values.astype(object).map(
                lambda v: missing if pd.isna(v) else format_number(int(v) if whole else v, lang))
        if values.isna().any():
            return values.astype(object).map(lambda v: missing if _missing(v) else v)
        return values

    if isinstance(table, pd.Series):
        return column(table.copy())
    if table.shape[1] == 0:
        return table.copy()
    out = pd.concat([column(table.iloc[:, i]) for i in range(table.shape[1])], axis=1)
    out.columns = table.columns
    return out


def for_reader(table: Table, lang: str = "en") -> Table:
    """:func:`localize`, then :func:`readable`: a table as a reader of ``lang`` sees it.

    >>> for_reader(pd.DataFrame({"city": [None], "orders": [1500]}), "es").iloc[0].tolist()
    ['—', '1.500']
    """
    return readable(localize(table, lang), lang)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array in a cell
        return False


def say(key: str, lang: str = "en", **values: object) -> None:
    """Print one of the lesson's sentences (``msg.<key>`` in the catalog) in ``lang``."""
    from ..i18n import format_message, t

    print(format_message(t(f"msg.{key}", lang), lang, **values))


def section(data: CRMData, topic: str, lang: str = "en", number: int | None = None) -> bool:
    """Whether ``data`` has what ``topic`` needs; if not, print a short note saying
    that section ``number`` (or this part) is skipped, in ``lang``."""
    from ..i18n import t

    if data.has(topic):
        return True
    what = t(f"topic.{topic}", lang)
    if number is None:
        say("skip_part", lang, what=what)
    else:
        say("skip_section", lang, what=what, n=number)
    return False


def is_own_data(data: CRMData) -> bool:
    """Whether ``data`` is a real shop's (imported or hand-made), not a synthetic shop.

    >>> is_own_data(setup(profile="boutique", n_customers=50))
    False
    >>> pd.reset_option("display.float_format")  # setup() set it; pandas' own for the examples
    """
    m = data.manifest
    return not (m.get("origin") == "synthetic" or m.get("source") == "crmkit.generate")


def shop_title(data: CRMData, lang: str = "en") -> str:
    """The shop's name for titles: the profile's label for a synthetic shop, else its own."""
    from ..i18n import t

    profile = data.manifest.get("profile")
    if profile and data.manifest.get("origin", "synthetic") == "synthetic":
        return t(f"profile.{profile}", lang)
    return data.shop_name


def money(data: CRMData, lang: str = "en") -> str:
    """The symbol of the shop's currency as ``lang`` writes it (Babel's CLDR data)."""
    from babel.numbers import get_currency_symbol

    return get_currency_symbol(data.currency, locale="es_ES" if lang == "es" else "en_US")
