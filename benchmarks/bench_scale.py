"""The kit at scale: DuckDB and Spark local[2] step by step, beside the bare DuckDB read.

For each size (order lines of a ``fashion_chain`` shop), the shop is generated
once (dataset and source extracts) into a cache folder and reused by later runs.
Then each step runs as its own command, and its wall time and peak resident
memory are measured over the whole process tree (Spark's JVM included), sampled
every 0.2 s:

* **floor**: DuckDB alone reading the extracts into tables
  (``read_csv(..., all_varchar=true, ignore_errors=true)``);
* **build (DuckDB)**: ``crmkit warehouse build OUT --from EXTRACTS``;
* **build (Spark)**: ``crmkit warehouse build OUT --engine spark --master local[2]``
  ``--from EXTRACTS`` (or ``--data DATASET`` where this version's Spark engine only
  loads datasets);
* **RFM + BTYD (DuckDB)**: the RFM summary read from the warehouse by DuckDB
  (:func:`crmkit.analytics.warehouse_models.warehouse_rfm_summary`: the orders and the sums
  of their lines, no other table) -> the counts per distinct (frequency, recency, T)
  -> a BG/NBD fit on them;
* **RFM + BTYD (Spark)**: :mod:`crmkit.analytics.spark_models` on the Spark warehouse
  (summary and the counts per distinct (frequency, recency, T)) -> the same fit, where
  this version has that module;
* **dashboard**: ``crmkit dashboard --data DATASET``.

The end-to-end figure on DuckDB is the sum of the times and the largest peak of
generate (+ extracts), build, RFM + BTYD and dashboard.

    python benchmarks/bench_scale.py                    # 1 M and 10 M order lines
    python benchmarks/bench_scale.py --lines 1000000    # one size
    python benchmarks/bench_scale.py --huge             # adds 50 M order lines
    python benchmarks/bench_scale.py --lines 20000 --no-readme   # a quick look

Sizes whose generation would need more than ``--max-gb`` of memory (the
generator writes table by table: about 6 GB per million customers; the extracts,
written from its folder a slice at a time, about half that) are skipped with a
note. The machine is usually shared: wall times are noisy, so compare the ratios
within one run; the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    CACHE,
    FLOOR_READ,
    LINES_PER_CUSTOMER,
    load_average,
    measured,
    shop,
    write_block,
)

PROFILE = "fashion_chain"
SIZES = (1_000_000, 10_000_000)
HUGE = 50_000_000
#: Peak memory of the shop step per million customers: write_shop to Parquet peaked at
#: 6.3 GB (6,304,688 kB max RSS) for 1,098,901 customers (10.06 M order lines); the extracts
#: of that folder, in a process of their own, at 3.0 GB (2,954,448 kB).
GENERATOR_GB_PER_M_CUSTOMERS = 5.9
PY = sys.executable

_FLOOR = FLOOR_READ + """
import sys
floor_read(sys.argv[1], sys.argv[2])
"""

_MODELS_DUCKDB = r"""
import json, sys
from crmkit.analytics.clv import BetaGeo
from crmkit.analytics.warehouse_models import btyd_counts, warehouse_rfm_summary
summary = warehouse_rfm_summary(sys.argv[1], unit="weeks")
counts = btyd_counts(summary)
model = BetaGeo().fit(counts)
print(json.dumps({"customers": len(summary), "rows": len(counts),
                  "params": [float(x) for x in model.params_.values()]}))
"""

_MODELS_SPARK = r"""
import json, sys
from crmkit.analytics import spark_models as sm
from crmkit.analytics.clv import BetaGeo
from crmkit.warehouse.spark import opened
with opened(sys.argv[1], master="local[2]") as spark:
    summary = sm.spark_rfm_summary(spark, unit="weeks")
    counts = sm.btyd_inputs(summary)
model = BetaGeo().fit(counts)
print(json.dumps({"customers": int(counts["customers"].sum()), "rows": len(counts),
                  "params": [float(x) for x in model.params_.values()]}))
"""


def _has_spark_models(src: Path | None) -> bool:
    if src is not None:
        return (src / "crmkit" / "analytics" / "spark_models.py").exists()
    import importlib.util

    return importlib.util.find_spec("crmkit.analytics.spark_models") is not None


def _spark_env(src: Path | None) -> dict | None:
    """The environment of the Spark steps: this checkout, or the one ``--spark-src`` names."""
    if src is None:
        return None
    return {**os.environ, "PYTHONPATH": str(src)}


def _cli(*args: str) -> list[str]:
    return [PY, "-m", "crmkit.cli", *args]


def _step(name: str, cmd: list[str], env: dict | None = None) -> dict:
    # `python -m` puts the working folder first on the path: run where PYTHONPATH points
    cwd = env["PYTHONPATH"] if env else None
    r = measured(cmd, env=env, cwd=cwd)
    r["step"] = name
    if r["rc"]:
        tail = (r["err"].strip().splitlines() or ["?"])[-1]
        print(f"    {name}: exit {r['rc']}: {tail}", flush=True)
    else:
        print(f"    {name}: {r['seconds']:8.1f} s {r['peak_mb']:8,.0f} MB", flush=True)
    return r


def _spark_build(where: Path, out: Path, env: dict | None) -> dict:
    r = _step("build (Spark)", _cli("warehouse", "build", str(out), "--engine", "spark",
                                     "--master", "local[2]", "--from",
                                     str(where / "extracts")), env)
    if r["rc"] and "--data" in r["err"]:  # this version's Spark engine loads datasets only
        r = _step("build (Spark, from the dataset)",
                  _cli("warehouse", "build", str(out), "--engine", "spark", "--master",
                       "local[2]", "--data", str(where / "data")), env)
        r["step"] = "build (Spark)"
        r["note"] = "from the dataset"
    return r


def measure(lines: int, work: Path, cache: Path, spark_src: Path | None = None,
            spark: bool = True) -> dict:
    """Every step at one size; the shop is generated first unless cached."""
    cached = (Path(cache) / f"{PROFILE}-{lines}-seed1" / "shop.json").exists()
    where, info = shop(lines, profile=PROFILE, seed=1, cache=cache)
    gen = {"step": "generate + extracts", "seconds": info["seconds"],
           "peak_mb": info["peak_mb"], "rc": 0, "cached": cached}
    print(f"  {info['lines']:,} order lines, {info['customers']:,} customers "
          f"({'cached' if cached else 'generated'}: {info['seconds']:.1f} s, "
          f"{info['peak_mb']:,.0f} MB)", flush=True)
    start = load_average()
    steps = [gen]
    steps.append(_step("floor (bare DuckDB read)",
                       [PY, "-c", _FLOOR, str(where / "extracts"), str(work / "floor.duckdb")]))
    steps.append(_step("build (DuckDB)", _cli("warehouse", "build", str(work / "wh.duckdb"),
                                              "--from", str(where / "extracts"))))
    env = _spark_env(spark_src)
    steps.append(_spark_build(where, work / "wh_spark", env) if spark else
                 {"step": "build (Spark)", "rc": None, "seconds": None, "peak_mb": None})
    duck_models = _step("RFM + BTYD (DuckDB)", [PY, "-c", _MODELS_DUCKDB,
                                                str(work / "wh.duckdb")])
    steps.append(duck_models)
    if spark and _has_spark_models(spark_src) and not steps[-2]["rc"]:
        steps.append(_step("RFM + BTYD (Spark)", [PY, "-c", _MODELS_SPARK,
                                                  str(work / "wh_spark")], env))
    else:
        steps.append({"step": "RFM + BTYD (Spark)", "rc": None, "seconds": None,
                      "peak_mb": None})
    steps.append(_step("dashboard", _cli("dashboard", "--data", str(where / "data"),
                                         "--out", str(work / "dashboard.html"))))
    e2e = [s for s in steps if s["step"] in ("generate + extracts", "build (DuckDB)",
                                              "RFM + BTYD (DuckDB)", "dashboard")]
    return {"lines": info["lines"], "customers": info["customers"],
            "sessions": info["sessions"], "steps": steps,
            "e2e_seconds": sum(s["seconds"] for s in e2e),
            "e2e_peak_mb": max(s["peak_mb"] for s in e2e),
            "e2e_ok": all(s["rc"] == 0 for s in e2e),
            "load": f"{start} → {load_average()}"}


def _cell(s: dict, floor: float | None) -> str:
    if s["rc"] is None:
        return "not run"
    if s["rc"]:
        return f"failed (exit {s['rc']})"
    ratio = f", {s['seconds'] / floor:.1f} × floor" if floor and "floor" not in s["step"] \
        and s["step"] != "generate + extracts" else ""
    note = " (cached)" if s.get("cached") else f" ({s['note']})" if s.get("note") else ""
    return f"{s['seconds']:,.1f} s{ratio}, {s['peak_mb']:,.0f} MB{note}"


def table(results: list[dict]) -> str:
    names = [s["step"] for s in results[0]["steps"]]
    head = ("| step | " + " | ".join(f"{r['lines']:,} order lines" for r in results) + " |\n"
            + "|---" * (len(results) + 1) + "|")
    rows = []
    for i, name in enumerate(names):
        cells = []
        for r in results:
            floor = next(s["seconds"] for s in r["steps"] if s["step"].startswith("floor"))
            cells.append(_cell(r["steps"][i], floor))
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    rows.append("| **end to end on DuckDB** (generate → extracts → warehouse → RFM + BTYD → "
                "dashboard) | " + " | ".join(
                    f"{r['e2e_seconds']:,.1f} s, peak {r['e2e_peak_mb']:,.0f} MB"
                    + ("" if r["e2e_ok"] else " (a step failed)") for r in results) + " |")
    rows.append("| load average (1/5/15 min, start → end) | "
                + " | ".join(r["load"] for r in results) + " |")
    return "\n".join([head, *rows])


def _too_big(lines: int, max_gb: float, cache: Path) -> str | None:
    if (Path(cache) / f"{PROFILE}-{lines}-seed1" / "shop.json").exists():
        return None
    need = lines / LINES_PER_CUSTOMER / 1e6 * GENERATOR_GB_PER_M_CUSTOMERS
    if need > max_gb:
        return (f"{lines:,} order lines skipped: generating them needs about {need:.0f} GB "
                f"(more than --max-gb {max_gb:g})")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--huge", action="store_true", help=f"also {HUGE:,} order lines")
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help=f"folder the generated shops are kept in (default {CACHE})")
    parser.add_argument("--max-gb", type=float, default=10.0,
                        help="skip sizes whose generation needs more memory than this")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    parser.add_argument("--no-spark", action="store_true", help="DuckDB steps only")
    parser.add_argument("--spark-src", type=Path, default=None,
                        help="run the Spark steps with the crmkit of this source folder")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    sizes = sorted(set(args.lines) | ({HUGE} if args.huge else set()))
    results, notes = [], []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for lines in sizes:
            why = _too_big(lines, args.max_gb, args.cache)
            if why:
                print(why, flush=True)
                notes.append(why)
                continue
            print(f"{lines:,} order lines:", flush=True)
            work = Path(tmp) / str(lines)
            work.mkdir()
            results.append(measure(lines, work, args.cache, args.spark_src,
                                   spark=not args.no_spark))
    if not results:
        return
    text = table(results)
    body = text + "".join(f"\n\n{n}." for n in notes)
    print("\n" + body)
    if args.json:
        args.json.write_text(json.dumps(results, default=str, indent=1), encoding="utf-8")
    if not args.no_readme:
        command = "python benchmarks/bench_scale.py " + " ".join(sys.argv[1:])
        print(f"\nwritten to {write_block('bench_scale', command.strip(), body)}")


if __name__ == "__main__":
    main()
