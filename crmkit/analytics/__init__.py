"""What is computed from a ``CRMData`` or a warehouse: CRM concepts, data levels, service,
order tracking, and the customer models and KPIs built on them.

May import :mod:`crmkit.warehouse` and below; never :mod:`crmkit.lessons`.
"""

from .clv import BetaGeo, GammaGamma, ParetoNBD, customer_lifetime_value
from .cohorts import cohort_table
from .rfm import rfm_scores, rfm_summary
from .segments import assign_segments, segment_summary, segment_table

__all__: list[str] = [
    "rfm_summary", "rfm_scores", "assign_segments", "segment_table", "segment_summary",
    "cohort_table", "BetaGeo", "ParetoNBD", "GammaGamma", "customer_lifetime_value",
]
