"""Readers of a user's own files (Shopify exports, order logs) into a ``CRMData``, with quarantine.

May import :mod:`crmkit.dataset`, :mod:`crmkit.errors` and :mod:`crmkit.i18n`.

>>> from crmkit.sources import OrderLogMapping, import_orders, import_shopify
"""

import warnings

# pandera loads its PySpark backend when pyspark (the optional `spark` extra) is installed, and
# pyspark.pandas warns about pandas 3 on import. crmkit never uses pyspark.pandas; the warning
# would be the first lines of every `crmkit import` message, so it is silenced here, by its text.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                        category=FutureWarning)

from .orders import OrderLogMapping, import_orders  # noqa: E402 (after the filter)
from .quarantine import ImportResult  # noqa: E402
from .shopify import import_shopify  # noqa: E402

__all__ = ["OrderLogMapping", "ImportResult", "import_orders", "import_shopify"]
