"""What the benchmark scripts share: a measured subprocess and their block in README.md."""

from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"

#: Appended to every child script: prints its own peak memory with its result.
PEAK_MB = """
with open("/proc/self/status") as _f:  # VmHWM: this process's own peak resident memory
    peak_mb = next(int(x.split()[1]) for x in _f if x.startswith("VmHWM")) / 1024
"""


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python; it must print one JSON line last."""
    out = subprocess.run([sys.executable, "-c", code, *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_block(name: str, command: str, body: str) -> Path:
    """Replace (or append) the ``<!-- name:start -->`` block of README.md."""
    block = (f"<!-- {name}:start -->\nMeasured {time.strftime('%Y-%m-%d')} on "
             f"{platform.machine()}, Python {platform.python_version()}, with "
             f"`{command}`.\n\n{body}\n<!-- {name}:end -->")
    old = README.read_text(encoding="utf-8") if README.exists() else ""
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
    new = (pattern.sub(lambda _: block, old) if pattern.search(old)
           else old.rstrip("\n") + "\n\n" + block + "\n")
    README.write_text(new, encoding="utf-8")
    return README
