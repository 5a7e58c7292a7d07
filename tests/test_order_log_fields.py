"""Order logs imported whole: order ids with several lines, a status column with a value map,
a cancellation flag or prefix, an amount beside price and quantity, and the time zone (UTC
unless given). Every expected quarantine and money total is worked out independently with
Python's csv module and Decimal from the file's text."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pandas as pd
import pytest

from crmkit.cli import main
from crmkit.errors import SourceError
from crmkit.sources.orders import OrderLogMapping, import_orders

STATUS_MAP = {"Entregado": "delivered", "Enviado": "shipped", "Cancelado": "cancelled",
              "Devuelto": "returned", "Pendiente": "placed"}

LOG = [
    "pedido,cliente,fecha,producto,unidades,precio,importe,estado,anulado",
    "P1,7,2024-03-01 10:00,A,2,10.00,18.00,Entregado,0",   # 2 amount 18.00 (a discount)
    "P1,7,2024-03-01 10:00,B,1,5.50,5.50,Entregado,0",     # 3
    "P2,8,2024-03-02 11:00,A,1,10.00,10.00,Cancelado,0",   # 4 cancelled by status
    "P3,9,2024-03-03 12:00,B,3,5.50,16.50,Enviado,1",      # 5 cancelled by flag
    "P4,7,2024-03-04 13:00,A,1,10.00,10.00,Perdido,0",     # 6 status not in the map
    "P5,8,2024-03-05 14:00,A,1,10.00,10.00,Devuelto,0",    # 7 returned
    "P6,9,2024-03-06 15:00,A,1,10.00,10.00,Entregado,0",   # 8
    "P6,9,2024-03-06 15:00,B,1,5.50,5.50,Cancelado,0",     # 9 status differs from line 8
    "P7,7,2024-03-07 16:00,B,2,5.50,11.00,Pendiente,quizá",  # 10 not a flag
    "P8,7,2024-03-08 17:00,B,1,5.50,5.50,,0",              # 11 empty status
]


def mapping(**extra) -> OrderLogMapping:
    return OrderLogMapping(customer="cliente", date="fecha", order="pedido", product="producto",
                           quantity="unidades", price="precio", amount="importe",
                           status="estado", status_map=STATUS_MAP, cancel_flag="anulado",
                           **extra)


@pytest.fixture
def log(tmp_path):
    f = tmp_path / "ventas.csv"
    f.write_text("\n".join(LOG) + "\n", encoding="utf-8")
    return f


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_status_map_flag_and_order_ids_quarantine_exactly(log):
    r = import_orders(log, mapping())
    q = r.quarantine[["line", "column", "reason"]].values.tolist()
    assert q == [[6, "estado", "status_not_in_map"],
                 [9, "estado", "conflicting_order"],
                 [10, "anulado", "not_a_flag"],
                 [11, "estado", "empty"]]
    rep = r.report.iloc[0]
    assert (rep["rows_read"], rep["rows_imported"], rep["rows_quarantined"]) == (
        len(rows_of(log)), 6, 4)
    o = r.data.orders.set_index("order_id")
    codes = r.codes["order_codes"].set_index("code")["order_id"]
    status = {c: o.loc[codes[c], "status"] for c in ("P1", "P2", "P3", "P5", "P6")}
    assert status == {"P1": "delivered", "P2": "cancelled", "P3": "cancelled",
                      "P5": "returned", "P6": "delivered"}
    assert r.notes["cancelled_orders"] == 2 and r.notes["returned_orders"] == 1
    assert r.notes["orders_by_status"] == {"cancelled": 2, "delivered": 2, "returned": 1}
    # a returned order gave its goods back (line 7: 10.00); the others gave nothing back
    assert {c: int(o.loc[codes[c], "refunded_cents"]) for c in status} == {
        "P1": 0, "P2": 0, "P3": 0, "P5": 1000, "P6": 0}
    # the log does not say when an order was cancelled by its status or flag
    assert o["cancelled_at"].isna().all()


def test_money_is_the_amount_column_when_a_log_has_both(log):
    r = import_orders(log, mapping())
    bad = set(r.quarantine["line"])
    kept = [row for i, row in enumerate(rows_of(log), 2) if i not in bad]
    want = sum(Decimal(row["importe"]) for row in kept)
    lines = r.data.order_lines
    assert Decimal(int(lines["amount_cents"].sum())) / 100 == want == Decimal("70.00")
    # the amount says what the line cost (18.00), not price x quantity (20.00)
    assert sorted(lines["amount_cents"].tolist()) == [550, 1000, 1000, 1000, 1650, 1800]
    assert sorted(lines["unit_price"].tolist()) == [5.5, 5.5, 10.0, 10.0, 10.0, 10.0]
    # revenue in the report leaves cancelled orders (P2, P3) and returns out (P5)
    live = [row for row in kept if row["estado"] in ("Entregado", "Enviado", "Pendiente")
            and row["anulado"] == "0"]
    assert Decimal(str(r.notes["revenue"])) == sum(Decimal(x["importe"]) for x in live)


def test_cancel_prefix_still_marks_cancellations(tmp_path):
    f = tmp_path / "retail.csv"
    f.write_text("inv,cust,when,qty,price\nA1,1,2024-01-02 10:00,1,2.50\n"
                 "C2,1,2024-01-03 10:00,-1,2.50\n", encoding="utf-8")
    r = import_orders(f, OrderLogMapping(customer="cust", date="when", order="inv",
                                         quantity="qty", price="price", cancel_prefix="C"))
    assert r.data.orders["status"].tolist() == ["placed", "cancelled"]
    assert r.notes["revenue"] == 2.5


def test_the_mapping_keeps_status_map_and_flag_in_yaml():
    m = mapping()
    assert OrderLogMapping.from_yaml_text(m.to_yaml()) == m


@pytest.mark.parametrize("bad, message", [
    ({"status_map": {"x": "lost"}}, "lost"),
    ({"status": None}, "status_map"),
])
def test_a_wrong_status_mapping_is_refused_with_the_allowed_values(bad, message):
    args = {"customer": "c", "date": "d", "amount": "a", "status": "s",
            "status_map": {"x": "cancelled"}} | bad
    with pytest.raises(SourceError, match=message):
        OrderLogMapping(**args)


def test_an_order_log_is_utc_unless_a_time_zone_is_given(tmp_path):
    f = tmp_path / "log.csv"
    # 02:30 on 31 March 2024 does not exist in Madrid (the clocks jump from 02:00 to 03:00)
    f.write_text("c,d,a\n1,2024-03-31 02:30,1.00\n", encoding="utf-8")
    m = OrderLogMapping(customer="c", date="d", amount="a")
    utc = import_orders(f, m)
    assert utc.data.manifest["timezone"] == "UTC"
    assert utc.notes["timezone"] == "UTC (default: the log gives no time zone)"
    assert str(utc.data.orders["placed_at"].iloc[0]) == "2024-03-31 02:30:00"
    assert utc.notes["dst_gap_moved_forward"] == 0
    madrid = import_orders(f, m, timezone="Europe/Madrid")
    assert madrid.notes["timezone"] == "Europe/Madrid (given)"
    assert madrid.notes["dst_gap_moved_forward"] == 1


def test_the_cli_reads_an_order_log_as_utc_and_says_so(tmp_path, capsys):
    f = tmp_path / "log.csv"
    f.write_text("c,d,a\n1,2024-03-31 02:30,1.00\n", encoding="utf-8")
    out = tmp_path / "shop"
    assert main(["import", "orders", str(f), "--customer", "c", "--date", "d",
                 "--amount", "a", "--out", str(out)]) == 0
    assert "timezone: UTC (default" in capsys.readouterr().out
    report = json.loads((out / "import_report.json").read_text(encoding="utf-8"))
    assert json.dumps(report).count("UTC (default") == 1
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["timezone"] == "UTC"


def test_cli_status_flags(tmp_path, log):
    out = tmp_path / "shop"
    spec = tmp_path / "map.yaml"
    spec.write_text(mapping().to_yaml(), encoding="utf-8")
    assert main(["import", "orders", str(log), "--mapping", str(spec), "--out", str(out)]) == 0
    orders = pd.read_csv(out / "orders.csv")
    assert (orders["status"] == "cancelled").sum() == 2


def test_revenue_after_import_leaves_cancelled_orders_out_and_nets_returns(log):
    """crmkit.analytics.kpis.order_profit on the imported log: revenue (gross - discounts -
    returns) equals the kept lines of orders neither cancelled nor returned, from the text."""
    from crmkit.analytics.kpis import order_profit

    r = import_orders(log, mapping())
    bad = set(r.quarantine["line"])
    rows = [row for i, row in enumerate(rows_of(log), 2) if i not in bad]
    live = sum(Decimal(row["importe"]) for row in rows
               if row["estado"] not in ("Cancelado", "Devuelto") and row["anulado"] == "0")
    op = order_profit(r.data, margin=0.5)
    revenue = Decimal(str(round(float((op["gross"] - op["discounts"] - op["returns"]).sum()), 2)))
    assert revenue == live == Decimal("33.50")


def test_cli_status_map_and_cancel_flag_on_the_command_line(tmp_path, log):
    out = tmp_path / "shop"
    status_map = ",".join(f"{k}={v}" for k, v in STATUS_MAP.items())
    assert main(["import", "orders", str(log), "--customer", "cliente", "--date", "fecha",
                 "--order", "pedido", "--quantity", "unidades", "--price", "precio",
                 "--amount", "importe", "--status", "estado", "--status-map", status_map,
                 "--cancel-flag", "anulado", "--out", str(out)]) == 0
    quarantine = pd.read_csv(out / "quarantine.csv")
    assert quarantine["line"].tolist() == [6, 9, 10, 11]
    assert (pd.read_csv(out / "orders.csv")["status"] == "cancelled").sum() == 2


def test_a_malformed_status_map_is_one_line_exit_2(tmp_path, log, capsys):
    code = main(["import", "orders", str(log), "--customer", "cliente", "--date", "fecha",
                 "--amount", "importe", "--status", "estado", "--status-map", "Anulado",
                 "--out", str(tmp_path / "shop")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "VALUE=STATUS" in err[0]
