"""What is computed from a ``CRMData`` or a warehouse: CRM concepts, data levels, service,
order tracking, and the customer models and KPIs built on them.

May import :mod:`crmkit.warehouse` and below; never :mod:`crmkit.lessons`.
"""

__all__: list[str] = []
