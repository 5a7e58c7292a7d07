"""Campaigns as data: SMART objectives, buyer personas, plans and measured effectiveness.

A campaign is planned (objective, persona, timing, budget), executed and then
analysed against the objective fixed *before* launch. Its true effect is
only known against a **control group**: customers who were eligible for the
campaign and, at random, were not contacted. The difference in conversion
between contacted and control customers is the **incremental effect**
(uplift); attributed orders alone overstate it, because some of those
customers would have bought anyway.

>>> obj = SmartObjective(specific="Reactivate premium customers by e-mail",
...     metric="conversion_rate", target=0.05, baseline=0.03, segment="premium",
...     start="2025-03-01", end="2025-03-31")
>>> obj.failing()
[]
>>> SmartObjective(specific="Sell more", metric="conversion_rate", target=0.5,
...     baseline=0.03, segment="premium", start="2025-03-01", end="2025-03-31").failing()
['S', 'A']
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd
from statsmodels.stats import proportion as smp

from ..dataset.schema import SEGMENTS, empty_table
from ..errors import ParameterError
from .kpis import cps_missing, customer_profitability, order_profit
from .rfm import rfm_scores, rfm_summary
from .segments import assign_segments, segment_table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..dataset.crmdata import CRMData
    from ..dataset.days import DayLike


__all__ = [
    "SmartObjective",
    "SmartError",
    "SMART_LETTERS",
    "rfm_segments",
    "segment_actions",
    "buyer_persona",
    "effectiveness",
    "audience",
    "incremental_effect",
    "ab_tests",
    "plot_plan",
    "campaign_label",
    "CAMPAIGN_NAME",
    "METRICS",
]

#: Metrics an objective can be measured on (the ``kpi`` column of the campaigns table).
METRICS = ("conversion_rate", "revenue", "new_customers")
SMART_LETTERS = {
    "S": "specific: say what and for whom in at least five words",
    "M": "measurable: a metric among " + ", ".join(METRICS) + " and a numeric target",
    "A": "attainable: the target must beat the baseline by at most max_growth",
    "R": "relevant: aimed at a segment of the shop (" + ", ".join((*SEGMENTS, "all")) + ")",
    "T": "time-bound: an end after the start, at most max_days later",
}
_AB = re.compile(r"^(?P<stem>.*) \[(?P<variant>[AB])\]$")


class SmartError(ParameterError):
    """A campaign objective is not SMART; the message names the failing letters."""


@dataclass(frozen=True)
class SmartObjective:
    """A campaign objective that checks itself letter by letter (S, M, A, R, T).

    Parameters
    ----------
    specific : str
        What the campaign wants and from whom ("Reactivate premium customers").
    metric : str
        One of :data:`METRICS`.
    target : float
        The value of ``metric`` aimed at.
    baseline : float
        The same metric in the shop's history (e.g. last comparable campaign).
    segment : str
        The segment aimed at: one of the shop's segments or ``"all"``.
    start, end : str or Timestamp
        The time window.
    max_growth : float
        A target above ``baseline * (1 + max_growth)`` is not attainable.
    max_days : int
        Longest allowed window.
    """

    specific: str
    metric: str
    target: float
    baseline: float
    segment: str
    start: str | pd.Timestamp
    end: str | pd.Timestamp
    max_growth: float = 1.0
    max_days: int = 92

    def failing(self) -> list[str]:
        """The letters that fail, in SMART order (empty when the objective is SMART)."""
        bad = []
        if not isinstance(self.specific, str) or len(self.specific.split()) < 5:
            bad.append("S")
        numeric = isinstance(self.target, int | float) and not isinstance(self.target, bool)
        if self.metric not in METRICS or not numeric or np.isnan(self.target):
            bad.append("M")
        elif not (isinstance(self.baseline, int | float) and self.baseline >= 0
                  and self.baseline < self.target <= self.baseline * (1 + self.max_growth)):
            bad.append("A")
        if self.segment not in (*SEGMENTS, "all"):
            bad.append("R")
        try:
            t0, t1 = pd.Timestamp(self.start), pd.Timestamp(self.end)
            ok = pd.notna(t0) and pd.notna(t1) and 0 < (t1 - t0).days <= self.max_days
        except (ValueError, TypeError):
            ok = False
        if not ok:
            bad.append("T")
        return bad

    def check(self) -> SmartObjective:
        """Return ``self`` when SMART; else raise :class:`SmartError` naming each failing letter.

        >>> SmartObjective("Win back budget customers through SMS", "revenue", 900, 1000,
        ...                "budget", "2025-01-01", "2024-12-01").check()
        Traceback (most recent call last):
        ...
        crmkit.analytics.campaigns.SmartError: objective is not SMART: A (attainable: ...
        """
        bad = self.failing()
        if bad:
            raise SmartError("objective is not SMART: " + "; ".join(
                f"{k} ({SMART_LETTERS[k]})" for k in bad) + ". Fix those fields.")
        return self


# ----------------------------------------------------------------------------- segments
def rfm_segments(data: CRMData, *, as_of: DayLike | None = None) -> pd.Series:
    """Each buying customer's named RFM segment (``crmkit.analytics.segments``), by id."""
    scored = assign_segments(rfm_scores(rfm_summary(data, as_of=as_of)))
    return scored["segment"].astype(str).rename("rfm_segment")


def segment_actions(data: CRMData, *, lang: str = "en",
                    as_of: DayLike | None = None) -> pd.DataFrame:
    """Segments -> actions: per RFM segment, its size, value, CPS, recommended loyalty action
    and how many of its customers the action can actually reach.

    ``email`` counts customers with an e-mail address who consented to
    marketing e-mail; ``phone`` those with a number who accepted calls;
    ``post`` those with a full postal address (no consent needed);
    ``personalised`` those whose profile (level 3: birth date or gender) is
    known, so the message can be tailored; ``reachable`` by at least one channel.
    It needs the customer file (addresses and consents); ``cps_mean`` is NaN
    when the products' costs are not known.
    """
    c = data.require("customers", analysis="segments -> actions (addresses and consents)") \
        .customers
    seg = rfm_segments(data, as_of=as_of)
    c = c.set_index("customer_id").reindex(seg.index)
    cps = (customer_profitability(data)["cps"].reindex(seg.index)
           if data.has("profitability") and cps_missing(data) is None
           else pd.Series(np.nan, index=seg.index))
    reach = pd.DataFrame({
        "email": (c["email"].notna() & c["email_consent"]).to_numpy(),
        "phone": (c["phone"].notna() & c["phone_consent"]).to_numpy(),
        "post": c[["address", "city", "postal_code"]].notna().all(axis=1).to_numpy(),
        "personalised": (c["birth_date"].notna() | c["gender"].notna()).to_numpy(),
    }, index=seg.index)
    reach["reachable"] = reach[["email", "phone", "post"]].any(axis=1)
    spend = rfm_summary(data, as_of=as_of)["total_spend"].reindex(seg.index)
    frame = pd.concat([seg, cps.rename("cps"), spend.rename("value"), reach], axis=1)
    g = frame.groupby("rfm_segment")
    table = segment_table(lang)
    out = pd.DataFrame({"customers": g.size()}).reindex(table.index, fill_value=0)
    out["value"] = g["value"].sum().reindex(out.index, fill_value=0.0)
    out["cps_mean"] = g["cps"].mean().reindex(out.index)
    for col in ("email", "phone", "post", "personalised", "reachable"):
        out[col] = g[col].sum().reindex(out.index, fill_value=0).astype(int)
    out.insert(0, "label", table["label"])
    out["action"] = table["action"]
    out.index.name = "segment"
    return out


# ----------------------------------------------------------------------------- persona
def _table(data: CRMData, name: str) -> pd.DataFrame:
    """The table ``name``, or an empty one of its columns when the shop's data lacks it."""
    return data.tables[name] if data.has(name) else empty_table(name)


def _mode(s: pd.Series) -> object:
    s = s.dropna()
    return s.value_counts().index[0] if len(s) else None


def buyer_persona(data: CRMData, customer_ids: Iterable[int]) -> pd.Series:
    """A buyer persona: who a group of customers is, what, when and through which channel.

    ``customer_ids`` is a segment's or cluster's members. The persona is made
    of the group's typical values: median age and most common gender and city
    (where known, level 3), top category, busiest weekday and hour, main order
    channel and traffic source, orders per customer and average order value.
    What the shop's data does not hold (no customer file, no product
    categories, no web visits) is left empty (None), never guessed.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("bendita", n_customers=200, seed=1)
    >>> p = buyer_persona(data, data.customers["customer_id"])
    >>> p["customers"], p["top_category"] in set(data.products["category"])
    (200, True)
    """
    ids = pd.Index(pd.unique(pd.Series(customer_ids).dropna().astype("int64")))
    if len(ids) == 0:
        raise ParameterError("customer_ids is empty; give the members of a segment or cluster.")
    c = _table(data, "customers").set_index("customer_id").reindex(ids)
    o = data.orders[data.orders["customer_id"].isin(ids) & (data.orders["status"] != "cancelled")]
    lines = _table(data, "order_lines")
    lines = lines[lines["order_id"].isin(o["order_id"])].merge(
        _table(data, "products")[["product_id", "category"]], on="product_id", how="left")
    end = data.orders["placed_at"].max() if len(data.orders) else pd.Timestamp.now()
    age = ((end - c["birth_date"]).dt.days / 365.25).median()
    value = _lines_value(data, lines)
    s = _table(data, "web_sessions")
    s = s[s["customer_id"].isin(ids)]
    timed = data.has("order_times")
    return pd.Series({
        "customers": len(ids),
        "median_age": None if pd.isna(age) else round(float(age), 1),
        "gender": _mode(c["gender"]),
        "city": _mode(c["city"]),
        "top_category": _mode(lines["category"]),
        "weekday": _mode(o["placed_at"].dt.day_name().str.lower()),
        "hour": _mode(o["placed_at"].dt.hour) if timed else None,
        "channel": _mode(o["channel"]),
        "traffic_source": _mode(s["traffic_source"]),
        "orders_per_customer": round(len(o) / len(ids), 2),
        "average_order_value": (round(float(value / len(o)), 2)
                                if len(o) and data.has("sales") else None),
        "email_reachable": (round(float((c["email"].notna() & c["email_consent"]).mean()), 3)
                            if data.has("customers") else None),
    }, name="persona")


def _lines_value(data: CRMData, lines: pd.DataFrame) -> float:
    """What ``lines`` (a subset of the shop's order lines) cost the customers."""
    if "amount_cents" in lines:
        from babel.numbers import get_currency_precision

        value: float = (float(lines["amount_cents"].sum())
                        / 10 ** get_currency_precision(data.currency))
        return value
    return float((lines["quantity"] * lines["unit_price"] * (1 - lines["discount"])).sum())


# ----------------------------------------------------------------------------- effectiveness
def effectiveness(data: CRMData) -> pd.DataFrame:
    """Per campaign: reach, opens, clicks, conversions, revenue, cost, cost per impact and
    conversion, ROI, and the objective against the result.

    * ``reach``: customers contacted; ``cost``: the contacts' cost (for an
      acquisition campaign, which contacts no known customer, its budget);
    * ``revenue``: net revenue of the orders attributed to the campaign (for
      an acquisition campaign, of every order of the customers it brought in);
    * ``cost_per_impact = cost / reach``; ``cost_per_conversion = cost /
      conversions``; ``roi = (revenue - cost) / cost``;
    * ``result``: the campaign's ``kpi`` measured (conversion rate =
      conversions / reach; revenue; new customers = customers it acquired),
      ``met`` whether it reached ``target_value``.

    It needs the campaigns and their contacts, the customer file and the
    products' costs; a shop without them gets one clear MissingTableError.
    """
    for topic in ("marketing", "customers", "profitability"):
        data.require(topic, analysis="campaign effectiveness")
    camp = data.campaigns.set_index("campaign_id")
    c = data.campaign_contacts
    g = c.groupby("campaign_id")
    out = pd.DataFrame(index=camp.index)
    out["name"] = camp["name"]
    out["channel"] = camp["channel"]
    out["reach"] = g.size().reindex(out.index, fill_value=0).astype(int)
    out["opens"] = g["opened"].sum().reindex(out.index, fill_value=0).astype(int)
    out["clicks"] = g["clicked"].sum().reindex(out.index, fill_value=0).astype(int)
    out["conversions"] = (g["converted_order_id"].count().reindex(out.index, fill_value=0)
                          .astype(int))
    # revenue only: it does not depend on the products' costs, known or not
    profit = order_profit(data, margin=0.0 if cps_missing(data) else None)
    o = data.orders.set_index("order_id")
    net = profit["gross"] - profit["discounts"] + profit["shipping_charged"] - profit["returns"]
    attributed = net.groupby(o["campaign_id"]).sum().reindex(out.index, fill_value=0.0)
    # an acquisition campaign contacts nobody known: its revenue is what its customers bought
    acq = data.customers.dropna(subset=["acquisition_campaign_id"])
    by_customer = net.groupby(o["customer_id"]).sum()
    brought = (by_customer.reindex(acq["customer_id"]).fillna(0.0).groupby(
        acq["acquisition_campaign_id"].to_numpy()).sum().reindex(out.index, fill_value=0.0))
    out["revenue"] = np.where(camp["goal"] == "acquisition", brought, attributed)
    contact_cost = g["cost"].sum().reindex(out.index, fill_value=0.0)
    out["cost"] = np.where(camp["goal"] == "acquisition", camp["budget"], contact_cost)
    out["cost_per_impact"] = out["cost"] / out["reach"].where(out["reach"] > 0)
    out["cost_per_conversion"] = out["cost"] / out["conversions"].where(out["conversions"] > 0)
    out["roi"] = (out["revenue"] - out["cost"]) / out["cost"].where(out["cost"] > 0)
    acquired = data.customers["acquisition_campaign_id"].value_counts()
    results = {
        "conversion_rate": out["conversions"] / out["reach"].where(out["reach"] > 0),
        "revenue": out["revenue"],
        "new_customers": acquired.reindex(out.index, fill_value=0).astype(float),
    }
    out["kpi"] = camp["kpi"]
    out["target_value"] = camp["target_value"]
    # the index holds the campaign ids
    out["result"] = [results[k].loc[cast(int, i)] for i, k in camp["kpi"].items()]
    out["met"] = out["result"] >= out["target_value"]
    return out


# ----------------------------------------------------------------------------- control groups
_REACH = {
    "email": lambda c: c["email"].notna() & c["email_consent"],
    "sms": lambda c: c["phone"].notna() & c["email_consent"],
    "phone": lambda c: c["phone"].notna() & c["phone_consent"],
    "mail": lambda c: c["address"].notna(),
    "social": lambda c: c["email"].notna(),
}


def _tests(campaigns: pd.DataFrame) -> pd.Series:
    """The A/B test each campaign belongs to: its name without ``[A]``/``[B]`` and its dates
    (two tests may share a name, never their days); empty for a single-version campaign."""
    names = campaigns["name"].str.extract(_AB.pattern)
    key = (names["stem"] + " | " + campaigns["start_date"].astype(str) + " | "
           + campaigns["end_date"].astype(str))
    return key.where(names["stem"].notna())


def _siblings(campaigns: pd.DataFrame, campaign_id: int) -> list[int]:
    """The campaign and, when it is one variant of an A/B test, the other variant."""
    tests = _tests(campaigns)
    mine = tests[(campaigns["campaign_id"] == campaign_id).to_numpy()].iloc[0]
    if pd.isna(mine):
        return [campaign_id]
    ids: list[int] = campaigns.loc[(tests == mine).to_numpy(), "campaign_id"].tolist()
    return ids


def audience(data: CRMData, campaign_id: int) -> pd.DataFrame:
    """The campaign's target audience and, for each member, whether it was contacted.

    The targeting rule: customers of the target segment (all, for ``"all"``)
    who had signed up by the first day and can be reached on the campaign's
    channel (an address; consent where the law asks for it). Audience members
    who got no message from the campaign (nor from its other A/B variant) are
    the random **control group**. ``converted`` is whether the customer
    placed any order between the campaign's first and last day, contacted or
    not: the same outcome for both groups.
    """
    for topic in ("marketing", "customers"):
        data.require(topic, analysis="a campaign's audience and control group")
    camp = data.campaigns.set_index("campaign_id")
    if campaign_id not in camp.index:
        raise ParameterError(f"campaign_id={campaign_id!r} is not in data.campaigns.")
    row = cast(pd.Series, camp.loc[campaign_id])  # campaign_id is the key: one row
    if row["goal"] == "acquisition":
        raise ParameterError(f"campaign {campaign_id} is an acquisition campaign: it contacts "
                             "no known customers, so it has no audience or control group.")
    c = data.customers
    seg = c["segment"] == row["target_segment"] if row["target_segment"] != "all" else True
    member = _REACH[row["channel"]](c) & (c["signup_date"] <= row["start_date"]) & seg
    ids = c.loc[member, "customer_id"].to_numpy()
    contacts = data.campaign_contacts
    group = np.full(len(ids), "control", dtype=object)
    for sib in _siblings(data.campaigns, campaign_id):
        hit = np.isin(ids, contacts.loc[contacts["campaign_id"] == sib, "customer_id"].to_numpy())
        group[hit] = "treated" if sib == campaign_id else "other_variant"
    o = data.orders
    day = o["placed_at"].dt.normalize()
    in_window = o.loc[(day >= row["start_date"]) & (day <= row["end_date"]), "customer_id"]
    bought = np.isin(ids, in_window.dropna().to_numpy())
    return pd.DataFrame({"customer_id": ids, "group": group, "converted": bought})


def _compare(k1: int, n1: int, k0: int, n0: int, alpha: float) -> tuple[float, float, float]:
    if n1 == 0 or n0 == 0:
        return np.nan, np.nan, np.nan
    with warnings.catch_warnings():  # statsmodels also computes ratios, undefined at 0
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = smp.confint_proportions_2indep(k1, n1, k0, n0, method="newcomb",
                                               compare="diff", alpha=alpha)
        p = smp.test_proportions_2indep(k1, n1, k0, n0, method="score", compare="diff").pvalue
    if np.isnan(p) and k1 * n0 == k0 * n1:  # no variance (all 0 or all 1) and no difference
        p = 1.0
    return float(low), float(high), float(p)


def incremental_effect(data: CRMData, *, alpha: float = 0.05) -> pd.DataFrame:
    """The uplift of every contacting campaign against its random control group.

    ``uplift = conversion(treated) - conversion(control)`` on the campaign's
    audience (see :func:`audience`), with a ``1 - alpha`` confidence interval
    (Newcomb's hybrid score interval for a difference of proportions, from
    statsmodels) and the p-value of the test of no effect.
    """
    for topic in ("marketing", "customers"):
        data.require(topic, analysis="the incremental effect of campaigns")
    rows = []
    for cid, goal in data.campaigns[["campaign_id", "goal"]].itertuples(index=False):
        if goal == "acquisition":
            continue
        a = audience(data, cid)
        t, c = a[a["group"] == "treated"], a[a["group"] == "control"]
        k1, n1, k0, n0 = int(t["converted"].sum()), len(t), int(c["converted"].sum()), len(c)
        low, high, p = _compare(k1, n1, k0, n0, alpha)
        rows.append({"campaign_id": cid, "treated": n1, "treated_rate": k1 / n1 if n1 else np.nan,
                     "control": n0, "control_rate": k0 / n0 if n0 else np.nan,
                     "uplift": (k1 / n1 - k0 / n0) if n1 and n0 else np.nan,
                     "ci_low": low, "ci_high": high, "p_value": p})
    cols = ["campaign_id", "treated", "treated_rate", "control", "control_rate", "uplift",
            "ci_low", "ci_high", "p_value"]
    return pd.DataFrame(rows, columns=cols).set_index("campaign_id")


def ab_tests(data: CRMData, *, alpha: float = 0.05) -> pd.DataFrame:
    """Every A/B test (two campaigns named ``... [A]`` and ``... [B]``): B against A.

    ``difference = conversion(B) - conversion(A)`` among contacted customers
    of the audience, with its confidence interval and p-value.
    """
    for topic in ("marketing", "customers"):
        data.require(topic, analysis="A/B tests of campaigns")
    names = data.campaigns["name"].str.extract(_AB.pattern)
    rows = []
    tests = data.campaigns.assign(stem=names["stem"], variant=names["variant"],
                                  test=_tests(data.campaigns))
    for _, part in tests.dropna(subset=["test"]).groupby("test", sort=False):
        stem = part["stem"].iloc[0]
        ids = dict(zip(part["variant"], part["campaign_id"], strict=True))
        if set(ids) != {"A", "B"}:
            continue
        a = audience(data, ids["A"])
        ta, tb = a[a["group"] == "treated"], a[a["group"] == "other_variant"]
        ka, na, kb, nb = int(ta["converted"].sum()), len(ta), int(tb["converted"].sum()), len(tb)
        low, high, p = _compare(kb, nb, ka, na, alpha)
        rows.append({"ab_test": stem, "start_date": part["start_date"].iloc[0],
                     "campaign_a": ids["A"], "campaign_b": ids["B"],
                     "n_a": na, "rate_a": ka / na if na else np.nan,
                     "n_b": nb, "rate_b": kb / nb if nb else np.nan,
                     "difference": (kb / nb - ka / na) if na and nb else np.nan,
                     "ci_low": low, "ci_high": high, "p_value": p})
    cols = ["ab_test", "start_date", "campaign_a", "campaign_b", "n_a", "rate_a", "n_b", "rate_b",
            "difference", "ci_low", "ci_high", "p_value"]
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------- names
#: A generated campaign's name: its goal, the month it started and its channel, and the
#: arm of an A/B test ("Cross Sell Jun 2024 (sms) [A]"); see crmkit.dataset.synth.
CAMPAIGN_NAME = re.compile(r"^(?P<goal>Acquisition|Retention|Reactivation|Cross Sell) "
                           r"(?P<month>[A-Z][a-z]{2} \d{4}) \((?P<channel>\w+)\)"
                           r"(?P<arm> \[\w+\])?$")


def campaign_label(name: str, lang: str = "en") -> str:
    """A generated campaign's name as a reader of ``lang`` reads it; the data keeps its name.

    Goal and channel come from the catalog and the month is written by the locale; any
    other name (a shop's own campaign) is left as it is.

    >>> campaign_label("Acquisition Jan 2024 (sms) [B]", "es")
    'Captación ene 2024 (SMS) [B]'
    >>> campaign_label("Rebajas de enero", "es"), campaign_label("Retention Mar 2025 (email)", "en")
    ('Rebajas de enero', 'Retention Mar 2025 (email)')
    """
    import datetime

    from ..i18n import check_lang, format_date, format_message, t

    m = CAMPAIGN_NAME.match(name) if isinstance(name, str) else None
    if m is None or check_lang(lang) == "en":
        return name
    goal = m["goal"].lower().replace(" ", "_")
    month = datetime.datetime.strptime(m["month"], "%b %Y")
    channel = m["channel"]
    text = format_message(t("campaign.name", lang), lang, goal=t(f"value.{goal}", lang),
                          month=format_date(month, lang, skeleton="yMMM"),
                          channel=t(f"value.{channel}", lang) if f"value.{channel}" in _cat()
                          else channel)
    return text + (m["arm"] or "")


# ----------------------------------------------------------------------------- plan
def plot_plan(campaigns: pd.DataFrame, *, lang: str = "en", ax: Axes | None = None,
              currency: str = "EUR") -> Axes:
    """A campaign plan as a timeline: one bar per campaign from start to end, its budget
    written beside it (in ``currency``, as ``lang`` writes money) and the bar's colour by
    channel."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from ..i18n import describe_figure, format_currency, format_message, locale_axes, t

    c = campaigns.sort_values("start_date").reset_index(drop=True)
    if ax is None:
        ax = plt.subplots(figsize=(10, max(2.5, 0.28 * len(c) + 1.5)), layout="constrained")[1]
    channels = list(dict.fromkeys(c["channel"]))
    colours = dict(zip(channels, sns.color_palette("colorblind"), strict=False))
    for label, r in c.iterrows():
        i = cast(int, label)  # reset_index: the labels are the positions
        width = (r["end_date"] - r["start_date"]).days + 1
        ax.barh(i, width, left=r["start_date"], color=colours[r["channel"]], height=0.6)
        budget = format_currency(r["budget"], lang, currency=currency, decimals=0)
        ax.text(r["end_date"] + pd.Timedelta(days=4), i, budget, va="center", fontsize=7)
    ax.set_yticks(range(len(c)), [campaign_label(str(n), lang) for n in c["name"]],
                  fontsize=7)
    ax.invert_yaxis()
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[k]) for k in channels]
    ax.legend(handles, [t(f"value.{k}", lang) if f"value.{k}" in _cat() else k
                        for k in channels], fontsize=7, loc="upper left",
              bbox_to_anchor=(1.0, 1.0))
    ax.set_title(t("case.plan_title", lang))
    # room after the last bar for its budget
    ax.set_xlim(c["start_date"].min() - pd.Timedelta(days=10),
                c["end_date"].max() + pd.Timedelta(days=70))
    locale_axes(ax, lang)
    return describe_figure(ax, format_message(t("plot_alt.campaign_plan", lang), lang,
                                              n=len(c)))


def _cat() -> dict[str, tuple[str, str]]:

    from ..i18n import catalog

    return catalog()
