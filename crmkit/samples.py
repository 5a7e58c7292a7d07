"""The small committed sample datasets, one per shop profile, and the data dictionary.

``make report`` (through ``crmkit samples``) rebuilds them; a test rebuilds
them again and compares byte for byte, so they never drift from the code.
"""

from __future__ import annotations

from pathlib import Path

from .data import CRMData
from .profiles import PROFILES
from .schema import data_dictionary
from .synth import DEFAULT_END, DEFAULT_START, generate

__all__ = ["SAMPLE_SEED", "build_sample", "build_samples", "write_dictionary"]

SAMPLE_SEED = 2024


def build_sample(profile: str) -> CRMData:
    """The sample dataset of one profile (its ``sample_customers``, two years).

    >>> build_sample("boutique").manifest["n_customers"]
    300
    """
    prof = PROFILES[profile]
    return generate(profile, n_customers=prof.sample_customers, start=DEFAULT_START,
                    end=DEFAULT_END, seed=SAMPLE_SEED)


def build_samples(out: str | Path, profiles=None) -> list[Path]:
    """Write the sample of every profile (or of ``profiles``) to ``out/<profile>/`` as CSV."""
    out = Path(out)
    return [build_sample(p).save(out / p, format="csv") for p in (profiles or PROFILES)]


def write_dictionary(path: str | Path) -> Path:
    """Write the data dictionary generated from :mod:`crmkit.schema` to ``path``."""
    path = Path(path)
    path.write_text(data_dictionary(), encoding="utf-8")
    return path
