"""Headline figures: named numbers and small tables a notebook records for tests and reports.

In a notebook, :func:`record` shows the figure and stores it in the cell's
output under its own MIME type; :func:`read_figures` reads them back from an
executed ``.ipynb`` (what papermill writes), so tests compare numbers, not
printed text.

>>> payload, _ = figure_payload("reachable_by_mail", 512)
>>> payload[MIME]["value"]
512
>>> import pandas as pd
>>> back = decode(figure_payload("levels", pd.DataFrame({"share": [0.5]}, index=["1"]))[0][MIME])
>>> back.loc["1", "share"]
np.float64(0.5)
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

__all__ = ["MIME", "record", "figure_payload", "decode", "read_figures", "compare_figures"]

MIME = "application/vnd.crmkit.figure+json"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def figure_payload(name: str, value: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The display bundle of one figure (JSON under :data:`MIME`) and its metadata."""
    if isinstance(value, pd.Series):
        value = value.to_frame()
    if isinstance(value, pd.DataFrame):
        table = json.loads(value.to_json(orient="split", date_format="iso"))
        encoded = {"name": name, "kind": "table", "value": table}
        text = f"{name}:\n{value.to_string()}"
    else:
        value = _plain(value)
        json.dumps(value)  # raises early if the value cannot be recorded
        encoded = {"name": name, "kind": "scalar", "value": value}
        text = f"{name} = {value}"
    return {MIME: encoded, "text/plain": ""}, {"crmkit": {"summary": text}}


def record(name: str, value: Any) -> None:
    """Record a headline figure in the running notebook's output, for tests and reports.

    Nothing visible is added to the lesson: the figure travels in its own
    MIME type, with an empty text form, so a reader (or a student edition)
    does not see answers printed next to the exercises.
    """
    from IPython.display import display

    bundle, metadata = figure_payload(name, value)
    display(bundle, metadata=metadata, raw=True)


def decode(payload: dict) -> Any:
    """A recorded figure back as a number, text or DataFrame."""
    if payload["kind"] == "table":
        t = payload["value"]
        return pd.DataFrame(t["data"], index=t["index"], columns=t["columns"])
    return payload["value"]


def read_figures(notebook: str | Path) -> dict[str, Any]:
    """All figures recorded in an executed notebook, by name (the last one wins)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    found: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            payload = out.get("data", {}).get(MIME)
            if payload is not None:
                found[payload["name"]] = decode(payload)
    return found


def compare_figures(actual: dict, baseline: dict, *, rtol: float = 0.02,
                    atol: float = 1e-9) -> list[str]:
    """Differences between recorded figures and a baseline, one line each.

    >>> compare_figures({"a": 100, "b": 5}, {"a": 101, "b": 9}, rtol=0.02)
    ['b: 5 differs from baseline 9']
    """
    problems = []
    for name, want in baseline.items():
        if name not in actual:
            problems.append(f"{name}: not recorded")
            continue
        got = actual[name]
        if isinstance(want, dict) and "columns" in want:
            want = pd.DataFrame(want["data"], index=want["index"], columns=want["columns"])
        if isinstance(want, pd.DataFrame):
            got_df = got if isinstance(got, pd.DataFrame) else pd.DataFrame()
            if got_df.shape != want.shape:
                problems.append(f"{name}: shape {got_df.shape} differs from baseline "
                                f"{want.shape}")
                continue
            for cell, w in want.stack().items():
                r, c = cast(tuple[Any, Any], cell)  # a row and a column label
                g = got_df.loc[r, c] if (r in got_df.index and c in got_df.columns) else None
                if not _same(g, w, rtol, atol):
                    problems.append(f"{name}[{r}, {c}]: {g} differs from baseline {w}")
        elif not _same(got, want, rtol, atol):
            problems.append(f"{name}: {got} differs from baseline {want}")
    return problems


def _same(got: object, want: object, rtol: float, atol: float) -> bool:
    if isinstance(want, int | float) and isinstance(got, int | float | np.number):
        return math.isclose(float(got), float(want), rel_tol=rtol, abs_tol=atol)
    return got == want
