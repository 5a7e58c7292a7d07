"""Sections that teach the course texts' remaining concepts on the shop's data: the
tables they show and their exercises, one tuple per notebook (``EXERCISES["01"]``...),
appended to each lesson's exercise book.

>>> from crmkit.dataset.synth import generate
>>> from crmkit.lessons.exercises import ExerciseBook, answer_key
>>> data = generate("boutique", n_customers=300, seed=1)
>>> book = ExerciseBook(data, EXERCISES["04"], lang="en")
>>> book.judge("till_conversion", answer_key(book, "till_conversion")).status
'correct'
>>> book.judge("seo_best_term", "x").status  # a store without a web shop has no searches
'skipped'
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from ..analytics import organisation as org
from ..analytics import outreach
from ..dataset.synth import generate
from ..i18n import format_message, t
from .exercises import Exercise
from .judgement import letters

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

    def role(key):
        return t(f"value.{key}", lang) if f"value.{key}" in catalog() else str(key)

    labels = [f"{role(a)} → {role(b)}" for a, b in moves.index]
    return pd.DataFrame({"handoffs": moves.to_numpy()},
                        index=pd.Index(labels, name="role_pair"))


def luxury_audience(data, *, top: float = 0.1) -> int:
    """Known customers who bought at least one of the dearest products (top ``top`` share
    of list prices): the audience of a one-by-one luxury promotion."""
    lux = org.luxury_buyers(data, top=top)
    lines = data.order_lines[data.order_lines["product_id"].isin(lux.index)]
    who = lines["order_id"].map(data.orders.set_index("order_id")["customer_id"])
    return int(who.dropna().nunique())


def campaign_share(data) -> float:
    """Share of the revenue from orders attributed to a campaign: the part of sales a change
    of the marketing budget moves in the forecast's scenarios."""
    from ..analytics.tracking import order_value

    value = order_value(data)
    camp = data.orders.set_index("order_id")["campaign_id"].reindex(value.index)
    return float(value[camp.notna()].sum() / value.sum()) if value.sum() else 0.0


def margin_by_month(warehouse) -> pd.DataFrame:
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


def store_kpis(data) -> pd.DataFrame:
    """Per month: door visits, the till's conversion rate and the average receipt."""
    from ..analytics.tracking import order_value

    f = outreach.store_footfall(data)
    store = data.orders[data.orders["channel"] == "store"]
    value = order_value(data).reindex(store["order_id"]).fillna(0.0).to_numpy()
    revenue = pd.Series(value, index=store["placed_at"].dt.to_period("M").dt.to_timestamp()
                        ).groupby(level=0).sum()
    f["average_receipt"] = revenue.reindex(f.index) / f["receipts"].where(f["receipts"] > 0)
    return f


def _store_change(data) -> pd.Series:
    """Relative change of each store KPI from the same month a year before to the last."""
    kpis = store_kpis(data)[list(STORE_KPIS)].astype(float)
    return np.log(kpis.iloc[-1] / kpis.iloc[-13]).abs()


def _first_max(values: pd.Series) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[list(values.index).index(values.idxmax())]


def month_label(month, lang: str = "en") -> str:
    """A month as ``lang`` writes it (``March 2025``, ``marzo de 2025``)."""
    from ..i18n import format_date

    return format_date(month, lang, skeleton="yMMMM")


def role_label(key, lang: str = "en") -> str:
    """A category value of the data (a role, an option, a segment) as ``lang`` writes it.

    >>> role_label("technician", "es"), role_label("sales-02", "es")
    ('Técnico', 'sales-02')
    """
    from ..i18n import catalog

    return t(f"value.{key}", lang) if f"value.{key}" in catalog() else str(key)


def _role_labels(keys, lang: str) -> list[str]:
    return [role_label(k, lang) for k in keys]


def _late_by_owner(data) -> pd.Series:
    """Late follow-ups of each salesperson on the shared agenda."""
    agenda = org.shared_agenda(data)
    follow = agenda[agenda["kind"] == "negotiation"]
    return follow.groupby("owner")["late"].sum().sort_index()


def _again_by_option(data) -> pd.Series:
    return org.customised(data)["bought_again"].sort_index()


def _views(data) -> pd.Series:
    return org.two_views(data)["share_of_revenue"]


def _last_margins(ws) -> pd.Series:
    return margin_by_month(ws.warehouse)["margin"].tail(12)


def _last_walk_outs(data) -> pd.Series:
    return outreach.walk_outs(data).tail(12)


def _nps_by_segment(data) -> pd.Series:
    scores = data.surveys.merge(data.customers[["customer_id", "segment"]])
    return scores.groupby("segment")["score"].agg(
        lambda s: ((s >= 9).mean() - (s <= 6).mean()) * 100).sort_index()


def _influencers(data) -> pd.Series:
    return outreach.influencer_report(data)["new_buyers"].sort_index()


def _decide(name, options, best, **kw) -> Exercise:
    from .judgement import decide

    return decide(name, options, best, **kw)


def _ex(name, solve, title, hints, **kw) -> Exercise:
    return Exercise(name, solve, title=title, hints=hints, **kw)


# ----------------------------------------------------------------------------- notebook 01
_01 = (
    _decide("organise_by", lambda d, lang: letters([t("judge.by_product", lang),
                                                    t("judge.by_customer", lang)]),
            lambda d: "b" if _views(d)["repeat_buyers"] > _views(d)["best_category"] else "a",
            needs="profitability",
            title=("Organise by product or by customer?", "¿Organizarse por producto o por "
                   "cliente?"),
            hints=(("Compare the share of revenue of the best category with that of the buyers "
                    "who came back.", "Compara la proporción de ingresos de la mejor categoría "
                    "con la de los compradores que volvieron."),
                   ("The larger share says which view explains more of this shop's sales.",
                    "La proporción mayor dice qué vista explica más ventas de esta tienda.")),
            rubric=("Compares the two shares of the table and explains what the customer-"
                    "centred model would change in the shop's daily work.", "Compara las dos "
                    "proporciones de la tabla y explica qué cambiaría en el trabajo diario de "
                    "la tienda el modelo orientado al cliente.")),
    _ex("repeat_revenue_share",
        lambda d: float(org.two_views(d).loc["repeat_buyers", "share_of_revenue"]),
        ("Revenue of the customers who came back", "Ingresos de los clientes que volvieron"),
        (("Read the customer view of the table above.",
          "Lee la vista por cliente de la tabla de arriba."),
         ("A share between 0 and 1: the revenue of buyers with two or more orders over all "
          "the revenue.", "Una proporción entre 0 y 1: los ingresos de los compradores con "
          "dos o más pedidos sobre todos los ingresos.")),
        needs="sales", rtol=1e-4),
    _ex("crm_users", lambda d: int(org.crm_people(d).sum()),
        ("People who work in the CRM", "Personas que trabajan en el CRM"),
        (("Count the different people of each role who move incidents, and the salespeople.",
          "Cuenta las personas distintas de cada rol que mueven incidencias, y los "
          "comerciales."),
         ("The table of people by role above has one row per role: add it up.",
          "La tabla de personas por rol de arriba tiene una fila por rol: súmala.")),
        needs="incidents"),
    _decide("agenda_help", lambda d, lang: letters(list(_late_by_owner(d).index)),
            lambda d: _first_max(_late_by_owner(d)), needs="pipeline",
            title=("The salesperson who needs help with the agenda",
                   "El comercial que necesita ayuda con la agenda"),
            hints=(("A follow-up is late when the negotiation was still open after it fell "
                    "due.", "Un seguimiento va con retraso si la negociación seguía abierta "
                    "después de vencer."),
                   ("Count the late follow-ups of each salesperson on the shared agenda.",
                    "Cuenta los seguimientos con retraso de cada comercial en la agenda "
                    "compartida.")),
            rubric=("Counts the late follow-ups per salesperson and names the one with most; "
                    "may weigh them against each one's negotiations.", "Cuenta los "
                    "seguimientos con retraso por comercial y señala el que más tiene; puede "
                    "compararlos con las negociaciones de cada uno.")),
    _ex("handoffs_total", lambda d: int(org.handoffs(d).sum()),
        ("Hand-offs the CRM carried", "Traspasos que llevó el CRM"),
        (("A hand-off is an incident passing from one role to another.",
          "Un traspaso es una incidencia que pasa de un rol a otro."),
         ("Add up the hand-offs of every pair of roles in the table above.",
          "Suma los traspasos de todos los pares de roles de la tabla de arriba.")),
        needs="incidents"),
    _ex("newsletter_prospects",
        lambda d: int(org.potential_customers(d)["newsletter_no_order"]),
        ("Subscribers who have not bought", "Suscriptores que no han comprado"),
        (("Keep the subscribers who are still subscribed.",
          "Quédate con los suscriptores que siguen suscritos."),
         ("Of those, count the ones who are not among the customers with an order.",
          "De ellos, cuenta los que no están entre los clientes con algún pedido.")),
        needs="newsletter"),
    _ex("luxury_audience", luxury_audience,
        ("Buyers of the dearest products", "Compradores de los productos más caros"),
        (("The dearest products are the top tenth by list price (the table above).",
          "Los productos más caros son la décima parte superior por precio de catálogo "
          "(la tabla de arriba)."),
         ("Count each known customer once, even if they bought several of them.",
          "Cuenta cada cliente conocido una sola vez, aunque comprara varios.")),
        needs="profitability"),
    _decide("customisation_to_promote",
            lambda d, lang: letters(_role_labels(_again_by_option(d).index, lang)),
            lambda d: _first_max(_again_by_option(d)), needs="customisation",
            title=("The customisation to promote", "La personalización que promocionar"),
            hints=(("The customer enters the data of a customised product: the shop keeps it "
                    "for future CRM.", "El cliente introduce los datos de un producto "
                    "personalizado: la tienda los guarda para futuros usos de CRM."),
                   ("Promote the option whose buyers came back most often, not the one with "
                    "most lines.", "Promociona la opción cuyos compradores volvieron más, no "
                    "la que tiene más líneas.")),
            rubric=("Compares the buyers who bought again after customising, per option, and "
                    "names the largest.", "Compara, por opción, los compradores que volvieron "
                    "a comprar tras personalizar y señala el mayor.")),
    _ex("one_to_one_ready", lambda d: len(org.one_to_one_offers(d)),
        ("Customers ready for 1×1 marketing", "Clientes listos para el marketing 1×1"),
        (("They need all five levels of data and consent to receive e-mail.",
          "Necesitan los cinco niveles de datos y el consentimiento para recibir correo."),
         ("The table of personal offers has one row per such customer.",
          "La tabla de ofertas personales tiene una fila por cada uno de esos clientes.")),
        needs="customer_habits"),
)

# ----------------------------------------------------------------------------- notebook 02
_02 = (
    _ex("romero_guest_share",
        lambda ws: float(five_shops(seed=ws.seed, start=ws.crm.manifest.get("start", "2024-01-01"),
                                    end=ws.crm.manifest.get("end", "2025-12-31")
                                    ).loc["ice_cream", "guest_share"]),
        ("Helados Romero's anonymous orders", "Los pedidos anónimos de Helados Romero"),
        (("The table of the five shops has one row per business.",
          "La tabla de las cinco tiendas tiene una fila por negocio."),
         ("A share between 0 and 1, from the row of Helados Romero (profile ice_cream).",
          "Una proporción entre 0 y 1, de la fila de Helados Romero (perfil ice_cream).")),
        rtol=1e-4),
    _decide("bi_weakest_month",
            lambda ws, lang: letters([month_label(m, lang) for m in _last_margins(ws).index]),
            lambda ws: "abcdefghijklmnopqrstuvwxyz"[
                list(_last_margins(ws).index).index(_last_margins(ws).idxmin())],
            title=("The month the BI report should flag", "El mes que debe señalar el informe "
                   "de BI"),
            hints=(("Look at the last twelve months of the monthly report.",
                    "Mira los doce últimos meses del informe mensual."),
                   ("Flag the month with the smallest gross margin.",
                    "Señala el mes con el menor margen bruto.")),
            rubric=("Reads the margin column (not the revenue) and names the weakest month; "
                    "may say whether cost or revenue made it weak.", "Lee la columna del margen "
                    "(no los ingresos) y señala el mes más flojo; puede decir si lo debilitó "
                    "el coste o los ingresos.")),
)

# ----------------------------------------------------------------------------- notebook 03


def _scenarios(ctx) -> pd.DataFrame:
    fc = ctx.model("forecast")
    return org.scenario_forecast(fc["ets"], budget_share=campaign_share(ctx.data))


_03 = (
    _decide("scenario_closest",
            lambda ctx, lang: letters([t(f"value.{k}", lang) for k in org.SCENARIOS]),
            lambda ctx: "abc"[int(np.argmin(np.abs(_scenarios(ctx)["total"].to_numpy()
                                                   - ctx.model("forecast")["actual"].sum())))],
            title=("The scenario that came true", "El escenario que se cumplió"),
            hints=(("The holdout's actual sales are known: compare them with each scenario's "
                    "total.", "Las ventas reales de la reserva se conocen: compáralas con el total "
                    "de cada escenario."),
                   ("The closest total, in absolute difference.",
                    "El total más cercano, en diferencia absoluta.")),
            rubric=("Compares the actual total with the three scenario totals and says what the "
                    "closest one implies about the sector and the economy in the holdout.",
                    "Compara el total real con los tres totales de escenario y dice qué supone "
                    "el más cercano sobre el sector y la economía en la reserva.")),
)

# ----------------------------------------------------------------------------- notebook 04


def _store_labels(lang):
    return letters([t(f"judge.store_{k}", lang) for k in STORE_KPIS])


_04 = (
    _ex("store_busiest_month", lambda d: int(outreach.store_footfall(d)["visits"].max()),
        ("Store footfall of the busiest month", "Afluencia de la tienda en su mes de más "
         "visitas"),
        (("The store's footfall table has one row per month.",
          "La tabla de afluencia de la tienda tiene una fila por mes."),
         ("Take the largest number of visits.", "Toma el mayor número de visitas.")),
        needs="store_visits"),
    _ex("till_conversion",
        lambda d: float(outreach.store_footfall(d)["receipts"].sum()
                        / outreach.store_footfall(d)["visits"].sum()),
        ("Conversion counted at the till", "Conversión contada en la caja"),
        (("Every receipt is a visit that bought.", "Cada tique es una visita que compró."),
         ("All the receipts over all the visits of the period, between 0 and 1.",
          "Todos los tiques sobre todas las visitas del periodo, entre 0 y 1.")),
        needs="store_visits", rtol=1e-4),
    _decide("store_kpi_change", lambda d, lang: _store_labels(lang),
            lambda d: _first_max(_store_change(d)), needs="store_visits",
            title=("The store KPI behind the change on a year before",
                   "El KPI de la tienda detrás del cambio respecto al año anterior"),
            hints=(("Compare the last month with the same month a year before.",
                    "Compara el último mes con el mismo mes del año anterior."),
                   ("Different units: compare relative changes, rises and falls alike.",
                    "Unidades distintas: compara cambios relativos, subidas y bajadas por "
                    "igual.")),
            rubric=("Gives each KPI's relative change and names the largest.",
                    "Da el cambio relativo de cada KPI y señala el mayor.")),
    _decide("staff_month",
            lambda d, lang: letters([month_label(m, lang) for m in _last_walk_outs(d).index]),
            lambda d: _first_max(_last_walk_outs(d)), needs="store_visits",
            title=("The month to add staff at the door", "El mes en que reforzar la puerta"),
            hints=(("A walk-out is a visitor counted at the door with no receipt at the till.",
                    "Una salida sin compra es un visitante contado en la puerta sin tique en la "
                    "caja."),
                   ("Visits less receipts, month by month over the last twelve months.",
                    "Visitas menos tiques, mes a mes, en los doce últimos meses.")),
            rubric=("Computes the walk-outs per month and names the month with most; may weigh "
                    "them against that month's visits.", "Calcula las salidas sin compra por "
                    "mes y señala el mes con más; puede compararlas con las visitas de ese "
                    "mes.")),
    _ex("subscriber_buyer_share",
        lambda d: float(outreach.subscriber_buyers(d)["buyer"]
                        / outreach.subscriber_buyers(d).sum()),
        ("Subscribers who buy", "Suscriptores que compran"),
        (("Only the people still subscribed count.", "Solo cuentan quienes siguen suscritos."),
         ("Buyers among them over all of them, between 0 and 1.",
          "Los compradores entre ellos sobre todos ellos, entre 0 y 1.")),
        needs="newsletter", rtol=1e-4),
    _ex("freed_budget",
        lambda d: float(org.next_plan(_effectiveness(d)).query("decision == 'stop'")[
            "cost"].sum()),
        ("The budget the new plan moves", "El presupuesto que mueve el nuevo plan"),
        (("The new plan stops the campaigns whose ROI is at or below the median ROI.",
          "El nuevo plan detiene las campañas cuyo ROI está en la mediana o por debajo."),
         ("Add up what the stopped campaigns cost.",
          "Suma lo que costaron las campañas detenidas.")),
        needs="marketing", rtol=1e-4),
    _ex("seo_best_term", lambda d: str(outreach.search_terms(d)["orders"].idxmax()),
        ("The search term that sells", "El término de búsqueda que vende"),
        (("Only the visits from organic search results count: that is what SEO works on.",
          "Solo cuentan las visitas desde los resultados orgánicos: es lo que trabaja el SEO."),
         ("The term with the most orders, not the most visits.",
          "El término con más pedidos, no con más visitas.")),
        needs="search"),
    _ex("alert_negatives",
        lambda d: int(outreach.keyword_alerts(d)["negative"].sum()),
        ("Negative mentions in the alert weeks", "Menciones negativas en las semanas de "
         "alerta"),
        (("An alert fires in a week with many more negative mentions of the shop than usual.",
          "Una alerta salta en una semana con muchas más menciones negativas de la tienda "
          "de lo habitual."),
         ("Add up the negative mentions of the weeks that fired.",
          "Suma las menciones negativas de las semanas que dispararon la alerta.")),
        needs="listening"),
    _ex("shares_reach", lambda d: int(outreach.share_reach(d)["followers"].sum()),
        ("Followers the shares could reach", "Seguidores a los que llegan las veces que se "
         "comparte"),
        (("Keep the posts that share the shop's content.",
          "Quédate con las publicaciones que comparten contenido de la tienda."),
         ("Add up the followers of their authors.", "Suma los seguidores de sus autores.")),
        needs="listening"),
    _decide("influencer_to_renew",
            lambda d, lang: letters(list(_influencers(d).index)),
            lambda d: _first_max(_influencers(d)), needs="influencers",
            title=("The influencer to renew", "El influencer que renovar"),
            hints=(("An influencer earns their own segment by bringing new buyers.",
                    "Un influencer merece su propio segmento si trae compradores nuevos."),
                   ("Compare the new buyers each code brought, not the followers.",
                    "Compara los compradores nuevos que trajo cada código, no los "
                    "seguidores.")),
            rubric=("Chooses by new buyers (or revenue) brought, not by followers; notes the "
                    "cost per post if known.", "Elige por compradores nuevos (o ingresos) "
                    "aportados, no por seguidores; menciona el coste por publicación si se "
                    "conoce.")),
    _decide("nps_segment",
            lambda d, lang: letters(_role_labels(_nps_by_segment(d).index, lang)),
            lambda d: _first_max(-_nps_by_segment(d)), needs="surveys",
            title=("The segment to call first", "El segmento al que llamar primero"),
            hints=(("Promoters answer 9 or 10, detractors 0 to 6; NPS = % promoters − % "
                    "detractors.", "Los promotores responden 9 o 10; los detractores, de 0 a 6; "
                    "NPS = % promotores − % detractores."),
                   ("Call first the segment with the lowest score.",
                    "Llama primero al segmento de puntuación más baja.")),
            rubric=("Compares the NPS of the segments and names the lowest; notes how many "
                    "answers each has.", "Compara el NPS de los segmentos y señala el más bajo; "
                    "indica cuántas respuestas tiene cada uno.")),
)


def _effectiveness(data):
    from ..analytics.campaigns import effectiveness

    return effectiveness(data)


#: The exercises of this module, by notebook, in the notebook's order.
EXERCISES = {"01": _01, "02": _02, "03": _03, "04": _04}
