"""Running a class: per-student editions on each student's own data, and grading.

``crmkit assign`` (:mod:`.assign`) and ``crmkit grade`` (:mod:`.grade`,
:mod:`.run`, :mod:`.outputs`); the roster and the course secret in
:mod:`.roster`.
"""

__all__ = ["assign", "grade", "outputs", "roster", "run"]
