"""`crmkit import` writes its folder whole or not at all, one import at a time.

An import is killed (SIGKILL, in a subprocess) while it writes each of its files and
while it renames the folder into place; the folder is then checked byte for byte
against the previous import. Two imports run into one folder at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import filelock
import pytest
from hand_edit import unseal

from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.folder import lock_path
from crmkit.errors import DatasetError

ROOT = Path(__file__).resolve().parents[1]
SHOPIFY = ROOT / "data/examples/shopify"
RETAIL = ROOT / "data/examples/online_retail"
SHOPIFY_ARGS = ["import", "shopify", str(SHOPIFY / "orders_export.csv"), "--customers",
                str(SHOPIFY / "customers_export.csv"), "--products",
                str(SHOPIFY / "products_export.csv")]
RETAIL_ARGS = ["import", "orders", str(RETAIL / "online_retail_ii.csv"), "--mapping",
               str(RETAIL / "mapping.yaml")]

# Runs crmkit's CLI with every file write inside a temporary folder counted; at write
# number KILL_AT the process writes half of that file and kills itself (SIGKILL), or it
# kills itself before rename number KILL_RENAME. SLOW makes every write take that long.
WRAPPER = textwrap.dedent("""
    import os, pathlib, signal, sys, time
    import pandas as pd

    kill_at = int(os.environ.get("KILL_AT", "0"))
    kill_rename = int(os.environ.get("KILL_RENAME", "0"))
    slow = float(os.environ.get("SLOW", "0"))
    count = {"write": 0, "rename": 0}

    def in_temp(path):
        return any(p.endswith(".tmp") and p.startswith(".") for p in pathlib.Path(
            str(path)).parts)

    def counted(real, cut):
        def write(self, target, *args, **kwargs):
            path = self if isinstance(self, pathlib.Path) else target
            if not in_temp(path):
                return real(self, target, *args, **kwargs)
            count["write"] += 1
            time.sleep(slow)
            if count["write"] == kill_at:
                real(*cut(self, target), *args, **kwargs)
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, target, *args, **kwargs)
        return write

    pd.DataFrame.to_csv = counted(pd.DataFrame.to_csv,
                                  lambda df, f: (df.iloc[: len(df) // 2], f))
    pathlib.Path.write_text = counted(pathlib.Path.write_text,
                                      lambda p, text: (p, text[: len(text) // 2]))
    real_replace = os.replace

    def replace(src, dst):
        names = {pathlib.Path(str(src)).name, pathlib.Path(str(dst)).name}
        if any(n == "shop" or n.startswith(".shop.") for n in names):  # the output folder
            count["rename"] += 1
            if count["rename"] == kill_rename:
                os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)

    os.replace = replace
    from crmkit.cli import main
    code = main(sys.argv[1:])
    if os.environ.get("COUNT_FILE"):
        pathlib.Path(os.environ["COUNT_FILE"]).write_text(str(count["write"]))
    sys.exit(code)
""")


def run(tmp_path, args, out, **env):
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER, encoding="utf-8")
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **{k: str(v) for k, v in env.items()}}
    return subprocess.run([sys.executable, str(script), *args, "--out", str(out)],
                          capture_output=True, text=True, env=environ, cwd=tmp_path,
                          timeout=300)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir()
                  if p.name.startswith(f".{out.name}.") and p != lock_path(out))


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """The Online Retail import that each killed Shopify import tries to replace."""
    base = tmp_path_factory.mktemp("previous")
    done = run(base, RETAIL_ARGS, base / "shop")
    assert done.returncode == 0, done.stderr
    n = base / "count"
    counted = run(base, SHOPIFY_ARGS, base / "whole", COUNT_FILE=n)
    assert counted.returncode == 0, counted.stderr
    return snapshot(base / "shop"), int(n.read_text()), snapshot(base / "whole")


def _fresh(tmp_path, previous_files) -> Path:
    out = tmp_path / "shop"
    out.mkdir()
    for rel, content in previous_files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(content)
    return out


def test_the_killed_import_writes_these_files(previous):
    before, writes, whole = previous
    # tables, import report, quarantine, manifest: every one is a kill point below
    assert writes == len(whole) == 7
    assert set(before) != set(whole) and "order_codes.csv" in before


@pytest.mark.parametrize("kill_at", range(1, 8))
def test_an_import_killed_while_writing_a_file_leaves_the_previous_folder(
        tmp_path, previous, kill_at):
    before, _, _ = previous
    out = _fresh(tmp_path, before)
    killed = run(tmp_path, SHOPIFY_ARGS, out, KILL_AT=kill_at)
    assert killed.returncode == -signal.SIGKILL
    assert snapshot(out) == before  # byte for byte, no new file beside the old ones
    assert len(CRMData.load(out).orders) == json.loads(before["manifest.json"])["tables"][
        "orders"]


@pytest.mark.parametrize("kill_rename", [1, 2])
def test_an_import_killed_while_renaming_leaves_the_previous_folder_or_none(
        tmp_path, previous, kill_rename):
    before, _, whole = previous
    out = _fresh(tmp_path, before)
    killed = run(tmp_path, SHOPIFY_ARGS, out, KILL_RENAME=kill_rename)
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists() or snapshot(out) == before
    assert leftovers(out)  # the new folder, written whole, not yet in place
    if not out.exists():
        with pytest.raises(DatasetError, match="interrupted. The previous dataset is kept"):
            CRMData.load(out)
    again = run(tmp_path, SHOPIFY_ARGS, out)  # the next import tidies up and replaces it
    assert again.returncode == 0, again.stderr
    assert snapshot(out).keys() == whole.keys() and leftovers(out) == []
    assert len(CRMData.load(out).orders) == 423


def test_a_reimport_replaces_the_folder_whole(tmp_path, previous):
    before, _, whole = previous
    out = _fresh(tmp_path, before)
    done = run(tmp_path, SHOPIFY_ARGS, out)
    assert done.returncode == 0, done.stderr
    assert sorted(snapshot(out)) == sorted(whole)  # no order_codes.csv of Online Retail
    assert "order_codes.csv" not in snapshot(out)


def test_two_imports_into_one_folder_take_turns(tmp_path, previous):
    _, _, whole = previous
    out = tmp_path / "shop"
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLOW": "0.3"}
    procs = [subprocess.Popen([sys.executable, str(script), *args, "--out", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, cwd=tmp_path)
             for args in (SHOPIFY_ARGS, RETAIL_ARGS)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    files = snapshot(out)
    data = CRMData.load(out)  # every checksum matches: one import's files, not a mix
    manifest = json.loads(files["manifest.json"])
    assert set(files) == set(manifest["files"]) | {"manifest.json"}
    assert manifest["origin"] in ("shopify", "orders") and leftovers(out) == []
    assert (len(data.orders) == 423) == (manifest["origin"] == "shopify")
    assert (set(files) == set(whole)) == (manifest["origin"] == "shopify")


def test_an_import_waits_for_the_lock_then_gives_up_with_one_line(tmp_path):
    out = tmp_path / "shop"
    with filelock.FileLock(str(lock_path(out))):
        held = run(tmp_path, [*RETAIL_ARGS, "--wait", "0.5"], out)
    assert held.returncode == 2 and not out.exists()
    err = held.stderr.strip().splitlines()
    assert len(err) == 1 and "another import or save into" in err[0] and "--wait" in err[0]


def test_out_pointing_at_a_file_or_a_folder_of_other_files_is_refused_before_any_work(
        tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("mine", encoding="utf-8")
    done = run(tmp_path, RETAIL_ARGS, target)
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr
    assert "import of" not in done.stdout  # refused before reading the source
    assert target.read_text(encoding="utf-8") == "mine"
    other = tmp_path / "documents"
    other.mkdir()
    (other / "cv.pdf").write_bytes(b"%PDF")
    done = run(tmp_path, RETAIL_ARGS, other)
    assert done.returncode == 2 and "folder of other files" in done.stderr
    assert sorted(p.name for p in other.iterdir()) == ["cv.pdf"]


# ----------------------------------------------------------------------------- the manifest
def test_load_refuses_a_changed_truncated_missing_or_stale_file_naming_it(tmp_path, previous):
    before, _, _ = previous
    out = _fresh(tmp_path, before)
    lines = out / "order_lines.csv"
    text = lines.read_bytes()
    lines.write_bytes(text[: len(text) // 2])  # truncated, as by a killed writer
    with pytest.raises(DatasetError, match=r"order_lines\.csv: does not match .*manifest"
                                           r"\.json \(expected 17 rows\)"):
        CRMData.load(out)
    lines.write_bytes(text)
    CRMData.load(out)
    (out / "customers.csv").write_text("customer_id\n", encoding="utf-8")  # another source's
    with pytest.raises(DatasetError, match=r"customers\.csv: a table file that .* does not "
                                           "record"):
        CRMData.load(out)
    (out / "customers.csv").unlink()
    (out / "quarantine.csv").unlink()
    with pytest.raises(DatasetError, match=r"quarantine\.csv: listed in .* but missing"):
        CRMData.load(out)
    unseal(out)  # a folder without checksums (hand-made, older crmkit) is read as it is
    assert len(CRMData.load(out).order_lines) == 17
