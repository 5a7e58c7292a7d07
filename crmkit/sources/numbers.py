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
['7.95', '1234.50', '12', nan, nan, nan, nan]
>>> col.problem.tolist()
[None, None, None, 'ambiguous_decimal', 'non_finite', 'not_a_number', 'empty']
>>> col.value.tolist()[:3]
[7.95, 1234.5, 12.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SourceError

__all__ = ["NumberColumn", "parse_numbers", "decide_decimal", "distinct", "MAX_ABS", "PROBLEMS"]

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
    #: each row's place among the column's distinct values, and the canonical text of each
    #: distinct value (NA where unusable): what :func:`parse_numbers` read once per value
    codes: np.ndarray | None = None
    distinct_text: pd.Series | None = None

    def categories(self) -> pd.Series:
        """``text`` as a categorical column, each distinct text once: a column a log
        repeats millions of times is then selected, counted and read as money per
        distinct value.

        >>> col = parse_numbers(pd.Series(["1,50", "+1,50", "2", "x", "2"]))
        >>> col.categories().astype(object).tolist() == col.text.astype(object).tolist()
        True
        >>> col.categories().cat.categories.tolist()
        ['1.50', '2']
        """
        if self.codes is None or self.distinct_text is None:
            return self.text.astype("category")
        codes, uniques = pd.factorize(self.distinct_text, use_na_sentinel=True)
        return pd.Series(pd.Categorical.from_codes(codes[self.codes], categories=uniques),
                         index=self.text.index)


def _clean(values: pd.Series) -> pd.Series:
    v = values.astype("str").str.strip()
    if v.str.contains("[\u00a0$€£]", regex=True).any():  # rare: regex replaces are slow
        v = v.str.replace("\u00a0", "", regex=False)
        v = v.str.replace(r"^[$€£]\s*|\s*[$€£]$", "", regex=True)
        v = v.str.replace(r"^([+-]?)\s*[$€£]\s*", r"\1", regex=True)
    return v


_NAMES = list(_FORMS)
_PROVES = np.array([""] + [p or "" for _, p in _FORMS.values()], dtype=object)


def _forms(v: pd.Series) -> np.ndarray:
    """Which form each value has: 1 + its index in ``_FORMS`` (first that matches), 0 none."""
    form = np.zeros(len(v), dtype=np.int8)
    todo = np.ones(len(v), dtype=bool)
    for code, (pattern, _) in enumerate(_FORMS.values(), 1):
        if not todo.any():
            break
        sub = v[todo] if not todo.all() else v
        hit = sub.str.match(pattern).to_numpy(dtype=bool, na_value=False)
        where = np.flatnonzero(todo)[hit]
        form[where] = code
        todo[where] = False
    return form


def _at_line(where: str, lines: npt.ArrayLike | None, mask: npt.ArrayLike) -> str:
    """``file, line N, column 'x'``: the line of the first value at fault, when known."""
    if lines is None or not np.asarray(mask).any():
        return where
    first = int(np.asarray(lines)[np.flatnonzero(np.asarray(mask))[0]])
    file, sep, column = where.partition(", column ")
    return f"{file}, line {first}, column {column}" if sep else f"{where}, line {first}"


def decide_decimal(form: np.ndarray, *, given: str | None, values: pd.Series | None,
                   where: str, lines: npt.ArrayLike | None = None) -> str:
    """The column's decimal mark from the forms of its values (see the module).

    ``values`` (the rows' text) gives the examples of a refusal of ``given``; it is
    read only then (None: the refusal names no example)."""
    per_form = np.bincount(form, minlength=len(_PROVES))  # rows of each form
    dots, commas = (int(per_form[_PROVES == mark].sum()) for mark in (".", ","))
    found = "," if commas > dots else "."
    if given is not None:
        other = "," if given == "." else "."
        n_other = commas if other == "," else dots
        n_given = dots if given == "." else commas
        if n_other > n_given:
            proves = _PROVES[form]
            sample = ([] if values is None else
                      values[proves == other].astype("str").head(3).tolist())
            example = f" (e.g. {', '.join(sample)})" if sample else ""
            where = _at_line(where, lines, proves == other)
            raise SourceError(
                f"{where}: decimal={given!r} contradicts the data: {n_other:,} value(s) are "
                f"written with a decimal {'comma' if other == ',' else 'point'}{example}; "
                f"leave --decimal out or give --decimal '{other}'.")
        return given
    return found


def distinct(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The distinct values of a column (in order of first appearance, a missing value
    included) and each row's position among them: a column is parsed once per distinct
    value and the results are spread back to its rows (a log repeats its dates, quantities
    and prices millions of times).

    >>> u, codes = distinct(pd.Series(["b", "a", "b"]))
    >>> u.tolist(), codes.tolist()
    (['b', 'a'], [0, 1, 0])
    """
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=False)
    if not isinstance(uniques, pd.Index | pd.api.extensions.ExtensionArray | np.ndarray):
        uniques = np.asarray(uniques)
    return pd.Series(uniques, dtype=pd.Series(values).dtype), np.asarray(codes, dtype=np.intp)


def parse_numbers(values: pd.Series, *, decimal: str | None = None,
                  where: str = "column", lines: npt.ArrayLike | None = None) -> NumberColumn:
    """Read a text column as numbers, exactly; see the module for the rules.

    ``decimal`` is the analyst's mark (``"."`` or ``","``), checked against the data;
    None decides it from the column. ``where`` names file and column in errors and
    ``lines`` (the rows' 1-based lines in the file) the line of the first value at fault.
    Each distinct value is read once; the decimal mark is decided from every row.
    """
    values = pd.Series(values)
    uniques, codes = distinct(values)
    v = _clean(uniques)
    form_u = _forms(v)
    form = form_u[codes]
    shown = v.take(codes).set_axis(values.index) if decimal is not None else None
    mark = decide_decimal(form, given=decimal, values=shown, where=where, lines=lines)
    problem = np.full(len(v), None, dtype=object)
    none = form_u == 0
    if none.any():
        problem[none] = "not_a_number"
        odd = v[none]
        problem[np.flatnonzero(none)[odd.str.lower().str.match(_NON_FINITE).to_numpy(
            dtype=bool, na_value=False)]] = "non_finite"
        problem[np.flatnonzero(none)[(odd == "").to_numpy(dtype=bool, na_value=False)]] = "empty"
    problem[_PROVES[form_u] == ("," if mark == "." else ".")] = "ambiguous_decimal"
    canon = _canonical(v, form_u, mark).where(pd.isna(problem))
    value = _to_float(canon)
    huge = ~np.isfinite(value.fillna(0).to_numpy()) | (value.abs() > MAX_ABS).to_numpy()
    if huge.any():
        problem[huge] = "non_finite"
        canon = canon.where(~huge)
        value[huge] = np.nan
    index = values.index
    return NumberColumn(canon.take(codes).set_axis(index),
                        pd.Series(value.to_numpy()[codes], index=index, dtype="float64"),
                        pd.Series(problem[codes], index=index, dtype=object), mark,
                        codes, canon)


def _canonical(v: pd.Series, form: np.ndarray, mark: str) -> pd.Series:
    """The exact text as ``[-]digits[.digits]`` under the column's mark (exponents kept)."""
    group = "," if mark == "." else "."
    out = v.str.replace(group, "", regex=False)
    if mark == ",":
        out = out.str.replace(",", ".", regex=False)
    out = out.str.removeprefix("+")
    exp = form == 1 + _NAMES.index("exponent")
    return out.where(~exp, v).where(form != 0)


def _to_float(canon: pd.Series) -> pd.Series:
    """Float values of canonical text (C speed through Arrow; pandas for the odd value)."""
    try:
        arrow = pa.array(canon.astype("str").array)
        return pd.Series(pc.cast(arrow, pa.float64()).to_numpy(zero_copy_only=False),
                         index=canon.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(canon, errors="coerce").astype("float64")
