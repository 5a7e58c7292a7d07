"""Notebook subcommands: ``report``, ``student``, ``edition`` and the ``dashboard`` page."""

from __future__ import annotations

import argparse

from ..dataset.profiles import PROFILE_NAMES
from .command import Command

__all__ = ["REPORT", "STUDENT", "EDITION", "DASHBOARD"]


def _report_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                   help="e.g. 01_crm_concepts, 01, or a path to an .ipynb")
    r.add_argument("--profile", action="append",
                   help=f"shop profile (repeatable, or 'all'): {', '.join(PROFILE_NAMES)}")
    r.add_argument("--data", metavar="DIR", help="a dataset folder (crmkit import output), "
                   "relative to the current folder: reports go to "
                   "reports/<slug of the shop's name>/")
    r.add_argument("--lang", action="append", choices=["en", "es"],
                   help="language (repeatable); default: the notebook's")
    r.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="any notebook parameter, e.g. "
                   "-p n_customers 2000; in a run of several notebooks it goes to those "
                   "that have it")
    r.add_argument("--out", default="reports", help="output folder (default reports/)")
    r.add_argument("--no-input", action="store_true", help="hide the code in the HTML")
    r.add_argument("--no-progress", action="store_true", help="no per-cell progress bar")
    r.add_argument("--edition", choices=["instructor", "student"], default="instructor",
                   help="instructor (default): with solutions; student: exercise cells as "
                   "the student sees them, into <notebook>.student.html")


def _report(args: argparse.Namespace) -> int:
    from ..report import parse_value, run_reports

    params = {name: parse_value(value) for name, value in args.parameter}
    if args.data:
        params["data_dir"] = args.data
    reports = run_reports(args.notebooks, profiles=args.profile, langs=args.lang,
                          parameters=params, out_dir=args.out, no_input=args.no_input,
                          progress=not args.no_progress, edition=args.edition)
    print(f"{len(reports)} report(s) written under {args.out}/")
    return 0


def _student_arguments(st: argparse.ArgumentParser) -> None:
    st.add_argument("notebooks", nargs="*", metavar="NOTEBOOK")
    st.add_argument("--out", default="student", help="output folder (default student/)")
    st.add_argument("--lang", action="append", choices=["en", "es"],
                    help="language (repeatable); default: both")
    keep = st.add_mutually_exclusive_group()
    keep.add_argument("--keep", action="store_true",
                      help="leave changed notebooks as they are and write the others")
    keep.add_argument("--force", action="store_true",
                      help="replace changed notebooks too (their changes are lost)")


def _student(args: argparse.Namespace) -> int:
    from ..lessons.edition import write_editions
    from ..report import find_notebooks

    for path, n, action in write_editions(find_notebooks(args.notebooks), args.out,
                                          args.lang or ["en", "es"], student=True,
                                          force=args.force, keep=args.keep):
        where = f"{path.name} ({path.parent.name})"
        if action == "kept":
            print(f"{where}: kept as you changed it -> {path}")
        else:
            print(f"{where}: {n} solution(s) removed -> {path} ({action})")
    return 0


def _edition_arguments(ed: argparse.ArgumentParser) -> None:
    ed.add_argument("notebooks", nargs="*", metavar="NOTEBOOK")
    ed.add_argument("--lang", required=True, choices=["en", "es"])
    ed.add_argument("--out", required=True, help="folder to write the notebooks to "
                    "(e.g. editions/es)")
    ed.add_argument("--student", action="store_true",
                    help="also remove the solutions (the student edition)")


def _edition(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..lessons.edition import write_edition
    from ..report import find_notebooks

    for nb in find_notebooks(args.notebooks):
        path, n = write_edition(nb, Path(args.out) / nb.name, args.lang, student=args.student)
        removed = f", {n} solution(s) removed" if args.student else ""
        print(f"{path.name}: {args.lang} edition{removed} -> {path}")
    return 0


def _dashboard_arguments(db: argparse.ArgumentParser) -> None:
    dsrc = db.add_mutually_exclusive_group(required=True)
    dsrc.add_argument("--profile", help=f"generate this shop: {', '.join(PROFILE_NAMES)}")
    dsrc.add_argument("--data", help="a dataset folder (crmkit generate, or your own)")
    # the defaults of notebook 04's parameters cell, so the page and the notebook agree
    db.add_argument("--customers", type=int, default=4000,
                    help="customers of the generated shop (default 4000, as notebook 04)")
    db.add_argument("--seed", type=int, default=42,
                    help="random seed (default 42, as notebook 04)")
    db.add_argument("--lang", default="en", choices=["en", "es"])
    db.add_argument("--out", default=None, help="HTML file to write (default: "
                    "<shop-slug>-dashboard.html in the current folder)")
    db.add_argument("--margin", type=float, default=None,
                    help="share of revenue left after the cost of goods (e.g. 0.4), for "
                    "products without a cost; shown beside the CPS")


def _dashboard(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..dataset.crmdata import CRMData
    from ..dataset.synth import generate
    from ..lessons.dashboard import TABLES, write_dashboard

    if args.margin is not None:
        from ..lessons.parameters import check_parameter

        check_parameter("margin", args.margin)
    data = (CRMData.load(args.data, tables=TABLES) if args.data else
            generate(args.profile, n_customers=args.customers, seed=args.seed))
    path = write_dashboard(data, args.out, lang=args.lang, margin=args.margin)
    print(f"dashboard written: {path}")
    return 0


REPORT = Command(
    "report", "run notebooks with papermill and render them to HTML", _report_arguments,
    _report, description="Run notebooks with parameters into reports/<profile>/<lang>/ "
    "(executed .ipynb and .html). Without NOTEBOOK, every notebook.")
STUDENT = Command(
    "student", "write the student edition (solutions removed)", _student_arguments, _student,
    description="Write every notebook with its solutions removed, one single-language "
    "edition per language, to OUT/<lang>/. A notebook changed since it was written there "
    "(a student's work) is never replaced unless --force.")
EDITION = Command(
    "edition", "write single-language notebooks (one language's text)", _edition_arguments,
    _edition, description="Write each notebook with the Markdown of one language "
    "only and lang already set in its parameters cell. Without NOTEBOOK, every notebook.")
DASHBOARD = Command(
    "dashboard", "write the dashboard (cuadro de mando) as one HTML page",
    _dashboard_arguments, _dashboard, description="Write a self-contained HTML dashboard: "
    "the four KPIs against target, segment sizes and top campaigns.")
