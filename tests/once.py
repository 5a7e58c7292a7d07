"""A costly fixture's files built once per test run, whichever xdist worker asks first.

Module-scoped fixtures are per worker: when ``pytest -n 2 --dist worksteal`` spreads one
module's tests over both workers, each would build the same Spark warehouse again (two to
three minutes each on a 2-core machine). Here the first worker builds it into the run's
shared temporary folder under a file lock; the others wait for it and take a copy of their
own (a DuckDB file and a Spark folder are not to be opened by two processes at once).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

_DONE = ".built"


def built_once(tmp_path_factory, worker_id: str, name: str,
               build: Callable[[Path], None]) -> Path:
    """A folder of this worker's own holding what ``build(folder)`` wrote.

    Without xdist (``worker_id == "master"``) it is simply built here.
    """
    mine = tmp_path_factory.mktemp(name)
    if worker_id == "master":
        build(mine)
        return mine
    shared = tmp_path_factory.getbasetemp().parent / f"once-{name}"
    with FileLock(str(shared) + ".lock"):
        if not (shared / _DONE).exists():
            shutil.rmtree(shared, ignore_errors=True)  # a build that failed half-way
            shared.mkdir()
            build(shared)
            (shared / _DONE).write_text("", encoding="utf-8")
    shutil.copytree(shared, mine, dirs_exist_ok=True)
    return mine
