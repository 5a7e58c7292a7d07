"""crmkit: the helper package of the crm-workbench course kit.

>>> import crmkit
>>> crmkit.PROFILE_NAMES[0]
'fashion_chain'
"""

__version__ = "0.1.0"

from .dataset.crmdata import CRMData  # noqa: E402
from .dataset.profiles import PROFILE_NAMES, PROFILES, get_profile  # noqa: E402
from .dataset.synth import generate  # noqa: E402
from .errors import CRMKitError, DatasetError, ParameterError, SchemaError  # noqa: E402

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
