"""CDNOW: the real purchase records on which the lifetime-value models were published.

Fader and Hardie's CD retailer data (``data/real/cdnow/``, with its README):
a cohort of 23,570 customers who first bought in the first quarter of 1997,
followed for 78 weeks to the end of June 1998, and the 1/10th sample of 2,357
customers used in the BG/NBD paper (Fader, Hardie and Lee 2005). Reading them
gives a plain table of purchases that
:func:`crmkit.analytics.rfm.summary_from_transactions` summarises like any shop.

>>> tx = load_cdnow("sample")
>>> len(tx), tx["customer_id"].nunique()
(6919, 2357)
>>> tx.columns.tolist()
['customer_id', 'placed_at', 'cds', 'value_cents']
>>> str(tx["placed_at"].min().date()), str(tx["placed_at"].max().date())
('1997-01-01', '1998-06-30')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DatasetError, check_choice

__all__ = ["CDNOW_DIR", "CDNOW_FILES", "CALIBRATION_END", "OBSERVATION_END", "load_cdnow"]

#: Where the files are kept in the repository.
CDNOW_DIR = Path(__file__).resolve().parents[2] / "data" / "real" / "cdnow"
CDNOW_FILES = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}
#: End of the calibration period of the published fits (39 weeks), and of the data (78 weeks).
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


def load_cdnow(which: str = "sample", *, path: str | Path | None = None) -> pd.DataFrame:
    """The CDNOW purchases: ``customer_id``, ``placed_at`` (day), ``cds``, ``value_cents``.

    ``which`` is ``"sample"`` (2,357 customers, ids 1-2357 as in the papers)
    or ``"master"`` (all 23,570). ``path`` is the folder holding the files
    (default: ``data/real/cdnow`` of the repository).
    """
    check_choice("which", which, CDNOW_FILES)
    folder = Path(path) if path is not None else CDNOW_DIR
    file = folder / CDNOW_FILES[which]
    if not file.is_file():
        raise DatasetError(
            f"{file} not found; the CDNOW files live in data/real/cdnow of the crm-workbench "
            "repository (see its README), or pass path= to the folder that holds them."
        )
    if which == "sample":
        names = ["master_id", "customer_id", "date", "cds", "dollars"]
        raw = pd.read_csv(file, sep=r"\s+", header=None, names=names, dtype=str)
    else:
        names = ["customer_id", "date", "cds", "dollars"]
        raw = pd.read_csv(file, sep=r"\s+", header=None, names=names, dtype=str, skiprows=1)
    try:
        out = pd.DataFrame({
            "customer_id": raw["customer_id"].astype(np.int64),
            "placed_at": pd.to_datetime(raw["date"], format="%Y%m%d").astype("datetime64[us]"),
            "cds": raw["cds"].astype(np.int64),
            "value_cents": np.rint(raw["dollars"].astype(np.float64) * 100).astype(np.int64),
        })
    except (ValueError, TypeError) as exc:
        raise DatasetError(f"{file} is not in the CDNOW format described in its README: "
                           f"{exc}") from exc
    return out
