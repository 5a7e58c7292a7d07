"""Speed of the basket rules (mlxtend fpgrowth) side by side with a hand-written DuckDB floor.

For each shop size one fresh subprocess generates the data once, then times
``crmkit.analytics.baskets.basket_rules`` (product level, pairs, items in at
least 20 baskets) and the same rules written directly as one DuckDB query
(distinct order-item pairs, a self-join, counts turned into support,
confidence and lift). The two must give the same rules with the same lifts;
the ratio says what the library route costs over the fastest honest baseline.

    python benchmarks/bench_mining.py                  # full run, updates benchmarks/README.md
    python benchmarks/bench_mining.py --sizes 10000    # quick look, README untouched
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PEAK_MB, run_child, write_block  # noqa: E402

PROFILE = "fashion_chain"
SIZES = (15_000, 150_000)

_CHILD = r"""
import json, sys, time
import duckdb, numpy as np
from crmkit.dataset.synth import generate
from crmkit.analytics.baskets import DEFAULT_MIN_BASKETS, basket_rules
profile, n = sys.argv[1], int(sys.argv[2])
data = generate(profile, n_customers=n, seed=1)
lines = len(data.order_lines)

t0 = time.perf_counter()
rules = basket_rules(data, level="product")
crmkit_s = time.perf_counter() - t0

SQL = '''
WITH kept AS (SELECT order_id FROM orders WHERE status <> 'cancelled'),
b AS (SELECT DISTINCT l.order_id, p.name AS item FROM order_lines l
      JOIN kept USING (order_id) JOIN products p USING (product_id)),
n AS (SELECT count(DISTINCT order_id)::DOUBLE AS n FROM b),
i AS (SELECT item, count(*)::DOUBLE AS c FROM b GROUP BY item),
pr AS (SELECT a.item AS x, z.item AS y, count(*)::DOUBLE AS c FROM b a
       JOIN b z ON a.order_id = z.order_id AND a.item <> z.item GROUP BY 1, 2)
SELECT x AS antecedent, y AS consequent, pr.c / n.n AS support, pr.c / ix.c AS confidence,
       (pr.c / ix.c) / (iy.c / n.n) AS lift
FROM pr CROSS JOIN n JOIN i ix ON ix.item = x JOIN i iy ON iy.item = y
WHERE pr.c >= $min_count AND (pr.c / ix.c) / (iy.c / n.n) >= 1
'''
t0 = time.perf_counter()
con = duckdb.connect()
for name in ("orders", "order_lines", "products"):
    con.register(name, data.tables[name])
floor = con.execute(SQL, {"min_count": DEFAULT_MIN_BASKETS}).df()
floor_s = time.perf_counter() - t0

a = rules.set_index(["antecedent", "consequent"])["lift"].sort_index()
b = floor.set_index(["antecedent", "consequent"])["lift"].sort_index()
same = bool(a.index.equals(b.index) and np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12))
__PEAK__
print(json.dumps({"lines": lines, "orders": len(data.orders), "rules": len(rules),
                  "crmkit_s": crmkit_s, "floor_s": floor_s, "same": same,
                  "peak_mb": peak_mb}))
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args(argv)
    code = _CHILD.replace("__PEAK__", PEAK_MB)
    rows = []
    for n in args.sizes:
        r = run_child(code, PROFILE, str(n))
        ratio = r["crmkit_s"] / r["floor_s"]
        rows.append(f"| {n:,} | {r['orders']:,} | {r['lines']:,} | {r['rules']:,} | "
                    f"{r['crmkit_s']:.2f} | {r['floor_s']:.2f} | {ratio:.1f} | "
                    f"{'yes' if r['same'] else 'NO'} | {r['peak_mb']:,.0f} |")
        print(rows[-1], flush=True)
    if args.sizes == list(SIZES):
        body = "\n".join([
            f"Profile `{PROFILE}`; product-level pair rules, items in at least 20 baskets. "
            "The machine was shared with other work during the run.",
            "",
            "Nine tenths of `basket_rules`' time is mlxtend's `fpgrowth`, which builds its "
            "FP-tree in Python, one basket at a time; the floor only counts pairs, so it "
            "cannot go beyond pairs as `max_len > 2` can.",
            "",
            "| customers | orders | order lines | rules | basket_rules s | DuckDB floor s | "
            "× floor | same rules | peak MB |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
        ])
        write_block("bench_mining", "python benchmarks/bench_mining.py", body)


if __name__ == "__main__":
    main()
