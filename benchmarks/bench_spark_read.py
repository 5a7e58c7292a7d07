"""The Spark engine's reading step alone: Spark's own read of plain extracts against the
hardened line reader on the driver, file by file, in one local[2] session.

Every file of a cached shop's extracts (``common.shop``) goes into ``raw`` twice, as batch
``spark`` (:func:`crmkit.warehouse.spark.extracts._read_raw`: Spark reads a plain file) and
as batch ``lines`` (``_read_lines``: the line reader, the way every file was read before);
the rows of the two batches must be the same, line for line (checked with ``exceptAll`` both
ways). Prints one JSON line per file: size, the driver's plain-text check (seconds), wall
and CPU seconds of each way (the process and Spark's JVM), and whether the rows agree::

    PYTHONPATH=. python benchmarks/bench_spark_read.py --lines 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import shop  # noqa: E402

from crmkit.dataset.extracts import FILES  # noqa: E402
from crmkit.warehouse.build import _check_plain, _raw_ddl, _stem  # noqa: E402
from crmkit.warehouse.spark import extracts  # noqa: E402
from crmkit.warehouse.spark.build import _init  # noqa: E402
from crmkit.warehouse.spark.load import Ledger, run  # noqa: E402
from crmkit.warehouse.spark.runtime import session  # noqa: E402


def _cpu() -> float:
    me = psutil.Process()
    return sum(sum(p.cpu_times()[:2]) for p in [me, *me.children(recursive=True)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    where, _ = shop(args.lines, profile="fashion_chain", seed=1, cache=args.cache)
    spark = session(tempfile.mkdtemp(prefix="crmkit-read-"), master="local[2]")
    _init(spark)
    now = datetime.now().replace(microsecond=0)
    for name, spec in FILES.items():
        run(spark, _raw_ddl(spec))
        path = where / "extracts" / name
        t = time.perf_counter()
        check = _check_plain(path, spec)
        rec: dict[str, object] = {"file": name, "mb": round(path.stat().st_size / 1e6, 1),
                                  "plain": check[0] is None,
                                  "check_s": round(time.perf_counter() - t, 2)}
        for tag in ("spark", "lines"):
            t, c = time.perf_counter(), _cpu()
            got = (extracts._read_raw(spark, path, spec, tag, now, Ledger(), check)
                   if tag == "spark" else
                   extracts._read_lines(spark, path, spec, tag, now, Ledger()))
            rec[tag] = {"s": round(time.perf_counter() - t, 1),
                        "cpu_s": round(_cpu() - c, 1), "read": got[0], "rejected": got[1]}
        raw = spark.table(f"raw.{_stem(name)}")
        cols = [c for c in raw.columns if c not in ("_batch_id", "_loaded_at")]
        a = raw.where("_batch_id = 'spark'").select(*cols)
        b = raw.where("_batch_id = 'lines'").select(*cols)
        rec["same_rows"] = a.exceptAll(b).count() == 0 and b.exceptAll(a).count() == 0
        print(json.dumps(rec), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
