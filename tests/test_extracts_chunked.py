"""Extracts written a slice of rows at a time, from memory or a dataset folder: same bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from crmkit.dataset import extracts
from crmkit.dataset.chunked import ShopTables
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.extracts import FILES, FileSpec, write_extracts
from crmkit.dataset.synth import generate, write_shop
from crmkit.errors import DatasetError, MissingTableError, ParameterError

#: (profile, customers, generator seed, extracts seed).
SHOPS = [("boutique", 60, 2, 1), ("sports_shop", 250, 5, 3), ("fashion_chain", 400, 1, 1),
         ("ice_cream", 40, 1, 0)]

#: SHA-256 of the sorted {file: sha256} of every extract file, as the whole-table writer
#: wrote them before extracts were written a slice at a time (crmkit at commit 5a8a30a).
#: A change here changes what every course shop's extracts look like: do it on purpose.
BEFORE = {
    ("boutique", True): "e35308bf3a5642b9685cd6df2fca42a35bc0ccfb5fd4157b76c8e15849586546",
    ("boutique", False): "6b779563c8d6c78da22a2a13398ea0cbdb83c264e1c8ddaf6c0ffc2cddd8b700",
    ("sports_shop", True): "b2d293d04358f3db26c0d6c3789134af3fd82e531ca4db4232245759e384f7fe",
    ("sports_shop", False): "869b0fbd7d98ec4bcf64ae78150059d36d203147d5e019936ac3e1d6ae3c3d88",
    ("fashion_chain", True): "45a7b17cca4fcda853d8110f1a404555211d54c56e997eb516a4b22a6e5785a6",
    ("fashion_chain", False): "3e37898a95e57f42efa4f1dbdefc2821b8f247219993f7de25f43843a664b364",
    ("ice_cream", True): "34f3db5a1b297ac66b5f4110b96783bc63ed90f7d3a7f947ac367cc6a19b5ed4",
    ("ice_cream", False): "9dc1ef7ef3a12a6f5989c0c97c2f352f788fb36bcc6fe78cf7da6a86fc6430c5",
}
#: Tables that are only ever read a slice at a time from a folder.
LARGE = ("order_lines", "web_sessions", "campaign_contacts", "tickets")


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).iterdir())}


def _one(digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


@pytest.fixture(scope="module", params=SHOPS, ids=[s[0] for s in SHOPS])
def shop(request, tmp_path_factory):
    profile, n, seed, xseed = request.param
    root = tmp_path_factory.mktemp(profile)
    return {
        "profile": profile, "seed": xseed,
        "data": generate(profile, n_customers=n, seed=seed),
        "parquet": write_shop(root / "pq", profile, n_customers=n, seed=seed, format="parquet"),
        "csv": write_shop(root / "csv", profile, n_customers=n, seed=seed, format="csv"),
    }


@pytest.mark.parametrize("bad_rows", [True, False])
def test_whole_tables_in_memory_write_the_bytes_of_the_writer_before(shop, bad_rows, tmp_path):
    write_extracts(shop["data"], tmp_path, seed=shop["seed"], bad_rows=bad_rows)
    assert _one(_digests(tmp_path)) == BEFORE[(shop["profile"], bad_rows)]


@pytest.mark.parametrize("bad_rows", [True, False])
@pytest.mark.parametrize(("source", "chunk_rows"), [("parquet", 97), ("csv", 150),
                                                     ("memory", 41)])
def test_a_folder_or_small_slices_write_the_same_bytes(shop, source, chunk_rows, bad_rows,
                                                       tmp_path):
    data = shop["data"]
    assert len(data.order_lines) > 3 * chunk_rows  # the slices really split the tables
    assert len(data.web_sessions) == 0 or len(data.web_sessions) > chunk_rows
    given = data if source == "memory" else shop[source]
    write_extracts(given, tmp_path, seed=shop["seed"], bad_rows=bad_rows, chunk_rows=chunk_rows)
    assert _one(_digests(tmp_path)) == BEFORE[(shop["profile"], bad_rows)]


def test_a_loaded_folder_writes_what_the_folder_writes(shop, tmp_path):
    write_extracts(CRMData.load(shop["parquet"]), tmp_path / "loaded", seed=4)
    write_extracts(shop["parquet"], tmp_path / "folder", seed=4, chunk_rows=301)
    assert _digests(tmp_path / "loaded") == _digests(tmp_path / "folder")


def test_large_tables_are_read_only_a_slice_at_a_time(shop, tmp_path, monkeypatch):
    seen: dict[str, int] = {}
    chunks, table = ShopTables.chunks, ShopTables.table

    def spy_chunks(self, name, **kw):
        for part in chunks(self, name, **kw):
            seen[name] = max(seen.get(name, 0), len(part))
            yield part

    def no_whole(self, name, columns=None):
        assert name not in LARGE, f"{name} read whole"
        return table(self, name, columns)

    monkeypatch.setattr(ShopTables, "chunks", spy_chunks)
    monkeypatch.setattr(ShopTables, "table", no_whole)
    write_extracts(shop["parquet"], tmp_path, seed=1, chunk_rows=150)
    assert {n for n in LARGE if n in seen} >= {"order_lines", "tickets"}
    assert max(v for n, v in seen.items() if n in LARGE) <= 150


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_folder_slices_hold_the_rows_and_dtypes_of_the_loaded_tables(shop, fmt):
    loaded = CRMData.load(shop[fmt])
    tables = ShopTables.of(shop[fmt])
    for name in ("customers", "orders", "order_lines", "web_sessions", "campaign_contacts",
                 "tickets", "products"):
        parts = list(tables.chunks(name, rows=33))
        assert all(p.index.equals(pd.RangeIndex(len(p))) for p in parts)
        whole = pd.concat(parts, ignore_index=True) if parts else tables.table(name)
        pd.testing.assert_frame_equal(whole, loaded.tables[name], check_index_type=False)
        assert tables.rows(name) == len(loaded.tables[name])


# ----------------------------------------------------------------------------- the file writer
SPEC = FileSpec("t.csv", "web", "utf-8", ",", ("A", "B"), ("a", "b"), "a test file")


def _planted(before, lines, objects=False):
    return extracts._Planted(tuple(before), tuple(lines), objects)


@pytest.mark.parametrize("sizes", [[6], [1] * 6, [2, 4], [3, 3], [5, 1], [0, 6, 0]])
def test_planted_lines_land_between_the_same_rows_for_any_slicing(sizes, tmp_path):
    df = pd.DataFrame({"a": range(6), "b": list("uvwxyz")})
    bad = pd.DataFrame([["7", None]], columns=["a", "b"], dtype=object)
    planted = _planted([0, 0, 3, 6], ["first", bad, "middle", "last"], objects=True)
    writer = extracts._FileWriter(tmp_path / "t.csv", SPEC, planted)
    start = 0
    for k in sizes:
        writer.write(df.iloc[start:start + k].reset_index(drop=True))
        start += k
    writer.close()
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").split("\n") == [
        "A,B", "first", "7,", "0,u", "1,v", "2,w", "middle", "3,x", "4,y", "5,z", "last", ""]


def test_planned_slots_log_the_lines_an_editor_shows(monkeypatch):
    import numpy as np

    log: list = []
    bad = [({"a": 1, "b": "x"}, "negative_price"), ({"a": 2, "b": "y"}, "unknown_product")]
    plan = extracts._plan(10, bad, 1, SPEC, np.random.default_rng(3), log)
    lines = sorted(line for _, line, _ in log)
    # each planted line's number = rows before it (good and planted) + 2 (header, 1-based)
    assert [b + k + 2 for k, b in enumerate(plan.before)] == lines
    kinds = [("broken" if isinstance(x, str) else "bad") for x in plan.lines]
    assert sorted(kinds) == ["bad", "bad", "broken"]
    assert plan.objects


# ----------------------------------------------------------------------------- refusals
def test_refusals(tmp_path, shop):
    with pytest.raises(ParameterError, match="chunk_rows"):
        write_extracts(shop["data"], tmp_path / "x", chunk_rows=0)
    with pytest.raises(DatasetError, match="not a dataset folder"):
        write_extracts(tmp_path, tmp_path / "y")
    partial = CRMData({"orders": shop["data"].orders}, {"profile": "x"})
    with pytest.raises(MissingTableError, match="customers"):
        write_extracts(partial, tmp_path / "z")
    assert set(FILES) >= {"web_sessions.csv"}


def test_the_command_writes_a_saved_folders_extracts(shop, tmp_path, capsys):
    from crmkit.cli import main

    assert main(["extracts", str(tmp_path / "cli"), "--data", str(shop["csv"]),
                 "--seed", str(shop["seed"])]) == 0
    assert "planted bad rows" in capsys.readouterr().out
    assert _one(_digests(tmp_path / "cli")) == BEFORE[(shop["profile"], True)]
    assert main(["extracts", str(tmp_path / "no"), "--data", str(shop["csv"]),
                 "--customers", "9"]) == 2
    assert "--customers" in capsys.readouterr().err


def test_timestamp_layouts_cut_from_arrow_text_match_strftime():
    import pyarrow as pa
    import pyarrow.compute as pc

    when = pd.to_datetime(["2024-02-29 00:00:00", "1999-12-31 23:59:59", None,
                           "1000-01-01 07:08:09", "9999-12-31 12:00:00"]).as_unit("s")
    for years in (when, when.append(pd.DatetimeIndex([pd.Timestamp("0999-06-01")]))):
        arr = pa.array(years.to_numpy(), type=pa.timestamp("s"))
        for fmt in extracts._LAYOUTS:
            assert extracts._strftime(arr, fmt).equals(pc.strftime(arr, format=fmt)), fmt
    assert extracts._web_ts(when[:3]).tolist() == [
        "2024-02-29T00:00:00+01:00", "1999-12-31T23:59:59+01:00", None]
