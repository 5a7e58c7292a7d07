"""The bad-input corpus: damaged copies of one good extract, made by script, never by hand.

Each case copies the committed extract ``data/extracts/boutique`` and damages
it the way real exports get damaged (a stray quote, a NaN, a year 9999, a
Windows-1252 byte, a blank line, bare carriage returns, a missing file...).
It returns what a correct load must then do, worked out from the damage
itself, not from the loader:

* ``rows_in``: the rows of the damaged file (lines that are not blank and not
  the header, a quoted line break joining two lines into one row);
* ``moved``: where each line of the good file now sits;
* ``added``: the (line, reason) pairs the damage must add to the quarantine;
* ``replaced``: lines of the good file the damage overwrote.

Run it to write the whole corpus to a folder, one sub-folder per case::

    python tests/corpus/damage.py /tmp/corpus
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

GOOD = Path(__file__).resolve().parents[2] / "data" / "extracts" / "boutique"
MANIFEST = "extracts_manifest.json"
SPEC = {  # file -> (encoding, delimiter), as the systems write them
    "legacy_customers.csv": ("utf-8", ","), "web_products.csv": ("utf-8", ","),
    "pos_articles.csv": ("latin-1", ";"), "web_campaigns.csv": ("utf-8", ","),
    "pos_sales.csv": ("latin-1", ";"), "web_orders.csv": ("utf-8", ","),
    "web_sessions.csv": ("utf-8", ","), "web_campaign_contacts.csv": ("utf-8", ","),
    "web_tickets.csv": ("utf-8", ","),
}


def _same(line: int) -> int:
    return line


@dataclass
class Expect:
    """What a correct load of the damaged folder does (see the module)."""

    file: str | None = None
    rows_in: int | None = None
    added: list = field(default_factory=list)
    replaced: set = field(default_factory=set)
    moved: Callable[[int], int] = _same
    exit: int = 0
    message: tuple = ()
    cascades: bool = False  # other files' rows change too (e.g. a lost customer)


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\n") and b"\r" not in data
    return data[:-1].split(b"\n")


def _save(path: Path, lines: list[bytes], end: bytes = b"\n") -> None:
    path.write_bytes(end.join(lines) + end)


#: Planted reasons the warehouse loads instead of quarantining: a sale naming a product or
#: customer it has no row for goes to an inferred member of that dimension.
INFERRED = ("unknown_product", "unknown_customer")


def planted(name: str, *, inferred: bool = False) -> set[int]:
    """Lines of ``name`` that hold the good extract's own planted bad rows (to be
    quarantined; with ``inferred``, those to be loaded against an inferred member)."""
    out = set()
    for row in (GOOD / "bad_rows.csv").read_text().splitlines()[1:]:
        file, line, reason = row.split(",")
        if file == name and (reason in INFERRED) == inferred:
            out.add(int(line))
    return out


def _target(name: str, after: int = 10) -> int:
    """A line of ``name`` that is good and not next to a planted bad row."""
    bad = planted(name) | planted(name, inferred=True)
    line = after
    while line in bad or line - 1 in bad or line + 1 in bad:
        line += 1
    return line


def _set_field(folder: Path, name: str, column: str, value: bytes, *, line: int | None = None,
               reason: str | None = None) -> Expect:
    path = folder / name
    lines = _lines(path)
    enc, delim = SPEC[name]
    header = lines[0].decode(enc).split(delim)
    line = line or _target(name)
    fields = lines[line - 1].split(delim.encode())
    fields[header.index(column)] = value
    lines[line - 1] = delim.encode().join(fields)
    _save(path, lines)
    return Expect(name, len(lines) - 1, [(line, reason)] if reason else [], {line})


# ----------------------------------------------------------------------------- the cases
def unbalanced_quote(folder: Path) -> Expect:
    """One web order with a quote that never closes: only that line is lost to quarantine."""
    return _set_field(folder, "web_orders.csv", "customer_email", b'"ana@example.com',
                      reason="malformed_line")


def _value_case(name: str, column: str, value: bytes, reason: str, cascades: bool = False):
    def case(folder: Path) -> Expect:
        exp = _set_field(folder, name, column, value, reason=reason)
        exp.cascades = cascades  # e.g. a lost product: its sales no longer find it
        return exp
    case.__doc__ = f"{name}: {column} = {value.decode()} is quarantined as {reason}."
    return case


def utf8_e_in_latin1(folder: Path) -> Expect:
    """A UTF-8 'é' in the Latin-1 till file: detected, not read as 'Ã©'."""
    return _set_field(folder, "pos_sales.csv", "cupon", "CAFÉ10".encode(),
                      reason="invalid_encoding")


def cp1252_euro_in_latin1(folder: Path) -> Expect:
    """A Windows-1252 euro sign (byte 0x80) in the Latin-1 till file."""
    return _set_field(folder, "pos_sales.csv", "cupon", "10€".encode("cp1252"),
                      reason="invalid_encoding")


def cp1252_quote_in_utf8(folder: Path) -> Expect:
    """A Windows-1252 curly quote in the UTF-8 web orders."""
    return _set_field(folder, "web_orders.csv", "discount_code", "\u201cVIP\u201d".encode("cp1252"),
                      reason="invalid_encoding")


def latin1_early_in_utf8(folder: Path) -> Expect:
    """Latin-1 bytes on the second line of the UTF-8 customer sheet."""
    exp = _set_field(folder, "legacy_customers.csv", "Name", "Íñigo".encode("latin-1"), line=2,
                     reason="invalid_encoding")
    exp.cascades = True  # that customer's sales no longer find a customer
    return exp


def utf8_file_where_latin1_expected(folder: Path) -> Expect:
    """The till's article file saved as UTF-8: every line with an accent is caught."""
    path = folder / "pos_articles.csv"
    text = path.read_bytes().decode("latin-1")
    rows = text.splitlines()
    rows[5] = rows[5].replace(rows[5].split(";")[2], "CAMISÓN ÉLITE")
    path.write_bytes(("\n".join(rows) + "\n").encode("utf-8"))
    bad = [(i + 1, "invalid_encoding") for i, r in enumerate(rows) if i and not r.isascii()]
    assert bad
    return Expect("pos_articles.csv", len(rows) - 1, bad, {6}, cascades=True)


def binary_garbage_appended(folder: Path) -> Expect:
    """Random bytes after the last web ticket: each piece is a quarantined line."""
    path = folder / "web_tickets.csv"
    good = _lines(path)
    garbage = np.random.default_rng(13).integers(0, 256, 600, dtype=np.uint8).tobytes()
    path.write_bytes(path.read_bytes() + garbage)
    # the garbage's own lines, split by hand on \r\n, \r and \n
    pieces, cur, k = [], b"", 0
    while k < len(garbage):
        c = garbage[k:k + 1]
        if c == b"\r" and garbage[k + 1:k + 2] == b"\n":
            pieces.append(cur)
            cur, k = b"", k + 2
            continue
        if c in (b"\r", b"\n"):
            pieces.append(cur)
            cur = b""
        else:
            cur += c
        k += 1
    if cur:
        pieces.append(cur)
    first = len(good) + 1
    blank = sum(1 for p in pieces if not p.strip(b" \t"))
    # a piece is rejected as invalid_encoding or, if it happens to be plain text, malformed
    added = [(first + i, None) for i, p in enumerate(pieces) if p.strip(b" \t")]
    return Expect("web_tickets.csv", len(good) - 1 + len(pieces) - blank, added)


def bom(folder: Path) -> Expect:
    """A UTF-8 byte-order mark before the product catalogue's header: accepted."""
    path = folder / "web_products.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return Expect("web_products.csv", len(_lines(path)) - 1)


def blank_line(folder: Path) -> Expect:
    """A blank line in the middle of the web orders: every later line keeps its number."""
    path = folder / "web_orders.csv"
    lines = _lines(path)
    at = 100  # the blank line becomes line 100
    _save(path, lines[:at - 1] + [b""] + lines[at - 1:])
    return Expect("web_orders.csv", len(lines) - 1, moved=lambda n: n + 1 if n >= at else n)


def blank_before_malformed_last(folder: Path) -> Expect:
    """A blank line, then a malformed last line: no row is made up."""
    path = folder / "web_orders.csv"
    lines = _lines(path)
    _save(path, lines + [b"", b"#99999,1,2025-01-01T10:00:00+01:00"])
    return Expect("web_orders.csv", len(lines), [(len(lines) + 2, "malformed_line")])


def quoted_line_break(folder: Path) -> Expect:
    """A valid quoted field with a line break (an address on two lines): one row, two lines."""
    path = folder / "legacy_customers.csv"
    lines = _lines(path)
    at = _target("legacy_customers.csv", 20)
    while b'"' not in lines[at - 1]:  # a row whose address is quoted
        at = _target("legacy_customers.csv", at + 1)
    row = lines[at - 1].decode("utf-8")
    start = row.index('"')
    end = row.index('"', start + 1)
    lines[at - 1] = (row[:end] + "\nPiso 2" + row[end:]).encode("utf-8")
    _save(path, lines)
    return Expect("legacy_customers.csv", len(lines) - 1,
                  moved=lambda n: n + 1 if n > at else n)


def cr_only(folder: Path) -> Expect:
    """Bare carriage returns end every line (an old Mac export): nothing lost."""
    path = folder / "pos_sales.csv"
    lines = _lines(path)
    _save(path, lines, b"\r")
    return Expect("pos_sales.csv", len(lines) - 1)


def crlf(folder: Path) -> Expect:
    """Windows line ends: nothing lost, nothing moves."""
    path = folder / "web_orders.csv"
    lines = _lines(path)
    _save(path, lines, b"\r\n")
    return Expect("web_orders.csv", len(lines) - 1)


def _missing(name: str):
    def case(folder: Path) -> Expect:
        (folder / name).unlink()
        return Expect(exit=2, message=(name, "first build"))
    case.__doc__ = f"A first build without {name}: refused, the file named."
    return case


def bad_extracted_at(folder: Path) -> Expect:
    """The batch manifest's extraction day is not a date."""
    path = folder / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["extracted_at"] = "2025-13-45"
    path.write_text(json.dumps(manifest, indent=2))
    return Expect(exit=2, message=(MANIFEST, "extracted_at", "2025-13-45"))


def wrong_header(folder: Path) -> Expect:
    """The web orders' header lost a column: refused, file and line 1 named."""
    path = folder / "web_orders.csv"
    lines = _lines(path)
    lines[0] = lines[0].replace(b",sku,", b",",)
    _save(path, lines)
    return Expect(exit=2, message=("web_orders.csv", "line 1", "sku"))


def utf16_file(folder: Path) -> Expect:
    """The customer sheet saved as UTF-16 by a spreadsheet: refused with the way out."""
    path = folder / "legacy_customers.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    return Expect(exit=2, message=("legacy_customers.csv", "UTF-16"))


CASES: dict[str, Callable[[Path], Expect]] = {
    "unbalanced_quote": unbalanced_quote,
    "nan_price": _value_case("web_orders.csv", "unit_price", b"NaN", "non_finite_number"),
    "inf_price": _value_case("web_orders.csv", "unit_price", b"inf", "non_finite_number"),
    "infinity_shipping": _value_case("web_orders.csv", "shipping_cost", b"Infinity",
                                     "non_finite_number"),
    "nan_discount_till": _value_case("pos_sales.csv", "dto", b"NaN", "non_finite_number"),
    "discount_of_5": _value_case("web_orders.csv", "discount", b"5", "out_of_range"),
    "quantity_1e15": _value_case("pos_sales.csv", "unidades", b"1000000000000000",
                                 "out_of_range"),
    "price_1e12": _value_case("web_orders.csv", "unit_price", b"1e12", "out_of_range"),
    # a damaged dimension row costs that row only: its sales load against an inferred member
    "nan_product_cost": _value_case("web_products.csv", "unit_cost", b"nan",
                                    "non_finite_number"),
    "till_article_bad_price": _value_case("pos_articles.csv", "pvp", b"12,3,4",
                                          "invalid_number"),
    "customer_bad_number": _value_case("legacy_customers.csv", "Cust No", b"00X001",
                                       "missing_customer_id"),
    "till_date_9999": _value_case("pos_sales.csv", "fecha", b"31/12/9999", "implausible_date"),
    "web_date_2099": _value_case("web_orders.csv", "created_at", b"2099-06-01T10:00:00+01:00",
                                 "implausible_date"),
    "ticket_date_1850": _value_case("web_tickets.csv", "opened_at",
                                    b"1850-06-01T10:00:00+01:00", "implausible_date"),
    "utf8_e_in_latin1": utf8_e_in_latin1,
    "cp1252_euro_in_latin1": cp1252_euro_in_latin1,
    "cp1252_quote_in_utf8": cp1252_quote_in_utf8,
    "latin1_early_in_utf8": latin1_early_in_utf8,
    "utf8_file_where_latin1_expected": utf8_file_where_latin1_expected,
    "binary_garbage_appended": binary_garbage_appended,
    "bom": bom,
    "blank_line": blank_line,
    "blank_before_malformed_last": blank_before_malformed_last,
    "quoted_line_break": quoted_line_break,
    "cr_only": cr_only,
    "crlf": crlf,
    "missing_products": _missing("web_products.csv"),
    "missing_customers": _missing("legacy_customers.csv"),
    "missing_till_articles": _missing("pos_articles.csv"),
    "bad_extracted_at": bad_extracted_at,
    "wrong_header": wrong_header,
    "utf16_file": utf16_file,
}


def make(case: str, out: Path) -> Expect:
    """Copy the good extract to ``out`` and damage it as ``case`` says."""
    out = Path(out)
    shutil.copytree(GOOD, out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["batch_id"] = f"corpus-{case}"  # a damaged batch is another batch
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return CASES[case](out)


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")
    for name in CASES:
        exp = make(name, root / name)
        print(f"{name:34} {exp.file or '-':26} exit {exp.exit}  rows in {exp.rows_in}")
