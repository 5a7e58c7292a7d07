"""The schema diagram follows the warehouse's metadata; the load report plot adds up."""

from __future__ import annotations

import shutil

import duckdb
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from crmkit.dataset.extracts import write_extracts  # noqa: E402
from crmkit.dataset.synth import generate  # noqa: E402
from crmkit.errors import ParameterError  # noqa: E402
from crmkit.warehouse.build import build_warehouse, load_report  # noqa: E402
from crmkit.warehouse.diagrams import (  # noqa: E402
    plot_load_report,
    plot_star_schema,
    schema_links,
)

STAR = {"dim_date", "dim_customer", "dim_product", "dim_channel", "dim_campaign"}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots")
    write_extracts(generate("boutique", n_customers=120, seed=2), root / "b1", seed=1)
    return build_warehouse(root / "b1", root / "shop.duckdb")


def _boxes(ax) -> set[str]:
    return {t.get_text().split("\n")[0] for t in ax.texts if "\n" in t.get_text()}


def test_links_are_read_from_the_metadata(db):
    links = schema_links(db)
    fact = links[(links["table"] == "fact_order_line") & (links["kind"] == "dim")]
    assert set(fact["refers_to"]) == STAR
    snow = links.set_index("table")
    assert snow.loc["snow_product", "refers_to"] == "snow_category"
    assert snow.loc["snow_category", "refers_to"] == "snow_department"
    ticket = links[links["table"] == "fact_ticket"]
    assert set(ticket.loc[ticket["column"] == "closed_date_key", "refers_to"]) == {"dim_date"}


def test_star_diagram_draws_the_fact_and_its_dimensions(db):
    ax = plot_star_schema(db, lang="en")
    assert _boxes(ax) == {"fact_order_line"} | STAR
    assert ax.get_title().startswith("Star schema of fact_order_line")
    plt.close("all")


def test_snowflake_diagram_follows_the_chain_of_keys(db):
    ax = plot_star_schema(db, style="snowflake", lang="es")
    boxes = _boxes(ax)
    assert {"snow_product", "snow_category", "snow_department"} <= boxes
    assert "dim_product" not in boxes
    assert ax.get_title().startswith("Esquema en copo de nieve")
    plt.close("all")


def test_a_new_dimension_appears_without_touching_the_plot_code(db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(db, copy)
    con = duckdb.connect(str(copy))
    con.execute("CREATE TABLE marts.dim_store (store_key VARCHAR, store_name VARCHAR)")
    con.execute("ALTER TABLE marts.fact_order_line ADD COLUMN store_key VARCHAR")
    con.close()
    ax = plot_star_schema(copy)
    assert "dim_store" in _boxes(ax)
    plt.close("all")


def test_unknown_fact_or_style_is_named(db):
    with pytest.raises(ParameterError, match="fact='fact_sales'.*fact_order_line"):
        plot_star_schema(db, fact="fact_sales")
    with pytest.raises(ParameterError, match="style"):
        plot_star_schema(db, style="galaxy")


def test_load_report_plot_has_two_bars_per_file_on_a_log_scale(db):
    report = load_report(db)
    ax = plot_load_report(report, lang="es")
    assert len(ax.patches) == 2 * report["file"].nunique()
    assert ax.get_xscale() == "log"
    assert ax.get_title() == "Filas cargadas y en cuarentena por fichero"
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths[-1] == report["rows_loaded"].max()
    plt.close("all")
    with pytest.raises(ParameterError, match="load report"):
        plot_load_report(report.drop(columns="rows_loaded"))
