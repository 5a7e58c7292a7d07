"""Money as integer minor units ("cents") of the shop's currency, exact end to end.

A dataset stores money as whole numbers of the currency's minor unit: cents of a
euro, no fraction for the yen (:func:`minor_digits`, from Babel's currency data).
Text is read exactly, digit by digit, never through a binary float
(:func:`parse_money`); sums are integer sums; a figure becomes a
:class:`~decimal.Decimal` only at the end, to be formatted (:func:`to_decimal`).

>>> minor_digits("EUR"), minor_digits("JPY"), minor_digits("BHD")
(2, 0, 3)
>>> import pandas as pd
>>> cents, problem = parse_money(pd.Series(["12.50", "0.1", "7", "3.999", "inf", "1e400",
...                                         "12,50", ""]))
>>> cents.tolist()
[1250, 10, 700, <NA>, <NA>, <NA>, <NA>, <NA>]
>>> problem.tolist()
[nan, nan, nan, 'too_many_decimals', 'non_finite', 'overflow', 'not_a_number', nan]
>>> to_decimal(1250, "EUR"), to_decimal(1250, "JPY")
(Decimal('12.50'), Decimal('1250'))

The revenue of a line is its ``amount_cents``; the net revenue of an order is the
sum of its lines' ``amount_cents`` less its ``refunded_cents`` (:func:`order_totals`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from babel.numbers import get_currency_precision

from ..errors import SchemaError

if TYPE_CHECKING:
    from .crmdata import CRMData

__all__ = [
    "PROBLEMS",
    "minor_digits",
    "parse_money",
    "to_decimal",
    "to_cents",
    "derive_line_amounts",
    "allocate",
    "line_amounts",
    "order_totals",
]

#: Why a money value could not be read, as :func:`parse_money` names it.
PROBLEMS = {
    "not_a_number": "not a number written with the column's decimal mark",
    "non_finite": "NaN or infinity: not an amount of money",
    "too_many_decimals": "more decimals than the currency has minor units",
    "overflow": "too large for a 64-bit whole number of minor units",
}

_MAX = 2**63 - 1
_NON_FINITE = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)


@lru_cache(maxsize=64)
def minor_digits(currency: str) -> int:
    """Decimal digits of the currency's minor unit (Babel's CLDR data; 2 when unknown).

    >>> minor_digits("usd"), minor_digits("CLP")
    (2, 0)
    """
    return int(get_currency_precision(str(currency).upper()))


def _patterns(decimal: str, thousands: str | None) -> tuple[re.Pattern, re.Pattern]:
    d = re.escape(decimal)
    if thousands:
        t = re.escape(thousands)
        whole = rf"(?:[0-9]{{1,3}}(?:{t}[0-9]{{3}})+|[0-9]*)"
    else:
        whole = "[0-9]*"
    plain = re.compile(rf"\s*(?P<sign>[+-]?)(?P<int>{whole})(?:{d}(?P<frac>[0-9]*))?\s*")
    expo = re.compile(rf"\s*[+-]?(?:[0-9]+(?:{d}[0-9]*)?|{d}[0-9]+)[eE][+-]?[0-9]+\s*")
    return plain, expo


def parse_money(values: pd.Series, *, decimal: str = ".", currency: str = "EUR",
                thousands: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Read money written as text into integer minor units, exactly.

    Parameters
    ----------
    values : Series
        The text of each value (numbers of an integer dtype are taken as they are;
        binary floats are refused: read the column as text).
    decimal : str
        The decimal mark of the column (``"."`` or ``","``). A value written with the
        other mark is ``not_a_number``, never rescaled.
    currency : str
        ISO 4217 code: decides how many decimals a value may have.
    thousands : str, optional
        A thousands separator the column uses (``","``, ``"."``, ``" "``...); only
        well-formed groups of three digits are accepted. None (the default): no
        grouping is accepted.

    Returns
    -------
    (cents, problem) : (Series of Int64, Series of str)
        ``cents`` is NA where the value is empty or has a problem; ``problem`` is NA
        where the value was read or empty, else one of :data:`PROBLEMS`. Trailing
        zeros are fine (``12.500`` is 1250 cents); a value that would need rounding
        is ``too_many_decimals``, never rounded.

    >>> parse_money(pd.Series(["1.234,5", "-0,07", "1,2,3"]), decimal=",", thousands=".")[0]
    0    123450
    1        -7
    2      <NA>
    dtype: Int64
    >>> parse_money(pd.Series(["1200", "1200.5"]), currency="JPY")[1].tolist()
    [nan, 'too_many_decimals']
    """
    if decimal not in (".", ","):
        raise ValueError(f"decimal={decimal!r}: give '.' or ','")
    if thousands == decimal:
        raise ValueError("the thousands separator must differ from the decimal mark")
    values = pd.Series(values)
    index = values.index
    if values.dtype.kind == "f":
        raise TypeError("parse_money reads money from its text; read the column as text "
                        "(dtype=str), not as binary floats")
    if values.dtype.kind in "iu":
        cents = pd.array(values.to_numpy(dtype="int64") * 10 ** minor_digits(currency),
                         dtype="Int64")
        return (pd.Series(cents, index=index),
                pd.Series(pd.NA, index=index, dtype="str"))
    digits = minor_digits(currency)
    text = values.astype("str").where(values.notna(), "")
    plain, expo = _patterns(decimal, thousands)
    arr = _arrow_text(text)
    found = pc.extract_regex(arr, "^" + plain.pattern + "$")
    matched = found.is_valid().to_numpy(zero_copy_only=False)
    cents = np.zeros(len(text), dtype=np.int64)
    got = np.zeros(len(text), dtype=bool)
    problem = np.full(len(text), None, dtype=object)
    empty = pc.equal(pc.utf8_trim_whitespace(arr), "").to_numpy(zero_copy_only=False)
    _plain(found, matched & ~empty, thousands, digits, cents, got, problem)
    for i in np.flatnonzero(~matched & ~empty):
        raw = str(text.iat[int(i)]).strip()  # the text of every row (empty where missing)
        if _NON_FINITE.fullmatch(raw):
            problem[i] = "non_finite"
        elif expo.fullmatch(raw):
            _store(i, _scientific(raw.replace(decimal, "."), digits), cents, got, problem)
        else:
            problem[i] = "not_a_number"
    out = pd.Series(pd.array(cents, dtype="Int64"), index=index)
    out[~got] = pd.NA
    return out, pd.Series(pd.array(problem, dtype="str"), index=index)


def _arrow_text(text: pd.Series) -> pa.Array:
    """The text as one Arrow string array (no copy when pandas already holds it in Arrow)."""
    try:
        arr = pa.array(text.array)
    except (TypeError, pa.ArrowInvalid):
        arr = pa.array(text.to_numpy(dtype=object), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def _plain(found: pa.StructArray, rows: np.ndarray, thousands: str | None, digits: int,
           cents: np.ndarray, got: np.ndarray, problem: np.ndarray) -> None:
    """Vectorized exact reading of plain decimals; rare long values go digit by digit."""
    pos = np.flatnonzero(rows)
    f = found.take(pa.array(pos))
    sign, raw_int, raw_frac = (f.field(k) for k in ("sign", "int", "frac"))
    whole = raw_int
    if thousands:
        whole = pc.replace_substring(whole, thousands, "")
    whole = pc.utf8_ltrim(whole, "0")
    kept = pc.utf8_rtrim(raw_frac, "0")

    def _np(x: pa.Array) -> np.ndarray:
        return x.to_numpy(zero_copy_only=False)

    none = _np(pc.and_(pc.equal(raw_int, ""), pc.equal(raw_frac, "")))
    many = _np(pc.greater(pc.utf8_length(kept), digits))
    long = _np(pc.greater(pc.utf8_length(whole), 18 - digits))
    easy = ~none & ~many & ~long
    sel = pa.array(easy)
    w = _np(pc.cast(pc.if_else(pc.equal(whole, ""), "0", whole).filter(sel), pa.int64()))
    if digits:
        k = pc.utf8_rpad(kept.filter(sel), digits, "0")
        fr = _np(pc.cast(k, pa.int64()))
    else:
        fr = np.zeros(len(w), dtype=np.int64)
    n = w * 10**digits + fr
    cents[pos[easy]] = np.where(_np(sign.filter(sel)) == "-", -n, n)
    got[pos[easy]] = True
    problem[pos[none]] = "not_a_number"
    problem[pos[many & ~none]] = "too_many_decimals"
    for j in np.flatnonzero(long & ~many & ~none):
        _store(pos[j], _exact(sign[j].as_py(), raw_int[j].as_py(), raw_frac[j].as_py(),
                              thousands, digits), cents, got, problem)


def _exact(sign: str | None, whole: str | None, frac: str | None, thousands: str | None,
           digits: int) -> int | str:
    whole = (whole or "").replace(thousands, "") if thousands else (whole or "")
    frac = frac if isinstance(frac, str) else ""
    if not whole and not frac:
        return "not_a_number"
    kept = frac.rstrip("0")
    if len(kept) > digits:
        return "too_many_decimals"
    whole = whole.lstrip("0")
    if len(whole) > 19:
        return "overflow"
    n = int(whole or "0") * 10**digits + int((kept or "0").ljust(digits, "0")[:digits] or "0")
    if n > _MAX:
        return "overflow"
    return -n if sign == "-" else n


def _scientific(raw: str, digits: int) -> int | str:
    try:
        d = Decimal(raw)
    except InvalidOperation:
        return "not_a_number"
    if d.is_zero():
        return 0
    if d.adjusted() > 19:
        return "overflow"
    if d.adjusted() < -digits - 1:
        return "too_many_decimals"
    scaled = d.scaleb(digits)
    if scaled != scaled.to_integral_value():
        return "too_many_decimals"
    n = int(scaled)
    return "overflow" if abs(n) > _MAX else n


def _store(i: int | np.integer, value: int | str, cents: np.ndarray, got: np.ndarray,
           problem: np.ndarray) -> None:
    if isinstance(value, str):
        problem[i] = value
    else:
        cents[i] = value
        got[i] = True


def to_decimal(cents: int, currency: str = "EUR") -> Decimal:
    """Minor units as an exact :class:`~decimal.Decimal` of the currency (for display).

    >>> to_decimal(-7, "EUR"), to_decimal(12345, "BHD")
    (Decimal('-0.07'), Decimal('12.345'))
    """
    if cents is None or cents is pd.NA:
        raise ValueError("to_decimal needs a whole number of minor units, got an empty value")
    return Decimal(int(cents)).scaleb(-minor_digits(currency))


def to_cents(values: pd.Series, currency: str = "EUR") -> pd.Series:
    """Decimal amounts held as numbers (hand-made frames, older datasets) as minor units.

    Each number is taken as its shortest decimal text (``0.1`` is 0.1, not the binary
    fraction) and must fit the currency's minor units; one that does not is refused
    (nothing is rounded here). Empty stays empty.

    >>> to_cents(pd.Series([12.5, 0.1, None]))
    0    1250
    1      10
    2    <NA>
    dtype: Int64
    >>> to_cents(pd.Series([0.125]))
    Traceback (most recent call last):
    ...
    crmkit.errors.SchemaError: 0.125 has more decimals than EUR has minor units (2); ...
    """
    digits = minor_digits(currency)
    s = pd.Series(values)
    given = s.notna()
    table = {}
    for v in pd.unique(s[given]):
        if not np.isfinite(float(v)):
            raise SchemaError(f"{float(v)!r} is not an amount of money; give a finite number.")
        f = Fraction(repr(float(v)) if not isinstance(v, int | np.integer) else int(v))
        scaled = f * 10**digits
        if scaled.denominator != 1 or abs(scaled) > _MAX:
            raise SchemaError(
                f"{float(v)!r} has more decimals than {currency} has minor units ({digits}); "
                "give the amount in minor units instead.")
        table[v] = int(scaled)
    values = s.map(table).where(given)
    return pd.Series(values.astype("Int64").array, index=s.index)


def _half_even(num: int, den: int) -> int:
    q, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    return q


def derive_line_amounts(lines: pd.DataFrame, currency: str = "EUR") -> pd.Series:
    """What each line cost, from ``quantity x unit_price x (1 - discount)``, rounded once.

    The documented rule for lines that do not carry ``amount_cents`` (the generator,
    and frames built by hand): the product is computed exactly from the shortest
    decimal text of each number, then rounded once, half to even, to the currency's
    minor units. Sources that state a line's amount keep it instead.

    >>> derive_line_amounts(pd.DataFrame({"quantity": [3, 1, 1], "unit_price": [9.95, 0.05, 0.15],
    ...                                   "discount": [0.1, 0.5, 0.5]})).tolist()
    [2686, 2, 8]
    """
    digits = minor_digits(currency)
    key = lines[["quantity", "unit_price", "discount"]]
    if not len(key):
        return pd.Series(pd.array([], dtype="Int64"), index=lines.index)
    if key.isna().any().any():
        bad = key.columns[key.isna().any()].tolist()
        raise SchemaError(f"order_lines: cannot derive amount_cents where {', '.join(bad)} "
                          "is empty; give amount_cents (what the line cost, in minor units).")
    combos = key.drop_duplicates()
    amounts = {}
    for q, p, d in combos.itertuples(index=False):
        f = (int(q) * Fraction(repr(float(p))) * (1 - Fraction(repr(float(d))))
             * 10**digits)
        amounts[(q, p, d)] = _half_even(f.numerator, f.denominator)
    idx = pd.MultiIndex.from_frame(key)
    values = pd.Series(amounts).reindex(idx).to_numpy()
    return pd.Series(pd.array(values.astype("int64"), dtype="Int64"), index=lines.index)


def allocate(total: int, weights: npt.ArrayLike) -> np.ndarray:
    """Share ``total`` minor units out over lines in proportion to ``weights``, exactly.

    Each line gets ``floor(total x weight / sum of weights)``; the cents left over all
    go to the largest line (the first of equals), so the shares add up to ``total``.
    The rule for an order-level discount shared out over the order's lines (Shopify's
    ``Discount Amount``): the writer and the importer use this one function.

    >>> allocate(100, [1000, 2000, 3000]).tolist()
    [16, 33, 51]
    >>> allocate(5, [0, 0]).tolist()
    [5, 0]
    """
    w = np.asarray(weights, dtype=object)
    total = int(total)
    if len(w) == 0:
        if total:
            raise ValueError("an amount to share out over no lines")
        return np.zeros(0, dtype=np.int64)
    whole = int(sum(int(x) for x in w))
    shares = [total * int(x) // whole if whole > 0 else 0 for x in w]
    largest = max(range(len(w)), key=lambda i: (int(w[i]), -i))
    shares[largest] += total - sum(shares)
    return np.asarray(shares, dtype=np.int64)


def line_amounts(order_lines: pd.DataFrame) -> pd.Series:
    """The revenue of each line: its ``amount_cents`` (Int64), the one money column to sum.

    >>> line_amounts(pd.DataFrame({"amount_cents": pd.array([1250, 10], dtype="Int64")})).sum()
    np.int64(1260)
    """
    if "amount_cents" not in order_lines.columns:
        raise SchemaError("order_lines has no column 'amount_cents'; read the dataset with "
                          "CRMData.load or pass the table through "
                          "crmkit.dataset.schema.conform('order_lines', df).")
    return order_lines["amount_cents"].astype("Int64")


def order_totals(data: CRMData) -> pd.DataFrame:
    """Money of each order in minor units: lines, order discount, shipping, refunds, net.

    ``lines_cents`` is the sum of the lines' ``amount_cents`` (order-level discounts
    are already inside them: ``discount_cents`` is shown, not subtracted again);
    ``net_cents = lines_cents - refunded_cents`` (shipping is not revenue of goods).
    Every order is listed, in ``order_id`` order; an order without lines has 0.
    Statuses are not filtered: the caller decides what counts (e.g. not cancelled).
    """
    o = data.orders.sort_values("order_id")
    if data.has("order_lines"):
        ln = data.order_lines
        per = line_amounts(ln).groupby(ln["order_id"].to_numpy()).sum()
        lines = per.reindex(o["order_id"].to_numpy()).fillna(0).astype("Int64")
    else:
        lines = pd.Series(pd.NA, index=o["order_id"].to_numpy(), dtype="Int64")
    out = pd.DataFrame({
        "order_id": o["order_id"].to_numpy(),
        "lines_cents": lines.to_numpy(),
        "discount_cents": o["discount_cents"].astype("Int64").to_numpy(),
        "shipping_cents": o["shipping_cents"].astype("Int64").to_numpy(),
        "refunded_cents": o["refunded_cents"].astype("Int64").to_numpy(),
    })
    out["net_cents"] = out["lines_cents"] - out["refunded_cents"]
    return out
