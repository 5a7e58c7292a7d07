"""What a graded run of a notebook leaves behind: every check's answer and verdict.

``crmkit grade`` re-executes a student's notebook in a fresh kernel whose
environment names a *grading log* (:data:`LOG_ENV`). While that variable is
set, each :class:`~crmkit.lessons.exercises.ExerciseBook` writes into the log
its exercises (titles, first hint, tolerances) and, at every check, the
answer as the book judged it (and whether a query was wrong on the exercise's
perturbed copy of the data). It never holds a right answer: anyone can set the
variable. The grader reads the log back (:func:`read_log`), computes the right
answers for the student's data itself and judges again, outside the kernel.
Values travel as JSON (never pickle: a student's notebook writes the file),
with pandas tables in their ``split`` form.

>>> import pandas as pd
>>> decode(encode(pd.Series([1, 2], index=["a", "b"]))).to_dict()
{'a': 1, 'b': 2}
>>> decode(encode((0, 25))), decode(encode(0.125)), decode(encode("sábado"))
((0, 25), 0.125, 'sábado')
"""

from __future__ import annotations

import io
import json
import math
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LOG_ENV", "Opaque", "encode", "decode", "log_path", "write_log", "read_log",
           "CHECKS_FILE", "CHECKS_ENV", "history_path", "append_history", "read_history",
           "fingerprint"]

#: Environment variable naming the grading log of a graded run.
LOG_ENV = "CRMKIT_GRADING_LOG"
#: The file, next to a student's notebook, where every check is logged for the instructor.
CHECKS_FILE = "crmkit-checks.jsonl"
#: Environment variable naming another file for that log.
CHECKS_ENV = "CRMKIT_CHECK_LOG"


class Opaque(str):
    """A value the log could not keep (an object): its type name, never equal to an answer."""

    def __eq__(self, other: object) -> bool:  # pragma: no cover - trivial
        return False

    __hash__ = str.__hash__


def encode(value: Any) -> dict:
    """``value`` as a JSON-able dict that :func:`decode` turns back into an equal value."""
    from .exercises import AnyOf

    if value is None:
        return {"k": "none"}
    if isinstance(value, bool | np.bool_):
        return {"k": "bool", "v": bool(value)}
    if isinstance(value, numbers.Integral):
        return {"k": "int", "v": int(value)}
    if isinstance(value, numbers.Real):
        v = float(value)
        return {"k": "float", "v": v if math.isfinite(v) else repr(v)}
    if isinstance(value, str):
        return {"k": "text", "v": str(value)}
    if isinstance(value, AnyOf):
        return {"k": "anyof", "v": [encode(x) for x in value]}
    if isinstance(value, pd.DataFrame | pd.Series):
        kind = "table" if isinstance(value, pd.DataFrame) else "series"
        return {"k": kind, "v": value.to_json(orient="split", date_format="iso")}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index):
        kind = "tuple" if isinstance(value, tuple) else "set" if isinstance(
            value, set | frozenset) else "list"
        items = sorted(value, key=str) if kind == "set" else list(value)
        return {"k": kind, "v": [encode(x) for x in items]}
    return {"k": "opaque", "v": type(value).__name__}


def decode(item: dict) -> Any:
    """The value :func:`encode` wrote."""
    from .exercises import AnyOf

    kind = item.get("k")
    v: Any = item.get("v")  # any value encode wrote
    if kind == "none":
        return None
    if kind in ("bool", "int", "text"):
        return v
    if kind == "float":
        return float(v)
    if kind == "anyof":
        return AnyOf(decode(x) for x in v)
    if kind == "series":
        return pd.read_json(io.StringIO(v), orient="split", typ="series")
    if kind == "table":
        return pd.read_json(io.StringIO(v), orient="split")
    if kind in ("list", "tuple", "set"):
        items = [decode(x) for x in v]
        return tuple(items) if kind == "tuple" else set(items) if kind == "set" else items
    return Opaque(v or "")


def log_path() -> Path | None:
    """The grading log of this run (None outside a graded run)."""
    where = os.environ.get(LOG_ENV)
    return Path(where) if where else None


def write_log(path: Path, log: dict) -> None:
    """Write ``log`` atomically (a run cut off mid-write leaves the previous log whole)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(log, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_log(path: str | Path) -> dict:
    """A grading log: ``{"books": [{"exercises": {...}, "checks": {...}}, ...]}``; empty if none."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"books": []}


def fingerprint(value: Any) -> str:
    """A short mark of an answer: the same answer always gives the same mark.

    >>> fingerprint(0.25) == fingerprint(0.25) != fingerprint(0.26)
    True
    """
    import hashlib

    text = json.dumps(encode(value), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def history_path(in_notebook: bool) -> Path | None:
    """Where a book logs its checks: :data:`CHECKS_ENV` if set, else :data:`CHECKS_FILE` in the
    working folder of a student's notebook (one with a ``student_id``); else nowhere."""
    where = os.environ.get(CHECKS_ENV)
    if where:
        return Path(where)
    return Path.cwd() / CHECKS_FILE if in_notebook else None


def append_history(path: Path, student_id: str | None, exercise: str, status: str,
                   mark: str) -> None:
    """Add one check to the log at ``path`` (a check never fails for want of a log)."""
    from datetime import UTC, datetime

    line = json.dumps({"student_id": student_id, "exercise": exercise, "status": status,
                       "answer": mark, "time": datetime.now(UTC).isoformat(timespec="seconds")},
                      ensure_ascii=False)
    try:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(line + "\n")
    except OSError:
        pass


def read_history(path: str | Path) -> list[dict]:
    """The checks logged at ``path`` (lines that are not JSON are left out)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    out = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("exercise"), str):
            out.append(item)
    return out
