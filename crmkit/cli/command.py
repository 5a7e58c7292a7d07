"""One subcommand of the ``crmkit`` command: its name, help, arguments and what it runs.

A command group is a table (a tuple of :class:`Command`); :func:`add_commands` turns a
table into argparse subparsers and :func:`run_command` runs the one the user named, so no
function chooses among commands with an if/elif chain.

>>> import argparse
>>> hello = Command("hello", "say hello", lambda p: p.add_argument("--name", default="you"),
...                 lambda args: print(f"hello {args.name}") or 0)
>>> parser = argparse.ArgumentParser(prog="demo")
>>> add_commands(parser, (hello,), dest="command")
>>> run_command((hello,), "command", parser.parse_args(["hello", "--name", "Ana"]))
hello Ana
0
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Command", "add_commands", "run_command", "no_arguments"]


@dataclass(frozen=True)
class Command:
    """A subcommand: ``add_arguments(parser)`` declares its flags, ``run(args)`` does the
    work and returns the exit status (0 done, 1 done but something failed)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``add_arguments`` of a command that takes none."""


def add_commands(parser: argparse.ArgumentParser, commands: Sequence[Command], *,
                 dest: str) -> None:
    """A required subcommand of ``parser`` for every command of the table, in its order."""
    sub = parser.add_subparsers(dest=dest, required=True)
    for command in commands:
        kwargs = {"help": command.help}
        if command.description is not None:
            kwargs["description"] = command.description
        command.add_arguments(sub.add_parser(command.name, **kwargs))


def run_command(commands: Sequence[Command], dest: str, args: argparse.Namespace) -> int:
    """Run the command of the table that ``args.<dest>`` names; return its exit status."""
    name = getattr(args, dest)
    return next(c for c in commands if c.name == name).run(args)
