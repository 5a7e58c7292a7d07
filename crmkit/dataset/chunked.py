"""A shop's tables read a slice of rows at a time, from memory or from its dataset folder.

A writer that turns each row into text (the source extracts) needs one slice of a
table at a time, not the whole shop: :class:`ShopTables` gives the same rows, with
the same dtypes, whether the shop is a :class:`~crmkit.dataset.crmdata.CRMData` in
memory or a folder written by :meth:`CRMData.save <crmkit.dataset.crmdata.CRMData.save>`
or :func:`crmkit.dataset.synth.write_shop` (CSV or Parquet). A folder's slices are
read and conformed one at a time, as :meth:`CRMData.load
<crmkit.dataset.crmdata.CRMData.load>` conforms whole tables, so a table of 50 M rows
costs the memory of one slice.

>>> import tempfile
>>> from crmkit.dataset.synth import generate
>>> data = generate("boutique", n_customers=50, seed=1)
>>> folder = data.save(tempfile.mkdtemp() + "/shop", format="parquet")
>>> tables = ShopTables.of(folder)
>>> tables.rows("orders") == len(data.orders)
True
>>> sizes = [len(part) for part in tables.chunks("orders", rows=100)]
>>> sum(sizes) == len(data.orders), max(sizes)
(True, 100)
>>> tables.table("orders", ["order_id", "placed_at"]).equals(data.orders[["order_id", "placed_at"]])
True
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from ..errors import DatasetError, MissingTableError, ParameterError
from .crmdata import (
    CSV_READ_ERRORS,
    FORMATS,
    MANIFEST,
    CRMData,
    check_files,
    conform_read,
    csv_options,
    read_json,
    read_problem,
)
from .schema import DTYPES, SCHEMA, conform

__all__ = ["ShopTables", "CHUNK_ROWS"]

#: Rows per slice unless a reader asks for another size.
CHUNK_ROWS = 500_000


class ShopTables:
    """The tables of one shop, read whole or a slice of rows at a time.

    Build it with :meth:`of` from a :class:`~crmkit.dataset.crmdata.CRMData` or a
    dataset folder. Every slice has a fresh index from 0, its columns in the schema's
    dtypes (as :meth:`CRMData.load <crmkit.dataset.crmdata.CRMData.load>` gives them).
    A folder is checked against the digests its manifest records; its tables are not
    validated against each other (that needs them all in memory). A file that cannot be
    read, or a value its column cannot take, is refused with the
    :class:`~crmkit.errors.DatasetError` :meth:`CRMData.load
    <crmkit.dataset.crmdata.CRMData.load>` gives (it names the file and line).
    """

    def __init__(self, data: CRMData | None = None, folder: Path | None = None,
                 manifest: dict | None = None) -> None:
        self._data = data
        self._folder = folder
        self.manifest: dict = dict(data.manifest if data is not None else manifest or {})

    @classmethod
    def of(cls, source: CRMData | str | Path) -> ShopTables:
        """The tables of ``source``: a :class:`CRMData`, or the folder of a saved dataset."""
        if isinstance(source, CRMData):
            return cls(data=source)
        if not isinstance(source, (str, Path)):
            raise ParameterError(f"expected a CRMData or a dataset folder, got "
                                 f"{type(source).__name__}.")
        folder = Path(source)
        if not (folder / MANIFEST).is_file():
            raise DatasetError(f"data_dir={str(folder)!r} is not a dataset folder (no "
                               f"{MANIFEST}); give a folder written by save or write_shop.")
        manifest = read_json(folder / MANIFEST)
        check_files(folder, manifest)
        return cls(folder=folder, manifest=manifest)

    # ------------------------------------------------------------------ what is there
    def _file(self, name: str) -> Path | None:
        for ext in FORMATS:  # CSV first, as CRMData.load
            if self._folder is not None and (f := self._folder / f"{name}.{ext}").is_file():
                return f
        return None

    def has(self, name: str) -> bool:
        """Whether the shop has table ``name`` (a table marked absent counts as absent)."""
        if self._data is not None:
            return name in self._data.tables and name not in self._data.absent
        return self._file(name) is not None and name not in self.manifest.get(
            "absent_tables", ())

    def require(self, name: str) -> None:
        """Raise :class:`~crmkit.errors.MissingTableError` if the shop lacks table ``name``."""
        if self._data is not None:
            getattr(self._data, name)  # CRMData says which table is missing and why
        elif self._file(name) is None:
            raise MissingTableError(
                f"this shop's data has no table {name!r}: expected {name}.parquet or "
                f"{name}.csv in {str(self._folder)!r}.", table=name)

    def rows(self, name: str) -> int:
        """Number of rows of table ``name``."""
        self.require(name)
        if self._data is not None:
            return len(self._data.tables[name])
        file = self._file(name)
        assert file is not None
        if file.suffix == ".parquet":
            return int(pq.ParquetFile(file).metadata.num_rows)
        recorded = self.manifest.get("tables", {}).get(name)
        if isinstance(recorded, int):
            return recorded
        return sum(len(part) for part in self.chunks(name))

    # ------------------------------------------------------------------ reading
    def chunks(self, name: str, *, rows: int = CHUNK_ROWS,
               columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """Table ``name`` as consecutive slices of at most ``rows`` rows (none if empty)."""
        if rows < 1:
            raise ParameterError(f"rows={rows!r} must be at least 1.")
        self.require(name)
        cols = list(columns) if columns is not None else None
        if self._data is not None:
            df = self._data.tables[name]
            for start in range(0, len(df), rows):
                part = df.iloc[start:start + rows]
                yield (part[cols] if cols is not None else part).reset_index(drop=True)
            return
        currency = str(self.manifest.get("currency") or "EUR")
        file = self._file(name)
        assert file is not None
        for raw in self._raw_chunks(name, rows):
            part = conform_read(file, name, raw.reset_index(drop=True), currency=currency)
            yield part[cols] if cols is not None else part

    def table(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Table ``name`` whole (only ``columns``, if given), read a slice at a time."""
        if self._data is not None:
            self.require(name)
            df = self._data.tables[name]
            return df[list(columns)] if columns is not None else df
        parts = list(self.chunks(name, columns=columns))
        if not parts:
            empty = conform(name, pd.DataFrame(
                {c.name: pd.Series(dtype=DTYPES[c.dtype]) for c in SCHEMA[name].columns}))
            return empty[list(columns)] if columns is not None else empty
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def _raw_chunks(self, name: str, rows: int) -> Iterator[pd.DataFrame]:
        file = self._file(name)
        assert file is not None
        if file.suffix == ".parquet":
            yield from _parquet_slices(file, rows)
            return
        options = csv_options(file, name)
        try:
            with pd.read_csv(file, chunksize=rows, **options) as reader:
                yield from reader
        except CSV_READ_ERRORS as exc:
            raise read_problem(file, name, exc) from exc


def _parquet_slices(file: Path, rows: int) -> Iterator[pd.DataFrame]:
    """A Parquet table file's rows, ``rows`` at a time (as ``pandas.read_parquet`` types
    them); a file pyarrow cannot read is refused as :meth:`CRMData.load
    <crmkit.dataset.crmdata.CRMData.load>` refuses it."""
    try:
        batches = pq.ParquetFile(file).iter_batches(batch_size=rows)
        for batch in batches:
            yield batch.to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DatasetError(
            f"{file}: not a readable Parquet file ({type(exc).__name__}: {exc}); "
            "write it again or give the table as CSV.") from exc
