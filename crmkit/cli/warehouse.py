"""``crmkit warehouse build|load|report|test|quarantine``: one small function per action."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from .command import Command, add_commands, run_command

if TYPE_CHECKING:
    import pandas as pd

    from ..dataset.crmdata import CRMData

__all__ = ["WAREHOUSE", "ACTIONS"]


# ----------------------------------------------------------------------------- arguments
def _load_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                    help="how long to wait for another build or load of the same file "
                    "(default 60)")
    sp.add_argument("--plausible-years", type=int, default=10, metavar="N",
                    help="quarantine dates more than N years from the extraction day "
                    "(default 10)")
    sp.add_argument("--memory-limit", default=None, metavar="SIZE",
                    help="the most memory DuckDB may hold, e.g. 8GB; it spills the rest to "
                    "disk (default: 40%% of this machine's memory, or of `ulimit -v`)")


def _engine_options(sp: argparse.ArgumentParser) -> None:
    """The Spark engine (crmkit[spark], Java 17)."""
    sp.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                    help="duckdb (default: one file) or spark (a folder of Parquet "
                    "tables; needs `pip install crmkit[spark]` and Java 17)")
    sp.add_argument("--master", default="local[2]",
                    help="Spark master with --engine spark (default local[2])")
    sp.add_argument("--remote", default=None, metavar="URL",
                    help="a Spark Connect endpoint (sc://host:15002) with --engine spark, "
                    "instead of --master")


def _build_arguments(wb: argparse.ArgumentParser) -> None:
    wb.add_argument("db", help="warehouse file to write, e.g. shop.duckdb")
    src = wb.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", dest="data_dir", help="a dataset folder: crmkit import or "
                     "crmkit generate output, or a sample (data/samples/boutique)")
    src.add_argument("--from", dest="source", help="an extracts folder of source systems "
                     "(crmkit extracts)")
    src.add_argument("--profile", help="generate this shop profile and load it")
    wb.add_argument("--customers", type=int, default=None)
    wb.add_argument("--seed", type=int, default=0)
    wb.add_argument("--batch", action="append", default=[],
                    help="a later extracts or dataset folder to load after the first "
                    "(repeatable)")
    _load_options(wb)
    _engine_options(wb)


def _load_arguments(wl: argparse.ArgumentParser) -> None:
    wl.add_argument("db")
    wl.add_argument("folder")
    _load_options(wl)


def _test_arguments(wt: argparse.ArgumentParser) -> None:
    wt.add_argument("db")
    _engine_options(wt)


def _quarantine_arguments(wq: argparse.ArgumentParser) -> None:
    wq.add_argument("db")
    wq.add_argument("--batch", default=None, help="only this batch id")
    wq.add_argument("--csv", metavar="FILE", default=None,
                    help="write them to a formula-safe CSV for a spreadsheet")


# ----------------------------------------------------------------------------- actions
def _build(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        return _build_spark(args)
    from ..warehouse.build import build_warehouse, load_report

    path = build_warehouse(_build_source(args), args.db, batches=args.batch, seed=args.seed,
                           plausible_years=args.plausible_years, lock_timeout=args.wait,
                           memory_limit=args.memory_limit)
    report = load_report(path)
    print(report.to_string(index=False))
    _absent(report)
    _quarantined(path, report)
    print(f"warehouse written: {path}")
    return 0


def _build_source(args: argparse.Namespace) -> str | CRMData:
    """What ``build`` loads first: an extracts folder, a dataset (folder) or a new shop."""
    from ..warehouse.direct import is_dataset_folder

    if args.source:
        if is_dataset_folder(args.source):
            from ..errors import DatasetError

            raise DatasetError(
                f"{args.source!r} is a dataset folder (one file per table and "
                "manifest.json), not source extracts: build from it with `crmkit "
                f"warehouse build {args.db} --data {args.source}`.")
        return args.source
    if args.data_dir:
        from ..dataset.crmdata import CRMData

        # a dataset folder is loaded file by file (its own files in the load report)
        return (args.data_dir if is_dataset_folder(args.data_dir)
                else CRMData.load(args.data_dir))
    from ..dataset.synth import generate

    return generate(args.profile, n_customers=args.customers, seed=args.seed)


def _load(args: argparse.Namespace) -> int:
    from ..warehouse.build import load_batch

    report = load_batch(args.db, args.folder, plausible_years=args.plausible_years,
                        lock_timeout=args.wait, memory_limit=args.memory_limit)
    print(report.to_string(index=False))
    _absent(report)
    _quarantined(args.db, report)
    return 0


def _report(args: argparse.Namespace) -> int:
    from ..warehouse.build import load_report

    print(load_report(args.db).to_string(index=False))
    return 0


def _test(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        return _test_spark(args)
    from ..warehouse.checks import run_data_tests

    return _test_result(run_data_tests(args.db))


def _test_result(result: pd.DataFrame) -> int:
    """Print the data tests' outcome; exit status 1 when one failed."""
    failed = result[result["status"] != "pass"]
    print(result[["test", "status", "failing_rows"]].to_string(index=False))
    print(f"{len(result) - len(failed)} passed, {len(failed)} failed")
    return 1 if len(failed) else 0


def _quarantine(args: argparse.Namespace) -> int:
    if args.csv:
        from ..warehouse.export import export_quarantine

        written = export_quarantine(args.db, args.csv, batch_id=args.batch)
        print(f"quarantine written: {written}")
    else:
        from ..warehouse.build import quarantine

        print(quarantine(args.db, batch_id=args.batch).to_string(index=False))
    return 0


# ----------------------------------------------------------------------------- spark engine
def _build_spark(args: argparse.Namespace) -> int:
    """`crmkit warehouse build ... --engine spark`: a folder of Parquet tables."""
    from ..errors import DatasetError
    from ..warehouse import spark

    where = {"master": args.master, "remote": args.remote}
    source = args.data_dir or args.source
    if not source:
        raise DatasetError("--engine spark builds from a dataset folder (--data DIR) or "
                           "source extracts (--from DIR); write the shop first (crmkit "
                           "generate or crmkit extracts).")
    out = spark.build_spark(source, args.db, batches=args.batch,
                            plausible_years=args.plausible_years, **where)
    with spark.opened(out, **where) as session:
        print(session.table("meta.load_report").toPandas().to_string(index=False))
    print(f"warehouse written: {out}")
    return 0


def _test_spark(args: argparse.Namespace) -> int:
    """`crmkit warehouse test ... --engine spark`."""
    from ..warehouse import spark

    with spark.opened(args.db, master=args.master, remote=args.remote) as session:
        result = spark.run_spark_data_tests(session)
    return _test_result(result)


# ----------------------------------------------------------------------------- what a load says
def _quarantined(db: str | Path, report: pd.DataFrame, *, first: int = 5) -> None:
    """Per file and reason: how many rows went to quarantine, and the first lines."""
    from ..warehouse.build import quarantine

    for batch in report["batch_id"].unique():
        q = quarantine(db, batch_id=batch)
        for (file, reason), rows in q.groupby(["file", "reason"], sort=True):
            lines = ", ".join(str(x) for x in rows["line"].head(first))
            more = f" and {len(rows) - first} more" if len(rows) > first else ""
            word = "line" if len(rows) == 1 else "lines"
            print(f"quarantined: {file} {word} {lines}{more}: {reason} ({len(rows)} rows)")


def _absent(report: pd.DataFrame) -> None:
    """Say which extract files (or dataset tables) a batch did not bring, and how many rows
    loaded against an inferred member of a dimension."""
    for batch, rows in report.groupby("batch_id", sort=False):
        missing = _missing_files(set(rows["file"]))
        if missing[0]:
            print(f"batch {batch}: not in this batch: {', '.join(missing[0])}")
        if missing[1]:
            print(f"batch {batch}: the dataset has no {', '.join(missing[1])}; their marts "
                  "are empty (a buyer or product named only by its number is an inferred "
                  "member of its dimension)")
        inferred = rows.loc[rows["rows_inferred"].fillna(0) > 0]
        for file, n in zip(inferred["file"], inferred["rows_inferred"], strict=True):
            print(f"inferred: {file}: {int(n)} rows name a customer or product "
                  "the warehouse has no row for; they load against an inferred member, filled "
                  "in when its row arrives")


def _missing_files(files: set[str]) -> tuple[list[str], list[str]]:
    """(extract files not in a batch of extracts, tables not in a batch of a dataset)."""
    from ..dataset.extracts import FILES
    from ..warehouse.direct import absent_tables

    if files & set(FILES):
        return [name for name in FILES if name not in files], []
    return [], list(absent_tables(files))


ACTIONS = (
    Command("build", "build a warehouse file from a dataset, extracts or a new shop",
            _build_arguments, _build),
    Command("load", "load one more batch of extracts or a dataset folder (non-volatile)",
            _load_arguments, _load),
    Command("report", "rows read, loaded and quarantined, per batch and file",
            lambda wr: wr.add_argument("db"), _report),
    Command("test", "run the data tests on the marts (exit 1 on a failure)",
            _test_arguments, _test),
    Command("quarantine", "the quarantined rows: file, line, reason, record",
            _quarantine_arguments, _quarantine),
)


def _warehouse(args: argparse.Namespace) -> int:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20,
                           "display.max_rows", 200):
        return run_command(ACTIONS, "action", args)


WAREHOUSE = Command("warehouse", "build, load, report on and test a DuckDB warehouse",
                    lambda w: add_commands(w, ACTIONS, dest="action"), _warehouse)
