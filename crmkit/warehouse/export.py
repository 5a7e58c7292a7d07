"""CSV files for people: quarantined rows a person opens in a spreadsheet, made formula-safe.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, so a crafted value in a source file (``=HYPERLINK(...)``) would run
on the analyst's machine when the quarantine is opened in Excel or Calc
("CSV injection"). Files written here for people to open put a ``'`` before
such text, which a spreadsheet shows as plain text; numbers stay numbers.

Why the dataset files are *not* neutralised: the dataset folders
(``CRMData.save``, ``crmkit generate``, ``data/samples/``) and the source
extracts are data interchange files that must read back exactly (a phone
number ``+34 612 ...`` or a negative amount would change), their values come
from the generator's own lists or from the user's own exports, and a test
checks that the samples regenerate byte for byte. Open them through
*Data > From Text/CSV* (which imports text as text), not by double-click.

>>> import pandas as pd
>>> neutralise(pd.DataFrame({"city": ["=1+1", "Madrid", "@SUM(A1)"], "n": [-1, 2, 3]}))
      city  n
0    '=1+1 -1
1   Madrid  2
2  '@SUM(A1)  3
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DatasetError
from .build import quarantine
from .connection import WarehouseLike

__all__ = ["FORMULA_START", "neutralise", "to_spreadsheet_csv", "export_quarantine"]

#: A cell starting with one of these is taken for a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot start a spreadsheet formula."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_safe)
    return out


def to_spreadsheet_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as a formula-safe CSV (UTF-8 with a BOM, so Excel reads accents)."""
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{str(path)!r} is a folder; give the name of the .csv file to "
                           "write.")
    neutralise(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
    return path


def export_quarantine(warehouse: WarehouseLike, path: str | Path, *,
                      batch_id: str | None = None) -> Path:
    """Write the quarantined rows (file, line, reason, detail, record) for a spreadsheet."""
    return to_spreadsheet_csv(quarantine(warehouse, batch_id=batch_id), path)
