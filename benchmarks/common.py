"""What the benchmark scripts share: a measured subprocess and their block in README.md."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"

#: Appended to every child script: prints its own peak memory with its result.
PEAK_MB = """
with open("/proc/self/status") as _f:  # VmHWM: this process's own peak resident memory
    peak_mb = next(int(x.split()[1]) for x in _f if x.startswith("VmHWM")) / 1024
"""


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python; it must print one JSON line last."""
    out = subprocess.run([sys.executable, "-c", code, *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


#: The machine's 1-minute load average when the script started, before its own work: figures
#: measured beside other work are slower than the code is, so they are not published.
START_LOAD = os.getloadavg()[0]
#: Above this starting load, :func:`write_block` refuses to publish (unless
#: ``CRMKIT_BENCH_ANY_LOAD=1`` is set; the block then says so).
QUIET_LOAD = 1.5


class BusyMachineError(RuntimeError):
    """The figures were measured on a busy machine and were not written to README.md."""


def write_block(name: str, command: str, body: str, *, start_load: float | None = None,
                any_load: bool | None = None) -> Path:
    """Replace (or append) the ``<!-- name:start -->`` block of README.md.

    The block records the load average the script started at; a start above
    :data:`QUIET_LOAD` is refused (:class:`BusyMachineError`) unless ``any_load``
    (or ``CRMKIT_BENCH_ANY_LOAD=1``) asks for it, and then the block says the
    machine was busy.
    """
    load = START_LOAD if start_load is None else start_load
    if any_load is None:
        any_load = os.environ.get("CRMKIT_BENCH_ANY_LOAD") == "1"
    if load > QUIET_LOAD and not any_load:
        raise BusyMachineError(
            f"the machine's load average was {load:.1f} when this script started (above "
            f"{QUIET_LOAD}): the figures are printed above but not written to {README.name}; "
            "run again on a quiet machine, or set CRMKIT_BENCH_ANY_LOAD=1 to write them anyway.")
    busy = (f" The machine was busy (load average {load:.1f} at the start, above {QUIET_LOAD}):"
            " times are slower than the code is; compare the ratios." if load > QUIET_LOAD
            else "")
    block = (f"<!-- {name}:start -->\nMeasured {time.strftime('%Y-%m-%d')} on "
             f"{platform.machine()}, Python {platform.python_version()}, with "
             f"`{command}`; 1-minute load average at the start {load:.1f}.{busy}\n\n"
             f"{body}\n<!-- {name}:end -->")
    old = README.read_text(encoding="utf-8") if README.exists() else ""
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
    new = (pattern.sub(lambda _: block, old) if pattern.search(old)
           else old.rstrip("\n") + "\n\n" + block + "\n")
    README.write_text(new, encoding="utf-8")
    return README


#: The bare floor of a build, for a child script (``__FLOOR__`` in its code):
#: ``floor_read(folder, db)`` has DuckDB alone read every source extract of ``folder`` into
#: a table of the new database file ``db``, the bare way (``read_csv(..., all_varchar=true,
#: ignore_errors=true)``: no rejects kept, no line numbers, nothing checked).
FLOOR_READ = r"""
def floor_read(folder, db):
    import duckdb
    from crmkit.dataset.extracts import FILES
    con = duckdb.connect(db)
    for name, spec in FILES.items():
        cols = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in spec.columns) + "}"
        con.execute(
            f"CREATE TABLE t_{name.split('.')[0]} AS SELECT * FROM read_csv("
            f"'{folder}/{name}', delim='{spec.delimiter}', header=true, columns={cols}, "
            f"encoding='{spec.encoding}', quote='\"', escape='\"', auto_detect=false, "
            "all_varchar=true, ignore_errors=true)")
    con.execute("CHECKPOINT")
    con.close()
"""


# ----------------------------------------------------------------------------- shops kept on disk
#: Where generated shops are kept between runs (``--cache`` or CRMKIT_BENCH_CACHE overrides).
CACHE = Path(os.environ.get("CRMKIT_BENCH_CACHE", Path(tempfile.gettempdir()) / "crmkit-bench"))
#: Order lines per customer of the ``fashion_chain`` profile (measured; sizes a shop).
LINES_PER_CUSTOMER = 9.1

#: Child script: generate a shop straight into a dataset folder (table by table, Parquet).
_GENERATE = r"""
import json, sys, time
from crmkit.dataset.synth import write_shop
profile, n, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t0 = time.perf_counter()
write_shop(out, profile, n_customers=n, seed=seed, format="parquet")
seconds = time.perf_counter() - t0
__PEAK__
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))
"""

#: Child script: the source extracts of a dataset folder, read a slice of rows at a time.
_EXTRACTS = r"""
import json, sys, time
from crmkit.dataset.extracts import write_extracts
data, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
write_extracts(data, out, seed=seed)
seconds = time.perf_counter() - t0
__PEAK__
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))
"""


def shop(lines: int, *, profile: str = "fashion_chain", seed: int = 1,
         cache: Path | None = None) -> tuple[Path, dict]:
    """A shop of about ``lines`` order lines as a dataset (``data/``) and source extracts
    (``extracts/``), generated once into the cache and reused; with its ``shop.json``.

    Each of the two steps runs in its own Python, whose peak memory is measured:
    :func:`crmkit.dataset.synth.write_shop` (Parquet), then
    :func:`crmkit.dataset.extracts.write_extracts` reading that folder. ``shop.json``
    holds customers, lines, sessions, ``seconds`` (both steps) and ``peak_mb`` (the
    larger peak), and each step's ``generate_s``/``generate_mb`` and
    ``extracts_s``/``extracts_mb``.
    """
    folder = Path(cache or CACHE) / f"{profile}-{lines}-seed{seed}"
    meta = folder / "shop.json"
    if not meta.exists():
        if folder.exists():  # an interrupted run: start again
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        n = max(int(lines / LINES_PER_CUSTOMER), 100)
        gen = run_child(_GENERATE.replace("__PEAK__", PEAK_MB), profile, str(n), str(seed),
                        str(folder / "data"))
        ext = run_child(_EXTRACTS.replace("__PEAK__", PEAK_MB), str(folder / "data"),
                        str(seed), str(folder / "extracts"))
        rows = json.loads((folder / "data" / "manifest.json").read_text(encoding="utf-8"))
        rows = rows["tables"]
        info = {"customers": n, "lines": rows["order_lines"],
                "sessions": rows.get("web_sessions", 0),
                "seconds": gen["seconds"] + ext["seconds"],
                "peak_mb": max(gen["peak_mb"], ext["peak_mb"]),
                "generate_s": gen["seconds"], "generate_mb": gen["peak_mb"],
                "extracts_s": ext["seconds"], "extracts_mb": ext["peak_mb"]}
        meta.write_text(json.dumps(info), encoding="utf-8")
    return folder, json.loads(meta.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- measured commands
def measured(cmd: list[str], *, every: float = 0.2, env: dict | None = None,
             cwd: Path | None = None) -> dict:
    """Run ``cmd``; its wall time and peak resident memory, summed over the process and
    every process it starts (Spark's JVM too), sampled every ``every`` seconds."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=cwd)
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            rss = 0
            for p in tree:
                with contextlib.suppress(psutil.Error):
                    rss += p.memory_info().rss
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(every)
    out, err = proc.communicate()
    return {"seconds": time.perf_counter() - t0, "peak_mb": peak / 2**20,
            "rc": proc.returncode, "out": out, "err": err}


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, e.g. ``3.1/2.9/2.5``."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())
