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

from pathlib import Path

import pandas as pd

from ..dataset.crmdata import CRMData
from ..dataset.profiles import get_profile
from ..dataset.synth import generate, parse_day
from ..errors import ParameterError
from ..i18n import catalog, check_lang

__all__ = ["setup", "localize", "say", "set_style", "section", "shop_title", "money",
           "is_own_data"]


def set_style() -> None:
    """One look for every chart of the course."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams.update({"figure.dpi": 100, "axes.titleweight": "bold",
                         "figure.autolayout": True})


def setup(*, profile: str = "sports_shop", n_customers: int | None = None, seed: int = 0,
          start: str = "2024-01-01", end: str = "2025-12-31", lang: str = "en",
          data_dir: str | None = None) -> CRMData:
    """Check a notebook's parameters and return its data (a clear error names the bad one).

    With ``data_dir`` the dataset folder is loaded (and validated) instead of
    generating the shop ``profile``.
    """
    check_lang(lang)
    if data_dir:
        path = Path(data_dir)
        if not path.exists():
            raise ParameterError(
                f"data_dir={data_dir!r} does not exist; give a dataset folder such as "
                "'../data/samples/boutique', or None to generate the shop."
            )
        data = CRMData.load(path)
    else:
        get_profile(profile)
        parse_day("start", start)
        parse_day("end", end)
        data = generate(profile, n_customers=n_customers, start=start, end=end, seed=seed)
    set_style()
    return data


def _label(name, lang: str):
    if not isinstance(name, str):
        return name
    cat = catalog()
    i = 0 if lang == "en" else 1
    for group in ("column", "label", "value", "table", "action"):
        key = f"{group}.{name}"
        if key in cat:
            return cat[key][i]
    return name


def localize(table: pd.DataFrame | pd.Series, lang: str = "en"):
    """A copy of ``table`` whose column names, index names and labels speak ``lang``."""
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
    elif out.dtype == object or pd.api.types.is_string_dtype(out):
        out = out.map(lambda v: _value(v, lang))
    # row labels are mostly category values (a segment, a state); fall back to names
    out.index = out.index.map(lambda v: _label(_value(v, lang), lang))
    out.index.names = [_label(n, lang) for n in out.index.names]
    return out


def _value(v, lang: str):
    """A category value (a state, channel, role...) in ``lang``; other text unchanged."""
    if not isinstance(v, str):
        return v
    key = f"value.{v}"
    cat = catalog()
    return cat[key][0 if lang == "en" else 1] if key in cat else v


def say(key: str, lang: str = "en", **values) -> None:
    """Print one of the lesson's sentences (``msg.<key>`` in the catalog) in ``lang``."""
    from ..i18n import t

    print(t(f"msg.{key}", lang).format(**values))


def section(data, topic: str, lang: str = "en", number=None) -> bool:
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


def is_own_data(data) -> bool:
    """Whether ``data`` is a real shop's (imported or hand-made), not a synthetic shop.

    >>> is_own_data(setup(profile="boutique", n_customers=50))
    False
    """
    m = data.manifest
    return not (m.get("origin") == "synthetic" or m.get("source") == "crmkit.generate")


def shop_title(data, lang: str = "en") -> str:
    """The shop's name for titles: the profile's label for a synthetic shop, else its own."""
    from ..i18n import t

    profile = data.manifest.get("profile")
    if profile and data.manifest.get("origin", "synthetic") == "synthetic":
        return t(f"profile.{profile}", lang)
    return data.shop_name


def money(data, lang: str = "en") -> str:
    """The symbol of the shop's currency as ``lang`` writes it (Babel's CLDR data)."""
    from babel.numbers import get_currency_symbol

    return get_currency_symbol(data.currency, locale="es_ES" if lang == "es" else "en_US")
