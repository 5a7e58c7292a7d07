"""Repurchase (the other side of churn): who will buy again within a horizon, and how well we know.

The question is asked at a *cutoff* day: using only what the shop knew by the
end of that day, which customers will buy again within the next
``horizon_days``? Three steps, each honest about time:

1. :func:`known_at` rolls the shop back to the end of a day: orders placed
   later disappear, an order's status is the one it had then (an order
   cancelled the next morning was still an order), contacts and web visits of
   later days are gone.
2. :func:`repurchase_dataset` builds one row per customer who had bought by
   the cutoff: features from the rolled-back shop (RFM from
   :mod:`crmkit.analytics.rfm`, plus behaviour: channel, basket size,
   discounts, returns, contacts, visits) and the label *bought again within
   the horizon* (an order placed after the cutoff and not cancelled by the
   horizon's end).
3. :func:`evaluate_repurchase` trains on the cutoff one horizon earlier (its
   labels end at the cutoff, so nothing of the future is used) and scores the
   customers of the cutoff: logistic regression and gradient boosting against
   honest baselines that need no labels (a recency rule: who bought most
   recently comes back first; a frequency rule; each customer's past purchase
   rate; the BG/NBD model's probability alive and expected purchases, fitted on
   the purchases up to the cutoff), with ROC AUC, average precision, lift in the
   top decile and Brier score. Which of the two models goes forward
   (``scores.attrs["chosen"]``) is decided on a validation quarter of the
   training customers, never on the test customers;
   :func:`crmkit.analytics.scoreboard.compare` then says whether it beats the
   best baseline by more than the noise.

>>> from crmkit.dataset.synth import generate
>>> data = generate("sports_shop", n_customers=800, seed=3)
>>> ds = repurchase_dataset(data, cutoff="2025-06-30", horizon_days=90)
>>> ds.X.index.name, sorted(ds.y.unique().tolist())
('customer_id', [0, 1])
>>> repurchase_dataset(data, cutoff="2025-11-30", horizon_days=90)
Traceback (most recent call last):
...
crmkit.errors.ParameterError: horizon_days=90 after cutoff='2025-11-30' runs past the end ...
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from ..dataset.crmdata import CRMData
from ..dataset.days import parse_day
from ..dataset.schema import TABLE_NAMES, empty_table
from ..errors import ModelError, ParameterError, check_choice
from .clv import BetaGeo
from .rfm import customer_purchases, period_end, rfm_summary

if TYPE_CHECKING:
    from ..dataset.days import DayLike


__all__ = [
    "FEATURES",
    "MODELS",
    "BASELINES",
    "RepurchaseDataset",
    "RepurchaseEvaluation",
    "known_at",
    "customer_features",
    "repurchase_dataset",
    "repurchase_pipeline",
    "lift_at",
    "evaluate_repurchase",
]

#: The features of every customer, all known at the cutoff.
FEATURES = (
    "recency_days", "orders", "total_spend", "frequency", "tenure_days", "monetary_value",
    "orders_90d", "spend_90d", "mean_lines", "web_share", "discount_share", "returns",
    "days_since_signup", "contacts_90d", "opened_90d", "sessions_90d",
)
#: The learned models compared.
MODELS = ("logistic", "boosting")
#: Rules that need no labels: a model must beat them to be worth its keep. The BG/NBD
#: model (fitted on the purchases up to the cutoff) gives two: its probability that the
#: customer is still alive, and its expected purchases within the horizon.
#: ``rate_rule`` is each customer's past rate of repeat purchases (repeat purchase days per
#: day since their first purchase).
BASELINES = ("recency_rule", "frequency_rule", "rate_rule", "bgnbd_alive", "bgnbd_expected")
#: Share of the training customers kept aside to choose between the models (validation).
VALIDATION_SHARE = 0.25
_RECENT = pd.Timedelta(days=90)
_DAY = pd.Timedelta(days=1)
_STATUS_ORDER = (("cancelled_at", "cancelled"), ("returned_at", "returned"),
                 ("delivered_at", "delivered"), ("shipped_at", "shipped"), ("paid_at", "paid"))


# ----------------------------------------------------------------------------- time
def _first_day(data: CRMData) -> pd.Timestamp:
    placed = data.orders["placed_at"]
    if len(placed) == 0 or placed.isna().all():
        raise ModelError(
            "data has no orders (an empty shop): there is no purchase to learn from; "
            "give a shop with orders."
        )
    first: pd.Timestamp = placed.min().normalize()
    return first


def known_at(data: CRMData, day: DayLike) -> CRMData:
    """The shop as it was known at the end of ``day``: nothing that happened later.

    Keeps the tables the repurchase features read (customers signed up by then,
    orders, their lines, campaign contacts and web sessions); the others are
    empty, and so are those the shop's data lacks (an order log has no web
    visits). Orders take the status they had at the end of ``day``, and times of
    later events become missing.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("bendita", n_customers=300, seed=1)
    >>> past = known_at(data, "2024-12-31")
    >>> bool((past.orders["placed_at"] < "2025-01-01").all()), past.manifest["end"]
    (True, '2024-12-31')
    """
    day = parse_day("day", day)
    end = day + _DAY
    orders = data.orders
    keep = (orders["placed_at"] < end).to_numpy()
    o = orders.loc[keep].copy()
    for col, _ in _STATUS_ORDER:
        o[col] = o[col].where(o[col] < end)
    status = np.full(len(o), "placed", dtype=object)
    for col, state in reversed(_STATUS_ORDER):
        status = np.where(o[col].notna().to_numpy(), state, status)
    status_dtype: Any = orders["status"].dtype  # the stubs list only some dtypes per overload
    o["status"] = pd.array(status, dtype=status_dtype)
    ids = o["order_id"]
    lines = data.order_lines
    customers = _optional(data, "customers")
    contacts = _optional(data, "campaign_contacts")
    contacts = contacts.loc[(contacts["sent_at"] < end).to_numpy()].copy()
    contacts["converted_order_id"] = contacts["converted_order_id"].where(
        contacts["converted_order_id"].isin(ids))
    sessions = _optional(data, "web_sessions")
    sessions = sessions.loc[(sessions["started_at"] < end).to_numpy()].copy()
    sessions["converted_order_id"] = sessions["converted_order_id"].where(
        sessions["converted_order_id"].isin(ids))
    campaigns = _optional(data, "campaigns")
    tables = {name: empty_table(name) for name in TABLE_NAMES}
    tables.update({
        "orders": o.reset_index(drop=True),
        "order_lines": lines.loc[lines["order_id"].isin(ids).to_numpy()].reset_index(drop=True),
        "customers": customers.loc[(customers["signup_date"] < end).to_numpy()]
        .reset_index(drop=True),
        "products": _optional(data, "products"),
        "campaigns": campaigns.loc[(campaigns["start_date"] < end).to_numpy()]
        .reset_index(drop=True),
        "campaign_contacts": contacts.reset_index(drop=True),
        "web_sessions": sessions.reset_index(drop=True),
    })
    manifest = {**data.manifest, "end": str(day.date())}
    return CRMData(tables, manifest, {})


def _optional(data: CRMData, name: str) -> pd.DataFrame:
    """A table the features can do without: empty when the shop's data lacks it."""
    return data.tables[name] if name in data.tables else empty_table(name)


def _check_cutoff(data: CRMData, cutoff: DayLike, horizon_days: int) -> tuple[pd.Timestamp, int]:
    if (not isinstance(horizon_days, numbers.Integral) or isinstance(horizon_days, bool)
            or horizon_days < 1):
        raise ParameterError(f"horizon_days={horizon_days!r} must be a whole number of days "
                             ">= 1, e.g. 90.")
    first, end = _first_day(data), period_end(data)
    span = int((end - first).days)
    if horizon_days >= span:
        raise ParameterError(
            f"horizon_days={horizon_days} is longer than the data ({span} days from the first "
            f"order on {first.date()} to {end.date()}); choose horizon_days below {span}, "
            f"e.g. {max(span // 4, 1)}."
        )
    cut = parse_day("cutoff", cutoff)
    latest = end - pd.Timedelta(days=int(horizon_days))
    if cut < first:
        raise ParameterError(
            f"cutoff={str(cut.date())!r} is before the first order ({first.date()}); choose a "
            f"cutoff from {first.date()} to {latest.date()}."
        )
    if cut > latest:
        raise ParameterError(
            f"horizon_days={horizon_days} after cutoff={str(cut.date())!r} runs past the end of "
            f"the data ({end.date()}); choose a cutoff from {first.date()} to {latest.date()}, "
            "or a shorter horizon."
        )
    return cut, int(horizon_days)


# ----------------------------------------------------------------------------- features
def customer_features(data: CRMData, *, as_of: DayLike | None = None) -> pd.DataFrame:
    """RFM and behaviour of every customer who had bought by ``as_of`` (default: the end).

    Reads only what was known at the end of ``as_of`` (see :func:`known_at`).
    Columns: :data:`FEATURES`, index ``customer_id``. The RFM columns count
    purchases as :func:`crmkit.analytics.rfm.rfm_summary` does (returns netted);
    the behaviour shares are over every order not cancelled by then.

    >>> from crmkit.dataset.synth import generate
    >>> f = customer_features(generate("boutique", n_customers=200, seed=2))
    >>> list(f.columns) == list(FEATURES), bool((f["web_share"].between(0, 1)).all())
    (True, True)
    """
    last = period_end(data)
    end_day = last if as_of is None else parse_day("as_of", as_of)
    if end_day > last:
        raise ParameterError(f"as_of={str(end_day.date())!r} is after the end of the data "
                             f"({last.date()}); choose a day up to {last.date()}.")
    past = known_at(data, end_day)
    if len(past.orders) == 0:
        raise ParameterError(
            f"no orders by as_of={str(end_day.date())!r}: there is no customer to describe; "
            "choose a later day or a shop with orders."
        )
    summary = rfm_summary(past, as_of=end_day)
    ids = summary.index
    end = end_day + _DAY
    o = past.orders
    o = o[o["customer_id"].notna() & (o["status"] != "cancelled")]
    cust = o["customer_id"].astype("int64").to_numpy()
    recent = (o["placed_at"] >= end - _RECENT).to_numpy()
    n_lines = past.order_lines.groupby("order_id").size()
    lines = n_lines.reindex(o["order_id"].to_numpy(), fill_value=0).to_numpy()
    discounted = (o["discount_code"].notna() | o["campaign_id"].notna()).to_numpy().copy()
    disc_lines = past.order_lines.loc[past.order_lines["discount"] > 0, "order_id"].unique()
    discounted |= o["order_id"].isin(disc_lines).to_numpy()
    per = pd.DataFrame({"c": cust, "web": (o["channel"] == "web").to_numpy(),
                        "lines": lines, "disc": discounted,
                        "ret": (o["status"] == "returned").to_numpy(), "recent": recent})
    g = per.groupby("c")
    n_orders = g.size().reindex(ids, fill_value=0)
    safe = n_orders.where(n_orders > 0, 1)

    spend = summary["total_spend_cents"]
    recent_spend = _recent_spend(past, summary.index, end)
    contacts = past.campaign_contacts
    contacts = contacts[(contacts["sent_at"] >= end - _RECENT).to_numpy()]
    sessions = past.web_sessions
    sessions = sessions[(sessions["started_at"] >= end - _RECENT).to_numpy()
                        & sessions["customer_id"].notna().to_numpy()]
    signup = past.customers.set_index("customer_id")["signup_date"].reindex(ids)
    out = pd.DataFrame({
        "recency_days": summary["recency_days"].astype(float),
        "orders": summary["orders"].astype(float),
        "total_spend": spend / 100,
        "frequency": summary["frequency"].astype(float),
        "tenure_days": summary["T"].astype(float),
        "monetary_value": summary["monetary_value"].astype(float),
        "orders_90d": g["recent"].sum().reindex(ids, fill_value=0).astype(float),
        "spend_90d": recent_spend,
        "mean_lines": (g["lines"].sum().reindex(ids, fill_value=0) / safe).astype(float),
        "web_share": (g["web"].sum().reindex(ids, fill_value=0) / safe).astype(float),
        "discount_share": (g["disc"].sum().reindex(ids, fill_value=0) / safe).astype(float),
        "returns": g["ret"].sum().reindex(ids, fill_value=0).astype(float),
        "days_since_signup": ((end_day - signup).dt.days.fillna(summary["T"])
                              .clip(lower=0).astype(float)),
        "contacts_90d": contacts.groupby("customer_id").size().reindex(ids, fill_value=0)
        .astype(float),
        "opened_90d": contacts.groupby("customer_id")["opened"].sum().reindex(ids, fill_value=0)
        .astype(float),
        "sessions_90d": sessions.groupby(sessions["customer_id"].astype("int64")).size()
        .reindex(ids, fill_value=0).astype(float),
    }, index=ids)
    return out[list(FEATURES)]


def _recent_spend(past: CRMData, ids: pd.Index, end: pd.Timestamp) -> pd.Series:
    p = customer_purchases(past, as_of=end - _DAY)
    p = p[p["placed_at"] >= end - _RECENT]
    spend: pd.Series = (p.groupby("customer_id")["value_cents"].sum().reindex(ids, fill_value=0)
                        / 100).astype(float)
    return spend


# ----------------------------------------------------------------------------- dataset
@dataclass(frozen=True)
class RepurchaseDataset:
    """Features ``X`` (known at ``cutoff``) and label ``y`` (bought within the horizon)."""

    X: pd.DataFrame
    y: pd.Series
    cutoff: pd.Timestamp
    horizon_days: int

    @property
    def base_rate(self) -> float:
        """Share of customers who bought again: the precision of guessing at random."""
        return float(self.y.mean())


def repurchase_dataset(data: CRMData, *, cutoff: DayLike,
                       horizon_days: int = 90) -> RepurchaseDataset:
    """One row per customer who had bought by ``cutoff``: features then, and what happened next.

    ``y`` is 1 when the customer placed an order in the ``horizon_days`` after
    the cutoff that was not cancelled by the end of the horizon.
    """
    cut, h = _check_cutoff(data, cutoff, horizon_days)
    X = customer_features(data, as_of=cut)
    later = known_at(data, cut + pd.Timedelta(days=h)).orders
    later = later[(later["placed_at"] >= cut + _DAY) & (later["status"] != "cancelled")
                  & later["customer_id"].notna()]
    buyers = set(later["customer_id"].astype("int64"))
    y = pd.Series(X.index.isin(list(buyers)).astype(np.int64), index=X.index, name="bought")
    return RepurchaseDataset(X, y, cut, h)


# ----------------------------------------------------------------------------- models
def repurchase_pipeline(kind: str = "logistic", *, seed: int = 0) -> Pipeline:
    """A scikit-learn pipeline: log-scaled logistic regression, or gradient-boosted trees.

    >>> repurchase_pipeline("boosting").steps[-1][0]
    'model'
    """
    check_choice("kind", kind, MODELS)
    if kind == "logistic":
        return Pipeline([("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                         ("scale", StandardScaler()),
                         ("model", LogisticRegression(max_iter=2000))])
    return Pipeline([("model", HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
        early_stopping=False, random_state=seed))])


def lift_at(y: npt.ArrayLike, score: npt.ArrayLike, fraction: float = 0.1) -> float:
    """How many times the base rate the top ``fraction`` of scores reaches (ties shared fairly).

    Customers tied at the boundary count in proportion, so a rule that gives
    many customers the same score is not flattered by their order.

    >>> lift_at([1, 0, 0, 0, 1, 0, 0, 0, 0, 0], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], 0.1)
    5.0
    >>> lift_at([1, 0, 0, 0], [1, 1, 1, 1], 0.5)   # all tied: no better than chance
    1.0
    """
    y = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    if not 0 < fraction <= 1:
        raise ParameterError(f"fraction={fraction!r} must be a share above 0 and at most 1.")
    if len(y) == 0 or y.sum() == 0:
        return float("nan")
    k = fraction * len(y)
    values, inverse = np.unique(-s, return_inverse=True)  # best scores first
    count = np.bincount(inverse, minlength=len(values)).astype(float)
    hits = np.bincount(inverse, weights=y, minlength=len(values))
    before = np.concatenate([[0.0], np.cumsum(count)[:-1]])
    take = np.clip(k - before, 0, count)
    top_hits = float(np.sum(hits * take / count))
    return float((top_hits / k) / y.mean())


def _bgnbd_scores(ds: RepurchaseDataset) -> tuple[np.ndarray, np.ndarray]:
    """BG/NBD fitted on the summary at the cutoff (in weeks): P(alive) and expected purchases."""
    summary = pd.DataFrame({"frequency": ds.X["frequency"].astype(np.int64),
                            "recency": (ds.X["tenure_days"] - ds.X["recency_days"]) / 7,
                            "T": ds.X["tenure_days"] / 7}, index=ds.X.index)
    model = BetaGeo().fit(summary)
    alive = model.probability_alive(summary).to_numpy()
    expected = model.expected_purchases(summary, ds.horizon_days / 7).to_numpy()
    return alive, expected


@dataclass(frozen=True)
class RepurchaseEvaluation:
    """Scores of every method on the test customers, and the predictions behind them."""

    scores: pd.DataFrame
    predictions: pd.DataFrame
    train: RepurchaseDataset
    test: RepurchaseDataset
    models: dict[str, Pipeline]


def _metrics(y: npt.ArrayLike, score: npt.ArrayLike, is_probability: bool) -> dict[str, float]:
    return {"roc_auc": float(roc_auc_score(y, score)),
            "average_precision": float(average_precision_score(y, score)),
            "lift_top_decile": lift_at(y, score, 0.1),
            "brier": float(brier_score_loss(y, score)) if is_probability else float("nan")}


def _two_classes(ds: RepurchaseDataset, role: str, least: int = 1) -> None:
    """Both outcomes among the customers, each at least ``least`` times (the training set
    needs two of each: the model choice holds a stratified quarter of it back)."""
    n_pos = int(ds.y.sum())
    if n_pos == 0 or n_pos == len(ds.y):
        what = "no customer" if n_pos == 0 else "every customer"
        raise ModelError(
            f"{what} bought again within horizon_days={ds.horizon_days} after the {role} "
            f"cutoff {ds.cutoff.date()} ({len(ds.y)} customers): there is nothing to predict. "
            "Choose a longer horizon_days or another cutoff, or a shop with repeat buyers."
        )
    few = min(n_pos, len(ds.y) - n_pos)
    if few < least:
        what = "bought again" if n_pos == few else "did not buy again"
        raise ModelError(
            f"only {few} customer{'s' if few != 1 else ''} {what} within horizon_days="
            f"{ds.horizon_days} after the {role} cutoff {ds.cutoff.date()} ({len(ds.y)} "
            f"customers): too few to learn from (at least {least} of each are needed). "
            "Choose a longer horizon_days or another cutoff, or a shop with more customers."
        )


def evaluate_repurchase(data: CRMData, *, cutoff: DayLike, horizon_days: int = 90,
                        seed: int = 0) -> RepurchaseEvaluation:
    """Train on the cutoff one horizon earlier, test on ``cutoff``; every method on one table.

    The test labels are never seen in training: the training labels end at ``cutoff``.
    ``scores.attrs`` holds the base rate, both cutoffs, the sizes, and the baselines
    left out (with the reason) when the BG/NBD model cannot be fitted to the shop.
    """
    cut, h = _check_cutoff(data, cutoff, horizon_days)
    train_cut = cut - pd.Timedelta(days=h)
    if train_cut < _first_day(data):
        raise ParameterError(
            f"cutoff={str(cut.date())!r} leaves no room for a training cutoff {h} days "
            f"earlier (the first order is on {_first_day(data).date()}); choose a later "
            "cutoff or a shorter horizon_days."
        )
    train = repurchase_dataset(data, cutoff=train_cut, horizon_days=h)
    test = repurchase_dataset(data, cutoff=cut, horizon_days=h)
    _two_classes(train, "training", least=2)
    _two_classes(test, "test")
    chosen, validation_auc = _choose_on_validation(train, seed)
    preds = pd.DataFrame({"bought": test.y}, index=test.X.index)
    rows, models = [], {}
    for kind in MODELS:
        # one thread: on a busy machine the trees' OpenMP threads wait for each other
        # (ten times slower on two shared cores), and these tables are small
        with threadpool_limits(limits=1, user_api="openmp"):
            model = repurchase_pipeline(kind, seed=seed).fit(train.X, train.y)
            preds[kind] = model.predict_proba(test.X)[:, 1]
        models[kind] = model
        rows.append({"method": kind, "kind": "model", **_metrics(test.y, preds[kind], True)})
    preds["recency_rule"] = -test.X["recency_days"]
    preds["frequency_rule"] = test.X["orders"]
    preds["rate_rule"] = test.X["frequency"] / test.X["tenure_days"].clip(lower=1)
    skipped = {}
    try:
        preds["bgnbd_alive"], preds["bgnbd_expected"] = _bgnbd_scores(test)
    except ModelError as exc:  # e.g. no customer has dropped out yet: BG/NBD not identified
        skipped = {"bgnbd_alive": str(exc), "bgnbd_expected": str(exc)}
    for name in BASELINES:
        if name in skipped:
            continue
        rows.append({"method": name, "kind": "baseline",
                     **_metrics(test.y, preds[name], False)})
    scores = pd.DataFrame(rows).set_index("method")
    scores.attrs.update({"base_rate": test.base_rate, "train_cutoff": str(train_cut.date()),
                         "test_cutoff": str(cut.date()), "horizon_days": h,
                         "train_customers": len(train.y), "test_customers": len(test.y),
                         "skipped": skipped, "chosen": chosen,
                         "validation_auc": validation_auc})
    return RepurchaseEvaluation(scores, preds, train, test, models)


def _choose_on_validation(train: RepurchaseDataset, seed: int) -> tuple[str, dict[str, float]]:

    """The model that goes forward: fitted on 75 % of the training customers, the one with the
    higher AUC on the other 25 % (stratified); the test customers are never looked at."""
    from sklearn.model_selection import train_test_split

    fit_X, val_X, fit_y, val_y = train_test_split(
        train.X, train.y, test_size=VALIDATION_SHARE, random_state=seed, stratify=train.y)
    if val_y.nunique() < 2 or fit_y.nunique() < 2:
        return MODELS[0], {}
    auc = {}
    for kind in MODELS:
        with threadpool_limits(limits=1, user_api="openmp"):
            model = repurchase_pipeline(kind, seed=seed).fit(fit_X, fit_y)
            auc[kind] = float(roc_auc_score(val_y, model.predict_proba(val_X)[:, 1]))
    return max(MODELS, key=lambda k: auc[k]), auc
