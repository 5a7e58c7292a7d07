"""Dates and times of a user's file, read per column and converted to the shop's local time.

* **Day/month order is decided for the whole column.** ``13/01/2010`` proves
  day-first, ``01/13/2010`` month-first, ``05/01/2010`` could be either. The
  column is day-first if any value proves it (month-first if only month-first
  proofs exist; with proofs of both, the majority decides); a value that
  contradicts the decided order is quarantined as ``contradicts_day_month``. A
  column whose values are all ambiguous stops the import with three examples,
  asking for ``--dayfirst`` or ``--date-format``. ``dayfirst`` given by the
  analyst is used, and values contradicting it are quarantined the same way.
* **A given format is exact**: ``1997011`` does not match ``%Y%m%d`` (each
  ``%m``, ``%d``, ``%H``... must have its two digits) and is quarantined.
* **Offsets keep their sign** in every form exports write: ``+0200``,
  ``+02:00``, ``+02``, ``GMT+0100`` (one hour *east*, as written, not the POSIX
  inversion), ``UTC``, ``GMT`` and ``Z``. Such a time is converted to the shop's
  time zone.
* **Local times** (no offset) are the shop's wall-clock time. Rule for the two
  moments summer time makes odd (counted in the import report): a time inside
  the spring **gap** (``02:30`` on the night the clocks jump from 02:00 to
  03:00) never existed; it is moved forward by the length of the gap (``03:30``),
  as java.time and PostgreSQL do. A time in the autumn **fold** (``02:30`` that
  happened twice) is kept as written: the dataset stores local wall-clock time.

>>> s = pd.Series(["05/01/2010 10:00", "13/01/2010 09:30", "2010-01-02T08:00:00Z",
...                "2010-01-02 10:00 GMT+0100", "2010-01-02 10:00 +02", "31/02/2010 10:00",
...                "2010-03-28 02:30"])
>>> col = parse_times(s, timezone="Europe/Madrid")
>>> col.dayfirst, [str(v) for v in col.value]
(True, ['2010-01-05 10:00:00', '2010-01-13 09:30:00', '2010-01-02 09:00:00', \
'2010-01-02 10:00:00', '2010-01-02 09:00:00', 'NaT', '2010-03-28 03:30:00'])
>>> col.problem.tolist()[5], col.dst_gap, col.dst_fold
('not_a_date', 1, 0)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SourceError
from .numbers import _at_line, distinct

__all__ = ["TimeColumn", "parse_times", "format_pattern"]

#: ``rows(mask)``: a mask over a column's distinct values, spread over its rows
_Rows = Callable[[npt.ArrayLike], np.ndarray]
#: ``shown(mask)``: the text of the first rows where a mask over the distinct values holds
_Shown = Callable[[npt.ArrayLike], list[str]]

_DATE = (r"(?:(?P<Y>\d{4})-(?P<M>\d{1,2})-(?P<D>\d{1,2})"
         r"|(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4}|\d{2})"
         r"|(?P<cY>\d{4})(?P<cM>\d{2})(?P<cD>\d{2}))")
_OFFSET = (r"(?:\s*(?:(?P<z>Z)|(?:GMT|UTC)?\s*(?P<os>[+-])(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?"
           r"|(?P<utc>GMT|UTC)))?")
_TIME = (r"(?:(?:[ T]|\s+)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
         r"(?:\s*(?P<ampm>[AaPp][Mm]))?" + _OFFSET + ")?")
_FULL = re.compile("^" + _DATE + _TIME + "$")
_STEM = "%Y-%m-%d %H:%M:%S.%f"
_FORMAT_PARTS = {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}", "%H": r"\d{2}",
                 "%M": r"\d{2}", "%S": r"\d{2}", "%y": r"\d{2}", "%f": r"\d{1,6}",
                 "%I": r"\d{2}", "%p": r"[AaPp][Mm]", "%b": r"[A-Za-z]{3}",
                 "%B": r"[A-Za-z]+", "%z": r"(?:Z|[+-]\d{2}:?\d{2})", "%j": r"\d{3}",
                 "%%": "%", "%a": r"[A-Za-z]{3}", "%A": r"[A-Za-z]+", "%Z": r"[A-Za-z]+"}


@dataclass
class TimeColumn:
    """A column read as times: local naive value, problem per value, decisions and counts."""

    value: pd.Series        # datetime64[us], the shop's wall-clock time; NaT where unusable
    problem: pd.Series      # NA, "empty", "not_a_date", "contradicts_day_month",
                            # "does_not_match_format"
    dayfirst: bool | None   # the column's decided order (None: no value needed it)
    dst_gap: int = 0        # local times inside a spring gap, moved forward by the gap
    dst_fold: int = 0       # local times inside an autumn fold, kept as written
    #: rows per value when the values are a column's distinct values (counts weigh them)
    weights: np.ndarray | None = field(default=None, repr=False)

    def count(self, mask: pd.Series) -> int:
        """Rows where ``mask`` holds (each distinct value weighs its rows)."""
        if self.weights is None:
            return int(mask.sum())
        return int(self.weights[mask.index.to_numpy()[mask.to_numpy(dtype=bool)]].sum())


def format_pattern(fmt: str) -> str:
    r"""The regular expression a value must match *exactly* to be read by ``fmt``.

    >>> format_pattern("%Y%m%d")
    '^\\d{4}\\d{2}\\d{2}$'
    """
    out, i = [], 0
    while i < len(fmt):
        part = fmt[i:i + 2]
        if part in _FORMAT_PARTS:
            out.append(_FORMAT_PARTS[part])
            i += 2
        elif fmt[i] == " ":
            out.append(r"\s+")
            i += 1
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "^" + "".join(out) + "$"


def parse_times(values: pd.Series, *, timezone: str, fmt: str | None = None,
                dayfirst: bool | None = None, where: str = "column",
                lines: npt.ArrayLike | None = None) -> TimeColumn:
    """Read a text column as times in the shop's local time; see the module for the rules.

    ``where`` names file and column in errors, ``lines`` the rows' 1-based lines. Each
    distinct value is read once; decisions and counts weigh every row.
    """
    values = pd.Series(values)
    uniques, codes = distinct(values)
    weights = np.bincount(codes, minlength=len(uniques))

    def rows(mask: npt.ArrayLike) -> np.ndarray:  # a mask over the distinct values, over the rows
        spread: np.ndarray = np.asarray(mask, dtype=bool)[codes]
        return spread

    def shown(mask: npt.ArrayLike) -> list[str]:  # the first rows' text where the mask holds
        first = codes[np.flatnonzero(rows(mask))[:3]]
        text: list[str] = uniques.astype("str").str.strip().to_numpy()[first].tolist()
        return text

    out = _parse_distinct(uniques, timezone=timezone, fmt=fmt, dayfirst=dayfirst,
                          where=where, lines=lines, weights=weights, rows=rows, shown=shown)
    index = values.index
    return TimeColumn(pd.Series(out.value.to_numpy()[codes], index=index,
                                dtype="datetime64[us]"),
                      pd.Series(out.problem.to_numpy(dtype=object)[codes], index=index,
                                dtype=object),
                      out.dayfirst, out.dst_gap, out.dst_fold)


def _parse_distinct(values: pd.Series, *, timezone: str, fmt: str | None,
                    dayfirst: bool | None, where: str, lines: npt.ArrayLike | None,
                    weights: np.ndarray, rows: _Rows, shown: _Shown) -> TimeColumn:
    v = values.astype("str").str.strip()
    problem = pd.Series(pd.NA, index=v.index, dtype=object)
    problem[v == ""] = "empty"
    if fmt:
        return _with_format(v, problem, fmt, timezone, where, weights)
    fast = _common_form(v, problem, timezone, weights)
    if fast is not None:
        return fast
    parts = v.str.extract(_FULL).astype(object)
    matched = parts["h"].notna() | parts["Y"].notna() | parts["a"].notna() | parts["cY"].notna()
    a, b = pd.to_numeric(parts["a"]), pd.to_numeric(parts["b"])
    day_proof, month_proof = (a > 12) & (b <= 12), (b > 12) & (a <= 12)
    order = _decide_order(a, b, day_proof, month_proof, dayfirst, where, lines,
                          weights=weights, rows=rows, shown=shown)
    if order is True:
        problem[month_proof & problem.isna()] = "contradicts_day_month"
    elif order is False:
        problem[day_proof & problem.isna()] = "contradicts_day_month"
    year = parts["Y"].fillna(parts["cY"]).fillna(parts["y"].map(_year4, na_action="ignore"))
    first, second = (parts["b"], parts["a"]) if order is not False else (parts["a"], parts["b"])
    month = parts["M"].fillna(parts["cM"]).fillna(first if order is not None else parts["a"])
    day = parts["D"].fillna(parts["cD"]).fillna(second if order is not None else parts["b"])
    hour = pd.to_numeric(parts["h"]).fillna(0)
    pm = parts["ampm"].str.lower()
    hour = hour.where(pm.isna(), (hour % 12) + np.where(pm == "pm", 12, 0))
    stem = (year.fillna("0") + "-" + month.fillna("0").str.zfill(2) + "-"
            + day.fillna("0").str.zfill(2) + " " + hour.astype(int).astype(str).str.zfill(2)
            + ":" + parts["mi"].fillna("00") + ":" + parts["s"].fillna("00") + "."
            + parts["f"].fillna("0").str.ljust(6, "0"))
    naive = pd.to_datetime(stem.where(matched & problem.isna()), format=_STEM, errors="coerce")
    offset = _offset_minutes(parts)
    out = TimeColumn(pd.Series(pd.NaT, index=v.index, dtype="datetime64[us]"), problem, order,
                     weights=weights)
    _to_local(out, naive, offset, timezone)
    rest = ~matched & problem.isna()
    if rest.any():  # written with month names and the like: pandas reads those unambiguously
        _fallback(out, v[rest], timezone)
    problem[out.value.isna() & problem.isna()] = "not_a_date"
    return out


#: Forms most exports write for a whole column, read at C speed: (pattern, format, aware)
_COMMON = (
    (r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$", "%Y-%m-%d %H:%M:%S %z", True),
    (r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})$", "ISO8601",
     True),
    (r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "%Y-%m-%d %H:%M:%S", False),
    (r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$", "%Y-%m-%d %H:%M", False),
    (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d", False),
)


def _common_form(v: pd.Series, problem: pd.Series, timezone: str,
                 weights: np.ndarray | None = None) -> TimeColumn | None:
    """The column read at once when every value has one of the common unambiguous forms."""
    given = v[problem.isna()]
    if given.empty:
        return None
    for pattern, fmt, aware in _COMMON:
        if not given.str.match(pattern).all():
            continue
        out = TimeColumn(pd.Series(pd.NaT, index=v.index, dtype="datetime64[us]"), problem,
                         None, weights=weights)
        if aware:
            when = (_offset_form(given) if fmt == _COMMON[0][1] else
                    pd.to_datetime(given, format=fmt, errors="coerce", utc=True))
            out.value.loc[given.index] = when.dt.tz_convert(timezone).dt.tz_localize(
                None).astype("datetime64[us]")
        else:
            naive = pd.to_datetime(given, format=fmt, errors="coerce")
            ok = naive.notna()
            out.value.loc[naive[ok].index] = _wall_clock(out, naive[ok], timezone)
        problem[out.value.isna() & problem.isna()] = "not_a_date"
        return out
    return None


def _offset_form(given: pd.Series) -> pd.Series:
    """``2024-01-01 00:26:18 +0100`` (Shopify's form) as UTC times, at C speed: the wall
    time read by its ISO format, less its offset (sign kept; an offset of 24 h or more, or of
    60 minutes or more, is no offset: NaT).

    >>> [str(t) for t in _offset_form(pd.Series(["2024-01-01 00:26:18 +0100",
    ...                  "2024-01-01 00:26:18 -0230", "2024-01-01 00:26:18 +2400",
    ...                  "2024-02-30 00:26:18 +0100"]))]
    ['2023-12-31 23:26:18+00:00', '2024-01-01 02:56:18+00:00', 'NaT', 'NaT']
    """
    text = pa.array(given.astype("str").array)
    wall = pc.utf8_slice_codeunits(text, 0, 19)
    when = pc.strptime(wall, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    # strptime rolls 2020-02-30 over to 1 March: only a time that writes back as read counts
    same = pc.equal(pc.strftime(when, format="%Y-%m-%d %H:%M:%S"), wall)
    kept = pc.if_else(pc.fill_null(same, False), when, None).cast(pa.timestamp("us"))
    naive = pd.Series(kept.to_numpy(zero_copy_only=False), index=given.index)

    def number(start: int) -> pd.Series:
        part = pc.utf8_slice_codeunits(text, start, start + 2)
        ok = pc.utf8_is_digit(part).to_numpy(zero_copy_only=False)
        got = pc.cast(pc.if_else(ok, part, "99"), pa.int64()).to_numpy()
        return pd.Series(np.where(ok, got, 99), index=given.index)

    hours, minutes = number(21), number(23)
    sign = np.where(pc.equal(pc.utf8_slice_codeunits(text, 20, 21), "-").to_numpy(
        zero_copy_only=False), -1, 1)
    offset = (hours * 60 + minutes).where((hours < 24) & (minutes < 60)) * sign
    return (naive - pd.to_timedelta(offset, unit="min")).dt.tz_localize("UTC")


def _year4(y: str) -> str:
    return y if len(y) == 4 else ("20" + y if int(y) < 69 else "19" + y)


def _decide_order(a: pd.Series, b: pd.Series, day_proof: pd.Series, month_proof: pd.Series,
                  dayfirst: bool | None, where: str, lines: npt.ArrayLike | None, *,
                  weights: np.ndarray, rows: _Rows, shown: _Shown) -> bool | None:
    """The column's day/month order; the masks are over distinct values, ``weights`` their
    rows, ``rows(mask)`` a mask over the rows, ``shown(mask)`` the first rows' text."""
    if dayfirst is not None:
        return bool(dayfirst)
    n_day = int(weights[day_proof.to_numpy(dtype=bool)].sum())
    n_month = int(weights[month_proof.to_numpy(dtype=bool)].sum())
    if n_day or n_month:
        return n_day >= n_month
    ambiguous = ((a <= 12) & (b <= 12) & (a != b)).to_numpy(dtype=bool)
    if ambiguous.any():
        sample = ", ".join(shown(ambiguous))
        where = _at_line(where, lines, rows(ambiguous))
        raise SourceError(
            f"{where}: every date could be day/month or month/day (e.g. {sample}); say which "
            "with --dayfirst (day/month/year) or --date-format (e.g. %m/%d/%Y).")
    return None


def _offset_minutes(parts: pd.DataFrame) -> pd.Series:
    sign = parts["os"].map({"+": 1, "-": -1})
    minutes = sign * (pd.to_numeric(parts["oh"]) * 60 + pd.to_numeric(parts["om"]).fillna(0))
    utc = parts["z"].notna() | parts["utc"].notna()
    return minutes.where(~utc, 0.0)


def _to_local(out: TimeColumn, naive: pd.Series, offset: pd.Series, timezone: str) -> None:
    aware = offset.notna() & naive.notna()
    if aware.any():
        utc = naive[aware] - pd.to_timedelta(offset[aware], unit="min")
        local = utc.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
        out.value.loc[aware] = local.astype("datetime64[us]")
    plain = ~offset.notna() & naive.notna()
    if plain.any():
        out.value.loc[plain] = _wall_clock(out, naive[plain], timezone)


def _wall_clock(out: TimeColumn, naive: pd.Series, timezone: str) -> pd.Series:
    """Local times as written, except a time in a spring gap, moved on by the gap (counted)."""
    naive = naive.astype("datetime64[us]")
    folds = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward").isna()
    gaps = naive.dt.tz_localize(timezone, ambiguous=np.ones(len(naive), dtype=bool),
                                nonexistent="NaT").isna()
    out.dst_fold += out.count(folds)
    out.dst_gap += out.count(gaps)
    if gaps.any():
        g = naive[gaps]
        before = g.dt.tz_localize(timezone, nonexistent="shift_backward")
        offset = before.dt.tz_localize(None) - before.dt.tz_convert("UTC").dt.tz_localize(None)
        moved = (g - offset).dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
        naive = naive.copy()
        naive.loc[gaps] = moved.astype("datetime64[us]")
    return naive


def _fallback(out: TimeColumn, v: pd.Series, timezone: str) -> None:
    for text, idx in v.groupby(v).groups.items():
        try:
            ts = pd.Timestamp(str(text))  # the groups of a text column: text
        except (ValueError, OverflowError):
            continue
        if pd.isna(ts):  # "NaT" written in the file
            continue
        if ts.tzinfo is not None:
            ts = ts.tz_convert(timezone).tz_localize(None)
            out.value.loc[idx] = ts
        else:
            out.value.loc[idx] = _wall_clock(out, pd.Series(ts, index=idx), timezone)


def _with_format(v: pd.Series, problem: pd.Series, fmt: str, timezone: str,
                 where: str = "column", weights: np.ndarray | None = None) -> TimeColumn:
    try:
        datetime.strptime(datetime(2001, 2, 3, 4, 5, 6).strftime(fmt), fmt)
        exact = v.str.match(format_pattern(fmt))
    except (ValueError, re.error) as exc:
        raise SourceError(f"{where}: --date-format {fmt!r} is not a date format ({exc}); "
                          "write it with %Y, %m, %d, %H, %M, %S, e.g. %d/%m/%Y %H:%M.") from None
    problem[~exact & problem.isna()] = "does_not_match_format"
    out = TimeColumn(pd.Series(pd.NaT, index=v.index, dtype="datetime64[us]"), problem, None,
                     weights=weights)
    use = problem.isna()
    if "%z" in fmt or "%Z" in fmt:
        aware = pd.to_datetime(v[use], format=fmt, errors="coerce", utc=True)
        out.value.loc[use] = aware.dt.tz_convert(timezone).dt.tz_localize(None).astype(
            "datetime64[us]")
    else:
        naive = pd.to_datetime(v[use], format=fmt, errors="coerce")
        ok = naive.notna()
        out.value.loc[naive[ok].index] = _wall_clock(out, naive[ok], timezone)
    problem[out.value.isna() & problem.isna()] = "not_a_date"
    return out
