"""`CRMData`: the tables of one shop, validated, saved and loaded as a folder.

Every source (the synthetic generator, cleansed extracts, a user's exports)
ends as a :class:`CRMData`, and every analysis reads only that.

>>> from crmkit.dataset.synth import generate
>>> data = generate("boutique", n_customers=50, seed=1)
>>> data.validate() is data
True
>>> sorted(data.summary()["rows"].index)[:3]
['campaign_contacts', 'campaigns', 'customers']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import __version__
from ..errors import DatasetError, SchemaError, check_choice
from .schema import DTYPES, SCHEMA, TABLE_NAMES, conform, validate_table

__all__ = ["CRMData", "MANIFEST", "FORMATS", "read_json"]

MANIFEST = "manifest.json"
FORMATS = ("csv", "parquet")
TRUTH_DIR = "truth"


@dataclass
class CRMData:
    """The canonical tables of one shop, as pandas DataFrames.

    Parameters
    ----------
    tables : dict of str to DataFrame
        One DataFrame per canonical table (see :data:`crmkit.dataset.schema.SCHEMA`).
    manifest : dict
        Where the data came from: profile, seed, size, period, crmkit version.
    truth : dict of str to DataFrame
        What the generator knows and a real shop does not (e.g. which
        customers had dropped out); empty for real data.
    """

    tables: dict[str, pd.DataFrame]
    manifest: dict = field(default_factory=dict)
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [t for t in TABLE_NAMES if t not in self.tables]
        if missing:
            raise SchemaError(
                "CRMData is missing table(s) " + ", ".join(repr(m) for m in missing)
                + "; give every canonical table, empty ones included "
                "(crmkit.dataset.schema.empty_table)."
            )
        unknown = [t for t in self.tables if t not in SCHEMA]
        if unknown:
            raise SchemaError(
                "CRMData got unknown table(s) " + ", ".join(repr(u) for u in unknown)
                + f"; the canonical tables are: {', '.join(TABLE_NAMES)}."
            )

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"CRMData(profile={self.manifest.get('profile')!r}, {sizes})"

    def summary(self) -> pd.DataFrame:
        """Rows and columns of every table."""
        return pd.DataFrame(
            {
                "rows": {k: len(v) for k, v in self.tables.items()},
                "columns": {k: v.shape[1] for k, v in self.tables.items()},
            }
        )

    def validate(self) -> CRMData:
        """Check every table and every reference between tables; return ``self``.

        Raises :class:`~crmkit.errors.SchemaError` naming the table, the column
        and the first rows at fault.
        """
        for name in TABLE_NAMES:
            validate_table(name, self.tables[name])
        for name in TABLE_NAMES:
            df = self.tables[name]
            for col in SCHEMA[name].columns:
                if not col.references:
                    continue
                ref_table, ref_col = col.references.split(".")
                values = df[col.name].dropna()
                known = self.tables[ref_table][ref_col]
                bad = ~values.isin(known)
                if bad.any():
                    rows = ", ".join(str(i) for i in values.index[bad.to_numpy()][:5])
                    raise SchemaError(
                        f"table {name!r}, column {col.name!r}: {int(bad.sum())} value(s) "
                        f"not found in {ref_table}.{ref_col} (first rows: {rows}); every "
                        f"{col.name} must exist in table {ref_table!r}."
                    )
        return self

    # ------------------------------------------------------------------ I/O
    def save(self, path: str | Path, *, format: str = "csv") -> Path:
        """Write the dataset to folder ``path``: one file per table and ``manifest.json``.

        CSV is for people (opens in a spreadsheet); Parquet is for speed.
        The files are deterministic: the same data gives the same bytes.
        """
        check_choice("format", format, FORMATS)
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name, df in self.tables.items():
            _write(df, path / f"{name}.{format}", format)
        if self.truth:
            (path / TRUTH_DIR).mkdir(exist_ok=True)
            for name, df in self.truth.items():
                _write(df, path / TRUTH_DIR / f"{name}.{format}", format)
        manifest = {
            **self.manifest,
            "format": format,
            "crmkit_version": self.manifest.get("crmkit_version", __version__),
            "tables": {k: len(v) for k, v in self.tables.items()},
            "truth": sorted(self.truth),
        }
        (path / MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        return path

    @classmethod
    def load(cls, path: str | Path, *, validate: bool = True) -> CRMData:
        """Read a dataset folder written by :meth:`save` (or by hand, with the same files).

        A missing folder, table file or column gives a
        :class:`~crmkit.errors.DatasetError` that names it.
        """
        path = Path(path)
        if not path.is_dir():
            raise DatasetError(
                f"data_dir={str(path)!r} is not a folder; give the folder that holds "
                f"{MANIFEST} and one file per table (e.g. data/samples/boutique)."
            )
        manifest = read_json(path / MANIFEST)
        tables = {}
        for name in TABLE_NAMES:
            file = _find(path, name)
            if file is None:
                raise DatasetError(
                    f"dataset {str(path)!r} has no table {name!r}: expected {name}.csv "
                    f"or {name}.parquet in that folder."
                )
            try:
                tables[name] = conform(name, _read(file, name))
            except SchemaError as exc:
                raise DatasetError(f"{file}: {exc}") from exc
        truth = {}
        tdir = path / TRUTH_DIR
        if tdir.is_dir():
            for f in sorted(tdir.iterdir()):
                if f.suffix == ".csv":
                    df = pd.read_csv(f, keep_default_na=False, na_values=[""])
                    for col in [c for c in df.columns if c.endswith("_date")]:
                        df[col] = pd.to_datetime(df[col], format="ISO8601").astype(
                            "datetime64[us]")
                    truth[f.stem] = df
                elif f.suffix == ".parquet":
                    truth[f.stem] = pd.read_parquet(f)
        data = cls(tables, manifest, truth)
        if validate:
            try:
                data.validate()
            except SchemaError as exc:
                raise DatasetError(f"dataset {str(path)!r}: {exc}") from exc
        return data


def read_json(file: Path) -> dict:
    """A manifest file as a dict; ``{}`` when it is absent, a clear error when it is broken."""
    if not file.exists():
        return {}
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{file} is not valid JSON: {exc}; regenerate or fix it.") from exc


def _find(path: Path, name: str) -> Path | None:
    for ext in FORMATS:
        f = path / f"{name}.{ext}"
        if f.exists():
            return f
    return None


def _write(df: pd.DataFrame, file: Path, format: str) -> None:
    if format == "csv":
        df.to_csv(file, index=False, lineterminator="\n")
    else:
        df.to_parquet(file, index=False)


def _read(file: Path, name: str) -> pd.DataFrame:
    if file.suffix == ".parquet":
        return pd.read_parquet(file)
    columns = SCHEMA[name].columns
    dtypes = {c.name: DTYPES[c.dtype] for c in columns if c.dtype in ("str", "Int", "float")}
    try:
        head = pd.read_csv(file, nrows=0)
    except (pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{file}: cannot read a header line ({exc}).") from exc
    missing = [c.name for c in columns if c.name not in head.columns]
    if missing:
        raise DatasetError(
            f"{file}: table {name!r} is missing column(s) "
            + ", ".join(repr(m) for m in missing)
            + f". Expected columns: {', '.join(c.name for c in columns)}."
        )
    try:
        return pd.read_csv(
            file,
            dtype={k: v for k, v in dtypes.items() if k in head.columns},
            keep_default_na=False,
            na_values=[""],
        )
    except ValueError as exc:
        raise DatasetError(f"{file}: {exc}") from exc

