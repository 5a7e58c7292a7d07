"""Notebook 03 (the data-mining methodology): the shop's data profile, its split, exercises.

The lesson walks the five steps of the course's methodology (understand the
problem, understand the data, organise the data, define the algorithms,
verify the results) on one shop. This module holds what the notebook computes
that is not a model: the objectives, the data profile, the calibration and
holdout periods every model is verified on, the closing CRISP-DM table and the
exercise book. The models themselves, fitted at the cutoff and checked on the
holdout, are in :mod:`crmkit.lessons.mining`; the segment explorer in
:mod:`crmkit.lessons.explorer`.

A *purchase* is an order that was neither cancelled nor returned: the money
of a cancelled or returned order never stayed with the shop (the rule of
:mod:`crmkit.analytics.rfm`). Guest orders are purchases too, but they belong
to no customer.

>>> from crmkit.dataset.synth import generate
>>> data = generate("boutique", n_customers=150, seed=1)
>>> mix = buyer_mix(data)
>>> mix.index.tolist()
['one_time', 'repeat']
>>> int(mix["customers"].sum()) == int(data_profile(data).loc["buyers", "value"])
True
>>> split = holdout_split(data, holdout_days=180)
>>> (split.end - split.cutoff).days
180
>>> run_sql(data, "SELECT count(*) FROM orders") == len(data.orders)
True
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..analytics.rfm import (
    holdout_purchases,
    line_cents,
    partial_refunds,
    period_end,
    rfm_summary,
)
from ..dataset.crmdata import CRMData
from ..dataset.days import DayLike, parse_day
from ..dataset.money import minor_digits
from ..dataset.schema import TABLE_NAMES
from ..errors import ParameterError
from ..i18n import (
    catalog,
    check_lang,
    describe_figure,
    format_date,
    format_message,
    locale_axes,
    month_names,
    t,
)
from .concept_lessons import EXERCISES as CONCEPT_EXERCISES
from .exercises import AnyOf, Exercise, ExerciseBook, NotReady, fold
from .judgement import Option, decide, labelled, letters
from .notebook import Table, localize, readable

__all__ = [
    "MODELS",
    "choose_split",
    "history_days",
    "say_split",
    "Split",
    "purchases",
    "data_profile",
    "orders_per_customer",
    "buyer_mix",
    "monthly_sales",
    "seasonal_index",
    "weekday_orders",
    "holdout_split",
    "organise_steps",
    "run_sql",
    "objectives",
    "methodology",
    "forecast_factors",
    "show",
    "rounded",
    "plot_monthly_sales",
    "plot_orders_per_customer",
    "plot_seasonal_index",
    "Lesson",
    "EXERCISES",
    "SECTION",
    "exercise_book",
    "notebook_lesson",
    "exercise_status",
    "top_pair",
    "guest_orders_undone",
    "pair_in_cancelled_basket",
    "TRUST_QUESTIONS",
]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ----------------------------------------------------------------------------- the data profile
def purchases(data: CRMData, *, as_of: DayLike | None = None) -> pd.DataFrame:
    """The orders that count as purchases up to the end of ``as_of``, with their value.

    The rule of :func:`crmkit.analytics.rfm.customer_purchases` (cancelled orders never
    count; a returned order stops counting once it has come back by
    ``as_of``), except that guest orders are kept: they are sales of the shop,
    though of nobody we know. Columns: ``order_id``, ``customer_id`` (empty for
    guests), ``placed_at``, ``channel`` and ``value`` (the goods, in currency).

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("frozen_foods", n_customers=100, seed=2)
    >>> p = purchases(data)
    >>> bool(p["order_id"].isin(data.orders.query("status == 'cancelled'")["order_id"]).any())
    False
    >>> from crmkit.analytics.rfm import customer_purchases
    >>> len(customer_purchases(data)) == int(p["customer_id"].notna().sum())
    True
    """
    o = data.orders
    end = (period_end(data) if as_of is None else parse_day("as_of", as_of)) + pd.Timedelta(
        days=1)
    returned = (o["status"] == "returned") & ~(o["returned_at"] >= end)
    keep = (o["status"] != "cancelled") & ~returned & (o["placed_at"] < end)
    kept = o.loc[keep, ["order_id", "customer_id", "placed_at", "channel"]]
    lines = data.order_lines
    cents = pd.Series(line_cents(lines), index=lines["order_id"].to_numpy())
    per_order = kept["order_id"].map(cents.groupby(level=0).sum()).fillna(0).to_numpy(
        dtype=np.int64) - partial_refunds(o)[keep.to_numpy()]
    unit = 10 ** minor_digits((data.manifest or {}).get("currency") or "EUR")
    out = kept.assign(value=per_order / unit)
    return out.reset_index(drop=True)


def data_profile(data: CRMData) -> pd.DataFrame:
    """One row per fact a data miner checks first: how much data, of what period, how complete.

    The ``value`` column mixes counts, shares and days; ``tables_with_rows``
    tells how many of the canonical tables this shop actually has. Without a
    customer table (an order log), ``customers`` counts the customer ids the
    orders name.
    """
    o = data.orders
    p = purchases(data)
    filled = sum(1 for name in TABLE_NAMES if data.has(name) and len(data.tables[name]))
    first, last = (o["placed_at"].min(), o["placed_at"].max()) if len(o) else (pd.NaT, pd.NaT)
    known = (len(data.tables["customers"]) if data.has("customers")
             else int(o["customer_id"].dropna().nunique()))
    rows = {
        "customers": known,
        "buyers": int(p["customer_id"].dropna().nunique()),
        "orders": len(o),
        "purchases": len(p),
        "not_purchases_share": round(1 - len(p) / len(o), 4) if len(o) else 0.0,
        "guest_share": round(float(p["customer_id"].isna().mean()), 4) if len(p) else 0.0,
        "first_order": first.date() if pd.notna(first) else None,
        "last_order": last.date() if pd.notna(last) else None,
        "months": int(o["placed_at"].dt.to_period("M").nunique()) if len(o) else 0,
        "tables_with_rows": f"{filled}/{len(TABLE_NAMES)}",
    }
    return pd.DataFrame({"value": pd.Series(rows, dtype=object)}).rename_axis("measure")


def orders_per_customer(data: CRMData) -> pd.Series:
    """Purchases of each customer who bought at least once (guests left out)."""
    p = purchases(data)
    counts = p["customer_id"].dropna().astype("int64").value_counts().sort_index()
    return counts.rename("purchases").rename_axis("customer_id")


def buyer_mix(data: CRMData) -> pd.DataFrame:
    """One-time against repeat buyers: how many, their share, and their share of revenue."""
    p = purchases(data).dropna(subset=["customer_id"])
    per = p.groupby("customer_id").agg(n=("order_id", "size"), revenue=("value", "sum"))
    kind = np.where(per["n"] >= 2, "repeat", "one_time")
    out = per.groupby(kind).agg(customers=("n", "size"), revenue=("revenue", "sum"))
    out = out.reindex(["one_time", "repeat"], fill_value=0)
    out["share"] = out["customers"] / max(out["customers"].sum(), 1)
    out["revenue_share"] = out["revenue"] / (out["revenue"].sum() or 1.0)
    return out[["customers", "share", "revenue", "revenue_share"]].rename_axis("buyers")


def monthly_sales(data: CRMData) -> pd.DataFrame:
    """Purchases and revenue per calendar month (months without sales are zero)."""
    p = purchases(data)
    if p.empty:
        return pd.DataFrame(columns=["purchases", "revenue"]).rename_axis("month")
    month = p["placed_at"].dt.to_period("M")
    out = p.groupby(month).agg(purchases=("order_id", "size"), revenue=("value", "sum"))
    full = pd.period_range(out.index.min(), out.index.max(), freq="M")
    out = out.reindex(full, fill_value=0)
    out.index = full.to_timestamp()
    return out.rename_axis("month")


def seasonal_index(data: CRMData) -> pd.Series:
    """Average revenue of each calendar month (1-12) divided by the average month.

    1.5 means that month sells half as much again as an ordinary month: the
    seasonality a forecast must reproduce.
    """
    m = monthly_sales(data)["revenue"]
    if m.empty or m.mean() == 0:
        return pd.Series(dtype=float, name="index").rename_axis("month_of_year")
    by_month = m.groupby(pd.DatetimeIndex(m.index).month).mean()
    return (by_month / m.mean()).rename("index").rename_axis("month_of_year")


def weekday_orders(data: CRMData) -> pd.Series:
    """Purchases by day of the week (``monday`` ... ``sunday``)."""
    p = purchases(data)
    counts = p["placed_at"].dt.day_of_week.value_counts().reindex(range(7), fill_value=0)
    return pd.Series(counts.to_numpy(), index=list(_WEEKDAYS), name="purchases").rename_axis(
        "weekday")


# ----------------------------------------------------------------------------- verification split
@dataclass(frozen=True)
class Split:
    """The calibration period (``start`` to ``cutoff``) and the holdout after it.

    Models learn only from what happened up to ``cutoff``; the holdout
    (``cutoff`` to ``end``) is kept aside as the answer the models never saw.
    """

    start: pd.Timestamp
    cutoff: pd.Timestamp
    end: pd.Timestamp

    @property
    def holdout_days(self) -> int:
        return int((self.end - self.cutoff).days)

    def calibration(self, frame: pd.DataFrame, column: str = "placed_at") -> pd.DataFrame:
        """The rows of ``frame`` up to and including the cutoff day."""
        return frame[frame[column] < self.cutoff + pd.Timedelta(days=1)]

    def holdout(self, frame: pd.DataFrame, column: str = "placed_at") -> pd.DataFrame:
        """The rows of ``frame`` after the cutoff day."""
        return frame[frame[column] >= self.cutoff + pd.Timedelta(days=1)]


def holdout_split(data: CRMData, *, holdout_days: int = 180,
                  min_calibration_days: int = 180) -> Split:
    """Split the shop's period: the last ``holdout_days`` are the holdout.

    The period ends where the data say it does (the manifest's ``end``, else
    the last day with an order). The calibration period
    must keep at least ``min_calibration_days``, or the models would learn
    from too little.

    >>> from crmkit.dataset.synth import generate
    >>> holdout_split(generate("boutique", n_customers=50, seed=1), holdout_days=0)
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: holdout_days=0 must be a whole number of days ≥ 30 ...
    """
    if (isinstance(holdout_days, bool) or not isinstance(holdout_days, numbers.Integral)
            or holdout_days < 30):
        raise ParameterError(
            f"holdout_days={holdout_days!r} must be a whole number of days ≥ 30 (e.g. 180): "
            "the period kept aside to verify the models.")
    start, end = _period(data)
    cutoff = end - pd.Timedelta(days=int(holdout_days))
    if (cutoff - start).days < min_calibration_days:
        longest = (end - start).days - min_calibration_days
        raise ParameterError(
            f"holdout_days={holdout_days} leaves only {(cutoff - start).days} days to learn "
            f"from (the data cover {(end - start).days} days); choose at most "
            f"{max(longest, 0)} days, or None to let the shop's history choose.")
    return Split(start, cutoff, end)


def _period(data: CRMData) -> tuple[pd.Timestamp, pd.Timestamp]:
    o = data.orders
    if o.empty or o["placed_at"].isna().all():
        raise ParameterError("the shop has no orders, so there is no period to split; load a "
                             "dataset with orders.")
    return o["placed_at"].min().normalize(), period_end(data)


def history_days(data: CRMData) -> int:
    """Days from the shop's first order to the end of its period."""
    start, end = _period(data)
    return int((end - start).days)


def choose_split(data: CRMData, holdout_days: int | None = None) -> tuple[Split, str]:
    """The split a lesson uses, and how its holdout was decided.

    ``holdout_days`` given: :func:`holdout_split` with it (``"given"``). ``None``: the
    holdout the shop's history supports (:func:`crmkit.lessons.parameters.holdout_window`,
    ``"chosen"``); a history too short even for that (less than 210 days) is cut in two
    halves, the later one the holdout (``"halves"``): the models then learn from little,
    and the sections that need more history say so.

    >>> import pandas as pd
    >>> from crmkit.dataset.synth import generate
    >>> split, how = choose_split(generate("boutique", n_customers=80, seed=1,
    ...                                    start="2024-01-01", end="2024-10-31"))
    >>> how, split.holdout_days, (split.cutoff - split.start).days >= 180
    ('chosen', 123, True)
    >>> split, how = choose_split(generate("boutique", n_customers=80, seed=1,
    ...                                    start="2024-01-01", end="2024-03-31"))
    >>> how, split.holdout_days, (split.cutoff - split.start).days
    ('halves', 44, 44)
    """
    from .parameters import holdout_window

    if holdout_days is not None:
        return holdout_split(data, holdout_days=holdout_days), "given"
    start, end = _period(data)
    days = int((end - start).days)
    window = holdout_window(days)
    if window is not None:
        return Split(start, end - pd.Timedelta(days=window), end), "chosen"
    if days < 2:
        raise ParameterError(f"the shop's orders cover {days} day(s); a lesson that verifies "
                             "models needs at least two days of history.")
    return Split(start, end - pd.Timedelta(days=days - days // 2), end), "halves"


def say_split(split: Split, how: str, lang: str = "en") -> None:
    """Print the split, and how its holdout was decided, in ``lang``."""
    from .notebook import say

    say("m03_split", lang, start=split.start, cutoff=split.cutoff, days=split.holdout_days,
        end=split.end)
    if how != "given":
        say(f"m03_window_{how}", lang, days=split.holdout_days,
            history=int((split.end - split.start).days),
            calibration=int((split.cutoff - split.start).days))


# ----------------------------------------------------------------------------- organise the data
def organise_steps(data: CRMData, split: Split) -> pd.DataFrame:
    """From every order to the purchases of the customer table, one decision at a time.

    Each row says how many orders a decision removes and how many are left;
    the last row is what :func:`crmkit.analytics.rfm.rfm_summary` reads at
    the cutoff.
    """
    o = data.orders
    end = split.cutoff + pd.Timedelta(days=1)
    steps = [("all_orders", np.ones(len(o), dtype=bool))]
    keep = np.ones(len(o), dtype=bool)
    for name, drop in (
        ("after_cutoff", (o["placed_at"] >= end).to_numpy()),
        ("cancelled", (o["status"] == "cancelled").to_numpy()),
        ("returned_by_cutoff", ((o["status"] == "returned") & (o["returned_at"] < end))
         .to_numpy()),
        ("guests", o["customer_id"].isna().to_numpy()),
    ):
        keep = keep & ~drop
        steps.append((name, keep.copy()))
    rows, before = [], len(o)
    for name, mask in steps:
        left = int(mask.sum())
        rows.append({"step": name, "removed": before - left, "orders_left": left})
        before = left
    out = pd.DataFrame(rows).set_index("step")
    out.loc["all_orders", "removed"] = 0
    return out


# ----------------------------------------------------------------------------- SQL on CRMData
def run_sql(data: CRMData, sql: str, lang: str = "en") -> Any:
    """Run a SQL query on the shop's tables (DuckDB, in memory); return its result, as
    :func:`crmkit.lessons.lesson02.run_sql` does on the warehouse.

    Every table of the data (``customers``, ``orders``, ``order_lines``...)
    and the view ``purchases`` (see :func:`purchases`) can be queried by name.
    A result of one row and one column comes back as that value, one column
    as a list, anything else as a table.
    """
    import duckdb

    from .lesson02 import sql_answer

    # only the shop's tables, in memory: no file can be read or written, one SELECT at a time
    con = duckdb.connect(config={"enable_external_access": False})
    try:
        for name in data.tables:
            con.register(name, data.tables[name])
        con.register("purchases", purchases(data))
        return sql_answer(con, sql, lang, expected="msg.m03_sql_expected")
    finally:
        con.close()


# ----------------------------------------------------------------------------- tables of the lesson
_OBJECTIVES = ("repurchase", "value", "segments", "cross_sell", "forecast")
_STEPS = ("problem", "data", "organise", "algorithms", "verify", "deploy")


def objectives(lang: str = "en") -> pd.DataFrame:
    """The shop's questions stated as measurable objectives, each with the baseline to beat."""
    check_lang(lang)
    rows = [{"question": t(f"m03_objective.{k}_question", lang),
             "objective": t(f"m03_objective.{k}_measure", lang),
             "baseline": t(f"m03_objective.{k}_baseline", lang)} for k in _OBJECTIVES]
    out = pd.DataFrame(rows, index=pd.Index(_OBJECTIVES, name="topic"))
    out.index = [t(f"m03_objective.{k}", lang) for k in _OBJECTIVES]
    out.columns = [t(f"m03_column.{c}", lang) for c in out.columns]
    return out


def methodology(lang: str = "en") -> pd.DataFrame:
    """The course's five steps, each with its CRISP-DM phase and what this lesson did."""
    check_lang(lang)
    rows = [{"step": t(f"m03_step.{k}", lang), "crisp_dm": t(f"m03_crisp.{k}", lang),
             "here": t(f"m03_did.{k}", lang)} for k in _STEPS]
    out = pd.DataFrame(rows)
    out.columns = [t(f"m03_column.{c}", lang) for c in out.columns]
    return out


_FACTORS = ("budget", "previous_sales", "average_revenue", "trends", "customers",
            "market", "economy", "marketing_plan")


def forecast_factors(data: CRMData, lang: str = "en") -> pd.DataFrame:
    """The sales-forecast factors of the course (seed 002) and where each is in this lesson.

    Factors the shop's data hold are used; the others (the company's budget,
    the market, the economy) are named so the forecast is read with them in mind.
    """
    check_lang(lang)
    sales = not data.orders.empty
    have = {"previous_sales": sales, "average_revenue": sales, "trends": sales,
            "customers": bool(data.orders["customer_id"].notna().any()),
            "marketing_plan": data.has("campaigns") and not data.tables["campaigns"].empty}
    rows = [{"factor": t(f"m03_factor.{k}", lang),
             "in_data": t(f"m03_factor.{k}_{'yes' if have.get(k) else 'no'}", lang)}
            for k in _FACTORS]
    out = pd.DataFrame(rows)
    out.columns = [t(f"m03_column.{c}", lang) for c in out.columns]
    return out


def _name(key: object, lang: str) -> object:
    if not isinstance(key, str):
        return key
    for group in ("m03_column", "m03_value", "m03_step_row", "m03_score"):
        name = f"{group}.{key}"
        if name in catalog():
            return t(name, lang)
    return key


def rounded(table: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """``table`` rounded to ``decimals``, and to two in the columns that reach 1 or more
    (a Spanish ``1,549`` would read as a thousand to an English eye).

    >>> rounded(pd.DataFrame({"mae": [174.6571, 0.5], "share": [0.12345, 0.5]})).to_dict("list")
    {'mae': [174.66, 0.5], 'share': [0.123, 0.5]}
    """
    out = table.round(decimals)
    for col in out.columns[[pd.api.types.is_float_dtype(d) for d in out.dtypes]]:
        if out[col].abs().max() >= 1:
            out[col] = out[col].round(min(decimals, 2))
    return out


def show(table: Table, lang: str = "en") -> Table:
    """A copy of a lesson table whose headers, category labels and numbers speak ``lang``
    (:func:`crmkit.lessons.notebook.readable`: no missing value shown as ``NaN``)."""
    check_lang(lang)
    out = table.copy()
    if isinstance(out, pd.DataFrame):
        out.columns = [_name(c, lang) for c in out.columns]
    else:
        out.name = _name(out.name, lang)
    out.index = out.index.map(lambda v: _name(v, lang))
    out.index.names = [_name(n, lang) for n in out.index.names]
    return readable(localize(out, lang), lang)


# ----------------------------------------------------------------------------- plots
def _axes(ax: Axes | None, size: tuple[float, float] = (8, 3.5)) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=size, layout="constrained")[1]


def _done(ax: Axes, lang: str, key: str, **values: object) -> Axes:
    """Axes written in ``lang`` and the picture described by ``plot_alt.<key>``."""
    locale_axes(ax, lang)
    return describe_figure(ax, format_message(t(f"plot_alt.{key}", lang), lang, **values))


def _month(day: DayLike, lang: str) -> str:
    return format_date(pd.Timestamp(day), lang, skeleton="yMMM")


def plot_monthly_sales(data: CRMData, *, split: Split | None = None, lang: str = "en",
                       ax: Axes | None = None) -> Axes:
    """Revenue per month; with a ``split``, the holdout period is shaded."""
    check_lang(lang)
    ax = _axes(ax)
    m = monthly_sales(data)
    ax.bar(m.index, m["revenue"], width=25, color="#4c72b0",
           label=t("m03_value.calibration", lang) if split is not None else None)
    if split is not None:
        # dates: matplotlib converts them (its stubs say float)
        ax.axvspan(split.cutoff, split.end + pd.Timedelta(days=15), color="#dd8452",  # type: ignore[arg-type]
                   alpha=0.25, label=t("m03_value.holdout", lang))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize="small")
    ax.set_title(t("m03_chart.monthly_sales", lang))
    ax.set_ylabel(t("m03_chart.revenue", lang))
    ax.set_xlabel("")
    span = {"start": _month(m.index.min(), lang), "end": _month(m.index.max(), lang)}
    if split is None:
        return _done(ax, lang, "monthly_sales", **span)
    return _done(ax, lang, "monthly_sales_split", cutoff=_month(split.cutoff, lang), **span)


def plot_orders_per_customer(data: CRMData, *, lang: str = "en", cap: int = 10,
                             ax: Axes | None = None) -> Axes:
    """How many customers bought once, twice... (``cap`` and more in the last bar)."""
    check_lang(lang)
    ax = _axes(ax, (6, 3.5))
    n = orders_per_customer(data).clip(upper=cap)
    counts = n.value_counts().reindex(range(1, cap + 1), fill_value=0)
    colours = ["#dd8452" if k == 1 else "#4c72b0" for k in counts.index]
    ax.bar([str(k) if k < cap else f"{cap}+" for k in counts.index], counts.to_numpy(),
           color=colours)
    ax.set_title(t("m03_chart.orders_per_customer", lang))
    ax.set_xlabel(t("m03_chart.purchases", lang))
    ax.set_ylabel(t("m03_chart.customers", lang))
    return _done(ax, lang, "orders_per_customer", cap=cap, once=int(counts.loc[1]))


def plot_seasonal_index(data: CRMData, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """The seasonal index of each calendar month, against the ordinary month (1)."""
    check_lang(lang)
    ax = _axes(ax, (6, 3.5))
    idx = seasonal_index(data)
    ax.bar(idx.index.astype(int), idx.to_numpy(),
           color=["#d55e00" if v >= 1 else "#8c8c8c" for v in idx.to_numpy()])
    ax.axhline(1, color="black", lw=1, ls="--")
    names = month_names(lang)
    ax.set_xticks(range(1, 13), names)
    ax.set_title(t("m03_chart.seasonal_index", lang))
    ax.set_xlabel(t("m03_chart.month_of_year", lang))
    ax.set_ylabel(t("m03_chart.index", lang))
    best = cast(int, idx.idxmax())  # a month of the year, 1-12
    return _done(ax, lang, "seasonal_index", best=month_names(lang, "wide")[int(best) - 1])


# ----------------------------------------------------------------------------- exercises
def _weekday_key(ctx: Lesson, answer: object) -> object:
    """Accept a weekday as a name in English or Spanish (any case, with or without its
    accent), or as a number (0 = Monday).

    >>> [_weekday_key(None, w) for w in ("sabado", "SÁBADO", "Saturday", 5, "Miercoles")]
    ['saturday', 'saturday', 'saturday', 'saturday', 'wednesday']
    """
    if isinstance(answer, numbers.Integral) and not isinstance(answer, bool):
        if 0 <= int(answer) <= 6:
            return _WEEKDAYS[int(answer)]
        return str(answer)
    if isinstance(answer, str):
        word = fold(answer)
        for key in _WEEKDAYS:
            labels = catalog().get(f"m03_value.{key}", (key, key))
            if word in (key, *(fold(x) for x in labels)):
                return key
        return word
    return answer


def _busiest_weekday(ctx: Lesson) -> AnyOf:
    counts = weekday_orders(ctx.data)
    return AnyOf(counts.index[counts == counts.max()].tolist())


def _first_year_repeat(ctx: Lesson) -> float:
    p = purchases(ctx.data).dropna(subset=["customer_id"])
    first = p.groupby("customer_id")["placed_at"].min()
    n = p.groupby("customer_id").size()
    year = first.dt.year.min()
    cohort = first.index[first.dt.year == year]
    return float((n.loc[cohort] >= 2).mean()) if len(cohort) else 0.0


def _guest_revenue(ctx: Lesson) -> float:
    p = purchases(ctx.data)
    return float(p.loc[p["customer_id"].isna(), "value"].sum())


def _base_rate(ctx: Lesson) -> float:
    return float((ctx.model("holdout")["frequency_holdout"] > 0).mean())


def _median_recency(ctx: Lesson) -> float:
    return float(rfm_summary(ctx.data, as_of=ctx.split.cutoff)["recency_days"].median())


def _r5_came_back(ctx: Lesson) -> float:
    seg = ctx.model("segments")
    came = ctx.model("holdout")["frequency_holdout"].reindex(seg.index) > 0
    return float(came[seg["r_score"] == 5].mean())


def _silent_regulars(ctx: Lesson) -> int:
    tab = ctx.model("value").table
    return int(((tab["frequency"] >= 3) & (tab["probability_alive"] < 0.5)).sum())


def _top_decile_capture(ctx: Lesson) -> float:
    tab = ctx.model("value").table
    n = max(int(len(tab) * 0.1), 1)
    top = tab.sort_values("expected_purchases", ascending=False, kind="mergesort").head(n)
    total = tab["actual_purchases"].sum()
    return float(top["actual_purchases"].sum() / total) if total else 0.0


def _sql(ctx: Lesson, answer: str) -> Any:
    return run_sql(ctx.data, answer, lang=ctx.lang)


def top_pair(rules: pd.DataFrame, data: CRMData) -> tuple[int, int]:
    """Product ids of the two products of the strongest rule (smaller id first)."""
    names = data.products.drop_duplicates("name").set_index("name")["product_id"]
    a, c = rules["antecedent"].iloc[0], rules["consequent"].iloc[0]
    ids = sorted(int(names[n]) for n in (a, c))
    return ids[0], ids[1]


def _best_cluster_spend(ctx: Lesson) -> AnyOf:
    labels = ctx.model("clusters").labels_
    h = ctx.model("holdout").reindex(labels.index)
    spend = h["spend_holdout"].fillna(0).groupby(labels).mean()
    return AnyOf([int(c) for c in spend.index[np.isclose(spend, spend.max())]])


def _top50_precision(ctx: Lesson) -> float:
    preds = ctx.model("repurchase").predictions
    top = preds.sort_values("logistic", ascending=False, kind="mergesort").head(50)
    return float(top["bought"].mean())


def _pair_baskets(ctx: Lesson) -> int:
    a, b = top_pair(ctx.model("rules"), ctx.data)
    o = ctx.data.orders
    kept = o.loc[o["status"] != "cancelled", "order_id"]
    lines = ctx.data.order_lines
    lines = lines[lines["order_id"].isin(kept)]
    has_a = set(lines.loc[lines["product_id"] == a, "order_id"])
    has_b = set(lines.loc[lines["product_id"] == b, "order_id"])
    return len(has_a & has_b)


def _like(ctx: Lesson, data: CRMData) -> Lesson:
    """A lesson like ``ctx`` on other data (the same split, and the same models as they are
    handed over)."""
    return Lesson(data, ctx.split, ctx.lang, ctx.models, ctx.fit_missing)


def _with_orders(data: CRMData, orders: pd.DataFrame, lines: pd.DataFrame) -> CRMData:
    """``data`` with more orders and order lines (given with order ids of their own)."""
    tables = {**data.tables,
              "orders": pd.concat([data.orders, orders], ignore_index=True),
              "order_lines": pd.concat([data.order_lines, lines], ignore_index=True)}
    return CRMData(tables, data.manifest, data.truth)


def _copies(data: CRMData, order_id: int, changes: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of order ``order_id`` and its lines, one per item of ``changes`` (the columns
    of the order to change), under new order ids."""
    o, lines = data.orders, data.order_lines
    first = int(o["order_id"].max()) + 1
    orders = pd.concat([o[o["order_id"] == order_id].assign(order_id=first + i, **change)
                        for i, change in enumerate(changes)], ignore_index=True)
    copied = pd.concat([lines[lines["order_id"] == order_id].assign(order_id=first + i)
                        for i in range(len(changes))], ignore_index=True)
    return orders.astype(o.dtypes.to_dict()), copied.astype(lines.dtypes.to_dict())


def guest_orders_undone(ctx: Lesson) -> Lesson:
    """The lesson on a copy of the data where a guest also cancelled one order and
    returned another (copies of the guests' first purchase).

    The guests' purchases are the same; a query on ``orders`` and ``order_lines`` that
    leaves in cancelled or returned orders now sums more.
    """
    o = ctx.data.orders
    guest = o[o["customer_id"].isna() & ~o["status"].isin(["cancelled", "returned"])]
    if guest.empty:
        return ctx
    first = guest.sort_values(["placed_at", "order_id"]).iloc[0]
    day = first["placed_at"]
    orders, lines = _copies(ctx.data, first["order_id"], [
        {"status": "cancelled", "cancelled_at": day},
        {"status": "returned", "returned_at": day + pd.Timedelta(days=1)}])
    return _like(ctx, _with_orders(ctx.data, orders, lines))


def pair_in_cancelled_basket(ctx: Lesson) -> Lesson:
    """The lesson on a copy of the data where a cancelled order held the strongest pair and
    a basket that holds it has the pair's first product on two lines.

    The baskets holding the pair are the same; a query that counts cancelled orders, or
    counts joined lines (``count(*)``) instead of baskets, now gives another number.
    """
    a, b = top_pair(ctx.model("rules"), ctx.data)
    o, lines = ctx.data.orders, ctx.data.order_lines
    kept = lines[lines["order_id"].isin(o.loc[o["status"] != "cancelled", "order_id"])]
    template = kept["order_id"].iloc[0]
    orders, copied = _copies(ctx.data, template, [{"status": "cancelled"}])
    copied = copied.head(1)
    copied = pd.concat([copied.assign(product_id=a, line_number=1),
                        copied.assign(product_id=b, line_number=2)], ignore_index=True)
    holding = set(kept.loc[kept["product_id"] == a, "order_id"]) & set(
        kept.loc[kept["product_id"] == b, "order_id"])
    if holding:  # the pair's first product once more in a basket that holds the pair
        again = kept[(kept["order_id"] == min(holding)) & (kept["product_id"] == a)].head(1)
        copied = pd.concat([copied, again.assign(
            line_number=int(lines.loc[lines["order_id"] == min(holding), "line_number"].max())
            + 1)], ignore_index=True)
    return _like(ctx, _with_orders(ctx.data, orders, copied.astype(lines.dtypes.to_dict())))


def _forecast_total_error(ctx: Lesson) -> float:
    fc = ctx.model("forecast")
    return float(fc["ets"].sum() / fc["actual"].sum() - 1)


_COMPUTE = (
    Exercise(
        "base_rate", _base_rate,
        rtol=1e-4,
    ),
    Exercise(
        "first_year_repeat", _first_year_repeat,
        rtol=1e-4,
    ),
    Exercise(
        "busiest_weekday", _busiest_weekday, convert=_weekday_key,
    ),
    Exercise(
        "guest_revenue", _guest_revenue, convert=_sql, rtol=1e-6, perturb=guest_orders_undone,
    ),
    Exercise(
        "median_recency", _median_recency,
    ),
    Exercise(
        "r5_came_back", _r5_came_back, rtol=1e-4,
    ),
    Exercise(
        "best_cluster_spend", _best_cluster_spend,
    ),
    Exercise(
        "top50_precision", _top50_precision, rtol=1e-6,
    ),
    Exercise(
        "silent_regulars", _silent_regulars,
    ),
    Exercise(
        "top_decile_capture", _top_decile_capture, rtol=1e-4,
    ),
    Exercise(
        "pair_baskets", _pair_baskets, convert=_sql, needs="products",
        perturb=pair_in_cancelled_basket,
    ),
    Exercise(
        "forecast_total_error", _forecast_total_error, rtol=1e-4,
    ),
)

# ----------------------------------------------------------------------------- judgement
#: Scoreboard questions whose trusted method a *decide* exercise asks for: exercise -> question.
TRUST_QUESTIONS = {"trust_repurchase": "repurchase", "trust_purchases": "purchases",
                   "trust_sales": "sales"}


def _method_label(method: str, lang: str) -> str:
    from .mining import _label_of

    return _label_of(method, lang, ("m03_method", "mining", "m03_value"))


def _trusted_method(block: pd.DataFrame) -> str:
    """The method to trust for one question of the scoreboard: the candidate chosen on
    validation data when its verdict is that it beats every baseline, else the best baseline
    (a model *no better than* a simple rule does not earn its place).

    >>> block = pd.DataFrame({"kind": ["model", "baseline", "baseline"],
    ...                       "chosen": [True, False, False],
    ...                       "verdict": ["no_better", "best_baseline", ""]},
    ...                      index=["ets", "naive", "seasonal_naive"])
    >>> _trusted_method(block)
    'naive'
    >>> _trusted_method(block.assign(verdict=["beats", "best_baseline", ""]))
    'ets'
    """
    models = block[block["kind"] == "model"]
    chosen = models[models["chosen"].fillna(False).astype(bool)]
    pick = (chosen if len(chosen) else models).index[0]
    if block.loc[pick, "verdict"] == "beats":
        return str(pick)
    return str(block.index[block["verdict"] == "best_baseline"][0])


def _board_block(ctx: Lesson, question: str) -> pd.DataFrame:
    board = ctx.model("board")
    return board.loc[question]


def _trust_options(question: str) -> Callable[[Lesson, str], dict[str, Option]]:
    def options(ctx: Lesson, lang: str) -> dict[str, Option]:
        methods = sorted(_board_block(ctx, question).index)
        return letters([Option(_method_label(m, lang), m) for m in methods])
    return options


def _trust_best(question: str) -> Callable[[Lesson], str]:
    def best(ctx: Lesson) -> str:
        methods = sorted(_board_block(ctx, question).index)
        return "abcdefghijklmnopqrstuvwxyz"[methods.index(_trusted_method(
            _board_block(ctx, question)))]
    return best


def _segment_counts(ctx: Lesson) -> pd.DataFrame:
    from .mining import segment_outcomes

    out = segment_outcomes(ctx.data, ctx.split, ctx.model("segments"))
    return out[out["customers"] > 0]


def _segment_options(ctx: Lesson, lang: str) -> dict[str, Any]:
    return labelled(sorted(_segment_counts(ctx).index), lang, group="rfm_segment")


def _segment_best(ctx: Lesson) -> str:
    out = _segment_counts(ctx)
    returning = (out["customers"] * out["came_back"]).sort_index()
    return "abcdefghijklmnopqrstuvwxyz"[list(returning.index).index(returning.idxmax())]


def _two_years(ctx: Lesson) -> pd.DataFrame:
    """Purchases and their mean value in the last calendar year of the data and the one before."""
    p = purchases(ctx.data)
    year = p["placed_at"].dt.year
    last = int(year.max())
    g = p[year >= last - 1].groupby(year)["value"]
    return pd.DataFrame({"purchases": g.size(), "average_value": g.mean()})


def _driver_options(ctx: Lesson, lang: str) -> dict[str, Any]:
    return letters([t(f"judge.driver_{k}", lang) for k in ("purchases", "average_value")])


def _driver_best(ctx):
    years = _two_years(ctx)
    change = np.log(years.iloc[-1] / years.iloc[0]).abs()
    return "a" if change["purchases"] >= change["average_value"] else "b"


def _rule_candidates(ctx: Lesson) -> pd.DataFrame:
    return ctx.model("rules").head(3)


def _rule_options(ctx: Lesson, lang: str) -> dict[str, Any]:
    rows = _rule_candidates(ctx)
    return letters([f"{a} → {c}" for a, c in zip(rows["antecedent"], rows["consequent"],
                                                  strict=True)])


def _rule_best(ctx: Lesson) -> str:
    return "abc"[int(np.nanargmax(_rule_candidates(ctx)["holdout_lift"].fillna(-1)))]


def _trust(name: str, question: str) -> Exercise:
    """A *trust* exercise: its title is its own, its hints and rubric those of every trust."""
    return decide(name, _trust_options(question), _trust_best(question),
                  hints=("exercise.trust.hint.1", "exercise.trust.hint.2"),
                  rubric="exercise.trust.rubric")


JUDGEMENT = (
    decide("sales_change_driver", _driver_options, _driver_best),
    decide("fund_segment", _segment_options, _segment_best),
    decide("cross_sell_rule", _rule_options, _rule_best, needs="products"),
    _trust("trust_repurchase", "repurchase"),
    _trust("trust_purchases", "purchases"),
    _trust("trust_sales", "sales"),
)


_ORDER = ("base_rate", "first_year_repeat", "busiest_weekday", "sales_change_driver",
          "guest_revenue", "median_recency", "r5_came_back", "fund_segment",
          "best_cluster_spend", "top50_precision", "silent_regulars", "pair_baskets",
          "cross_sell_rule", "forecast_total_error", "top_decile_capture", "trust_repurchase",
          "trust_purchases", "trust_sales")
#: The exercises of notebook 03, in the notebook's order (a third of them ask for a decision).
EXERCISES = tuple(sorted(_COMPUTE + JUDGEMENT, key=lambda e: _ORDER.index(e.name)))
EXERCISES += CONCEPT_EXERCISES["03"]  # the concepts of crmkit.lessons.concept_lessons

#: The section each exercise belongs to (a section a shop cannot run skips its exercises).
SECTION = {"guest_revenue": "guests", "r5_came_back": "segments", "best_cluster_spend": "clusters",
           "top50_precision": "repurchase", "silent_regulars": "value",
           "top_decile_capture": "value", "pair_baskets": "baskets",
           "forecast_total_error": "forecast", "fund_segment": "segments",
           "pessimistic_total": "forecast",
           "cross_sell_rule": "baskets", "trust_repurchase": "repurchase",
           "trust_purchases": "value", "trust_sales": "forecast"}


#: The models a notebook hands its book with ``book.use(name=model)``.
MODELS = ("holdout", "segments", "clusters", "repurchase", "value", "rules", "forecast",
          "board")


@dataclass
class Lesson:
    """What the exercises are checked against: the shop's data, the split, the fitted models.

    ``models`` holds what the notebook has fitted (``"segments"``: the
    segmented customer table, ``"value"``: :class:`~crmkit.lessons.mining.ValueModels`),
    handed over with ``book.use(segments=segmented)``, so a check never fits a
    model twice. While the book is built (``fit_missing`` False) an answer
    that needs a model not handed over yet waits for it.
    """

    data: CRMData
    split: Split
    lang: str = "en"
    models: dict = field(default_factory=dict)
    fit_missing: bool = True

    def use(self, **models: Any) -> None:
        """Keep the models the notebook has fitted, by name (see :attr:`models`)."""
        unknown = set(models) - set(MODELS)
        if unknown:
            raise ParameterError(f"book.use() takes the models {', '.join(MODELS)}; "
                                 f"not {', '.join(sorted(unknown))}.")
        self.models.update(models)

    def model(self, name: str) -> Any:
        """A fitted model by name (fitted now if the notebook has not done it yet)."""
        if name not in self.models:
            from . import mining

            if not self.fit_missing:
                raise NotReady(name)

            if name == "segments":
                self.models[name] = mining.segments_at(self.data, self.split)
            elif name == "value":
                self.models[name] = mining.value_models(self.data, self.split)
            elif name == "clusters":
                self.models[name] = mining.clusters_at(self.data, self.split)[0]
            elif name == "repurchase":
                self.models[name] = mining.repurchase_check(self.data, self.split)
            elif name == "rules":
                self.models[name] = mining.basket_check(self.data, self.split)
            elif name == "forecast":
                self.models[name] = mining.forecast_check(self.data, self.split)[1]
            elif name == "board":
                self.models[name] = mining.scoreboard(
                    value=self.models.get("value"), repurchase=self.models.get("repurchase"),
                    forecasts=self.models.get("forecast"), rules=self.models.get("rules"))
            elif name == "holdout":
                self.models[name] = holdout_purchases(self.data, as_of=self.split.cutoff,
                                                      end=self.split.end)
            else:
                raise KeyError(name)
        return self.models[name]


def notebook_lesson(data: CRMData, split: Split, lang: str = "en", *, seed: int = 0) -> Lesson:
    """The lesson as notebook 03 leaves it: every model fitted with the notebook's own calls
    and seeds (a section the shop's history cannot run is left out, as the notebook leaves
    it; nothing more is fitted later).

    ``crmkit grade`` computes the exercises' answers on it, outside the student's kernel.
    """
    from . import mining

    def fitted(section: str, fit: Callable[..., Any], **kw: Any) -> Any:
        return mining.attempt(section, fit, data, split, lang, **kw)[0]

    clusters = fitted("clusters", mining.clusters_at, seed=seed)
    rules = fitted("baskets", mining.basket_check)
    forecasts = fitted("forecast", mining.forecast_check)
    made = {"holdout": holdout_purchases(data, as_of=split.cutoff, end=split.end),
            "segments": mining.segments_at(data, split),
            "clusters": None if clusters is None else clusters[0],
            "repurchase": fitted("repurchase", mining.repurchase_check, seed=seed),
            "value": fitted("value", mining.value_models),
            "rules": None if rules is None or rules.empty else rules,
            "forecast": None if forecasts is None else forecasts[1]}
    made["board"] = mining.scoreboard(value=made["value"], repurchase=made["repurchase"],
                                      forecasts=made["forecast"], rules=made["rules"])
    return Lesson(data, split, lang, {k: v for k, v in made.items() if v is not None},
                  fit_missing=False)


def exercise_book(data: CRMData, split: Split, lang: str = "en") -> ExerciseBook:
    """The exercise book of notebook 03 for this shop's data and calibration/holdout split.

    Hand it each model as the notebook fits it: ``book.use(holdout=holdout)`` (the names
    are :data:`MODELS`; see :class:`Lesson`).
    """
    check_lang(lang)
    return ExerciseBook(Lesson(data, split, lang), EXERCISES, lang=lang,
                        source=f"{__name__}:EXERCISES")


def exercise_status(book: ExerciseBook, skipped: Iterable[str] = ()) -> pd.DataFrame:
    """Status of every exercise; those of sections skipped for this shop say ``skipped``."""
    out = book.summary().set_index("exercise")[["status"]]
    skip = [e for e in out.index if SECTION.get(e) in set(skipped)]
    out.loc[skip, "status"] = out.loc[skip, "status"].where(
        out.loc[skip, "status"] != "unchecked", "skipped")
    return out
