"""Write a dataset folder whole or not at all, one writer at a time.

A folder is written into a temporary folder beside it (``.<name>.<pid>.tmp``) and
renamed into place when every file is on disk, so a run that is killed leaves the
previous folder as it was (or no folder); the new folder replaces the old one whole,
with no stale file of an earlier source left in it. Writers of one folder take turns
through an OS lock on ``.<name>.lock`` beside it (filelock, as the warehouse does),
which the system releases even if the process is killed.

>>> import pathlib, tempfile
>>> out = pathlib.Path(tempfile.mkdtemp()) / "shop"
>>> with replace_folder(out) as tmp:
...     _ = (tmp / "orders.csv").write_text("order_id\\n1\\n", encoding="utf-8")
...     _ = (tmp / "manifest.json").write_text("{}", encoding="utf-8")
>>> sorted(p.name for p in out.iterdir())
['manifest.json', 'orders.csv']
>>> with replace_folder(out) as tmp:
...     _ = (tmp / "manifest.json").write_text("{}", encoding="utf-8")
>>> sorted(p.name for p in out.iterdir())      # replaced whole: no stale orders.csv
['manifest.json']
>>> (out / "manifest.json").unlink()
>>> with replace_folder(out) as tmp:                 # an empty folder may be replaced
...     pass
>>> _ = (out / "notes.txt").write_text("mine", encoding="utf-8")
>>> with replace_folder(out) as tmp:
...     pass
Traceback (most recent call last):
...
crmkit.errors.DatasetError: --out '...' is a folder of other files (no manifest.json: ...
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import filelock

from ..errors import DatasetError

__all__ = ["LOCK_TIMEOUT", "check_target", "exclusive", "replace_folder", "lock_path",
           "file_digest"]

#: Seconds a writer waits for another writer of the same folder before giving up.
LOCK_TIMEOUT = 60.0
#: A file that marks a folder as a dataset crmkit may replace.
_MARKERS = ("manifest.json",)


def lock_path(path: Path) -> Path:
    """The lock file of folder ``path``: ``.<name>.lock`` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


def check_target(path: str | Path) -> Path:
    """Refuse an output folder before any work: a file, or a folder that is not a dataset.

    A folder crmkit may replace whole is absent, empty, or holds a ``manifest.json``
    (a dataset folder written before). Anything else is refused so that no one's
    other files are ever deleted.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DatasetError(
            f"--out {str(path)!r} is a file, not a folder; give a folder for the dataset "
            "(it is created, or replaced whole if it holds a dataset).")
    if path.is_dir():
        names = [p.name for p in path.iterdir()]
        if names and not any(m in names for m in _MARKERS):
            raise DatasetError(
                f"--out {str(path)!r} is a folder of other files (no manifest.json: not a "
                "dataset); a dataset replaces its folder whole, so give a new or empty "
                "folder.")
    if path.parent.exists() and not path.parent.is_dir():
        raise DatasetError(f"--out {str(path)!r}: {str(path.parent)!r} is a file, not a "
                           "folder.")
    return path


@contextlib.contextmanager
def exclusive(path: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the folder's lock: one writer at a time; wait up to ``timeout`` seconds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(lock_path(path)), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise DatasetError(
            f"another import or save into {str(path)!r} is running (it holds "
            f"{str(lock_path(path))!r}); waited {timeout:g} s. Try again when it has "
            "finished, or wait longer with --wait SECONDS.") from None
    try:
        yield
    finally:
        lock.release()


def _leftovers(path: Path) -> list[tuple[Path, str]]:
    prefix = f".{path.name}."
    found = []
    for p in path.parent.iterdir():
        if p.name.startswith(prefix):
            m = re.fullmatch(r"\d+\.(tmp|old)", p.name[len(prefix):])
            if m:
                found.append((p, m.group(1)))
    return sorted(found, key=lambda x: x[0].stat().st_mtime)


def _recover(path: Path) -> None:
    """Tidy what killed writers left (under the lock): a previous folder moved aside
    but not yet replaced goes back to its place; unfinished new folders are removed."""
    for p, kind in _leftovers(path):
        if kind == "old" and not path.exists():
            os.replace(p, path)
        else:
            shutil.rmtree(p, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a system that cannot open folders (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def replace_folder(path: str | Path, *, timeout: float = LOCK_TIMEOUT) -> Iterator[Path]:
    """Yield a temporary folder to write into; on success it replaces ``path`` whole.

    Under the folder's lock: leftovers of killed writers are tidied, ``path`` is
    checked (:func:`check_target`), the files are written into ``.<name>.<pid>.tmp``,
    synced to disk, and renamed into place (the old folder is moved aside first and
    deleted after). An error or a kill before the rename leaves ``path`` untouched.
    """
    path = check_target(path)
    with exclusive(path, timeout):
        _recover(path)
        check_target(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            yield tmp
            _fsync_tree(tmp)
            if path.exists():
                old = path.with_name(f".{path.name}.{os.getpid()}.old")
                os.replace(path, old)
                os.replace(tmp, path)
                _fsync_dir(path.parent)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
                _fsync_dir(path.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def file_digest(file: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
