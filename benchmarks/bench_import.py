"""Speed and peak memory of the importers, side by side with a floor.

Each measurement runs in a fresh subprocess (its own peak memory). The *floor*
is pandas reading the same file as text with no checks at all: what any
import must at least pay. The ratio is what validation, quarantine, time
zones and building the tables cost on top of that.

- CDNOW: the real order log (69,659 lines, aligned with spaces).
- Shopify: the ``bendita`` shop written as Shopify exports, at a few sizes.

    python benchmarks/bench_import.py                  # full run, updates benchmarks/README.md
    python benchmarks/bench_import.py --sizes 2000     # quick look, README untouched
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PEAK_MB, run_child, write_block  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "data" / "real" / "cdnow" / "CDNOW_master.txt"
SIZES = (2_000, 20_000)

_CHILD = r"""
import json, sys, time
import pandas as pd
mode, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if mode == "cdnow":
    from crmkit.sources.orders import OrderLogMapping, import_orders
    m = OrderLogMapping(customer="customer_id", date="date", quantity="number_of_cds",
                        amount="dollar_value", date_format="%Y%m%d")
    r = import_orders(path, m, currency="USD", timezone="America/New_York")
    rows = int(r.report["rows_read"].sum())
elif mode == "shopify":
    from crmkit.sources.shopify import import_shopify
    r = import_shopify(path + "/orders_export.csv", customers=path + "/customers_export.csv",
                       products=path + "/products_export.csv")
    rows = int(r.report["rows_read"].sum())
elif mode == "floor_cdnow":
    rows = len(pd.read_csv(path, sep=r"\s+", dtype=str))
else:  # floor_shopify: the three files read as text
    rows = sum(len(pd.read_csv(f"{path}/{n}_export.csv", dtype=str, keep_default_na=False))
               for n in ("orders", "customers", "products"))
seconds = time.perf_counter() - t0
__PEAK__
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": rows}))
""".replace("__PEAK__", PEAK_MB)


def measure(mode: str, path: str) -> dict:
    return run_child(_CHILD, mode, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES),
                        help="customers of the Shopify shops")
    args = parser.parse_args()
    full = args.sizes == list(SIZES)
    rows = []
    got, floor = measure("cdnow", str(CDNOW)), measure("floor_cdnow", str(CDNOW))
    rows.append(("CDNOW order log", "-", got, floor))
    from crmkit.dataset.shopify import write_shopify
    from crmkit.dataset.synth import generate

    for n in args.sizes:
        with tempfile.TemporaryDirectory() as work:
            write_shopify(generate("bendita", n_customers=n, seed=1), work)
            got, floor = measure("shopify", work), measure("floor_shopify", work)
        rows.append(("Shopify exports (bendita)", f"{n:,}", got, floor))
    lines = ["| source | customers | rows read | import s | peak MB | rows/s | floor s | "
             "× floor | floor MB |", "|---|---|---|---|---|---|---|---|---|"]
    for name, n, g, f in rows:
        lines.append(f"| {name} | {n} | {g['rows']:,} | {g['seconds']:.2f} | "
                     f"{g['peak_mb']:,.0f} | {g['rows'] / g['seconds']:,.0f} | "
                     f"{f['seconds']:.2f} | {g['seconds'] / f['seconds']:.1f} | "
                     f"{f['peak_mb']:,.0f} |")
    body = "\n".join(lines)
    print(body)
    if full:
        note = ("\n\nFloor: pandas reading the same files as text, without any check. The "
                "machine was shared with other work during the run (timings are noisier, "
                "never faster).")
        readme = write_block("bench_import", "python benchmarks/bench_import.py", body + note)
        print(f"README updated: {readme}")


if __name__ == "__main__":
    main()
