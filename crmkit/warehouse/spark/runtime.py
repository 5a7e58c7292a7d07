"""Starting Spark for the warehouse: Java first, then a session pinned to UTC.

Local mode by default (``local[2]``: this machine, two worker threads); ``master``
names a cluster (``spark://host:7077``, ``yarn``, ``k8s://...``) and ``remote`` a
Spark Connect endpoint (``sc://host:15002``), handed to
``SparkSession.builder.remote`` as given (no Java is needed on this side then).

>>> check_master("local[4]")
'local[4]'
>>> check_remote("sc://spark.example.com:15002/;token=abc")
'sc://spark.example.com:15002/;token=abc'
>>> check_master("local[4]; rm -rf /")
Traceback (most recent call last):
...
crmkit.errors.ParameterError: master='local[4]; rm -rf /' is not a Spark master; ...
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import DatasetError, ParameterError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["check_java", "check_master", "check_remote", "session", "DEFAULT_MASTER",
           "JAVA_HINT"]

#: Where Spark runs when no --master is given: this machine, two worker threads.
DEFAULT_MASTER = "local[2]"
#: How to install the Java runtime Spark needs.
JAVA_HINT = ("install a Java 17 runtime, e.g. `sudo apt-get install -y "
             "openjdk-17-jre-headless` (Debian/Ubuntu), `brew install openjdk@17` (macOS) "
             "or `conda install -c conda-forge openjdk=17`, and make sure `java` is on "
             "PATH or JAVA_HOME points at it")
_MASTER_RE = re.compile(r"^(local(\[(\d+|\*)\])?|spark://[A-Za-z0-9.\-]+(:\d+)?"
                        r"|yarn|k8s://\S+)$")
_REMOTE_RE = re.compile(r"^sc://[A-Za-z0-9.\-]+(:\d+)?(/[^\s]*)?$")


def check_java() -> int:
    """The major version of the Java that Spark would use; a clear error when there is
    none or it is older than 17."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else (shutil.which("java") or "")
    if not java or not Path(java).exists():
        raise DatasetError(f"the Spark engine needs Java 17 or newer and none was found; "
                           f"{JAVA_HINT}.")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True,
                             timeout=60).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatasetError(f"{java} -version failed ({exc}); {JAVA_HINT}.") from None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(m.group(1)) if m else 0
    if major == 1 and m is not None and m.group(2):  # "1.8.0" is Java 8
        major = int(m.group(2))
    if major < 17:
        raise DatasetError(f"the Spark engine needs Java 17 or newer; {java} is Java "
                           f"{major or 'of an unknown version'}; {JAVA_HINT}.")
    return major


def check_master(master: object) -> str:
    """``master`` if it is a Spark master URL, else a :class:`ParameterError`."""
    if not isinstance(master, str) or not _MASTER_RE.match(master):
        raise ParameterError(f"master={master!r} is not a Spark master; write local[2], "
                             "local[*], spark://host:7077, yarn or k8s://...")
    return master


def check_remote(remote: object) -> str:
    """``remote`` if it is a Spark Connect URL (``sc://host:port``), else an error."""
    if not isinstance(remote, str) or not _REMOTE_RE.match(remote):
        raise ParameterError(f"remote={remote!r} is not a Spark Connect URL; write "
                             "sc://host:15002 (the endpoint of a Spark Connect server).")
    return remote


def _partitions(master: str) -> int:
    """Shuffle partitions: the worker threads of a local master, else Spark's default.

    >>> _partitions("local[2]"), _partitions("local"), _partitions("yarn")
    (2, 1, 200)
    """
    m = re.match(r"^local(?:\[(\d+|\*)\])?$", master)
    if not m:
        return 200
    if m.group(1) in (None,):
        return 1
    return os.cpu_count() or 1 if m.group(1) == "*" else int(m.group(1))


def _builder() -> SparkSession.Builder:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DatasetError("the Spark engine needs PySpark; install it with "
                           "`pip install crmkit[spark]`.") from None
    return SparkSession.builder


def session(warehouse_dir: str | Path, *, master: str = DEFAULT_MASTER,
            remote: str | None = None) -> SparkSession:
    """A Spark session writing tables under ``warehouse_dir`` (time zone UTC).

    With ``remote`` (a Spark Connect URL) the session is a client of that server:
    the time zone is pinned the same way, and the warehouse folder is the server's
    (``spark.sql.warehouse.dir`` is a setting of the server, not of a client).
    """
    if remote is not None:
        builder = _builder().remote(check_remote(remote))
        return (builder.appName("crmkit-warehouse")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.ansi.enabled", "false")
                .getOrCreate())
    check_master(master)
    check_java()
    return (_builder().master(master).appName("crmkit-warehouse")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.warehouse.dir", str(Path(warehouse_dir).resolve()))
            .config("spark.sql.shuffle.partitions", str(_partitions(master)))
            .config("spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version", "2")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.ansi.enabled", "false")
            .getOrCreate())
