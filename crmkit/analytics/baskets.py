"""Market-basket rules for cross-selling: which items are bought together, and what to suggest.

A *basket* is one order that was not cancelled (a returned order still shows
what the customer chose together). An item is a product, a subcategory or a
category (``level``). mlxtend's ``fpgrowth`` finds the itemsets present in at
least ``min_support`` of the baskets, and ``association_rules`` turns them into
rules *if a basket holds A, it also holds B*, measured by:

- support: share of baskets holding A and B;
- confidence: share of the baskets with A that also hold B;
- lift: confidence divided by the share of baskets holding B; above 1 means A
  makes B more likely than it is on its own, the mark of a cross-selling pair.

>>> from crmkit.dataset.synth import generate
>>> data = generate("bendita", n_customers=1500, seed=4)
>>> rules = basket_rules(data, level="category")
>>> bool((rules["lift"] > 1).all()), list(rules.columns[:4])
(True, ['antecedent', 'consequent', 'support', 'confidence'])
>>> cross_sell(rules, [rules["antecedent"].iloc[0]]).shape[0] >= 1
True
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth

from ..errors import ParameterError, check_choice

if TYPE_CHECKING:
    from ..dataset.crmdata import CRMData


__all__ = ["LEVELS", "DEFAULT_MIN_BASKETS", "baskets", "basket_rules", "cross_sell"]

#: What an item of a basket can be.
LEVELS = ("product", "subcategory", "category")
#: Without ``min_support``, an itemset must appear in at least this many baskets.
DEFAULT_MIN_BASKETS = 20
_RULE_COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift", "leverage",
                 "conviction", "baskets", "antecedent_support", "consequent_support",
                 "antecedents", "consequents"]


def _item_labels(data: CRMData, level: str) -> pd.Series:
    """The item label of every product id at ``level`` (product names are unique)."""
    products = data.products
    column = "name" if level == "product" else level
    return pd.Series(products[column].astype(str).to_numpy(),
                     index=products["product_id"].to_numpy())


def baskets(data: CRMData, *, level: str = "product") -> pd.DataFrame:
    """One row per basket (order not cancelled), one True/False column per item.

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("boutique", n_customers=200, seed=1)
    >>> b = baskets(data, level="category")
    >>> b.index.name, bool(b.to_numpy().any(axis=1).all())
    ('order_id', True)
    >>> len(b) == int((data.orders["status"] != "cancelled").sum())
    True
    """
    check_choice("level", level, LEVELS)
    orders = data.orders
    kept = orders.loc[orders["status"] != "cancelled", "order_id"].to_numpy()
    if len(kept) == 0:
        raise ParameterError(
            "data has no orders that were not cancelled, so there are no baskets; "
            "basket rules need a shop with orders and their order lines."
        )
    lines = data.order_lines
    lines = lines[lines["order_id"].isin(kept)]
    labels = _item_labels(data, level)
    items = labels.reindex(lines["product_id"].to_numpy()).to_numpy()
    codes, uniques = pd.factorize(pd.Series(items, dtype="str"), sort=True)
    order_codes, order_ids = pd.factorize(pd.Series(lines["order_id"].to_numpy()), sort=True)
    matrix = np.zeros((len(order_ids), len(uniques)), dtype=bool)
    matrix[order_codes, codes] = True
    return pd.DataFrame(matrix, columns=pd.Index(list(uniques), name=level),
                        index=pd.Index(np.asarray(order_ids), name="order_id"))


def basket_rules(
    data: CRMData,
    *,
    level: str = "product",
    min_support: float | None = None,
    min_confidence: float = 0.0,
    min_lift: float = 1.0,
    max_len: int = 2,
) -> pd.DataFrame:
    """Association rules between items bought in the same basket, strongest (lift) first.

    Parameters
    ----------
    data : CRMData
        Needs ``orders``, ``order_lines`` and ``products``.
    level : {"product", "subcategory", "category"}
        What counts as an item.
    min_support : float, optional
        Smallest share of baskets an itemset must appear in; by default the share
        that means :data:`DEFAULT_MIN_BASKETS` baskets (rarer pairs are noise).
    min_confidence, min_lift : float
        Keep rules at least this confident and with at least this lift.
    max_len : int
        Largest itemset (2: pairs, one item suggests another).

    Returns
    -------
    DataFrame
        ``antecedent`` and ``consequent`` as text (items joined by `` + ``),
        ``support``, ``confidence``, ``lift``, ``leverage``, ``conviction``,
        ``baskets`` (how many baskets hold the whole rule), the supports of each
        side, and the item sets themselves (``antecedents``, ``consequents``).

    >>> from crmkit.dataset.synth import generate
    >>> data = generate("boutique", n_customers=200, seed=1)
    >>> basket_rules(data, level="category", min_support=0.9)
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: min_support=0.9: no pair of items appears in that share ...
    """
    check_choice("level", level, LEVELS)
    for name, value, lo, hi in (("min_confidence", min_confidence, 0, 1),
                                ("min_lift", min_lift, 0, np.inf)):
        if not isinstance(value, numbers.Real) or not lo <= value <= hi:
            raise ParameterError(f"{name}={value!r} must be a number between {lo} and {hi}.")
    if not isinstance(max_len, numbers.Integral) or max_len < 2:
        raise ParameterError(f"max_len={max_len!r} must be a whole number >= 2 "
                             "(2 gives pairs: one item suggests another).")
    onehot = baskets(data, level=level)
    n = len(onehot)
    if min_support is None:
        min_support = min(DEFAULT_MIN_BASKETS / n, 1.0)
    elif not isinstance(min_support, numbers.Real) or not 0 < min_support <= 1:
        raise ParameterError(f"min_support={min_support!r} must be a share of baskets "
                             "greater than 0 and at most 1, e.g. 0.01.")
    multi = onehot[onehot.sum(axis=1) >= 2]
    if multi.empty:
        raise ParameterError(
            f"no basket holds two different items at level={level!r}; basket rules need "
            "baskets with several items (try level='category', or a shop with larger baskets)."
        )
    itemsets = fpgrowth(onehot, min_support=float(min_support), use_colnames=True,
                        max_len=int(max_len))
    if not (itemsets["itemsets"].map(len) >= 2).any():
        pair_counts = multi.to_numpy(dtype=np.int64).T @ multi.to_numpy(dtype=np.int64)
        np.fill_diagonal(pair_counts, 0)
        best = pair_counts.max() / n
        raise ParameterError(
            f"min_support={min_support:g}: no pair of items appears in that share of the "
            f"{n:,} baskets at level={level!r}; the most common pair appears in "
            f"{best:.4f} of them, so choose a min_support at or below that."
        )
    rules = association_rules(itemsets, num_itemsets=n, metric="lift", min_threshold=min_lift)
    rules = rules[rules["confidence"] >= min_confidence]
    out = pd.DataFrame({
        "antecedent": rules["antecedents"].map(_join),
        "consequent": rules["consequents"].map(_join),
        "support": rules["support"],
        "confidence": rules["confidence"],
        "lift": rules["lift"],
        "leverage": rules["leverage"],
        "conviction": rules["conviction"],
        "baskets": np.rint(rules["support"].to_numpy() * n).astype(np.int64),
        "antecedent_support": rules["antecedent support"],
        "consequent_support": rules["consequent support"],
        "antecedents": rules["antecedents"],
        "consequents": rules["consequents"],
    }, columns=_RULE_COLUMNS)
    out = out.sort_values(["lift", "support", "antecedent", "consequent"],
                          ascending=[False, False, True, True], kind="stable")
    return out.reset_index(drop=True)


def _join(items: Iterable[object]) -> str:
    return " + ".join(sorted(map(str, items)))


def cross_sell(rules: pd.DataFrame, basket: Iterable[object], *, n: int = 3) -> pd.DataFrame:
    """The items to suggest for a basket: consequents of rules whose antecedent it holds.

    Each suggestion keeps its best rule (highest confidence, then lift); items
    already in the basket are never suggested.

    >>> rules = pd.DataFrame({"antecedents": [frozenset({"shampoo"}), frozenset({"shampoo"})],
    ...                       "consequents": [frozenset({"conditioner"}), frozenset({"mask"})],
    ...                       "antecedent": ["shampoo", "shampoo"],
    ...                       "consequent": ["conditioner", "mask"],
    ...                       "confidence": [0.4, 0.1], "lift": [3.0, 1.2],
    ...                       "support": [0.04, 0.01]})
    >>> cross_sell(rules, ["shampoo"])[["suggestion", "because", "confidence"]]
        suggestion   because  confidence
    0  conditioner   shampoo         0.4
    1         mask   shampoo         0.1
    >>> cross_sell(rules, ["shampoo", "mask"])["suggestion"].tolist()
    ['conditioner']
    """
    if isinstance(basket, str):
        basket = [basket]
    held = frozenset(map(str, basket))
    if not isinstance(n, numbers.Integral) or n < 1:
        raise ParameterError(f"n={n!r} must be a whole number >= 1 (suggestions to show).")
    fits = rules["antecedents"].map(lambda a: a <= held) & rules["consequents"].map(
        lambda c: not (c & held))
    hits = rules[fits]
    out = pd.DataFrame({"suggestion": hits["consequent"], "because": hits["antecedent"],
                        "confidence": hits["confidence"], "lift": hits["lift"],
                        "support": hits["support"]})
    out = out.sort_values(["confidence", "lift", "suggestion"], ascending=[False, False, True],
                          kind="stable").drop_duplicates("suggestion")
    return out.head(int(n)).reset_index(drop=True)
