"""Where data comes from and its one shape: the canonical schema, ``CRMData``, shop profiles,
the synthetic generator and the writers of messy extracts and samples.

May import only :mod:`crmkit.errors` and :mod:`crmkit.i18n`.
"""

from .crmdata import CRMData
from .profiles import PROFILE_NAMES, PROFILES, ShopProfile, get_profile
from .schema import SCHEMA, TABLE_NAMES
from .synth import generate

__all__ = ["CRMData", "PROFILE_NAMES", "PROFILES", "ShopProfile", "get_profile", "SCHEMA",
           "TABLE_NAMES", "generate"]
