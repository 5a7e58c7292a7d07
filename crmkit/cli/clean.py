"""``crmkit clean``: remove the temporary folders that killed notebook kernels left behind.

Notebook 02 keeps its warehouse and extracts in ``crmkit-...`` folders of the system's
temporary folder; a kernel that is killed leaves them there (tens of MB each). The next
notebook 02 removes them by itself; this command lists them, removes them and says how
much space they held, in English or Spanish (``--lang``; default: the system's
language). Only folders whose process is provably gone are removed
(:mod:`crmkit.dataset.scratch`); the rest are listed and kept.

>>> import tempfile
>>> from crmkit.cli import main
>>> main(["clean", "--dir", tempfile.mkdtemp(), "--lang", "es"])  # doctest: +ELLIPSIS
Nada que limpiar en /...
0
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ..dataset.scratch import Found, folder_size, remove_leftover, survey
from ..i18n import LANGS, format_message, t
from .command import Command

__all__ = ["CLEAN", "system_lang"]

_MB = 1_000_000


def system_lang() -> str:
    """``"es"`` when the system's language is Spanish (``LC_ALL``, ``LC_MESSAGES`` or
    ``LANG`` starting ``es``, the rule of ``make lab``), else ``"en"``."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "es" if value.lower().startswith("es") else "en"
    return "en"


def _arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("--dry-run", action="store_true",
                   help="list what would be removed; remove nothing")
    c.add_argument("--dir", default=None, metavar="DIR",
                   help=f"the temporary folder to look in (default: {tempfile.gettempdir()})")
    c.add_argument("--lang", choices=LANGS, default=None,
                   help="language of the messages (default: the system's, else English)")


def _say(lang: str, key: str, **values: object) -> None:
    print(format_message(t(f"clean.{key}", lang), lang, **values))


def _clean(args: argparse.Namespace) -> int:
    lang = args.lang or system_lang()
    root = Path(args.dir) if args.dir is not None else Path(tempfile.gettempdir())
    found = survey(root)
    if not found:
        _say(lang, "nothing", root=root)
        return 0
    leftovers = [f for f in found if f.state == "leftover"]
    freed, failed = 0, 0
    for f in leftovers:
        size = folder_size(f.path)
        if args.dry_run:
            _say(lang, "would_remove", path=f.path, size=size / _MB)
            freed += size
        elif remove_leftover(f.path):
            _say(lang, "removed", path=f.path, size=size / _MB)
            freed += size
        else:
            left = folder_size(f.path)
            _say(lang, "not_removed", path=f.path, left=left / _MB)
            freed += size - left
            failed += 1
    for f in found:
        if f.state == "in_use":
            _say(lang, "in_use" if f.pid is not None else "in_use_unnamed",
                 path=f.path, pid=f.pid)
    _say(lang, "summary_dry" if args.dry_run else "summary", n=len(leftovers),
         size=freed / _MB)
    _kept(lang, found)
    return 1 if failed else 0


def _kept(lang: str, found: list[Found]) -> None:
    in_use = [f for f in found if f.state == "in_use"]
    unknown = [f for f in found if f.state == "unknown"]
    others = [f for f in found if f.state == "other_user"]
    if in_use:
        _say(lang, "kept_in_use", n=len(in_use))
    if others:
        _say(lang, "other_user", n=len(others))
    if unknown:
        sizes = [folder_size(f.path) for f in unknown]
        _say(lang, "unknown", n=len(unknown), size=sum(sizes) / _MB)
        for f, size in zip(unknown, sizes, strict=True):
            try:
                changed = datetime.fromtimestamp(f.path.stat().st_mtime, UTC).date()
            except OSError:  # gone meanwhile
                continue
            _say(lang, "unknown_folder", path=f.path, size=size / _MB, day=changed)


CLEAN = Command(
    "clean", "remove the temporary folders that killed notebook kernels left behind",
    _arguments, _clean,
    description="Notebook 02 keeps its warehouse and extracts in crmkit-... folders of the "
    "system's temporary folder, removed when its kernel ends; a killed kernel (a timeout, "
    "Restart kernel) leaves them behind. This command removes those whose process is gone "
    "and says how much space they held; folders in use, of other users, or that crmkit "
    "cannot tell about are listed and kept.")
