"""Every notebook runs to the end on imported data: the Shopify example and CDNOW.

Sections whose tables a shop lacks say so and are skipped; exercises that
cannot apply say "skipped"; nothing else may fail. Reports for a dataset go
to a folder named after the shop, and a solution failing its own check makes
the report run fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from notebook_runs import run

from crmkit.cli import main
from crmkit.errors import ParameterError
from crmkit.lessons.figures import figure_payload
from crmkit.report import failing_exercises, run_reports, shop_folder

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "examples" / "shopify"
CDNOW = ROOT / "data" / "real" / "cdnow" / "CDNOW_master.txt"


@pytest.fixture(scope="module")
def shops(tmp_path_factory):
    root = tmp_path_factory.mktemp("shops")
    assert main(["import", "shopify", str(EXAMPLE / "orders_export.csv"), "--customers",
                 str(EXAMPLE / "customers_export.csv"), "--products",
                 str(EXAMPLE / "products_export.csv"), "--shop-name", "Bendita",
                 "--out", str(root / "shopify")]) == 0
    assert main(["import", "orders", str(CDNOW), "--customer", "customer_id", "--date", "date",
                 "--quantity", "number_of_cds", "--amount", "dollar_value", "--date-format",
                 "%Y%m%d", "--currency", "USD", "--timezone", "America/New_York",
                 "--shop-name", "CDNOW", "--out", str(root / "cdnow")]) == 0
    return root


#: Exercises on tables an export does not hold (incidents, newsletter, customisations...).
NO_OUTSIDE_01 = {"agenda_help", "handoffs_total", "crm_users", "newsletter_prospects",
                 "customisation_to_promote"}
NO_OUTSIDE_04 = {"store_busiest_month", "till_conversion", "store_kpi_change", "staff_month",
                 "subscriber_buyer_share", "freed_budget", "seo_best_term", "alert_negatives",
                 "shares_reach", "influencer_to_renew", "nps_segment"}
EXPECTED = {  # what each import holds, and which exercises of notebook 01 cannot apply
    "shopify": (423, {"win_rate", "late_incidents", "late_channel", "target_group",
                      "fund_medium",  # no acquisition channel, gender or birth date
                      *NO_OUTSIDE_01}),
    "cdnow": (69_659, {"win_rate", "late_incidents", "late_channel", "selection", "mail_and_phone",
                       "weakest_field", "target_group", "collect_first", "fund_medium",
                       "out_of_hours",  # CDNOW records days, not times of day
                       *NO_OUTSIDE_01, "organise_by", "luxury_audience", "one_to_one_ready"}),
}


@pytest.mark.parametrize("shop, lang", [("shopify", "en"), ("cdnow", "es")])
def test_notebook01_runs_on_imported_data(shops, shop, lang, tmp_path):
    figures = run("01_crm_concepts.ipynb", tmp_path / "out.ipynb",
                  data_dir=str(shops / shop), lang=lang)
    orders, skipped = EXPECTED[shop]
    assert figures["orders"] == orders
    status = figures["exercise_status"]["status"]
    assert set(status[status == "skipped"].index) == skipped
    assert (status[status != "skipped"] == "correct").all(), status.to_dict()
    text = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in text.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    note = ("se omite la sección 5" if lang == "es" else "section 5 is skipped")
    assert note in printed


@pytest.mark.parametrize("shop", ["shopify", "cdnow"])
def test_notebook02_keeps_the_lesson_on_a_demo_copy_and_builds_the_shops_own_warehouse(
        shops, shop, tmp_path):
    figures = run("02_warehouse.ipynb", tmp_path / "out.ipynb", data_dir=str(shops / shop),
                  n_customers=400, seed=7, warehouse_dir=str(tmp_path / "wh"))
    assert figures["own_orders_loaded"] == EXPECTED[shop][0]
    # the data tests the notebook reports are those of the shop's own warehouse
    assert figures["own_data_tests_passed"] == figures["own_data_tests_total"] > 40
    status = figures["exercise_status"]["status"]
    assert (status == "correct").all(), status.to_dict()
    own = tmp_path / "wh" / f"{shop if shop == 'cdnow' else 'bendita'}.duckdb"
    assert own.exists()
    # the planted bad rows and the second batch live in the demo copy's warehouse only
    from crmkit.warehouse import load_report, quarantine

    assert len(quarantine(own)) == 0 and load_report(own)["balanced"].all()


def test_reports_for_a_dataset_go_to_the_shops_slug(shops, tmp_path):
    assert shop_folder({"data_dir": str(shops / "cdnow")}) == "cdnow"
    assert shop_folder({"profile": "boutique"}) == "boutique"
    with pytest.raises(ParameterError, match="either a shop profile or a dataset folder"):
        run_reports(["01"], profiles=["boutique"], parameters={"data_dir": str(shops)},
                    out_dir=tmp_path)
    with pytest.raises(ParameterError, match="nope.* does not exist; .*crmkit import"):
        run_reports(["01"], parameters={"data_dir": str(tmp_path / "nope")}, out_dir=tmp_path)


def _executed_with_status(path: Path, statuses: dict) -> Path:
    import pandas as pd

    frame = pd.DataFrame({"status": statuses}).rename_axis("exercise")
    data, meta = figure_payload("exercise_status", frame)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("record(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=meta)]
    nb.cells = [cell]
    nbformat.write(nb, str(path))
    return path


def test_a_solution_failing_its_own_check_is_found():
    import tempfile

    folder = Path(tempfile.mkdtemp())
    bad = _executed_with_status(folder / "bad.ipynb", {"a": "correct", "b": "incorrect",
                                                        "c": "skipped", "d": "missing"})
    assert failing_exercises(bad) == {"b": "incorrect"}
    good = _executed_with_status(folder / "good.ipynb", {"a": "correct", "c": "skipped"})
    assert failing_exercises(good) == {}


EXPECTED_04 = {  # notebook 04: the exercises each import cannot answer, and the note it shows
    "shopify": ({"busiest_month", "email_conversion", "abandoned_carts", "best_roi",
                 "significant_uplift", "sample_size", "kpi_behind_change", "test_in_a_month",
                 "fund_campaign", "channel_to_plan", "scale_campaign", *NO_OUTSIDE_04},
                "section 2 is skipped"),
    "cdnow": ({"busiest_month", "email_conversion", "abandoned_carts", "best_roi", "sample_size",
               "significant_uplift", "negative_cps", "champions_email", "win_back_60",
               "kpi_behind_change", "test_in_a_month", "fund_campaign", "channel_to_plan",
               "scale_campaign", *NO_OUTSIDE_04}, "se omite la sección 4"),
}


@pytest.mark.parametrize("shop, lang", [("shopify", "en"), ("cdnow", "es")])
def test_notebook04_runs_on_imported_data(shops, shop, lang, tmp_path):
    figures = run("04_case_bendita.ipynb", tmp_path / "out.ipynb",
                  data_dir=str(shops / shop), lang=lang)
    assert figures["orders"] == EXPECTED[shop][0]
    skipped, note = EXPECTED_04[shop]
    status = figures["exercise_status"]["status"]
    assert set(status[status == "skipped"].index) == skipped
    assert (status[status != "skipped"] == "correct").all(), status.to_dict()
    # what the shop lacks is recorded as unknown, never as an invented zero
    assert figures["sessions"] is None and figures["campaigns"] is None
    assert figures["ab_tests"] is None and figures["significant_uplift"] is None
    assert list(figures["kpi_board"].index) == (
        ["cps_per_customer", "active_customers"] if shop == "shopify" else ["active_customers"])
    text = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in text.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert note in printed
    name = "Bendita" if shop == "shopify" else "CDNOW"
    assert name in printed  # the shop's own name, not a profile's
    if shop == "shopify":
        assert figures["customers"] == 150 and figures["flows"]["triggered"]["welcome"] > 0
    else:
        assert figures["customers"] is None and figures["flows"] is None


@pytest.mark.parametrize("shop", ["shopify", "cdnow"])
def test_the_dashboard_of_an_imported_shop_shows_what_it_has(shops, shop, tmp_path):
    out = tmp_path / f"{shop}.html"
    assert main(["dashboard", "--data", str(shops / shop), "--lang", "es", "--out",
                 str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert ("Bendita" if shop == "shopify" else "CDNOW") in page
    assert "data:image/png;base64," in page
    # the CPS (in euros) only where the products' costs are known; CDNOW is priced in dollars
    assert ("€" in page) == (shop == "shopify")
    # no web visits: the footfall row says what is missing instead of a figure
    assert re.search(r"Afluencia \(sesiones\)</td><td colspan='\d+'>Sin medir: necesita visitas "
                     "web", page)


def test_analyses_of_absent_tables_raise_one_clear_error(shops):
    from crmkit.analytics import automation, campaigns, experiments, kpis
    from crmkit.dataset.crmdata import CRMData
    from crmkit.errors import MissingTableError

    log = CRMData.load(shops / "cdnow")
    for call, table in ((lambda: kpis.footfall(log), "web_sessions"),
                        (lambda: kpis.conversion_rate(log), "web_sessions"),
                        (lambda: kpis.customer_profitability(log), "products"),
                        (lambda: campaigns.segment_actions(log), "customers"),
                        (lambda: campaigns.effectiveness(log), "campaigns"),
                        (lambda: campaigns.incremental_effect(log), "campaigns"),
                        (lambda: experiments.activity_heatmap(log), "web_sessions"),
                        (lambda: automation.flow_triggers(log, "welcome"), "customers")):
        with pytest.raises(MissingTableError, match=f"no table '{table}'") as err:
            call()
        assert err.value.table == table
    assert automation.available_flows(log) == ()
    # what an order log does have is measured: the RFM segments of every buyer
    assert campaigns.rfm_segments(log).size == 23_570
    shop = CRMData.load(shops / "shopify")
    cps = kpis.customer_profitability(shop)
    assert len(cps) == 150 and (cps["cost_to_serve"] == 0).all()  # no contacts, no incidents
    assert (cps["cps"] == cps["revenue"] - cps["cost_of_sales"]).all()
    assert automation.available_flows(shop) == ("welcome", "win_back", "birthday")
    with pytest.raises(MissingTableError, match="web_sessions"):
        automation.flow_triggers(shop, "abandoned_cart")
