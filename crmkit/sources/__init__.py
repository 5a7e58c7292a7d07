"""Readers of a user's own files (Shopify exports, order logs) into a ``CRMData``, with quarantine.

May import :mod:`crmkit.dataset`, :mod:`crmkit.errors` and :mod:`crmkit.i18n`.
"""

__all__: list[str] = []
