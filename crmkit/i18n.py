"""One catalog of user-facing labels in English and Spanish.

Every label a notebook shows (profile names, table and column names, data
levels, actions, category values) comes from ``catalog.yaml`` through
:func:`t`, so switching ``lang`` switches every title and header.

>>> from crmkit.i18n import t, column_labels
>>> t("table.orders", "es")
'Pedidos'
>>> t("level.3", "en"), t("action.one_to_one", "es")
('Profile', 'Marketing 1x1')
>>> column_labels(["customer_id", "city"], "es")
{'customer_id': 'Cliente', 'city': 'Población'}
>>> t("table.orders", "fr")
Traceback (most recent call last):
...
crmkit.errors.ParameterError: lang='fr' is not allowed; choose one of: 'en', 'es'.

Numbers, percentages, money and dates follow the language's conventions
through Babel (the Unicode CLDR data), never hand-written format strings:

>>> format_number(1500.25, "es"), format_number(1500.25, "en")
('1.500,25', '1,500.25')
>>> format_percent(0.125, "es", decimals=1), format_currency(1500.25, "es")
('12,5\xa0%', '1.500,25\xa0€')
>>> format_date("2025-03-05", "es"), month_names("es")[:3], weekday_names("es", "abbreviated")[0]
('5 mar 2025', ['ene', 'feb', 'mar'], 'lun')
>>> format_message("{n:,} pedidos, {share:.1%} del total", "es", n=12500, share=0.4567)
'12.500 pedidos, 45,7\xa0% del total'
>>> parse_locale_number("1.500,25", "es"), parse_locale_number("0.25", "en")
(1500.25, 0.25)
"""

from __future__ import annotations

import datetime as _dt
import numbers
import re
import string
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import yaml

from .errors import ParameterError, check_choice

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_T = TypeVar("_T")

__all__ = [
    "LANGS",
    "LOCALES",
    "t",
    "catalog",
    "column_labels",
    "value_labels",
    "check_lang",
    "key_of",
    "format_number",
    "format_percent",
    "format_currency",
    "format_date",
    "format_datetime",
    "month_names",
    "weekday_names",
    "format_message",
    "parse_locale_number",
    "number_axis",
    "date_axis",
    "locale_axes",
    "describe_figure",
    "figure_description",
    "display_numbers",
]

LANGS = ("en", "es")
#: The Babel (CLDR) locale of each language: the shops are in Spain.
LOCALES = {"en": "en", "es": "es_ES"}


@cache
def catalog() -> dict[str, tuple[str, str]]:
    """The whole catalog as ``{"group.key": (english, spanish)}``.

    It is read from ``catalog.yaml`` and the lesson files ``catalog_*.yaml``
    beside it; a key defined twice is an error, never a silent override.
    """
    files = sorted((f for f in resources.files("crmkit").iterdir()
                    if f.name == "catalog.yaml" or (f.name.startswith("catalog_")
                                                    and f.name.endswith(".yaml"))),
                   key=lambda f: f.name)  # one folder: the names give the order of the paths
    flat: dict[str, tuple[str, str]] = {}
    for f in files:
        raw = yaml.safe_load(f.read_text("utf-8")) or {}
        for group, entries in raw.items():
            for key, labels in entries.items():
                name = f"{group}.{key}"
                if name in flat:
                    raise ValueError(f"catalog key {name!r} is defined twice ({f.name})")
                flat[name] = tuple(labels)
    return flat


def check_lang(lang: str) -> str:
    """Return ``lang`` if crmkit speaks it, else raise a clear error."""
    return check_choice("lang", lang, LANGS)


def t(key: str, lang: str = "en") -> str:
    """The label of ``key`` (``"group.name"``) in language ``lang``."""
    idx = LANGS.index(check_lang(lang))
    try:
        return catalog()[key][idx]
    except KeyError:
        raise ParameterError(
            f"no label {key!r} in crmkit/catalog.yaml; add it with its English and "
            "Spanish text."
        ) from None


def column_labels(columns: Iterable[str], lang: str = "en") -> dict[str, str]:
    """Display names of columns, for ``DataFrame.rename(columns=...)``."""
    return {c: t(f"column.{c}", lang) for c in columns}


def value_labels(values: Iterable[str], lang: str = "en") -> dict[str, str]:
    """Display names of category values (channels, states, segments...)."""
    return {v: t(f"value.{v}", lang) for v in values}


@overload
def key_of(text: str, groups: Iterable[str] = ...) -> str: ...
@overload
def key_of(text: _T, groups: Iterable[str] = ...) -> _T: ...
def key_of(text: object, groups: Iterable[str] = ("column", "label", "value", "action")) -> object:
    """The catalog key whose label (in any language) is ``text``; ``text`` itself otherwise.

    Lets a learner answer with the label a table shows instead of the column name;
    case and accents do not matter.

    >>> key_of("Correo electrónico"), key_of(" after-sales service "), key_of("postal_code")
    ('email', 'after_sales', 'postal_code')
    >>> key_of("CORREO ELECTRONICO"), key_of("poblacion")
    ('email', 'city')
    """
    if not isinstance(text, str):
        return text
    wanted = _fold(text)
    for name, labels in catalog().items():
        group, key = name.split(".", 1)
        if group in groups and (wanted == _fold(key)
                                or wanted in (_fold(x) for x in labels)):
            return key
    return text.strip()


def _fold(text: str) -> str:
    """``text`` without case, accents or surrounding spaces."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# ----------------------------------------------------------------------------- locale formats
def _locale(lang: str) -> str:
    return LOCALES[check_lang(lang)]


def _fixed(pattern: str, decimals: int | None) -> str:
    """A CLDR number pattern with exactly ``decimals`` digits after the separator."""
    if decimals is None:
        return pattern
    frac = "." + "0" * decimals if decimals > 0 else ""
    return re.sub(r"#,##0(?:\.[0#]+)?|(?<![#,])0(?:\.[0#]+)?", "#,##0" + frac, pattern)


def format_number(value: float | Decimal, lang: str = "en", *, decimals: int | None = None,
                  grouping: bool = True) -> str:
    """``value`` written as the language writes numbers (``decimals`` fixed if given).

    >>> format_number(1234567.891, "es", decimals=1), format_number(0.5, "es")
    ('1.234.567,9', '0,5')
    """
    from babel import Locale
    from babel.numbers import format_decimal, parse_pattern

    loc = _locale(lang)
    if decimals is None:
        return format_decimal(value, locale=loc, group_separator=grouping)
    pattern = _fixed(Locale.parse(loc).decimal_formats[None].pattern, decimals)
    return format_decimal(value, format=parse_pattern(pattern).pattern, locale=loc,
                          group_separator=grouping)


def format_percent(share: float | Decimal, lang: str = "en", *, decimals: int = 0) -> str:
    """A share (0.125) as a percentage in ``lang`` (``12,5 %`` in Spanish, ``12.5%`` in English).

    >>> format_percent(0.125, "en", decimals=1), format_percent(0.5, "es")
    ('12.5%', '50\xa0%')
    """
    from babel import Locale
    from babel.numbers import format_percent as _percent

    loc = _locale(lang)
    pattern = _fixed(Locale.parse(loc).percent_formats[None].pattern, decimals)
    return _percent(share, format=pattern, locale=loc)


def format_currency(amount: float | Decimal, lang: str = "en", *, currency: str = "EUR",
                    decimals: int | None = None) -> str:
    """An amount of money in ``lang``: ``1.500,25 €`` in Spanish, ``€1,500.25`` in English.

    ``decimals`` defaults to the currency's own (2 for the euro).

    >>> format_currency(1500, "es", decimals=0), format_currency(9.5, "en", currency="USD")
    ('1.500\xa0€', '$9.50')
    """
    from babel import Locale
    from babel.numbers import format_currency as _currency

    loc = _locale(lang)
    if decimals is None:
        return _currency(amount, currency, locale=loc)
    pattern = _fixed(Locale.parse(loc).currency_formats["standard"].pattern, decimals)
    return _currency(amount, currency, format=pattern, locale=loc, currency_digits=False)


def _as_datetime(value: str | _dt.date) -> _dt.date:
    if isinstance(value, str):
        return _dt.datetime.fromisoformat(value)
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value


def format_date(value: str | _dt.date, lang: str = "en", *, skeleton: str = "yMMMd") -> str:
    """A date written in ``lang`` (a CLDR skeleton: ``yMMMd`` gives ``5 mar 2025``).

    >>> format_date("2025-03-05", "en"), format_date("2025-03-05", "es", skeleton="yMMMM")
    ('Mar 5, 2025', 'marzo de 2025')
    """
    from babel.dates import format_skeleton

    return format_skeleton(skeleton, _as_datetime(value), locale=_locale(lang))


def format_datetime(value: str | _dt.date, lang: str = "en", *, date: str = "yMd",
                    time: str = "Hm") -> str:
    """A date and time written in ``lang`` (CLDR skeletons for each part, joined as CLDR says).

    >>> format_datetime("2025-03-05T21:13", "es"), format_datetime("2025-03-05T21:13", "en")
    ('5/3/2025, 21:13', '3/5/2025, 21:13')
    """
    from babel.dates import get_datetime_format

    joined = str(get_datetime_format("short", locale=_locale(lang)))  # CLDR gives a text
    return joined.replace("{1}", format_date(value, lang, skeleton=date)).replace(
        "{0}", format_date(value, lang, skeleton=time))


def month_names(lang: str = "en",
                width: Literal["abbreviated", "narrow", "wide"] = "abbreviated") -> list[str]:
    """The twelve month names, January first (``width``: wide, abbreviated, narrow)."""
    from babel.dates import get_month_names

    names = get_month_names(width, locale=_locale(lang))
    return [names[i] for i in range(1, 13)]


def weekday_names(lang: str = "en",
                  width: Literal["abbreviated", "narrow", "short", "wide"] = "wide") -> list[str]:

    """The seven weekday names, Monday first (as pandas' ``dayofweek`` counts)."""
    from babel.dates import get_day_names

    names = get_day_names(width, locale=_locale(lang))
    return [names[i] for i in range(7)]


_SPEC = re.compile(r"(?P<sign>\+)?(?P<group>[,_])?(?:\.(?P<prec>\d+))?(?P<type>[dfgn%]?)")


_YES_NO = {"es": {True: "sí", False: "no"}}


def _date_field(value: str | _dt.date | None, lang: str) -> str:
    """A ``{field:date}``: ISO ``2025-03-05`` in English, ``5/3/2025`` in Spanish."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "—"
    day = _as_datetime(value)
    if lang == "en":
        return day.strftime("%Y-%m-%d")
    return format_date(day, lang, skeleton="yMd")


class _LocaleFormatter(string.Formatter):
    """``str.format`` whose numeric fields are written by Babel in one language."""

    def __init__(self, lang: str):
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        number: float = value  # used once it is known to be a real number (numpy's too)
        if format_spec == "date":
            return _date_field(value, self.lang)
        if isinstance(value, bool) and not format_spec and self.lang != "en":
            return _YES_NO[self.lang][value]
        if self.lang == "en" or isinstance(value, bool) or not isinstance(value, numbers.Real):
            return super().format_field(value, format_spec)
        m = _SPEC.fullmatch(format_spec)
        if m is None:
            return super().format_field(value, format_spec)
        if m.group("sign"):  # "+": the sign of a positive number written too
            text = self.format_field(value, format_spec[1:])
            return text if text.startswith(("-", "−")) else "+" + text
        group, prec, kind = m.group("group"), m.group("prec"), m.group("type")
        decimals = int(prec) if prec is not None else None
        if kind == "%":
            return format_percent(number, self.lang, decimals=6 if decimals is None else decimals)
        if not format_spec:
            if isinstance(value, numbers.Integral):
                return str(value)
            return format_number(number, self.lang, grouping=False)
        if kind in ("f", "n") or decimals is not None:
            return format_number(number, self.lang, decimals=6 if decimals is None else decimals,
                                 grouping=bool(group))
        return format_number(number, self.lang, grouping=bool(group))


def format_message(template: str, lang: str = "en", /, **values: object) -> str:
    """``template.format(**values)`` with the numbers written the way ``lang`` writes them.

    Format specs keep their meaning (``{n:,}`` groups thousands, ``{x:.1f}``
    fixes one decimal, ``{s:.0%}`` is a percentage); ``{day:date}`` writes a
    date (an ISO text or a timestamp) and a bare ``{ok}`` writes True/False as
    ``sí``/``no`` in Spanish. In English the numbers are exactly Python's.

    >>> format_message("{day:date}: {ok}", "es", day="2026-02-16", ok=True)
    '16/2/2026: sí'
    >>> format_message("{day:date}: {ok}", "en", day="2026-02-16", ok=True)
    '2026-02-16: True'
    >>> format_message("{d:+.1%} {e:+.1%}", "es", d=0.105, e=-0.023)
    '+10,5\xa0% -2,3\xa0%'
    """
    return _LocaleFormatter(check_lang(lang)).format(template, **values)


def parse_locale_number(text: str, lang: str = "en") -> float:
    """A number typed the way ``lang`` writes numbers (``"1.500,25"`` in Spanish): one text,
    read by the language's convention (a column of a file is read by its own decimal mark,
    decided from its values, by :func:`crmkit.sources.numbers.parse_numbers`).

    Raises :class:`ValueError` if ``text`` is not such a number.
    """
    from babel.numbers import NumberFormatError, parse_decimal

    try:
        return float(parse_decimal(str(text).strip(), locale=_locale(lang), strict=True))
    except NumberFormatError as exc:
        raise ValueError(f"{text!r} is not a number written in {lang!r}: {exc}") from None


def number_axis(ax: Axes, lang: str = "en", *, axis: str = "y", kind: str = "number",
                decimals: int | None = None, currency: str = "EUR") -> Axes:
    """Write the tick labels of ``ax``'s ``axis`` as numbers, percentages or money in ``lang``."""
    import matplotlib.ticker as mticker

    def label(v: float, _pos: int | None = None) -> str:
        if kind == "percent":
            return format_percent(v, lang, decimals=decimals or 0)
        if kind == "currency":
            return format_currency(v, lang, currency=currency,
                                   decimals=0 if decimals is None else decimals)
        return format_number(v, lang, decimals=decimals)

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(mticker.FuncFormatter(label))
    return ax


def date_axis(ax: Axes, lang: str = "en", *, axis: str = "x") -> Axes:
    """Write the date ticks of ``ax`` with the month names of ``lang`` (``ene 2025``)."""
    import matplotlib.dates as mdates
    import matplotlib.ticker as mticker

    target = ax.xaxis if axis == "x" else ax.yaxis
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    target.set_major_locator(locator)

    def label(v: float, _pos: int | None = None) -> str:
        lo, hi = sorted(target.get_view_interval())
        span_days = hi - lo
        day = mdates.num2date(v).replace(tzinfo=None)
        return format_date(day, lang, skeleton="yMMM" if span_days > 62 else "MMMd")

    target.set_major_formatter(mticker.FuncFormatter(label))
    return ax


def locale_axes(ax: Axes, lang: str = "en") -> Axes:
    """Write every number and date axis of ``ax`` and of its colour bars the way ``lang`` does.

    An axis of plain numbers gets grouped thousands and the language's decimal sign
    (never an offset such as ``1e6``), a date axis month names; category axes and
    axes whose labels were already set (a heat map's rows) are left as they are.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 25000])
    >>> _ = locale_axes(ax, "es")
    >>> fig.canvas.draw()
    >>> "20.000" in [x.get_text() for x in ax.get_yticklabels()]
    True
    >>> "0,2" in [x.get_text() for x in ax.get_xticklabels()]
    True
    >>> plt.close(fig)
    """
    import matplotlib.dates as mdates
    import matplotlib.ticker as mticker

    bars = [bar.ax for m in [*ax.collections, *ax.images]
            if (bar := getattr(m, "colorbar", None)) is not None]
    for each in (ax, *bars):
        for name, axis in (("x", each.xaxis), ("y", each.yaxis)):
            shown = axis.get_major_formatter()
            if isinstance(shown, mdates.AutoDateFormatter | mdates.ConciseDateFormatter
                          | mdates.DateFormatter):
                date_axis(each, lang, axis=name)
            elif isinstance(shown, mticker.ScalarFormatter | mticker.LogFormatter):
                number_axis(each, lang, axis=name)
    return ax


#: The attribute of a matplotlib figure that keeps, per axes, what its picture shows in words.
_DESCRIPTION = "crmkit_description"


def describe_figure(ax: Axes, text: str) -> Axes:
    """Say in words what the picture on ``ax`` shows: the alt text of the figure's image.

    Each plot function calls it with a sentence from the catalog in its ``lang``;
    a figure with several axes says each part in the order of its axes.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, (left, right) = plt.subplots(1, 2)
    >>> _ = describe_figure(right, "Lift curve.")
    >>> _ = describe_figure(left, "ROC curve.")
    >>> figure_description(fig)
    'ROC curve. Lift curve.'
    >>> plt.close(fig)
    """
    fig = ax.figure
    said = getattr(fig, _DESCRIPTION, None)
    if said is None:
        said = {}
        setattr(fig, _DESCRIPTION, said)
    said[ax] = " ".join(str(text).split())
    return ax


def figure_description(fig: Figure) -> str | None:

    """What a figure shows in words (set by :func:`describe_figure`), or None."""
    said = getattr(fig, _DESCRIPTION, None) or {}
    parts = [said[ax] for ax in fig.axes if ax in said]
    parts += [text for ax, text in said.items() if ax not in fig.axes]
    return " ".join(parts) or None


def display_numbers(lang: str = "en") -> None:
    """Make pandas show the decimals of every table the way ``lang`` writes them.

    Spanish tables then read ``1.234,5`` and English ones ``1,234.5``: the locale
    formatter's at most three decimals, never pandas' raw six (``0.414141``).

    >>> import pandas as pd
    >>> display_numbers("en"); print(pd.DataFrame({"x": [0.414141, 1476.6667]}).to_string())
              x
    0     0.414
    1 1,476.667
    >>> pd.reset_option("display.float_format")  # pandas' own, for the examples that follow
    """
    import pandas as pd

    check_lang(lang)
    pd.set_option("display.float_format", lambda v: format_number(v, lang, decimals=None))
