"""Read a user's delimited file as text, with every row's true 1-based line in the file.

The importers read everything as text first (nothing is guessed away by a
reader), remember the physical line each record starts on, then parse and
validate column by column, so a bad value is reported as *file, line,
column, value*. The encoding (:mod:`crmkit.sources.encoding`) and the
delimiter are detected unless given; a line that cannot be a record is kept
aside with its reason and true line, never padded, cut or re-read.

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

import codecs
import csv
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SourceError
from .encoding import decide_encoding
from .lines import MAX_RECORD_LINES, byte_positions, decode_line, line_bounds, plain_text

__all__ = [
    "TextTable",
    "read_text_table",
    "LINE",
    "WHITESPACE",
    "check_shop",
]

LINE = "_line"
#: A line that could not be a record: (line, reason, text as read).
Broken = tuple[int, str, str]
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
    #: lines that could not be used as a record: (line, reason, text as read); reasons:
    #: ``invalid_encoding``, ``wrong_field_count``, ``unclosed_quote``
    broken: list[Broken] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Records in the file (blank lines excluded; they hold no record)."""
        return len(self.frame) + len(self.broken)

    @property
    def unclosed_quotes(self) -> int:
        """Lines lost to a quote that is never closed (each costs only its own line)."""
        return sum(1 for _, reason, _ in self.broken if reason == "unclosed_quote")


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise SourceError(f"{path}: no such file; check the path.")
    raw = path.read_bytes()
    if not raw or raw.isspace():  # nothing but whitespace (without copying the file)
        raise SourceError(f"{path}: the file is empty; export it again.")
    return raw


def _sniff(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        if re.search(r"\S\s{2,}\S|\S \S", first) and not re.search(r"[,;\t|]", first):
            return WHITESPACE
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_text_table(path: str | Path, *, encoding: str | None = None, delimiter: str | None = None,
                    header: bool = True, names: list[str] | None = None,
                    columns: Collection[str] | None = None) -> TextTable:
    """Read a delimited file as text with the 1-based line of every record.

    Parameters
    ----------
    path : file to read.
    encoding : e.g. ``"utf-8"``, ``"cp1252"``; decided from the file when None
        (see :mod:`crmkit.sources.encoding`).
    delimiter : ``","``, ``";"``, ``"\\t"``, ``"|"`` or ``"whitespace"``; detected when None.
    header : whether the first line names the columns. Without a header the
        columns are called ``"1"``, ``"2"``... (or ``names``) and the usual
        number of fields of the file's lines is the width.
    columns : the columns to keep (all when None). The others are split and counted like
        every field (a line's number of fields is still checked against the header) but
        never built, so a wide export costs the memory of the columns used only.

    A line with fewer or more fields than the header is never padded nor cut:
    it is kept in ``broken`` as ``wrong_field_count``, like a line that does
    not decode (``invalid_encoding``) or whose quote is never closed
    (``unclosed_quote``, which costs that line only). Raises
    :class:`~crmkit.errors.SourceError` for a missing or empty file, or one
    where no line splits into the header's columns.
    """
    path = Path(path)
    raw = _read_bytes(path)
    data, line_encoding, file_encoding = decide_encoding(raw, given=encoding, path=path)
    if delimiter is not None and delimiter not in _DELIMITERS:
        raise SourceError(f"delimiter={delimiter!r} is not allowed; use one of ',', ';', "
                          "'\\t', '|' or 'whitespace'.")
    sample = b"\n".join(data[:1 << 16].splitlines()[:50]).decode(line_encoding, "replace")
    delim = _DELIMITERS[delimiter] if delimiter else _sniff(sample)
    bounds = line_bounds(data)
    if plain_text(data, encoding=line_encoding, bounds=bounds) is None and not names:
        fast = _plain_frame(data, line_encoding, delim, header, columns, bounds)
        if fast is not None:
            frame, broken = fast
            return TextTable(path, frame, file_encoding, delim, header, [], broken)
    elif delim != WHITESPACE and header and not names:
        mixed = _quoted_frame(data, line_encoding, delim, keep=columns, bounds=bounds)
        if mixed is not None:
            frame, blank, broken = mixed
            return TextTable(path, frame, file_encoding, delim, header, blank, broken)
    records, lines, blank, broken = _careful_records(data, line_encoding, delim)
    if not records:
        raise SourceError(f"{path}: the file is empty; export it again.")
    if header:
        cols = [c.strip() for c in records[0]]
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            raise SourceError(f"{path}, line {lines[0]}: column(s) {dup} appear twice in the "
                              "header; rename one of them.")
        records, lines = records[1:], lines[1:]
    else:
        widths = pd.Series([len(r) for r in records])
        cols = list(names) if names else [str(i) for i in range(1, int(widths.mode()[0]) + 1)]
    frame, wrong = _frame(records, lines, cols, delim, columns)
    broken = sorted(broken + wrong)
    if frame.empty and wrong and len(wrong) == len(records):
        raise SourceError(f"{path}: no line splits into the header's {len(cols)} columns "
                          f"(first: line {wrong[0][0]}, {wrong[0][2][:60]!r}); give the right "
                          "--delimiter.")
    return TextTable(path, frame, file_encoding, delim, header, blank, broken)


def _frame(records: list[list[str]], lines: list[int], cols: list[str], delim: str,
           keep: Collection[str] | None = None) -> tuple[pd.DataFrame, list[Broken]]:
    """The records with as many fields as ``cols``; the others as ``wrong_field_count``.
    ``keep``: the columns to build (all when None)."""
    width = len(cols)
    fits = [len(r) == width for r in records]
    wrong = [(ln, "wrong_field_count", _joined(r, delim))
             for r, ln, k in zip(records, lines, fits, strict=True) if not k]
    if wrong:
        records = [r for r, k in zip(records, fits, strict=True) if k]
        lines = [ln for ln, k in zip(lines, fits, strict=True) if k]
    # text columns as Python objects: building Arrow strings for every column of a wide
    # export costs more than the whole import; parsers convert the columns they use
    if keep is None:
        frame = (pd.DataFrame(records, columns=cols, dtype=object) if records else
                 pd.DataFrame({c: pd.Series([], dtype=object) for c in cols}))
    else:
        kept = _kept(cols, keep)
        frame = pd.DataFrame({c: pd.Series([r[j] for r in records], dtype=object)
                              for j, c in enumerate(cols) if c in kept}, index=range(len(lines)))
    frame[LINE] = np.asarray(lines, dtype="int64")
    return frame, wrong


def _kept(cols: list[str], keep: Collection[str] | None) -> list[str]:
    """The columns of ``cols`` to build: those in ``keep`` (all when None; at least one)."""
    return [c for c in cols if keep is None or c in keep] or cols[:1]


#: ASCII whitespace that may be in a plain file (vertical tab and form feed are control bytes)
_SPACE = np.zeros(256, dtype=bool)
_SPACE[[9, 10, 13, 32]] = True


def _unicode_spaces() -> re.Pattern[bytes]:
    """The UTF-8 bytes of the characters beyond ASCII that Python's ``str.split()`` splits at
    (no-break space, en quad...): the careful reader splits at them, Arrow does not."""
    spaces = [chr(c).encode("utf-8") for c in range(128, 0x3001) if chr(c).isspace()]
    return re.compile(b"|".join(re.escape(s) for s in spaces))


_UNICODE_SPACE = _unicode_spaces()


def _plain_frame(data: bytes, encoding: str, delim: str, header: bool,
                 keep: Collection[str] | None = None,
                 bounds: tuple[np.ndarray, np.ndarray] | None = None
                 ) -> tuple[pd.DataFrame, list[Broken]] | None:
    """A plain file (one record per line, nothing to repair) split at C speed in Arrow: the
    file's bytes become one text value per line (no copy), each line is split at the
    delimiter (or runs of spaces), and the lines with the header's number of fields become
    the rows; the others are kept as ``wrong_field_count`` with their true line. ``None``
    when the header is odd or the first line blank (the careful reader explains), and for
    a file aligned with spaces that holds spaces beyond ASCII (the careful reader splits at
    them too). ``keep``: the columns to build (all when None)."""
    if encoding.replace("_", "-").lower() not in ("utf-8", "utf8") and not data.isascii():
        data = data.decode(encoding).encode("utf-8")  # plain_text checked that it decodes
        bounds = None
    if delim == WHITESPACE and not data.isascii() and _UNICODE_SPACE.search(data):
        return None
    starts, ends = line_bounds(data) if bounds is None else bounds
    first = data[:ends[0]].decode("utf-8").rstrip("\r\n")
    if not first.strip():
        return None
    cols = ([c.strip() for c in (first.split() if delim == WHITESPACE else first.split(delim))]
            if header else None)
    if cols is not None and (len(set(cols)) != len(cols) or len(cols) < 2):
        return None
    offsets = np.append(starts, ends[-1]) if len(starts) else np.zeros(1, np.int64)
    lines = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(offsets),
                                             pa.py_buffer(data))
    if delim == WHITESPACE:  # a line starting (ending) with spaces splits into a first (last)
        fields = pc.ascii_split_whitespace(lines)  # empty field, not counted
        buf = np.frombuffer(data, dtype=np.uint8)
        lead, trail = _SPACE[buf[starts]], _SPACE[buf[ends - 1]]
    else:
        fields = pc.split_pattern(pc.utf8_rtrim(lines, characters="\r\n"), delim)
        lead = trail = np.zeros(len(starts), dtype=bool)
    del lines
    at = fields.offsets.to_numpy().astype(np.int64)
    counts = np.diff(at) - lead - trail
    width = len(cols) if cols else int(np.bincount(counts).argmax())
    cols = cols or [str(i) for i in range(1, width + 1)]
    number = np.arange(1, len(starts) + 1)
    body = np.ones(len(starts), dtype=bool)
    body[0] = not header
    good = body & (counts == width)
    wrong = np.flatnonzero(body & ~good)
    texts = [data[starts[i]:ends[i]].decode("utf-8").rstrip("\r\n") for i in wrong]
    broken = [(int(number[i]), "wrong_field_count",  # its fields, as the careful reader shows
               _joined(t.split(), delim) if delim == WHITESPACE else t)
              for i, t in zip(wrong, texts, strict=True)]
    first_field = (at[:-1] + lead)[good]  # each row's first field among the split values
    values = fields.values
    kept = _kept(cols, keep)
    frame = pd.DataFrame({c: pd.Series(values.take(pa.array(first_field + j)), dtype="str")
                          for j, c in enumerate(cols) if c in kept})
    frame[LINE] = number[good]
    return frame, broken


#: bytes that make a line unusable as text (control codes other than tab and line ends)
_CONTROL = np.zeros(256, dtype=bool)
_CONTROL[[*range(0, 9), 11, 12, *range(14, 32), 127]] = True


def _utf8(data: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for at in range(0, len(data), 1 << 22):
            decoder.decode(data[at:at + (1 << 22)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _quoted_frame(data: bytes, encoding: str, delim: str, quote: str = '"',
                  keep: Collection[str] | None = None,
                  bounds: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[pd.DataFrame, list[int], list[Broken]] | None:
    """A delimited file with quotes (or blank lines, odd bytes, broken lines) read at C speed
    where it is simple, carefully where it is not.

    A line is *simple* when it is one whole record: an even number of quotes, every quote
    where CSV allows it (whole quoted fields, doubled inside them), no control byte, and the
    header's number of fields. Simple lines are split by Arrow's CSV reader. Every other line,
    with the 49 lines after a line with an odd number of quotes (as far as a quoted field may
    run on), goes to the careful line-by-line reader, which gives it the same record, reason
    and true line as if it had read the whole file. ``None`` when the file is not UTF-8
    throughout, has bare carriage returns or an unusual header (the careful reader then
    reads it all). ``keep``: the columns to build (all when None).
    """
    if not (data.isascii() or (codecs.lookup(encoding).name == "utf-8" and _utf8(data))):
        return None
    if data.count(b"\r") != data.count(b"\r\n") or data.startswith(codecs.BOM_UTF8):
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends = line_bounds(data) if bounds is None else bounds
    n = len(starts)
    if n < 2:
        return None
    head = _LineSplitter(delim, quote)(data[:ends[0]].decode("utf-8").rstrip("\r\n"))
    cols = [c.strip() for c in head] if head else []
    if len(cols) < 2 or len(set(cols)) != len(cols):
        return None
    width = len(cols)
    quotes = np.bincount(np.searchsorted(ends, byte_positions(buf, lambda b: b == ord(quote)),
                                         side="right"), minlength=n)[:n]
    control = np.bincount(np.searchsorted(ends, byte_positions(buf, lambda b: _CONTROL[b]),
                                          side="right"), minlength=n)[:n] > 0
    lines = pa.LargeStringArray.from_buffers(n, pa.py_buffer(np.append(starts, ends[-1])),
                                             pa.py_buffer(data))
    fields = pc.count_substring(lines, delim).to_numpy(zero_copy_only=False) + 1
    quoted = np.flatnonzero(quotes > 0)
    if len(quoted) and width <= 1000:  # a quoted line: the header's fields, each well quoted
        q = pc.utf8_rtrim(pc.take(lines, pa.array(quoted)), characters="\r\n")
        d, qq = re.escape(delim), re.escape(quote)
        field_re = f"(?:[^{qq}{d}]*|{qq}(?:[^{qq}]|{qq}{qq})*{qq})"
        fits = pc.match_substring_regex(q, f"^{field_re}(?:{d}{field_re}){{{width - 1}}}$")
        fields[quoted] = np.where(fits.to_numpy(zero_copy_only=False), width, -1)
        del q, fits
    elif len(quoted):
        fields[quoted] = -1
    odd = np.flatnonzero(quotes % 2 == 1)
    run_on = np.zeros(n + MAX_RECORD_LINES + 1, dtype=np.int64)
    np.add.at(run_on, odd, 1)
    np.add.at(run_on, odd + MAX_RECORD_LINES, -1)
    careful = (np.cumsum(run_on)[:n] > 0) | control | (fields != width)
    if careful[0]:
        return None
    simple = ~careful
    simple[0] = False
    if not simple.any():
        return None
    number = np.arange(1, n + 1)
    kept = _kept(cols, keep)
    table = _arrow_csv(data, starts, ends, simple, cols, delim, quote, kept)
    if table is None or table.num_rows != int(simple.sum()):
        return None
    blank, broken = [], []
    rows = np.flatnonzero(careful)
    if len(rows):
        part = b"".join(data[starts[i]:ends[i]] for i in rows)
        recs, at, blank_at, bad = _careful_records(part, "utf-8", delim, quote, width=width)
        true = number[rows]
        blank = [int(true[b - 1]) for b in blank_at]
        broken = [(int(true[b - 1]), why, t) for b, why, t in bad]
        good = [k for k, r in enumerate(recs) if len(r) == width]
        broken += [(int(true[at[k] - 1]), "wrong_field_count", _joined(recs[k], delim))
                   for k, r in enumerate(recs) if len(r) != width]
        if good:
            extra = pa.table({c: pa.array([recs[k][j] for k in good], pa.large_string())
                              for j, c in enumerate(cols) if c in kept},
                             schema=table.schema)
            order = np.concatenate((number[simple], true[np.asarray(at)[good] - 1]))
            table = pa.concat_tables([table, extra])
            sort = np.argsort(order, kind="stable")
            table, line_numbers = table.take(pa.array(sort)), order[sort]
        else:
            line_numbers = number[simple]
    else:
        line_numbers = number[simple]
    shared: dict[str, pa.Array] = {}
    frame = pd.DataFrame({c: _text_column(table.column(c), shared) for c in kept},
                         index=range(len(line_numbers)))
    frame[LINE] = line_numbers
    return frame, sorted(blank), sorted(broken)


def _text_column(values: pa.ChunkedArray, shared: dict[str, pa.Array]) -> pd.Series:
    """A column of text for pandas; one that is empty on every row shares a single buffer of
    zero offsets with the other empty columns (a wide export has dozens of them)."""
    if values.null_count == 0 and pc.max(pc.binary_length(values)).as_py() in (0, None):
        if "empty" not in shared:
            zeros = pa.py_buffer(np.zeros(len(values) + 1, dtype=np.int64))
            shared["empty"] = pa.LargeStringArray.from_buffers(len(values), zeros,
                                                               pa.py_buffer(b""))
        values = shared["empty"]
    return pd.Series(values, dtype="str")


def _arrow_csv(data: bytes, starts: np.ndarray, ends: np.ndarray, simple: np.ndarray,
               cols: list[str], delim: str, quote: str, kept: list[str]) -> pa.Table | None:
    """The simple lines split by Arrow's CSV reader, every field as text as written."""
    import pyarrow.csv as pcsv

    edges = np.flatnonzero(np.diff(np.concatenate(([0], simple.view(np.int8), [0]))))
    body = (memoryview(data)[starts[edges[0]]:ends[edges[1] - 1]] if len(edges) == 2 else
            b"".join(data[starts[a]:ends[b - 1]] for a, b in zip(edges[::2], edges[1::2],
                                                                 strict=True)))
    try:
        return pcsv.read_csv(
            pa.py_buffer(body),
            read_options=pcsv.ReadOptions(column_names=cols, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=delim, quote_char=quote,
                                            double_quote=True, escape_char=False,
                                            newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.large_string() for c in kept}, include_columns=kept,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False, null_values=[]))
    except (pa.ArrowInvalid, pa.ArrowException):
        return None


def _careful_records(data: bytes, encoding: str, delim: str, quote: str = '"',
                     width: int | None = None
                     ) -> tuple[list[list[str]], list[int], list[int], list[Broken]]:
    """Split line by line: each line decoded on its own, quotes followed over line breaks.
    ``width``: the header's number of fields (else the first record's)."""
    physical = data.splitlines(keepends=True)
    bodies = [p.rstrip(b"\r\n") for p in physical]
    records: list[list[str]] = []
    lines: list[int] = []
    blank: list[int] = []
    broken: list[Broken] = []
    split = _LineSplitter(delim, quote) if delim != WHITESPACE else None
    i, n = 0, len(physical)
    while i < n:
        text, why = decode_line(bodies[i], encoding)
        line = i + 1
        if text is None:
            broken.append((line, "invalid_encoding", bodies[i].decode("utf-8", "backslashreplace")))
            i += 1
            continue
        if not text.strip():
            blank.append(line)
            i += 1
            continue
        if split is None:  # aligned with spaces
            records.append(text.split())
            lines.append(line)
            i += 1
            continue
        span = 1
        fields: list[str] | None = None
        if text.count(quote) % 2:  # an open quote: the field may go on over the next lines
            joined = text
            for j in range(i + 1, min(n, i + MAX_RECORD_LINES)):
                more, _ = decode_line(bodies[j], encoding)
                if more is None:
                    break
                joined += physical[j - 1][len(bodies[j - 1]):].decode("ascii") + more
                if joined.count(quote) % 2 == 0:
                    fields = split(joined)
                    span = j - i + 1
                    break
            if fields is None:
                broken.append((line, "unclosed_quote", text))
                i += 1
                continue
        else:
            fields = split(text)
            if fields is None:
                broken.append((line, "unclosed_quote", text))
                i += 1
                continue
        expected = width if width is not None else (len(records[0]) if records else None)
        if expected is None or len(fields) == expected or span == 1:
            records.append(fields)
            lines.append(line)
            i += span
        else:  # a quote closed far away into a record of the wrong width: this line only
            broken.append((line, "unclosed_quote", text))
            i += 1
    return records, lines, blank, broken


class _LineSplitter:
    """Split single lines with quotes by one long-lived ``csv`` reader (one per line costs more
    than the parsing); ``None`` for a line the reader cannot make one record of."""

    def __init__(self, delim: str, quote: str) -> None:
        self.delim, self.quote = delim, quote
        self.line: str | None = None
        self.reader = self._new()

    def _new(self) -> Iterator[list[str]]:
        return csv.reader(self, delimiter=self.delim, quotechar=self.quote, doublequote=True,
                          strict=True)

    def __iter__(self) -> _LineSplitter:
        return self

    def __next__(self) -> str:
        if self.line is None:
            raise StopIteration
        line, self.line = self.line, None
        return line

    def __call__(self, text: str) -> list[str] | None:
        if self.quote not in text:
            return text.split(self.delim)
        self.line = text
        try:
            return next(self.reader)
        except (csv.Error, StopIteration):
            self.line = None
            self.reader = self._new()
            return None


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
