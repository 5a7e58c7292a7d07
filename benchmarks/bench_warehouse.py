"""Build time and peak memory of the DuckDB warehouse, side by side with the bare floor.

For each size, a ``fashion_chain`` shop is generated and written as messy source
extracts once, and kept in a cache folder (see ``common.shop``; not timed). Then,
each in a fresh subprocess so that its peak memory (VmHWM, over both calls) is
its own, twice in the same process: *cold* (the first call, imports included)
and *warm* (a second call into a new file):

* **build**: ``crmkit.warehouse.build.build_warehouse(extracts, file)``: raw, staging
  with cleansing, identity matching and quarantine, the star and snowflake
  marts, the monthly snapshot, into a temporary file renamed into place;
* **floor**: DuckDB alone reading the same files into tables of a new database
  file, the bare way: ``read_csv(..., all_varchar=true, ignore_errors=true)``
  (no rejects kept, no line numbers, nothing checked);
* **layers**: the floor, then the same three layers written with nothing computed: a
  plain ``CREATE TABLE ... AS SELECT *`` copy of every staging and mart table of the
  warehouse the build made (no typing, checks, identity matching, keys or
  quarantine). It is the least any build keeping raw, staging and marts as tables
  writes; the build's time above it is what the models compute;
* **1 bad byte**: the same build (cold only) after one undecodable line is appended
  to the largest file (``web_sessions.csv``): that file then goes through the
  line-by-line reader of :mod:`crmkit.sources.lines` instead of DuckDB's CSV
  reader (the cost of a damaged file).

Target: the full build within 2.5 x the floor and under 4 GB at 1 M order lines.

    python benchmarks/bench_warehouse.py                  # full run, updates benchmarks/README.md
    python benchmarks/bench_warehouse.py --lines 20000    # quick look, README untouched
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    FLOOR_READ,
    PEAK_MB,
    load_average,
    run_child,
    shop,
    write_block,
)

PROFILE = "fashion_chain"
LINES = (100_000, 1_000_000)
TARGET_RATIO, TARGET_MB = 2.5, 4 * 1024

_CHILD = r"""
import json, sys, time
mode, folder, db, times = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
built = sys.argv[5] if len(sys.argv) > 5 else None


def build(db):
    from crmkit.warehouse.build import build_warehouse, query
    build_warehouse(folder, db)
    return int(query(db, "SELECT count(*) AS n FROM marts.fact_order_line")["n"][0])


__FLOOR__

def floor(db):  # DuckDB alone reads every extract into a table, the bare way
    floor_read(folder, db)
    return 0


def _quoted(name):
    return '"' + name.replace('"', '""') + '"'


def layers(db):  # the floor, then a plain copy of every staging and mart table
    import duckdb
    floor_read(folder, db)
    con = duckdb.connect(db)
    con.execute("ATTACH " + "'" + built.replace("'", "''") + "' AS built (READ_ONLY)")
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'built' "
        "AND schema_name IN ('staging', 'marts') ORDER BY ALL").fetchall()
    for schema, table in tables:
        con.execute(f"CREATE TABLE {_quoted(schema + '_' + table)} AS "
                    f"SELECT * FROM built.{_quoted(schema)}.{_quoted(table)}")
    con.execute("CHECKPOINT")
    con.close()
    return len(tables)


seconds = []
for i in range(times):
    t0 = time.perf_counter()
    rows = {"build": build, "floor": floor, "layers": layers}[mode](db + (f".{i}" if i else ""))
    seconds.append(time.perf_counter() - t0)
__PEAK__
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": rows}))
"""


def _run(mode: str, folder: Path, db: Path, times: int = 2, built: Path | None = None) -> dict:
    code = _CHILD.replace("__PEAK__", PEAK_MB).replace("__FLOOR__", FLOOR_READ)
    return run_child(code, mode, str(folder), str(db), str(times),
                     *([str(built)] if built else []))


def measure(lines: int, work: Path, cache: Path | None) -> dict:
    where, info = shop(lines, profile=PROFILE, seed=1, cache=cache)
    folder = where / "extracts"
    size_mb = sum(p.stat().st_size for p in folder.glob("*.csv")) / 2**20
    load = [load_average()]
    floor = _run("floor", folder, work / f"floor_{lines}.duckdb")
    build = _run("build", folder, work / f"wh_{lines}.duckdb")
    layers = _run("layers", folder, work / f"layers_{lines}.duckdb",
                  built=work / f"wh_{lines}.duckdb")
    damaged = work / f"damaged_{lines}"
    damaged.mkdir()
    for f in folder.iterdir():
        if f.name == "web_sessions.csv":
            shutil.copyfile(f, damaged / f.name)
        else:
            os.link(f, damaged / f.name)
    with open(damaged / "web_sessions.csv", "ab") as f:
        f.write(b"999999999,v\xff,,,2025-01-01T10:00:00+01:00,seo,mobile,1,no,\n")
    slow = _run("build", damaged, work / f"wh_damaged_{lines}.duckdb", times=1)
    load.append(load_average())
    return {
        "bad_seconds": slow["seconds"][0], "bad_peak_mb": slow["peak_mb"],
        "customers": info["customers"], "lines": info["lines"], "sessions": info["sessions"],
        "extract_mb": size_mb, "cold": build["seconds"][0], "warm": build["seconds"][-1],
        "peak_mb": build["peak_mb"], "floor_cold": floor["seconds"][0],
        "floor_warm": floor["seconds"][-1], "floor_mb": floor["peak_mb"],
        "layers_cold": layers["seconds"][0], "layers_warm": layers["seconds"][-1],
        "layer_tables": layers["rows"],
        "fact_rows": build["rows"], "load": " → ".join(load),
    }


def table(results: list[dict]) -> str:
    head = ("| customers | order lines | web sessions | extracts MB | build s (cold / warm) "
            "| peak MB | floor s (cold / warm) | floor MB | × floor (cold / warm) "
            "| layers s (cold / warm) | layers × floor | build × layers "
            "| 1 bad byte s | peak MB | × build | load avg (1/5/15 min, start → end) |\n"
            + "|---" * 16 + "|")
    rows = [
        f"| {r['customers']:,} | {r['lines']:,} | {r['sessions']:,} | {r['extract_mb']:,.0f} | "
        f"{r['cold']:.1f} / {r['warm']:.1f} | {r['peak_mb']:,.0f} | "
        f"{r['floor_cold']:.1f} / {r['floor_warm']:.1f} | {r['floor_mb']:,.0f} | "
        f"{r['cold'] / r['floor_cold']:.2f} / {r['warm'] / r['floor_warm']:.2f} | "
        f"{r['layers_cold']:.1f} / {r['layers_warm']:.1f} | "
        f"{r['layers_warm'] / r['floor_warm']:.2f} | {r['warm'] / r['layers_warm']:.2f} | "
        f"{r['bad_seconds']:.1f} | {r['bad_peak_mb']:,.0f} | "
        f"{r['bad_seconds'] / r['cold']:.1f} | {r['load']} |"
        for r in results
    ]
    return "\n".join([head, *rows])


def verdict(results: list[dict]) -> str:
    big = max(results, key=lambda r: r["lines"])
    ratio = min(big["cold"] / big["floor_cold"], big["warm"] / big["floor_warm"])
    ok = ratio <= TARGET_RATIO and big["peak_mb"] < TARGET_MB
    budget = TARGET_RATIO * big["floor_warm"]
    return (f"Target (full build within {TARGET_RATIO:g} × the bare DuckDB read floor and "
            f"under 4 GB): {'met' if ok else 'NOT met'} at {big['lines']:,} order lines: "
            f"{big['cold']:.1f} s cold, {big['warm']:.1f} s warm "
            f"({big['cold'] / big['floor_cold']:.2f} × / {big['warm'] / big['floor_warm']:.2f} × "
            f"the floor's {big['floor_cold']:.1f} / {big['floor_warm']:.1f} s), "
            f"peak {big['peak_mb']:,.0f} MB.\n\n"
            f"*Layers* is the floor plus a plain copy of the build's {big['layer_tables']} "
            f"staging and mart tables, nothing computed: {big['layers_warm']:.1f} s warm, "
            f"{big['layers_warm'] / big['floor_warm']:.2f} × the floor. The target allows "
            f"{budget:.1f} s warm; writing the three layers alone takes "
            f"{big['layers_warm']:.1f} s of it, which leaves "
            f"{max(budget - big['layers_warm'], 0):.1f} s for everything "
            f"the models compute; they take {big['warm'] - big['layers_warm']:.1f} s now.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=list(LINES))
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder the generated shops are kept in (default: common.CACHE)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-warehouse-") as tmp:
        for lines in args.lines:
            r = measure(lines, Path(tmp), args.cache)
            results.append(r)
            print(f"{r['lines']:>10,} lines: build {r['cold']:7.1f} / {r['warm']:7.1f} s "
                  f"{r['peak_mb']:8,.0f} MB | floor {r['floor_cold']:6.1f} / "
                  f"{r['floor_warm']:6.1f} s {r['floor_mb']:7,.0f} MB "
                  f"({r['cold'] / r['floor_cold']:.2f} / {r['warm'] / r['floor_warm']:.2f} × "
                  f"floor) | layers {r['layers_cold']:6.1f} / {r['layers_warm']:6.1f} s"
                  f" | 1 bad byte {r['bad_seconds']:6.1f} s {r['bad_peak_mb']:7,.0f} MB"
                  f" | load {r['load']}", flush=True)
    text = table(results)
    print("\n" + text + "\n\n" + verdict(results))
    if sorted(args.lines) == sorted(LINES):
        path = write_block("bench_warehouse", "python benchmarks/bench_warehouse.py",
                           f"Profile `{PROFILE}`.\n\n{text}\n\n{verdict(results)}")
        print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
