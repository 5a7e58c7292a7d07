"""The version of crmkit, in the bottom room: any module may read it without importing the
package top (``pyproject.toml`` reads it from here too).

>>> isinstance(__version__, str)
True
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
