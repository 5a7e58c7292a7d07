"""A dataset folder goes into the warehouse a table, and a slice of rows, at a time.

The reference is the whole-dataset load the slice-by-slice one replaced, kept here as it
was: :meth:`CRMData.load` reads every table into pandas, and each table goes into ``raw``
whole. Both builds run on the same folders (CSV and Parquet, three profiles, a second
batch, rows the warehouse must quarantine, records over several lines, € and “ ” in
text) with the clock stopped, and every table of every schema must come out the same.
The slice size is made small enough that every table of more than a few rows is split,
and a spy on the reader proves it is.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hand_edit import unseal

from crmkit.dataset import chunked
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.synth import generate
from crmkit.errors import DatasetError
from crmkit.warehouse import direct
from crmkit.warehouse.build import build_warehouse, load_batch, load_report
from crmkit.warehouse.dialect import bind

SLICE = 100
YEAR = {"start": "2024-07-01", "end": "2025-06-30"}
NOW = datetime(2026, 3, 14, 9, 26, 53)


# ----------------------------------------------------------------------------- reference
# The whole-dataset load as it was before tables were read a slice at a time.
class _Whole:
    def __init__(self, data, files, lines, digests, lines_in_file):
        self.data, self.files, self.lines = data, files, lines
        self.digests, self.lines_in_file = digests, lines_in_file

    @property
    def tables(self):
        return [t for t in direct.TABLE_NAMES
                if t in self.data.tables and t not in self.data.absent]

    @property
    def batch_id(self):
        given = self.data.manifest.get("batch_id")
        if given:
            return str(given)
        joined = "".join(f"{k}:{v};" for k, v in sorted(self.digests.items()))
        return "d-" + hashlib.sha256(joined.encode()).hexdigest()[:12]


def _whole_read(source):
    files, lines, digests, counts = {}, {}, {}, {}
    if isinstance(source, CRMData):
        data = source
        for name in data.tables:
            if name in data.absent:
                continue
            df = data.tables[name]
            files[name] = name
            lines[name] = np.arange(1, len(df) + 1, dtype=np.int64)
            h = pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()
            digests[name] = hashlib.sha256(h).hexdigest()
            counts[name] = None
        return _Whole(data, files, lines, digests, counts)
    folder = Path(source)
    data = CRMData.load(folder, validate=False)
    for name in data.tables:
        if name in data.absent:
            continue
        path = next(folder / f"{name}.{ext}" for ext in ("csv", "parquet")
                    if (folder / f"{name}.{ext}").is_file())
        files[name] = path.name
        digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        n = len(data.tables[name])
        if path.suffix == ".csv":
            lines[name], counts[name] = _whole_csv_lines(path, n)
        else:
            lines[name], counts[name] = np.arange(1, n + 1, dtype=np.int64), None
    return _Whole(data, files, lines, digests, counts)


def _whole_csv_lines(path, n_rows):
    data = path.read_bytes()
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if n_lines == n_rows + 1:
        return np.arange(2, n_rows + 2, dtype=np.int64), n_lines
    starts = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        end = reader.line_num
        for _ in reader:
            starts.append(end + 1)
            end = reader.line_num
    assert len(starts) == n_rows
    return np.asarray(starts, dtype=np.int64), n_lines


def _whole_load(con, ds, *, origin=None):
    from crmkit.warehouse.build import _already_loaded, _stage_rows

    batch_id = ds.batch_id
    if _already_loaded(con, batch_id, ds.digests, Path(str(ds.data.manifest.get(
            "shop_name", "dataset")))):
        return False
    seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM meta.batches").fetchall()[0][0]
    now = NOW
    system = str(origin or ds.data.manifest.get("origin") or "dataset")
    direct._same_currency(con, ds.data.currency, ds.data.shop_name)
    con.execute("INSERT INTO meta.batches VALUES (?, ?, ?, ?, ?)",
                [batch_id, seq, None, now, f"dataset {ds.data.shop_name}"])
    for name in ds.tables:
        con.execute(direct._raw_ddl(name))
        df = ds.data.tables[name][direct.SCHEMA[name].column_names].copy()
        df["_batch_id"], df["_file"] = batch_id, ds.files[name]
        df["_line"], df["_loaded_at"] = ds.lines[name], pd.Timestamp(now)
        con.register("_ds", df)
        con.execute(f"INSERT INTO raw.{direct.ident(name)} BY NAME SELECT * FROM _ds")
        con.unregister("_ds")
        file = ds.files[name]
        con.execute("INSERT INTO meta.files VALUES (?, ?, ?, ?)",
                    [batch_id, file, ds.digests.get(file) or ds.digests.get(name),
                     ds.lines_in_file.get(name)])
    counts, steps = {}, []
    for name in ds.tables:
        if name == "orders":
            continue
        if name in direct.RAW_ONLY or name not in direct.STAGE:
            counts[name] = (len(ds.data.tables[name]), 0, 0)
        elif name != "order_lines" or "orders" in ds.tables:
            steps.append((name, *direct.STAGE[name]))
    for name, table, sql in steps:
        params = bind(sql, batch=batch_id, seq=seq, system=system)
        counts[name] = _stage_rows(con, table, name, sql, params, batch_id, seq)
    if "orders" in ds.tables:
        counts["orders"] = direct._orders_count(con, batch_id, ds.files["orders"])
    for name in ds.tables:
        read = len(ds.data.tables[name])
        loaded, held, inferred = counts.get(name, (read, 0, 0))
        con.execute("INSERT INTO meta.load_report VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [batch_id, ds.files[name], system, read, loaded, held,
                     ds.lines_in_file.get(name), read == loaded + held, inferred])
    return True


# ----------------------------------------------------------------------------- helpers
@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(direct, "load_clock", lambda: NOW)
    monkeypatch.setattr(direct, "SLICE_ROWS", SLICE)


@pytest.fixture
def whole(monkeypatch):
    """Within this context, builds and loads of a dataset go the old, whole-table way."""
    def use():
        monkeypatch.setattr(direct, "read_dataset", _whole_read)
        monkeypatch.setattr(direct, "load_dataset", _whole_load)
    return use


@pytest.fixture
def spy(monkeypatch):
    """Every slice the reader gives, as (table, rows asked, rows given)."""
    seen: list[tuple[str, int, int]] = []
    real = chunked.ShopTables.chunks

    def chunks(self, name, *, rows=chunked.CHUNK_ROWS, columns=None):
        for part in real(self, name, rows=rows, columns=columns):
            seen.append((name, rows, len(part)))
            yield part

    def no_whole_load(*args, **kwargs):
        raise AssertionError("the dataset was loaded whole (CRMData.load)")

    monkeypatch.setattr(chunked.ShopTables, "chunks", chunks)
    monkeypatch.setattr(CRMData, "load", no_whole_load)
    return seen


def _dump(db: Path) -> dict[str, pd.DataFrame]:
    """Every table and view of the warehouse, its rows in a fixed order."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                            "WHERE table_catalog = current_database() ORDER BY ALL").fetchall()
        return {f"{s}.{t}": con.execute(f'SELECT * FROM "{s}"."{t}" ORDER BY ALL').df()
                for s, t in names}
    finally:
        con.close()


def _same_warehouse(got: Path, want: Path) -> None:
    a, b = _dump(got), _dump(want)
    assert sorted(a) == sorted(b)
    assert sum(len(df) for df in b.values()) > 0
    for name in b:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def _both(tmp_path, whole, build) -> tuple[Path, Path]:
    """``build(path)`` with the slice-by-slice load, then with the whole-table one."""
    new = build(tmp_path / "new.duckdb")
    whole()
    return new, build(tmp_path / "whole.duckdb")


def _save(data: CRMData, folder: Path, fmt: str) -> Path:
    return Path(data.save(folder, format=fmt))


#: Every column that names an order.
_ORDER_COLUMNS = (("orders", "order_id"), ("order_lines", "order_id"),
                  ("web_sessions", "converted_order_id"),
                  ("campaign_contacts", "converted_order_id"), ("tickets", "order_id"),
                  ("influencer_orders", "order_id"), ("customisations", "order_id"))


def _new_orders(data: CRMData, offset: int = 10_000_000) -> CRMData:
    """The same shop with every order number moved up by ``offset``: a second batch of new
    orders. (Two unrelated shops' order 7 would be one order whose lines name two
    customers: a case this comparison is not about.)"""
    tables = dict(data.tables)
    for name, column in _ORDER_COLUMNS:
        if name in tables and column in tables[name].columns:
            tables[name] = tables[name].assign(**{column: tables[name][column] + offset})
    return CRMData(tables, data.manifest, data.truth)


# ----------------------------------------------------------------------------- the same
@pytest.mark.parametrize("profile, fmt", [("boutique", "csv"), ("sports_shop", "parquet"),
                                          ("fashion_chain", "csv")])
def test_a_sliced_build_with_a_second_batch_equals_the_whole_build(
        profile, fmt, tmp_path, frozen, whole):
    first = _save(generate(profile, n_customers=150, seed=4, **YEAR), tmp_path / "first", fmt)
    second = _save(_new_orders(generate(profile, n_customers=100, seed=5,
                                        start="2025-07-01", end="2025-12-31")),
                   tmp_path / "second", fmt)

    def build(path):
        db = build_warehouse(first, path)
        load_batch(db, second)
        load_batch(db, second)  # the same batch again: recognised, nothing changes
        return db

    new, old = _both(tmp_path, whole, build)
    _same_warehouse(new, old)
    assert len(load_report(new)["batch_id"].unique()) == 2


def test_a_csv_folder_with_bad_rows_and_multi_line_records_builds_the_same(
        tmp_path, frozen, whole):
    data = generate("boutique", n_customers=150, seed=8, **YEAR)
    customers = data.customers.copy()
    customers.loc[3, "address"] = "Calle “Mayor” 5,\n2º izquierda — 20 €"
    customers.loc[5, "segment"] = "gold"  # not a segment: quarantined
    customers = pd.concat([customers, customers.iloc[[7]]], ignore_index=True)  # duplicate
    products = data.products.copy()
    products.loc[0, "name"] = "Vestido “Luna” 20 €"
    products.loc[1, "list_price"] = -5.0  # negative price: quarantined
    lines = data.order_lines.copy()
    lines.loc[2, "order_id"] = 99_999_999  # no such order: quarantined
    lines = pd.concat([lines, lines.iloc[[4]]], ignore_index=True)  # duplicate line
    tables = {**data.tables, "customers": customers, "products": products,
              "order_lines": lines}
    folder = Path(CRMData(tables, data.manifest, data.truth).save(tmp_path / "shop"))
    text = (folder / "customers.csv").read_text(encoding="utf-8")
    assert "\n2º izquierda" in text  # the record really spans two lines

    new, old = _both(tmp_path, whole, lambda path: build_warehouse(folder, path))
    _same_warehouse(new, old)
    q = _dump(new)["quarantine.rows"]
    assert {"invalid_value", "negative_price", "unknown_order", "duplicate_customer",
            "duplicate_row"} <= set(q["reason"])
    # the customer after the two-line address is quarantined at its own line of the file
    with open(folder / "customers.csv", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        end, gold = reader.line_num, None
        for record in reader:
            if record[header.index("segment")] == "gold":
                gold = end + 1
            end = reader.line_num
    assert q.loc[q["reason"] == "invalid_value", "line"].tolist() == [gold]


def test_a_hand_edited_folder_whose_manifest_counts_are_stale_builds_the_same(
        tmp_path, frozen, whole):
    data = generate("boutique", n_customers=150, seed=2, **YEAR)
    folder = _save(data, tmp_path / "shop", "csv")
    body = (folder / "order_lines.csv").read_text(encoding="utf-8").split("\n")
    (folder / "order_lines.csv").write_text("\n".join(body[:-6] + [""]), encoding="utf-8")
    unseal(folder)  # the manifest still says how many rows there were
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["order_lines"] != len(body) - 7
    new, old = _both(tmp_path, whole, lambda path: build_warehouse(folder, path))
    _same_warehouse(new, old)


def test_a_dataset_in_memory_builds_the_same(tmp_path, frozen, whole):
    data = generate("sports_shop", n_customers=150, seed=6, **YEAR)
    new, old = _both(tmp_path, whole, lambda path: build_warehouse(data, path))
    _same_warehouse(new, old)


# ----------------------------------------------------------------------------- slices
def test_large_tables_are_read_a_slice_at_a_time(tmp_path, frozen, spy):
    data = generate("boutique", n_customers=350, seed=3, **YEAR)
    folder = _save(data, tmp_path / "shop", "parquet")
    rows = {n: len(pd.read_parquet(folder / f"{n}.parquet"))
            for n in ("orders", "order_lines", "customers")}
    build_warehouse(folder, tmp_path / "w.duckdb")
    for name, n in rows.items():
        sizes = [given for table, asked, given in spy if table == name]
        assert n > 3 * SLICE
        assert sum(sizes) == n and max(sizes) <= SLICE and len(sizes) >= n // SLICE
    assert {asked for _, asked, _ in spy} == {SLICE}


def test_a_batch_built_the_old_way_is_recognised_as_already_loaded(tmp_path, whole,
                                                                     monkeypatch):
    data = generate("boutique", n_customers=60, seed=9, **YEAR)
    folder = _save(data, tmp_path / "shop", "csv")
    whole()
    db = build_warehouse(folder, tmp_path / "w.duckdb")
    monkeypatch.undo()  # from here on, the slice-by-slice load
    assert direct.read_dataset.__name__ == "read_dataset"
    before = _dump(db)
    load_batch(db, folder)
    after = _dump(db)
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)
    # the digest of each file is its SHA-256, as before
    files = after["meta.files"].set_index("file")["sha256"]
    assert files["orders.csv"] == hashlib.sha256(
        (folder / "orders.csv").read_bytes()).hexdigest()


def test_a_bad_value_in_a_later_slice_is_refused_as_the_whole_load_refuses_it(
        tmp_path, frozen):
    data = generate("boutique", n_customers=200, seed=1, **YEAR)
    folder = _save(data, tmp_path / "shop", "csv")
    body = (folder / "order_lines.csv").read_text(encoding="utf-8").split("\n")
    header = body[0].split(",")
    assert len(body) > 3 * SLICE + 2  # the bad value is in the fourth slice
    fields = body[3 * SLICE].split(",")
    fields[header.index("quantity")] = "three"
    body[3 * SLICE] = ",".join(fields)
    (unseal(folder) / "order_lines.csv").write_text("\n".join(body), encoding="utf-8")
    with pytest.raises(DatasetError) as whole_error:
        CRMData.load(folder, validate=False)
    with pytest.raises(DatasetError) as sliced_error:
        build_warehouse(folder, tmp_path / "w.duckdb")
    assert str(sliced_error.value) == str(whole_error.value)
    assert f"line {3 * SLICE + 1}" in str(sliced_error.value)
    assert not (tmp_path / "w.duckdb").exists()
