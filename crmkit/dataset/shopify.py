"""Write a shop as Shopify's own exports: orders, customers and products CSV files.

Shopify's orders export has one row per line item; the order's fields
(financial and fulfilment status, totals, discount, shipping, billing
address, payment method, cancellation, refund) fill only the first row of
each order, ``Name`` is the order number (``#1001``) and every timestamp
carries its UTC offset (``2024-07-01 18:29:08 +0200``). Writing a synthetic
shop in that format gives the importer (:mod:`crmkit.sources.shopify`) a
round trip to prove itself on: importing the files gives back the same
orders, lines, customers and revenue.

>>> import pathlib, tempfile
>>> from crmkit.dataset.synth import generate
>>> data = generate("bendita", n_customers=40, seed=3)
>>> files = write_shopify(data, pathlib.Path(tempfile.mkdtemp()))
>>> sorted(files)
['customers', 'orders', 'products']
>>> import csv
>>> header = next(csv.reader(files["orders"].open(encoding="utf-8")))
>>> header[:4], len(header) == len(ORDER_COLUMNS)
(['Name', 'Email', 'Financial Status', 'Paid at'], True)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import ParameterError
from .crmdata import CRMData
from .money import allocate, derive_line_amounts, line_amounts, to_cents, to_decimal

__all__ = [
    "ORDER_COLUMNS",
    "CUSTOMER_COLUMNS",
    "PRODUCT_COLUMNS",
    "GATEWAYS",
    "SOURCES",
    "SOURCES_FULL",
    "write_shopify",
    "shopify_cases",
    "shopify_time",
]

ORDER_COLUMNS = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total",
    "Discount Code", "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity",
    "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing Address1", "Billing Address2",
    "Billing Company", "Billing City", "Billing Zip", "Billing Province", "Billing Country",
    "Billing Phone", "Shipping Name", "Shipping Street", "Shipping Address1",
    "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes",
    "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount", "Vendor",
    "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags", "Risk Level",
    "Source", "Lineitem discount", "Tax 1 Name", "Tax 1 Value", "Tax 2 Name", "Tax 2 Value",
    "Tax 3 Name", "Tax 3 Value", "Tax 4 Name", "Tax 4 Value", "Tax 5 Name", "Tax 5 Value",
    "Phone", "Receipt Number", "Duties", "Billing Province Name", "Shipping Province Name",
    "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
)

CUSTOMER_COLUMNS = (
    "Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
    "Default Address Company", "Default Address Address1", "Default Address Address2",
    "Default Address City", "Default Address Province Code", "Default Address Country Code",
    "Default Address Zip", "Default Address Phone", "Phone", "Accepts SMS Marketing",
    "Total Spent", "Total Orders", "Note", "Tax Exempt", "Tags",
)

PRODUCT_COLUMNS = (
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags",
    "Published", "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value",
    "Option3 Name", "Option3 Value", "Variant SKU", "Variant Grams",
    "Variant Inventory Tracker", "Variant Inventory Qty", "Variant Inventory Policy",
    "Variant Fulfillment Service", "Variant Price", "Variant Compare At Price",
    "Variant Requires Shipping", "Variant Taxable", "Variant Barcode", "Image Src",
    "Image Position", "Image Alt Text", "Gift Card", "SEO Title", "SEO Description",
    "Variant Image", "Variant Weight Unit", "Variant Tax Code", "Cost per item", "Status",
)

#: Canonical payment method -> the gateway name Shopify writes in ``Payment Method``.
GATEWAYS = {
    "card": "Shopify Payments",
    "paypal": "PayPal Express Checkout",
    "transfer": "Bank Deposit",
    "cash_on_delivery": "Cash on Delivery (COD)",
    "cash": "Cash",
}

#: Canonical channel -> Shopify's ``Source`` (default writing, and ``full=True``: an order
#: taken by phone is a draft order the staff creates in the admin).
SOURCES = {"store": "pos", "web": "web", "phone": "phone"}
SOURCES_FULL = {"store": "pos", "web": "web", "phone": "shopify_draft_order"}

_VAT_PERCENT = 21  # Spanish VAT, included in the prices (written in Taxes, never used to price)


def shopify_time(values: pd.Series, timezone: str) -> pd.Series:
    """Local wall-clock times as Shopify writes them, with the UTC offset of the day.

    >>> s = pd.Series(pd.to_datetime(["2024-01-15 10:00", "2024-07-15 10:00", None]))
    >>> shopify_time(s, "Europe/Madrid").tolist()
    ['2024-01-15 10:00:00 +0100', '2024-07-15 10:00:00 +0200', '']
    """
    s = pd.to_datetime(values)
    aware = s.dt.tz_localize(timezone, ambiguous=np.zeros(len(s), dtype=bool),
                             nonexistent="shift_forward")
    return aware.dt.strftime("%Y-%m-%d %H:%M:%S %z").fillna("").astype(object)


def _money(x: pd.Series) -> pd.Series:
    return pd.Series(x).map(lambda v: "" if pd.isna(v) else f"{v:.2f}")


def _cents(cents: npt.ArrayLike, currency: str) -> pd.Series:
    """Minor units as Shopify writes money: plain decimal text, exact (``1250`` -> ``12.50``)."""
    return pd.Series(np.asarray(cents, dtype="int64")).map(
        lambda v: str(to_decimal(v, currency)))


def _vat(gross_cents: np.ndarray) -> np.ndarray:
    """The VAT inside taxes-included amounts, rounded once, half to even, to a cent."""
    num = np.asarray(gross_cents, dtype="int64") * _VAT_PERCENT
    q, r = np.divmod(num, 100 + _VAT_PERCENT)
    up = (2 * r > 100 + _VAT_PERCENT) | ((2 * r == 100 + _VAT_PERCENT) & (q % 2 == 1))
    return q + up


def _yes(b: pd.Series) -> pd.Series:
    return pd.Series(b).map(lambda v: "yes" if bool(v) else "no")


def write_shopify(data: CRMData, out_dir: str | Path, *,
                  files: Collection[str] = ("orders", "customers", "products"),
                  full: bool = False) -> dict[str, Path]:
    """Write ``data`` as Shopify's ``orders_export.csv``, ``customers_export.csv`` and
    ``products_export.csv`` in ``out_dir``; return the paths by kind.

    Orders of the store channel are written as Shopify POS orders (``Source`` =
    ``pos``); a delivered order is ``fulfilled`` (Shopify has no delivery date);
    a cancelled one ``voided`` with its ``Cancelled at``. Money is written from the
    dataset's cents: ``Subtotal`` is the sum of the lines' ``amount_cents`` (after
    every discount), ``Discount Amount`` the order's discounts in total (its lines'
    and its own), ``Total`` = ``Subtotal`` + ``Shipping`` (taxes included, shown in
    ``Taxes``). An order whose ``refunded_cents`` covers its goods is ``refunded``
    (``Refunded Amount`` = its ``Total``); one refunded in part is
    ``partially_refunded`` (``Refunded Amount`` = ``refunded_cents``).

    ``full=False`` (the default, the committed example) writes every discount on its
    line (``Lineitem discount``) and the phone channel as ``Source`` ``phone``.
    ``full=True`` writes what Shopify itself writes for each case (see
    :func:`shopify_cases` for a shop that has them): ``Lineitem discount`` holds only
    the line's own discount and the order-level discount (``discount_cents``) is the
    rest of ``Discount Amount``, shared over the lines by
    :func:`crmkit.dataset.money.allocate` in proportion to their nets; orders taken by
    phone are draft orders (``Source`` ``shopify_draft_order``); POS orders carry
    their ``Location``; a guest's web order carries the e-mail the guest typed at
    checkout, which is in no customer record.
    """
    unknown = set(files) - {"orders", "customers", "products"}
    if unknown:
        raise ParameterError(f"files={sorted(unknown)} not known; choose from orders, "
                             "customers, products.")
    data.require("sales", analysis="write_shopify")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tz = data.timezone
    written = {}
    if "orders" in files:
        written["orders"] = _orders(data, tz, out / "orders_export.csv", full)
    if "customers" in files and data.has("customers"):
        written["customers"] = _customers(data, out / "customers_export.csv")
    if "products" in files and data.has("products"):
        written["products"] = _products(data, out / "products_export.csv")
    return written


def _frame(columns: Iterable[str], n: int) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([""] * n, dtype=object) for c in columns})


def _line_discounts(o: pd.DataFrame, ln: pd.DataFrame, gross: pd.Series, net: pd.Series,
                    cur: str, full: bool) -> pd.Series:
    """Each line's ``Lineitem discount`` in cents: everything off the line (default), or
    only the line's own discount, the order's share being checked against
    ``discount_cents`` by the allocation rule (``full``)."""
    if not full:
        return gross - net
    own = derive_line_amounts(ln, cur).astype("int64")  # the line's net before the order's
    share = own - net
    per_order = share.groupby(ln["order_id"].to_numpy()).sum()
    want = o.set_index("order_id")["discount_cents"].astype("int64")
    got = per_order.reindex(want.index).fillna(0).astype("int64")
    for oid in want.index[(want != got).to_numpy()][:1]:
        raise ParameterError(
            f"order {oid}: its lines' amounts do not add up to its own nets less its "
            f"discount_cents ({int(want[oid])}); write it with full=False.")
    for oid, idx in ln.groupby("order_id").indices.items():
        owed = int(want.get(oid, 0))
        if owed and not np.array_equal(
                allocate(owed, own.iloc[idx].to_numpy()), share.iloc[idx].to_numpy()):
            raise ParameterError(f"order {oid}: its discount_cents is not shared over its lines "
                                 "by crmkit.dataset.money.allocate; write it with full=False.")
    return gross - own


def _orders(data: CRMData, tz: str, path: Path, full: bool = False) -> Path:
    o = data.orders.sort_values("order_id").reset_index(drop=True)
    ln = data.order_lines.sort_values(["order_id", "line_number"]).reset_index(drop=True)
    products = data.products.set_index("product_id") if data.has("products") else None
    cust = data.customers.set_index("customer_id") if data.has("customers") else None
    cur = data.currency
    price = to_cents(ln["unit_price"], cur).astype("int64")
    line_net = line_amounts(ln).astype("int64")
    gross = ln["quantity"].astype("int64") * price
    line_disc = _line_discounts(o, ln, gross, line_net, cur, full)
    per_order = pd.DataFrame({"net": line_net, "disc": gross - line_net}).groupby(
        ln["order_id"]).sum()
    per_order = per_order.reindex(o["order_id"]).fillna(0).astype("int64")
    oi = o.set_index("order_id")
    first = ~ln["order_id"].duplicated()
    row = oi.loc[ln["order_id"]].reset_index()
    df = _frame(ORDER_COLUMNS, len(ln))
    df["Name"] = "#" + ln["order_id"].astype(str)
    email = pd.Series([""] * len(ln), dtype=object)
    if cust is not None:
        cid = row["customer_id"]
        known = cid.notna()
        c = cust.reindex(cid[known].astype("int64"))
        email[known.to_numpy()] = c["email"].fillna("").to_numpy()
    if full:  # a guest types an e-mail at checkout; it belongs to no customer record
        guest = (row["customer_id"].isna() & (row["channel"] == "web")).to_numpy()
        email[guest] = ("guest-" + row["order_id"].astype(str) + "@example.com")[guest]
    df["Email"] = email
    df["Created at"] = shopify_time(row["placed_at"], tz).to_numpy()
    df["Lineitem quantity"] = ln["quantity"].astype(str)
    if products is not None:
        p = products.reindex(ln["product_id"])
        df["Lineitem name"] = p["name"].fillna("").to_numpy()
        df["Lineitem sku"] = p["sku"].fillna("").to_numpy()
        df["Vendor"] = p["brand"].fillna("").to_numpy()
    df["Lineitem price"] = _cents(price, cur).to_numpy()
    df["Lineitem requires shipping"] = "true"
    df["Lineitem taxable"] = "true"
    df["Lineitem discount"] = _cents(line_disc, cur).to_numpy()
    fulfilled = row["shipped_at"].notna() & ~row["status"].isin(["cancelled"])
    df["Lineitem fulfillment status"] = np.where(fulfilled, "fulfilled", "pending")
    # order-level fields: the first row of each order only
    h = o.set_index("order_id").loc[ln.loc[first, "order_id"]].reset_index()
    idx = np.flatnonzero(first.to_numpy())
    net = per_order.loc[h["order_id"], "net"].to_numpy()
    disc = per_order.loc[h["order_id"], "disc"].to_numpy()
    ship = h["shipping_cents"].fillna(0).to_numpy(dtype="int64")
    tot = net + ship
    vat = _vat(tot)
    refunded = h["refunded_cents"].fillna(0).to_numpy(dtype="int64")
    whole = (refunded > 0) & (refunded >= net)
    fin = np.select(
        [h["status"] == "cancelled", whole, refunded > 0, h["paid_at"].notna()],
        ["voided", "refunded", "partially_refunded", "paid"], default="pending")
    order_fields: dict[str, Any] = {
        "Financial Status": fin,
        "Paid at": shopify_time(h["paid_at"], tz).to_numpy(),
        "Fulfillment Status": np.where(h["shipped_at"].notna()
                                       & (h["status"] != "cancelled"), "fulfilled",
                                       "unfulfilled"),
        "Fulfilled at": shopify_time(h["shipped_at"], tz).to_numpy(),
        "Currency": data.currency,
        "Subtotal": _cents(net, cur).to_numpy(),
        "Shipping": _cents(ship, cur).to_numpy(),
        "Taxes": _cents(vat, cur).to_numpy(),
        "Total": _cents(tot, cur).to_numpy(),
        "Discount Code": h["discount_code"].fillna("").to_numpy(),
        "Discount Amount": _cents(disc, cur).to_numpy(),
        "Shipping Method": np.where(h["channel"] == "store", "", "Standard"),
        "Cancelled at": shopify_time(h["cancelled_at"], tz).to_numpy(),
        "Payment Method": h["payment_method"].map(GATEWAYS).fillna(
            h["payment_method"]).fillna("").to_numpy(),
        "Refunded Amount": _cents(np.where(whole, tot, refunded), cur).to_numpy(),
        "Outstanding Balance": _cents(np.zeros(len(h), dtype="int64"), cur).to_numpy(),
        "Id": (5_000_000_000 + h["order_id"]).astype(str).to_numpy(),
        "Risk Level": "Low",
        "Source": h["channel"].map(SOURCES_FULL if full else SOURCES).fillna("").to_numpy(),
        "Location": np.where(full & (h["channel"] == "store"), data.shop_name, ""),
        "Tax 1 Name": "IVA 21%",
        "Tax 1 Value": _cents(vat, cur).to_numpy(),
    }
    if cust is not None:
        cid = h["customer_id"]
        has_customer = cid.notna().to_numpy()
        c = cust.reindex(cid[has_customer].astype("int64"))
        billing = {
            "Accepts Marketing": _yes(c["email_consent"]).to_numpy(),
            "Billing Name": (c["first_name"].fillna("") + " " + c["last_name"].fillna("")
                             ).str.strip().to_numpy(),
            "Billing Street": c["address"].fillna("").to_numpy(),
            "Billing Address1": c["address"].fillna("").to_numpy(),
            "Billing City": c["city"].fillna("").to_numpy(),
            "Billing Zip": c["postal_code"].fillna("").to_numpy(),
            "Billing Country": c["country"].fillna("").to_numpy(),
            "Billing Phone": c["phone"].fillna("").to_numpy(),
            "Phone": c["phone"].fillna("").to_numpy(),
        }
        for k, v in billing.items():
            col = np.full(len(h), "", dtype=object)
            col[has_customer] = v
            order_fields[k] = col
        ship_to = {"Shipping Name": "Billing Name", "Shipping Street": "Billing Street",
                   "Shipping Address1": "Billing Address1", "Shipping City": "Billing City",
                   "Shipping Zip": "Billing Zip", "Shipping Country": "Billing Country",
                   "Shipping Phone": "Billing Phone"}
        for k, src in ship_to.items():
            order_fields[k] = np.where(h["channel"] == "store", "", order_fields[src])
    for k, v in order_fields.items():
        col = df[k].to_numpy(dtype=object, copy=True)
        col[idx] = v
        df[k] = col
    df.to_csv(path, index=False, lineterminator="\n")
    return path


def _customers(data: CRMData, path: Path) -> Path:
    c = data.customers.sort_values("customer_id").reset_index(drop=True)
    value = line_amounts(data.order_lines).astype("int64")
    per_order = value.groupby(data.order_lines["order_id"].to_numpy()).sum()
    o = data.orders[~data.orders["status"].isin(["cancelled"])]
    spent = per_order.reindex(o["order_id"]).fillna(0).groupby(
        o["customer_id"].to_numpy()).sum()
    count = o["customer_id"].value_counts()
    df = _frame(CUSTOMER_COLUMNS, len(c))
    df["Customer ID"] = c["customer_id"].astype(str)
    df["First Name"] = c["first_name"].fillna("")
    df["Last Name"] = c["last_name"].fillna("")
    df["Email"] = c["email"].fillna("")
    df["Accepts Email Marketing"] = _yes(c["email_consent"])
    df["Default Address Address1"] = c["address"].fillna("")
    df["Default Address City"] = c["city"].fillna("")
    df["Default Address Country Code"] = c["country"].fillna("")
    df["Default Address Zip"] = c["postal_code"].fillna("")
    df["Default Address Phone"] = c["phone"].fillna("")
    df["Phone"] = c["phone"].fillna("")
    df["Accepts SMS Marketing"] = _yes(c["email_consent"])
    df["Total Spent"] = _cents(spent.reindex(c["customer_id"]).fillna(0).to_numpy(dtype="int64"),
                               data.currency)
    df["Total Orders"] = count.reindex(c["customer_id"]).fillna(0).astype(int).astype(str
                                                                                 ).to_numpy()
    df["Tax Exempt"] = "no"
    df.to_csv(path, index=False, lineterminator="\n")
    return path


def _products(data: CRMData, path: Path) -> Path:
    p = data.products.sort_values("product_id").reset_index(drop=True)
    df = _frame(PRODUCT_COLUMNS, len(p))
    handle = p["name"].str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True).str.strip("-")
    df["Handle"] = handle + "-" + p["product_id"].astype(str)
    df["Title"] = p["name"]
    df["Vendor"] = p["brand"].fillna("")
    df["Product Category"] = (p["department"].fillna("") + " > " + p["category"].fillna(""))
    df["Type"] = p["subcategory"].fillna("")
    df["Published"] = "true"
    df["Option1 Name"] = "Title"
    df["Option1 Value"] = "Default Title"
    df["Variant SKU"] = p["sku"]
    df["Variant Inventory Tracker"] = "shopify"
    df["Variant Inventory Policy"] = "deny"
    df["Variant Fulfillment Service"] = "manual"
    df["Variant Price"] = _money(p["list_price"])
    df["Variant Requires Shipping"] = "true"
    df["Variant Taxable"] = "true"
    df["Gift Card"] = "false"
    df["Variant Weight Unit"] = "kg"
    df["Cost per item"] = _money(p["unit_cost"])
    df["Status"] = "active"
    df.to_csv(path, index=False, lineterminator="\n")
    return path


def shopify_cases(data: CRMData, *, seed: int = 0, partial_refunds: float = 0.1,
                  drafts: float = 0.0, pos: float = 0.0) -> CRMData:
    """A copy of a shop with the cases a real Shopify export holds, to write with
    ``write_shopify(..., full=True)``.

    - an order with a discount code gets the code's discount at order level, as
      Shopify applies a code to the whole cart: ``discount_cents`` = the code's
      rate x the lines' nets, rounded once (half to even), shared over the lines by
      :func:`crmkit.dataset.money.allocate` (their ``discount`` becomes 0, their
      ``amount_cents`` the net less the share);
    - a share ``partial_refunds`` of the delivered orders of two or more lines get
      their smallest line refunded (``refunded_cents``), the order staying delivered;
    - returned orders stay refunded in full, orders taken by phone become draft
      orders, store orders POS orders and guests' web orders guest checkouts when
      written with ``full=True``;
    - a shop that sells on the web only (Bendita) has neither: a share ``drafts`` of
      its customers' web orders become orders taken by phone (written as completed
      draft orders) and a share ``pos`` orders sold in the shop (POS orders), their
      money unchanged.

    >>> from crmkit.dataset.synth import generate
    >>> shop = shopify_cases(generate("bendita", n_customers=60, seed=2))
    >>> bool((shop.orders["discount_cents"] > 0).any())
    True
    """
    from fractions import Fraction

    data.require("sales", analysis="shopify_cases")
    cur = data.currency
    o = data.orders.sort_values("order_id").reset_index(drop=True)
    ln = data.order_lines.sort_values(["order_id", "line_number"]).reset_index(drop=True)
    coded = o.loc[o["discount_code"].notna(), "order_id"]
    in_code = ln["order_id"].isin(coded).to_numpy()
    rate = ln.loc[in_code].groupby("order_id")["discount"].first()
    ln.loc[in_code, "discount"] = 0.0
    own = derive_line_amounts(ln, cur).to_numpy(dtype="int64")
    amount = own.copy()
    discount = pd.Series(0, index=o["order_id"].to_numpy(), dtype="int64")
    rates = rate.to_dict()
    for oid, idx in ln.groupby("order_id").indices.items():
        if oid not in rates:
            continue
        exact = Fraction(int(own[idx].sum())) * Fraction(repr(float(rates[oid])))
        total = _half_even_fraction(exact)
        amount[idx] = own[idx] - allocate(total, own[idx])
        discount.at[oid] = total
    ln["amount_cents"] = pd.array(amount, dtype="Int64")
    o["discount_cents"] = pd.array(discount.reindex(o["order_id"]).to_numpy(), dtype="Int64")
    rng = np.random.default_rng(seed)
    n_lines = ln.groupby("order_id").size().reindex(o["order_id"]).fillna(0).to_numpy()
    eligible = ((o["status"] == "delivered").to_numpy() & (n_lines >= 2)
                & (o["refunded_cents"].fillna(0) == 0).to_numpy())
    chosen = eligible & (rng.random(len(o)) < partial_refunds)
    smallest = pd.Series(amount).groupby(ln["order_id"].to_numpy()).min()
    refund = np.where(chosen, smallest.reindex(o["order_id"]).fillna(0).to_numpy(), 0)
    o["refunded_cents"] = pd.array(o["refunded_cents"].fillna(0).to_numpy(dtype="int64")
                                   + refund.astype("int64"), dtype="Int64")
    if drafts or pos:  # drawn after the refunds, which stay those of the same seed
        draw = np.random.default_rng([seed, 1]).random(len(o))
        web = ((o["channel"] == "web") & o["customer_id"].notna()).to_numpy()
        by_phone, in_shop = web & (draw < drafts), web & (draw >= drafts) & (draw < drafts + pos)
        o["channel"] = o["channel"].where(~by_phone, "phone").where(~in_shop, "store")
    tables = {**data.tables, "orders": o, "order_lines": ln}
    return CRMData(tables, {**data.manifest, "shopify_cases": True}, dict(data.truth))


def _half_even_fraction(x: Fraction) -> int:
    q, r = divmod(x.numerator, x.denominator)
    if 2 * r > x.denominator or (2 * r == x.denominator and q % 2):
        q += 1
    return int(q)
