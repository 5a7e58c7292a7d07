"""The customer models' inputs computed by Spark from a warehouse's facts, at any scale.

The same rules as the pandas path (:mod:`crmkit.analytics.rfm`,
:mod:`crmkit.analytics.segments`, :mod:`crmkit.analytics.cohorts`), run by Spark
on the tables of a Spark warehouse (:mod:`crmkit.warehouse.spark`), so that the
work grows with the cluster, not with one machine's memory:

* :func:`spark_customer_purchases`: :func:`crmkit.analytics.rfm.customer_purchases`, the
  orders that count (not cancelled, not back by the as-of day, not a guest's), with
  their value in integer cents: the sum of their lines' ``amount_cents`` less a partial
  refund; the one statement of :data:`crmkit.analytics.warehouse_models.PURCHASES_SQL`,
  which the DuckDB path runs too;
* :func:`spark_rfm_summary`: one row per customer, the columns of
  :data:`crmkit.analytics.rfm.SUMMARY_COLUMNS`;
* :func:`spark_rfm_scores` and :func:`spark_segments`: scores 1-5 by the rule
  of :func:`crmkit.analytics.rfm.even_scores` (Spark counts the customers per
  distinct value; the rule runs on those counts) and the named segment of each
  customer; :func:`spark_segment_summary` the table of
  :func:`crmkit.analytics.segments.segment_summary`;
* :func:`spark_cohort_table`: :func:`crmkit.analytics.cohorts.cohort_table`, from
  the customers and cents of each cohort and month;
* :func:`btyd_inputs` / :func:`spend_inputs`: what the buy-till-you-die models
  fit on, as counts of customers per distinct (frequency, recency, T) and per
  (frequency, monetary_value). A fit on them (the ``customers`` column weighs
  each row, see :class:`crmkit.analytics.clv.BetaGeo`) costs the same for 100
  million customers as for their distinct rows, and gives the per-customer fit.

Money stays in integer cents end to end; the results equal the pandas path's
on the same warehouse (tests/test_warehouse_spark_models.py). PySpark is needed
only when these functions run (``pip install crmkit[spark]``).

>>> sorted(set(SUMMARY_COLUMNS) - set(_SUMMARY_SQL_COLUMNS))
[]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from ..errors import ModelError, check_choice
from .rfm import SUMMARY_COLUMNS, UNITS, scores_of_counts

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from ..dataset.days import DayLike

__all__ = ["spark_as_of", "spark_customer_purchases", "spark_rfm_summary",
           "spark_rfm_scores", "spark_segments", "spark_segment_summary", "spark_cohort_table",
           "btyd_inputs", "spend_inputs", "to_summary_frame"]

#: The summary's columns in the order :func:`spark_rfm_summary` gives them.
_SUMMARY_SQL_COLUMNS = tuple(SUMMARY_COLUMNS)


def spark_as_of(spark: SparkSession, as_of: DayLike | None = None) -> pd.Timestamp:
    """The as-of day: ``as_of`` checked against the data, or the day of the last order
    (the pandas path's default for a shop without a stated period end)."""
    from pyspark.sql import functions as F

    from ..dataset.days import parse_day
    from ..errors import ParameterError

    # the day is taken in Spark (session time zone UTC): a timestamp collected to Python
    # would be turned into this machine's local time
    last = spark.table("marts.fact_order_line").agg(
        F.max(F.to_date("placed_at"))).collect()[0][0]
    if last is None:
        raise ModelError("the warehouse has no orders, so it has no period; load orders "
                         "first.")
    end = pd.Timestamp(last).normalize()
    if as_of is None:
        return end
    day = parse_day("as_of", as_of)
    if day > end:
        raise ParameterError(f"as_of={str(day.date())!r} is after the end of the data "
                             f"({end.date()}); choose a day up to {end.date()}.")
    return day


def spark_customer_purchases(spark: SparkSession, *, as_of: DayLike | None = None
                             ) -> DataFrame:
    """The orders that count by the end of ``as_of``, one row each (a Spark DataFrame):
    ``order_id``, ``customer_id``, ``placed_at``, ``day`` and ``value_cents``."""
    from pyspark.sql import functions as F

    from ..warehouse.spark.load import run
    from .warehouse_models import PURCHASES_SQL

    day = spark_as_of(spark, as_of)
    # the bound is handed over as text and cast by Spark in UTC: a Python datetime would be
    # read in this machine's local time zone
    end = f"{(day + pd.Timedelta(days=1)):%Y-%m-%d %H:%M:%S}"
    return run(spark, PURCHASES_SQL, end=end).select(
        "order_id", F.col("customer_id").cast("bigint").alias("customer_id"), "placed_at",
        F.to_date("placed_at").alias("day"), F.col("value_cents").cast("bigint"))


def spark_rfm_summary(spark: SparkSession, *, as_of: DayLike | None = None,
                      unit: str = "days") -> DataFrame:
    """:func:`crmkit.analytics.rfm.rfm_summary` in Spark: one row per customer who bought by
    ``as_of`` (a Spark DataFrame: ``customer_id`` and :data:`SUMMARY_COLUMNS`)."""
    from pyspark.sql import functions as F

    check_choice("unit", unit, UNITS)
    day = spark_as_of(spark, as_of)
    div = float(UNITS[unit])
    p = spark_customer_purchases(spark, as_of=day)
    occasions = p.groupBy("customer_id", "day").agg(
        F.sum("value_cents").alias("cents"), F.count(F.lit(1)).alias("n"))
    per = occasions.groupBy("customer_id").agg(
        F.min("day").alias("first"), F.max("day").alias("last"),
        F.count(F.lit(1)).alias("days"), F.sum("n").alias("orders"),
        F.sum("cents").alias("total"), F.min_by("cents", "day").alias("first_cents"))
    as_of_day = F.lit(day.date())
    freq = F.col("days") - 1
    repeat = F.col("total") - F.col("first_cents")
    return per.select(
        "customer_id",
        F.col("first").cast("timestamp").alias("first_purchase"),
        F.col("last").cast("timestamp").alias("last_purchase"),
        freq.cast("bigint").alias("frequency"),
        (F.datediff("last", "first").cast("double") / div).alias("recency"),
        (F.datediff(as_of_day, "first").cast("double") / div).alias("T"),
        F.when(freq > 0, repeat.cast("double") / freq.cast("double") / 100.0)
        .otherwise(0.0).alias("monetary_value"),
        F.datediff(as_of_day, "last").cast("bigint").alias("recency_days"),
        F.col("orders").cast("bigint").alias("orders"),
        (F.col("total").cast("double") / 100.0).alias("total_spend"),
        F.col("total").cast("bigint").alias("total_spend_cents"),
        repeat.cast("bigint").alias("repeat_spend_cents"))


def to_summary_frame(summary: DataFrame) -> pd.DataFrame:
    """A Spark summary as the pandas path gives it: indexed by ``customer_id``, sorted."""
    df: pd.DataFrame = summary.toPandas().set_index("customer_id").sort_index()
    df.index = df.index.astype(np.int64)
    for col in ("first_purchase", "last_purchase"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[us]")
    return df


def _score(spark: SparkSession, summary: DataFrame, column: str, name: str, bins: int,
           higher_is_better: bool) -> DataFrame:
    """``summary`` with ``name``: the score of ``column`` by the even-scores rule, from the
    customers per distinct value (few rows however many customers)."""
    from pyspark.sql import functions as F

    counts: pd.DataFrame = summary.groupBy(column).count().toPandas()
    counts = counts.sort_values(column, ascending=higher_is_better, kind="stable")
    scores = scores_of_counts(counts["count"].to_numpy(), bins=bins)
    kind = summary.schema[column].dataType.simpleString()
    rows = [(v.item() if hasattr(v, "item") else v, int(sc))
            for v, sc in zip(counts[column].to_numpy(), scores, strict=True)]
    table = spark.createDataFrame(rows, f"`{column}` {kind}, `{name}` bigint")
    return summary.join(F.broadcast(table), column, "left")


def spark_rfm_scores(spark: SparkSession, summary: DataFrame, *, bins: int = 5) -> DataFrame:
    """:func:`crmkit.analytics.rfm.rfm_scores` in Spark: ``r_score`` (fewer days since the
    last purchase is better), ``f_score`` (orders), ``m_score`` (spend in cents) and
    ``rfm_code``."""
    from pyspark.sql import functions as F

    if summary.limit(1).count() == 0:
        raise ModelError("there are no customers to score; the summary is empty.")
    out = _score(spark, summary, "recency_days", "r_score", bins, False)
    out = _score(spark, out, "orders", "f_score", bins, True)
    out = _score(spark, out, "total_spend_cents", "m_score", bins, True)
    return out.withColumn("rfm_code", F.concat_ws("", F.col("r_score").cast("string"),
                                                  F.col("f_score").cast("string"),
                                                  F.col("m_score").cast("string")))


def spark_segments(spark: SparkSession, scores: DataFrame) -> DataFrame:
    """``scores`` with ``segment``: the named segment of each customer's cell of the R x F
    grid (:func:`crmkit.analytics.segments.segment_grid`)."""
    from pyspark.sql import functions as F

    from .segments import segment_grid

    cells = cast(pd.Series, segment_grid().stack())  # one grid: a Series of names
    grid = cells.rename("segment").reset_index()
    rows = [(int(r), int(f), str(name)) for r, f, name in grid.itertuples(index=False)]
    table = spark.createDataFrame(rows, "r_score bigint, f_score bigint, segment string")
    return scores.join(F.broadcast(table), ["r_score", "f_score"], "left")


def spark_segment_summary(segmented: DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`crmkit.analytics.segments.segment_summary` of a Spark table with segments."""
    from pyspark.sql import functions as F

    from ..i18n import check_lang
    from .segments import SEGMENTS, segment_table

    check_lang(lang)
    g: pd.DataFrame = segmented.groupBy("segment").agg(
        F.count(F.lit(1)).alias("customers"), F.avg("recency_days").alias("recency_days"),
        F.avg("orders").alias("orders"), F.avg("total_spend").alias("total_spend")).toPandas()
    g = g.set_index("segment").reindex(list(SEGMENTS))
    out = pd.DataFrame({"customers": g["customers"].fillna(0).astype("int64")})
    out["share"] = out["customers"] / max(int(out["customers"].sum()), 1)
    for col in ("recency_days", "orders", "total_spend"):
        out[col] = g[col].astype("float64")
    table = segment_table(lang)
    out.index = pd.Index([str(i) for i in out.index], name="segment")
    out.insert(0, "label", table["label"].reindex(out.index))
    out["action"] = table["action"].reindex(out.index)
    return out


def spark_cohort_table(spark: SparkSession, *, metric: str = "retention",
                       as_of: DayLike | None = None) -> pd.DataFrame:
    """:func:`crmkit.analytics.cohorts.cohort_table` from the warehouse, with Spark counting
    the customers and cents of each cohort and month since acquisition."""
    from pyspark.sql import functions as F

    from .cohorts import METRICS, cohort_table_from_counts

    check_choice("metric", metric, METRICS)
    day = spark_as_of(spark, as_of)
    p = spark_customer_purchases(spark, as_of=day).withColumn(
        "month", F.year("placed_at") * 12 + F.month("placed_at") - 1)
    first = p.groupBy("customer_id").agg(F.min("month").alias("first"))
    act = p.join(first, "customer_id").withColumn("age_months", F.col("month") - F.col("first"))
    counts: pd.DataFrame = act.groupBy("first", "age_months").agg(
        F.countDistinct("customer_id").alias("customers"),
        F.sum("value_cents").alias("revenue_cents")).toPandas()
    if counts.empty:
        raise ModelError(f"no customer bought anything by as_of={str(day.date())!r}; "
                         "cohorts need purchases.")
    counts.insert(0, "cohort", [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in counts["first"]])
    counts = counts.astype({"age_months": np.int64, "customers": np.int64,
                            "revenue_cents": np.int64})
    return cohort_table_from_counts(counts.drop(columns="first"), as_of=day, metric=metric)


def btyd_inputs(summary: DataFrame) -> pd.DataFrame:
    """How many customers share each (``frequency``, ``recency``, ``T``): the table a
    purchase model (:class:`crmkit.analytics.clv.BetaGeo`, ``ParetoNBD`` ...) fits as the
    customers it counts (column ``customers``); as many rows as distinct triples."""
    from pyspark.sql import functions as F

    out: pd.DataFrame = summary.groupBy("frequency", "recency", "T").agg(
        F.count(F.lit(1)).alias("customers")).toPandas()
    return out.sort_values(["frequency", "recency", "T"], kind="stable").reset_index(drop=True)


def spend_inputs(summary: DataFrame) -> pd.DataFrame:
    """How many customers share each (``frequency``, ``monetary_value``): the table the
    spend model (:class:`crmkit.analytics.clv.GammaGamma`) fits as the customers it counts."""
    from pyspark.sql import functions as F

    out: pd.DataFrame = summary.groupBy("frequency", "monetary_value").agg(
        F.count(F.lit(1)).alias("customers")).toPandas()
    return out.sort_values(["frequency", "monetary_value"], kind="stable").reset_index(
        drop=True)
