"""The rules of the notebooks' parameters, in one place.

Every notebook declares its parameters (names and literal defaults) in its cell
tagged ``parameters``. What a *value* may be is written here once, by name, and
used twice: by ``crmkit report`` before a kernel starts (so ``-p n_customers abc``
is refused in a second, with the parameter named), and by the notebook's own
validation cell (through :func:`crmkit.lessons.notebook.setup`), for a learner
who edits the cell by hand.

>>> check_parameters({"n_customers": 500, "start": "2024-01-01", "end": "2024-12-31"})
{'n_customers': 500, 'start': '2024-01-01', 'end': '2024-12-31'}
>>> check_parameters({"n_customers": "abc"})
Traceback (most recent call last):
...
crmkit.errors.ParameterError: n_customers='abc' must be a whole number from 1 to 100,000 ...
>>> check_parameters({"start": "2025-06-01", "end": "2025-01-01"})
Traceback (most recent call last):
...
crmkit.errors.ParameterError: end='2025-01-01' is before start='2025-06-01'; ...
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..dataset.days import DayLike, parse_day
from ..dataset.profiles import PROFILE_NAMES
from ..errors import ParameterError, check_choice
from ..i18n import check_lang

__all__ = ["RULES", "MAX_CUSTOMERS", "MAX_YEARS", "MAX_SLA_HOURS", "check_parameter",
           "check_parameters", "holdout_window"]

#: The largest synthetic shop a notebook generates (larger ones: ``crmkit generate`` and
#: ``data_dir``); it keeps a lesson within a minute and a few hundred MB.
MAX_CUSTOMERS = 100_000
#: The longest period, in years, a notebook simulates.
MAX_YEARS = 10
#: The longest service-level target, in hours (one year).
MAX_SLA_HOURS = 24 * 365


def _whole(name: str, value: Any, lo: int, hi: int, *, none_ok: bool = False, note: str = ""
           ) -> int | None:
    if value is None and none_ok:
        return None
    ok = (isinstance(value, numbers.Integral) and not isinstance(value, bool)
          and lo <= int(value) <= hi)
    if not ok:
        raise ParameterError(f"{name}={value!r} must be a whole number from {lo:,} to {hi:,}"
                             f"{note}.")
    return int(value)


def _day(name: str, value: Any) -> DayLike:
    if isinstance(value, date):  # a date or Timestamp given from Python
        return value
    parse_day(name, value)
    return value


def _folder(name: str, value: Any, *, must_exist: bool) -> str | Path | None:
    if value is None:
        return None
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise ParameterError(f"{name}={value!r} must be a folder path (text) or None.")
    path = Path(value).expanduser()
    if must_exist and not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        raise ParameterError(f"{name}={str(value)!r} {what}; give a dataset folder (such as "
                             "'../data/samples/boutique', or one written by `crmkit import ... "
                             "--out DIR`), or None to generate the shop.")
    if not must_exist and path.exists() and not path.is_dir():
        raise ParameterError(f"{name}={str(value)!r} is a file; give a folder (it is created "
                             "if missing) or None.")
    return value


def _real(value: object) -> bool:
    """A real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _hours(name: str, value: Any) -> float:
    ok = _real(value) and math.isfinite(value) and 0 < value <= MAX_SLA_HOURS
    if not ok:
        raise ParameterError(f"{name}={value!r} must be a number of hours above 0 and at most "
                             f"{MAX_SLA_HOURS:,}, e.g. 72.")
    return value


def _share(name: str, value: Any, hi: float, example: str) -> float:
    ok = _real(value) and math.isfinite(value) and 0 < value < hi
    if not ok:
        raise ParameterError(f"{name}={value!r} must be a number between 0 and {hi}, "
                             f"e.g. {example}.")
    return value


def _student(name: str, value: Any) -> str | None:
    pattern = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}"
    ok = value is None or (isinstance(value, str) and re.fullmatch(pattern, value) is not None)
    if not ok:
        raise ParameterError(f"{name}={value!r} must be your student id as the instructor "
                             "wrote it (letters, digits, '.', '_', '@', '-'), or None.")
    return value


#: Parameter name -> the function that checks (and returns) its value.
RULES: dict[str, Callable[[str, Any], Any]] = {
    "profile": lambda n, v: check_choice(n, v, PROFILE_NAMES),
    "lang": lambda n, v: check_lang(v),
    "n_customers": lambda n, v: _whole(n, v, 1, MAX_CUSTOMERS, none_ok=True,
                                       note=" (or None for the shop's usual size)"),
    "seed": lambda n, v: _whole(n, v, 0, 2**32 - 1),
    "student_id": _student,
    "start": _day,
    "end": _day,
    "data_dir": lambda n, v: _folder(n, v, must_exist=True),
    "warehouse_dir": lambda n, v: _folder(n, v, must_exist=False),
    "sla_hours": _hours,
    "win_back_days": lambda n, v: _whole(n, v, 1, 3650, note=" of days, e.g. 90"),
    "min_effect": lambda n, v: _share(n, v, 0.5, "0.01 (one percentage point)"),
    "alpha": lambda n, v: _share(n, v, 0.5, "0.05"),
    "holdout_days": lambda n, v: _whole(n, v, 30, 3650, none_ok=True,
                                        note=" of days kept aside to verify the models, e.g. "
                                             "180, or None to let the shop's history choose"),
    "margin": lambda n, v: None if v is None else _margin(n, v),
}


def _margin(name: str, value: Any) -> float:
    ok = _real(value) and math.isfinite(value) and 0 <= value < 1
    if not ok:
        raise ParameterError(f"{name}={value!r} must be the share of revenue left after the "
                             "cost of goods, from 0 to below 1 (e.g. 0.4), or None when every "
                             "product's cost is known.")
    return value


def holdout_window(history_days: int, *, preferred: int = 180, shortest: int = 30,
                   min_calibration: int = 180) -> int | None:
    """The holdout a shop's history supports: ``preferred`` days when the history is long
    enough, else the longest that leaves ``min_calibration`` days to learn from, never
    shorter than ``shortest``; None when even that does not fit (the section that needs
    a holdout says so and is skipped).

    >>> holdout_window(730), holdout_window(300), holdout_window(200)
    (180, 120, None)
    >>> holdout_window(90, min_calibration=45)
    45
    """
    room = int(history_days) - min_calibration
    if room < shortest:
        return None
    return min(preferred, room)


def check_parameter(name: str, value: Any) -> Any:
    """Check one parameter by its rule (a name without a rule is accepted as it is)."""
    rule = RULES.get(name)
    return value if rule is None else rule(name, value)


def check_parameters(values: dict[str, Any]) -> dict[str, Any]:
    """Check every parameter, then the rules between them; return them unchanged.

    A period runs forwards (``start`` before ``end``) and lasts at most
    :data:`MAX_YEARS` years.
    """
    out = {name: check_parameter(name, value) for name, value in values.items()}
    if out.get("start") is not None and out.get("end") is not None:
        start, end = pd.Timestamp(out["start"]), pd.Timestamp(out["end"])
        if end < start:
            raise ParameterError(f"end={out['end']!r} is before start={out['start']!r}; the "
                                 "period must run forwards.")
        if end > start + pd.DateOffset(years=MAX_YEARS):
            raise ParameterError(f"start={out['start']!r} to end={out['end']!r} is longer "
                                 f"than {MAX_YEARS} years; choose a shorter period.")
    return out
