"""After-sales service: the incident workflow as a state machine, and its metrics.

Every incident passes through the states of the course text (seed 002):
registered → technical report → report validated → response issued → closed,
each step done by a role. These functions measure volumes per state, time
spent in each state, and incidents stuck past a service level.

>>> from crmkit.dataset.synth import generate
>>> data = generate("bendita", n_customers=600, seed=2)
>>> backlog = tickets_by_state(data)
>>> list(backlog.index) == list(TICKET_STATES)
True
>>> int(backlog["tickets"].sum()) == len(data.tickets)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..dataset.schema import TICKET_STATES
from ..errors import ParameterError

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData
    from ..dataset.days import DayLike


__all__ = [
    "TICKET_STATES",
    "TRANSITIONS",
    "tickets_by_state",
    "state_durations",
    "time_in_state",
    "stuck_tickets",
    "transition_counts",
    "customer_history",
]

#: The allowed moves of the workflow.
TRANSITIONS = tuple(zip(TICKET_STATES[:-1], TICKET_STATES[1:], strict=True))


def _as_of(data: CRMData, as_of: DayLike | None) -> pd.Timestamp:
    if as_of is not None:
        return pd.Timestamp(as_of)
    end = data.manifest.get("end")
    if end:
        return pd.Timestamp(end) + pd.Timedelta(days=1)
    last: pd.Timestamp = data.ticket_events["occurred_at"].max()
    return last


def tickets_by_state(data: CRMData) -> pd.DataFrame:
    """Incidents whose current state is each state (the backlog), in workflow order."""
    data.require("incidents", analysis="service.tickets_by_state")
    counts = data.tickets["status"].value_counts().reindex(TICKET_STATES, fill_value=0)
    n = max(len(data.tickets), 1)
    return pd.DataFrame({"tickets": counts.astype(int), "share": counts / n},
                        index=pd.Index(TICKET_STATES, name="state"))


def state_durations(data: CRMData, *, as_of: DayLike | None = None) -> pd.DataFrame:
    """One row per incident and state it entered: when, and how long it stayed.

    The last state of an open incident lasts until ``as_of`` (the end of the
    data by default) and is marked ``open``.
    """
    data.require("incidents", analysis="service.state_durations")
    ev = data.ticket_events.sort_values(["ticket_id", "occurred_at", "event_id"])
    nxt = ev.groupby("ticket_id")["occurred_at"].shift(-1)
    is_open = nxt.isna() & (ev["state"] != TICKET_STATES[-1])
    until = nxt.fillna(_as_of(data, as_of))
    hours = (until - ev["occurred_at"]).dt.total_seconds() / 3600
    out = ev[["ticket_id", "state", "actor_role", "occurred_at"]].copy()
    out["hours"] = hours.where(ev["state"] != TICKET_STATES[-1])
    out["open"] = is_open
    return out.reset_index(drop=True)


def time_in_state(data: CRMData, *, as_of: DayLike | None = None) -> pd.DataFrame:
    """Median, 90th percentile and mean hours spent in each state (closed excluded)."""
    data.require("incidents", analysis="service.time_in_state")
    d = state_durations(data, as_of=as_of).dropna(subset=["hours"])
    g = d.groupby("state")["hours"]
    out = pd.DataFrame({"incidents": g.size(), "median_hours": g.median(),
                        "p90_hours": g.quantile(0.9), "mean_hours": g.mean()})
    return out.reindex(list(TICKET_STATES[:-1])).fillna({"incidents": 0}).astype(
        {"incidents": int})


def stuck_tickets(data: CRMData, *, sla_hours: float = 72,
                  as_of: DayLike | None = None) -> pd.DataFrame:
    """Open incidents that have waited longer than ``sla_hours`` in their current state.

    >>> from crmkit.dataset.synth import generate
    >>> stuck_tickets(generate("boutique", n_customers=50, seed=1), sla_hours=-1)
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: sla_hours=-1 must be a positive number of hours.
    """
    data.require("incidents", analysis="service.stuck_tickets")
    if not isinstance(sla_hours, int | float) or sla_hours <= 0:
        raise ParameterError(f"sla_hours={sla_hours!r} must be a positive number of hours.")
    d = state_durations(data, as_of=as_of)
    late = d[d["open"] & (d["hours"] > sla_hours)]
    return late[["ticket_id", "state", "actor_role", "occurred_at", "hours"]].sort_values(
        "hours", ascending=False).reset_index(drop=True)


def transition_counts(data: CRMData) -> pd.DataFrame:
    """How many incidents made each move of the workflow (edges of the state machine)."""
    data.require("incidents", analysis="service.transition_counts")
    ev = data.ticket_events.sort_values(["ticket_id", "occurred_at", "event_id"])
    nxt = ev.groupby("ticket_id")["state"].shift(-1)
    moves = pd.DataFrame({"from": ev["state"], "to": nxt}).dropna()
    counts = moves.value_counts().rename("incidents")
    idx = pd.MultiIndex.from_tuples(TRANSITIONS, names=["from", "to"])
    return counts.reindex(idx, fill_value=0).reset_index()


def customer_history(data: CRMData, customer_id: int) -> pd.DataFrame:
    """Everything the CRM knows happened with one customer, newest first.

    What a service agent looks up before answering a call: orders, incidents
    and campaign contacts on one time line. ``detail`` holds the data's codes
    (``store · delivered``) and a contact's campaign by its name, with
    ``converted`` when the contact led to an order.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("boutique", n_customers=80, seed=1)
    >>> h = customer_history(data, 65)
    >>> h.loc[h["what"] == "campaign", "detail"].tolist()
    ['Retention Aug 2024 (mail)', 'Retention May 2024 (sms) [A] · converted']
    """
    known = (set(data.customers["customer_id"]) if data.has("customers")
             else set(data.orders["customer_id"].dropna()))
    if customer_id not in known:
        raise ParameterError(f"customer_id={customer_id!r} is not in the customers table.")
    full = data.complete()  # a table the shop does not have adds nothing to the time line
    o = full.orders[full.orders["customer_id"] == customer_id]
    t = full.tickets[full.tickets["customer_id"] == customer_id]
    c = full.campaign_contacts[full.campaign_contacts["customer_id"] == customer_id]
    rows = [
        pd.DataFrame({"when": o["placed_at"], "what": "order",
                      "detail": o["channel"] + " · " + o["status"]}),
        pd.DataFrame({"when": t["opened_at"], "what": "incident",
                      "detail": t["category"] + " · " + t["status"]}),
        pd.DataFrame({"when": c["sent_at"], "what": "campaign",
                      "detail": _campaign_names(full, c["campaign_id"])
                      + c["converted_order_id"].notna().map({True: " · converted",
                                                             False: ""})}),
    ]
    rows = [r for r in rows if len(r)]
    if not rows:
        return pd.DataFrame(columns=["when", "what", "detail"])
    return pd.concat(rows).sort_values("when", ascending=False).reset_index(drop=True)


def _campaign_names(data: CRMData, ids: pd.Series) -> pd.Series:
    """The campaigns' names for their ids (the id itself where the name is missing)."""
    names = data.campaigns.drop_duplicates("campaign_id").set_index("campaign_id")["name"]
    return ids.map(names).fillna(ids.astype(str)).astype(str)
