"""Named RFM segments: who each customer is, and what to do about them.

The segment table is data (``segments.yaml`` beside this module): each named
segment is a set of cells of the grid of recency score x frequency score
(1-5, from :func:`crmkit.analytics.rfm.rfm_scores`), and the cells of all
segments cover the grid exactly once, so every customer lands in exactly one
segment. Labels and recommended actions come in English and Spanish from the
catalog.

>>> table = segment_table("es")
>>> table.loc["champions", ["label", "rule"]].tolist()
['Campeones', 'R 5, F 4-5']
>>> table.loc["hibernating", "rule"]
'R 2, F 1-2; R 1, F 2'

>>> from crmkit.dataset.synth import generate
>>> from crmkit.analytics.rfm import rfm_scores, rfm_summary
>>> scored = assign_segments(rfm_scores(rfm_summary(generate("boutique", n_customers=300,
...                                                          seed=5))))
>>> bool(scored["segment"].notna().all())
True
>>> summary = segment_summary(scored)
>>> int(summary["customers"].sum()) == len(scored)
True
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from ..errors import ParameterError
from ..i18n import check_lang, t

__all__ = ["SEGMENTS", "segment_rules", "segment_grid", "segment_table", "assign_segments",
           "segment_summary"]


@cache
def segment_rules() -> dict[str, tuple[tuple[int, int, int, int], ...]]:
    """Each segment's rectangles ``(r_min, r_max, f_min, f_max)``, in the table's order."""
    raw = yaml.safe_load(resources.files("crmkit.analytics").joinpath("segments.yaml")
                         .read_text("utf-8"))
    return {name: tuple((int(c["r"][0]), int(c["r"][1]), int(c["f"][0]), int(c["f"][1]))
                        for c in cells) for name, cells in raw.items()}


#: Segment names, from the best customers to the lost ones.
SEGMENTS: tuple[str, ...] = tuple(segment_rules())


def segment_grid() -> pd.DataFrame:
    """The 5 x 5 grid of segment names: rows ``r_score`` 1-5, columns ``f_score`` 1-5.

    >>> segment_grid().loc[5, 1], segment_grid().loc[1, 5]
    ('new', 'cannot_lose')
    """
    grid = pd.DataFrame(index=pd.Index(range(1, 6), name="r_score"),
                        columns=pd.Index(range(1, 6), name="f_score"), dtype=object)
    for name, cells in segment_rules().items():
        for r0, r1, f0, f1 in cells:
            grid.loc[r0:r1, f0:f1] = name
    return grid


def _span(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def segment_table(lang: str = "en") -> pd.DataFrame:
    """One row per segment: its label, its rule on the scores and the recommended action."""
    check_lang(lang)
    rows = []
    for name, cells in segment_rules().items():
        rule = "; ".join(f"R {_span(r0, r1)}, F {_span(f0, f1)}" for r0, r1, f0, f1 in cells)
        rows.append({"segment": name, "label": t(f"rfm_segment.{name}", lang), "rule": rule,
                     "action": t(f"rfm_action.{name}", lang)})
    return pd.DataFrame(rows).set_index("segment")


def assign_segments(scores: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``scores`` with a ``segment`` column (ordered categorical) from R and F.

    ``scores`` needs integer ``r_score`` and ``f_score`` columns in 1-5, as
    :func:`crmkit.analytics.rfm.rfm_scores` gives with its default ``bins=5``.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"r_score": [5, 1, 3], "f_score": [5, 1, 3]})
    >>> assign_segments(s)["segment"].tolist()
    ['champions', 'lost', 'need_attention']
    >>> assign_segments(pd.DataFrame({"r_score": [6], "f_score": [1]}))
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: r_score must be whole numbers from 1 to 5 ...
    """
    for col in ("r_score", "f_score"):
        if col not in scores.columns:
            raise ParameterError(f"the scores lack column {col!r}; pass the result of "
                                 "rfm_scores(rfm_summary(data)).")
        v = scores[col].to_numpy()
        if len(v) and (pd.isna(v).any() or not np.isin(v, [1, 2, 3, 4, 5]).all()):
            raise ParameterError(
                f"{col} must be whole numbers from 1 to 5 (found {sorted(set(v.tolist()))[:5]}"
                "); compute the scores with rfm_scores(..., bins=5).")
    grid = segment_grid().to_numpy()
    r = scores["r_score"].to_numpy(dtype=np.int64)
    f = scores["f_score"].to_numpy(dtype=np.int64)
    out = scores.copy()
    out["segment"] = pd.Categorical(grid[r - 1, f - 1], categories=list(SEGMENTS),
                                    ordered=True)
    return out


def segment_summary(segmented: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Customers, share, mean recency, orders and spend per segment, with label and action.

    Every segment of the table has a row, empty ones included (0 customers),
    so a shop sees which segments it lacks.
    """
    check_lang(lang)
    if "segment" not in segmented.columns:
        raise ParameterError("the table has no 'segment' column; pass the result of "
                             "assign_segments(rfm_scores(rfm_summary(data))).")
    g = segmented.groupby("segment", observed=False)
    out = pd.DataFrame({"customers": g.size().astype("int64")})
    out["share"] = out["customers"] / max(len(segmented), 1)
    for col in ("recency_days", "orders", "total_spend"):
        if col in segmented.columns:
            out[col] = g[col].mean()
    table = segment_table(lang)
    out.index = pd.Index([str(i) for i in out.index], name="segment")
    out.insert(0, "label", table["label"].reindex(out.index))
    out["action"] = table["action"].reindex(out.index)
    return out
