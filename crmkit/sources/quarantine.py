"""Row validation with pandera and the quarantine of rows that cannot be used.

Each importer parses a file's text columns into typed values, then checks
every row at once with a pandera schema (*lazy* validation: all failures,
not the first). A row with any failure is quarantined with its file, its
1-based line in the file, the column, the reason and the value as written;
the others are imported. Nothing is dropped silently: the import report
shows, for every file, rows read = rows imported + rows quarantined.

>>> import pandas as pd
>>> import pandera.pandas as pa
>>> parsed = pd.DataFrame({"amount": [3.5, float("nan"), -1.0], "_line": [2, 3, 4]})
>>> raw = pd.DataFrame({"importe": ["3,5", "tres", "-1"]})
>>> schema = pa.DataFrameSchema({"amount": pa.Column(float, pa.Check.ge(0), nullable=False)})
>>> ok, bad = validate_rows(parsed, schema, file="log.csv", raw=raw,
...                         source_columns={"amount": "importe"})
>>> ok.tolist()
[True, False, False]
>>> bad[["line", "column", "reason", "value"]].values.tolist()
[[3, 'importe', 'empty or unreadable', 'tres'], [4, 'importe', 'must be >= 0', '-1']]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..dataset.crmdata import CRMData
from ..dataset.folder import LOCK_TIMEOUT
from ..errors import SourceError
from .table import LINE, TextTable

__all__ = [
    "QUARANTINE_COLUMNS",
    "ImportResult",
    "FileReport",
    "validate_rows",
    "quarantine_rows",
    "file_report",
    "broken_rows",
    "problem_rows",
    "IMPORT_REPORT",
    "QUARANTINE_FILE",
]

QUARANTINE_COLUMNS = ["file", "line", "column", "reason", "value"]
IMPORT_REPORT = "import_report.json"
QUARANTINE_FILE = "quarantine.csv"

_REASONS = {
    "not_nullable": "empty or unreadable",
    "greater_than_or_equal_to": "must be >= {v}",
    "greater_than": "must be > {v}",
    "less_than_or_equal_to": "must be <= {v}",
    "in_range": "out of range {v}",
    "isin": "not one of {v}",
    "field_uniqueness": "duplicated",
}


def _reason(check: str) -> str:
    name, _, arg = str(check).partition("(")
    arg = arg.rstrip(")")
    template = _REASONS.get(name)
    if template is None:
        return str(check).replace("_", " ")
    return template.format(v=arg)


def quarantine_rows(frame: pd.DataFrame, mask: npt.ArrayLike, *, file: str, column: str,
                    reason: str,
                    raw: pd.DataFrame | None = None, source_column: str | None = None
                    ) -> pd.DataFrame:
    """Quarantine entries for the rows of ``frame`` where ``mask`` is true."""
    mask = np.asarray(mask, dtype=bool)
    rows = frame.loc[mask]
    src = source_column or column
    if raw is not None and src in raw.columns:
        values = raw.loc[mask, src].astype("str").to_numpy()
    elif column in frame.columns:
        values = rows[column].astype("str").to_numpy()
    else:
        values = np.full(len(rows), "", dtype=object)
    return pd.DataFrame({"file": file, "line": rows[LINE].to_numpy(dtype="int64"),
                         "column": src, "reason": reason, "value": values})


def problem_rows(parsed: pd.DataFrame, problems: dict[str, pd.Series], *, file: str,
                 raw: pd.DataFrame | None = None, source_columns: dict[str, str] | None = None
                 ) -> tuple[pd.Series, pd.DataFrame]:
    """Quarantine the values a column parser could not read; return (usable mask, quarantine).

    ``problems`` maps a parsed column to a Series of reasons (NA where the value
    is fine), as :func:`~crmkit.sources.numbers.parse_numbers` and
    :func:`~crmkit.sources.dates.parse_times` give them; every reason is kept.

    >>> parsed = pd.DataFrame({"price": [1.0, float("nan")], "_line": [2, 3]})
    >>> ok, bad = problem_rows(parsed, {"price": pd.Series([pd.NA, "non_finite"])},
    ...                        file="f.csv", raw=pd.DataFrame({"Precio": ["1", "inf"]}),
    ...                        source_columns={"price": "Precio"})
    >>> ok.tolist(), bad.values.tolist()
    ([True, False], [['f.csv', 3, 'Precio', 'non_finite', 'inf']])
    """
    source_columns = source_columns or {}
    ok = pd.Series(True, index=parsed.index)
    out = [pd.DataFrame(columns=QUARANTINE_COLUMNS)]
    for column, problem in problems.items():
        problem = pd.Series(problem, index=parsed.index)
        for reason in pd.unique(problem.dropna()):
            mask = (problem == reason).fillna(False).to_numpy(dtype=bool)
            out.append(quarantine_rows(parsed, mask, file=file, column=column, reason=reason,
                                       raw=raw, source_column=source_columns.get(column, column)))
            ok &= ~mask
    bad = pd.concat(out, ignore_index=True) if len(out) > 1 else out[0]
    return ok, bad.sort_values(["line", "column"], kind="stable").reset_index(drop=True)


def validate_rows(parsed: pd.DataFrame, schema: pa.DataFrameSchema, *, file: str,
                  raw: pd.DataFrame | None = None, source_columns: dict[str, str] | None = None
                  ) -> tuple[pd.Series, pd.DataFrame]:
    """Check every row of ``parsed`` with ``schema`` (lazily); return (usable mask, quarantine).

    ``parsed`` must carry the ``_line`` column; ``raw`` holds the text as written
    (same index) and ``source_columns`` maps a parsed column to the file's
    column name, so that each failure names the column the user knows.
    A failure that concerns a whole column (it is missing) is a
    :class:`~crmkit.errors.SourceError`, since no row can be judged.
    """
    source_columns = source_columns or {}
    ok = pd.Series(True, index=parsed.index)
    try:
        schema.validate(parsed, lazy=True)
        return ok, pd.DataFrame(columns=QUARANTINE_COLUMNS)
    except SchemaErrors as exc:
        cases = exc.failure_cases
    whole = cases[cases["index"].isna()]
    if len(whole):
        first = whole.iloc[0]
        raise SourceError(
            f"{file}: column {source_columns.get(first['column'], first['column'])!r} "
            f"failed {first['check']} ({first['failure_case']}); check the column mapping."
        )
    cases = cases.drop_duplicates(["index", "column"])
    out = []
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        idx = pd.Index(group["index"].astype("int64"))
        mask = parsed.index.isin(idx)
        ok &= ~mask
        out.append(quarantine_rows(parsed, mask, file=file, column=column,
                                   reason=_reason(check), raw=raw,
                                   source_column=source_columns.get(column, column)))
    bad = pd.concat(out, ignore_index=True).sort_values(["line", "column"], kind="stable")
    return ok, bad.reset_index(drop=True)


def broken_rows(table: TextTable) -> pd.DataFrame:
    """Quarantine entries for a file's records that did not split into its columns."""
    return pd.DataFrame([{"file": table.path.name, "line": ln, "column": "(whole line)",
                          "reason": reason, "value": text} for ln, reason, text in table.broken],
                        columns=QUARANTINE_COLUMNS)


class FileReport(TypedDict):
    """One file's line of the import report."""

    file: str
    rows_read: int
    rows_imported: int
    rows_quarantined: int


def file_report(file: str, rows_read: int, quarantined: pd.DataFrame) -> FileReport:
    """One line of the import report: rows read = imported + quarantined."""
    n_bad = int(quarantined.loc[quarantined["file"] == file, "line"].nunique()) if len(
        quarantined) else 0
    return {"file": file, "rows_read": int(rows_read), "rows_imported": int(rows_read) - n_bad,
            "rows_quarantined": n_bad}


@dataclass
class ImportResult:
    """What an import produced: the dataset, the report per file and the quarantined rows.

    ``notes`` counts what the import decided and the analyst should know
    (guest orders, cancellations, returns, statuses and payment methods kept
    as ``other``), never silently.
    """

    data: CRMData
    report: pd.DataFrame
    quarantine: pd.DataFrame
    notes: dict[str, object] = field(default_factory=dict)
    source: dict[str, object] = field(default_factory=dict)
    #: code tables (``customer_codes``, ``order_codes``): the source's own codes for the
    #: integer ids the dataset uses, written beside it as CSV
    codes: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """Whether rows read = rows imported + rows quarantined for every file."""
        r = self.report
        return bool((r["rows_read"] == r["rows_imported"] + r["rows_quarantined"]).all())

    @property
    def usable(self) -> bool:
        """Whether any order was imported (the command fails only when none was)."""
        return len(self.data.orders) > 0

    def summary(self) -> str:
        """The import report as text, as the command prints it."""
        lines = [f"import of {self.data.shop_name!r} ({self.source.get('kind', '?')})"]
        with pd.option_context("display.width", 160, "display.max_columns", 10):
            lines.append(self.report.to_string(index=False))
        lines.append("tables: " + ", ".join(f"{k} {len(v):,}"
                                            for k, v in self.data.tables.items()))
        for k, v in self.notes.items():
            lines.append(f"{k}: {v}")
        if len(self.quarantine):
            reasons = self.quarantine.groupby(["file", "column", "reason"]).size()
            lines.append("quarantined (file, column, reason: rows):")
            lines += [f"  {f}, {c}, {r}: {n}"
                      for f, c, r, n in reasons.reset_index().itertuples(index=False)]
        return "\n".join(lines)

    def save(self, out: str | Path, *, format: str = "csv",
             lock_timeout: float = LOCK_TIMEOUT) -> Path:
        """Write the dataset folder, ``import_report.json`` and ``quarantine.csv``.

        The folder is written whole into a temporary folder beside ``out`` and renamed
        into place, under ``out``'s lock (see :meth:`CRMData.save`); the manifest
        records every file's rows and checksum.
        """
        def extra(folder: Path) -> list[str]:
            report = {
                "source": self.source,
                "files": self.report.to_dict(orient="records"),
                "balanced": self.balanced,
                "notes": self.notes,
            }
            (folder / IMPORT_REPORT).write_text(
                json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
            self.quarantine.to_csv(folder / QUARANTINE_FILE, index=False, lineterminator="\n")
            for name, table in self.codes.items():
                table.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
            return [IMPORT_REPORT, QUARANTINE_FILE, *(f"{n}.csv" for n in self.codes)]

        return self.data.save(out, format=format, lock_timeout=lock_timeout, extra=extra)
