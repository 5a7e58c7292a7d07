"""The dashboard: tables, filters, the standalone HTML page and its command."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pytest

from crmkit.analytics.campaigns import rfm_segments
from crmkit.analytics.kpis import monthly_kpis
from crmkit.cli import main
from crmkit.errors import ParameterError
from crmkit.lessons import dashboard as dash

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data():
    from crmkit.dataset.synth import generate

    return generate("bendita", n_customers=500, seed=3)


def test_board_values_and_targets_are_the_last_and_previous_three_months(data):
    tables = dash.dashboard_tables(data)
    monthly = monthly_kpis(data)
    whole = monthly[~monthly["partial"]]
    for kpi in ("sessions", "conversion_rate", "active_customers"):
        row = tables["board"].loc[kpi]
        assert row["value"] == pytest.approx(whole[kpi].iloc[-3:].mean(), abs=1e-4)
        assert row["target"] == pytest.approx(whole[kpi].iloc[-6:-3].mean(), abs=1e-4)
        assert row["basis"] == "previous" and row["window"] == 3
    assert tables["segments"].sum() == len(rfm_segments(data)) and len(tables["segments"]) == 11
    roi = tables["campaigns"]["roi"].to_numpy()
    assert (roi[:-1] >= roi[1:]).all() and len(roi) <= 5


def _flat(months=12, value=100.0):
    import pandas as pd

    return pd.DataFrame({"sessions": [value] * months, "active_customers": [value] * months,
                         "partial": [False] * months},
                        index=pd.period_range("2024-01", periods=months, freq="M"))


@pytest.mark.parametrize("start,end", [("2024-12", "2024-12"), ("2024-11", "2024-12"),
                                       ("2024-10", "2024-12"), ("2024-04", "2024-06")])
def test_a_short_period_of_a_flat_shop_is_on_target_not_red(start, end):
    board = dash.board(_flat(), start=start, end=end)
    assert set(board["status"]) == {"green"}
    assert (board["target"] == 100.0).all() and set(board["basis"]) == {"previous"}


def test_the_target_is_the_previous_period_of_the_same_length_never_the_value():
    m = _flat()
    m["sessions"] = [10.0 * (i + 1) for i in range(12)]  # 10, 20, ... 120
    row = dash.board(m, start="2024-07", end="2024-08").loc["sessions"]
    # value: July-August (70, 80); target: May-June (50, 60), known by construction
    assert (row["value"], row["target"], row["window"]) == (75.0, 55.0, 2)
    assert (str(row["target_from"]), str(row["target_to"])) == ("2024-05", "2024-06")
    row = dash.board(m, start="2024-03", end="2024-12").loc["sessions"]
    assert (row["value"], row["target"]) == (110.0, 80.0)  # last 3 vs the 3 before
    first = dash.board(m, start="2024-01", end="2024-02").loc["sessions"]
    assert first["basis"] == "none" and first["status"] == "grey"  # nothing earlier
    set_ = dash.board(m, start="2024-01", end="2024-02", targets={"sessions": 20}).loc[
        "sessions"]
    assert (set_["target"], set_["basis"], set_["status"]) == (20.0, "set", "red")


def test_each_tile_says_where_its_target_comes_from(data):
    tables = dash.dashboard_tables(data, start="2025-04", end="2025-06")
    row = tables["board"].loc["sessions"]
    assert dash.target_text("sessions", row, data, "en").endswith(
        "(previous 3 months, Jan 2025 – Mar 2025)")
    assert "3 meses anteriores, ene 2025 – mar 2025" in dash.target_text(
        "sessions", row, data, "es")
    page = dash.dashboard_html(data, targets={"active_customers": 50}, lang="es")
    assert "objetivo fijado" in page


def _pandas_tiles(data, source, segment):
    """Every tile of the dashboard recomputed with plain pandas from the raw tables."""
    import pandas as pd

    from crmkit.analytics.kpis import order_profit

    seg = rfm_segments(data)
    ids = set(seg.index[seg == segment]) if segment else None
    months = pd.period_range("2024-01", "2025-12", freq="M")
    s = data.web_sessions
    if ids is not None:
        s = s[s["customer_id"].isin(ids)]
    if source is not None:
        s = s[s["traffic_source"] == source]
    month = s["started_at"].dt.to_period("M")
    sessions = s.groupby(month).size().reindex(months, fill_value=0).astype(float)
    conv = s["converted_order_id"].notna().groupby(month).mean().reindex(months)
    profit = order_profit(data)  # per order (tested in test_kpis); filtered here by hand
    profit = profit[profit["customer_id"].notna()]
    if ids is not None:
        profit = profit[profit["customer_id"].isin(ids)]
    active = (profit[profit["gross"] > 0].groupby("month")["customer_id"].nunique()
              .reindex(months, fill_value=0))
    c, tk = data.campaign_contacts, data.tickets.dropna(subset=["customer_id"])
    if ids is not None:
        c, tk = c[c["customer_id"].isin(ids)], tk[tk["customer_id"].isin(ids)]
    cps = (profit.groupby("month")["order_profit"].sum().reindex(months, fill_value=0)
           - c.groupby(c["sent_at"].dt.to_period("M"))["cost"].sum().reindex(months,
                                                                               fill_value=0)
           - 12.0 * tk.groupby(tk["opened_at"].dt.to_period("M")).size().reindex(
               months, fill_value=0)) / active.where(active > 0)
    out = {}
    for kpi, col in (("sessions", sessions), ("conversion_rate", conv),
                     ("cps_per_customer", cps), ("active_customers", active.astype(float))):
        out[kpi] = (col.iloc[-3:].mean(), col.iloc[-6:-3].mean())
    return out


@pytest.fixture(scope="module")
def small():
    from crmkit.dataset.synth import generate

    return generate("bendita", n_customers=150, seed=5)


def test_every_tile_equals_pandas_for_every_source_and_segment(small):
    from crmkit.analytics.segments import SEGMENTS

    sources = [None] + sorted(set(small.web_sessions["traffic_source"]))
    checked = 0
    for source in sources:
        for segment in (None, *SEGMENTS):
            tables = dash.dashboard_tables(small, source=source, segment=segment)
            want = _pandas_tiles(small, source, segment)
            for kpi, (value, target) in want.items():
                if kpi not in tables["board"].index:
                    assert np.isnan(value) and np.isnan(target), (source, segment, kpi)
                    continue
                row = tables["board"].loc[kpi]
                got = (row["value"], row["target"])
                assert got == pytest.approx((value, target), abs=1e-4, nan_ok=True), (
                    source, segment, kpi)
                checked += 1
    assert checked > 4 * len(sources) * 5


def test_source_and_segment_together_keep_both_filters_on_sessions(small):
    champions = set(rfm_segments(small).pipe(lambda s: s.index[s == "champions"]))
    part = dash.filter_data(small, source="email", segment="champions")
    want = small.web_sessions[small.web_sessions["customer_id"].isin(champions)
                              & (small.web_sessions["traffic_source"] == "email")]
    assert len(part.web_sessions) == len(want) < (small.web_sessions["traffic_source"]
                                                  == "email").sum()


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


def test_the_standalone_dashboard_and_notebook_04_draw_the_same_shop():
    from pathlib import Path

    from crmkit.cli import build_parser
    from crmkit.report import notebook_parameters

    nb = notebook_parameters(Path(__file__).parents[1] / "notebooks" / "04_case_bendita.ipynb")
    args = build_parser().parse_args(["dashboard", "--profile", nb["profile"]])
    assert (args.seed, args.customers) == (nb["seed"], nb["n_customers"])
    from crmkit.dataset.synth import DEFAULT_END, DEFAULT_START

    assert (DEFAULT_START, DEFAULT_END) == (nb["start"], nb["end"])


def test_a_chosen_segment_shows_only_its_customers_in_the_segment_chart(small):
    seg = rfm_segments(small)
    tables = dash.dashboard_tables(small, segment="champions", source="email")
    counts = tables["segments"]
    assert counts["champions"] == (seg == "champions").sum()
    assert counts.drop("champions").sum() == 0


def test_the_conversion_heat_map_fits_its_labels_in_its_cells_without_warnings(small):
    import warnings

    import matplotlib.pyplot as plt

    from crmkit.analytics.experiments import conversion_heatmap

    table = conversion_heatmap(small)
    with warnings.catch_warnings(), plt.rc_context({"figure.autolayout": True}):
        warnings.simplefilter("error")  # the old "Tight layout not applied" fails here
        ax = dash.plot_conversion_heatmap(table, lang="es")
        fig = ax.figure
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.get_size_inches() * fig.dpi
    assert width >= 500 and height >= 300  # the old picture: 235 x 370 px
    rows, cols = table.shape
    cell = ax.get_window_extent(renderer)
    for text in ax.texts:  # each percentage inside its own cell
        box = text.get_window_extent(renderer)
        assert box.width < cell.width / cols and box.height < cell.height / rows
        assert "," in text.get_text() and text.get_text().endswith("%")
    for label in ax.get_yticklabels():  # row labels left of the map, inside the figure
        box = label.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= cell.x0
    assert ax.collections[0].get_cmap().name == "cividis"
    plt.close(fig)
