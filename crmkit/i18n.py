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
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from .errors import ParameterError, check_choice

__all__ = ["LANGS", "t", "catalog", "column_labels", "value_labels", "check_lang", "key_of"]

LANGS = ("en", "es")


@cache
def catalog() -> dict[str, tuple[str, str]]:
    """The whole catalog as ``{"group.key": (english, spanish)}``.

    It is read from ``catalog.yaml`` and the lesson files ``catalog_*.yaml``
    beside it; a key defined twice is an error, never a silent override.
    """
    files = sorted(f for f in resources.files("crmkit").iterdir()
                   if f.name == "catalog.yaml" or (f.name.startswith("catalog_")
                                                   and f.name.endswith(".yaml")))
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


def column_labels(columns, lang: str = "en") -> dict[str, str]:
    """Display names of columns, for ``DataFrame.rename(columns=...)``."""
    return {c: t(f"column.{c}", lang) for c in columns}


def value_labels(values, lang: str = "en") -> dict[str, str]:
    """Display names of category values (channels, states, segments...)."""
    return {v: t(f"value.{v}", lang) for v in values}


def key_of(text, groups=("column", "label", "value", "action")):
    """The catalog key whose label (in any language) is ``text``; ``text`` itself otherwise.

    Lets a learner answer with the label a table shows instead of the column name.

    >>> key_of("Correo electrónico"), key_of(" after-sales service "), key_of("postal_code")
    ('email', 'after_sales', 'postal_code')
    """
    if not isinstance(text, str):
        return text
    wanted = text.strip().casefold()
    for name, labels in catalog().items():
        group, key = name.split(".", 1)
        if group in groups and (wanted == key.casefold()
                                or wanted in (x.casefold() for x in labels)):
            return key
    return text.strip()
