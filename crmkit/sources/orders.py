"""Import any order or transaction log (one delimited file) into a partial ``CRMData``.

The analyst says which column holds what (customer, date, amount, and
optionally order, quantity, product, price) on the command line or in a
small YAML file kept beside the export; encoding, delimiter and decimal
comma are detected unless given. This reads the CDNOW log (customer, day,
CDs, dollars; aligned with spaces, no header) and UCI Online Retail II style
files, where an invoice starting with ``C`` is a cancellation, a negative
quantity is a return and a missing customer is a guest.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "sales.csv").write_text(
...     "Invoice;Cliente;Fecha;Artículo;Unidades;Precio\\n"
...     "A1;7;05/01/2024 10:00;X1;2;3,50\\n"
...     "A1;7;05/01/2024 10:00;X2;1;10,00\\n"
...     "C2;7;06/01/2024 09:00;X2;-1;10,00\\n"
...     "A3;;07/01/2024 12:00;X1;1;3,50\\n"
...     "A4;8;31/02/2024 12:00;X1;1;3,50\\n", encoding="utf-8")
>>> mapping = OrderLogMapping(customer="Cliente", date="Fecha", order="Invoice",
...     product="Artículo", quantity="Unidades", price="Precio", dayfirst=True,
...     cancel_prefix="C")
>>> result = import_orders(folder / "sales.csv", mapping, shop_name="Tienda Sur")
>>> result.report[["rows_read", "rows_imported", "rows_quarantined"]].values.tolist()
[[5, 4, 1]]
>>> result.quarantine[["line", "column", "reason", "value"]].values.tolist()
[[6, 'Fecha', 'not_a_date', '31/02/2024 12:00']]
>>> result.data.orders["status"].tolist(), result.notes["guest_orders"]
(['placed', 'cancelled', 'placed'], 1)
>>> sorted(result.data.tables)
['order_lines', 'orders', 'products']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_
import pyarrow.compute as pc
import yaml
from pandas.api.extensions import ExtensionArray

from ..dataset.crmdata import CRMData
from ..dataset.schema import ORDER_STATUSES, conform
from ..errors import SourceError
from .dates import parse_times
from .numbers import parse_numbers
from .quarantine import QUARANTINE_COLUMNS, ImportResult
from .steps import Batch, exact_total, line_cents, manifest, money_cents
from .table import LINE, TextTable, check_shop, read_text_table

__all__ = ["OrderLogMapping", "import_orders", "MAX_QUANTITY"]

#: Quantities beyond this are taken as a broken value (a barcode in the wrong column).
MAX_QUANTITY = 1_000_000

#: Values of a cancellation flag column (compared without case): cancelled, or not.
FLAG_YES = ("1", "true", "yes", "y", "t", "x", "si", "sí", "s", "cancelled", "cancelado")
FLAG_NO = ("0", "false", "no", "n", "f", "")


@dataclass(frozen=True)
class OrderLogMapping:
    """Which column of the log holds what, and how the file is written.

    Columns are named as in the header, or by 1-based position (``"2"``) when
    the file has none (``header=False``). ``customer`` and ``date`` are
    required, and ``amount`` or ``price``. Keep it as YAML with
    :meth:`to_yaml`; read it back with :meth:`from_yaml`.

    ``order`` groups lines into orders (several lines per order). ``amount`` is what
    the line cost; when a log has both an amount and a price, the amount gives the
    line's money and the price stays informational. What happened to an order comes
    from a ``status`` column, its values mapped to the canonical statuses by
    ``status_map`` (values already canonical need no entry), from a ``cancel_flag``
    column (1/0, yes/no, true/false...) or from a ``cancel_prefix`` of the order code.

    >>> OrderLogMapping(customer="c", date="d", amount="a", status="s",
    ...                 status_map={"Anulado": "cancelled"}).columns["status"]
    's'

    >>> m = OrderLogMapping(customer="1", date="2", quantity="3", amount="4", header=False,
    ...                     date_format="%Y%m%d", delimiter="whitespace")
    >>> OrderLogMapping.from_yaml_text(m.to_yaml()) == m
    True
    >>> OrderLogMapping(customer="c", date="d")
    Traceback (most recent call last):
    ...
    crmkit.errors.SourceError: the mapping needs an amount or a price column; ...
    """

    customer: str | None
    date: str
    amount: str | None = None
    order: str | None = None
    quantity: str | None = None
    product: str | None = None
    product_name: str | None = None
    price: str | None = None
    date_format: str | None = None
    dayfirst: bool | None = None
    cancel_prefix: str | None = None
    status: str | None = None
    status_map: dict[str, str] | None = None
    cancel_flag: str | None = None
    header: bool = True
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None

    def __post_init__(self) -> None:
        if not self.date:
            raise SourceError("the mapping needs a date column (date: <column>).")
        if not (self.amount or self.price):
            raise SourceError("the mapping needs an amount or a price column; give "
                              "--amount COLUMN or --price COLUMN (with --quantity).")
        if self.decimal not in (None, ".", ","):
            raise SourceError(f"decimal={self.decimal!r} is not allowed; use '.' or ','.")
        if self.status_map is not None:
            if not self.status:
                raise SourceError("a status_map needs the status column (status: <column>).")
            if not isinstance(self.status_map, dict):
                raise SourceError("status_map must be 'value in the log: status' lines.")
            wrong = sorted({str(v) for v in self.status_map.values()} - set(ORDER_STATUSES))
            if wrong:
                raise SourceError(f"status_map maps to {wrong}; the statuses are: "
                                  f"{', '.join(ORDER_STATUSES)}.")

    @property
    def columns(self) -> dict[str, str]:
        """The mapped roles and the file's column for each."""
        roles = ("customer", "date", "amount", "order", "quantity", "product",
                 "product_name", "price", "status", "cancel_flag")
        return {r: getattr(self, r) for r in roles if getattr(self, r)}

    def to_yaml(self) -> str:
        """The mapping as a small YAML file the analyst can keep and edit."""
        return yaml.safe_dump({k: v for k, v in asdict(self).items()
                               if v is not None and (v is not False or k == "dayfirst")}
                              | {"header": self.header}, sort_keys=False, allow_unicode=True)

    @classmethod
    def from_yaml_text(cls, text: str, *, where: str = "mapping") -> OrderLogMapping:
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise SourceError(f"{where}: not valid YAML ({exc}).") from exc
        if not isinstance(raw, dict):
            raise SourceError(f"{where}: expected 'role: column' lines.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SourceError(f"{where}: unknown key(s) {unknown}; the keys are: "
                              f"{', '.join(sorted(known))}.")
        # values as YAML gives them (__post_init__ checks what it must)
        clean: dict[str, Any] = {
            k: (str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v)
            for k, v in raw.items()}
        if isinstance(clean.get("status_map"), dict):  # YAML reads 1: cancelled as a number
            clean["status_map"] = {str(k): v for k, v in clean["status_map"].items()}
        return cls(**clean)

    @classmethod
    def from_yaml(cls, path: str | Path) -> OrderLogMapping:
        path = Path(path)
        if not path.is_file():
            raise SourceError(f"{path}: no such mapping file.")
        return cls.from_yaml_text(path.read_text(encoding="utf-8"), where=str(path))


def _customer_codes(text: pd.Series) -> pd.Series:
    """Customer codes as written; ``13085.0`` (a spreadsheet's float) reads as ``13085``."""
    v = text.astype("str").str.strip()
    dotted = v.str.contains(".", regex=False)
    if dotted.any():
        spreadsheet = dotted & v.str.match(r"^\d+\.0+$")
        if spreadsheet.any():
            v = v.where(~spreadsheet, v[spreadsheet].str.replace(r"\.0+$", "", regex=True))
    return v


def _ids(codes: pd.Series) -> tuple[pd.Series, bool]:
    """Integer ids for codes: the codes themselves when they are whole numbers (up to 18
    digits, exactly), else numbers in the sorted order of the codes. An empty code has none.

    >>> [int(i) for i in _ids(pd.Series(["123456789012345678", "", "7"]))[0].dropna()]
    [123456789012345678, 7]
    """
    text = pa_.array(pd.Series(codes, dtype="str").array)
    if isinstance(text, pa_.ChunkedArray):
        text = text.combine_chunks()
    known = pc.fill_null(pc.not_equal(text, ""), False)
    whole = pc.fill_null(pc.and_(pc.ascii_is_decimal(text),
                                 pc.less_equal(pc.binary_length(text), 18)), False)
    if pc.all(pc.or_(whole, pc.invert(known))).as_py() is not False:
        ids = pc.cast(pc.if_else(known, text, pa_.scalar(None, text.type)), pa_.int64())
        exact = pd.arrays.IntegerArray(  # never through floats: 18 digits stay exact
            pc.fill_null(ids, 0).to_numpy(zero_copy_only=False),
            ids.is_null().to_numpy(zero_copy_only=False))
        return pd.Series(exact, index=codes.index), True
    known_codes = codes[known.to_numpy(zero_copy_only=False)]
    uniques = sorted(known_codes.unique())
    lookup = {c: i for i, c in enumerate(uniques, 1)}
    return codes.map(lookup).astype("Int64"), False


def _schema(amount_and_price: bool = False) -> pa.DataFrameSchema:
    lo, hi = pd.Timestamp("1970-01-01"), pd.Timestamp("2100-01-01")
    extra = ({"_amount": pa.Column(float, pa.Check.ge(0), nullable=False)}
             if amount_and_price else {})
    return pa.DataFrameSchema(extra | {
        "placed_at": pa.Column("datetime64[us]", pa.Check.in_range(lo, hi), nullable=False),
        "quantity": pa.Column(float, [
            pa.Check.in_range(-MAX_QUANTITY, MAX_QUANTITY),
            pa.Check(lambda s: s != 0, element_wise=False, name="quantity_is_zero"),
            pa.Check(lambda s: s == np.round(s), name="not_a_whole_number"),
        ], nullable=False),
        "unit_price": pa.Column(float, pa.Check.ge(0), nullable=False),
    }, strict=False)


class _Decisions(TypedDict):
    """What reading the columns decided: the report's ``source`` and ``notes`` say it."""

    dayfirst: bool | None
    dst_gap_moved_forward: int
    dst_fold_kept_as_written: int
    decimal: dict[str, str]  # the file's column -> its decimal mark


def _parse_columns(raw: pd.DataFrame, mapping: OrderLogMapping, *, timezone: str,
                   file: str) -> tuple[pd.DataFrame, dict[str, pd.Series], _Decisions]:
    """Parse the mapped columns: (typed frame, problem per value and column, decisions made).

    Money keeps its exact text (``_money_text``, canonical ``1234.50``) beside the float
    used for checks, so amounts are read to the cent from what the file says.
    """
    cols = mapping.columns
    where = f"{file}, column {{!r}}".format
    parsed = pd.DataFrame({LINE: raw[LINE]}, index=raw.index)
    lines = raw[LINE].to_numpy()
    times = parse_times(raw[cols["date"]], timezone=timezone, fmt=mapping.date_format,
                        dayfirst=mapping.dayfirst, where=where(cols["date"]), lines=lines)
    parsed["placed_at"] = times.value
    problems = {"placed_at": times.problem}
    info: _Decisions = {"dayfirst": times.dayfirst, "dst_gap_moved_forward": times.dst_gap,
            "dst_fold_kept_as_written": times.dst_fold, "decimal": {}}
    if "quantity" in cols:
        qty = parse_numbers(raw[cols["quantity"]], decimal=mapping.decimal,
                            where=where(cols["quantity"]), lines=lines)
        parsed["quantity"] = qty.value
        problems["quantity"] = qty.problem
        info["decimal"][cols["quantity"]] = qty.decimal
    else:
        parsed["quantity"] = 1.0
    read = {}
    for role in ("price", "amount"):
        if role in cols:
            read[role] = parse_numbers(raw[cols[role]], decimal=mapping.decimal,
                                       where=where(cols[role]), lines=lines)
            info["decimal"][cols[role]] = read[role].decimal
    # the line's money: the amount as written when the log has one, else price x quantity
    parsed["_money_text"] = (read.get("amount") or read["price"]).categories()
    if "price" in read:
        parsed["unit_price"] = read["price"].value
        problems["unit_price"] = read["price"].problem
    if "amount" in read:
        parsed["_amount"] = read["amount"].value
        if "price" in read:
            problems["_amount"] = read["amount"].problem
        else:
            q, money = parsed["quantity"], read["amount"]
            parsed["unit_price"] = (money.value / q.abs().where(q != 0)).where(
                money.value.notna())
            problems["unit_price"] = money.problem
    return parsed, problems, info


def _conflicting_rows(parsed: pd.DataFrame, ok: pd.Series, codes: pd.Series,
                      fields: dict[str, pd.Series], *, file: str,
                      raw: pd.DataFrame) -> pd.DataFrame:
    """``conflicting_order`` entries: rows whose order-level fields differ from the order's
    first usable row; the value names both lines."""
    out = [pd.DataFrame(columns=QUARANTINE_COLUMNS)]
    if codes[ok].is_unique:  # one row per order: nothing to disagree with
        return out[0]
    first_row = parsed.index.to_series()[ok].groupby(codes[ok], sort=False).transform("first")
    seen = pd.Series(False, index=parsed.index)
    for column, values in fields.items():
        if not column:
            continue
        mine = values[ok]
        theirs = values.reindex(first_row.to_numpy()).set_axis(first_row.index)
        differ = pd.Series(mine.to_numpy() != theirs.to_numpy(), index=mine.index) & ~seen[ok]
        if differ.any():
            idx = differ[differ].index
            at = parsed.loc[first_row[idx], LINE].to_numpy()
            text = raw.loc[idx, column].astype("str").to_numpy()
            first_text = raw.loc[first_row[idx], column].astype("str").to_numpy()
            out.append(pd.DataFrame({
                "file": file, "line": parsed.loc[idx, LINE].to_numpy(), "column": column,
                "reason": "conflicting_order",
                "value": [f"{v!r} where line {ln} of order {c} says {t!r}" for v, ln, c, t in
                          zip(text, at, codes[idx], first_text, strict=True)]}))
            seen.loc[idx] = True
    return pd.concat(out, ignore_index=True) if len(out) > 1 else out[0]


def import_orders(path: str | Path, mapping: OrderLogMapping, *, shop_name: str | None = None,
                  currency: str = "EUR", timezone: str | None = None) -> ImportResult:
    """Import an order or transaction log; return the dataset, its report and its quarantine.

    One order per distinct ``order`` value (per row when no order column is
    mapped), one order line per row. Rows that cannot be used are quarantined
    with file, line, column and reason. An order whose code starts with
    ``cancel_prefix`` is ``cancelled``; one with only negative quantities is
    ``returned`` (its lines hold the units that came back); a row without a
    customer is a guest order. With a ``status`` column the order's status is its
    mapped value; a ``cancel_flag`` or ``cancel_prefix`` makes it ``cancelled``. A
    returned order gave its goods back (``refunded_cents`` = its lines' amounts).
    Times are UTC unless ``timezone`` (the shop's IANA zone) is given; the report's
    ``timezone`` note says which was used. The result has the tables the log can fill:
    orders and order lines, and products when a product column is mapped.

    What a line cost (``amount_cents``) is read exactly from the file's text:
    the amount as written, or price × quantity where the log gives a price and
    a quantity instead (that is then the log's own definition of the line's
    amount); an amount log leaves ``unit_price`` empty, never amount ÷ quantity.
    Whole-number codes are the
    ids; other codes (``INV-7``, ``C489449``, e-mails as customers) get
    numbers, and ``ImportResult.codes`` keeps code and id side by side
    (``customer_codes.csv``, ``order_codes.csv`` beside the dataset).
    """
    zone_note = (f"{timezone} (given)" if timezone else
                 "UTC (default: the log gives no time zone)")
    timezone = timezone or "UTC"
    check_shop(currency=currency, timezone=timezone)
    path = Path(path)
    table = _read(path, mapping)                                           # read, decode, split
    parsed, problems, info = _parse_columns(table.frame, mapping, timezone=timezone,
                                            file=path.name)                # parse columns
    batch = Batch.start(table, parsed)
    batch.check(problems, _schema("amount" in mapping.columns and "price" in mapping.columns),
                sources=_sources(mapping))                                 # validate values
    keys = _check_orders(batch, mapping)                                   # validate orders
    _line_money(batch, mapping, currency)                                  # money, exact
    good, tables, numeric = _assemble(batch, keys, mapping, currency)      # assemble tables
    data = CRMData(tables, manifest(shop_name or path.stem, currency, timezone, "orders",
                                    tables["orders"])).validate()
    bad = batch.quarantine()
    notes = (_notes(good, tables, numeric, info) | batch.reading_notes()
             | {"timezone": zone_note})
    source: dict[str, object] = {
        "kind": "orders", "file": str(path), "encoding": table.encoding,
        "delimiter": table.delimiter, "decimal": info["decimal"],
        "dayfirst": info["dayfirst"], "mapping": asdict(mapping)}
    return ImportResult(data, pd.DataFrame([batch.report(bad)]), bad, notes, source,
                        _codes(good, mapping, numeric))


def _read(path: Path, mapping: OrderLogMapping) -> TextTable:
    table = read_text_table(path, encoding=mapping.encoding, delimiter=mapping.delimiter,
                            header=mapping.header)
    missing = [f"{role}={col!r}" for role, col in mapping.columns.items()
               if col not in table.frame.columns]
    if missing:
        cols = [repr(c if len(c) <= 40 else c[:37] + "...") for c in table.frame.columns
                if c != LINE]
        more = f" and {len(cols) - 20} more" if len(cols) > 20 else ""
        raise SourceError(f"{path}: column(s) {', '.join(missing)} not in the file; its "
                          f"columns are: {', '.join(cols[:20])}{more}. Fix the mapping.")
    return table


def _sources(mapping: OrderLogMapping) -> dict[str, str]:
    cols = mapping.columns
    return {"placed_at": cols["date"], "quantity": cols.get("quantity", cols["date"]),
            "unit_price": cols.get("price") or cols["amount"],  # a mapping has one of them
            "_amount": cols.get("amount", cols["date"])}


def _check_orders(batch: Batch, mapping: OrderLogMapping) -> pd.DataFrame:
    """Rules of an order log: an order number, one customer and time per order, and no
    negative line inside a sale. Returns each row's order code, customer code, cancelled."""
    raw, cols = batch.raw, mapping.columns
    codes = (raw[cols["order"]].astype("str").str.strip() if "order" in cols
             else pd.Series(raw[LINE].astype("str"), index=raw.index))
    batch.reject(codes == "", column=cols.get("order", ""), reason="empty order number")
    customers = (_customer_codes(raw[cols["customer"]]) if "customer" in cols
                 else pd.Series("", index=raw.index))
    cancelled = (codes.str.upper().str.startswith(mapping.cancel_prefix.upper())
                 if mapping.cancel_prefix else pd.Series(False, index=raw.index))
    status, flag = _statuses(batch, mapping)
    keys = pd.DataFrame({"_order": codes, "_customer": customers,
                         "_cancelled": cancelled | flag.fillna(False), "_status": status})
    if "order" not in cols:  # one row per order: nothing to disagree with, no sale to mix
        return keys
    # one order per number: a row whose customer or time disagrees with the order's first
    # row is another order under the same number (a reused invoice number), not merged
    batch.add(_conflicting_rows(batch.parsed, batch.ok, codes,
                                {cols.get("customer", ""): customers,
                                 cols["date"]: batch.parsed["placed_at"],
                                 cols.get("status", ""): status.fillna(""),
                                 cols.get("cancel_flag", ""): flag.fillna(False)},
                                file=batch.file, raw=raw))
    ok, negative = batch.ok, batch.parsed["quantity"] < 0
    all_negative = negative[ok].groupby(codes[ok], sort=False).transform("all")
    mixed = pd.Series(False, index=raw.index)
    mixed.loc[all_negative.index] = negative[ok] & ~all_negative & ~cancelled[ok]
    batch.reject(mixed, column=cols.get("quantity", cols["date"]),
                 reason="negative quantity inside a sale")
    return keys


def _statuses(batch: Batch, mapping: OrderLogMapping) -> tuple[pd.Series, pd.Series]:
    """Each row's canonical status (NA without a status column) and cancellation flag (NA
    without a flag column). A status value the map does not know is quarantined as
    ``status_not_in_map``, an empty one as ``empty``, a flag that is neither yes nor no as
    ``not_a_flag``: the analyst completes the mapping, nothing is guessed."""
    raw, cols = batch.raw, mapping.columns
    status = pd.Series(pd.NA, index=raw.index, dtype="str")
    flag = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    if "status" in cols:
        text = raw[cols["status"]].astype("str").str.strip()
        known = {s: s for s in ORDER_STATUSES} | dict(mapping.status_map or {})
        status = text.map(known).astype("str")
        batch.reject((text == "") & status.isna(), column=cols["status"], reason="empty")
        batch.reject(status.isna(), column=cols["status"], reason="status_not_in_map")
    if "cancel_flag" in cols:
        text = raw[cols["cancel_flag"]].astype("str").str.strip().str.casefold()
        yes, no = text.isin(FLAG_YES), text.isin(FLAG_NO)
        batch.reject(~(yes | no), column=cols["cancel_flag"], reason="not_a_flag")
        flag = yes.astype("boolean")
    return status, flag


def _line_money(batch: Batch, mapping: OrderLogMapping, currency: str) -> None:
    """Each usable line's ``amount_cents``, exactly from the file's text: the amount column
    as written, or, where the log gives a price and a quantity instead, price x quantity
    (the log's own definition of what the line cost). Never derived by division."""
    ok, parsed = batch.ok, batch.parsed
    cents = pd.Series(pd.NA, index=parsed.index, dtype="Int64")
    if "amount" in mapping.columns:
        got, problem = money_cents(parsed.loc[ok, "_money_text"], currency=currency)
    else:
        got, problem = line_cents(parsed.loc[ok, "_money_text"], parsed.loc[ok, "quantity"],
                                  currency=currency)
    cents[ok] = got
    parsed["_amount_cents"] = cents
    bad = pd.Series(False, index=parsed.index)
    bad[ok] = problem.notna().to_numpy()
    batch.reject(bad, column=mapping.columns.get("amount") or mapping.columns["price"],
                 reason="too_many_decimals")


def _order_ids(good: pd.DataFrame, mapping: OrderLogMapping) -> pd.Series:
    order_codes = good["_order"]
    if "order" not in mapping.columns:
        return pd.Series(np.arange(1, len(good) + 1), index=good.index, dtype="int64")
    # invoice numbers keep their number (C489449 -> 489449) unless two codes would share it
    digits = order_codes.str.replace(r"^[A-Za-z]+", "", regex=True)
    pairs = pd.DataFrame({"c": order_codes, "d": digits}).drop_duplicates()
    order_id, numeric_orders = _ids(digits)
    if not numeric_orders or pairs["d"].duplicated().any():  # numbered as they come
        uniques = pd.unique(order_codes)
        order_id = order_codes.map({c: i for i, c in enumerate(uniques, 1)}).astype("Int64")
    return order_id.astype("int64")


def _assemble(batch: Batch, keys: pd.DataFrame, mapping: OrderLogMapping, currency: str
              ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], bool]:
    """Orders, order lines (and products) from the usable rows."""
    good = pd.concat([_usable(batch.parsed, batch.ok), _usable(keys, batch.ok)], axis=1)
    good["customer_id"], numeric = _ids(good["_customer"])
    good["order_id"] = _order_ids(good, mapping)
    if not (good["order_id"].is_monotonic_increasing and good[LINE].is_monotonic_increasing):
        good = good.sort_values(["order_id", LINE], kind="stable")
    # each order's rows are together; every row of an order agrees on its order-level fields
    # (a row that does not is quarantined as conflicting_order), so its first row speaks for it
    oid = good["order_id"].to_numpy(dtype="int64")
    change = np.ones(len(oid), dtype=bool)
    change[1:] = oid[1:] != oid[:-1]
    starts = np.flatnonzero(change)
    head = good[["order_id", "customer_id", "placed_at", "_cancelled", "_status"]].iloc[
        starts].set_index("order_id")
    neg = (np.logical_and.reduceat((good["quantity"] < 0).to_numpy(), starts) if len(starts)
           else np.zeros(0, dtype=bool))
    # 0 placed, 1 cancelled, 2 returned; a status column says which instead of "placed"
    status = np.where(head["_cancelled"].to_numpy(dtype=bool), 1,
                      np.where(neg, 2, 0)).astype(np.int8)
    n, placed = len(head), head["placed_at"].astype("datetime64[us]")
    words = _choice(status, ["placed", "cancelled", "returned"])
    if "status" in mapping.columns:
        words = pd.array(np.where(status == 0, head["_status"].to_numpy(dtype=object),
                                  words.to_numpy(dtype=object)), dtype="str")
        status = np.where(np.asarray(words, dtype=object) == "returned", 2,
                          status).astype(np.int8)
    # dated cancellations and returns: a cancellation invoice or a return's own line
    dated = "status" not in mapping.columns and not mapping.cancel_flag
    no_text = _no_text(n)
    orders = pd.DataFrame({
        "order_id": head.index.to_numpy(dtype="int64"),
        "customer_id": head["customer_id"].astype("Int64").array,
        "placed_at": placed.to_numpy(),
        "channel": no_text, "status": words,
        "paid_at": _no_time(n), "shipped_at": _no_time(n), "delivered_at": _no_time(n),
        "cancelled_at": placed.where((status == 1) & dated).to_numpy(),
        "returned_at": placed.where((status == 2) & (dated | neg)).to_numpy(),
        "payment_method": no_text, "shipping_cost": np.full(n, np.nan),
        "shipping_cents": pd.arrays.IntegerArray(np.zeros(n, "int64"), np.ones(n, bool)),
        "discount_code": no_text,
        "campaign_id": pd.arrays.IntegerArray(np.zeros(n, "int64"), np.ones(n, bool)),
        # a returned order gave its goods back: its lines' amounts, as the log wrote them
        "refunded_cents": _returned_goods(good, head.index, status == 2),
    }, copy=False)
    size = np.diff(np.append(starts, len(good)))
    lines = pd.DataFrame({
        "order_id": good["order_id"].to_numpy(dtype="int64"),
        "line_number": np.arange(len(good)) - np.repeat(starts, size) + 1,
        "product_id": pd.arrays.IntegerArray(np.zeros(len(good), "int64"),
                                             np.ones(len(good), bool)),
        "quantity": good["quantity"].abs().astype("int64").to_numpy(),
        # informational only: an amount log says no unit price (never amount / quantity)
        "unit_price": (good["unit_price"].to_numpy(dtype="float64")
                       if "price" in mapping.columns else np.full(len(good), np.nan)),
        "discount": np.zeros(len(good)),
        "amount_cents": good["_amount_cents"].astype("Int64").array,
    }, copy=False)
    tables = {}
    if "product" in mapping.columns:
        products, lines["product_id"] = _products(batch.raw.loc[good.index], mapping)
        tables["products"] = conform("products", products, currency=currency)
    tables["orders"] = conform("orders", orders, currency=currency)
    tables["order_lines"] = conform("order_lines", lines, currency=currency)
    return good, tables, numeric


def _usable(frame: pd.DataFrame, ok: pd.Series) -> pd.DataFrame:
    """The usable rows of ``frame`` (no copy when all are)."""
    return frame if bool(ok.all()) else frame[ok]


def _returned_goods(good: pd.DataFrame, order_ids: pd.Index,
                    returned: np.ndarray) -> ExtensionArray:
    """``refunded_cents`` per order: a returned order's lines' amounts, 0 for the others."""
    out = np.zeros(len(order_ids), dtype="int64")
    if returned.any():
        back = good[good["order_id"].isin(order_ids[returned])]
        goods = back["_amount_cents"].astype("int64").groupby(back["order_id"]).sum()
        out[returned] = goods.reindex(order_ids[returned]).to_numpy()
    return pd.array(out, dtype="Int64")


def _no_text(n: int) -> ExtensionArray:
    """A text column of ``n`` empty values, in the dataset's text dtype."""
    column: ExtensionArray = pd.array(pa_.nulls(n, pa_.large_string()), dtype="str")
    return column


def _no_time(n: int) -> np.ndarray:
    return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")


def _choice(codes: np.ndarray, words: list[str]) -> ExtensionArray:
    """The text column ``words[code]`` per row, built in Arrow (fast on millions of rows)."""
    arr = pa_.DictionaryArray.from_arrays(pa_.array(codes), pa_.array(words, pa_.large_string()))
    column: ExtensionArray = pd.array(pc.cast(arr, pa_.large_string()), dtype="str")
    return column


def _products(rows: pd.DataFrame, mapping: OrderLogMapping) -> tuple[pd.DataFrame, np.ndarray]:
    """Products named by the log's product column; their id for each row."""
    cols = mapping.columns
    sku = rows[cols["product"]].astype("str").str.strip()
    uniques = sorted(sku[sku != ""].unique())
    pid = {c: i for i, c in enumerate(uniques, 1)}
    names = (rows[cols["product_name"]].astype("str").str.strip()
             if "product_name" in cols else sku)
    first_name = names[sku != ""].groupby(sku[sku != ""]).agg(_most_written)
    products = pd.DataFrame({
        "product_id": [pid[c] for c in uniques], "sku": uniques,
        "name": [first_name.get(c) or c for c in uniques],
        "department": None, "category": None, "subcategory": None, "brand": None,
        "unit_cost": np.nan, "list_price": np.nan})
    return products, sku.map(pid).astype("Int64").to_numpy()


def _most_written(names: pd.Series) -> str:
    """The name written most often (the first of equals); "" when none is written."""
    written = names[names != ""]
    return str(written.mode().iloc[0]) if len(written) else ""


def _notes(good: pd.DataFrame, tables: dict[str, pd.DataFrame], numeric: bool,
           info: _Decisions) -> dict[str, object]:
    orders = tables["orders"]
    gone = orders.loc[orders["status"].isin(["cancelled", "returned"]), "order_id"]
    sold = good[~good["order_id"].isin(gone)]
    revenue = (exact_total(sold["_money_text"]) if "_amount" in good  # exact, from the text
               else exact_total(sold["_money_text"], sold["quantity"]))
    return {
        "orders": len(orders), "order_lines": len(tables["order_lines"]),
        "buyers": int(good["customer_id"].nunique()),
        "guest_orders": int(orders["customer_id"].isna().sum()),
        "cancelled_orders": int((orders["status"] == "cancelled").sum()),
        "returned_orders": int((orders["status"] == "returned").sum()),
        "orders_by_status": {str(k): int(v) for k, v in
                             orders["status"].value_counts().sort_index().items()},
        "revenue": float(revenue),
        "customer_ids": "as in the file" if numeric else "numbered in sorted order of codes",
        "dst_gap_moved_forward": info["dst_gap_moved_forward"],
        "dst_fold_kept_as_written": info["dst_fold_kept_as_written"],
    }


def _codes(good: pd.DataFrame, mapping: OrderLogMapping,
           numeric: bool) -> dict[str, pd.DataFrame]:
    """Codes the dataset's integer ids replace, kept beside it, never lost."""
    kept = {}
    if not numeric:
        known = good[good["_customer"] != ""]
        kept["customer_codes"] = (known[["_customer", "customer_id"]].drop_duplicates()
                                   .rename(columns={"_customer": "code"})
                                   .sort_values("customer_id").reset_index(drop=True))
    if "order" in mapping.columns:
        pairs = pd.DataFrame({"code": good["_order"], "order_id": good["order_id"]})
        pairs = pairs.drop_duplicates().sort_values("order_id").reset_index(drop=True)
        if (pairs["code"] != pairs["order_id"].astype(str)).any():
            kept["order_codes"] = pairs
    return kept
