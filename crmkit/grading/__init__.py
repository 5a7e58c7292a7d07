"""Running a class: per-student editions on each student's own data, and grading.

``crmkit assign`` (:mod:`.assign`) and ``crmkit grade`` (:mod:`.grade`,
:mod:`.run`, :mod:`.outputs`); the answer key in :mod:`.keys`; the roster and the course secret in
:mod:`.roster`.

May import :mod:`crmkit.report`, :mod:`crmkit.lessons` and below; never the CLI.
"""

__all__ = ["assign", "grade", "keys", "outputs", "roster", "run"]
