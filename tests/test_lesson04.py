"""Lesson 04 helpers: the exercises are right for every shop, the checks and charts work."""

from __future__ import annotations

import matplotlib
import pytest

from crmkit.errors import ParameterError
from crmkit.lessons import lesson04
from crmkit.lessons.exercises import AnyOf, answer_key

matplotlib.use("Agg")


def test_every_exercise_accepts_its_own_answer_for_every_shop(small_data, profile):
    data = small_data(profile)
    book = lesson04.exercise_book(data, lang="es")
    for name in book.names:
        # a shop that sells in store only has no web visits: those exercises are skipped
        if not data.has("web_visits") and name in (
                "busiest_month", "email_conversion", "abandoned_carts", "sample_size"):
            assert book.judge(name, 1).status == "skipped", name
            continue
        want = answer_key(book, name)
        want = want[0] if isinstance(want, AnyOf) else want
        assert book.judge(name, want).status == "correct", name
    assert book.judge("smart_letter", " a ").status == "correct"
    assert book.judge("smart_letter", "T").status == "incorrect"


def test_smart_table_marks_the_failing_letter():
    table = lesson04.smart_table(lesson04.example_objective(), "es")
    assert table["meets"].to_dict() == {"S": True, "M": True, "A": False, "R": True, "T": True}
    assert table.loc["A", "rule"].startswith("Alcanzable")


@pytest.mark.parametrize("bad", [{"win_back_days": 1.5}, {"min_effect": 0},
                                 {"alpha": 0.9}, {"alpha": True}])
def test_parameters_are_checked(bad):
    params = {"win_back_days": 90, "min_effect": 0.01, "alpha": 0.05, **bad}
    with pytest.raises(ParameterError, match=next(iter(bad))):
        lesson04.check_parameters(**params)


def test_charts_return_their_axes(small_data):
    from crmkit.analytics import automation, campaigns, kpis

    data = small_data("bendita")
    assert lesson04.plot_footfall(data, lang="es").get_title() == "Afluencia por mes"
    assert len(lesson04.plot_funnel(data).patches) == 3
    assert lesson04.plot_cps(kpis.customer_profitability(data)).get_xlabel() == "CPS (€)"
    effects = campaigns.incremental_effect(data)
    ax = lesson04.plot_uplift(effects, truth=data.truth["campaigns"])
    assert len(ax.get_yticks()) == effects["ci_low"].notna().sum()
    ax = lesson04.plot_flows(automation.weekly_flows(data), lang="es")
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "Bienvenida", "Carrito abandonado", "Recuperación", "Cumpleaños"}
