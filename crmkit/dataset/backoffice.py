"""After-sales incidents, sales negotiations and stock, generated from the orders.

Used by :func:`crmkit.dataset.synth.generate`; each function takes the generator's
calendar and its own random stream.

Incidents follow the workflow of the course text (seed 002): registered by an
operator -> technical report by a technician -> report validated by a
validator -> response issued by customer service -> closed by the operator.
Each step takes an exponential time; one incident in ten stalls in one step
(forgotten, waiting for a part) for 8 to 60 times as long.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .schema import TICKET_STATES

if TYPE_CHECKING:
    from .profiles import ShopProfile
    from .synth import _Calendar

__all__ = ["tickets", "opportunities", "inventory", "numbered", "STEP_HOURS", "STATE_ROLES"]

DAY = 86_400
#: Mean hours spent before entering each state after the first.
STEP_HOURS = (30.0, 16.0, 24.0, 40.0)
STATE_ROLES = ("operator", "technician", "validator", "customer_service", "operator")
STUCK_SHARE = 0.1
PIPELINE = ("prospect", "qualification", "proposal", "negotiation")


def numbered(prefix: np.ndarray, number: np.ndarray, width: int = 2) -> pd.Series:
    """Labels such as ``operator-03``: a prefix, a dash and a zero-padded number.

    >>> numbered(np.array(["sales", "sales"]), np.array([1, 12])).tolist()
    ['sales-01', 'sales-12']
    """
    digits = pc.utf8_lpad(pa.array(np.asarray(number, dtype=np.int64)).cast(pa.string()),
                          width, "0")
    text = pc.binary_join_element_wise(pa.array(np.asarray(prefix, dtype=str)), digits, "-")
    return pd.Series(pd.array(text, dtype="str"))


def _dt(seconds: np.ndarray) -> np.ndarray:
    return seconds.astype("datetime64[s]").astype("datetime64[us]")


def _seconds(col: pd.Series) -> np.ndarray:
    """Seconds since the epoch; NaT becomes -1."""
    v = col.to_numpy().astype("datetime64[s]")
    out = v.astype(np.int64)
    out[np.isnat(v)] = -1
    return out


def tickets(rng: np.random.Generator, prof: ShopProfile, cal: _Calendar, orders: pd.DataFrame,
            lines: pd.DataFrame, customers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Incidents and their state changes."""
    end_s = cal.end_seconds
    ok = orders["status"].to_numpy() != "cancelled"
    returned = orders["status"].to_numpy() == "returned"
    p = np.where(returned, 0.6, prof.tickets_per_order)
    hit = np.flatnonzero(ok & (rng.random(len(orders)) < p))
    o = orders.iloc[hit]
    m = len(hit)
    remote = o["channel"].to_numpy() != "store"
    category = np.where(
        remote,
        rng.choice(["delivery", "defect", "billing", "complaint"], m, p=[0.35, 0.3, 0.15, 0.2]),
        rng.choice(["defect", "billing", "complaint"], m, p=[0.5, 0.2, 0.3]),
    )
    category = np.where(returned[hit], "return", category)
    delivered = _seconds(o["delivered_at"])
    ref = np.where(delivered > 0, delivered, _seconds(o["placed_at"]))
    opened = ref + (rng.exponential(2.0, m) * DAY).astype(np.int64) + 600
    first_line = lines.drop_duplicates("order_id").set_index("order_id")["product_id"]
    product = first_line.reindex(o["order_id"]).to_numpy()
    cust = o["customer_id"].to_numpy(dtype=float, na_value=np.nan)
    order_id = o["order_id"].to_numpy(dtype=float)

    # questions that concern no order
    k = max(int(round(m * 0.15)), 0)
    n_cust = len(customers)
    info_day = cal.draw_days(rng, 0, k)
    info_open = cal.seconds(info_day, rng.integers(9 * 3600, 20 * 3600, k))
    info_cust = rng.integers(1, n_cust + 1, k).astype(float)
    signup = ((customers["signup_date"] - cal.start).dt.days).to_numpy()
    info_cust[signup[info_cust.astype(int) - 1] > info_day] = np.nan

    opened = np.concatenate([opened, info_open])
    keep = opened < end_s
    category = np.concatenate([category, np.full(k, "information")])[keep]
    product = np.concatenate([product, np.full(k, np.nan)])[keep]
    cust = np.concatenate([cust, info_cust])[keep]
    order_id = np.concatenate([order_id, np.full(k, np.nan)])[keep]
    opened = opened[keep]
    n = len(opened)
    web = prof.channel_mix.get("web", 0) > 0
    channel = rng.choice(["phone", "email", "web_form", "store", "social"], n,
                         p=[0.35, 0.3, 0.15, 0.15, 0.05] if web else [0.45, 0.3, 0, 0.2, 0.05])
    priority = rng.choice(["low", "normal", "high"], n, p=[0.25, 0.6, 0.15])
    speed = np.select([priority == "high", priority == "low"], [0.5, 1.3], 1.0)

    # time to enter each later state; a few incidents stall in one step
    steps = rng.exponential(1.0, (n, 4)) * np.asarray(STEP_HOURS) * speed[:, None] + 0.25
    stuck = rng.random(n) < STUCK_SHARE
    stuck_step = rng.integers(0, 4, n)
    steps[np.flatnonzero(stuck), stuck_step[stuck]] *= rng.uniform(8, 60, int(stuck.sum()))
    times = np.concatenate([opened[:, None],
                            opened[:, None] + np.cumsum(steps * 3600, axis=1).astype(np.int64)],
                           axis=1)
    reached = times < end_s
    last = reached.sum(axis=1) - 1
    states = np.asarray(TICKET_STATES)
    closed = last == len(TICKET_STATES) - 1

    order = np.argsort(opened, kind="stable")
    ticket_id = np.empty(n, dtype=np.int64)
    ticket_id[order] = np.arange(1, n + 1)
    tick = pd.DataFrame({
        "ticket_id": ticket_id,
        "customer_id": pd.array(np.nan_to_num(cust).astype(np.int64), dtype="Int64"),
        "order_id": pd.array(np.nan_to_num(order_id).astype(np.int64), dtype="Int64"),
        "product_id": pd.array(np.nan_to_num(product).astype(np.int64), dtype="Int64"),
        "category": category.astype(str), "channel": channel.astype(str),
        "priority": priority.astype(str), "opened_at": _dt(opened),
        "status": states[last],
        "closed_at": pd.Series(_dt(times[:, -1])).where(closed).to_numpy(),
    })
    tick.loc[np.isnan(cust), "customer_id"] = pd.NA
    tick.loc[np.isnan(order_id), "order_id"] = pd.NA
    tick.loc[np.isnan(product), "product_id"] = pd.NA
    tick = tick.iloc[order].reset_index(drop=True)

    t_idx, s_idx = np.nonzero(reached)
    n_ops = max(2, min(12, n // 400 + 2))
    role = np.asarray(STATE_ROLES)[s_idx]
    staff = rng.integers(1, n_ops + 1, len(t_idx))
    events = pd.DataFrame({
        "ticket_id": ticket_id[t_idx], "state": states[s_idx],
        "occurred_at": _dt(times[t_idx, s_idx]), "actor_role": role,
        "actor_id": numbered(role, staff),
        "_step": s_idx,
    })
    events = events.sort_values(["occurred_at", "ticket_id", "_step"], kind="stable")
    events = events.drop(columns="_step").reset_index(drop=True)
    events.insert(0, "event_id", np.arange(1, len(events) + 1))
    return tick, events


def opportunities(rng: np.random.Generator, prof: ShopProfile, cal: _Calendar,
                  customers: pd.DataFrame) -> pd.DataFrame:
    """Sales negotiations (team kits, corporate orders, private shopping)."""
    years = cal.n_days / 365.25
    scale = len(customers) / prof.default_customers
    n = max(3, int(rng.poisson(prof.opportunities_per_year * years * scale)))
    day = rng.integers(0, cal.n_days, n)
    created = cal.seconds(day, rng.integers(9 * 3600, 19 * 3600, n))
    signup = ((customers["signup_date"] - cal.start).dt.days).to_numpy()
    cand = rng.integers(0, len(customers), n)
    has_cust = (rng.random(n) < 0.7) & (signup[cand] <= day)
    amount = np.round(prof.opportunity_value * rng.lognormal(-0.18, 0.6, n), 2)
    won = rng.random(n) < prof.win_rate
    cycle = (5 + rng.gamma(2.0, 12.0, n)) * DAY
    closed = created + cycle.astype(np.int64)
    is_closed = closed < cal.end_seconds
    elapsed = np.clip((cal.end_seconds - created) / cycle, 0, 0.999)
    stage = np.where(is_closed, np.where(won, "won", "lost"),
                     np.asarray(PIPELINE)[(elapsed * len(PIPELINE)).astype(int)])
    order = np.argsort(created, kind="stable")
    opp = pd.DataFrame({
        "opportunity_id": np.arange(1, n + 1),
        "customer_id": pd.array(np.where(has_cust, cand + 1, 0), dtype="Int64"),
        "created_at": _dt(created),
        "stage": stage,
        "amount": amount,
        "closed_at": pd.Series(_dt(closed)).where(is_closed).to_numpy(),
        "owner": numbered(np.full(n, "sales"), rng.integers(1, 4, n)),
    })
    opp.loc[~has_cust, "customer_id"] = pd.NA
    opp = opp.iloc[order].reset_index(drop=True)
    opp["opportunity_id"] = np.arange(1, n + 1)
    return opp


def inventory(prof: ShopProfile, cal: _Calendar, orders: pd.DataFrame, lines: pd.DataFrame,
              products: pd.DataFrame) -> pd.DataFrame:
    """Stock on hand per product and day under an order-up-to policy.

    Every day ``on_hand = previous + units_received - units_sold``, and stock
    never goes negative: when a day's sales would exceed it, an urgent
    delivery arrives the same day.
    """
    k, d = len(products), cal.n_days
    valid = orders.set_index("order_id")["status"] != "cancelled"
    placed = orders.set_index("order_id")["placed_at"]
    ok = valid.reindex(lines["order_id"]).to_numpy()
    day = ((placed.reindex(lines["order_id"]) - cal.start).dt.days).to_numpy()[ok]
    prod = lines["product_id"].to_numpy()[ok] - 1
    qty = lines["quantity"].to_numpy()[ok]
    sold = np.bincount(day * k + prod, qty, minlength=d * k).reshape(d, k).astype(np.int64)
    demand = sold.mean(axis=0) + 0.05
    top = np.ceil(demand * 21 + 5).astype(np.int64)
    low = np.ceil(demand * 7 + 2).astype(np.int64)
    on_hand = np.empty((d, k), dtype=np.int64)
    received = np.empty((d, k), dtype=np.int64)
    stock = top.copy()
    for t in range(d):
        rec = np.where(stock < low, top - stock, 0)
        rec += np.maximum(sold[t] - (stock + rec), 0)
        stock = stock + rec - sold[t]
        on_hand[t], received[t] = stock, rec
    dates = cal.start + pd.to_timedelta(np.repeat(np.arange(d), k), unit="D")
    return pd.DataFrame({
        "date": dates, "product_id": np.tile(products["product_id"].to_numpy(), d),
        "on_hand": on_hand.ravel(), "units_sold": sold.ravel(),
        "units_received": received.ravel(),
    })
