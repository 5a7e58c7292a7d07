"""Shared fixtures: small generated datasets, cached for the whole session."""

from __future__ import annotations

import pytest

from crmkit.dataset.profiles import PROFILE_NAMES
from crmkit.dataset.synth import generate

SMALL = {
    "fashion_chain": 1500, "sports_shop": 800, "frozen_foods": 300,
    "boutique": 300, "ice_cream": 600, "bendita": 1200,
}


@pytest.fixture(scope="session")
def small_data():
    """One small dataset per profile, generated once per test session."""
    cache = {}

    def get(profile: str, seed: int = 11):
        key = (profile, seed)
        if key not in cache:
            cache[key] = generate(profile, n_customers=SMALL[profile], seed=seed)
        return cache[key]

    return get


@pytest.fixture(params=PROFILE_NAMES)
def profile(request):
    return request.param
