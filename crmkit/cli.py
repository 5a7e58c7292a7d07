"""The ``crmkit`` command line.

    crmkit generate --profile boutique --customers 500 --seed 1 --out my_shop
    crmkit samples data/samples
    crmkit dictionary --out data/README.md
    crmkit dashboard --profile bendita --lang es --out bendita.html
    crmkit profiles
    crmkit edition --lang es --out editions/es
    crmkit import shopify orders_export.csv --customers customers_export.csv --out my_shop
    crmkit import orders sales.csv --customer "Customer ID" --date InvoiceDate --out my_shop
    crmkit assign --roster roster.csv --out class
    crmkit grade class_submissions --roster roster.csv --out grades
"""

from __future__ import annotations

import argparse
import sys
import time

from . import __version__
from .dataset.profiles import PROFILE_NAMES, PROFILES
from .errors import CRMKitError

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2), like every other crmkit error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crmkit", description="CRM-analytics course kit: data, warehouse and reports."
    )
    parser.add_argument("--version", action="version", version=f"crmkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="generate a synthetic shop dataset")
    g.add_argument("--profile", required=True, help=f"one of: {', '.join(PROFILE_NAMES)}")
    g.add_argument("--customers", type=int, default=None,
                   help="number of customers (default: the profile's)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--start", default="2024-01-01", help="first day, YYYY-MM-DD")
    g.add_argument("--end", default="2025-12-31", help="last day, YYYY-MM-DD")
    g.add_argument("--format", default="csv", choices=["csv", "parquet"])
    g.add_argument("--out", required=True, help="folder to write")

    s = sub.add_parser("samples", help="rebuild the committed sample datasets")
    s.add_argument("out", nargs="?", default="data/samples")
    s.add_argument("--profile", action="append", choices=PROFILE_NAMES,
                   help="only this profile (repeatable)")
    s.add_argument("--extracts", metavar="DIR",
                   help="also write the boutique sample as messy source extracts to DIR")
    s.add_argument("--shopify", metavar="DIR",
                   help="also write the small bendita example as Shopify exports to DIR")

    d = sub.add_parser("dictionary", help="write the data dictionary (Markdown)")
    d.add_argument("--out", default="data/README.md")

    r = sub.add_parser(
        "report", help="run notebooks with papermill and render them to HTML",
        description="Run notebooks with parameters into reports/<profile>/<lang>/ "
        "(executed .ipynb and .html). Without NOTEBOOK, every notebook.")
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

    st = sub.add_parser(
        "student", help="write the student edition (solutions removed)",
        description="Write every notebook with its solutions removed, one single-language "
        "edition per language, to OUT/<lang>/. A notebook changed since it was written there "
        "(a student's work) is never replaced unless --force.")
    st.add_argument("notebooks", nargs="*", metavar="NOTEBOOK")
    st.add_argument("--out", default="student", help="output folder (default student/)")
    st.add_argument("--lang", action="append", choices=["en", "es"],
                    help="language (repeatable); default: both")
    keep = st.add_mutually_exclusive_group()
    keep.add_argument("--keep", action="store_true",
                      help="leave changed notebooks as they are and write the others")
    keep.add_argument("--force", action="store_true",
                      help="replace changed notebooks too (their changes are lost)")

    ed = sub.add_parser("edition", help="write single-language notebooks (one language's text)",
                        description="Write each notebook with the Markdown of one language "
                        "only and lang already set in its parameters cell. Without NOTEBOOK, "
                        "every notebook.")
    ed.add_argument("notebooks", nargs="*", metavar="NOTEBOOK")
    ed.add_argument("--lang", required=True, choices=["en", "es"])
    ed.add_argument("--out", required=True, help="folder to write the notebooks to "
                    "(e.g. editions/es)")
    ed.add_argument("--student", action="store_true",
                    help="also remove the solutions (the student edition)")

    x = sub.add_parser("extracts", help="write a shop as three messy source-system extracts")
    x.add_argument("out", help="folder to write")
    x.add_argument("--profile", required=True, help=f"one of: {', '.join(PROFILE_NAMES)}")
    x.add_argument("--customers", type=int, default=None)
    x.add_argument("--seed", type=int, default=0)
    x.add_argument("--clean", action="store_true", help="plant no bad rows")

    w = sub.add_parser("warehouse", help="build, load, report on and test a DuckDB warehouse")
    wsub = w.add_subparsers(dest="action", required=True)
    wb = wsub.add_parser("build", help="build a warehouse file from a dataset, extracts or "
                         "a new shop")
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
    wl = wsub.add_parser("load", help="load one more batch of extracts or a dataset folder "
                         "(non-volatile)")
    wl.add_argument("db")
    wl.add_argument("folder")
    for sp in (wb, wl):
        sp.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for another build or load of the same file "
                        "(default 60)")
        sp.add_argument("--plausible-years", type=int, default=10, metavar="N",
                        help="quarantine dates more than N years from the extraction day "
                        "(default 10)")
    wr = wsub.add_parser("report", help="rows read, loaded and quarantined, per batch and file")
    wr.add_argument("db")
    wt = wsub.add_parser("test", help="run the data tests on the marts (exit 1 on a failure)")
    wt.add_argument("db")
    for sp in (wb, wt):  # the Spark engine (crmkit[spark], Java 17)
        sp.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                        help="duckdb (default: one file) or spark (a folder of Parquet "
                        "tables; needs `pip install crmkit[spark]` and Java 17)")
        sp.add_argument("--master", default="local[2]",
                        help="Spark master with --engine spark (default local[2])")
        sp.add_argument("--remote", default=None, metavar="URL",
                        help="a Spark Connect endpoint (sc://host:15002) with --engine spark, "
                        "instead of --master")
    wq = wsub.add_parser("quarantine", help="the quarantined rows: file, line, reason, record")
    wq.add_argument("db")
    wq.add_argument("--batch", default=None, help="only this batch id")
    wq.add_argument("--csv", metavar="FILE", default=None,
                    help="write them to a formula-safe CSV for a spreadsheet")

    db = sub.add_parser("dashboard", help="write the dashboard (cuadro de mando) as one HTML page",
                        description="Write a self-contained HTML dashboard: the four KPIs "
                        "against target, segment sizes and top campaigns.")
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

    sub.add_parser("profiles", help="list the shop profiles")
    _import_parser(sub)
    _class_parsers(sub)
    return parser


def _class_parsers(sub) -> None:
    a = sub.add_parser(
        "assign", help="write one student edition per student, on the student's own data",
        description="For each student of the roster (CSV: id,name,language[,email]) write "
        "OUT/<id>/<notebook>.ipynb: the student edition in the student's language, with their "
        "student_id and the seed of their own data in the parameters cell. The seed comes from "
        "the id and the course secret (--secret, created on first use: keep it, never hand it "
        "out). A notebook a student has changed is never replaced unless --force.")
    a.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                   help="e.g. 01_crm_concepts or 01 (default: every notebook)")
    a.add_argument("--roster", required=True, help="roster CSV: id,name,language[,email]")
    a.add_argument("--out", required=True, help="folder of the students' folders")
    a.add_argument("--secret", default="course_secret.txt",
                   help="file holding the course secret (default course_secret.txt; created "
                   "if missing)")
    a.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="a parameter every student shares, e.g. "
                   "-p n_customers 800")
    keep = a.add_mutually_exclusive_group()
    keep.add_argument("--keep", action="store_true", help="leave changed notebooks as they are")
    keep.add_argument("--force", action="store_true", help="replace changed notebooks too")

    gr = sub.add_parser(
        "grade", help="re-run and grade the students' notebooks into a gradebook",
        description="Re-execute every notebook under SUBMISSIONS/<student id>/ in a fresh "
        "kernel on the student's own data (roster + course secret), grade each exercise, and "
        "write OUT/gradebook.csv, gradebook_canvas.csv, gradebook_moodle.csv, feedback/<id>.html "
        "and summary.md.")
    gr.add_argument("submissions", help="folder with one folder per student id")
    gr.add_argument("--roster", required=True, help="roster CSV: id,name,language[,email]")
    gr.add_argument("--out", required=True, help="folder to write the gradebooks to")
    gr.add_argument("--secret", default="course_secret.txt",
                    help="the course secret crmkit assign used (default course_secret.txt)")
    gr.add_argument("--timeout", type=float, default=120, metavar="SECONDS",
                    help="time limit of one cell (default 120)")
    gr.add_argument("--total-timeout", type=float, default=None, metavar="SECONDS",
                    help="time limit of a whole notebook (default four cells' limit)")
    gr.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="notebooks run at a time, each in its own kernel (default 1)")
    gr.add_argument("--title", default="CRM notebooks",
                    help="the assignment's name in the Canvas and Moodle gradebooks")


def _import_parser(sub) -> None:
    imp = sub.add_parser(
        "import", help="import your own shop's exports into a dataset folder",
        description="Read a Shopify export or any order log into a dataset folder (one file "
        "per table, manifest.json, import_report.json, quarantine.csv). Bad rows are "
        "quarantined with file, line, column and reason; exit 1 only if nothing usable "
        "remains.")
    isub = imp.add_subparsers(dest="kind", required=True)

    def common(p):
        p.add_argument("--out", required=True, help="dataset folder to write")
        p.add_argument("--shop-name", help="the shop's name (titles and report folders)")
        p.add_argument("--timezone",
                       help="the shop's time zone (IANA); default Europe/Madrid for Shopify "
                       "(its times carry offsets), UTC for an order log")
        p.add_argument("--encoding", help="file encoding (default: detected)")
        p.add_argument("--format", default="csv", choices=["csv", "parquet"])
        p.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                       help="how long to wait for another import into the same --out "
                       "(default 60)")

    sh = isub.add_parser("shopify", help="Shopify orders export (+ customers, products)")
    sh.add_argument("orders", help="orders_export.csv")
    sh.add_argument("--customers", help="customers_export.csv")
    sh.add_argument("--products", help="products_export.csv")
    sh.add_argument("--currency", help="ISO code (default: the export's Currency column)")
    common(sh)

    lg = isub.add_parser("orders", help="any delimited order or transaction log",
                         description="Map the log's columns with --customer, --date, "
                         "--amount (or --price with --quantity)... or a YAML --mapping file.")
    lg.add_argument("file", help="the log file")
    lg.add_argument("--mapping", help="YAML file with the mapping (see --save-mapping)")
    for role in ("customer", "date", "amount", "order", "quantity", "product",
                 "product-name", "price", "status", "cancel-flag"):
        lg.add_argument(f"--{role}", metavar="COLUMN",
                        help=f"column holding the {role.replace('-', ' ')} (header name, or "
                        "1-based position with --no-header)")
    lg.add_argument("--date-format", help="e.g. %%Y%%m%%d (default: detected)")
    order = lg.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", action="store_true", default=None,
                       help="dates are day/month/year (default: decided from the column)")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_false",
                       help="dates are month/day/year")
    lg.add_argument("--cancel-prefix", help="order numbers starting with this are "
                    "cancellations (Online Retail: C)")
    lg.add_argument("--status-map", metavar="VALUE=STATUS,...",
                    help="the status column's values -> statuses, e.g. "
                    "'Anulado=cancelled,Devuelto=returned' (statuses: placed, paid, shipped, "
                    "delivered, cancelled, returned, other)")
    lg.add_argument("--no-header", action="store_true", help="the file has no header line")
    lg.add_argument("--delimiter", help="',', ';', '\\t', '|' or 'whitespace' "
                    "(default: detected)")
    lg.add_argument("--decimal", choices=[".", ","], help="decimal mark (default: detected)")
    lg.add_argument("--currency", default="EUR", help="ISO code (default EUR)")
    lg.add_argument("--save-mapping", metavar="FILE", help="also write the mapping as YAML")
    common(lg)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .report import ReportError

    try:
        return _run(args)
    except ReportError as exc:  # a notebook failed while running
        print(f"crmkit {args.command}: {exc}", file=sys.stderr)
        return 1
    except CRMKitError as exc:
        print(f"crmkit {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder that is a file, a disk that is full, no permission
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"crmkit {args.command}: error: {where}{exc.strerror or exc}.", file=sys.stderr)
        return 2


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _run(args) -> int:
    if args.command == "generate":
        from .dataset.synth import generate

        t0 = time.perf_counter()
        data = generate(args.profile, n_customers=args.customers, start=args.start,
                        end=args.end, seed=args.seed)
        path = data.save(args.out, format=args.format)
        print(f"{data!r}\nwritten to {path} in {time.perf_counter() - t0:.1f} s")
    elif args.command == "samples":
        from .dataset.samples import build_samples

        for path in build_samples(args.out, args.profile):
            print(f"sample written: {path}")
        if args.extracts:
            from .dataset.samples import build_extracts_sample

            print(f"extracts written: {build_extracts_sample(args.extracts)}")
        if args.shopify:
            from .dataset.samples import build_shopify_example

            print(f"Shopify exports written: {build_shopify_example(args.shopify)}")
    elif args.command == "dictionary":
        from .dataset.samples import write_dictionary

        print(f"data dictionary written: {write_dictionary(args.out)}")
    elif args.command == "report":
        from .report import parse_value, run_reports

        params = {name: parse_value(value) for name, value in args.parameter}
        if args.data:
            params["data_dir"] = args.data
        reports = run_reports(args.notebooks, profiles=args.profile, langs=args.lang,
                              parameters=params, out_dir=args.out, no_input=args.no_input,
                              progress=not args.no_progress, edition=args.edition)
        print(f"{len(reports)} report(s) written under {args.out}/")
    elif args.command == "student":
        from .lessons.edition import write_editions
        from .report import find_notebooks

        for path, n, action in write_editions(find_notebooks(args.notebooks), args.out,
                                              args.lang or ["en", "es"], student=True,
                                              force=args.force, keep=args.keep):
            where = f"{path.name} ({path.parent.name})"
            if action == "kept":
                print(f"{where}: kept as you changed it -> {path}")
            else:
                print(f"{where}: {n} solution(s) removed -> {path} ({action})")
    elif args.command == "edition":
        from pathlib import Path

        from .lessons.edition import write_edition
        from .report import find_notebooks

        for nb in find_notebooks(args.notebooks):
            path, n = write_edition(nb, Path(args.out) / nb.name, args.lang,
                                    student=args.student)
            removed = f", {n} solution(s) removed" if args.student else ""
            print(f"{path.name}: {args.lang} edition{removed} -> {path}")
    elif args.command == "extracts":
        from .dataset.extracts import write_extracts
        from .dataset.synth import generate

        data = generate(args.profile, n_customers=args.customers, seed=args.seed)
        info = write_extracts(data, args.out, seed=args.seed, bad_rows=not args.clean)
        print(f"batch {info['batch_id']}: {len(info['files'])} files and "
              f"{len(info['bad_rows'])} planted bad rows written to {info['directory']}")
    elif args.command == "warehouse":
        return _warehouse(args)
    elif args.command == "dashboard":
        import matplotlib

        matplotlib.use("Agg")
        from .dataset.crmdata import CRMData
        from .dataset.synth import generate
        from .lessons.dashboard import write_dashboard

        if args.margin is not None:
            from .lessons.parameters import check_parameter

            check_parameter("margin", args.margin)
        data = (CRMData.load(args.data) if args.data else
                generate(args.profile, n_customers=args.customers, seed=args.seed))
        path = write_dashboard(data, args.out, lang=args.lang, margin=args.margin)
        print(f"dashboard written: {path}")
    elif args.command == "import":
        return _import(args)
    elif args.command in ("assign", "grade"):
        return _class(args)
    elif args.command == "profiles":
        for p in PROFILES.values():
            print(f"{p.name:14} {p.modelled_on} (default {p.default_customers:,} customers)")
    return 0


def _class(args) -> int:
    if args.command == "assign":
        from .grading.assign import assign
        from .report import parse_value

        params = {name: parse_value(value) for name, value in args.parameter}
        done = assign(args.roster, args.out, notebooks=args.notebooks, secret=args.secret,
                      parameters=params, force=args.force, keep=args.keep)
        for a in done:
            print(f"{a.student.id} ({a.student.lang}): {a.path} ({a.action})")
        students = len({a.student.id for a in done})
        print(f"{len(done)} notebook(s) for {students} student(s) under {args.out}/; course "
              f"secret: {args.secret} (keep it; never hand it out)")
        return 0
    from .grading.grade import grade_class
    from .grading.outputs import write_outputs

    def progress(sub, g):
        state = f"failed: {g.run.error}" if g.run.error else "ran"
        print(f"{sub.student.id}: {sub.path.name} {state} ({g.run.seconds:.0f} s)")

    graded, students = grade_class(args.submissions, args.roster, secret=args.secret,
                                   cell_timeout=args.timeout, total_timeout=args.total_timeout,
                                   jobs=args.jobs, progress=progress)
    paths = write_outputs(graded, students, args.out, title=args.title)
    print(f"{len(graded)} submission(s) graded; gradebook: {paths['gradebook']}; Canvas: "
          f"{paths['canvas']}; Moodle: {paths['moodle']}; summary: {paths['summary']}")
    return 0


def _import(args) -> int:
    from pathlib import Path

    from .dataset.folder import check_target

    t0 = time.perf_counter()
    check_target(args.out)  # a file, or a folder of other files: refused before any work
    if args.kind == "shopify":
        from .sources.shopify import import_shopify

        result = import_shopify(args.orders, customers=args.customers, products=args.products,
                                shop_name=args.shop_name or Path(args.out).name,
                                currency=args.currency,
                                timezone=args.timezone or "Europe/Madrid",
                                encoding=args.encoding)
    else:
        from .sources.orders import OrderLogMapping, import_orders

        mapping = _mapping(args, OrderLogMapping)
        if args.save_mapping:
            Path(args.save_mapping).write_text(mapping.to_yaml(), encoding="utf-8")
            print(f"mapping written: {args.save_mapping}")
        result = import_orders(args.file, mapping, shop_name=args.shop_name or Path(args.out).name,
                               currency=args.currency, timezone=args.timezone)
    print(result.summary())
    if not result.usable:
        print(f"crmkit import: nothing usable remains (every row quarantined); nothing "
              f"written to {args.out}.", file=sys.stderr)
        return 1
    path = result.save(args.out, format=args.format, lock_timeout=args.wait)
    print(f"dataset written: {path} ({time.perf_counter() - t0:.1f} s); quarantined rows: "
          f"{path / 'quarantine.csv'}")
    return 0


def _status_map(text: str | None) -> dict | None:
    """``--status-map 'Anulado=cancelled,Devuelto=returned'`` -> a dict (None if not given)."""
    if text is None:
        return None
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        from .errors import SourceError

        raise SourceError(f"--status-map {text!r}: write VALUE=STATUS pairs separated by "
                          "commas, e.g. 'Anulado=cancelled,Devuelto=returned'.")
    return {k.strip(): v.strip() for k, v in pairs}


def _mapping(args, cls):
    from dataclasses import replace

    given = {"customer": args.customer, "date": args.date, "amount": args.amount,
             "order": args.order, "quantity": args.quantity, "product": args.product,
             "product_name": args.product_name, "price": args.price,
             "date_format": args.date_format, "cancel_prefix": args.cancel_prefix,
             "status": args.status, "cancel_flag": args.cancel_flag,
             "status_map": _status_map(args.status_map),
             "delimiter": args.delimiter, "decimal": args.decimal, "encoding": args.encoding}
    given = {k: v for k, v in given.items() if v is not None}
    flags = {} if args.dayfirst is None else {"dayfirst": args.dayfirst}
    if args.no_header:
        flags["header"] = False
    if args.mapping:
        return replace(cls.from_yaml(args.mapping), **given, **flags)
    if "date" not in given:
        from .errors import SourceError

        raise SourceError("give the log's columns: at least --date and --amount (or "
                          "--price), usually --customer; or a YAML file with --mapping.")
    return cls(customer=given.pop("customer", None), date=given.pop("date"), **given, **flags)


def _warehouse(args) -> int:
    import pandas as pd

    from .warehouse.build import build_warehouse, load_batch, load_report
    from .warehouse.checks import run_data_tests

    with pd.option_context("display.width", 160, "display.max_columns", 20,
                           "display.max_rows", 200):
        if getattr(args, "engine", "duckdb") == "spark":
            return _warehouse_spark(args)
        if args.action == "build":
            if args.source:
                from .errors import DatasetError
                from .warehouse.direct import is_dataset_folder

                if is_dataset_folder(args.source):
                    raise DatasetError(
                        f"{args.source!r} is a dataset folder (one file per table and "
                        "manifest.json), not source extracts: build from it with `crmkit "
                        f"warehouse build {args.db} --data {args.source}`.")
                source = args.source
            elif args.data_dir:
                from .dataset.crmdata import CRMData
                from .warehouse.direct import is_dataset_folder

                # a dataset folder is loaded file by file (its own files in the load report)
                source = (args.data_dir if is_dataset_folder(args.data_dir)
                          else CRMData.load(args.data_dir))
            else:
                from .dataset.synth import generate

                source = generate(args.profile, n_customers=args.customers, seed=args.seed)
            path = build_warehouse(source, args.db, batches=args.batch, seed=args.seed,
                                   plausible_years=args.plausible_years,
                                   lock_timeout=args.wait)
            report = load_report(path)
            print(report.to_string(index=False))
            _absent(report)
            _quarantined(path, report)
            print(f"warehouse written: {path}")
        elif args.action == "load":
            report = load_batch(args.db, args.folder, plausible_years=args.plausible_years,
                                lock_timeout=args.wait)
            print(report.to_string(index=False))
            _absent(report)
            _quarantined(args.db, report)
        elif args.action == "report":
            print(load_report(args.db).to_string(index=False))
        elif args.action == "quarantine":
            if args.csv:
                from .warehouse.export import export_quarantine

                written = export_quarantine(args.db, args.csv, batch_id=args.batch)
                print(f"quarantine written: {written}")
            else:
                from .warehouse.build import quarantine

                print(quarantine(args.db, batch_id=args.batch).to_string(index=False))
        elif args.action == "test":
            result = run_data_tests(args.db)
            failed = result[result["status"] != "pass"]
            print(result[["test", "status", "failing_rows"]].to_string(index=False))
            print(f"{len(result) - len(failed)} passed, {len(failed)} failed")
            return 1 if len(failed) else 0
    return 0


def _warehouse_spark(args) -> int:
    """`crmkit warehouse build/test ... --engine spark`: a folder of Parquet tables."""
    from .errors import DatasetError
    from .warehouse import spark

    where = {"master": args.master, "remote": args.remote}
    if args.action == "build":
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
    with spark.opened(args.db, **where) as session:
        result = spark.run_spark_data_tests(session)
    failed = result[result["status"] != "pass"]
    print(result[["test", "status", "failing_rows"]].to_string(index=False))
    print(f"{len(result) - len(failed)} passed, {len(failed)} failed")
    return 1 if len(failed) else 0


def _quarantined(db, report, *, first: int = 5) -> None:
    """Per file and reason: how many rows went to quarantine, and the first lines."""
    from .warehouse.build import quarantine

    for batch in report["batch_id"].unique():
        q = quarantine(db, batch_id=batch)
        for (file, reason), rows in q.groupby(["file", "reason"], sort=True):
            lines = ", ".join(str(x) for x in rows["line"].head(first))
            more = f" and {len(rows) - first} more" if len(rows) > first else ""
            word = "line" if len(rows) == 1 else "lines"
            print(f"quarantined: {file} {word} {lines}{more}: {reason} ({len(rows)} rows)")


def _absent(report) -> None:
    """Say which extract files (or dataset tables) a batch did not bring, and how many rows
    loaded against an inferred member of a dimension."""
    from .dataset.extracts import FILES
    from .warehouse.direct import absent_tables

    for batch, rows in report.groupby("batch_id", sort=False):
        files = set(rows["file"])
        if files & set(FILES):
            missing = [name for name in FILES if name not in files]
            if missing:
                print(f"batch {batch}: not in this batch: {', '.join(missing)}")
        else:
            missing = absent_tables(files)
            if missing:
                print(f"batch {batch}: the dataset has no {', '.join(missing)}; their marts "
                      "are empty (a buyer or product named only by its number is an inferred "
                      "member of its dimension)")
        inferred = rows.loc[rows["rows_inferred"].fillna(0) > 0]
        for r in inferred.itertuples():
            print(f"inferred: {r.file}: {int(r.rows_inferred)} rows name a customer or product "
                  "the warehouse has no row for; they load against an inferred member, filled "
                  "in when its row arrives")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
