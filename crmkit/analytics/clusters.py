"""Customer clusters: k-means on scaled (log) RFM and behaviour, k chosen by silhouette.

Segments from RFM scores follow rules someone wrote; clusters let the data
say which groups of customers resemble each other. The recipe:

1. describe every customer (:func:`crmkit.analytics.churn.customer_features`);
2. take logarithms of counts and money (one big spender must not pull a whole
   cluster) and scale every feature to mean 0 and standard deviation 1, so
   that days, euros and shares weigh the same;
3. run k-means for each k in a range and keep the k with the best silhouette
   (how much closer each customer is to its own cluster than to the next one);
4. describe each cluster in plain words: the features where its typical
   customer stands out from the whole base. That is the raw material of a
   buyer persona.

>>> from crmkit.dataset.synth import generate
>>> from crmkit.analytics.churn import customer_features
>>> features = customer_features(generate("boutique", n_customers=300, seed=4))
>>> model = CustomerClusters(k_range=(2, 5), seed=0).fit(features)
>>> 2 <= model.k_ <= 5, len(model.labels_) == len(features)
(True, True)
>>> table = model.describe("es")
>>> list(table.columns)
['cluster', 'customers', 'share', 'description']
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import cast

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ..errors import ParameterError, check_fitted
from ..i18n import check_lang, t

__all__ = ["CLUSTER_FEATURES", "LOG_FEATURES", "CustomerClusters"]

#: The features clustered by default (those a shop lacks are dropped when constant).
CLUSTER_FEATURES = ("recency_days", "orders", "total_spend", "mean_lines", "web_share",
                    "discount_share")
#: Features on a multiplicative scale, clustered as log(1 + x).
LOG_FEATURES = ("recency_days", "orders", "total_spend", "frequency", "tenure_days",
                "monetary_value", "orders_90d", "spend_90d", "mean_lines", "returns",
                "days_since_signup", "contacts_90d", "opened_90d", "sessions_90d")
#: How far (in standard deviations) a cluster's mean must stand from the base to be described.
STANDOUT = 0.5


class CustomerClusters(BaseEstimator):  # type: ignore[misc]  # scikit-learn has no types
    """K-means clusters of customers with k chosen by silhouette.

    Parameters
    ----------
    k : int, optional
        Number of clusters; chosen by silhouette within ``k_range`` when omitted.
    k_range : (int, int)
        Smallest and largest k tried.
    features : sequence of str, optional
        Columns to cluster on (default :data:`CLUSTER_FEATURES`).
    sample_size : int
        Customers drawn to compute each silhouette (it is quadratic in customers).
    seed : int
        Seed of k-means and of the silhouette sample.

    Attributes
    ----------
    k_ : chosen number of clusters
    silhouettes_ : Series, silhouette for every k tried
    labels_ : Series, cluster (1..k, largest first) of every customer
    features_ : the feature columns used (constant ones dropped)
    profiles_ : DataFrame, per cluster: customers, share and the median of each feature
    standing_ : DataFrame, per cluster: mean of each scaled feature (0 = the base)
    """

    def __init__(self, *, k: int | None = None, k_range: tuple[int, int] = (2, 8),
                 features: Sequence[str] | None = None, sample_size: int = 4000,
                 seed: int = 0) -> None:
        self.k = k
        self.k_range = k_range
        self.features = features
        self.sample_size = sample_size
        self.seed = seed

    def _matrix(self, X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        wanted = list(self.features or CLUSTER_FEATURES)
        missing = [c for c in wanted if c not in X.columns]
        if missing:
            raise ParameterError(
                f"features {', '.join(map(repr, missing))} are not columns of the data; "
                "pass crmkit.analytics.churn.customer_features(data), or name existing "
                "columns with features=."
            )
        used = [c for c in wanted if X[c].nunique() > 1]
        if not used:
            raise ParameterError("every feature is the same for all customers; there is "
                                 "nothing to cluster.")
        if X[used].isna().any().any():
            bad = [c for c in used if X[c].isna().any()]
            raise ParameterError(f"features {', '.join(map(repr, bad))} have missing values; "
                                 "fill or drop them before clustering.")
        M = X[used].to_numpy(dtype=float).copy()
        for j, c in enumerate(used):
            if c in LOG_FEATURES:
                M[:, j] = np.log1p(np.clip(M[:, j], 0, None))
        return M, used

    def _ks(self, n: int) -> list[int]:
        if self.k is not None:
            if not isinstance(self.k, numbers.Integral) or self.k < 2:
                raise ParameterError(f"k={self.k!r} must be a whole number >= 2.")
            ks = [int(self.k)]
        else:
            lo, hi = self.k_range
            if not (isinstance(lo, numbers.Integral) and isinstance(hi, numbers.Integral)
                    and 2 <= lo <= hi):
                raise ParameterError(f"k_range={self.k_range!r} must be two whole numbers "
                                     "2 <= low <= high, e.g. (2, 8).")
            ks = list(range(int(lo), int(hi) + 1))
        if ks[0] >= n:
            raise ParameterError(f"{n} customers cannot form {ks[0]} clusters; give a shop "
                                 "with more customers or a smaller k.")
        return [k for k in ks if k < n]

    def fit(self, X: pd.DataFrame, y: object = None) -> CustomerClusters:
        if not isinstance(X, pd.DataFrame) or X.empty:
            raise ParameterError("X must be a non-empty table of customer features, such as "
                                 "customer_features(data).")
        M, used = self._matrix(X)
        Z = StandardScaler().fit_transform(M)
        n = len(Z)
        sample = min(int(self.sample_size), n)
        sil, fits = {}, {}
        for k in self._ks(n):
            # one thread: k-means' OpenMP threads wait for each other on a busy machine
            with threadpool_limits(limits=1, user_api="openmp"):
                km = KMeans(n_clusters=k, n_init=10, random_state=self.seed).fit(Z)
            fits[k] = km
            if len(np.unique(km.labels_)) < 2:
                sil[k] = float("nan")
                continue
            sil[k] = float(silhouette_score(Z, km.labels_, sample_size=sample,
                                            random_state=self.seed))
        silhouettes = pd.Series(sil, name="silhouette").rename_axis("k")
        if silhouettes.isna().all():
            raise ParameterError("the customers do not split into two or more groups "
                                 "(all alike); there is nothing to cluster.")
        self.k_ = int(cast(int, silhouettes.idxmax()))  # the index holds the k tried
        km = fits[self.k_]
        # number clusters 1..k, largest first, so the result reads the same run to run
        sizes = np.bincount(km.labels_, minlength=self.k_)
        rank = np.empty(self.k_, dtype=np.int64)
        rank[np.lexsort((np.arange(self.k_), -sizes))] = np.arange(1, self.k_ + 1)
        labels = rank[km.labels_]
        self.silhouettes_ = silhouettes
        self.silhouette_ = float(silhouettes[self.k_])
        self.features_ = used
        self.labels_ = pd.Series(labels, index=X.index, name="cluster")
        prof = X[used].groupby(labels).median()
        counts = pd.Series(labels).value_counts().sort_index()
        prof.insert(0, "share", (counts / n).to_numpy())
        prof.insert(0, "customers", counts.to_numpy())
        self.profiles_ = prof.rename_axis("cluster")
        self.standing_ = (pd.DataFrame(Z, columns=used).groupby(labels).mean()
                          .rename_axis("cluster"))
        return self

    def describe(self, lang: str = "en") -> pd.DataFrame:
        """Each cluster in plain words: its size and where it stands out from the base."""
        check_fitted(self, ("standing_", "profiles_"))
        check_lang(lang)
        rows = []
        for label, standing in self.standing_.iterrows():
            cluster = cast(int, label)  # the index holds the cluster numbers
            traits = [(abs(v), f"cluster.{c}.{'high' if v > 0 else 'low'}")
                      for c, v in standing.items() if abs(v) >= STANDOUT]
            traits.sort(key=lambda tv: -tv[0])
            words = [t(key, lang) for _, key in traits]
            text = ", ".join(words) if words else t("cluster.typical", lang)
            rows.append({"cluster": int(cluster),
                         "customers": int(self.profiles_["customers"][cluster]),
                         "share": float(self.profiles_["share"][cluster]),
                         "description": text[0].upper() + text[1:]})
        return pd.DataFrame(rows)
