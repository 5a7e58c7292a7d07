"""The CRM inside the organisation: a shared agenda, internal communication, new
opportunities, the customer-centred model, 1×1 and luxury promotions, the next
campaign plan and the forecast's scenario factors.

>>> import pandas as pd
>>> from crmkit.dataset.crmdata import CRMData
>>> ev = pd.DataFrame({"ticket_id": [1, 1, 1, 2], "state": ["registered", "technical_report",
...     "report_validated", "registered"], "actor_role": ["operator", "technician", "technician",
...     "operator"], "occurred_at": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03",
...     "2025-01-01"])})
>>> handoffs(CRMData({"orders": pd.DataFrame({"order_id": [1]}), "ticket_events": ev,
...                   "tickets": pd.DataFrame({"ticket_id": [1, 2]})})).to_dict()
{('operator', 'technician'): 1}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData
    from ..dataset.days import DayLike

__all__ = ["shared_agenda", "agenda_by_week", "handoffs", "potential_customers", "two_views",
           "crm_people", "outsourcing_costs", "one_to_one_offers", "luxury_buyers", "customised",
           "next_plan", "scenario_forecast", "SCENARIOS", "NEXT_STEP"]

#: The next step of an incident in each state, and the role that takes it.
NEXT_STEP = {"registered": ("technical_report", "technician"),
             "technical_report": ("report_validated", "validator"),
             "report_validated": ("response_issued", "customer_service"),
             "response_issued": ("closed", "operator")}


def shared_agenda(data: CRMData, *, as_of: DayLike | None = None, sla_hours: float = 72,
                  follow_up_days: int = 14) -> pd.DataFrame:
    """Every task the CRM put on the organisation's shared agenda: the next step of each
    incident after each change of state (due ``sla_hours`` later, for the role that takes
    it; ``done`` when the incident moved on), a follow-up of each negotiation (due
    ``follow_up_days`` after it was opened, for its owner) and the launch of each campaign
    (for marketing). ``late``: done after its due moment, or still open on ``as_of``
    (default: the last recorded moment) and past due.

    >>> import pandas as pd
    >>> from crmkit.dataset.crmdata import CRMData
    >>> ev = pd.DataFrame({"ticket_id": [1, 1, 2], "state": ["registered", "technical_report",
    ...     "registered"], "actor_role": ["operator", "technician", "operator"],
    ...     "occurred_at": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-01"])})
    >>> agenda = shared_agenda(CRMData({"orders": pd.DataFrame({"order_id": [1]}),
    ...     "tickets": pd.DataFrame({"ticket_id": [1, 2]}), "ticket_events": ev}),
    ...     as_of="2025-01-09")
    >>> agenda[["ref", "task", "owner", "late"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'ref': 1, 'task': 'technical_report', 'owner': 'technician', 'late': False},
     {'ref': 2, 'task': 'technical_report', 'owner': 'technician', 'late': True},
     {'ref': 1, 'task': 'report_validated', 'owner': 'validator', 'late': True}]
    """
    data.require("incidents", analysis="the shared agenda")
    ev = data.ticket_events.sort_values(["ticket_id", "occurred_at"], kind="stable")
    done = ev.groupby("ticket_id")["occurred_at"].shift(-1)
    steps = ev[ev["state"].isin(list(NEXT_STEP))]
    frames = [pd.DataFrame({
        "kind": "incident", "ref": steps["ticket_id"].astype(int),
        "task": steps["state"].map(lambda s: NEXT_STEP[s][0]),
        "owner": steps["state"].map(lambda s: NEXT_STEP[s][1]),
        "due": steps["occurred_at"] + pd.Timedelta(hours=sla_hours),
        "done": done[steps.index]})]
    stamps = [ev["occurred_at"].max()]
    if data.has("pipeline"):
        op = data.opportunities
        stamps.append(op["created_at"].max())
        frames.append(pd.DataFrame({
            "kind": "negotiation", "ref": op["opportunity_id"].astype(int), "task": "follow_up",
            "owner": op["owner"], "due": op["created_at"] + pd.Timedelta(days=follow_up_days),
            "done": op["closed_at"]}))
    if data.has("campaigns"):
        c = data.campaigns
        frames.append(pd.DataFrame({
            "kind": "campaign", "ref": c["campaign_id"].astype(int), "task": "launch",
            "owner": "marketing", "due": pd.to_datetime(c["start_date"]),
            "done": pd.to_datetime(c["start_date"])}))
    now = pd.Timestamp(as_of) if as_of is not None else max(stamps)
    out = pd.concat([f for f in frames if len(f)], ignore_index=True)
    out["late"] = out["done"].fillna(now) > out["due"]
    return out.sort_values(["due", "kind", "ref"], kind="stable").reset_index(drop=True)


def agenda_by_week(agenda: pd.DataFrame) -> pd.DataFrame:
    """Tasks due per week (Monday first) on the shared agenda, and how many were late."""
    week = agenda["due"].dt.to_period("W-SUN").dt.start_time.rename("week")
    return agenda.groupby(week).agg(tasks=("task", "size"), late=("late", "sum")).astype(int)


def handoffs(data: CRMData) -> pd.Series:
    """Messages the CRM carried between roles: each time an incident passed from one
    role to another (counted by pair of roles, most first) — the meetings and calls the
    shared record saves."""
    data.require("incidents", analysis="internal communication")
    ev = data.ticket_events.sort_values(["ticket_id", "occurred_at"], kind="stable")
    prev = ev.groupby("ticket_id")["actor_role"].shift()
    moved = ev[prev.notna() & (prev != ev["actor_role"])]
    pairs = pd.Series(list(zip(prev[moved.index], moved["actor_role"], strict=True)),
                      dtype=object)
    return pairs.value_counts().rename("handoffs")


def potential_customers(data: CRMData) -> pd.Series:
    """People the shop can reach who have not bought yet, by where the data show them:
    newsletter subscribers with no order, customers on file with no order, negotiations
    still open with someone who is not a customer."""
    out = {}
    buyers = set(data.orders["customer_id"].dropna())
    if data.has("newsletter"):
        nl = data.newsletter[data.newsletter["unsubscribed_at"].isna()]
        out["newsletter_no_order"] = int((~nl["customer_id"].isin(buyers)).sum())
    if data.has("customers"):
        out["customer_no_order"] = int((~data.customers["customer_id"].isin(buyers)).sum())
    if data.has("pipeline"):
        op = data.opportunities
        out["open_prospects"] = int((~op["stage"].isin(["won", "lost"])
                                     & op["customer_id"].isna()).sum())
    return pd.Series(out, dtype=int, name="people")


def _order_revenue(data: CRMData) -> pd.Series:
    from .tracking import order_value

    return order_value(data)


def two_views(data: CRMData) -> pd.DataFrame:
    """The same revenue seen by product (the traditional organisation) and by customer
    (the CRM's management model): share of the best category, and shares of the best
    10 % of buyers and of repeat buyers."""
    data.require("sales", analysis="the customer-centred view")
    value = _order_revenue(data)
    o = data.orders.set_index("order_id")
    total = float(value.sum())
    cats = {}
    if data.has("products"):
        lines = data.order_lines.merge(data.products[["product_id", "category"]], how="left")
        from .kpis import line_revenue
        rev = line_revenue(data).groupby(lines["category"].fillna("?").to_numpy()).sum()
        cats = {"best_category": float(rev.max() / total) if total else np.nan}
    per = value.groupby(o["customer_id"].reindex(value.index)).sum()
    counts = o["customer_id"].value_counts()
    top = per.sort_values(ascending=False).head(max(len(per) // 10, 1))
    repeat = per[per.index.isin(counts[counts >= 2].index)]
    rows = {**cats, "top_10pct_buyers": float(top.sum() / total) if total else np.nan,
            "repeat_buyers": float(repeat.sum() / total) if total else np.nan,
            "guests": float(value[o["customer_id"].reindex(value.index).isna()].sum() / total)
            if total else np.nan}
    return pd.Series(rows, name="share_of_revenue").to_frame()


def crm_people(data: CRMData) -> pd.Series:
    """People who record in the CRM, by role: incident actors and salespeople."""
    out = {}
    if data.has("incidents"):
        ev = data.ticket_events
        out = ev.groupby("actor_role")["actor_id"].nunique().to_dict()
    if data.has("pipeline"):
        out["salesperson"] = int(data.opportunities["owner"].nunique())
    return pd.Series(out, dtype=int, name="people")


def outsourcing_costs(users: int, *, fee_per_user: float = 45.0, setup: float = 6000.0,
                      it_salary: float = 36000.0, servers: float = 4000.0,
                      years: int = 3) -> pd.Series:
    """Cost of ``years`` of a CRM for ``users`` people: from an IT consultancy (a set-up
    and a monthly fee per user) or in-house (an IT person and servers). The prices are
    stated assumptions the learner can change, not data.

    >>> outsourcing_costs(10).to_dict()
    {'consultancy': 22200.0, 'in_house': 120000.0}
    """
    return pd.Series({"consultancy": float(setup + fee_per_user * users * 12 * years),
                      "in_house": float((it_salary + servers) * years)}, name="cost")


def one_to_one_offers(data: CRMData, *, n: int | None = None) -> pd.DataFrame:
    """The customers 1×1 marketing can address (all five data levels, consent to e-mail),
    each with a personal offer read from their own habits: the category they buy most,
    their payment method, their usual gap between orders and the day the next offer is due.
    """
    from .kpis import line_revenue
    from .levels import reach_masks

    for topic in ("customers", "products"):
        data.require(topic, analysis="1x1 marketing")
    ready = reach_masks(data)["one_to_one"]
    c = data.customers.set_index("customer_id")
    ids = ready[ready & c["email_consent"].reindex(ready.index).astype(bool)].index
    o = data.orders[data.orders["customer_id"].isin(ids)]
    lines = data.order_lines[data.order_lines["order_id"].isin(o["order_id"])].merge(
        data.products[["product_id", "category"]], how="left")
    lines["value"] = line_revenue(data).reindex(
        data.order_lines.index[data.order_lines["order_id"].isin(o["order_id"])]).to_numpy()
    lines["customer_id"] = lines["order_id"].map(o.set_index("order_id")["customer_id"])
    fav = (lines.groupby(["customer_id", "category"])["value"].sum().reset_index()
           .sort_values(["customer_id", "value", "category"], ascending=[True, False, True])
           .drop_duplicates("customer_id").set_index("customer_id")["category"])
    placed = o.sort_values("placed_at", kind="stable")
    g = placed.groupby("customer_id")["placed_at"]
    days = g.diff().dt.total_seconds() / 86400  # from each order to the customer's next
    gap = np.floor(days.groupby(placed["customer_id"]).median())
    out = pd.DataFrame({"favourite_category": fav, "payment": c["preferred_payment_method"],
                        "usual_gap_days": gap, "last_order": g.max()}).loc[lambda d: d.index
                                                                           .isin(ids)]
    out["next_offer"] = (out["last_order"] + pd.to_timedelta(out["usual_gap_days"], unit="D")
                         ).dt.normalize()
    out = out.dropna(subset=["favourite_category"]).sort_index()
    return out if n is None else out.head(n)


def luxury_buyers(data: CRMData, *, top: float = 0.1) -> pd.DataFrame:
    """The dearest products (the top ``top`` share by list price) and who buys them: a
    handful of customers, for whom a promotion can be made one by one.

    Per luxury product: list price, units sold and known buyers.
    """
    for topic in ("sales", "products"):
        data.require(topic, analysis="luxury promotions")
    p = data.products.dropna(subset=["list_price"])
    dear = p[p["list_price"] >= p["list_price"].quantile(1 - top)].set_index("product_id")
    lines = data.order_lines[data.order_lines["product_id"].isin(dear.index)]
    who = lines["order_id"].map(data.orders.set_index("order_id")["customer_id"])
    g = lines.assign(customer_id=who).groupby("product_id")
    out = dear[["name", "list_price"]].join(pd.DataFrame({"units": g["quantity"].sum(),
                                                          "buyers": g["customer_id"].nunique()}))
    return out.fillna({"units": 0, "buyers": 0}).astype({"units": int, "buyers": int}
                                                         ).sort_values("list_price",
                                                                       ascending=False)


def customised(data: CRMData) -> pd.DataFrame:
    """Per option customers chose (a name, a size...): lines, buyers who customised, and
    how many of them bought again afterwards."""
    data.require("customisation", analysis="customised products")
    cz = data.customisations.merge(data.orders[["order_id", "customer_id", "placed_at"]])
    last = data.orders.groupby("customer_id")["placed_at"].max()
    cz["again"] = cz["customer_id"].map(last) > cz["placed_at"]
    g = cz.groupby("option")
    return pd.DataFrame({"lines": g.size(), "buyers": g["customer_id"].nunique(),
                         "bought_again": cz[cz["again"]].groupby("option")["customer_id"]
                         .nunique()}).fillna(0).astype(int)


def next_plan(effect: pd.DataFrame) -> pd.DataFrame:
    """Analyse the results and launch a new plan: from the campaigns' effectiveness
    (:func:`crmkit.analytics.campaigns.effectiveness`, campaigns that reached someone),
    repeat those whose ROI is above the median, stop the others, and share the freed
    budget among the repeated ones in proportion to their ROI.

    >>> import pandas as pd
    >>> eff = pd.DataFrame({"reach": [10, 10, 10, 0], "cost": [100.0, 50.0, 30.0, 9.0],
    ...                     "roi": [2.0, -0.5, 1.0, None]}, index=[1, 2, 3, 4])
    >>> next_plan(eff)[["decision", "new_budget"]].to_dict("list")
    {'decision': ['repeat', 'stop', 'stop'], 'new_budget': [180.0, 0.0, 0.0]}
    """
    e = effect[effect["reach"] > 0].copy()
    keep = e["roi"] > e["roi"].median()
    freed = float(e.loc[~keep, "cost"].sum())
    weight = e["roi"].where(keep, 0.0).clip(lower=0)
    share = weight / weight.sum() if weight.sum() > 0 else weight
    e["decision"] = np.where(keep, "repeat", "stop")
    e["new_budget"] = (e["cost"].where(keep, 0.0) + freed * share).round(2)
    return e


#: Scenario factors of a sales forecast that the shop's data do not hold (course text 002):
#: the company's overall budget for marketing, the sector's growth, the economic outlook.
SCENARIOS = {
    "pessimistic": {"budget_change": -0.2, "sector_growth": -0.02, "economy": -0.05},
    "base": {"budget_change": 0.0, "sector_growth": 0.0, "economy": 0.0},
    "optimistic": {"budget_change": 0.2, "sector_growth": 0.03, "economy": 0.02},
}


def scenario_forecast(forecast: pd.Series, *, budget_share: float,
                      scenarios: Mapping[str, Mapping[str, float]] | None = None
                      ) -> pd.DataFrame:
    """The forecast total under each scenario: the sector's growth and the economy scale
    it; a change of the marketing budget moves the part of sales the campaigns bring
    (``budget_share``, measured on the data) in proportion.

    total = forecast × (1 + sector_growth) × (1 + economy) × (1 + budget_share × budget_change)

    >>> fc = pd.Series([100.0, 100.0])
    >>> scenario_forecast(fc, budget_share=0.1)["total"].round(2).to_dict()
    {'pessimistic': 182.48, 'base': 200.0, 'optimistic': 214.32}
    """
    rows = []
    for name, s in (scenarios or SCENARIOS).items():
        mult = ((1 + s["sector_growth"]) * (1 + s["economy"])
                * (1 + budget_share * s["budget_change"]))
        rows.append({"scenario": name, **s, "total": float(forecast.sum()) * mult})
    return pd.DataFrame(rows).set_index("scenario")
