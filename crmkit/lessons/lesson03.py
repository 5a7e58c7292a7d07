"""Notebook 03 (the data-mining methodology): the shop's data profile, its split, exercises.

The lesson walks the five steps of the course's methodology (understand the
problem, understand the data, organise the data, define the algorithms,
verify the results) on one shop. This module holds what the notebook computes
that is not a model: the objectives, the data profile, the calibration and
holdout periods every model is verified on, the closing CRISP-DM table and the
exercise book.

A *purchase* is an order that was neither cancelled nor returned: the money
of a cancelled or returned order never stayed with the shop. Guest orders are
purchases too, but they belong to no customer.

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
>>> query(data, "SELECT count(*) FROM orders") == len(data.orders)
True
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..dataset.crmdata import CRMData
from ..errors import ParameterError
from ..i18n import catalog, check_lang, t
from .exercises import AnyOf, Exercise, ExerciseBook
from .notebook import localize

__all__ = [
    "NOT_PURCHASES",
    "Split",
    "purchases",
    "data_profile",
    "orders_per_customer",
    "buyer_mix",
    "monthly_sales",
    "seasonal_index",
    "weekday_orders",
    "holdout_split",
    "query",
    "objectives",
    "methodology",
    "show",
    "plot_monthly_sales",
    "plot_orders_per_customer",
    "plot_seasonal_index",
    "Lesson",
    "EXERCISES",
    "exercise_book",
]

#: Order statuses that do not count as a purchase (the money went back or never came).
NOT_PURCHASES = ("cancelled", "returned")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ----------------------------------------------------------------------------- the data profile
def purchases(data: CRMData) -> pd.DataFrame:
    """The orders that count as purchases, each with the value of its goods.

    Columns: ``order_id``, ``customer_id`` (empty for guests), ``placed_at``,
    ``channel`` and ``value`` (quantity × unit price × (1 − discount) summed
    over the order's lines). Cancelled and returned orders are left out.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("frozen_foods", n_customers=100, seed=2)
    >>> p = purchases(data)
    >>> bool(p["order_id"].isin(data.orders.query("status == 'cancelled'")["order_id"]).any())
    False
    """
    o = data.orders
    kept = o.loc[~o["status"].isin(NOT_PURCHASES),
                 ["order_id", "customer_id", "placed_at", "channel"]]
    lines = data.order_lines
    value = (lines["quantity"] * lines["unit_price"] * (1 - lines["discount"])).groupby(
        lines["order_id"]).sum()
    out = kept.assign(value=kept["order_id"].map(value).fillna(0.0).to_numpy())
    return out.reset_index(drop=True)


def data_profile(data: CRMData) -> pd.DataFrame:
    """One row per fact a data miner checks first: how much data, of what period, how complete.

    The ``value`` column mixes counts, shares and days; ``tables_with_rows``
    tells which of the canonical tables this shop actually has.
    """
    o = data.orders
    p = purchases(data)
    tables = data.summary()
    filled = int((tables["rows"] > 0).sum()) if "rows" in tables else len(tables)
    first, last = (o["placed_at"].min(), o["placed_at"].max()) if len(o) else (pd.NaT, pd.NaT)
    rows = {
        "customers": len(data.customers),
        "buyers": int(p["customer_id"].dropna().nunique()),
        "orders": len(o),
        "purchases": len(p),
        "not_purchases_share": round(1 - len(p) / len(o), 4) if len(o) else 0.0,
        "guest_share": round(float(p["customer_id"].isna().mean()), 4) if len(p) else 0.0,
        "first_order": first.date() if pd.notna(first) else None,
        "last_order": last.date() if pd.notna(last) else None,
        "months": int(o["placed_at"].dt.to_period("M").nunique()) if len(o) else 0,
        "tables_with_rows": f"{filled}/{len(tables)}",
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
    out.index = out.index.to_timestamp()
    return out.rename_axis("month")


def seasonal_index(data: CRMData) -> pd.Series:
    """Average revenue of each calendar month (1-12) divided by the average month.

    1.5 means that month sells half as much again as an ordinary month: the
    seasonality a forecast must reproduce.
    """
    m = monthly_sales(data)["revenue"]
    if m.empty or m.mean() == 0:
        return pd.Series(dtype=float, name="index").rename_axis("month_of_year")
    by_month = m.groupby(m.index.month).mean()
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

    The period ends on the last day with an order. The calibration period
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
    o = data.orders
    if o.empty:
        raise ParameterError("the shop has no orders, so there is no period to split; load a "
                             "dataset with orders.")
    start = o["placed_at"].min().normalize()
    end = o["placed_at"].max().normalize()
    cutoff = end - pd.Timedelta(days=int(holdout_days))
    if (cutoff - start).days < min_calibration_days:
        longest = (end - start).days - min_calibration_days
        raise ParameterError(
            f"holdout_days={holdout_days} leaves only {(cutoff - start).days} days to learn "
            f"from (the data cover {(end - start).days} days); choose at most "
            f"{max(longest, 0)} days.")
    return Split(start, cutoff, end)


# ----------------------------------------------------------------------------- SQL on CRMData
def query(data: CRMData, sql, lang: str = "en"):
    """Run a SQL query on the shop's tables (DuckDB, in memory); return its result.

    Every table of the data (``customers``, ``orders``, ``order_lines``...)
    and the view ``purchases`` (see :func:`purchases`) can be queried by name.
    A result of one row and one column comes back as that value, one column
    as a list, anything else as a table.
    """
    import duckdb

    if not isinstance(sql, str) or not re.search(r"\s", sql.strip()):
        raise TypeError(t("msg.m03_sql_expected", lang))
    con = duckdb.connect()
    try:
        for name in data.tables:
            con.register(name, data.tables[name])
        con.register("purchases", purchases(data))
        df = con.execute(sql).df()
    finally:
        con.close()
    if df.empty:
        raise ValueError(t("msg.m03_sql_empty", lang))
    if df.shape == (1, 1):
        value = df.iat[0, 0]
        if pd.isna(value):
            raise ValueError(t("msg.m03_sql_null", lang))
        return value.item() if hasattr(value, "item") else value
    if df.shape[1] == 1:
        return df.iloc[:, 0].tolist()
    return df


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


def _name(key, lang: str):
    if not isinstance(key, str):
        return key
    for group in ("m03_column", "m03_value"):
        name = f"{group}.{key}"
        if name in catalog():
            return t(name, lang)
    return key


def show(table: pd.DataFrame | pd.Series, lang: str = "en"):
    """A copy of a lesson table whose headers and category labels speak ``lang``."""
    check_lang(lang)
    out = table.copy()
    if isinstance(out, pd.DataFrame):
        out.columns = [_name(c, lang) for c in out.columns]
    else:
        out.name = _name(out.name, lang)
    out.index = out.index.map(lambda v: _name(v, lang))
    out.index.names = [_name(n, lang) for n in out.index.names]
    return localize(out, lang)


# ----------------------------------------------------------------------------- plots
def _axes(ax, size=(8, 3.5)):
    return ax if ax is not None else plt.subplots(figsize=size)[1]


def plot_monthly_sales(data: CRMData, *, split: Split | None = None, lang: str = "en",
                       ax=None):
    """Revenue per month; with a ``split``, the holdout period is shaded."""
    check_lang(lang)
    ax = _axes(ax)
    m = monthly_sales(data)
    ax.bar(m.index, m["revenue"], width=25, color="#4c72b0",
           label=t("m03_value.calibration", lang) if split is not None else None)
    if split is not None:
        ax.axvspan(split.cutoff, split.end + pd.Timedelta(days=15), color="#dd8452",
                   alpha=0.25, label=t("m03_value.holdout", lang))
        ax.legend(loc="upper left", fontsize="small")
    ax.set_title(t("m03_chart.monthly_sales", lang))
    ax.set_ylabel(t("m03_chart.revenue", lang))
    ax.set_xlabel("")
    return ax


def plot_orders_per_customer(data: CRMData, *, lang: str = "en", cap: int = 10, ax=None):
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
    return ax


def plot_seasonal_index(data: CRMData, *, lang: str = "en", ax=None):
    """The seasonal index of each calendar month, against the ordinary month (1)."""
    check_lang(lang)
    ax = _axes(ax, (6, 3.5))
    idx = seasonal_index(data)
    ax.bar(idx.index.astype(int), idx.to_numpy(),
           color=["#c44e52" if v >= 1 else "#8c8c8c" for v in idx.to_numpy()])
    ax.axhline(1, color="black", lw=1, ls="--")
    ax.set_xticks(range(1, 13))
    ax.set_title(t("m03_chart.seasonal_index", lang))
    ax.set_xlabel(t("m03_chart.month_of_year", lang))
    ax.set_ylabel(t("m03_chart.index", lang))
    return ax


# ----------------------------------------------------------------------------- exercises
def _weekday_key(ctx, answer):
    """Accept a weekday as a name in English or Spanish, or as a number (0 = Monday)."""
    if isinstance(answer, numbers.Integral) and not isinstance(answer, bool):
        if 0 <= int(answer) <= 6:
            return _WEEKDAYS[int(answer)]
        return str(answer)
    if isinstance(answer, str):
        word = answer.strip().casefold()
        for key in _WEEKDAYS:
            labels = catalog().get(f"m03_value.{key}", (key, key))
            if word in (key, *(x.casefold() for x in labels)):
                return key
        return word
    return answer


def _busiest_weekday(ctx):
    counts = weekday_orders(ctx.data)
    return AnyOf(counts.index[counts == counts.max()].tolist())


def _first_year_repeat(ctx) -> float:
    p = purchases(ctx.data).dropna(subset=["customer_id"])
    first = p.groupby("customer_id")["placed_at"].min()
    n = p.groupby("customer_id").size()
    year = first.dt.year.min()
    cohort = first.index[first.dt.year == year]
    return float((n.loc[cohort] >= 2).mean()) if len(cohort) else 0.0


def _guest_revenue(ctx) -> float:
    p = purchases(ctx.data)
    return float(p.loc[p["customer_id"].isna(), "value"].sum())


def _base_rate(ctx) -> float:
    split = ctx.split
    p = purchases(ctx.data).dropna(subset=["customer_id"])
    before = set(split.calibration(p)["customer_id"])
    after = set(split.holdout(p)["customer_id"])
    return len(before & after) / len(before) if before else 0.0


def _median_recency(ctx) -> float:
    split = ctx.split
    p = split.calibration(purchases(ctx.data).dropna(subset=["customer_id"]))
    last = p.groupby("customer_id")["placed_at"].max().dt.normalize()
    return float((split.cutoff - last).dt.days.median())


def _sql(ctx, answer):
    return query(ctx.data, answer, lang=ctx.lang)


EXERCISES = (
    Exercise(
        "base_rate", _base_rate,
        title=("Who buys again: the rate to beat", "Quién vuelve a comprar: la tasa a batir"),
        hints=(("Split the purchases at `split.cutoff`: `split.calibration(p)` and "
                "`split.holdout(p)` with `p = purchases(data)`; leave out guests.",
                "Divide las compras en `split.cutoff`: `split.calibration(p)` y "
                "`split.holdout(p)` con `p = purchases(data)`; deja fuera a los invitados."),
               ("Make two sets of customer_id; the answer is "
                "len(both) / len(bought before the cutoff), a share between 0 and 1.",
                "Forma dos conjuntos de customer_id; la respuesta es "
                "len(ambos) / len(compraron antes del corte), una proporción entre 0 y 1.")),
        rtol=1e-4,
    ),
    Exercise(
        "first_year_repeat", _first_year_repeat,
        title=("Repeat buyers of the first year", "Clientes repetidores del primer año"),
        hints=(("Group the customers' purchases (`purchases(data)` without guests) by "
                "customer_id: the first `placed_at` and the number of purchases.",
                "Agrupa las compras de los clientes (`purchases(data)` sin invitados) por "
                "customer_id: el primer `placed_at` y el número de compras."),
               ("Keep the customers whose first purchase falls in the first year of the data; "
                "the answer is the share of them with 2 or more purchases.",
                "Quédate con los clientes cuya primera compra cae en el primer año de los "
                "datos; la respuesta es la proporción de ellos con 2 o más compras.")),
        rtol=1e-4,
    ),
    Exercise(
        "busiest_weekday", _busiest_weekday, convert=_weekday_key,
        title=("Busiest day of the week", "Día de la semana con más compras"),
        hints=(("`placed_at.dt.day_of_week` gives 0 for Monday ... 6 for Sunday.",
                "`placed_at.dt.day_of_week` da 0 para el lunes ... 6 para el domingo."),
               ("Count purchases (not all orders) per weekday and take the largest; answer "
                "with the number or the day's name.", "Cuenta compras (no todos los pedidos) "
                "por día de la semana y toma el mayor; responde con el número o el nombre "
                "del día.")),
    ),
    Exercise(
        "guest_revenue", _guest_revenue, convert=_sql, rtol=1e-6,
        title=("Revenue the customer table cannot see", "Ingresos que la tabla de clientes "
               "no ve"),
        hints=(("Write a query on the view `purchases`: it already leaves out cancelled and "
                "returned orders and carries each order's `value`.",
                "Escribe una consulta sobre la vista `purchases`: ya deja fuera los pedidos "
                "cancelados y devueltos y lleva el `value` de cada pedido."),
               ("Guests are the rows whose customer_id IS NULL; add up their value.",
                "Los invitados son las filas con customer_id IS NULL; suma su value.")),
    ),
    Exercise(
        "median_recency", _median_recency,
        title=("Median recency at the cutoff", "Recencia mediana en la fecha de corte"),
        hints=(("Only purchases up to the cutoff count: `split.calibration(purchases(data))`, "
                "without guests.", "Solo cuentan las compras hasta el corte: "
                "`split.calibration(purchases(data))`, sin invitados."),
               ("Recency = days from each customer's last purchase day "
                "(`.dt.normalize()`) to `split.cutoff`; take the median.",
                "Recencia = días desde el último día de compra de cada cliente "
                "(`.dt.normalize()`) hasta `split.cutoff`; toma la mediana.")),
    ),
)


@dataclass(frozen=True)
class Lesson:
    """What the exercises are checked against: the shop's data and the notebook's split."""

    data: CRMData
    split: Split
    lang: str = "en"


def exercise_book(data: CRMData, split: Split, lang: str = "en") -> ExerciseBook:
    """The exercise book of notebook 03 for this shop's data and calibration/holdout split."""
    check_lang(lang)
    return ExerciseBook(Lesson(data, split, lang), EXERCISES, lang=lang)
