"""Build time and peak memory of the DuckDB warehouse, side by side with a floor.

For each size, a shop is generated and written as messy source extracts (not
timed). Then, each in a fresh subprocess so that its peak memory (max RSS) is
its own:

* **build**: ``crmkit.warehouse.build.build_warehouse(extracts, file)``: raw, staging
  with cleansing, identity matching and quarantine, the star and snowflake
  marts, the monthly snapshot, into a temporary file renamed into place;
* **floor**: DuckDB alone reading the same files (same encodings and
  separators, every column as text) into tables of a new database file;
* **1 bad byte**: the same build after one undecodable line is appended to
  the largest file (``web_sessions.csv``): that file then goes through the
  line-by-line reader of :mod:`crmkit.sources.lines` instead of DuckDB's CSV
  reader (the cost of a damaged file).

Target: the full build within 4 x the floor and under 4 GB.

    python benchmarks/bench_warehouse.py                  # full run, updates benchmarks/README.md
    python benchmarks/bench_warehouse.py --lines 20000    # quick look, README untouched
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PEAK_MB, run_child, write_block  # noqa: E402

PROFILE = "fashion_chain"
LINES = (100_000, 1_000_000)
TARGET_RATIO, TARGET_MB = 4.0, 4 * 1024

_CHILD = r"""
import json, sys, time
mode, folder, db = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
if mode == "build":
    from crmkit.warehouse.build import build_warehouse, query
    build_warehouse(folder, db)
    rows = int(query(db, "SELECT count(*) AS n FROM marts.fact_order_line")["n"][0])
else:  # floor: DuckDB alone reads every extract into a table
    import duckdb
    from crmkit.dataset.extracts import FILES
    con = duckdb.connect(db)
    rows = 0
    for name, spec in FILES.items():
        cols = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in spec.columns) + "}"
        con.execute(
            f"CREATE TABLE t{len(name)}_{name.split('.')[0]} AS SELECT * FROM read_csv("
            f"'{folder}/{name}', delim='{spec.delimiter}', header=true, columns={cols}, "
            f"encoding='{spec.encoding}', quote='\"', escape='\"', auto_detect=false, "
            "store_rejects=true)")
    con.execute("CHECKPOINT")
    con.close()
seconds = time.perf_counter() - t0
__PEAK__
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": rows}))
"""


def _run(*args: str) -> dict:
    return run_child(_CHILD.replace("__PEAK__", PEAK_MB), *args)


def measure(lines: int, work: Path) -> dict:
    from crmkit.dataset.extracts import write_extracts
    from crmkit.dataset.synth import generate

    per_customer = 9.1  # order lines per customer of the profile (measured)
    n = max(int(lines / per_customer), 100)
    t0 = time.perf_counter()
    data = generate(PROFILE, n_customers=n, seed=1)
    folder = work / f"extracts_{lines}"
    write_extracts(data, folder, seed=1)
    prep = time.perf_counter() - t0
    size_mb = sum(p.stat().st_size for p in folder.glob("*.csv")) / 2**20
    floor = _run("floor", str(folder), str(work / f"floor_{lines}.duckdb"))
    build = _run("build", str(folder), str(work / f"wh_{lines}.duckdb"))
    damaged = work / f"damaged_{lines}"
    damaged.mkdir()
    for f in folder.iterdir():
        if f.name == "web_sessions.csv":
            shutil.copyfile(f, damaged / f.name)
        else:
            os.link(f, damaged / f.name)
    with open(damaged / "web_sessions.csv", "ab") as f:
        f.write(b"999999999,v\xff,,,2025-01-01T10:00:00+01:00,seo,mobile,1,no,\n")
    slow = _run("build", str(damaged), str(work / f"wh_damaged_{lines}.duckdb"))
    return {
        "bad_seconds": slow["seconds"], "bad_peak_mb": slow["peak_mb"],
        "customers": n, "lines": len(data.order_lines), "sessions": len(data.web_sessions),
        "extract_mb": size_mb, "prepare_s": prep, "seconds": build["seconds"],
        "peak_mb": build["peak_mb"], "floor_seconds": floor["seconds"],
        "floor_mb": floor["peak_mb"], "fact_rows": build["rows"],
    }


def table(results: list[dict]) -> str:
    head = ("| customers | order lines | web sessions | extracts MB | build s | peak MB "
            "| floor s | floor MB | × floor | 1 bad byte s | peak MB | × build |\n"
            + "|---" * 12 + "|")
    rows = [
        f"| {r['customers']:,} | {r['lines']:,} | {r['sessions']:,} | {r['extract_mb']:,.0f} | "
        f"{r['seconds']:.2f} | {r['peak_mb']:,.0f} | {r['floor_seconds']:.2f} | "
        f"{r['floor_mb']:,.0f} | {r['seconds'] / r['floor_seconds']:.1f} | "
        f"{r['bad_seconds']:.2f} | {r['bad_peak_mb']:,.0f} | "
        f"{r['bad_seconds'] / r['seconds']:.1f} |"
        for r in results
    ]
    return "\n".join([head, *rows])


def verdict(results: list[dict]) -> str:
    big = max(results, key=lambda r: r["lines"])
    ratio = big["seconds"] / big["floor_seconds"]
    ok = ratio <= TARGET_RATIO and big["peak_mb"] < TARGET_MB
    return (f"Target (full build within {TARGET_RATIO:.0f} × the DuckDB read floor and under "
            f"4 GB): {'met' if ok else 'NOT met'} at {big['lines']:,} order lines: "
            f"{big['seconds']:.1f} s ({ratio:.1f} × floor {big['floor_seconds']:.1f} s), "
            f"peak {big['peak_mb']:,.0f} MB.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=list(LINES))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-warehouse-") as tmp:
        for lines in args.lines:
            r = measure(lines, Path(tmp))
            results.append(r)
            print(f"{r['lines']:>10,} lines: build {r['seconds']:7.2f} s {r['peak_mb']:8,.0f} MB"
                  f" | floor {r['floor_seconds']:6.2f} s {r['floor_mb']:7,.0f} MB "
                  f"({r['seconds'] / r['floor_seconds']:.1f}× floor) | 1 bad byte "
                  f"{r['bad_seconds']:6.2f} s {r['bad_peak_mb']:7,.0f} MB", flush=True)
    text = table(results)
    print("\n" + text + "\n\n" + verdict(results))
    if sorted(args.lines) == sorted(LINES):
        path = write_block("bench_warehouse", "python benchmarks/bench_warehouse.py",
                           f"Profile `{PROFILE}`.\n\n{text}\n\n{verdict(results)}")
        print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
