"""One exception hierarchy for crmkit.

Every error a learner can trigger derives from :class:`CRMKitError`, so a
notebook can catch them all at once, and each message names the parameter,
table, column or file at fault and says how to fix it.

>>> from crmkit.errors import CRMKitError, ParameterError
>>> issubclass(ParameterError, CRMKitError) and issubclass(ParameterError, ValueError)
True
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CRMKitError",
    "ParameterError",
    "SchemaError",
    "DatasetError",
    "MissingTableError",
    "SourceError",
    "ModelError",
    "check_choice",
]


class CRMKitError(Exception):
    """Base class of every error raised on purpose by crmkit."""


class ParameterError(CRMKitError, ValueError):
    """A function or notebook parameter has a value crmkit cannot use."""


class SchemaError(CRMKitError, ValueError):
    """A table does not conform to the canonical schema of :mod:`crmkit.dataset.schema`."""


class DatasetError(CRMKitError, OSError):
    """A dataset folder on disk is missing, incomplete or unreadable."""


class ModelError(CRMKitError, ValueError):
    """The data cannot support the model asked for (too few customers, no repeat buyers...)."""

class MissingTableError(CRMKitError, LookupError):
    """An analysis needs a table this shop's data does not have (an order log has no incidents)."""

    def __init__(self, message: str, *, table: str) -> None:
        super().__init__(message)
        self.table = table


class SourceError(CRMKitError, ValueError):
    """A user's own file (an export, an order log, a mapping) cannot be read as given.

    The message names the file and, where they are known, the 1-based line and the column.
    """


def check_choice(name: str, value: object, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise a clear error.

    >>> check_choice("lang", "es", ["en", "es"])
    'es'
    >>> check_choice("lang", "fr", ["en", "es"])
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: lang='fr' is not allowed; choose one of: 'en', 'es'.
    """
    allowed = list(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ParameterError(f"{name}={value!r} is not allowed; choose one of: {choices}.")
    return value  # type: ignore[return-value]
