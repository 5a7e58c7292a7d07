"""Concurrency and faults: two loads at once, killed runs, stale WAL files, a file held open.

Each test runs the real command in other processes where the fault needs one
(a second load, a writer that is killed, a program holding the file open).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from crmkit.cli import main
from crmkit.warehouse.build import build_warehouse, connect, load_report

GOOD = Path(__file__).resolve().parents[1] / "data" / "extracts" / "boutique"
CRMKIT = [sys.executable, "-m", "crmkit.cli"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _batch(root: Path, batch_id: str) -> Path:
    """The good extract under another batch id (a batch that can be loaded again)."""
    folder = root / batch_id
    shutil.copytree(GOOD, folder)
    manifest = json.loads((folder / "extracts_manifest.json").read_text())
    manifest["batch_id"] = batch_id
    (folder / "extracts_manifest.json").write_text(json.dumps(manifest))
    return folder


def _batches(db: Path) -> list[str]:
    con = connect(db)
    try:
        return [r[0] for r in con.execute("SELECT batch_id FROM meta.batches ORDER BY seq")
                .fetchall()]
    finally:
        con.close()


def _leftovers(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir()
                  if p.name.startswith(f".{db.name}.") or p.name == db.name + ".wal")


@pytest.fixture()
def built(tmp_path):
    db = tmp_path / "shop.duckdb"
    build_warehouse(GOOD, db)
    return db


def _hold(code: str) -> subprocess.Popen:
    """Run ``code`` in another Python that prints 'ready' once it holds what it holds."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_two_loads_at_once_both_land(built, tmp_path):
    a, b = _batch(tmp_path, "batch-a"), _batch(tmp_path, "batch-b")
    procs = [subprocess.Popen(CRMKIT + ["warehouse", "load", str(built), str(f)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for f in (a, b)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert sorted(_batches(built)[1:]) == ["batch-a", "batch-b"]
    report = load_report(built)
    assert report["balanced"].all() and len(report) == 3 * 9
    assert _leftovers(built) == []


def test_a_load_waits_for_the_lock_then_says_another_load_is_running(built, tmp_path,
                                                                      capsys):
    before = _sha(built)
    holder = _hold(f"import filelock, time; l = filelock.FileLock({str(built) + '.lock'!r}); "
                   "l.acquire(); print('ready', flush=True); time.sleep(60)")
    try:
        code = main(["warehouse", "load", str(built), str(_batch(tmp_path, "late")),
                     "--wait", "0.5"])
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "another load or build" in err and str(built) in err
    assert _sha(built) == before


def test_a_killed_build_leaves_the_previous_warehouse_and_the_next_run_cleans_up(built,
                                                                               tmp_path):
    before, held = _sha(built), _batches(built)
    proc = subprocess.Popen(CRMKIT + ["warehouse", "build", str(built), "--profile",
                                      "fashion_chain", "--customers", "4000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp = built.with_name(f".{built.name}.{proc.pid}.tmp")
    deadline = time.time() + 240
    while not tmp.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert tmp.exists(), "the build never started writing its temporary file"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _sha(built) == before
    assert _batches(built) == held and len(held) == 1  # opens, and holds what it held
    assert any(name.endswith(".tmp") or name.endswith(".extracts")
               for name in _leftovers(built))
    assert main(["warehouse", "load", str(built), str(_batch(tmp_path, "next"))]) == 0
    assert _leftovers(built) == []
    assert _batches(built) == held + ["next"]


def _killed_writer_wal(db: Path) -> Path:
    """A write-ahead log left by a writer of ``db`` killed before it could checkpoint."""
    writer = _hold(
        f"import duckdb, time; con = duckdb.connect({str(db)!r}); "
        "con.execute(\"CREATE OR REPLACE TABLE note AS SELECT 'kept' AS word\"); "
        "print('ready', flush=True); time.sleep(60)")
    writer.kill()
    writer.wait()
    wal = db.with_name(db.name + ".wal")
    assert wal.exists()
    return wal


def test_a_stale_wal_that_does_not_fit_is_refused_before_anything_is_replaced(built,
                                                                              capsys):
    other = built.with_name("other.duckdb")
    duckdb.connect(str(other)).close()
    wal = built.with_name(built.name + ".wal")
    shutil.move(_killed_writer_wal(other), wal)  # another database's log beside this one
    before = _sha(built)
    code = main(["warehouse", "build", str(built), "--from", str(GOOD)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and str(wal) in err
    assert _sha(built) == before and wal.exists()


def test_a_wal_without_its_warehouse_is_refused(tmp_path, capsys):
    db = tmp_path / "new.duckdb"
    wal = db.with_name(db.name + ".wal")
    wal.write_bytes(b"left over")
    code = main(["warehouse", "build", str(db), "--from", str(GOOD)])
    err = capsys.readouterr().err
    assert code == 2 and str(wal) in err and not db.exists()


def test_a_wal_left_by_a_killed_writer_is_folded_in_not_lost(built, tmp_path):
    _killed_writer_wal(built)  # the change is only in the WAL
    assert main(["warehouse", "load", str(built), str(_batch(tmp_path, "after"))]) == 0
    con = connect(built)
    try:
        assert con.execute("SELECT word FROM note").fetchall() == [("kept",)]
    finally:
        con.close()
    assert _leftovers(built) == []


@pytest.mark.parametrize("action", ["build", "load"])
def test_a_file_held_open_by_another_program_is_named_and_left_alone(built, tmp_path,
                                                                     capsys, action):
    before = _sha(built)
    holder = _hold(f"import duckdb, time; con = duckdb.connect({str(built)!r}); "
                   "print('ready', flush=True); time.sleep(60)")
    try:
        args = (["warehouse", "build", str(built), "--from", str(GOOD)] if action == "build"
                else ["warehouse", "load", str(built), str(_batch(tmp_path, "held"))])
        code = main(args)
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "another process" in err and str(built) in err
    assert _sha(built) == before


def test_warehouse_commands_on_a_file_that_is_not_duckdb_exit_2_in_one_line(tmp_path,
                                                                            capsys):
    fake = tmp_path / "notes.duckdb"
    fake.write_text("this is not a database\n")
    for action in ("test", "report"):
        assert main(["warehouse", action, str(fake)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(fake) in err and "DuckDB" in err


def test_out_pointing_at_a_file_is_one_line_with_exit_2(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("x")
    assert main(["generate", "--profile", "boutique", "--customers", "50",
                 "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "taken" in err and "Traceback" not in err

