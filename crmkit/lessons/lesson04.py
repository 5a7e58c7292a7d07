"""Notebook 04 (the Bendita case): its charts, and its exercises with their right answers.

>>> from crmkit.dataset.synth import generate
>>> data = generate("bendita", n_customers=300, seed=1)
>>> from crmkit.grading.keys import answers_for  # the instructor's key
>>> import crmkit.lessons.lesson04 as lesson04
>>> book = exercise_book(data, lang="en")
>>> len(book.names) >= 8
True
>>> right = answers_for(book, lesson04)
>>> why = "the figures of the lesson point to this option"  # a decision needs a reason
>>> all(book.judge(name, (value, why) if book._by_name[name].kind == "decide" else value)
...     .status == "correct" for name, value in right.items())
True
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..analytics import automation, campaigns, experiments, kpis
from ..dataset.crmdata import CRMData
from ..i18n import (
    check_lang,
    describe_figure,
    format_currency,
    format_date,
    format_message,
    format_number,
    format_percent,
    locale_axes,
    t,
)
from . import parameters
from .concept_lessons import EXERCISES as CONCEPT_EXERCISES
from .exercises import Exercise, ExerciseBook
from .judgement import Option, decide, labelled, letters
from .notebook import campaign_label

__all__ = ["EXERCISES", "exercise_book", "check_campaign_parameters", "smart_table",
           "plot_footfall", "plot_funnel", "plot_cps", "plot_uplift", "plot_flows",
           "WIN_BACK_DAYS", "LIFT", "example_objective", "cps_ready", "money_table",
           "persona_table", "board_table", "readable"]

WIN_BACK_DAYS = 60  # the exercise's win-back delay (the notebook shows its own parameter)
LIFT = 0.01  # the rise in conversion the sample-size exercise wants to detect (one point)


def example_objective(**change: Any) -> campaigns.SmartObjective:
    """The objective of the SMART exercise: a reactivation by e-mail, too ambitious."""
    base = dict(specific="Reactivate premium customers who stopped buying, by e-mail",
                metric="conversion_rate", target=0.15, baseline=0.03, segment="premium",
                start="2025-03-01", end="2025-03-31")
    return campaigns.SmartObjective(**{**base, **change})


def check_campaign_parameters(*, win_back_days: int, min_effect: float, alpha: float,
                              margin: float | None = None) -> None:
    """Check notebook 04's campaign parameters (the win-back delay, the smallest effect worth
    detecting, the test's alpha, a stated margin) by the rules of
    :mod:`crmkit.lessons.parameters`.

    >>> check_campaign_parameters(win_back_days=90, min_effect=0.01, alpha=0.05)
    >>> check_campaign_parameters(win_back_days=0, min_effect=0.01, alpha=0.05)
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: win_back_days=0 must be a whole number from 1 to 3,650 ...
    """
    parameters.check_parameters({"win_back_days": win_back_days, "min_effect": min_effect,
                                 "alpha": alpha, "margin": margin})


def cps_ready(data: CRMData, lang: str = "en", *, margin: float | None = None) -> bool:
    """Whether the CPS can be computed on ``data``; if not, print what is missing (in
    ``lang``); if a stated ``margin`` stands in for unknown costs, print that beside it."""
    from .dashboard import _margin_note, missing_reason

    reason = missing_reason(data, "cps_per_customer", lang, margin=margin)
    if reason is not None:
        print(reason)
        return False
    note = _margin_note(data, margin, lang)
    if note:
        print("CPS" + note + ".")
    return True


def money_table(values: pd.Series, data: CRMData, lang: str = "en", *, name: str | None = None
                ) -> pd.DataFrame:
    """Amounts as one column of money written in ``lang`` and the shop's currency.

    >>> from types import SimpleNamespace
    >>> shop = SimpleNamespace(currency="EUR")   # a CRMData; only its currency is read
    >>> money_table(pd.Series({"revenue": 1476.6667}), shop, "es").iloc[0, 0]
    '1.476,67\xa0€'
    """
    label = name or t("column.amount", lang)
    return pd.DataFrame({label: [format_currency(v, lang, currency=data.currency)
                                 for v in values]}, index=values.index)


def persona_table(persona: pd.Series, data: CRMData, lang: str = "en") -> pd.DataFrame:
    """A buyer persona as a person reads it: what the data does not hold is left out (never
    "None"), money in the shop's currency, shares as percentages, numbers in ``lang``."""
    shown = {}
    for key, value in persona.items():
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue
        if key == "average_order_value":
            value = format_currency(value, lang, currency=data.currency)
        elif key == "email_reachable":
            value = format_percent(value, lang, decimals=1)
        elif key == "hour":
            value = f"{int(value):02d}:00"
        elif isinstance(value, float):
            value = format_number(value, lang, decimals=1)
        elif isinstance(value, int | np.integer):
            value = format_number(int(value), lang)
        shown[key] = value
    return pd.Series(shown, name=t("column.persona", lang), dtype=object).to_frame()


def readable(table: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """A table whose decimals are written in ``lang`` (two places, three below one: a rate)
    and whose missing values (a rate of nothing, a cost per no conversion) read as a dash.

    >>> readable(pd.DataFrame({"roi": [1476.6667, 0.0312, float("nan")], "n": [3, 4, 5]}), "es")
             roi  n
    0   1.476,67  3
    1      0,031  4
    2          —  5
    """
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = [("—" if pd.isna(v) else
                         format_number(round(v, 2 if abs(v) >= 1 else 3), lang))
                        for v in out[col]]
    return out


def board_table(board: pd.DataFrame, data: CRMData, lang: str = "en") -> pd.DataFrame:
    """The dashboard's KPI board as text in ``lang``: value, target and trend in the KPI's
    unit (money in the shop's currency), the light's meaning, and the window used."""
    from .dashboard import fmt_kpi, heads

    rows = {}
    value = heads({"board": board}, lang)[1]
    for name, r in board.iterrows():
        kpi = str(name)  # the board's index: KPI keys
        rows[t(f"kpi.{kpi}", lang)] = {
            value: fmt_kpi(data, kpi, r["value"], lang),
            t("dash.target", lang): fmt_kpi(data, kpi, r["target"], lang),
            t("dash.trend", lang): fmt_kpi(data, kpi, r["trend"], lang, sign=True),
            t("dash.status", lang): t(f"dash.{r['status']}", lang),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = t("dash.kpi", lang)
    return out


def cps_sentence(cps: pd.DataFrame, data: CRMData, lang: str = "en") -> str:
    """The CPS of the whole customer file, in the shop's currency, as one sentence."""
    buyers = cps[cps["orders"] > 0]
    return format_message(t("msg.case_cps_money", lang), lang,
                          total=format_currency(cps["cps"].sum(), lang, currency=data.currency,
                                                decimals=0),
                          negative=int((buyers["cps"] < 0).sum()), buyers=len(buyers))


def smart_table(objective: campaigns.SmartObjective, lang: str = "en") -> pd.DataFrame:
    """One row per SMART letter: what it asks and whether ``objective`` passes it."""
    check_lang(lang)
    bad = set(objective.failing())
    return pd.DataFrame({"letter": list(campaigns.SMART_LETTERS),
                         "meets": [k not in bad for k in campaigns.SMART_LETTERS],
                         "rule": [t(f"smart.{k}", lang) for k in campaigns.SMART_LETTERS]}
                        ).set_index("letter")


# ----------------------------------------------------------------------------- plots
def _new(size: tuple[float, float]) -> Axes:
    return plt.subplots(figsize=size, layout="constrained")[1]


def _done(ax: Axes, lang: str, key: str, **values: object) -> Axes:
    """Axes written in ``lang`` and the picture described by ``plot_alt.<key>``."""
    locale_axes(ax, lang)
    return describe_figure(ax, format_message(t(f"plot_alt.{key}", lang), lang, **values))


def plot_footfall(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Sessions and unique visitors per month (footfall)."""
    f = kpis.footfall(data)
    if ax is None:
        ax = _new((9, 3.5))
    x = pd.PeriodIndex(f.index).to_timestamp()  # months
    ax.plot(x, f["sessions"], marker="o", ms=3, label=t("case.sessions_axis", lang))
    ax.plot(x, f["visitors"], marker="o", ms=3, label=t("case.visitors_axis", lang))
    ax.set_title(t("case.footfall_title", lang))
    ax.set_xlabel(t("case.month_axis", lang))
    ax.legend()
    return _done(ax, lang, "footfall", start=format_date(x.min(), lang, skeleton="yMMM"),
                 end=format_date(x.max(), lang, skeleton="yMMM"))


def plot_funnel(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """The funnel visit -> cart -> order as horizontal bars with the step rates."""
    f = kpis.funnel(data)
    if ax is None:
        ax = _new((7, 2.6))
    labels = [t(f"funnel.{s}", lang) for s in f.index]
    ax.barh(labels, f["sessions"], color=["#264653", "#2a9d8f", "#e9c46a"])
    for i, (n, r) in enumerate(zip(f["sessions"], f["step_rate"], strict=True)):
        ax.text(n, i, f"  {format_number(n, lang)}  ({format_percent(r, lang, decimals=1)})",
                va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_title(t("case.funnel_title", lang))
    ax.set_xlim(0, f["sessions"].max() * 1.35)
    overall = f["sessions"].iloc[-1] / max(f["sessions"].iloc[0], 1)
    return _done(ax, lang, "funnel", rate=format_percent(overall, lang, decimals=1))


def plot_cps(cps: pd.DataFrame, *, lang: str = "en", ax: Axes | None = None,
             currency: str = "€") -> Axes:
    """Distribution of the CPS of the customers who bought, with zero marked."""
    if ax is None:
        ax = _new((8, 3.2))
    values = cps.loc[cps["orders"] > 0, "cps"]
    ax.hist(values.clip(upper=float(values.quantile(0.99))), bins=50, color="#2a9d8f")
    ax.axvline(0, color="#e76f51", ls="--")
    ax.set_title(t("case.cps_title", lang))
    ax.set_ylabel(t("case.customers_axis", lang))
    ax.set_xlabel(f"CPS ({currency})")
    return _done(ax, lang, "cps")


def plot_uplift(effects: pd.DataFrame, *, truth: pd.DataFrame | None = None,
                lang: str = "en", ax: Axes | None = None) -> Axes:
    """Each campaign's uplift with its confidence interval; the true effect when known."""
    e = effects.dropna(subset=["ci_low"])
    if ax is None:
        ax = _new((8, max(2.5, 0.3 * len(e) + 1.2)))
    y = np.arange(len(e))
    ax.errorbar(e["uplift"] * 100, y, xerr=[(e["uplift"] - e["ci_low"]) * 100,
                                            (e["ci_high"] - e["uplift"]) * 100],
                fmt="o", color="#264653", ms=4, capsize=2)
    if truth is not None and "true_uplift" in truth:
        tr = truth.set_index("campaign_id")["true_uplift"].reindex(e.index) * 100
        ax.scatter(tr, y, marker="x", color="#e76f51", zorder=3, label=t("case.truth", lang))
        ax.legend(fontsize=8)
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(y, [str(i) for i in e.index], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(t("case.uplift_axis", lang))
    ax.set_ylabel(t("column.campaign_id", lang))
    ax.set_title(t("case.uplift_title", lang))
    return _done(ax, lang, "uplift", n=len(e))


def plot_flows(weekly: pd.DataFrame, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Triggers per week of each automation flow."""
    if ax is None:
        ax = _new((9, 3.2))
    for flow, part in weekly.groupby("flow", sort=False):
        ax.plot(part["week"], part["triggered"], label=t(f"flow.{flow}", lang), lw=1.2)
    ax.set_title(t("case.flows_title", lang))
    ax.set_ylabel(t("case.customers_axis", lang))
    if len(weekly):
        ax.legend(fontsize=8)
    return _done(ax, lang, "flows", n=weekly["flow"].nunique() if len(weekly) else 0)


# ----------------------------------------------------------------------------- exercises
def _busiest_month_sessions(data: CRMData) -> int:
    f = kpis.footfall(data)
    return int(f["sessions"].max()) if len(f) else 0


def _email_conversion(data: CRMData) -> float:
    conv = kpis.conversion_rate(data, by="traffic_source")["conversion_rate"]
    return float(conv.get("email", 0.0))


def _abandoned_carts(data: CRMData) -> int:
    s = data.web_sessions
    return int((s["added_to_cart"] & s["converted_order_id"].isna()).sum())


def _negative_cps(data: CRMData) -> float:
    """What the buyers with a negative CPS lose the shop in total (the lesson prints how many
    they are, so the exercise asks for the money)."""
    margin = getattr(data, "_margin", None)
    cps = kpis.customer_profitability(getattr(data, "_data", data), margin=margin)
    return float(cps.loc[(cps["orders"] > 0) & (cps["cps"] < 0), "cps"].sum())


def _champions_email(data: CRMData) -> int:
    """Champions reachable by e-mail AND by phone (the actions table counts each channel on
    its own, so it does not show this number)."""
    seg = campaigns.rfm_segments(data)
    c = data.customers.set_index("customer_id").reindex(seg.index[seg == "champions"])
    both = (c["email"].notna() & c["email_consent"].fillna(False).astype(bool)
            & c["phone"].notna() & c["phone_consent"].fillna(False).astype(bool))
    return int(both.sum())


def _best_roi(data: CRMData) -> float:
    e = campaigns.effectiveness(data)
    return float(e.loc[e["reach"] > 0, "roi"].max())


def _best_lower_bound(data: CRMData) -> float:
    return float(campaigns.incremental_effect(data)["ci_low"].max())


def _test_size(data: CRMData) -> int:
    rate = round(float(kpis.conversion_rate(data)["conversion_rate"].iloc[0]), 3)
    return experiments.sample_size(rate, LIFT)


def _win_back(data: CRMData) -> int:
    return len(automation.flow_triggers(data, "win_back", win_back_days=WIN_BACK_DAYS))


def _letter(data: CRMData, answer: Any) -> Any:  # a learner's answer: any value
    if isinstance(answer, list | tuple | set) and len(answer) == 1:
        answer = next(iter(answer))
    return answer.strip().upper() if isinstance(answer, str) else answer


def _month_count(data: CRMData, answer: object) -> object:
    return int(answer) if isinstance(answer, np.integer) else answer


# ----------------------------------------------------------------------------- judgement
def _budget_campaigns(data: CRMData) -> pd.DataFrame:
    """Campaigns that contacted someone, and the budget: the median cost of those campaigns."""
    e = campaigns.effectiveness(data)
    e = e[e["reach"] > 0].sort_values("name")
    return e.assign(affordable=e["cost"] <= e["cost"].median())


def _fund_best(data: CRMData) -> str:
    e = _budget_campaigns(data).reset_index(drop=True)
    pick = e.loc[e["affordable"], "roi"].idxmax()
    return "abcdefghijklmnopqrstuvwxyz"[int(pick)]


def _monthly_sessions(data: CRMData) -> float:
    visits = data.web_sessions
    return float(visits.groupby(visits["started_at"].dt.to_period("M")).size().mean())


def _test_fits(data: CRMData) -> str:
    return "a" if 2 * _test_size(data) <= _monthly_sessions(data) else "b"


def _effects(data: CRMData) -> pd.DataFrame:
    effects = campaigns.incremental_effect(data).dropna(subset=["ci_low"])
    names = data.campaigns.set_index("campaign_id")["name"]
    return effects.assign(name=names.reindex(effects.index).to_numpy()).sort_index()


#: The monthly KPIs whose change the ``kpi_behind_change`` exercise compares.
MONTHLY_KPIS = ("sessions", "conversion_rate", "active_customers")


def _kpi_change(data: CRMData) -> pd.Series:
    """Relative change (absolute log ratio) of each KPI between the last two whole months."""
    months = kpis.monthly_kpis(data)
    last = months[~months["partial"].astype(bool)].tail(2)[list(MONTHLY_KPIS)].astype(float)
    ratio = last.iloc[1] / last.iloc[0]
    return pd.Series(np.log(ratio), index=ratio.index).abs()


def _channel_roi(data: CRMData) -> pd.Series:
    """Median ROI of the campaigns of each channel that contacted someone."""
    e = campaigns.effectiveness(data)
    e = e[e["reach"] > 0]
    ids = e["campaign_id"] if "campaign_id" in e else pd.Series(e.index, index=e.index)
    channel = ids.map(data.campaigns.set_index("campaign_id")["channel"])
    return e["roi"].groupby(channel.to_numpy()).median().sort_index()


def _first_max(values: pd.Series) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[list(values.index).index(values.idxmax())]


JUDGEMENT = (
    decide(
        "kpi_behind_change",
        lambda d, lang: letters([t(f"judge.kpi_{k}", lang) for k in MONTHLY_KPIS]),
        lambda d: _first_max(_kpi_change(d)), needs="web_visits"),
    decide(
        "channel_to_plan",
        lambda d, lang: labelled(list(_channel_roi(d).index), lang),
        lambda d: _first_max(_channel_roi(d)), needs="marketing"),
    decide(
        "scale_campaign",
        lambda d, lang: letters([Option(f"{i}: {campaign_label(n, lang)}", n)
                                 for i, n in _effects(d)["name"].items()]),
        lambda d: "abcdefghijklmnopqrstuvwxyz"[list(_effects(d).index).index(
            _effects(d)["ci_low"].idxmax())], needs="marketing"),
    decide(
        "fund_campaign",
        lambda d, lang: letters([
            Option(f"{campaign_label(name, lang)} "
                   f"({format_currency(cost, lang, currency=d.currency, decimals=0)})", name)
            for name, cost in zip(_budget_campaigns(d)["name"], _budget_campaigns(d)["cost"],
                                  strict=True)]),
        _fund_best, needs="marketing"),
    decide(
        "test_in_a_month",
        lambda d, lang: letters([t("judge.test_fits", lang), t("judge.test_too_long", lang)]),
        _test_fits, needs="web_visits"),
)


_COMPUTE = (
    Exercise(
        "busiest_month", _busiest_month_sessions, convert=_month_count, needs="web_visits",
    ),
    Exercise(
        "email_conversion", _email_conversion, rtol=1e-4, needs="web_visits",
    ),
    Exercise(
        "abandoned_carts", _abandoned_carts, needs="web_visits",
    ),
    Exercise(
        "negative_cps", _negative_cps, needs="profitability", rtol=1e-4,
    ),
    Exercise(
        "champions_email", _champions_email, needs="customers",
    ),
    Exercise(
        "smart_letter", lambda d: "A", convert=_letter,
    ),
    Exercise(
        "best_roi", _best_roi, needs="marketing", rtol=1e-4,
    ),
    Exercise(
        "significant_uplift", _best_lower_bound, needs="marketing", rtol=1e-4,
    ),
    Exercise(
        "sample_size", _test_size, needs="web_visits", rtol=0.02,
    ),
    Exercise(
        "win_back_60", _win_back, needs="customers",
    ),
)


_ORDER = ("busiest_month", "email_conversion", "kpi_behind_change", "abandoned_carts",
          "negative_cps",
          "champions_email", "smart_letter", "best_roi", "fund_campaign", "channel_to_plan",
          "significant_uplift", "scale_campaign", "sample_size", "test_in_a_month", "win_back_60")
#: The exercises of notebook 04, in the notebook's order.
EXERCISES = tuple(sorted(_COMPUTE + JUDGEMENT, key=lambda e: _ORDER.index(e.name)))
EXERCISES += CONCEPT_EXERCISES["04"]  # the concepts of crmkit.lessons.concept_lessons


class _CostAware:
    """``data`` for the exercise book: product profitability counts as present only when
    the CPS can be computed (every product's cost known, or a stated margin)."""

    def __init__(self, data: CRMData, margin: float | None) -> None:
        self._data, self._margin = data, margin

    def __getattr__(self, name: str) -> Any:
        return getattr(self._data, name)

    def has(self, topic: str) -> bool:
        if topic == "profitability" and kpis.cps_missing(self._data,
                                                         margin=self._margin) is not None:
            return False
        return self._data.has(topic)


def exercise_book(data: CRMData, lang: str = "en", *, margin: float | None = None) -> ExerciseBook:
    """The exercises of notebook 04, checked against ``data``. The CPS exercise is skipped
    where the CPS cannot be computed (:func:`crmkit.analytics.kpis.cps_missing`)."""
    if margin is None and kpis.cps_missing(data) is None:
        return ExerciseBook(data, EXERCISES, lang=lang)
    return ExerciseBook(_CostAware(data, margin), EXERCISES, lang=lang)
