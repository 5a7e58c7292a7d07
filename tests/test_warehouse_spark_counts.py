"""A table of counts of customers per distinct (frequency, recency, T) fits as the customers.

What :func:`crmkit.analytics.spark_models.btyd_inputs` gives at scale: checked here
without Spark, on the CDNOW sample (the papers' estimates) and a generated shop, built
by a plain pandas count, against the per-customer fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.analytics.clv import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
from crmkit.analytics.rfm import rfm_summary, summary_from_transactions
from crmkit.dataset.cdnow import CALIBRATION_END, load_cdnow
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError


@pytest.fixture(scope="module")
def cdnow():
    return summary_from_transactions(load_cdnow("sample"), as_of=CALIBRATION_END,
                                     unit="weeks")


def _counts(summary: pd.DataFrame, cols) -> pd.DataFrame:
    return summary.groupby(list(cols)).size().rename("customers").reset_index()


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_purchase_models_fit_counts_as_the_customers(cdnow, model):
    counts = _counts(cdnow, ["frequency", "recency", "T"])
    assert len(counts) < len(cdnow) / 2
    one, many = model().fit(cdnow), model().fit(counts)
    for k, v in one.params_.items():
        assert many.params_[k] == pytest.approx(v, rel=1e-6, abs=1e-6), k
    assert many.log_likelihood_ == pytest.approx(one.log_likelihood_, rel=1e-9)
    assert (many.n_customers_, many.n_repeat_) == (one.n_customers_, one.n_repeat_)


def test_the_counted_fit_gives_the_published_bgnbd_estimates(cdnow):
    bg = BetaGeo().fit(_counts(cdnow, ["frequency", "recency", "T"]))
    assert [round(v, 3) for v in bg.params_.values()] == [0.243, 4.414, 0.793, 2.426]


def test_spend_model_fits_counts_as_the_customers():
    summary = rfm_summary(generate("boutique", n_customers=400, seed=3))
    counts = _counts(summary, ["frequency", "monetary_value"])
    one, many = GammaGamma().fit(summary), GammaGamma().fit(counts)
    for k, v in one.params_.items():
        assert many.params_[k] == pytest.approx(v, rel=1e-6, abs=1e-6), k
    assert many.n_customers_ == one.n_customers_
    assert many.spend_frequency_corr_ == pytest.approx(one.spend_frequency_corr_, rel=1e-9)


def test_a_shuffled_or_split_count_table_fits_the_same(cdnow):
    counts = _counts(cdnow, ["frequency", "recency", "T"])
    # the same triples split over two rows each (as two partitions of an engine give them)
    half = counts.assign(customers=counts["customers"] // 2)
    rest = counts.assign(customers=counts["customers"] - half["customers"])
    split = pd.concat([half[half["customers"] > 0], rest]).sample(frac=1.0, random_state=1)
    a, b = BetaGeo().fit(counts), BetaGeo().fit(split)
    assert np.allclose(list(a.params_.values()), list(b.params_.values()), rtol=1e-6)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_a_count_that_is_no_whole_number_of_customers_is_refused(cdnow, bad):
    counts = _counts(cdnow, ["frequency", "recency", "T"]).astype({"customers": float})
    counts.loc[0, "customers"] = bad
    with pytest.raises(ParameterError, match="customers"):
        BetaGeo().fit(counts)
