"""The dashboard: tables, filters, the standalone HTML page and its command."""

from __future__ import annotations

import re

import matplotlib
import pytest

from crmkit.analytics.campaigns import rfm_segments
from crmkit.analytics.kpis import kpi_board, monthly_kpis
from crmkit.cli import main
from crmkit.errors import ParameterError
from crmkit.lessons import dashboard as dash

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data():
    from crmkit.dataset.synth import generate

    return generate("bendita", n_customers=500, seed=3)


def test_board_is_the_kpi_board_of_the_monthly_kpis(data):
    tables = dash.dashboard_tables(data)
    want = kpi_board(monthly_kpis(data)[["sessions", "conversion_rate", "cps_per_customer",
                                         "active_customers"]])
    assert tables["board"].equals(want)
    assert tables["segments"].sum() == len(rfm_segments(data)) and len(tables["segments"]) == 11
    roi = tables["campaigns"]["roi"].to_numpy()
    assert (roi[:-1] >= roi[1:]).all() and len(roi) <= 5


def test_filters_keep_only_what_was_asked(data):
    part = dash.filter_data(data, start="2025-01", end="2025-03", source="email",
                            segment="champions")
    champions = set(rfm_segments(data).pipe(lambda s: s.index[s == "champions"]))
    assert set(part.customers["customer_id"]) == champions
    assert set(part.orders["customer_id"]) <= champions
    assert set(part.web_sessions["traffic_source"]) == {"email"}
    months = part.orders["placed_at"].dt.to_period("M").astype(str)
    assert set(months) <= {"2025-01", "2025-02", "2025-03"}
    assert part.order_lines["order_id"].isin(part.orders["order_id"]).all()
    assert len(data.orders) > len(part.orders)  # the input is left alone
    with pytest.raises(ParameterError, match="segment='vip'"):
        dash.filter_data(data, segment="vip")


def test_html_page_is_self_contained_and_shows_each_light(data):
    page = dash.dashboard_html(data, lang="es")
    assert "Cuadro de mando" in page and page.count("<tr>") == 5
    assert not re.search(r"""(src|href)=["']https?:""", page)
    board = dash.dashboard_tables(data)["board"]
    for status in board["status"]:
        assert dash.COLOURS[status] in page


def test_dashboard_command_writes_the_page(tmp_path, capsys):
    out = tmp_path / "site" / "bendita.html"
    assert main(["dashboard", "--profile", "bendita", "--customers", "300", "--lang", "en",
                 "--out", str(out)]) == 0
    assert "Dashboard" in out.read_text(encoding="utf-8")
    assert "dashboard written" in capsys.readouterr().out
    assert main(["dashboard", "--profile", "bendita", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_dashboard_from_a_dataset_folder(tmp_path, data):
    folder = data.save(tmp_path / "shop")
    out = tmp_path / "d.html"
    assert main(["dashboard", "--data", str(folder), "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
