"""Listening to people outside the till: newsletter, search terms, social media,
influencers, surveys, and the store's door counter.

These are the segmentation tools of unit 3 of the course map, measured on the
shop's data (tables of :mod:`crmkit.dataset.social`); each function says which
tables it needs, and a shop without them gets one clear ``MissingTableError``.

>>> import pandas as pd
>>> from crmkit.dataset.crmdata import CRMData
>>> orders = pd.DataFrame({"order_id": [1, 2, 3], "customer_id": pd.array([7, 7, None]),
...     "channel": ["store"] * 3, "status": ["delivered"] * 3,
...     "placed_at": pd.to_datetime(["2025-01-02 10:00", "2025-01-02 12:00", "2025-02-01 11:00"])})
>>> door = pd.DataFrame({"date": pd.to_datetime(["2025-01-02", "2025-02-01"]), "visits": [8, 2]})
>>> store_footfall(CRMData({"orders": orders, "store_visits": door})).to_dict("list")
{'visits': [8, 2], 'receipts': [2, 1], 'conversion_rate': [0.25, 0.5]}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData

__all__ = ["newsletter_growth", "subscriber_buyers", "search_terms", "search_trends",
           "mentions_by_week", "keyword_alerts", "share_reach", "influencer_report",
           "net_promoter", "store_footfall", "walk_outs"]


def _month(ts: pd.Series) -> pd.Series:
    month: pd.Series = ts.dt.to_period("M").dt.to_timestamp()
    return month


# ----------------------------------------------------------------------------- newsletter
def newsletter_growth(data: CRMData) -> pd.DataFrame:
    """Per month: new subscribers, those who left, and subscribers at the month's end.

    >>> import pandas as pd
    >>> from crmkit.dataset.crmdata import CRMData
    >>> nl = pd.DataFrame({"subscriber_id": [1, 2, 3], "customer_id": pd.array([5, None, None]),
    ...     "subscribed_at": pd.to_datetime(["2025-01-03", "2025-01-20", "2025-02-02"]),
    ...     "unsubscribed_at": pd.to_datetime([None, "2025-02-10", None])})
    >>> o = pd.DataFrame({"order_id": [1]})
    >>> newsletter_growth(CRMData({"orders": o, "newsletter": nl})).to_dict("list")
    {'joined': [2, 1], 'left': [0, 1], 'subscribers': [2, 2]}
    """
    data.require("newsletter", analysis="the newsletter")
    nl = data.newsletter
    joined = nl.groupby(_month(nl["subscribed_at"])).size()
    gone = nl.dropna(subset=["unsubscribed_at"])
    left = gone.groupby(_month(gone["unsubscribed_at"])).size()
    months = joined.index.union(left.index)
    out = pd.DataFrame({"joined": joined.reindex(months, fill_value=0),
                        "left": left.reindex(months, fill_value=0)}).astype(int)
    out["subscribers"] = (out["joined"] - out["left"]).cumsum()
    out.index.name = "month"
    return out


def subscriber_buyers(data: CRMData) -> pd.Series:
    """Subscribers still subscribed, by what they are to the shop: ``buyer`` (a customer
    with an order), ``customer_no_order`` and ``never_bought`` (no customer record): the
    last two are potential customers the newsletter already reaches.

    >>> import pandas as pd
    >>> from crmkit.dataset.crmdata import CRMData
    >>> nl = pd.DataFrame({"subscriber_id": [1, 2, 3, 4], "customer_id": pd.array([5, 6, None, 5]),
    ...     "subscribed_at": pd.to_datetime(["2025-01-03"] * 4),
    ...     "unsubscribed_at": pd.to_datetime([None, None, None, "2025-03-01"])})
    >>> o = pd.DataFrame({"order_id": [1], "customer_id": pd.array([5])})
    >>> subscriber_buyers(CRMData({"orders": o, "newsletter": nl})).to_dict()
    {'buyer': 1, 'customer_no_order': 1, 'never_bought': 1}
    """
    data.require("newsletter", analysis="the newsletter")
    nl = data.newsletter[data.newsletter["unsubscribed_at"].isna()]
    buyers = set(data.orders["customer_id"].dropna())
    kind = np.where(nl["customer_id"].isna(), "never_bought",
                    np.where(nl["customer_id"].isin(buyers), "buyer", "customer_no_order"))
    counts = pd.Series(kind).value_counts()
    return counts.reindex(["buyer", "customer_no_order", "never_bought"], fill_value=0
                          ).astype(int).rename("subscribers")


# ----------------------------------------------------------------------------- search
def _referred(data: CRMData) -> pd.DataFrame:
    data.require("search", analysis="search terms")
    s = data.web_sessions.set_index("session_id")
    r = data.web_referrals.dropna(subset=["search_term"]).set_index("session_id")
    joined: pd.DataFrame = r.join(s[["traffic_source", "started_at", "converted_order_id"]],
                                  how="inner")
    return joined


def search_terms(data: CRMData, *, source: str | None = "organic") -> pd.DataFrame:
    """Per search term (from ``source`` visits; ``None``: every search visit): visits,
    orders and conversion rate, most visits first. What SEO work is judged by.

    >>> import pandas as pd
    >>> from crmkit.dataset.crmdata import CRMData
    >>> s = pd.DataFrame({"session_id": [1, 2, 3], "traffic_source": ["organic"] * 3,
    ...     "started_at": pd.to_datetime(["2025-01-01"] * 3),
    ...     "converted_order_id": pd.array([10, None, None])})
    >>> r = pd.DataFrame({"session_id": [1, 2, 3], "referrer": ["google.es"] * 3,
    ...                   "search_term": ["a", "a", "b"]})
    >>> o = pd.DataFrame({"order_id": [10]})
    >>> search_terms(CRMData({"orders": o, "web_sessions": s, "web_referrals": r})).to_dict("list")
    {'visits': [2, 1], 'orders': [1, 0], 'conversion_rate': [0.5, 0.0]}
    """
    r = _referred(data)
    if source is not None:
        r = r[r["traffic_source"] == source]
    g = r.groupby("search_term")
    out = pd.DataFrame({"visits": g.size(), "orders": g["converted_order_id"].count()})
    out["conversion_rate"] = out["orders"] / out["visits"]
    return out.sort_values(["visits", "orders"], ascending=False, kind="stable")


def search_trends(data: CRMData) -> pd.DataFrame:
    """Search visits per month (rows) and term (columns), as Google Trends shows interest:
    each term scaled so its busiest month is 100."""
    r = _referred(data)
    table = r.groupby([_month(r["started_at"]), "search_term"]).size().unstack(fill_value=0)
    table.index.name = "month"
    return (table / table.max() * 100).round(0).astype(int)


# ----------------------------------------------------------------------------- social media
def mentions_by_week(data: CRMData, *, keyword: str | None = None) -> pd.DataFrame:
    """Mentions per week (Monday first) by sentiment; ``keyword`` keeps only its posts."""
    data.require("listening", analysis="social-media listening")
    m = data.social_mentions
    if keyword is not None:
        m = m[m["keyword"] == keyword]
    week = m["posted_at"].dt.to_period("W-SUN").dt.start_time
    out = m.groupby([week, "sentiment"]).size().unstack(fill_value=0)
    out = out.reindex(columns=["positive", "neutral", "negative"], fill_value=0)
    out.index.name = "week"
    full = pd.date_range(out.index.min(), out.index.max(), freq="7D") if len(out) else out.index
    weeks: pd.DataFrame = out.reindex(full, fill_value=0).rename_axis("week")
    return weeks


def keyword_alerts(data: CRMData, *, keyword: str = "brand", factor: float = 3.0,
                   minimum: int = 5) -> pd.DataFrame:
    """The weeks a keyword alert fires: negative mentions of ``keyword`` at least
    ``minimum`` and more than ``factor`` times the keyword's median week.

    >>> import pandas as pd
    >>> from crmkit.dataset.crmdata import CRMData
    >>> days = ["2025-01-06", "2025-01-13"] + ["2025-01-20"] * 6 + ["2025-01-27"]
    >>> m = pd.DataFrame({"posted_at": pd.to_datetime(days), "sentiment": ["negative"] * 9,
    ...                   "keyword": ["brand"] * 9})
    >>> keyword_alerts(CRMData({"orders": pd.DataFrame({"order_id": [1]}),
    ...                         "social_mentions": m})).index.strftime("%Y-%m-%d").tolist()
    ['2025-01-20']
    """
    weeks = mentions_by_week(data, keyword=keyword)
    negative = weeks["negative"]
    threshold = max(float(minimum), factor * float(negative.median()) if len(negative) else 0)
    fired = weeks[negative > threshold].copy()
    fired["threshold"] = threshold
    return fired


def share_reach(data: CRMData) -> pd.DataFrame:
    """Per network: shares of the shop's posts, and the followers they could reach."""
    data.require("listening", analysis="social sharing")
    shares = data.social_mentions[data.social_mentions["kind"] == "share"]
    g = shares.groupby("network")
    return pd.DataFrame({"shares": g.size(), "followers": g["followers"].sum()}
                        ).sort_values("followers", ascending=False)


# ----------------------------------------------------------------------------- influencers
def influencer_report(data: CRMData) -> pd.DataFrame:
    """Per influencer code: orders, buyers, revenue, new buyers (whose first order
    carried the code), posts and followers reached."""
    from .kpis import line_revenue

    data.require("influencers", analysis="influencers")
    io = data.influencer_orders
    revenue = line_revenue(data).groupby(data.order_lines["order_id"]).sum()
    o = data.orders.set_index("order_id")
    io = io.assign(revenue=io["order_id"].map(revenue).fillna(0.0),
                   customer_id=io["order_id"].map(o["customer_id"]))
    first = data.orders.dropna(subset=["customer_id"]).sort_values("placed_at").drop_duplicates(
        "customer_id")["order_id"]
    g = io.groupby("influencer_code")
    out = pd.DataFrame({"orders": g.size(), "buyers": g["customer_id"].nunique(),
                        "new_buyers": io[io["order_id"].isin(first)].groupby(
                            "influencer_code").size(),
                        "revenue": g["revenue"].sum()})
    if data.has("listening"):
        posts = data.social_mentions.dropna(subset=["influencer_code"]).groupby(
            "influencer_code")
        out["posts"] = posts.size()
        out["followers"] = posts["followers"].sum()
    return out.fillna(0).astype({"orders": int, "buyers": int, "new_buyers": int}
                                ).sort_values("revenue", ascending=False)


# ----------------------------------------------------------------------------- surveys
def net_promoter(data: CRMData, *, by: str | None = None) -> pd.DataFrame:
    """Promoters (9-10), passives (7-8), detractors (0-6) and the Net Promoter Score
    (% promoters − % detractors, from −100 to 100), overall or ``by`` a customer column.

    >>> import pandas as pd
    >>> from crmkit.dataset.crmdata import CRMData
    >>> sv = pd.DataFrame({"customer_id": [1, 2, 3, 4], "score": [10, 9, 7, 3]})
    >>> net_promoter(CRMData({"orders": pd.DataFrame({"order_id": [1]}), "surveys": sv}))
           answers  promoters  passives  detractors   nps
    total        4          2         1           1  25.0
    """
    data.require("surveys", analysis="surveys")
    sv = data.surveys
    key = (sv["customer_id"].map(data.customers.set_index("customer_id")[by])
           if by is not None else pd.Series("total", index=sv.index))
    kind = pd.cut(sv["score"], [-1, 6, 8, 10], labels=["detractors", "passives", "promoters"])
    t = pd.crosstab(key.fillna("unknown"), kind).reindex(
        columns=["promoters", "passives", "detractors"], fill_value=0)
    t.insert(0, "answers", t.sum(axis=1))
    t["nps"] = ((t["promoters"] - t["detractors"]) / t["answers"] * 100).round(1)
    t.columns.name = None
    t.index.name = by
    return t


# ----------------------------------------------------------------------------- the store's door
def store_footfall(data: CRMData, *, freq: str = "MS") -> pd.DataFrame:
    """Per period (month by default): people counted at the door, receipts at the till
    (store orders) and the store's conversion rate = receipts ÷ visits."""
    data.require("store_visits", analysis="store footfall")
    v = data.store_visits
    visits = v.groupby(pd.Grouper(key="date", freq=freq))["visits"].sum()
    store = data.orders[data.orders["channel"] == "store"]
    receipts = store.groupby(pd.Grouper(key="placed_at", freq=freq)).size()
    out = pd.DataFrame({"visits": visits}).join(receipts.rename("receipts")).fillna(0)
    out = out.astype(int)
    out["conversion_rate"] = out["receipts"] / out["visits"].where(out["visits"] > 0)
    out.index.name = "month" if freq == "MS" else "period"
    return out


def walk_outs(data: CRMData) -> pd.Series:
    """Per month: people who came into the store and left without a receipt (the till's
    abandoned carts)."""
    f = store_footfall(data)
    return (f["visits"] - f["receipts"]).rename("walk_outs")
