"""Numbers of a user's file, read exactly as written: the decimal mark is decided per column.

A column's decimal mark is decided from the whole column, never value by
value: ``12,50`` proves a decimal comma, ``12.50`` a decimal point, while
``1.234`` and ``1,234`` could be either (a thousands separator or three
decimals) and ``12`` fits both. When the column holds proofs of both marks, the
majority decides and each value of the other convention is quarantined as
``ambiguous_decimal`` (never rescaled: a lone ``12.50`` among ``7,95`` is
neither 1250 nor 12.5 until a person says which). A ``decimal`` given by the
analyst that the data contradicts is refused with a sample of the values.

Every value keeps its exact text in a canonical form (``-1234.50``: sign,
digits, a point), from which money is read to the cent without passing through
a float; ``NaN``, ``inf``, ``Infinity``, ``1e400`` and any value too large for
a price are quarantined as ``non_finite``.

>>> col = parse_numbers(pd.Series(["7,95", "1.234,50", "12", "12.50", "inf", "doce", ""]))
>>> col.decimal
','
>>> col.text.tolist()
['7.95', '1234.50', '12', <NA>, <NA>, <NA>, <NA>]
>>> col.problem.tolist()
[<NA>, <NA>, <NA>, 'ambiguous_decimal', 'non_finite', 'not_a_number', 'empty']
>>> col.value.tolist()[:3]
[7.95, 1234.5, 12.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SourceError

__all__ = ["NumberColumn", "parse_numbers", "decide_decimal", "MAX_ABS", "PROBLEMS"]

#: Values beyond this (in absolute value) are taken as a broken value, not a price.
MAX_ABS = 1e13
#: What can be wrong with one value, as the quarantine names it.
PROBLEMS = ("empty", "not_a_number", "non_finite", "ambiguous_decimal")

_SIGN = r"(?P<sign>[+-]?)"
# each form: (regex, which decimal mark it proves: "." / "," / None = fits both)
_FORMS = {
    "int": (rf"^{_SIGN}(?P<i>\d+)$", None),
    "dot_3": (rf"^{_SIGN}(?P<i>\d{{1,3}})\.(?P<f>\d{{3}})$", None),
    "comma_3": (rf"^{_SIGN}(?P<i>\d{{1,3}}),(?P<f>\d{{3}})$", None),
    "dot": (rf"^{_SIGN}(?P<i>\d+)\.(?P<f>\d+)$", "."),
    "comma": (rf"^{_SIGN}(?P<i>\d+),(?P<f>\d+)$", ","),
    "dot_grouped": (rf"^{_SIGN}(?P<i>\d{{1,3}}(?:,\d{{3}})+)\.(?P<f>\d+)$", "."),
    "comma_grouped": (rf"^{_SIGN}(?P<i>\d{{1,3}}(?:\.\d{{3}})+),(?P<f>\d+)$", ","),
    "comma_groups": (rf"^{_SIGN}(?P<i>\d{{1,3}}(?:,\d{{3}}){{2,}})$", "."),
    "dot_groups": (rf"^{_SIGN}(?P<i>\d{{1,3}}(?:\.\d{{3}}){{2,}})$", ","),
    "exponent": (rf"^{_SIGN}(?P<i>\d+)(?:\.(?P<f>\d+))?[eE](?P<e>[+-]?\d+)$", "."),
}
_NON_FINITE = r"^[+-]?(?:nan|inf|infinity)$"


@dataclass
class NumberColumn:
    """One column read as numbers: exact text, value, problem per value and the decided mark."""

    text: pd.Series      # canonical exact text ("1234.50"), NA where unusable
    value: pd.Series     # float64, NaN where unusable (for checks and quantities, not money)
    problem: pd.Series   # NA or one of PROBLEMS
    decimal: str


def _clean(values: pd.Series) -> pd.Series:
    v = values.astype("str").str.strip().str.replace("\u00a0", "", regex=False)
    v = v.str.replace(r"^[$€£]\s*|\s*[$€£]$", "", regex=True)
    return v.str.replace(r"^([+-]?)\s*[$€£]\s*", r"\1", regex=True)


def _forms(v: pd.Series) -> pd.DataFrame:
    """Which form each value has (first that matches), or '' for none."""
    form = pd.Series("", index=v.index, dtype=object)
    for name, (pattern, _) in _FORMS.items():
        todo = form == ""
        if not todo.any():
            break
        hit = v[todo].str.match(pattern)
        form.loc[hit[hit].index] = name
    return form


def decide_decimal(form: pd.Series, *, given: str | None, values: pd.Series,
                   where: str) -> str:
    """The column's decimal mark from the forms of its values (see the module)."""
    proves = form.map({k: p for k, (_, p) in _FORMS.items()})
    dots, commas = int((proves == ".").sum()), int((proves == ",").sum())
    found = "," if commas > dots else "."
    if given is not None:
        other = "," if given == "." else "."
        n_other = commas if other == "," else dots
        n_given = dots if given == "." else commas
        if n_other > n_given:
            sample = values[proves == other].astype("str").head(3).tolist()
            raise SourceError(
                f"{where}: decimal={given!r} contradicts the data: {n_other:,} value(s) are "
                f"written with a decimal {'comma' if other == ',' else 'point'} (e.g. "
                f"{', '.join(sample)}); leave --decimal out or give --decimal {other}.")
        return given
    return found


def parse_numbers(values: pd.Series, *, decimal: str | None = None,
                  where: str = "column") -> NumberColumn:
    """Read a text column as numbers, exactly; see the module for the rules.

    ``decimal`` is the analyst's mark (``"."`` or ``","``), checked against the data;
    None decides it from the column. ``where`` names file and column in errors.
    """
    v = _clean(values)
    form = _forms(v)
    mark = decide_decimal(form, given=decimal, values=v, where=where)
    problem = pd.Series(pd.NA, index=v.index, dtype=object)
    problem[form == ""] = "not_a_number"
    problem[v.str.lower().str.match(_NON_FINITE)] = "non_finite"
    problem[v == ""] = "empty"
    other = "," if mark == "." else "."
    proves = form.map({k: p for k, (_, p) in _FORMS.items()})
    problem[proves == other] = "ambiguous_decimal"
    canon = _canonical(v, form, mark)
    canon[problem.notna()] = pd.NA
    value = pd.to_numeric(canon, errors="coerce").astype("float64")
    huge = ~np.isfinite(value.fillna(0)) | (value.abs() > MAX_ABS)
    problem[huge] = "non_finite"
    canon[huge] = pd.NA
    value[huge] = np.nan
    return NumberColumn(canon.astype("string"), value, problem, mark)


def _canonical(v: pd.Series, form: pd.Series, mark: str) -> pd.Series:
    """The exact text as ``[-]digits[.digits]`` under the column's mark."""
    out = pd.Series(pd.NA, index=v.index, dtype=object)
    sign = v.str.startswith("-").map({True: "-", False: ""})
    digits = v.str.lstrip("+-")
    group, dec = ("," if mark == "." else "."), mark
    plain = form.isin(["int", "dot", "comma", "dot_grouped", "comma_grouped", "comma_groups",
                       "dot_groups", "dot_3", "comma_3"])
    d = digits[plain].str.replace(group, "", regex=False).str.replace(dec, ".", regex=False)
    out[plain] = sign[plain] + d
    exp = form == "exponent"
    out[exp] = v[exp]
    return out
