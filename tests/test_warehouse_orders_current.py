"""``staging.orders_current``: an order is what its newest line says.

A later batch may re-send only some of an order's lines: the shop re-exports the line
that was returned, or a line that was moved to another customer. The order's customer,
status, dates and money are then those of the newest line (latest batch, then the
latest line of the file), whatever order the engine happens to scan the lines in.

The second batch here is made by hand from the first batch's own lines, so the answer is
known by construction.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from crmkit.warehouse.build import build_warehouse, connect

EXTRACTS = Path(__file__).resolve().parents[1] / "data" / "extracts" / "boutique"


def _web_orders(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(folder / "web_orders.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _two_line_orders(rows: list[dict[str, str]], status: str) -> list[list[dict[str, str]]]:
    by_order: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_order.setdefault(r["order_number"], []).append(r)
    return [lines for lines in by_order.values()
            if len(lines) == 2 and all(r["status"] == status for r in lines)
            and lines[0]["customer_email"]]


def resend(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], dict[int, dict]]:
    """The second batch's lines and, per order id, what the order must say after it."""
    delivered = _two_line_orders(rows, "delivered")
    returned, moved = delivered[0], delivered[1]
    other = next(r["customer_email"] for r in rows
                 if r["customer_email"] and r["customer_email"] != moved[0]["customer_email"])
    # the returned line alone is re-sent, with the order's new status
    back = pd.Timestamp(returned[1]["delivered_at"]) + pd.Timedelta(days=3)
    late = dict(returned[1], status="returned", returned_at=back.isoformat())
    # the first line alone is re-sent, now for another customer (a corrected guest order)
    fixed = dict(moved[0], customer_email=other)
    expect = {
        int(returned[0]["order_number"].lstrip("#")): {"status": "returned", "email": None},
        int(moved[0]["order_number"].lstrip("#")): {"status": "delivered", "email": other},
    }
    return [late, fixed], expect


def write_resent(first: Path, second: Path) -> dict[int, dict]:
    """Write ``second``/web_orders.csv: two of ``first``'s web order lines re-sent (see
    :func:`resend`); returns what each of those orders must say."""
    fields, rows = _web_orders(first)
    lines, expect = resend(rows)
    second.mkdir(exist_ok=True)
    with open(second / "web_orders.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(lines)
    return expect


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("orders_current")
    first = root / "b1"
    shutil.copytree(EXTRACTS, first)
    expect = write_resent(first, root / "b2")
    (root / "b2" / "extracts_manifest.json").write_text(json.dumps(
        {"batch_id": "b-resent", "extracted_at": "2026-02-01"}), encoding="utf-8")
    db = build_warehouse(first, root / "w.duckdb", batches=[root / "b2"])
    return db, expect


def _orders(db) -> pd.DataFrame:
    con = connect(db)
    try:
        return con.execute("SELECT * FROM staging.orders_current ORDER BY order_id").df()
    finally:
        con.close()


def test_a_resent_line_gives_the_order_its_new_status(shop):
    db, expect = shop
    orders = _orders(db).set_index("order_id")
    returned = next(k for k, v in expect.items() if v["status"] == "returned")
    assert orders.loc[returned, "status"] == "returned"
    assert pd.notna(orders.loc[returned, "returned_at"])


def test_a_resent_line_gives_the_order_its_new_customer(shop):
    db, expect = shop
    moved = next(k for k, v in expect.items() if v["email"])
    con = connect(db)
    try:
        want = con.execute("SELECT customer_id FROM staging.customer_rows "
                           "WHERE lower(email) = lower(?)", [expect[moved]["email"]]).fetchall()
    finally:
        con.close()
    got = _orders(db).set_index("order_id").loc[moved, "customer_id"]
    assert len({w[0] for w in want}) == 1 and got == want[0][0]


def test_every_order_is_its_newest_staged_line(shop):
    """A plain pandas recomputation: per order, the row of the latest batch, then line."""
    db, _ = shop
    con = connect(db)
    try:
        lines = con.execute("SELECT * FROM staging.order_lines").df()
    finally:
        con.close()
    got = _orders(db)
    newest = (lines.sort_values(["order_id", "batch_seq", "line", "file"])
              .groupby("order_id", sort=True).tail(1))
    want = newest[got.columns].sort_values("order_id", ignore_index=True)
    assert len(got) == lines["order_id"].nunique()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)


def test_the_view_is_the_same_whatever_the_threads(shop):
    db, _ = shop
    seen = []
    for threads in (1, 2, 4):
        con = connect(db)
        try:
            con.execute(f"SET threads = {threads}")
            seen.append(con.execute(
                "SELECT * FROM staging.orders_current ORDER BY order_id").df())
        finally:
            con.close()
    for other in seen[1:]:
        pd.testing.assert_frame_equal(seen[0], other)


def drop_customer_row(first: Path, email: str) -> list[str]:
    """Take out of ``first``'s customer sheet the row(s) of the customer with ``email`` (a
    planted duplicate included); every other line stays byte for byte, its planted damage
    too. Returns the lines taken out."""
    sheet = first / "legacy_customers.csv"
    lines = sheet.read_bytes().decode("utf-8").splitlines(keepends=True)
    gone = [line for line in lines if email.lower() in line.lower()]
    assert 1 <= len(gone) <= 2  # the row, and a planted duplicate of it
    sheet.write_bytes("".join(line for line in lines if line not in gone).encode("utf-8"))
    return gone


@pytest.fixture(scope="module")
def late_customer(tmp_path_factory):
    """A customer whose sheet row arrives only with the second batch: the first batch's web
    orders name them by e-mail, which no customer row matched then."""
    root = tmp_path_factory.mktemp("late_customer")
    first = root / "b1"
    shutil.copytree(EXTRACTS, first)
    second = root / "b2"
    second.mkdir()
    shutil.copyfile(first / "legacy_customers.csv", second / "legacy_customers.csv")
    _, web = _web_orders(first)
    email = next(r["customer_email"] for r in web if r["customer_email"])
    gone = drop_customer_row(first, email)
    with open(second / "legacy_customers.csv", newline="", encoding="utf-8") as f:
        head = next(csv.reader(f))
    customer = {int(r[head.index("Cust No")]) for r in csv.reader(gone)}
    assert len(customer) == 1
    (second / "extracts_manifest.json").write_text(json.dumps(
        {"batch_id": "b-late", "extracted_at": "2026-02-01"}), encoding="utf-8")
    db = build_warehouse(first, root / "w.duckdb", batches=[second])
    orders = {int(r["order_number"].lstrip("#")) for r in web
              if r["customer_email"].strip().lower() == email.lower()}
    return db, customer.pop(), orders


def test_a_customer_whose_row_arrives_later_owns_their_earlier_orders(late_customer):
    db, customer, placed = late_customer
    got = _orders(db).set_index("order_id")
    owners = got.loc[sorted(placed), "customer_id"].tolist()  # a guest's would be <NA>
    assert placed and owners == [customer] * len(placed)


def test_every_order_has_the_customer_the_marts_link_it_to(late_customer):
    """The marts resolve who an order names (e-mail, card) against every customer row
    loaded so far; the current orders say the same customer."""
    db, _, _ = late_customer
    con = connect(db)
    try:
        marts = con.execute(
            "SELECT DISTINCT f.order_id, nullif(c.customer_id, -1) AS customer_id "
            "FROM marts.fact_order_line f JOIN marts.dim_customer c USING (customer_key) "
            "ORDER BY 1").df()
    finally:
        con.close()
    got = _orders(db)[["order_id", "customer_id"]]
    assert len(marts) == len(got)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), marts, check_dtype=False)


def test_the_integrated_tables_link_the_late_customer_too(late_customer):
    """read_tables (the pandas path's input) gives the same owner, and every table with a
    customer column names them as the marts do."""
    from crmkit.warehouse.build import read_tables

    db, customer, placed = late_customer
    tables = read_tables(db)
    orders = tables["orders"].set_index("order_id")
    assert orders.loc[sorted(placed), "customer_id"].tolist() == [customer] * len(placed)
    con = connect(db)
    try:
        ref = con.execute("SELECT 'email:' || lower(trim(email)) FROM staging.customer_rows "
                          "WHERE customer_id = ? LIMIT 1", [customer]).fetchone()[0]
        unlinked = con.execute(
            "SELECT (SELECT count(*) FROM staging.web_sessions WHERE customer_ref = ?) + "
            "(SELECT count(*) FROM staging.campaign_contacts WHERE customer_ref = ?) + "
            "(SELECT count(*) FROM staging.tickets WHERE customer_ref = ?)",
            [ref, ref, ref]).fetchone()[0]
    finally:
        con.close()
    owned = sum(int((tables[t]["customer_id"] == customer).sum())
                for t in ("web_sessions", "campaign_contacts", "tickets"))
    assert unlinked >= 1 and owned >= unlinked
