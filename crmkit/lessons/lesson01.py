"""Exercises of notebook 01 (CRM concepts): how each right answer is computed, and hints.

>>> from crmkit.dataset.synth import generate
>>> data = generate("sports_shop", n_customers=300, seed=1)
>>> book = exercise_book(data, lang="en")
>>> [e.name for e in book.exercises][:4]
['best_area', 'win_rate', 'selection', 'crm_model']
>>> book.judge("win_rate", book.expected("win_rate")).status
'correct'
"""

from __future__ import annotations

from ..analytics.concepts import crm_areas, select_customers, win_rate
from ..analytics.levels import field_completeness, reach_masks
from ..analytics.service import stuck_tickets
from ..analytics.tracking import out_of_hours_share
from ..i18n import key_of
from .exercises import AnyOf, Exercise, ExerciseBook

__all__ = ["EXERCISES", "exercise_book", "SLA_HOURS", "OPENING_HOURS"]

SLA_HOURS = 48  # stricter than the notebook's default service level, so it is not shown
OPENING_HOURS = (9, 21)
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


def _weakest_fields(data):
    """Every level-1 field tied for the lowest completeness (any of them is right)."""
    level1 = field_completeness(data).query("level == 1")
    return AnyOf(level1.loc[level1["share"] == level1["share"].min(), "field"].tolist())


def _best_area(data) -> str:
    areas = crm_areas(data)
    return str(areas["records"].idxmax())


EXERCISES = (
    Exercise(
        "best_area", _best_area, convert=_label_to_key, needs="sales",
        title=("Busiest CRM area", "Área del CRM con más registros"),
        hints=(("Look at the `records` column of the areas table.",
                "Mira la columna `records` de la tabla de áreas."),
               ("`areas['records'].idxmax()` gives the label of the largest value.",
                "`areas['records'].idxmax()` da la etiqueta del valor mayor.")),
    ),
    Exercise(
        "win_rate", win_rate, needs="pipeline",
        title=("Win rate of the sales pipeline", "Tasa de éxito del embudo de ventas"),
        hints=(("Only closed negotiations count: stages 'won' and 'lost'.",
                "Solo cuentan las negociaciones cerradas: etapas 'won' y 'lost'."),
               ("won ÷ (won + lost), from data.opportunities['stage'].",
                "ganadas ÷ (ganadas + perdidas), con data.opportunities['stage'].")),
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
                "collaborative.", "La respuesta es una palabra en inglés: analytical, "
                "marketing, service, social o collaborative.")),
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
               ("crmkit.analytics.levels.reach_masks(data) gives one True/False column per action: "
                "combine two with &.", "crmkit.analytics.levels.reach_masks(data) da una columna "
                "True/False por acción: combina dos con &.")),
    ),
    Exercise(
        "weakest_field", _weakest_fields, convert=_label_to_key, needs="customers",
        title=("Least known level-1 field", "Campo de nivel 1 menos conocido"),
        hints=(("Level 1 fields: first_name, last_name, address, city, postal_code, country, "
                "email.", "Campos de nivel 1: first_name, last_name, address, city, "
                "postal_code, country, email."),
               ("data.customers[fields].notna().mean() gives each field's completeness; "
                "take the smallest (if several tie, any of them is right).",
                "data.customers[campos].notna().mean() da la completitud de cada campo; "
                "elige el menor (si varios empatan, vale cualquiera).")),
    ),
    Exercise(
        "stuck", lambda d: len(stuck_tickets(d, sla_hours=SLA_HOURS)), needs="incidents",
        title=("Incidents stuck past the service level", "Incidencias atascadas fuera de plazo"),
        hints=(("An incident is stuck when it is not closed and has waited more than the "
                "service level in its current state.", "Una incidencia está atascada si no "
                "está cerrada y lleva más horas que el nivel de servicio en su estado actual."),
               ("crmkit.analytics.service.state_durations(data) gives hours and an `open` flag per "
                "state.", "crmkit.analytics.service.state_durations(data) da las horas y la marca "
                "`open` de cada estado.")),
    ),
    Exercise(
        "out_of_hours", lambda d: out_of_hours_share(d, opening=OPENING_HOURS),
        needs="order_times",
        title=("Orders placed while a 9-21 shop is closed",
               "Pedidos hechos con la tienda (9-21) cerrada"),
        hints=(("Use data.orders['placed_at'].dt.hour.",
                "Usa data.orders['placed_at'].dt.hour."),
               ("Closed means hour < 9 or hour >= 21; the answer is a share between 0 and 1.",
                "Cerrada significa hora < 9 u hora >= 21; la respuesta es una proporción "
                "entre 0 y 1.")),
        rtol=1e-3,
    ),
)


def exercise_book(data, lang: str = "en") -> ExerciseBook:
    """The exercise book of notebook 01 for this shop's data."""
    return ExerciseBook(data, EXERCISES, lang=lang)
