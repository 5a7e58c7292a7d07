"""A/B tests, sample sizes, peeking and heat maps, checked against hand formulas and
simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from tiny_shop import tiny_shop

from crmkit.analytics import experiments as ex
from crmkit.errors import ParameterError


def test_two_proportion_test_matches_the_textbook_formulas():
    r = ex.two_proportion_test(40, 1000, 60, 1000)
    pa, pb = 0.04, 0.06
    se = math.sqrt(pa * (1 - pa) / 1000 + pb * (1 - pb) / 1000)
    assert r["difference"] == pytest.approx(0.02)
    assert r["ci_low"] == pytest.approx(0.02 - 1.959964 * se, abs=1e-6)
    assert r["ci_high"] == pytest.approx(0.02 + 1.959964 * se, abs=1e-6)
    pooled = 0.05
    z = 0.02 / math.sqrt(pooled * (1 - pooled) * 2 / 1000)
    assert r["p_value"] == pytest.approx(2 * norm.sf(z), rel=0.01)


@pytest.mark.parametrize("args", [(5, 4, 1, 10), (-1, 10, 1, 10), (1, 10, 1, 0)])
def test_two_proportion_test_rejects_impossible_counts(args):
    with pytest.raises(ParameterError, match="successes"):
        ex.two_proportion_test(*args)


def test_sample_size_gives_the_promised_power_by_simulation():
    n = ex.sample_size(0.10, 0.03, power=0.8)
    h = 2 * math.asin(math.sqrt(0.13)) - 2 * math.asin(math.sqrt(0.10))
    assert n == math.ceil(2 * ((norm.ppf(0.975) + norm.ppf(0.8)) / h) ** 2)
    rng = np.random.default_rng(3)
    a = rng.binomial(n, 0.10, 4000)
    b = rng.binomial(n, 0.13, 4000)
    p = (a + b) / (2 * n)
    z = (b - a) / n / np.sqrt(p * (1 - p) * 2 / n)
    assert np.mean(np.abs(z) > norm.ppf(0.975)) == pytest.approx(0.8, abs=0.03)
    with pytest.raises(ParameterError, match="min_effect"):
        ex.sample_size(0.95, 0.1)


def test_peeking_inflates_false_positives_but_a_fixed_horizon_does_not():
    r = ex.peeking_simulation(rate=0.05, n_per_group=2000, looks=10, n_experiments=4000,
                              seed=5)
    assert r["fixed"] == pytest.approx(0.05, abs=0.012)
    assert r["peeking"] > 2.5 * r["fixed"]
    # Armitage, McPherson and Rowe (1969), repeated significance tests at nominal 5 %:
    # 10 equally spaced looks give an overall false-positive rate of 0.193, 5 looks 0.142
    assert r["peeking"] == pytest.approx(0.193, abs=0.02)
    five = ex.peeking_simulation(rate=0.05, n_per_group=2000, looks=5, n_experiments=4000,
                                 seed=6)
    assert five["peeking"] == pytest.approx(0.142, abs=0.02)
    assert five["fixed"] == pytest.approx(0.05, abs=0.012)


def test_heat_maps_on_a_hand_made_shop():
    shop = tiny_shop()
    act = ex.activity_heatmap(shop)
    assert act.shape == (7, 24) and act.to_numpy().sum() == 6
    assert act.loc["Wed", 9] == 1  # 10 Jan 2024 was a Wednesday, visit at 09:50
    web_orders = ex.activity_heatmap(shop, what="orders")
    assert web_orders.to_numpy().sum() == 3
    conv = ex.conversion_heatmap(shop)
    assert conv.loc["email", "mobile"] == 0.5 and conv.loc["organic", "desktop"] == 0.5
    with pytest.raises(ParameterError, match="what="):
        ex.activity_heatmap(shop, what="clicks")
