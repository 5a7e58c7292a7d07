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
from typing import Any

__all__ = [
    "CRMKitError",
    "ParameterError",
    "SchemaError",
    "DatasetError",
    "MissingTableError",
    "SourceError",
    "ModelError",
    "NotFittedError",
    "check_choice",
    "check_fitted",
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


class NotFittedError(ModelError):
    """A model was asked for estimates before :meth:`fit` gave it any (see :func:`check_fitted`)."""


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
    return value


def check_fitted(estimator: Any, attributes: str | Iterable[str]) -> None:
    """Raise a :class:`NotFittedError` unless ``estimator`` has every fitted attribute named.

    The one fitted-state check of crmkit's models, as scikit-learn's ``check_is_fitted``:
    ``attributes`` are the names (ending in ``_``) that ``fit`` sets.

    >>> class Mean:
    ...     def fit(self, values):
    ...         self.mean_ = sum(values) / len(values)
    ...         return self
    >>> check_fitted(Mean().fit([1, 2]), "mean_")
    >>> check_fitted(Mean(), "mean_")
    Traceback (most recent call last):
    ...
    crmkit.errors.NotFittedError: this Mean model is not fitted yet; call its .fit(...) first.
    """
    names = [attributes] if isinstance(attributes, str) else list(attributes)
    if not names:
        raise ParameterError("check_fitted needs the names of the attributes fit sets.")
    if not all(hasattr(estimator, name) for name in names):
        raise NotFittedError(f"this {type(estimator).__name__} model is not fitted yet; call "
                             "its .fit(...) first.")
