"""What only notebooks need: exercises and their books, notebook helpers, recorded figures,
widgets, lesson plots, single-language editions (``edition``), and one module per lesson
(``lesson01``, ``lesson02``, ...).

May import :mod:`crmkit.analytics`, :mod:`crmkit.warehouse` and below; never the report or CLI.
"""

__all__: list[str] = []
