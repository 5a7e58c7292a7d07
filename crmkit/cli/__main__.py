"""``python -m crmkit.cli``: the ``crmkit`` command."""

import sys

from . import main

sys.exit(main())
