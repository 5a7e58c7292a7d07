"""Messy source extracts: one shop's data as three source systems would export it.

A real warehouse is fed by systems that disagree. :func:`write_extracts` writes
a :class:`~crmkit.dataset.crmdata.CRMData`, or the folder of a saved dataset read a
slice of rows at a time (a shop of 10 M order lines in about 3 GB), as the files of
three of them:

* the **till** (``pos_*``): Latin-1, ``;`` separators, ``dd/mm/yyyy`` dates,
  decimal commas, Spanish labels and its own article codes; the customer is a
  loyalty-card number;
* the **web shop** (``web_*``): UTF-8, ISO timestamps with a time zone,
  ``#``-prefixed order numbers; the customer is an e-mail address (in any case,
  sometimes padded with spaces), or the loyalty card when no e-mail is known;
* the **legacy customer spreadsheet** (``legacy_customers.csv``): duplicates,
  typos, shouting capitals, postal codes that lost their leading zero, phones
  and dates written three different ways, missing fields.

Some rows are plainly bad (a date that does not exist, a negative price, an
article nobody knows, a line with the wrong number of fields). Every planted
bad row is listed in ``bad_rows.csv`` (file, line, reason), the ground truth
a warehouse load must reproduce in its quarantine.

>>> import tempfile
>>> from crmkit.dataset.synth import generate
>>> data = generate("boutique", n_customers=60, seed=2)
>>> out = write_extracts(data, tempfile.mkdtemp(), seed=1)
>>> sorted(out["files"])[:3]
['legacy_customers.csv', 'pos_articles.csv', 'pos_sales.csv']
>>> out["bad_rows"]["reason"].value_counts().sort_index().index.tolist()[:3]
['duplicate_customer', 'malformed_line', 'missing_customer_id']
>>> open(out["files"]["pos_sales.csv"], encoding="latin-1").readline().strip()[:30]
'ticket;linea;fecha;hora;tarjet'
"""

from __future__ import annotations

import hashlib
import json
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ParameterError
from .chunked import CHUNK_ROWS, ShopTables
from .crmdata import CRMData, give_back_memory
from .days import DayLike
from .folder import file_digest
from .names import LOCAL_CITIES, NATIONAL_CITIES, STREETS

__all__ = [
    "FileSpec",
    "FILES",
    "REASONS",
    "SHOP_UTC_OFFSET",
    "MANIFEST_NAME",
    "BAD_ROWS_NAME",
    "POS_PAYMENT",
    "POS_STATUS",
    "write_extracts",
    "write_customer_changes",
    "move_customers",
]

MANIFEST_NAME = "extracts_manifest.json"
BAD_ROWS_NAME = "bad_rows.csv"
#: The web shop writes the shop's wall-clock times with this fixed offset.
SHOP_UTC_OFFSET = "+01:00"

#: Why a row can land in quarantine (reason -> what it means).
REASONS: dict[str, str] = {
    "malformed_line": "the line does not have the file's number of fields",
    "unparseable_date": "a date or time that cannot be read (or does not exist)",
    "invalid_number": "a number that cannot be read",
    "negative_price": "a price, cost or amount below zero",
    "invalid_quantity": "a quantity below one",
    "invalid_value": "a label outside the accepted values",
    "missing_value": "a required field is empty",
    "unknown_product": "an article code or SKU that is not in the catalogue",
    "unknown_customer": "an e-mail or loyalty card that matches no known customer",
    "missing_customer_id": "a customer row without its customer number",
    "duplicate_customer": "an older copy of a customer row in the same file",
    "duplicate_row": "the same natural key twice in one file",
    "invalid_encoding": "a line whose bytes are not text in the file's encoding "
                        "(or text from another encoding)",
    "non_finite_number": "NaN or an infinity where a number is needed",
    "out_of_range": "a quantity, price or discount beyond what a sale can be "
                    "(a discount above 100 %)",
    "implausible_date": "a date far outside the years around the extraction (e.g. 9999)",
}

# Till labels (the till speaks Spanish).
POS_PAYMENT = {"card": "TARJETA", "cash": "EFECTIVO", "paypal": "PAYPAL",
               "transfer": "TRANSFERENCIA", "cash_on_delivery": "CONTRAREEMBOLSO"}
POS_STATUS = {"placed": "PENDIENTE", "paid": "PAGADO", "shipped": "ENVIADO",
              "delivered": "ENTREGADO", "cancelled": "ANULADO", "returned": "DEVUELTO"}


@dataclass(frozen=True)
class FileSpec:
    """How one extract file is written: system, encoding, separator and header."""

    name: str
    system: str
    encoding: str
    delimiter: str
    header: tuple[str, ...]  # labels as written in the file
    columns: tuple[str, ...]  # names in the warehouse's raw layer
    description: str


def _spec(name: str, system: str, encoding: str, delimiter: str, columns: Sequence[str],
          description: str, header: Sequence[str] | None = None) -> FileSpec:
    return FileSpec(name, system, encoding, delimiter, tuple(header or columns),
                    tuple(columns), description)


_ORDER_TAIL = ("payment_method", "status", "paid_at", "shipped_at", "delivered_at",
               "cancelled_at", "returned_at", "shipping_cost", "discount_code", "campaign_id")
_LEGACY = (
    ("Cust No", "cust_no"), ("Card", "card"), ("Name", "name"), ("Surname", "surname"),
    ("Address", "address"), ("City", "city"), ("Post Code", "post_code"),
    ("Country", "country"), ("E-mail", "email"), ("Phone", "phone"),
    ("Birth Date", "birth_date"), ("Gender", "gender"), ("Education", "education"),
    ("Acquired Via", "acquired_via"), ("Acq. Campaign", "acq_campaign"),
    ("Pays With", "pays_with"), ("Segment", "segment"), ("Consent Email", "consent_email"),
    ("Consent Phone", "consent_phone"), ("Signed Up", "signed_up"), ("Updated", "updated"),
)

#: Every file the three systems write, in the order a warehouse loads them.
FILES: dict[str, FileSpec] = {s.name: s for s in (
    _spec("legacy_customers.csv", "legacy", "utf-8", ",", [c for _, c in _LEGACY],
          "The customer file kept by hand in a spreadsheet.", [h for h, _ in _LEGACY]),
    _spec("web_products.csv", "web", "utf-8", ",",
          ["product_id", "sku", "name", "department", "category", "subcategory", "brand",
           "unit_cost", "list_price"], "The web shop's catalogue (the product master)."),
    _spec("pos_articles.csv", "pos", "latin-1", ";", ["codigo", "sku", "descripcion", "pvp"],
          "The till's own article codes, with the catalogue SKU each stands for."),
    _spec("web_campaigns.csv", "web", "utf-8", ",",
          ["campaign_id", "name", "channel", "goal", "target_segment", "objective", "kpi",
           "target_value", "start_date", "end_date", "budget", "cost_per_contact"],
          "Marketing campaigns from the web shop's newsletter tool."),
    _spec("pos_sales.csv", "pos", "latin-1", ";",
          ["ticket", "linea", "fecha", "hora", "tarjeta", "articulo", "unidades", "precio",
           "dto", "forma_pago", "estado", "fecha_pago", "fecha_envio", "fecha_entrega",
           "fecha_anulacion", "fecha_devolucion", "portes", "cupon", "campana"],
          "Till receipts, one row per receipt line (store sales)."),
    _spec("web_orders.csv", "web", "utf-8", ",",
          ["order_number", "line", "created_at", "customer_email", "loyalty_card", "channel",
           "sku", "quantity", "unit_price", "discount", *_ORDER_TAIL],
          "Web and telephone orders, one row per order line."),
    _spec("web_sessions.csv", "web", "utf-8", ",",
          ["session_id", "visitor_id", "customer_email", "loyalty_card", "started_at",
           "traffic_source", "device", "pages", "added_to_cart", "converted_order"],
          "Web-analytics visits."),
    _spec("web_campaign_contacts.csv", "web", "utf-8", ",",
          ["campaign_id", "customer_email", "loyalty_card", "sent_at", "opened", "clicked",
           "converted_order", "cost"], "Who each campaign reached and how they answered."),
    _spec("web_tickets.csv", "web", "utf-8", ",",
          ["ticket_id", "customer_email", "loyalty_card", "order_number", "sku", "category",
           "channel", "priority", "opened_at", "status", "closed_at"],
          "After-sales incidents from the help desk."),
)}

_POS_TS = "%d/%m/%Y %H:%M:%S"


# ----------------------------------------------------------------------------- helpers
def _check_seed(seed: object) -> int:
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ParameterError(f"seed={seed!r} must be a whole number >= 0.")
    return int(seed)


#: The layouts the systems write, as pieces of Arrow's text of a timestamp
#: (``YYYY-MM-DD HH:MM:SS``): (start, end) of a slice, or a literal.
_LAYOUTS: dict[str, tuple[tuple[int, int] | str, ...]] = {
    "%Y-%m-%d": ((0, 10),),
    "%H:%M:%S": ((11, 19),),
    "%d/%m/%Y": ((8, 10), "/", (5, 7), "/", (0, 4)),
    _POS_TS: ((8, 10), "/", (5, 7), "/", (0, 4), " ", (11, 19)),
    "%Y-%m-%dT%H:%M:%S" + SHOP_UTC_OFFSET: ((0, 10), "T", (11, 19), SHOP_UTC_OFFSET),
}


def _strftime(arr: pa.Array, fmt: str) -> pa.Array:
    """``pc.strftime(arr, format=fmt)``; the layouts above cut from Arrow's text of each
    timestamp instead (three times faster), when every year has four digits."""
    years = pc.min_max(pc.year(arr))
    plain = not years["min"].is_valid or (1000 <= years["min"].as_py()
                                          and years["max"].as_py() <= 9999)
    if fmt not in _LAYOUTS or not plain:
        return pc.strftime(arr, format=fmt)
    iso = pc.cast(arr, pa.string())
    pieces = [pa.scalar(p) if isinstance(p, str) else pc.utf8_slice_codeunits(iso, *p)
              for p in _LAYOUTS[fmt]]
    return pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, "")


def _text(values: pd.Series | np.ndarray, fmt: str) -> pd.Series:
    """Timestamps as text in ``fmt`` (fast, through Arrow); missing stays missing."""
    s = pd.Series(values)
    arr = pa.array(s.to_numpy(dtype="datetime64[us]"), type=pa.timestamp("us"))
    arr = pc.cast(arr, pa.timestamp("s"), safe=False)  # the systems keep whole seconds
    return pd.Series(_strftime(arr, fmt).to_numpy(zero_copy_only=False), dtype=object,
                     index=s.index)


def _web_ts(values: pd.Series | np.ndarray) -> pd.Series:
    """ISO 8601 with the shop's UTC offset, e.g. ``2024-03-05T21:13:00+01:00``."""
    return _text(values, "%Y-%m-%dT%H:%M:%S" + SHOP_UTC_OFFSET)


def _int_text(values: pd.Series | np.ndarray) -> pd.Series:
    s = pd.Series(values)
    return s.astype("Int64").astype("string").astype(object).where(s.notna(), None)


def _cards(customer_ids: pd.Series, seed: int) -> pd.Series:
    """A loyalty-card number per customer: 13 digits, not derivable from the id."""
    ids = customer_ids.to_numpy()
    rng = np.random.default_rng([seed, 17])
    numbers_ = 2_000_000_000_000 + rng.choice(10**9, size=len(ids), replace=False) * 997
    return pd.Series(numbers_.astype(str), index=ids)


def _identity(customer_ids: pd.Series | np.ndarray, emails: pd.Series, cards: pd.Series,
              rng: np.random.Generator) -> tuple[pd.Series, pd.Series]:
    """E-mail (messy case and spaces) when known, else the loyalty card; guests: both empty."""
    cid = pd.Series(customer_ids).astype("Int64")
    known = cid.notna().to_numpy()
    key = cid.fillna(0).to_numpy(dtype=np.int64)
    email = pd.Series(emails.reindex(key).to_numpy(), dtype=object)
    email[~known] = None
    has_email = email.notna().to_numpy()
    u = rng.random(len(email))
    mess = has_email & (u < 0.15)
    email[mess] = email[mess].str.upper()
    pad = has_email & (u > 0.93)
    email[pad] = "  " + email[pad] + " "
    card = pd.Series(cards.reindex(key).to_numpy(), dtype=object)
    card[~known | has_email] = None
    return email, card


@dataclass(frozen=True)
class _Planted:
    """The lines planted in one file: before how many good rows each is written.

    ``lines`` hold a bad row (a one-row frame of Python objects, in the file's
    columns) or a malformed line's raw text. ``objects``: the file's good rows are
    written as Python objects too, as one table holding both kinds would write them.
    """

    before: tuple[int, ...]
    lines: tuple[pd.DataFrame | str, ...]
    objects: bool


def _plan(n_rows: int, bad: list[tuple[dict, str]], n_broken: int, spec: FileSpec,
          rng: np.random.Generator, bad_log: list) -> _Planted:
    """Choose where bad rows go among ``n_rows`` good ones, and log their lines.

    Line numbers count the header as line 1, as an editor shows them.
    """
    cols = list(spec.columns)
    n_bad = len(bad)
    total = n_rows + n_bad + n_broken
    slots = np.sort(rng.choice(total, size=n_bad + n_broken, replace=False))
    kinds = rng.permutation(np.r_[np.zeros(n_bad, int), np.ones(n_broken, int)])
    for (_, reason), slot in zip(bad, slots[kinds == 0], strict=True):
        bad_log.append((spec.name, int(slot) + 2, reason))
    for slot in slots[kinds == 1]:
        bad_log.append((spec.name, int(slot) + 2, "malformed_line"))
    # an empty field is written empty (as the frame's writer does), never as Python's 'nan'
    template = (["" if pd.api.types.is_scalar(v) and pd.isna(v) else str(v)
                 for v in bad[0][0].values()] if bad else ["broken"])
    broken = spec.delimiter.join(template[: max(2, len(cols) // 2)])
    lines: list[pd.DataFrame | str] = []
    rows = iter(bad)  # the i-th bad row takes the i-th bad slot
    for kind in kinds:
        if kind:
            lines.append(broken)
        else:
            row, _ = next(rows)
            lines.append(pd.DataFrame([[row.get(c) for c in cols]], columns=cols, dtype=object))
    return _Planted(tuple(int(s) - k for k, s in enumerate(slots)), tuple(lines), n_bad > 0)


class _FileWriter:
    """One extract file written a slice of rows at a time, planted lines in their places."""

    def __init__(self, path: Path, spec: FileSpec, planted: _Planted) -> None:
        self.spec, self.planted = spec, planted
        self._f = open(path, "w", encoding=spec.encoding, newline="")  # noqa: SIM115
        self._f.write(spec.delimiter.join(spec.header) + "\n")
        self._done = 0  # good rows written
        self._next = 0  # next planted line

    def _rows(self, df: pd.DataFrame) -> None:
        if len(df):
            df.to_csv(self._f, sep=self.spec.delimiter, header=False, index=False,
                      lineterminator="\n")

    def _line(self) -> None:
        line = self.planted.lines[self._next]
        if isinstance(line, str):
            self._f.write(line + "\n")
        else:
            self._rows(line)
        self._next += 1

    def write(self, df: pd.DataFrame) -> None:
        """Write the next good rows (their places follow the rows written before)."""
        df = df[list(self.spec.columns)]
        if self.planted.objects:
            df = df.astype(object)
        before, at = self.planted.before, 0
        while self._next < len(before) and before[self._next] < self._done + len(df):
            cut = before[self._next] - self._done
            self._rows(df.iloc[at:cut])
            self._line()
            at = cut
        self._rows(df.iloc[at:])
        self._done += len(df)

    def close(self) -> None:
        """Write the lines planted after the last good row and close the file."""
        while self._next < len(self.planted.lines):
            self._line()
        self._f.close()

    def abandon(self) -> None:
        """Close the file as it is (a slice could not be made)."""
        self._f.close()


def _comma(df: pd.DataFrame) -> pd.DataFrame:
    """Float columns as text with a decimal comma (the till's locale)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].astype(str).str.replace(".", ",", regex=False).astype(object)
    return out


# ----------------------------------------------------------------------------- tables
def _legacy(customers: pd.DataFrame, cards: pd.Series, updated: pd.Series, rng: np.random.Generator
            ) -> pd.DataFrame:
    c = customers
    n = len(c)
    u = rng.random((6, n))

    def messy_case(s: pd.Series, share: float, row: int) -> pd.Series:
        s = s.astype(object)
        hit = s.notna().to_numpy() & (u[row] < share)
        s[hit] = s[hit].str.upper()
        return s

    post = c["postal_code"].astype(object)
    lost_zero = post.notna().to_numpy() & post.fillna("").str.startswith("0").to_numpy()
    post[lost_zero] = post[lost_zero].str.lstrip("0")  # opened and saved in a spreadsheet
    letter_o = post.notna().to_numpy() & (u[1] < 0.04)
    post[letter_o] = post[letter_o].str.replace("0", "O", n=1)
    phone = c["phone"].astype(object)
    digits = phone.str.replace("+34 ", "", regex=False)
    style = rng.integers(0, 3, n)
    dialled = np.where(style == 1, digits,
                       np.where(style == 2, digits.str.replace(r"(\d{3})(\d{3})(\d{3})",
                                                               r"\1 \2 \3", regex=True), phone))
    phone = pd.Series(dialled, dtype=object).where(c["phone"].notna().to_numpy(), None)
    birth_iso = u[2] < 0.3
    written = np.where(birth_iso, _text(c["birth_date"], "%Y-%m-%d"),
                       _text(c["birth_date"], "%d/%m/%Y"))
    birth = pd.Series(written, dtype=object).where(c["birth_date"].notna().to_numpy(), None)
    gender = c["gender"].map({"female": "F", "male": "M", "other": "O"}).astype(object)
    yes = np.asarray(["yes", "Y", "si", "1"], dtype=object)
    no = np.asarray(["no", "N", "no", "0"], dtype=object)
    pick = rng.integers(0, 4, n)
    country = c["country"].astype(object)
    spain = country.notna().to_numpy() & (u[3] < 0.2)
    country[spain] = np.where(u[3][spain] < 0.1, "Spain", "españa")
    email = c["email"].astype(object)
    shout = email.notna().to_numpy() & (u[4] < 0.1)
    email[shout] = email[shout].str.title()
    segment = c["segment"].astype(object)
    seg_case = u[5] < 0.3
    segment[seg_case] = segment[seg_case].str.upper()
    first = messy_case(c["first_name"], 0.08, 0)
    last = messy_case(c["last_name"], 0.08, 0)
    pad = first.notna().to_numpy() & (u[5] > 0.95)
    first[pad] = " " + first[pad] + "  "
    return pd.DataFrame({
        "cust_no": c["customer_id"].map("{:06d}".format).to_numpy(),
        "card": cards.reindex(c["customer_id"].to_numpy()).to_numpy(),
        "name": first.to_numpy(), "surname": last.to_numpy(),
        "address": c["address"].astype(object).to_numpy(),
        "city": messy_case(c["city"], 0.15, 3).to_numpy(),
        "post_code": post.to_numpy(), "country": country.to_numpy(),
        "email": email.to_numpy(), "phone": phone.to_numpy(), "birth_date": birth.to_numpy(),
        "gender": gender.to_numpy(),
        "education": messy_case(c["education"], 0.1, 4).to_numpy(),
        "acquired_via": c["acquisition_channel"].astype(object).to_numpy(),
        "acq_campaign": _int_text(c["acquisition_campaign_id"]).to_numpy(),
        "pays_with": c["preferred_payment_method"].astype(object).to_numpy(),
        "segment": segment.to_numpy(),
        "consent_email": np.where(c["email_consent"], yes[pick], no[pick]),
        "consent_phone": np.where(c["phone_consent"], yes[pick], no[pick]),
        "signed_up": _text(c["signup_date"], "%Y-%m-%d").to_numpy(),
        "updated": _text(updated, "%Y-%m-%d").to_numpy(),
    })


def _legacy_bad(legacy: pd.DataFrame, rng: np.random.Generator, k: int) -> list[tuple[dict, str]]:
    bad: list[tuple[dict, str]] = []
    if len(legacy) == 0:
        return bad
    rows = legacy.iloc[rng.choice(len(legacy), size=min(k, len(legacy)), replace=False)]
    for rec in rows.to_dict("records"):
        dup = dict(rec)
        name = dup["surname"] if isinstance(dup["surname"], str) else "Sin Nombre"
        if len(name) > 3:  # a typo: two letters swapped
            name = name[:1] + name[2] + name[1] + name[3:]
        dup["surname"] = name
        updated = pd.Timestamp(dup["updated"]) - pd.Timedelta(days=int(rng.integers(30, 400)))
        dup["updated"] = f"{updated:%Y-%m-%d}"
        bad.append((dup, "duplicate_customer"))
    template = legacy.iloc[0].to_dict()
    nocust = {**template, "cust_no": None, "card": None, "email": None,
              "surname": "Desconocido"}
    bad.append((nocust, "missing_customer_id"))
    baddate = {**template, "cust_no": f"{int(template['cust_no']) + 10**6 - 1:06d}",
               "card": None, "email": None, "signed_up": "2024-02-30"}
    bad.append((baddate, "unparseable_date"))
    return bad


#: The columns of ``orders`` the order extracts are written from.
_ORDER_COLUMNS = ("order_id", "customer_id", "placed_at", "channel", "status", "paid_at",
                  "shipped_at", "delivered_at", "cancelled_at", "returned_at", "payment_method",
                  "shipping_cost", "discount_code", "campaign_id")


def _order_lines(order_lines: pd.DataFrame, orders: pd.DataFrame
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Order lines with their order's columns: (store lines, web and phone lines)."""
    lines = order_lines.merge(orders, on="order_id", how="left", validate="many_to_one")
    store = (lines["channel"] == "store").to_numpy()
    return lines[store].reset_index(drop=True), lines[~store].reset_index(drop=True)


def _pos_frame(pos_l: pd.DataFrame, cards: pd.Series, art_code: pd.Series) -> pd.DataFrame:
    card = pd.Series(cards.reindex(pos_l["customer_id"].fillna(0).astype("int64")).to_numpy(),
                     dtype=object).where(pos_l["customer_id"].notna().to_numpy(), None)
    placed = pos_l["placed_at"]
    return pd.DataFrame({
        "ticket": pos_l["order_id"].astype("int64"), "linea": pos_l["line_number"],
        "fecha": _text(placed, "%d/%m/%Y"), "hora": _text(placed, "%H:%M:%S"),
        "tarjeta": card,
        "articulo": art_code.reindex(pos_l["product_id"].to_numpy()).to_numpy(),
        "unidades": pos_l["quantity"], "precio": pos_l["unit_price"],
        "dto": pos_l["discount"],
        "forma_pago": pos_l["payment_method"].map(POS_PAYMENT),
        "estado": pos_l["status"].map(POS_STATUS),
        **{es: _text(pos_l[en], _POS_TS) for es, en in (
            ("fecha_pago", "paid_at"), ("fecha_envio", "shipped_at"),
            ("fecha_entrega", "delivered_at"), ("fecha_anulacion", "cancelled_at"),
            ("fecha_devolucion", "returned_at"))},
        "portes": pos_l["shipping_cost"], "cupon": pos_l["discount_code"].astype(object),
        "campana": _int_text(pos_l["campaign_id"]),
    })


def _web_frame(web_l: pd.DataFrame, emails: pd.Series, cards: pd.Series, sku: pd.Series,
               rng: np.random.Generator) -> pd.DataFrame:
    email, wcard = _identity(web_l["customer_id"], emails, cards, rng)
    return pd.DataFrame({
        "order_number": "#" + web_l["order_id"].astype(str),
        "line": web_l["line_number"], "created_at": _web_ts(web_l["placed_at"]),
        "customer_email": email, "loyalty_card": wcard,
        "channel": web_l["channel"].astype(object),
        "sku": sku.reindex(web_l["product_id"].to_numpy()).to_numpy(),
        "quantity": web_l["quantity"], "unit_price": web_l["unit_price"],
        "discount": web_l["discount"],
        "payment_method": web_l["payment_method"].astype(object),
        "status": web_l["status"].astype(object),
        **{c: _web_ts(web_l[c]) for c in ("paid_at", "shipped_at", "delivered_at",
                                           "cancelled_at", "returned_at")},
        "shipping_cost": web_l["shipping_cost"],
        "discount_code": web_l["discount_code"].astype(object),
        "campaign_id": _int_text(web_l["campaign_id"]),
    })


def _order_bad(kind: str, first_id: int, products: pd.DataFrame, art_code: pd.Series,
               day: pd.Timestamp) -> list[tuple[dict, str]]:
    """Plainly bad order lines, each on an order number nobody else uses."""
    if products.empty:  # a shop's order log without a catalogue: nothing to plant
        return []
    p = products.iloc[0]
    price = float(p["list_price"])
    out = []
    cases: tuple[tuple[str, dict[str, object]], ...] = (
        ("unparseable_date", {}), ("negative_price", {}), ("unknown_product", {}),
        ("unparseable_date", {}))
    for k, (reason, _) in enumerate(cases):
        oid = first_id + k
        when = day + pd.Timedelta(hours=11 + k)
        if kind == "pos":
            row = {"ticket": oid, "linea": 1, "fecha": f"{when:%d/%m/%Y}",
                   "hora": f"{when:%H:%M:%S}", "articulo": art_code.iloc[0], "unidades": 1,
                   "precio": f"{price:.2f}".replace(".", ","), "dto": "0",
                   "forma_pago": "EFECTIVO", "estado": "ENTREGADO",
                   "fecha_pago": f"{when:{_POS_TS}}", "fecha_entrega": f"{when:{_POS_TS}}",
                   "portes": "0"}
            if reason == "unparseable_date":
                row["fecha"] = "31/02/2025" if k == 0 else "2025-07-14"
            elif reason == "negative_price":
                row["precio"] = f"-{price:.2f}".replace(".", ",")
            else:
                row["articulo"] = "9999999"
        else:
            ts = f"{when:%Y-%m-%dT%H:%M:%S}{SHOP_UTC_OFFSET}"
            row = {"order_number": f"#{oid}", "line": 1, "created_at": ts, "channel": "web",
                   "sku": p["sku"], "quantity": 1, "unit_price": price, "discount": 0.0,
                   "payment_method": "card", "status": "paid", "paid_at": ts,
                   "shipping_cost": 0.0}
            if reason == "unparseable_date":
                row["created_at"] = "2025-13-45T25:61:00+01:00" if k == 0 else "yesterday"
            elif reason == "negative_price":
                row["unit_price"] = -price
            else:
                row["sku"] = "ZZZ-99999"
        out.append((row, reason))
    return out


def _sessions(s: pd.DataFrame, emails: pd.Series, cards: pd.Series,
              rng: np.random.Generator) -> pd.DataFrame:
    email, card = _identity(s["customer_id"], emails, cards, rng)
    conv = s["converted_order_id"]
    return pd.DataFrame({
        "session_id": s["session_id"], "visitor_id": s["visitor_id"].astype(object),
        "customer_email": email, "loyalty_card": card, "started_at": _web_ts(s["started_at"]),
        "traffic_source": s["traffic_source"].astype(object), "device": s["device"].astype(object),
        "pages": s["pages"], "added_to_cart": np.where(s["added_to_cart"], "true", "false"),
        "converted_order": ("#" + _int_text(conv)).where(conv.notna().to_numpy(), None),
    })


def _contacts(c: pd.DataFrame, emails: pd.Series, cards: pd.Series,
              rng: np.random.Generator) -> pd.DataFrame:
    email, card = _identity(c["customer_id"], emails, cards, rng)
    conv = c["converted_order_id"]
    return pd.DataFrame({
        "campaign_id": c["campaign_id"], "customer_email": email, "loyalty_card": card,
        "sent_at": _web_ts(c["sent_at"]), "opened": np.where(c["opened"], "true", "false"),
        "clicked": np.where(c["clicked"], "true", "false"),
        "converted_order": ("#" + _int_text(conv)).where(conv.notna().to_numpy(), None),
        "cost": c["cost"],
    })


def _tickets(t: pd.DataFrame, emails: pd.Series, cards: pd.Series, sku: pd.Series,
             rng: np.random.Generator) -> pd.DataFrame:
    email, card = _identity(t["customer_id"], emails, cards, rng)
    pid = t["product_id"]
    return pd.DataFrame({
        "ticket_id": t["ticket_id"], "customer_email": email, "loyalty_card": card,
        "order_number": ("#" + _int_text(t["order_id"])).where(t["order_id"].notna().to_numpy(),
                                                               None),
        "sku": pd.Series(sku.reindex(pid.fillna(0).astype("int64")).to_numpy(), dtype=object)
        .where(pid.notna().to_numpy(), None),
        "category": t["category"].astype(object), "channel": t["channel"].astype(object),
        "priority": t["priority"].astype(object), "opened_at": _web_ts(t["opened_at"]),
        "status": t["status"].astype(object), "closed_at": _web_ts(t["closed_at"]),
    })


def _campaigns(campaigns: pd.DataFrame) -> pd.DataFrame:
    c = campaigns.copy()
    for col in ("start_date", "end_date"):
        c[col] = _text(c[col], "%Y-%m-%d")
    return c



def _finish(out_dir: Path, written: dict[str, Path], bad_log: list, batch_id: str | None,
            extracted_at: pd.Timestamp, extra: dict) -> dict:
    bad = pd.DataFrame(bad_log, columns=["file", "line", "reason"])
    bad = bad.sort_values(["file", "line"], kind="stable").reset_index(drop=True)
    bad.to_csv(out_dir / BAD_ROWS_NAME, index=False, lineterminator="\n")
    digests = {name: file_digest(p) for name, p in written.items()}
    if batch_id is None:
        joined = "".join(f"{k}:{v};" for k, v in sorted(digests.items()))
        batch_id = "b-" + hashlib.sha256(joined.encode()).hexdigest()[:12]
    manifest = {
        "batch_id": batch_id, "extracted_at": f"{extracted_at:%Y-%m-%d}",
        "files": {name: {"system": FILES[name].system, "encoding": FILES[name].encoding,
                         "delimiter": FILES[name].delimiter, "sha256": digests[name]}
                  for name in written},
        "bad_rows": len(bad), **extra,
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                         encoding="utf-8")
    return {"batch_id": batch_id, "directory": out_dir, "files": written, "bad_rows": bad,
            "extracted_at": extracted_at}


def _extracted_at(manifest: dict, orders: pd.DataFrame, as_of: DayLike | None
                  ) -> pd.Timestamp:
    if as_of is not None:
        try:
            return pd.Timestamp(as_of).normalize()
        except (ValueError, TypeError) as exc:
            raise ParameterError(f"as_of={as_of!r} is not a date; write it as YYYY-MM-DD.") \
                from exc
    if manifest.get("end"):
        return pd.Timestamp(manifest["end"]) + pd.Timedelta(days=1)
    last = orders["placed_at"].max() if len(orders) else pd.Timestamp("2000-01-01")
    return pd.Timestamp(last).normalize() + pd.Timedelta(days=1)


def _updated_dates(customers: pd.DataFrame, extracted_at: pd.Timestamp, rng: np.random.Generator
                   ) -> pd.Series:
    # a shop's own customer file may not know the signup day: the record dates from the
    # extraction then (the warehouse keeps it as the first version's start)
    signup = customers["signup_date"].fillna(extracted_at - pd.Timedelta(days=1))
    span = (extracted_at - signup).dt.days.clip(lower=1).to_numpy()
    offset = np.minimum(1 + np.floor(rng.random(len(signup)) * span), span)
    return signup + pd.to_timedelta(offset, unit="D")


class _Batch:
    """The files of one batch being written: the random stream, the bad-row log."""

    def __init__(self, out_dir: Path, rng: np.random.Generator, bad_rows: bool) -> None:
        self.out_dir, self.rng, self.bad_rows = out_dir, rng, bad_rows
        self.bad_log: list = []
        self.written: dict[str, Path] = {}

    def plan(self, name: str, n_rows: int, bad: Iterable[tuple[dict, str]] = (),
             broken: int = 0) -> _Planted:
        """Where the bad rows of file ``name`` go among its ``n_rows`` good rows."""
        rows = list(bad) if self.bad_rows else []
        return _plan(n_rows, rows, broken if self.bad_rows else 0, FILES[name], self.rng,
                     self.bad_log)

    def emit(self, name: str, df: pd.DataFrame, bad: Iterable[tuple[dict, str]] = (),
             broken: int = 0, decimal: str = ".") -> None:
        """Write file ``name`` from the whole frame ``df``."""
        if decimal == ",":
            df = _comma(df)
        self.stream(name, [df], self.plan(name, len(df), bad, broken))

    def stream(self, name: str, parts: Iterable[pd.DataFrame], planted: _Planted) -> None:
        """Write file ``name`` from consecutive slices of its rows."""
        writer = _FileWriter(self.out_dir / name, FILES[name], planted)
        try:
            for part in parts:
                writer.write(part)
        except BaseException:
            writer.abandon()
            raise
        writer.close()
        self.written[name] = self.out_dir / name

    def identities(self, n_rows: int) -> np.random.Generator:
        """A generator for a table's ``n_rows`` identity draws; this batch's moves past them.

        The draws come one double each, so a table drawn a slice at a time from the
        copy gets the very numbers one draw for the whole table would give.
        """
        copy = np.random.Generator(type(self.rng.bit_generator)())
        copy.bit_generator.state = self.rng.bit_generator.state
        for start in range(0, n_rows, _SKIP):
            self.rng.random(min(_SKIP, n_rows - start))
        return copy


#: Draws skipped at a time when a batch's stream moves past a table's identities.
_SKIP = 1 << 20


# ----------------------------------------------------------------------------- public
def write_extracts(data: CRMData | str | Path, out_dir: str | Path, *, seed: int = 0,
                   bad_rows: bool = True, batch_id: str | None = None,
                   as_of: DayLike | None = None, chunk_rows: int = CHUNK_ROWS) -> dict[str, Any]:
    """Write a shop as the extracts of a till, a web shop and a legacy spreadsheet.

    Parameters
    ----------
    data : CRMData, or the folder of a saved dataset
        The shop to export (not modified). A folder written by
        :meth:`CRMData.save <crmkit.dataset.crmdata.CRMData.save>` or
        :func:`crmkit.dataset.synth.write_shop` is read a slice of rows at a time
        (:class:`~crmkit.dataset.chunked.ShopTables`), so its size is not bounded by
        memory; its files are the ones ``CRMData.load(folder)`` would give, byte for byte.
    out_dir : str or Path
        Folder for the files (created); one folder is one *batch*.
    seed : int
        Seed of every random choice (which rows get messy, where bad rows go).
    bad_rows : bool
        Plant plainly bad rows; they are listed in ``bad_rows.csv``.
    batch_id : str, optional
        Name of the batch; by default a hash of the files' contents.
    as_of : date, optional
        Day of the extraction; by default the day after the data's period.
    chunk_rows : int
        Rows turned into text at a time in the large files (order lines, sessions,
        contacts, tickets); the files do not depend on it.

    Returns a dict: ``batch_id``, ``directory``, ``files`` (name -> path),
    ``bad_rows`` (DataFrame of file, line, reason) and ``extracted_at``.

    >>> import tempfile
    >>> from crmkit.dataset.synth import generate
    >>> out = write_extracts(generate("ice_cream", n_customers=40, seed=1),
    ...                      tempfile.mkdtemp(), bad_rows=False)
    >>> len(out["bad_rows"]), out["batch_id"].startswith("b-")
    (0, True)

    From a saved dataset, the same files:

    >>> from crmkit.dataset.synth import write_shop
    >>> folder = write_shop(tempfile.mkdtemp() + "/shop", "ice_cream", n_customers=40, seed=1)
    >>> again = write_extracts(folder, tempfile.mkdtemp(), bad_rows=False, chunk_rows=50)
    >>> again["batch_id"] == out["batch_id"]
    True
    """
    seed = _check_seed(seed)
    if not isinstance(chunk_rows, numbers.Integral) or isinstance(chunk_rows, bool) \
            or chunk_rows < 1:
        raise ParameterError(f"chunk_rows={chunk_rows!r} must be a whole number >= 1.")
    shop = ShopTables.of(data)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch = _Batch(out_dir, np.random.default_rng([seed, 2]), bad_rows)
    orders = shop.table("orders", _ORDER_COLUMNS)
    extracted_at = _extracted_at(shop.manifest, orders, as_of)
    customers = shop.table("customers")
    cards = _cards(customers["customer_id"], seed)
    emails = customers.set_index("customer_id")["email"].astype(object)
    legacy = _legacy(customers, cards, _updated_dates(customers, extracted_at, batch.rng),
                     batch.rng)
    del customers
    batch.emit("legacy_customers.csv", legacy, _legacy_bad(legacy, batch.rng, 3), broken=1)
    del legacy
    give_back_memory()
    p = shop.table("products")
    art_code = pd.Series([f"{(int(i) * 7919 + 1_000_003) % 10_000_000:07d}"
                          for i in p["product_id"]], index=p["product_id"].to_numpy())
    sku = p.set_index("product_id")["sku"]
    batch.emit("web_products.csv", p.copy())
    arts = pd.DataFrame({"codigo": art_code.to_numpy(), "sku": p["sku"].to_numpy(),
                         "descripcion": p["name"].str.upper().to_numpy(),
                         "pvp": p["list_price"].to_numpy()})
    batch.emit("pos_articles.csv", arts, decimal=",")
    batch.emit("web_campaigns.csv", _campaigns(shop.table("campaigns")))
    _write_orders(batch, shop, orders, chunk_rows, cards, emails, art_code, sku, p,
                  extracted_at - pd.Timedelta(days=3))
    del orders
    give_back_memory()
    for name, table, build, broken in (
            ("web_sessions.csv", "web_sessions", _sessions, 1),
            ("web_campaign_contacts.csv", "campaign_contacts", _contacts, 0),
            ("web_tickets.csv", "tickets", partial(_tickets, sku=sku), 0)):
        n_rows = shop.rows(table)
        ident = batch.identities(n_rows)
        batch.stream(name, (build(part, emails, cards, rng=ident) for part in
                            shop.chunks(table, rows=chunk_rows)),
                     batch.plan(name, n_rows, broken=broken))
        give_back_memory()
    return _finish(out_dir, batch.written, batch.bad_log, batch_id, extracted_at,
                   {"profile": shop.manifest.get("profile"), "seed": seed,
                    "card_seed": seed})


def _write_orders(batch: _Batch, shop: ShopTables, orders: pd.DataFrame, chunk_rows: int,
                  cards: pd.Series, emails: pd.Series, art_code: pd.Series, sku: pd.Series,
                  products: pd.DataFrame, day: pd.Timestamp) -> None:
    """``pos_sales.csv`` and ``web_orders.csv``, both written in one pass over the lines."""
    channels = orders[["order_id", "channel"]]
    n_pos = n_lines = 0
    for part in shop.chunks("order_lines", rows=chunk_rows, columns=["order_id"]):
        pos_l, _ = _order_lines(part, channels)
        n_pos, n_lines = n_pos + len(pos_l), n_lines + len(part)
    ident = batch.identities(n_lines - n_pos)
    next_id = int(orders["order_id"].max()) + 1 if len(orders) else 1
    pos_plan = batch.plan("pos_sales.csv", n_pos,
                          _order_bad("pos", next_id, products, art_code, day), broken=1)
    web_plan = batch.plan("web_orders.csv", n_lines - n_pos,
                          _order_bad("web", next_id + 10, products, art_code, day), broken=1)
    pos = _FileWriter(batch.out_dir / "pos_sales.csv", FILES["pos_sales.csv"], pos_plan)
    web = _FileWriter(batch.out_dir / "web_orders.csv", FILES["web_orders.csv"], web_plan)
    try:
        for part in shop.chunks("order_lines", rows=chunk_rows):
            pos_l, web_l = _order_lines(part, orders)
            pos.write(_comma(_pos_frame(pos_l, cards, art_code)))
            web.write(_web_frame(web_l, emails, cards, sku, ident))
    except BaseException:
        pos.abandon()
        web.abandon()
        raise
    pos.close()
    web.close()
    batch.written["pos_sales.csv"] = batch.out_dir / "pos_sales.csv"
    batch.written["web_orders.csv"] = batch.out_dir / "web_orders.csv"


def move_customers(customers: pd.DataFrame, *, share: float = 0.1, seed: int = 0
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A copy of ``customers`` where a ``share`` moved city and/or changed segment.

    Returns the new table and a log of the changes (customer_id, field, old, new),
    one row per field whose value really changed. The input is not modified.

    >>> from crmkit.dataset.synth import generate
    >>> c = generate("boutique", n_customers=50, seed=1).customers
    >>> new, log = move_customers(c, share=0.2, seed=3)
    >>> len(new) == len(c) and log["customer_id"].nunique() == 10
    True
    """
    seed = _check_seed(seed)
    if not 0 <= share <= 1:
        raise ParameterError(f"share={share!r} must be between 0 and 1.")
    rng = np.random.default_rng([seed, 5])
    new = customers.copy()
    n = len(new)
    k = int(round(share * n))
    who = np.sort(rng.choice(n, size=k, replace=False)) if k else np.empty(0, int)
    cities = LOCAL_CITIES + NATIONAL_CITIES
    log = []
    for i in who:
        row = new.iloc[i]
        cid = int(row["customer_id"])
        kind = rng.integers(0, 3)  # 0 move, 1 segment, 2 both
        if kind in (0, 2):
            choices = [c for c in cities if c[0] != row["city"]]
            city, first, count, _ = choices[rng.integers(0, len(choices))]
            post = f"{first + int(rng.integers(0, count)):05d}"
            addr = f"{STREETS[rng.integers(0, len(STREETS))]}, {int(rng.integers(1, 120))}"
            for col, val in (("city", city), ("postal_code", post), ("address", addr),
                             ("country", "ES")):
                if row[col] != val:  # the log holds real changes only (not ES -> ES)
                    log.append((cid, col, row[col], val))
                new.iloc[i, _position(new, col)] = val
        if kind in (1, 2):
            segs = [s for s in ("premium", "standard", "budget") if s != row["segment"]]
            val = segs[rng.integers(0, len(segs))]
            log.append((cid, "segment", row["segment"], val))
            new.iloc[i, _position(new, "segment")] = val
    changes = pd.DataFrame(log, columns=["customer_id", "field", "old", "new"])
    return new, changes


def _position(df: pd.DataFrame, column: str) -> int:
    """The position of ``column`` in ``df``, which must hold it exactly once."""
    at = df.columns.get_loc(column)
    if not isinstance(at, int):
        raise ParameterError(f"the customers table holds column {column!r} more than once; "
                             "give each column once.")
    return at


def write_customer_changes(data: CRMData, out_dir: str | Path, *, as_of: DayLike,
                           share: float = 0.1, seed: int = 0, card_seed: int = 0,
                           batch_id: str | None = None) -> dict[str, Any]:
    """Write a later batch of the legacy customer file, in which some customers changed.

    A ``share`` of customers moved city (new address and postal code) and/or
    got a new segment on a day before ``as_of``; the file holds every customer,
    as a spreadsheet would. ``card_seed`` must be the ``seed`` the first batch
    was written with (the loyalty cards are the same plastic).

    Returns what :func:`write_extracts` returns plus ``changes`` (customer_id,
    field, old, new, changed_on) and ``customers`` (the new customer table).

    >>> import tempfile
    >>> from crmkit.dataset.synth import generate
    >>> data = generate("boutique", n_customers=40, seed=1)
    >>> out = write_customer_changes(data, tempfile.mkdtemp(), as_of="2026-06-30",
    ...                              share=0.25, seed=4)
    >>> sorted(out["files"]), out["changes"]["customer_id"].nunique()
    (['legacy_customers.csv'], 10)
    """
    seed = _check_seed(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    extracted_at = _extracted_at(data.manifest, data.orders, as_of)
    previous = _extracted_at(data.manifest, data.orders, None)
    if extracted_at <= previous:
        raise ParameterError(
            f"as_of={as_of!r} must be after the first extraction ({previous:%Y-%m-%d}); "
            "a later batch describes a later day."
        )
    rng = np.random.default_rng([seed, 9])
    new, changes = move_customers(data.customers, share=share, seed=seed)
    span = max((extracted_at - previous).days, 1)
    changed_ids = changes["customer_id"].unique()
    change_day = pd.Series(previous + pd.to_timedelta(
        rng.integers(0, span, len(changed_ids)), unit="D"), index=changed_ids)
    changes["changed_on"] = change_day.reindex(changes["customer_id"].to_numpy()).to_numpy()
    # rows not changed keep the 'updated' day they had in the first batch
    first_rng = np.random.default_rng([_check_seed(card_seed), 2])
    updated = _updated_dates(data.customers, previous, first_rng)
    updated = updated.where(~data.customers["customer_id"].isin(changed_ids),
                            data.customers["customer_id"].map(change_day))
    cards = _cards(data.customers["customer_id"], card_seed)
    legacy = _legacy(new, cards, updated, rng)
    bad_log: list = []
    spec = FILES["legacy_customers.csv"]
    writer = _FileWriter(out_dir / spec.name, spec, _Planted((), (), False))
    writer.write(legacy)
    writer.close()
    out = _finish(out_dir, {spec.name: out_dir / spec.name}, bad_log, batch_id, extracted_at,
                  {"profile": data.manifest.get("profile"), "seed": seed,
                   "card_seed": card_seed})
    out["changes"] = changes
    out["customers"] = new
    return out
