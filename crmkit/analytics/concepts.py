"""What a CRM is, on data: its three areas, its modules and its types of model.

A CRM manages three areas (seed 000): commercial management, marketing and
after-sales service. Its software has modules (seed 002): customers, sales
(the pipeline of open, won and lost negotiations) and marketing (extracting
customers with common traits for a campaign). Its models (seed 004) are
analytical, marketing, service/support, social and collaborative databases.

>>> from crmkit.dataset.synth import generate
>>> data = generate("sports_shop", n_customers=300, seed=1)
>>> list(crm_areas(data).index)
['commercial', 'marketing', 'after_sales']
>>> pipe = sales_pipeline(data)
>>> set(pipe.index) <= {'prospect', 'qualification', 'proposal', 'negotiation', 'won', 'lost'}
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..dataset.schema import SCHEMA
from ..errors import ParameterError
from .tracking import order_value

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData


__all__ = [
    "crm_areas",
    "customer_base",
    "sales_pipeline",
    "win_rate",
    "select_customers",
    "spend_by_age_and_gender",
    "acquisition_report",
    "social_activity",
    "partner_file",
    "match_partner",
    "AGE_BANDS",
]

AGE_BANDS = (0, 25, 35, 45, 55, 65, 120)
_STAGES = ("prospect", "qualification", "proposal", "negotiation", "won", "lost")


def _revenue_per_customer(data: CRMData) -> pd.Series:
    value = order_value(data)
    o = data.orders.dropna(subset=["customer_id"])
    o = o[o["status"] != "cancelled"]
    return value.reindex(o["order_id"]).groupby(o["customer_id"].to_numpy()).sum()


def crm_areas(data: CRMData) -> pd.DataFrame:
    """One headline per area of a CRM: what each manages, measured on this shop.

    An area whose data the shop does not have (an order log has no campaigns
    or incidents) is left out rather than shown as zero.
    """
    o = data.orders
    value = order_value(data)
    ok = o["status"] != "cancelled"
    rows = {"commercial": (len(o), "revenue",
                           float(value.reindex(o.loc[ok, "order_id"]).sum()))}
    if data.has("campaign_contacts"):
        contacts = data.campaign_contacts
        rows["marketing"] = (len(contacts), "conversions",
                             float(contacts["converted_order_id"].notna().sum()))
    if data.has("tickets"):
        t = data.tickets
        resolution = (t["closed_at"] - t["opened_at"]).dt.total_seconds() / 3600
        rows["after_sales"] = (len(t), "median_resolution_hours",
                               float(resolution.median()) if resolution.notna().any()
                               else np.nan)
    return pd.DataFrame(list(rows.values()), columns=["records", "measure", "value"],
                        index=pd.Index(list(rows), name="area"))


def customer_base(data: CRMData) -> pd.Series:
    """The customers module: how many customers, buyers, repeat buyers and prospects."""
    data.require("customers", analysis="concepts.customer_base")
    orders = data.orders["customer_id"].dropna().value_counts()
    n = len(data.customers)
    buyers = int((orders >= 1).sum())
    return pd.Series({
        "customers": n, "buyers": buyers, "repeat_buyers": int((orders >= 2).sum()),
        "prospects": n - buyers,
        "guest_orders": int(data.orders["customer_id"].isna().sum()),
    })


def sales_pipeline(data: CRMData) -> pd.DataFrame:
    """The sales module: negotiations and their value at each stage."""
    data.require("pipeline", analysis="concepts.sales_pipeline")
    opp = data.opportunities
    g = opp.groupby("stage")["amount"]
    out = pd.DataFrame({"negotiations": g.size(), "amount": g.sum()})
    return out.reindex([s for s in _STAGES if s in out.index])


def win_rate(data: CRMData) -> float:
    """Share of closed negotiations that were won (open ones do not count)."""
    data.require("pipeline", analysis="concepts.win_rate")
    stage = data.opportunities["stage"]
    closed = stage.isin(["won", "lost"])
    return float((stage[closed] == "won").mean()) if closed.any() else float("nan")


def select_customers(data: CRMData, *, min_orders: int = 0, segment: str | None = None,
                     city: str | None = None, needs: tuple[str, ...] = (),
                     consent: str | None = None) -> pd.DataFrame:
    """The marketing module: extract customers who share traits, for a campaign.

    Parameters
    ----------
    min_orders : customers with at least this many orders.
    segment, city : keep only this segment / city.
    needs : customer fields that must be known (e.g. ``("phone",)`` for a call campaign).
    consent : ``"email"`` or ``"phone"``: keep only customers who agreed to it.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("boutique", n_customers=200, seed=1)
    >>> sel = select_customers(data, min_orders=2, needs=("phone",), consent="phone")
    >>> bool(sel["phone"].notna().all() and (sel["orders"] >= 2).all())
    True
    >>> select_customers(data, needs=("shoe_size",))
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: needs='shoe_size' is not a customer field; ...
    """
    data.require("customers", analysis="concepts.select_customers")
    c = data.customers.copy()
    fields = SCHEMA["customers"].column_names
    for f in needs:
        if f not in fields:
            raise ParameterError(f"needs={f!r} is not a customer field; use some of: "
                                 f"{', '.join(fields)}.")
    if consent not in (None, "email", "phone"):
        raise ParameterError(f"consent={consent!r} must be None, 'email' or 'phone'.")
    orders = data.orders["customer_id"].dropna().astype(int).value_counts()
    c["orders"] = orders.reindex(c["customer_id"], fill_value=0).to_numpy()
    keep = c["orders"] >= min_orders
    if segment is not None:
        keep &= c["segment"] == segment
    if city is not None:
        keep &= c["city"] == city
    for f in needs:
        keep &= c[f].notna()
    if consent is not None:
        keep &= c[f"{consent}_consent"]
    return c[keep].reset_index(drop=True)


def spend_by_age_and_gender(data: CRMData, *, min_customers: int = 5) -> pd.DataFrame:
    """Analytical CRM: average spend per customer by age band and gender.

    Links buying habits with demographics; only customers whose birth date
    and gender the shop knows (data level 3) can be placed. Cells with fewer
    than ``min_customers`` customers are left empty: an average of one or two
    people is not a trend.
    """
    data.require("customers", analysis="concepts.spend_by_age_and_gender")
    c = data.customers.dropna(subset=["birth_date", "gender"]).set_index("customer_id")
    ref = pd.Timestamp(data.manifest.get("end", data.orders["placed_at"].max()))
    age = (ref - c["birth_date"]).dt.days / 365.25
    labels = [f"{a}-{b - 1}" if b < 120 else f"{a}+" for a, b in zip(AGE_BANDS[:-1],
                                                                      AGE_BANDS[1:],
                                                                      strict=True)]
    band = pd.cut(age, AGE_BANDS, right=False, labels=labels)
    spend = _revenue_per_customer(data).reindex(c.index, fill_value=0.0)
    table = pd.DataFrame({"band": band, "gender": c["gender"], "spend": spend})
    mean = table.pivot_table(index="band", columns="gender", values="spend", aggfunc="mean",
                             observed=False)
    size = table.pivot_table(index="band", columns="gender", values="spend", aggfunc="size",
                             observed=False).reindex_like(mean)
    return mean.where(size >= min_customers)


def acquisition_report(data: CRMData) -> pd.DataFrame:
    """Marketing CRM: customers and revenue by how customers heard of the shop."""
    data.require("customers", analysis="concepts.acquisition_report")
    c = data.customers.set_index("customer_id")
    spend = _revenue_per_customer(data).reindex(c.index, fill_value=0.0)
    channel = c["acquisition_channel"].fillna("unknown")
    out = pd.DataFrame({"customers": channel.value_counts(),
                        "revenue": spend.groupby(channel).sum()})
    out["revenue_per_customer"] = out["revenue"] / out["customers"]
    return out.sort_values("revenue", ascending=False)


def social_activity(data: CRMData) -> pd.DataFrame:
    """Social CRM: visits and orders that came from social networks, by month."""
    data.require("web", analysis="concepts.social_activity")
    s = data.web_sessions
    if s.empty:
        return pd.DataFrame(columns=["visits", "orders", "conversion"])
    social = s[s["traffic_source"] == "social"]
    month = social["started_at"].dt.to_period("M")
    out = pd.DataFrame({"visits": social.groupby(month).size(),
                        "orders": social["converted_order_id"].notna().groupby(month).sum()})
    out["conversion"] = out["orders"] / out["visits"]
    return out


def partner_file(data: CRMData, *, share: float = 0.3, size: int | None = None,
                 seed: int = 0) -> pd.DataFrame:
    """A partner company's customer file (e.g. a gym's) that shares some of our customers.

    Collaborative databases hold customer data gathered by two or more
    companies. The partner knows ``share`` of our customers with an e-mail, and
    adds its own; it records an interest we do not know.
    """
    data.require("customers", analysis="concepts.partner_file")
    if not 0 <= share <= 1:
        raise ParameterError(f"share={share!r} must be between 0 and 1.")
    rng = np.random.default_rng(seed)
    ours = data.customers.dropna(subset=["email"])
    shared = ours.sample(frac=share, random_state=rng) if len(ours) else ours
    n_own = size if size is not None else len(shared)
    own_ids = rng.integers(10**6, 10**7, n_own)
    partner = pd.DataFrame({
        "email": pd.concat([shared["email"].str.upper(),  # the partner writes e-mails in capitals
                            pd.Series([f"member{i}@example.org" for i in own_ids])],
                           ignore_index=True),
        "interest": rng.choice(["running", "yoga", "swimming", "cycling", "fitness"],
                               len(shared) + n_own),
    })
    return partner.sample(frac=1, random_state=rng).reset_index(drop=True)


def match_partner(data: CRMData, partner: pd.DataFrame) -> pd.DataFrame:
    """Our customers found in a partner's file, matched on normalised e-mail."""
    data.require("customers", analysis="concepts.match_partner")
    ours = data.customers.dropna(subset=["email"])
    key = ours["email"].str.strip().str.lower()
    theirs = partner.assign(_key=partner["email"].str.strip().str.lower())
    matched = ours.assign(_key=key).merge(theirs.drop(columns="email"), on="_key")
    return matched.drop(columns="_key")
