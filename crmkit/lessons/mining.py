"""The models of notebook 03 fitted on the calibration period and verified on the holdout.

Each function takes what the analytics models give (:mod:`crmkit.analytics.rfm`,
:mod:`crmkit.analytics.segments`, :mod:`crmkit.analytics.clv`) and puts it
next to what really happened after the cutoff, to a simple baseline and, on
synthetic shops, to the generator's truth (``data.truth``), so that every
model of the lesson is judged, never just shown.

>>> from crmkit.dataset.synth import generate
>>> from crmkit.lessons.lesson03 import holdout_split
>>> data = generate("ice_cream", n_customers=400, seed=7)
>>> split = holdout_split(data, holdout_days=180)
>>> seg = segments_at(data, split)
>>> out = segment_outcomes(data, split, seg)
>>> int(out["customers"].sum()) == len(seg)
True
>>> value = value_models(data, split)
>>> table = value.table
>>> bool(table["probability_alive"].between(0, 1).all())
True
>>> leak = leakage_trap(data, split)
>>> bool(leak.loc["leaky", "auc"] > leak.loc["honest", "auc"])
True
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from ..analytics.baskets import basket_rules, baskets
from ..analytics.btyd import (
    CANDIDATES,
    DoesNotFitError,
    ModelChoice,
    check_fit,
    choose_purchase_model,
    clv_interval,
)
from ..analytics.churn import RepurchaseEvaluation, customer_features, evaluate_repurchase
from ..analytics.clusters import CustomerClusters
from ..analytics.clv import CappedBetaGeo, GammaGamma, PurchaseModel, customer_lifetime_value
from ..analytics.diagnostics import calibration_vs_holdout, probability_alive_matrix
from ..analytics.forecast import (
    MIN_TRAIN_PERIODS,
    factor_comparison,
    holdout_scores,
    marketing_plan,
    sales_series,
)
from ..analytics.modelplots import clear_of_line, plot_calibration_holdout, plot_probability_alive
from ..analytics.rfm import holdout_purchases, rfm_scores, rfm_summary
from ..analytics.scoreboard import compare, verdict_of
from ..analytics.segments import SEGMENTS, assign_segments
from ..dataset.crmdata import CRMData
from ..dataset.days import DayLike
from ..errors import CRMKitError, ModelError
from ..i18n import (
    catalog,
    check_lang,
    describe_figure,
    format_message,
    format_number,
    locale_axes,
    number_axis,
    t,
)
from .notebook import readable

if TYPE_CHECKING:
    from .lesson03 import Split

#: What a fit returns (:func:`fit_or_explain`, :func:`attempt`).
R = TypeVar("R")

__all__ = [
    "BOARD_COLUMNS",
    "fit_or_explain",
    "history_reason",
    "attempt",
    "refusal_text",
    "fit_reason",
    "truly_alive",
    "segments_at",
    "group_outcomes",
    "segment_outcomes",
    "clusters_at",
    "repurchase_check",
    "CappedBetaGeo",
    "ValueModels",
    "value_models",
    "purchases_by_frequency",
    "leakage_trap",
    "period_data",
    "basket_check",
    "random_pair_rate",
    "pairs_hold",
    "forecast_check",
    "factor_check",
    "plot_segment_outcomes",
    "plot_purchases_by_frequency",
    "plot_p_alive_matrix",
    "scoreboard",
    "scoreboard_sentences",
    "board_table",
    "QUESTIONS",
    "plot_rule_check",
]


def fit_or_explain(fit: Callable[..., R], *args: Any, **kwargs: Any) -> tuple[R | None, str | None]:
    """``(result, None)`` when ``fit(*args, **kwargs)`` works, ``(None, reason)`` when crmkit
    refuses (a :class:`~crmkit.errors.CRMKitError`: too few repeat buyers, a model that
    cannot be identified...). A lesson section then says why it is skipped and moves on.

    >>> from crmkit.errors import ModelError
    >>> def fails():
    ...     raise ModelError("no repeat buyers")
    >>> fit_or_explain(fails)
    (None, 'no repeat buyers')
    """
    try:
        return fit(*args, **kwargs), None
    except CRMKitError as err:
        return None, str(err)


def holdout_months(split: Split) -> int:
    """Whole months in the holdout period (at least one): the forecast's holdout."""
    return int(max(1, round(split.holdout_days / 30.44)))


def history_reason(section: str, data: CRMData, split: Split, lang: str = "en") -> str | None:
    """Why ``section`` of notebook 03 cannot run on this shop's history, in ``lang``;
    None when the history is long enough for it.

    ``repurchase`` and ``value`` learn at a cutoff one holdout earlier, so the history
    before the cutoff must be at least as long as the holdout; ``forecast`` and
    ``factor`` learn from the whole months before the holdout months, at least
    :data:`~crmkit.analytics.forecast.MIN_TRAIN_PERIODS` of them.

    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> from crmkit.dataset.synth import generate
    >>> shop = generate("boutique", n_customers=60, seed=1, start="2024-01-01",
    ...                 end="2024-03-31")
    >>> split = SimpleNamespace(start=pd.Timestamp("2024-01-01"),
    ...                         cutoff=pd.Timestamp("2024-02-14"), end=pd.Timestamp("2024-03-31"),
    ...                         holdout_days=46)
    >>> print(history_reason("value", shop, split, "es"))  # doctest: +ELLIPSIS
    los modelos se entrenan en una fecha de corte 46 días anterior (... tiene solo 44 días.
    >>> print(history_reason("forecast", shop, split, "en"))
    the forecast needs at least 8 months of sales before the holdout months, and this shop has 1.
    >>> history_reason("baskets", shop, split) is None
    True
    """
    calibration = int((split.cutoff - split.start).days)
    if section in ("repurchase", "value") and calibration < split.holdout_days:
        return format_message(t("msg.m03_short_calibration", lang), lang,
                              days=split.holdout_days, calibration=calibration)
    if section in ("forecast", "factor"):
        months = holdout_months(split)
        learn = len(sales_series(data)) - months
        if learn < MIN_TRAIN_PERIODS:
            return format_message(t("msg.m03_short_forecast", lang), lang, learn=max(learn, 0),
                                  months=months, need=MIN_TRAIN_PERIODS)
    return None


def attempt(section: str, fit: Callable[..., R], data: CRMData, split: Split, lang: str = "en",
            **kwargs: Any) -> tuple[R | None, str | None]:
    """``(result, None)``, or ``(None, reason)`` when the shop's history is too short for
    ``section`` (:func:`history_reason`, in ``lang``) or crmkit refuses the fit
    (:func:`fit_or_explain`: its own words in English; in Spanish, what the section's
    refusal means, ``msg.m03_refused_<section>``, else ``msg.m03_refused``)."""
    reason = history_reason(section, data, split, lang)
    if reason is not None:
        return None, reason
    result, reason = fit_or_explain(fit, data, split, **kwargs)
    if reason is not None and check_lang(lang) != "en":  # crmkit's refusals speak English
        key = f"msg.m03_refused_{section}"
        reason = (refusal_text(reason, lang)
                  or t(key if key in catalog() else "msg.m03_refused", lang))
    return result, reason


#: crmkit's refusals a notebook-03 section meets on a small shop: their English words, and
#: the catalog sentence that says the same in the reader's language (named groups fill it).
_REFUSALS = (
    (re.compile(r"(?P<who>(?:no|every) customer bought again) within horizon_days="
                r"(?P<days>\d+) after the (?P<role>training|test) cutoff \S+ \((?P<n>\d+) "
                r"customers\)"), "msg.m03_refused_nothing"),
    (re.compile(r"only (?P<few>\d+) customers? (?P<what>bought again|did not buy again) within "
                r"horizon_days=(?P<days>\d+) after the (?P<role>training|test) cutoff \S+ "
                r"\((?P<n>\d+) customers\): too few to learn from \(at least (?P<least>\d+)"),
     "msg.m03_refused_few"),
    (re.compile(r"Gamma-Gamma cannot be fitted"), "msg.m03_refused_spend"),
    (re.compile(r"the likelihood is flat around the estimates"), "msg.m03_refused_flat"),
    (re.compile(r"cannot form \d+ clusters|do not split into two or more groups|every feature "
                r"is the same"), "msg.m03_refused_clusters"),
    (re.compile(r"the shop has no campaigns"), "msg.m03_refused_campaigns"),
    (re.compile(r"no pair of items appears in that share of the (?P<baskets>\d+) baskets"),
     "msg.m03_refused_baskets"),
    (re.compile(r"no customer bought more than once"), "msg.m03_refused_no_repeat"),
)


def refusal_text(reason: str, lang: str = "en") -> str | None:
    """A refusal of crmkit (English words) said in ``lang``, its figures kept; None when
    the refusal is not one a small shop is known to meet.

    >>> why = ("only 1 customer did not buy again within horizon_days=90 after the training "
    ...        "cutoff 2024-07-04 (6 customers): too few to learn from (at least 2 of each "
    ...        "are needed). Choose a longer horizon_days ...")
    >>> print(refusal_text(why, "es"))
    solo 1 de 6 clientes no volvieron a comprar en los 90 días siguientes al corte de \
entrenamiento: demasiado pocos para aprender (hacen falta al menos 2 de cada clase).
    >>> refusal_text("something else", "es") is None
    True
    """
    for pattern, key in _REFUSALS:
        found = pattern.search(reason)
        if found is None:
            continue
        values: dict[str, object] = {}
        for name, text in found.groupdict().items():
            if text.isdigit():
                values[name] = int(text)
            else:
                label = "refused_" + text.replace(" ", "_")
                values[name] = t(f"value.{label}", lang)
        return format_message(t(key, lang), lang, **values)
    return None


def fit_reason(status: str, reason: str, lang: str = "en") -> str:
    """Why a purchase model of the choice table was left out, for a reader of ``lang``:
    the fit's own words in English; in Spanish, what its ``status`` (``does_not_fit``,
    ``failed``) means.

    >>> print(fit_reason("failed", "the fit runs off to infinity", "es"))
    el ajuste falla con los datos de esta tienda: el optimizador no encuentra parámetros utilizables
    >>> fit_reason("failed", "the fit runs off to infinity", "en")
    'the fit runs off to infinity'
    """
    if check_lang(lang) == "en":
        return reason
    return t(f"msg.m03_fit_{status}", lang)


def truly_alive(data: CRMData, day: DayLike) -> pd.Series | None:
    """Whether each customer was really still a customer on ``day`` (generator's truth).

    ``None`` for real data, which has no truth. A customer has dropped out
    when the generator's ``dropout_date`` is on or before ``day``.
    """
    truth = (data.truth or {}).get("customers")
    if truth is None or "dropout_date" not in truth:
        return None
    day = pd.Timestamp(day)
    alive = truth["dropout_date"].isna() | (truth["dropout_date"] > day)
    return pd.Series(alive.to_numpy(), index=truth["customer_id"].to_numpy(), name="alive")


def segments_at(data: CRMData, split: Split) -> pd.DataFrame:
    """The customer table at the cutoff with RFM scores and named segments."""
    return assign_segments(rfm_scores(rfm_summary(data, as_of=split.cutoff)))


def _holdout(data: CRMData, split: Split) -> pd.DataFrame:
    return holdout_purchases(data, as_of=split.cutoff, end=split.end)


def group_outcomes(data: CRMData, split: Split, groups: pd.Series,
                   order: Sequence[str] | None = None) -> pd.DataFrame:
    """What each group of customers did after the cutoff: the test of a segmentation.

    ``groups`` gives each customer's group (index ``customer_id``). Columns:
    ``customers``, ``came_back`` (share with a purchase in the holdout),
    ``holdout_spend`` (mean spend in the holdout) and, on synthetic shops,
    ``truly_alive`` (share still customers at the cutoff, by the generator's
    truth). Rows follow ``order`` when given.
    """
    h = _holdout(data, split).reindex(groups.index)
    frame = pd.DataFrame({"group": groups.to_numpy(),
                          "came_back": (h["frequency_holdout"] > 0).to_numpy(),
                          "holdout_spend": h["spend_holdout"].fillna(0).to_numpy()},
                         index=groups.index)
    alive = truly_alive(data, split.cutoff)
    if alive is not None:
        frame["truly_alive"] = alive.reindex(groups.index).fillna(False).astype(bool)
    g = frame.groupby("group")
    out = g.agg(customers=("came_back", "size"), came_back=("came_back", "mean"),
                holdout_spend=("holdout_spend", "mean"))
    if alive is not None:
        out["truly_alive"] = g["truly_alive"].mean()
    if order is not None:
        out = out.loc[[o for o in order if o in out.index]]
    out.index = out.index.rename(groups.name)
    return out


def segment_outcomes(data: CRMData, split: Split, segmented: pd.DataFrame) -> pd.DataFrame:
    """:func:`group_outcomes` of the named RFM segments, in the segment table's order."""
    return group_outcomes(data, split, segmented["segment"].astype(str).rename("segment"),
                          order=SEGMENTS)


def clusters_at(data: CRMData, split: Split, *, seed: int = 0, k_range: tuple[int, int] = (2, 6)
                ) -> tuple[CustomerClusters, pd.DataFrame]:
    """K-means clusters of the customers described as of the cutoff: ``(model, features)``.

    The customers are those of the calibration period (:func:`segments_at`, the holdout
    table): a customer whose only orders before the cutoff were cancelled later (an order
    log gives no cancellation time, so they still count in what was known at the cutoff)
    is left out, so each cluster's holdout figures read the same customers as the table.
    """
    features = customer_features(data, as_of=split.cutoff)
    features = features.loc[features.index.isin(rfm_summary(data, as_of=split.cutoff).index)]
    # one thread: on a shared machine k-means' OpenMP threads wait for each other (about
    # ten times slower on two busy cores), and a shop's customer table is small
    with threadpool_limits(limits=1):
        model = CustomerClusters(k_range=k_range, seed=seed).fit(features)
    return model, features


@dataclass
class ValueModels:
    """The buy-till-you-die models fitted at the cutoff, the one chosen, and a per-customer table.

    ``choice`` (:class:`crmkit.analytics.btyd.ModelChoice`) says which purchase
    model goes forward and why, chosen on a validation window inside the
    calibration period; ``purchases`` is that model refitted on the whole
    calibration period; ``candidates`` holds every candidate refitted there
    (``None`` for one that failed or does not fit the shop).

    ``table`` (one row per customer of the calibration period): ``frequency``,
    ``recency``, ``T``, ``probability_alive`` and ``expected_purchases`` (the
    chosen model, over the holdout), ``expected_<model>`` and ``alive_<model>``
    for every candidate that fits, the baselines ``baseline_purchases`` (the
    customer's past rate of repeat purchases, carried on) and ``shop_rate``
    (the shop's mean rate, for everyone), ``actual_purchases`` (purchase days in
    the holdout), ``expected_spend``, ``clv_12m`` with ``clv_low``/``clv_high``
    (90 % interval from the likelihood's curvature, :func:`crmkit.analytics.btyd.clv_interval`)
    and, on synthetic shops, ``truly_alive``.
    """

    purchases: PurchaseModel
    spend: GammaGamma | None
    table: pd.DataFrame
    summary: pd.DataFrame
    holdout_days: int
    choice: ModelChoice | None = None
    candidates: dict | None = None

    def predictions(self) -> pd.DataFrame:
        """Holdout purchases of every candidate and baseline, one column per method."""
        tab = self.table
        cols = {k: tab[f"expected_{k}"] for k in CANDIDATES if f"expected_{k}" in tab}
        if not cols and "expected_purchases" in tab:
            cols["model"] = tab["expected_purchases"]
        cols["past_rate"] = tab["baseline_purchases"]
        if "shop_rate" in tab:
            cols["shop_rate"] = tab["shop_rate"]
        return pd.DataFrame(cols, index=tab.index)

    def scores(self, *, seed: int = 0) -> pd.DataFrame:
        """Every candidate and baseline against the holdout purchases (mean absolute error).

        :func:`crmkit.analytics.scoreboard.compare`: score, its interval, the
        difference from the best baseline with its interval, and the verdict.
        """
        chosen = self.choice.chosen if self.choice is not None else None
        preds = self.predictions()
        return compare(self.table["actual_purchases"], preds,
                       baselines=[b for b in ("past_rate", "shop_rate") if b in preds],
                       measure="mae", chosen=chosen if chosen in preds else None, seed=seed)

    def spend_scores(self, *, seed: int = 0) -> pd.DataFrame | None:
        """Spend of each customer in the holdout (mean absolute error, currency).

        The chosen purchase model's expected purchases times the Gamma-Gamma
        expected spend per purchase, against each customer's past spend per day
        carried on and the shop's mean spend per day. ``None`` without a spend model.
        """
        tab = self.table
        if "expected_spend" not in tab or "actual_spend" not in tab:
            return None
        preds = pd.DataFrame({
            "btyd_spend": tab["expected_purchases"] * tab["expected_spend"],
            "past_spend_rate": (tab["total_spend"] / tab["T"].clip(lower=1)
                                * self.holdout_days),
            "shop_spend_rate": float(tab["total_spend"].sum() / tab["T"].clip(lower=1).sum()
                                     * self.holdout_days)}, index=tab.index)
        return compare(tab["actual_spend"].fillna(0), preds,
                       baselines=["past_spend_rate", "shop_spend_rate"], measure="mae",
                       chosen="btyd_spend", seed=seed)

    def alive_scores(self, recency_days: pd.Series, *, seed: int = 0) -> pd.DataFrame | None:
        """P(alive) of every candidate against the truth (AUC), beside the recency rule.

        ``None`` on real data (no truth) or when everyone (or no one) is truly alive.
        """
        tab = self.table
        if "truly_alive" not in tab or tab["truly_alive"].nunique() < 2:
            return None
        preds = pd.DataFrame({k: tab[f"alive_{k}"] for k in CANDIDATES
                              if f"alive_{k}" in tab}, index=tab.index)
        preds["recency_rule"] = -recency_days.reindex(tab.index).to_numpy(dtype=float)
        chosen = self.choice.chosen if self.choice is not None else None
        return compare(tab["truly_alive"].astype(int), preds, baselines=["recency_rule"],
                       measure="auc", chosen=chosen if chosen in preds else None, seed=seed)


def _none_fits(choice: ModelChoice) -> DoesNotFitError:
    reasons = [f"{k}: {r}" for k, r in choice.table["reason"].items() if r]
    return DoesNotFitError(
        "none of the buy-till-you-die models fits this shop (" + "; ".join(reasons) + "); "
        "the baselines (each customer's past rate, recency) are the answer here.",
        model="all", reasons=reasons)


def value_models(data: CRMData, split: Split, *, months: int = 12, seed: int = 0) -> ValueModels:
    """Choose the purchase model on a validation window, fit it and Gamma-Gamma at the cutoff.

    Time is counted in days. The candidates (BG/NBD, MBG/NBD, Pareto/NBD) are
    fitted up to ``holdout_days`` before the cutoff and scored on the purchases
    up to the cutoff (:func:`crmkit.analytics.btyd.choose_purchase_model`); the
    holdout after the cutoff is never used to choose. When no candidate fits,
    :class:`~crmkit.analytics.btyd.DoesNotFitError` says why for each.
    Gamma-Gamma needs repeat buyers with spend; when it cannot be fitted (or
    its fit has no finite mean), ``spend`` is ``None`` and the spend and CLV
    columns are left out of the table.
    """
    days = split.holdout_days
    choice = choose_purchase_model(data, cutoff=split.cutoff, validation_days=days, seed=seed)
    if choice.chosen is None or choice.model is None:  # a chosen model is never None
        raise _none_fits(choice)
    cal = rfm_summary(data, as_of=split.cutoff)
    h = _holdout(data, split).reindex(cal.index)
    table = cal[["frequency", "recency", "T", "orders", "total_spend"]].copy()
    candidates = {}
    for key, cls in CANDIDATES.items():
        model = choice.model if key == choice.chosen else None
        if model is None and choice.table.loc[key, "status"] == "fits":
            try:
                model = check_fit(cls().fit(cal), cal)
            except DoesNotFitError as err:
                choice.table.loc[key, ["status", "reason"]] = [
                    "does_not_fit", f"on the whole calibration: {'; '.join(err.reasons)}"]
            except CRMKitError as err:
                choice.table.loc[key, ["status", "reason"]] = [
                    "failed", f"on the whole calibration: {err}"]
        candidates[key] = model
        if model is not None:
            table[f"alive_{key}"] = model.probability_alive(cal)
            table[f"expected_{key}"] = model.expected_purchases(cal, days)
    bg = choice.model
    table["probability_alive"] = table[f"alive_{choice.chosen}"]
    table["expected_purchases"] = table[f"expected_{choice.chosen}"]
    # the baselines: each customer keeps the rate of repeat purchases of their own past; the
    # shop's mean rate of repeat purchases, for everyone
    table["baseline_purchases"] = cal["frequency"] / cal["T"].where(cal["T"] > 0) * days
    table["baseline_purchases"] = table["baseline_purchases"].fillna(0.0)
    table["shop_rate"] = float(cal["frequency"].sum() / cal["T"].sum() * days)
    table["actual_purchases"] = h["frequency_holdout"].astype("int64")
    table["actual_spend"] = h["spend_holdout"]
    gg = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gg = GammaGamma().fit(cal)
        if not np.isfinite(gg.mean_spend()):
            gg = None
    except CRMKitError:  # a shop without repeat spend simply has no spend model
        gg = None
    if gg is not None:
        table["expected_spend"] = gg.expected_spend(cal)
        try:
            clv = clv_interval(bg, gg, cal, months=months)
            table["clv_12m"] = clv["clv"]
            table["clv_low"], table["clv_high"] = clv["clv_low"], clv["clv_high"]
            table.attrs["clv"] = dict(clv.attrs)
        except CRMKitError:
            table["clv_12m"] = customer_lifetime_value(bg, gg, cal, months=months)
    alive = truly_alive(data, split.cutoff)
    if alive is not None:
        table["truly_alive"] = alive.reindex(cal.index).fillna(False).astype(bool)
    return ValueModels(bg, gg, table, cal, days, choice, candidates)


def purchases_by_frequency(value: ValueModels, *, max_frequency: int = 7) -> pd.DataFrame:
    """Mean holdout purchases by repeat purchases in calibration: actual, model and baseline.

    The classic check of a BG/NBD fit (Fader, Hardie and Lee 2005, figure 4),
    :func:`crmkit.analytics.diagnostics.calibration_vs_holdout`, with the
    baseline (each customer's past rate carried on) added as a column.
    """
    tab = value.table
    holdout = pd.DataFrame({"frequency_holdout": tab["actual_purchases"],
                            "duration_holdout": float(value.holdout_days)}, index=tab.index)
    out = calibration_vs_holdout(value.purchases, value.summary, holdout,
                                 max_frequency=max_frequency)
    group = np.minimum(tab["frequency"].to_numpy(dtype=np.int64), max_frequency)
    out["baseline"] = tab["baseline_purchases"].groupby(group).mean().reindex(out.index)
    return out


def leakage_trap(data: CRMData, split: Split) -> pd.DataFrame:
    """The same score computed twice: once with the future in it (leaky), once without.

    The score is recency (fewer days since the last purchase = more likely to
    buy again); the target is a purchase in the holdout. Computed as of the
    *end* of the data, recency already knows who bought in the holdout, so it
    looks almost perfect; computed as of the cutoff, it is the honest
    predictor. Rows ``leaky`` and ``honest``: the area under the ROC curve.
    A customer whose every purchase was returned after the cutoff has no
    recency at the end; the leaky score ranks them last.
    """
    honest = rfm_summary(data, as_of=split.cutoff)
    leaky = rfm_summary(data, as_of=split.end).reindex(honest.index)
    # a customer whose every purchase came back after the cutoff has none left at the end:
    # as the least recent of all, they rank last
    worst = leaky["recency_days"].max()
    leaky["recency_days"] = leaky["recency_days"].fillna(worst + 1)
    y = _holdout(data, split).reindex(honest.index)["frequency_holdout"] > 0
    rows = {}
    for name, table in (("leaky", leaky), ("honest", honest)):
        score = -table["recency_days"].to_numpy(dtype=float)
        rows[name] = {"as_of": (split.end if name == "leaky" else split.cutoff).date(),
                      "auc": float(roc_auc_score(y, score)) if y.nunique() == 2 else np.nan}
    return pd.DataFrame(rows).T.astype({"auc": float})


def repurchase_check(data: CRMData, split: Split, *, seed: int = 0) -> RepurchaseEvaluation:
    """Who buys again in the holdout: the learned models against the rules that need no labels.

    :func:`crmkit.analytics.churn.evaluate_repurchase` with the cutoff and
    the holdout as horizon: trained one horizon earlier, scored on the holdout.
    """
    return evaluate_repurchase(data, cutoff=split.cutoff, horizon_days=split.holdout_days,
                               seed=seed)


def period_data(data: CRMData, *, after: DayLike | None = None, until: DayLike | None = None
                ) -> CRMData:
    """The shop with only the orders (and their lines) placed after ``after`` and up to the
    end of ``until``; every other table is kept as it is. The input is not changed."""
    o = data.orders
    keep = np.ones(len(o), dtype=bool)
    if after is not None:
        keep &= (o["placed_at"] >= pd.Timestamp(after) + pd.Timedelta(days=1)).to_numpy()
    if until is not None:
        keep &= (o["placed_at"] < pd.Timestamp(until) + pd.Timedelta(days=1)).to_numpy()
    orders = o[keep]
    lines = data.order_lines[data.order_lines["order_id"].isin(orders["order_id"])]
    return CRMData({**data.tables, "orders": orders, "order_lines": lines},
                   dict(data.manifest), dict(data.truth))


def _true_pairs(data: CRMData) -> set[frozenset[str | None]] | None:
    comp = (data.truth or {}).get("complements")
    if comp is None:
        return None
    names = data.products.set_index("product_id")["name"].astype(str)
    return {frozenset((names.get(a), names.get(b)))
            for a, b in zip(comp["product_id"], comp["complement_id"], strict=True)}


def basket_check(data: CRMData, split: Split, *, level: str = "product") -> pd.DataFrame:
    """Basket rules found in the calibration period, checked on the holdout and the truth.

    The rules come from :func:`crmkit.analytics.baskets.basket_rules` on the
    orders up to the cutoff. ``holdout_lift`` is the lift of the same pair in
    the baskets after the cutoff (1 = the pair no longer goes together;
    ``NaN`` when an item was not sold there); on synthetic shops at product
    level, ``true_pair`` says whether the generator made the two products
    complements.
    """
    rules = basket_rules(period_data(data, until=split.cutoff), level=level)
    hold = baskets(period_data(data, after=split.cutoff), level=level)
    share = hold.mean()
    lifts = []
    for a, c in zip(rules["antecedents"], rules["consequents"], strict=True):
        items = sorted(map(str, a | c))
        if not all(i in hold.columns for i in items):
            lifts.append(np.nan)
            continue
        both = hold[items].all(axis=1).mean()
        alone = np.prod([share[i] for i in items])
        lifts.append(both / alone if alone > 0 else np.nan)
    out = rules[["antecedent", "consequent", "support", "confidence", "lift"]].copy()
    out["holdout_lift"] = lifts
    cal = baskets(period_data(data, until=split.cutoff), level=level)
    out.attrs["pairs_hold"], out.attrs["pairs_n"] = pairs_hold(cal, hold, return_count=True)
    pairs = _true_pairs(data) if level == "product" else None
    if pairs is not None:
        out["true_pair"] = [frozenset(map(str, a | c)) in pairs
                            for a, c in zip(rules["antecedents"], rules["consequents"],
                                            strict=True)]
    return out


@overload
def pairs_hold(calibration: pd.DataFrame, holdout: pd.DataFrame, *,
               return_count: Literal[False] = ...) -> float: ...
@overload
def pairs_hold(calibration: pd.DataFrame, holdout: pd.DataFrame, *,
               return_count: Literal[True]) -> tuple[float, int]: ...
def pairs_hold(calibration: pd.DataFrame, holdout: pd.DataFrame, *,
               return_count: bool = False) -> float | tuple[float, int]:
    """Share of the item pairs bought together before the cutoff that still go together after.

    The baseline of the rules' holdout check: every pair of items seen in both
    periods that shares at least one calibration basket, with no minimum
    support or confidence; "goes together" is a holdout lift above 1, the
    test the rules face. NaN when no such pair exists. ``return_count`` also
    returns how many pairs were checked.

    >>> import pandas as pd
    >>> cal = pd.DataFrame({"a": [1, 1, 0], "b": [1, 0, 1], "c": [0, 1, 1]}, dtype=bool)
    >>> hold = pd.DataFrame({"a": [1, 1, 0, 0], "b": [1, 1, 0, 0], "c": [0, 0, 1, 1]},
    ...                     dtype=bool)
    >>> pairs_hold(cal, hold)   # a-b hold (lift 2); a-c and b-c never meet again
    0.3333333333333333
    """
    items = [c for c in calibration.columns if c in holdout.columns]
    if len(items) < 2 or holdout.empty:
        return (float("nan"), 0) if return_count else float("nan")
    c = calibration[items].to_numpy(dtype=np.float64)
    h = holdout[items].to_numpy(dtype=np.float64)
    met = np.triu(c.T @ c > 0, k=1)
    share = h.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = (h.T @ h / len(h)) / np.outer(share, share)
    met &= np.outer(share > 0, share > 0)
    value = float((lift[met] > 1).mean()) if met.any() else float("nan")
    return (value, int(met.sum())) if return_count else value


def random_pair_rate(data: CRMData) -> float | None:
    """Chance that a pair of products drawn at random is one of the generator's true pairs.

    The baseline of the rules' truth check; ``None`` for real data (no truth).
    """
    pairs = _true_pairs(data)
    if pairs is None:
        return None
    n = data.products["name"].nunique()
    return len({p for p in pairs if len(p) == 2}) / (n * (n - 1) / 2) if n > 1 else 0.0


def forecast_check(data: CRMData, split: Split) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The monthly sales forecast scored on the holdout months against the naive rules.

    Returns ``(scores, forecasts)`` of :func:`crmkit.analytics.forecast.holdout_scores`,
    with as many holdout months as whole months fit in the holdout period; the
    models learn from the sales as they were known at the end of the training
    months (orders returned or cancelled later still count there).
    """
    y = sales_series(data)
    months = holdout_months(split)
    # the models learn from the months before the holdout as they were known at their end:
    # an order returned later still counted as a sale then
    train_end = y.index[-months] - pd.Timedelta(days=1)
    known = sales_series(data, as_of=train_end)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return holdout_scores(y, holdout=months, return_forecasts=True, known=known)


def factor_check(data: CRMData, split: Split) -> pd.DataFrame:
    """Does the marketing plan (campaign budget per month) improve the forecast?

    :func:`crmkit.analytics.forecast.factor_comparison` on the same holdout
    months: one structural model without and one with the planned budget.
    """
    data.require("campaigns", analysis="the marketing-plan factor")
    if data.campaigns.empty:
        raise ModelError("the shop has no campaigns, so there is no marketing plan to test "
                         "as a factor of the forecast.")
    y = sales_series(data)
    months = holdout_months(split)
    known = sales_series(data, as_of=y.index[-months] - pd.Timedelta(days=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return factor_comparison(y, marketing_plan(data, index=pd.DatetimeIndex(y.index)),
                                 holdout=months, known=known)


#: The questions of the scoreboard, in the order shown, with their measure.
QUESTIONS = {"repurchase": "auc", "purchases": "mae", "spend": "mae", "alive": "auc",
             "sales": "mae", "rules": "share"}


def _rules_rows(rules: pd.DataFrame) -> pd.DataFrame | None:
    """Rules holding in the holdout against every pair bought together (normal approximation
    of the difference of two shares)."""
    held = rules["holdout_lift"].dropna()
    base, n_base = rules.attrs.get("pairs_hold", np.nan), rules.attrs.get("pairs_n", 0)
    if not len(held) or not np.isfinite(base) or not n_base:
        return None
    share = float((held > 1).mean())
    se_rules = np.sqrt(share * (1 - share) / len(held))
    se = np.sqrt(se_rules ** 2 + base * (1 - base) / n_base)
    low, high = share - base - 1.96 * se, share - base + 1.96 * se
    out = pd.DataFrame({
        "kind": ["model", "baseline"], "score": [share, base],
        "score_low": [share - 1.96 * se_rules, np.nan],
        "score_high": [share + 1.96 * se_rules, np.nan], "chosen": [True, False],
        "versus": ["pairs", ""], "difference": [share - base, np.nan],
        "diff_low": [low, np.nan], "diff_high": [high, np.nan],
        "verdict": [verdict_of(low, high, higher_is_better=True), "best_baseline"]},
        index=pd.Index(["rules", "pairs"], name="method"))
    out.attrs["measure"] = "share"
    return out


#: The columns of :func:`scoreboard` (``measure``, then those of
#: :func:`crmkit.analytics.scoreboard.compare`).
BOARD_COLUMNS = ["measure", "kind", "score", "score_low", "score_high", "chosen", "versus",
                 "difference", "diff_low", "diff_high", "verdict"]


def scoreboard(*, value: ValueModels | None = None, repurchase: RepurchaseEvaluation | None = None,
               forecasts: pd.DataFrame | None = None, rules: pd.DataFrame | None = None,
               seed: int = 0) -> pd.DataFrame:
    """Every predictive question: its candidates and all its baselines, on the same holdout.

    One block of rows per question that could be answered (index ``question``,
    ``method``), each from :func:`crmkit.analytics.scoreboard.compare`:

    * ``repurchase`` (will they buy again, AUC): logistic regression and
      gradient boosting (the one chosen on a validation split of the training
      customers is marked) against the recency rule, the frequency rule, the
      past purchase rate and the BG/NBD probability alive and expectation;
      ``repurchase`` is :func:`repurchase_check`'s result;
    * ``purchases`` (how many purchases in the holdout, mean absolute error per
      customer): every BTYD candidate that fits (the one chosen on the
      validation window marked) against each customer's past rate and the
      shop's mean rate;
    * ``spend`` (how much each customer spends in the holdout, mean absolute
      error): the chosen model's expected purchases times the Gamma-Gamma spend
      per purchase, against each customer's past spend per day and the shop's;
    * ``alive`` (synthetic shops: P(alive) against the generator's truth, AUC):
      the BTYD candidates against the recency rule;
    * ``sales`` (next months' sales, absolute error per month): ETS against
      the naive and seasonal-naive forecasts (``forecasts`` of
      :func:`forecast_check`; the interval resamples months, so with a few
      holdout months it is wide);
    * ``rules`` (cross-selling, share of rules with a holdout lift above 1)
      against every pair bought together before the cutoff.

    A candidate's ``verdict`` is ``beats``, ``no_better``, ``worse`` (than the
    best baseline, by the 95 % bootstrap interval of the difference) or
    ``chance`` (an AUC within noise of 0.5); :func:`scoreboard_sentences` says
    it in words.
    """
    blocks = {}
    if repurchase is not None:
        preds = repurchase.predictions
        methods = [c for c in preds.columns if c != "bought"]
        baselines = [m for m in methods if m not in ("logistic", "boosting")]
        blocks["repurchase"] = compare(preds["bought"].astype(int), preds[methods],
                                       baselines=baselines, measure="auc", seed=seed,
                                       chosen=repurchase.scores.attrs.get("chosen"))
    if value is not None:
        blocks["purchases"] = value.scores(seed=seed)
        spend = value.spend_scores(seed=seed)
        if spend is not None:
            blocks["spend"] = spend
        alive = (value.alive_scores(value.summary["recency_days"], seed=seed)
                 if "truly_alive" in value.table else None)
        if alive is not None:
            blocks["alive"] = alive
    if forecasts is not None:
        cols = [c for c in ("ets", "naive", "seasonal_naive") if c in forecasts]
        blocks["sales"] = compare(forecasts["actual"], forecasts[cols],
                                  baselines=[c for c in cols if c != "ets"], measure="mae",
                                  chosen="ets", seed=seed)
    if rules is not None and len(rules):
        r = _rules_rows(rules)
        if r is not None:
            blocks["rules"] = r
    if not blocks:  # no question could be answered: an empty board of the board's shape
        return pd.DataFrame(columns=BOARD_COLUMNS, index=pd.MultiIndex.from_tuples(
            [], names=["question", "method"]))
    board = pd.concat(blocks, names=["question", "method"])
    board.insert(0, "measure", [QUESTIONS[q] for q in board.index.get_level_values(0)])
    return board


def _label_of(key: str, lang: str,
              groups: Sequence[str] = ("m03_value", "mining", "m03_method")) -> str:
    for group in groups:
        name = f"{group}.{key}"
        if name in catalog():
            return t(name, lang)
    return key


def board_table(board: pd.DataFrame, lang: str = "en", *, decimals: int = 3) -> pd.DataFrame:
    """:func:`scoreboard` (or one block of it, or a model choice table) ready to show in ``lang``.

    Methods, kinds, verdicts and statuses take their labels from the catalog;
    ``chosen`` becomes a check mark; numbers are rounded to ``decimals``; a value that does
    not apply (a baseline's difference from itself) reads "—".
    """
    check_lang(lang)
    out = board.drop(columns=[c for c in ("measure", "versus", "reason") if c in board])
    out = out.round(decimals)
    for col in out.columns[[pd.api.types.is_float_dtype(d) for d in out.dtypes]]:
        if out[col].abs().max() >= 1:  # "1,549" would read as a thousand to an English eye
            out[col] = out[col].round(min(decimals, 2))
    for col in ("kind", "verdict", "status"):
        if col in out:
            group = {"kind": ("m03_kind",), "verdict": ("m03_verdict_label",),
                     "status": ("m03_value",)}[col]
            out[col] = [_label_of(v, lang, group) for v in out[col]]
    if "chosen" in out:
        out["chosen"] = np.where(out["chosen"].astype(bool), "✓", "")
    if isinstance(out.index, pd.MultiIndex):
        out.index = pd.MultiIndex.from_tuples(
            [(_label_of(q, lang), _label_of(m, lang)) for q, m in out.index],
            names=[t("m03_column.question", lang), t("m03_column.method", lang)])
    else:
        out.index = pd.Index([_label_of(m, lang) for m in out.index],
                             name=t("m03_column.method", lang))
    out.columns = [t(f"m03_column.{c}", lang) if f"m03_column.{c}" in catalog() else c
                   for c in out.columns]
    return readable(out, lang)


def _method_name(method: str, lang: str) -> str:
    key = f"m03_method.{method}"
    return t(key, lang) if key in catalog() else method


def scoreboard_sentences(board: pd.DataFrame, lang: str = "en") -> list[str]:
    """One sentence per question of :func:`scoreboard`: which won and by how much, in ``lang``.

    The candidate named is the one chosen on validation data; it is compared
    with the best baseline on the holdout, with the 95 % interval of the
    difference, and the verdict says whether it earns its place.
    """
    check_lang(lang)
    out = []
    for question in board.index.get_level_values(0).unique():
        block = board.loc[question]
        models = block[block["kind"] == "model"]
        pick = models[models["chosen"]] if models["chosen"].any() else models
        if pick.empty:
            continue
        name = pick.index[0]
        row = pick.iloc[0]
        best = block[block["verdict"] == "best_baseline"].index[0]
        big = max(abs(row["score"]), abs(block.loc[best, "score"])) >= 100
        # three decimals only below 1: "1,549" would read as a thousand to an English eye
        small = max(abs(row["score"]), abs(block.loc[best, "score"])) < 1
        values = {k: format_number(v, lang, decimals=0 if big else 3 if small else 2)
                  for k, v in (("score", row["score"]), ("base", block.loc[best, "score"]),
                               ("low", row["diff_low"]), ("high", row["diff_high"]))}
        values.update(question=t(f"m03_question.{question}", lang),
                      measure=t(f"m03_measure.{block['measure'].iloc[0]}", lang),
                      model=_method_name(name, lang), baseline=_method_name(best, lang))
        out.append(format_message(t(f"m03_verdict.{row['verdict']}", lang), lang, **values))
    return out


# ----------------------------------------------------------------------------- plots
def plot_segment_outcomes(outcomes: pd.DataFrame, *, base_rate: float | None = None,
                          lang: str = "en", ax: Axes | None = None) -> Axes:
    """Share of each segment that came back in the holdout, with its size."""
    check_lang(lang)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(outcomes) + 2.2), layout="constrained")
    labels = [t(f"rfm_segment.{s}", lang) for s in outcomes.index]
    y = np.arange(len(outcomes))[::-1]
    ax.barh(y, outcomes["came_back"], color="#4c72b0",
            label=t("m03_chart.came_back", lang))
    if "truly_alive" in outcomes:
        ax.plot(outcomes["truly_alive"], y, "D", color="#c44e52",
                label=t("m03_chart.truly_alive", lang))
    written = [ax.text(v + 0.01, yi, f"n={format_number(n, lang)}", va="center",
                       fontsize="small")
               for yi, n, v in zip(y, outcomes["customers"], outcomes["came_back"],
                                   strict=True)]
    if base_rate is not None:
        ax.axvline(base_rate, color="black", ls="--", lw=1,
                   label=t("m03_chart.base_rate", lang))
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel(t("m03_chart.share", lang))
    number_axis(ax, lang, axis="x", kind="percent")
    ax.set_title(t("m03_chart.segment_outcomes", lang))
    # below the axes, in as many rows as its entries need
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize="small")
    if base_rate is not None:  # a size beside its bar, never struck out by the base rate
        clear_of_line(ax, written, base_rate, axis="x")
    return _done(ax, lang, "segment_outcomes", n=len(outcomes))


def _done(ax: Axes, lang: str, key: str, **values: object) -> Axes:
    """Axes written in ``lang`` and the picture described by ``plot_alt.<key>``."""
    locale_axes(ax, lang)
    return describe_figure(ax, format_message(t(f"plot_alt.{key}", lang), lang, **values))


def plot_purchases_by_frequency(value: ValueModels, *, lang: str = "en",
                                ax: Axes | None = None) -> Axes:
    """Calibration against holdout (:func:`crmkit.analytics.modelplots.plot_calibration_holdout`),
    with the baseline drawn on the same axes."""
    check_lang(lang)
    table = purchases_by_frequency(value)
    ax = plot_calibration_holdout(table, lang=lang, ax=ax)
    ax.plot(np.arange(len(table)), table["baseline"], "^:", color="#dd8452",
            label=t("m03_chart.baseline", lang))
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    return _done(ax, lang, "calibration_holdout")


def plot_p_alive_matrix(value: ValueModels, *, lang: str = "en", ax: Axes | None = None) -> Axes:
    """The BG/NBD probability-alive matrix for a customer observed as long as the oldest.

    :func:`crmkit.analytics.diagnostics.probability_alive_matrix` drawn by
    :func:`crmkit.analytics.modelplots.plot_probability_alive`, on a grid of about
    24 recency steps and frequencies up to the 99th percentile of the shop's.
    Reading it: many purchases with the last one recent (top right) is alive;
    a frequent buyer silent for long (top left) has probably left.
    """
    tab = value.table
    T = float(tab["T"].max())
    max_f = int(min(max(float(tab["frequency"].quantile(0.99)), 3), 40))
    matrix = probability_alive_matrix(value.purchases, T=T, max_frequency=max_f,
                                      recency_step=max(T / 24, 1.0))
    matrix.columns = pd.Index(np.round(matrix.columns).astype(int), name="recency")
    return plot_probability_alive(matrix, lang=lang, ax=ax)


def plot_rule_check(check: pd.DataFrame, *, top: int = 10, lang: str = "en",
                    ax: Axes | None = None) -> Axes:
    """The strongest rules: lift before the cutoff and in the holdout (★ = a true pair)."""
    check_lang(lang)
    rows = check.head(top)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.4 * len(rows) + 2.4), layout="constrained")
    star = rows["true_pair"] if "true_pair" in rows else pd.Series(False, index=rows.index)
    labels = [("★ " if s else "") + f"{a} → {c}" for a, c, s in
              zip(rows["antecedent"], rows["consequent"], star, strict=True)]
    labels = [lab if len(lab) <= 60 else lab[:57] + "..." for lab in labels]
    y = np.arange(len(rows))[::-1]
    ax.barh(y + 0.2, rows["lift"], height=0.4, color="#4c72b0",
            label=t("m03_chart.lift_calibration", lang))
    ax.barh(y - 0.2, rows["holdout_lift"].fillna(0), height=0.4, color="#dd8452",
            label=t("m03_chart.lift_holdout", lang))
    ax.axvline(1, color="black", lw=1, ls="--")
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_xlabel("lift")
    ax.set_title(_fill(t("m03_chart.rules", lang), ax))
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    return _done(ax, lang, "rule_check", n=len(rows))


def _fill(text: str, ax) -> str:
    import textwrap

    return textwrap.fill(text, max(int(ax.figure.get_figwidth() * 4), 30))
