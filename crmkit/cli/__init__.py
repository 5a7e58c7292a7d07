"""The ``crmkit`` command line: a table of subcommands, each a small function.

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
    crmkit clean --dry-run

Each group of subcommands is a module of this package with a table of
:class:`~crmkit.cli.command.Command` (name, help, arguments, run); :data:`COMMANDS`
lists them in the order ``crmkit --help`` shows them. A new subcommand is a new
``Command`` in its group's module and one line here.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from .._version import __version__
from ..errors import CRMKitError
from .classes import ASSIGN, GRADE
from .clean import CLEAN
from .command import Command, add_commands, run_command
from .data import DICTIONARY, EXTRACTS, GENERATE, PROFILES_COMMAND, SAMPLES
from .imports import IMPORT
from .notebooks import DASHBOARD, EDITION, REPORT, STUDENT
from .warehouse import WAREHOUSE

__all__ = ["main", "build_parser", "COMMANDS", "Command"]

#: Every subcommand, in the order of ``crmkit --help``.
COMMANDS: tuple[Command, ...] = (GENERATE, SAMPLES, DICTIONARY, REPORT, STUDENT, EDITION,
                                 EXTRACTS, WAREHOUSE, DASHBOARD, PROFILES_COMMAND, IMPORT,
                                 ASSIGN, GRADE, CLEAN)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2), like every other crmkit error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``crmkit``: ``--version`` and a subparser per entry of :data:`COMMANDS`.

    >>> build_parser().parse_args(["profiles"]).command
    'profiles'
    """
    parser = _Parser(
        prog="crmkit", description="CRM-analytics course kit: data, warehouse and reports."
    )
    parser.add_argument("--version", action="version", version=f"crmkit {__version__}")
    add_commands(parser, COMMANDS, dest="command")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``crmkit`` with ``argv``; the exit status: 0 done, 1 done with a failure (a data
    test, a notebook, nothing usable to import), 2 refused (a crmkit error, a file error)."""
    args = build_parser().parse_args(argv)
    from ..report import ReportError

    try:
        return run_command(COMMANDS, "command", args)
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
