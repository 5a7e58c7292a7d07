"""Speed and peak memory of the importers, side by side with a floor.

Each measurement runs in a fresh subprocess (its own peak memory). The *floor*
is pandas reading the same file as text with no checks at all: what any
import must at least pay. The ratio is what validation, quarantine, time
zones and building the tables cost on top of that.

- CDNOW: the real order log (69,659 lines, aligned with spaces).
- A large order log: CDNOW's lines repeated with new customer numbers up to
  ``--log-lines`` lines (2.5 M by default, 75 MB), the size the importer must
  handle in under 2 GB and within 3 x the floor.
- Shopify: the ``bendita`` shop written as Shopify exports, at a few sizes (200,000
  customers is about 1 M order rows, the size the importer must handle the same way).

Each measurement is a fresh process: the first call is cold (imports included), a
second call in the same process is warm. Besides wall-clock seconds each process reports
its CPU seconds (``time.process_time``), which other work on a shared machine disturbs far
less; with ``--runs N`` every program runs N times, alternating with its floor, and the
fastest run of each counts (the peak memory is the largest of the runs).

    python benchmarks/bench_import.py                  # full run, updates benchmarks/README.md
    python benchmarks/bench_import.py --runs 3         # the same, best of 3 (a busy machine)
    python benchmarks/bench_import.py --sizes 2000 --log-lines 250000   # quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PEAK_MB, run_child, write_block  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "data" / "real" / "cdnow" / "CDNOW_master.txt"
SIZES = (2_000, 20_000, 200_000)
#: Shops up to this many customers are also timed warm (a second call in the same process).
WARM_UP_TO = 50_000
LOG_LINES = 2_500_000

_CHILD = r"""
import json, sys, time
import pandas as pd
mode, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])


def work():
    if mode == "cdnow":
        from crmkit.sources.orders import OrderLogMapping, import_orders
        m = OrderLogMapping(customer="customer_id", date="date", quantity="number_of_cds",
                            amount="dollar_value", date_format="%Y%m%d")
        r = import_orders(path, m, currency="USD", timezone="America/New_York")
        return int(r.report["rows_read"].sum())
    if mode == "shopify":
        from crmkit.sources.shopify import import_shopify
        r = import_shopify(path + "/orders_export.csv", customers=path + "/customers_export.csv",
                           products=path + "/products_export.csv")
        return int(r.report["rows_read"].sum())
    if mode in ("floor_cdnow", "floor_log"):  # the log read as text, split at spaces
        return len(pd.read_csv(path, sep=r"\s+", dtype=str))
    # floor_shopify: the three files read as text
    return sum(len(pd.read_csv(f"{path}/{n}_export.csv", dtype=str, keep_default_na=False))
               for n in ("orders", "customers", "products"))


times, cpu = [], []
for _ in range(repeat):  # first call cold (imports included), then warm
    t0, c0 = time.perf_counter(), time.process_time()
    rows = work()
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
__PEAK__
print(json.dumps({"seconds": times[0], "warm": times[-1] if repeat > 1 else None,
                  "cpu": cpu[0], "cpu_warm": cpu[-1] if repeat > 1 else None,
                  "peak_mb": peak_mb, "rows": rows}))
""".replace("__PEAK__", PEAK_MB)


def write_log(path: Path, n_lines: int) -> Path:
    """CDNOW's lines repeated, each copy with new customer numbers, up to ``n_lines``."""
    src = CDNOW.read_text(encoding="ascii").splitlines()
    out, k = [src[0]], 0
    while len(out) <= n_lines:
        for ln in src[1:]:
            f = ln.split()
            out.append(f" {int(f[0]) + k * 30000:07d} {f[1]}  {f[2]}   {f[3]}")
        k += 1
    path.write_text("\r\n".join(out[:n_lines + 1]) + "\r\n", encoding="ascii")
    return path


def measure(mode: str, path: str, repeat: int = 2) -> dict:
    return run_child(_CHILD, mode, path, str(repeat))


def best_of(runs: int, mode: str, floor_mode: str, path: str, repeat: int = 2):
    """The program and its floor, ``runs`` times in turn: each figure's best run (peak: the
    largest)."""
    got, floor = [], []
    for _ in range(runs):
        got.append(measure(mode, path, repeat))
        floor.append(measure(floor_mode, path, repeat))
    return _best(got), _best(floor)


def _best(results: list[dict]) -> dict:
    out = dict(results[0])
    for key in ("seconds", "warm", "cpu", "cpu_warm"):
        if out[key] is not None:
            out[key] = min(r[key] for r in results)
    out["peak_mb"] = max(r["peak_mb"] for r in results)
    return out


def _cpu_ratio(g: dict, f: dict) -> str:
    """CPU seconds over the floor's: warm when measured warm, else cold."""
    if g["cpu_warm"] is not None:
        return f"{g['cpu_warm'] / f['cpu_warm']:.1f} (warm)"
    return f"{g['cpu'] / f['cpu']:.1f} (cold)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES),
                        help="customers of the Shopify shops (200,000 is about 1 M order rows)")
    parser.add_argument("--log-lines", type=int, default=LOG_LINES,
                        help="lines of the large order log")
    parser.add_argument("--runs", type=int, default=1,
                        help="runs of each program, in turn with its floor; the best counts")
    args = parser.parse_args()
    full = args.sizes == list(SIZES) and args.log_lines == LOG_LINES
    load = os.getloadavg()
    rows = []
    got, floor = best_of(args.runs, "cdnow", "floor_cdnow", str(CDNOW))
    rows.append(("CDNOW order log", "-", got, floor))
    with tempfile.TemporaryDirectory() as work:
        log = str(write_log(Path(work) / "log.txt", args.log_lines))
        got, floor = best_of(args.runs, "cdnow", "floor_log", log)
    rows.append((f"order log ({args.log_lines:,} lines)", "-", got, floor))
    from crmkit.dataset.shopify import write_shopify
    from crmkit.dataset.synth import generate

    for n in args.sizes:
        repeat = 1 if n > WARM_UP_TO else 2
        with tempfile.TemporaryDirectory() as work:
            write_shopify(generate("bendita", n_customers=n, seed=1), work)
            got, floor = best_of(args.runs, "shopify", "floor_shopify", work, repeat)
        rows.append(("Shopify exports (bendita)", f"{n:,}", got, floor))
    lines = ["| source | customers | rows read | import s (cold) | floor s (cold) | × floor "
             "(cold) | import s (warm) | floor s (warm) | × floor (warm) | × floor, CPU s | "
             "peak MB | floor MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, n, g, f in rows:
        warm = (f"{g['warm']:.2f} | {f['warm']:.2f} | {g['warm'] / f['warm']:.1f}"
                if g["warm"] else "- | - | -")
        lines.append(f"| {name} | {n} | {g['rows']:,} | {g['seconds']:.2f} | "
                     f"{f['seconds']:.2f} | {g['seconds'] / f['seconds']:.1f} | {warm} | "
                     f"{_cpu_ratio(g, f)} | {g['peak_mb']:,.0f} | {f['peak_mb']:,.0f} |")
    after = os.getloadavg()
    body = "\n".join(lines)
    print(body)
    if full:
        note = ("\n\nFloor: pandas `read_csv` of the same files as text (`dtype=str`; the logs "
                "split at runs of spaces), without any check: what any import must at least pay. "
                "Each row is a fresh process per program (its own peak memory, VmHWM, over both "
                "calls); cold = first call with imports, warm = a second call in the same "
                "process (not run for the largest shop); × floor, CPU s = the CPU seconds of "
                "the import over those of the floor (other work on the machine disturbs them "
                f"far less than wall-clock seconds). Best of {args.runs} run(s) of each "
                f"program, in turn with its floor. Load average (1/5/15 min) "
                f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} at the start and "
                f"{after[0]:.1f}/{after[1]:.1f}/{after[2]:.1f} at the end on a shared 2-core "
                "machine: timings are noisy; the ratios, measured side by side, less so.")
        command = "python benchmarks/bench_import.py" + (
            f" --runs {args.runs}" if args.runs != 1 else "")
        readme = write_block("bench_import", command, body + note)
        print(f"README updated: {readme}")


if __name__ == "__main__":
    main()
