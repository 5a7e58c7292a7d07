"""A robust reader of delimited text files: every line accounted for, by its true number.

Files exported by real systems are damaged in ways a CSV parser alone does not
forgive: a byte in the wrong encoding, a quote that is never closed, a blank
line, a file that ends its lines with a bare carriage return (old Mac tools), a
byte-order mark written by Excel. :func:`read_delimited` reads such a file and
splits it into **records** (rows with the right number of fields) and
**rejects** (lines it cannot use, each with its reason and its true 1-based
line number in the file), so that

    lines in the file = 1 (header) + lines spanned by records and rejects + blank lines.

* **Encodings**: each physical line is decoded on its own by the file's
  declared encoding. A line that does not decode is rejected with reason
  ``invalid_encoding`` (the rest of the file is still read). A line that
  decodes but is most probably garbled is rejected too: UTF-8 text in a
  Latin-1 file (``é`` would read as ``Ã©``), Windows-1252 bytes (``€``, curly
  quotes) that Latin-1 reads as invisible control characters, and binary
  data (NUL and other control bytes).
* **Byte-order mark**: a UTF-8 BOM is accepted and skipped.
* **Line ends**: ``\\n``, ``\\r\\n`` and a bare ``\\r`` all end a line.
* **Quotes**: a quoted field may hold a line break (the record then spans
  several lines and is reported at its first line). An opening quote that is
  never closed (an *unbalanced* quote) rejects only its own line as
  ``malformed_line``; reading goes on at the next line, so one stray quote
  never swallows the rest of the file.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "orders.csv"
>>> _ = path.write_bytes(b'\\xef\\xbb\\xbfid,name,amount\\r\\n1,Ana,10\\r\\n\\r\\n'
...                      b'2,"Bea\\nMaria",5\\n3,"Carl,7\\n4,D\\xe9bora,1\\n5,Eva,2,9\\n')
>>> got = read_delimited(path, n_fields=3, encoding="utf-8")
>>> got.header, got.bom
(['id', 'name', 'amount'], True)
>>> [(r.line, r.fields) for r in got.records]
[(2, ['1', 'Ana', '10']), (4, ['2', 'Bea\\nMaria', '5'])]
>>> [(r.line, r.reason) for r in got.rejects]
[(6, 'malformed_line'), (7, 'invalid_encoding'), (8, 'malformed_line')]
>>> got.lines_in_file, got.blank_lines, got.balanced
(8, 1, True)
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DatasetError

__all__ = ["Record", "Reject", "ReadResult", "read_delimited", "read_header", "decode_line",
           "plain_text", "line_bounds", "byte_positions"]

# control characters other than tab: never part of a text export
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_C1 = re.compile(r"[\x80-\x9f]")
_LATIN1 = {"iso8859-1"}
#: How many physical lines a quoted field may span before its quote counts as unbalanced.
MAX_RECORD_LINES = 50


@dataclass(frozen=True, slots=True)
class Record:
    """One usable row: its first line in the file, how many lines it spans, its fields.

    Empty fields are ``None``.
    """

    line: int
    n_lines: int
    fields: list[str | None]


@dataclass(frozen=True, slots=True)
class Reject:
    """One line that cannot be used: its line, reason, what was wrong and the text as read."""

    line: int
    reason: str
    detail: str
    text: str


@dataclass
class ReadResult:
    """What :func:`read_delimited` found in a file."""

    path: Path
    header: list[str]
    records: list[Record] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    lines_in_file: int = 0
    blank_lines: int = 0
    bom: bool = False
    n_records: int = 0
    n_rejects: int = 0
    lines_spanned: int = 0  # by records and rejects

    @property
    def rows_read(self) -> int:
        """Records plus rejects: every non-blank line after the header, once."""
        return self.n_records + self.n_rejects

    @property
    def balanced(self) -> bool:
        """Every line of the file is the header, blank, or part of a record or reject."""
        return 1 + self.lines_spanned + self.blank_lines == self.lines_in_file


#: every byte but the control bytes (tab and line ends are text): ``bytes.translate`` with
#: these deleted leaves only the control bytes of a buffer, in one pass at C speed
_NOT_CONTROL = bytes(sorted(set(range(256)) - {*range(0, 9), 11, 12, *range(14, 32), 127}))
_NOT_C1 = bytes(sorted(set(range(256)) - set(range(0x80, 0xA0))))
_UTF8_PAIR = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


_CHUNK = 1 << 20
#: spaces and tabs: what a blank line may hold besides its line break
_TAB_SPACE = np.zeros(256, dtype=bool)
_TAB_SPACE[[9, 32]] = True
#: above this many lines that start and end with a space or tab, a blank line is looked for
#: in the whole file at once instead of line by line
_MANY_PADDED = 10_000


def byte_positions(buf: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    r"""Positions in ``buf`` where ``test(chunk)`` holds, a chunk at a time (little memory).

    >>> byte_positions(np.frombuffer(b"a\nb\n", dtype=np.uint8), lambda b: b == 10).tolist()
    [1, 3]
    """
    parts = [np.flatnonzero(test(buf[at:at + _CHUNK])) + at for at in range(0, len(buf), _CHUNK)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def line_bounds(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    r"""Where each physical line of ``data`` starts and ends (its line break included).

    >>> [b.tolist() for b in line_bounds(b"ab\r\nc\nd")]
    [[0, 4, 6], [4, 6, 7]]
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    newline = byte_positions(buf, lambda b: b == 10)
    if len(buf) and buf[-1] != 10:
        newline = np.append(newline, len(buf) - 1)
    ends = newline + 1
    starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
    return starts[:len(ends)], ends.astype(np.int64)


def _bare_carriage_return(data: bytes, buf: np.ndarray, ends: np.ndarray) -> bool:
    r"""Whether a carriage return in ``data`` is not the first half of a ``\r\n``: the file's
    carriage returns against those right before one of its line feeds.

    >>> d = b"a\r\nb\rc\n"
    >>> _bare_carriage_return(d, np.frombuffer(d, dtype=np.uint8), line_bounds(d)[1])
    True
    """
    feeds = ends[buf[ends - 1] == 10] - 1
    feeds = feeds[feeds > 0]
    return data.count(b"\r") != int(np.count_nonzero(buf[feeds - 1] == 13))


def _blank_line(data: bytes) -> bool:
    r"""Whether a line after the first holds nothing but spaces and tabs (``\n[ \t]*\r?\n``,
    or spaces and tabs after the last line break): with spaces and tabs deleted, such a line
    is two line breaks in a row.

    >>> _blank_line(b"a\n \t\r\nb"), _blank_line(b"a\n b\n"), _blank_line(b"a\n  ")
    (True, False, True)
    """
    tail = b""  # a piece at a time (little memory); the last bytes carried over the seams
    for at in range(0, len(data), 1 << 20):
        bare = tail + data[at:at + (1 << 20)].translate(None, b" \t")
        if b"\n\n" in bare or b"\n\r\n" in bare:
            return True
        tail = bare[-2:]
    return tail.endswith(b"\n") and not data.endswith(b"\n")


def _blank_line_between(data: bytes, buf: np.ndarray, starts: np.ndarray,
                        ends: np.ndarray) -> bool:
    r""":func:`_blank_line` from the lines' bounds, for a file without bare carriage returns:
    a line after the first is blank when nothing is left of it without its line break, or
    when it starts and ends with a space or tab and holds nothing else (only those few lines
    are looked at byte by byte; a file with very many of them is looked at whole).

    >>> d = b"a\n \t\r\nb"
    >>> _blank_line_between(d, np.frombuffer(d, dtype=np.uint8), *line_bounds(d))
    True
    >>> d = b"a\n b \nc"
    >>> _blank_line_between(d, np.frombuffer(d, dtype=np.uint8), *line_bounds(d))
    False
    """
    s, e = starts[1:], ends[1:]
    cut = e - (buf[e - 1] == 10)
    cut -= (cut > s) & (buf[cut - 1] == 13)
    if (cut == s).any():
        return True
    padded = np.flatnonzero(_TAB_SPACE[buf[s]] & _TAB_SPACE[buf[cut - 1]])
    if len(padded) > _MANY_PADDED:
        return _blank_line(data)
    return any(not data[s[i]:cut[i]].translate(None, b" \t") for i in padded)


def plain_text(data: bytes, *, encoding: str, quote: str = '"',
               delimiter: str | None = None,
               bounds: tuple[np.ndarray, np.ndarray] | None = None) -> str | None:
    r"""Why ``data`` needs :func:`read_delimited`, or ``None`` if any CSV reader reads it right.

    A *plain* file decodes as text in its declared encoding throughout, has no
    byte-order mark, no control bytes, no blank lines, only ``\n`` or ``\r\n``
    line ends and no quote characters: then every physical line is one row, and
    a fast CSV reader (DuckDB's) gets every line and its number right. Each check
    runs over the whole file at C speed.

    With ``delimiter``, quoted fields are allowed when every line that holds a
    quote is a well-formed line of fields (each quoted field opens at the start
    of its field and closes on the same line, before a delimiter or the line's
    end): a quote then never joins two lines into one row, so every physical
    line is still one row. A stray or unclosed quote anywhere still makes the
    file not plain.

    >>> plain_text(b"a,b\n1,2\n", encoding="utf-8") is None
    True
    >>> plain_text(b"a,b\n\n1,2\n", encoding="utf-8")
    'a blank line'
    >>> plain_text(b"a,b\n1,\x002\n", encoding="utf-8")
    'control bytes'
    >>> plain_text("a;b\n1;Cádiz\n".encode("utf-8"), encoding="latin-1")
    'UTF-8 text in a latin-1 file'
    >>> plain_text(b'a,b\n1,"Gran Via, 5"\n', encoding="utf-8") is None
    False
    >>> plain_text(b'a,b\n1,"Gran Via, 5"\n', encoding="utf-8", delimiter=",") is None
    True
    >>> plain_text(b'a,b\n1,"Gran Via\n5"\n', encoding="utf-8", delimiter=",")
    'quote characters'
    """
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "a byte-order mark"
    if quote.encode() in data and (delimiter is None
                                   or not _quotes_close_on_their_line(data, delimiter, quote)):
        return "quote characters"
    if not data:
        return None
    starts, ends = line_bounds(data) if bounds is None else bounds
    buf = np.frombuffer(data, dtype=np.uint8)
    if b"\r" in data and _bare_carriage_return(data, buf, ends):
        return "bare carriage returns"
    if _blank_line_between(data, buf, starts, ends):
        return "a blank line"
    if data.translate(None, _NOT_CONTROL):
        return "control bytes"
    if not data.isascii():
        if codecs.lookup(encoding).name in _LATIN1:
            if data.translate(None, _NOT_C1):
                return "bytes that are control codes in latin-1"
            if _UTF8_PAIR.search(data):
                return f"UTF-8 text in a {encoding} file"
        else:
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                for start in range(0, len(data), 1 << 22):
                    decoder.decode(data[start:start + (1 << 22)])
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                return f"bytes that are not {encoding}"
    return None


def _quotes_close_on_their_line(data: bytes, delimiter: str, quote: str) -> bool:
    r"""Whether every line of ``data`` that holds ``quote`` is a well-formed line of fields.

    >>> _quotes_close_on_their_line(b'1,"a, b",""\r\n2,"say ""hi"" now"\n', ",", '"')
    True
    >>> [_quotes_close_on_their_line(t, ",", '"') for t in (b'1,"a\n', b'1,a"b"\n',
    ...                                                    b'1, "a"\n', b'1,"a"b\n')]
    [False, False, False, False]
    """
    d, q = re.escape(delimiter.encode()), re.escape(quote.encode())
    field = rb"(?:[^" + q + d + rb"\r\n]*|" + q + rb"(?:[^" + q + rb"\r\n]|" + q + q + rb")*" \
        + q + rb")"
    line = re.compile(field + rb"(?:" + d + field + rb")*\r?")
    mark = quote.encode()
    at = data.find(mark)
    while at != -1:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end == -1 else end
        if line.fullmatch(data, start, end) is None:
            return False
        at = data.find(mark, end)
    return True


def _shown(raw: bytes) -> str:
    return raw.decode("utf-8", errors="backslashreplace")


def decode_line(raw: bytes, encoding: str) -> tuple[str | None, str | None]:
    """Decode one line by ``encoding``: ``(text, None)``, or ``(None, why)`` if it is unusable.

    >>> decode_line("Cádiz".encode("utf-8"), "utf-8")
    ('Cádiz', None)
    >>> decode_line("Cádiz".encode("cp1252"), "utf-8")[1]
    "byte 0xE1 at byte 2 is not valid utf-8 (the line reads as 'Cádiz' in Windows-1252)"
    >>> decode_line("Cádiz".encode("utf-8"), "latin-1")[1]
    "the line holds UTF-8 text in a latin-1 file (it reads 'Cádiz' as UTF-8)"
    """
    if raw.isascii():
        text = raw.decode("ascii")
    else:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            guess = ""
            try:
                guess = f" (the line reads as {raw.decode('cp1252')!r} in Windows-1252)"
            except UnicodeDecodeError:
                pass
            return None, (f"byte 0x{raw[exc.start]:02X} at byte {exc.start + 1} is not "
                          f"valid {encoding}{guess}")
        if codecs.lookup(encoding).name in _LATIN1:
            try:
                as_utf8 = raw.decode("utf-8")
            except UnicodeDecodeError:
                as_utf8 = None
            if as_utf8 is not None:
                return None, (f"the line holds UTF-8 text in a {encoding} file "
                              f"(it reads {as_utf8!r} as UTF-8)")
            c1 = _C1.search(text)
            if c1:
                b = raw[c1.start()]
                try:
                    char = bytes([b]).decode("cp1252")
                    why = f"Windows-1252 {char!r}"
                except UnicodeDecodeError:
                    why = "no character"
                return None, (f"byte 0x{b:02X} at byte {c1.start() + 1} is a control code in "
                              f"{encoding} ({why}); save the file as {encoding} or UTF-8")
    bad = _CONTROL.search(text)
    if bad:
        return None, (f"control byte 0x{ord(bad.group()):02X} at character {bad.start() + 1} "
                      "(binary data, not text)")
    return text, None


def _split(text: str, delimiter: str, quote: str) -> list[str] | None:
    if quote not in text:
        return text.split(delimiter)
    try:
        rows = list(csv.reader([text], delimiter=delimiter, quotechar=quote, doublequote=True,
                               strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _bom(data: bytes, path: Path, encoding: str) -> int:
    """Length of a UTF-8 byte-order mark at the start of ``data`` (a UTF-16 one is refused)."""
    if data.startswith(codecs.BOM_UTF8):
        return len(codecs.BOM_UTF8)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DatasetError(f"{path}: the file is UTF-16; save it as {encoding} "
                           "(in Excel: CSV UTF-8).")
    return 0


def _header(first: bytes, path: Path, encoding: str, delimiter: str, quote: str) -> list[str]:
    text, why = decode_line(first.rstrip(b"\r\n"), encoding)
    if text is None:
        raise DatasetError(f"{path}, line 1: the header cannot be read: {why}.")
    return _split(text, delimiter, quote) or [text]


def read_header(path: str | Path, *, encoding: str = "utf-8", delimiter: str = ",",
                quote: str = '"') -> list[str]:
    """The header fields of a delimited file (its first line), without reading the rest."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if not head:
        raise DatasetError(f"{path}: the file is empty; it needs at least its header line.")
    head = head[_bom(head, path, encoding):]
    lines = head.splitlines(keepends=True)
    return _header(lines[0] if lines else b"", path, encoding, delimiter, quote)


def read_delimited(path: str | Path, *, n_fields: int, encoding: str = "utf-8",
                   delimiter: str = ",", quote: str = '"',
                   max_record_lines: int = MAX_RECORD_LINES,
                   on_chunk: Callable[[list[Record], list[Reject]], object] | None = None,
                   chunk: int = 100_000) -> ReadResult:
    """Read a delimited text file with a header into records and rejects (see the module).

    With ``on_chunk``, records and rejects are handed to ``on_chunk(records,
    rejects)`` every ``chunk`` records instead of being kept, so a large file
    needs little memory; the counts in the result are the same.

    Raises :class:`~crmkit.errors.DatasetError` naming the file when it cannot
    be read at all (missing, empty, UTF-16, or an undecodable header).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    out = ReadResult(path=path, header=[])
    skip = _bom(data, path, encoding)
    data, out.bom = data[skip:], bool(skip)
    physical = data.splitlines(keepends=True)
    out.lines_in_file = len(physical)
    if not physical:
        raise DatasetError(f"{path}: the file is empty; it needs at least its header line.")
    bodies = [p.rstrip(b"\r\n") for p in physical]
    out.header = _header(physical[0], path, encoding, delimiter, quote)
    i, n = 1, len(physical)
    while i < n:
        text, why = decode_line(bodies[i], encoding)
        line = i + 1
        if text is None:
            out.rejects.append(Reject(line, "invalid_encoding", why or "",  # why: given
                                      _shown(bodies[i])))
            out.n_rejects += 1
            out.lines_spanned += 1
            i += 1
            continue
        if not text.strip():
            out.blank_lines += 1
            i += 1
            continue
        span = 1
        if text.count(quote) % 2:  # an open quote: the field may go on over the next lines
            joined = text
            fields = None
            for j in range(i + 1, min(n, i + max_record_lines)):
                more, bad = decode_line(bodies[j], encoding)
                if more is None:
                    break
                joined += physical[j - 1][len(bodies[j - 1]):].decode("ascii") + more
                if joined.count(quote) % 2 == 0:
                    fields = _split(joined, delimiter, quote)
                    if fields is not None and len(fields) == n_fields:
                        span = j - i + 1
                    else:
                        fields = None
                    break
            if fields is None:
                out.n_rejects += 1
                out.lines_spanned += 1
                out.rejects.append(Reject(
                    line, "malformed_line",
                    "a quote opened on this line is never closed (unbalanced quote); the "
                    "next lines are read on their own", text))
                i += 1
                continue
        else:
            fields = _split(text, delimiter, quote)
            if fields is None or len(fields) != n_fields:
                got = "unreadable quoting" if fields is None else f"{len(fields)} fields"
                out.n_rejects += 1
                out.lines_spanned += 1
                out.rejects.append(Reject(
                    line, "malformed_line", f"expected {n_fields} fields, found {got}", text))
                i += 1
                continue
        out.records.append(Record(line, span, [f if f != "" else None for f in fields]))
        out.n_records += 1
        out.lines_spanned += span
        i += span
        if on_chunk is not None and len(out.records) >= chunk:
            on_chunk(out.records, out.rejects)
            out.records, out.rejects = [], []
    if on_chunk is not None:
        on_chunk(out.records, out.rejects)
        out.records, out.rejects = [], []
    return out
