"""Clusters: k recovered on groups made by hand, profiles in words, the generator's spenders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.analytics.churn import customer_features
from crmkit.analytics.clusters import CustomerClusters
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError


def three_groups(n_each: int = 150, seed: int = 0) -> pd.DataFrame:
    """Loyal web buyers, one-off store buyers, and lapsed discount hunters, by construction."""
    rng = np.random.default_rng(seed)

    def group(recency, orders, spend, web, disc):
        return pd.DataFrame({
            "recency_days": rng.normal(recency, recency * 0.15, n_each).clip(1),
            "orders": rng.poisson(orders, n_each) + 1,
            "total_spend": rng.lognormal(np.log(spend), 0.2, n_each),
            "mean_lines": rng.normal(2, 0.2, n_each).clip(1),
            "web_share": np.clip(rng.normal(web, 0.05, n_each), 0, 1),
            "discount_share": np.clip(rng.normal(disc, 0.05, n_each), 0, 1),
        })

    X = pd.concat([group(10, 12, 900, 0.9, 0.1), group(60, 0, 40, 0.05, 0.1),
                   group(400, 2, 150, 0.4, 0.85)], ignore_index=True)
    X.index = pd.RangeIndex(1, len(X) + 1, name="customer_id")
    return X


def test_silhouette_finds_the_three_groups_made_by_hand():
    X = three_groups()
    model = CustomerClusters(k_range=(2, 7), seed=0).fit(X)
    assert model.k_ == 3
    assert model.silhouettes_.idxmax() == 3 and model.silhouette_ > 0.5
    made = np.repeat([0, 1, 2], 150)
    table = pd.crosstab(made, model.labels_.to_numpy())
    assert (table.max(axis=1) == 150).all()  # every hand-made group lands in one cluster
    assert model.profiles_["customers"].tolist() == [150, 150, 150]


def test_profiles_speak_plainly_in_both_languages():
    model = CustomerClusters(k=3, seed=0).fit(three_groups())
    en, es = model.describe("en"), model.describe("es")
    loyal = model.labels_.iloc[0]  # the first hand-made group: recent, frequent web buyers
    text = en.set_index("cluster").loc[loyal, "description"].lower()
    assert "bought recently" in text and "buy often" in text and "online" in text
    lapsed = model.labels_.iloc[-1]
    assert "discount" in en.set_index("cluster").loc[lapsed, "description"]
    texto = es.set_index("cluster").loc[loyal, "description"].lower()
    assert "compraron hace poco" in texto and "online" in texto
    assert en["share"].sum() == pytest.approx(1.0)


def test_cluster_of_big_spenders_holds_the_generators_big_spenders():
    data = generate("fashion_chain", n_customers=2500, seed=3)
    X = customer_features(data)
    model = CustomerClusters(k_range=(2, 6), seed=0).fit(X)
    truth = data.truth["customers"].set_index("customer_id").reindex(X.index)
    by_cluster = truth.groupby(model.labels_.to_numpy())
    spend = model.profiles_["total_spend"]
    top, bottom = spend.idxmax(), spend.idxmin()
    rate = by_cluster["purchases_per_year"].mean()
    assert rate[top] > 1.5 * rate[bottom]


def test_the_same_seed_gives_the_same_clusters():
    X = three_groups(seed=4)
    a = CustomerClusters(k_range=(2, 4), seed=1).fit(X).labels_
    b = CustomerClusters(k_range=(2, 4), seed=1).fit(X).labels_
    assert a.equals(b)


@pytest.mark.parametrize(("kwargs", "X", "message"), [
    ({}, pd.DataFrame(), "non-empty table"),
    ({"features": ["age"]}, three_groups(), "'age' are not columns"),
    ({"k": 1}, three_groups(), "k=1"),
    ({"k_range": (5, 2)}, three_groups(), r"k_range=\(5, 2\)"),
    ({"k": 3}, three_groups().head(3), "3 customers cannot form 3 clusters"),
])
def test_bad_input_says_what_would_work(kwargs, X, message):
    with pytest.raises(ParameterError, match=message):
        CustomerClusters(**kwargs).fit(X)


def test_constant_features_are_dropped_and_all_constant_is_an_error():
    X = three_groups()
    X["web_share"] = 0.0  # a shop without a web channel
    model = CustomerClusters(k=3).fit(X)
    assert "web_share" not in model.features_
    flat = X.assign(**{c: 1.0 for c in X.columns})
    with pytest.raises(ParameterError, match="every feature is the same"):
        CustomerClusters(k=2).fit(flat)
