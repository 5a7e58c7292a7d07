"""Read a user's delimited file as text, with every row's true 1-based line in the file.

The importers read everything as text first (nothing is guessed away by a
reader), remember the physical line each record starts on, then parse and
validate column by column, so a bad value is reported as *file, line,
column, value*. The encoding (UTF-8 with or without BOM, else Windows-1252),
the delimiter and the decimal mark are detected unless given.

>>> import pathlib, tempfile
>>> f = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
>>> _ = f.write_bytes(b'\\xef\\xbb\\xbfcliente;fecha;importe\\r\\n7;2024-01-05;"12,50"\\r\\n\\r\\n'
...                   b'8;2024-01-06;3,10\\r\\n')
>>> t = read_text_table(f)
>>> t.delimiter, t.encoding, list(t.frame.columns), t.frame["_line"].tolist()
(';', 'utf-8-sig', ['cliente', 'fecha', 'importe', '_line'], [2, 4])
>>> t.blank_lines
[3]
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SourceError

__all__ = [
    "TextTable",
    "read_text_table",
    "LINE",
    "WHITESPACE",
    "check_shop",
]

LINE = "_line"
#: Delimiter name for files aligned with runs of spaces (the CDNOW log).
WHITESPACE = "whitespace"
_DELIMITERS = {",": ",", ";": ";", "\\t": "\t", "tab": "\t", "\t": "\t", "|": "|",
               WHITESPACE: WHITESPACE}


@dataclass
class TextTable:
    """A file read as text: one row per record, column ``_line`` = its first line in the file."""

    path: Path
    frame: pd.DataFrame
    encoding: str
    delimiter: str
    header: bool
    blank_lines: list[int] = field(default_factory=list)
    #: records that could not be split into the header's columns: line, reason, text
    broken: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Records in the file (blank lines excluded; they hold no record)."""
        return len(self.frame) + len(self.broken)


def _decode(path: Path, encoding: str | None) -> tuple[str, str]:
    raw = path.read_bytes()
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            line = raw[: getattr(exc, "start", 0)].count(b"\n") + 1
            raise SourceError(
                f"{path}: cannot read the file as {encoding} (line {line}: {exc}); give the "
                "file's real encoding (e.g. --encoding cp1252) or save it as UTF-8."
            ) from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw.decode("utf-8-sig", errors="strict"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Windows-1252 leaves five bytes undefined; latin-1 reads any byte.
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "latin-1"


def _sniff(text: str, path: Path) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        if re.search(r"\S\s{2,}\S|\S \S", first) and not re.search(r"[,;\t|]", first):
            return WHITESPACE
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        if counts[best]:
            return best
        return ","


def read_text_table(path, *, encoding: str | None = None, delimiter: str | None = None,
                    header: bool = True, names: list[str] | None = None) -> TextTable:
    """Read a delimited file as text with the 1-based line of every record.

    Parameters
    ----------
    path : file to read.
    encoding : e.g. ``"utf-8"``, ``"cp1252"``; detected when None.
    delimiter : ``","``, ``";"``, ``"\\t"``, ``"|"`` or ``"whitespace"``; detected when None.
    header : whether the first line names the columns. Without a header the
        columns are called ``"1"``, ``"2"``... (or ``names``).

    Raises :class:`~crmkit.errors.SourceError` for a missing or empty file, a
    header-only problem, or a record with more fields than the header.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file; check the path.")
    text, used = _decode(path, encoding)
    if not text.strip():
        raise SourceError(f"{path}: the file is empty; export it again.")
    if delimiter is not None and delimiter not in _DELIMITERS:
        raise SourceError(f"delimiter={delimiter!r} is not allowed; use one of ',', ';', "
                          "'\\t', '|' or 'whitespace'.")
    delim = _DELIMITERS[delimiter] if delimiter else _sniff(text, path)
    if header and delim != WHITESPACE and names is None:
        fast = _read_fast(text, delim, path, used)
        if fast is not None:
            return fast
    records: list[list[str]] = []
    lines: list[int] = []
    blank: list[int] = []
    if delim == WHITESPACE:
        for i, line in enumerate(text.splitlines(), 1):
            if line.strip():
                records.append(line.split())
                lines.append(i)
            else:
                blank.append(i)
    else:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        prev = 0
        try:
            for rec in reader:
                start = prev + 1
                prev = reader.line_num
                if not rec or len(rec) == 1 and not rec[0].strip():
                    blank.append(start)
                    continue
                records.append(rec)
                lines.append(start)
        except csv.Error as exc:
            raise SourceError(f"{path}, line {reader.line_num}: {exc}.") from exc
    if header:
        if not records:
            raise SourceError(f"{path}: the file is empty; export it again.")
        cols = [c.strip() for c in records[0]]
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            raise SourceError(f"{path}, line {lines[0]}: column(s) {dup} appear twice in the "
                              "header; rename one of them.")
        records, lines = records[1:], lines[1:]
    else:
        width = max((len(r) for r in records), default=0)
        cols = list(names) if names else [str(i) for i in range(1, width + 1)]
    width = len(cols)
    rows, kept, broken = [], [], []
    for rec, ln in zip(records, lines, strict=True):
        if len(rec) > width:
            extra = rec[width:]
            if any(v.strip() for v in extra):
                broken.append((ln, f"{len(rec)} fields where the header names {width} "
                               f"(extra value {extra[0]!r})", _joined(rec, delim)))
                continue
            rec = rec[:width]
        rows.append(rec + [""] * (width - len(rec)))
        kept.append(ln)
    lines = kept
    # text columns as Python objects: building Arrow strings for every column of a wide
    # export costs more than the whole import; parsers convert the columns they use
    frame = pd.DataFrame(rows, columns=cols, dtype=object) if rows else pd.DataFrame(
        {c: pd.Series([], dtype=object) for c in cols})
    frame[LINE] = np.asarray(lines, dtype="int64")
    if rows == [] and broken and len(broken) == len(records):
        raise SourceError(f"{path}: no line splits into the header's {width} columns "
                          f"(first: line {broken[0][0]}, {broken[0][1]}); give the right "
                          "--delimiter.")
    return TextTable(path, frame, used, delim, header, blank, broken)


def _read_fast(text: str, delim: str, path: Path, encoding: str) -> TextTable | None:
    """pandas' C reader for the common case: one record per physical line, no record
    wider than the header. ``None`` when the file needs the careful reader."""
    physical = text.splitlines()
    head = next(csv.reader([physical[0]], delimiter=delim))
    cols = [c.strip() for c in head]
    if len(set(cols)) != len(cols):
        return None
    try:
        df = pd.read_csv(io.StringIO(text), sep=delim, header=0, names=cols, dtype=object,
                         na_filter=False, keep_default_na=False, skip_blank_lines=False,
                         engine="c")
    except (pd.errors.ParserError, ValueError):
        return None
    if len(df) != len(physical) - 1:  # a quoted value spans lines: count them carefully
        return None
    line = np.arange(2, len(df) + 2, dtype="int64")
    blank_mask = np.array([not x.strip() for x in physical[1:]], dtype=bool)
    df = df.fillna("")
    frame = df.loc[~blank_mask].reset_index(drop=True)
    frame[LINE] = line[~blank_mask]
    return TextTable(path, frame, encoding, delim, True, line[blank_mask].tolist(), [])


def _joined(rec: list[str], delim: str) -> str:
    return (" " if delim == WHITESPACE else delim).join(rec)


def check_shop(*, currency: str | None, timezone: str) -> None:
    """Refuse a currency that is not an ISO 4217 code or an unknown IANA time zone.

    >>> check_shop(currency="EUR", timezone="Europe/Madrid")
    >>> check_shop(currency="euro", timezone="Europe/Madrid")
    Traceback (most recent call last):
    ...
    crmkit.errors.SourceError: currency='euro' is not an ISO 4217 code; give three letters ...
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", str(currency)):
        raise SourceError(f"currency={currency!r} is not an ISO 4217 code; give three letters "
                          "such as EUR, USD or GBP.")
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(f"timezone={timezone!r} is not a known time zone; give an IANA name "
                          "such as Europe/Madrid or America/New_York.") from None
