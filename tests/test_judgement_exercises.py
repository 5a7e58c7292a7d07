"""The *decide* exercises of notebooks 02 and 03: the right option follows from each shop's data.

For every decide exercise the right choice is worked out here another way (plain pandas, SQL on
the fact table and its dimensions instead of the view, or a hand-made table whose answer is
known by construction), on at least two shops whose right choices differ; every other option is
refused, and a choice without a written reason is not judged.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import norm

from crmkit.analytics import campaigns, concepts, kpis, levels, service
from crmkit.analytics.rfm import holdout_purchases
from crmkit.dataset.extracts import write_extracts
from crmkit.dataset.synth import generate
from crmkit.grading.keys import answer as answer_key
from crmkit.i18n import t
from crmkit.lessons import lesson01, lesson02, lesson03, lesson04
from crmkit.lessons import lesson03 as m03
from crmkit.lessons.judgement import MIN_REASON_WORDS
from crmkit.warehouse.build import build_warehouse, connect

REASON = "because the figures above point to this option"


def _options(book, name: str, lang: str = "en") -> dict[str, str]:
    ex = book._by_name[name]
    return dict(ex.options(book.lesson, lang))


def right_text(book, name: str, lang: str = "en") -> str:
    return _options(book, name, lang)[answer_key(book, name)]


def assert_only(book, name: str, text: str) -> None:
    """``text`` (an option's text) is the one right option; every other is refused."""
    options = _options(book, name)
    assert text in options.values(), (name, text, options)
    for letter, option in options.items():
        status = book.judge(name, (letter, REASON)).status
        assert status == ("correct" if option == text else "incorrect"), (name, option)
    right = next(k for k, v in options.items() if v == text)
    assert book.judge(name, right).status == "invalid"  # no reason, no verdict
    assert book.judge(name, (right, "too short")).status == "invalid"


def test_at_least_a_third_of_the_exercises_of_every_notebook_ask_for_a_decision():
    for module in (lesson01, lesson02, lesson03, lesson04):
        kinds = [e.kind for e in module.EXERCISES]
        assert kinds.count("decide") * 3 >= len(kinds), (module.__name__, kinds)
        for e in module.EXERCISES:
            if e.kind == "decide":
                assert e.rubric and len(e.hints) >= 2, e.name


# ----------------------------------------------------------------------------- notebook 02
SHOPS_02 = (("fashion_chain", 1), ("fashion_chain", 2), ("sports_shop", 3), ("boutique", 4))


@pytest.fixture(scope="module")
def books02(tmp_path_factory):
    books = {}
    for profile, seed in SHOPS_02:
        ws = lesson02.workshop(generate(profile, n_customers=300, seed=seed),
                               warehouse_dir=tmp_path_factory.mktemp(f"{profile}{seed}"),
                               seed=seed)
        write_extracts(ws.crm, ws.batch1, seed=seed)
        build_warehouse(ws.batch1, ws.warehouse)
        books[(profile, seed)] = lesson02.exercise_book(ws, "en")
    return books


def _department_years(ws) -> pd.DataFrame:
    """Revenue per department in the first and last year, from the fact table and its
    dimensions (the exercise reads the view ``marts.v_sales``)."""
    con = connect(ws.warehouse, read_only=True)
    try:
        rows = con.execute(
            "SELECT p.department, d.year, sum(f.net_amount) AS revenue "
            "FROM marts.fact_order_line f JOIN marts.dim_product p USING (product_key) "
            "JOIN marts.dim_date d USING (date_key) GROUP BY ALL").df()
    finally:
        con.close()
    rows = rows.dropna(subset=["department"])
    first, last = rows["year"].min(), rows["year"].max()
    table = rows.pivot(index="department", columns="year", values="revenue")
    return table[[first, last]].dropna().astype(float)


def _differs(found: dict) -> None:
    assert len(set(found.values())) > 1, f"the same right choice for every shop: {found}"


def test_fund_department_is_the_one_that_grew_most_relative_to_its_first_year(books02):
    found = {}
    for shop, book in books02.items():
        table = _department_years(book.lesson)
        growth = table.iloc[:, 1] / table.iloc[:, 0]
        found[shop] = growth.idxmax()
        assert_only(book, "fund_department", found[shop])
    _differs(found)


def test_the_department_behind_the_change_moved_most_money_up_or_down(books02):
    found = {}
    for shop, book in books02.items():
        table = _department_years(book.lesson)
        change = (table.iloc[:, 1] - table.iloc[:, 0]).abs()
        found[shop] = change.idxmax()
        assert_only(book, "department_behind_change", found[shop])
    _differs(found)


def test_the_launch_month_is_the_best_month_of_the_last_years_best_quarter(books02):
    found = {}
    for shop, book in books02.items():
        crm = book.lesson.crm
        # plain pandas on the shop's own lines (the warehouse leaves out the planted bad rows:
        # the winner must not depend on them)
        lines = crm.order_lines.merge(crm.orders[["order_id", "placed_at"]], on="order_id")
        last = lines[lines["placed_at"].dt.year == lines["placed_at"].dt.year.max()]
        quarter = last.groupby(last["placed_at"].dt.quarter)["amount_cents"].sum().idxmax()
        months = last[last["placed_at"].dt.quarter == quarter]
        best = months.groupby(months["placed_at"].dt.month)["amount_cents"].sum().idxmax()
        year = int(last["placed_at"].dt.year.iloc[0])
        found[shop] = lesson02._month_name(f"{year}-{best:02d}", "en")
        assert_only(book, "best_quarter_month", found[shop])
    _differs(found)


#: What each printed question calls for, read off its wording.
CUBE_WORDING = {"the whole year": "roll-up", "then which months": "drill-down",
                "leaving every other year out": "slice", "quarters 1 and 2": "dice",
                "cross table": "pivot"}
NEED_WORDING = {"must answer at once": "Star", "exactly one row": "Snowflake",
                "get a join wrong": "Star", "must be stored once": "Snowflake"}


@pytest.mark.parametrize("name, question, wording", [
    ("cube_operation", lesson02.cube_question, CUBE_WORDING),
    ("star_or_snowflake", lesson02.model_need, NEED_WORDING)])
def test_the_operation_or_model_is_the_one_the_printed_question_calls_for(
        books02, name, question, wording):
    found = {}
    for shop, book in books02.items():
        text = question(book.lesson, "en")
        calls_for = [v for k, v in wording.items() if k in text]
        assert len(calls_for) == 1, text
        found[shop] = calls_for[0]
        assert_only(book, name, found[shop])
        # the Spanish question is the same question
        assert question(book.lesson, "es") != text
    _differs(found)


def test_an_option_is_accepted_as_its_text_in_either_language(books02):
    book = next(iter(books02.values()))
    for lang in ("en", "es"):
        text = right_text(book, "cube_operation", lang)  # Spanish labels end with ')'
        assert book.judge("cube_operation", (text.upper(), REASON)).status == "correct"
    assert book.judge("cube_operation", ("z", REASON)).status == "incorrect"


# ----------------------------------------------------------------------------- notebook 03
@pytest.fixture(scope="module")
def shops03():
    out = {}
    for profile, seed in (("boutique", 1), ("boutique", 2), ("fashion_chain", 1),
                          ("fashion_chain", 2)):
        data = generate(profile, n_customers=300, seed=seed, start="2023-01-01",
                        end="2025-12-31")
        out[(profile, seed)] = (data, m03.holdout_split(data, holdout_days=180))
    return out


def test_the_sales_change_is_put_down_to_the_factor_that_moved_most(shops03):
    found = {}
    for shop, (data, split) in shops03.items():
        book = m03.exercise_book(data, split, "en")
        p = m03.purchases(data)
        year = p["placed_at"].dt.year
        last, before = p[year == year.max()], p[year == year.max() - 1]
        by_count = abs(math.log(len(last) / len(before)))
        by_value = abs(math.log(last["value"].mean() / before["value"].mean()))
        found[shop] = t("judge.driver_purchases" if by_count >= by_value
                        else "judge.driver_average_value", "en")
        assert_only(book, "sales_change_driver", found[shop])
    _differs(found)


def test_the_segment_to_fund_brought_back_the_most_customers(shops03):
    found = {}
    for shop, (data, split) in shops03.items():
        book = m03.exercise_book(data, split, "en")
        segmented = book.lesson.model("segments")
        later = holdout_purchases(data, as_of=split.cutoff, end=split.end)
        came = later["frequency_holdout"].reindex(segmented.index).fillna(0) > 0
        per_segment = came.groupby(segmented["segment"].astype(str)).sum()
        found[shop] = t(f"rfm_segment.{per_segment.idxmax()}", "en")
        assert_only(book, "fund_segment", found[shop])
    _differs(found)


def _block(verdict: str, *, measure_best: str = "naive") -> pd.DataFrame:
    """A hand-made scoreboard block: the chosen model's verdict is ``verdict``."""
    return pd.DataFrame({
        "measure": "mae", "kind": ["model", "baseline", "baseline"],
        "score": [1.0, 1.2, 1.5], "chosen": [True, False, False],
        "verdict": [verdict, "best_baseline" if measure_best == "naive" else "baseline",
                    "best_baseline" if measure_best == "seasonal_naive" else "baseline"]},
        index=pd.Index(["ets", "naive", "seasonal_naive"], name="method"))


@pytest.mark.parametrize("name, question", list(m03.TRUST_QUESTIONS.items()))
@pytest.mark.parametrize("verdict, best, trusted", [
    ("beats", "naive", "ets"), ("no_better", "naive", "naive"),
    ("no_better", "seasonal_naive", "seasonal_naive"), ("worse", "naive", "naive"),
    ("chance", "seasonal_naive", "seasonal_naive")])
def test_the_method_to_trust_is_the_model_only_when_it_beats_the_best_baseline(
        shops03, name, question, verdict, best, trusted):
    data, split = shops03[("boutique", 1)]
    book = m03.exercise_book(data, split, "es")
    book.use(board=pd.concat({question: _block(verdict, measure_best=best)},
                             names=["question", "method"]))
    assert_only(book, name, t(f"m03_method.{trusted}", "en"))
    # the Spanish label of the right method (it ends with ')') is as good as its letter
    label = t(f"m03_method.{trusted}", "es")
    assert book.judge(name, (label, REASON)).status == "correct"


def test_the_rule_to_fund_is_the_one_that_held_best_after_the_cutoff(shops03):
    data, split = shops03[("boutique", 1)]
    rules = pd.DataFrame({"antecedent": ["scarf", "belt", "hat"],
                          "consequent": ["gloves", "bag", "coat"],
                          "lift": [3.0, 2.5, 2.0]})
    for holdout_lift, right in (([0.9, 1.8, 1.2], "belt → bag"),
                                ([float("nan"), 1.1, 1.4], "hat → coat")):
        book = m03.exercise_book(data, split, "en")
        book.use(rules=rules.assign(holdout_lift=holdout_lift))
        assert_only(book, "cross_sell_rule", right)


def test_a_reason_needs_enough_words():
    assert MIN_REASON_WORDS >= 5
    assert len(REASON.split()) >= MIN_REASON_WORDS


# ----------------------------------------------------------------------------- notebooks 01 and 04
SHOPS_01 = (("fashion_chain", 1), ("fashion_chain", 2), ("ice_cream", 1), ("bendita", 1))


@pytest.fixture(scope="module")
def books01():
    return {shop: lesson01.exercise_book(generate(shop[0], n_customers=2500, seed=shop[1]))
            for shop in SHOPS_01}


def test_the_medium_to_fund_has_the_most_valuable_customers(books01):
    found = {}
    for shop, book in books01.items():
        acq = concepts.acquisition_report(book.lesson)
        acq = acq[(acq.index != "unknown") & (acq["customers"] >= 10)]
        found[shop] = t(f"value.{(acq['revenue'] / acq['customers']).idxmax()}", "en")
        assert_only(book, "fund_medium", found[shop])
    _differs(found)


def test_the_level_to_complete_first_is_where_coverage_falls_most(books01):
    found = {}
    for shop, book in books01.items():
        # each level AND every level below it: the pyramid's dark bars
        cumulative = levels.level_completeness(book.lesson)["share_cumulative"]
        level = int((cumulative.shift(1) - cumulative).iloc[1:].idxmax())
        found[shop] = f"{level} · {t(f'level.{level}', 'en')}"
        assert_only(book, "collect_first", found[shop])
    _differs(found)


def test_the_group_for_the_offer_spends_most_on_average(books01):
    found = {}
    for shop, book in books01.items():
        cells = concepts.spend_by_age_and_gender(book.lesson).stack().dropna()
        band, gender = cells.idxmax()
        found[shop] = f"{band} · {t(f'value.{gender}', 'en')}"
        assert_only(book, "target_group", found[shop])
    _differs(found)


@pytest.fixture(scope="module")
def books04():
    shops = (("fashion_chain", 1, 2500), ("frozen_foods", 42, 2500), ("sports_shop", 42, 2500),
             ("bendita", 42, 4000))
    return {(p, seed): lesson04.exercise_book(generate(p, n_customers=n, seed=seed))
            for p, seed, n in shops}


def test_the_campaign_to_fund_is_the_best_return_the_budget_pays_for(books04):
    found = {}
    for shop, book in books04.items():
        eff = campaigns.effectiveness(book.lesson)
        ran = eff[eff["reach"] > 0]
        pick = ran[ran["cost"] <= ran["cost"].median()].sort_values("roi").iloc[-1]
        text = next(v for v in _options(book, "fund_campaign").values()
                    if v.startswith(f"{pick['name']} ("))
        found[shop] = pick["name"]
        assert_only(book, "fund_campaign", text)
    _differs(found)


def test_the_checkout_test_fits_a_month_only_when_both_groups_fit(books04):
    found = {}
    for shop, book in books04.items():
        s = book.lesson.web_sessions
        p1 = round(float(s["converted_order_id"].notna().mean()), 3)
        h = 2 * math.asin(math.sqrt(p1 + 0.01)) - 2 * math.asin(math.sqrt(p1))
        per_group = math.ceil(2 * ((norm.ppf(0.975) + norm.ppf(0.8)) / h) ** 2)
        month = s.groupby(s["started_at"].dt.to_period("M")).size().mean()
        found[shop] = t("judge.test_fits" if 2 * per_group <= month else "judge.test_too_long",
                        "en")
        assert_only(book, "test_in_a_month", found[shop])
    _differs(found)


def test_the_campaign_to_scale_has_the_highest_lower_bound_of_its_uplift(books04):
    found = {}
    for shop, book in books04.items():
        data = book.lesson
        # the uplift recomputed: contacted vs control conversion, normal interval of the gap
        effects = campaigns.incremental_effect(data).dropna(subset=["ci_low"])
        gap = effects["treated_rate"] - effects["control_rate"]
        assert ((effects["ci_low"] <= gap + 1e-12) & (gap <= effects["ci_high"] + 1e-12)).all()
        surest = int(effects["ci_low"].idxmax())
        name = data.campaigns.set_index("campaign_id")["name"][surest]
        found[shop] = f"{surest}: {name}"
        assert_only(book, "scale_campaign", found[shop])
    _differs(found)


def test_the_kpi_behind_the_change_moved_most_between_the_last_two_whole_months(books04):
    found = {}
    for shop, book in books04.items():
        s = book.lesson.web_sessions
        month = s["started_at"].dt.to_period("M")
        whole = sorted(month.unique())[:-1] if s["started_at"].max().day < 28 else sorted(
            month.unique())
        monthly = kpis.monthly_kpis(book.lesson)
        monthly = monthly[~monthly["partial"].astype(bool)].tail(2)
        # the visits of the two months, counted from the sessions themselves
        visits = s.groupby(month).size()
        for m in monthly.index:
            assert visits[pd.Period(m, "M")] == monthly.loc[m, "sessions"]
        assert pd.Period(monthly.index[-1], "M") in whole
        moved = {k: abs(math.log(monthly[k].iloc[1] / monthly[k].iloc[0]))
                 for k in lesson04.MONTHLY_KPIS}
        found[shop] = t(f"judge.kpi_{max(moved, key=moved.get)}", "en")
        assert_only(book, "kpi_behind_change", found[shop])
    _differs(found)


def test_the_channel_to_plan_has_the_best_typical_campaign(books04):
    found = {}
    for shop, book in books04.items():
        eff = campaigns.effectiveness(book.lesson)
        ran = eff[eff["reach"] > 0]
        ids = ran["campaign_id"] if "campaign_id" in ran else ran.index.to_series()
        channel = ids.map(book.lesson.campaigns.set_index("campaign_id")["channel"])
        median = {c: ran.loc[(channel == c).to_numpy(), "roi"].median() for c in set(channel)}
        found[shop] = t(f"value.{max(median, key=median.get)}", "en")
        assert_only(book, "channel_to_plan", found[shop])
    _differs(found)


def test_the_intake_channel_to_fix_has_the_largest_share_of_late_incidents():
    found = {}
    for profile, seed in (("fashion_chain", 42), ("sports_shop", 42), ("frozen_foods", 1)):
        data = generate(profile, n_customers=2500, seed=seed)
        book = lesson01.exercise_book(data)
        waits = service.state_durations(data)  # the waits the lesson shows (tested there)
        late = set(waits.loc[waits["hours"] > lesson01.SLA_HOURS, "ticket_id"])
        tickets = data.tickets
        share = tickets["ticket_id"].isin(late).groupby(tickets["channel"]).mean()
        found[(profile, seed)] = t(f"value.{share.idxmax()}", "en")
        assert_only(book, "late_channel", found[(profile, seed)])
    _differs(found)
