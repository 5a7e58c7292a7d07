"""Speed and peak memory of the synthetic generator, side by side with a floor.

Each measurement runs in a fresh subprocess so that its peak memory (max RSS)
is its own. The *floor* is the cheapest vectorized generator imaginable for
the same output: numpy drawing one random column per order-line field and
pandas wrapping them in a DataFrame; the ratio says how much the believable
behaviour costs on top of that. *Write* is the shop generated straight into a
folder of Parquet files (``write_shop``: each table written as soon as it is
final, then dropped), the way a large shop is made; ``generate`` keeps every
table in memory.

    python benchmarks/bench_synth.py                 # full run, updates benchmarks/README.md
    python benchmarks/bench_synth.py --sizes 10000   # quick look, README untouched
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PEAK_MB, run_child, write_block  # noqa: E402

PROFILES = ("fashion_chain", "sports_shop")
SIZES = (10_000, 100_000, 1_000_000)
TARGET_LINES, TARGET_SECONDS, TARGET_MB = 1_000_000, 15.0, 3 * 1024
#: Writing a shop of this many customers to disk stays under WRITE_TARGET_MB.
WRITE_TARGET_CUSTOMERS, WRITE_TARGET_MB = 1_000_000, 8 * 1024

_CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
mode, profile, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.perf_counter()
if mode == "generate":
    from crmkit.dataset.synth import generate
    data = generate(profile, n_customers=n, seed=1)
    rows = {k: len(v) for k, v in data.tables.items()}
elif mode == "write":
    import tempfile
    from pathlib import Path
    from crmkit.dataset.synth import write_shop
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_shop(Path(tmp) / "shop", profile, n_customers=n, seed=1,
                            format="parquet")
        rows = json.loads((folder / "manifest.json").read_text())["tables"]
        seconds = time.perf_counter() - t0  # the folder's removal is not timed
else:  # floor: the same number of order lines as plain random columns
    lines = int(sys.argv[4])
    rng = np.random.default_rng(1)
    df = pd.DataFrame({
        "order_id": np.sort(rng.integers(0, lines // 2, lines)),
        "line_number": rng.integers(1, 4, lines), "product_id": rng.integers(1, 80, lines),
        "quantity": 1 + rng.poisson(0.2, lines), "unit_price": rng.uniform(1, 100, lines),
        "discount": rng.choice([0.0, 0.3], lines),
    })
    rows = {"order_lines": len(df)}
if mode != "write":
    seconds = time.perf_counter() - t0
__PEAK__
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": rows}))
"""


def _run(*args: str) -> dict:
    return run_child(_CHILD.replace("__PEAK__", PEAK_MB), *args)


def measure(profile: str, n: int) -> dict:
    gen = _run("generate", profile, str(n))
    lines = gen["rows"]["order_lines"]
    floor = _run("floor", profile, str(n), str(lines))
    written = _run("write", profile, str(n))
    assert written["rows"] == gen["rows"], "write_shop wrote other tables than generate made"
    return {
        "profile": profile, "customers": n, "orders": gen["rows"]["orders"], "lines": lines,
        "all_rows": sum(gen["rows"].values()), "seconds": gen["seconds"],
        "peak_mb": gen["peak_mb"], "floor_seconds": floor["seconds"],
        "floor_mb": floor["peak_mb"], "write_seconds": written["seconds"],
        "write_mb": written["peak_mb"],
    }


def table(results: list[dict]) -> str:
    head = ("| profile | customers | orders | order lines | all rows | seconds | peak MB "
            "| lines/s | floor s | × floor | floor MB | write s | write peak MB |\n"
            + "|---" * 13 + "|")
    rows = [
        f"| {r['profile']} | {r['customers']:,} | {r['orders']:,} | {r['lines']:,} | "
        f"{r['all_rows']:,} | {r['seconds']:.2f} | {r['peak_mb']:,.0f} | "
        f"{r['lines'] / r['seconds']:,.0f} | {r['floor_seconds']:.2f} | "
        f"{r['seconds'] / r['floor_seconds']:.1f} | {r['floor_mb']:,.0f} | "
        f"{r['write_seconds']:.2f} | {r['write_mb']:,.0f} |"
        for r in results
    ]
    return "\n".join([head, *rows])


def verdict(results: list[dict]) -> str:
    """The target, judged on each profile's run sized to just over 1M order lines."""
    runs = [r for r in results if r.get("target")]
    if not runs:
        return "No target run (it follows the 100,000-customer run); run the full benchmark."
    lines = []
    for r in runs:
        ok = (r["lines"] >= TARGET_LINES and r["seconds"] < TARGET_SECONDS
              and r["peak_mb"] < TARGET_MB)
        lines.append(f"- {r['profile']}: {r['lines']:,} order lines ({r['customers']:,} "
                     f"customers) in {r['seconds']:.1f} s, peak {r['peak_mb']:,.0f} MB: "
                     f"{'met' if ok else 'NOT met'}")
    for r in results:
        if r["customers"] == WRITE_TARGET_CUSTOMERS:
            ok = r["write_mb"] < WRITE_TARGET_MB
            lines.append(f"- {r['profile']}: {r['customers']:,} customers written to Parquet "
                         f"in {r['write_seconds']:.1f} s, peak {r['write_mb']:,.0f} MB "
                         f"(< {WRITE_TARGET_MB:,} MB): {'met' if ok else 'NOT met'}")
    return (f"Target: >= 1M order lines in < {TARGET_SECONDS:.0f} s and < 3 GB peak; "
            f"{WRITE_TARGET_CUSTOMERS:,} customers written under "
            f"{WRITE_TARGET_MB // 1024} GB.\n\n" + "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES))
    args = parser.parse_args()
    results = []
    for profile in args.profiles:
        sizes = list(args.sizes)
        while sizes:
            n = sizes.pop(0)
            r = measure(profile, n)
            results.append(r)
            print(f"{profile:14} {n:>9,} customers: {r['lines']:>11,} lines "
                  f"{r['seconds']:7.2f} s  {r['peak_mb']:8,.0f} MB  "
                  f"({r['seconds'] / r['floor_seconds']:.1f}× floor); written "
                  f"{r['write_seconds']:7.2f} s  {r['write_mb']:8,.0f} MB", flush=True)
            if n == 100_000:  # next: the size that gives just over 1M order lines
                target = math.ceil(TARGET_LINES * 1.05 / (r["lines"] / n) / 1000) * 1000
                t = measure(profile, target)
                t["target"] = True
                results.append(t)
                print(f"{profile:14} {target:>9,} customers: {t['lines']:>11,} lines "
                      f"{t['seconds']:7.2f} s  {t['peak_mb']:8,.0f} MB  (target run)",
                      flush=True)
    text = table(results)
    print("\n" + text + "\n\n" + verdict(results))
    if sorted(args.sizes) == sorted(SIZES) and sorted(args.profiles) == sorted(PROFILES):
        path = write_block("bench_synth", "python benchmarks/bench_synth.py",
                           f"{text}\n\n{verdict(results)}")
        print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
