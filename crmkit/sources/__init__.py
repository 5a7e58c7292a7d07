"""Readers of a user's own files (Shopify exports, order logs) into a ``CRMData``, with quarantine.

May import :mod:`crmkit.dataset`, :mod:`crmkit.errors` and :mod:`crmkit.i18n`.

>>> from crmkit.sources import OrderLogMapping, import_orders, import_shopify
"""

from .orders import OrderLogMapping, import_orders
from .quarantine import ImportResult
from .shopify import import_shopify

__all__ = ["OrderLogMapping", "ImportResult", "import_orders", "import_shopify"]
