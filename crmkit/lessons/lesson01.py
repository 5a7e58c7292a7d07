"""Exercises of notebook 01 (CRM concepts): how each right answer is computed, and hints.

>>> from crmkit.dataset.synth import generate
>>> data = generate("sports_shop", n_customers=300, seed=1)
>>> from crmkit.grading.keys import answer  # the instructor's key
>>> book = exercise_book(data, lang="en")
>>> book.names[:4]
['best_area', 'win_rate', 'selection', 'target_group']
>>> book.judge("win_rate", answer(book, "win_rate")).status
'correct'
"""

from __future__ import annotations

from typing import cast

import pandas as pd

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
from ..dataset.crmdata import CRMData
from ..i18n import format_currency, format_message, key_of, t
from .concept_lessons import EXERCISES as CONCEPT_EXERCISES
from .exercises import Exercise, ExerciseBook, fold
from .judgement import decide, labelled, letters, value_option

__all__ = ["EXERCISES", "exercise_book", "exercise_hours", "late_incidents", "SLA_HOURS",
           "OPENING_HOURS", "area_sentences", "processing_table"]


def area_sentences(areas: pd.DataFrame, data: CRMData, lang: str = "en") -> list[str]:
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


def processing_table(times: pd.DataFrame, lang: str = "en"
                     ) -> tuple[pd.DataFrame | None, list[str]]:
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


def exercise_hours(data: CRMData) -> tuple[int, int]:
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


def late_incidents(data: CRMData, sla_hours: float = SLA_HOURS) -> int:
    """Incidents that waited longer than ``sla_hours`` in at least one state (open or closed)."""
    d = state_durations(data)
    return int(d.loc[d["hours"] > sla_hours, "ticket_id"].nunique())
_MODEL_WORDS = {
    "analitico": "analytical", "servicio": "service",
    "support": "service", "soporte": "service", "colaborativo": "collaborative",
    "colaborativa": "collaborative", "collaborative database": "collaborative",
    "collaborative databases": "collaborative", "bases de datos colaborativas": "collaborative",
    "redes sociales": "social",
}


def _label_to_key(data: CRMData, answer: object) -> object:
    """Accept the label a table shows (in either language) as well as the key."""
    return key_of(answer)


def _model_word(data: CRMData | None, answer: object) -> object:
    """The model named by ``answer``, in either language, any case, with or without accents.

    >>> [_model_word(None, w) for w in ("Analítico", "ANALITICO", "colaborativo", "Social")]
    ['analytical', 'analytical', 'collaborative', 'social']
    """
    if not isinstance(answer, str):
        return answer
    word = fold(answer)
    return _MODEL_WORDS.get(word, key_of(word))


def _weakest_field(data: CRMData) -> str:
    """The level-1 field known least often; of several tied, the first in the lesson's list.

    (The four fields of a postal address are usually missing together: letting any
    of them be right would make a guess right four times in seven.)
    """
    level1 = field_completeness(data).query("level == 1").reset_index(drop=True)
    return str(level1["field"].iloc[level1["share"].argmin()])  # the first of equals


def _best_area(data: CRMData) -> str:
    areas = crm_areas(data)
    return str(areas["records"].idxmax())


# ----------------------------------------------------------------------------- judgement
#: Fewest customers a medium needs before its revenue per customer is worth comparing.
MIN_MEDIUM_CUSTOMERS = 10


def _media(data: CRMData) -> pd.Series:
    acq = acquisition_report(data)
    acq = acq[(acq.index != "unknown") & (acq["customers"] >= MIN_MEDIUM_CUSTOMERS)]
    return (acq["revenue"] / acq["customers"]).sort_index()


def _spend_cells(data: CRMData) -> pd.Series:
    """Average spend per age band and gender (cells with enough customers), as the heat map."""
    cells = cast(pd.Series, spend_by_age_and_gender(data).stack())  # one level of columns
    return cells.dropna().sort_index()


def _level_drops(data: CRMData) -> pd.Series:
    """How much the cumulative coverage falls at each level from the level below it."""
    cumulative = level_completeness(data)["share_cumulative"]
    return (cumulative.shift(1) - cumulative).iloc[1:]


def _late_share(data: CRMData) -> pd.Series:
    """Share of each intake channel's incidents that waited over the 48-hour level somewhere."""
    d = state_durations(data)
    late = set(d.loc[d["hours"] > SLA_HOURS, "ticket_id"])
    tickets = data.tickets
    return tickets["ticket_id"].isin(late).groupby(tickets["channel"]).mean().sort_index()


def _pick(values: pd.Series) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[list(values.index).index(values.idxmax())]


JUDGEMENT = (
    decide(
        "fund_medium",
        lambda d, lang: labelled(list(_media(d).index), lang),
        lambda d: _pick(_media(d)), needs="acquisition"),
    decide(
        "late_channel",
        lambda d, lang: labelled(list(_late_share(d).index), lang),
        lambda d: _pick(_late_share(d)), needs="incidents"),
    decide(
        "target_group",
        lambda d, lang: letters([f"{band} · {value_option(g, lang)}"
                                 for band, g in _spend_cells(d).index]),
        lambda d: _pick(_spend_cells(d)), needs="demographics"),
    decide(
        "collect_first",
        lambda d, lang: letters([f"{n} · {t(f'level.{n}', lang)}" for n in _level_drops(d).index]),
        lambda d: _pick(_level_drops(d)), needs="customers"),
)


_COMPUTE = (
    Exercise(
        "best_area", _best_area, convert=_label_to_key, needs="sales",
    ),
    Exercise(
        "win_rate", win_rate, needs="pipeline",
        rtol=1e-3,
    ),
    Exercise(
        "selection",
        lambda d: len(select_customers(d, min_orders=2, needs=("phone",), consent="phone")),
        needs="customers",
    ),
    Exercise(
        "crm_model", lambda d: "collaborative", convert=_model_word,
    ),
    Exercise(
        "mail_and_phone",
        lambda d: int((reach_masks(d)["direct_mail"] & reach_masks(d)["telemarketing"]).sum()),
        needs="customers",
    ),
    Exercise(
        "weakest_field", _weakest_field, convert=_label_to_key, needs="customers",
    ),
    Exercise(
        "late_incidents", late_incidents, needs="incidents",
    ),
    Exercise(
        "out_of_hours", lambda d: out_of_hours_share(d, opening=exercise_hours(d)),
        needs="order_times",
        rtol=1e-3,
    ),
)


_ORDER = ("best_area", "win_rate", "selection", "target_group", "fund_medium", "crm_model",
          "collect_first", "mail_and_phone", "weakest_field", "late_incidents", "late_channel",
          "out_of_hours")
#: The exercises of notebook 01, in the notebook's order.
EXERCISES = tuple(sorted(_COMPUTE + JUDGEMENT, key=lambda e: _ORDER.index(e.name)))
EXERCISES += CONCEPT_EXERCISES["01"]  # the concepts of crmkit.lessons.concept_lessons


def exercise_book(data: CRMData, lang: str = "en") -> ExerciseBook:
    """The exercise book of notebook 01 for this shop's data."""
    return ExerciseBook(data, EXERCISES, lang=lang)
