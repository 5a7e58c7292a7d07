"""Temporary folders that a killed process does not leave behind for good.

A lesson that needs room on disk (notebook 02's workshop, the copy of it each SQL
exercise changes) takes a folder in the system's temporary folder with
:func:`scratch_folder`. While the folder is in use its process holds an OS lock on the
folder's ``.crmkit-owner.lock``, and the system releases that lock when the process ends,
however it ends: a kernel stopped by a timeout, by *Restart kernel* or by ``kill -9``
too. A folder whose lock anyone can take is therefore a leftover: its process is gone.
This is the rule of the dataset folders (:mod:`crmkit.dataset.folder`) and of warehouse
builds: an OS lock, not a process id, tells a live run from a killed one (a process id
is reused by the next programs the system starts; a lock is never handed to them).

Leftovers are removed whenever a new folder is taken (one listing of the temporary
folder; a folder that cannot be read or removed is skipped, never an error) and by
``crmkit clean``, which says how much space they held. Only a folder of this exact
shape is ever removed: named ``crmkit-...``, the user's own, with the owner note
``.crmkit-owner.json`` (written once the lock is held) and a lock nobody holds. A
folder of a running process, of another user, or without the note (an older crmkit's,
or another program's) is left as it is.

>>> import pathlib, tempfile
>>> room = pathlib.Path(tempfile.mkdtemp())
>>> held = scratch_folder("demo", root=room)
>>> held.path.name.startswith("crmkit-demo-")
True
>>> (room / "crmkit-notes").mkdir()            # same prefix, but not a scratch folder
>>> [(found.path.name[:11], found.state) for found in survey(room)]
[('crmkit-demo', 'in_use'), ('crmkit-note', 'unknown')]
>>> clean_leftovers(room)                        # neither is a leftover: nothing goes
[]
>>> held.remove()
>>> held.path.exists(), folder_size(room / "crmkit-notes")
(False, 0)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import filelock

from ..errors import ParameterError

__all__ = [
    "PREFIX",
    "LOCK_NAME",
    "OWNER_NAME",
    "Scratch",
    "Found",
    "scratch_folder",
    "survey",
    "remove_leftover",
    "clean_leftovers",
    "folder_size",
]

#: The start of every scratch folder's name (``crmkit-<kind>-<random>``).
PREFIX = "crmkit-"
#: The file whose OS lock the owning process holds while the folder is in use.
LOCK_NAME = ".crmkit-owner.lock"
#: The owner note: written once the lock is held, removed last; it names the process.
OWNER_NAME = ".crmkit-owner.json"

State = Literal["leftover", "in_use", "unknown", "other_user"]

#: The folders this process holds (never tried as leftovers here: where the system
#: emulates these locks with record locks, as on NFS, a process would get its own).
_HELD: set[str] = set()


class Scratch:
    """A temporary folder this process holds: :attr:`path`, and :meth:`remove` when done
    (also as a context manager). The folder is removed, and its lock released, only by
    :meth:`remove`: tie it to the object that uses the folder with ``weakref.finalize``."""

    def __init__(self, path: Path, lock: filelock.BaseFileLock | None) -> None:
        self.path = path
        self._lock = lock

    def remove(self) -> None:
        """Remove the folder (what can be removed) and release its lock; again: nothing."""
        lock, self._lock = self._lock, None
        _HELD.discard(_key(self.path))
        if lock is not None:
            _remove(self.path, lock)
        else:
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"Scratch({str(self.path)!r})"


@dataclass(frozen=True)
class Found:
    """A ``crmkit-...`` folder of the temporary folder and what it is.

    ``state``: ``"leftover"`` (its process is gone: removable), ``"in_use"`` (a running
    process holds it), ``"unknown"`` (no owner note, or a lock that cannot be opened: an
    older crmkit's folder or another program's, never removed), ``"other_user"``. ``pid``
    is the process its owner note names (``None`` without one): shown to people, never
    used to decide (a process id may have been reused).
    """

    path: Path
    state: State
    pid: int | None = None


def scratch_folder(kind: str, *, root: str | Path | None = None) -> Scratch:
    """A new folder ``crmkit-<kind>-...`` in ``root`` (default: the system's temporary
    folder), held by this process; leftovers of gone processes there are removed first.

    Neither the cleaning nor the lock can stop the caller: a leftover that cannot be
    removed stays, and a folder whose lock cannot be taken (a file system without locks)
    is made without its owner note, so no one ever takes it for a leftover.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", kind):
        raise ParameterError(f"kind={kind!r}: use lower-case letters, digits and '_'.")
    where = _root(root)
    # cleaning is a courtesy to the next lesson, never a reason for this one to fail
    with contextlib.suppress(Exception):
        clean_leftovers(where)
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-", dir=where))
    lock = _hold(path)
    if lock is not None:
        _HELD.add(_key(path))
    return Scratch(path, lock)


def survey(root: str | Path | None = None) -> list[Found]:
    """Every ``crmkit-...`` folder of ``root`` (default: the system's temporary folder)
    and its state, by name; files, links and unreadable entries are left out."""
    try:
        with os.scandir(_root(root)) as entries:
            ours = sorted((e for e in entries if e.name.startswith(PREFIX)),
                          key=lambda e: e.name)
    except OSError:
        return []
    found = []
    for entry in ours:
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            found.append(_state(Path(entry.path), entry.stat(follow_symlinks=False).st_uid))
        except OSError:
            continue
    return found


def remove_leftover(path: str | Path) -> bool:
    """Remove ``path`` if it is still a leftover (its lock is taken first, so a folder in
    use is never touched); ``True`` if it is gone. Never raises."""
    path = Path(path)
    if _key(path) in _HELD:
        return False
    try:
        if not (path / OWNER_NAME).is_file():
            return not path.exists()
        lock = _take(path)
    except (OSError, NotImplementedError, RuntimeError):
        return False
    if lock is None:
        return False
    return _remove(path, lock)


def clean_leftovers(root: str | Path | None = None) -> list[Path]:
    """Remove the leftovers of gone processes in ``root`` (default: the system's
    temporary folder); return the folders removed. Never raises."""
    return [f.path for f in survey(root) if f.state == "leftover" and remove_leftover(f.path)]


def folder_size(path: str | Path) -> int:
    """Bytes in the files under ``path`` (links not followed; unreadable parts count 0)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


# ----------------------------------------------------------------------------- helpers
def _root(root: str | Path | None) -> Path:
    return Path(root) if root is not None else Path(tempfile.gettempdir())


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _new_lock(path: Path) -> filelock.BaseFileLock:
    # not thread-local: the folder may be removed from another thread (a finalizer)
    return filelock.FileLock(str(path / LOCK_NAME), thread_local=False)


def _hold(path: Path) -> filelock.BaseFileLock | None:
    """Take the new folder's lock, then write its owner note; ``None`` if it cannot."""
    lock = _new_lock(path)
    try:
        lock.acquire(blocking=False)
    except (filelock.Timeout, OSError, NotImplementedError, RuntimeError):
        return None
    try:
        note = {"pid": os.getpid(), "made": datetime.now(UTC).isoformat(timespec="seconds")}
        (path / OWNER_NAME).write_text(json.dumps(note), encoding="utf-8")
    except OSError:
        (path / OWNER_NAME).unlink(missing_ok=True)
    return lock


def _state(path: Path, uid: int) -> Found:
    getuid = getattr(os, "getuid", None)  # Windows keeps one temporary folder per user
    if getuid is not None and uid != getuid():
        return Found(path, "other_user")
    if not (path / OWNER_NAME).is_file():
        return Found(path, "unknown")
    pid = _owner_pid(path)
    if _key(path) in _HELD:
        return Found(path, "in_use", pid)
    try:
        lock = _take(path)
    except (OSError, NotImplementedError, RuntimeError):
        return Found(path, "unknown", pid)
    if lock is None:
        return Found(path, "in_use", pid)
    lock.release()
    return Found(path, "leftover", pid)


def _take(path: Path) -> filelock.BaseFileLock | None:
    """The folder's lock, taken without waiting; ``None`` while a process holds it.

    The lock file must be there already: on POSIX a deleted lock file (a hand-made
    clean-up) would let a new one be locked beside the owner's. On Windows a held lock
    file cannot be deleted, and a released one is deleted by filelock.
    """
    if os.name != "nt" and not (path / LOCK_NAME).is_file():
        raise FileNotFoundError(str(path / LOCK_NAME))
    lock = _new_lock(path)
    try:
        lock.acquire(blocking=False)
    except filelock.Timeout:
        return None
    return lock


def _owner_pid(path: Path) -> int | None:
    try:
        pid = json.loads((path / OWNER_NAME).read_text(encoding="utf-8"))["pid"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return pid if isinstance(pid, int) else None


def _remove(path: Path, lock: filelock.BaseFileLock) -> bool:
    """Remove a folder whose lock is held here; the owner note goes last, so a removal
    cut short leaves a folder the next clean-up still knows. ``True`` if it is gone."""
    try:
        for child in list(path.iterdir()):
            if child.name not in (LOCK_NAME, OWNER_NAME):
                _delete(child)
        done = {p.name for p in path.iterdir()} <= {LOCK_NAME, OWNER_NAME}
        if done:
            (path / OWNER_NAME).unlink(missing_ok=True)
    except OSError:
        done = False
    with contextlib.suppress(OSError, RuntimeError):
        lock.release()
    if done:
        shutil.rmtree(path, ignore_errors=True)
    return not path.exists()


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
