"""Reports and dashboard on a shop's own data, as the README's analyst guide runs them.

The commands run from a folder laid out like the repository's root (its ``data``
folder), with the README's relative paths. Every page a reader gets says its
language, carries the shop's name, and shows no ``None``/``nan``/``NaT`` and, in
Spanish, no number or date written the English way (``tests/page_checks.py``).
A three-month shop (both ends cut mid-month) and a shop without product costs
render notebooks 01 and 04 to the end. Notebook runs are kept few: 01 and 04 on the
Shopify example, 04 on CDNOW (whose notebook 01 runs in test_imported_notebooks), and
none of 02 and 03 (their own imported-data tests run them).
"""

from __future__ import annotations

import re
import shlex
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from page_checks import page, raw_cells, slips

from crmkit.analytics import kpis
from crmkit.cli import main
from crmkit.dataset.crmdata import CRMData
from crmkit.errors import ParameterError
from crmkit.report import find_notebooks, from_here, shared_parameters

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_command(start: str) -> list[str]:
    """The README's command that begins ``crmkit <start>`` (in a code block or inline,
    wrapped over lines or not), as the words after ``crmkit``."""
    text = README.replace("\\\n", " ")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    lines = [line.split(" # ")[0] for block in blocks for line in block.splitlines()]
    inline = re.findall(r"`([^`]*crmkit [^`]*)`", re.sub(r"```.*?```", "", text, flags=re.S))
    for line in lines + [" ".join(span.split()) for span in inline]:
        words = shlex.split(line)
        if words and words[0].endswith("crmkit") and " ".join(words[1:]).startswith(start):
            return words[1:]
    raise AssertionError(f"the README has no command `crmkit {start}`")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A working folder laid out like the repository's root, with the two README imports."""
    here = tmp_path_factory.mktemp("analyst")
    (here / "data").symlink_to(ROOT / "data")
    return here


def _in(folder: Path, argv: list[str]) -> int:
    import os

    old = Path.cwd()
    os.chdir(folder)
    try:
        return main(argv)
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def imported(root):
    shopify = readme_command("import shopify data/examples/shopify/orders_export.csv")
    cdnow = readme_command("import orders data/real/cdnow/CDNOW_master.txt")
    assert shopify[-1] == "bendita" and cdnow[-1] == "cdnow"  # --out, relative to here
    assert _in(root, shopify) == 0 and _in(root, cdnow) == 0
    return root


def _html(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def _check_page(path: Path, lang: str, shop: str) -> None:
    html = path.read_text(encoding="utf-8")
    seen_lang, text = page(html)
    assert seen_lang == lang, path
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert shop in title and "Notebook" not in title, (path, title)
    assert slips(html) == [], (path, slips(html)[:5])


@pytest.mark.parametrize("shop, name, notebooks", [("bendita", "Bendita", ["01", "02", "03", "04"]),
                                                    ("cdnow", "CDNOW", ["04"])])
def test_readme_report_and_dashboard_commands_run_as_written(imported, shop, name, notebooks):
    report = readme_command("report --data my_shop")
    assert report[:3] == ["report", "--data", "my_shop"]
    # the README's command for this shop's folder (relative to here): every notebook in both
    # languages on the Shopify example; notebook 04 only on CDNOW (CI time: CDNOW's other
    # notebooks have their own imported-data tests)
    argv = ["report", *notebooks, "--data", shop] + report[3:] + ["--no-progress"]
    assert _in(imported, argv) == 0
    pages = _html(imported / "reports" / shop)
    assert {p.parent.name for p in pages} == {"en", "es"} and len(pages) == 2 * len(notebooks)
    for path in pages:
        _check_page(path, path.parent.name, name)
    dash = readme_command("dashboard --data my_shop")
    assert _in(imported, [w.replace("my_shop", shop) for w in dash]) == 0
    for lang in ("es", "en"):
        assert _in(imported, ["dashboard", "--data", shop, "--lang", lang]) == 0
        default = imported / f"{shop}-dashboard.html"  # no --out: named after the shop
        _check_page(default, lang, name)
    _check_page(imported / f"{shop}.html", "en", name)


def _cdnow_by_hand() -> dict[int, Decimal]:
    """Each CDNOW customer's dollars, summed with Decimal from the text (a plain split)."""
    want: dict[int, Decimal] = {}
    with open(ROOT / "data" / "real" / "cdnow" / "CDNOW_master.txt", encoding="ascii") as f:
        next(f)
        for fields in (line.split() for line in f):
            if fields:
                who = int(fields[0])
                want[who] = want.get(who, Decimal(0)) + Decimal(fields[3])
    return want


def test_readme_warehouse_commands_run_as_written_on_cdnow(imported, capsys):
    """Step 2 of the guide and its data tests, the README's words with CDNOW's folder (the
    Shopify example's run is test_warehouse_dataset's): every data test passes and the facts
    link to every customer of the file with the file's totals to the cent."""
    shop = "cdnow"
    build = readme_command("warehouse build my_shop.duckdb --data my_shop")
    check = readme_command("warehouse test bendita.duckdb")
    assert _in(imported, [w.replace("my_shop", shop) for w in build]) == 0
    capsys.readouterr()
    assert _in(imported, [w.replace("bendita", shop) for w in check]) == 0
    passed, failed = map(int, re.search(r"(\d+) passed, (\d+) failed",
                                        capsys.readouterr().out).groups())
    assert failed == 0 and passed > 40
    import duckdb

    want = _cdnow_by_hand()
    assert len(want) == 23_570  # the published count of CDNOW's customers
    con = duckdb.connect(str(imported / "cdnow.duckdb"), read_only=True)
    try:
        got = dict(con.execute(
            "SELECT c.customer_id, sum(f.net_amount) FROM marts.fact_order_line f "
            "JOIN marts.dim_customer c USING (customer_key) GROUP BY 1").fetchall())
    finally:
        con.close()
    assert got == want  # every customer linked, each total to the cent (Decimal)


def test_pages_of_the_old_kind_are_caught():
    """The check itself: what the Spanish dashboard used to write must fail it."""
    old = ('<html lang="es"><head><title>Notebook</title></head><body><p>CPS 67.36 €; '
           "activos 1,477; periodo 2025-01-03; edad None; NaN</p></body></html>")
    found = " | ".join(slips(old))
    for bad in ("67.36", "1,477", "2025-01-03", "None", "NaN"):
        assert bad in found
    good = ('<html lang="es"><body><p>CPS 67,36 €; activos 1.477; 0,125; periodo 3/1/2025'
            '</p><div class="jp-InputArea"><pre>answer = None</pre></div></body></html>')
    assert slips(good) == []
    english = ('<html lang="en"><body><table><tr><th>share</th><td>0.4141</td>'
               "<td>1476.6667</td><td>0.414</td><td>1,476.667</td></tr></table>"
               "<p>a ratio of 0.4141 in a sentence is the sentence's</p></body></html>")
    assert slips(english) == ["table cell 0.4141", "table cell 1476.6667"]


def test_english_tables_write_decimals_through_the_locale_formatter():
    """English tables showed pandas' raw decimals (0.4141, 1476.6667) where Spanish ones
    showed 0,414: both now go through the locale formatter (Babel: at most three decimals,
    thousands grouped)."""
    from crmkit.i18n import display_numbers

    table = pd.DataFrame({"share": [0.41414141], "kpi": [1476.6666667]})
    try:
        display_numbers("en")
        shown = (table.to_string(), table.to_html())
    finally:
        display_numbers("en")
    for text in shown:
        assert "0.414" in text and "1,476.667" in text and "0.4141" not in text
    assert raw_cells(table.to_html()) == []


# ----------------------------------------------------------------------------- short shops
def _cut(data: CRMData, start: str, end: str) -> CRMData:
    o = data.orders
    last = pd.Timestamp(end) + pd.Timedelta(days=1)
    keep = o[(o["placed_at"] >= start) & (o["placed_at"] < last)]
    tables = dict(data.tables)
    tables["orders"] = keep
    tables["order_lines"] = data.order_lines[data.order_lines["order_id"].isin(keep["order_id"])]
    return CRMData(tables, {**data.manifest, "start": start, "end": end,
                            "shop_name": "Tres Meses"})


@pytest.fixture(scope="module")
def short_shops(imported):
    shop = CRMData.load(imported / "bendita")
    three = _cut(shop, "2025-01-10", "2025-04-05").save(imported / "three_months")
    products = shop.products.assign(unit_cost=np.nan)
    no_costs = CRMData({**shop.tables, "products": products},
                       {**shop.manifest, "shop_name": "Sin Costes"}).save(imported / "no_costs")
    return {"three_months": three, "no_costs": no_costs}


@pytest.mark.parametrize("shop, name, notebooks", [("three_months", "Tres Meses", ["01", "04"]),
                                                  ("no_costs", "Sin Costes", ["01", "04"])])
def test_short_and_costless_shops_render_to_the_end(imported, short_shops, shop, name,
                                                    notebooks):
    argv = ["report", *notebooks, "--data", shop, "--lang", "es", "--no-progress", "--out",
            f"short_{shop}"]
    assert _in(imported, argv) == 0  # a failing cell or exercise would exit 1
    slug = CRMData.load(short_shops[shop]).slug
    pages = _html(imported / f"short_{shop}" / slug / "es")
    assert len(pages) == len(notebooks)
    for path in pages:
        _check_page(path, "es", name)
    case = (imported / f"short_{shop}" / slug / "es" / "04_case_bendita.html").read_text("utf-8")
    if shop == "no_costs":  # the CPS says what is missing instead of a figure
        assert "0 de los 40 productos vendidos lo tienen" in case
        assert "CPS de todo el fichero" not in case
    else:  # the months cut short are named and not judged
        assert "enero de 2025" in case and "abril de 2025" in case


# ----------------------------------------------------------------------------- the rules
def test_kpi_board_leaves_partial_months_out_and_fits_the_window_to_the_history():
    # three whole months (10, 20, 30) between two partial ones (1 and 2): partial months
    # would drag the value and the target down if they counted
    m = pd.DataFrame({"active_customers": [1, 10, 20, 30, 2],
                      "partial": [True, False, False, False, True]})
    board = kpis.kpi_board(m).loc["active_customers"]
    assert board["window"] == 1  # half of three whole months: value and target never overlap
    assert board["value"] == 30 and board["target"] == pytest.approx(10 * 1.1)
    assert board["status"] == "green"
    one = kpis.kpi_board(pd.DataFrame({"active_customers": [5, 7], "partial": [True, False]}))
    assert one.loc["active_customers", "status"] == "grey"  # no target from one month
    assert np.isnan(one.loc["active_customers", "target"])


def test_months_cut_short_are_marked_partial(imported, short_shops):
    m = kpis.monthly_kpis(CRMData.load(short_shops["three_months"]))
    assert m["partial"].to_dict() == {pd.Period("2025-01"): True, pd.Period("2025-02"): False,
                                      pd.Period("2025-03"): False, pd.Period("2025-04"): True}


def test_cps_needs_the_products_costs_or_a_stated_margin(imported, short_shops):
    shop = CRMData.load(short_shops["no_costs"])
    assert kpis.cps_missing(shop) == {"reason": "costs_unknown", "known": 0, "sold": 40}
    with pytest.raises(ParameterError, match="0 of the 40 products sold"):
        kpis.customer_profitability(shop)
    assert kpis.monthly_kpis(shop)["cps_per_customer"].isna().all()
    # with a stated margin the cost of goods is revenue x (1 - margin), recomputed by hand
    profit = kpis.order_profit(shop, margin=0.4, carrier_cost=0.0)
    lines = shop.order_lines.assign(net=shop.order_lines["quantity"]
                                    * shop.order_lines["unit_price"]
                                    * (1 - shop.order_lines["discount"]))
    live = shop.orders.loc[~shop.orders["status"].isin(["cancelled", "returned"]), "order_id"]
    by_hand = lines[lines["order_id"].isin(live)]["net"].sum() * 0.6
    assert profit["cogs"].sum() == pytest.approx(by_hand, rel=1e-9)


def test_folders_are_read_from_where_the_command_runs(tmp_path):
    assert from_here({"data_dir": "my_shop", "n": 1}, tmp_path) == {
        "data_dir": str(tmp_path / "my_shop"), "n": 1}
    assert from_here({"data_dir": "/abs/shop"}, tmp_path)["data_dir"] == "/abs/shop"


def test_a_parameter_goes_to_the_notebooks_that_have_it():
    nbs = find_notebooks(["01", "03"])
    given = shared_parameters(nbs, {"holdout_days": 90, "lang": "es"})
    assert given[nbs[0]] == {"lang": "es"}
    assert given[nbs[1]] == {"holdout_days": 90, "lang": "es"}
    with pytest.raises(ParameterError, match="no notebook of this run has a parameter "
                                             "'holdout_dys'. Did you mean 'holdout_days'"):
        shared_parameters(nbs, {"holdout_dys": 90})


def _few_repeat_buyers() -> CRMData:
    """Six customers buy in spring; five of them again in August (after the training
    cutoff), one not; three in November (after the test cutoff): one training customer
    alone did not buy again."""
    from crmkit.dataset.schema import conform

    rows: list[tuple[int, int, pd.Timestamp]] = []
    for who, day in ([(c, f"2024-0{c}-10") for c in range(1, 7)]
                     + [(c, "2024-08-01") for c in range(1, 6)]
                     + [(c, "2024-11-15") for c in (1, 3, 6)]):
        rows.append((len(rows) + 1, who, pd.Timestamp(day)))
    o = pd.DataFrame(rows, columns=["order_id", "customer_id", "placed_at"]).assign(
        status="delivered", channel="web", paid_at=pd.NaT, shipped_at=pd.NaT,
        delivered_at=pd.NaT, cancelled_at=pd.NaT, returned_at=pd.NaT, payment_method=None,
        shipping_cost=0.0, discount_code=None, campaign_id=pd.NA)
    lines = pd.DataFrame({"order_id": o["order_id"], "line_number": 1, "product_id": 1,
                          "quantity": 1, "unit_price": 10.0, "discount": 0.0,
                          "amount_cents": 1000})
    return CRMData({"orders": conform("orders", o, currency="EUR"),
                    "order_lines": conform("order_lines", lines, currency="EUR")},
                   {"shop_name": "Pocos", "start": "2024-01-01", "end": "2024-12-31",
                    "currency": "EUR"}).validate()


def test_one_customer_of_a_kind_is_too_few_to_learn_from_and_the_section_says_so():
    """A small shop's notebook 03 stopped in sklearn's stratified split ("The least populated
    classes in y have only 1 member"); the model section now says why it cannot run."""
    from crmkit.analytics.churn import evaluate_repurchase
    from crmkit.errors import ModelError
    from crmkit.lessons import mining
    from crmkit.lessons.lesson03 import Split

    shop = _few_repeat_buyers()
    with pytest.raises(ModelError, match="only 1 customer did not buy again"):
        evaluate_repurchase(shop, cutoff="2024-10-02", horizon_days=90)
    split = Split(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-10-02"),
                  pd.Timestamp("2024-12-31"))
    result, reason = mining.fit_or_explain(mining.repurchase_check, shop, split)
    assert result is None and "only 1 customer did not buy again" in reason


def test_a_shop_where_no_model_runs_has_an_empty_scoreboard_of_the_boards_shape():
    """Every model section skipped (a small order log): notebook 03 stopped at its headline
    figures (KeyError 'score' on a board without columns); the empty board keeps the
    board's columns and index, and reads as an empty table with no sentence."""
    from crmkit.lessons import mining

    board = mining.scoreboard()
    assert board.empty and {"score", "verdict", "kind", "chosen"} <= set(board.columns)
    assert list(board.index.names) == ["question", "method"]
    flat = board.set_axis([f"{q}.{m}" for q, m in board.index])  # as notebook 03 records it
    assert flat[["score"]].empty and flat[["verdict"]].empty
    assert mining.scoreboard_sentences(board, "es") == []
    assert mining.board_table(board, "es").empty
    fc = pd.DataFrame({"actual": [10.0, 12, 11, 13], "ets": [10.5, 11.5, 11, 12.5],
                       "naive": [9.0, 10, 12, 11], "seasonal_naive": [11.0, 13, 10, 12]})
    assert list(mining.scoreboard(forecasts=fc).columns) == list(board.columns)  # same shape
