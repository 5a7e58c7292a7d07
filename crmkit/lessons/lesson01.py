"""Exercises of notebook 01 (CRM concepts): how each right answer is computed, and hints.

>>> from crmkit.dataset.synth import generate
>>> data = generate("sports_shop", n_customers=300, seed=1)
>>> from crmkit.lessons.exercises import answer_key
>>> book = exercise_book(data, lang="en")
>>> book.names[:4]
['best_area', 'win_rate', 'selection', 'target_group']
>>> book.judge("win_rate", answer_key(book, "win_rate")).status
'correct'
"""

from __future__ import annotations

from ..analytics.concepts import (
    acquisition_report,
    crm_areas,
    select_customers,
    spend_by_age_and_gender,
    win_rate,
)
from ..analytics.levels import field_completeness, level_completeness, reach_masks
from ..analytics.service import state_durations
from ..analytics.tracking import out_of_hours_share
from ..i18n import format_currency, format_message, key_of, t
from .concept_lessons import EXERCISES as CONCEPT_EXERCISES
from .exercises import Exercise, ExerciseBook
from .judgement import decide, letters

__all__ = ["EXERCISES", "exercise_book", "exercise_hours", "late_incidents", "SLA_HOURS",
           "OPENING_HOURS", "area_sentences", "processing_table"]


def area_sentences(areas, data, lang: str = "en") -> list[str]:
    """One sentence per CRM area (:func:`crmkit.analytics.concepts.crm_areas`) in ``lang``:
    revenue in the shop's currency; an after-sales area with no closed incident says so."""
    out = []
    for area, row in areas.iterrows():
        if area == "commercial":
            value = format_currency(row["value"], lang, currency=data.currency, decimals=0)
            out.append(format_message(t("msg.area_commercial_money", lang), lang,
                                      records=int(row["records"]), value=value))
        elif area == "after_sales" and row["value"] != row["value"]:  # NaN: none closed
            out.append(format_message(t("msg.area_after_sales_open", lang), lang,
                                      records=int(row["records"])))
        else:
            out.append(format_message(t(f"msg.area_{area}", lang), lang,
                                      records=int(row["records"]), value=row["value"]))
    return out


def processing_table(times, lang: str = "en"):
    """The processing times a person reads, or None with a sentence when the data hold no
    time for any step (the steps nobody records are left out, never shown empty).

    Returns ``(table or None, [sentences])``.
    """
    steps = [c for c in times.columns if c != "orders"]
    if len(times) == 0 or times[steps].isna().all().all():
        return None, [t("msg.no_processing_times", lang)]
    notes = []
    if times["to_shipping_hours"].isna().all():  # every sale is taken away at the counter
        notes.append(t("msg.no_shipping", lang))
        times = times.drop(columns=["to_shipping_hours", "to_delivery_hours"])
    steps = [c for c in times.columns if c != "orders"]
    return times.drop(columns=[c for c in steps if times[c].isna().all()]), notes

SLA_HOURS = 48  # stricter than the notebook's default service level, so it is not shown
OPENING_HOURS = (9, 21)
#: Opening hours tried, in order, by :func:`exercise_hours`.
_HOUR_CHOICES = (OPENING_HOURS, (10, 20), (10, 19), (11, 19), (11, 18), (12, 18))


def exercise_hours(data) -> tuple[int, int]:
    """Opening hours for the out-of-hours exercise, chosen so the answer means something.

    9-21 unless at most 2 % of this shop's orders fall outside them (a shop
    that only sells while its doors are open would make 0 the answer); then
    the first narrower day in which at least 2 % do.

    >>> import pandas as pd
    >>> from crmkit.dataset.crmdata import CRMData
    >>> day = CRMData({"orders": pd.DataFrame({"placed_at": pd.to_datetime(
    ...     ["2025-01-01 09:30", "2025-01-01 12:00", "2025-01-01 19:10"])})})
    >>> exercise_hours(day)
    (10, 20)
    """
    for opening in _HOUR_CHOICES:
        if 0.02 <= out_of_hours_share(data, opening=opening) <= 0.98:
            return opening
    return OPENING_HOURS


def late_incidents(data, sla_hours: float = SLA_HOURS) -> int:
    """Incidents that waited longer than ``sla_hours`` in at least one state (open or closed)."""
    d = state_durations(data)
    return int(d.loc[d["hours"] > sla_hours, "ticket_id"].nunique())
_MODEL_WORDS = {
    "analítico": "analytical", "analitico": "analytical", "servicio": "service",
    "support": "service", "soporte": "service", "colaborativo": "collaborative",
    "colaborativa": "collaborative", "collaborative database": "collaborative",
    "collaborative databases": "collaborative", "bases de datos colaborativas": "collaborative",
    "redes sociales": "social",
}


def _label_to_key(data, answer):
    """Accept the label a table shows (in either language) as well as the key."""
    return key_of(answer)


def _model_word(data, answer):
    if not isinstance(answer, str):
        return answer
    word = answer.strip().casefold()
    return _MODEL_WORDS.get(word, key_of(word))


def _weakest_field(data) -> str:
    """The level-1 field known least often; of several tied, the first in the lesson's list.

    (The four fields of a postal address are usually missing together: letting any
    of them be right would make a guess right four times in seven.)
    """
    level1 = field_completeness(data).query("level == 1").reset_index(drop=True)
    return str(level1.loc[level1["share"].idxmin(), "field"])


def _best_area(data) -> str:
    areas = crm_areas(data)
    return str(areas["records"].idxmax())


# ----------------------------------------------------------------------------- judgement
#: Fewest customers a medium needs before its revenue per customer is worth comparing.
MIN_MEDIUM_CUSTOMERS = 10


def _media(data):
    acq = acquisition_report(data)
    acq = acq[(acq.index != "unknown") & (acq["customers"] >= MIN_MEDIUM_CUSTOMERS)]
    return (acq["revenue"] / acq["customers"]).sort_index()


def _spend_cells(data):
    """Average spend per age band and gender (cells with enough customers), as the heat map."""
    return spend_by_age_and_gender(data).stack().dropna().sort_index()


def _level_drops(data):
    """How much the cumulative coverage falls at each level from the level below it."""
    cumulative = level_completeness(data)["share_cumulative"]
    return (cumulative.shift(1) - cumulative).iloc[1:]


def _label(group: str):
    def label(key, lang):
        name = f"{group}.{key}"
        return t(name, lang) if name in _catalog() else str(key)
    return label


def _catalog():
    from ..i18n import catalog

    return catalog()


def _late_share(data):
    """Share of each intake channel's incidents that waited over the 48-hour level somewhere."""
    d = state_durations(data)
    late = set(d.loc[d["hours"] > SLA_HOURS, "ticket_id"])
    tickets = data.tickets
    return tickets["ticket_id"].isin(late).groupby(tickets["channel"]).mean().sort_index()


def _pick(values) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[list(values.index).index(values.idxmax())]


JUDGEMENT = (
    decide(
        "fund_medium",
        lambda d, lang: letters([_label("value")(k, lang) for k in _media(d).index]),
        lambda d: _pick(_media(d)), needs="acquisition",
        title=("The medium to fund next year", "El medio al que dedicar el presupuesto"),
        hints=(("The chart shows each medium's revenue; a medium that brought many customers "
                "earns much in total without each customer being worth much.",
                "El gráfico muestra los ingresos de cada medio; un medio que trajo muchos "
                "clientes ingresa mucho en total sin que cada cliente valga mucho."),
               ("Compare what each customer of a medium is worth, for the media with enough "
                "customers to say.", "Compara lo que vale cada cliente de un medio, en los "
                "medios con clientes suficientes para decirlo.")),
        rubric=("Compares revenue per customer (not total revenue) of the media offered and "
                "names the best; may note the small groups are uncertain.",
                "Compara los ingresos por cliente (no los totales) de los medios ofrecidos y "
                "señala el mejor; puede advertir que los grupos pequeños son inciertos.")),
    decide(
        "late_channel",
        lambda d, lang: letters([_label("value")(k, lang) for k in _late_share(d).index]),
        lambda d: _pick(_late_share(d)), needs="incidents",
        title=("The intake channel to fix first", "El canal de entrada que arreglar primero"),
        hints=(("Each incident came in through one channel (the `channel` of the tickets); "
                "the late ones are those of the previous exercise.", "Cada incidencia entró por "
                "un canal (el `channel` de las incidencias); las tardías son las del ejercicio "
                "anterior."),
               ("Channels bring very different numbers of incidents: compare the share of each "
                "channel's incidents that were late.", "Los canales traen números de "
                "incidencias muy distintos: compara la proporción de incidencias tardías de "
                "cada canal.")),
        rubric=("Compares the share (not the count) of late incidents per intake channel and "
                "names the largest; suggests a change to that channel's process.",
                "Compara la proporción (no el número) de incidencias tardías por canal de "
                "entrada y señala la mayor; propone un cambio en el proceso de ese canal.")),
    decide(
        "target_group",
        lambda d, lang: letters([f"{band} · {_label('value')(g, lang)}"
                                 for band, g in _spend_cells(d).index]),
        lambda d: _pick(_spend_cells(d)), needs="demographics",
        title=("The group for a personalised offer", "El grupo para una oferta personalizada"),
        hints=(("The heat map of the analytical model gives the average spend of each age band "
                "and gender.", "El mapa de calor del modelo analítico da el gasto medio de "
                "cada tramo de edad y género."),
               ("Empty cells have too few customers to say anything: they are not options.",
                "Las celdas vacías tienen demasiado pocos clientes para decir nada: no son "
                "opciones.")),
        rubric=("Names the band and gender with the highest average spend; says what level-3 "
                "data made the comparison possible.", "Señala el tramo y el género de mayor "
                "gasto medio; dice qué datos de nivel 3 hicieron posible la comparación.")),
    decide(
        "collect_first",
        lambda d, lang: letters([f"{n} · {t(f'level.{n}', lang)}" for n in _level_drops(d).index]),
        lambda d: _pick(_level_drops(d)), needs="customers",
        title=("The level of data to complete first", "El nivel de datos que completar primero"),
        hints=(("Read the dark bars of the pyramid: the customers covered at a level and every "
                "level below it.", "Lee las barras oscuras de la pirámide: los clientes "
                "cubiertos en un nivel y en todos los de debajo."),
               ("The bottleneck is where that coverage falls most from one level to the next.",
                "El cuello de botella está donde esa cobertura cae más de un nivel al "
                "siguiente.")),
        rubric=("Compares the fall of the cumulative coverage between consecutive levels and "
                "names the level where it falls most, with the actions that level unlocks.",
                "Compara la caída de la cobertura acumulada entre niveles consecutivos y señala "
                "el nivel donde más cae, con las acciones que ese nivel permite.")),
)


_COMPUTE = (
    Exercise(
        "best_area", _best_area, convert=_label_to_key, needs="sales",
        title=("Busiest CRM area", "Área del CRM con más registros"),
        hints=(("Look at the `records` column of the areas table.",
                "Mira la columna `records` de la tabla de áreas."),
               ("A Series has a method that gives the *label* of its largest value (not the "
                "value itself): its name starts with idx.", "Una Serie tiene un método que da "
                "la *etiqueta* de su valor mayor (no el valor): su nombre empieza por idx.")),
    ),
    Exercise(
        "win_rate", win_rate, needs="pipeline",
        title=("Win rate of the sales pipeline", "Tasa de éxito del embudo de ventas"),
        hints=(("Only closed negotiations count: stages 'won' and 'lost'.",
                "Solo cuentan las negociaciones cerradas: etapas 'won' y 'lost'."),
               ("Each negotiation's stage is in the opportunities table; the answer is a share "
                "of the closed ones, between 0 and 1.", "La etapa de cada negociación está en la "
                "tabla de oportunidades; la respuesta es una proporción de las cerradas, entre 0 "
                "y 1.")),
        rtol=1e-3,
    ),
    Exercise(
        "selection",
        lambda d: len(select_customers(d, min_orders=2, needs=("phone",), consent="phone")),
        needs="customers",
        title=("Customers for a phone campaign", "Clientes para una campaña telefónica"),
        hints=(("Count each customer's orders with value_counts() on orders.customer_id.",
                "Cuenta los pedidos de cada cliente con value_counts() sobre orders.customer_id."),
               ("Then keep customers with >= 2 orders, a phone, and phone_consent True.",
                "Después quédate con los clientes con >= 2 pedidos, teléfono y "
                "phone_consent verdadero.")),
    ),
    Exercise(
        "crm_model", lambda d: "collaborative", convert=_model_word,
        title=("Which type of CRM model?", "¿Qué tipo de modelo CRM?"),
        hints=(("Two companies pooling what they know about customers...",
                "Dos empresas que ponen en común lo que saben de sus clientes..."),
               ("The answer is one word in English: analytical, marketing, service, social or "
                "collaborative.", "La respuesta es una palabra: analítico, marketing, "
                "servicio, social o colaborativo (en inglés también vale).")),
    ),
    Exercise(
        "mail_and_phone",
        lambda d: int((reach_masks(d)["direct_mail"] & reach_masks(d)["telemarketing"]).sum()),
        needs="customers",
        title=("Customers reachable by mail and by phone",
               "Clientes alcanzables por correo y por teléfono"),
        hints=(("Direct mail needs level 1 (a last name and a postal address, or an e-mail "
                "with email_consent); telemarketing needs a phone and phone_consent.",
                "El correo directo necesita el nivel 1 (apellidos y dirección postal, o un "
                "e-mail con email_consent); el telemarketing, teléfono y phone_consent."),
               ("The levels module of crmkit.analytics says, customer by customer, which "
                "actions can reach them: a customer counts when both can.", "El módulo levels de "
                "crmkit.analytics dice, cliente a cliente, qué acciones pueden llegarle: un "
                "cliente cuenta cuando pueden las dos.")),
    ),
    Exercise(
        "weakest_field", _weakest_field, convert=_label_to_key, needs="customers",
        title=("Least known level-1 field", "Campo de nivel 1 menos conocido"),
        hints=(("Level 1 fields: first_name, last_name, address, city, postal_code, country, "
                "email.", "Campos de nivel 1: first_name, last_name, address, city, "
                "postal_code, country, email."),
               ("data.customers[fields].notna().mean() gives each field's completeness; "
                "take the smallest (if several tie, the first of them in the list).",
                "data.customers[campos].notna().mean() da la completitud de cada campo; "
                "elige el menor (si varios empatan, el primero de ellos en la lista).")),
    ),
    Exercise(
        "late_incidents", late_incidents, needs="incidents",
        title=("Incidents that broke a 48-hour service level",
               "Incidencias que incumplieron un nivel de servicio de 48 horas"),
        hints=(("state_durations gives one row per incident and state, with the hours it "
                "stayed there; an incident counts once, however many of its steps were late.",
                "state_durations da una fila por incidencia y estado, con las horas que pasó "
                "en él; una incidencia cuenta una vez, aunque se retrasara en varios pasos."),
               ("Keep the rows with more than 48 hours, then count the distinct incidents "
                "(a pandas method counts distinct values).", "Quédate con las filas de más "
                "de 48 horas y cuenta las incidencias distintas (hay un método de pandas que "
                "cuenta valores distintos).")),
    ),
    Exercise(
        "out_of_hours", lambda d: out_of_hours_share(d, opening=exercise_hours(d)),
        needs="order_times",
        title=("Orders placed while the shop is closed",
               "Pedidos hechos con la tienda cerrada"),
        hints=(("Each order's hour is in its `placed_at` timestamp (pandas' `.dt` accessor "
                "reads it).", "La hora de cada pedido está en su marca de tiempo `placed_at` "
                "(el accesor `.dt` de pandas la lee)."),
               ("Closed means before the opening hour or from the closing hour on (printed "
                "above the exercise); the answer is a share between 0 and 1.",
                "Cerrada significa antes de la hora de apertura o desde la de cierre "
                "(impresas encima del ejercicio); la respuesta es una proporción entre 0 y 1.")),
        rtol=1e-3,
    ),
)


_ORDER = ("best_area", "win_rate", "selection", "target_group", "fund_medium", "crm_model",
          "collect_first", "mail_and_phone", "weakest_field", "late_incidents", "late_channel",
          "out_of_hours")
#: The exercises of notebook 01, in the notebook's order.
EXERCISES = tuple(sorted(_COMPUTE + JUDGEMENT, key=lambda e: _ORDER.index(e.name)))
EXERCISES += CONCEPT_EXERCISES["01"]  # the concepts of crmkit.lessons.concept_lessons


def exercise_book(data, lang: str = "en") -> ExerciseBook:
    """The exercise book of notebook 01 for this shop's data."""
    return ExerciseBook(data, EXERCISES, lang=lang)
