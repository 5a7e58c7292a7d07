"""Response management: rule-based automation flows, evaluated on the shop's own history.

Marketing automation answers events with a message, without anyone pressing
a button. Four classic flows, each a rule on the data:

* ``welcome``: the customer's first order -> a welcome message;
* ``abandoned_cart``: a logged-in visit that put something in the cart and
  ended without an order, and no order in the next ``cart_hours`` -> a reminder;
* ``win_back``: ``win_back_days`` without an order since the last one -> an offer;
* ``birthday``: the customer's birthday (level-3 data: birth date known).

:func:`flow_triggers` lists who each flow would have triggered and when;
``reachable`` says whether the message could legally go out (e-mail known
and consent given); ``converted`` whether the customer then ordered within
``horizon_days``. :func:`weekly_flows` counts them week by week. No message
was actually sent: this is what the flows *would* have done, and what those
customers did next on their own, the baseline the flows must beat.

>>> import pandas as pd
>>> customers = pd.DataFrame({"customer_id": [1, 2], "email": ["a@x.es", None],
...     "email_consent": [True, False], "birth_date": pd.to_datetime(["1990-03-10", None])})
>>> orders = pd.DataFrame({"order_id": [1, 2, 3], "customer_id": pd.array([1, 1, 2], "Int64"),
...     "placed_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-01"]),
...     "status": ["delivered"] * 3})
>>> t = welcome_triggers(customers, orders, horizon_days=30)
>>> t[["customer_id", "reachable", "converted"]].to_dict("list")
{'customer_id': [1, 2], 'reachable': [True, False], 'converted': [True, False]}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ParameterError, check_choice

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData
    from ..dataset.days import DayLike


__all__ = [
    "FLOWS",
    "FLOW_NEEDS",
    "available_flows",
    "flow_triggers",
    "welcome_triggers",
    "cart_triggers",
    "win_back_triggers",
    "birthday_triggers",
    "weekly_flows",
    "flow_summary",
]

FLOWS = ("welcome", "abandoned_cart", "win_back", "birthday")
_COLS = ["customer_id", "triggered_at", "reachable", "converted", "next_order_at"]


def _live_orders(orders: pd.DataFrame) -> pd.DataFrame:
    o = orders.dropna(subset=["customer_id"])
    o = o[o["status"] != "cancelled"]
    return o.assign(customer_id=o["customer_id"].astype("int64"))[
        ["customer_id", "placed_at"]].sort_values("placed_at", kind="stable")


def _outcome(triggers: pd.DataFrame, customers: pd.DataFrame, orders: pd.DataFrame,
             horizon_days: float) -> pd.DataFrame:
    """Add reachability and the next order after each trigger (within the horizon)."""
    if horizon_days <= 0:
        raise ParameterError(f"horizon_days={horizon_days!r} must be > 0.")
    if triggers.empty:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in zip(
            _COLS, ["int64", "datetime64[us]", "bool", "bool", "datetime64[us]"], strict=True)})
    t = triggers.assign(customer_id=triggers["customer_id"].astype("int64"),
                        triggered_at=triggers["triggered_at"].astype("datetime64[us]"))
    t = t.sort_values("triggered_at", kind="stable")
    o = _live_orders(orders).rename(columns={"placed_at": "next_order_at"})
    o["next_order_at"] = o["next_order_at"].astype("datetime64[us]")
    t = pd.merge_asof(t, o, left_on="triggered_at", right_on="next_order_at",
                      by="customer_id", direction="forward", allow_exact_matches=False)
    c = customers.set_index("customer_id")
    ok = (c["email"].notna() & c["email_consent"].astype(bool))
    t["reachable"] = ok.reindex(t["customer_id"]).fillna(False).to_numpy(dtype=bool)
    t["converted"] = ((t["next_order_at"] - t["triggered_at"])
                      <= pd.Timedelta(days=horizon_days)).fillna(False).astype(bool)
    return t.sort_values(["triggered_at", "customer_id"], kind="stable")[_COLS] \
        .reset_index(drop=True)


def welcome_triggers(customers: pd.DataFrame, orders: pd.DataFrame, *,
                     horizon_days: float = 30) -> pd.DataFrame:
    """The welcome flow: triggered at each customer's first (not cancelled) order."""
    first: pd.DataFrame = _live_orders(orders).groupby(  # type: ignore[assignment]
        "customer_id", as_index=False)["placed_at"].min()  # a DataFrame (pandas-stubs: Series)
    return _outcome(first.rename(columns={"placed_at": "triggered_at"}), customers, orders,
                    horizon_days)


def cart_triggers(customers: pd.DataFrame, orders: pd.DataFrame, sessions: pd.DataFrame, *,
                  cart_hours: float = 24,
                  horizon_days: float = 7) -> pd.DataFrame:
    """The abandoned-cart flow: a known visitor's cart left without an order.

    Triggered ``cart_hours`` after the visit, unless the customer ordered in
    between; one reminder per customer and day at most.
    """
    s = sessions[sessions["added_to_cart"].astype(bool) & sessions["converted_order_id"].isna()
                 & sessions["customer_id"].notna()]
    s = pd.DataFrame({"customer_id": s["customer_id"].astype("int64"),
                      "triggered_at": (s["started_at"] + pd.Timedelta(hours=cart_hours))
                      .astype("datetime64[us]"), "visit": s["started_at"]})
    s = s.sort_values("visit", kind="stable")
    o = _live_orders(orders).rename(columns={"placed_at": "order_at"})
    o["order_at"] = o["order_at"].astype("datetime64[us]")
    s["visit"] = s["visit"].astype("datetime64[us]")
    s = pd.merge_asof(s, o, left_on="visit", right_on="order_at", by="customer_id",
                      direction="forward")
    s = s[~(s["order_at"] < s["triggered_at"])]
    s = s.assign(day=s["triggered_at"].dt.normalize()).drop_duplicates(["customer_id", "day"])
    return _outcome(s[["customer_id", "triggered_at"]], customers, orders, horizon_days)


def win_back_triggers(customers: pd.DataFrame, orders: pd.DataFrame, *,
                      win_back_days: int = 90, horizon_days: float = 30,
                      until: DayLike | None = None) -> pd.DataFrame:
    """The win-back flow: ``win_back_days`` after an order not followed by another one.

    Triggers that would fall after ``until`` (default: the last order in the
    data) are not counted: that day has not come yet.
    """
    if win_back_days <= 0:
        raise ParameterError(f"win_back_days={win_back_days!r} must be > 0.")
    o = _live_orders(orders).sort_values(["customer_id", "placed_at"], kind="stable")
    nxt = o.groupby("customer_id")["placed_at"].shift(-1)
    gap = pd.Timedelta(days=win_back_days)
    due = o["placed_at"] + gap
    end = pd.Timestamp(until) if until is not None else orders["placed_at"].max()
    hit = (nxt.isna() | (nxt > due)) & (due <= end)
    t = pd.DataFrame({"customer_id": o.loc[hit, "customer_id"], "triggered_at": due[hit]})
    return _outcome(t, customers, orders, horizon_days)


def birthday_triggers(customers: pd.DataFrame, orders: pd.DataFrame, *,
                      horizon_days: float = 14, start: DayLike | None = None,
                      end: DayLike | None = None) -> pd.DataFrame:
    """The birthday flow: every birthday of a customer whose birth date is known (level 3),
    between ``start`` and ``end`` (default: the period of the orders), at 09:00."""
    start = pd.Timestamp(start) if start is not None else orders["placed_at"].min().normalize()
    end = pd.Timestamp(end) if end is not None else orders["placed_at"].max()
    c = customers.dropna(subset=["birth_date"])
    rows = []
    for year in range(start.year, end.year + 1):
        b = c["birth_date"]
        day = pd.to_datetime(pd.DataFrame({"year": year, "month": b.dt.month,
                                           "day": b.dt.day.where(~((b.dt.month == 2)
                                                                   & (b.dt.day == 29)), 28)}))
        rows.append(pd.DataFrame({"customer_id": c["customer_id"],
                                  "triggered_at": day + pd.Timedelta(hours=9)}))
    t = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=_COLS[:2])
    t = t[(t["triggered_at"] >= start) & (t["triggered_at"] <= end)]
    return _outcome(t, customers, orders, horizon_days)


#: What each flow needs besides the orders: who the customers are and how to reach them,
#: and for the abandoned cart the web visits.
FLOW_NEEDS = {"welcome": ("customers",), "abandoned_cart": ("customers", "web"),
         "win_back": ("customers",), "birthday": ("customers",)}


def available_flows(data: CRMData) -> tuple[str, ...]:
    """The flows of :data:`FLOWS` that ``data`` holds what they need for.

    >>> from crmkit.dataset.crmdata import CRMData
    >>> from crmkit.dataset.synth import generate
    >>> data = generate("bendita", n_customers=50, seed=1)
    >>> available_flows(data)
    ('welcome', 'abandoned_cart', 'win_back', 'birthday')
    >>> shop = CRMData({k: data.tables[k] for k in ("orders", "customers")}, {})
    >>> available_flows(shop)
    ('welcome', 'win_back', 'birthday')
    """
    return tuple(f for f in FLOWS if all(data.has(topic) for topic in FLOW_NEEDS[f]))


def flow_triggers(data: CRMData, flow: str, **options: Any) -> pd.DataFrame:
    """Who flow ``flow`` (one of :data:`FLOWS`) would have triggered, and what they did next.

    A flow whose data the shop lacks (:data:`FLOW_NEEDS`) raises MissingTableError.
    """
    check_choice("flow", flow, FLOWS)
    for topic in FLOW_NEEDS[flow]:
        data.require(topic, analysis=f"the {flow.replace('_', '-')} flow")
    if flow == "welcome":
        return welcome_triggers(data.customers, data.orders, **options)
    if flow == "abandoned_cart":
        return cart_triggers(data.customers, data.orders, data.web_sessions, **options)
    if flow == "win_back":
        return win_back_triggers(data.customers, data.orders, **options)
    return birthday_triggers(data.customers, data.orders, **options)


def weekly_flows(data: CRMData, *, flows: Iterable[str] | None = None) -> pd.DataFrame:
    """Week by week (weeks starting Monday), per flow: triggered, reachable, converted.

    ``flows`` defaults to the flows the data allows (:func:`available_flows`).
    """
    flows = available_flows(data) if flows is None else flows
    parts = []
    for flow in flows:
        t = flow_triggers(data, flow)
        week = t["triggered_at"].dt.to_period("W-SUN").dt.start_time.rename("week")
        g = t.groupby(week)
        parts.append(pd.DataFrame({"flow": flow, "triggered": g.size(),
                                   "reachable": g["reachable"].sum(),
                                   "converted": g["converted"].sum()}).reset_index())
    if not parts:
        parts = [pd.DataFrame({"flow": pd.Series(dtype=str), "week": pd.Series(
            dtype="datetime64[us]"), "triggered": 0, "reachable": 0, "converted": 0})]
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"triggered": int, "reachable": int, "converted": int})


def flow_summary(data: CRMData, *, flows: Iterable[str] | None = None) -> pd.DataFrame:
    """Per flow: triggers, share reachable, share that ordered within the flow's horizon.

    ``flows`` defaults to the flows the data allows (:func:`available_flows`).
    """
    flows = available_flows(data) if flows is None else flows
    rows = []
    for flow in flows:
        t = flow_triggers(data, flow)
        rows.append({"flow": flow, "triggered": len(t),
                     "customers": int(t["customer_id"].nunique()),
                     "reachable_share": float(t["reachable"].mean()) if len(t) else float("nan"),
                     "next_order_rate": float(t["converted"].mean()) if len(t) else float("nan")})
    return pd.DataFrame(rows, columns=["flow", "triggered", "customers", "reachable_share",
                                       "next_order_rate"]).set_index("flow")
