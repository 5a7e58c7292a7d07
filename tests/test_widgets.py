"""The cube explorer: its static view is right, is always shown, and the widget is optional."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmkit.dataset.synth import generate  # noqa: E402
from crmkit.errors import ParameterError  # noqa: E402
from crmkit.lessons.widgets import (  # noqa: E402
    MEASURES,
    cube_explorer,
    cube_view,
    default_columns,
    plot_cube_view,
)
from crmkit.warehouse.build import build_warehouse, query  # noqa: E402
from crmkit.warehouse.cube import ALL  # noqa: E402


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    data = generate("sports_shop", n_customers=150, seed=3)
    return build_warehouse(data, tmp_path_factory.mktemp("widgets") / "shop.duckdb")


class Shown(list):
    """What the explorer sends to the notebook: displays, and updates of a display id."""

    def __init__(self):
        super().__init__()
        self.updates = []


@pytest.fixture
def shown(monkeypatch):
    """Everything the explorer displays, instead of a notebook's output area."""
    import IPython.display

    items = Shown()

    class Handle:
        def __init__(self, number):
            self.number = number

        def update(self, obj, **kwargs):
            items.updates.append((self.number, obj, kwargs))

    def display(obj, *a, **k):
        items.append((obj, k))
        return Handle(len(items) - 1) if k.get("display_id") else None

    monkeypatch.setattr(IPython.display, "display", display)
    yield items
    plt.close("all")


def _views(bundles):
    """The HTML blocks of the views, with the choice each one shows."""
    import re

    out = []
    for b in bundles:
        m = re.search(r'data-rows="([^"]*)" data-columns="([^"]*)" data-measure="([^"]*)"',
                      b["text/html"])
        out.append((m.groups(), b["text/html"].count("<img"), b["text/html"]))
    return out


def test_cube_view_subtotals_add_up_and_match_the_fact_table(db):
    view = cube_view(db, rows="department", columns="channel")
    detail = view.drop(index=ALL, columns=ALL)
    pd.testing.assert_series_equal(detail.sum(axis=1), view[ALL].drop(ALL), check_names=False)
    pd.testing.assert_series_equal(detail.sum(axis=0), view.loc[ALL].drop(ALL),
                                   check_names=False)
    total = query(db, "SELECT sum(net_amount) AS r FROM marts.fact_order_line")["r"][0]
    assert view.loc[ALL, ALL] == pytest.approx(total)
    assert list(view.index)[-1] == ALL and list(view.columns)[-1] == ALL


def test_distinct_counts_are_not_added_up(db):
    view = cube_view(db, rows="channel", columns="year", measure="orders")
    orders = query(db, "SELECT count(DISTINCT order_id) AS n FROM marts.fact_order_line")
    assert view.loc[ALL, ALL] == orders["n"][0]
    # an order has one channel but may not span years: the row totals are distinct counts
    assert view.dtypes.eq("int64").all()


@pytest.mark.parametrize("kwargs, word", [
    ({"rows": "channel", "columns": "channel"}, "two different"),
    ({"measure": "profit"}, "measure"),
    ({"rows": "colour"}, "colour"),
])
def test_bad_choices_name_the_parameter(db, kwargs, word):
    with pytest.raises(ParameterError, match=word):
        cube_view(db, **kwargs)


def test_static_view_is_one_output_with_table_and_heat_map(db, shown):
    figures_before = plt.get_fignums()
    view = cube_explorer(db, lang="es", interactive=False)
    assert len(shown) == 1
    bundle, options = shown[0]
    assert options.get("raw") is True and options.get("display_id") is True
    ((choice, images, html),) = _views([bundle])
    assert choice == ("department", "channel", "revenue") and images == 1
    assert "Departamento" in html and "(todos)" in html
    assert bundle["text/plain"].startswith("Ingresos por departamento y canal")
    assert plt.get_fignums() == figures_before  # pyplot never saw the heat map
    pd.testing.assert_frame_equal(view, cube_view(db))


def test_with_widgets_the_controls_come_first_and_reports_get_a_note(db, shown):
    pytest.importorskip("ipywidgets")
    cube_explorer(db, rows="segment", columns="year", measure="units", lang="en",
                  interactive=True)
    bundle, options = shown[0]
    assert options.get("raw") is True
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("[Interactive cube explorer")
    assert "shown below" in bundle["text/plain"]
    ((choice, images, _),) = _views([shown[1][0]])
    assert choice == ("segment", "year", "units") and images == 1 and len(shown) == 2


def _controls(db, **kwargs):
    widgets = pytest.importorskip("ipywidgets")
    created = []
    original = widgets.HBox.__init__

    def spy(self, *a, **k):
        original(self, *a, **k)
        created.append(self)

    import unittest.mock

    with unittest.mock.patch.object(widgets.HBox, "__init__", spy):
        cube_explorer(db, lang="en", interactive=True, **kwargs)
    return created[-1].children


def test_each_choice_replaces_the_one_view_in_place(db, shown):
    rows, cols, measure = _controls(db)
    assert [o[1] for o in measure.options] == list(MEASURES)
    view_output = 1  # the output under the controls
    measure.value = "margin"
    rows.value = "segment"
    cols.value = "year"
    assert len(shown) == 2, "a redraw adds no output: it replaces the view"
    assert [n for n, _, _ in shown.updates] == [view_output] * 3
    assert all(k.get("raw") for _, _, k in shown.updates)
    views = _views([b for _, b, _ in shown.updates])
    assert [c for c, _, _ in views] == [("department", "channel", "margin"),
                                        ("segment", "channel", "margin"),
                                        ("segment", "year", "margin")]
    assert all(images == 1 for _, images, _ in views)  # table and heat map, always together
    assert "Margin by segment and year" in shown.updates[-1][1]["text/plain"]


def test_the_same_dimension_twice_gives_a_sentence_in_place_of_the_view(db, shown):
    rows, cols, _ = _controls(db)
    rows.value = cols.value
    bundle = shown.updates[-1][1]
    assert "two different dimensions" in bundle["text/plain"] and "<img" not in bundle[
        "text/html"]
    rows.value = "segment"  # and back to a real view
    assert _views([shown.updates[-1][1]])[0][1] == 1


def test_grand_total_is_the_same_cent_in_every_view(db):
    totals = {cube_view(db, rows=r, columns=c, measure=m).loc[ALL, ALL]
              for r, c in [("department", "channel"), ("city", "year_month"),
                           ("category", "payment_method"), ("segment", "quarter")]
              for m in ("revenue",)}
    assert len(totals) == 1
    exact = query(db, "SELECT CAST(sum(CAST(net_amount AS DECIMAL(18, 4))) AS DOUBLE) AS r "
                      "FROM marts.fact_order_line")["r"][0]
    assert totals == {exact}


def test_missing_and_unknown_are_one_row_and_names_sort_as_in_a_dictionary(db):
    view = cube_view(db, rows="city", columns="year", measure="orders")
    labels = [v for v in view.index if v != ALL]
    assert "(none)" not in labels
    assert labels[-1] == "(unknown)" or "(unknown)" not in labels
    import unicodedata

    def plain(v):
        return "".join(c for c in unicodedata.normalize("NFKD", v)
                       if not unicodedata.combining(c)).casefold()

    named = [v for v in labels if v != "(unknown)"]
    assert named == sorted(named, key=plain)
    orders = query(db, "SELECT count(DISTINCT order_id) AS n FROM marts.fact_order_line")
    assert view.loc[ALL, ALL] == orders["n"][0]
    assert view.drop(index=ALL)[ALL].sum() == orders["n"][0]  # each order in one city


def test_a_one_channel_shop_gets_another_column_dimension(tmp_path):
    one = build_warehouse(generate("bendita", n_customers=80, seed=2), tmp_path / "b.duckdb")
    assert default_columns(one) == "segment"
    view = cube_view(one, rows="department", columns=default_columns(one))
    assert view.shape[1] >= 3  # two segments or more, and the total


def test_plot_cube_view_labels_speak_the_language(db):
    ax = plot_cube_view(cube_view(db, rows="segment", columns="channel"), lang="es")
    assert ax.get_title() == "Ingresos por segmento y canal"
    assert ax.get_xlabel() == "Canal"
    plt.close("all")


def test_accented_names_sort_with_their_letter_and_nulls_join_the_unknown_member():
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE s AS SELECT * FROM (VALUES ('Zaragoza', 'web', 1, 1.0), "
                "('Ávila', 'web', 2, 2.0), ('Burgos', 'store', 3, 4.0), "
                "(NULL, 'web', 4, 8.0), ('(unknown)', 'store', 5, 16.0), "
                "('ávila', 'store', 6, 32.0)) v(city, channel, order_id, net_amount)")
    view = cube_view(con, rows="city", columns="channel", measure="revenue", table="s")
    assert list(view.index) == ["Ávila", "ávila", "Burgos", "Zaragoza", "(unknown)", ALL]
    assert view.loc["(unknown)", ALL] == 24.0 and view.loc[ALL, ALL] == 63.0
    orders = cube_view(con, rows="city", columns="channel", measure="orders", table="s")
    assert orders.loc["(unknown)", "web"] == 1 and orders.loc["(unknown)", ALL] == 2
