"""The five levels of customer data, measured: completeness and the actions they unlock.

The course text (seed 003) orders what a shop knows about its customers in
five levels, each unlocking new marketing actions:

1. identity (name, postal address, e-mail): direct mail and mailing;
2. contact (telephone): telemarketing;
3. profile (birth date, gender, education): segmentation;
4. campaign response (origin, response to campaigns): campaign impact and ROI;
5. habits (purchase habits, payment method): loyalty, and with all five,
   one-to-one (1x1) marketing.

>>> from crmkit.dataset.synth import generate
>>> data = generate("ice_cream", n_customers=300, seed=1)
>>> table = field_completeness(data)
>>> sorted(table["level"].unique().tolist())
[1, 2, 3, 4, 5]
>>> reach = reachable_by_action(data)
>>> list(reach.index)
['direct_mail', 'telemarketing', 'segmentation', 'campaign_roi', 'loyalty', 'one_to_one']
>>> bool(reach.loc["one_to_one", "customers"] <= reach.loc["loyalty", "customers"])
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..dataset.schema import LEVELS, SCHEMA

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData


__all__ = [
    "ACTIONS",
    "level_fields",
    "field_completeness",
    "level_completeness",
    "customer_levels",
    "reach_masks",
    "reachable_by_action",
]

#: action -> level that unlocks it
ACTIONS = {a: lv.number for lv in LEVELS.values() for a in lv.unlocks}


def level_fields() -> dict[int, list[str]]:
    """Customer fields of each level, as declared in :mod:`crmkit.dataset.schema`.

    >>> level_fields()[2]
    ['phone']
    """
    out: dict[int, list[str]] = {n: [] for n in LEVELS}
    for col in SCHEMA["customers"].columns:
        if col.level:
            out[col.level].append(col.name)
    return out


def field_completeness(data: CRMData) -> pd.DataFrame:
    """Share of customers for whom each levelled field is known."""
    data.require("customers", analysis="levels.field_completeness")
    c = data.customers
    rows = [
        {"level": lv, "field": f, "known": int(c[f].notna().sum()),
         "share": float(c[f].notna().mean()) if len(c) else 0.0}
        for lv, fields in level_fields().items() for f in fields
    ]
    return pd.DataFrame(rows)


def customer_levels(data: CRMData) -> pd.DataFrame:
    """One row per customer, one boolean column per level: is that level covered?

    A level is covered when the customer can be used for its action:

    - 1: a name and either a full postal address or an e-mail address;
    - 2: a telephone number;
    - 3: birth date and gender;
    - 4: the acquisition origin is known, or the customer was reached by a campaign;
    - 5: the payment method is known and the customer bought at least twice
      (habits need a history).
    """
    data.require("customers", analysis="levels.customer_levels")
    c = data.customers.set_index("customer_id")
    postal = c[["address", "city", "postal_code"]].notna().all(axis=1)
    l1 = c["last_name"].notna() & (postal | c["email"].notna())
    l2 = c["phone"].notna()
    l3 = c["birth_date"].notna() & c["gender"].notna()
    contacted = (c.index.isin(data.campaign_contacts["customer_id"])
                 if data.has("campaign_contacts") else np.zeros(len(c), dtype=bool))
    l4 = c["acquisition_channel"].notna() | contacted
    orders = data.orders["customer_id"].dropna().value_counts()
    l5 = c["preferred_payment_method"].notna() & (orders.reindex(c.index, fill_value=0) >= 2)
    return pd.DataFrame({1: l1, 2: l2, 3: l3, 4: l4, 5: l5}, index=c.index)


def level_completeness(data: CRMData) -> pd.DataFrame:
    """For each level: customers covered, share, and share covered *up to* it (all lower too).

    The cumulative column is the pyramid of the course text: each level
    builds on the ones below.
    """
    data.require("customers", analysis="levels.level_completeness")
    lv = customer_levels(data)
    n = max(len(lv), 1)
    cumulative = lv.cumprod(axis=1)
    return pd.DataFrame({
        "level": list(LEVELS),
        "name": [LEVELS[k].name for k in LEVELS],
        "customers": [int(lv[k].sum()) for k in LEVELS],
        "share": [float(lv[k].sum() / n) for k in LEVELS],
        "share_cumulative": [float(cumulative[k].sum() / n) for k in LEVELS],
    }).set_index("level")


def reach_masks(data: CRMData) -> pd.DataFrame:
    """One row per customer, one boolean column per action: can the action reach them?

    - direct mail: level 1 (post needs no consent; e-mail needs it);
    - telemarketing: level 2 and consent to be called;
    - segmentation: level 3; campaign ROI: level 4; loyalty: level 5;
    - one-to-one marketing: all five levels.
    """
    data.require("customers", analysis="levels.reach_masks")
    c = data.customers.set_index("customer_id")
    lv = customer_levels(data)
    postal = c[["address", "city", "postal_code"]].notna().all(axis=1)
    return pd.DataFrame({
        "direct_mail": lv[1] & (postal | (c["email"].notna() & c["email_consent"])),
        "telemarketing": lv[2] & c["phone_consent"],
        "segmentation": lv[3],
        "campaign_roi": lv[4],
        "loyalty": lv[5],
        "one_to_one": lv.all(axis=1),
    })


def reachable_by_action(data: CRMData) -> pd.DataFrame:
    """How many customers each marketing action can reach (see :func:`reach_masks`)."""
    data.require("customers", analysis="levels.reachable_by_action")
    reach = reach_masks(data)
    n = max(len(reach), 1)
    return pd.DataFrame({
        "level": [ACTIONS[a] for a in reach.columns],
        "customers": reach.sum().astype(int).to_numpy(),
        "share": (reach.sum() / n).to_numpy(),
    }, index=pd.Index(list(reach.columns), name="action"))
