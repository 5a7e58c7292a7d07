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

import ctypes
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .._version import __version__
from ..errors import DatasetError, MissingTableError, ParameterError, SchemaError, check_choice
from .folder import LOCK_TIMEOUT, file_digest, replace_folder
from .locate import (
    decode_problem,
    field_count_problem,
    first_bad_value,
    non_finite_rows,
    place,
)
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

__all__ = ["CRMData", "MANIFEST", "FORMATS", "read_json", "slugify", "check_files",
           "write_tables", "give_back_memory", "csv_options", "read_problem", "conform_read",
           "CSV_READ_ERRORS"]

MANIFEST = "manifest.json"
FORMATS = ("csv", "parquet")
TRUTH_DIR = "truth"
#: Called with the folder being written; returns the names of the further files it wrote.
_Extra = Callable[[Path], Iterable[str]]
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
                    positions = df.index.get_indexer(values.index[bad.to_numpy()])
                    rows = ", ".join(str(i) for i in positions[:5])
                    problem = (f"{int(bad.sum())} value(s) not found in {ref_table}."
                               f"{ref_col}; every {col.name} must exist in table "
                               f"{ref_table!r}")
                    raise SchemaError(
                        f"table {name!r}, column {col.name!r}: {problem} (first rows: "
                        f"{rows}).", table=name, column=col.name, problem=problem,
                        rows=positions.tolist())
        return self

    # ------------------------------------------------------------------ I/O
    def save(self, path: str | Path, *, format: str = "csv",
             lock_timeout: float = LOCK_TIMEOUT, extra: _Extra | None = None) -> Path:
        """Write the dataset to folder ``path``: one file per table and ``manifest.json``.

        CSV is for people (opens in a spreadsheet); Parquet is for speed.
        The files are deterministic: the same data gives the same bytes. The folder
        is written whole or not at all, one writer at a time
        (:func:`crmkit.dataset.folder.replace_folder`): a killed run leaves the
        previous folder as it was, and a folder that held another dataset is replaced
        with no stale file left. ``manifest.json`` records every file's rows and
        SHA-256, which :meth:`load` checks.

        ``extra``, if given, is called with the folder being written and returns the
        names of the further files it wrote there (an import's report and quarantine);
        they are recorded in the manifest too.
        """
        check_choice("format", format, FORMATS)
        path = Path(path)
        with replace_folder(path, timeout=lock_timeout) as tmp:
            self._write_into(tmp, format, extra)
        return path

    def _write_into(self, folder: Path, format: str, extra: _Extra | None) -> None:
        write_tables(folder, format, self.tables.items(), self.truth, self.manifest, extra)

    @classmethod
    def load(cls, path: str | Path, *, validate: bool = True,
             tables: Iterable[str] | None = None) -> CRMData:
        """Read a dataset folder written by :meth:`save` (or by hand, with the same files).

        A missing folder, column, or a table file the manifest lists gives a
        :class:`~crmkit.errors.DatasetError` that names it. Tables the manifest
        does not list may be absent (a partial dataset), except ``orders``.

        ``tables`` names the only tables to read (``orders`` among them), for a use
        that needs no others: the rest stay on disk and the data is a partial
        dataset without them (references into them are not checked).

        >>> import tempfile
        >>> from crmkit.dataset.synth import generate
        >>> folder = generate("bendita", n_customers=50, seed=1).save(
        ...     tempfile.mkdtemp() + "/shop", format="parquet")
        >>> data = CRMData.load(folder, tables=["orders", "order_lines"])
        >>> sorted(data.tables), data.has("sales"), data.has("customers")
        (['order_lines', 'orders'], True, False)
        """
        path = Path(path)
        wanted = _wanted_tables(tables)
        if not path.is_dir() and path.parent.is_dir() and (
                kept := sorted(path.parent.glob(f".{_glob_escape(path.name)}.*.old"))):
            raise DatasetError(
                f"data_dir={str(path)!r} is missing: a write into it was interrupted. The "
                f"previous dataset is kept in {str(kept[-1])!r}; run the import (or save) "
                "again, which puts it back or replaces it.")
        if not path.is_dir():
            raise DatasetError(
                f"data_dir={str(path)!r} is not a folder; give the folder that holds "
                f"{MANIFEST} and one file per table (e.g. data/samples/boutique)."
            )
        manifest = read_json(path / MANIFEST)
        check_files(path, manifest)
        frames: dict[str, pd.DataFrame] = {}
        files: dict[str, Path] = {}
        listed = set(manifest.get("tables", ()))
        for name in TABLE_NAMES:
            if name not in wanted:
                continue
            file = _find(path, name)
            if file is None and name not in listed and name not in REQUIRED_TABLES:
                continue
            if file is None:
                raise DatasetError(
                    f"dataset {str(path)!r} has no table {name!r}: expected {name}.csv "
                    f"or {name}.parquet in that folder."
                )
            files[name] = file
            frames[name] = conform_read(file, name, _read(file, name),
                                        currency=str(manifest.get("currency") or "EUR"))
        truth = _read_truth(path / TRUTH_DIR)
        data = cls(frames, manifest, truth)
        if validate:
            try:
                data.validate()
            except SchemaError as exc:
                table = exc.table
                if table in files and (broken := field_count_problem(files[table])):
                    raise DatasetError(f"{files[table]}: {broken}") from exc
                if table in files and exc.rows:
                    raise DatasetError(
                        f"{files[table]}: column {exc.column!r}, {place(files[table], exc.rows)}"
                        f": {exc.problem}. Fix the value(s) in the file.") from exc
                raise DatasetError(f"dataset {str(path)!r}: {exc}") from exc
        return data


def write_tables(folder: Path, format: str, tables: Iterable[tuple[str, pd.DataFrame]],
                 truth: Mapping[str, pd.DataFrame], manifest: dict,
                 extra: _Extra | None = None) -> None:
    """Write the files of a dataset into ``folder`` (being filled): what :meth:`CRMData.save`
    writes, from ``(name, table)`` pairs that may come one at a time.

    A table is not held once written, so a producer that makes each table when asked
    (:func:`crmkit.dataset.synth.write_shop`) never needs all of them at once. ``truth``
    is read after the last table.
    """
    files: dict[str, int | None] = {}
    rows: dict[str, int] = {}
    for name, df in tables:
        _write(df, folder / f"{name}.{format}", format)
        files[f"{name}.{format}"] = rows[name] = len(df)
        del df  # not held while the next table is made
        give_back_memory()
    if truth:
        (folder / TRUTH_DIR).mkdir(exist_ok=True)
        for name, df in truth.items():
            _write(df, folder / TRUTH_DIR / f"{name}.{format}", format)
            files[f"{TRUTH_DIR}/{name}.{format}"] = len(df)
    for name in (extra(folder) if extra else ()):
        files[str(name)] = None
    manifest = {
        **{k: v for k, v in manifest.items() if k != "files"},
        "format": format,
        "crmkit_version": manifest.get("crmkit_version", __version__),
        "tables": rows,
        "truth": sorted(truth),
        "files": {f: {"rows": n, "sha256": file_digest(folder / f)}
                  for f, n in sorted(files.items())},
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def give_back_memory() -> None:
    """Return the memory of freed tables to the system, not only to the allocators.

    Arrow's allocator keeps freed blocks for reuse, and so does the C library's ``malloc``
    (the many small strings and arrays a table is made from leave its heap full of holes
    it does not give back by itself): a process that makes one big table after another
    would otherwise hold the memory of all of them at once. Both are asked to release
    what is unused (``malloc_trim`` where the C library is glibc; nothing elsewhere).
    """
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (macOS, Windows, musl)
        return None


_LIBC = _glibc() if sys.platform.startswith("linux") else None


def _parquet_by_column(file: Path) -> pd.DataFrame:
    """``pd.read_parquet(file)``, one column at a time: the same frame, without Arrow's copy
    of the whole table beside pandas' (the peak is the frame and one column, not twice
    the frame). A file that stores its index as columns is read whole, as pandas does."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(file)
    pandas_meta = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
    if len(schema.names) < 2 or any(
            isinstance(c, str) for c in pandas_meta.get("index_columns", [])):
        return pd.read_parquet(file)
    columns = {}
    for name in schema.names:
        columns[name] = pd.read_parquet(file, columns=[name])[name]
        give_back_memory()
    return pd.DataFrame(columns, copy=False)


def check_files(path: Path, manifest: dict) -> None:
    """Refuse a folder whose files do not match the ``files`` its manifest records.

    Each recorded file must be there with the same SHA-256; a table file the manifest
    does not record (a stale file of another source) is refused too. A manifest
    without ``files`` (a folder made by hand or by an older crmkit) is not checked.
    """
    recorded = manifest.get("files")
    if not isinstance(recorded, dict):
        return
    for rel, info in recorded.items():
        file = path / rel
        if not file.is_file():
            raise DatasetError(
                f"{file}: listed in {path / MANIFEST} but missing; the folder is incomplete "
                "(an interrupted copy?). Import or save the dataset again.")
        want = info.get("sha256") if isinstance(info, dict) else None
        if want and file_digest(file) != want:
            rows = info.get("rows")
            expect = f" (expected {rows:,} rows)" if isinstance(rows, int) else ""
            raise DatasetError(
                f"{file}: does not match {path / MANIFEST}{expect}: it changed after the "
                "dataset was written (an interrupted write, or an edit). Import or save the "
                "dataset again; if you edited it on purpose, remove its entry from 'files' "
                "in manifest.json.")
    for name in TABLE_NAMES:
        for ext in FORMATS:
            f = f"{name}.{ext}"
            if (path / f).exists() and f not in recorded:
                raise DatasetError(
                    f"{path / f}: a table file that {path / MANIFEST} does not record (left "
                    "from another dataset?); move it away, or import the dataset again.")


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


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


def _wanted_tables(tables: Iterable[str] | None) -> frozenset[str]:
    """The tables :meth:`CRMData.load` reads: every one, or those named (orders among them)."""
    if tables is None:
        return frozenset(TABLE_NAMES)
    wanted = frozenset([tables] if isinstance(tables, str) else tables)
    unknown = sorted(wanted - set(TABLE_NAMES))
    if unknown:
        raise ParameterError(f"tables={sorted(wanted)!r}: no table named "
                             f"{', '.join(map(repr, unknown))}; the tables are: "
                             f"{', '.join(TABLE_NAMES)}.")
    missing = [t for t in REQUIRED_TABLES if t not in wanted]
    if missing:
        raise ParameterError(f"tables={sorted(wanted)!r} must include "
                             f"{', '.join(map(repr, missing))}: every dataset has its orders.")
    return wanted


def _read_parquet(file: Path) -> pd.DataFrame:
    try:
        return _parquet_by_column(file)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DatasetError(
            f"{file}: not a readable Parquet file ({type(exc).__name__}: {exc}); "
            "write it again or give the table as CSV."
        ) from exc


#: What ``pandas.read_csv`` raises on a table file it cannot read (see :func:`read_problem`).
CSV_READ_ERRORS = (UnicodeDecodeError, ValueError, OverflowError, TypeError)


def _read(file: Path, name: str) -> pd.DataFrame:
    if file.suffix == ".parquet":
        return _read_parquet(file)
    try:
        return pd.read_csv(file, **csv_options(file, name))
    except CSV_READ_ERRORS as exc:
        raise read_problem(file, name, exc) from exc


def csv_options(file: Path, name: str) -> dict:
    """The ``pandas.read_csv`` options that read CSV table ``name`` from ``file`` (dtypes of
    the columns its header has); a header that cannot be read, or lacks a column of the
    table, is refused with a :class:`~crmkit.errors.DatasetError` naming the file."""
    columns = SCHEMA[name].columns
    dtypes = {c.name: DTYPES[c.dtype] for c in columns if c.dtype in ("str", "Int", "float")}
    try:
        head = pd.read_csv(file, nrows=0)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{file}: {decode_problem(file) or exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise DatasetError(f"{file}: cannot read a header line ({exc}).") from exc
    optional = FILLED_MONEY.get(name, ())  # older folders: filled once by conform
    missing = [c.name for c in columns if c.name not in head.columns and c.name not in optional]
    if missing:
        raise DatasetError(
            f"{file}: table {name!r} is missing column(s) "
            + ", ".join(repr(m) for m in missing)
            + f". Expected columns: {', '.join(c.name for c in columns)}."
        )
    return {"dtype": {k: v for k, v in dtypes.items() if k in head.columns},
            "keep_default_na": False, "na_values": [""]}


def read_problem(file: Path, name: str, exc: Exception) -> DatasetError:
    """The error for a CSV table file pandas could not read (``exc``): where the file first
    breaks (its encoding, a record's fields, a value), or pandas' own words."""
    if isinstance(exc, UnicodeDecodeError):
        return DatasetError(f"{file}: {decode_problem(file) or exc}")
    where = field_count_problem(file) or first_bad_value(file, name)
    return DatasetError(f"{file}: {where or exc}")


def conform_read(file: Path, name: str, df: pd.DataFrame, *, currency: str) -> pd.DataFrame:
    """:func:`~crmkit.dataset.schema.conform` of table ``name`` (all of it or a slice) as read
    from ``file``: a value its column cannot take, or an infinite number in a CSV file, is
    refused with a :class:`~crmkit.errors.DatasetError` naming the file and line."""
    try:
        out = conform(name, df, currency=currency)
    except SchemaError as exc:
        where = field_count_problem(file) or first_bad_value(file, name)
        raise DatasetError(f"{file}: {where or exc}") from exc
    if file.suffix == ".csv" and non_finite_rows(out, name):
        raise DatasetError(f"{file}: {first_bad_value(file, name)}")
    return out


def _read_truth(tdir: Path) -> dict[str, pd.DataFrame]:
    """The generator's truth files; a bad value gives one line naming file, line, column."""
    truth: dict[str, pd.DataFrame] = {}
    if not tdir.is_dir():
        return truth
    for f in sorted(tdir.iterdir()):
        if f.suffix == ".parquet":
            truth[f.stem] = _read_parquet(f)
            continue
        if f.suffix != ".csv":
            continue
        try:
            df = pd.read_csv(f, keep_default_na=False, na_values=[""])
        except (ValueError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{f}: not a readable CSV table ({_first_line(exc)}).") from exc
        for col in [c for c in df.columns if c.endswith("_date")]:
            text = df[col].astype("str").where(df[col].notna(), None)
            day = pd.to_datetime(text, format="ISO8601", errors="coerce")
            bad = (day.isna() & text.notna()).to_numpy()
            if bad.any():
                i = int(bad.nonzero()[0][0])
                raise DatasetError(
                    f"{f}: column {col!r}, {place(f, [i])}: {text.iloc[i]!r} is not a date "
                    f"YYYY-MM-DD ({int(bad.sum())} such value(s)); fix the value.")
            df[col] = day.astype("datetime64[us]")
        truth[f.stem] = df
    return truth


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
