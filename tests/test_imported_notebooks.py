"""Every notebook runs to the end on imported data: the Shopify example and CDNOW.

Sections whose tables a shop lacks say so and are skipped; exercises that
cannot apply say "skipped"; nothing else may fail. Reports for a dataset go
to a folder named after the shop, and a solution failing its own check makes
the report run fail.
"""

from __future__ import annotations

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


EXPECTED = {  # what each import holds, and which exercises of notebook 01 cannot apply
    "shopify": (423, {"win_rate", "late_incidents"}),
    "cdnow": (69_659, {"win_rate", "late_incidents", "selection", "mail_and_phone", "weakest_field",
                       "out_of_hours"}),  # CDNOW records days, not times of day
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
    with pytest.raises(ParameterError, match="is not a folder"):
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
