"""Where a problem is in a dataset's file: the file, its true 1-based line, the column.

A table's row is not a line of its CSV file: the header is line 1 and a quoted value
may span several lines, so rows are mapped to lines with Python's ``csv`` module,
the same way the file was written. In a Parquet file a row is its 1-based row.

>>> import pathlib, tempfile
>>> f = pathlib.Path(tempfile.mkdtemp()) / "products.csv"
>>> _ = f.write_text('product_id,name\\n1,"two\\nlines"\\n2,plain\\n', encoding="utf-8")
>>> record_lines(f)
[2, 4]
>>> place(f, [1])
'line 4'
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import SCHEMA

__all__ = ["record_lines", "place", "first_bad_value", "NON_FINITE_TEXT", "non_finite_rows",
           "decode_problem", "field_count_problem"]

#: Text that a float parser reads as NaN or infinity.
NON_FINITE_TEXT = re.compile(r"(?i)\s*[+-]?(?:nan|inf|infinity)\s*")


def record_lines(file: Path) -> list[int]:
    """The 1-based line on which each data record of a CSV file starts (header excluded;
    blank lines, which pandas skips, are skipped too)."""
    starts = []
    with open(file, newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        end = 0
        for i, record in enumerate(reader):
            start, end = end + 1, reader.line_num
            if i == 0 or not record:
                continue
            starts.append(start)
    return starts


def place(file: Path, positions: Iterable[int]) -> str:
    """``line N`` (or ``lines N, M...`` for up to five rows) of ``file``'s rows at
    ``positions`` (0-based, as in the table read from it)."""
    positions = [int(p) for p in list(positions)[:5]]
    if Path(file).suffix == ".csv":
        lines = record_lines(file)
        nums = [lines[p] if p < len(lines) else p + 2 for p in positions]
        word = "line"
    else:
        nums = [p + 1 for p in positions]
        word = "row"
    return f"{word}{'s' if len(nums) > 1 else ''} {', '.join(str(n) for n in nums)}"


def non_finite_rows(df: pd.DataFrame, name: str) -> tuple[str, np.ndarray] | None:
    """The first number column of table ``name`` holding an infinite value, and its rows."""
    for col in SCHEMA[name].columns:
        if col.dtype == "float" and col.name in df.columns:
            values = df[col.name].to_numpy(dtype=float, na_value=np.nan)
            bad = np.isinf(values)
            if bad.any():
                return col.name, np.flatnonzero(bad)
    return None


_KIND = {"int": "a whole number", "Int": "a whole number",
         "float": "a number with a decimal point", "date": "a date YYYY-MM-DD",
         "datetime": "a time YYYY-MM-DD HH:MM:SS", "bool": "True or False"}


def first_bad_value(file: Path, name: str) -> str | None:
    """Where a CSV table first holds a value its column's type cannot take: column, the
    file's 1-based line and the value, with how to fix it."""
    if file.suffix != ".csv":
        return None
    try:
        text = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError):
        return None
    for col in SCHEMA[name].columns:
        if col.name not in text.columns or col.dtype == "str":
            continue
        values = text[col.name].str.strip()
        given = values != ""
        if col.dtype in ("int", "Int", "float"):
            number = pd.to_numeric(values.where(given), errors="coerce")
            finite = number.notna() & np.isfinite(number.to_numpy(dtype=float,
                                                                   na_value=np.nan))
            ok = finite if col.dtype == "float" else (
                finite & (number == number.round()) & (number.abs() < 2**63))
            odd = given & (values.str.fullmatch(NON_FINITE_TEXT.pattern)
                           | (number.notna() & ~finite))
        elif col.dtype in ("date", "datetime"):
            ok = pd.to_datetime(values.where(given), errors="coerce", format="ISO8601").notna()
            odd = pd.Series(False, index=values.index)
        elif col.dtype == "bool":
            ok = values.str.lower().isin(["true", "false", "1", "0", "yes", "no"])
            odd = pd.Series(False, index=values.index)
        else:
            continue
        bad = given & ~ok
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            what = ("is not a finite number (NaN, inf, Infinity or beyond the range of "
                    "numbers, such as 1e400)" if bool(odd.iloc[i])
                    else f"is not {_KIND[col.dtype]}")
            return (f"column {col.name!r}, {place(file, [i])}: {values.iloc[i]!r} {what} "
                    f"({int(bad.sum())} such value(s)); fix the value or the column.")
    return None


def decode_problem(file: Path) -> str | None:
    """The first physical line of ``file`` that is not UTF-8, as a message."""
    with open(file, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return (f"line {n}, byte {exc.start + 1} of the line: "
                        f"{raw[exc.start:exc.end]!r} is not UTF-8; save the file as UTF-8.")
    return None


def field_count_problem(file: Path) -> str | None:
    """The first record of a CSV file whose number of fields differs from the header's."""
    if Path(file).suffix != ".csv":
        return None
    with open(file, newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return None
        end = reader.line_num
        for record in reader:
            start, end = end + 1, reader.line_num
            if record and len(record) != len(header):
                return (f"line {start} has {len(record)} field(s), the header has "
                        f"{len(header)}; fix that line (a missing or extra separator, or an "
                        "unclosed quote).")
    return None
