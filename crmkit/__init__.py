"""crmkit: the helper package of the crm-workbench course kit.

>>> import crmkit
>>> crmkit.PROFILE_NAMES[0]
'fashion_chain'
"""

from ._version import __version__
from .dataset.crmdata import CRMData
from .dataset.profiles import PROFILE_NAMES, PROFILES, get_profile
from .dataset.synth import generate
from .errors import CRMKitError, DatasetError, ParameterError, SchemaError

__all__ = [
    "__version__",
    "CRMData",
    "CRMKitError",
    "DatasetError",
    "ParameterError",
    "SchemaError",
    "PROFILE_NAMES",
    "PROFILES",
    "get_profile",
    "generate",
]
