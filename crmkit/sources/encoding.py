"""The encoding of a user's file: decided once for the file, applied line by line.

* A UTF-8 byte-order mark means UTF-8; a UTF-16 one (or, without a mark, the
  zero bytes every other byte that UTF-16 text has) means UTF-16, which is
  decoded whole and reported as such.
* Otherwise the file is UTF-8 when its non-ASCII lines are mostly valid UTF-8,
  else Windows-1252. Each line is then decoded on its own
  (:func:`crmkit.sources.lines.decode_line`, the warehouse's rule): a line
  that does not decode is quarantined as ``invalid_encoding`` with its true
  line, and the file is never re-decoded as a whole in another encoding.
* An ``--encoding`` that would turn valid UTF-8 into mojibake (the file decodes
  as UTF-8 and has non-ASCII letters, e.g. ``--encoding latin-1`` reading
  ``Rocío`` as ``RocÃ­o``) is refused, naming the likely encoding.

>>> decide_encoding("Rocío;1\\nAna;2\\n".encode("utf-8"), given=None, path="f.csv")[1:]
('utf-8', 'utf-8')
>>> decide_encoding("Rocío;1\\n".encode("cp1252"), given=None, path="f.csv")[1:]
('cp1252', 'cp1252')
>>> decide_encoding("Rocío;1\\n".encode("utf-16"), given=None, path="f.csv")[1:]
('utf-8', 'utf-16')
>>> decide_encoding("Rocío;1\\n".encode("utf-8"), given="latin-1", path="f.csv")
Traceback (most recent call last):
...
crmkit.errors.SourceError: f.csv, line 1: the file is UTF-8 (it reads 'Rocío;1' as UTF-8), \
but --encoding latin-1 would read it as 'RocÃ\\xado;1'; leave --encoding out or give utf-8.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from ..errors import SourceError

__all__ = ["decide_encoding"]

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def _utf16(raw: bytes) -> str | None:
    """'utf-16' (BOM), 'utf-16-le' / 'utf-16-be' (no BOM, zero bytes), or None."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = raw[:4096]
    if len(sample) >= 4 and b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    return None


def decide_encoding(raw: bytes, *, given: str | None,
                    path: str | Path) -> tuple[bytes, str, str]:
    """(bytes to read line by line, the encoding to decode each line with, the file's encoding).

    UTF-16 files are returned re-encoded as UTF-8 (their third value says
    ``utf-16``). Raises :class:`~crmkit.errors.SourceError` for an unknown or
    mojibake-making ``given`` encoding and for UTF-16 that does not decode.
    """
    wide = _utf16(raw) if given is None or "16" in str(given) else None
    if given and "16" in given and wide is None:
        try:
            raw.decode("utf-8")
            likely = "utf-8"
        except UnicodeDecodeError:
            likely = "cp1252"
        raise SourceError(f"{path}: --encoding {given} does not fit the file (no UTF-16 "
                          f"byte-order mark nor its zero bytes); it is most likely {likely}: "
                          "leave --encoding out.")
    name = wide or (given if given and "16" in given else None)
    if name:
        try:
            text = raw.decode(name)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError(f"{path}: the file looks like {name} but does not decode as it "
                              f"({exc}); save it as UTF-8 (in Excel: CSV UTF-8).") from None
        return text.lstrip("\ufeff").encode("utf-8"), "utf-8", name
    if given:
        try:
            codec = codecs.lookup(given).name
        except LookupError:
            raise SourceError(f"--encoding {given!r} is not an encoding Python knows; give e.g. "
                              "utf-8, cp1252 or latin-1.") from None
        if codec not in ("utf-8", "utf-8-sig") and not raw.isascii():
            _refuse_mojibake(raw, given, path)
        return _strip_bom(raw), ("utf-8" if codec == "utf-8-sig" else given), given
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):], "utf-8", "utf-8-sig"
    if raw.isascii():
        return raw, "utf-8", "utf-8"
    try:
        raw.decode("utf-8")
        return raw, "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    valid = invalid = 0
    for line in raw.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            valid += 1
        except UnicodeDecodeError:
            invalid += 1
    return (raw, "utf-8", "utf-8") if valid >= invalid else (raw, "cp1252", "cp1252")


def _strip_bom(raw: bytes) -> bytes:
    return raw[len(codecs.BOM_UTF8):] if raw.startswith(codecs.BOM_UTF8) else raw


def _refuse_mojibake(raw: bytes, given: str, path: str | Path) -> None:
    body = _strip_bom(raw)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return
    for n, line in enumerate(body.splitlines(), 1):
        if line.isascii():
            continue
        as_utf8 = line.decode("utf-8")
        if not _LETTER.search("".join(c for c in as_utf8 if ord(c) > 127)):
            continue
        try:
            wrong = line.decode(given)
        except UnicodeDecodeError:
            wrong = line.decode(given, errors="replace")
        raise SourceError(
            f"{path}, line {n}: the file is UTF-8 (it reads {_short(as_utf8)!r} as UTF-8), but "
            f"--encoding {given} would read it as {_short(wrong)!r}; leave --encoding out or "
            "give utf-8.")


def _short(text: str) -> str:
    """The text around its first non-ASCII character (where the two readings differ)."""
    text = text.strip()
    if len(text) <= 60:
        return text
    i = next((k for k, c in enumerate(text) if ord(c) > 127), 0)
    start = max(0, i - 25)
    return ("..." if start else "") + text[start:start + 50] + "..."
