"""Import Shopify's orders export (and, optionally, its customers and products exports).

The orders export has one row per line item; the order's own fields fill
only the first row of each order (``Name`` is the order number). Times carry
a UTC offset and become the shop's local time (summer time included).
Financial and fulfilment statuses and the payment gateway are mapped to the
canonical values; anything the mapping does not know is kept as ``other``
and counted in the report, never guessed.

Customers are recognised by e-mail (by phone when an order has no e-mail);
with the customers export they keep Shopify's ``Customer ID`` and its
address, consents and phone; without it they are built from the billing
fields of their orders. A Shopify customer record has no signup date, segment
or call consent: those stay empty (consent: not given).

>>> import pathlib, tempfile
>>> from crmkit.dataset.synth import generate
>>> from crmkit.dataset.shopify import write_shopify
>>> shop = generate("bendita", n_customers=60, seed=5)
>>> files = write_shopify(shop, pathlib.Path(tempfile.mkdtemp()))
>>> result = import_shopify(files["orders"], customers=files["customers"],
...                         products=files["products"], shop_name="Bendita")
>>> result.balanced, len(result.data.orders) == len(shop.orders)
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandas.api.extensions import ExtensionArray

from ..dataset.crmdata import CRMData
from ..dataset.money import minor_digits, parse_money, to_decimal
from ..dataset.schema import conform
from ..dataset.shopify import GATEWAYS
from ..errors import SourceError
from .dates import parse_times
from .numbers import parse_numbers
from .quarantine import (
    QUARANTINE_COLUMNS,
    ImportResult,
    broken_rows,
    file_report,
    problem_rows,
    quarantine_rows,
    validate_rows,
)
from .steps import Batch, exact_total, line_cents, manifest
from .table import LINE, TextTable, check_shop, read_text_table

__all__ = ["import_shopify", "map_status", "map_payment", "shop_zone", "ORDER_REQUIRED",
           "CHANNELS"]

#: The orders export's columns the importer needs; the others are optional.
ORDER_REQUIRED = ("Name", "Email", "Created at", "Lineitem quantity", "Lineitem price")

_PAYMENT_WORDS = (
    ("gift", "other"), ("paypal", "paypal"), ("cash on delivery", "cash_on_delivery"),
    ("(cod)", "cash_on_delivery"),
    ("contra reembolso", "cash_on_delivery"), ("bank", "transfer"), ("transfer", "transfer"),
    ("shopify payments", "card"), ("stripe", "card"), ("card", "card"), ("tarjeta", "card"),
    ("cash", "cash"), ("efectivo", "cash"),
)
_REVERSE_GATEWAYS = {v.casefold(): k for k, v in GATEWAYS.items()}


def map_payment(gateway: str) -> str | None:
    """Shopify's ``Payment Method`` text -> canonical method; ``other`` if unknown.

    >>> [map_payment(g) for g in ["Shopify Payments", "PayPal Express Checkout",
    ...                           "Cash on Delivery (COD)", "gift_card", ""]]
    ['card', 'paypal', 'cash_on_delivery', 'other', None]
    """
    text = str(gateway or "").strip().casefold()
    if not text:
        return None
    if text in _REVERSE_GATEWAYS:
        return _REVERSE_GATEWAYS[text]
    for word, method in _PAYMENT_WORDS:
        if word in text:
            return method
    return "other"


def map_status(financial: str, fulfillment: str, cancelled: bool) -> str:
    """Shopify's financial and fulfilment status -> one canonical order status.

    >>> map_status("paid", "fulfilled", False), map_status("refunded", "fulfilled", False)
    ('shipped', 'returned')
    >>> map_status("voided", "", True), map_status("pending", "unfulfilled", False)
    ('cancelled', 'placed')
    >>> map_status("expired", "", False)
    'other'
    """
    fin = str(financial or "").strip().casefold()
    ful = str(fulfillment or "").strip().casefold()
    if cancelled:
        return "cancelled"
    if fin == "refunded":
        return "returned"
    if fin in ("paid", "partially_refunded", "partially_paid", "pending", "authorized"):
        if ful in ("fulfilled", "shipped"):
            return "shipped"
        if ful in ("", "unfulfilled", "partial", "pending", "restocked"):
            return "paid" if fin.startswith(("paid", "partially")) else "placed"
    return "other"


#: The zone of a Shopify export whose offsets are Madrid's (the course's shops).
DEFAULT_ZONE = "Europe/Madrid"


def _offset_text(minutes: int) -> str:
    """``-300`` -> ``'-05:00'``."""
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def shop_zone(created: pd.Series, given: str | None, *,
              where: object = "the orders export") -> tuple[str, str]:
    """The shop's time zone and the report's sentence on it: ``given`` when given, else
    the zone the export's ``Created at`` offsets show (Shopify writes them in the shop's
    zone). Times at Madrid's offset of their day (or no offsets) -> Europe/Madrid (a row
    written at another offset is judged by the order checks); else one fixed offset of
    whole hours -> IANA's fixed zone (``Etc/GMT+5`` is -05:00); other offsets (a zone with
    summer time) cannot name one zone: the shop's zone is asked for.

    >>> shop_zone(pd.Series(["2024-03-31 22:30:00 -0500"]), None)
    ('Etc/GMT+5', "Etc/GMT+5 (the export's offset -05:00 throughout; --timezone names the \
shop's zone)")
    >>> shop_zone(pd.Series(["2024-01-03 17:06:26 +0100", "2024-07-03 09:00 +0200"]), None)[0]
    'Europe/Madrid'
    >>> shop_zone(pd.Series(["2024-01-03 17:06:26 +0100"]), "Europe/Lisbon")
    ('Europe/Lisbon', 'Europe/Lisbon (given)')
    """
    if given:
        return given, f"{given} (given)"
    text = pd.Series(pd.Series(created, dtype="str").str.strip().unique())
    found = text.str.extract(r"([+-])(\d{2}):?(\d{2})$")
    utc = parse_times(text, timezone="UTC").value
    has = found[0].notna() & utc.notna()
    if not has.any():
        return DEFAULT_ZONE, f"{DEFAULT_ZONE} (default: the export's times carry no offset)"
    sign = np.where(found.loc[has, 0] == "-", -1, 1)
    minutes = sign * (found.loc[has, 1].astype(int) * 60 + found.loc[has, 2].astype(int))
    at = utc[has]
    local = at.dt.tz_localize("UTC").dt.tz_convert(DEFAULT_ZONE).dt.tz_localize(None)
    if ((local - at) / pd.Timedelta(minutes=1) == minutes).any():
        return DEFAULT_ZONE, f"{DEFAULT_ZONE} (default: the export's offsets are Madrid's)"
    seen = sorted(set(minutes.tolist()))
    if len(seen) == 1 and seen[0] % 60 == 0:
        hours = -seen[0] // 60  # IANA's Etc zones carry the sign the other way round
        zone = "UTC" if hours == 0 else f"Etc/GMT{hours:+d}"
        return zone, (f"{zone} (the export's offset {_offset_text(seen[0])} throughout; "
                      "--timezone names the shop's zone)")
    raise SourceError(
        f"{where}: its times are written at offsets "
        f"{', '.join(_offset_text(m) for m in seen)}, not Madrid's; "
        "give the shop's time zone with --timezone (an IANA name such as America/New_York) "
        "so that every order keeps its local time.")


def _schema() -> pa.DataFrameSchema:
    lo, hi = pd.Timestamp("1990-01-01"), pd.Timestamp("2100-01-01")
    return pa.DataFrameSchema({
        "placed_at": pa.Column("datetime64[us]", pa.Check.in_range(lo, hi), nullable=False),
        "quantity": pa.Column(float, [pa.Check.in_range(1, 1_000_000),
                                      pa.Check(lambda s: s == np.round(s),
                                               name="not_a_whole_number")], nullable=False),
        "unit_price": pa.Column(float, pa.Check.ge(0), nullable=False),
        "line_discount": pa.Column(float, pa.Check.ge(0), nullable=False),
    }, strict=False)


#: Shopify's ``Source`` -> channel: POS orders were sold in the store, draft orders were
#: created by the staff for a customer on the phone; any other source stays unknown (empty)
#: and is counted in the report.
CHANNELS = {"pos": "store", "web": "web", "": "web", "phone": "phone",
            "shopify_draft_order": "phone"}

#: Fields only an order's first row fills: a row with any of them starts an order.
_HEAD_FIELDS = ("Financial Status", "Id", "Subtotal", "Total", "Currency")
#: Fields every row of one order must agree on (when the row fills them).
_SAME_FIELDS = ("Email", "Created at", "Financial Status", "Id", "Currency", "Subtotal",
                "Total", "Cancelled at")


def _order_rows(raw: pd.DataFrame, name: pd.Series,
                fname: str) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Which first row each row belongs to; rows that cannot belong to one order quarantined.

    Returns (index of the row's order's first row, NA if none; usable mask; quarantine).
    A row whose order's first row is missing (it did not split into the header's fields,
    or another order's rows come in between) is ``order_first_row_missing``; a second
    first row of an order number, or a row whose e-mail, time or status disagrees with
    its order's first row, is ``conflicting_order``, its value naming both lines.
    """
    present = [c for c in _HEAD_FIELDS if c in raw.columns]
    carries = (raw[present].astype("str").apply(lambda c: c.str.strip() != "").any(axis=1)
               if present else ~name.duplicated())
    index = raw.index.to_series()
    head = index.where(carries).ffill()
    head_name = _at(name, head)
    ok = pd.Series(True, index=raw.index)
    out = [pd.DataFrame(columns=QUARANTINE_COLUMNS)]
    orphan = head.isna() | (head_name != name.to_numpy())
    if orphan.any():
        out.append(quarantine_rows(raw, orphan, file=fname, column="Name",
                                   reason="order_first_row_missing", raw=raw))
        ok &= ~orphan
    owner = head.where(~orphan)
    # the order is its number's first head row; a later head row of the number is another order
    order_head = owner.groupby(name).transform("min").where(~orphan)
    for col in [c for c in _SAME_FIELDS if c in raw.columns]:
        mine = _col(raw, col)
        theirs = _at(mine, order_head)
        differ = ok & (mine != "") & (mine != theirs)
        if col == "Created at":  # one instant may be written with another offset; an
            when = parse_times(mine, timezone="UTC").value  # unreadable first row is judged later
            at_head = _at(when, order_head)
            differ &= when.notna() & pd.notna(at_head) & (when.to_numpy() != at_head)
        if differ.any():
            lines = _at(raw[LINE], order_head)[differ.to_numpy()]
            out.append(pd.DataFrame({
                "file": fname, "line": raw.loc[differ, LINE].to_numpy(), "column": col,
                "reason": "conflicting_order",
                "value": [f"{v!r} where line {ln} of order {n} says {t!r}" for v, ln, n, t in
                          zip(mine[differ], lines, name[differ], theirs[differ.to_numpy()],
                              strict=True)]}))
            ok &= ~differ
    # a later head row that agrees with the first on every field is the order written twice
    again = ok & carries & (owner != order_head)
    if again.any():
        out.append(quarantine_rows(raw, again, file=fname, column="Name",
                                   reason="order_written_twice", raw=raw))
        ok &= ~again
    # rows of a second (conflicting) head go with it
    follow = ok & ~_at(ok, owner, missing=False).astype(bool)
    if follow.any():
        out.append(_whole_order(raw, follow, owner, fname, "conflicting_order"))
        ok &= ~follow
    bad = pd.concat(out, ignore_index=True) if len(out) > 1 else out[0]
    return order_head.where(ok), ok, bad


def _at(values: pd.Series, rows: pd.Series, missing: object = None) -> np.ndarray:
    """``values`` at the row positions ``rows`` (float, NaN for none) -> array (``missing``)."""
    pos = rows.to_numpy(dtype="float64")
    has = ~np.isnan(pos)
    out = np.full(len(pos), missing, dtype=object)
    out[has] = values.to_numpy()[pos[has].astype("int64")]
    return out


def _lose_with_first_row(ok: pd.Series, first: pd.Series, owner: pd.Series, raw: pd.DataFrame,
                         fname: str) -> tuple[pd.Series, pd.DataFrame]:
    """Rows whose order's first row is not usable go with it (``order_first_row_quarantined``)."""
    lost = ok & ~first & ~_at(ok, owner, missing=False).astype(bool)
    if not lost.any():
        return ok, pd.DataFrame(columns=QUARANTINE_COLUMNS)
    return ok & ~lost, _whole_order(raw, lost, owner, fname, "order_first_row_quarantined")


def _whole_order(raw: pd.DataFrame, mask: pd.Series, owner: pd.Series, fname: str,
                 reason: str) -> pd.DataFrame:
    """Quarantine entries for rows lost with their order's first row (named by its line)."""
    lines = _at(raw[LINE], owner)[np.asarray(mask, dtype=bool)]
    return pd.DataFrame({"file": fname, "line": raw.loc[mask, LINE].to_numpy(),
                         "column": "Name", "reason": reason,
                         "value": [f"{n} (its first row, line {ln}, is not usable)"
                                   for n, ln in zip(raw.loc[mask, "Name"], lines, strict=True)]})


def _col(raw: pd.DataFrame, name: str, rows: pd.Series | None = None) -> pd.Series:
    """Column ``name`` stripped ("" where the file lacks it), at ``rows`` (a mask) if given.

    Selecting the rows of the one column (not of the whole export first) keeps a wide
    export from being copied for each column read.
    """
    if name in raw.columns:
        col = raw[name] if rows is None else raw[name][rows]
        return col.astype("str").str.strip()
    index = raw.index if rows is None else raw.index[np.asarray(rows, dtype=bool)]
    return pd.Series("", index=index, dtype="str")


def _narrow(raw: pd.DataFrame, rows: pd.Series, columns: Iterable[str]) -> pd.DataFrame:
    """The rows ``rows`` (a mask) of those of ``columns`` the file has, and its line numbers."""
    keep = [LINE] + [c for c in dict.fromkeys(columns) if c in raw.columns and c != LINE]
    return raw.loc[np.asarray(rows, dtype=bool), keep]


def _read(path: str | Path, encoding: str | None, required: Iterable[str], what: str,
          columns: frozenset[str] | None = None) -> TextTable:
    table = read_text_table(path, encoding=encoding, delimiter=",", columns=columns)
    missing = [c for c in required if c not in table.frame.columns]
    if missing:
        raise SourceError(
            f"{path}: the Shopify {what} export has no column(s) "
            f"{', '.join(repr(m) for m in missing)}; export it again from Shopify "
            f"(Orders > Export > CSV for Excel, Numbers...)." if what == "orders" else
            f"{path}: the Shopify {what} export has no column(s) "
            f"{', '.join(repr(m) for m in missing)}.")
    return table


def import_shopify(orders: str | Path, *, customers: str | Path | None = None,
                   products: str | Path | None = None, shop_name: str | None = None,
                   currency: str | None = None, timezone: str | None = None,
                   encoding: str | None = None) -> ImportResult:
    """Import Shopify exports into a ``CRMData``; return it with its report and quarantine.

    Parameters
    ----------
    orders : the orders export (``orders_export.csv``).
    customers, products : the customers and products exports, if at hand.
    shop_name : the shop's name (titles and report folders use it).
    currency : ISO code; read from the export's ``Currency`` column when not given.
    timezone : the shop's IANA time zone, for local times; by default the zone the
        export's offsets show (:func:`shop_zone`).
    """
    check_shop(currency=currency, timezone=timezone or "UTC")
    otable = _read(orders, encoding, ORDER_REQUIRED, "orders", _ORDER_READ)  # read, split
    timezone, zone_note = shop_zone(_col(otable.frame, "Created at"), timezone, where=orders)
    if currency is None:
        cur = _col(otable.frame, "Currency")
        currency = cur[cur != ""].mode().iloc[0] if (cur != "").any() else "EUR"
    rows = _parse_order_rows(otable, timezone)                          # parse columns
    _check_order_rows(rows)                                             # validate
    _line_money(rows, str(currency))                                    # money, exact
    money = _order_money(rows, str(currency))                           # order-level money
    people = _identify(rows, customers, encoding)                       # who bought
    order_tab, order_of, heads = _orders_table(rows, timezone, currency)  # assemble tables
    lines = _lines_table(rows, order_of, str(currency))
    tables: dict[str, pd.DataFrame] = {}
    ptable, prod_df, pbad = (_products(products, encoding) if products is not None else
                             (None, pd.DataFrame(columns=["product_id", "sku"]),
                              pd.DataFrame(columns=QUARANTINE_COLUMNS)))
    prod_df, lines["product_id"] = _sold_products(rows, prod_df)
    if len(prod_df):
        tables["products"] = conform("products", prod_df, currency=currency)
    cust_df = _customers(people.table, rows.batch.raw, people.key,
                         rows.batch.parsed["customer_id"], rows.first, rows.batch.ok,
                         people.unknown)
    if cust_df is not None:
        tables["customers"] = conform("customers", cust_df, currency=currency)
    tables["orders"] = conform("orders", order_tab, currency=currency)
    tables["order_lines"] = conform("order_lines", lines, currency=currency)
    taxes = _taxes_included(heads, str(currency))
    data = CRMData(tables, manifest(shop_name or "Shopify shop", str(currency), timezone,
                                    "shopify", tables["orders"])
                   | {"taxes_included": taxes["taxes_included"]}).validate()
    bad = pd.concat([rows.batch.quarantine(), people.quarantine, pbad,
                     *[broken_rows(t) for t in (people.table, ptable) if t is not None]],
                    ignore_index=True)[QUARANTINE_COLUMNS]
    bad = bad.sort_values(["file", "line", "column"], kind="stable").reset_index(drop=True)
    reports = [rows.batch.report(bad)]
    for table in (people.table, ptable):
        if table is not None:
            reports.append(file_report(table.path.name, table.rows_read, bad))
    notes = (_notes(tables, heads, people, str(currency)) | money | taxes
             | rows.batch.reading_notes())
    notes |= {"timezone": zone_note,
              "dst_gap_moved_forward": rows.dst[0], "dst_fold_kept_as_written": rows.dst[1]}
    src: dict[str, object] = {
        "kind": "shopify", "orders": str(orders), "customers": str(customers or ""),
        "products": str(products or ""), "encoding": otable.encoding}
    kept = {}
    codes = rows.name[rows.first & rows.batch.ok]
    if not codes.str.fullmatch(r"#?\d{1,18}").all():  # order names that are not "#1001"
        kept["order_codes"] = pd.DataFrame({"code": codes.to_numpy(),
                                            "order_id": order_tab["order_id"].to_numpy()})
    return ImportResult(data, pd.DataFrame(reports), bad, notes, src, kept)


@dataclass
class _OrderRows:
    """The orders export on its way: the batch, each row's order number and first row."""

    batch: Batch
    name: pd.Series
    owner: pd.Series     # position of the row's order's first row (NaN: none)
    first: pd.Series     # the row is its order's first row
    problems: dict[str, pd.Series]
    dst: tuple[int, int]     # local times moved on by a spring gap, kept in an autumn fold


def _parse_order_rows(otable: TextTable, timezone: str) -> _OrderRows:
    """Split the rows into orders, then parse the columns the importer needs."""
    raw, fname = otable.frame, otable.path.name
    name = _col(raw, "Name")
    owner, ok, bad_order = _order_rows(raw, name, fname)
    first = owner == raw.index.to_series()
    where = f"{fname}, column {{!r}}".format
    # the order's time is on its first row; its other rows take it from there
    times = parse_times(_col(raw, "Created at").where(first, ""), timezone=timezone,
                        where=where("Created at"))
    qty = parse_numbers(raw["Lineitem quantity"], where=where("Lineitem quantity"))
    price = parse_numbers(raw["Lineitem price"], where=where("Lineitem price"))
    disc_text = _col(raw, "Lineitem discount")
    disc = parse_numbers(disc_text.where(disc_text != "", "0"), where=where("Lineitem discount"))
    parsed = pd.DataFrame({
        "placed_at": pd.Series(_at(times.value, owner), index=raw.index).astype(
            "datetime64[us]"),
        "quantity": qty.value, "unit_price": price.value, "line_discount": disc.value,
        "_price_text": price.text})
    batch = Batch.start(otable, parsed)
    batch.add(bad_order)
    batch.ok &= ok
    problems = {"placed_at": times.problem.where(first), "quantity": qty.problem,
                "unit_price": price.problem, "line_discount": disc.problem}
    return _OrderRows(batch, name, owner, first, problems, (times.dst_gap, times.dst_fold))


_SOURCES = {"placed_at": "Created at", "quantity": "Lineitem quantity",
            "unit_price": "Lineitem price", "line_discount": "Lineitem discount"}


def _check_order_rows(rows: _OrderRows) -> None:
    """Values, then the export's rules; an order whose first row goes, goes whole."""
    batch = rows.batch
    readable, bad = problem_rows(batch.parsed[batch.ok],
                                 {k: v[batch.ok] for k, v in rows.problems.items()},
                                 file=batch.file,
                                 raw=_narrow(batch.raw, batch.ok, _SOURCES.values()),
                                 source_columns=_SOURCES)
    batch.add(bad)
    # an order whose first row is unusable is quarantined whole: its other rows cannot say
    # when it was placed, by whom or in what state
    batch.ok, lost = _lose_with_first_row(batch.ok, rows.first, rows.owner, batch.raw,
                                          batch.file)
    batch.add(lost)
    batch.check({}, _schema(), sources=_SOURCES)
    batch.reject(rows.name == "", column="Name", reason="empty order number")
    gross = batch.parsed["quantity"] * batch.parsed["unit_price"]
    batch.reject(batch.parsed["line_discount"] > gross + 0.005, column="Lineitem discount",
                 reason="discount larger than the line")
    batch.ok, lost = _lose_with_first_row(batch.ok, rows.first, rows.owner, batch.raw,
                                          batch.file)
    batch.add(lost)


def _line_money(rows: _OrderRows, currency: str) -> None:
    """Each usable line's ``amount_cents``, exactly from the export's text: Lineitem price x
    Lineitem quantity - Lineitem discount, Shopify's own definition of a line's net."""
    batch = rows.batch
    ok, raw = batch.ok, batch.raw
    disc = _col(raw, "Lineitem discount", ok)
    cents, problem = line_cents(batch.parsed.loc[ok, "_price_text"],
                                batch.parsed.loc[ok, "quantity"], currency=currency,
                                discount_text=disc.where(disc != "", "0"))
    batch.parsed["_amount_cents"] = pd.Series(pd.NA, index=raw.index, dtype="Int64")
    batch.parsed.loc[ok, "_amount_cents"] = cents.to_numpy()
    bad = pd.Series(False, index=raw.index)
    bad[ok] = problem.notna().to_numpy()
    batch.reject(bad, column="Lineitem price", reason="too_many_decimals")
    batch.ok, lost = _lose_with_first_row(batch.ok, rows.first, rows.owner, raw, batch.file)
    batch.add(lost)


def _head_money(rows: _OrderRows, column: str, currency: str) -> tuple[pd.Series, pd.Series]:
    """A money field of each order's first row, exactly: (Int64 cents, problem or None)."""
    batch = rows.batch
    head = rows.first & batch.ok
    num = parse_numbers(_col(batch.raw, column).where(head, ""),
                        where=f"{batch.file}, column {column!r}")
    cents, problem = parse_money(num.text, currency=currency)
    reason = num.problem.where(num.problem != "empty").astype(object)
    reason = reason.where(reason.notna(), problem.astype(object))
    return cents, reason.where(reason.notna(), None)


def _order_money(rows: _OrderRows, currency: str) -> dict[str, object]:
    """Order-level money from each order's first row, exactly: the order-level discount
    shared over its lines, refunds (goods only) and taxes. Returns the decisions made.

    The order-level discount is ``Discount Amount`` less the lines' own ``Lineitem
    discount``; it is shared over the lines in proportion to their nets by
    :func:`crmkit.dataset.money.allocate` (the leftover cents to the largest line), so the
    lines' ``amount_cents`` add up to what the order cost. A ``refunded`` order gave back
    all its goods (its lines' amounts); a ``partially_refunded`` one its ``Refunded
    Amount``. An order whose discount or refund cannot be kept as written is quarantined
    whole, its first row saying why: a bad money value, a ``Discount Amount`` below the
    lines' discounts or above their nets, a partial refund above its goods or without an
    amount, or an order-level amount while one of its lines was quarantined (the amount
    cannot be shared over lines that are missing).
    """
    batch, raw = rows.batch, rows.batch.raw
    fin = _col(raw, "Financial Status").str.casefold()
    values = {c: _head_money(rows, c, currency) for c in
              ("Discount Amount", "Refunded Amount", "Taxes")}
    for col, (_, problem) in values.items():
        for reason in problem.dropna().unique():  # the parser's own code as the reason
            batch.reject(problem == reason, column=col, reason=str(reason))
    _lose_orders(rows)
    discount, refund = values["Discount Amount"][0], values["Refunded Amount"][0]
    per = _per_order(rows, currency)
    head = per.index
    amount, level = discount.reindex(head), per["own_discount"]
    level = (amount - level).where(amount.notna(), 0).astype("int64")
    partial = fin.reindex(head) == "partially_refunded"
    refund_asked = refund.reindex(head)
    checks = [
        (level < 0, "Discount Amount", "Discount Amount smaller than the lines' discounts"),
        (level > per["net"], "Discount Amount", "discount larger than the order"),
        (partial & refund_asked.isna(), "Refunded Amount",
         "partially_refunded without an amount"),
        (partial & (refund_asked > per["net"]).fillna(False), "Refunded Amount",
         "refund larger than the goods"),
        (((level != 0) | partial) & (per["kept"] < per["rows"]), "Name",
         "order_line_quarantined"),
    ]
    for bad, col, reason in checks:
        mask = pd.Series(False, index=raw.index)
        mask[bad[bad].index] = True
        batch.reject(mask, column=col, reason=reason)
    _lose_orders(rows)
    per = _per_order(rows, currency)
    head = per.index
    level = (discount.reindex(head) - per["own_discount"]).where(
        discount.reindex(head).notna(), 0).astype("int64")
    ok_owner = rows.owner[batch.ok].astype("int64")
    amounts = batch.parsed["_amount_cents"]
    amounts[batch.ok] = amounts[batch.ok].astype("int64") - _shares(
        level, ok_owner, amounts[batch.ok].astype("int64"))
    batch.parsed["_amount_cents"] = amounts
    goods = amounts[batch.ok].astype("int64").groupby(ok_owner).sum().reindex(head)
    status = fin.reindex(head)
    refunded = np.where(status == "refunded", goods,
                        np.where(status == "partially_refunded",
                                 refund.reindex(head).fillna(0), 0)).astype("int64")
    for col, val in (("_discount_cents", level), ("_refunded_cents", refunded),
                     ("_tax_cents", values["Taxes"][0].reindex(head))):
        batch.parsed[col] = pd.Series(pd.NA, index=raw.index, dtype="Int64")
        batch.parsed.loc[head, col] = pd.array(np.asarray(val, dtype=object), dtype="Int64")
    subtotal = _head_money(rows, "Subtotal", currency)[0].reindex(head)
    differs = subtotal.notna() & (subtotal != goods).fillna(False)
    unused = ~status.isin(["refunded", "partially_refunded"]) & (
        refund.reindex(head).fillna(0) > 0)
    return {
        "orders_with_order_discount": int((level > 0).sum()),
        "order_discount_cents": int(level.sum()),
        "refunded_orders": int((status == "refunded").sum()),
        "partially_refunded_orders": int((status == "partially_refunded").sum()),
        "refunded_goods_cents": int(refunded.sum()),
        "refunded_amount_not_used_orders": int(unused.sum()),
        # orders whose lines do not add up to the export's Subtotal: counted, first examples
        "subtotal_differs_orders": int(differs.sum()),
        "subtotal_differs_examples": rows.name[differs[differs].index].head(5).tolist(),
    }


def _shares(level: pd.Series, owner: pd.Series, nets: pd.Series) -> np.ndarray:
    """Each line's share of its order's ``level`` cents, by the rule of
    :func:`crmkit.dataset.money.allocate` (floor of the proportional share, the cents left
    over to the largest line, first of equals), for every order at once.

    >>> from crmkit.dataset.money import allocate
    >>> weights = [1000, 2000, 3000, 3000]
    >>> got = _shares(pd.Series([101]), pd.Series([0, 0, 0, 0]), pd.Series(weights))
    >>> got.tolist(), allocate(101, weights).tolist()
    ([11, 22, 35, 33], [11, 22, 35, 33])
    """
    total = level.reindex(owner.to_numpy()).fillna(0).to_numpy(dtype="int64")
    w = nets.to_numpy(dtype="int64")
    whole = nets.groupby(owner.to_numpy()).transform("sum").to_numpy(dtype="int64")
    share = np.where(whole > 0, total * w // np.where(whole > 0, whole, 1), 0)
    left = total - pd.Series(share).groupby(owner.to_numpy()).transform("sum").to_numpy()
    largest = pd.Series(w).groupby(owner.to_numpy()).idxmax().to_numpy()  # first of equals
    share[largest] += left[largest]
    return share


def _lose_orders(rows: _OrderRows) -> None:
    """Rows whose order's first row was just quarantined go with it."""
    batch = rows.batch
    batch.ok, lost = _lose_with_first_row(batch.ok, rows.first, rows.owner, batch.raw,
                                          batch.file)
    batch.add(lost)


def _per_order(rows: _OrderRows, currency: str) -> pd.DataFrame:
    """Per usable order (index: its first row): rows in the file, rows kept, the kept lines'
    nets and own discounts in cents."""
    batch, ok = rows.batch, rows.batch.ok
    owner = rows.owner[ok].astype("int64")
    disc = _col(batch.raw, "Lineitem discount", ok)
    own, _ = parse_money(disc.where(disc != "", "0"), currency=currency)
    per = pd.DataFrame({
        "net": batch.parsed.loc[ok, "_amount_cents"].astype("int64").to_numpy(),
        "own_discount": own.fillna(0).astype("int64").to_numpy(), "kept": 1},
        index=owner.index).groupby(owner.to_numpy()).sum()
    every = rows.owner.dropna().astype("int64").value_counts()
    per["rows"] = every.reindex(per.index).fillna(0).astype("int64")
    return per


def _taxes_included(heads: pd.DataFrame, currency: str) -> dict[str, bool | int | None]:
    """Whether the export's amounts include taxes, as its totals say: ``Total`` =
    ``Subtotal`` + ``Shipping`` (included) or that + ``Taxes`` (added). ``None`` when
    no order with taxes tells, or the orders disagree; each count is reported."""
    def cents(col: str) -> pd.Series:
        return parse_money(parse_numbers(_col(heads, col)).text, currency=currency)[0]

    total, sub, ship, tax = (cents(c) for c in ("Total", "Subtotal", "Shipping", "Taxes"))
    told = total.notna() & sub.notna() & (tax.fillna(0) > 0)
    base = sub + ship.fillna(0)
    inc = int((told & (total == base).fillna(False)).sum())
    added = int((told & (total == base + tax).fillna(False)).sum())
    decided = True if inc and not added else False if added and not inc else None
    return {"taxes_included": decided, "orders_taxes_included": inc,
            "orders_taxes_added": added, "orders_taxes_undecided": int(told.sum()) - inc - added}


@dataclass
class _People:
    key: pd.Series           # e-mail (or tel:phone) of each row's order
    table: TextTable | None  # the customers export, if given
    unknown: list[str]       # keys of buyers not in the customers export
    shared: dict[str, list[int]]  # e-mail -> the Customer IDs that share it
    quarantine: pd.DataFrame


def _identify(rows: _OrderRows, customers: str | Path | None,
              encoding: str | None) -> _People:
    """Who bought each order: by e-mail (phone without one); the Customer ID decides."""
    raw, name, ok = rows.batch.raw, rows.name, rows.batch.ok
    email = _col(raw, "Email").str.casefold()
    email = email.where(email != "").groupby(name).transform("first").fillna("")
    phone = _col(raw, "Phone").where(_col(raw, "Phone") != "", _col(raw, "Billing Phone"))
    phone = phone.where(phone != "").groupby(name).transform("first").fillna("")
    key = email.where(email != "", ("tel:" + phone).where(phone != "", ""))
    if customers is None:
        keys = key[(key != "") & ok]
        order_of_first = keys.groupby(keys, sort=False).head(1)
        lookup = {k: i for i, k in enumerate(order_of_first, 1)}
        rows.batch.parsed["customer_id"] = key.map(lookup).astype("Int64").array
        return _People(key, None, [], {}, pd.DataFrame(columns=QUARANTINE_COLUMNS))
    ctable = _read(customers, encoding, ("Email",), "customers")
    ctable.frame = _current_customer_columns(ctable.frame)
    craw = ctable.frame
    cid = parse_numbers(craw["Customer ID"]).value
    cparsed = pd.DataFrame({LINE: craw[LINE], "customer_id": cid})
    cok, cust_bad = validate_rows(cparsed, pa.DataFrameSchema({
        "customer_id": pa.Column(float, [pa.Check.ge(1), pa.Check(
            lambda s: ~s.duplicated(keep="first"), name="duplicated")], nullable=False)}),
        file=ctable.path.name, raw=craw, source_columns={"customer_id": "Customer ID"})
    craw = craw[cok]
    ckey = _col(craw, "Email").str.casefold()
    cphone = _col(craw, "Phone").where(_col(craw, "Phone") != "",
                                       _col(craw, "Default Address Phone"))
    ckey = ckey.where(ckey != "", ("tel:" + cphone).where(cphone != "", ""))
    # the Customer ID is who a customer is: an e-mail written under two IDs is reported
    # and leads to the first of them (in the file's order), never moves an order
    pairs = pd.DataFrame({"key": ckey, "id": cid[cok].astype("int64")})
    pairs = pairs[pairs["key"] != ""]
    shared = _shared_keys(pairs)
    lookup = dict(pairs.drop_duplicates("key", keep="first").to_numpy())
    customer_id = key.map(lookup)
    # an e-mail typed at checkout that no customer record has is a guest checkout: the
    # order stays a guest order (no customer is made up for it)
    unknown = sorted(set(key[(key != "") & customer_id.isna() & ok]))
    rows.batch.parsed["customer_id"] = customer_id.astype("Int64").array
    return _People(key, ctable, unknown, shared, cust_bad)


#: The first-row fields read from the orders' first rows (``heads``): by
#: :func:`_orders_table`, :func:`_taxes_included` and :func:`_notes`.
_HEAD_READ = ("Financial Status", "Fulfillment Status", "Cancelled at", "Source", "Paid at",
              "Fulfilled at", "Payment Method", "Shipping", "Discount Code", "Refunded Amount",
              "Total", "Subtotal", "Taxes")


#: The billing fields a buyer without a customers record is built from (:func:`_customers`).
_BILLING_READ = ("Billing Name", "Billing Address1", "Billing Street", "Billing City",
                 "Billing Zip", "Billing Country", "Email", "Billing Phone", "Accepts Marketing")
#: Every column of the orders export the importer reads; the others (shipping address,
#: notes, tags, the five taxes...) are never built (a wide export holds them all twice).
_ORDER_READ = frozenset((*ORDER_REQUIRED, *_HEAD_FIELDS, *_SAME_FIELDS, *_HEAD_READ,
                         *_BILLING_READ, "Name", "Created at", "Lineitem quantity",
                         "Lineitem price", "Lineitem discount", "Lineitem sku", "Lineitem name",
                         "Vendor", "Discount Amount", "Refunded Amount", "Taxes", "Subtotal",
                         "Email", "Phone", "Billing Phone", "Currency", "Financial Status"))


def _shared_keys(pairs: pd.DataFrame) -> dict[str, list[int]]:
    """Each key written under more than one id -> its ids, sorted (keys in sorted order).

    >>> _shared_keys(pd.DataFrame({"key": ["b", "a", "b", "a", "c", "b"],
    ...                            "id": [3, 1, 2, 1, 5, 3]}))
    {'b': [2, 3]}
    """
    distinct = pairs.drop_duplicates(["key", "id"])
    many = distinct[distinct["key"].duplicated(keep=False)].sort_values(["key", "id"])
    return {str(k): [int(i) for i in v] for k, v in many.groupby("key", sort=True)["id"]}


def _orders_table(rows: _OrderRows, timezone: str, currency: str
                  ) -> tuple[pd.DataFrame, dict[str, int], pd.DataFrame]:
    """One order per usable first row; returns (orders, number -> id, the first rows)."""
    use = rows.first & rows.batch.ok
    heads, g = _narrow(rows.batch.raw, use, _HEAD_READ), rows.batch.parsed[use]
    numbers = rows.name[use].str.replace(r"^#", "", regex=True)
    if numbers.str.fullmatch(r"\d{1,18}").all():
        order_id = numbers.astype("int64")
    else:
        order_id = pd.Series(np.arange(1, len(numbers) + 1), index=numbers.index)
    status = pd.Series([map_status(a, b, c != "") for a, b, c in zip(
        _col(heads, "Financial Status"), _col(heads, "Fulfillment Status"),
        _col(heads, "Cancelled at"), strict=True)], index=heads.index)
    channel = _col(heads, "Source").str.casefold().map(CHANNELS)
    times = {k: parse_times(_col(heads, col), timezone=timezone).value
             for k, col in (("paid_at", "Paid at"), ("shipped_at", "Fulfilled at"),
                            ("cancelled_at", "Cancelled at"))}
    table = pd.DataFrame({
        "order_id": order_id.to_numpy(),
        "customer_id": g["customer_id"].to_numpy(),
        "placed_at": g["placed_at"].to_numpy(),
        "channel": channel.to_numpy(),
        "status": status.to_numpy(),
        "paid_at": times["paid_at"].to_numpy(),
        "shipped_at": times["shipped_at"].to_numpy(),
        "delivered_at": pd.NaT,
        "cancelled_at": times["cancelled_at"].to_numpy(),
        "returned_at": pd.NaT,
        "payment_method": _col(heads, "Payment Method").map(map_payment).to_numpy(),
        "shipping_cost": parse_numbers(_col(heads, "Shipping")).value.to_numpy(),
        "shipping_cents": parse_money(parse_numbers(_col(heads, "Shipping")).text,
                                      currency=currency)[0].array,
        "discount_code": _col(heads, "Discount Code").replace("", None).to_numpy(),
        "campaign_id": pd.NA,
        "discount_cents": g["_discount_cents"].array,
        "refunded_cents": g["_refunded_cents"].array,
        "tax_cents": g["_tax_cents"].array,
    })
    return table, dict(zip(rows.name[use], order_id, strict=True)), heads


def _lines_table(rows: _OrderRows, order_of: dict[str, int], currency: str) -> pd.DataFrame:
    """One order line per usable row."""
    good = rows.batch.parsed[rows.batch.ok]
    oid = rows.name[rows.batch.ok].map(order_of).astype("int64")
    qty = good["quantity"].astype("int64")
    return pd.DataFrame({
        "order_id": oid.to_numpy(),
        "line_number": oid.groupby(oid).cumcount().to_numpy() + 1,
        "product_id": pd.NA,
        "quantity": qty.to_numpy(),
        "unit_price": good["unit_price"].to_numpy(),
        # informational: the share of the line's price it did not cost (all its discounts)
        "discount": np.clip(np.where(qty * good["unit_price"] > 0, 1 - good[
            "_amount_cents"].astype("float64") / 10 ** minor_digits(currency)
            / (qty * good["unit_price"]), 0.0), 0.0, 1.0),
        "amount_cents": good["_amount_cents"].astype("Int64").array,
    })


def _sold_products(rows: _OrderRows,
                   prod_df: pd.DataFrame) -> tuple[pd.DataFrame, ExtensionArray]:
    """Products: the export's, plus SKUs sold but not in it (with what the lines say)."""
    lraw = _narrow(rows.batch.raw, rows.batch.ok, ("Lineitem sku", "Lineitem name", "Vendor"))
    sku = _col(lraw, "Lineitem sku")
    sku = sku.where(sku != "", _col(lraw, "Lineitem name"))
    # what the line items say of each SKU: its first name and vendor as written
    said = {k: _col(lraw, col).replace("", None).groupby(sku).first()
            for k, col in (("name", "Lineitem name"), ("brand", "Vendor"))}
    pid = dict(zip(prod_df["sku"], prod_df["product_id"], strict=True))
    new_skus = sorted(set(sku[sku != ""]) - set(pid))
    if new_skus:
        start = int(prod_df["product_id"].max() if len(prod_df) else 0) + 1
        add = pd.DataFrame({
            "product_id": np.arange(start, start + len(new_skus)), "sku": new_skus,
            "name": [said["name"].get(s) or s for s in new_skus],
            "department": None, "category": None, "subcategory": None,
            "brand": [said["brand"].get(s) for s in new_skus],
            "unit_cost": np.nan, "list_price": np.nan})
        prod_df = add if prod_df.empty else pd.concat([prod_df, add], ignore_index=True)
        pid.update(dict(zip(add["sku"], add["product_id"], strict=True)))
    return prod_df, pd.array(sku.map(pid).to_numpy(), dtype="Int64")


def _notes(tables: dict[str, pd.DataFrame], heads: pd.DataFrame, people: _People,
           currency: str) -> dict[str, object]:
    o, lines = tables["orders"], tables["order_lines"]
    value = lines["amount_cents"].astype("int64").groupby(lines["order_id"]).sum()
    live = o.loc[~o["status"].isin(["cancelled"]), "order_id"]
    back = o.set_index("order_id")["refunded_cents"].fillna(0).astype("int64")
    source = _col(heads, "Source").str.casefold()
    fin, ful = _col(heads, "Financial Status"), _col(heads, "Fulfillment Status")
    status = [map_status(a, b, c != "") for a, b, c in
              zip(fin, ful, _col(heads, "Cancelled at"), strict=True)]
    pay_text = _col(heads, "Payment Method")
    payment = pay_text.map(map_payment)
    return {
        "orders": len(o), "order_lines": len(lines),
        "buyers": int(o["customer_id"].nunique()),
        "guest_orders": int(o["customer_id"].isna().sum()),
        "cancelled_orders": int((o["status"] == "cancelled").sum()),
        "returned_orders": int((o["status"] == "returned").sum()),
        # what the orders not cancelled brought in, net of refunds (full and partial)
        "revenue": float(to_decimal(int(value.reindex(live).fillna(0).sum())
                                    - int(back.reindex(live).sum()), currency)),
        "refunded_amount": float(exact_total(parse_numbers(
            _col(heads, "Refunded Amount")).text.dropna())),
        "status_other": int((o["status"] == "other").sum()),
        "status_other_values": sorted({f"{a}/{b}" for a, b, s in
                                       zip(fin, ful, status, strict=True) if s == "other"}),
        "payment_other": int((o["payment_method"] == "other").sum()),
        "payment_other_values": sorted(set(pay_text[payment == "other"])),
        "customers_not_in_customers_export": len(people.unknown),
        # guest checkouts: an e-mail (or phone) no customer record has; orders with neither
        # cannot say who bought (a walk-in, or a customer record without contact details)
        "guest_checkout_orders": int(((people.key[heads.index] != "").to_numpy()
                                      & o["customer_id"].isna().to_numpy()).sum()),
        "orders_without_email_or_phone": int((people.key[heads.index] == "").sum()),
        "channel_unknown_values": sorted(set(source[~source.isin(list(CHANNELS))])),
        "orders_by_channel": {str(k): int(v) for k, v in
                              o["channel"].fillna("unknown").value_counts().sort_index().items()},
        "emails_shared_by_customer_ids": people.shared,
    }


#: Column names of Shopify's older customers export -> the current ones.
_OLD_CUSTOMER_COLUMNS = {
    "Company": "Default Address Company", "Address1": "Default Address Address1",
    "Address2": "Default Address Address2", "City": "Default Address City",
    "Province Code": "Default Address Province Code",
    "Country Code": "Default Address Country Code", "Zip": "Default Address Zip",
}


def _current_customer_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The customers export with today's column names; the older export (no ``Customer ID``)
    numbers its customers in the file's order."""
    out = frame.rename(columns={old: new for old, new in _OLD_CUSTOMER_COLUMNS.items()
                                if old in frame.columns and new not in frame.columns})
    if "Customer ID" not in out.columns:
        out["Customer ID"] = [str(i) for i in range(1, len(out) + 1)]
    return out


def _products(path: str | Path,
              encoding: str | None) -> tuple[TextTable, pd.DataFrame, pd.DataFrame]:
    table = _read(path, encoding, ("Title", "Variant SKU"), "products")
    raw = table.frame.copy()
    # a product with several variants fills its own fields on its first row only
    handle = _col(raw, "Handle")
    for col in ("Title", "Vendor", "Product Category", "Type"):
        if col in raw.columns and "Handle" in raw.columns:
            raw[col] = _col(raw, col).replace("", None).groupby(handle).ffill().fillna("")
    fname = Path(path).name
    price, cost = (parse_numbers(_col(raw, c), where=f"{fname}, column {c!r}")
                   for c in ("Variant Price", "Cost per item"))
    parsed = pd.DataFrame({LINE: raw[LINE], "list_price": price.value,
                           "unit_cost": cost.value})
    unreadable = {k: p.problem.where(p.problem != "empty")
                  for k, p in (("list_price", price), ("unit_cost", cost))}
    readable, pbad = problem_rows(parsed, unreadable, file=fname, raw=raw, source_columns={
        "list_price": "Variant Price", "unit_cost": "Cost per item"})
    sku = _col(raw, "Variant SKU")
    parsed["sku"] = sku
    ok, bad = validate_rows(parsed, pa.DataFrameSchema({
        "list_price": pa.Column(float, pa.Check.ge(0), nullable=True),
        "unit_cost": pa.Column(float, pa.Check.ge(0), nullable=True),
        "sku": pa.Column(str, [pa.Check(lambda s: s != "",
                                        name="no Variant SKU (an image-only row or an "
                                             "untracked variant)"),
                               pa.Check(lambda s: ~s.duplicated(), name="duplicated")]),
    }), file=fname, raw=raw, source_columns={"list_price": "Variant Price",
                                             "unit_cost": "Cost per item", "sku": "Variant SKU"})
    ok &= readable
    bad = pd.concat([pbad, bad[~bad["line"].isin(pbad["line"])]], ignore_index=True)
    raw, parsed = raw[ok], parsed[ok]
    category = _col(raw, "Product Category").str.split(" > ")
    df = pd.DataFrame({
        "product_id": np.arange(1, len(raw) + 1),
        "sku": parsed["sku"].to_numpy(),
        "name": _col(raw, "Title").replace("", None).to_numpy(),
        "department": category.map(lambda p: p[0] if p and p[0] else None).to_numpy(),
        "category": category.map(lambda p: p[-1] if len(p) > 1 and p[-1] else None).to_numpy(),
        "subcategory": _col(raw, "Type").replace("", None).to_numpy(),
        "brand": _col(raw, "Vendor").replace("", None).to_numpy(),
        "unit_cost": parsed["unit_cost"].to_numpy(),
        "list_price": parsed["list_price"].to_numpy(),
    })
    df["name"] = df["name"].fillna(df["sku"])
    return table, df, bad


def _split_name(full: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = full.str.strip().str.split(" ", n=1)
    first = parts.map(lambda p: p[0] if p and p[0] else None)
    last = parts.map(lambda p: p[1] if len(p) > 1 and p[1] else None)
    return first, last


def _customers(ctable: TextTable | None, raw: pd.DataFrame, key: pd.Series,
               customer_id: pd.Series, first: pd.Series, ok: pd.Series,
               unknown_keys: list[str]) -> pd.DataFrame | None:
    """Customers from the customers export, plus buyers missing from it (from billing)."""
    rows = []
    if ctable is not None:
        c = ctable.frame
        cid = parse_numbers(c["Customer ID"]).value
        c = c[cid.notna() & ~cid.duplicated()]
        rows.append(pd.DataFrame({
            "customer_id": parse_numbers(c["Customer ID"]).value.astype("int64").to_numpy(),
            "first_name": _col(c, "First Name").replace("", None).to_numpy(),
            "last_name": _col(c, "Last Name").replace("", None).to_numpy(),
            "address": _col(c, "Default Address Address1").replace("", None).to_numpy(),
            "city": _col(c, "Default Address City").replace("", None).to_numpy(),
            "postal_code": _col(c, "Default Address Zip").replace("", None).to_numpy(),
            "country": _col(c, "Default Address Country Code").replace("", None).to_numpy(),
            "email": _col(c, "Email").replace("", None).to_numpy(),
            "phone": _col(c, "Phone").where(_col(c, "Phone") != "",
                                            _col(c, "Default Address Phone")
                                            ).replace("", None).to_numpy(),
            "email_consent": (_col(c, "Accepts Email Marketing").str.casefold() == "yes"
                              ).to_numpy(),
        }))
    # buyers without a customers record: from the billing fields of their first order
    sel = first & ok & customer_id.notna()
    if ctable is not None:
        sel &= key.isin(unknown_keys)
    b = _narrow(raw, sel, _BILLING_READ)
    if len(b) or rows:
        if len(b):
            fn, ln = _split_name(_col(b, "Billing Name"))
            billed = pd.DataFrame({
                "customer_id": customer_id[sel].astype("int64").to_numpy(),
                "first_name": fn.to_numpy(), "last_name": ln.to_numpy(),
                "address": _col(b, "Billing Address1").where(
                    _col(b, "Billing Address1") != "", _col(b, "Billing Street")
                ).replace("", None).to_numpy(),
                "city": _col(b, "Billing City").replace("", None).to_numpy(),
                "postal_code": _col(b, "Billing Zip").str.lstrip("'").replace("", None
                                                                             ).to_numpy(),
                "country": _col(b, "Billing Country").replace("", None).to_numpy(),
                "email": _col(b, "Email").replace("", None).to_numpy(),
                "phone": _col(b, "Billing Phone").replace("", None).to_numpy(),
                "email_consent": (_col(b, "Accepts Marketing").str.casefold() == "yes"
                                  ).to_numpy(),
            }).drop_duplicates("customer_id")
            rows.append(billed)
        df = pd.concat(rows, ignore_index=True)
        df = df.drop_duplicates("customer_id").sort_values("customer_id")
        for col in ("signup_date", "birth_date"):
            df[col] = pd.NaT
        for col in ("gender", "education", "acquisition_channel", "preferred_payment_method",
                    "segment"):
            df[col] = None
        df["acquisition_campaign_id"] = pd.NA
        df["phone_consent"] = False  # Shopify records no consent to marketing calls
        return df
    return None
