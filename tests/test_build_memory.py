"""The build's memory cap: DuckDB holds at most ``memory_limit`` and spills the rest to a folder
next to the warehouse, with the same warehouse as a build without the cap; by default the cap
follows the address-space limit (``ulimit -v``), which DuckDB's own default ignores."""

from __future__ import annotations

import re
import subprocess
import sys

import duckdb
import pytest

from crmkit.dataset.extracts import write_extracts
from crmkit.dataset.synth import generate
from crmkit.errors import DatasetError, ParameterError
from crmkit.warehouse import build
from crmkit.warehouse.build import build_warehouse


def _rows(db) -> dict[str, list]:
    """Every raw, staging, quarantine and mart table, its rows sorted (load times left out)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema <> 'meta'").fetchall()
        out = {}
        for (t,) in tables:
            described = con.execute(f"SELECT * FROM {t} LIMIT 0").description
            cols = [d[0] for d in described if d[0] != "_loaded_at"]
            select = ", ".join(f'"{c}"' for c in cols)
            rows = map(repr, con.execute(f"SELECT {select} FROM {t}").fetchall())
            out[t] = sorted(re.sub(r'"_loaded_at":"[^"]*"', "", r) for r in rows)
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def extracts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("x") / "extracts"
    write_extracts(generate("sports_shop", n_customers=1_500, seed=4), folder, seed=4)
    return folder


def test_a_small_cap_spills_and_builds_the_same_warehouse(extracts, tmp_path, monkeypatch):
    free = build_warehouse(extracts, tmp_path / "free.duckdb", memory_limit="8GB")
    spilled = []
    stage = build._stage_rows

    def staged(con, *args):
        got = stage(con, *args)
        spilled.append(con.execute("SELECT count(*) FROM duckdb_temporary_files()").fetchall())
        return got

    monkeypatch.setattr(build, "_stage_rows", staged)
    capped = build_warehouse(extracts, tmp_path / "capped.duckdb", memory_limit="40MB")
    assert max(spilled)[0][0] > 0  # DuckDB did spill to disk
    assert _rows(capped) == _rows(free)
    assert sum(len(v) for v in _rows(capped).values()) > 100_000
    # nothing left beside the warehouse: no temporary file, WAL or spill folder
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "capped.duckdb", "capped.duckdb.lock", "free.duckdb", "free.duckdb.lock"]


def test_a_cap_too_small_to_build_says_so_and_changes_nothing(extracts, tmp_path):
    target = build_warehouse(extracts, tmp_path / "w.duckdb")
    before = target.read_bytes()
    with pytest.raises(DatasetError, match=r"needs more memory .*memory_limit='2MB'.*"
                                           r"Nothing was changed; give a larger memory limit"):
        build_warehouse(extracts, target, memory_limit="2MB")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb", "w.duckdb.lock"]


def test_the_default_cap_follows_the_address_space_limit():
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30)); "
            "from crmkit.warehouse.build import build_memory_limit; print(build_memory_limit())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == f"{int(6 * 2**30 * 0.4) // 2**20}MiB"


@pytest.mark.parametrize("limit", ["lots", "8 parsecs", "-1GB", "8"])
def test_a_cap_that_is_not_a_size_is_refused_before_anything_is_written(limit, extracts,
                                                                         tmp_path):
    with pytest.raises(ParameterError, match="is not a size"):
        build_warehouse(extracts, tmp_path / "w.duckdb", memory_limit=limit)
    assert not list(tmp_path.iterdir())


def test_the_command_takes_a_memory_limit(extracts, tmp_path):
    def run(*limit):
        return subprocess.run([sys.executable, "-m", "crmkit.cli", "warehouse", "build",
                               str(tmp_path / "w.duckdb"), "--from", str(extracts), *limit],
                              capture_output=True, text=True)
    bad = run("--memory-limit", "lots")
    assert bad.returncode != 0 and "memory_limit='lots' is not a size" in bad.stderr
    assert not (tmp_path / "w.duckdb").exists()
    good = run("--memory-limit", "1GB")
    assert good.returncode == 0, good.stderr
    assert "warehouse written" in good.stdout
