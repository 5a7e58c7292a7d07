"""Lesson 04 helpers: the exercises are right for every shop, the checks and charts work."""

from __future__ import annotations

import math

import matplotlib
import pytest
from scipy.stats import norm

from crmkit.errors import ParameterError
from crmkit.grading.keys import answer as answer_key
from crmkit.lessons import lesson04
from crmkit.lessons.exercises import AnyOf

matplotlib.use("Agg")


def _plain_answers(data) -> dict:
    """Answers of the exercises that plain pandas and the textbook formula give directly."""
    out = {"smart_letter": "A"}   # 3 % -> 15 % is five times the baseline: not Attainable
    if data.has("web_visits"):
        s = data.web_sessions
        converted = s["converted_order_id"].notna()
        month = s["started_at"].dt.to_period("M")
        out["busiest_month"] = int(s.groupby(month).size().max()) if len(s) else 0
        email = converted[s["traffic_source"] == "email"]
        out["email_conversion"] = float(email.mean()) if len(email) else 0.0
        out["abandoned_carts"] = int((s["added_to_cart"] & ~converted).sum())
        # two proportions, power 0.8 at 5 % two-sided (Cohen's h), baseline to 3 decimals
        p1 = round(float(converted.mean()), 3)
        h = 2 * math.asin(math.sqrt(p1 + lesson04.LIFT)) - 2 * math.asin(math.sqrt(p1))
        out["sample_size"] = math.ceil(2 * ((norm.ppf(0.975) + norm.ppf(0.8)) / h) ** 2)
    return out


def _wrong(value):
    """An answer that must be rejected: the right one moved well outside any tolerance."""
    if isinstance(value, str):
        return "T" if value != "T" else "S"
    return value * 1.5 + 7


BY_NAME = {e.name: e for e in lesson04.EXERCISES}


def test_every_exercise_takes_the_right_answer_and_rejects_a_wrong_one(small_data, profile):
    data = small_data(profile)
    book = lesson04.exercise_book(data, lang="es")
    plain = _plain_answers(data)
    for name in book.names:
        if book._by_name[name].kind == "decide":  # tests/test_judgement_exercises.py
            continue
        # a shop that sells in store only has no web visits: those exercises are skipped
        if not data.has("web_visits") and name in (
                "busiest_month", "email_conversion", "abandoned_carts", "sample_size",
                "kpi_behind_change", "test_in_a_month"):
            assert book.judge(name, 1).status == "skipped", name
            continue
        if book.judge(name, object()).status == "skipped":  # no store, no search terms...
            assert BY_NAME[name].needs in ("store_visits", "search"), name
            continue
        if name in plain:      # the answer worked out independently of the lesson's code
            want = plain[name]
        else:                  # the key's own value: at least a wrong answer must be refused
            want = answer_key(book, name)
            want = want[0] if isinstance(want, AnyOf) else want
        assert book.judge(name, want).status == "correct", (name, want)
        assert book.judge(name, _wrong(want)).status != "correct", (name, want)
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
        lesson04.check_campaign_parameters(**params)


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
