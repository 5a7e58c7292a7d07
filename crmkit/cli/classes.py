"""Class subcommands: ``assign`` notebooks to students, ``grade`` what they hand in."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .command import Command

if TYPE_CHECKING:
    from ..grading.grade import Graded, Submission

__all__ = ["ASSIGN", "GRADE"]


def _assign_arguments(a: argparse.ArgumentParser) -> None:
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


def _assign(args: argparse.Namespace) -> int:
    from ..grading.assign import assign
    from ..report import parse_value

    params = {name: parse_value(value) for name, value in args.parameter}
    done = assign(args.roster, args.out, notebooks=args.notebooks, secret=args.secret,
                  parameters=params, force=args.force, keep=args.keep)
    for a in done:
        print(f"{a.student.id} ({a.student.lang}): {a.path} ({a.action})")
    students = len({a.student.id for a in done})
    print(f"{len(done)} notebook(s) for {students} student(s) under {args.out}/; course "
          f"secret: {args.secret} (keep it; never hand it out)")
    return 0


def _grade_arguments(gr: argparse.ArgumentParser) -> None:
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


def _progress(sub: Submission, g: Graded) -> None:
    assert g.run is not None and sub.student is not None  # only roster students' are run
    state = f"failed: {g.run.error}" if g.run.error else "ran"
    print(f"{sub.student.id}: {sub.path.name} {state} ({g.run.seconds:.0f} s)")


def _grade(args: argparse.Namespace) -> int:
    from ..grading.grade import grade_class
    from ..grading.outputs import write_outputs

    graded, students = grade_class(args.submissions, args.roster, secret=args.secret,
                                   cell_timeout=args.timeout, total_timeout=args.total_timeout,
                                   jobs=args.jobs, progress=_progress)
    paths = write_outputs(graded, students, args.out, title=args.title)
    print(f"{len(graded)} submission(s) graded; gradebook: {paths['gradebook']}; Canvas: "
          f"{paths['canvas']}; Moodle: {paths['moodle']}; summary: {paths['summary']}")
    return 0


ASSIGN = Command(
    "assign", "write one student edition per student, on the student's own data",
    _assign_arguments, _assign,
    description="For each student of the roster (CSV: id,name,language[,email]) write "
    "OUT/<id>/<notebook>.ipynb: the student edition in the student's language, with their "
    "student_id and the seed of their own data in the parameters cell. The seed comes from "
    "the id and the course secret (--secret, created on first use: keep it, never hand it "
    "out). A notebook a student has changed is never replaced unless --force.")
GRADE = Command(
    "grade", "re-run and grade the students' notebooks into a gradebook", _grade_arguments,
    _grade,
    description="Re-execute every notebook under SUBMISSIONS/<student id>/ in a fresh "
    "kernel on the student's own data (roster + course secret), grade each exercise, and "
    "write OUT/gradebook.csv, gradebook_canvas.csv, gradebook_moodle.csv, feedback/<id>.html "
    "and summary.md.")
