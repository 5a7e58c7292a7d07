"""`CRMData`: the tables of one shop, validated, saved and loaded as a folder.

Every source (the synthetic generator, cleansed extracts, a user's exports)
ends as a :class:`CRMData`, and every analysis reads only that.

>>> from crmkit.dataset.synth import generate
>>> data = generate("boutique", n_customers=50, seed=1)
>>> data.validate() is data
True
>>> sorted(data.summary()["rows"].index)[:3]
['campaign_contacts', 'campaigns', 'customers']

A real shop's data may hold only some tables (at least ``orders``). An
analysis asks for what it needs, and a missing table gets one clear error:

>>> from crmkit.dataset.schema import empty_table
>>> log = CRMData({"orders": empty_table("orders")}, {"shop_name": "Disco Sur"})
>>> log.has("orders"), log.has("incidents")
(True, False)
>>> log.tickets
Traceback (most recent call last):
...
crmkit.errors.MissingTableError: this shop's data has no table 'tickets'...
>>> log.shop_name, log.slug, log.currency
('Disco Sur', 'disco-sur', 'EUR')
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import __version__
from ..errors import DatasetError, MissingTableError, SchemaError, check_choice
from .schema import (
    CONTENT,
    DTYPES,
    REQUIRED_TABLES,
    SCHEMA,
    TABLE_NAMES,
    conform,
    empty_table,
    needs,
    validate_table,
)

__all__ = ["CRMData", "MANIFEST", "FORMATS", "read_json", "slugify"]

MANIFEST = "manifest.json"
FORMATS = ("csv", "parquet")
TRUTH_DIR = "truth"
#: Money columns a table file may lack (a folder from an older crmkit): conform fills them.
FILLED_MONEY = {
    "order_lines": ("amount_cents", "unit_price", "discount"),
    "orders": ("shipping_cents", "shipping_cost", "discount_cents", "tax_cents",
               "refunded_cents"),
}


@dataclass
class CRMData:
    """The canonical tables of one shop, as pandas DataFrames.

    Parameters
    ----------
    tables : dict of str to DataFrame
        One DataFrame per canonical table the shop has (see
        :data:`crmkit.dataset.schema.SCHEMA`); ``orders`` is required, every other
        table may be absent (an order log has no incidents).
    manifest : dict
        Where the data came from: ``shop_name``, ``currency`` (ISO 4217),
        ``timezone`` (IANA), ``origin`` (``synthetic``, ``shopify``, ``orders``...),
        and for synthetic shops profile, seed, size and period.
    truth : dict of str to DataFrame
        What the generator knows and a real shop does not (e.g. which
        customers had dropped out); empty for real data.
    """

    tables: dict[str, pd.DataFrame]
    manifest: dict = field(default_factory=dict)
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [t for t in REQUIRED_TABLES if t not in self.tables]
        if missing:
            raise SchemaError(
                "CRMData is missing table(s) " + ", ".join(repr(m) for m in missing)
                + "; every dataset has at least its orders (an empty table is "
                "crmkit.dataset.schema.empty_table('orders'))."
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
        if name in SCHEMA:
            self.require(name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        who = (f"profile={self.manifest['profile']!r}" if self.manifest.get("profile")
               else f"shop={self.shop_name!r}")
        return f"CRMData({who}, {sizes})"

    # ------------------------------------------------------------ partial data
    def has(self, topic: str) -> bool:
        """Whether the data holds every table that ``topic`` (or a table name) needs.

        A table :meth:`complete` added empty still counts as absent.
        """
        if not all(t not in self.absent for t in needs(topic)):
            return False
        return topic not in CONTENT or self._content(topic)

    def _content(self, topic: str) -> bool:
        table, column, _ = CONTENT[topic]
        values = self.tables[table][column].dropna()
        if not pd.api.types.is_datetime64_any_dtype(values):
            return len(values) > 0  # content is any value at all
        return bool((values != values.dt.normalize()).any())

    def require(self, topic: str, *, analysis: str | None = None) -> CRMData:
        """Return ``self`` if the tables ``topic`` needs are here, else raise one clear error.

        Raises :class:`~crmkit.errors.MissingTableError` naming the first absent table.
        """
        for table in needs(topic):
            if table in self.absent:
                what = f"{analysis} needs" if analysis else f"{topic!r} needs"
                raise MissingTableError(
                    f"this shop's data has no table {table!r}; {what} "
                    f"{', '.join(needs(topic))}. The data holds: "
                    f"{', '.join(t for t in self.tables if t not in self.absent)}. Import "
                    "or add that table, or skip this analysis.", table=table)
        if topic in CONTENT and not self._content(topic):
            table, column, what = CONTENT[topic]
            raise MissingTableError(
                f"this shop's {table}.{column} holds no {what}; "
                f"{analysis or repr(topic)} needs them. Skip this analysis.", table=table)
        return self

    @property
    def absent(self) -> tuple[str, ...]:
        """The canonical tables this shop's data does not have (its source lacks them)."""
        marked = set(self.manifest.get("absent_tables", ()))
        return tuple(t for t in TABLE_NAMES if t not in self.tables or t in marked)

    def complete(self) -> CRMData:
        """A copy in which every absent table is present and empty (for writers that
        need the full set of files); the manifest records which ones were absent."""
        tables = {n: self.tables[n] if n in self.tables else empty_table(n)
                  for n in TABLE_NAMES}
        absent = sorted(set(self.manifest.get("absent_tables", [])) | set(self.absent))
        return CRMData(tables, {**self.manifest, "absent_tables": absent}, dict(self.truth))

    # ------------------------------------------------------------ the shop
    @property
    def shop_name(self) -> str:
        """The shop's name as the manifest records it (the profile for a synthetic shop)."""
        return str(self.manifest.get("shop_name") or self.manifest.get("profile") or "shop")

    @property
    def slug(self) -> str:
        """The shop's name as a folder name (report folders use it)."""
        return slugify(self.shop_name)

    @property
    def currency(self) -> str:
        """ISO 4217 code of the money columns (EUR unless the manifest says otherwise)."""
        return str(self.manifest.get("currency") or "EUR")

    @property
    def timezone(self) -> str:
        """IANA time zone of the timestamps, which are local wall-clock times."""
        return str(self.manifest.get("timezone") or "Europe/Madrid")

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
        present = [n for n in TABLE_NAMES if n in self.tables]
        for name in present:
            validate_table(name, self.tables[name])
        for name in present:
            df = self.tables[name]
            for col in SCHEMA[name].columns:
                if not col.references:
                    continue
                ref_table, ref_col = col.references.split(".")
                if ref_table not in self.tables:
                    continue  # a partial dataset: nothing to check against
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

        A missing folder, column, or a table file the manifest lists gives a
        :class:`~crmkit.errors.DatasetError` that names it. Tables the manifest
        does not list may be absent (a partial dataset), except ``orders``.
        """
        path = Path(path)
        if not path.is_dir():
            raise DatasetError(
                f"data_dir={str(path)!r} is not a folder; give the folder that holds "
                f"{MANIFEST} and one file per table (e.g. data/samples/boutique)."
            )
        manifest = read_json(path / MANIFEST)
        tables = {}
        listed = set(manifest.get("tables", ()))
        for name in TABLE_NAMES:
            file = _find(path, name)
            if file is None and name not in listed and name not in REQUIRED_TABLES:
                continue
            if file is None:
                raise DatasetError(
                    f"dataset {str(path)!r} has no table {name!r}: expected {name}.csv "
                    f"or {name}.parquet in that folder."
                )
            try:
                tables[name] = conform(name, _read(file, name),
                                       currency=str(manifest.get("currency") or "EUR"))
            except (SchemaError, DatasetError) as exc:
                where = _first_bad_value(file, name)
                raise DatasetError(f"{file}: {where or exc}") from exc
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


def slugify(name: str) -> str:
    """A name as a lower-case ASCII folder name.

    >>> slugify("Librería Ñandú & Co."), slugify("  "), slugify("sports_shop")
    ('libreria-nandu-co', 'shop', 'sports_shop')
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-_")
    return text or "shop"


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
        try:
            return pd.read_parquet(file)
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise DatasetError(
                f"{file}: not a readable Parquet file ({type(exc).__name__}: {exc}); "
                "write it again or give the table as CSV."
            ) from exc
    columns = SCHEMA[name].columns
    dtypes = {c.name: DTYPES[c.dtype] for c in columns if c.dtype in ("str", "Int", "float")}
    try:
        head = pd.read_csv(file, nrows=0)
    except (pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{file}: cannot read a header line ({exc}).") from exc
    optional = FILLED_MONEY.get(name, ())  # older folders: filled once by conform
    missing = [c.name for c in columns if c.name not in head.columns and c.name not in optional]
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
    except (ValueError, OverflowError, TypeError) as exc:
        raise DatasetError(f"{file}: {_first_bad_value(file, name) or exc}") from exc


def _first_bad_value(file: Path, name: str) -> str | None:
    """Where a CSV table first holds a value its column's type cannot take: column, 1-based
    line (header = line 1) and the value, with how to fix it."""
    if file.suffix != ".csv":
        return None
    try:
        text = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError):
        return None
    for col in SCHEMA[name].columns:
        if col.name not in text.columns or col.dtype == "str":
            continue
        values = text[col.name].str.strip()
        given = values != ""
        if col.dtype in ("int", "Int"):
            number = pd.to_numeric(values.where(given), errors="coerce")
            ok = number.notna() & (number == number.round()) & (number.abs() < 2**63)
        elif col.dtype == "float":
            ok = pd.to_numeric(values.where(given), errors="coerce").notna()
        elif col.dtype in ("date", "datetime"):
            ok = pd.to_datetime(values.where(given), errors="coerce", format="ISO8601").notna()
        elif col.dtype == "bool":
            ok = values.str.lower().isin(["true", "false", "1", "0", "yes", "no"])
        else:
            continue
        bad = given & ~ok
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            kind = {"int": "a whole number", "Int": "a whole number", "float": "a number with a "
                    "decimal point", "date": "a date YYYY-MM-DD", "datetime":
                    "a time YYYY-MM-DD HH:MM:SS", "bool": "True or False"}[col.dtype]
            return (f"column {col.name!r}, line {i + 2}: {values.iloc[i]!r} is not "
                    f"{kind} ({int(bad.sum())} such value(s)); fix the value or the column.")
    return None

