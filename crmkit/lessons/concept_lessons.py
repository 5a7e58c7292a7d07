"""Sections that teach the course texts' remaining concepts on the shop's data: the
tables they show and their exercises, one tuple per notebook (``EXERCISES["01"]``...),
appended to each lesson's exercise book.

>>> from crmkit.dataset.synth import generate
>>> from crmkit.grading.keys import answer
>>> from crmkit.lessons.exercises import ExerciseBook
>>> data = generate("boutique", n_customers=300, seed=1)
>>> book = ExerciseBook(data, EXERCISES["04"], lang="en")
>>> book.judge("till_conversion", answer(book, "till_conversion", EXERCISES["04"])).status
'correct'
>>> book.judge("seo_best_term", "x").status  # a store without a web shop has no searches
'skipped'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..analytics import organisation as org
from ..analytics import outreach
from ..dataset.crmdata import CRMData
from ..dataset.synth import generate
from ..i18n import format_message, t
from .exercises import Exercise
from .judgement import letters

if TYPE_CHECKING:
    from ..warehouse.connection import WarehouseLike
    from .lesson02 import Workshop
    from .lesson03 import Lesson

__all__ = ["ACTIVITY_SHOPS", "EXERCISES", "FIVE_SHOPS_CUSTOMERS", "five_shops", "why_sentences",
           "handoff_table", "luxury_audience", "campaign_share",
           "store_kpis", "STORE_KPIS", "margin_by_month", "month_label", "role_label"]

#: The five businesses of Actividad 6.5 (course text 000) and the profile of each.
ACTIVITY_SHOPS = {"fashion_chain": "Inditex", "sports_shop": "Tienda de Deportes Zeus",
                  "frozen_foods": "Fripisa", "boutique": "Mabenka",
                  "ice_cream": "Helados Romero"}


#: Size of each shop's customer file in the side-by-side view of the five shops.
FIVE_SHOPS_CUSTOMERS = 400


def five_shops(*, seed: int = 0, start: str = "2024-01-01", end: str = "2025-12-31",
               n_customers: int = FIVE_SHOPS_CUSTOMERS) -> pd.DataFrame:
    """The five shops of Actividad 6.5 side by side, each generated with the same seed,
    period and customer file size: what each would put in a warehouse and mine.

    >>> five_shops(seed=1, n_customers=60).loc["ice_cream", "business"]
    'Helados Romero'
    """
    return _five_shops(int(seed), str(start), str(end), int(n_customers)).copy()


@cache
def _five_shops(seed: int, start: str, end: str, n_customers: int) -> pd.DataFrame:
    rows = {}
    for profile, business in ACTIVITY_SHOPS.items():
        d = generate(profile, n_customers=n_customers, seed=seed, start=start, end=end)
        o = d.orders
        months = o.groupby(o["placed_at"].dt.month).size()
        counts = o["customer_id"].value_counts()
        rows[profile] = {
            "business": business,
            "channels": int(o["channel"].nunique()),
            "orders": len(o),
            "guest_share": float(o["customer_id"].isna().mean()),
            "repeat_buyers": int((counts >= 2).sum()),
            "peak_month_share": float(months.max() / months.sum()),
            "tables": sum(1 for v in d.tables.values() if len(v)),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("profile")


def why_sentences(shops: pd.DataFrame, lang: str = "en") -> list[str]:
    """One sentence per shop: why a warehouse, why data mining, read from its figures."""
    out = []
    for _, r in shops.iterrows():
        wh = ("msg.why_wh_channels" if r["channels"] > 1 else "msg.why_wh_history")
        dm = ("msg.why_dm_anonymous" if r["guest_share"] > 0.5 else "msg.why_dm_customers")
        out.append(format_message(t("msg.why_shop", lang), lang, business=r["business"],
                                  warehouse=format_message(t(wh, lang), lang,
                                                           channels=int(r["channels"]),
                                                           tables=int(r["tables"])),
                                  mining=format_message(t(dm, lang), lang,
                                                        share=r["guest_share"],
                                                        repeat=int(r["repeat_buyers"]))))
    return out


def handoff_table(moves: pd.Series, lang: str = "en") -> pd.DataFrame:
    """The hand-offs of :func:`crmkit.analytics.organisation.handoffs` with each pair of
    roles written in ``lang`` ("operator → technician")."""
    from ..i18n import catalog

    def role(key: object) -> str:
        return t(f"value.{key}", lang) if f"value.{key}" in catalog() else str(key)

    labels = [f"{role(a)} → {role(b)}" for a, b in moves.index]
    return pd.DataFrame({"handoffs": moves.to_numpy()},
                        index=pd.Index(labels, name="role_pair"))


def luxury_audience(data: CRMData, *, top: float = 0.1) -> int:
    """Known customers who bought at least one of the dearest products (top ``top`` share
    of list prices): the audience of a one-by-one luxury promotion."""
    lux = org.luxury_buyers(data, top=top)
    lines = data.order_lines[data.order_lines["product_id"].isin(lux.index)]
    who = lines["order_id"].map(data.orders.set_index("order_id")["customer_id"])
    return int(who.dropna().nunique())


def campaign_share(data: CRMData) -> float:
    """Share of the revenue from orders attributed to a campaign: the part of sales a change
    of the marketing budget moves in the forecast's scenarios."""
    from ..analytics.tracking import order_value

    value = order_value(data)
    camp = data.orders.set_index("order_id")["campaign_id"].reindex(value.index)
    return float(value[camp.notna()].sum() / value.sum()) if value.sum() else 0.0


def margin_by_month(warehouse: WarehouseLike) -> pd.DataFrame:
    """Revenue, cost and gross margin per month, from the warehouse's sales fact: the first
    report of a Business Intelligence tool."""
    from ..warehouse import query

    return query(warehouse, """
        SELECT make_date(date_key // 10000, (date_key // 100) % 100, 1) AS month,
               sum(net_amount) AS revenue,
               sum(cost_amount) AS cost, sum(net_amount) - sum(cost_amount) AS margin
        FROM marts.fact_order_line GROUP BY ALL ORDER BY month""").set_index("month")


#: The store's monthly KPIs compared by the ``store_kpi_change`` exercise.
STORE_KPIS = ("visits", "conversion_rate", "average_receipt")


def store_kpis(data: CRMData) -> pd.DataFrame:
    """Per month: door visits, the till's conversion rate and the average receipt."""
    from ..analytics.tracking import order_value

    f = outreach.store_footfall(data)
    store = data.orders[data.orders["channel"] == "store"]
    value = order_value(data).reindex(store["order_id"]).fillna(0.0).to_numpy()
    revenue = pd.Series(value, index=store["placed_at"].dt.to_period("M").dt.to_timestamp()
                        ).groupby(level=0).sum()
    f["average_receipt"] = revenue.reindex(f.index) / f["receipts"].where(f["receipts"] > 0)
    return f


def _store_change(data: CRMData) -> pd.Series:
    """Relative change of each store KPI from the same month a year before to the last."""
    kpis = store_kpis(data)[list(STORE_KPIS)].astype(float)
    ratio: pd.Series = kpis.iloc[-1] / kpis.iloc[-13]
    return np.log(ratio).abs()


def _first_max(values: pd.Series) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[list(values.index).index(values.idxmax())]


def month_label(month: str | date, lang: str = "en") -> str:
    """A month as ``lang`` writes it (``March 2025``, ``marzo de 2025``)."""
    from ..i18n import format_date

    return format_date(month, lang, skeleton="yMMMM")


def role_label(key: object, lang: str = "en") -> str:
    """A category value of the data (a role, an option, a segment) as ``lang`` writes it.

    >>> role_label("technician", "es"), role_label("sales-02", "es")
    ('Técnico', 'sales-02')
    """
    from ..i18n import catalog

    return t(f"value.{key}", lang) if f"value.{key}" in catalog() else str(key)


def _role_labels(keys: Iterable[object], lang: str) -> list[str]:
    return [role_label(k, lang) for k in keys]


def _late_by_owner(data: CRMData) -> pd.Series:
    """Late follow-ups of each salesperson on the shared agenda."""
    agenda = org.shared_agenda(data)
    follow = agenda[agenda["kind"] == "negotiation"]
    return follow.groupby("owner")["late"].sum().sort_index()


def _again_by_option(data: CRMData) -> pd.Series:
    return org.customised(data)["bought_again"].sort_index()


def _views(data: CRMData) -> pd.Series:
    return org.two_views(data)["share_of_revenue"]


def _last_margins(ws: Workshop) -> pd.Series:
    return margin_by_month(ws.warehouse)["margin"].tail(12)


def _last_walk_outs(data: CRMData) -> pd.Series:
    return outreach.walk_outs(data).tail(12)


def _nps_by_segment(data: CRMData) -> pd.Series:
    scores = data.surveys.merge(data.customers[["customer_id", "segment"]])
    return scores.groupby("segment")["score"].agg(
        lambda s: ((s >= 9).mean() - (s <= 6).mean()) * 100).sort_index()


def _influencers(data: CRMData) -> pd.Series:
    return outreach.influencer_report(data)["new_buyers"].sort_index()


def _decide(name: str, options: Callable[[Any, str], Mapping[str, str]],
            best: Callable[[Any], Any], **kw: Any) -> Exercise:
    from .judgement import decide

    return decide(name, options, best, **kw)


def _ex(name: str, solve: Callable[[Any], Any], **kw: Any) -> Exercise:
    """A compute exercise; its title and hints are the catalog's ``exercise.<name>.*``."""
    return Exercise(name, solve, **kw)


# ----------------------------------------------------------------------------- notebook 01
_01 = (
    _decide("organise_by", lambda d, lang: letters([t("judge.by_product", lang),
                                                    t("judge.by_customer", lang)]),
            lambda d: "b" if _views(d)["repeat_buyers"] > _views(d)["best_category"] else "a",
            needs="profitability"),
    _ex("repeat_revenue_share",
        lambda d: float(_views(d)["repeat_buyers"]),
        needs="sales", rtol=1e-4),
    _ex("crm_users", lambda d: int(org.crm_people(d).sum()), needs="incidents"),
    _decide("agenda_help", lambda d, lang: letters(list(_late_by_owner(d).index)),
            lambda d: _first_max(_late_by_owner(d)), needs="pipeline"),
    _ex("handoffs_total", lambda d: int(org.handoffs(d).sum()), needs="incidents"),
    _ex("newsletter_prospects",
        lambda d: int(org.potential_customers(d)["newsletter_no_order"]), needs="newsletter"),
    _ex("luxury_audience", luxury_audience, needs="profitability"),
    _decide("customisation_to_promote",
            lambda d, lang: letters(_role_labels(_again_by_option(d).index, lang)),
            lambda d: _first_max(_again_by_option(d)), needs="customisation"),
    _ex("one_to_one_ready", lambda d: len(org.one_to_one_offers(d)), needs="customer_habits"),
)

# ----------------------------------------------------------------------------- notebook 02
_02 = (
    _ex("romero_guest_share",
        lambda ws: float(five_shops(seed=ws.seed, start=ws.crm.manifest.get("start", "2024-01-01"),
                                    end=ws.crm.manifest.get("end", "2025-12-31")
                                    )["guest_share"]["ice_cream"]), rtol=1e-4),
    _decide("bi_weakest_month",
            lambda ws, lang: letters([month_label(m, lang) for m in _last_margins(ws).index]),
            lambda ws: "abcdefghijklmnopqrstuvwxyz"[
                list(_last_margins(ws).index).index(_last_margins(ws).idxmin())]),
)

# ----------------------------------------------------------------------------- notebook 03


def _scenarios(ctx: Lesson) -> pd.DataFrame:
    fc = ctx.model("forecast")
    return org.scenario_forecast(fc["ets"], budget_share=campaign_share(ctx.data))


_03 = (
    _decide("scenario_closest",
            lambda ctx, lang: letters([t(f"value.{k}", lang) for k in org.SCENARIOS]),
            lambda ctx: "abc"[int(np.argmin(np.abs(_scenarios(ctx)["total"].to_numpy()
                                                   - ctx.model("forecast")["actual"].sum())))]),
)

# ----------------------------------------------------------------------------- notebook 04


def _store_labels(lang: str) -> dict[str, Any]:
    return letters([t(f"judge.store_{k}", lang) for k in STORE_KPIS])


_04 = (
    _ex("store_busiest_month", lambda d: int(outreach.store_footfall(d)["visits"].max()),
        needs="store_visits"),
    _ex("till_conversion",
        lambda d: float(outreach.store_footfall(d)["receipts"].sum()
                        / outreach.store_footfall(d)["visits"].sum()),
        needs="store_visits", rtol=1e-4),
    _decide("store_kpi_change", lambda d, lang: _store_labels(lang),
            lambda d: _first_max(_store_change(d)), needs="store_visits"),
    _decide("staff_month",
            lambda d, lang: letters([month_label(m, lang) for m in _last_walk_outs(d).index]),
            lambda d: _first_max(_last_walk_outs(d)), needs="store_visits"),
    _ex("subscriber_buyer_share",
        lambda d: float(outreach.subscriber_buyers(d)["buyer"]
                        / outreach.subscriber_buyers(d).sum()), needs="newsletter", rtol=1e-4),
    _ex("freed_budget",
        lambda d: float(org.next_plan(_effectiveness(d)).query("decision == 'stop'")[
            "cost"].sum()), needs="marketing", rtol=1e-4),
    _ex("seo_best_term", lambda d: str(outreach.search_terms(d)["orders"].idxmax()),
        needs="search"),
    _ex("alert_negatives",
        lambda d: int(outreach.keyword_alerts(d)["negative"].sum()), needs="listening"),
    _ex("shares_reach", lambda d: int(outreach.share_reach(d)["followers"].sum()),
        needs="listening"),
    _decide("influencer_to_renew",
            lambda d, lang: letters(list(_influencers(d).index)),
            lambda d: _first_max(_influencers(d)), needs="influencers"),
    _decide("nps_segment",
            lambda d, lang: letters(_role_labels(_nps_by_segment(d).index, lang)),
            lambda d: _first_max(-_nps_by_segment(d)), needs="surveys"),
)


def _effectiveness(data: CRMData) -> pd.DataFrame:
    from ..analytics.campaigns import effectiveness

    return effectiveness(data)


#: The exercises of this module, by notebook, in the notebook's order.
EXERCISES = {"01": _01, "02": _02, "03": _03, "04": _04}
