"""The steps both importers share: a file's rows carried from text to usable rows.

Each importer is a short pipeline of named steps::

    read -> decode -> split        read_text_table (table.py, encoding.py)
    parse columns                  parse_numbers, parse_times (numbers.py, dates.py)
    validate                       Batch.check (values), Batch.reject (rules of the source)
    assemble tables                the importer's own step (orders.py, shopify.py)
    write                          ImportResult.save

A :class:`Batch` holds one file on its way: its rows as text, their parsed
values, which rows are still usable, and what was quarantined (file, 1-based
line, column, reason, value). A row leaves the usable rows only through
quarantine, so rows read = rows imported + rows quarantined by construction.

>>> import pathlib, tempfile
>>> import pandera.pandas as pa
>>> from crmkit.sources.numbers import parse_numbers
>>> f = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
>>> _ = f.write_text("c,a\\n1,3.5\\n2,inf\\n3,-1\\n4,2,9\\n", encoding="utf-8")
>>> table = read_text_table(f)
>>> amount = parse_numbers(table.frame["a"])
>>> batch = Batch.start(table, pd.DataFrame({"a": amount.value}))
>>> batch.check({"a": amount.problem}, pa.DataFrameSchema({"a": pa.Column(float,
...             pa.Check.ge(0))}), sources={})
>>> batch.ok.tolist()
[True, False, False]
>>> batch.quarantine()[["line", "column", "reason"]].values.tolist()
[[3, 'a', 'non_finite'], [4, 'a', 'must be >= 0'], [5, '(whole line)', 'wrong_field_count']]
>>> batch.report(batch.quarantine())
{'file': 'log.csv', 'rows_read': 4, 'rows_imported': 1, 'rows_quarantined': 3}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pandera.pandas as pa

from ..dataset.money import minor_digits, parse_money
from .quarantine import (
    QUARANTINE_COLUMNS,
    FileReport,
    broken_rows,
    file_report,
    problem_rows,
    quarantine_rows,
    validate_rows,
)
from .table import LINE, TextTable, read_text_table

__all__ = ["Batch", "read_text_table", "exact_total", "line_cents", "money_cents", "manifest"]


@dataclass
class Batch:
    """One file's rows on their way through an importer (see the module)."""

    table: TextTable
    parsed: pd.DataFrame
    ok: pd.Series
    entries: list[pd.DataFrame] = field(default_factory=list)

    @classmethod
    def start(cls, table: TextTable, parsed: pd.DataFrame) -> Batch:
        """Every row of ``table`` usable; ``parsed`` gets the rows' ``_line``."""
        parsed = parsed.set_axis(table.frame.index)
        parsed[LINE] = table.frame[LINE]
        return cls(table, parsed, pd.Series(True, index=table.frame.index))

    @property
    def raw(self) -> pd.DataFrame:
        return self.table.frame

    @property
    def file(self) -> str:
        return self.table.path.name

    def check(self, problems: dict[str, pd.Series], schema: pa.DataFrameSchema, *,
              sources: dict[str, str]) -> None:
        """Validate: values the parsers could not read, then the schema's rules, per row."""
        ok = self.ok
        # only the file's columns a quarantine entry can quote (a wide export has dozens)
        names = [sources.get(c, c) for c in [*problems, *self.parsed.columns]]
        raw = self.raw[[c for c in dict.fromkeys(names) if c in self.raw.columns]]
        readable, bad = problem_rows(_rows(self.parsed, ok),
                                     {k: _rows(v, ok) for k, v in problems.items()},
                                     file=self.file, raw=_rows(raw, ok), source_columns=sources)
        self.entries.append(bad)
        ok = ok & readable.reindex(ok.index, fill_value=False)
        checked, bad = validate_rows(_rows(self.parsed, ok), schema, file=self.file,
                                     raw=_rows(raw, ok), source_columns=sources)
        self.entries.append(bad)
        self.ok = ok & checked.reindex(ok.index, fill_value=True)

    def reject(self, mask: npt.ArrayLike, *, column: str, reason: str) -> None:
        """Quarantine the usable rows where ``mask`` holds, with the value of ``column``."""
        mask = self.ok & pd.Series(np.asarray(mask, dtype=bool), index=self.ok.index)
        if mask.any():
            self.entries.append(quarantine_rows(self.parsed, mask, file=self.file,
                                                column=column, reason=reason, raw=self.raw))
            self.ok &= ~mask

    def add(self, entries: pd.DataFrame) -> None:
        """Quarantine ready-made entries; their lines leave the usable rows."""
        if len(entries):
            self.entries.append(entries)
            self.ok &= ~self.parsed[LINE].isin(entries["line"])

    def quarantine(self) -> pd.DataFrame:
        """Every entry of this file, the lines that never became rows included, by line."""
        parts = [e for e in [*self.entries, broken_rows(self.table)] if len(e)]
        if not parts:
            return pd.DataFrame(columns=QUARANTINE_COLUMNS)
        bad = pd.concat(parts, ignore_index=True)[QUARANTINE_COLUMNS]
        return bad.sort_values(["line", "column"], kind="stable").reset_index(drop=True)

    def report(self, quarantine: pd.DataFrame) -> FileReport:
        """This file's line of the import report."""
        return file_report(self.file, self.table.rows_read, quarantine)

    def reading_notes(self) -> dict[str, list[int] | int]:
        """What reading decided, for the import report."""
        return {"blank_lines_skipped": self.table.blank_lines,
                "unclosed_quote_lines": self.table.unclosed_quotes}


_Frame = TypeVar("_Frame", pd.Series, pd.DataFrame)


def _rows(frame: _Frame, ok: pd.Series) -> _Frame:
    """``frame[ok]``, without a copy when every row is usable."""
    return frame if bool(ok.all()) else frame[ok]


def money_cents(texts: pd.Series, *, currency: str) -> tuple[pd.Series, pd.Series]:
    """:func:`~crmkit.dataset.money.parse_money` of canonical money text, read once per
    distinct value (a log repeats its prices and amounts): (Int64 cents, problem or None).

    >>> money_cents(pd.Series(["1.50", "1.50", "0.125"]), currency="EUR")[0].tolist()
    [150, 150, <NA>]

    A categorical column (:meth:`~crmkit.sources.numbers.NumberColumn.categories`) is read
    per category as it stands.
    """
    texts = pd.Series(texts)
    if isinstance(texts.dtype, pd.CategoricalDtype):
        codes, uniques = texts.cat.codes.to_numpy(), texts.cat.categories
    else:
        codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    cents, problem = parse_money(pd.Series(uniques, dtype=object).astype("str"),
                                 currency=currency)
    cents = cents.array.take(codes, allow_fill=True)  # -1 (no text) -> NA, exact integers
    # pandas-stubs leave None out of na_value's types; pandas takes it (missing -> None)
    known = problem.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    per_row = np.append(known, np.array([None], dtype=object))[
        np.where(codes < 0, len(uniques), codes)]
    return (pd.Series(cents, index=texts.index),
            pd.Series(per_row, index=texts.index, dtype=object))


def line_cents(price_text: pd.Series, quantity: pd.Series, *, currency: str,
               discount_text: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    """What each line cost in minor units, exactly from the source's text: price x quantity,
    less the line's own discount when the source gives one (the source's own definition of
    a line's amount). Returns (Int64 cents, problem per line or None): a price with more
    decimals than the currency has is fine when price x quantity comes to whole cents
    (0.065 x 100 = 6.50), else ``too_many_decimals``; nothing is ever rounded.

    >>> cents, problem = line_cents(pd.Series(["2.10", "0.065", "0.065"]),
    ...                             pd.Series([3, 100, 3]), currency="GBP")
    >>> cents.tolist(), problem.tolist()
    ([630, 650, <NA>], [None, None, 'too_many_decimals'])
    """
    digits = minor_digits(currency)
    qty = pd.Series(quantity).abs().astype("int64")
    price, _ = money_cents(price_text, currency=currency)
    cents = price * qty.to_numpy()
    problem = np.full(len(cents), None, dtype=object)
    fine = pd.Series(price_text).notna().to_numpy() & price.isna().to_numpy()
    if fine.any():  # sub-cent prices: exact per distinct price and quantity
        pairs = pd.DataFrame({"t": pd.Series(price_text).to_numpy()[fine],
                              "q": qty.to_numpy()[fine]})
        scale = Decimal(10) ** digits
        value = {}
        for t, q in pairs.drop_duplicates().itertuples(index=False):
            v = Decimal(t) * q * scale
            value[(t, q)] = int(v) if v == v.to_integral_value() else None
        got = [value[(t, q)] for t, q in pairs.itertuples(index=False)]
        cents.iloc[np.flatnonzero(fine)] = pd.array(got, dtype="Int64")  # by position
        problem[np.flatnonzero(fine)[[g is None for g in got]]] = "too_many_decimals"
    if discount_text is not None:
        off, off_problem = parse_money(discount_text, currency=currency)
        cents = cents - off.fillna(0).to_numpy()
        bad = off_problem.notna().to_numpy()
        problem[bad] = off_problem.to_numpy()[bad]
        cents[bad] = pd.NA
    return cents, pd.Series(problem, index=cents.index, dtype=object)


def exact_total(texts: pd.Series, quantities: pd.Series | None = None) -> Decimal:
    """The exact sum of money written as canonical text (times whole quantities, if given).

    >>> exact_total(pd.Series(["0.10", "0.20"]), pd.Series([3, 1]))
    Decimal('0.50')
    """
    texts = pd.Series(texts)
    if quantities is None:
        counts = texts.value_counts()
        return sum((Decimal(str(t)) * int(n) for t, n in counts.items() if n), Decimal(0))
    if isinstance(texts.dtype, pd.CategoricalDtype):  # by category code, not by text
        codes, uniques = texts.cat.codes.to_numpy(), texts.cat.categories
    else:
        codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    pairs = pd.DataFrame({"t": codes, "q": pd.Series(quantities).to_numpy(dtype="int64")})
    per_pair = pairs[pairs["t"] >= 0].groupby(["t", "q"]).size().reset_index()
    return sum((Decimal(str(uniques[t])) * int(q) * int(n)
                for t, q, n in per_pair.itertuples(index=False)), Decimal(0))


def manifest(shop_name: str, currency: str, timezone: str, origin: str,
             orders: pd.DataFrame) -> dict[str, object]:
    """The dataset's manifest fields an import knows."""
    placed = orders["placed_at"]
    return {
        "shop_name": shop_name, "currency": currency.upper(), "timezone": timezone,
        "origin": origin,
        "start": str(placed.min().date()) if len(placed) else None,
        "end": str(placed.max().date()) if len(placed) else None,
    }
