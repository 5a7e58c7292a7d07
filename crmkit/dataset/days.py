"""Day parameters: one reader for every function that takes a day (``start``, ``as_of``...).

The generator, the analyses and the lessons all read days the same way, so a
learner sees the same message whichever function got the bad value.

>>> parse_day("as_of", "2024-03-01")
Timestamp('2024-03-01 00:00:00')
"""

from __future__ import annotations

import numbers
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["parse_day", "DayLike"]

#: What a day parameter may be given as: ``"YYYY-MM-DD"``, a date, datetime or Timestamp, or
#: a NumPy datetime64.
DayLike = str | date | np.datetime64


def parse_day(name: str, value: Any) -> pd.Timestamp:
    """Read a day parameter (a ``YYYY-MM-DD`` text or a timestamp), or raise a
    :class:`~crmkit.errors.ParameterError` naming it; the time of day is dropped.

    >>> parse_day("start", pd.Timestamp("2024-03-01 17:30"))
    Timestamp('2024-03-01 00:00:00')
    >>> parse_day("start", "1 March")
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: start='1 March' is not a date; write it as YYYY-MM-DD, ....
    >>> parse_day("end", 20240301)  # a number is not read as nanoseconds since 1970
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: end=20240301 is not a date; write it as YYYY-MM-DD, ....
    """
    ts = None
    try:
        if isinstance(value, str):
            ts = pd.to_datetime(value, format="%Y-%m-%d")
        elif not isinstance(value, numbers.Number):
            ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = None
    if ts is None or pd.isna(ts):
        raise ParameterError(
            f"{name}={value!r} is not a date; write it as YYYY-MM-DD, e.g. '2024-01-01'."
        )
    return ts.normalize()
