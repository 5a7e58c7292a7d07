"""Temporary folders of killed kernels are removed; nothing else ever is.

Notebook 02's workshop and each SQL exercise's perturbed copy live in ``crmkit-...``
folders of the temporary folder. The folders of processes that really died (SIGKILL, an
exit that skips the finalizers) are made here by child processes; the next workshop or
copy must remove them, and must keep the folders of live processes, of other users,
and of any other shape, and must never fail because of one.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from crmkit.cli import main
from crmkit.dataset import scratch
from crmkit.dataset.scratch import (
    LOCK_NAME,
    OWNER_NAME,
    clean_leftovers,
    folder_size,
    remove_leftover,
    scratch_folder,
    survey,
)
from crmkit.lessons import lesson02
from crmkit.lessons.lesson02 import workshop

ROOT = Path(__file__).resolve().parents[1]

#: A child that takes one scratch folder per kind in ROOT, writes SIZE bytes into each,
#: prints their paths, and then sleeps (to be killed) or exits at once without running
#: any finalizer (``os._exit``: what a crash does).
CHILD = """
import os, sys, time
from crmkit.dataset.scratch import scratch_folder
root, size, end, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
held = [scratch_folder(kind, root=root) for kind in kinds]
for h in held:
    (h.path / "shop.duckdb").write_bytes(b"x" * size)
print(*[h.path for h in held], sep="\\n", flush=True)
if end == "crash":
    os._exit(0)
time.sleep(120)
"""


def _child(root: Path, *kinds: str, size: int = 1000, end: str = "sleep"
           ) -> tuple[subprocess.Popen[str], list[Path]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(size), end, *kinds],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    paths = [Path(proc.stdout.readline().strip()) for _ in kinds]
    assert all(p.is_dir() and p.parent == root for p in paths), paths
    return proc, paths


def _killed(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


@pytest.fixture(scope="module")
def dead(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A folder of a process killed with SIGKILL (1.5 MB of data in it), and its pid.
    Tests remove copies of it: a copy, too, is a folder whose lock no process holds."""
    root = tmp_path_factory.mktemp("dead")
    proc, (path,) = _child(root, "warehouse", size=1_500_000)
    _killed(proc)
    return path, proc.pid


def _leftover(dead: tuple[Path, int], root: Path, name: str = "crmkit-warehouse-dead") -> Path:
    copy = root / name
    shutil.copytree(dead[0], copy)
    return copy


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, for this test: ``tmp_path``."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _states(root: Path) -> dict[str, str]:
    return {f.path.name: f.state for f in survey(root)}


def test_a_killed_kernels_folders_are_removed_by_the_next_workshop(tmp_root):
    proc, paths = _child(tmp_root, "warehouse", "perturbed")
    try:
        assert {_states(tmp_root)[p.name] for p in paths} == {"in_use"}
        first = workshop(None)  # the sleeping child is alive: its folders stay
        assert all(p.is_dir() for p in paths) and first.root.parent == tmp_root
    finally:
        _killed(proc)
    assert {_states(tmp_root)[p.name] for p in paths} == {"leftover"}
    second = workshop(None)
    assert not any(p.exists() for p in paths)
    assert first.root.is_dir() and second.root.is_dir()
    assert _states(tmp_root) == {first.root.name: "in_use", second.root.name: "in_use"}


def test_a_crashed_process_folder_is_removed_by_the_next_exercise_copy(tmp_root, tmp_path):
    given = workshop(None, warehouse_dir=tmp_path / "given")  # a folder of the user's: kept
    given.warehouse.write_bytes(b"duckdb")
    proc, (path,) = _child(tmp_root, "perturbed", end="crash")
    assert proc.wait(timeout=10) == 0 and path.is_dir()
    copy = lesson02._copy_workshop(given)
    assert not path.exists()
    assert copy.warehouse.read_bytes() == b"duckdb" and given.warehouse.is_file()


def test_a_kernel_that_ends_normally_still_removes_its_workshop(tmp_path):
    code = ("from crmkit.lessons.lesson02 import workshop\n"
            "ws = workshop(None)\n"
            "ws.warehouse.write_bytes(b'x')\n"
            "print(ws.root)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert Path(out.strip()).parent == tmp_path
    assert list(tmp_path.iterdir()) == []


def test_the_folders_of_this_process_are_kept_until_dropped(tmp_root):
    ws = workshop(None)
    ws.warehouse.write_bytes(b"duckdb")
    copy = lesson02._copy_workshop(ws)
    assert clean_leftovers() == [] and not remove_leftover(ws.root)
    assert _states(tmp_root) == {ws.root.name: "in_use", copy.root.name: "in_use"}
    roots = [ws.root, copy.root]
    del ws, copy
    gc.collect()
    assert not any(r.exists() for r in roots)


def test_a_reused_pid_does_not_keep_a_dead_folder_nor_condemn_a_live_one(dead, tmp_root):
    """The owner note's pid names the process for people; the OS lock decides. A dead
    folder whose pid now belongs to a live process (here: this one) is removed; a live
    folder whose note names a dead process is kept."""
    stale = _leftover(dead, tmp_root)
    (stale / OWNER_NAME).write_text(json.dumps({"pid": os.getpid()}), encoding="utf-8")
    assert survey()[0].pid == os.getpid()
    with scratch_folder("warehouse") as live:
        assert not stale.exists()
        (live.path / OWNER_NAME).write_text(json.dumps({"pid": dead[1]}), encoding="utf-8")
        assert clean_leftovers() == [] and live.path.is_dir()
    assert not live.path.exists()


def test_folders_of_another_shape_are_never_touched(dead, tmp_root, tmp_path_factory):
    elsewhere = _leftover(dead, tmp_path_factory.mktemp("elsewhere"))
    old = tmp_root / "crmkit-warehouse-k2j3ab12"  # an older crmkit's: no owner note
    (old / "batch1").mkdir(parents=True)
    (old / "shop.duckdb").write_bytes(b"x" * 100)
    (old / LOCK_NAME).touch()
    (tmp_root / "crmkit-bench").mkdir()  # another program's
    (tmp_root / "crmkit-perturbed-file").write_text("a file, not a folder")
    (tmp_root / "crmkit-perturbed-link").symlink_to(elsewhere, target_is_directory=True)
    no_lock = _leftover(dead, tmp_root, "crmkit-warehouse-nolock")
    (no_lock / LOCK_NAME).unlink()  # deleted by hand: the note alone proves nothing
    (tmp_root / "warehouse-crmkit-1").mkdir()
    before = sorted(p.name for p in tmp_root.iterdir())
    ws = workshop(None)
    assert sorted(p.name for p in tmp_root.iterdir()) == sorted([*before, ws.root.name])
    assert folder_size(old) == 100 and folder_size(elsewhere) == folder_size(dead[0])
    assert _states(tmp_root) == {
        "crmkit-bench": "unknown", "crmkit-warehouse-k2j3ab12": "unknown",
        "crmkit-warehouse-nolock": "unknown", ws.root.name: "in_use"}


def test_folders_of_other_users_are_never_touched(dead, tmp_root, monkeypatch):
    stale = _leftover(dead, tmp_root)
    monkeypatch.setattr(os, "getuid", lambda: stale.stat().st_uid + 1)
    assert _states(tmp_root) == {stale.name: "other_user"}
    assert clean_leftovers() == [] and stale.is_dir()


def test_an_unreadable_or_unremovable_folder_does_not_fail_the_lesson(dead, tmp_root,
                                                                      monkeypatch):
    odd = _leftover(dead, tmp_root, "crmkit-warehouse-odd")
    (odd / LOCK_NAME).unlink()
    (odd / LOCK_NAME).mkdir()  # a lock that cannot be opened
    stuck = _leftover(dead, tmp_root, "crmkit-warehouse-stuck")
    real_rmtree = shutil.rmtree

    def refusing(path, *args, **kwargs):  # a part the user may not delete
        if Path(path).parent == stuck:
            return None
        return real_rmtree(path, *args, **kwargs)

    (stuck / "batch1").mkdir()
    monkeypatch.setattr(scratch.shutil, "rmtree", refusing)
    ws = workshop(None)
    assert ws.root.is_dir() and odd.is_dir()
    # what could go went; the owner note stays, so the next clean-up tries again
    assert sorted(p.name for p in stuck.iterdir()) == sorted([LOCK_NAME, OWNER_NAME, "batch1"])
    assert _states(tmp_root)["crmkit-warehouse-stuck"] == "leftover"
    monkeypatch.setattr(scratch.os, "scandir", _no_permission)
    assert workshop(None).root.is_dir()  # the temporary folder cannot even be listed


def _no_permission(path):
    raise PermissionError(13, "Permission denied", str(path))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs a user the file permissions apply to")
def test_a_folder_the_user_may_not_empty_is_kept_and_tried_again(dead, tmp_root):
    stuck = _leftover(dead, tmp_root)
    (stuck / "batch1").mkdir()
    (stuck / "batch1" / "x.csv").write_text("x")
    (stuck / "batch1").chmod(0o500)
    try:
        assert workshop(None).root.is_dir()
        assert (stuck / "batch1" / "x.csv").exists() and (stuck / OWNER_NAME).exists()
    finally:
        (stuck / "batch1").chmod(0o700)
    assert remove_leftover(stuck) and not stuck.exists()


def test_crmkit_clean_lists_then_removes_and_says_the_space_freed(dead, tmp_path, capsys):
    with scratch_folder("warehouse", root=tmp_path) as live:
        stale = _leftover(dead, tmp_path)
        (tmp_path / "crmkit-warehouse-k2j3ab12").mkdir()
        size = folder_size(stale)
        assert 1_500_000 < size < 1_501_000  # the child's 1.5 MB and the owner note
        assert main(["clean", "--dir", str(tmp_path), "--dry-run", "--lang", "en"]) == 0
        listed = capsys.readouterr().out
        assert stale.is_dir()
        assert f"would remove {stale} (1.5 MB)" in listed
        assert f"kept {live.path}: in use by process {os.getpid()}" in listed
        assert f"{tmp_path / 'crmkit-warehouse-k2j3ab12'}" in listed
        assert main(["clean", "--dir", str(tmp_path), "--lang", "es"]) == 0
        said = capsys.readouterr().out
        assert not stale.exists() and live.path.is_dir()
        assert f"eliminada {stale} (1,5 MB)" in said
        assert "Carpetas sobrantes eliminadas: 1; espacio liberado: 1,5 MB." in said
        assert main(["clean", "--dir", str(tmp_path), "--lang", "en"]) == 0
        assert "Leftover folders removed: 0; space freed: 0.0 MB." in capsys.readouterr().out


def test_crmkit_clean_fails_when_a_leftover_cannot_be_removed(dead, tmp_path, capsys,
                                                              monkeypatch):
    stale = _leftover(dead, tmp_path)
    monkeypatch.setattr(scratch, "_delete", lambda path: None)
    assert main(["clean", "--dir", str(tmp_path), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert f"could not remove all of {stale} (1.5 MB left)" in out and stale.is_dir()


@pytest.mark.parametrize(("env", "lang"), [
    ({"LANG": "es_ES.UTF-8"}, "es"),
    ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LC_ALL": "en_US.UTF-8", "LANG": "es_ES.UTF-8"}, "en"),
    ({"LC_MESSAGES": "es_MX.UTF-8", "LANG": "C.UTF-8"}, "es"),
    ({}, "en"),
])
def test_crmkit_clean_speaks_the_systems_language(monkeypatch, env, lang):
    from crmkit.cli.clean import system_lang

    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert system_lang() == lang
