"""The cube explorer: its static view is right, is always shown, and the widget is optional."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmkit.dataset.synth import generate  # noqa: E402
from crmkit.errors import ParameterError  # noqa: E402
from crmkit.lessons.widgets import MEASURES, cube_explorer, cube_view, plot_cube_view  # noqa: E402
from crmkit.warehouse.build import build_warehouse, query  # noqa: E402
from crmkit.warehouse.cube import ALL  # noqa: E402


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    data = generate("sports_shop", n_customers=150, seed=3)
    return build_warehouse(data, tmp_path_factory.mktemp("widgets") / "shop.duckdb")


@pytest.fixture
def shown(monkeypatch):
    """Everything the explorer displays, instead of a notebook's output area."""
    import IPython.display

    items = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, *a, **k: items.append((obj, k)))
    monkeypatch.setattr(plt, "show", lambda *a, **k: items.append(("figure", plt.gcf())))
    yield items
    plt.close("all")


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


def test_static_view_is_always_shown_without_widgets(db, shown):
    view = cube_explorer(db, lang="es", interactive=False)
    tables = [obj for obj, _ in shown if isinstance(obj, pd.DataFrame)]
    figures = [obj for obj, _ in shown if isinstance(obj, str)]
    assert len(tables) == 1 and len(shown) == 2 and figures == ["figure"]
    assert tables[0].index.name == "Departamento" and "(todos)" in tables[0].columns
    pd.testing.assert_frame_equal(view, cube_view(db))


def test_with_widgets_the_static_view_comes_first_and_reports_get_a_note(db, shown):
    pytest.importorskip("ipywidgets")
    cube_explorer(db, rows="segment", columns="year", measure="units", lang="en",
                  interactive=True)
    assert isinstance(shown[0][0], pd.DataFrame) and isinstance(shown[1][0], str)
    bundle, options = shown[2]
    assert options.get("raw") is True
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("[Interactive cube explorer")


def test_the_widget_redraws_on_a_new_choice(db, shown, capsys):
    widgets = pytest.importorskip("ipywidgets")
    created = []
    original = widgets.VBox.__init__

    def spy(self, *a, **k):
        original(self, *a, **k)
        created.append(self)

    import unittest.mock

    with unittest.mock.patch.object(widgets.VBox, "__init__", spy):
        cube_explorer(db, lang="en", interactive=True)
    box = created[-1]
    rows, cols, measure = box.children[0].children
    assert [o[1] for o in measure.options] == list(MEASURES)
    before = len(shown)
    measure.value = "margin"  # the callback draws the new view into the Output widget
    new = [obj for obj, _ in shown[before:] if isinstance(obj, pd.DataFrame)]
    assert len(new) == 1 and "Margin" in str(plt.gca().get_title())
    rows.value = cols.value  # the same dimension twice: a message, not an error
    assert "two different dimensions" in capsys.readouterr().out


def test_plot_cube_view_labels_speak_the_language(db):
    ax = plot_cube_view(cube_view(db, rows="segment", columns="channel"), lang="es")
    assert ax.get_title() == "Ingresos por segmento y canal"
    assert ax.get_xlabel() == "Canal"
    plt.close("all")
