"""The DuckDB warehouse: build and load (raw -> staging -> star-schema marts), model SQL,
data tests, cubes and warehouse plots.

May import :mod:`crmkit.sources`, :mod:`crmkit.dataset`, :mod:`crmkit.errors`, :mod:`crmkit.i18n`.
"""

from .build import (
    build_warehouse,
    connect,
    customer_as_of,
    load_batch,
    load_report,
    quarantine,
    query,
    read_tables,
)

__all__ = ["build_warehouse", "load_batch", "load_report", "quarantine", "customer_as_of",
           "read_tables", "query", "connect"]
